//! Flash messages, session-bound CSRF tokens and Partitioned cookies, through each adapter
//! (actix-web and axum) with the suite's routes (`tests/support/adapters.rs`).

#[path = "support/adapters.rs"]
mod adapters;
#[path = "support/cookies.rs"]
mod cookies;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use adapters::{Adapter, App, Layout, Req, Res};
use cookies::Jar;
use sealed_session::testing::TestClock;
use sealed_session::{Secret, SessionBuilder, Verdict};

const T0: u64 = 1_700_000_000;

fn builder(clock: &TestClock) -> SessionBuilder {
    SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
        .cookie_name("session")
        .clock(clock.source())
}

/// A browser: one cookie jar across requests.
struct Browser<'a> {
    app: &'a App,
    jar: Jar,
}

impl<'a> Browser<'a> {
    fn new(app: &'a App) -> Browser<'a> {
        Browser {
            app,
            jar: Jar::default(),
        }
    }

    async fn send(&mut self, req: Req) -> Res {
        let mut req = req;
        req.cookie = self.jar.header();
        let res = self.app.send(req).await;
        self.jar.apply(&res.set_cookies());
        res
    }

    async fn get(&mut self, uri: &str) -> Res {
        self.send(Req::new("GET", uri, "")).await
    }

    /// A fresh CSRF token from `GET /csrf`.
    async fn token(&mut self) -> String {
        let res = self.get("/csrf").await;
        assert_eq!(res.status, StatusCode::OK);
        res.body["csrfToken"].as_str().unwrap().to_owned()
    }
}

/// The 403 a refused request gets: the same body whatever the reason.
fn assert_refused(res: &Res) {
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.body);
    assert_eq!(res.body, json!({ "error": "CSRF check failed" }));
    assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
}

fn messages(res: &Res) -> Value {
    res.body["messages"].clone()
}

