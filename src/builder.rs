//! Configuration: plain data with secure defaults, checked once by
//! [`build`](SessionConfig::build), which turns it into the [`SessionEngine`].
//!
//! This is the only place defaults live. Nothing here runs per request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{EngineParts, SessionEngine};
use crate::error::Error;
use crate::keys::{Algorithm, Keys};
use crate::options::{CookieConfig, SameSite};
#[cfg(doc)]
use crate::policy::Verdict;
use crate::policy::{
    system_clock, Clock, Migration, Revalidation, RevalidationFuture, Revalidator, Schema,
    ServerErrorWrites, TooLargePolicy,
};
use crate::state::SessionState;
use crate::timeouts::Expiry;
use crate::wire::body::{Compression, MAX_PLAINTEXT};

/// The default cap on a serialized session (see [`SessionConfig::max_session_bytes`]).
pub const DEFAULT_MAX_SESSION_BYTES: usize = 64 * 1024;

/// The smallest cap [`SessionConfig::max_session_bytes`] accepts: room for the timestamps and
/// a few small entries.
const MIN_SESSION_BYTES: usize = 64;

/// Builder for [`SessionEngine`]: every setting has a secure default, and [`build`](SessionConfig::build)
/// checks them all, so a misconfigured server fails at start-up, not on a request.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Algorithm, Compression, Secret, SessionConfig, SessionEngine, SameSite};
///
/// let config = SessionConfig::new(Secret::generate())
///     .cookie_name("sid")
///     .same_site(SameSite::Strict)
///     .absolute_timeout(Duration::from_secs(12 * 3600))
///     .compression(Compression::Off)
///     .algorithm(Algorithm::Aes256Gcm)
///     .build()
///     .unwrap();
/// # let _ = config;
/// ```
#[must_use = "call .build() to get a SessionEngine"]
pub struct SessionConfig {
    keys: Keys,
    cookie: CookieConfig,
    idle: Option<Duration>,
    absolute: Duration,
    refresh_share: f64,
    skew: Duration,
    compression: Compression,
    algorithm: Algorithm,
    clock: Clock,
    too_large: TooLargePolicy,
    server_errors: ServerErrorWrites,
    max_session_bytes: usize,
    size_warning_share: f64,
    cookie_header_budget: Option<usize>,
    /// Whether `cookie_name` was called; otherwise `build` picks the name.
    named: bool,
    schema: Schema,
    revalidator: Option<Revalidator>,
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Starts a configuration with secure defaults: cookie `__Host-session` with `HttpOnly`,
    /// `Secure`, `SameSite=Lax`, `Path=/`, one cookie, persistent; idle timeout 24 h
    /// (refreshed once a quarter of it has passed), absolute lifetime 7 days, 60 s clock-skew
    /// leeway, compression when it helps, XAES-256-GCM, sessions of at most 64 KiB
    /// serialized, a `500` when a session outgrows its cookies, and writes of a handler that
    /// answers with a 5xx discarded.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Secret, SessionConfig};
    /// let config = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(config.cookie().name(), "__Host-session");
    /// ```
    pub fn new(keys: impl Into<Keys>) -> SessionConfig {
        SessionConfig {
            keys: keys.into(),
            cookie: CookieConfig::default(),
            idle: Some(Duration::from_secs(86_400)),
            absolute: Duration::from_secs(7 * 86_400),
            refresh_share: 0.25,
            skew: Duration::from_secs(60),
            compression: Compression::Auto,
            algorithm: Algorithm::default(),
            clock: Arc::new(system_clock),
            too_large: TooLargePolicy::default(),
            server_errors: ServerErrorWrites::default(),
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
            size_warning_share: 0.8,
            cookie_header_budget: Some(8 * 1024),
            named: false,
            schema: Schema {
                version: 0,
                migrate: None,
            },
            revalidator: None,
        }
    }

