//! Importing actix-session's cookie once (feature `actix-session-import`), through each
//! adapter with the suite's routes (`tests/support/adapters.rs`). The cookies here are sealed
//! as cookie-rs's private jar seals them; `interop/` checks the same against cookies made by
//! the real actix-session 0.11.
#![cfg(feature = "actix-session-import")]

#[path = "support/adapters.rs"]
mod adapters;
#[path = "support/cookies.rs"]
mod cookies;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::StatusCode;
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use adapters::{Adapter, Layout};
use cookies::SetCookie;
use sealed_session::testing::TestClock;
use sealed_session::{ConfigError, LegacyImport, LegacyKey, Secret, SessionBuilder};

const T0: u64 = 1_700_000_000;

/// The old application's `cookie::Key` bytes.
const OLD_KEY: [u8; 64] = [9; 64];

/// `plaintext` sealed as cookie-rs's private jar seals cookie `name` under `key`
/// (nonce || ciphertext || tag, standard base64, percent-encoded as actix-session sends it).
fn old_cookie(key: &[u8; 64], name: &str, plaintext: &str, nonce: u8) -> String {
    let cipher = Aes256Gcm::new_from_slice(&key[32..]).unwrap();
    let nonce = [nonce; 12];
    let mut buf = plaintext.as_bytes().to_vec();
    let tag = cipher
        .encrypt_inout_detached((&nonce).into(), name.as_bytes(), buf.as_mut_slice().into())
        .unwrap();
    let mut raw = nonce.to_vec();
    raw.extend_from_slice(&buf);
    raw.extend_from_slice(&tag);
    let value = STANDARD.encode(raw).replace('/', "%2F").replace('=', "%3D");
    format!("{name}={value}")
}

/// actix-session's plaintext of a login: each value's JSON text, as a JSON string.
fn login_plaintext(user_id: u64) -> String {
    json!({
        "userId": user_id.to_string(),
        "username": "\"ada\"",
        "permissions": "[\"read\",\"write\"]",
    })
    .to_string()
}

/// An engine importing the old login: `userId` becomes the suite's `n`.
fn importing(clock: &TestClock, conversions: &Arc<AtomicUsize>) -> SessionBuilder {
    let count = Arc::clone(conversions);
    let import = LegacyImport::actix_session(
        LegacyKey::from_bytes(&OLD_KEY).unwrap(),
        move |old, session| {
            count.fetch_add(1, Ordering::SeqCst);
            if let Some(id) = old.get::<u64>("userId")? {
                session.insert("n", &id)?;
            }
            Ok(())
        },
    );
    SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
        .cookie_name("session")
        .clock(clock.source())
        .import_legacy(import)
}

fn removal_of_id(cookies: &[SetCookie]) -> bool {
    cookies
        .iter()
        .any(|c| c.name == "id" && c.is_removal() && c.attr("Path") == Some(Some("/")))
}

