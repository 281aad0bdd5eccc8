//! The example server: a small JSON app with logins, a counter and a demo page, all its state
//! in sealed cookies.
//!
//! ```text
//! cargo run --release --example server          # then open http://127.0.0.1:8080/
//! ```
//!
//! Settings come from the environment (see README.md): `PORT`, `SESSION_KEYS`,
//! `SESSION_EPOCH_SECS`, `SESSION_COOKIE_NAME`, `SESSION_IDLE_SECS`, `SESSION_ABSOLUTE_SECS`,
//! `SESSION_MAX_COOKIES`, `SESSION_SECURE`, `SESSION_COMPRESSION`, `SESSION_ALGORITHM`.

use std::process::ExitCode;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use sealed_session::actix::{Session, SessionMiddleware};
use sealed_session::{
    Algorithm, Compression, CookieConfig, EpochKeys, Keyring, Keys, Secret, SessionConfig,
    SessionEngine,
};

/// Largest blob `POST /blob` accepts.
const MAX_BLOB: usize = 65_536;

/// What a logged-in session holds about its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    username: String,
    role: String,
    permissions: Vec<String>,
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct Preferences {
    theme: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct BlobQuery {
    size: usize,
}

type Result<T> = std::result::Result<T, actix_web::Error>;

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({ "error": "Authentication required" }))
}

/// The demo users. A real app checks a password hash from its database.
fn authenticate(c: &Credentials) -> Option<User> {
    let (id, role, permissions): (u64, &str, &[&str]) =
        match (c.username.as_str(), c.password.as_str()) {
            ("admin", "admin123") => (1, "admin", &["read", "write", "delete"]),
            ("user", "user123") => (2, "user", &["read"]),
            _ => return None,
        };
    Some(User {
        id,
        username: c.username.clone(),
        role: role.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    })
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("demo.html"))
}

async fn counter(session: Session) -> Result<HttpResponse> {
    let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    session.insert("count", &count)?;
    Ok(HttpResponse::Ok().json(json!({ "count": count })))
}

async fn login(session: Session, body: web::Json<Credentials>) -> Result<HttpResponse> {
    let Some(user) = authenticate(&body) else {
        return Ok(HttpResponse::Unauthorized().json(json!({ "error": "Invalid credentials" })));
    };
    // A new lifetime at every login: the privilege level changes.
    session.renew();
    let login_count = session.get::<u64>("loginCount")?.unwrap_or(0) + 1;
    session.insert("loginCount", &login_count)?;
    session.insert("user", &user)?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Logged in",
        "user": { "id": user.id, "username": user.username, "role": user.role },
    })))
}

async fn profile(session: Session) -> Result<HttpResponse> {
    let Some(user) = session.get::<User>("user")? else {
        return Ok(unauthorized());
    };
    let login_count = session.get::<u64>("loginCount")?.unwrap_or(0);
    Ok(HttpResponse::Ok().json(json!({ "user": user, "loginCount": login_count })))
}

async fn admin_dashboard(session: Session) -> Result<HttpResponse> {
    let Some(user) = session.get::<User>("user")? else {
        return Ok(unauthorized());
    };
    if user.role != "admin" {
        return Ok(HttpResponse::Forbidden().json(json!({ "error": "Admin access required" })));
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": "Welcome to the admin dashboard",
        "user": { "id": user.id, "username": user.username, "role": user.role },
    })))
}

async fn session_data(session: Session, body: web::Json<Preferences>) -> Result<HttpResponse> {
    if let Some(theme) = &body.theme {
        session.insert("theme", theme)?;
    }
    if let Some(language) = &body.language {
        session.insert("language", language)?;
    }
    Ok(HttpResponse::Ok().json(json!({
        "theme": session.get::<String>("theme")?,
        "language": session.get::<String>("language")?,
    })))
}

async fn session_info(session: Session) -> Result<HttpResponse> {
    if session.get::<User>("user")?.is_none() {
        return Ok(unauthorized());
    }
    let d = session.deadlines();
    Ok(HttpResponse::Ok().json(json!({
        "createdAt": d.created_at,
        "idleExpiresAt": d.idle_expires_at,
        "absoluteExpiresAt": d.absolute_expires_at,
    })))
}

async fn refresh_session(session: Session) -> HttpResponse {
    session.touch();
    HttpResponse::Ok().json(json!({ "idleExpiresAt": session.deadlines().idle_expires_at }))
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().json(json!({ "message": "Logged out" }))
}

async fn store_blob(session: Session, query: web::Query<BlobQuery>) -> Result<HttpResponse> {
    if query.size > MAX_BLOB {
        return Ok(HttpResponse::BadRequest()
            .json(json!({ "error": format!("size must be between 0 and {MAX_BLOB}") })));
    }
    // Random bytes do not compress, so the session grows by the full size.
    let mut blob = vec![0u8; query.size];
    rand::rng().fill_bytes(&mut blob);
    session.insert("blob", &blob)?;
    Ok(HttpResponse::Ok().json(json!({ "size": query.size })))
}

