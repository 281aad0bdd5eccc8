//! Opening actix-session 0.11 cookies once, so an application moving from actix-session to
//! this crate does not sign every user out (feature `actix-session-import`).
//!
//! This module only decodes: [`LegacyKey::open`] turns a legacy cookie value into its
//! plaintext, and [`decode_state`] turns that plaintext into the session's entries. Turning
//! the entries into a session and removing the legacy cookie belong to the request lifecycle.
//!
//! # The format, byte by byte
//!
//! Every fact below was read in the sources of the versions named (paths are inside each
//! crate as published; `cookie` 0.16.2 is what actix-web 4 uses, `cookie` 0.18.2 what
//! axum-extra and tower-cookies use; both have the same private jar).
//!
//! **Key.** actix-session is handed a `cookie::Key`: 64 bytes, `signing (32) || encryption
//! (32)` (`cookie` 0.16.2 `src/secure/key.rs` lines 21, 153-155, 168-170). `Key::from` and
//! `Key::try_from` take the *first* 64 bytes of any slice of 64 bytes or more and refuse a
//! shorter one (lines 237-245; 0.18.2 lines 243-251). The private jar uses only the
//! encryption half, bytes `32..64`, as an AES-256-GCM key (`src/secure/private.rs` lines 17,
//! 37). [`LegacyKey::from_master`] does exactly that. An application that built its key with
//! `Key::derive_from(master)` (feature `key-expansion`) has
//! `HKDF-SHA256-Expand(PRK = master, info = "COOKIE;SIGNED:HMAC-SHA256;PRIVATE:AEAD-AES-256-GCM",
//! L = 64)`, no extract step (`key.rs` lines 90-101): [`LegacyKey::derive_from`].
//!
//! **Sealed value** (`private.rs` lines 15-16, 42-69 seal, 75-88 open):
//!
//! ```text
//! value  = base64(nonce || ciphertext || tag)
//! nonce  = 12 random bytes
//! tag    = 16 bytes, AES-256-GCM(key = encryption half, nonce, aad = cookie name, plaintext)
//! |ciphertext| = |plaintext|
//! ```
//!
//! `base64` is the standard alphabet (`+`, `/`) with `=` padding, decoded strictly: padding
//! must be canonical and the unused bits of the last symbol must be zero (`cookie` 0.16.2
//! calls `base64` 0.20's `encode`/`decode`, whose `DEFAULT_ENGINE` is `STANDARD` with `PAD`:
//! `base64` 0.20.0 `src/engine/mod.rs` lines 100-102, `src/engine/fast_portable/mod.rs`
//! lines 253-259 and 331; `cookie` 0.18.2 calls `BASE64_STANDARD`, `src/secure/mod.rs`
//! lines 3-15). The associated data is the cookie's name, so a value moved to another name
//! fails. The jar refuses a decoded value of 12 bytes or fewer, then lets AES-GCM refuse
//! anything shorter than nonce + tag (28 bytes), and requires the plaintext to be UTF-8.
//!
//! **On the wire.** actix-session writes the cookie with `cookie.encoded()` (actix-session
//! 0.11.0 `src/middleware.rs` line 431), which percent-encodes the value with cookie's
//! `COOKIE` set: of the base64 characters, `/` becomes `%2F` and `=` becomes `%3D`, while `+`
//! stays (`cookie` 0.16.2 `src/lib.rs` lines 1109-1151). actix-web reads cookies with
//! `Cookie::parse_encoded` after splitting the header on `;` and trimming (actix-web 4.18.1
//! `src/request.rs` lines 478-490): the value is trimmed, one pair of surrounding double
//! quotes is removed, it is trimmed again and percent-decoded (`cookie` 0.16.2
//! `src/parse.rs` lines 85-90, 109-133; `%` not followed by two hex digits stays as it is).
//! [`LegacyKey::open`] takes the value as the `Cookie` header carries it and does the same
//! (trimming ASCII whitespace), so it also takes a value that was never percent-encoded.
//!
//! **Plaintext** (actix-session 0.11.0): the session state is a `HashMap<String, String>`
//! (`src/storage/interface.rs` line 8); `Session::insert` stores `serde_json::to_string(&value)`
//! under the key (`src/session.rs` lines 128-151) and `Session::get` parses it back
//! (lines 84-97); `CookieSessionStore` writes `serde_json::to_string(&state)` as the "session
//! key" that the jar seals, and reads it back with `serde_json::from_str` (`src/storage/cookie.rs`
//! lines 52-73), refusing more than 4064 bytes (`src/storage/session_key.rs` lines 20-32). So:
//!
//! ```text
//! plaintext = JSON object { key: JSON string whose text is the JSON of the value, ... }
//! e.g.        {"userId":"1","username":"\"admin\"","permissions":"[\"read\",\"write\"]"}
//! ```
//!
//! in `HashMap` order (arbitrary). The default cookie name is `id`, and `Private` (this jar) is
//! the default content security (actix-session 0.11.0 `src/config.rs` lines 380-392).
//!
//! # Bounds
//!
//! A value longer than [`MAX_VALUE_LEN`] (4096 bytes, what a browser keeps of a cookie's name
//! and value) is refused before anything is decoded: a browser never sends one back, and an
//! actix-session plaintext above about 3 KB already made a cookie the browser dropped. So
//! [`open`](LegacyKey::open) returns at most [`MAX_PLAINTEXT`] (3044) bytes, and
//! [`decode_state`] refuses more than that, at most [`MAX_ENTRIES`] entries, keys longer than
//! [`MAX_KEY_LEN`] bytes and values nested deeper than [`MAX_DEPTH`] (64) arrays or objects.
//! The nesting bound is checked by a linear scan of each value's text *before* `serde_json`
//! parses it, so `serde_json`'s own recursion limit (128) is never what stops an input, and
//! dropping a parsed value recurses at most 64 levels. The outer object is read as an object
//! of strings, which never recurses. Allocation is bounded by the plaintext's size.
//!
//! # Other jars with the same format
//!
//! * **axum-extra's `PrivateCookieJar`** (axum-extra 0.12, `cookie` 0.18 with
//!   `percent-encode`): the same jar, the same `Key`, the cookie name as associated data
//!   (`axum-extra/src/extract/cookie/private.rs` lines 157-165); it writes `encoded()` values
//!   and reads with `parse_encoded` (`mod.rs` lines 115-121, 231-233). [`LegacyKey::open`]
//!   opens its cookies (the application's own plaintext); [`decode_state`] applies only where
//!   the application stored an actix-session-shaped JSON object of JSON texts.
//! * **tower-sessions-cookie-store 0.5 in `private` mode**: the same jar through tower-cookies
//!   0.11 (`cookie` 0.18), default cookie name `session` (`src/config.rs` line 14), written
//!   without percent-encoding (`c.to_string()`, tower-cookies 0.11.0 `src/service/future.rs`
//!   line 38). [`LegacyKey::open`] opens those cookies; [`decode_state`] does **not** decode
//!   their plaintext, which is `base64url-no-pad(JSON {"v":1,"record":{"id":<i128>,
//!   "data":{key: JSON value},"expiry_date":<time's OffsetDateTime>}})` (its `src/format.rs`
//!   lines 8-31; tower-sessions-core's `Record`). Importing those would take a second state
//!   decoder: base64url without padding, the envelope with `v == 1`, `record.data`'s values
//!   taken as they are (already JSON values, not JSON texts), and `expiry_date` checked, a
//!   9-number array `[year, ordinal, hour, minute, second, nanosecond, offset h, m, s]` unless
//!   the application's build enables time's `serde-human-readable` (then an RFC 3339 string;
//!   time 0.3.55 `src/serde/mod.rs` lines 360-385).
//! * Not covered: actix-session's `Signed` content security and any signed jar (HMAC-SHA256,
//!   `base64(mac) || plaintext`, no encryption), which [`LegacyKey::open`] refuses; tower-sessions'
//!   own private *id* cookie (`with_private`), whose session data lives in a server-side store.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hkdf::Hkdf;
use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde_json::Value;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The length of a `cookie::Key`: signing half, then encryption half.
pub const MASTER_KEY_LEN: usize = 64;
/// AES-256-GCM's nonce, the first bytes of a decoded value.
pub const NONCE_LEN: usize = 12;
/// AES-256-GCM's tag, the last bytes of a decoded value.
pub const TAG_LEN: usize = 16;
/// The longest cookie value [`LegacyKey::open`] looks at, as the `Cookie` header carries it.
pub const MAX_VALUE_LEN: usize = 4096;
/// The longest plaintext [`LegacyKey::open`] can return and `decode_state` accepts: the
/// bytes 4096 base64 characters decode to, less the nonce and the tag.
pub const MAX_PLAINTEXT: usize = MAX_VALUE_LEN / 4 * 3 - NONCE_LEN - TAG_LEN;
/// The most entries `decode_state` accepts.
pub const MAX_ENTRIES: usize = 256;
/// The longest key (bytes of UTF-8) `decode_state` accepts.
pub const MAX_KEY_LEN: usize = 256;
/// The deepest nesting of arrays and objects `decode_state` accepts in one value.
pub const MAX_DEPTH: usize = 64;

