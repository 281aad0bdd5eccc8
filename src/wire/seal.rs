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

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::body::{compress_into, decode_plaintext_at, Compression, COMPRESS_MIN};
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
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Keyring, Keys, Secret};

    fn keys(b: u8) -> Keys {
        Keys::Ring(Keyring::new(Secret::from_bytes(&[b; 32]).unwrap()))
    }

    /// `peek_key` through the base64 engine, as it was written before the hand decoder.
    fn peek_key_reference(value: &str) -> Option<(Algorithm, KeyId)> {
        let prefix = value.as_bytes().get(..8)?;
        let mut head = [0u8; 6];
        match URL_SAFE_NO_PAD.decode_slice(prefix, &mut head) {
            Ok(6) if head[0] == VERSION => {
                let alg = Algorithm::from_id(head[1])?;
                Some((alg, KeyId([head[2], head[3], head[4], head[5]])))
            }
            _ => None,
        }
    }

    #[test]
    fn peek_key_agrees_with_the_base64_engine() {
        let k = keys(3);
        let at = k.at(0, std::time::Duration::ZERO);
        let mut values: Vec<String> = Algorithm::ALL
            .iter()
            .map(|&alg| seal(&at, alg, "s", &[], b"x", Compression::Off).unwrap())
            .collect();
        values.extend(
            [
                "", "AQ", "AQMAAAA", "AQMAAAAA", "AgMAAAAA", "AQkAAAAA", "AQMA+AAA", "AQMA/AAA",
            ]
            .map(String::from),
        );
        values.push("AQMAAA\u{e9}A".into());
        for v in values.clone() {
            for i in 0..v.len().min(8) {
                for c in ["-", "_", "=", ".", "~", "A", "z", "9"] {
                    if v.is_char_boundary(i) && v.is_char_boundary(i + 1) {
                        values.push(format!("{}{c}{}", &v[..i], &v[i + 1..]));
                    }
                }
            }
        }
        for v in &values {
            assert_eq!(peek_key(v.as_bytes()), peek_key_reference(v), "{v:?}");
            // The precomputed prefix matches exactly the values that peek as its pair.
            if let Some((alg, id)) = peek_key(v.as_bytes()) {
                assert_eq!(
                    &key_prefix(alg, id)[..],
                    &v.as_bytes()[..KEY_PREFIX_LEN],
                    "{v:?}"
                );
            }
        }
        for &alg in &Algorithm::ALL {
            let id = KeyId([0xff, 0x00, 0x7e, 0x81]);
            let prefix = key_prefix(alg, id);
            assert_eq!(peek_key(&prefix), Some((alg, id)));
        }
        assert!(values.iter().any(|v| peek_key(v.as_bytes()).is_some()));
    }

    #[test]
    fn seal_open_both_algorithms() {
        let k = keys(1);
        let at = k.at(0, std::time::Duration::ZERO);
        for alg in Algorithm::ALL {
            for body in [&b""[..], b"x", &[7u8; 5000]] {
                let v = seal(&at, alg, "s", &[], body, Compression::Auto).unwrap();
                assert_eq!(peek_key(v.as_bytes()), Some((alg, at.sealing(alg).id())));
                let o = open(&at, "s", &[], &v, usize::MAX).unwrap();
                assert_eq!(o.body, body);
                assert!(o.primary);
            }
        }
    }

    #[test]
    fn compression_only_when_smaller() {
        let k = keys(1);
        let at = k.at(0, std::time::Duration::ZERO);
        let alg = Algorithm::XChaCha20Poly1305;
        let overhead = header_len(alg) + 1 + TAG_LEN;
        let b64 = |n: usize| n.div_ceil(3) * 4 - (3 - n % 3) % 3;

        let repetitive = vec![b'a'; 2000];
        let v = seal(&at, alg, "s", &[], &repetitive, Compression::Auto).unwrap();
        assert!(v.len() < b64(overhead + 200), "compressed: {}", v.len());
        let v = seal(&at, alg, "s", &[], &repetitive, Compression::Off).unwrap();
        assert_eq!(v.len(), b64(overhead + 2000));

        let mut random = vec![0u8; 2000];
        crate::random::fill(&mut random).unwrap();
        let v = seal(&at, alg, "s", &[], &random, Compression::Auto).unwrap();
        assert_eq!(v.len(), b64(overhead + 2000), "incompressible stays plain");

        let small = vec![b'a'; COMPRESS_MIN - 1];
        let v = seal(&at, alg, "s", &[], &small, Compression::Auto).unwrap();
        assert_eq!(v.len(), b64(overhead + small.len()), "small stays plain");
    }

    #[test]
    fn header_failures_are_typed() {
        let k = keys(1);
        let at = k.at(0, std::time::Duration::ZERO);
        assert_eq!(
            open(&at, "s", &[], "", 99).unwrap_err(),
            Rejection::TooShort
        );
        assert_eq!(
            open(&at, "s", &[], "!!", 99).unwrap_err(),
            Rejection::BadBase64
        );
        assert_eq!(
            open(&at, "s", &[], "AAAA", 99).unwrap_err(),
            Rejection::UnknownVersion(0)
        );
        assert_eq!(
            open(&at, "s", &[], "AQkA", 99).unwrap_err(),
            Rejection::UnknownAlgorithm(9)
        );
        assert_eq!(
            open(&at, "s", &[], "AQEA", 99).unwrap_err(),
            Rejection::TooShort
        );
        let v = seal(
            &at,
            Algorithm::Aes256Gcm,
            "s",
            &[],
            b"hi",
            Compression::Auto,
        )
        .unwrap();
        assert_eq!(
            open(&at, "s", &[], &v, v.len() - 1).unwrap_err(),
            Rejection::TooLong
        );
        assert_eq!(open(&at, "t", &[], &v, 999).unwrap_err(), Rejection::BadTag);
        let other = keys(2);
        assert_eq!(
            open(&other.at(0, std::time::Duration::ZERO), "s", &[], &v, 999).unwrap_err(),
            Rejection::UnknownKey
        );
    }
}

