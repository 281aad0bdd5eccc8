//! The HTTP throughput server of issue 5, driven by `benchmarks/http.sh` (wrk).
//!
//! One binary, three apps, chosen by `BENCH_MODE`:
//!
//! * `ours`: `sealed_session::actix::SessionMiddleware`, default settings
//!   (XAES-256-GCM, compression when it helps), cookie named `session` (as actix-session's
//!   is short, `id`, the size comparison is with the shorter name);
//! * `actix`: actix-session 0.11's `SessionMiddleware` with `CookieSessionStore`, default
//!   settings (private cookie `id`, AES-256-GCM, browser-session lifecycle);
//! * `bare`: no session middleware at all (the framework's own cost).
//!
//! Routes, the same in each mode:
//!
//! * `GET /login`: stores the profile workload under `"profile"` (the client keeps the
//!   cookie and sends it with every later request; `bare` sets the cookie our middleware
//!   would, so that every mode receives requests of the same size);
//! * `GET /signin`: stores the seeds' login session (user id, username, role, permissions,
//!   login count) under `"user"`, the same way;
//! * `GET /me`: reads the login session and answers a small JSON document from it (the
//!   login session's read route; no `Set-Cookie`);
//! * `GET /profile`: reads the profile from the session and answers a small JSON document
//!   from it (`bare` answers the same document from the profile in memory); the session is
//!   unchanged, so no `Set-Cookie`;
//! * `GET /counter`: reads `"count"` from the session and writes it back plus one, so every
//!   response re-seals the whole session (profile or login, + counter) into a `Set-Cookie`:
//!   the write route of both workloads, depending on which cookie the client holds;
//! * `GET /hello`: never touches the session (no extractor): the untouched-route cost of
//!   the middleware (issue 9), with the login cookie in the request.
//!
//! ```text
//! BENCH_MODE=ours BENCH_PORT=8090 cargo run --release -p sealed-session-benchmarks --example bench_server
//! curl -si http://127.0.0.1:8090/login     # take the Set-Cookie
//! ```
//!
//! One worker; binds 127.0.0.1 only; exits by itself after `BENCH_SERVER_TTL` seconds
//! (default 300) so that a forgotten server never outlives the benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/workloads.rs"]
mod workloads;

#[path = "support/views.rs"]
mod views;

use std::cell::Cell;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use views::{LoginView, ProfileView};
use workloads::{Login, Profile};

fn view(p: &Profile) -> HttpResponse {
    HttpResponse::Ok().json(ProfileView::of(p))
}

fn login_view(l: &Login) -> HttpResponse {
    HttpResponse::Ok().json(LoginView::of(l))
}

/// The route that never touches the session, the same in every mode.
async fn hello() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("hello")
}

/// Renewing differs in signature only: ours can fail (after the response is sent).
trait Renew {
    fn renew_session(&self) -> actix_web::Result<()>;
}

