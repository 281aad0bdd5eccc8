//! Revocation that no handler can step around: a revoked session's data is never served,
//! whichever way a handler, a middleware or a custom extractor reaches the session. The
//! `Session` extractor runs the application's check first; every other way either waits for
//! it or fails loudly (`Error::RevalidationPending`, an opaque 500), never returns the data.

#![cfg(any(feature = "actix", feature = "axum"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sealed_session::{Secret, SessionBuilder, SessionEngine, SessionState, Verdict};

const REVOKED: u64 = 13;

/// An engine whose check revokes the user `REVOKED` on every request, and counts its runs.
fn engine(checks: Arc<AtomicU64>) -> SessionEngine {
    SessionBuilder::new(Secret::from_bytes(&[3; 32]).unwrap())
        .cookie_name("session")
        .revalidate(Duration::ZERO, move |r| {
            checks.fetch_add(1, Ordering::SeqCst);
            let user = r.session.get::<u64>("user").ok().flatten();
            async move {
                // The application's database takes a moment to answer.
                tokio::task::yield_now().await;
                if user == Some(REVOKED) {
                    Verdict::Reject
                } else {
                    Verdict::Keep
                }
            }
        })
        .build()
        .unwrap()
}

/// The `Cookie` header of a client logged in as `user`.
fn logged_in(engine: &SessionEngine, user: u64) -> String {
    let mut s = SessionState::new();
    s.insert("user", &user).unwrap();
    engine.set_cookies(&mut s).unwrap()[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// What a route answered: its status and body.
fn assert_not_served(path: &str, status: u16, body: &str) {
    assert!(
        !body.contains(&REVOKED.to_string()),
        "{path}: the revoked session's data was served: {status} {body}"
    );
    assert!(
        status == 500 || body.contains("null"),
        "{path}: neither refused nor checked: {status} {body}"
    );
}

#[cfg(feature = "actix")]
mod actix_adapter {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
    use actix_web::middleware::{Next, from_fn};
    use actix_web::{App, FromRequest, HttpMessage, HttpRequest, HttpResponse, test, web};
    use sealed_session::actix::SessionMiddleware;
    use sealed_session::{Error, Session};
    use std::future::{Ready, ready};

    /// A custom extractor that takes the session from the request's extensions and reads it
    /// at once, as an app's `CurrentUser` might.
    struct CurrentUser(Option<u64>);

    impl FromRequest for CurrentUser {
        type Error = actix_web::Error;
        type Future = Ready<Result<CurrentUser, actix_web::Error>>;

        fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
            let session = req.extensions().get::<Session>().cloned();
            ready(match session.map(|s| s.get::<u64>("user")) {
                Some(Ok(user)) => Ok(CurrentUser(user)),
                Some(Err(e)) => Err(e.into()),
                None => Ok(CurrentUser(None)),
            })
        }
    }

    fn user(r: Result<Option<u64>, Error>) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(serde_json::json!({ "user": r? })))
    }

    /// A middleware inside the session layer that reads the session before the handler.
    async fn auth(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        let session = req.extensions().get::<Session>().cloned();
        if let Some(s) = session {
            s.get::<u64>("user")?;
        }
        next.call(req).await
    }

    #[actix_web::test]
    async fn every_way_to_the_session_is_checked_or_refused() {
        let checks = Arc::new(AtomicU64::new(0));
        let engine = engine(Arc::clone(&checks));
        let revoked = logged_in(&engine, REVOKED);
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(engine.clone()))
                .route(
                    "/extractor",
                    web::get().to(|s: Session| async move { user(s.get("user")) }),
                )
                .route(
                    "/req-data",
                    web::get().to(|s: web::ReqData<Session>| async move { user(s.get("user")) }),
                )
                .route(
                    "/extensions",
                    web::get().to(|req: HttpRequest| async move {
                        let s = req.extensions().get::<Session>().cloned().unwrap();
                        user(s.get("user"))
                    }),
                )
                .route(
                    "/custom",
                    web::get().to(|u: CurrentUser| async move { user(Ok(u.0)) }),
                )
                // Both extractors of one handler are polled together: the custom one reads
                // while the `Session` extractor's check is still pending.
                .route(
                    "/custom-beside-extractor",
                    web::get().to(|_s: Session, u: CurrentUser| async move { user(Ok(u.0)) }),
                )
                .service(web::scope("/behind-middleware").wrap(from_fn(auth)).route(
                    "",
                    web::get().to(|s: Session| async move { user(s.get("user")) }),
                )),
        )
        .await;
        for path in [
            "/extractor",
            "/req-data",
            "/extensions",
            "/custom",
            "/custom-beside-extractor",
            "/behind-middleware",
        ] {
            let req = test::TestRequest::get()
                .uri(path)
                .insert_header(("cookie", revoked.as_str()))
                .to_request();
            // An error out of a middleware becomes its error response, as in a server.
            let res = match test::try_call_service(&app, req).await {
                Ok(res) => res.into_parts().1.map_into_boxed_body(),
                Err(e) => e.error_response(),
            };
            let status = res.status().as_u16();
            let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
            assert_not_served(path, status, &String::from_utf8_lossy(&body));
        }
        // The extractor ran the check and purged the revoked session.
        let req = test::TestRequest::get()
            .uri("/extractor")
            .insert_header(("cookie", revoked.as_str()))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().get("set-cookie").is_some(),
            "the cookie is removed"
        );
        // A session that is not revoked is served on the extractor path.
        let kept = logged_in(&engine, 7);
        let req = test::TestRequest::get()
            .uri("/extractor")
            .insert_header(("cookie", kept.as_str()))
            .to_request();
        let body = test::call_and_read_body(&app, req).await;
        assert_eq!(&body[..], br#"{"user":7}"#);
        assert!(checks.load(Ordering::SeqCst) >= 2);
    }
}

