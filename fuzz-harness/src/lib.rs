//! Entry points shared by the fuzz targets in `fuzz/` and the corpus replay test
//! (`tests/fuzz_corpus.rs` of this crate), so both run exactly the same code. A workspace
//! member that is never published: the library reaches its internals only through the
//! non-default feature `__fuzzing` (`sealed_session::internals`), which this crate enables.
//!
//! Each target takes arbitrary bytes and panics only when an invariant of the crate is
//! broken (a bug): every other outcome, `Ok` or a typed error, is fine. All targets use the
//! same fixed key ring (primary secret `[0x11; 32]`, fallback `[0x22; 32]`), the cookie name
//! [`COOKIE_NAME`] and the fixed clock [`NOW`], so that seeds sealed by
//! [`seed_config`] open in the targets. `legacy_cookie` (the actix-session importer's
//! decoder) uses the key of an actix-session app instead, [`LEGACY_MASTER`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

mod legacy;
pub use legacy::{
    legacy_cookie, legacy_seal, LEGACY_MASTER, LEGACY_NAME, LEGACY_OPEN, LEGACY_SEAL, LEGACY_STATE,
};

use serde::{Deserialize, Serialize};

use sealed_session::internals::{
    self, decode_body, encode_body, with_timestamps, MAX_CHUNKS, MAX_COOKIE_BYTES, MAX_PLAINTEXT,
};
use sealed_session::{Algorithm, Compression, Error, Keyring, Secret, Session, SessionState};
use sealed_session::{LoadOutcome, SessionBuilder, SessionEngine};

/// The fixed time (Unix seconds) of every configuration the targets use.
pub const NOW: u64 = 1_800_000_000;

/// The cookie name of every configuration the targets use.
pub const COOKIE_NAME: &str = "session";

const PRIMARY: [u8; 32] = [0x11; 32];
const FALLBACK: [u8; 32] = [0x22; 32];

fn secret(bytes: &[u8; 32]) -> Secret {
    match Secret::from_bytes(bytes) {
        Ok(s) => s,
        Err(e) => panic!("a 32-byte secret is valid: {e}"),
    }
}

fn build(
    keys: Keyring,
    max_cookies: usize,
    algorithm: Algorithm,
    compression: Compression,
) -> SessionEngine {
    match SessionBuilder::new(keys)
        .cookie_name(COOKIE_NAME)
        .max_cookies(max_cookies)
        .algorithm(algorithm)
        .compression(compression)
        // The whole range the reader accepts, so the targets reach the decompression cap.
        .max_session_bytes(MAX_PLAINTEXT)
        .clock(|| NOW)
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("the fuzzing configuration is valid: {e}"),
    }
}

/// The configuration the targets open with: key ring primary `[0x11; 32]` with fallback
/// `[0x22; 32]`, `max_cookies` in `1..=32` (clamped), built once and cached.
pub fn config(
    max_cookies: usize,
    algorithm: Algorithm,
    compression: Compression,
) -> &'static SessionEngine {
    static ALL: OnceLock<Vec<SessionEngine>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let ring = || match Keyring::from_secrets([secret(&PRIMARY), secret(&FALLBACK)]) {
            Ok(r) => r,
            Err(e) => panic!("two secrets make a key ring: {e}"),
        };
        let mut v = Vec::with_capacity(MAX_CHUNKS * Algorithm::ALL.len() * 2);
        for n in 1..=MAX_CHUNKS {
            for alg in Algorithm::ALL {
                for comp in [Compression::Auto, Compression::Off] {
                    v.push(build(ring(), n, alg, comp));
                }
            }
        }
        v
    });
    let n = max_cookies.clamp(1, MAX_CHUNKS);
    let a = Algorithm::ALL
        .iter()
        .position(|&x| x == algorithm)
        .unwrap_or(0);
    let c = usize::from(compression == Compression::Off);
    &all[(n - 1) * Algorithm::ALL.len() * 2 + a * 2 + c]
}

