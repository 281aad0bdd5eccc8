//! The adapter behaviour suite: every rule of the request lifecycle, written once
//! and run against each adapter (actix-web and axum) through one catch-all route per
//! framework (`tests/support/adapters.rs`), with an injectable clock and fixed secrets.

#[path = "support/adapters.rs"]
mod adapters;
#[path = "support/cookies.rs"]
mod cookies;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use adapters::{Adapter, Layout, Profile, Req};
use cookies::{Jar, SetCookie};
use sealed_session::{
    EpochKeys, Keyring, Keys, LoadOutcome, Secret, SessionBuilder, SessionEngine, SessionStatus,
    TooLargePolicy,
};

const T0: u64 = 1_700_000_000;

fn secret(n: u8) -> Secret {
    Secret::from_bytes(&[n; 32]).unwrap()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new(t: u64) -> TestClock {
        TestClock(Arc::new(AtomicU64::new(t)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

fn builder(keys: impl Into<Keys>, clock: &TestClock) -> SessionBuilder {
    let t = Arc::clone(&clock.0);
    // The suite's cookies are named `session` (the default would be `__Host-session`).
    SessionBuilder::new(keys)
        .cookie_name("session")
        .clock(move || t.load(Ordering::SeqCst))
}

/// The request `Cookie` header a client would send after this response: the `name=value`
/// pairs of the response's `Set-Cookie` headers, skipping removals.
fn cookie_header(cookies: &[SetCookie]) -> String {
    cookies
        .iter()
        .filter(|c| !c.is_removal())
        .map(SetCookie::pair)
        .collect::<Vec<_>>()
        .join("; ")
}

fn only_session(cookies: &[SetCookie]) -> &SetCookie {
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0].name, "session");
    &cookies[0]
}

/// The one refresh stamp (`session.t`) a refresh-only response sends.
fn only_stamp(cookies: &[SetCookie]) -> &SetCookie {
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0].name, "session.t");
    assert!(!cookies[0].is_removal());
    &cookies[0]
}

/// The `Cookie` header after applying `cookies` to `header`, as a browser would.
fn apply(header: &str, cookies: &[SetCookie]) -> String {
    let mut jar = Jar::default();
    for pair in header.split("; ").filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap();
        jar.0.insert(k.into(), v.into());
    }
    jar.apply(cookies);
    jar.header()
}

fn assert_removed(cookies: &[SetCookie], name: &str) {
    assert!(
        cookies.iter().any(|c| c.name == name && c.is_removal()),
        "expected a removal of {name}: {cookies:?}"
    );
}

/// A crate-made 500: "internal server error", and in debug builds (these tests) a `hint`
/// that says what went wrong; never anything else.
fn assert_opaque(body: &Value, hint: &str) {
    assert_eq!(body["error"], "internal server error", "{body}");
    if cfg!(debug_assertions) {
        assert!(body["hint"].as_str().unwrap().contains(hint), "{body}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    } else {
        assert_eq!(*body, json!({ "error": "internal server error" }));
    }
}

/// Opens a `Cookie` header with `engine`: the outcome and the value of `n`.
fn open(engine: &SessionEngine, cookie: &str) -> (LoadOutcome, Option<u64>) {
    let loaded = engine.load([cookie.as_bytes()]);
    (loaded.1, loaded.0.get::<u64>("n").unwrap())
}

/// The behaviour suite; instantiated below once per adapter, with `A` the adapter.
macro_rules! suite {
    () => {
        use super::*;

        /// Serves the suite's routes with one session layer built from a `SessionBuilder`.
        macro_rules! app {
            ($config:expr) => {
                A::app($config, Layout::Plain, None).await
            };
        }

        /// Sends a request; returns status, parsed Set-Cookies and the body as JSON.
        macro_rules! call {
            ($app:expr, $method:expr, $uri:expr, $cookie:expr) => {
                $app.call($method, $uri, &$cookie).await
            };
        }

        /// Sends a request that writes `n` and returns the response's session cookie header.
        macro_rules! login {
            ($app:expr, $n:expr) => {{
                let (st, cookies, _) = call!($app, "POST", &format!("/set/{}", $n), "");
                assert_eq!(st, StatusCode::OK);
                assert_eq!(cookies.len(), 1, "{cookies:?}");
                cookie_header(&cookies)
            }};
        }

// ---------------------------------------------------------------------------------------------
// Routes that never extract the session
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn untouched_route_sends_no_cookie_even_with_a_valid_one() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 5);

    let (st, cookies, body) = call!(app, "GET", "/noop", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body, "noop");
    assert!(cookies.is_empty(), "{cookies:?}");

    // Even with the idle refresh long due, an untouched route costs nothing.
    clock.advance(80_000);
    let (_, cookies, _) = call!(app, "GET", "/noop", cookie);
    assert!(cookies.is_empty(), "{cookies:?}");

    // And a garbage cookie on an untouched route is left alone too.
    let (st, cookies, _) = call!(app, "GET", "/noop", "session=garbage");
    assert_eq!(st, StatusCode::OK);
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn untouched_route_reseals_a_cookie_sealed_under_a_fallback_key() {
    let clock = TestClock::new(T0);
    let old_app = app!((builder(secret(1), &clock)));
    let cookie = login!(old_app, 42);

    let ring = Keyring::new(secret(2)).with_fallback(secret(1));
    let app = app!((builder(ring, &clock)));
    let (st, cookies, body) = call!(app, "GET", "/noop", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body, "noop");
    let c = only_session(&cookies);
    assert!(!c.is_removal());
    assert_ne!(c.pair(), cookie);

    // The new cookie opens with a config that only holds the new key, as primary.
    let new_only = builder(secret(2), &clock).build().unwrap();
    assert_eq!(
        open(&new_only, &c.pair()),
        (
            LoadOutcome::Opened {
                needs_reseal: false
            },
            Some(42)
        )
    );
    // The old one does not.
    assert!(matches!(
        open(&new_only, &cookie).0,
        LoadOutcome::Rejected(_)
    ));

    // Sending the re-sealed cookie back to the untouched route: nothing more to do.
    let (_, cookies, _) = call!(app, "GET", "/noop", c.pair());
    assert!(cookies.is_empty(), "{cookies:?}");
}

// ---------------------------------------------------------------------------------------------
// When Set-Cookie is sent
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn new_session_nothing_written_sends_no_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (st, cookies, body) = call!(app, "GET", "/read", "");
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["empty"], true);
    assert_eq!(body["status"], "Unchanged");
    assert!(cookies.is_empty(), "{cookies:?}");

    // Removing a key that is not there changes nothing either.
    let (_, cookies, body) = call!(app, "POST", "/remove-missing", "");
    assert_eq!(body["was"], false);
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn changed_session_sends_a_cookie_that_reads_back() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, cookies, body) = call!(app, "POST", "/incr", "");
    assert_eq!(body["status"], "Changed");
    let mut cookie = cookie_header(&cookies);
    only_session(&cookies);
    for expected in 2..=4u64 {
        let (_, cookies, body) = call!(app, "POST", "/incr", cookie);
        assert_eq!(body["n"], expected);
        let c = only_session(&cookies);
        assert!(!c.is_removal());
        cookie = c.pair();
    }
    let (_, _, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["n"], 4);
}

