//! The `metrics` feature: every counter and histogram, read back from a debugging recorder
//! (installed per test on the test's thread, so tests run in parallel).
#![cfg(feature = "metrics")]

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use sealed_session::metrics::{
    COOKIE_HEADER_BYTES, COOKIE_HEADER_OVER_BUDGET, OPENS, OPENS_BY_KEY, SEALED_BYTES,
    SEALED_CHUNKS, SIZE_WARNINGS, TOO_LARGE,
};
use sealed_session::{
    Algorithm, Keyring, Secret, SessionBuilder, SessionEngine, SessionState, TooLargePolicy,
};

/// One recorded metric: name, sorted labels, value.
type Recorded = Vec<(String, Vec<(String, String)>, DebugValue)>;

/// Runs `f` with a fresh recorder on this thread and returns what it recorded.
fn record(f: impl FnOnce()) -> Recorded {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<_> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

fn counter(rec: &Recorded, name: &str, labels: &[(&str, &str)]) -> u64 {
    rec.iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| match v {
            DebugValue::Counter(c) => *c,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

fn histogram(rec: &Recorded, name: &str) -> Vec<f64> {
    rec.iter()
        .filter(|(n, _, _)| n == name)
        .flat_map(|(_, _, v)| match v {
            DebugValue::Histogram(h) => h.iter().map(|x| x.into_inner()).collect::<Vec<_>>(),
            other => panic!("{name} is not a histogram: {other:?}"),
        })
        .collect()
}

fn secret(b: u8) -> Secret {
    Secret::from_bytes(&[b; 32]).unwrap()
}

/// The `Cookie` header a client holding `session` sends (chunks joined with `; `).
fn cookie_for(engine: &SessionEngine, session: &mut SessionState) -> String {
    engine
        .set_cookies(session)
        .unwrap()
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One request through the handle: read the session, finish the response.
fn request(engine: &SessionEngine, cookie: &str) -> http::Response<()> {
    let session = engine.start([cookie.as_bytes()]);
    let _ = session.get::<u64>("n");
    let mut res = http::Response::new(());
    session.finish(&mut res).ok();
    res
}

fn one_entry(name: &str, value: u64) -> SessionState {
    let mut s = SessionState::new();
    s.insert(name, &value).unwrap();
    s
}

#[test]
fn opens_are_counted_by_outcome_and_reason() {
    let engine = SessionBuilder::new(secret(1))
        .cookie_name("session")
        .build()
        .unwrap();
    let good = cookie_for(&engine, &mut one_entry("n", 1));
    let rec = record(|| {
        request(&engine, "theme=dark");
        request(&engine, &good);
        request(&engine, &good);
        request(&engine, "session=not-base64!");
        request(&engine, "session=AQkAAAAA");
    });
    assert_eq!(counter(&rec, OPENS, &[("outcome", "no_cookie")]), 1);
    assert_eq!(counter(&rec, OPENS, &[("outcome", "opened")]), 2);
    assert_eq!(counter(&rec, OPENS, &[("outcome", "rejected")]), 2);
    assert_eq!(counter(&rec, OPENS, &[("reason", "bad_base64")]), 1);
    assert_eq!(counter(&rec, OPENS, &[("reason", "unknown_algorithm")]), 1);
}

#[test]
fn untouched_handles_record_no_open() {
    let engine = SessionBuilder::new(secret(1)).build().unwrap();
    let good = cookie_for(&engine, &mut one_entry("n", 1));
    let rec = record(|| {
        let session = engine.start([good.as_bytes()]);
        session.finish(&mut http::Response::new(())).unwrap();
    });
    assert_eq!(counter(&rec, OPENS, &[]), 0, "nothing was opened");
    assert_eq!(histogram(&rec, COOKIE_HEADER_BYTES), [good.len() as f64]);
}

#[test]
fn opens_by_key_show_the_rotation_progress() {
    let (old, new) = (secret(1), secret(2));
    let before = SessionBuilder::new(Keyring::new(old.clone()))
        .build()
        .unwrap();
    let after = SessionBuilder::new(Keyring::new(new.clone()).with_fallback(old.clone()))
        .build()
        .unwrap();
    let alg = Algorithm::default();
    let old_id = Keyring::new(old).primary_id(alg).to_string();
    let new_id = Keyring::new(new).primary_id(alg).to_string();
    let old_cookie = cookie_for(&before, &mut one_entry("n", 1));
    let new_cookie = cookie_for(&after, &mut one_entry("n", 2));
    let rec = record(|| {
        for _ in 0..3 {
            request(&after, &old_cookie);
        }
        request(&after, &new_cookie);
    });
    let old_labels = [
        ("algorithm", alg.name()),
        ("key_id", old_id.as_str()),
        ("primary", "false"),
    ];
    assert_eq!(counter(&rec, OPENS_BY_KEY, &old_labels), 3);
    let new_labels = [("key_id", new_id.as_str()), ("primary", "true")];
    assert_eq!(counter(&rec, OPENS_BY_KEY, &new_labels), 1);
    // Each old-key open was re-sealed under the new key: one sealed value per request.
    assert_eq!(histogram(&rec, SEALED_BYTES).len(), 3);
}

#[test]
fn sealed_sizes_chunks_and_the_size_warning() {
    let engine = SessionBuilder::new(secret(1))
        .max_cookies(2)
        .on_too_large(TooLargePolicy::KeepResponse)
        .build()
        .unwrap();
    let noise = |n: usize| -> String {
        // Incompressible text (a hash-like sequence), so the sealed size follows the input.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    };
    let rec = record(|| {
        for (i, size) in [10usize, 2000, 5000, 9000].into_iter().enumerate() {
            let session = engine.start([&b""[..]]);
            session.insert("blob", &noise(size)).unwrap();
            let mut res = http::Response::new(());
            session.finish(&mut res).unwrap();
            let cookies = res
                .headers()
                .get_all(http::header::SET_COOKIE)
                .iter()
                .count();
            assert_eq!(cookies, [1, 1, 2, 0][i], "size {size}");
        }
    });
    let sizes = histogram(&rec, SEALED_BYTES);
    assert_eq!(sizes.len(), 4, "the too-large one is measured too");
    assert!(sizes[0] < 200.0 && sizes[3] > 8200.0, "{sizes:?}");
    assert_eq!(histogram(&rec, SEALED_CHUNKS), [1.0, 1.0, 2.0]);
    // Two cookies carry about 8 KB: 80 % is about 6.5 KB, passed by the 5000-byte value only
    // (base64 makes it about 6.7 KB).
    assert_eq!(counter(&rec, SIZE_WARNINGS, &[]), 1);
    assert_eq!(counter(&rec, TOO_LARGE, &[]), 1);
}

#[test]
fn the_size_warning_share_is_configurable() {
    let engine = SessionBuilder::new(secret(1))
        .size_warning_share(0.01)
        .build()
        .unwrap();
    let rec = record(|| {
        let session = engine.start([&b""[..]]);
        session.insert("a", &"x".repeat(100)).unwrap();
        session.finish(&mut http::Response::new(())).unwrap();
    });
    assert_eq!(counter(&rec, SIZE_WARNINGS, &[]), 1);
}

#[test]
fn the_cookie_header_budget() {
    let big = format!("tracking={}", "x".repeat(9000));
    let default = SessionBuilder::new(secret(1)).build().unwrap();
    let rec = record(|| {
        request(&default, "theme=dark");
        request(&default, &big);
    });
    assert_eq!(counter(&rec, COOKIE_HEADER_OVER_BUDGET, &[]), 1);
    assert_eq!(
        histogram(&rec, COOKIE_HEADER_BYTES),
        [10.0, big.len() as f64]
    );

    let raised = SessionBuilder::new(secret(1))
        .cookie_header_budget(Some(16 * 1024))
        .build()
        .unwrap();
    let off = SessionBuilder::new(secret(1))
        .cookie_header_budget(None)
        .build()
        .unwrap();
    let rec = record(|| {
        request(&raised, &big);
        request(&off, &big);
    });
    assert_eq!(counter(&rec, COOKIE_HEADER_OVER_BUDGET, &[]), 0);
}

#[test]
fn epoch_keys_add_no_series_as_epochs_pass() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    let now = Arc::new(AtomicU64::new(1_800_000_000));
    let t = Arc::clone(&now);
    let keys = sealed_session::EpochKeys::new(secret(4), Duration::from_secs(86_400)).unwrap();
    let engine = SessionBuilder::new(keys)
        .cookie_name("s")
        .clock(move || t.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let rec = record(|| {
        // A session sealed in each of 20 epochs, opened in that epoch and in the next one.
        for _ in 0..20 {
            let mut s = SessionState::new();
            s.insert("a", &1u8).unwrap();
            let cookie = cookie_for(&engine, &mut s);
            request(&engine, &cookie);
            now.fetch_add(86_400, Ordering::SeqCst);
            request(&engine, &cookie);
        }
    });
    let mut ids: Vec<&str> = rec
        .iter()
        .filter(|(n, _, _)| n == OPENS_BY_KEY)
        .flat_map(|(_, l, _)| l.iter().filter(|(k, _)| k == "key_id"))
        .map(|(_, v)| v.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["epoch:current", "epoch:previous"]);
    assert_eq!(
        counter(&rec, OPENS_BY_KEY, &[("key_id", "epoch:previous")]),
        20
    );
}
