//! The demo app's HTTP contract, written once for both frameworks: `src/bin/server.rs`
//! (actix-web) and `src/bin/axum_server.rs` (axum) only translate requests and responses, so
//! both serve exactly the same routes, bodies and status codes.
//!
//! Every handler takes the request's [`Session`] handle and returns a status and a JSON body.
//! The users, their password hashes and their "logout everywhere" generations live in the
//! user store ([`Users`], `src/users.rs`), a SQLite file that every instance of a fleet shares
//! (`DATABASE_URL`); everything else a request needs is in its session cookie.

mod users;

use std::time::Duration;

use rand::Rng as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sealed_session::{
    Algorithm, Compression, ConfigError, CookieOptions, EpochKeys, FlashLevel, Keyring, Keys,
    LegacyImport, LegacyKey, LegacySession, Migration, Revalidation, Secret, Session,
    SessionBuilder, SessionEngine, SessionKey, SessionState, Verdict,
};

pub use users::{database_path, Account, StoreError, Users, DEFAULT_DATABASE};

/// Largest blob `POST /blob` accepts.
const MAX_BLOB: usize = 65_536;

/// The demo page served at `/`.
pub const DEMO_HTML: &str = include_str!("demo.html");

/// A handler's answer: a status and a JSON body, or a session error (an opaque 500).
pub type Reply = Result<(u16, Body), sealed_session::Error>;

/// A response's JSON, serialized once where the handler returns it. (Building a
/// `serde_json::Value` first costs a tree of allocations that is serialized and dropped
/// again: on `GET /profile`, more than the session's own work.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    /// `value` as JSON.
    pub fn json(value: &impl Serialize) -> Body {
        match serde_json::to_string(value) {
            Ok(text) => Body(text),
            // Only a map with non-string keys or a failing `Serialize` impl can fail; the
            // demo has neither.
            Err(_) => Body(r#"{"error":"internal server error"}"#.to_owned()),
        }
    }

    /// The JSON text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The body parsed back (tests).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        Body(value.to_string())
    }
}

/// A [`Body`] from `json!` syntax.
macro_rules! body {
    ($($json:tt)+) => {
        Body::from(serde_json::json!($($json)+))
    };
}

/// The schema version of what the demo stores in sessions (see [`migrate`]): 1 since `User`
/// gained `logged_in_at`. A cookie of the previous release (schema 0) is migrated on its first
/// request, so a deploy logs nobody out.
pub const SCHEMA: u32 = 1;

/// What a logged-in session holds about its user (schema 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    username: String,
    role: String,
    permissions: Vec<String>,
    /// Unix seconds of this login (0: logged in before the release that added it).
    logged_in_at: u64,
}

/// The user as the previous release (schema 0) stored it.
#[derive(Deserialize)]
struct UserV0 {
    id: u64,
    username: String,
    role: String,
    permissions: Vec<String>,
}

/// How a user appears in the HTTP responses: the contract's fields, in its order.
#[derive(Serialize)]
struct UserView<'a> {
    id: u64,
    username: &'a str,
    role: &'a str,
    permissions: &'a [String],
}

impl User {
    /// The user of `account`, logging in now.
    fn logged_in(account: Account) -> User {
        User {
            id: account.id,
            username: account.username,
            role: account.role,
            permissions: account.permissions,
            logged_in_at: unix_now(),
        }
    }

    fn view(&self) -> UserView<'_> {
        UserView {
            id: self.id,
            username: &self.username,
            role: &self.role,
            permissions: &self.permissions,
        }
    }
}

// The session's entries, each with the one type stored under it: every read and write of an
// entry agrees on its type at compile time.
const USER: SessionKey<User> = SessionKey::new("user");
const LOGIN_COUNT: SessionKey<u64> = SessionKey::new("loginCount");
const COUNT: SessionKey<u64> = SessionKey::new("count");
const THEME: SessionKey<String> = SessionKey::new("theme");
const LANGUAGE: SessionKey<String> = SessionKey::new("language");
const AUTH_GEN: SessionKey<u64> = SessionKey::new("authGen");
const BLOB: SessionKey<Vec<u8>> = SessionKey::new("blob");