#[actix_web::test]
async fn unchanged_session_within_the_refresh_share_sends_no_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)
        .idle_timeout(Duration::from_secs(1000))
        .refresh_share(0.25)));
    let cookie = login!(app, 7);
    clock.advance(249);
    let (st, cookies, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["n"], 7);
    assert_eq!(body["status"], "Unchanged");
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn writing_the_same_value_again_sends_no_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 7);
    let (_, cookies, body) = call!(app, "POST", "/set/7", cookie);
    assert_eq!(body["status"], "Unchanged");
    assert!(cookies.is_empty(), "{cookies:?}");
    // A different value does.
    let (_, cookies, _) = call!(app, "POST", "/set/8", cookie);
    only_session(&cookies);
}

#[actix_web::test]
async fn idle_refresh_due_resends_the_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)
        .idle_timeout(Duration::from_secs(1000))
        .refresh_share(0.25)));
    let cookie = login!(app, 3);
    clock.advance(250); // refresh_share * idle
    let (_, cookies, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["status"], "Unchanged");
    // The refresh is a stamp beside the session cookie, carrying the idle deadline from now;
    // the session cookie itself is not re-sent (no lost updates: a refresh never rewrites the value).
    let c = only_stamp(&cookies);
    assert_eq!(c.max_age(), Some(1000));
    let refreshed = apply(&cookie, &cookies);

    // Past the original idle deadline, the cookie alone is dead but with its stamp it lives.
    clock.advance(800); // T0 + 1050
    let (_, cookies, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["empty"], true);
    assert_removed(&cookies, "session");
    let (_, _, body) = call!(app, "GET", "/read", refreshed);
    assert_eq!(body["n"], 3);
}

#[actix_web::test]
async fn refresh_share_zero_resends_on_every_request() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).refresh_share(0.0)));
    let cookie = login!(app, 3);
    let (_, cookies, _) = call!(app, "GET", "/read", cookie);
    only_stamp(&cookies);
}

// ---------------------------------------------------------------------------------------------
// Key rotation
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn rotation_a_then_b_a_then_b() {
    let clock = TestClock::new(T0);
    let app_a = app!((builder(Keyring::new(secret(0xA)), &clock)));
    let cookie_a = login!(app_a, 11);

    // [B, A]: A's cookie opens and is re-sealed under B although the handler changed nothing.
    let ring_ba = Keyring::from_secrets([secret(0xB), secret(0xA)]).unwrap();
    let app_ba = app!((builder(ring_ba, &clock)));
    let (st, cookies, body) = call!(app_ba, "GET", "/read", cookie_a);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["n"], 11);
    assert_eq!(body["status"], "Unchanged");
    let resealed = only_session(&cookies).pair();
    let b_only = builder(secret(0xB), &clock).build().unwrap();
    assert_eq!(
        open(&b_only, &resealed),
        (
            LoadOutcome::Opened {
                needs_reseal: false
            },
            Some(11)
        )
    );
    // Under [B, A] the re-sealed cookie is current: no further Set-Cookie.
    let (_, cookies, _) = call!(app_ba, "GET", "/read", resealed);
    assert!(cookies.is_empty(), "{cookies:?}");

    // [B]: A's original cookie is a new session (200). It is not removed: a key this
    // instance does not know may be one another instance already has (a rollout in
    // progress), so only a write replaces it. The re-sealed one opens.
    let app_b = app!((builder(Keyring::new(secret(0xB)), &clock)));
    let (st, cookies, body) = call!(app_b, "GET", "/read", cookie_a);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["empty"], true);
    assert!(cookies.is_empty(), "{cookies:?}");
    let (st, cookies, body) = call!(app_b, "GET", "/read", resealed);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["n"], 11);
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn epoch_keys_across_period_boundaries() {
    let clock = TestClock::new(1_000_000); // epoch 10_000 with a 100 s period
    let keys = EpochKeys::new(secret(9), Duration::from_secs(100)).unwrap();
    // A period must be at least the idle timeout and longer than twice the skew .
    let b = builder(keys, &clock).idle_timeout(Duration::from_secs(100));
    let app = app!((b.clock_skew(Duration::from_secs(10)).refresh_share(1.0)));
    let cookie_e = login!(app, 21);

    // Same epoch: current key, nothing to re-seal.
    clock.advance(50);
    let (_, cookies, _) = call!(app, "GET", "/read", cookie_e);
    assert!(cookies.is_empty(), "{cookies:?}");

    // Epoch e+1: opens under the previous epoch's key and is re-sealed.
    clock.set(1_000_100);
    let (st, cookies, body) = call!(app, "GET", "/read", cookie_e);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["n"], 21);
    let resealed = only_session(&cookies).pair();
    assert_ne!(resealed, cookie_e);
    // The untouched route re-seals too.
    let (_, cookies, _) = call!(app, "GET", "/noop", cookie_e);
    only_session(&cookies);

    // Epoch e+2: the cookie unused for two epochs no longer opens (an unknown key: not
    // removed, only replaced by a write); the re-sealed one does.
    clock.set(1_000_200);
    let (st, cookies, body) = call!(app, "GET", "/read", cookie_e);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["empty"], true);
    assert!(cookies.is_empty(), "{cookies:?}");
    let (_, cookies, body) = call!(app, "GET", "/read", resealed);
    assert_eq!(body["n"], 21);
    only_session(&cookies); // sealed in e+1, re-sealed again in e+2
}

// ---------------------------------------------------------------------------------------------
// Bad cookies
// ---------------------------------------------------------------------------------------------

/// `cookie` is treated as no session: empty, removed, never a 5xx.
macro_rules! assert_rejected {
    ($app:expr, $cookie:expr, $name:expr) => {{
        assert_rejected!($app, $cookie, $name, true)
    }};
    ($app:expr, $cookie:expr, $name:expr, $removed:expr) => {{
        let cookie: String = $cookie;
        let (st, cookies, body) = call!($app, "GET", "/read", cookie);
        assert_eq!(st, StatusCode::OK, "{cookie}: {body}");
        assert_eq!(body["empty"], true, "{cookie}");
        assert_eq!(body["n"], Value::Null, "{cookie}");
        if $removed {
            assert_removed(&cookies, $name);
        } else {
            assert!(cookies.is_empty(), "kept: {cookies:?}");
        }
        assert!(
            cookies.iter().all(|c| c.is_removal()),
            "only removals: {cookies:?}"
        );
    }};
}

