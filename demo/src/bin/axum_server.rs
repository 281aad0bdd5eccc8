//! The example server on axum: the same HTTP contract as `server.rs` (actix-web), from the
//! same handlers in the crate's library (`src/lib.rs`).
//!
//! ```text
//! cargo run --release -p sealed-session-demo --bin axum_server --features axum
//! ```
//!
//! Settings come from the same environment variables as `server.rs` (see README.md).
//!
//! SIGTERM or ctrl-c stops it gracefully, as actix-web does: it stops accepting connections
//! and finishes the requests in flight.

use sealed_session_demo as app;

use std::process::ExitCode;

use axum::body::Bytes;
use axum::extract::{FromRef, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

use sealed_session::axum::{CsrfLayer, SessionLayer};
use sealed_session::{CookieOptions, Session};

/// What the handlers share: the session cookie's settings and the user store.
#[derive(Clone)]
struct AppState {
    cookie: CookieOptions,
    users: app::Users,
}

impl FromRef<AppState> for CookieOptions {
    fn from_ref(state: &AppState) -> Self {
        state.cookie.clone()
    }
}

impl FromRef<AppState> for app::Users {
    fn from_ref(state: &AppState) -> Self {
        state.users.clone()
    }
}

/// A shared handler's reply as an axum response.
fn respond(reply: app::Reply) -> Response {
    match reply {
        Ok((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.into_string(),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A `400` with a plain-text reason, as actix-web answers a body or query it cannot parse.
fn bad_request(reason: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        reason,
    )
        .into_response()
}

/// Routes whose handler needs only the session.
macro_rules! session_route {
    ($f:path) => {
        |s: Session| async move { respond($f(&s)) }
    };
}

async fn index() -> Html<&'static str> {
    Html(app::DEMO_HTML)
}

/// The request's JSON body, or the reason actix-web would give for refusing it.
fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, String> {
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes());
    app::parse_json(content_type, body)
}

async fn login(
    s: Session,
    State(users): State<app::Users>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match json_body(&headers, &body) {
        Ok(credentials) => respond(app::login(&s, &users, &credentials).await),
        Err(reason) => bad_request(reason),
    }
}

async fn logout_everywhere(s: Session, State(users): State<app::Users>) -> Response {
    respond(app::logout_everywhere(&s, &users).await)
}

async fn session_data(s: Session, headers: HeaderMap, body: Bytes) -> Response {
    match json_body(&headers, &body) {
        Ok(preferences) => respond(app::session_data(&s, &preferences)),
        Err(reason) => bad_request(reason),
    }
}

async fn store_blob(
    s: Session,
    query: Result<Query<app::BlobQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match query {
        Ok(q) => respond(app::store_blob(&s, &q)),
        Err(rejection) => {
            let text = rejection.body_text();
            let reason = text
                .strip_prefix("Failed to deserialize query string: ")
                .unwrap_or(&text);
            bad_request(format!("Query deserialize error: {reason}"))
        }
    }
}

async fn cookie_stats(State(cookie): State<CookieOptions>, headers: HeaderMap) -> Response {
    let values = headers.get_all(header::COOKIE);
    respond(app::cookie_stats(
        &cookie,
        values.iter().map(|v| v.as_bytes()),
    ))
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, app::METRICS_CONTENT_TYPE)],
        app::metrics_text(),
    )
        .into_response()
}

/// actix-web answers a known path with another method `404`, not `405`: keep the contract.
async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// Resolves at the first SIGTERM (a process manager stopping the instance) or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn main() -> ExitCode {
    let Some(app::Startup {
        engine,
        users,
        port,
        csrf,
    }) = app::startup()
    else {
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = AppState {
        cookie: engine.cookie().clone(),
        users,
    };
    let app = Router::new()
        .route("/", get(index))
        .route("/counter", get(session_route!(app::counter)))
        .route("/login", post(login))
        .route("/profile", get(session_route!(app::profile)))
        .route("/flash", get(session_route!(app::flash)))
        .route("/csrf", get(session_route!(app::csrf)))
        .route(
            "/admin/dashboard",
            get(session_route!(app::admin_dashboard)),
        )
        .route("/session-data", put(session_data))
        .route("/session-info", get(session_route!(app::session_info)))
        .route(
            "/refresh-session",
            post(session_route!(app::refresh_session)),
        )
        .route("/logout", post(session_route!(app::logout)))
        .route("/logout-everywhere", post(logout_everywhere))
        .route(
            "/blob",
            post(store_blob)
                .get(session_route!(app::blob_size))
                .delete(session_route!(app::delete_blob)),
        )
        .route("/cookie-stats", get(cookie_stats))
        .route("/metrics", get(metrics))
        .method_not_allowed_fallback(not_found)
        .with_state(state);
    // `SESSION_CSRF=1`: unsafe requests need the session's token. The CSRF layer reads the
    // session, so it is added before (inside) the session layer.
    let app = if csrf {
        app.layer(CsrfLayer::new())
    } else {
        app
    };
    let app = app.layer(SessionLayer::new(engine));
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        app::announce(listener.local_addr()?.port());
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
