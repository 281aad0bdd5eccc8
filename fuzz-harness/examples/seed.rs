//! Writes the seed corpora of the fuzz targets into `fuzz/corpus/<target>/` (run through
//! `fuzz/seed.sh`): real sealed cookies and `Cookie` headers of the reference workloads
//! (`tests/data/workloads/*.json`), real decrypted plaintexts, session descriptions for
//! `roundtrip`, and edge cases. Every file is named by what it is, so reruns overwrite.

#[path = "../../tests/support/workloads.rs"]
mod workloads;

use std::path::{Path, PathBuf};

use sealed_session::internals::MAX_PLAINTEXT;
use sealed_session::internals::{LEGACY_MAX_DEPTH, LEGACY_MAX_ENTRIES, LEGACY_MAX_PLAINTEXT};
use sealed_session::{Algorithm, Compression, SessionEngine, SessionState};
use sealed_session_fuzz::{
    chunked_header, compressed_plaintext, plaintext_seed, seed_config, COOKIE_NAME, LEGACY_OPEN,
    LEGACY_SEAL, LEGACY_STATE, NOW,
};

struct Out(PathBuf);

impl Out {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.0.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The first byte of a `cookie_headers` input: the configuration it opens with.
fn config_byte(max_cookies: usize, alg: Algorithm, comp: Compression) -> u8 {
    let mut b = (max_cookies - 1) as u8;
    match alg {
        Algorithm::Aes256Gcm => b |= 0x20,
        Algorithm::XAes256Gcm => b |= 0x80,
        _ => {}
    }
    if comp == Compression::Off {
        b |= 0x40;
    }
    b
}

/// The `name=value` pairs a response sets for `session`.
fn sealed_pairs(cfg: &SessionEngine, session: &SessionState) -> Vec<String> {
    let mut s = session.clone();
    let out = cfg.set_cookies(&mut s).unwrap();
    out.iter()
        .map(|h| h.split(';').next().unwrap().to_string())
        .collect()
}

fn workload_sessions() -> Vec<(&'static str, SessionState)> {
    let mut small = SessionState::new();
    small.insert("user", &workloads::small()).unwrap();
    let mut profile = SessionState::new();
    profile.insert("profile", &workloads::profile()).unwrap();
    let mut cart = SessionState::new();
    cart.insert("cart", &workloads::cart()).unwrap();
    let mut mixed = SessionState::new();
    mixed.insert("user", &workloads::small()).unwrap();
    mixed.insert("csrf", &"p2Q9yX0c1b8aWm3k").unwrap();
    mixed.insert("flash", &vec!["saved".to_string()]).unwrap();
    mixed.insert("n", &7u64).unwrap();
    mixed.insert("ok", &true).unwrap();
    mixed
        .set_data(&(42u32, "whole".to_string(), Some(vec![1u16, 2])))
        .unwrap();
    let mut big = SessionState::new();
    // ~20 KB that does not compress: several chunks.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    big.insert("blob", &noise).unwrap();
    vec![
        ("small", small),
        ("profile", profile),
        ("cart", cart),
        ("mixed", mixed),
        ("big", big),
    ]
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus"));
    let out = Out(root);
    let sessions = workload_sessions();

    // --- open_value and cookie_headers: real sealed cookies -------------------------------
    for (name, session) in &sessions {
        for alg in Algorithm::ALL {
            for comp in [Compression::Auto, Compression::Off] {
                for old_key in [false, true] {
                    let tag = format!(
                        "{name}-{}-{}{}",
                        alg.name(),
                        if comp == Compression::Auto {
                            "auto"
                        } else {
                            "off"
                        },
                        if old_key { "-oldkey" } else { "" }
                    );
                    // Enough cookies for the largest workload, and one more.
                    let n = if *name == "big" { 8 } else { 2 };
                    let cfg = seed_config(n, alg, comp, old_key);
                    let pairs = sealed_pairs(&cfg, session);
                    if pairs.len() == 1 {
                        let value = pairs[0].split_once('=').unwrap().1;
                        out.put("open_value", &tag, value.as_bytes());
                    }
                    // One header, in order.
                    let mut h = vec![config_byte(n, alg, comp)];
                    h.extend_from_slice(pairs.join("; ").as_bytes());
                    out.put("cookie_headers", &format!("{tag}-one-header"), &h);
                    // Reversed, one header per cookie, among other cookies.
                    let mut h = vec![config_byte(
                        n,
                        Algorithm::XChaCha20Poly1305,
                        Compression::Auto,
                    )];
                    h.extend_from_slice(b"theme=dark; lang=en");
                    for p in pairs.iter().rev() {
                        h.push(0);
                        h.extend_from_slice(p.as_bytes());
                    }
                    h.push(0xff);
                    h.extend_from_slice(
                        format!("{COOKIE_NAME}.31=stale; {COOKIE_NAME}=AQ").as_bytes(),
                    );
                    out.put("cookie_headers", &format!("{tag}-many-headers"), &h);
                }
            }
        }
    }

    // --- open_value edge cases -------------------------------------------------------------
    let cfg = seed_config(1, Algorithm::XChaCha20Poly1305, Compression::Auto, false);
    let mut s = sessions[3].1.clone();
    let good = cfg.seal(&mut s).unwrap();
    let edge: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one-byte", b"A".to_vec()),
        ("version-only", b"AQ".to_vec()),
        ("header-xchacha", good.as_bytes()[..8].to_vec()),
        ("header-and-nonce", good.as_bytes()[..40].to_vec()),
        ("truncated", good.as_bytes()[..good.len() - 1].to_vec()),
        ("flipped", {
            let mut v = good.clone().into_bytes();
            let i = v.len() / 2;
            v[i] = if v[i] == b'A' { b'B' } else { b'A' };
            v
        }),
        ("padded", format!("{good}==").into_bytes()),
        (
            "standard-alphabet",
            good.replace('-', "+").replace('_', "/").into_bytes(),
        ),
        ("max-len-one-cookie", vec![b'A'; 4096 - COOKIE_NAME.len()]),
        ("max-len-plus-one", vec![b'A'; 4096 - COOKIE_NAME.len() + 1]),
        ("non-utf8", vec![0xc3, 0x28, 0xff, 0xfe]),
        ("unknown-version", b"AgEAAAAA".to_vec()),
        ("unknown-algorithm", b"AQMAAAAA".to_vec()),
    ];
    for (name, v) in &edge {
        out.put("open_value", name, v);
    }