#[actix_web::test]
async fn garbage_truncated_and_bit_flipped_cookies_are_no_session() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 1);
    let value = cookie.strip_prefix("session=").unwrap().to_string();

    assert_rejected!(app, "session=garbage".into(), "session");
    assert_rejected!(app, "session=".into(), "session");
    assert_rejected!(app, "session=%%%%%%%%".into(), "session");
    assert_rejected!(app, "session=3.abc".into(), "session"); // announces missing chunks
    assert_rejected!(
        app,
        format!("session={}", &value[..value.len() / 2]),
        "session"
    );
    assert_rejected!(
        app,
        format!("session={}", &value[..value.len() - 1]),
        "session"
    );
    let engine = builder(secret(1), &clock).build().unwrap();
    for pos in [0, 3, 5, value.len() / 2, value.len() - 2] {
        let mut bytes = value.clone().into_bytes();
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        let flipped = format!("session={}", String::from_utf8(bytes).unwrap());
        // A flip in the key id makes an unknown key, which another instance might hold:
        // kept. Every other flip is a cookie nobody can open: removed.
        let LoadOutcome::Rejected(reason) = open(&engine, &flipped).0 else {
            panic!("a flipped cookie opened");
        };
        assert_rejected!(app, flipped, "session", reason.remove_cookie());
    }
    // Still fine untouched.
    let (_, _, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["n"], 1);
}

#[actix_web::test]
async fn a_cookie_moved_to_another_name_does_not_open() {
    let clock = TestClock::new(T0);
    let alpha = app!((builder(secret(1), &clock).cookie_name("alpha")));
    let beta = app!((builder(secret(1), &clock).cookie_name("beta")));
    let (_, cookies, _) = call!(alpha, "POST", "/set/5", "");
    assert_eq!(cookies[0].name, "alpha");
    let value = cookies[0].value.clone();
    // Same key, other name: the name is bound into the seal.
    assert_rejected!(beta, format!("beta={value}"), "beta");
    // Under its own name it opens.
    let (_, _, body) = call!(alpha, "GET", "/read", format!("alpha={value}"));
    assert_eq!(body["n"], 5);
}

#[actix_web::test]
async fn idle_expired_cookie_is_no_session() {
    let clock = TestClock::new(T0);
    let app = app!((
        builder(secret(1), &clock).idle_timeout(Duration::from_secs(100))
    ));
    let cookie = login!(app, 1);
    clock.advance(101); // at +100 the 100 s may not have passed yet (whole-second stamps)
    assert_rejected!(app, cookie.clone(), "session");
}

#[actix_web::test]
async fn absolute_expired_cookie_is_no_session_even_when_kept_fresh() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)
        .idle_timeout(Duration::from_secs(100))
        .absolute_timeout(Duration::from_secs(250))));
    let mut cookie = login!(app, 1);
    // Keep it fresh with touches every 60 s: the absolute deadline still ends it.
    for _ in 0..4 {
        clock.advance(60);
        let (_, cookies, _) = call!(app, "POST", "/touch", cookie);
        only_stamp(&cookies);
        cookie = apply(&cookie, &cookies);
    }
    clock.set(T0 + 251);
    assert_rejected!(app, cookie.clone(), "session");

    // Without an idle limit, the absolute one alone applies.
    let app = app!((builder(secret(1), &clock)
        .no_idle_timeout()
        .absolute_timeout(Duration::from_secs(100))));
    let cookie = login!(app, 2);
    clock.advance(99);
    let (_, _, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["n"], 2);
    clock.advance(2);
    assert_rejected!(app, cookie.clone(), "session");
}

// ---------------------------------------------------------------------------------------------
// Too large
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn too_large_session_is_a_500_with_size_and_limit_and_no_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).max_cookies(1)));
    let cookie = login!(app, 3);
    let (st, cookies, body) = call!(app, "POST", "/blob?size=10240", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(cookies.is_empty(), "{cookies:?}");
    let size = body["size"].as_u64().expect("size");
    let limit = body["limit"].as_u64().expect("limit");
    assert_eq!(limit, 4096);
    assert!(size > limit, "{body}");
    assert!(body["error"].is_string(), "{body}");
    // The client keeps its last good cookie.
    let (_, _, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["n"], 3);
}

#[actix_web::test]
async fn too_large_with_keep_response_keeps_the_handler_status_and_sends_no_cookie() {
    let clock = TestClock::new(T0);
    let app =
        app!((builder(secret(1), &clock).max_cookies(1))
            .on_too_large(TooLargePolicy::KeepResponse));
    let (st, cookies, body) = call!(app, "POST", "/blob?size=10240", "");
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(body, json!({ "size": 10240 }));
    assert!(cookies.is_empty(), "{cookies:?}");
}

