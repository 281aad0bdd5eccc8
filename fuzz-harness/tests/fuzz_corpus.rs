//! Replays the fuzz corpora (`fuzz/corpus/<target>/`, and `fuzz/artifacts/<target>/` when a
//! local campaign left crashes there) through the same functions the fuzz targets call (this
//! crate's library, `sealed_session_fuzz`), so every input the fuzzer kept, including past
//! crashes, is a regression test on stable Rust.
//! Also the hand-made edge cases: a 32 KiB header of 32 chunks, and plaintexts that inflate
//! to exactly `MAX_PLAINTEXT` and one byte more.

use std::path::{Path, PathBuf};

use sealed_session::internals::decode_plaintext;
use sealed_session::internals::MAX_PLAINTEXT;
use sealed_session::internals::{MAX_CHUNKS, MAX_COOKIE_BYTES};
use sealed_session::{Algorithm, Compression, LoadOutcome, Rejection, SessionState};
use sealed_session_fuzz::{
    self as fuzzing, chunked_header, compressed_plaintext, seed_config, COOKIE_NAME, NOW,
};

/// A fuzz target: its directory name and the shared function it calls.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 5] = [
    ("open_value", fuzzing::open_value),
    ("cookie_headers", fuzzing::cookie_headers),
    ("plaintext", fuzzing::plaintext),
    ("roundtrip", fuzzing::roundtrip),
    ("legacy_cookie", fuzzing::legacy_cookie),
];

fn fuzz_dir() -> PathBuf {
    // fuzz/ beside this crate, at the root of the repository.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn run(target: &str, f: fn(&[u8]), path: &Path) {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        // A fuzzer running beside this test replaces corpus files as it shrinks them.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let r = std::panic::catch_unwind(|| f(&data));
    if r.is_err() {
        panic!("fuzz target {target} fails on {}", path.display());
    }
}

#[test]
fn corpus_replays() {
    for (target, f) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        let corpus = files(&dir);
        assert!(
            !corpus.is_empty(),
            "{} is missing or empty: run fuzz/seed.sh (see fuzz/README.md)",
            dir.display()
        );
        let start = std::time::Instant::now();
        for path in &corpus {
            run(target, f, path);
        }
        eprintln!(
            "{target}: {} inputs in {:.1?}",
            corpus.len(),
            start.elapsed()
        );
    }
}

#[test]
fn artifacts_replay() {
    let dir = fuzz_dir().join("artifacts");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return; // no local campaign left anything
    };
    for entry in rd {
        let sub = entry.unwrap().path();
        let name = sub.file_name().unwrap().to_string_lossy().into_owned();
        let Some((target, f)) = TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{} is not a fuzz target's directory", sub.display());
        };
        for path in files(&sub) {
            run(target, *f, &path);
        }
    }
}

fn cookie_headers_input(max_cookies: usize, header: &str) -> Vec<u8> {
    let mut v = vec![(max_cookies - 1) as u8];
    v.extend_from_slice(header.as_bytes());
    v
}