    // --- cookie_headers edge cases -----------------------------------------------------------
    out.put("cookie_headers", "empty", b"");
    out.put("cookie_headers", "one-byte", b"\x1f");
    out.put(
        "cookie_headers",
        "no-session-cookie",
        b"\x00theme=dark; a=b",
    );
    out.put(
        "cookie_headers",
        "bad-count",
        b"\x03session=99.AAAA; session.1=BBBB",
    );
    out.put(
        "cookie_headers",
        "missing-chunk",
        b"\x03session=3.AAAA; session.2=BBBB",
    );
    out.put(
        "cookie_headers",
        "non-utf8-chunk",
        b"\x03session=2.AAAA; session.1=\xc3\x28",
    );
    let mut many = vec![0u8];
    many.extend_from_slice("a=b;".repeat(1025).as_bytes());
    out.put("cookie_headers", "too-many-cookies", &many);
    // ~32 KiB (actix's default header limit) of chunk cookies announcing 32 chunks.
    let mut h = vec![config_byte(
        32,
        Algorithm::XChaCha20Poly1305,
        Compression::Auto,
    )];
    h.extend_from_slice(format!("{COOKIE_NAME}=32.{}", "A".repeat(1000)).as_bytes());
    for i in 1..32 {
        h.extend_from_slice(format!("; {COOKIE_NAME}.{i}={}", "A".repeat(1000)).as_bytes());
    }
    out.put("cookie_headers", "32k-32-chunks-garbage", &h);
    // A real value cut into 32 small chunks (readers only bound each chunk's size).
    let cfg32 = seed_config(32, Algorithm::XChaCha20Poly1305, Compression::Auto, false);
    let mut s = sessions[4].1.clone();
    let value = cfg32.seal(&mut s).unwrap();
    let mut h = vec![config_byte(
        32,
        Algorithm::XChaCha20Poly1305,
        Compression::Auto,
    )];
    h.extend_from_slice(chunked_header(&value).as_bytes());
    out.put("cookie_headers", "32-chunks-real", &h);

