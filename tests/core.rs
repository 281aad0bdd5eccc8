//! Core integration tests: round trips, tampering, rotation, epochs, expiry, compression,
//! chunking and the known-answer vectors of FORMAT.md. No web framework involved.

#[path = "support/workloads.rs"]
mod workloads;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use sealed_session::{
    Algorithm, Compression, ConfigError, EpochKeys, Error, Keyring, LoadOutcome, Rejection, Secret,
    SessionBuilder, SessionEngine, SessionState,
};

const NOW: u64 = 1_800_000_000;

fn secret(b: u8) -> Secret {
    Secret::from_bytes(&[b; 32]).unwrap()
}

fn config(ring: Keyring) -> SessionEngine {
    SessionBuilder::new(ring)
        .cookie_name("session")
        .clock(|| NOW)
        .build()
        .unwrap()
}

/// `name=value` pairs of the Set-Cookie headers that set (not remove) a cookie.
fn cookie_header(set: &[String]) -> String {
    set.iter()
        .map(|h| h.split(';').next().unwrap().to_string())
        .filter(|p| !p.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `Set-Cookie` values a request's session finishes into.
fn finish(session: &sealed_session::Session) -> Result<Vec<String>, Error> {
    let mut response = http::Response::new(());
    session
        .finish(&mut response)
        .map_err(|e| e.error().clone())?;
    Ok(response
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect())
}

fn reference_cookie() -> (SessionEngine, String) {
    let c = config(Keyring::new(secret(1)));
    let mut s = SessionState::new();
    s.insert("user_id", &42u64).unwrap();
    s.insert("role", &"admin").unwrap();
    let v = c.seal(&mut s).unwrap();
    (c, v)
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let (c, v) = reference_cookie();
    let mut raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
    for i in 0..raw.len() * 8 {
        raw[i / 8] ^= 1 << (i % 8);
        let tampered = URL_SAFE_NO_PAD.encode(&raw);
        assert!(c.open_value(&tampered).is_err(), "bit {i} flip accepted");
        raw[i / 8] ^= 1 << (i % 8);
    }
    // And flips of the encoded characters themselves (some give invalid base64).
    let mut chars = v.clone().into_bytes();
    for i in 0..chars.len() * 7 {
        chars[i / 7] ^= 1 << (i % 7);
        if let Ok(s) = std::str::from_utf8(&chars) {
            assert!(c.open_value(s).is_err(), "char bit {i} flip accepted");
        }
        chars[i / 7] ^= 1 << (i % 7);
    }
    assert!(c.open_value(&v).is_ok());
}

#[test]
fn every_truncation_is_rejected() {
    let (c, v) = reference_cookie();
    for n in 0..v.len() {
        assert!(c.open_value(&v[..n]).is_err(), "truncation to {n} accepted");
    }
    let raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
    for n in 0..raw.len() {
        let t = URL_SAFE_NO_PAD.encode(&raw[..n]);
        assert!(c.open_value(&t).is_err());
    }
}

#[test]
fn a_cookie_moved_to_another_name_is_rejected() {
    let (c, v) = reference_cookie();
    let other = SessionBuilder::new(Keyring::new(secret(1)))
        .cookie_name("other")
        .clock(|| NOW)
        .build()
        .unwrap();
    assert_eq!(
        other.open_value(&v).unwrap_err(),
        Error::Rejected(Rejection::BadTag)
    );
    assert!(c.open_value(&v).is_ok());
}

#[test]
fn wrong_key_and_unknown_key_id() {
    let (_, v) = reference_cookie();
    let other = config(Keyring::new(secret(2)));
    assert_eq!(
        other.open_value(&v).unwrap_err(),
        Error::Rejected(Rejection::UnknownKey)
    );
    // Same key id, different key: forge the header of a value sealed under key 2 so it
    // names key 1's id. The id is only a hint; the tag still fails.
    let mut s = SessionState::new();
    s.insert("x", &1u8).unwrap();
    let v2 = other.seal(&mut s).unwrap();
    let mut raw2 = URL_SAFE_NO_PAD.decode(&v2).unwrap();
    let raw1 = URL_SAFE_NO_PAD.decode(&v).unwrap();
    raw2[2..6].copy_from_slice(&raw1[2..6]);
    let forged = URL_SAFE_NO_PAD.encode(&raw2);
    assert_eq!(
        config(Keyring::new(secret(1)))
            .open_value(&forged)
            .unwrap_err(),
        Error::Rejected(Rejection::BadTag)
    );
}

#[test]
fn rotation_old_key_opens_needs_reseal_dropped_key_does_not() {
    let (_, v) = reference_cookie();
    let h = format!("session={v}");
    let rotated = config(Keyring::from_secrets([secret(2), secret(1)]).unwrap());
    let loaded = rotated.load([h.as_bytes()]);
    assert_eq!(loaded.1, LoadOutcome::Opened { needs_reseal: true });
    assert_eq!(loaded.0.get::<u64>("user_id").unwrap(), Some(42));
    // Rolled out open-only first: [A, B] still seals with A and needs no re-seal.
    let staged = config(Keyring::from_secrets([secret(1), secret(2)]).unwrap());
    assert_eq!(
        staged.load([h.as_bytes()]).1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    // The untouched-route path re-seals too, and the new cookie opens under B alone.
    let set = finish(&rotated.start([h.as_bytes()])).unwrap();
    let resealed = cookie_header(&set);
    let only_b = config(Keyring::new(secret(2)));
    assert_eq!(
        only_b.load([h.as_bytes()]).1,
        LoadOutcome::Rejected(Rejection::UnknownKey)
    );
    let l = only_b.load([resealed.as_bytes()]);
    assert_eq!(
        l.1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    assert_eq!(l.0.get::<u64>("user_id").unwrap(), Some(42));
}

#[test]
fn switching_algorithm_reseals_with_the_new_one() {
    let (_, v) = reference_cookie();
    let h = format!("session={v}");
    let aes = SessionBuilder::new(Keyring::new(secret(1)))
        .cookie_name("session")
        .algorithm(Algorithm::Aes256Gcm)
        .clock(|| NOW)
        .build()
        .unwrap();
    assert_eq!(
        aes.load([h.as_bytes()]).1,
        LoadOutcome::Opened { needs_reseal: true }
    );
}

#[test]
fn epoch_keys_across_a_period_boundary() {
    let now = Arc::new(AtomicU64::new(1000 * 100 + 99)); // last second of epoch 1000
    let t = now.clone();
    let c = SessionBuilder::new(EpochKeys::new(secret(9), Duration::from_secs(100)).unwrap())
        .cookie_name("session")
        .idle_timeout(Duration::from_secs(100))
        .clock_skew(Duration::from_secs(10))
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let mut s = SessionState::new();
    s.insert("n", &1u32).unwrap();
    let h = format!("session={}", c.seal(&mut s).unwrap());
    assert_eq!(
        c.load([h.as_bytes()]).1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    now.store(1001 * 100, Ordering::SeqCst); // epoch 1001: previous key opens, re-seal due
    assert_eq!(
        c.load([h.as_bytes()]).1,
        LoadOutcome::Opened { needs_reseal: true }
    );
    let set = finish(&c.start([h.as_bytes()])).unwrap();
    let h2 = cookie_header(&set);
    assert_eq!(
        c.load([h2.as_bytes()]).1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    now.store(1002 * 100, Ordering::SeqCst); // two epochs on: the first cookie is gone
    assert_eq!(
        c.load([h.as_bytes()]).1,
        LoadOutcome::Rejected(Rejection::UnknownKey)
    );
    assert!(matches!(
        c.load([h2.as_bytes()]).1,
        LoadOutcome::Opened { .. }
    ));
}

/// Two instances share epoch keys; B's clock is 2 s behind A's. Just after A
/// enters a new epoch it re-seals a cookie under the new epoch's key; B, still in the old
/// epoch, must accept it (it is within the clock-skew leeway), not reject it as an unknown
/// key and delete it. A cookie from an instance ahead by more than the skew is a distinct
/// rejection (`FutureKey`), and configurations where the period is shorter than the idle
/// timeout or not longer than twice the skew do not build.
#[test]
fn epoch_keys_an_instance_behind_accepts_the_next_epochs_key() {
    const PERIOD: u64 = 3600;
    let instance = |clock: Arc<AtomicU64>| {
        SessionBuilder::new(EpochKeys::new(secret(9), Duration::from_secs(PERIOD)).unwrap())
            .cookie_name("session")
            .idle_timeout(Duration::from_secs(PERIOD))
            .clock_skew(Duration::from_secs(60))
            .clock(move || clock.load(Ordering::SeqCst))
            .build()
            .unwrap()
    };
    let boundary = 500_000 * PERIOD;
    let clock_a = Arc::new(AtomicU64::new(boundary + 1)); // A: one second into epoch e+1
    let clock_b = Arc::new(AtomicU64::new(boundary - 1)); // B: 2 s behind, still in epoch e
    let (a, b) = (instance(clock_a.clone()), instance(clock_b.clone()));

    let mut s = SessionState::new();
    s.insert("user_id", &7u64).unwrap();
    let from_a = format!("session={}", a.seal(&mut s).unwrap());
    let loaded = b.load([from_a.as_bytes()]);
    assert_eq!(
        loaded.1,
        LoadOutcome::Opened {
            needs_reseal: false // re-sealing under the older key would only move it back
        }
    );
    assert_eq!(loaded.0.get::<u64>("user_id").unwrap(), Some(7));
    // B's own cookies still open on A (previous epoch) and on B.
    let from_b = format!("session={}", b.seal(&mut s).unwrap());
    assert_eq!(
        a.load([from_b.as_bytes()]).1,
        LoadOutcome::Opened { needs_reseal: true }
    );

    // A clock ahead by more than the skew: the next epoch's key, but not yet in the window.
    clock_b.store(boundary - 120, Ordering::SeqCst);
    assert_eq!(
        b.load([from_a.as_bytes()]).1,
        LoadOutcome::Rejected(Rejection::FutureKey)
    );
    // Two epochs ahead is not detectable cheaply: an unknown key.
    clock_b.store(boundary - PERIOD - 1, Ordering::SeqCst);
    assert_eq!(
        b.load([from_a.as_bytes()]).1,
        LoadOutcome::Rejected(Rejection::UnknownKey)
    );
}

/// Found with the test above: a session created by an instance ahead (within the skew) and
/// re-sealed by one behind got `refreshed_at < created_at`, which every instance then
/// rejected as `bad_payload`, losing the session.
#[test]
fn a_session_from_an_instance_ahead_survives_a_reseal_by_one_behind() {
    let at = |t: u64| {
        SessionBuilder::new(secret(1))
            .cookie_name("session")
            .clock(move || t)
            .build()
            .unwrap()
    };
    let (ahead, behind) = (at(NOW + 2), at(NOW));
    let mut s = SessionState::new();
    s.insert("user_id", &7u64).unwrap();
    let v = ahead.seal(&mut s).unwrap();
    let mut s = behind.open_value(&v).unwrap();
    s.insert("cart", &3u8).unwrap();
    let v = behind.seal(&mut s).unwrap();
    for instance in [&ahead, &behind] {
        let s = instance.open_value(&v).unwrap();
        assert_eq!(s.get::<u8>("cart").unwrap(), Some(3));
        assert_eq!(
            (s.created_at(), s.refreshed_at()),
            (Some(NOW + 2), Some(NOW + 2))
        );
    }
}

#[test]
fn epoch_period_is_checked_against_idle_timeout_and_skew() {
    let epoch = |secs| EpochKeys::new(secret(9), Duration::from_secs(secs)).unwrap();
    // A 3 s period with the default 24 h idle timeout: sessions would die after ~3-6 s idle.
    let e = SessionBuilder::new(epoch(3))
        .cookie_name("session")
        .build()
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            ConfigError::EpochShorterThanIdle {
                period: 3,
                idle: 86_400
            }
        ),
        "{e:?}"
    );
    assert!(
        msg.contains("shorter than the idle timeout") && msg.contains("at least 86400 s"),
        "{msg}"
    );
    // Long enough for the idle timeout, but not longer than twice the 60 s skew.
    let e = SessionBuilder::new(epoch(120))
        .cookie_name("session")
        .idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("twice the clock skew") && e.to_string().contains("121 s"),
        "{e}"
    );
    // The boundaries themselves are fine; key rings have no constraint.
    assert!(
        SessionBuilder::new(epoch(121))
            .cookie_name("session")
            .idle_timeout(Duration::from_secs(121))
            .build()
            .is_ok()
    );
    assert!(
        SessionBuilder::new(secret(1))
            .cookie_name("session")
            .idle_timeout(Duration::from_secs(1))
            .clock_skew(Duration::from_secs(3600))
            .build()
            .is_ok()
    );
}

#[test]
fn expiry_is_enforced_from_inside_the_cookie() {
    let now = Arc::new(AtomicU64::new(NOW));
    let t = now.clone();
    let c = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .idle_timeout(Duration::from_secs(600))
        .absolute_timeout(Duration::from_secs(3600))
        .clock_skew(Duration::from_secs(60))
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let mut s = SessionState::new();
    s.insert("a", &1u8).unwrap();
    let v = c.seal(&mut s).unwrap();
    // Stamped NOW, sealed at some real time in [NOW, NOW + 1): at clock reading NOW + 600
    // the idle timeout may not have passed yet, so only NOW + 601 expires it (expiry is never early at whole-second resolution).
    now.store(NOW + 600, Ordering::SeqCst);
    assert!(c.open_value(&v).is_ok());
    now.store(NOW + 601, Ordering::SeqCst);
    assert_eq!(
        c.open_value(&v).unwrap_err(),
        Error::Rejected(Rejection::IdleExpired)
    );
    // Kept active, it still ends at the absolute lifetime.
    now.store(NOW, Ordering::SeqCst);
    let mut v = v;
    for step in 1..=7 {
        now.store(NOW + step * 500, Ordering::SeqCst);
        match c.open_value(&v) {
            Ok(mut s) => {
                s.touch();
                v = c.seal(&mut s).unwrap();
            }
            Err(e) => {
                assert_eq!(e, Error::Rejected(Rejection::AbsoluteExpired));
                assert!(step * 500 >= 3600);
                break;
            }
        }
        assert!(step < 8);
    }
    // Created in the future: within the leeway opens, beyond it does not.
    now.store(NOW + 60, Ordering::SeqCst);
    let mut s = SessionState::new();
    s.insert("a", &1u8).unwrap();
    let v = c.seal(&mut s).unwrap();
    now.store(NOW, Ordering::SeqCst);
    assert!(c.open_value(&v).is_ok(), "60 s ahead is within the leeway");
    now.store(NOW - 1, Ordering::SeqCst);
    assert_eq!(
        c.open_value(&v).unwrap_err(),
        Error::Rejected(Rejection::FromTheFuture)
    );
}

fn workload_session() -> Vec<(&'static str, SessionState)> {
    let mut small = SessionState::new();
    small.insert("user", &workloads::small()).unwrap();
    let mut profile = SessionState::new();
    profile.insert("profile", &workloads::profile()).unwrap();
    let mut login = SessionState::new();
    login.insert("login", &workloads::login()).unwrap();
    let mut cart = SessionState::new();
    cart.insert("cart", &workloads::cart()).unwrap();
    vec![
        ("small", small),
        ("login", login),
        ("profile", profile),
        ("cart", cart),
    ]
}

#[test]
fn workloads_round_trip_with_every_setting() {
    for alg in Algorithm::ALL {
        for comp in [Compression::Auto, Compression::Off] {
            let c = SessionBuilder::new(secret(1))
                .cookie_name("session")
                .algorithm(alg)
                .compression(comp)
                .clock(|| NOW)
                .build()
                .unwrap();
            for (name, mut s) in workload_session() {
                let set = c.set_cookies(&mut s);
                let set = set.unwrap_or_else(|e| panic!("{name} {alg} {comp:?}: {e}"));
                assert_eq!(set.len(), 1, "{name} fits one cookie");
                let h = cookie_header(&set);
                assert!(h.len() <= 4096);
                let back = c.load([h.as_bytes()]).0;
                match name {
                    "small" => assert_eq!(back.get("user").unwrap(), Some(workloads::small())),
                    "login" => assert_eq!(back.get("login").unwrap(), Some(workloads::login())),
                    "profile" => {
                        assert_eq!(back.get("profile").unwrap(), Some(workloads::profile()))
                    }
                    _ => assert_eq!(back.get("cart").unwrap(), Some(workloads::cart())),
                }
            }
        }
    }
}

#[test]
fn compression_is_used_only_when_it_makes_the_cookie_smaller() {
    let on = config(Keyring::new(secret(1)));
    let off = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .compression(Compression::Off)
        .clock(|| NOW)
        .build()
        .unwrap();
    for (name, s) in workload_session() {
        let a = on.seal(&mut s.clone()).unwrap().len();
        let b = off.seal(&mut s.clone()).unwrap().len();
        assert!(a <= b, "{name}: compressed {a} > plain {b}");
        if name == "cart" {
            assert!(a < b, "the cart compresses");
        }
    }
    let mut random = SessionState::new();
    let mut bytes = vec![0u8; 3000];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0];
    }
    random.insert("r", &bytes).unwrap();
    let a = on.seal(&mut random.clone()).unwrap().len();
    let b = off.seal(&mut random.clone()).unwrap().len();
    assert!(a <= b);
}

#[test]
fn chunked_session_reassembles_in_any_order_and_shrinks() {
    let c = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .max_cookies(4)
        .compression(Compression::Off)
        .clock(|| NOW)
        .build()
        .unwrap();
    let mut s = SessionState::new();
    s.insert("blob", &vec![7u8; 9000]).unwrap();
    let set = c.set_cookies(&mut s).unwrap();
    assert_eq!(set.len(), 3);
    let mut pairs: Vec<String> = cookie_header(&set).split("; ").map(String::from).collect();
    pairs.reverse();
    let h = pairs.join("; ");
    let l = c.start([h.as_bytes()]);
    assert_eq!(l.get::<Vec<u8>>("blob").unwrap().unwrap().len(), 9000);
    l.insert("blob", &vec![1u8; 10]).unwrap();
    let set = finish(&l).unwrap();
    let texts: Vec<&str> = set.iter().map(String::as_str).collect();
    assert_eq!(texts.len(), 3);
    assert!(texts[0].starts_with("session=") && !texts[0].contains("Max-Age=0"));
    assert!(texts[1].starts_with("session.1=;") && texts[1].contains("Max-Age=0"));
    assert!(texts[2].starts_with("session.2=;") && texts[2].contains("Max-Age=0"));
}

#[test]
fn too_large_names_the_size_the_limit_and_the_fix() {
    let mut s = SessionState::new();
    s.insert("blob", &vec![3u8; 5000]).unwrap();
    let c = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .compression(Compression::Off)
        .clock(|| NOW)
        .build()
        .unwrap();
    let e = c.set_cookies(&mut s).unwrap_err();
    match &e {
        Error::TooLarge {
            size,
            limit: 4096,
            max_cookies: 1,
        } => assert!(*size > 4096),
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("the limit is 4 KB per cookie") && msg.contains("max_cookies(n)"),
        "{msg}"
    );
}

/// The known-answer vectors of FORMAT.md, stored in `tests/data/vectors/*.json`. The
/// byte-exact seal of each (fixed nonce) is checked inside the crate (`format::vectors`);
/// here each value opens through the public API to the stated session, and FORMAT.md must
/// quote every value, key and key id.
#[test]
fn known_answer_vectors_open() {
    use serde_json::Value;
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let format_md = std::fs::read_to_string(format!("{root}/FORMAT.md")).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/tests/data/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 4);
    for path in paths {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let n = v["vector"].as_u64().unwrap();
        let s = |f: &str| v[f].as_str().unwrap().to_string();
        for f in ["key", "key_id", "cookie_value"] {
            assert!(
                format_md.contains(&s(f)),
                "FORMAT.md lacks vector {n}'s {f}: {}",
                s(f)
            );
        }
        let created = v["created_at"].as_u64().unwrap();
        let alg: Algorithm = s("algorithm").parse().unwrap();
        // Opened by a deployment that seals with any algorithm: every algorithm opens.
        for sealing in Algorithm::ALL {
            let mut config = SessionBuilder::new(Secret::from_bytes(&hex(&s("secret"))).unwrap())
                .cookie_name(s("cookie_name"))
                .algorithm(sealing)
                .clock(move || created);
            if let Some(schema) = v["schema"].as_u64() {
                config = config.schema(schema as u32, |_, _| sealed_session::Migration::Drop);
            }
            let c = config.build().unwrap();
            let opened = c.open_value(&s("cookie_value")).unwrap();
            assert_eq!(opened.schema() as u64, v["schema"].as_u64().unwrap_or(0));
            assert_eq!(opened.persistent(), v["persistent"].as_bool());
            assert_eq!(
                opened.validated_at(),
                v["validated_at"].as_u64().or(Some(created))
            );
            assert_eq!(opened.created_at(), Some(created), "vector {n}");
            assert_eq!(
                opened.refreshed_at(),
                v["refreshed_at"].as_u64(),
                "vector {n}"
            );
            for (k, value) in v["values"].as_object().unwrap() {
                match value {
                    Value::Number(x) => assert_eq!(opened.get::<u64>(k).unwrap(), x.as_u64()),
                    Value::String(x) => {
                        assert_eq!(opened.get::<String>(k).unwrap().as_ref(), Some(x))
                    }
                    Value::Array(xs) => {
                        let want: Vec<String> =
                            xs.iter().map(|x| x.as_str().unwrap().into()).collect();
                        assert_eq!(opened.get::<Vec<String>>(k).unwrap(), Some(want));
                    }
                    other => panic!("vector {n}: unsupported value {other}"),
                }
            }
            // The crate's own entries (vector 7): the flash reads once; the CSRF secret is
            // the one whose zero-masked token (32 zero bytes, then the secret) verifies.
            if let Some(flashes) = v.get("flashes") {
                let got = serde_json::to_value(opened.clone().take_flashes()).unwrap();
                assert_eq!(&got, flashes, "vector {n}: flashes");
            }
            if let Some(secret) = v.get("csrf_secret") {
                let mut raw = vec![0u8; 32];
                raw.extend(hex(secret.as_str().unwrap()));
                let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
                let cookie = format!("{}={}", s("cookie_name"), s("cookie_value"));
                let session = c.start([cookie.as_bytes()]);
                assert!(
                    session.verify_csrf(&token).unwrap(),
                    "vector {n}: CSRF secret"
                );
                assert!(opened.is_empty() == (v["values"].as_object().unwrap().is_empty()));
            }
            // The same session sealed now (random nonce) has the vector's length: same
            // algorithm, same compression decision.
            if sealing == alg {
                let mut again = opened.clone();
                assert_eq!(c.seal(&mut again).unwrap().len(), s("cookie_value").len());
            }
        }
    }
}

