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
