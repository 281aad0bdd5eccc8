//! The HTTP throughput server of issue 5, driven by `benchmarks/http.sh` (wrk).
//!
//! One binary, three apps, chosen by `BENCH_MODE`:
//!
//! * `ours`: `sealed_session::actix::SessionMiddleware`, default settings
//!   (XChaCha20-Poly1305, compression when it helps);
//! * `actix`: actix-session 0.11's `SessionMiddleware` with `CookieSessionStore`, default
//!   settings (private cookie `id`, AES-256-GCM, browser-session lifecycle);
//! * `bare`: no session middleware at all (the framework's own cost).
//!
//! Routes, the same in each mode:
//!
//! * `GET /login`: stores the profile workload under `"profile"` (the client keeps the
//!   cookie and sends it with every later request; `bare` sends no cookie);
//! * `GET /profile`: reads the profile from the session and answers a small JSON document
//!   from it (`bare` answers the same document from the profile in memory); the session is
//!   unchanged, so no `Set-Cookie`;
//! * `GET /counter`: reads `"count"` from the session and writes it back plus one, so every
//!   response re-seals the whole session (profile + counter) into a `Set-Cookie`.
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

use std::cell::Cell;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Serialize;
use workloads::Profile;

#[derive(Serialize)]
struct ProfileView<'a> {
    user_id: u64,
    username: &'a str,
    role: &'a str,
    pages: usize,
}

fn view(p: &Profile) -> HttpResponse {
    HttpResponse::Ok().json(ProfileView {
        user_id: p.user_id,
        username: &p.username,
        role: &p.role,
        pages: p.visited_pages.len(),
    })
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

    pub async fn login() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    pub async fn profile(profile: web::Data<Profile>) -> HttpResponse {
        view(profile.get_ref())
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
    let ours_mw = sealed_session::actix::SessionMiddleware::new(
        sealed_session::SessionConfig::new(sealed_session::Secret::from_bytes(&[7; 32]).unwrap())
            .build()
            .unwrap(),
    );
    let actix_key = actix_web::cookie::Key::from(&[7u8; 64]);

    let server = match mode.as_str() {
        "ours" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .wrap(ours_mw.clone())
                .route("/login", web::get().to(ours::login))
                .route("/profile", web::get().to(ours::profile))
                .route("/counter", web::get().to(ours::counter))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run(),
        "actix" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .wrap(actix_session::SessionMiddleware::new(
                    actix_session::storage::CookieSessionStore::default(),
                    actix_key.clone(),
                ))
                .route("/login", web::get().to(actix::login))
                .route("/profile", web::get().to(actix::profile))
                .route("/counter", web::get().to(actix::counter))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run(),
        "bare" => HttpServer::new(move || {
            App::new()
                .app_data(profile.clone())
                .route("/login", web::get().to(bare::login))
                .route("/profile", web::get().to(bare::profile))
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