fn arb_session() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    proptest::collection::vec(
        (
            "[a-z0-9_]{1,12}",
            proptest::collection::vec(any::<u8>(), 0..300),
        ),
        0..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_maps_round_trip(
        entries in arb_session(),
        aes in any::<bool>(),
        compress in any::<bool>(),
        max_cookies in 1usize..4,
    ) {
        let c = SessionBuilder::new(Keyring::new(secret(1))).cookie_name("session")
            .algorithm(if aes { Algorithm::Aes256Gcm } else { Algorithm::XChaCha20Poly1305 })
            .compression(if compress { Compression::Auto } else { Compression::Off })
            .max_cookies(max_cookies)
            .clock(|| NOW)
            .build()
            .unwrap();
        let mut s = SessionState::new();
        for (k, v) in &entries {
            s.insert(k.clone(), v).unwrap();
        }
        let expected = s.clone();
        match c.set_cookies(&mut s) {
            Ok(set) => {
                let h = cookie_header(&set);
                let l = c.load([h.as_bytes()]);
                if expected.is_empty() {
                    prop_assert!(set.is_empty());
                    prop_assert_eq!(l.1, LoadOutcome::NoCookie);
                } else {
                    prop_assert_eq!(l.1, LoadOutcome::Opened { needs_reseal: false });
                    for (k, _) in &entries {
                        // A key inserted twice holds its last value.
                        let last = entries.iter().rev().find(|(k2, _)| k2 == k).unwrap();
                        prop_assert_eq!(l.0.get::<Vec<u8>>(k).unwrap(), Some(last.1.clone()));
                    }
                    prop_assert_eq!(l.0.len(), expected.len());
                }
            }
            Err(Error::TooLarge { size, limit, .. }) => prop_assert!(size > limit),
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }

    #[test]
    fn tampering_anywhere_is_rejected(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (c, v) = reference_cookie();
        let mut raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
        let i = pos.index(raw.len());
        raw[i] ^= 1 << bit;
        prop_assert!(c.open_value(&URL_SAFE_NO_PAD.encode(&raw)).is_err());
    }

    #[test]
    fn arbitrary_cookie_headers_never_panic(header in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let c = SessionBuilder::new(secret(1)).cookie_name("session").max_cookies(3).clock(|| NOW).build().unwrap();
        let l = c.start([header.as_slice()]);
        let _ = l.get::<u64>("n");
        let _ = finish(&l);
    }
}

#[test]
fn a_non_utf8_cookie_is_rejected_and_removed() {
    let c = config(Keyring::new(secret(1)));
    let h: &[u8] = b"theme=dark; session=\xc3\x28abc";
    let l = c.start([h]);
    assert_eq!(l.outcome(), LoadOutcome::Rejected(Rejection::BadBase64));
    let set = finish(&l).unwrap();
    assert_eq!(set.len(), 1);
    let removal = &set[0];
    assert!(
        removal.starts_with("session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
}

/// FORMAT.md's byte-level details beyond its three cookie values, recomputed with the
/// primitives (hkdf, sha2, chacha20poly1305, lz4_flex) rather than the crate's format code,
/// and self-contained so that it does not depend on how the other vector tests are built.
mod format_md {
    use super::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
    use hkdf::Hkdf;
    use sha2::{Digest, Sha256};

    pub const SECRET_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    pub const CLOCK: u64 = 1_800_000_000;
    pub const XCHACHA_INFO: &str = "sealed-session/v1/session-cookie/xchacha20poly1305";
    /// Vectors 1 and 3 as FORMAT.md quotes them.
    pub const VECTOR_1: &str = "AQGiRGX_QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXaKcnVp5uqfiSQ6rw7c4W0FXJYSsXYHawxTiwybnkZBpc_-1OfgRsS56FCxNCQ9-LVPY";
    pub const VECTOR_3: &str = "AQGiRGX_QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXafuFoMTMjoYznKwN4L18zFGoATm6CyPT7SKxyK7JflFs50EQV5twtGhVojrISorVP2UXfTtuWUxK8CLVsEFRczMa";

    pub fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    pub fn to_hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn secret() -> sealed_session::Secret {
        sealed_session::Secret::from_bytes(&hex(SECRET_HEX)).unwrap()
    }

    /// FORMAT.md with all whitespace removed, so that hex wrapped over lines still matches.
    pub fn text() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/FORMAT.md"))
            .expect("FORMAT.md")
            .split_whitespace()
            .collect()
    }

    pub fn assert_holds(md: &str, what: &str, value: &str) {
        assert!(md.contains(value), "FORMAT.md lacks {what}: {value}");
    }

    /// HKDF-SHA256 of the vectors' secret with `info`, as in FORMAT.md's *Keys*.
    pub fn derive(info: &str) -> [u8; 32] {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(Some(b"sealed-session"), &hex(SECRET_HEX))
            .expand(info.as_bytes(), &mut key)
            .unwrap();
        key
    }

    /// SHA-256("sealed-session/v1/key-id" || algorithm byte || derived key)[0..4].
    pub fn key_id(algorithm: u8, key: &[u8; 32]) -> [u8; 4] {
        let mut h = Sha256::new();
        h.update(b"sealed-session/v1/key-id");
        h.update([algorithm]);
        h.update(key);
        let d = h.finalize();
        [d[0], d[1], d[2], d[3]]
    }

    /// Splits an XChaCha20-Poly1305 value into header, ciphertext and tag.
    fn parts(value: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
        let (head, rest) = raw.split_at(30);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        (head.to_vec(), ct.to_vec(), tag.to_vec())
    }

    /// The plaintext of an XChaCha20-Poly1305 value sealed for cookie `name` under `key`.
    pub fn open_xchacha(key: &[u8; 32], name: &str, value: &str) -> Vec<u8> {
        let (head, mut buf, tag) = parts(value);
        let aad = [&head[..], name.as_bytes()].concat();
        XChaCha20Poly1305::new(key.into())
            .decrypt_inout_detached(
                head[6..].try_into().unwrap(),
                &aad,
                buf.as_mut_slice().into(),
                tag.as_slice().try_into().unwrap(),
            )
            .expect("the tag verifies");
        buf
    }

    /// Seals `plaintext` (flags || body) for cookie `name` as FORMAT.md describes, with the
    /// vectors' nonce `0x40, 0x41, …`.
    pub fn seal_xchacha(key: &[u8; 32], name: &str, plaintext: &[u8]) -> String {
        let mut head = vec![0x01, 0x01];
        head.extend_from_slice(&key_id(0x01, key));
        head.extend(0x40..0x58u8);
        let aad = [&head[..], name.as_bytes()].concat();
        let mut buf = plaintext.to_vec();
        let tag = XChaCha20Poly1305::new(key.into())
            .encrypt_inout_detached(
                head[6..].try_into().unwrap(),
                &aad,
                buf.as_mut_slice().into(),
            )
            .unwrap();
        URL_SAFE_NO_PAD.encode([head, buf, tag.to_vec()].concat())
    }

    /// HChaCha20 (draft-irtf-cfrg-xchacha-03, section 2.2), written out to check FORMAT.md's
    /// description of XChaCha20-Poly1305.
    fn hchacha20(key: &[u8; 32], nonce: &[u8]) -> [u8; 32] {
        let word = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
        let mut s = [0u32; 16];
        s[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
        for i in 0..8 {
            s[4 + i] = word(&key[4 * i..4 * i + 4]);
        }
        for i in 0..4 {
            s[12 + i] = word(&nonce[4 * i..4 * i + 4]);
        }
        fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(16);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(12);
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(8);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(7);
        }
        for _ in 0..10 {
            quarter(&mut s, 0, 4, 8, 12);
            quarter(&mut s, 1, 5, 9, 13);
            quarter(&mut s, 2, 6, 10, 14);
            quarter(&mut s, 3, 7, 11, 15);
            quarter(&mut s, 0, 5, 10, 15);
            quarter(&mut s, 1, 6, 11, 12);
            quarter(&mut s, 2, 7, 8, 13);
            quarter(&mut s, 3, 4, 9, 14);
        }
        let mut out = [0u8; 32];
        for (i, w) in [0, 1, 2, 3, 12, 13, 14, 15].into_iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&s[w].to_le_bytes());
        }
        out
    }

    /// Opens an XChaCha20-Poly1305 value the way FORMAT.md spells the construction out:
    /// an HChaCha20 subkey, then RFC 8439 ChaCha20-Poly1305 with nonce `0^4 || nonce[16..24]`.
    pub fn open_via_hchacha_and_ietf(key: &[u8; 32], name: &str, value: &str) -> Vec<u8> {
        let (head, mut buf, tag) = parts(value);
        let subkey = hchacha20(key, &head[6..22]);
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&head[22..30]);
        let aad = [&head[..], name.as_bytes()].concat();
        ChaCha20Poly1305::new((&subkey).into())
            .decrypt_inout_detached(
                (&nonce).into(),
                &aad,
                buf.as_mut_slice().into(),
                tag.as_slice().try_into().unwrap(),
            )
            .expect("the tag verifies");
        buf
    }
}