/// Migrates a session written under an older schema to [`SCHEMA`], in place.
pub fn migrate(from: u32, session: &mut SessionState) -> Migration {
    if from != 0 {
        return Migration::Drop;
    }
    match session.get::<UserV0>("user") {
        Ok(Some(old)) => {
            let user = User {
                id: old.id,
                username: old.username,
                role: old.role,
                permissions: old.permissions,
                logged_in_at: 0,
            };
            match session.insert(USER, &user) {
                Ok(()) => Migration::Keep,
                Err(_) => Migration::Drop,
            }
        }
        // An anonymous session: nothing to migrate.
        Ok(None) => Migration::Keep,
        Err(_) => Migration::Drop,
    }
}

/// `POST /login` body. `remember: false` makes the session's cookies end with the browser.
#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    remember: Option<bool>,
}

/// The revalidation check (`SESSION_REVALIDATE_SECS`): a logged-in session is valid while the
/// session generation it sealed at login (`authGen`) is still its user's current one in the
/// user store, which "logout everywhere" bumps on whichever instance it ran.
async fn still_valid(users: Users, r: Revalidation) -> Verdict {
    let Some(user) = r.session.get(USER).ok().flatten() else {
        return Verdict::Keep;
    };
    let issued_under = r.session.get(AUTH_GEN).ok().flatten().unwrap_or(0);
    match users.generation(user.id).await {
        Ok(Some(current)) if current == issued_under => Verdict::Keep,
        // Logged out everywhere since, or the account is gone.
        Ok(_) => Verdict::Reject,
        // The request fails with an opaque 500 and the session is left as it was: the next
        // request asks again.
        Err(e) => {
            tracing::error!(error = %e, user = user.id, "revalidation: the user store failed");
            Verdict::Unavailable
        }
    }
}

/// The opaque 500 of a failed user store, after logging why.
fn store_failed(e: &StoreError, during: &str) -> Reply {
    tracing::error!(error = %e, "{during}: the user store failed");
    Ok(internal_error())
}

/// The body of every 500: the same as the session layer's own.
fn internal_error() -> (u16, Body) {
    (500, body!({ "error": "internal server error" }))
}

/// `PUT /session-data` body.
#[derive(Deserialize)]
pub struct Preferences {
    theme: Option<String>,
    language: Option<String>,
}

/// `POST /blob` query.
#[derive(Deserialize)]
pub struct BlobQuery {
    size: usize,
}

fn unauthorized() -> Reply {
    Ok((401, body!({ "error": "Authentication required" })))
}

/// `GET /counter`
pub fn counter(session: &Session) -> Reply {
    let count = session.get(COUNT)?.unwrap_or(0) + 1;
    session.insert(COUNT, &count)?;
    #[derive(Serialize)]
    struct Count {
        count: u64,
    }
    Ok((200, Body::json(&Count { count })))
}

/// `POST /login`: checks the password against the user store, and seals the user and their
/// current session generation into the session.
pub async fn login(session: &Session, users: &Users, body: &Credentials) -> Reply {
    let account = match users
        .authenticate(body.username.clone(), body.password.clone())
        .await
    {
        Ok(Some(account)) => account,
        Ok(None) => return Ok((401, body!({ "error": "Invalid credentials" }))),
        Err(e) => return store_failed(&e, "login"),
    };
    let generation = account.generation;
    let user = User::logged_in(account);
    // A new, empty session at every login: the privilege level changes, and nothing planted
    // in the session before the user authenticated (session fixation) may survive into the
    // authenticated one. What the demo carries over is named here, read before and written
    // after: the count of logins in this browser, the page-view counter and the display
    // preferences.
    let login_count = session.get(LOGIN_COUNT)?.unwrap_or(0) + 1;
    let count = session.get(COUNT)?;
    let theme = session.get(THEME)?;
    let language = session.get(LANGUAGE)?;
    session.regenerate()?;
    session.insert(LOGIN_COUNT, &login_count)?;
    if let Some(count) = count {
        session.insert(COUNT, &count)?;
    }
    if let Some(theme) = theme {
        session.insert(THEME, &theme)?;
    }
    if let Some(language) = language {
        session.insert(LANGUAGE, &language)?;
    }
    session.insert(AUTH_GEN, &generation)?;
    session.insert(USER, &user)?;
    // "Keep me signed in" unless the client said otherwise; sealed in the cookie, so later
    // refreshes and re-seals keep it.
    session.set_persistent(body.remember.unwrap_or(true))?;
    // Queued after the regenerate, which empties the session: the next `GET /flash` shows it.
    session.flash(FlashLevel::Success, format!("Welcome, {}", user.username))?;
    Ok((
        200,
        body!({
            "message": "Logged in",
            "user": { "id": user.id, "username": user.username, "role": user.role },
        }),
    ))
}

