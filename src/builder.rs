//! The builder: every setting and its default, in one place, checked once by
//! [`build`](SessionBuilder::build), which turns them into the [`SessionEngine`].
//!
//! This is the only place defaults live. Nothing here runs per request.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{EngineParts, SessionEngine};
use crate::error::ConfigError;
use crate::keys::{Algorithm, Keys};
use crate::options::{CookieOptions, SameSite};
use crate::policy::{
    Clock, Migration, Revalidation, Revalidator, Schema, ServerErrorWrites, TooLargePolicy,
    Undecodable, Verdict, system_clock,
};
use crate::state::SessionState;
use crate::timeouts::Timeouts;
use crate::wire::body::{Compression, MAX_PLAINTEXT};

/// The default cap on a serialized session (see [`SessionBuilder::max_session_bytes`]).
const DEFAULT_MAX_SESSION_BYTES: usize = 64 * 1024;

/// The smallest cap [`SessionBuilder::max_session_bytes`] accepts: room for the timestamps
/// and a few small entries.
const MIN_SESSION_BYTES: usize = 64;

/// Builds a [`SessionEngine`]: every setting has a secure default, and
/// [`build`](SessionBuilder::build) checks them all, so a misconfigured server fails at
/// start-up, not on a request.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Algorithm, Compression, SameSite, Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate())
///     .cookie_name("sid")
///     .same_site(SameSite::Strict)
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .absolute_timeout(Duration::from_secs(12 * 3600))
///     .compression(Compression::Off)
///     .algorithm(Algorithm::Aes256Gcm)
///     .build()?;
/// assert_eq!(engine.cookie().name(), "sid");
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
#[must_use = "call .build() to get a SessionEngine"]
pub struct SessionBuilder {
    keys: Keys,
    cookie: CookieOptions,
    /// Whether `cookie_name` was called; otherwise `build` picks the name.
    named: bool,
    idle: Option<Duration>,
    absolute: Duration,
    refresh_share: f64,
    skew: Duration,
    compression: Compression,
    algorithm: Algorithm,
    clock: Clock,
    too_large: TooLargePolicy,
    server_errors: ServerErrorWrites,
    undecodable: Undecodable,
    max_session_bytes: usize,
    size_warning_share: f64,
    cookie_header_budget: Option<usize>,
    schema: Schema,
    revalidator: Option<Revalidator>,
    #[cfg(feature = "actix-session-import")]
    import: Option<crate::LegacyImport>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl SessionBuilder {
    /// Starts with secure defaults: cookie `__Host-session` with `HttpOnly`, `Secure`,
    /// `SameSite=Lax`, `Path=/`, one cookie, persistent; idle timeout 24 h (refreshed once a
    /// quarter of it has passed), absolute lifetime 7 days, 60 s clock-skew leeway,
    /// compression when it helps, XAES-256-GCM, sessions of at most 64 KiB serialized, a
    /// `500` when a session outgrows its cookies, and writes of a handler that answers with a
    /// 5xx discarded.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// assert_eq!(engine.cookie().name(), "__Host-session");
    /// ```
    pub fn new(keys: impl Into<Keys>) -> SessionBuilder {
        SessionBuilder {
            keys: keys.into(),
            cookie: CookieOptions {
                name: String::new(),
                path: "/".into(),
                domain: None,
                secure: true,
                http_only: true,
                same_site: SameSite::Lax,
                persistent: true,
                max_cookies: 1,
                partitioned: false,
            },
            named: false,
            idle: Some(Duration::from_secs(86_400)),
            absolute: Duration::from_secs(7 * 86_400),
            refresh_share: 0.25,
            skew: Duration::from_secs(60),
            compression: Compression::Auto,
            algorithm: Algorithm::XAes256Gcm,
            clock: Arc::new(system_clock),
            too_large: TooLargePolicy::ServerError,
            server_errors: ServerErrorWrites::Discard,
            undecodable: Undecodable::Drop,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
            size_warning_share: 0.8,
            cookie_header_budget: Some(8 * 1024),
            schema: Schema {
                version: 0,
                migrate: None,
            },
            revalidator: None,
            #[cfg(feature = "actix-session-import")]
            import: None,
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
    /// attributes by [`build`](SessionBuilder::build).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let named = SessionBuilder::new(Secret::generate()).cookie_name("sid").build().unwrap();
    /// assert_eq!(named.cookie().name(), "sid");
    /// let shared = SessionBuilder::new(Secret::generate()).domain("example.com").build().unwrap();
    /// assert_eq!(shared.cookie().name(), "session"); // a Domain rules the prefix out
    /// assert!(SessionBuilder::new(Secret::generate()).cookie_name("__Host-s").secure(false).build().is_err());
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self.named = true;
        self
    }

    /// The cookie `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// The cookie `Domain` (default none: host-only, the safer choice).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// Whether cookies carry `Secure` (default `true`). Turn it off only for plain-HTTP
    /// development on a host other than localhost: browsers drop `Secure` cookies that
    /// arrive over `http://` from any host but localhost.
    pub fn secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Whether cookies carry `HttpOnly` (default `true`: scripts cannot read the session).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default `Lax`). `None` requires `Secure`.
    ///
    /// ```
    /// # use sealed_session::{SameSite, Secret, SessionBuilder};
    /// let b = SessionBuilder::new(Secret::generate()).same_site(SameSite::None).secure(false);
    /// assert!(b.build().is_err());
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// Persistent cookies (`Max-Age` up to the session's deadline; the default) or
    /// browser-session cookies (no `Max-Age`: gone when the browser closes; the server still
    /// enforces both timeouts). A session can choose for itself with
    /// [`Session::set_persistent`](crate::Session::set_persistent) ("keep me signed in").
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.cookie.persistent = persistent;
        self
    }