    // --- plaintext: real decrypted plaintexts ---------------------------------------------
    for (name, session) in &sessions {
        let s = sealed_session::internals::with_timestamps(session.clone(), NOW - 100, NOW - 10);
        out.put(
            "plaintext",
            &format!("{name}-plain"),
            &plaintext_seed(&s, false),
        );
        out.put(
            "plaintext",
            &format!("{name}-lz4"),
            &plaintext_seed(&s, true),
        );
    }
    let expired = sealed_session::internals::with_timestamps(sessions[3].1.clone(), 1, 2);
    out.put("plaintext", "expired", &plaintext_seed(&expired, false));
    let future =
        sealed_session::internals::with_timestamps(sessions[3].1.clone(), u64::MAX - 1, u64::MAX);
    out.put("plaintext", "future", &plaintext_seed(&future, false));
    // Inflating to exactly MAX_PLAINTEXT, and one byte over.
    out.put(
        "plaintext",
        "inflate-max",
        &compressed_plaintext(&vec![0u8; MAX_PLAINTEXT]),
    );
    out.put(
        "plaintext",
        "inflate-max-plus-one",
        &compressed_plaintext(&vec![0u8; MAX_PLAINTEXT + 1]),
    );
    // A session whose body is exactly MAX_PLAINTEXT bytes.
    let mut s = sealed_session::internals::with_timestamps(SessionState::new(), NOW, NOW);
    s.insert("k", &vec![7u8; MAX_PLAINTEXT - 32]).unwrap();
    let base = plaintext_seed(&s, false).len() - 1;
    let mut s = sealed_session::internals::with_timestamps(SessionState::new(), NOW, NOW);
    s.insert("k", &vec![7u8; MAX_PLAINTEXT - 32 + (MAX_PLAINTEXT - base)])
        .unwrap();
    let p = plaintext_seed(&s, true);
    out.put("plaintext", "session-body-max-lz4", &p);
    for (name, v) in [
        ("empty", vec![]),
        ("flags-only", vec![0]),
        ("lz4-flag-only", vec![1]),
        ("unknown-flags", vec![2, 0]),
        ("empty-session", vec![0, 0, 0, 0]),
    ] {
        out.put("plaintext", name, &v);
    }

