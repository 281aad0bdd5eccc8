//! README's "Testing your app": a complete test of an application on each framework with the
//! test kit (`sealed_session::testing`). README.md quotes the code between the markers; a
//! test below checks that it still does.

#[cfg(feature = "actix")]
mod actix_app {
    // README: actix begin
    use std::time::Duration;

    use actix_web::{App, HttpResponse, test, web};
    use sealed_session::actix::SessionMiddleware;
    use sealed_session::testing::{TestClock, TestJar, cookie_header};
    use sealed_session::{Secret, Session, SessionBuilder, SessionKey, SessionState};

    const USER: SessionKey<u64> = SessionKey::new("user_id");

    async fn profile(session: Session) -> actix_web::Result<HttpResponse> {
        Ok(match session.get(USER)? {
            Some(id) => HttpResponse::Ok().json(id),
            None => HttpResponse::Unauthorized().finish(),
        })
    }

    #[actix_web::test]
    async fn a_logged_in_user_sees_their_profile_until_the_session_idles_out() {
        let clock = TestClock::new(1_800_000_000);
        let engine = SessionBuilder::new(Secret::generate())
            .idle_timeout(Duration::from_secs(30 * 60))
            .clock(clock.source())
            .build()
            .unwrap();
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(engine.clone()))
                .route("/profile", web::get().to(profile)),
        )
        .await;

        // A client already logged in as user 7, without going through a login route.
        let mut user = SessionState::new();
        user.insert(USER, &7).unwrap();
        let mut jar = TestJar::new();
        jar.set_header(&cookie_header(&engine, &mut user).unwrap());

        let req = test::TestRequest::get()
            .uri("/profile")
            .insert_header(("cookie", jar.cookie_header()))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        // Keep what the response sets, as a browser would (new values, refresh stamps).
        jar.apply_all(res.headers().get_all("set-cookie").map(|v| v.as_bytes()));

        // Thirty-one idle minutes later, the session is gone.
        clock.advance(Duration::from_secs(31 * 60));
        let req = test::TestRequest::get()
            .uri("/profile")
            .insert_header(("cookie", jar.cookie_header()))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 401);
    }
    // README: actix end
}

#[cfg(feature = "axum")]
mod axum_app {
    // README: axum begin
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use sealed_session::axum::SessionLayer;
    use sealed_session::testing::TestJar;
    use sealed_session::{Error, Secret, Session, SessionBuilder, SessionKey};
    use tower::ServiceExt as _;

    const USER: SessionKey<u64> = SessionKey::new("user_id");

    async fn login(session: Session) -> Result<(), Error> {
        session.regenerate()?; // a fresh session at every login
        session.insert(USER, &7)
    }

    async fn profile(session: Session) -> Result<Result<Json<u64>, StatusCode>, Error> {
        Ok(session.get(USER)?.map(Json).ok_or(StatusCode::UNAUTHORIZED))
    }

    #[tokio::test]
    async fn login_then_profile_then_logout() {
        let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
        let app = Router::new()
            .route("/login", post(login))
            .route("/profile", get(profile))
            .route("/logout", post(|s: Session| async move { s.purge() }))
            .layer(SessionLayer::new(engine));
        let mut jar = TestJar::new();
        let mut send = async |method: &str, uri: &str| {
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("cookie", jar.cookie_header())
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            jar.apply_response(&res);
            res.status()
        };
        assert_eq!(send("GET", "/profile").await, StatusCode::UNAUTHORIZED);
        assert_eq!(send("POST", "/login").await, StatusCode::OK);
        assert_eq!(send("GET", "/profile").await, StatusCode::OK);
        assert_eq!(send("POST", "/logout").await, StatusCode::OK);
        assert_eq!(send("GET", "/profile").await, StatusCode::UNAUTHORIZED);
    }
    // README: axum end
}

#[test]
fn the_readme_quotes_these_tests() {
    let source = include_str!("testing_your_app.rs");
    let readme = include_str!("../README.md");
    for framework in ["actix", "axum"] {
        let begin = format!("// README: {framework} begin\n");
        let end = format!("    // README: {framework} end");
        let start = source.find(&begin).expect("begin marker") + begin.len();
        let stop = source.find(&end).expect("end marker");
        // README shows the module's contents without their indentation.
        let quoted: String = source[start..stop]
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            readme.contains(&quoted),
            "README.md's \"Testing your app\" must quote the {framework} test verbatim"
        );
    }
}