/// A configuration for writing seeds: the targets' key ring, or (`old_key`) a ring whose
/// primary is the targets' fallback secret, so its cookies open with `needs_reseal`.
pub fn seed_config(
    max_cookies: usize,
    algorithm: Algorithm,
    compression: Compression,
    old_key: bool,
) -> SessionEngine {
    let keys = if old_key {
        Keyring::new(secret(&FALLBACK))
    } else {
        Keyring::new(secret(&PRIMARY)).with_fallback(secret(&FALLBACK))
    };
    build(keys, max_cookies, algorithm, compression)
}

/// A `Cookie` header carrying `value` cut into `MAX_CHUNKS` small chunks of [`COOKIE_NAME`],
/// last chunk first (browsers send cookies in any order). Readers only require each chunk to
/// be at most 4096 bytes, so a value a writer would put in one cookie may arrive this way.
pub fn chunked_header(value: &str) -> String {
    let part = value.len().div_ceil(MAX_CHUNKS).max(1);
    let parts: Vec<&[u8]> = value.as_bytes().chunks(part).collect();
    assert_eq!(
        parts.len(),
        MAX_CHUNKS,
        "the value splits into {MAX_CHUNKS} chunks"
    );
    let mut h = String::new();
    for (i, p) in parts.iter().enumerate().rev() {
        // base64url is ASCII, so every byte boundary is a character boundary.
        let p = String::from_utf8_lossy(p);
        if i == 0 {
            h.push_str(&format!("{COOKIE_NAME}={MAX_CHUNKS}.{p}"));
        } else {
            h.push_str(&format!("{COOKIE_NAME}.{i}={p}; "));
        }
    }
    h
}

/// An authenticated plaintext as `format::open` hands it on (`flags || body`) for
/// `session`'s body, stored plain or LZ4-compressed (whether or not that is smaller):
/// seeds for [`plaintext`].
pub fn plaintext_seed(session: &SessionState, compress: bool) -> Vec<u8> {
    let body = match encode_body(session) {
        Ok(b) => b,
        Err(e) => panic!("a session encodes: {e}"),
    };
    if compress {
        compressed_plaintext(&body)
    } else {
        let mut plain = Vec::with_capacity(body.len() + 1);
        plain.push(0);
        plain.extend_from_slice(&body);
        plain
    }
}

/// `flags = LZ4 || varint(body.len()) || lz4(body)`: a compressed plaintext of any body.
pub fn compressed_plaintext(body: &[u8]) -> Vec<u8> {
    let mut plain = vec![1u8];
    let mut v = body.len() as u64;
    while v >= 0x80 {
        plain.push((v as u8) | 0x80);
        v >>= 7;
    }
    plain.push(v as u8);
    plain.extend_from_slice(&lz4_flex::block::compress(body));
    plain
}

/// A typed value of the kind applications store, for the typed reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Small {
    id: u32,
    name: String,
    tags: Option<Vec<u16>>,
}

/// An enum, for the typed reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    A,
    B(u64),
    C { x: String, y: Vec<u8> },
}

/// Reads `key` as many types; every read must be a value or a typed error.
fn typed_reads(s: &SessionState, key: &str) {
    fn ok_or_deserialize<T>(key: &str, r: Result<Option<T>, Error>) {
        match r {
            Ok(_) => {}
            Err(Error::Deserialize { key: k, .. }) => assert_eq!(k, key, "error names the key"),
            Err(e) => panic!("typed read of {key:?} failed with a non-Deserialize error: {e:?}"),
        }
    }
    ok_or_deserialize(key, s.get::<u64>(key));
    ok_or_deserialize(key, s.get::<i32>(key));
    ok_or_deserialize(key, s.get::<String>(key));
    ok_or_deserialize(key, s.get::<Vec<u8>>(key));
    ok_or_deserialize(key, s.get::<bool>(key));
    ok_or_deserialize(key, s.get::<f64>(key));
    ok_or_deserialize(key, s.get::<char>(key));
    ok_or_deserialize(key, s.get::<()>(key));
    ok_or_deserialize(key, s.get::<(u8, i64)>(key));
    ok_or_deserialize(key, s.get::<Option<u128>>(key));
    ok_or_deserialize(key, s.get::<Vec<String>>(key));
    ok_or_deserialize(key, s.get::<BTreeMap<String, u64>>(key));
    ok_or_deserialize(key, s.get::<Small>(key));
    ok_or_deserialize(key, s.get::<Kind>(key));
}