/// The known-answer vectors of FORMAT.md, stored in `tests/data/vectors/*.json`: each is
/// sealed here byte for byte with its fixed nonce (only this crate's internals can pass one),
/// and `tests/core.rs` opens each through the public API.
#[cfg(test)]
mod vectors {
    use super::*;
    use crate::keys::{Keyring, Keys, Secret};
    use crate::state::SessionState;
    use crate::wire::body::write_varint;
    use serde_json::Value;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn field<'a>(v: &'a Value, name: &str) -> &'a str {
        v[name]
            .as_str()
            .unwrap_or_else(|| panic!("vector lacks {name}"))
    }

    fn vectors() -> Vec<Value> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// FORMAT.md's refresh-stamp vector: a stamp for vector 4's value, refreshed at
    /// 1,800,000,100, sealed with the nonce `60 61 … 77`.
    pub(crate) const STAMP_VECTOR: &str =
        "AQMoLm5kYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ35yZXhobANQHt0yXK77oNhZQpfpTEWEI";

    #[test]
    fn refresh_stamp_vector_seals_byte_exact() {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/vectors/vector4.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let secret = hex(field(&v, "secret"));
        let keys = Keys::Ring(Keyring::new(Secret::from_bytes(&secret).unwrap()));
        let at = keys.at(0, std::time::Duration::ZERO);
        let key = at.sealing(Algorithm::XAes256Gcm);
        // postcard of (refreshed_at, validated_at): varint 1800000100, varint 0.
        let mut body = Vec::new();
        write_varint(&mut body, 1_800_000_100);
        write_varint(&mut body, 0);
        let binding = hex(field(&v, "nonce"));
        let nonce: Vec<u8> = (0x60..0x78).collect();
        let stamp = seal_with_nonce(key, "session.t", &binding, &body, Compression::Off, &nonce);
        assert_eq!(stamp, STAMP_VECTOR);
        let format_md =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/FORMAT.md")).unwrap();
        assert!(
            format_md.contains(STAMP_VECTOR),
            "FORMAT.md quotes the stamp vector"
        );
        // It opens only for the value it is bound to.
        let o = open(&at, "session.t", &binding, &stamp, 128).unwrap();
        assert_eq!(o.body, body);
        assert_eq!(
            open(&at, "session.t", &[0u8; 24], &stamp, 128).unwrap_err(),
            Rejection::BadTag
        );
    }

    #[test]
    fn known_answer_vectors_seal_byte_exact() {
        let all = vectors();
        assert!(all.len() >= 5, "vectors 1-5 at least");
        for v in all {
            let n = &v["vector"];
            let alg: Algorithm = field(&v, "algorithm").parse().unwrap();
            let secret = hex(field(&v, "secret"));
            // Key derivation: HKDF-SHA256 as FORMAT.md spells it, and the key id from it.
            let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"sealed-session"), &secret);
            let mut raw = [0u8; 32];
            let info = format!("sealed-session/v1/session-cookie/{}", alg.name());
            hk.expand(info.as_bytes(), &mut raw).unwrap();
            assert_eq!(raw.to_vec(), hex(field(&v, "key")), "vector {n}: key");
            let keys = Keys::Ring(Keyring::new(Secret::from_bytes(&secret).unwrap()));
            let at = keys.at(0, std::time::Duration::ZERO);
            let key = at.sealing(alg);
            assert_eq!(
                key.id().to_string(),
                field(&v, "key_id"),
                "vector {n}: key id"
            );
            assert_eq!(Key::from_raw(alg, &raw).id(), key.id());

            // The session bytes of the stated values and timestamps.
            let mut s = SessionState::new();
            for (k, value) in v["values"].as_object().unwrap() {
                match value {
                    Value::Number(x) => s.insert(k, &x.as_u64().unwrap()),
                    Value::String(x) => s.insert(k, x),
                    Value::Array(xs) => {
                        let xs: Vec<&str> = xs.iter().map(|x| x.as_str().unwrap()).collect();
                        s.insert(k, &xs)
                    }
                    other => panic!("vector {n}: unsupported value {other}"),
                }
                .unwrap();
            }
            // The extension trailer's fields (vector 5), when the vector sets them.
            if let Some(schema) = v["schema"].as_u64() {
                s.set_schema(schema as u32);
            }
            if v["persistent"] == Value::Bool(false) {
                s.set_persistent(false);
            }
            if let Some(at) = v["validated_at"].as_u64() {
                s.mark_validated(at);
            }
            assert_eq!(v["created_at"], v["refreshed_at"]);
            let body = s.encode_at(v["created_at"].as_u64().unwrap()).unwrap();
            assert_eq!(body, hex(field(&v, "session_bytes")), "vector {n}: body");

            let compression = match field(&v, "compression") {
                "auto" => Compression::Auto,
                "off" => Compression::Off,
                other => panic!("vector {n}: compression {other}"),
            };
            let nonce = hex(field(&v, "nonce"));
            assert_eq!(nonce.len(), alg.nonce_len());
            let sealed = seal_with_nonce(
                key,
                field(&v, "cookie_name"),
                &[],
                &body,
                compression,
                &nonce,
            );
            assert_eq!(
                sealed,
                field(&v, "cookie_value"),
                "vector {n}: cookie value"
            );
        }
    }
}