// ---------------------------------------------------------------------------------------------
// Chunking
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn chunks_fit_read_back_in_any_order_and_stale_ones_are_removed() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).max_cookies(3)));
    let (st, cookies, _) = call!(app, "POST", "/blob?size=8000", "");
    assert_eq!(st, StatusCode::CREATED);
    let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["session", "session.1", "session.2"]);
    for c in &cookies {
        assert!(c.name.len() + c.value.len() <= 4096, "{}", c.name);
        assert!(!c.is_removal());
    }
    let mut jar = Jar::default();
    jar.apply(&cookies);

    // Any order.
    let mut pairs: Vec<String> = cookies.iter().map(SetCookie::pair).collect();
    for _ in 0..3 {
        pairs.rotate_left(1);
        let (st, cookies, body) = call!(app, "GET", "/blob", pairs.join("; "));
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["size"], 8000);
        assert!(cookies.is_empty(), "{cookies:?}");
    }
    pairs.reverse();
    let (_, _, body) = call!(app, "GET", "/blob", pairs.join("; "));
    assert_eq!(body["size"], 8000);
    // Or as separate Cookie headers.
    let r = pairs
        .iter()
        .fold(Req::new("GET", "/blob", ""), |r, p| r.header("cookie", p));
    assert_eq!(app.send(r).await.body["size"], 8000);

    // A missing chunk: no session, every chunk sent is removed.
    let (st, cookies, body) = call!(app, "GET", "/blob", format!("{}; {}", pairs[0], pairs[2]));
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["size"], Value::Null);
    assert!(cookies.iter().all(SetCookie::is_removal), "{cookies:?}");

    // Shrinking: one cookie, and removals for the stale chunks.
    let (st, cookies, _) = call!(app, "POST", "/blob?size=100", jar.header());
    assert_eq!(st, StatusCode::CREATED);
    let live: Vec<&SetCookie> = cookies.iter().filter(|c| !c.is_removal()).collect();
    assert_eq!(live.len(), 1, "{cookies:?}");
    assert_eq!(live[0].name, "session");
    assert!(
        !live[0].value.contains('.'),
        "a single cookie has no count prefix"
    );
    assert_removed(&cookies, "session.1");
    assert_removed(&cookies, "session.2");
    for c in cookies.iter().filter(|c| c.is_removal()) {
        assert_eq!(c.attr("Path"), Some(Some("/")), "{}", c.raw);
    }
    jar.apply(&cookies);
    assert_eq!(jar.0.len(), 1);
    let (_, _, body) = call!(app, "GET", "/blob", jar.header());
    assert_eq!(body["size"], 100);
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn secure_attributes_by_default() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, cookies, _) = call!(app, "POST", "/set/1", "");
    let c = only_session(&cookies);
    assert_eq!(c.attr("HttpOnly"), Some(None), "{}", c.raw);
    assert_eq!(c.attr("Secure"), Some(None), "{}", c.raw);
    assert_eq!(c.attr("SameSite"), Some(Some("Lax")), "{}", c.raw);
    assert_eq!(c.attr("Path"), Some(Some("/")), "{}", c.raw);
    assert_eq!(c.attr("Domain"), None, "{}", c.raw);
    // The session cookie lives until the absolute deadline (7 days by default); refresh
    // stamps carry the idle deadline.
    assert_eq!(c.max_age(), Some(7 * 86_400));

    // Removals carry the same attributes.
    let (_, cookies, _) = call!(app, "POST", "/purge", c.pair());
    let r = only_session(&cookies);
    assert!(r.is_removal());
    assert_eq!(r.attr("HttpOnly"), Some(None), "{}", r.raw);
    assert_eq!(r.attr("Secure"), Some(None), "{}", r.raw);
    assert_eq!(r.attr("Path"), Some(Some("/")), "{}", r.raw);

    // And Secure can be turned off (for plain-HTTP development).
    let app = app!((builder(secret(1), &clock).secure(false)));
    let (_, cookies, _) = call!(app, "POST", "/set/1", "");
    assert_eq!(only_session(&cookies).attr("Secure"), None);
}

#[actix_web::test]
async fn max_age_never_exceeds_the_absolute_deadline() {
    let clock = TestClock::new(T0);
    let absolute = 300u64;
    let app = app!((builder(secret(1), &clock)
        .idle_timeout(Duration::from_secs(1000))
        .absolute_timeout(Duration::from_secs(absolute))));
    let (_, cookies, _) = call!(app, "POST", "/set/1", "");
    let c = only_session(&cookies);
    assert!(c.max_age().unwrap() <= absolute as i64, "{}", c.raw);
    let mut cookie = c.pair();
    for (elapsed, path) in [(40u64, "/touch"), (120, "/incr"), (299, "/touch")] {
        clock.set(T0 + elapsed);
        let (_, cookies, _) = call!(app, "POST", path, cookie);
        for c in cookies.iter().filter(|c| !c.is_removal()) {
            let max_age = c.max_age().unwrap();
            assert!(max_age > 0, "{}", c.raw);
            assert!(
                max_age <= (absolute - elapsed) as i64,
                "{elapsed}: {}",
                c.raw
            );
        }
        cookie = apply(&cookie, &cookies);
    }
    // Renewing restarts the absolute lifetime.
    let (_, cookies, body) = call!(app, "POST", "/renew", cookie);
    let renewed: Vec<_> = cookies.iter().filter(|c| !c.is_removal()).collect();
    assert_eq!(renewed.len(), 1, "{cookies:?}");
    assert_eq!(renewed[0].max_age(), Some(absolute as i64));
    // The stamp of the old value goes with it.
    assert_removed(&cookies, "session.t");
    assert_eq!(body["deadlines"]["absoluteExpiresAt"], T0 + 299 + absolute);
}

// ---------------------------------------------------------------------------------------------
// The Session extractor
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn renew_keeps_data_restarts_lifetime_and_sends_a_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 4);
    clock.advance(10);
    let (_, _, before) = call!(app, "GET", "/deadlines", cookie);
    assert_eq!(before["createdAt"], T0);
    assert_eq!(before["absoluteExpiresAt"], T0 + 7 * 86_400);

    let (st, cookies, body) = call!(app, "POST", "/renew", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["state"]["status"], "Renewed");
    assert_eq!(body["state"]["n"], 4);
    assert_eq!(body["deadlines"]["createdAt"], T0 + 10);
    let renewed = only_session(&cookies).pair();
    assert_ne!(renewed, cookie);
    let (_, cookies, after) = call!(app, "GET", "/deadlines", renewed);
    assert!(cookies.is_empty());
    assert_eq!(after["createdAt"], T0 + 10);
    assert_eq!(after["absoluteExpiresAt"], T0 + 10 + 7 * 86_400);
    assert_eq!(after["idleExpiresAt"], T0 + 10 + 86_400);

    // Renewing an empty new session sends nothing (there is nothing to keep).
    let (_, cookies, _) = call!(app, "POST", "/renew", "");
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn purge_removes_the_cookie_and_empties_the_session() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 4);
    let (st, cookies, body) = call!(app, "POST", "/purge", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["status"], "Purged");
    assert_eq!(body["empty"], true);
    let c = only_session(&cookies);
    assert!(c.is_removal());
    assert_eq!(c.value, "");
    assert!(c.raw.contains("Max-Age=0"), "{}", c.raw);

    // Purging without a cookie: nothing to remove.
    let (_, cookies, _) = call!(app, "POST", "/purge", "");
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn touch_resends_with_a_fresh_idle_deadline() {
    let clock = TestClock::new(T0);
    let app = app!((
        builder(secret(1), &clock).idle_timeout(Duration::from_secs(1000))
    ));
    let cookie = login!(app, 4);
    clock.advance(10); // well within the refresh share
    let (_, cookies, body) = call!(app, "POST", "/touch", cookie);
    assert_eq!(body["status"], "Unchanged");
    let c = only_stamp(&cookies);
    assert_eq!(c.max_age(), Some(1000));
    let touched = apply(&cookie, &cookies);
    clock.set(T0 + 1005); // past the first cookie's idle deadline, within the touched one's
    let (_, _, body) = call!(app, "GET", "/read", touched);
    assert_eq!(body["n"], 4);
    assert_rejected!(app, cookie.clone(), "session");

    // Touching an empty new session sends nothing.
    let (_, cookies, _) = call!(app, "POST", "/touch", "");
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[actix_web::test]
async fn status_reports_what_happened() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, _, body) = call!(app, "GET", "/read", "");
    assert_eq!(body["status"], format!("{:?}", SessionStatus::Unchanged));
    let (_, _, body) = call!(app, "POST", "/set/1", "");
    assert_eq!(body["status"], format!("{:?}", SessionStatus::Changed));
    let (_, _, body) = call!(app, "POST", "/renew", "");
    assert_eq!(body["state"]["status"], format!("{:?}", SessionStatus::Renewed));
    let (_, _, body) = call!(app, "POST", "/purge", "");
    assert_eq!(body["status"], format!("{:?}", SessionStatus::Purged));
}

