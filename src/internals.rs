//! Crate internals for the fuzz harness (`fuzz-harness/` in the repository), compiled only
//! with the feature `__fuzzing`.
//!
//! **Not public API.** Nothing here is covered by semver, and no application should enable
//! `__fuzzing`. It exists because random bytes never pass the AEAD tag, so the fuzzer needs a
//! way to reach the code that runs after it: the plaintext decoder and the session body codec.

use crate::engine::SessionEngine;
use crate::error::{Error, Rejection};
use crate::keys::Algorithm;
use crate::state::SessionState;

/// The most bytes of name plus value a browser keeps in one cookie.
pub const MAX_COOKIE_BYTES: usize = crate::wire::set_cookie::MAX_COOKIE_BYTES;

/// The most cookies one session may be split across.
pub const MAX_CHUNKS: usize = crate::wire::set_cookie::MAX_CHUNKS;

/// The hard cap on an opened body.
pub const MAX_PLAINTEXT: usize = crate::wire::body::MAX_PLAINTEXT;

/// Bodies shorter than this are never compressed.
pub const COMPRESS_MIN: usize = crate::wire::body::COMPRESS_MIN;

/// Bytes of every AEAD tag.
pub const TAG_LEN: usize = 16;

/// Turns an authenticated plaintext (`flags || body`) into the body, as opening a cookie does
/// after the tag verified: checks the flags and inflates, bounded by [`MAX_PLAINTEXT`].
pub fn decode_plaintext(plain: Vec<u8>) -> Result<Vec<u8>, Rejection> {
    crate::wire::body::decode_plaintext(plain)
}

/// The session body (postcard) that sealing puts in the plaintext, with the timestamps the
/// session holds as they are (0 when unset), not stamped with a clock.
pub fn encode_body(session: &SessionState) -> Result<Vec<u8>, Error> {
    session.encode()
}

/// A session from a body as [`encode_body`] writes it, as opening a cookie reads it.
pub fn decode_body(body: &[u8]) -> Result<SessionState, Rejection> {
    SessionState::decode(body.to_vec())
}

/// `session` with its creation and refresh times set (seeds and known-answer tests).
pub fn with_timestamps(session: SessionState, created_at: u64, refreshed_at: u64) -> SessionState {
    session.with_timestamps(created_at, refreshed_at)
}

/// The length of the sealed value's header (version, algorithm, key id, nonce) for `algorithm`.
pub const fn header_len(algorithm: Algorithm) -> usize {
    crate::wire::seal::header_len(algorithm)
}

/// Checks a just-opened session against `engine`'s timeouts at `now`, as opening a cookie
/// does.
pub fn check_expiry(
    engine: &SessionEngine,
    session: &SessionState,
    now: u64,
) -> Result<(), Rejection> {
    let (created, refreshed) = session.times();
    let p = engine.parts();
    p.timeouts.check(created, refreshed, now, p.skew)
}

/// Whether an unchanged session is due for a refresh that pushes its idle deadline forward.
pub fn refresh_due(engine: &SessionEngine, session: &SessionState, now: u64) -> bool {
    engine.timeouts().refresh_due(session.times().1, now)
}

/// The longest sealed value a request may carry under `engine`: what `load` accepts.
pub fn max_value_len(engine: &SessionEngine) -> usize {
    engine.writer().max_value_len()
}

/// The actix-session importer's decoder (`src/import/jar.rs`), for the interop tests and the fuzz
/// harness.
#[cfg(feature = "actix-session-import")]
pub use crate::import::jar::{
    LegacyError, LegacyKey, LegacyKeyError, MAX_DEPTH as LEGACY_MAX_DEPTH,
    MAX_ENTRIES as LEGACY_MAX_ENTRIES, MAX_KEY_LEN as LEGACY_MAX_KEY_LEN,
    MAX_PLAINTEXT as LEGACY_MAX_PLAINTEXT, MAX_VALUE_LEN as LEGACY_MAX_VALUE_LEN,
};

/// The key of an actix-session app's `cookie::Key` bytes (see [`LegacyKey::from_master`]).
#[cfg(feature = "actix-session-import")]
pub fn legacy_key(master: &[u8]) -> Result<LegacyKey, LegacyKeyError> {
    LegacyKey::from_master(master)
}

/// Opens an actix-session private cookie `name=value` (see [`LegacyKey::open`]).
#[cfg(feature = "actix-session-import")]
pub fn legacy_open(key: &LegacyKey, name: &str, value: &[u8]) -> Result<Vec<u8>, LegacyError> {
    key.open(name, value)
}

/// The entries of an actix-session plaintext (see `import::jar::decode_state`).
#[cfg(feature = "actix-session-import")]
pub fn legacy_decode_state(
    plain: &[u8],
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, LegacyError> {
    crate::import::jar::decode_state(plain)
}