#[test]
fn format_md_vector_3_bytes() {
    use format_md::*;
    let md = text();
    assert_holds(&md, "vector 3", VECTOR_3);
    let key = derive(XCHACHA_INFO);
    let plain = open_xchacha(&key, "session", VECTOR_3);
    assert_holds(&md, "vector 3's plaintext", &to_hex(&plain));
    // The session bytes, built from FORMAT.md's description rather than by the crate.
    let mut session = hex("80a4a7da0680a4a7da0601057061676573c9063c");
    for _ in 0..60 {
        session.push(13);
        session.extend_from_slice(b"/orders/12345");
    }
    assert_eq!(session.len(), 860);
    assert_holds(&md, "vector 3's session bytes", &to_hex(&session));
    // flags 01, varint(860) = dc 06, then a 47-byte block that inflates to those bytes.
    assert_eq!(plain[..3], [0x01, 0xdc, 0x06]);
    assert_eq!(plain.len(), 3 + 47);
    let inflated = lz4_flex::block::decompress(&plain[3..], session.len()).unwrap();
    assert_eq!(inflated, session);
    // Another compressor's block opens too: here, literals only.
    let mut literals_only = vec![0x01, 0xdc, 0x06, 0xf0];
    let mut rest = session.len() - 15;
    while rest >= 255 {
        literals_only.push(255);
        rest -= 255;
    }
    literals_only.push(rest as u8);
    literals_only.extend_from_slice(&session);
    let c = SessionBuilder::new(secret())
        .cookie_name("session")
        .clock(|| CLOCK)
        .build()
        .unwrap();
    let s = c
        .open_value(&seal_xchacha(&key, "session", &literals_only))
        .unwrap();
    assert_eq!(s.get::<Vec<String>>("pages").unwrap().unwrap().len(), 60);
    // So does a plain body of the same bytes: compressing is the writer's choice.
    let plain_body = [&[0x00][..], &session].concat();
    assert!(
        c.open_value(&seal_xchacha(&key, "session", &plain_body))
            .is_ok()
    );
    // And sealing that plaintext with the vectors' nonce gives vector 3 back.
    assert_eq!(seal_xchacha(&key, "session", &plain), VECTOR_3);
}