/// `GET /flash`: the queued flash messages, oldest first, each shown once.
pub fn flash(session: &Session) -> Reply {
    let messages = session.take_flashes()?;
    Ok((200, body!({ "messages": messages })))
}

/// `GET /csrf`: a CSRF token of the session (a new session if there is none), to send as
/// `X-CSRF-Token` on unsafe requests when the server runs with `SESSION_CSRF=1`. Every call
/// returns a different string; all of them verify until the session is regenerated (a login)
/// or ended.
pub fn csrf(session: &Session) -> Reply {
    Ok((200, body!({ "csrfToken": session.csrf_token()? })))
}

/// The actix-session importer's conversion (`SESSION_IMPORT_ACTIX_KEY`): the old app's login
/// session (`userId`, `username`, `role`, `permissions`, `loginCount`) becomes the demo's,
/// as a login would have written it. The user is looked up in the user store by id, and must
/// still exist with the same username; its role, permissions and current session generation
/// come from the store (the old cookie's may be stale), the login count from the cookie.
/// Anything else (an anonymous session, an unknown user, a value of another type, a store
/// failure) imports nothing: the request is served without a session and the old cookie is
/// removed.
fn import_actix_session(
    users: &Users,
    old: &LegacySession,
    session: &mut SessionState,
) -> Result<(), sealed_session::Error> {
    let (Some(id), Some(username)) = (old.get::<u64>("userId")?, old.get::<String>("username")?)
    else {
        return Ok(());
    };
    let account = match users.account_blocking(id) {
        Ok(Some(account)) if account.username == username => account,
        Ok(_) => {
            tracing::info!(user = id, "import: no such user in the user store");
            return Ok(());
        }
        Err(e) => {
            tracing::error!(error = %e, user = id, "import: the user store failed");
            return Ok(());
        }
    };
    let login_count = old.get::<u64>("loginCount").ok().flatten().unwrap_or(0);
    let generation = account.generation;
    let user = User::logged_in(account);
    session.insert(LOGIN_COUNT, &login_count)?;
    session.insert(AUTH_GEN, &generation)?;
    session.insert(USER, &user)?;
    Ok(())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `GET /profile`
pub fn profile(session: &Session) -> Reply {
    let Some(user) = session.get(USER)? else {
        return unauthorized();
    };
    let login_count = session.get(LOGIN_COUNT)?.unwrap_or(0);
    #[derive(Serialize)]
    struct Profile<'a> {
        user: UserView<'a>,
        #[serde(rename = "loginCount")]
        login_count: u64,
    }
    let profile = Profile {
        user: user.view(),
        login_count,
    };
    Ok((200, Body::json(&profile)))
}

/// `GET /admin/dashboard`
pub fn admin_dashboard(session: &Session) -> Reply {
    let Some(user) = session.get(USER)? else {
        return unauthorized();
    };
    if user.role != "admin" {
        return Ok((403, body!({ "error": "Admin access required" })));
    }
    Ok((
        200,
        body!({
            "message": "Welcome to the admin dashboard",
            "user": { "id": user.id, "username": user.username, "role": user.role },
        }),
    ))
}

/// `PUT /session-data`
pub fn session_data(session: &Session, body: &Preferences) -> Reply {
    if let Some(theme) = &body.theme {
        session.insert(THEME, theme)?;
    }
    if let Some(language) = &body.language {
        session.insert(LANGUAGE, language)?;
    }
    Ok((
        200,
        body!({
            "theme": session.get(THEME)?,
            "language": session.get(LANGUAGE)?,
        }),
    ))
}

