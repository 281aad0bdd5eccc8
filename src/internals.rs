//! Crate internals for the fuzz harness (`fuzz-harness/` in the repository), compiled only
//! with the feature `__fuzzing`.
//!
//! **Not public API.** Nothing here is covered by semver, and no application should enable
//! `__fuzzing`. It exists because random bytes never pass the AEAD tag, so the fuzzer needs a
//! way to reach the code that runs after it: the plaintext decoder and the session body codec.

use crate::cookies::CookieConfig;
use crate::error::{Error, Rejection};
use crate::keys::Algorithm;
use crate::session::{Expiry, SessionState};

/// Turns an authenticated plaintext (`flags || body`) into the body, as opening a cookie does
/// after the tag verified: checks the flags and inflates, bounded by
/// [`MAX_PLAINTEXT`](crate::format::MAX_PLAINTEXT).
pub fn decode_plaintext(plain: Vec<u8>) -> Result<Vec<u8>, Rejection> {
    crate::format::decode_plaintext(plain)
}

/// The session body (postcard) that sealing puts in the plaintext, with the timestamps the
/// session holds as they are (0 when unset), not stamped with a clock.
pub fn encode_body(session: &SessionState) -> Result<Vec<u8>, Error> {
    session.encode()
}

/// A session from a body as [`encode_body`] writes it, as opening a cookie reads it.
pub fn decode_body(body: &[u8]) -> Result<SessionState, Rejection> {
    SessionState::decode(body)
}

/// The length of the sealed value's header (version, algorithm, key id, nonce) for `algorithm`.
pub const fn header_len(algorithm: Algorithm) -> usize {
    crate::format::header_len(algorithm)
}

/// Checks a just-opened session against `expiry`'s limits at `now`, as opening a cookie does.
pub fn check_expiry(expiry: &Expiry, session: &SessionState, now: u64) -> Result<(), Rejection> {
    expiry.check(session, now)
}

/// Whether an unchanged session is due for a re-seal that pushes its idle deadline forward.
pub fn refresh_due(expiry: &Expiry, session: &SessionState, now: u64) -> bool {
    expiry.refresh_due(session, now)
}

/// The longest sealed value a request may carry under `cookie`: what `load` accepts.
pub fn max_value_len(cookie: &CookieConfig) -> usize {
    cookie.max_value_len()
}

/// The actix-session importer's decoder (`src/legacy.rs`), for the interop tests and the fuzz
/// harness.
#[cfg(feature = "actix-session-import")]
pub use crate::legacy::{
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

/// The entries of an actix-session plaintext (see `legacy::decode_state`).
#[cfg(feature = "actix-session-import")]
pub fn legacy_decode_state(
    plain: &[u8],
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, LegacyError> {
    crate::legacy::decode_state(plain)
}