/// Checks every typed read of every key of a decoded session, and that it re-encodes.
fn check_session(s: &SessionState) {
    let keys: Vec<String> = s.keys().map(str::to_owned).collect();
    assert!(keys.len() <= s.len());
    for k in &keys {
        assert!(!k.is_empty(), "keys() never lists the whole-struct key");
        typed_reads(s, k);
    }
    typed_reads(s, "");
    let _ = s.data::<Small>();
    let _ = s.data::<Kind>();
    let _ = s.data::<(u64, String)>();
    let _ = s.data::<Vec<u8>>();
    let body = match encode_body(s) {
        Ok(b) => b,
        Err(e) => panic!("a decoded session re-encodes: {e:?}"),
    };
    let again = decode_body(&body);
    assert_eq!(again.as_ref(), Ok(s), "decode(encode(s)) == s");
}

/// Target `open_value`: `data` as one cookie value, through [`SessionEngine::open_value`]
/// (lossy UTF-8) and [`SessionEngine::load`] (raw bytes, header `session=<data>`). Both
/// must give a session or a typed rejection, and agree with each other whenever the header
/// carries exactly `data` as the value.
pub fn open_value(data: &[u8]) {
    let one = config(1, Algorithm::XChaCha20Poly1305, Compression::Auto);
    let many = config(MAX_CHUNKS, Algorithm::Aes256Gcm, Compression::Off);
    let text = String::from_utf8_lossy(data);

    let r1 = one.open_value(&text);
    let r32 = many.open_value(&text);
    for r in [&r1, &r32] {
        match r {
            Ok(s) => check_session(s),
            Err(Error::Rejected(_)) => {}
            Err(e) => panic!("open_value failed with a non-Rejected error: {e:?}"),
        }
    }
    // The two configurations differ only in the length bound.
    if r1 != Err(Error::Rejected(sealed_session::Rejection::TooLong)) {
        assert_eq!(r1, r32, "the length bound is the only difference");
    }

    let mut header = Vec::with_capacity(COOKIE_NAME.len() + 1 + data.len());
    header.extend_from_slice(COOKIE_NAME.as_bytes());
    header.push(b'=');
    header.extend_from_slice(data);
    for (cfg, direct) in [(one, &r1), (many, &r32)] {
        let loaded = cfg.load([header.as_slice()]);
        match (&loaded.1, &loaded.0) {
            (LoadOutcome::Opened { .. }, s) => check_session(s),
            (_, s) => assert!(
                s.is_empty() && *s == SessionState::new(),
                "a failed load gives a new session"
            ),
        }
        // Exactly `data` reaches the opener when it is UTF-8 with no `;` (pair separator),
        // no `.` (chunk count separator) and no surrounding whitespace.
        let clean = std::str::from_utf8(data).is_ok()
            && !data.contains(&b';')
            && !data.contains(&b'.')
            && data.trim_ascii().len() == data.len();
        if clean && COOKIE_NAME.len() + data.len() > MAX_COOKIE_BYTES {
            // No browser keeps such a cookie, so the reader refuses it before opening.
            assert_eq!(
                loaded.1,
                LoadOutcome::Rejected(sealed_session::Rejection::TooLong)
            );
        } else if clean {
            match (direct, loaded.1) {
                (Ok(s), LoadOutcome::Opened { .. }) => assert_eq!(s, &loaded.0),
                (Err(Error::Rejected(a)), LoadOutcome::Rejected(b)) => assert_eq!(*a, b),
                (d, l) => panic!("open_value gave {d:?} but load gave {l:?}"),
            }
        }
    }
}

/// Whether two sessions hold exactly the same entries (keys and raw value bytes).
fn same_entries(a: &SessionState, b: &SessionState) -> bool {
    let a = encode_body(&with_timestamps(a.clone(), 0, 0));
    let b = encode_body(&with_timestamps(b.clone(), 0, 0));
    a.is_ok() && a == b
}