/// `GET /session-info`
pub fn session_info(session: &Session) -> Reply {
    if session.get(USER)?.is_none() {
        return unauthorized();
    }
    let d = session.deadlines();
    Ok((
        200,
        body!({
            "createdAt": d.created_at,
            "idleExpiresAt": d.idle_expires_at,
            "absoluteExpiresAt": d.absolute_expires_at,
        }),
    ))
}

/// `POST /refresh-session`
pub fn refresh_session(session: &Session) -> Reply {
    session.touch()?;
    Ok((
        200,
        body!({ "idleExpiresAt": session.deadlines().idle_expires_at }),
    ))
}

/// `POST /logout`: needs no user store, so it works while the store is down too.
pub fn logout(session: &Session) -> Reply {
    session.purge()?;
    Ok((200, body!({ "message": "Logged out" })))
}

/// `POST /logout-everywhere`: bumps the user's session generation in the user store, so
/// every other session of this user, on any instance sharing the store, is rejected at its
/// next revalidation (within `SESSION_REVALIDATE_SECS`); this client's is removed now.
pub async fn logout_everywhere(session: &Session, users: &Users) -> Reply {
    let Some(user) = session.get(USER)? else {
        return unauthorized();
    };
    // `None`: the account is gone, so its sessions are rejected anyway.
    if let Err(e) = users.bump_generation(user.id).await {
        return store_failed(&e, "logout everywhere");
    }
    session.purge()?;
    Ok((200, body!({ "message": "Logged out everywhere" })))
}

/// `POST /blob?size=N`
pub fn store_blob(session: &Session, query: &BlobQuery) -> Reply {
    if query.size > MAX_BLOB {
        return Ok((
            400,
            body!({ "error": format!("size must be between 0 and {MAX_BLOB}") }),
        ));
    }
    // Random bytes do not compress, so the session grows by the full size.
    let mut blob = vec![0u8; query.size];
    rand::rng().fill_bytes(&mut blob);
    session.insert(BLOB, &blob)?;
    Ok((200, body!({ "size": query.size })))
}

/// `GET /blob`
pub fn blob_size(session: &Session) -> Reply {
    let size = session.get(BLOB)?.map_or(0, |b| b.len());
    Ok((200, body!({ "size": size })))
}

/// `DELETE /blob`
pub fn delete_blob(session: &Session) -> Reply {
    session.remove(BLOB.name())?;
    Ok((200, body!({ "size": 0 })))
}

/// `GET /cookie-stats`: how many session cookies (`name`, `name.1`, …) the request carried
/// and their name+value bytes; the page cannot see HttpOnly cookies itself.
pub fn cookie_stats<'h>(cookie: &CookieOptions, headers: impl Iterator<Item = &'h [u8]>) -> Reply {
    let (mut cookies, mut bytes) = (0usize, 0usize);
    for value in headers {
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        for pair in value.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if is_session_chunk(cookie, k) {
                cookies += 1;
                bytes += k.len() + v.len();
            }
        }
    }
    Ok((200, body!({ "cookies": cookies, "bytes": bytes })))
}

/// Whether `name` is one of the session's value cookies: its name, or `name.<i>` for a chunk
/// `i` below `max_cookies` (not the refresh stamp `name.t`).
fn is_session_chunk(cookie: &CookieOptions, name: &str) -> bool {
    match name.strip_prefix(cookie.name()) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .filter(|i| {
                i.len() <= 2 && !i.starts_with('0') && i.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|i| i.parse::<usize>().ok())
            .is_some_and(|i| (1..cookie.max_cookies()).contains(&i)),
        None => false,
    }
}

