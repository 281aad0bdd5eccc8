//! Target `legacy_cookie`: the actix-session importer's decoder (`src/import/jar.rs` of the
//! library, feature `actix-session-import`), which reads cookies another crate wrote.

use std::collections::BTreeMap;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::Aes256Gcm;
use base64::Engine as _;
use serde_json::Value;

use sealed_session::internals::{
    legacy_decode_state, legacy_key, legacy_open, LegacyError, LegacyKey, LEGACY_MAX_DEPTH,
    LEGACY_MAX_ENTRIES, LEGACY_MAX_KEY_LEN, LEGACY_MAX_PLAINTEXT, LEGACY_MAX_VALUE_LEN,
};
use sealed_session::{Keyring, SessionBuilder, SessionEngine};

/// The key the legacy seeds were sealed under: the actix-session app's `cookie::Key` of the
/// bytes 0, 1, ..., 63 (as in `interop/`).
pub const LEGACY_MASTER: [u8; 64] = {
    let mut k = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

/// actix-session's default cookie name, the associated data of every legacy seed.
pub const LEGACY_NAME: &str = "id";

/// Mode of a `legacy_cookie` input (its first byte, low two bits): the rest is a cookie value.
pub const LEGACY_OPEN: u8 = 0;
/// The rest is a plaintext for `decode_state`.
pub const LEGACY_STATE: u8 = 1;
/// The rest is a plaintext that the harness seals as cookie's private jar would, then opens.
pub const LEGACY_SEAL: u8 = 2;

fn key() -> &'static LegacyKey {
    static KEY: std::sync::OnceLock<LegacyKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| match legacy_key(&LEGACY_MASTER) {
        Ok(k) => k,
        Err(e) => panic!("a 64-byte key is a legacy key: {e}"),
    })
}

/// `value` sealed as cookie's `PrivateJar` seals it (nonce || ciphertext || tag, standard
/// base64) under [`LEGACY_MASTER`]'s encryption half, with a nonce made from `nonce_seed`.
pub fn legacy_seal(name: &str, plain: &[u8], nonce_seed: u8) -> String {
    let cipher = match Aes256Gcm::new_from_slice(&LEGACY_MASTER[32..]) {
        Ok(c) => c,
        Err(e) => panic!("32 bytes are an AES-256 key: {e}"),
    };
    let nonce = [nonce_seed; 12];
    let mut buf = plain.to_vec();
    let tag = match cipher.encrypt_inout_detached(
        (&nonce).into(),
        name.as_bytes(),
        buf.as_mut_slice().into(),
    ) {
        Ok(t) => t,
        Err(e) => panic!("AES-GCM seals a cookie-sized buffer: {e}"),
    };
    let mut data = nonce.to_vec();
    data.extend_from_slice(&buf);
    data.extend_from_slice(&tag);
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Target `legacy_cookie`. `data[0] & 3` picks the mode:
///
/// * [`LEGACY_OPEN`] (and 3): the rest is a cookie value, opened under the seeds' key as `id`;
/// * [`LEGACY_STATE`]: the rest is a plaintext for `decode_state` (random bytes never pass
///   the tag, so this is how the fuzzer reaches the JSON reader);
/// * [`LEGACY_SEAL`]: the rest is sealed as the jar would, written in the form `data[0]`'s
///   bits 2-3 pick (as is, percent-encoded as actix-session writes it, quoted, in spaces),
///   and must open to exactly itself (or `TooLong` past 4096 bytes, `NotUtf8`).
///
/// Whatever opens is decoded; whatever decodes is within the bounds and decodes the same
/// after re-encoding as actix-session would.
pub fn legacy_cookie(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    match first & 3 {
        LEGACY_STATE => check_state(rest),
        LEGACY_SEAL => {
            let sealed = legacy_seal(LEGACY_NAME, rest, first);
            let value = match (first >> 2) & 3 {
                0 => sealed,
                1 => sealed.replace('/', "%2F").replace('=', "%3D"),
                2 => format!("\"{sealed}\""),
                _ => format!(" {sealed}\t"),
            };
            let opened = legacy_open(key(), LEGACY_NAME, value.as_bytes());
            if value.len() > LEGACY_MAX_VALUE_LEN {
                assert_eq!(opened, Err(LegacyError::TooLong));
                return;
            }
            assert_eq!(
                legacy_open(key(), "ID", value.as_bytes()),
                Err(LegacyError::BadTag),
                "the name is the associated data"
            );
            match std::str::from_utf8(rest) {
                Ok(_) => assert_eq!(opened.as_deref(), Ok(rest), "open(seal(p)) == p"),
                Err(_) => assert_eq!(opened, Err(LegacyError::NotUtf8)),
            }
            check_state(rest);
            check_import(value.as_bytes());
        }
        _ => {
            check_import(rest);
            if let Ok(plain) = legacy_open(key(), LEGACY_NAME, rest) {
                assert!(rest.len() <= LEGACY_MAX_VALUE_LEN);
                assert!(plain.len() <= LEGACY_MAX_PLAINTEXT);
                assert!(std::str::from_utf8(&plain).is_ok());
                check_state(&plain);
            }
        }
    }
}

/// An engine that imports the seeds' legacy cookie (`id`, under [`LEGACY_MASTER`]),
/// storing every string-valued entry of it.
fn importing() -> &'static SessionEngine {
    static ENGINE: std::sync::OnceLock<SessionEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        let key = match sealed_session::LegacyKey::from_bytes(&LEGACY_MASTER) {
            Ok(k) => k,
            Err(e) => panic!("a 64-byte key is a legacy key: {e}"),
        };
        let import = sealed_session::LegacyImport::actix_session(key, |old, session| {
            let keys: Vec<String> = old.keys().map(str::to_owned).collect();
            for k in keys {
                if let Ok(Some(v)) = old.get::<String>(&k) {
                    session.insert(k.as_str(), &v)?;
                }
            }
            Ok(())
        });
        match SessionBuilder::new(Keyring::new(crate::secret(&crate::PRIMARY)))
            .cookie_name("session")
            .clock(|| crate::NOW)
            .import_legacy(import)
            .build()
        {
            Ok(e) => e,
            Err(e) => panic!("the importing configuration is valid: {e}"),
        }
    })
}