#[actix_web::test]
async fn data_and_set_data_round_trip_a_struct() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, _, body) = call!(app, "GET", "/data", "");
    assert_eq!(body["data"], Value::Null);
    let profile = Profile {
        user: "ada".into(),
        visits: 3,
    };
    let res = app
        .send(Req::new("POST", "/data", "").json(serde_json::to_value(&profile).unwrap()))
        .await;
    let cookie = cookie_header(&res.set_cookies());
    assert!(!cookie.is_empty());
    let (_, cookies, body) = call!(app, "GET", "/data", cookie);
    assert!(cookies.is_empty());
    let back: Profile = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(back, profile);
}

#[actix_web::test]
async fn remove_as_and_clear() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 9);
    let (_, cookies, body) = call!(app, "POST", "/remove-n", cookie);
    assert_eq!(body["old"], 9);
    assert_eq!(body["state"]["n"], Value::Null);
    assert_eq!(body["state"]["status"], "Changed");
    // The only entry is gone: the emptied session's cookie is removed.
    assert!(only_session(&cookies).is_removal());

    let (_, cookies, body) = call!(app, "POST", "/clear", cookie);
    assert_eq!(body["empty"], true);
    assert!(only_session(&cookies).is_removal());

    // Clearing an empty session changes nothing.
    let (_, cookies, body) = call!(app, "POST", "/clear", "");
    assert_eq!(body["status"], "Unchanged");
    assert!(cookies.is_empty());
}

#[actix_web::test]
async fn extracting_session_twice_shares_one_state() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, cookies, body) = call!(app, "POST", "/twice", "");
    assert_eq!(body["before"], Value::Null);
    assert_eq!(body["b_sees"], 10);
    assert_eq!(body["b_status"], "Changed");
    assert_eq!(body["a_status"], "Changed");
    let cookie = only_session(&cookies).pair();
    let (_, cookies, body) = call!(app, "POST", "/twice", cookie);
    assert_eq!(body["before"], 10);
    assert_eq!(body["b_sees"], 20);
    assert!(!only_session(&cookies).value.is_empty());
    // A rejected cookie is opened once: one removal, not one per extractor.
    let (_, cookies, body) = call!(app, "POST", "/twice", "session=garbage");
    assert_eq!(body["before"], Value::Null);
    let c = only_session(&cookies);
    assert!(!c.is_removal(), "the new session was written: {cookies:?}");
}

#[actix_web::test]
async fn session_without_the_layer_is_an_opaque_500() {
    let clock = TestClock::new(T0);
    let app = A::app(builder(secret(1), &clock), Layout::NoLayer, None).await;
    let res = app.send(Req::new("GET", "/read", "session=x")).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.set_cookies().is_empty());
    assert_opaque(&res.body, "no session layer runs on this route");
    // A route that does not use the session is unaffected.
    let res = app.send(Req::new("GET", "/noop", "")).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[actix_web::test]
async fn deadlines_match_the_cookie_the_response_sends() {
    let clock = TestClock::new(T0);
    let idle = 1000u64;
    let ring = Keyring::new(secret(2)).with_fallback(secret(1));
    let app = app!((builder(ring, &clock)
        .idle_timeout(Duration::from_secs(idle))
        .refresh_share(0.25)));
    let old_app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 1);
    let old_cookie = login!(old_app, 1);

    // Within the share: no cookie, the deadline stays where the cookie put it.
    clock.set(T0 + 100);
    let (_, cookies, body) = call!(app, "GET", "/deadlines", cookie);
    assert!(cookies.is_empty());
    assert_eq!(body["idleExpiresAt"], T0 + idle);

    // Refresh due: the response sends a refresh stamp, so the deadline moves to now + idle.
    clock.set(T0 + 300);
    let (_, cookies, body) = call!(app, "GET", "/deadlines", cookie);
    let max_age = only_stamp(&cookies).max_age().unwrap() as u64;
    assert_eq!(body["idleExpiresAt"], T0 + 300 + max_age, "{body}");

    // Re-sealed under the primary: stamped now as well (the session cookie's Max-Age runs
    // to the absolute deadline; the idle deadline is now + idle).
    clock.set(T0 + 310);
    let (_, cookies, body) = call!(app, "GET", "/deadlines", old_cookie);
    let max_age = only_session(&cookies).max_age().unwrap() as u64;
    assert_eq!(body["absoluteExpiresAt"], T0 + 310 + max_age, "{body}");
    assert_eq!(body["idleExpiresAt"], T0 + 310 + idle, "{body}");
}


// ---------------------------------------------------------------------------------------------
// Edge cases decided once in the core
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn nested_layers_never_send_two_session_cookies_and_the_inner_one_owns() {
    let clock = TestClock::new(T0);
    for inner_name in ["session", "inner"] {
        let app = A::app(
            builder(secret(1), &clock),
            Layout::Nested,
            Some(builder(secret(2), &clock).cookie_name(inner_name)),
        )
        .await;
        // Outside the inner scope: the outer layer alone.
        let (_, cookies, body) = call!(app, "POST", "/incr", "");
        assert_eq!(body["n"], 1);
        let outer_cookie = only_session(&cookies).pair();
        // Inside: the inner layer owns the request (its key, its name); the outer one,
        // whose session the handler never sees, sends nothing.
        let res = app.send(Req::new("POST", "/inner/incr", &outer_cookie)).await;
        let cookies = res.set_cookies();
        assert_eq!(cookies.len(), 1, "{inner_name}: {cookies:?}");
        assert_eq!(cookies[0].name, inner_name);
        assert_eq!(res.body["n"], 1, "the inner session is its own");
        let inner_engine = builder(secret(2), &clock).cookie_name(inner_name).build().unwrap();
        assert_eq!(open(&inner_engine, &cookies[0].pair()).1, Some(1));
        // Even when the outer cookie is under an old key (the outer layer would re-seal it
        // on an untouched route), only the inner layer writes.
        let old = builder(secret(9), &clock).build().unwrap();
        let mut s = sealed_session::SessionState::new();
        s.insert("n", &5u64).unwrap();
        let old_cookie = format!("session={}", old.seal(&mut s).unwrap());
        let res = app.send(Req::new("POST", "/inner/noop", &old_cookie)).await;
        assert!(res.set_cookies().len() <= 1, "{:?}", res.set_cookies());
    }
}