#[cfg(feature = "axum")]
mod axum_adapter {
    use super::*;
    use ::axum::extract::{FromRequestParts, Request};
    use ::axum::middleware::{Next, from_fn};
    use ::axum::response::{IntoResponse, Response};
    use ::axum::routing::get;
    use ::axum::{Extension, Json, Router};
    use http::request::Parts;
    use sealed_session::axum::SessionLayer;
    use sealed_session::{Error, Session};
    use tower::ServiceExt as _;

    /// A custom extractor that takes the session from the request's extensions.
    struct CurrentUser(Option<u64>);

    impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
        type Rejection = Response;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
            let session = parts.extensions.get::<Session>().cloned();
            match session.map(|s| s.get::<u64>("user")) {
                Some(Ok(user)) => Ok(CurrentUser(user)),
                Some(Err(e)) => Err(e.into_response()),
                None => Ok(CurrentUser(None)),
            }
        }
    }

    fn user(r: Result<Option<u64>, Error>) -> Result<Json<serde_json::Value>, Error> {
        Ok(Json(serde_json::json!({ "user": r? })))
    }

    /// A middleware inside the session layer that reads the session before the handler.
    async fn auth(req: Request, next: Next) -> Response {
        if let Some(s) = req.extensions().get::<Session>().cloned()
            && let Err(e) = s.get::<u64>("user")
        {
            return e.into_response();
        }
        next.run(req).await
    }

    #[tokio::test]
    async fn every_way_to_the_session_is_checked_or_refused() {
        let checks = Arc::new(AtomicU64::new(0));
        let engine = engine(Arc::clone(&checks));
        let revoked = logged_in(&engine, REVOKED);
        let app = Router::new()
            .route(
                "/extractor",
                get(|s: Session| async move { user(s.get("user")) }),
            )
            .route(
                "/extension",
                get(|Extension(s): Extension<Session>| async move { user(s.get("user")) }),
            )
            .route(
                "/custom",
                get(|u: CurrentUser| async move { user(Ok(u.0)) }),
            )
            .route(
                "/behind-middleware",
                get(|s: Session| async move { user(s.get("user")) }).layer(from_fn(auth)),
            )
            .layer(SessionLayer::new(engine.clone()));
        for path in ["/extractor", "/extension", "/custom", "/behind-middleware"] {
            let req = http::Request::get(path)
                .header("cookie", revoked.as_str())
                .body(::axum::body::Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let bytes = ::axum::body::to_bytes(res.into_body(), 1 << 16)
                .await
                .unwrap();
            assert_not_served(path, status, &String::from_utf8_lossy(&bytes));
        }
        let kept = logged_in(&engine, 7);
        let req = http::Request::get("/extractor")
            .header("cookie", kept.as_str())
            .body(::axum::body::Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        let bytes = ::axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(&bytes[..], br#"{"user":7}"#);
        assert!(checks.load(Ordering::SeqCst) >= 2);
    }
}