/// Checks `Set-Cookie` values: valid headers for our cookie names, each name plus value at
/// most [`MAX_COOKIE_BYTES`]. Returns the `name=value` pairs that set (not remove) a cookie.
fn check_set_cookies(cfg: &SessionEngine, out: &[String]) -> Vec<String> {
    let mut sets = Vec::new();
    for s in out {
        assert!(
            s.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "Set-Cookie is not visible ASCII: {s:?}"
        );
        let pair = s.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            panic!("Set-Cookie without name=value: {s}");
        };
        assert!(
            name.len() + value.len() <= MAX_COOKIE_BYTES,
            "cookie {name} is {} bytes",
            name.len() + value.len()
        );
        let base = cfg.cookie().name();
        // A refresh stamp (`<name>.t`) moves the deadlines of the value the request carried;
        // it is not a chunk of a new value, so it is checked but not reloaded as one.
        let stamp = name.strip_prefix(base) == Some(".t");
        let ours = stamp
            || name == base
            || name
                .strip_prefix(base)
                .and_then(|r| r.strip_prefix('.'))
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| (1..MAX_CHUNKS).contains(&i));
        assert!(ours, "Set-Cookie for a name not ours: {name}");
        if value.is_empty() {
            assert!(s.contains("Max-Age=0"), "an empty cookie is a removal: {s}");
        } else if !stamp {
            sets.push(pair.to_owned());
        }
    }
    assert!(
        sets.len() <= cfg.cookie().max_cookies(),
        "more cookies than allowed"
    );
    sets
}

/// Finishes `session` into a response; the `Set-Cookie` values, or `None` when it was too
/// large to save.
fn finish_ok(session: &Session) -> Option<Vec<String>> {
    let mut response = http::Response::new(());
    match session.finish(&mut response) {
        Ok(()) => Some(
            response
                .headers()
                .get_all(http::header::SET_COOKIE)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect(),
        ),
        Err(failed) => match failed.error() {
            Error::TooLarge { size, limit, .. } | Error::SessionTooLarge { size, limit } => {
                assert!(size > limit, "too large with size {size} <= limit {limit}");
                None
            }
            e => panic!("finish failed with {e:?}"),
        },
    }
}

/// Target `cookie_headers`: `data[0]` picks `max_cookies` (1..=32, low 5 bits), the
/// algorithm (bit 7: XAES-256-GCM; else bit 5: AES-256-GCM or XChaCha20-Poly1305) and the
/// compression (bit 6); the rest, split on `0x00` and `0xff`, is
/// the request's `Cookie` header values. Runs `load`, then `finish` without the session
/// (as an adapter whose handler never looked) and with it, and checks every `Set-Cookie`
/// (size, names). When cookies are written they must load back to the same session.
pub fn cookie_headers(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let n = 1 + usize::from(first & 0x1f);
    let alg = match (first & 0x80 != 0, first & 0x20 != 0) {
        (true, _) => Algorithm::XAes256Gcm,
        (false, false) => Algorithm::XChaCha20Poly1305,
        (false, true) => Algorithm::Aes256Gcm,
    };
    let comp = if first & 0x40 == 0 {
        Compression::Auto
    } else {
        Compression::Off
    };
    let cfg = config(n, alg, comp);
    let headers: Vec<&[u8]> = rest.split(|&b| b == 0 || b == 0xff).collect();
    let (loaded, outcome) = cfg.load(headers.iter().copied());
    if let LoadOutcome::Opened { .. } = outcome {
        check_session(&loaded);
    } else {
        assert_eq!(
            loaded,
            SessionState::new(),
            "a failed load gives a new session"
        );
    }

    let round_trip = |out: Option<Vec<String>>, expected: Option<&SessionState>| {
        let Some(out) = out else { return };
        let sets = check_set_cookies(cfg, &out);
        if let (Some(expected), false) = (expected, sets.is_empty()) {
            let header = sets.join("; ");
            let back = cfg.load([header.as_bytes()]);
            assert_eq!(
                back.1,
                LoadOutcome::Opened {
                    needs_reseal: false
                },
                "a cookie just written opens"
            );
            assert!(same_entries(&back.0, expected), "a written session reloads");
        }
    };

    // The handler never looked: re-sealed only when the header shows an old key.
    let out = finish_ok(&cfg.start(headers.iter().copied()));
    let late = cfg.load(headers.iter().copied()).0;
    round_trip(out, Some(&late).filter(|s| !s.is_empty()));

    // The handler read it.
    let handle = cfg.start(headers.iter().copied());
    assert_eq!(handle.outcome(), outcome);
    let s = loaded.clone();
    let out = finish_ok(&handle);
    if let LoadOutcome::Rejected(_) = outcome {
        if let Some(out) = &out {
            assert!(
                check_set_cookies(cfg, out).is_empty(),
                "a rejected cookie is only removed"
            );
        }
    }
    round_trip(out, Some(&s).filter(|s| !s.is_empty()));

    // The handler wrote.
    let mut s = loaded.clone();
    let handle = cfg.start(headers.iter().copied());
    if s.insert("fuzz", &first).is_ok() && handle.insert("fuzz", &first).is_ok() {
        let out = finish_ok(&handle);
        round_trip(out, Some(&s));
    }
}