/// `cookie::Key::derive_from`'s HKDF info string.
const KEYS_INFO: &[u8] = b"COOKIE;SIGNED:HMAC-SHA256;PRIVATE:AEAD-AES-256-GCM";

/// The master key's base64: the standard alphabet, padding optional.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key an actix-session application gave its `SessionMiddleware`, ready to open its
/// private cookies: the AES-256-GCM cipher of the key's encryption half, initialised once.
///
/// The key bytes are copied only into `Zeroizing` buffers, and the cipher's key schedule is
/// wiped on drop (`aes-gcm`'s `zeroize` feature).
#[derive(Clone)]
pub struct LegacyKey {
    cipher: Box<Aes256Gcm>,
}

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacyKey(..)")
    }
}

/// Why a legacy key could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKeyError {
    /// Fewer bytes than the key needs: 64 for a `cookie::Key`, 32 for `Key::derive_from`'s
    /// master key (the length given).
    TooShort(usize),
    /// The text was not standard base64.
    BadBase64,
}

impl fmt::Display for LegacyKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LegacyKeyError::TooShort(n) => {
                write!(f, "the actix-session key is too short ({n} bytes)")
            }
            LegacyKeyError::BadBase64 => f.write_str("the actix-session key is not base64"),
        }
    }
}

impl std::error::Error for LegacyKeyError {}