impl Renew for sealed_session::Session {
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

/// The same three handlers for any session extractor with `get`/`insert`/`renew`: ours and
/// actix-session's `Session` differ only in type, so the two apps run identical code.
macro_rules! session_handlers {
    ($session:ty) => {
        pub async fn login(
            session: $session,
            profile: web::Data<Profile>,
        ) -> actix_web::Result<HttpResponse> {
            Renew::renew_session(&session)?;
            session.insert("profile", profile.get_ref())?;
            Ok(HttpResponse::Ok().finish())
        }

        pub async fn signin(
            session: $session,
            user: web::Data<Login>,
        ) -> actix_web::Result<HttpResponse> {
            Renew::renew_session(&session)?;
            session.insert("user", user.get_ref())?;
            Ok(HttpResponse::Ok().finish())
        }

        pub async fn me(session: $session) -> actix_web::Result<HttpResponse> {
            match session.get::<Login>("user")? {
                Some(l) => Ok(login_view(&l)),
                None => Ok(HttpResponse::Unauthorized().finish()),
            }
        }

        pub async fn profile(session: $session) -> actix_web::Result<HttpResponse> {
            match session.get::<Profile>("profile")? {
                Some(p) => Ok(view(&p)),
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

mod ours {
    use super::*;
    session_handlers!(sealed_session::Session);
}

mod actix {
    use super::*;
    session_handlers!(actix_session::Session);
}

mod bare {
    use super::*;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    /// The `Set-Cookie` values our middleware sends for the profile and the login session,
    /// sent by `bare` too so that every mode's requests carry a cookie of the same size.
    pub struct Cookies {
        pub profile: Vec<String>,
        pub login: Vec<String>,
    }

    fn with_cookies(set_cookies: &[String]) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        for c in set_cookies {
            res.append_header(("set-cookie", c.as_str()));
        }
        res.finish()
    }

    pub async fn login(cookies: web::Data<Cookies>) -> HttpResponse {
        with_cookies(&cookies.profile)
    }

    pub async fn signin(cookies: web::Data<Cookies>) -> HttpResponse {
        with_cookies(&cookies.login)
    }

    pub async fn profile(profile: web::Data<Profile>) -> HttpResponse {
        view(profile.get_ref())
    }

    pub async fn me(user: web::Data<Login>) -> HttpResponse {
        login_view(user.get_ref())
    }

    pub async fn counter() -> HttpResponse {
        let n = COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        HttpResponse::Ok().json(n)
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mode = std::env::var("BENCH_MODE").unwrap_or_else(|_| "ours".into());
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
        eprintln!("bench_server: BENCH_SERVER_TTL ({ttl} s) reached, exiting");
        std::process::exit(0);
    });

    let profile = web::Data::new(workloads::profile());
    let user = web::Data::new(workloads::login());
    let engine =
        sealed_session::SessionBuilder::new(sealed_session::Secret::from_bytes(&[7; 32]).unwrap())
            .cookie_name("session")
            .build()
            .unwrap();
    let set_cookies = |key: &str, value: &dyn Fn(&mut sealed_session::SessionState, &str)| {
        let mut s = sealed_session::SessionState::new();
        value(&mut s, key);
        engine.set_cookies(&mut s).unwrap()
    };
    let cookies = web::Data::new(bare::Cookies {
        profile: set_cookies("profile", &|s, k| s.insert(k, profile.get_ref()).unwrap()),
        login: set_cookies("user", &|s, k| s.insert(k, user.get_ref()).unwrap()),
    });
    let ours_mw = sealed_session::actix::SessionMiddleware::new(engine.clone());
    let actix_key = actix_web::cookie::Key::from(&[7u8; 64]);

    let server = match mode.as_str() {
        "ours" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .app_data(user.clone())
                .wrap(ours_mw.clone())
                .route("/login", web::get().to(ours::login))
                .route("/signin", web::get().to(ours::signin))
                .route("/profile", web::get().to(ours::profile))
                .route("/me", web::get().to(ours::me))
                .route("/hello", web::get().to(hello))
                .route("/counter", web::get().to(ours::counter))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run(),
        "actix" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .app_data(user.clone())
                .wrap(actix_session::SessionMiddleware::new(
                    actix_session::storage::CookieSessionStore::default(),
                    actix_key.clone(),
                ))
                .route("/login", web::get().to(actix::login))
                .route("/signin", web::get().to(actix::signin))
                .route("/profile", web::get().to(actix::profile))
                .route("/me", web::get().to(actix::me))
                .route("/hello", web::get().to(hello))
                .route("/counter", web::get().to(actix::counter))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run(),
        "bare" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .app_data(user.clone())
                .app_data(cookies.clone())
                .route("/login", web::get().to(bare::login))
                .route("/signin", web::get().to(bare::signin))
                .route("/profile", web::get().to(bare::profile))
                .route("/me", web::get().to(bare::me))
                .route("/hello", web::get().to(hello))
                .route("/counter", web::get().to(bare::counter))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run(),
        other => {
            eprintln!("BENCH_MODE must be ours, actix or bare (got {other:?})");
            std::process::exit(2);
        }
    };
    eprintln!("bench_server: mode {mode}, http://127.0.0.1:{port}, 1 worker");
    server.await
}
