//! The example server on actix-web: a small JSON app with logins, a counter and a demo page,
//! all its state in sealed cookies. `axum_server.rs` serves the same contract on axum; both
//! take their handlers from the crate's library (`src/lib.rs`).
//!
//! ```text
//! cargo run --release -p sealed-session-demo    # then open http://127.0.0.1:8080/
//! ```
//!
//! Settings come from the environment (see README.md): `PORT`, `SESSION_KEYS`,
//! `SESSION_EPOCH_SECS`, `SESSION_COOKIE_NAME`, `SESSION_IDLE_SECS`, `SESSION_ABSOLUTE_SECS`,
//! `SESSION_MAX_COOKIES`, `SESSION_SECURE`, `SESSION_COMPRESSION`, `SESSION_ALGORITHM`,
//! `SESSION_REVALIDATE_SECS`, `SESSION_CSRF`, `SESSION_PARTITIONED`, `SESSION_IMPORT_ACTIX_KEY`,
//! and `DATABASE_URL` (the user store).
//!
//! SIGTERM or ctrl-c stops it gracefully: it stops accepting connections and finishes the
//! requests in flight (actix-web's own signal handling).

use sealed_session_demo as app;

use std::process::ExitCode;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Condition;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
use sealed_session::{CookieOptions, Session};

/// A shared handler's reply as an actix response.
fn respond(reply: app::Reply) -> actix_web::Result<HttpResponse> {
    let (status, body) = reply?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(body.into_string()))
}

/// Routes whose handler needs only the session.
macro_rules! session_route {
    ($f:path) => {
        |s: Session| async move { respond($f(&s)) }
    };
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(app::DEMO_HTML)
}

async fn login(
    s: Session,
    users: web::Data<app::Users>,
    body: web::Json<app::Credentials>,
) -> actix_web::Result<HttpResponse> {
    respond(app::login(&s, &users, &body).await)
}

async fn logout_everywhere(
    s: Session,
    users: web::Data<app::Users>,
) -> actix_web::Result<HttpResponse> {
    respond(app::logout_everywhere(&s, &users).await)
}

async fn session_data(
    s: Session,
    body: web::Json<app::Preferences>,
) -> actix_web::Result<HttpResponse> {
    respond(app::session_data(&s, &body))
}

async fn store_blob(
    s: Session,
    query: web::Query<app::BlobQuery>,
) -> actix_web::Result<HttpResponse> {
    respond(app::store_blob(&s, &query))
}

async fn cookie_stats(
    req: HttpRequest,
    cookie: web::Data<CookieOptions>,
) -> actix_web::Result<HttpResponse> {
    let headers = req.headers().get_all(header::COOKIE);
    respond(app::cookie_stats(&cookie, headers.map(|v| v.as_bytes())))
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(app::METRICS_CONTENT_TYPE)
        .body(app::metrics_text())
}

fn main() -> ExitCode {
    let Some(startup) = app::startup() else {
        return ExitCode::FAILURE;
    };
    match actix_web::rt::System::new().block_on(serve(startup)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(startup: app::Startup) -> std::io::Result<()> {
    let app::Startup {
        engine,
        users,
        port,
        csrf,
    } = startup;
    let cookie = web::Data::new(engine.cookie().clone());
    let users = web::Data::new(users);
    let sessions = SessionMiddleware::new(engine);
    let server = HttpServer::new(move || {
        // `SESSION_CSRF=1`: unsafe requests need the session's token. The CSRF middleware
        // reads the session, so it goes inside the session middleware (the last `wrap` is
        // the outermost).
        App::new()
            .wrap(Condition::new(csrf, CsrfMiddleware::new()))
            .wrap(sessions.clone())
            .app_data(cookie.clone())
            .app_data(users.clone())
            .route("/", web::get().to(index))
            .route("/counter", web::get().to(session_route!(app::counter)))
            .route("/login", web::post().to(login))
            .route("/profile", web::get().to(session_route!(app::profile)))
            .route("/flash", web::get().to(session_route!(app::flash)))
            .route("/csrf", web::get().to(session_route!(app::csrf)))
            .route(
                "/admin/dashboard",
                web::get().to(session_route!(app::admin_dashboard)),
            )
            .route("/session-data", web::put().to(session_data))
            .route(
                "/session-info",
                web::get().to(session_route!(app::session_info)),
            )
            .route(
                "/refresh-session",
                web::post().to(session_route!(app::refresh_session)),
            )
            .route("/logout", web::post().to(session_route!(app::logout)))
            .route("/logout-everywhere", web::post().to(logout_everywhere))
            .route("/blob", web::post().to(store_blob))
            .route("/blob", web::get().to(session_route!(app::blob_size)))
            .route("/blob", web::delete().to(session_route!(app::delete_blob)))
            .route("/cookie-stats", web::get().to(cookie_stats))
            .route("/metrics", web::get().to(metrics))
    })
    .bind(("127.0.0.1", port))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the server bound no address"))?;
    app::announce(addr.port());
    server.run().await
}