/// Why a legacy cookie did not open or decode. None of them carries input data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyError {
    /// The value was longer than `MAX_VALUE_LEN`; nothing was decoded.
    TooLong,
    /// The value (after trimming, unquoting and percent-decoding) was not standard base64
    /// with canonical padding.
    BadBase64,
    /// The decoded value was shorter than a nonce and a tag.
    TooShort,
    /// The tag did not verify: another key, another cookie name, or a changed value.
    BadTag,
    /// The plaintext was not UTF-8 (the jar refuses such a cookie too).
    NotUtf8,
    /// The plaintext was longer than `MAX_PLAINTEXT`.
    TooLarge,
    /// The plaintext was not JSON.
    NotJson,
    /// The plaintext was JSON but not an object whose values are all strings.
    NotObjectOfStrings,
    /// A key appeared twice.
    DuplicateKey,
    /// More than `MAX_ENTRIES` entries.
    TooManyEntries,
    /// A key longer than `MAX_KEY_LEN` bytes.
    KeyTooLong,
    /// A value's text was not JSON.
    ValueNotJson,
    /// A value nested arrays or objects deeper than `MAX_DEPTH`.
    TooDeep,
}

impl fmt::Display for LegacyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LegacyError::TooLong => "the legacy cookie is longer than 4096 bytes",
            LegacyError::BadBase64 => "the legacy cookie is not standard base64",
            LegacyError::TooShort => "the legacy cookie is shorter than a nonce and a tag",
            LegacyError::BadTag => "the legacy cookie did not verify under the actix-session key",
            LegacyError::NotUtf8 => "the legacy cookie's plaintext is not UTF-8",
            LegacyError::TooLarge => "the legacy session is larger than a cookie can hold",
            LegacyError::NotJson => "the legacy session is not JSON",
            LegacyError::NotObjectOfStrings => {
                "the legacy session is not a JSON object of JSON texts"
            }
            LegacyError::DuplicateKey => "the legacy session has a key twice",
            LegacyError::TooManyEntries => "the legacy session has too many entries",
            LegacyError::KeyTooLong => "the legacy session has a key that is too long",
            LegacyError::ValueNotJson => "a legacy session value is not JSON",
            LegacyError::TooDeep => "a legacy session value is nested too deeply",
        })
    }
}

impl std::error::Error for LegacyError {}

impl LegacyKey {
    /// The key from the bytes given to `cookie::Key::from` (at least 64; as `Key::from` does,
    /// only the first 64 count, and of those the encryption half, bytes `32..64`).
    pub fn from_master(master: &[u8]) -> Result<LegacyKey, LegacyKeyError> {
        let Some(encryption) = master.get(MASTER_KEY_LEN / 2..MASTER_KEY_LEN) else {
            return Err(LegacyKeyError::TooShort(master.len()));
        };
        let mut raw = Zeroizing::new([0u8; 32]);
        raw.copy_from_slice(encryption);
        Ok(LegacyKey {
            cipher: Box::new(Aes256Gcm::new((&*raw).into())),
        })
    }