    /// The cookie name. By default it is `__Host-session` while the other attributes allow
    /// that prefix (`Secure`, `Path=/`, no `Domain`: the defaults), and `session` otherwise.
    ///
    /// The `__Host-` prefix is the one complete defence against cookie tossing: browsers
    /// refuse a `__Host-` cookie set by another origin (a sibling subdomain), set over plain
    /// HTTP, or set with a `Domain` or another `Path`, so nobody but this host can plant one.
    /// It costs nothing on HTTPS, and `http://localhost` counts as secure in browsers and
    /// curl. `__Host-` and `__Secure-` names you choose are checked against the other
    /// attributes by [`build`](SessionConfig::build).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let named = SessionConfig::new(Secret::generate()).cookie_name("sid").build().unwrap();
    /// assert_eq!(named.cookie().name(), "sid");
    /// let shared = SessionConfig::new(Secret::generate()).domain("example.com").build().unwrap();
    /// assert_eq!(shared.cookie().name(), "session"); // a Domain rules the prefix out
    /// assert!(SessionConfig::new(Secret::generate()).cookie_name("__Host-s").build().is_ok());
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self.named = true;
        self
    }

    /// The cookie `Path` (default `/`).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// assert!(SessionConfig::new(Secret::generate()).path("/app").build().is_ok());
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// The cookie `Domain` (default none: host-only, the safer choice).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let b = SessionConfig::new(Secret::generate()).domain("example.com");
    /// # let _ = b;
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// Whether cookies carry `Secure` (default `true`). Turn it off only for plain-HTTP
    /// development: browsers drop `Secure` cookies on `http://` origins other than localhost.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).secure(false).build().unwrap();
    /// assert!(!c.cookie().secure());
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Whether cookies carry `HttpOnly` (default `true`: scripts cannot read the session).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).http_only(true).build().unwrap();
    /// assert!(c.cookie().http_only());
    /// ```
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default `Lax`). `None` requires `Secure`.
    ///
    /// ```
    /// # use sealed_session::{SameSite, Secret, SessionConfig, SessionEngine};
    /// assert!(SessionConfig::new(Secret::generate()).same_site(SameSite::None).secure(false).build().is_err());
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// Persistent cookies (`Max-Age` up to the session's deadline; the default) or
    /// browser-session cookies (no `Max-Age`: gone when the browser closes; the server still
    /// enforces both timeouts).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).persistent(false).build().unwrap();
    /// assert!(!c.cookie().persistent());
    /// ```
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.cookie.persistent = persistent;
        self
    }

    /// How many cookies a session may span (default 1, at most
    /// [`MAX_CHUNKS`](crate::cookies::MAX_CHUNKS)).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// assert!(SessionConfig::new(Secret::generate()).max_cookies(0).build().is_err());
    /// ```
    pub fn max_cookies(mut self, n: usize) -> Self {
        self.cookie.max_cookies = n;
        self
    }

    /// Idle timeout (default 24 h; `None`: no idle limit, only the absolute lifetime).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).idle_timeout(None).build().unwrap();
    /// assert_eq!(c.expiry().idle(), None);
    /// ```
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle = idle;
        self
    }

    /// Absolute lifetime from creation or the last [`renew`](crate::Session::renew)
    /// (default 7 days).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).absolute_timeout(Duration::from_secs(3600)).build().unwrap();
    /// assert_eq!(c.expiry().absolute().as_secs(), 3600);
    /// ```
    pub fn absolute_timeout(mut self, absolute: Duration) -> Self {
        self.absolute = absolute;
        self
    }

    /// Share of the idle timeout after which an unchanged session is re-sealed to push its
    /// deadline forward (default 0.25; 0.0 refreshes on every request that uses the session).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// assert!(SessionConfig::new(Secret::generate()).refresh_share(1.5).build().is_err());
    /// ```
    pub fn refresh_share(mut self, share: f64) -> Self {
        self.refresh_share = share;
        self
    }

    /// Leeway for a creation time in the future, from clock skew between servers
    /// (default 60 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).clock_skew(Duration::from_secs(5)).build().unwrap();
    /// assert_eq!(c.expiry().clock_skew().as_secs(), 5);
    /// ```
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Compression policy (default [`Compression::Auto`]; see its docs for when to turn it off).
    ///
    /// ```
    /// # use sealed_session::{Compression, Secret, SessionConfig, SessionEngine};
    /// let b = SessionConfig::new(Secret::generate()).compression(Compression::Off);
    /// # let _ = b;
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The sealing algorithm (default XAES-256-GCM). Cookies sealed with another one still
    /// open and are re-sealed with this one.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).algorithm(Algorithm::Aes256Gcm).build().unwrap();
    /// assert_eq!(c.algorithm(), Algorithm::Aes256Gcm);
    /// ```
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The clock, in Unix seconds (default: the system clock). For tests.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).clock(|| 1_800_000_000).build().unwrap();
    /// assert_eq!(c.now(), 1_800_000_000);
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// What to do with a response whose session no longer fits (default
    /// [`TooLargePolicy::ServerError`]).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, TooLargePolicy};
    /// let e = SessionConfig::new(Secret::generate()).on_too_large(TooLargePolicy::KeepResponse).build().unwrap();
    /// assert_eq!(e.too_large_policy(), TooLargePolicy::KeepResponse);
    /// ```
    pub fn on_too_large(mut self, policy: TooLargePolicy) -> Self {
        self.too_large = policy;
        self
    }

    /// What happens to a handler's session writes when its response is a server error
    /// (status 500–599; default [`ServerErrorWrites::Discard`]).
    ///
    /// ```
    /// # use sealed_session::{Secret, ServerErrorWrites, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).on_server_error(ServerErrorWrites::Commit).build().unwrap();
    /// assert_eq!(e.server_error_writes(), ServerErrorWrites::Commit);
    /// ```
    pub fn on_server_error(mut self, writes: ServerErrorWrites) -> Self {
        self.server_errors = writes;
        self
    }

    /// The largest serialized session, in bytes, before compression (default 64 KiB, at most
    /// [`MAX_PLAINTEXT`]). A session that grows past it is not saved, exactly like one too
    /// large for its cookies, so a compressible session cannot make every write cost
    /// megabytes of work. Cookies carrying more than this do not open.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).max_session_bytes(8 * 1024).build().unwrap();
    /// assert_eq!(e.max_session_bytes(), 8 * 1024);
    /// assert!(SessionConfig::new(Secret::generate()).max_session_bytes(1 << 20).build().is_err());
    /// ```
    pub fn max_session_bytes(mut self, bytes: usize) -> Self {
        self.max_session_bytes = bytes;
        self
    }

    /// With the `metrics` feature: the share of what the cookies can carry (`max_cookies`
    /// cookies of 4 KB) past which a sealed session is counted in
    /// [`SIZE_WARNINGS`](crate::metrics::SIZE_WARNINGS) and logged at `warn` (default 0.8;
    /// between 0 and 1), so a growing session is noticed before it stops being saved.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// assert!(SessionConfig::new(Secret::generate()).size_warning_share(0.5).build().is_ok());
    /// assert!(SessionConfig::new(Secret::generate()).size_warning_share(1.5).build().is_err());
    /// ```
    pub fn size_warning_share(mut self, share: f64) -> Self {
        self.size_warning_share = share;
        self
    }

    /// With the `metrics` feature: the size of a request's whole `Cookie` header (all
    /// cookies of the site, not only the session's) past which the request is counted in
    /// [`COOKIE_HEADER_OVER_BUDGET`](crate::metrics::COOKIE_HEADER_OVER_BUDGET) and logged at
    /// `warn` (default 8 KiB, nginx's default header buffer; `None`: no budget). Proxies
    /// answer larger headers with 400 or 431 before the application sees them.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// assert!(SessionConfig::new(Secret::generate()).cookie_header_budget(Some(16 * 1024)).build().is_ok());
    /// assert!(SessionConfig::new(Secret::generate()).cookie_header_budget(Some(0)).build().is_err());
    /// ```
    pub fn cookie_header_budget(mut self, bytes: Option<usize>) -> Self {
        self.cookie_header_budget = bytes;
        self
    }

    /// Versions what the application stores in sessions, so a deploy that changes a stored
    /// type never turns live cookies into errors or surprise logouts.
    ///
    /// postcard is not self-describing: a struct that gains a field no longer decodes from a
    /// cookie written before. Give each release's layout a version (default 0) and a
    /// `migrate` function; a cookie sealed under an older version is passed to it once, on
    /// the first request that opens it, with the old version number, to rewrite its entries
    /// in place (read them as the old types, insert the new ones) and return
    /// [`Migration::Keep`], or to return [`Migration::Drop`] to start the user on a new,
    /// empty session. The migrated session is re-sealed under the new version on that same
    /// response. A cookie written by a *newer* version (an instance of the next release,
    /// during a rolling deploy) is no session here, and is not removed: the instances of the
    /// next release still open it.
    ///
    /// To test it, seal a cookie with the previous release's configuration
    /// ([`SessionEngine::set_cookies`]) and open it with the new one.
    ///
    /// ```
    /// use sealed_session::{Migration, Secret, SessionConfig, SessionState};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct UserV1 { id: u64 }
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct UserV2 { id: u64, admin: bool }
    ///
    /// let secret = Secret::from_bytes(&[7; 32]).unwrap();
    /// // The previous release stored UserV1 under schema 0 (the default).
    /// let v1 = SessionConfig::new(secret.clone()).build().unwrap();
    /// let mut old = SessionState::new();
    /// old.insert("user", &UserV1 { id: 42 }).unwrap();
    /// let cookie = v1.set_cookies(&mut old).unwrap()[0].split(';').next().unwrap().to_owned();
    ///
    /// // This release stores UserV2 under schema 1, and migrates.
    /// let v2 = SessionConfig::new(secret)
    ///     .schema(1, |from, session| {
    ///         assert_eq!(from, 0);
    ///         match session.get::<UserV1>("user") {
    ///             Ok(Some(u)) => {
    ///                 let _ = session.insert("user", &UserV2 { id: u.id, admin: false });
    ///                 Migration::Keep
    ///             }
    ///             _ => Migration::Drop,
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let session = v2.start([cookie.as_bytes()]);
    /// assert_eq!(session.get::<UserV2>("user").unwrap(), Some(UserV2 { id: 42, admin: false }));
    /// ```
    ///
    /// [`SessionEngine::set_cookies`]: crate::SessionEngine::set_cookies
    pub fn schema(
        mut self,
        version: u32,
        migrate: impl Fn(u32, &mut SessionState) -> Migration + Send + Sync + 'static,
    ) -> Self {
        self.schema = Schema {
            version,
            migrate: Some(Arc::new(migrate)),
        };
        self
    }

    /// Revalidates sessions against the application's own records, at most once per
    /// `interval` per session: the answer to "log out everywhere", a disabled account or a
    /// changed password, which a stateless cookie cannot otherwise honour before it expires.
    ///
    /// `check` is given a copy of the session and when it was created and last revalidated,
    /// and answers [`Verdict::Keep`], [`Verdict::Reject`] or [`Verdict::Replace`]. The time of
    /// the last check is sealed in the cookie, so one lookup per session per interval (say,
    /// "is this user's logout-everywhere watermark after `created_at`?") gives near-real-time
    /// revocation with bounded staleness. An `interval` of zero checks on every request.
    ///
    /// The check runs when a handler extracts the session (the adapters' extractors await it),
    /// before the handler can read anything; without a framework, await
    /// [`Session::revalidate`](crate::Session::revalidate) first. Sessions with no data are
    /// not checked.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sealed_session::{Secret, SessionConfig, Verdict};
    ///
    /// let engine = SessionConfig::new(Secret::generate())
    ///     .revalidate(Duration::from_secs(60), |r| {
    ///         let user: Option<u64> = r.session.get("user_id").ok().flatten();
    ///         Box::pin(async move {
    ///             // A real check asks the database about `user`.
    ///             if user == Some(13) { Verdict::Reject } else { Verdict::Keep }
    ///         })
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = engine;
    /// ```
    pub fn revalidate(
        mut self,
        interval: Duration,
        check: impl Fn(Revalidation) -> RevalidationFuture + Send + Sync + 'static,
    ) -> Self {
        self.revalidator = Some(Revalidator {
            interval: interval.as_secs(),
            check: Arc::new(check),
        });
        self
    }

    /// Checks every setting and builds the engine.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let e = SessionConfig::new(Secret::generate()).cookie_name("__Host-s").secure(false).build().unwrap_err();
    /// assert!(e.to_string().contains("__Host-"));
    /// ```
    pub fn build(mut self) -> Result<SessionEngine, Error> {
        if !self.named {
            self.cookie.name = self.cookie.default_name().to_owned();
        }
        self.cookie.validate()?;
        let expiry = Expiry::new(self.idle, self.absolute, self.refresh_share, self.skew)?;
        self.keys.validate(self.idle, self.skew)?;
        if !(MIN_SESSION_BYTES..=MAX_PLAINTEXT).contains(&self.max_session_bytes) {
            return Err(Error::Config(format!(
                "max_session_bytes is {}; it must be between {MIN_SESSION_BYTES} and \
                 {MAX_PLAINTEXT} (a cookie session holding more is a design error: store an \
                 id and keep the data server-side)",
                self.max_session_bytes
            )));
        }
        if !(self.size_warning_share > 0.0 && self.size_warning_share <= 1.0) {
            return Err(Error::Config(format!(
                "size_warning_share is {}; it must be above 0 and at most 1 (0.8 warns at 80 % \
                 of what the cookies can carry)",
                self.size_warning_share
            )));
        }
        if self.cookie_header_budget == Some(0) {
            return Err(Error::Config(
                "cookie_header_budget is 0 bytes; give a size such as 8192, or None for no budget"
                    .into(),
            ));
        }
        Ok(SessionEngine::from_parts(EngineParts {
            keys: self.keys,
            cookie: self.cookie,
            expiry,
            compression: self.compression,
            algorithm: self.algorithm,
            clock: self.clock,
            too_large: self.too_large,
            server_errors: self.server_errors,
            max_session_bytes: self.max_session_bytes,
            size_warning_share: self.size_warning_share,
            cookie_header_budget: self.cookie_header_budget,
            schema: self.schema,
            revalidator: self.revalidator,
        }))
    }
}