#[actix_web::test]
async fn a_write_after_the_response_is_an_error_not_a_lost_write() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let (_, cookies, _) = call!(app, "POST", "/leak", "");
    assert!(cookies.is_empty());
    let leaked = app.leaks.lock().unwrap().pop().unwrap();
    assert_eq!(
        leaked.insert("late", &1u8),
        Err(sealed_session::Error::Committed)
    );
    assert_eq!(leaked.purge(), Err(sealed_session::Error::Committed));
    // Reading is still fine.
    assert!(leaked.is_empty());
}

#[actix_web::test]
async fn writes_of_a_handler_that_answers_5xx_are_discarded_4xx_kept() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 1);
    let (st, cookies, _) = call!(app, "POST", "/write-then-fail", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(cookies.is_empty(), "discarded: {cookies:?}");
    let (st, cookies, _) = call!(app, "POST", "/write-then-reject", cookie);
    assert_eq!(st, StatusCode::NOT_FOUND);
    let c = only_session(&cookies).pair();
    let (_, _, body) = call!(app, "GET", "/read", c);
    assert_eq!(body["n"], 404);

    // The other policy commits whatever the status.
    let app = app!((builder(secret(1), &clock).on_server_error(sealed_session::ServerErrorWrites::Commit)));
    let (st, cookies, _) = call!(app, "POST", "/write-then-fail", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    let c = only_session(&cookies).pair();
    let (_, _, body) = call!(app, "GET", "/read", c);
    assert_eq!(body["n"], 999);

    // A rejected cookie is still removed on a discarded response.
    let app = app!((builder(secret(1), &clock)));
    let (_, cookies, _) = call!(app, "POST", "/write-then-fail", "session=garbage");
    assert!(only_session(&cookies).is_removal());
}

#[actix_web::test]
async fn error_bodies_are_opaque_and_stale_values_are_recoverable() {
    let clock = TestClock::new(T0);
    // By default a value that no longer decodes is absent and dropped: never a 500.
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 3);
    let (st, cookies, body) = call!(app, "GET", "/stale-unhandled", cookie);
    assert_eq!((st, &body), (StatusCode::OK, &json!({ "profile": null })));
    assert!(only_session(&cookies).is_removal(), "the only entry went");
    // An app that asks for the error gets it.
    let app = app!((builder(secret(1), &clock).on_undecodable(sealed_session::Undecodable::Error)));
    // "n" holds a u64; reading it as a Profile fails. Unhandled: an opaque 500.
    let (st, cookies, body) = call!(app, "GET", "/stale-unhandled", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_opaque(&body, "SessionBuilder::schema");
    assert!(cookies.is_empty());
    // Handled as the docs say: the value is dropped and the next request is fine.
    let (st, cookies, body) = call!(app, "GET", "/stale", cookie);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["recovered"], "n");
    assert!(only_session(&cookies).is_removal(), "the only entry went");
    // The too-large 500 names size and limit only.
    let (st, _, body) = call!(app, "POST", "/blob?size=10240", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "limit", "maxCookies", "size"], "{body}");
}

#[actix_web::test]
async fn a_deploy_that_changes_a_stored_struct_is_never_a_500() {
    #[derive(serde::Serialize)]
    struct ProfileV1 {
        user: String,
    }
    let clock = TestClock::new(T0);
    // The previous release stored a profile without `visits`.
    let previous = builder(secret(1), &clock).build().unwrap();
    let mut s = sealed_session::SessionState::new();
    s.set_data(&ProfileV1 { user: "ada".into() }).unwrap();
    s.insert("n", &7u64).unwrap();
    let cookie = previous.set_cookies(&mut s).unwrap()[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // This release reads `Profile { user, visits }`: the old value is absent, not an error,
    // and the rest of the session is untouched.
    let app = app!((builder(secret(1), &clock)));
    for _ in 0..2 {
        let (st, cookies, body) = call!(app, "GET", "/data", cookie);
        assert_eq!((st, &body["data"]), (StatusCode::OK, &Value::Null));
        let (_, _, body) = call!(app, "GET", "/read", apply(&cookie, &cookies));
        assert_eq!(body["n"], 7, "the other entries stay");
    }
    // The response dropped the stale value from the cookie.
    let (_, cookies, _) = call!(app, "GET", "/data", cookie);
    let next = apply(&cookie, &cookies);
    assert_ne!(next, cookie);
    let (_, cookies, body) = call!(app, "GET", "/data", next);
    assert_eq!(body["data"], Value::Null);
    assert!(cookies.is_empty(), "nothing left to drop: {cookies:?}");
}

// ---------------------------------------------------------------------------------------------
// Hostile and broken input
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn cache_headers_protect_session_responses() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    // A response that sets the session is private; one that used it varies on Cookie.
    let res = app.send(Req::new("POST", "/incr", "")).await;
    assert_eq!(res.all("cache-control"), ["private"]);
    assert_eq!(res.all("vary"), ["Cookie"]);
    let cookie = cookie_header(&res.set_cookies());
    let res = app.send(Req::new("GET", "/read", &cookie)).await;
    assert!(res.set_cookies().is_empty());
    assert!(res.all("cache-control").is_empty());
    assert_eq!(res.all("vary"), ["Cookie"]);
    // An untouched route neither sets nor varies.
    let res = app.send(Req::new("GET", "/noop", &cookie)).await;
    assert!(res.all("vary").is_empty() && res.all("cache-control").is_empty());

    // A response the app marked public never carries the session.
    let res = app.send(Req::new("POST", "/incr-public", &cookie)).await;
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
    assert_eq!(res.all("cache-control"), ["public, max-age=60"]);

    // A crafted cookie whose header names an unknown old key makes an untouched route try a
    // re-seal; on a public static page that must not turn into a removal either.
    let old = builder(secret(7), &clock).build().unwrap();
    let mut s = sealed_session::SessionState::new();
    s.insert("n", &1u64).unwrap();
    let mut forged = old.seal(&mut s).unwrap().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = format!("session={}", String::from_utf8(forged).unwrap());
    let res = app.send(Req::new("GET", "/public", &forged)).await;
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
    // During a rotation an untouched non-public route re-seals, privately.
    let ring = Keyring::new(secret(2)).with_fallback(secret(1));
    let rotated = app!((builder(ring, &clock)));
    let res = rotated.send(Req::new("GET", "/noop", &cookie)).await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.all("cache-control"), ["private"]);
    let res = rotated.send(Req::new("GET", "/public", &cookie)).await;
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
}