/// The request lifecycle with `value` as the legacy cookie: no panic; the response removes
/// the legacy cookie, and sets a session cookie only when something was imported.
fn check_import(value: &[u8]) {
    let mut header = b"id=".to_vec();
    header.extend_from_slice(value);
    let session = importing().start([header.as_slice()]);
    let imported = !session.is_empty();
    let mut response = http::Response::new(());
    if session.finish(&mut response).is_err() {
        return; // too large to seal: the old cookie stays
    }
    let sets: Vec<&[u8]> = response
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(http::HeaderValue::as_bytes)
        .collect();
    // A value with `;` or a NUL is cut short by the scan; whatever it reads, `id` goes.
    assert!(
        sets.iter().any(|c| c.starts_with(b"id=; ")),
        "the legacy cookie is removed"
    );
    assert_eq!(
        sets.iter()
            .any(|c| c.starts_with(b"session=") && !c.starts_with(b"session=;")),
        imported,
        "a session cookie only for an import"
    );
}

/// Decodes `plain`; a decoded state must be within the bounds, and actix-session's encoding
/// of it (a JSON object of `to_string`ed values) must decode to the same entries.
fn check_state(plain: &[u8]) {
    let Ok(state) = legacy_decode_state(plain) else {
        return;
    };
    assert!(plain.len() <= LEGACY_MAX_PLAINTEXT);
    assert!(state.len() <= LEGACY_MAX_ENTRIES);
    for (k, v) in &state {
        assert!(k.len() <= LEGACY_MAX_KEY_LEN);
        assert!(depth(v) <= LEGACY_MAX_DEPTH, "{k}: too deep");
    }
    let texts: BTreeMap<&String, String> = state.iter().map(|(k, v)| (k, v.to_string())).collect();
    let again = match serde_json::to_vec(&texts) {
        Ok(a) => a,
        Err(e) => panic!("a decoded state encodes: {e}"),
    };
    match legacy_decode_state(&again) {
        Ok(back) => {
            assert_eq!(back.len(), state.len());
            for ((k1, v1), (k2, v2)) in state.iter().zip(&back) {
                assert_eq!(k1, k2);
                assert!(same(v1, v2), "{k1}: {v1} != {v2}");
            }
        }
        // Numbers may print longer than they were written (`1e2` is `100.0`).
        Err(LegacyError::TooLarge) => assert!(again.len() > LEGACY_MAX_PLAINTEXT),
        Err(e) => panic!("a re-encoded state does not decode: {e}"),
    }
}

/// Nesting depth of arrays and objects (a scalar is 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Equal values, but for floats, which serde_json's default parser may read one unit in the
/// last place off after printing them.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}
