//! The actix-web HTTP bench server, driven by `benchmarks/run.sh http|curve|demo`.
//!
//! One binary, three apps, chosen by `BENCH_MODE` (see `src/server.rs` for the other settings):
//!
//! * `ours`: `sealed_session`'s actix-web `SessionMiddleware`, default settings (XAES-256-GCM,
//!   LZ4 when it helps), cookie `session`;
//! * `peer`: actix-session 0.11's `SessionMiddleware` with `CookieSessionStore` and
//!   `CookieContentSecurity::Private` (AES-256-GCM, the default), cookie `session`;
//! * `bare`: no session middleware (the framework's own cost). `POST /login` sets the cookie
//!   ours would, so that the requests carry a cookie of the same size as ours.
//!
//! Routes, the same in each mode; `BENCH_WORKLOAD` (`login`, `profile`, `cart`) picks the
//! session:
//!
//! * `POST /login`: stores the workload's session (the body is read, as a login handler reads
//!   its credentials, and ignored); `renew`s first, as a login handler does;
//! * `GET /profile`: reads it and answers a small JSON view of it (no `Set-Cookie`);
//! * `GET /counter`: reads `"count"` and writes it back plus one, so every response re-seals
//!   the whole session into a `Set-Cookie`;
//! * `GET /hello`: never touches the session.
//!
//! ```text
//! BENCH_MODE=peer cargo run --release -p sealed-session-benchmarks --example http_actix
//! curl -si -X POST http://127.0.0.1:8090/login     # take the Set-Cookie
//! ```
//!
//! One worker; binds 127.0.0.1 only; exits by itself after `BENCH_SERVER_TTL` seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_web::{web, App, HttpResponse, HttpServer};
use sealed_session_benchmarks::ours;
use sealed_session_benchmarks::server::{Settings, Stored, Workload};
use sealed_session_benchmarks::workloads::{Cart, Login, Profile};

/// The route that never touches the session, the same in every mode.
async fn hello() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("hello")
}

/// Renewing differs in signature only: ours can fail.
trait Renew {
    fn renew_session(&self) -> actix_web::Result<()>;
}

impl Renew for ours::Session {
    fn renew_session(&self) -> actix_web::Result<()> {
        Ok(self.renew()?)
    }
}

impl Renew for actix_session::Session {
    fn renew_session(&self) -> actix_web::Result<()> {
        self.renew();
        Ok(())
    }
}

/// The same handlers for ours and actix-session's `Session`: they differ only in type, so the
/// two apps run identical code.
macro_rules! session_handlers {
    ($session:ty) => {
        pub async fn login<W: Stored>(
            session: $session,
            value: web::Data<W>,
            _body: web::Bytes,
        ) -> actix_web::Result<HttpResponse> {
            Renew::renew_session(&session)?;
            session.insert(W::KEY, value.get_ref())?;
            Ok(HttpResponse::Ok().finish())
        }

        pub async fn profile<W: Stored>(session: $session) -> actix_web::Result<HttpResponse> {
            match session.get::<W>(W::KEY)? {
                Some(v) => Ok(HttpResponse::Ok().json(v.view())),
                None => Ok(HttpResponse::Unauthorized().finish()),
            }
        }

        pub async fn counter(session: $session) -> actix_web::Result<HttpResponse> {
            let n = session.get::<u64>("count")?.unwrap_or(0) + 1;
            session.insert("count", &n)?;
            Ok(HttpResponse::Ok().json(n))
        }
    };
}

mod with_ours {
    use super::*;
    session_handlers!(ours::Session);
}

mod with_peer {
    use super::*;
    session_handlers!(actix_session::Session);
}

mod bare {
    use super::*;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    /// The `Set-Cookie` values ours sends for the workload's session.
    pub struct Cookies(pub Vec<String>);

    /// (Takes the value only to have the other modes' signature.)
    pub async fn login<W: Stored>(
        cookies: web::Data<Cookies>,
        _: web::Data<W>,
        _body: web::Bytes,
    ) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        for c in &cookies.0 {
            res.append_header(("set-cookie", c.as_str()));
        }
        res.finish()
    }

    pub async fn profile<W: Stored>(value: web::Data<W>) -> HttpResponse {
        HttpResponse::Ok().json(value.view())
    }

    pub async fn counter() -> HttpResponse {
        let n = COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        HttpResponse::Ok().json(n)
    }
}

/// The four routes, from the handlers of module `$m`.
macro_rules! routes {
    ($app:expr, $m:ident, $w:ty) => {
        $app.route("/login", web::post().to($m::login::<$w>))
            .route("/profile", web::get().to($m::profile::<$w>))
            .route("/counter", web::get().to($m::counter))
            .route("/hello", web::get().to(hello))
    };
}

async fn serve<W: Stored>(settings: &Settings) -> std::io::Result<()> {
    let value = web::Data::new(W::value());
    let engine = ours::engine(ours::Options::default());
    let cookies = web::Data::new(bare::Cookies(ours::set_cookies(
        &engine,
        W::KEY,
        value.get_ref(),
    )));
    let middleware = ours::ActixMiddleware::new(engine);
    let key = actix_web::cookie::Key::from(&[7u8; 64]);
    let bind = ("127.0.0.1", settings.port);
    let server = match settings.mode.as_str() {
        "ours" => HttpServer::new(move || {
            let app = App::new().app_data(value.clone()).wrap(middleware.clone());
            routes!(app, with_ours, W)
        })
        .workers(1)
        .bind(bind)?
        .run(),
        "peer" => HttpServer::new(move || {
            let sessions = actix_session::SessionMiddleware::builder(
                CookieSessionStore::default(),
                key.clone(),
            )
            .cookie_name(ours::COOKIE_NAME.to_owned())
            .cookie_content_security(CookieContentSecurity::Private)
            .build();
            let app = App::new().app_data(value.clone()).wrap(sessions);
            routes!(app, with_peer, W)
        })
        .workers(1)
        .bind(bind)?
        .run(),
        _ => HttpServer::new(move || {
            let app = App::new().app_data(value.clone()).app_data(cookies.clone());
            routes!(app, bare, W)
        })
        .workers(1)
        .bind(bind)?
        .run(),
    };
    settings.announce("http_actix");
    server.await
}

fn main() -> std::io::Result<()> {
    let settings = Settings::from_env("http_actix");
    actix_web::rt::System::new().block_on(async {
        match settings.workload {
            Workload::Login => serve::<Login>(&settings).await,
            Workload::Profile => serve::<Profile>(&settings).await,
            Workload::Cart => serve::<Cart>(&settings).await,
        }
    })
}