/// Target `plaintext`: `data` as an authenticated plaintext (`flags || body`), through
/// everything that follows a successful AEAD open: `format::decode_plaintext`,
/// `SessionState::decode`, the expiry checks, and typed reads of every key.
pub fn plaintext(data: &[u8]) {
    let body = match internals::decode_plaintext(data.to_vec()) {
        Ok(b) => b,
        Err(_) => return,
    };
    assert!(body.len() <= MAX_PLAINTEXT, "inflated past MAX_PLAINTEXT");
    if data.first() == Some(&0) {
        assert_eq!(
            body,
            data[1..],
            "an uncompressed body is the bytes after the flags"
        );
    }
    let Ok(session) = decode_body(&body) else {
        return;
    };
    let cfg = config(1, Algorithm::XChaCha20Poly1305, Compression::Auto);
    for now in [0, NOW, u64::MAX] {
        let _ = internals::check_expiry(cfg, &session, now);
        let _ = internals::refresh_due(cfg, &session, now);
    }
    check_session(&session);
}

/// A tiny reader over fuzzer bytes: past the end every read gives zeros.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }
}

/// The largest value `roundtrip` builds: past [`MAX_PLAINTEXT`], so that both "too large to
/// compress" and "too large for the cookies" are reached.
const MAX_GENERATED: usize = MAX_PLAINTEXT + 4096;

/// The largest incompressible value `roundtrip` builds: its sealed form exceeds even
/// `MAX_CHUNKS` cookies (base64 makes it a third larger).
const MAX_INCOMPRESSIBLE: usize = MAX_CHUNKS * MAX_COOKIE_BYTES;

/// The length of the base64url value `session` seals to: header, flags, the body plain or
/// LZ4-compressed (only under `Auto`, from `COMPRESS_MIN` up to `MAX_PLAINTEXT` bytes, and
/// only when strictly smaller), tag.
fn sealed_len(session: &SessionState, alg: Algorithm, comp: Compression) -> usize {
    let body = match encode_body(session) {
        Ok(b) => b,
        Err(e) => panic!("a session encodes: {e:?}"),
    };
    let mut payload = body.len();
    if comp == Compression::Auto && (internals::COMPRESS_MIN..=MAX_PLAINTEXT).contains(&body.len())
    {
        let compressed = compressed_plaintext(&body).len() - 1;
        payload = payload.min(compressed);
    }
    let raw = internals::header_len(alg) + 1 + payload + internals::TAG_LEN;
    (raw * 4).div_ceil(3)
}

