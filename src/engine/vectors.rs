//! The known-answer vectors of FORMAT.md, stored in `tests/data/vectors/*.json`: each is
//! sealed here byte for byte with its fixed nonce (only this crate's internals can pass one),
//! and `tests/core.rs` opens each through the public API.

use crate::error::Rejection;
use crate::keys::{Algorithm, Key, Keyring, Keys, Secret};
use crate::state::SessionState;
use crate::wire::body::{Compression, write_varint};
use crate::wire::seal::{open, seal_with_nonce};
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
        // The crate's own entries (vector 7): queued flashes and the CSRF secret.
        for f in v["flashes"].as_array().into_iter().flatten() {
            let level: crate::FlashLevel = serde_json::from_value(f["level"].clone()).unwrap();
            s.flash(level, f["text"].as_str().unwrap()).unwrap();
        }
        if let Some(secret) = v["csrf_secret"].as_str() {
            s.set_csrf_secret(hex(secret).try_into().unwrap());
        }
        // The extension trailer's fields (vector 5), when the vector sets them.
        if let Some(schema) = v["schema"].as_u64() {
            s.set_schema(schema as u32);
        }
        if let Some(p) = v["persistent"].as_bool() {
            s.set_persistent(p);
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