macro_rules! suite {
    () => {
        use super::*;

        #[actix_web::test]
        async fn an_old_login_is_imported_once_and_the_old_cookie_removed() {
            let clock = TestClock::new(T0);
            let conversions = Arc::new(AtomicUsize::new(0));
            let app = A::app(importing(&clock, &conversions), Layout::Plain, None).await;
            let old = old_cookie(&OLD_KEY, "id", &login_plaintext(42), 1);

            let (st, cookies, body) = app.call("GET", "/read", &old).await;
            assert_eq!(st, StatusCode::OK);
            assert_eq!(body["n"], 42, "served as the old session's user");
            assert!(removal_of_id(&cookies), "{cookies:?}");
            let ours: Vec<_> = cookies.iter().filter(|c| c.name == "session").collect();
            assert_eq!(ours.len(), 1, "{cookies:?}");
            assert_eq!(conversions.load(Ordering::SeqCst), 1);

            // The next request carries only our cookie: no import, nothing removed.
            let ours = ours[0].pair();
            let (_, cookies, body) = app.call("GET", "/read", &ours).await;
            assert_eq!(body["n"], 42);
            assert!(cookies.is_empty(), "{cookies:?}");
            // Our cookie and a leftover old one: ours counts, the old one goes, no import.
            let (_, cookies, body) = app.call("GET", "/read", &format!("{ours}; {old}")).await;
            assert_eq!(body["n"], 42);
            assert!(removal_of_id(&cookies), "{cookies:?}");
            assert_eq!(conversions.load(Ordering::SeqCst), 1);
        }

        #[actix_web::test]
        async fn a_tampered_or_foreign_old_cookie_is_ignored_and_removed() {
            let clock = TestClock::new(T0);
            let conversions = Arc::new(AtomicUsize::new(0));
            let app = A::app(importing(&clock, &conversions), Layout::Plain, None).await;
            let good = old_cookie(&OLD_KEY, "id", &login_plaintext(42), 1);
            let mut tampered = good.clone().into_bytes();
            let i = tampered.len() - 10;
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).unwrap();
            let foreign = old_cookie(&[3; 64], "id", &login_plaintext(42), 1);
            let renamed =
                old_cookie(&OLD_KEY, "other", &login_plaintext(42), 1).replacen("other", "id", 1);
            for bad in [tampered, foreign, renamed, "id=garbage".to_owned()] {
                let (st, cookies, body) = app.call("GET", "/read", &bad).await;
                assert_eq!(st, StatusCode::OK);
                assert_eq!(body["n"], json!(null), "{bad}");
                assert!(removal_of_id(&cookies), "{bad}: {cookies:?}");
                assert!(cookies.iter().all(|c| c.name != "session"), "{cookies:?}");
            }
            assert_eq!(conversions.load(Ordering::SeqCst), 0, "nothing opened");
        }

        #[actix_web::test]
        async fn a_route_that_never_uses_the_session_leaves_the_old_cookie_for_later() {
            let clock = TestClock::new(T0);
            let conversions = Arc::new(AtomicUsize::new(0));
            let app = A::app(importing(&clock, &conversions), Layout::Plain, None).await;
            let old = old_cookie(&OLD_KEY, "id", &login_plaintext(7), 1);
            let (_, cookies, _) = app.call("GET", "/noop", &old).await;
            assert!(cookies.is_empty(), "{cookies:?}");
            assert_eq!(conversions.load(Ordering::SeqCst), 0);
        }

        #[actix_web::test]
        async fn an_import_lost_to_a_server_error_keeps_the_old_cookie() {
            let clock = TestClock::new(T0);
            let conversions = Arc::new(AtomicUsize::new(0));
            let app = A::app(importing(&clock, &conversions), Layout::Plain, None).await;
            let old = old_cookie(&OLD_KEY, "id", &login_plaintext(7), 1);
            let (st, cookies, _) = app.call("POST", "/write-then-fail", &old).await;
            assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(
                cookies.is_empty(),
                "the import was not sealed: keep the old cookie: {cookies:?}"
            );
            // The next request imports it.
            let (_, cookies, body) = app.call("GET", "/read", &old).await;
            assert_eq!(body["n"], 7);
            assert!(removal_of_id(&cookies), "{cookies:?}");
        }

        #[actix_web::test]
        async fn two_different_old_cookies_that_open_import_nothing() {
            let clock = TestClock::new(T0);
            let conversions = Arc::new(AtomicUsize::new(0));
            let app = A::app(importing(&clock, &conversions), Layout::Plain, None).await;
            let mine = old_cookie(&OLD_KEY, "id", &login_plaintext(7), 1);
            let planted = old_cookie(&OLD_KEY, "id", &login_plaintext(666), 2);
            let (_, cookies, body) = app
                .call("GET", "/read", &format!("{planted}; {mine}"))
                .await;
            assert_eq!(body["n"], json!(null));
            assert!(cookies.iter().all(|c| c.name != "session"), "{cookies:?}");
            // The same cookie sent twice is one session.
            let (_, _, body) = app.call("GET", "/read", &format!("{mine}; {mine}")).await;
            assert_eq!(body["n"], 7);
        }

        #[actix_web::test]
        async fn without_an_importer_the_old_cookie_is_not_ours_to_touch() {
            let clock = TestClock::new(T0);
            let config = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
                .cookie_name("session")
                .clock(clock.source());
            let app = A::app(config, Layout::Plain, None).await;
            let old = old_cookie(&OLD_KEY, "id", &login_plaintext(42), 1);
            let (_, cookies, body) = app.call("POST", "/incr", &old).await;
            assert_eq!(body["n"], 1);
            assert!(cookies.iter().all(|c| c.name != "id"), "{cookies:?}");
        }
    };
}

#[test]
fn the_old_cookie_must_be_another_name_and_the_key_a_cookie_key() {
    let key = || LegacyKey::from_bytes(&OLD_KEY).unwrap();
    for name in ["session", "session.1", "session.t", "", "bad name"] {
        let e = SessionBuilder::new(Secret::generate())
            .cookie_name("session")
            .import_legacy(LegacyImport::actix_session(key(), |_, _| Ok(())).cookie_name(name))
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::LegacyCookieName { .. }),
            "{name}: {e}"
        );
    }
    let e = LegacyKey::from_bytes(&[1; 32]).unwrap_err();
    assert!(e.to_string().contains("64 bytes"), "{e}");
    assert!(LegacyKey::from_base64("not base64!").is_err());
    assert!(LegacyKey::from_base64(&STANDARD.encode(OLD_KEY)).is_ok());
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