#[actix_web::test]
async fn a_planted_duplicate_cookie_neither_logs_out_nor_replaces_the_session() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let good = login!(app, 7);
    let good_value = good.strip_prefix("session=").unwrap();
    // Planted values: garbage, and a real session sealed by someone else's key.
    let other = builder(secret(66), &clock).build().unwrap();
    let mut s = sealed_session::SessionState::new();
    s.insert("n", &666u64).unwrap();
    let foreign = other.seal(&mut s).unwrap();
    for planted in ["garbage".to_string(), foreign] {
        // Browsers send the more specific (planted with a longer path) cookie first.
        let header = format!("session={planted}; session={good_value}");
        let (st, cookies, body) = call!(app, "GET", "/read", header);
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["n"], 7, "{planted}");
        assert!(cookies.is_empty(), "no removal when one opened: {cookies:?}");
        // Writing works and keeps the user's session.
        let (_, cookies, body) = call!(app, "POST", "/incr", header);
        assert_eq!(body["n"], 8);
        assert!(cookies.iter().all(|c| !c.is_removal()), "{cookies:?}");
    }
    // Only a handful of candidates are tried: the first two and the last two of a name.
    let many = std::iter::repeat_n("session=garbage", 10)
        .chain([good.as_str()])
        .collect::<Vec<_>>()
        .join("; ");
    let (_, cookies, body) = call!(app, "GET", "/read", many);
    assert_eq!(body["n"], 7, "the last candidate is kept and tried");
    assert!(cookies.is_empty(), "{cookies:?}");
    let middle = ["session=garbage"; 2]
        .into_iter()
        .chain([good.as_str()])
        .chain(["session=garbage"; 10])
        .collect::<Vec<_>>()
        .join("; ");
    let (_, cookies, body) = call!(app, "GET", "/read", middle);
    assert_eq!(body["n"], Value::Null, "a value in the middle is not tried");
    assert!(cookies.is_empty(), "and nothing is removed: {cookies:?}");
}

#[actix_web::test]
async fn regenerate_drops_planted_data_renew_keeps_it() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 7);
    let (_, cookies, body) = call!(app, "POST", "/regenerate", cookie);
    assert_eq!(body["keys"], json!(["fresh"]));
    assert_eq!(body["state"]["status"], "Renewed");
    let regenerated = only_session(&cookies).pair();
    let (_, _, body) = call!(app, "GET", "/read", regenerated);
    assert_eq!(body["n"], Value::Null);
    let (_, _, body) = call!(app, "POST", "/renew", cookie);
    assert_eq!(body["state"]["n"], 7);
}

#[actix_web::test]
async fn chunks_are_read_and_removed_only_as_this_configuration_writes_them() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).max_cookies(1)));
    let cookie = login!(app, 1);
    // An unrelated cookie named like a chunk is never deleted with max_cookies(1).
    let (_, cookies, _) = call!(app, "POST", "/incr", format!("{cookie}; session.7=theirs"));
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    // A chunk count above max_cookies is not read.
    let three = app!((builder(secret(1), &clock).max_cookies(3)));
    let mut jar = Jar::default();
    let (_, cookies, _) = call!(three, "POST", "/blob?size=5000", "");
    jar.apply(&cookies);
    assert_eq!(jar.0.len(), 2);
    let two = app!((builder(secret(1), &clock).max_cookies(2)));
    let (_, _, body) = call!(two, "GET", "/blob", jar.header());
    assert_eq!(body["size"], 5000, "two chunks fit max_cookies(2)");
    let (_, _, body) = call!(app, "GET", "/blob", jar.header());
    assert_eq!(body["size"], Value::Null, "max_cookies(1) reads no chunked value");
    // A single cookie longer than any browser keeps does not open, even if it would
    // authenticate (sealed by an engine allowing several cookies, then joined).
    let joined = format!(
        "session={}{}",
        jar.0["session"].split_once('.').unwrap().1,
        jar.0["session.1"]
    );
    let (_, _, body) = call!(three, "GET", "/blob", joined);
    assert_eq!(body["size"], Value::Null);
}

#[actix_web::test]
async fn a_session_over_max_session_bytes_is_too_large_and_the_client_keeps_its_cookie() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).max_cookies(8).max_session_bytes(4096)));
    let cookie = login!(app, 2);
    let (st, cookies, body) = call!(app, "POST", "/blob?size=5000", cookie);
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(cookies.is_empty());
    assert_eq!(body["limit"], 4096);
    let (_, _, body) = call!(app, "GET", "/read", cookie);
    assert_eq!(body["n"], 2);
}
#[actix_web::test]
async fn extracting_the_session_runs_the_revalidation_when_due() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).revalidate(
        Duration::from_secs(60),
        |r| {
            let n: Option<u64> = r.session.get("n").ok().flatten();
            Box::pin(async move {
                match n {
                    Some(13) => sealed_session::Verdict::Reject,
                    Some(7) => {
                        let mut fresh = sealed_session::SessionState::new();
                        fresh.insert("n", &8u64).unwrap();
                        sealed_session::Verdict::Replace(fresh)
                    }
                    _ => sealed_session::Verdict::Keep,
                }
            })
        },
    )));
    let revoked = login!(app, 13);
    let kept = login!(app, 1);
    let replaced = login!(app, 7);
    // Not due yet: nothing checked.
    clock.advance(59);
    let (_, cookies, body) = call!(app, "GET", "/read", revoked);
    assert_eq!(body["n"], 13);
    assert!(cookies.is_empty());
    // Due: revoked before the handler reads it, and removed.
    clock.advance(1);
    let (st, cookies, body) = call!(app, "GET", "/read", revoked);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["n"], Value::Null);
    assert!(only_session(&cookies).is_removal());
    // Kept: the check's time is sealed (in a refresh stamp: nothing in the data changed), so
    // the next one is an interval away.
    let (_, cookies, body) = call!(app, "GET", "/read", kept);
    assert_eq!(body["n"], 1);
    only_stamp(&cookies);
    let kept = apply(&kept, &cookies);
    let (_, cookies, _) = call!(app, "GET", "/read", kept);
    assert!(cookies.is_empty(), "not due again: {cookies:?}");
    // Replaced: new contents, re-sealed.
    let (_, cookies, body) = call!(app, "GET", "/read", replaced);
    assert_eq!(body["n"], 8);
    assert!(!only_session(&cookies).is_removal());
}