    // --- roundtrip: session descriptions -----------------------------------------------------
    // Layout (see `sealed_session_fuzz::roundtrip`): settings, max_cookies-1, entry count, then per entry
    // key length, key, kind, payload; then shuffle and grouping bytes.
    let entry_str = |k: &str, v: &str| {
        let mut e = vec![k.len() as u8];
        e.extend_from_slice(k.as_bytes());
        e.push(1);
        e.push(v.len() as u8);
        e.extend_from_slice(v.as_bytes());
        e
    };
    let mut rt = vec![0, 0, 2];
    rt.extend(entry_str("user", "ada"));
    rt.extend(entry_str("csrf", "p2Q9yX0c1b8aWm3k"));
    out.put("roundtrip", "two-strings", &rt);
    rt[0] = 0x80; // XAES-256-GCM, the default algorithm
    out.put("roundtrip", "two-strings-xaes", &rt);
    // Large compressible (kind 4, x8): 8 * 0x8000 bytes = 256 KiB, pattern "ab".
    out.put(
        "roundtrip",
        "large-compressible-aes",
        &[1, 3, 1, 1, b'k', 4 | (7 << 3), 0x00, 0x80, 1, b'a', b'b'],
    );
    out.put(
        "roundtrip",
        "max-plaintext-plus",
        &[0, 31, 1, 1, b'k', 4 | (8 << 3), 0x00, 0x80, 0, 0],
    );
    // Large incompressible (kind 5): 60 KB over 32 cookies, shuffled.
    let mut rt = vec![2, 31, 1, 1, b'k', 5 | (1 << 3), 0x30, 0x75, 1, 2, 3, 4];
    rt.extend((0..40).map(|i| (i * 37 % 251) as u8));
    out.put("roundtrip", "incompressible-32-chunks", &rt);
    // Too large for one cookie.
    out.put(
        "roundtrip",
        "too-large-one-cookie",
        &[2, 0, 1, 1, b'k', 5, 0x00, 0x20, 9, 9, 9, 9],
    );
    // Whole-struct data and every kind.
    let mut rt = vec![0, 1, 7];
    rt.extend([0, 6, 1, 0, 0, 0, 3, b'a', b'd', b'a', 1, 3]);
    rt.extend([1, b'n', 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    rt.extend([1, b'b', 3, 1]);
    rt.extend([1, b'v', 2, 3, 0, 1, 2, 3]);
    rt.extend([2, 0xc3, 0xa9, 1, 2, b'h', b'i']);
    out.put("roundtrip", "every-kind", &rt);
    out.put("roundtrip", "empty", b"");

    legacy_seeds(&out);
    println!("seeds written to {}", out.0.display());
}

/// An `id` cookie as actix-session 0.11 wrote it (`Set-Cookie`, percent-encoded) for the
/// login session under the key 0, 1, ..., 63 (`LEGACY_MASTER`), captured from `interop/`.
const ACTIX_LOGIN: &str = "NNKt2quB9nYB1llxLrw+jxYLbWtUxoBRv5ayyZFsnz3jLgXrMnyPVIzF0pPAj+C2\
    ZvGaU0SId1I+%2FBciMoRDRWjib+jiOczwEAne2RYLHfHcRRWerJezJ%2F3H2LAUiD+A64XpT0v8V9QQWehHa80P\
    BXU2M6%2FNkVh5ZPzkXUkECLCcwvB1slQAJdv+M9Z0yVyq2pTKBD4%3D";

/// The same session with `CookieContentSecurity::Signed`: `base64(HMAC) || JSON`, encoded.
const ACTIX_SIGNED: &str = "UXJHcCvYfGs1appoB+mNa1v5mlhF0Cn5+VMU6ZgarSU%3D%7B%22role%22%3A%22\
    %5C%22admin%5C%22%22%2C%22username%22%3A%22%5C%22admin%5C%22%22%2C%22userId%22%3A%221%22%2C\
    %22permissions%22%3A%22%5B%5C%22read%5C%22%2C%5C%22write%5C%22%2C%5C%22delete%5C%22%5D%22%2C\
    %22loginCount%22%3A%221%22%7D";

/// `legacy_cookie`: real actix-session cookies, plaintexts of actix-session's shape for the
/// JSON reader, and plaintexts the harness seals (in each written form, up to the limit).
fn legacy_seeds(out: &Out) {
    let put = |name: &str, mode: u8, rest: &[u8]| {
        let mut v = vec![mode];
        v.extend_from_slice(rest);
        out.put("legacy_cookie", name, &v);
    };
    put("actix-login", LEGACY_OPEN, ACTIX_LOGIN.as_bytes());
    let decoded = ACTIX_LOGIN.replace("%2F", "/").replace("%3D", "=");
    put("actix-login-decoded", LEGACY_OPEN, decoded.as_bytes());
    put("actix-signed", LEGACY_OPEN, ACTIX_SIGNED.as_bytes());
    put("open-empty", LEGACY_OPEN, b"");
    put("open-zeros", LEGACY_OPEN, &[b'A'; 40]);

    // actix-session's state: each value is the text `serde_json::to_string` made of it.
    let login = r#"{"userId":"1","username":"\"admin\"","role":"\"admin\"","permissions":"[\"read\",\"write\",\"delete\"]","loginCount":"1"}"#;
    let kinds = r#"{"n":"null","b":"false","i":"-7","u":"18446744073709551615","f":"1.5e-3","s":"\"a\\\"b\\u00e9\"","a":"[1,[2,{}]]","o":"{\"k\":[true]}"}"#;
    let deep = format!(
        "{{\"d\":\"{}{}\"}}",
        "[".repeat(LEGACY_MAX_DEPTH),
        "]".repeat(LEGACY_MAX_DEPTH)
    );
    let many: Vec<String> = (0..LEGACY_MAX_ENTRIES)
        .map(|i| format!("\"{i}\":\"{i}\""))
        .collect();
    let many = format!("{{{}}}", many.join(","));
    let states: [(&str, &[u8]); 6] = [
        ("login", login.as_bytes()),
        ("kinds", kinds.as_bytes()),
        ("deep", deep.as_bytes()),
        ("many", many.as_bytes()),
        ("empty", b"{}"),
        ("not-utf8", b"{\"a\":\"\xff\"}"),
    ];
    for (name, plain) in states {
        put(&format!("state-{name}"), LEGACY_STATE, plain);
        for form in 0..4u8 {
            put(
                &format!("seal-{name}-form{form}"),
                LEGACY_SEAL | form << 2,
                plain,
            );
        }
    }
    // The largest plaintext a 4096-byte value holds, and one byte more.
    for (name, n) in [
        ("max", LEGACY_MAX_PLAINTEXT),
        ("over", LEGACY_MAX_PLAINTEXT + 1),
    ] {
        let pad = n - r#"{"a":"\"\""}"#.len();
        let plain = format!("{{\"a\":\"\\\"{}\\\"\"}}", "x".repeat(pad));
        assert_eq!(plain.len(), n);
        put(&format!("seal-{name}"), LEGACY_SEAL, plain.as_bytes());
        put(&format!("state-{name}"), LEGACY_STATE, plain.as_bytes());
    }
}