/// Parses a JSON request body the way actix-web's `web::Json` does, so both servers answer a
/// bad body alike: `400` with a plain-text reason. (The actix server uses `web::Json` itself,
/// the reference behaviour, so only the axum server calls this.)
pub fn parse_json<T: DeserializeOwned>(
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Result<T, String> {
    let is_json = content_type
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if !is_json {
        return Err("Content type error".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("Json deserialize error: {e}"))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A number from the environment, or `default` when unset.
pub fn env_num<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid number")),
    }
}

fn env_flag(name: &str, default: bool) -> Result<bool, String> {
    match env(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(format!("{name}={v:?} must be 1 or 0")),
    }
}

/// Whether the CSRF middleware (actix-web) or layer (axum) is installed: `SESSION_CSRF=1`
/// (default `0`).
pub fn csrf_from_env() -> Result<bool, String> {
    env_flag("SESSION_CSRF", false)
}

/// Builds the session engine from the environment (see README.md), or says what is wrong.
/// Its revalidation check asks `users`, and so does the actix-session importer
/// (`SESSION_IMPORT_ACTIX_KEY`).
pub fn engine_from_env(users: &Users) -> Result<SessionEngine, String> {
    let secrets = match env("SESSION_KEYS") {
        Some(list) => Secret::list_from_base64(&list).map_err(|e| format!("SESSION_KEYS: {e}"))?,
        None => {
            eprintln!(
                "warning: SESSION_KEYS is not set; using a random key, so sessions will not \
                 survive a restart (generate one with `cargo run -p sealed-session-cli -- keygen`)"
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
    let secure = env_flag("SESSION_SECURE", true)?;
    let partitioned = env_flag("SESSION_PARTITIONED", false)?;
    let mut config = SessionBuilder::new(keys)
        .idle_timeout(Duration::from_secs(env_num("SESSION_IDLE_SECS", 86_400)?))
        .absolute_timeout(Duration::from_secs(env_num(
            "SESSION_ABSOLUTE_SECS",
            604_800,
        )?))
        .max_cookies(env_num("SESSION_MAX_COOKIES", 1)?)
        .secure(secure)
        .partitioned(partitioned);
    // Without SESSION_COOKIE_NAME the library's default: `__Host-session` whenever the
    // cookies are `Secure` (the only name nobody else can plant), `session` otherwise.
    if let Some(name) = env("SESSION_COOKIE_NAME") {
        config = config.cookie_name(name);
    }
    if !env_flag("SESSION_COMPRESSION", true)? {
        config = config.compression(Compression::Off);
    }
    if let Some(alg) = env("SESSION_ALGORITHM") {
        let alg: Algorithm = alg.parse().map_err(|e| format!("SESSION_ALGORITHM: {e}"))?;
        config = config.algorithm(alg);
    }
    let revalidate = Duration::from_secs(env_num("SESSION_REVALIDATE_SECS", 60)?);
    let store = users.clone();
    config = config.revalidate(revalidate, move |r| still_valid(store.clone(), r));
    config = config.schema(SCHEMA, migrate);
    if let Some(key) = env("SESSION_IMPORT_ACTIX_KEY") {
        let key =
            LegacyKey::from_base64(&key).map_err(|e| format!("SESSION_IMPORT_ACTIX_KEY: {e}"))?;
        let store = users.clone();
        config = config.import_legacy(LegacyImport::actix_session(key, move |old, session| {
            import_actix_session(&store, old, session)
        }));
    }
    config.build().map_err(|e| match e {
        ConfigError::PartitionedNeedsSecure => {
            format!("SESSION_PARTITIONED=1 with SESSION_SECURE=0: {e}")
        }
        ConfigError::PartitionBudget { .. } => format!("SESSION_PARTITIONED=1: {e}"),
        // SESSION_COOKIE_NAME=id: the session's own name is the old cookie's.
        ConfigError::LegacyCookieName { .. } => format!("SESSION_IMPORT_ACTIX_KEY: {e}"),
        e => e.to_string(),
    })
}

/// Logs to stderr, at `RUST_LOG` or `info`.
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// What a server needs to start: the session engine, the user store, the port, and whether
/// unsafe requests need a CSRF token (`SESSION_CSRF`).
pub struct Startup {
    pub engine: SessionEngine,
    pub users: Users,
    pub port: u16,
    pub csrf: bool,
}

/// Starts logging and the metrics recorder, opens the user store (`DATABASE_URL`), and reads
/// the engine and port from the environment; `None` (after saying why on stderr) when the
/// server cannot start.
pub fn startup() -> Option<Startup> {
    init_logging();
    let settings = init_metrics().and_then(|()| {
        let users = Users::open(env("DATABASE_URL").as_deref())?;
        Ok(Startup {
            engine: engine_from_env(&users)?,
            port: env_num("PORT", 8080)?,
            csrf: csrf_from_env()?,
            users,
        })
    });
    settings.map_err(|e| eprintln!("error: {e}")).ok()
}

/// The line a client waits for before connecting (the socket listens from here on).
pub fn announce(port: u16) {
    println!("sealed-session example listening on http://127.0.0.1:{port}");
}

/// The `Content-Type` of `GET /metrics`: Prometheus' text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static METRICS: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
    std::sync::OnceLock::new();

/// Installs a Prometheus recorder for the library's metrics (feature `metrics`, see
/// `sealed_session::metrics`), rendered by `GET /metrics`: histograms of sealed sizes, chunk
/// counts and `Cookie` header sizes get buckets around the 4 KB cookie limit and nginx's
/// 8 KiB header buffer. A background thread runs the recorder's upkeep.
pub fn init_metrics() -> Result<(), String> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    use sealed_session::metrics::{COOKIE_HEADER_BYTES, SEALED_BYTES, SEALED_CHUNKS};
    let sizes = [
        256.0, 512.0, 1024.0, 2048.0, 3072.0, 3584.0, 4096.0, 8192.0, 16384.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(SEALED_BYTES.into()), &sizes)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(SEALED_CHUNKS.into()),
                &[1.0, 2.0, 3.0, 4.0, 8.0],
            )
        })
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(COOKIE_HEADER_BYTES.into()), &sizes))
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("installing the metrics recorder: {e}"))?;
    let upkeep = handle.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(5));
        upkeep.run_upkeep();
    });
    METRICS
        .set(handle)
        .map_err(|_| "the metrics recorder was installed twice".to_string())
}

