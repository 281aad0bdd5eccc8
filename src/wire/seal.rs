//! The sealed wire format, version 1 (the bytes are documented in `FORMAT.md`).
//!
//! ```text
//! value     = base64url-nopad( header || ciphertext || tag )
//! header    = version (1 = 0x01) || algorithm (1) || key id (4) || nonce (24 or 12)
//! aad       = header || cookie name
//! plaintext = flags (1) || body                      flags bit 0: body is LZ4-compressed
//! body      = session bytes                          (flags = 0x00)
//!           | varint(uncompressed len) || lz4 block  (flags = 0x01)
//! ```
//!
//! This layer knows nothing of sessions: it seals and opens opaque bodies. Every failure to
//! open is a [`Rejection`]; opening does work linear in the input and allocates at most the
//! decoded value plus a decompression buffer of at most `MAX_PLAINTEXT` bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::body::{COMPRESS_MIN, Compression, compress_into, decode_plaintext_at};
use crate::error::{Error, Rejection};
use crate::keys::{Algorithm, Key, KeyId, KeysAt};

/// The format version this build writes (and the only one it opens).
pub const VERSION: u8 = 1;

const FIXED_HEADER: usize = 6; // version, algorithm, key id

const TAG_LEN: usize = 16;

/// A successfully opened value.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The body, decompressed.
    pub body: Vec<u8>,
    /// True when the key that opened it is the one that seals now (or, with epoch keys, the
    /// next epoch's, which a re-seal would only move backwards).
    pub primary: bool,
    /// The algorithm it was sealed with.
    pub algorithm: Algorithm,
    /// The id of the key that opened it.
    pub key_id: KeyId,
    /// The value's nonce: what a refresh stamp is bound to.
    pub nonce: Binding,
}

/// A sealed value's nonce, kept to bind a refresh stamp to it (see FORMAT.md, *Refresh
/// stamps*): at most 24 bytes, on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Binding {
    bytes: [u8; 24],
    len: usize,
}