    /// [`from_master`](Self::from_master) of standard base64 text (padding optional,
    /// surrounding whitespace ignored), as `base64 < key.bin` prints it.
    pub fn from_base64(text: &str) -> Result<LegacyKey, LegacyKeyError> {
        let bytes = Zeroizing::new(
            KEY_BASE64
                .decode(text.trim())
                .map_err(|_| LegacyKeyError::BadBase64)?,
        );
        Self::from_master(&bytes)
    }

    /// The key of an application that called `cookie::Key::derive_from(master)` (at least 32
    /// bytes): HKDF-SHA256's expand step with `master` as the pseudorandom key, as cookie does.
    pub fn derive_from(master: &[u8]) -> Result<LegacyKey, LegacyKeyError> {
        let hk =
            Hkdf::<Sha256>::from_prk(master).map_err(|_| LegacyKeyError::TooShort(master.len()))?;
        let mut both = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        // 64 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail.
        if hk.expand(KEYS_INFO, both.as_mut_slice()).is_err() {
            unreachable!("HKDF-SHA256 can always expand 64 bytes");
        }
        Self::from_master(both.as_slice())
    }

    /// Opens the private-jar cookie `name=value`: `value` as the `Cookie` header carries it
    /// (percent-encoded or not, possibly quoted), `name` as the application configured it
    /// (the associated data). Returns the plaintext, which is UTF-8.
    pub fn open(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, LegacyError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(LegacyError::TooLong);
        }
        let text = percent_decode(unquote(value.trim_ascii()).trim_ascii());
        let mut data = STANDARD.decode(text).map_err(|_| LegacyError::BadBase64)?;
        let ct_len = data
            .len()
            .checked_sub(NONCE_LEN + TAG_LEN)
            .ok_or(LegacyError::TooShort)?;
        let (nonce, rest) = data
            .split_at_mut_checked(NONCE_LEN)
            .ok_or(LegacyError::TooShort)?;
        let (ciphertext, tag) = rest
            .split_at_mut_checked(ct_len)
            .ok_or(LegacyError::TooShort)?;
        let nonce = (&*nonce).try_into().map_err(|_| LegacyError::TooShort)?;
        let tag = (&*tag).try_into().map_err(|_| LegacyError::TooShort)?;
        self.cipher
            .decrypt_inout_detached(nonce, name.as_bytes(), ciphertext.into(), tag)
            .map_err(|_| LegacyError::BadTag)?;
        data.truncate(NONCE_LEN + ct_len);
        data.drain(..NONCE_LEN);
        if std::str::from_utf8(&data).is_err() {
            return Err(LegacyError::NotUtf8);
        }
        Ok(data)
    }
}

/// `"v"` is `v`: cookie 0.16 removes one pair of surrounding double quotes.
fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// Percent-decoding as `percent_encoding::percent_decode` does it: `%XY` with two hex digits
/// is that byte, any other `%` stays as it is.
fn percent_decode(value: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some((&b, tail)) = rest.split_first() {
        if let (b'%', [h, l, after @ ..]) = (b, tail)
            && let (Some(h), Some(l)) = (hex(*h), hex(*l))
        {
            out.push(h << 4 | l);
            rest = after;
            continue;
        }
        out.push(b);
        rest = tail;
    }
    out
}

/// The entries of an actix-session plaintext (a JSON object of JSON texts), each value parsed
/// from its text, in key order. Bounded as the module docs say.
pub fn decode_state(plain: &[u8]) -> Result<BTreeMap<String, Value>, LegacyError> {
    if plain.len() > MAX_PLAINTEXT {
        return Err(LegacyError::TooLarge);
    }
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(plain);
    let parsed = de
        .deserialize_map(StateVisitor {
            failure: &mut failure,
        })
        .and_then(|state| de.end().map(|()| state));
    match parsed {
        Ok(state) => Ok(state),
        // Our own checks say why; otherwise serde_json's category does.
        Err(e) => Err(failure.unwrap_or(match e.classify() {
            serde_json::error::Category::Data => LegacyError::NotObjectOfStrings,
            _ => LegacyError::NotJson,
        })),
    }
}

/// Reads the outer object entry by entry, checking the bounds before each allocation it
/// controls; a failure of ours is left in `failure` (serde's errors carry only text).
struct StateVisitor<'a> {
    failure: &'a mut Option<LegacyError>,
}

impl StateVisitor<'_> {
    fn fail<E: de::Error>(&mut self, e: LegacyError) -> E {
        *self.failure = Some(e);
        E::custom(e)
    }
}