/// `GET /metrics`: everything recorded so far, in Prometheus' text format. Without the
/// library's `metrics` feature the session records nothing, and a comment says so.
pub fn metrics_text() -> String {
    let text = METRICS.get().map(|h| h.render()).unwrap_or_default();
    if cfg!(feature = "metrics") {
        text
    } else {
        format!(
            "# sealed-session was built without its `metrics` feature, so no session metrics \
             are recorded: run with `--features metrics`\n{text}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealed_session::testing::cookie_header;
    use serde_json::json;

    /// The user as the previous release wrote it.
    #[derive(Serialize)]
    struct UserV0Out {
        id: u64,
        username: String,
        role: String,
        permissions: Vec<String>,
    }

    #[test]
    fn a_login_of_the_previous_release_survives_the_deploy() {
        let secret = Secret::from_bytes(&[9; 32]).unwrap();
        // The previous release: schema 0, `User` without `logged_in_at`.
        let previous = SessionBuilder::new(secret.clone()).build().unwrap();
        let mut old = SessionState::new();
        let user = UserV0Out {
            id: 2,
            username: "user".into(),
            role: "user".into(),
            permissions: vec!["read".into()],
        };
        old.insert("user", &user).unwrap();
        old.insert(LOGIN_COUNT, &3).unwrap();
        let cookie = cookie_header(&previous, &mut old).unwrap();

        // This release reads it as `User`, migrated once.
        let current = SessionBuilder::new(secret)
            .schema(SCHEMA, migrate)
            .build()
            .unwrap();
        let session = current.start([cookie.as_bytes()]);
        let (status, body) = profile(&session).unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            body.value(),
            json!({
                "user": { "id": 2, "username": "user", "role": "user", "permissions": ["read"] },
                "loginCount": 3,
            })
        );
        assert_eq!(session.get(USER).unwrap().unwrap().logged_in_at, 0);
        // Without the migration, the old user would be absent: logged out, not a 500.
        let unversioned = SessionBuilder::new(Secret::from_bytes(&[9; 32]).unwrap())
            .build()
            .unwrap();
        let session = unversioned.start([cookie.as_bytes()]);
        assert_eq!(profile(&session).unwrap().0, 401);
    }
}