#[test]
fn header_of_32_kib_with_32_chunks() {
    let cfg = fuzzing::config(MAX_CHUNKS, Algorithm::XChaCha20Poly1305, Compression::Auto);

    // Garbage: ~32 KiB, 32 chunks announced and present.
    let mut h = format!("{COOKIE_NAME}=32.{}", "A".repeat(1000));
    for i in 1..MAX_CHUNKS {
        h.push_str(&format!("; {COOKIE_NAME}.{i}={}", "A".repeat(1000)));
    }
    assert!(h.len() > 32_000 && h.len() <= 32 * 1024, "{}", h.len());
    let loaded = cfg.load([h.as_bytes()]);
    assert!(
        matches!(loaded.1, LoadOutcome::Rejected(_)),
        "{:?}",
        loaded.1
    );
    let set = set_cookies(&cfg.start([h.as_bytes()]));
    assert!(
        set.is_empty(),
        "not resealed: the header names no key of ours"
    );
    let session = cfg.start([h.as_bytes()]);
    assert!(session.is_empty());
    let set = set_cookies(&session);
    assert_eq!(set.len(), MAX_CHUNKS, "every chunk is removed");
    fuzzing::cookie_headers(&cookie_headers_input(MAX_CHUNKS, &h));

    // 32 announced, the last one missing.
    let cut = h.rfind("; ").unwrap();
    assert_eq!(
        cfg.load([&h.as_bytes()[..cut]]).1,
        LoadOutcome::Rejected(Rejection::BadChunks)
    );
    fuzzing::cookie_headers(&cookie_headers_input(MAX_CHUNKS, &h[..cut]));

    // A real ~30 KB value cut into 32 small chunks, sent in reverse order: it opens.
    let seal = seed_config(
        MAX_CHUNKS,
        Algorithm::XChaCha20Poly1305,
        Compression::Off,
        false,
    );
    let mut session = SessionState::new();
    let blob: Vec<u8> = (0..22_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    session.insert("blob", &blob).unwrap();
    let value = seal.seal(&mut session).unwrap();
    let h = chunked_header(&value);
    assert!(h.len() <= 32 * 1024, "{}", h.len());
    let loaded = cfg.load([h.as_bytes()]);
    assert_eq!(
        loaded.1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    assert_eq!(loaded.0.get::<Vec<u8>>("blob").unwrap(), Some(blob));
    fuzzing::cookie_headers(&cookie_headers_input(MAX_CHUNKS, &h));
}

#[test]
fn inflate_to_exactly_max_plaintext_and_one_over() {
    let exact = compressed_plaintext(&vec![0u8; MAX_PLAINTEXT]);
    assert_eq!(
        decode_plaintext(exact.clone()).unwrap().len(),
        MAX_PLAINTEXT
    );
    fuzzing::plaintext(&exact);
    let over = compressed_plaintext(&vec![0u8; MAX_PLAINTEXT + 1]);
    assert_eq!(
        decode_plaintext(over.clone()),
        Err(Rejection::BadCompression)
    );
    fuzzing::plaintext(&over);

    // A real session body of exactly MAX_PLAINTEXT bytes decodes; one byte more does not.
    let seed = |n: usize, compress: bool| {
        let mut s = sealed_session::internals::with_timestamps(SessionState::new(), NOW, NOW);
        s.insert("k", &vec![7u8; n]).unwrap();
        fuzzing::plaintext_seed(&s, compress)
    };
    let guess = MAX_PLAINTEXT - 64;
    let n = MAX_PLAINTEXT - (seed(guess, false).len() - 1 - guess);
    let plain = seed(n, true);
    assert_eq!(
        decode_plaintext(plain.clone()).unwrap().len(),
        MAX_PLAINTEXT
    );
    fuzzing::plaintext(&plain);
    assert_eq!(
        decode_plaintext(seed(n + 1, true)),
        Err(Rejection::BadCompression)
    );
    // Uncompressed, the same bound holds.
    let mut s = sealed_session::internals::with_timestamps(SessionState::new(), NOW, NOW);
    s.insert("k", &vec![7u8; n]).unwrap();
    let plain = fuzzing::plaintext_seed(&s, false);
    assert_eq!(plain.len(), MAX_PLAINTEXT + 1);
    assert_eq!(
        decode_plaintext(plain.clone()).unwrap().len(),
        MAX_PLAINTEXT
    );
    let mut over = plain;
    over.push(0);
    assert_eq!(decode_plaintext(over), Err(Rejection::TooLong));
}

#[test]
fn every_set_cookie_fits_in_a_browser() {
    // The largest value each max_cookies accepts is split into cookies of <= 4096 bytes.
    for n in [1, 2, 31, 32] {
        let cfg = fuzzing::config(n, Algorithm::Aes256Gcm, Compression::Off);
        let mut s = SessionState::new();
        let blob = vec![0x5au8; n * 2900];
        s.insert("b", &blob).unwrap();
        let set = cfg.set_cookies(&mut s).unwrap();
        for h in &set {
            let pair = h.split(';').next().unwrap();
            assert!(pair.len() - 1 <= MAX_COOKIE_BYTES, "{n}: {}", pair.len());
        }
    }
}

/// The `Set-Cookie` values `session` finishes into.
fn set_cookies(session: &sealed_session::Session) -> Vec<String> {
    let mut response = http::Response::new(());
    session.finish(&mut response).unwrap();
    response
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[test]
fn legacy_seed_is_a_real_actix_session_cookie() {
    use sealed_session::internals::{legacy_decode_state, legacy_key, legacy_open};

    // fuzz/corpus/legacy_cookie/actix-login: mode byte, then the `id` cookie's value as
    // actix-session 0.11 set it. It must reach the JSON reader, not stop at the tag.
    let path = fuzz_dir().join("corpus/legacy_cookie/actix-login");
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data[0], fuzzing::LEGACY_OPEN);
    let key = legacy_key(&fuzzing::LEGACY_MASTER).unwrap();
    let plain = legacy_open(&key, fuzzing::LEGACY_NAME, &data[1..]).unwrap();
    let state = legacy_decode_state(&plain).unwrap();
    assert_eq!(state.len(), 5);
    assert_eq!(state["userId"], 1);
    assert_eq!(state["permissions"][2], "delete");
    fuzzing::legacy_cookie(&data);

    // A value sealed by the harness opens to itself in every written form.
    for form in 0..4u8 {
        let mut input = vec![fuzzing::LEGACY_SEAL | form << 2];
        input.extend_from_slice(&plain);
        fuzzing::legacy_cookie(&input);
    }
    let sealed = fuzzing::legacy_seal(fuzzing::LEGACY_NAME, &plain, 9);
    assert_eq!(legacy_open(&key, "id", sealed.as_bytes()).unwrap(), plain);
}