#[test]
fn format_md_xchacha_is_hchacha20_then_ietf_chacha20poly1305() {
    use format_md::*;
    let key = derive(XCHACHA_INFO);
    let via_ietf = open_via_hchacha_and_ietf(&key, "session", VECTOR_1);
    assert_eq!(via_ietf, open_xchacha(&key, "session", VECTOR_1));
    assert_eq!(via_ietf.len(), 34);
}

#[test]
fn format_md_epoch_vector() {
    use format_md::*;
    let md = text();
    let period = 86_400;
    let epoch = CLOCK / period;
    assert_eq!(epoch, 20_833);
    let info = format!("{XCHACHA_INFO}/epoch/{epoch}");
    let key = derive(&info);
    let id = key_id(0x01, &key);
    assert_holds(&md, "the epoch info string", &info);
    assert_holds(&md, "the epoch key", &to_hex(&key));
    assert_holds(&md, "the epoch key id", &to_hex(&id));
    // Vector 1's plaintext sealed under the epoch key with the vectors' nonce.
    let plain = open_xchacha(&derive(XCHACHA_INFO), "session", VECTOR_1);
    let value = seal_xchacha(&key, "session", &plain);
    assert_holds(&md, "the epoch-key value", &value);

    let now = Arc::new(AtomicU64::new(CLOCK));
    let t = now.clone();
    let keys = EpochKeys::new(secret(), Duration::from_secs(period)).unwrap();
    let c = SessionBuilder::new(keys)
        .cookie_name("session")
        .algorithm(Algorithm::XChaCha20Poly1305)
        .no_idle_timeout() // expiry is not under test
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    // The crate seals with the epoch's key: its id in the header, and the AEAD opens.
    let mut s = SessionState::new();
    s.insert("user_id", &42u64).unwrap();
    let sealed = c.seal(&mut s).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(&sealed).unwrap()[2..6], id);
    open_xchacha(&key, "session", &sealed);
    // And it opens the vector at t, one epoch later (the previous key), not two.
    let h = format!("session={value}");
    let opened = c.load([h.as_bytes()]);
    assert_eq!(
        opened.1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
    assert_eq!(opened.0.get::<u64>("user_id").unwrap(), Some(42));
    now.store(CLOCK + period, Ordering::SeqCst);
    assert_eq!(
        c.load([h.as_bytes()]).1,
        LoadOutcome::Opened { needs_reseal: true }
    );
    now.store(CLOCK + 2 * period, Ordering::SeqCst);
    assert_eq!(
        c.load([h.as_bytes()]).1,
        LoadOutcome::Rejected(Rejection::UnknownKey)
    );
}

