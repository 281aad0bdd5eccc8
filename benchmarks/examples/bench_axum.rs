//! The axum side of the HTTP bench (issue 9), driven by `benchmarks/http.sh` like
//! `bench_server.rs`: the same routes, answers and cookies, served by axum 0.8 on a
//! single-threaded tokio runtime.
//!
//! Two apps, chosen by `BENCH_MODE`:
//!
//! * `axum-ours`: `sealed_session::axum::SessionLayer`, default settings (XAES-256-GCM),
//!   cookie named `session`;
//! * `axum-bare`: no session layer (the framework's own cost); `/login` and `/signin` set
//!   the cookie our layer would, so both apps receive requests of the same size.
//!
//! Routes: `/login` (stores the profile), `/signin` (stores the login session), `/profile`
//! and `/me` (read them), `/counter` (read + write), `/hello` (never touches the session).
//!
//! ```text
//! BENCH_MODE=axum-ours BENCH_PORT=8090 cargo run --release -p sealed-session-benchmarks --example bench_axum
//! ```
//!
//! Binds 127.0.0.1 only; exits by itself after `BENCH_SERVER_TTL` seconds (default 300).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/workloads.rs"]
mod workloads;

#[path = "support/views.rs"]
mod views;

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sealed_session::axum::SessionLayer;
use sealed_session::{Secret, Session, SessionBuilder, SessionState};
use views::{LoginView, ProfileView};
use workloads::{Login, Profile};

fn view(p: &Profile) -> Response {
    Json(ProfileView::of(p)).into_response()
}

fn login_view(l: &Login) -> Response {
    Json(LoginView::of(l)).into_response()
}

struct App {
    profile: Profile,
    user: Login,
    /// The `Set-Cookie` values of the profile and login sessions, for `axum-bare`.
    profile_cookies: Vec<String>,
    login_cookies: Vec<String>,
}

type Shared = State<Arc<App>>;

async fn hello() -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], "hello").into_response()
}

mod ours {
    use super::*;
    type R = Result<Response, sealed_session::Error>;

    pub async fn login(State(app): Shared, session: Session) -> R {
        session.renew()?;
        session.insert("profile", &app.profile)?;
        Ok(StatusCode::OK.into_response())
    }

    pub async fn signin(State(app): Shared, session: Session) -> R {
        session.renew()?;
        session.insert("user", &app.user)?;
        Ok(StatusCode::OK.into_response())
    }

    pub async fn profile(session: Session) -> R {
        Ok(match session.get::<Profile>("profile")? {
            Some(p) => view(&p),
            None => StatusCode::UNAUTHORIZED.into_response(),
        })
    }

    pub async fn me(session: Session) -> R {
        Ok(match session.get::<Login>("user")? {
            Some(l) => login_view(&l),
            None => StatusCode::UNAUTHORIZED.into_response(),
        })
    }

    pub async fn counter(session: Session) -> R {
        let n = session.get::<u64>("count")?.unwrap_or(0) + 1;
        session.insert("count", &n)?;
        Ok(Json(n).into_response())
    }
}

mod bare {
    use super::*;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    fn with_cookies(set_cookies: &[String]) -> Response {
        let mut res = StatusCode::OK.into_response();
        for c in set_cookies {
            res.headers_mut()
                .append(header::SET_COOKIE, c.parse().unwrap());
        }
        res
    }

    pub async fn login(State(app): Shared) -> Response {
        with_cookies(&app.profile_cookies)
    }

    pub async fn signin(State(app): Shared) -> Response {
        with_cookies(&app.login_cookies)
    }

    pub async fn profile(State(app): Shared) -> Response {
        view(&app.profile)
    }

    pub async fn me(State(app): Shared) -> Response {
        login_view(&app.user)
    }

    pub async fn counter() -> Response {
        let n = COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        Json(n).into_response()
    }
}

fn main() -> std::io::Result<()> {
    let mode = std::env::var("BENCH_MODE").unwrap_or_else(|_| "axum-ours".into());
    let port: u16 = std::env::var("BENCH_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8090);
    let ttl: u64 = std::env::var("BENCH_SERVER_TTL")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(300);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(ttl));
        eprintln!("bench_axum: BENCH_SERVER_TTL ({ttl} s) reached, exiting");
        std::process::exit(0);
    });

    let engine = SessionBuilder::new(Secret::from_bytes(&[7; 32]).unwrap())
        .cookie_name("session")
        .build()
        .unwrap();
    let (profile, user) = (workloads::profile(), workloads::login());
    let mut s = SessionState::new();
    s.insert("profile", &profile).unwrap();
    let profile_cookies = engine.set_cookies(&mut s).unwrap();
    let mut s = SessionState::new();
    s.insert("user", &user).unwrap();
    let login_cookies = engine.set_cookies(&mut s).unwrap();
    let app = Arc::new(App {
        profile,
        user,
        profile_cookies,
        login_cookies,
    });

    let router = match mode.as_str() {
        "axum-ours" => Router::new()
            .route("/login", get(ours::login))
            .route("/signin", get(ours::signin))
            .route("/profile", get(ours::profile))
            .route("/me", get(ours::me))
            .route("/counter", get(ours::counter))
            .route("/hello", get(hello))
            .layer(SessionLayer::new(engine))
            .with_state(app),
        "axum-bare" => Router::new()
            .route("/login", get(bare::login))
            .route("/signin", get(bare::signin))
            .route("/profile", get(bare::profile))
            .route("/me", get(bare::me))
            .route("/counter", get(bare::counter))
            .route("/hello", get(hello))
            .with_state(app),
        other => {
            eprintln!("BENCH_MODE must be axum-ours or axum-bare (got {other:?})");
            std::process::exit(2);
        }
    };
    // One thread serves everything, as actix's one worker does.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("bench_axum: mode {mode}, http://127.0.0.1:{port}, 1 thread");
        axum::serve(listener, router).await
    })
}