    /// Whether every cookie the crate writes (values, chunks, refresh stamps, removals)
    /// carries `Partitioned` (default `false`): CHIPS, for an application embedded in other
    /// sites' pages, where browsers that block third-party cookies keep partitioned ones per
    /// top-level site. [`build`](SessionBuilder::build) refuses it without `Secure`, and with
    /// more than two cookies per session (Chrome keeps 10,240 bytes per partition).
    ///
    /// ```
    /// # use sealed_session::{SameSite, Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate())
    ///     .same_site(SameSite::None)
    ///     .partitioned(true)
    ///     .build()
    ///     .unwrap();
    /// assert!(engine.cookie().partitioned());
    /// assert!(SessionBuilder::new(Secret::generate()).partitioned(true).secure(false).build().is_err());
    /// ```
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.cookie.partitioned = partitioned;
        self
    }

    /// How many cookies a session may span (default 1, at most 32).
    pub fn max_cookies(mut self, n: usize) -> Self {
        self.cookie.max_cookies = n;
        self
    }

    /// The idle timeout: how long a session lives without requests (default 24 h). See
    /// [`no_idle_timeout`](SessionBuilder::no_idle_timeout) to have none.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).idle_timeout(Duration::from_secs(1800)).build().unwrap();
    /// assert_eq!(e.timeouts().idle(), Some(Duration::from_secs(1800)));
    /// ```
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// No idle timeout: a session lives until its absolute lifetime, however long it goes
    /// without requests.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).no_idle_timeout().build().unwrap();
    /// assert_eq!(e.timeouts().idle(), None);
    /// ```
    pub fn no_idle_timeout(mut self) -> Self {
        self.idle = None;
        self
    }

    /// Absolute lifetime from creation or the last [`renew`](crate::Session::renew)
    /// (default 7 days).
    pub fn absolute_timeout(mut self, absolute: Duration) -> Self {
        self.absolute = absolute;
        self
    }

    /// Share of the idle timeout after which an unchanged session's deadline is pushed
    /// forward (default 0.25; 0.0 refreshes on every request that uses the session).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// assert!(SessionBuilder::new(Secret::generate()).refresh_share(1.5).build().is_err());
    /// ```
    pub fn refresh_share(mut self, share: f64) -> Self {
        self.refresh_share = share;
        self
    }

    /// How far the clocks of the fleet's instances may differ (default 60 s): the leeway for
    /// a time in a cookie that is ahead of this instance's clock, and, with
    /// [`EpochKeys`](crate::EpochKeys), for the next epoch's key.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Compression policy (default [`Compression::Auto`]; see its docs for when to turn it
    /// off).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The sealing algorithm (default XAES-256-GCM). Cookies sealed with another one still
    /// open and are re-sealed with this one.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The clock, in Unix seconds (default: the system clock). Tests move it to make
    /// sessions idle or old without waiting.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).clock(|| 1_800_000_000).build().unwrap();
    /// assert_eq!(e.now(), 1_800_000_000);
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// What to do with a response whose session no longer fits (default
    /// [`TooLargePolicy::ServerError`]).
    pub fn on_too_large(mut self, policy: TooLargePolicy) -> Self {
        self.too_large = policy;
        self
    }

    /// What happens to a handler's session writes when its response is a server error
    /// (status 500–599; default [`ServerErrorWrites::Discard`]).
    pub fn on_server_error(mut self, writes: ServerErrorWrites) -> Self {
        self.server_errors = writes;
        self
    }

    /// What reading a stored value that no longer decodes as the type asked for gives
    /// (default [`Undecodable::Drop`]: absent, dropped from the cookie, and a warning).
    pub fn on_undecodable(mut self, policy: Undecodable) -> Self {
        self.undecodable = policy;
        self
    }

    /// The largest serialized session, in bytes, before compression (default 64 KiB, at most
    /// 256 KiB). A session that grows past it is not saved, exactly like one too large for
    /// its cookies, so a compressible session cannot make every write cost megabytes of
    /// work. Cookies carrying more than this do not open.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// assert!(SessionBuilder::new(Secret::generate()).max_session_bytes(1 << 20).build().is_err());
    /// ```
    pub fn max_session_bytes(mut self, bytes: usize) -> Self {
        self.max_session_bytes = bytes;
        self
    }

    /// With the `metrics` feature: the share of what the cookies can carry (`max_cookies`
    /// cookies of 4 KB) past which a sealed session is counted in
    /// [`SIZE_WARNINGS`](crate::metrics::SIZE_WARNINGS) and logged at `warn` (default 0.8;
    /// between 0 and 1), so a growing session is noticed before it stops being saved.
    pub fn size_warning_share(mut self, share: f64) -> Self {
        self.size_warning_share = share;
        self
    }

    /// With the `metrics` feature: the size of a request's whole `Cookie` header (all
    /// cookies of the site, not only the session's) past which the request is counted in
    /// [`COOKIE_HEADER_OVER_BUDGET`](crate::metrics::COOKIE_HEADER_OVER_BUDGET) and logged at
    /// `warn` (default 8 KiB, nginx's default header buffer; `None`: no budget). Proxies
    /// answer larger headers with 400 or 431 before the application sees them.
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
    /// use sealed_session::{Migration, Secret, SessionBuilder, SessionState};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct UserV1 { id: u64 }
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct UserV2 { id: u64, admin: bool }
    ///
    /// let secret = Secret::from_bytes(&[7; 32]).unwrap();
    /// // The previous release stored UserV1 under schema 0 (the default).
    /// let v1 = SessionBuilder::new(secret.clone()).build().unwrap();
    /// let mut old = SessionState::new();
    /// old.insert("user", &UserV1 { id: 42 }).unwrap();
    /// let cookie = v1.set_cookies(&mut old).unwrap()[0].split(';').next().unwrap().to_owned();
    ///
    /// // This release stores UserV2 under schema 1, and migrates.
    /// let v2 = SessionBuilder::new(secret)
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
    /// let (session, _) = v2.load([cookie.as_bytes()]);
    /// assert_eq!(session.get::<UserV2>("user").unwrap(), Some(UserV2 { id: 42, admin: false }));
    /// ```
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

    /// Revalidates sessions against the application's own records: the answer to "log out
    /// everywhere", a disabled account or a changed password, which a stateless cookie
    /// cannot otherwise honour before it expires.
    ///
    /// `check` is given a copy of the session and when it was created and last revalidated,
    /// and answers [`Verdict::Keep`], [`Verdict::Reject`], [`Verdict::Replace`] or, when the
    /// records cannot answer, [`Verdict::Unavailable`]. The time of the last check is sealed
    /// in the cookie (as a refresh stamp), so the check runs when `interval` has passed since
    /// it, and revocation takes effect within one interval. An `interval` of zero checks on
    /// every request.
    ///
    /// The bound is per cookie a client presents, not per session: a client that keeps its
    /// cookies causes at most one check per interval, but one that drops the stamp (or
    /// replays an older cookie) makes every request it sends run the check. Make the check
    /// cheap (say, "is this user's logout-everywhere generation still the one sealed at
    /// login?", an indexed lookup) or cached for the interval.
    ///
    /// While the check is due, the session's data is out of reach on every path: the
    /// adapters' `Session` extractors await the check before the handler runs; anything
    /// else that reaches the session (the request's extensions, a middleware, a custom
    /// extractor) gets [`Error::RevalidationPending`](crate::Error::RevalidationPending) from
    /// the data methods until it awaits [`Session::revalidate`](crate::Session::revalidate).
    /// Sessions with no data are not checked.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sealed_session::{Secret, SessionBuilder, Verdict};
    ///
    /// let engine = SessionBuilder::new(Secret::generate())
    ///     .revalidate(Duration::from_secs(60), |r| {
    ///         let user: Option<u64> = r.session.get("user_id").ok().flatten();
    ///         async move {
    ///             // A real check asks the database about `user`.
    ///             if user == Some(13) { Verdict::Reject } else { Verdict::Keep }
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = engine;
    /// ```
    pub fn revalidate<F>(
        mut self,
        interval: Duration,
        check: impl Fn(Revalidation) -> F + Send + Sync + 'static,
    ) -> Self
    where
        F: Future<Output = Verdict> + Send + 'static,
    {
        self.revalidator = Some(Revalidator {
            interval: interval.as_secs(),
            check: Arc::new(move |r| Box::pin(check(r))),
        });
        self
    }

    /// Imports the session of the library this application moves from, once per user, so
    /// that the move signs nobody out (feature `actix-session-import`; see [`LegacyImport`]).
    ///
    /// [`LegacyImport`]: crate::LegacyImport
    ///
    /// ```no_run
    /// # use sealed_session::{LegacyImport, LegacyKey, Secret, SessionBuilder};
    /// // The base64 of the 64 bytes the old application gave `cookie::Key::from`.
    /// let old_key = LegacyKey::from_base64(&std::env::var("ACTIX_SESSION_KEY")?)?;
    /// let engine = SessionBuilder::new(Secret::generate())
    ///     .import_legacy(LegacyImport::actix_session(old_key, |old, session| {
    ///         if let Some(user_id) = old.get::<u64>("userId")? {
    ///             session.insert("user_id", &user_id)?;
    ///         }
    ///         Ok(())
    ///     }))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "actix-session-import")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix-session-import")))]
    pub fn import_legacy(mut self, import: crate::LegacyImport) -> Self {
        self.import = Some(import);
        self
    }

    /// Checks every setting and builds the engine.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).cookie_name("__Host-s").secure(false).build().unwrap_err();
    /// assert!(matches!(e, ConfigError::HostPrefix { .. }));
    /// assert!(e.to_string().contains("drop the prefix"));
    /// ```
    pub fn build(mut self) -> Result<SessionEngine, ConfigError> {
        if !self.named {
            self.cookie.name = self.cookie.default_name().to_owned();
        }
        self.cookie.validate()?;
        let timeouts = Timeouts::new(self.idle, self.absolute, self.refresh_share)?;
        self.keys.validate(self.idle, self.skew)?;
        if !(MIN_SESSION_BYTES..=MAX_PLAINTEXT).contains(&self.max_session_bytes) {
            return Err(ConfigError::MaxSessionBytes {
                bytes: self.max_session_bytes,
                min: MIN_SESSION_BYTES,
                max: MAX_PLAINTEXT,
            });
        }
        if !(self.size_warning_share > 0.0 && self.size_warning_share <= 1.0) {
            return Err(ConfigError::SizeWarningShare {
                share: self.size_warning_share,
            });
        }
        if self.cookie_header_budget == Some(0) {
            return Err(ConfigError::CookieHeaderBudget);
        }
        #[cfg(feature = "actix-session-import")]
        if let Some(import) = &self.import {
            let (path, domain) = import.path_and_domain();
            self.cookie.validate_other(import.name(), path, domain)?;
        }
        Ok(SessionEngine::from_parts(EngineParts {
            writer: self.cookie.writer(),
            keys: self.keys,
            cookie: self.cookie,
            timeouts,
            skew: self.skew.as_secs(),
            compression: self.compression,
            algorithm: self.algorithm,
            clock: self.clock,
            too_large: self.too_large,
            server_errors: self.server_errors,
            undecodable: self.undecodable,
            max_session_bytes: self.max_session_bytes,
            size_warning_share: self.size_warning_share,
            cookie_header_budget: self.cookie_header_budget,
            schema: self.schema,
            revalidator: self.revalidator,
            #[cfg(feature = "actix-session-import")]
            import: self.import,
        }))
    }
}