impl<'de> Visitor<'de> for StateVisitor<'_> {
    type Value = BTreeMap<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object whose values are JSON texts")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut state = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if state.len() >= MAX_ENTRIES {
                return Err(self.fail(LegacyError::TooManyEntries));
            }
            if key.len() > MAX_KEY_LEN {
                return Err(self.fail(LegacyError::KeyTooLong));
            }
            if state.contains_key(&key) {
                return Err(self.fail(LegacyError::DuplicateKey));
            }
            let text = map.next_value::<String>()?;
            match parse_value(&text) {
                Ok(value) => state.insert(key, value),
                Err(e) => return Err(self.fail(e)),
            };
        }
        Ok(state)
    }
}

/// `Session::get`'s parse of one stored text, after a linear scan bounds its nesting.
fn parse_value(text: &str) -> Result<Value, LegacyError> {
    if nesting_exceeds(text.as_bytes(), MAX_DEPTH) {
        return Err(LegacyError::TooDeep);
    }
    serde_json::from_str(text).map_err(|_| LegacyError::ValueNotJson)
}

/// Whether `[`/`{` outside strings nest deeper than `max`. For any text serde_json parses (or
/// the prefix it reads before an error) this is exactly its recursion depth.
fn nesting_exceeds(text: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The key bytes 0, 1, ..., 63 (encryption half 32..64).
    fn master() -> Vec<u8> {
        (0..64).collect()
    }

    fn key() -> LegacyKey {
        LegacyKey::from_master(&master()).unwrap()
    }

    /// A `Set-Cookie: id=...` value written by actix-session 0.11 under `master()` for the
    /// login session (captured from `interop/`): percent-encoded (`%2F`, `%3D`; `+` as is).
    const ACTIX_LOGIN: &str = "NNKt2quB9nYB1llxLrw+jxYLbWtUxoBRv5ayyZFsnz3jLgXrMnyPVIzF0pPAj+C2\
        ZvGaU0SId1I+%2FBciMoRDRWjib+jiOczwEAne2RYLHfHcRRWerJezJ%2F3H2LAUiD+A64XpT0v8V9QQWehHa80P\
        BXU2M6%2FNkVh5ZPzkXUkECLCcwvB1slQAJdv+M9Z0yVyq2pTKBD4%3D";
    /// Its plaintext, as Python's `cryptography` AESGCM also opens it.
    const ACTIX_LOGIN_PLAIN: &str = r#"{"loginCount":"1","userId":"1","username":"\"admin\"","permissions":"[\"read\",\"write\",\"delete\"]","role":"\"admin\""}"#;

    /// Sealed by an independent implementation (Python `cryptography`'s AESGCM, key
    /// `master()[32..]`, nonce a0..ab, aad `id`), plain standard base64.
    const FIXED_NONCE: &str = "oKGio6SlpqeoqaqrBR7RR6Glyc6DEo+LBHFU0+Ias2ld2UMANbCX27ICwpFxCR+\
        WKouxFaaH8ddsKr+fEj4SQqunkkNTHv0e4q+OsTEIvP+D5kqKWGHBPe4x1UhB9hwKUEecmqa2E+gsIk49UTq7bM9\
        ofGAhDW25vziFjdjCBiK9wFDnIADfVjm5q8UY5jE5x+gcLME=";
    const FIXED_NONCE_PLAIN: &str = r#"{"userId":"1","username":"\"admin\"","role":"\"admin\"","permissions":"[\"read\",\"write\",\"delete\"]","loginCount":"1"}"#;

    /// Sealed the same way with the plaintext ff fe (not UTF-8).
    const NOT_UTF8: &str = "oKGio6SlpqeoqaqrgcLyyTD9PPuOhhd9flVK13os";

    /// `Key::derive_from([0x42; 32])` (HKDF-SHA256-Expand computed with Python's hmac), and a
    /// cookie `session` sealed under its encryption half by Python's AESGCM (nonce a0..ab).
    const DERIVED: &str = "fe287ef6cfb3de2f89debe71374b8ca6af053beeed565fea3192884aa3f05526\
        b5eadc7643b7a459bd9312a449b1655f4f65c214762f1d28bbafff9e9b8f7b5b";
    const DERIVED_COOKIE: &str = "oKGio6Slpqeoqaqr8uZP2UaAqEBAJ2dcmmjrT+hbSTs6tJYrP30XMQ==";

    fn login() -> BTreeMap<String, Value> {
        [
            ("userId", json!(1)),
            ("username", json!("admin")),
            ("role", json!("admin")),
            ("permissions", json!(["read", "write", "delete"])),
            ("loginCount", json!(1)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Seals like cookie's private jar, with a fixed nonce.
    fn seal(key: &[u8], name: &str, plain: &[u8]) -> String {
        let cipher = Aes256Gcm::new(key[32..64].try_into().unwrap());
        let nonce = [7u8; NONCE_LEN];
        let mut buf = plain.to_vec();
        let tag = cipher
            .encrypt_inout_detached((&nonce).into(), name.as_bytes(), buf.as_mut_slice().into())
            .unwrap();
        let mut data = nonce.to_vec();
        data.extend_from_slice(&buf);
        data.extend_from_slice(&tag);
        STANDARD.encode(data)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn known_answer_actix_session_cookie() {
        let plain = key().open("id", ACTIX_LOGIN.as_bytes()).unwrap();
        assert_eq!(plain, ACTIX_LOGIN_PLAIN.as_bytes());
        assert_eq!(decode_state(&plain).unwrap(), login());
        // As actix-web hands it over: percent-decoded.
        let decoded = ACTIX_LOGIN.replace("%2F", "/").replace("%3D", "=");
        assert_eq!(key().open("id", decoded.as_bytes()).unwrap(), plain);
    }

    #[test]
    fn known_answer_independent_implementation() {
        let plain = key().open("id", FIXED_NONCE.as_bytes()).unwrap();
        assert_eq!(plain, FIXED_NONCE_PLAIN.as_bytes());
        assert_eq!(decode_state(&plain).unwrap(), login());
        // Our sealing helper agrees with it given the same nonce.
        assert_eq!(seal(&master(), "id", &plain)[..16], *"BwcHBwcHBwcHBwcH");
        assert_eq!(
            key().open("id", NOT_UTF8.as_bytes()),
            Err(LegacyError::NotUtf8)
        );
    }

    #[test]
    fn known_answer_derived_key() {
        let derived = hex(DERIVED);
        let k = LegacyKey::derive_from(&[0x42; 32]).unwrap();
        assert_eq!(
            k.open("session", DERIVED_COOKIE.as_bytes()).unwrap(),
            br#"{"k":"true"}"#
        );
        let direct = LegacyKey::from_master(&derived).unwrap();
        assert_eq!(
            direct.open("session", DERIVED_COOKIE.as_bytes()).unwrap(),
            br#"{"k":"true"}"#
        );
        assert_eq!(
            LegacyKey::derive_from(&[0x42; 31]).unwrap_err(),
            LegacyKeyError::TooShort(31)
        );
    }

    #[test]
    fn the_key_is_the_encryption_half_of_the_first_64_bytes() {
        let value = seal(&master(), "id", b"{}");
        let mut signing_changed = master();
        signing_changed[0] ^= 1;
        let mut longer = master();
        longer.extend_from_slice(&[9; 64]);
        for m in [signing_changed, longer] {
            let k = LegacyKey::from_master(&m).unwrap();
            assert_eq!(k.open("id", value.as_bytes()).unwrap(), b"{}");
        }
        let mut encryption_changed = master();
        encryption_changed[63] ^= 1;
        let k = LegacyKey::from_master(&encryption_changed).unwrap();
        assert_eq!(k.open("id", value.as_bytes()), Err(LegacyError::BadTag));
        for n in [0, 32, 63] {
            assert_eq!(
                LegacyKey::from_master(&master()[..n]).unwrap_err(),
                LegacyKeyError::TooShort(n)
            );
        }
    }

    #[test]
    fn key_from_base64() {
        let b64 = STANDARD.encode(master());
        let value = seal(&master(), "id", b"{}");
        for text in [
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            format!(" {b64}\n"),
        ] {
            let k = LegacyKey::from_base64(&text).unwrap();
            assert_eq!(k.open("id", value.as_bytes()).unwrap(), b"{}");
        }
        assert_eq!(
            LegacyKey::from_base64("not base64!").unwrap_err(),
            LegacyKeyError::BadBase64
        );
        let url_safe = b64.replace('+', "-").replace('/', "_");
        assert_ne!(url_safe, b64);
        assert_eq!(
            LegacyKey::from_base64(&url_safe).unwrap_err(),
            LegacyKeyError::BadBase64
        );
        assert_eq!(
            LegacyKey::from_base64(&STANDARD.encode([1u8; 63])).unwrap_err(),
            LegacyKeyError::TooShort(63)
        );
        assert_eq!(format!("{:?}", key()), "LegacyKey(..)");
    }

    #[test]
    fn open_refuses_with_typed_errors() {
        let k = key();
        let good = seal(&master(), "id", b"[0]"); // 31 bytes: padded
        assert_eq!(k.open("id", good.as_bytes()).unwrap(), b"[0]");
        assert_eq!(k.open("ID", good.as_bytes()), Err(LegacyError::BadTag));
        // Strict base64: missing padding, another alphabet, non-zero trailing bits.
        let unpadded = good.trim_end_matches('=');
        assert_ne!(unpadded, good);
        assert_eq!(
            k.open("id", unpadded.as_bytes()),
            Err(LegacyError::BadBase64)
        );
        let url = good.replace('+', "-").replace('/', "_");
        if url != good {
            assert_eq!(k.open("id", url.as_bytes()), Err(LegacyError::BadBase64));
        }
        // 28 bytes open to the empty plaintext; 27 are too short.
        let empty = seal(&master(), "id", b"");
        assert_eq!(k.open("id", empty.as_bytes()).unwrap(), b"");
        let short = STANDARD.encode([0u8; NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(k.open("id", short.as_bytes()), Err(LegacyError::TooShort));
        // Every byte flipped.
        for i in 0..good.len() {
            let mut v = good.clone().into_bytes();
            v[i] ^= 1;
            assert!(k.open("id", &v).is_err(), "{i}");
        }
    }

    #[test]
    fn open_takes_the_value_as_the_cookie_header_carries_it() {
        let k = key();
        let good = seal(&master(), "id", b"{\"a\":\"1\"}");
        let encoded = good
            .replace('/', "%2F")
            .replace('=', "%3D")
            .replace('+', "%2B");
        let lower = encoded.replace("%2F", "%2f");
        for v in [
            good.clone(),
            encoded,
            lower,
            format!("\"{good}\""),
            format!(" \t\"{good}\" "),
        ] {
            assert_eq!(k.open("id", v.as_bytes()).unwrap(), b"{\"a\":\"1\"}", "{v}");
        }
        // Not an escape: `%` stays, and base64 refuses it.
        assert_eq!(
            k.open("id", format!("{good}%").as_bytes()),
            Err(LegacyError::BadBase64)
        );
        assert_eq!(percent_decode(b"%2f%2F%zz%4"), b"//%zz%4");
        assert_eq!(unquote(b"\""), b"\"");
        assert_eq!(unquote(b"\"\""), b"");
    }

    #[test]
    fn open_refuses_values_over_4096_bytes_before_decoding() {
        let k = key();
        // The largest plaintext a 4096-byte value holds opens.
        let plain = vec![b'x'; MAX_PLAINTEXT];
        let value = seal(&master(), "id", &plain);
        assert_eq!(value.len(), MAX_VALUE_LEN);
        assert_eq!(k.open("id", value.as_bytes()).unwrap(), plain);
        // One byte more, even a space that trimming would drop, is refused.
        let longer = format!("{value} ");
        assert_eq!(k.open("id", longer.as_bytes()), Err(LegacyError::TooLong));
        assert_eq!(
            k.open("id", &vec![b'!'; MAX_VALUE_LEN + 1]),
            Err(LegacyError::TooLong)
        );
        assert_eq!(MAX_PLAINTEXT, 3044);
    }

    #[test]
    fn decode_state_reads_each_value_from_its_json_text() {
        let plain = br#"{"n":"null","b":"true","i":"-3","u":"18446744073709551615","f":"0.5","s":"\"x\\\"y\"","a":"[1,[2]]","o":"{\"k\":{}}"}"#;
        let state = decode_state(plain).unwrap();
        assert_eq!(state["n"], Value::Null);
        assert_eq!(state["b"], json!(true));
        assert_eq!(state["i"], json!(-3));
        assert_eq!(state["u"].as_u64(), Some(u64::MAX));
        assert_eq!(state["f"], json!(0.5));
        assert_eq!(state["s"], json!("x\"y"));
        assert_eq!(state["a"], json!([1, [2]]));
        assert_eq!(state["o"], json!({"k": {}}));
        // In key order, whatever the cookie's order.
        let keys: Vec<_> = state.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "b", "f", "i", "n", "o", "s", "u"]);
        assert!(decode_state(b" {} ").unwrap().is_empty());
    }

    #[test]
    fn decode_state_refuses_with_typed_errors() {
        use LegacyError::*;
        let cases: &[(&[u8], LegacyError)] = &[
            (b"", NotJson),
            (b"{", NotJson),
            (b"{\"a\":\"1\"", NotJson),
            (b"{\"a\":\"1\"} x", NotJson),
            (b"{a:\"1\"}", NotJson),
            (b"\xff", NotJson),
            (b"{\"a\":\"\xff\"}", NotJson),
            (b"[]", NotObjectOfStrings),
            (b"\"{}\"", NotObjectOfStrings),
            (b"null", NotObjectOfStrings),
            (b"{\"a\":1}", NotObjectOfStrings),
            (b"{\"a\":{\"b\":\"1\"}}", NotObjectOfStrings),
            (b"{\"a\":[\"1\"]}", NotObjectOfStrings),
            (b"{\"a\":\"1\",\"a\":\"2\"}", DuplicateKey),
            (b"{\"a\":\"\"}", ValueNotJson),
            (b"{\"a\":\"admin\"}", ValueNotJson),
            (b"{\"a\":\"1 2\"}", ValueNotJson),
            (b"{\"a\":\"[\"}", ValueNotJson),
        ];
        for (plain, want) in cases {
            assert_eq!(
                decode_state(plain),
                Err(*want),
                "{}",
                String::from_utf8_lossy(plain)
            );
        }
    }

    #[test]
    fn decode_state_bounds() {
        // Size.
        let over = format!("{{\"a\":\"\\\"{}\\\"\"}}", "x".repeat(MAX_PLAINTEXT));
        assert_eq!(decode_state(over.as_bytes()), Err(LegacyError::TooLarge));
        let pad = MAX_PLAINTEXT - r#"{"a":"\"\""}"#.len();
        let exact = format!("{{\"a\":\"\\\"{}\\\"\"}}", "x".repeat(pad));
        assert_eq!(exact.len(), MAX_PLAINTEXT);
        assert_eq!(decode_state(exact.as_bytes()).unwrap().len(), 1);

        // Entries.
        let entries = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!("\"{i}\":\"0\"")).collect();
            format!("{{{}}}", body.join(","))
        };
        assert_eq!(
            decode_state(entries(MAX_ENTRIES).as_bytes()).unwrap().len(),
            MAX_ENTRIES
        );
        assert_eq!(
            decode_state(entries(MAX_ENTRIES + 1).as_bytes()),
            Err(LegacyError::TooManyEntries)
        );

        // Key length.
        let keyed = |n: usize| format!("{{\"{}\":\"0\"}}", "k".repeat(n));
        assert!(decode_state(keyed(MAX_KEY_LEN).as_bytes()).is_ok());
        assert_eq!(
            decode_state(keyed(MAX_KEY_LEN + 1).as_bytes()),
            Err(LegacyError::KeyTooLong)
        );

        // Nesting: arrays and objects count, brackets inside strings do not.
        let nested = |n: usize| {
            let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
            format!("{{\"a\":\"{text}\"}}")
        };
        assert!(decode_state(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(
            decode_state(nested(MAX_DEPTH + 1).as_bytes()),
            Err(LegacyError::TooDeep)
        );
        // Unbalanced: refused by the scan before serde_json reads it.
        let open_only = format!("{{\"a\":\"{}\"}}", "[".repeat(2000));
        assert_eq!(
            decode_state(open_only.as_bytes()),
            Err(LegacyError::TooDeep)
        );
        let objects = format!(
            "{{\"a\":\"{}{}\"}}",
            "{\\\"k\\\":".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(decode_state(objects.as_bytes()), Err(LegacyError::TooDeep));
        let in_strings = format!("{{\"a\":\"[\\\"{}\\\\\\\"\\\"]\"}}", "[{".repeat(500));
        assert_eq!(
            decode_state(in_strings.as_bytes()).unwrap()["a"],
            json!([format!("{}\"", "[{".repeat(500))])
        );
        assert!(!nesting_exceeds(b"]]]]", 0));
        assert!(nesting_exceeds(b"\"\\\\\"[", 0));
    }

    #[test]
    fn errors_display_without_input() {
        let all = [
            LegacyError::TooLong,
            LegacyError::BadBase64,
            LegacyError::TooShort,
            LegacyError::BadTag,
            LegacyError::NotUtf8,
            LegacyError::TooLarge,
            LegacyError::NotJson,
            LegacyError::NotObjectOfStrings,
            LegacyError::DuplicateKey,
            LegacyError::TooManyEntries,
            LegacyError::KeyTooLong,
            LegacyError::ValueNotJson,
            LegacyError::TooDeep,
        ];
        for e in all {
            assert!(e.to_string().contains("legacy"), "{e}");
        }
        assert!(LegacyKeyError::TooShort(3).to_string().contains('3'));
    }
}