/// A value as `roundtrip` stored it, to read it back typed.
#[derive(Debug)]
enum Stored {
    U64(u64),
    Str(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Small(Small),
}

fn insert(s: &mut SessionState, key: &str, v: &Stored) -> Result<(), Error> {
    let whole = key.is_empty();
    macro_rules! put {
        ($x:expr) => {
            if whole {
                s.set_data($x)
            } else {
                s.insert(key, $x)
            }
        };
    }
    match v {
        Stored::U64(x) => put!(x),
        Stored::Str(x) => put!(x),
        Stored::Bytes(x) => put!(x),
        Stored::Bool(x) => put!(x),
        Stored::Small(x) => put!(x),
    }
}

fn read_back(s: &SessionState, key: &str, v: &Stored) {
    match v {
        Stored::U64(x) => assert_eq!(s.get::<u64>(key).ok().flatten().as_ref(), Some(x)),
        Stored::Str(x) => assert_eq!(s.get::<String>(key).ok().flatten().as_ref(), Some(x)),
        Stored::Bytes(x) => assert_eq!(s.get::<Vec<u8>>(key).ok().flatten().as_ref(), Some(x)),
        Stored::Bool(x) => assert_eq!(s.get::<bool>(key).ok().flatten().as_ref(), Some(x)),
        Stored::Small(x) => assert_eq!(s.get::<Small>(key).ok().flatten().as_ref(), Some(x)),
    }
}

/// Target `roundtrip`: derives a session and a configuration from `data` (entries, keys,
/// value sizes and contents, compression, `max_cookies`, algorithm), seals it with `finish`,
/// sends the cookies back in an order and grouping also taken from `data` (with unrelated
/// and stale cookies mixed in), and checks that `load` gives exactly the same session, or
/// that `finish` said `TooLarge` for a sealed value that really exceeds the cookies.
pub fn roundtrip(data: &[u8]) {
    let mut r = Reader { data };
    let settings = r.byte();
    let alg = match (settings & 0x80 != 0, settings & 1 != 0) {
        (true, _) => Algorithm::XAes256Gcm,
        (false, false) => Algorithm::XChaCha20Poly1305,
        (false, true) => Algorithm::Aes256Gcm,
    };
    let comp = if settings & 2 == 0 {
        Compression::Auto
    } else {
        Compression::Off
    };
    let n = 1 + usize::from(r.byte()) % MAX_CHUNKS;
    let cfg = config(n, alg, comp);

    let mut session = SessionState::new();
    let mut stored: BTreeMap<String, Stored> = BTreeMap::new();
    let mut total = 0usize;
    let entries = r.byte() % 16;
    for _ in 0..entries {
        let klen = usize::from(r.byte() % 24);
        let key = String::from_utf8_lossy(r.bytes(klen)).into_owned();
        let kind = r.byte();
        let value = match kind % 7 {
            0 => Stored::U64(r.u64()),
            1 => {
                let len = usize::from(r.byte());
                Stored::Str(String::from_utf8_lossy(r.bytes(len)).into_owned())
            }
            2 => {
                let len = usize::from(r.u16());
                Stored::Bytes(r.bytes(len).to_vec())
            }
            3 => Stored::Bool(r.byte() & 1 == 1),
            4 => {
                // Large and compressible: a short pattern repeated (as a string, which
                // postcard copies in one go, so the debug-build replay stays fast).
                let len = (usize::from(r.u16()) * (1 + usize::from(kind >> 3))).min(MAX_GENERATED);
                let plen = 1 + usize::from(r.byte() % 8);
                let pattern: Vec<char> = r
                    .bytes(plen)
                    .iter()
                    .map(|&b| char::from(b'!' + b % 94))
                    .collect();
                let v = if pattern.is_empty() {
                    "0".repeat(len)
                } else {
                    pattern.iter().cycle().take(len).collect()
                };
                Stored::Str(v)
            }
            5 => {
                // Large and incompressible: base64url characters from xorshift; past
                // MAX_INCOMPRESSIBLE no number of cookies holds it, so no need to go further.
                const ALPHABET: &[u8; 64] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let len =
                    (usize::from(r.u16()) * (1 + usize::from(kind >> 3))).min(MAX_INCOMPRESSIBLE);
                let mut x = u64::from(r.u32()) | 1;
                let v = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        char::from(ALPHABET[(x & 63) as usize])
                    })
                    .collect();
                Stored::Str(v)
            }
            _ => {
                let id = r.u32();
                let nlen = usize::from(r.byte() % 32);
                let name = String::from_utf8_lossy(r.bytes(nlen)).into_owned();
                let tags = (r.byte() & 1 == 1)
                    .then(|| (0..r.byte() % 8).map(|i| u16::from(i) * 7).collect());
                Stored::Small(Small { id, name, tags })
            }
        };
        total += match &value {
            Stored::Bytes(b) => b.len(),
            Stored::Str(t) => t.len(),
            _ => 0,
        };
        if total > MAX_GENERATED {
            break; // keep an iteration cheap
        }
        match insert(&mut session, &key, &value) {
            // Names that start with NUL are the crate's own entries (flashes, the CSRF
            // secret): refused to the application, and nothing changes.
            Err(Error::Serialize { .. }) if key.starts_with('\0') => {
                assert_eq!(session.len(), stored.len());
                continue;
            }
            Err(e) => panic!("insert of {key:?} failed: {e:?}"),
            Ok(()) => {
                stored.insert(key, value);
            }
        }
    }
    assert_eq!(session.len(), stored.len());

    let out = match cfg.set_cookies(&mut session) {
        Ok(out) => out,
        Err(Error::TooLarge {
            size,
            limit,
            max_cookies,
        }) => {
            assert_eq!(max_cookies, n);
            assert_eq!(limit, n * MAX_COOKIE_BYTES);
            assert!(size > limit, "TooLarge with size {size} <= limit {limit}");
            // The sealed length, computed from the format (FORMAT.md) rather than by
            // sealing again: `set_cookies` stamped the timestamps, so this is its body.
            let len = sealed_len(&session, alg, comp);
            assert!(
                len > internals::max_value_len(cfg),
                "TooLarge for a value of {len} bytes that fits in {}",
                internals::max_value_len(cfg)
            );
            return;
        }
        Err(Error::SessionTooLarge { size, limit }) => {
            assert!(size > limit, "too large with size {size} <= limit {limit}");
            return;
        }
        Err(e) => panic!("set_cookies failed with {e:?}"),
    };
    let mut pairs = check_set_cookies(cfg, &out);
    if session.is_empty() {
        assert!(pairs.is_empty(), "an empty new session sets no cookie");
        return;
    }
    assert_eq!(
        pairs.len(),
        out.len(),
        "no removals without request cookies"
    );
    assert!(!pairs.is_empty(), "a changed session sets a cookie");

    // Browsers send cookies in any order, among others, maybe over several headers.
    for i in (1..pairs.len()).rev() {
        let j = usize::from(r.byte()) % (i + 1);
        pairs.swap(i, j);
    }
    let noise = r.byte();
    if noise & 1 != 0 {
        pairs.insert(usize::from(r.byte()) % (pairs.len() + 1), "other=1".into());
    }
    if noise & 2 != 0 {
        // The first occurrence of a name wins: a later duplicate is ignored.
        pairs.push(format!("{COOKIE_NAME}=AQ"));
    }
    let used = out.len();
    if noise & 4 != 0 && used < MAX_CHUNKS {
        // A stale chunk the session no longer announces.
        let i = used + usize::from(r.byte()) % (MAX_CHUNKS - used);
        pairs.push(format!("{COOKIE_NAME}.{i}=stale"));
    }
    let mut headers: Vec<String> = Vec::new();
    for p in pairs {
        match headers.last_mut() {
            Some(h) if r.byte() & 1 == 0 => {
                h.push_str("; ");
                h.push_str(&p);
            }
            _ => headers.push(p),
        }
    }
    let loaded = cfg.load(headers.iter().map(String::as_bytes));
    assert_eq!(
        loaded.1,
        LoadOutcome::Opened {
            needs_reseal: false
        },
        "the cookies just written open"
    );
    assert_eq!(
        encode_body(&loaded.0),
        encode_body(&session),
        "the same session comes back"
    );
    assert_eq!(loaded.0.created_at(), Some(NOW));
    for (k, v) in &stored {
        read_back(&loaded.0, k, v);
    }
}