macro_rules! suite {
    () => {
        use super::*;

        // -----------------------------------------------------------------------------------
        // Flash messages
        // -----------------------------------------------------------------------------------

        #[actix_web::test]
        async fn a_flash_is_shown_once_after_the_redirect() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Plain, None).await;
            let mut browser = Browser::new(&app);
            let res = browser
                .send(Req::new("POST", "/flash?text=Saved", ""))
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER);
            assert_eq!(res.all("location"), ["/flash"]);

            // Reading other data does not consume it, and writes nothing.
            let res = browser.get("/read").await;
            assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
            assert_eq!(res.body["empty"], true, "a flash is not the app's data");

            let res = browser.get("/flash").await;
            assert_eq!(
                messages(&res),
                json!([{ "level": "success", "text": "Saved" }])
            );
            let res = browser.get("/flash").await;
            assert_eq!(messages(&res), json!([]));
        }

        #[actix_web::test]
        async fn flashes_keep_their_order_and_survive_other_writes() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Plain, None).await;
            let mut browser = Browser::new(&app);
            browser.send(Req::new("POST", "/set/5", "")).await;
            browser.send(Req::new("POST", "/flash?text=one", "")).await;
            browser.send(Req::new("POST", "/incr", "")).await;
            browser.send(Req::new("POST", "/flash?text=two", "")).await;
            let res = browser.get("/flash").await;
            assert_eq!(
                messages(&res),
                json!([
                    { "level": "success", "text": "one" },
                    { "level": "success", "text": "two" }
                ])
            );
            assert_eq!(browser.get("/read").await.body["n"], 6, "data untouched");
        }

        #[actix_web::test]
        async fn an_idle_refresh_neither_loses_nor_repeats_a_flash() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Plain, None).await;
            let mut browser = Browser::new(&app);
            browser.send(Req::new("POST", "/set/1", "")).await;
            browser.send(Req::new("POST", "/flash?text=kept", "")).await;
            let before = browser.jar.header();

            // Past the refresh point: a read answers with a refresh stamp only.
            clock.advance(Duration::from_secs(50_000));
            let res = browser.get("/read").await;
            let set = res.set_cookies();
            assert_eq!(set.len(), 1, "{set:?}");
            assert_eq!(set[0].name, "session.t", "a stamp, not a new value");
            let res = browser.get("/flash").await;
            assert_eq!(messages(&res), json!([{ "level": "success", "text": "kept" }]));

            // A concurrent read of the old cookie (its stamp arriving after the flash was
            // consumed) does not bring the flash back: the stamp is bound to the old value.
            let concurrent = app.send(Req::new("GET", "/read", &before)).await;
            browser.jar.apply(&concurrent.set_cookies());
            let res = browser.get("/flash").await;
            assert_eq!(messages(&res), json!([]));
            assert_eq!(browser.get("/read").await.body["n"], 1);
        }

        // -----------------------------------------------------------------------------------
        // CSRF
        // -----------------------------------------------------------------------------------

        #[actix_web::test]
        async fn an_unsafe_request_needs_a_token_of_its_session() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Csrf, None).await;
            let mut browser = Browser::new(&app);

            // A pre-login page gets a token: the response creates a session holding it.
            let res = browser.get("/csrf").await;
            assert_eq!(res.set_cookies().len(), 1, "{:?}", res.headers);
            let token = res.body["csrfToken"].as_str().unwrap().to_owned();
            assert_eq!(token.len(), 86);
            assert_ne!(browser.token().await, token, "masked afresh on every response");

            // Safe methods pass without one.
            assert_eq!(browser.get("/read").await.status, StatusCode::OK);
            // Unsafe ones without one, or with a wrong one, are refused and change nothing.
            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                let uri = "/incr";
                assert_refused(&browser.send(Req::new(method, uri, "")).await);
                let res = browser
                    .send(Req::new(method, uri, "").header("x-csrf-token", "forged"))
                    .await;
                assert_refused(&res);
            }
            assert_eq!(browser.get("/read").await.body["n"], Value::Null);

            // With the token, each method goes through.
            for (i, method) in ["POST", "PUT", "PATCH", "DELETE"].into_iter().enumerate() {
                let res = browser
                    .send(Req::new(method, "/incr", "").header("x-csrf-token", &token))
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{method}: {:?}", res.body);
                assert_eq!(res.body["n"], i + 1);
            }
        }

        #[actix_web::test]
        async fn another_sessions_token_and_a_pre_login_token_are_refused() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Csrf, None).await;
            let mut alice = Browser::new(&app);
            let mut mallory = Browser::new(&app);
            let mallorys = mallory.token().await;
            let pre_login = alice.token().await;
            let res = alice
                .send(Req::new("POST", "/incr", "").header("x-csrf-token", &mallorys))
                .await;
            assert_refused(&res);

            // The login form carries the pre-login token; the login rotates the secret.
            let res = alice
                .send(Req::new("POST", "/login", "").header("x-csrf-token", &pre_login))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
            let res = alice
                .send(Req::new("POST", "/incr", "").header("x-csrf-token", &pre_login))
                .await;
            assert_refused(&res);
            let fresh = alice.token().await;
            let res = alice
                .send(Req::new("POST", "/incr", "").header("x-csrf-token", &fresh))
                .await;
            assert_eq!(res.status, StatusCode::OK);
        }

        #[actix_web::test]
        async fn another_origin_is_refused_even_with_a_good_token() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Csrf, None).await;
            let mut browser = Browser::new(&app);
            let token = browser.token().await;
            let post = |extra: &[(&str, &str)]| {
                let mut req = Req::new("POST", "/incr", "")
                    .header("x-csrf-token", &token)
                    .header("host", "app.test");
                for (k, v) in extra {
                    req = req.header(k, v);
                }
                req
            };
            for refused in [
                &[("origin", "https://evil.test")][..],
                &[("origin", "null")],
                &[("sec-fetch-site", "cross-site")],
                &[("origin", "http://app.test"), ("sec-fetch-site", "cross-site")],
            ] {
                assert_refused(&browser.send(post(refused)).await);
            }
            for allowed in [
                &[][..],
                &[("origin", "http://app.test")],
                &[("origin", "https://app.test"), ("sec-fetch-site", "same-origin")],
            ] {
                let res = browser.send(post(allowed)).await;
                assert_eq!(res.status, StatusCode::OK, "{allowed:?}: {:?}", res.body);
            }
        }

        #[actix_web::test]
        async fn a_form_carries_its_token_in_a_field_and_the_handler_still_gets_the_body() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock), Layout::Csrf, None).await;
            let mut browser = Browser::new(&app);
            let token = browser.token().await;
            let form = format!("amount=10&csrf_token={token}&note=hi%21");
            let res = browser
                .send(Req::new("POST", "/form", "").raw("application/x-www-form-urlencoded", &form))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
            assert_eq!(res.body["received"], form);

            for bad in ["amount=10", "amount=10&csrf_token=forged", ""] {
                let res = browser
                    .send(Req::new("POST", "/form", "").raw("application/x-www-form-urlencoded", bad))
                    .await;
                assert_refused(&res);
            }
            // Only URL-encoded forms are read; other bodies need the header.
            let res = browser
                .send(Req::new("POST", "/form", "").raw("text/plain", &format!("csrf_token={token}")))
                .await;
            assert_refused(&res);
            // A form too large to read for its token needs the header.
            let big = format!("csrf_token={token}&pad={}", "a".repeat(70 * 1024));
            let res = browser
                .send(Req::new("POST", "/form", "").raw("application/x-www-form-urlencoded", &big))
                .await;
            assert_refused(&res);
        }

        #[actix_web::test]
        async fn a_revoked_sessions_token_does_not_pass() {
            let clock = TestClock::new(T0);
            let revoked = Arc::new(AtomicU64::new(0));
            let r = Arc::clone(&revoked);
            let config = builder(&clock).revalidate(Duration::from_secs(60), move |_| {
                let verdict = if r.load(Ordering::SeqCst) == 1 {
                    Verdict::Reject
                } else {
                    Verdict::Keep
                };
                async move { verdict }
            });
            let app = A::app(config, Layout::Csrf, None).await;
            let mut browser = Browser::new(&app);
            browser.send(Req::new("GET", "/csrf", "")).await;
            let token = browser.token().await;
            // Due for the check, and kept: the token passes.
            clock.advance(Duration::from_secs(120));
            let res = browser
                .send(Req::new("POST", "/incr", "").header("x-csrf-token", &token))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
            // Due again, and revoked meanwhile: refused.
            revoked.store(1, Ordering::SeqCst);
            clock.advance(Duration::from_secs(120));
            let res = browser
                .send(Req::new("POST", "/incr", "").header("x-csrf-token", &token))
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
        }

        // -----------------------------------------------------------------------------------
        // Partitioned cookies
        // -----------------------------------------------------------------------------------

        #[actix_web::test]
        async fn partitioned_marks_every_cookie_the_crate_writes() {
            let clock = TestClock::new(T0);
            let app = A::app(builder(&clock).partitioned(true).max_cookies(2), Layout::Plain, None)
                .await;
            let mut browser = Browser::new(&app);
            let mut seen = Vec::new();
            // A value, two chunks, a refresh stamp, and the removals of a logout.
            seen.extend(browser.send(Req::new("POST", "/set/1", "")).await.set_cookies());
            seen.extend(
                browser
                    .send(Req::new("POST", "/blob?size=5000", ""))
                    .await
                    .set_cookies(),
            );
            clock.advance(Duration::from_secs(50_000));
            seen.extend(browser.get("/read").await.set_cookies());
            seen.extend(browser.send(Req::new("POST", "/purge", "")).await.set_cookies());
            let names: Vec<_> = seen.iter().map(|c| (c.name.as_str(), c.is_removal())).collect();
            for expected in [("session", false), ("session.1", false), ("session.t", false), ("session", true)] {
                assert!(names.contains(&expected), "{expected:?} in {names:?}");
            }
            for c in &seen {
                assert!(c.has_attr("Partitioned") && c.has_attr("Secure"), "{}", c.raw);
            }
        }
    };
}

#[test]
fn partitioned_needs_secure_and_a_partitions_budget() {
    let e = SessionBuilder::new(Secret::generate())
        .cookie_name("s")
        .secure(false)
        .partitioned(true)
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("Partitioned cookies require Secure"),
        "{e}"
    );
    let e = SessionBuilder::new(Secret::generate())
        .partitioned(true)
        .max_cookies(3)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("10,240"), "{e}");
    assert!(
        SessionBuilder::new(Secret::generate())
            .partitioned(true)
            .max_cookies(2)
            .build()
            .is_ok()
    );
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