// ---------------------------------------------------------------------------------------------
// Cookie tossing, times and persistence: attacks that must fail
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_planted_session_of_another_account_is_no_session_not_a_swap() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let victim = login!(app, 7);
    // The attacker's own account on the same site: a genuine cookie, planted for the victim
    // with a longer path (sent first) or earlier (sent first among equal paths), or later.
    let attacker = login!(app, 666);
    for header in [
        format!("{attacker}; {victim}"),
        format!("{victim}; {attacker}"),
    ] {
        let (st, cookies, body) = call!(app, "GET", "/read", header);
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["n"], Value::Null, "neither session is served: {header}");
        assert!(cookies.is_empty(), "nothing removed: {cookies:?}");
    }
    // The same cookie sent twice is one cookie.
    let (_, _, body) = call!(app, "GET", "/read", format!("{victim}; {victim}"));
    assert_eq!(body["n"], 7);
}

#[actix_web::test]
async fn planted_cookies_never_log_the_user_out() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    // Every value tried and none opens: the name is removed, as for any bad cookie.
    let (_, cookies, _) = call!(app, "GET", "/read", "session=garbage; session=garbage");
    assert_removed(&cookies, "session");
    // More values than the reader keeps: the user's own may be among those never tried, and
    // a removal could only reach it. Nothing is removed.
    let planted = ["session=garbage"; 5].join("; ");
    let (st, cookies, body) = call!(app, "GET", "/read", planted);
    assert_eq!((st, &body["n"]), (StatusCode::OK, &Value::Null));
    assert!(cookies.is_empty(), "{cookies:?}");
    // The same with chunks: more combinations than the attempt budget.
    let app = app!((builder(secret(1), &clock).max_cookies(3)));
    let planted = "session=3.AAAA; session=3.BBBB; session=3.CCCC; session.1=x; \
                   session.1=y; session.2=p; session.2=q";
    let (_, cookies, body) = call!(app, "GET", "/read", planted);
    assert_eq!(body["n"], Value::Null);
    assert!(cookies.is_empty(), "{cookies:?}");
    // Within the budget, every combination tried: removed.
    let (_, cookies, _) = call!(app, "GET", "/read", "session=3.AAAA; session.1=x; session.2=p");
    assert_removed(&cookies, "session");
}

#[actix_web::test]
async fn planted_stamps_do_not_hide_the_users_refresh() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock).idle_timeout(Duration::from_secs(1000))));
    let cookie = login!(app, 7);
    clock.advance(300);
    let (_, cookies, _) = call!(app, "GET", "/read", cookie);
    let stamp = only_stamp(&cookies).pair();
    // Four stamps planted with longer paths come before the user's own.
    let header = format!(
        "session.t=AAAA; session.t=BBBB; session.t=CCCC; session.t=DDDD; {cookie}; {stamp}"
    );
    // Past the idle deadline of the value alone, within the stamp's.
    clock.set(T0 + 1100);
    let (_, _, body) = call!(app, "GET", "/read", header);
    assert_eq!(body["n"], 7, "the user's own stamp is still read");
}

#[actix_web::test]
async fn a_remember_me_session_stays_persistent_when_the_default_is_browser_session() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)
        .persistent(false)
        .idle_timeout(Duration::from_secs(1000))));
    let (_, cookies, _) = call!(app, "POST", "/set/7", "");
    assert_eq!(only_session(&cookies).max_age(), None, "the default: no Max-Age");
    let (_, cookies, _) = call!(app, "POST", "/remember", cookie_header(&cookies));
    assert!(only_session(&cookies).max_age().is_some(), "remember me: {cookies:?}");
    let cookie = cookie_header(&cookies);
    // An idle refresh, then a write: both keep the choice.
    clock.advance(300);
    let (_, cookies, _) = call!(app, "GET", "/read", cookie);
    assert!(only_stamp(&cookies).max_age().is_some(), "{cookies:?}");
    let cookie = apply(&cookie, &cookies);
    let (_, cookies, _) = call!(app, "POST", "/incr", cookie);
    let value = cookies.iter().find(|c| c.name == "session").unwrap();
    assert!(value.max_age().is_some(), "{cookies:?}");
    assert_removed(&cookies, "session.t"); // the new value makes the old stamp stale
}

#[actix_web::test]
async fn times_ahead_of_this_instances_clock_are_not_trusted() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    // An instance whose clock is 3000 s ahead (or a key holder) sealed this session.
    let ahead = TestClock::new(T0 + 3000);
    let fast = builder(secret(1), &ahead).build().unwrap();
    let mut s = sealed_session::SessionState::new();
    s.insert("n", &5u64).unwrap();
    let from_the_future = format!("session={}", fast.seal(&mut s).unwrap());
    let (_, cookies, body) = call!(app, "GET", "/read", from_the_future);
    assert_eq!(body["n"], Value::Null, "refused");
    assert!(cookies.is_empty(), "but not removed: a healthy peer may hold it");
    // Created here, written there: its idle deadline would run from 3000 s in the future.
    let fast_app = A::app(builder(secret(1), &ahead), Layout::Plain, None).await;
    let cookie = login!(app, 5);
    let (_, cookies, _) = call!(fast_app, "POST", "/incr", cookie);
    let (_, cookies, body) = call!(app, "GET", "/read", cookie_header(&cookies));
    assert_eq!(body["n"], Value::Null, "a refresh time from the future is refused");
    assert!(cookies.is_empty());
    // A refresh stamp from the fast instance cannot put off revalidation either.
    let checks = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&checks);
    let revalidating = |b: SessionBuilder| {
        let c = Arc::clone(&c);
        b.revalidate(Duration::from_secs(60), move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            async { sealed_session::Verdict::Keep }
        })
    };
    let app = A::app(revalidating(builder(secret(1), &clock)), Layout::Plain, None).await;
    let fast_app = A::app(revalidating(builder(secret(1), &ahead)), Layout::Plain, None).await;
    let cookie = login!(app, 9);
    let (_, cookies, _) = call!(fast_app, "GET", "/read", cookie);
    let stamped = apply(&cookie, &cookies);
    assert!(stamped.contains("session.t="), "the fast instance checked and stamped");
    let before = checks.load(Ordering::SeqCst);
    clock.advance(60);
    let (_, _, body) = call!(app, "GET", "/read", stamped);
    assert_eq!(body["n"], 9);
    assert_eq!(checks.load(Ordering::SeqCst), before + 1, "due: the stamp is ignored");
}

#[actix_web::test]
async fn a_logout_on_a_public_response_still_logs_out() {
    let clock = TestClock::new(T0);
    let app = app!((builder(secret(1), &clock)));
    let cookie = login!(app, 7);
    let res = app
        .send(Req::new("POST", "/logout-public", &cookie))
        .await;
    assert!(only_session(&res.set_cookies()).is_removal());
    assert_eq!(res.all("cache-control"), ["no-store"], "a cache must not keep it");
}

    };
}

#[cfg(feature = "actix")]
mod actix {
    type A = crate::adapters::Actix;
    suite!();
}

#[cfg(feature = "axum")]
mod axum {
    type A = crate::adapters::Axum;
    suite!();
}