async fn blob_size(session: Session) -> Result<HttpResponse> {
    let size = session.get::<Vec<u8>>("blob")?.map_or(0, |b| b.len());
    Ok(HttpResponse::Ok().json(json!({ "size": size })))
}

async fn delete_blob(session: Session) -> HttpResponse {
    session.remove("blob");
    HttpResponse::Ok().json(json!({ "size": 0 }))
}

/// How many session cookies (`name`, `name.1`, …) the request carried and their name+value
/// bytes; the page cannot see HttpOnly cookies itself.
async fn cookie_stats(req: HttpRequest, cookie: web::Data<CookieConfig>) -> HttpResponse {
    let (mut cookies, mut bytes) = (0usize, 0usize);
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if cookie.chunk_index(k).is_some() {
                cookies += 1;
                bytes += k.len() + v.len();
            }
        }
    }
    HttpResponse::Ok().json(json!({ "cookies": cookies, "bytes": bytes }))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> std::result::Result<T, String> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid number")),
    }
}

fn env_flag(name: &str, default: bool) -> std::result::Result<bool, String> {
    match env(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(format!("{name}={v:?} must be 1 or 0")),
    }
}

/// Builds the session configuration from the environment, or says what is wrong.
fn config_from_env() -> std::result::Result<SessionEngine, String> {
    let secrets = match env("SESSION_KEYS") {
        Some(list) => Secret::list_from_base64(&list).map_err(|e| format!("SESSION_KEYS: {e}"))?,
        None => {
            eprintln!(
                "warning: SESSION_KEYS is not set; using a random key, so sessions will not \
                 survive a restart (generate one with `cargo run --example keygen`)"
            );
            vec![Secret::generate()]
        }
    };
    let keys: Keys = match env("SESSION_EPOCH_SECS") {
        Some(_) => {
            let period = env_num::<u64>("SESSION_EPOCH_SECS", 0)?;
            let [master] = <[Secret; 1]>::try_from(secrets).map_err(|s| {
                format!(
                    "SESSION_EPOCH_SECS is set, so SESSION_KEYS must hold exactly one master \
                     secret, not {}",
                    s.len()
                )
            })?;
            EpochKeys::new(master, Duration::from_secs(period))
                .map_err(|e| format!("SESSION_EPOCH_SECS: {e}"))?
                .into()
        }
        None => Keyring::from_secrets(secrets)
            .map_err(|e| e.to_string())?
            .into(),
    };
    let mut builder = SessionConfig::new(keys)
        .cookie_name(env("SESSION_COOKIE_NAME").unwrap_or_else(|| "session".into()))
        .idle_timeout(Some(Duration::from_secs(env_num(
            "SESSION_IDLE_SECS",
            86_400,
        )?)))
        .absolute_timeout(Duration::from_secs(env_num(
            "SESSION_ABSOLUTE_SECS",
            604_800,
        )?))
        .max_cookies(env_num("SESSION_MAX_COOKIES", 1)?)
        .secure(env_flag("SESSION_SECURE", true)?);
    if !env_flag("SESSION_COMPRESSION", true)? {
        builder = builder.compression(Compression::Off);
    }
    if let Some(alg) = env("SESSION_ALGORITHM") {
        let alg: Algorithm = alg.parse().map_err(|e| format!("SESSION_ALGORITHM: {e}"))?;
        builder = builder.algorithm(alg);
    }
    builder.build().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match config_from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port: u16 = match env_num("PORT", 8080) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match actix_web::rt::System::new().block_on(serve(config, port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: SessionEngine, port: u16) -> std::io::Result<()> {
    let cookie = web::Data::new(config.cookie().clone());
    let sessions = SessionMiddleware::new(config);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .app_data(cookie.clone())
            .route("/", web::get().to(index))
            .route("/counter", web::get().to(counter))
            .route("/login", web::post().to(login))
            .route("/profile", web::get().to(profile))
            .route("/admin/dashboard", web::get().to(admin_dashboard))
            .route("/session-data", web::put().to(session_data))
            .route("/session-info", web::get().to(session_info))
            .route("/refresh-session", web::post().to(refresh_session))
            .route("/logout", web::post().to(logout))
            .route("/blob", web::post().to(store_blob))
            .route("/blob", web::get().to(blob_size))
            .route("/blob", web::delete().to(delete_blob))
            .route("/cookie-stats", web::get().to(cookie_stats))
    })
    .bind(("127.0.0.1", port))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the server bound no address"))?;
    // The socket is listening from here on, so a client that reads this line can connect.
    println!(
        "sealed-session example listening on http://127.0.0.1:{}",
        addr.port()
    );
    server.run().await
}