#[test]
fn format_md_reader_limits() {
    // L(N, n) for N = "session", as FORMAT.md states it: a value of L characters passes the
    // length check (and fails later, being all 'A'), one more is `too_long`.
    for (n, limit) in [(1, 4089), (2, 8174), (4, 16_348), (32, 130_761)] {
        let c = SessionBuilder::new(secret(1))
            .cookie_name("session")
            .max_cookies(n)
            .clock(|| NOW)
            .build()
            .unwrap();
        // Cut as a writer would for n chunks, with any extra character in the last one.
        let header = |len: usize| {
            let caps: Vec<usize> = (0..n)
                .map(|i| {
                    let name = if i == 0 { 7 } else { 8 + i.to_string().len() };
                    let count = if i == 0 && n > 1 {
                        n.to_string().len() + 1
                    } else {
                        0
                    };
                    4096 - name - count
                })
                .collect();
            assert_eq!(caps.iter().sum::<usize>(), limit, "n = {n}");
            let mut rest = len;
            let mut pairs = Vec::new();
            for (i, cap) in caps.iter().enumerate() {
                let take = if i == n - 1 { rest } else { rest.min(*cap) };
                rest -= take;
                let part = "A".repeat(take);
                pairs.push(match (i, n) {
                    (0, 1) => format!("session={part}"),
                    (0, _) => format!("session={n}.{part}"),
                    _ => format!("session.{i}={part}"),
                });
            }
            pairs.join("; ")
        };
        let at = c.load([header(limit).as_bytes()]).1;
        assert_ne!(at, LoadOutcome::Rejected(Rejection::TooLong), "n = {n}");
        assert!(matches!(at, LoadOutcome::Rejected(_)), "n = {n}");
        assert_eq!(
            c.load([header(limit + 1).as_bytes()]).1,
            LoadOutcome::Rejected(Rejection::TooLong),
            "n = {n}"
        );
    }
    // The count forms FORMAT.md lists as `bad_chunks`.
    let c = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .max_cookies(3)
        .clock(|| NOW)
        .build()
        .unwrap();
    for count in ["02", "1", "0", "33", "+2", ""] {
        let h = format!("session={count}.AAAA; session.1=AAAA; session.2=AAAA");
        assert_eq!(
            c.load([h.as_bytes()]).1,
            LoadOutcome::Rejected(Rejection::BadChunks),
            "count {count:?}"
        );
    }
    // Padding and the standard alphabet are not base64url-nopad.
    let (_, v) = reference_cookie();
    for bad in [format!("{v}="), v.replace('-', "+").replace('_', "/")] {
        if bad != v {
            assert_eq!(
                c.load([format!("session={bad}").as_bytes()]).1,
                LoadOutcome::Rejected(Rejection::BadBase64)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema versions, per-session persistence, revalidation
// ---------------------------------------------------------------------------------------------

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct UserV1 {
    id: u64,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct UserV2 {
    id: u64,
    admin: bool,
}

/// A cookie "from the previous release": sealed by an engine with schema `version`.
fn previous_release_cookie(version: u32, user: &impl serde::Serialize) -> String {
    let mut config = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .clock(|| NOW);
    if version > 0 {
        config = config.schema(version, |_, _| sealed_session::Migration::Drop);
    }
    let engine = config.build().unwrap();
    let mut s = SessionState::new();
    s.insert("user", user).unwrap();
    cookie_header(&engine.set_cookies(&mut s).unwrap())
}

fn v2_engine(migrate: bool) -> SessionEngine {
    SessionBuilder::new(secret(1))
        .cookie_name("session")
        .clock(|| NOW + 10)
        .schema(1, move |from, s| {
            assert_eq!(from, 0);
            match (migrate, s.get::<UserV1>("user")) {
                (true, Ok(Some(u))) => {
                    s.insert(
                        "user",
                        &UserV2 {
                            id: u.id,
                            admin: false,
                        },
                    )
                    .unwrap();
                    sealed_session::Migration::Keep
                }
                _ => sealed_session::Migration::Drop,
            }
        })
        .build()
        .unwrap()
}

#[test]
fn cookies_from_the_previous_release_migrate_once_and_are_resealed() {
    let old = previous_release_cookie(0, &UserV1 { id: 42 });
    let engine = v2_engine(true);
    let session = engine.start([old.as_bytes()]);
    assert_eq!(
        session.get::<UserV2>("user").unwrap(),
        Some(UserV2 {
            id: 42,
            admin: false
        })
    );
    // Re-sealed on the same response, under schema 1: the next request needs no migration.
    let set = finish(&session).unwrap();
    assert_eq!(set.len(), 1, "{set:?}");
    let again = engine.load([cookie_header(&set).as_bytes()]);
    assert_eq!(again.0.schema(), 1);
    assert_eq!(
        again.1,
        LoadOutcome::Opened {
            needs_reseal: false
        }
    );
}

#[test]
fn a_dropped_schema_starts_a_new_session_and_removes_the_old_cookie() {
    let old = previous_release_cookie(0, &UserV1 { id: 42 });
    let session = v2_engine(false).start([old.as_bytes()]);
    assert!(session.is_empty());
    assert_eq!(
        session.outcome(),
        LoadOutcome::Rejected(Rejection::OldSchema)
    );
    let set = finish(&session).unwrap();
    assert!(set.len() == 1 && set[0].contains("Max-Age=0"), "{set:?}");
}

#[test]
fn a_newer_schema_is_no_session_here_but_is_kept_for_the_next_release() {
    let newer = previous_release_cookie(2, &UserV2 { id: 1, admin: true });
    let session = v2_engine(true).start([newer.as_bytes()]);
    assert!(session.is_empty());
    assert_eq!(
        session.outcome(),
        LoadOutcome::Rejected(Rejection::NewerSchema)
    );
    assert!(finish(&session).unwrap().is_empty(), "not removed");
}

#[test]
fn schema_zero_and_defaults_write_exactly_the_earlier_bytes() {
    // No trailer unless a feature needs it: earlier releases keep reading default sessions.
    let engine = config(Keyring::new(secret(1)));
    let mut s = SessionState::new();
    s.insert("user_id", &42u64).unwrap();
    let value = engine.seal(&mut s).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    let mut persistent = s.clone();
    persistent.set_persistent(false);
    let longer = URL_SAFE_NO_PAD
        .decode(engine.seal(&mut persistent).unwrap())
        .unwrap();
    assert_eq!(
        longer.len(),
        raw.len() + 3,
        "schema 0, flags 1, validated_at 0"
    );
}

#[test]
fn a_browser_session_stays_one_across_refreshes_and_key_rotation() {
    let now = Arc::new(AtomicU64::new(NOW));
    let t = now.clone();
    let old = SessionBuilder::new(Keyring::new(secret(1)))
        .cookie_name("session")
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let session = old.start(std::iter::empty());
    session.insert("user_id", &1u64).unwrap();
    session.set_persistent(false).unwrap();
    let set = finish(&session).unwrap();
    assert!(!set[0].contains("Max-Age"), "{}", set[0]);
    // An idle refresh keeps it.
    now.fetch_add(30_000, Ordering::SeqCst);
    let refreshed = finish(&{
        let s = old.start([cookie_header(&set).as_bytes()]);
        assert_eq!(s.get::<u64>("user_id").unwrap(), Some(1));
        s
    })
    .unwrap();
    assert_eq!(refreshed.len(), 1);
    assert!(
        refreshed[0].starts_with("session.t="),
        "a refresh stamp: {}",
        refreshed[0]
    );
    assert!(!refreshed[0].contains("Max-Age"), "{}", refreshed[0]);
    let both = format!("{}; {}", cookie_header(&set), cookie_header(&refreshed));
    // A re-seal under a new key, on a route that never read it, keeps it too.
    let t = now.clone();
    let rotated = SessionBuilder::new(Keyring::from_secrets([secret(2), secret(1)]).unwrap())
        .cookie_name("session")
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let resealed = finish(&rotated.start([both.as_bytes()])).unwrap();
    // The value re-sealed, and the stamp of the old value removed.
    assert_eq!(resealed.len(), 2, "{resealed:?}");
    assert!(resealed[0].starts_with("session="), "{}", resealed[0]);
    assert!(!resealed[0].contains("Max-Age"), "{}", resealed[0]);
    assert!(resealed[1].starts_with("session.t=;"), "{}", resealed[1]);
    let back = rotated.load([cookie_header(&resealed).as_bytes()]);
    assert_eq!(back.0.persistent(), Some(false));
}