impl Binding {
    fn new(nonce: &[u8]) -> Binding {
        let mut bytes = [0u8; 24];
        let len = nonce.len().min(24);
        bytes[..len].copy_from_slice(&nonce[..len]);
        Binding { bytes, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// The header length for `algorithm`.
pub(crate) const fn header_len(algorithm: Algorithm) -> usize {
    FIXED_HEADER + algorithm.nonce_len()
}

/// Seals `body` for cookie `name` under the sealing key with a fresh nonce: random bytes from
/// the operating system's generator at every seal (fails only if that generator does), of
/// which XAES-256-GCM keeps the first twelve for a bounded number of seals (`Key::fresh_nonce`).
pub(crate) fn seal(
    keys: &KeysAt<'_>,
    algorithm: Algorithm,
    name: &str,
    binding: &[u8],
    body: &[u8],
    compression: Compression,
) -> Result<String, Error> {
    let key = keys.sealing(algorithm);
    let mut nonce = [0u8; 24];
    let nonce = &mut nonce[..algorithm.nonce_len()];
    key.fresh_nonce(nonce)?;
    Ok(seal_with_nonce(
        key,
        name,
        binding,
        body,
        compression,
        nonce,
    ))
}

/// Seals with a given nonce. Only known-answer tests pass a fixed one: a repeated nonce
/// under one key breaks both confidentiality and authenticity.
pub(crate) fn seal_with_nonce(
    key: &Key,
    name: &str,
    binding: &[u8],
    body: &[u8],
    compression: Compression,
    nonce: &[u8],
) -> String {
    let algorithm = key.algorithm();
    let hlen = header_len(algorithm);
    let mut out = Vec::with_capacity(hlen + 1 + body.len() + TAG_LEN + 8);
    out.push(VERSION);
    out.push(algorithm.id());
    out.extend_from_slice(key.id().as_bytes());
    out.extend_from_slice(nonce);
    debug_assert_eq!(out.len(), hlen);
    out.push(0); // flags, set below
    if !(compression == Compression::Auto
        && body.len() >= COMPRESS_MIN
        && compress_into(body, &mut out, hlen))
    {
        out.truncate(hlen + 1);
        out.extend_from_slice(body);
    }

    let (head, plain) = out.split_at_mut(hlen);
    let aad = Aad::new(head, name, binding);
    let tag = key.seal_detached(&head[FIXED_HEADER..], aad.as_bytes(), plain);
    out.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(&out)
}

/// The associated data `header || name || binding`, on the stack for every realistic cookie
/// name so that sealing and opening allocate nothing for it. `binding` is empty for a
/// session value, and the session value's nonce for a refresh stamp.
enum Aad {
    Inline([u8; AAD_INLINE], usize),
    Heap(Vec<u8>),
}

const AAD_INLINE: usize = 30 + 98 + 24; // the longest header, a generous name, a binding

impl Aad {
    fn new(header: &[u8], name: &str, binding: &[u8]) -> Aad {
        let len = header.len() + name.len() + binding.len();
        if len <= AAD_INLINE {
            let mut buf = [0u8; AAD_INLINE];
            let (h, rest) = buf.split_at_mut(header.len());
            h.copy_from_slice(header);
            let (n, b) = rest.split_at_mut(name.len());
            n.copy_from_slice(name.as_bytes());
            b[..binding.len()].copy_from_slice(binding);
            Aad::Inline(buf, len)
        } else {
            let mut v = Vec::with_capacity(len);
            v.extend_from_slice(header);
            v.extend_from_slice(name.as_bytes());
            v.extend_from_slice(binding);
            Aad::Heap(v)
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Aad::Inline(buf, len) => buf.get(..*len).unwrap_or_default(),
            Aad::Heap(v) => v,
        }
    }
}

/// How many characters of a sealed value encode its version, algorithm and key id: the six
/// fixed header bytes, with no padding bits.
pub(crate) const KEY_PREFIX_LEN: usize = 8;

/// The first [`KEY_PREFIX_LEN`] characters of every value sealed with `algorithm` under the
/// key `id`: a value starts with them exactly when [`peek_key`] reads back this pair.
pub(crate) fn key_prefix(algorithm: Algorithm, id: KeyId) -> [u8; KEY_PREFIX_LEN] {
    let [a, b, c, d] = *id.as_bytes();
    let bits = u64::from_be_bytes([0, 0, VERSION, algorithm.id(), a, b, c, d]);
    let mut out = [0u8; KEY_PREFIX_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        let digit = (bits >> (6 * (KEY_PREFIX_LEN - 1 - i))) & 63;
        *o = BASE64URL_ALPHABET[digit as usize];
    }
    out
}

/// The base64url alphabet, by digit value.
const BASE64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Reads the algorithm and key id from the first 8 characters of a sealed value without
/// decoding the rest or decrypting anything. `None` when the prefix is not a v1 header.
///
/// Runs on every request that carries a session cookie, touched or not, so it decodes the
/// eight characters (six bytes, no padding bits) by hand rather than through the base64
/// engine, which costs several times more for so short an input.
pub(crate) fn peek_key(value: &[u8]) -> Option<(Algorithm, KeyId)> {
    let prefix = value.get(..KEY_PREFIX_LEN)?;
    let mut bits = 0u64;
    for &c in prefix {
        bits = bits << 6 | u64::from(base64url_digit(c)?);
    }
    let [_, _, version, alg, a, b, c, d] = bits.to_be_bytes();
    if version != VERSION {
        return None;
    }
    Some((Algorithm::from_id(alg)?, KeyId([a, b, c, d])))
}

/// The value of one base64url character.
fn base64url_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Opens a sealed value for cookie `name`. `max_len` bounds the encoded value's length.
pub(crate) fn open(
    keys: &KeysAt<'_>,
    name: &str,
    binding: &[u8],
    value: &str,
    max_len: usize,
) -> Result<Opened, Rejection> {
    if value.len() > max_len {
        return Err(Rejection::TooLong);
    }
    let mut raw = URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|_| Rejection::BadBase64)?;
    let (version, alg_id) = match raw.as_slice() {
        [v, a, ..] => (*v, *a),
        _ => return Err(Rejection::TooShort),
    };
    if version != VERSION {
        return Err(Rejection::UnknownVersion(version));
    }
    let algorithm = Algorithm::from_id(alg_id).ok_or(Rejection::UnknownAlgorithm(alg_id))?;
    let hlen = header_len(algorithm);
    // The flags byte is inside the ciphertext, so a sealed value has at least one byte there.
    if raw.len() < hlen + 1 + TAG_LEN {
        return Err(Rejection::TooShort);
    }
    let id = match raw.get(2..6) {
        Some(&[a, b, c, d]) => KeyId([a, b, c, d]),
        _ => return Err(Rejection::TooShort),
    };

    let aad = Aad::new(&raw[..hlen], name, binding);
    let nonce = Binding::new(raw.get(FIXED_HEADER..hlen).unwrap_or_default());
    let ct_end = raw.len() - TAG_LEN;

    let mut found_key = false;
    let mut primary = None;
    for (key, is_primary) in keys.candidates(algorithm, id) {
        found_key = true;
        let (head, rest) = raw.split_at_mut(hlen);
        let (ct, tag) = rest.split_at_mut(ct_end - hlen);
        // A failed open may leave `ct` garbled, so only one candidate can be tried from the
        // same buffer; on a (2^-32) id collision we restore it from the encoded value.
        if key
            .open_detached(&head[FIXED_HEADER..], aad.as_bytes(), ct, tag)
            .is_ok()
        {
            primary = Some(is_primary);
            break;
        }
        raw = URL_SAFE_NO_PAD
            .decode(value.as_bytes())
            .map_err(|_| Rejection::BadBase64)?;
    }
    let primary = match primary {
        Some(p) => p,
        None if found_key => return Err(Rejection::BadTag),
        None if keys.is_future_key(algorithm, id) => return Err(Rejection::FutureKey),
        None => return Err(Rejection::UnknownKey),
    };
    raw.truncate(ct_end);
    let body = decode_plaintext_at(raw, hlen)?;
    Ok(Opened {
        body,
        primary,
        algorithm,
        key_id: id,
        nonce,
    })
}

#[cfg(test)]
mod tests;
