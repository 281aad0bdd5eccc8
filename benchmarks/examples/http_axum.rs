//! The axum HTTP bench server, driven by `benchmarks/run.sh http|curve|demo` like
//! `http_actix.rs`: the same routes, answers and settings, served by axum 0.8 on a
//! single-threaded tokio runtime (one thread serves everything, as actix's one worker does).
//!
//! Three apps, chosen by `BENCH_MODE`:
//!
//! * `ours`: `sealed_session`'s axum `SessionLayer`, default settings (XAES-256-GCM, LZ4 when
//!   it helps), cookie `session`;
//! * `peer`: tower-sessions-cookie-store 0.5's `CookieSessionManagerLayer::private` (the whole
//!   session record in one encrypted cookie, AES-256-GCM through `cookie`'s private jar),
//!   default `CookieSessionConfig` (cookie `session`); for the cart session its
//!   `max_cookie_bytes` is raised from 4,096 to 16 KiB, without which it refuses the session
//!   (a browser would drop that cookie; see BENCHMARKS.md);
//! * `bare`: no session layer; `POST /login` sets the cookie ours would.
//!
//! Routes: `POST /login` (reads its body and ignores it), `GET /profile`, `GET /counter`,
//! `GET /hello`, as in `http_actix.rs`.
//!
//! ```text
//! BENCH_MODE=peer cargo run --release -p sealed-session-benchmarks --example http_axum
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealed_session_benchmarks::ours;
use sealed_session_benchmarks::server::{Settings, Stored, Workload};
use sealed_session_benchmarks::workloads::{Cart, Login, Profile};
use tower_sessions_cookie_store::{CookieSessionConfig, CookieSessionManagerLayer, Key};

struct App<W> {
    value: W,
    /// The `Set-Cookie` values ours sends for the session, for `bare`.
    cookies: Vec<String>,
}

async fn hello() -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], "hello").into_response()
}

mod with_ours {
    use super::*;
    type R = Result<Response, ours::Error>;

    pub async fn login<W: Stored>(
        State(app): State<Arc<App<W>>>,
        session: ours::Session,
        _body: Bytes,
    ) -> R {
        session.renew()?;
        session.insert(W::KEY, &app.value)?;
        Ok(StatusCode::OK.into_response())
    }

    pub async fn profile<W: Stored>(session: ours::Session) -> R {
        Ok(match session.get::<W>(W::KEY)? {
            Some(v) => Json(v.view()).into_response(),
            None => StatusCode::UNAUTHORIZED.into_response(),
        })
    }

    pub async fn counter(session: ours::Session) -> R {
        let n = session.get::<u64>("count")?.unwrap_or(0) + 1;
        session.insert("count", &n)?;
        Ok(Json(n).into_response())
    }
}

mod with_peer {
    use super::*;
    use tower_sessions_cookie_store::Session;

    fn error(e: tower_sessions_core::session::Error) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
    }

    pub async fn login<W: Stored>(
        State(app): State<Arc<App<W>>>,
        session: Session,
        _body: Bytes,
    ) -> Response {
        // A new id at login, as `renew` does for the others.
        if let Err(e) = session.cycle_id().await {
            return error(e);
        }
        match session.insert(W::KEY, &app.value).await {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => error(e),
        }
    }

    pub async fn profile<W: Stored>(session: Session) -> Response {
        match session.get::<W>(W::KEY).await {
            Ok(Some(v)) => Json(v.view()).into_response(),
            Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
            Err(e) => error(e),
        }
    }

    pub async fn counter(session: Session) -> Response {
        let n = match session.get::<u64>("count").await {
            Ok(n) => n.unwrap_or(0) + 1,
            Err(e) => return error(e),
        };
        match session.insert("count", n).await {
            Ok(()) => Json(n).into_response(),
            Err(e) => error(e),
        }
    }
}

mod bare {
    use super::*;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    pub async fn login<W: Stored>(State(app): State<Arc<App<W>>>, _body: Bytes) -> Response {
        let mut res = StatusCode::OK.into_response();
        for c in &app.cookies {
            res.headers_mut()
                .append(header::SET_COOKIE, c.parse().unwrap());
        }
        res
    }

    pub async fn profile<W: Stored>(State(app): State<Arc<App<W>>>) -> Response {
        Json(app.value.view()).into_response()
    }

    pub async fn counter() -> Response {
        let n = COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        Json(n).into_response()
    }
}

/// The four routes, from the handlers of module `$m`.
macro_rules! routes {
    ($m:ident, $w:ty) => {
        Router::new()
            .route("/login", post($m::login::<$w>))
            .route("/profile", get($m::profile::<$w>))
            .route("/counter", get($m::counter))
            .route("/hello", get(hello))
    };
}

fn router<W: Stored>(settings: &Settings) -> Router {
    let engine = ours::engine(ours::Options::default());
    let value = W::value();
    let app = Arc::new(App {
        cookies: ours::set_cookies(&engine, W::KEY, &value),
        value,
    });
    match settings.mode.as_str() {
        "ours" => routes!(with_ours, W)
            .layer(ours::AxumLayer::new(engine))
            .with_state(app),
        "peer" => {
            let mut config = CookieSessionConfig::default();
            if settings.workload == Workload::Cart {
                config = config.with_max_cookie_bytes(16 * 1024);
            }
            let layer =
                CookieSessionManagerLayer::private(Key::from(&[7u8; 64])).with_config(config);
            routes!(with_peer, W).layer(layer).with_state(app)
        }
        _ => routes!(bare, W).with_state(app),
    }
}

fn main() -> std::io::Result<()> {
    let settings = Settings::from_env("http_axum");
    let router = match settings.workload {
        Workload::Login => router::<Login>(&settings),
        Workload::Profile => router::<Profile>(&settings),
        Workload::Cart => router::<Cart>(&settings),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port)).await?;
        settings.announce("http_axum");
        axum::serve(listener, router).await
    })
}
