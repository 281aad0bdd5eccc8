//! The whole pipeline behind one value: keys → seal → session → cookies.
//!
//! [`SessionEngine`] is what an adapter holds. Per request it does two things:
//!
//! * [`load`](SessionEngine::load): find the session cookie(s) among the `Cookie` headers,
//!   open them, check expiry, and hand back a [`SessionState`] with a [`LoadOutcome`];
//! * [`finish`](SessionEngine::finish): decide from what happened whether the response needs
//!   `Set-Cookie` headers, and build them.
//!
//! Both work on header *values* (`&[u8]`), so any HTTP library can drive them; the
//! `http::HeaderMap` helpers are shorthands.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::SameSite;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::cookies::CookieConfig;
use crate::error::{Error, Rejection};
use crate::format::{self, Compression};
use crate::keys::{Algorithm, Keys};
use crate::session::{Expiry, SessionState, Status};

/// A source of "now" in Unix seconds. Tests inject a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `Cookie` header values of an `http::HeaderMap`, re-iterable (`finish` may scan twice).
#[derive(Clone, Copy)]
struct CookieHeaders<'a>(&'a HeaderMap);

impl<'a> IntoIterator for CookieHeaders<'a> {
    type Item = &'a [u8];
    type IntoIter =
        std::iter::Map<http::header::ValueIter<'a, HeaderValue>, fn(&HeaderValue) -> &[u8]>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.get_all(COOKIE).iter().map(HeaderValue::as_bytes)
    }
}

/// How the request's session cookie turned out.
///
/// ```
/// use sealed_session::{Keyring, LoadOutcome, Secret, SessionConfig, SessionEngine};
///
/// let config = SessionConfig::new(Keyring::new(Secret::generate())).build().unwrap();
/// let loaded = config.load([&b"session=garbage"[..]]);
/// assert!(matches!(loaded.outcome, LoadOutcome::Rejected(_)));
/// assert!(loaded.session.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadOutcome {
    /// The request carried no session cookie: a new, empty session.
    NoCookie,
    /// The cookie opened. `needs_reseal` is true when it was sealed under a key or algorithm
    /// that no longer seals, so the response must re-seal it.
    Opened {
        /// Re-seal under the current primary key on this response.
        needs_reseal: bool,
    },
    /// The cookie did not open; the session is new and empty and the response removes the
    /// bad cookie.
    Rejected(Rejection),
}

/// When a session was created and when it expires, in Unix seconds
/// (see [`SessionEngine::deadlines`]).
///
/// Serializes as `{"createdAt", "idleExpiresAt", "absoluteExpiresAt"}`.
///
/// ```
/// # use sealed_session::{Secret, SessionConfig, SessionEngine};
/// let c = SessionConfig::new(Secret::generate()).clock(|| 1000).build().unwrap();
/// let loaded = c.load(std::iter::empty());
/// let d = c.deadlines(&loaded.session, loaded.outcome);
/// assert_eq!(d.created_at, 1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deadlines {
    /// Creation (or last renewal).
    pub created_at: u64,
    /// End of the idle timeout (`None` without an idle limit); never after the absolute one.
    pub idle_expires_at: Option<u64>,
    /// End of the absolute lifetime.
    pub absolute_expires_at: u64,
}

/// The result of [`SessionEngine::load`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Loaded {
    /// The session (empty and new unless the cookie opened).
    pub session: SessionState,
    /// What happened to the cookie.
    pub outcome: LoadOutcome,
}

/// Validated settings and keys: the one value an adapter needs.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Keyring, Secret, SessionConfig, SessionEngine};
///
/// let config = SessionConfig::new(Keyring::new(Secret::generate()))
///     .cookie_name("__Host-session")
///     .idle_timeout(Some(Duration::from_secs(30 * 60)))
///     .max_cookies(2)
///     .build()
///     .unwrap();
///
/// // A request without a cookie: a new session.
/// let mut loaded = config.load(std::iter::empty());
/// loaded.session.insert("user_id", &7u64).unwrap();
/// let set_cookie = config.finish(std::iter::empty(), Some(&mut loaded.session), loaded.outcome).unwrap();
/// assert_eq!(set_cookie.len(), 1);
///
/// // The next request carries it back.
/// let cookie = set_cookie[0].to_str().unwrap().split(';').next().unwrap().to_string();
/// let loaded = config.load([cookie.as_bytes()]);
/// assert_eq!(loaded.session.get::<u64>("user_id").unwrap(), Some(7));
/// ```
pub struct SessionEngine {
    keys: Keys,
    cookie: CookieConfig,
    expiry: Expiry,
    compression: Compression,
    algorithm: Algorithm,
    clock: Clock,
}

impl fmt::Debug for SessionEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionEngine")
            .field("keys", &self.keys)
            .field("cookie", &self.cookie)
            .field("expiry", &self.expiry)
            .field("compression", &self.compression)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SessionEngine {
    /// The cookie settings.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).max_cookies(3).build().unwrap();
    /// assert_eq!(c.cookie().max_cookies(), 3);
    /// ```
    pub fn cookie(&self) -> &CookieConfig {
        &self.cookie
    }

    /// The time limits.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(c.expiry().absolute().as_secs(), 604_800);
    /// ```
    pub fn expiry(&self) -> &Expiry {
        &self.expiry
    }

    /// The algorithm that seals.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(c.algorithm(), Algorithm::XAes256Gcm);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The current time from the configured clock, in Unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).clock(|| 42).build().unwrap();
    /// assert_eq!(c.now(), 42);
    /// ```
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Opens the session carried by these `Cookie` header values.
    ///
    /// Never fails: a missing cookie gives a new session, a bad or expired one gives a new
    /// session and a [`LoadOutcome::Rejected`] reason to log.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(c.load([&b"theme=dark"[..]]).outcome, LoadOutcome::NoCookie);
    /// ```
    pub fn load<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Loaded {
        match self.open(cookie_headers, self.now()) {
            Ok(Some((session, needs_reseal))) => Loaded {
                session,
                outcome: LoadOutcome::Opened { needs_reseal },
            },
            Ok(None) => Loaded {
                session: SessionState::new(),
                outcome: LoadOutcome::NoCookie,
            },
            Err(r) => Loaded {
                session: SessionState::new(),
                outcome: LoadOutcome::Rejected(r),
            },
        }
    }

    /// [`load`](SessionEngine::load) from an `http::HeaderMap`.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let headers = http::HeaderMap::new();
    /// assert_eq!(c.load_headers(&headers).outcome, LoadOutcome::NoCookie);
    /// ```
    pub fn load_headers(&self, headers: &HeaderMap) -> Loaded {
        self.load(CookieHeaders(headers))
    }

    fn open<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
        now: u64,
    ) -> Result<Option<(SessionState, bool)>, Rejection> {
        let found = self.cookie.find(cookie_headers)?;
        let Some(value) = found.value()? else {
            return Ok(None);
        };
        self.open_sealed(&value, now).map(Some)
    }

    /// Opens one sealed value at `now` and checks its expiry; also says whether it must be
    /// re-sealed (an older key or the other algorithm). Shared by `load` and `open_value`.
    fn open_sealed(&self, value: &str, now: u64) -> Result<(SessionState, bool), Rejection> {
        let keys = self.keys.at(now, self.expiry.clock_skew());
        let opened = format::open(&keys, &self.cookie.name, value, self.cookie.max_value_len())?;
        let session = SessionState::decode(&opened.body)?;
        self.expiry.check(&session, now)?;
        let needs_reseal = !opened.primary || opened.algorithm != self.algorithm;
        Ok((session, needs_reseal))
    }

    /// Stamps `session` with `now` and seals it under the current primary key, with a fresh
    /// random nonce.
    fn seal_at(&self, session: &mut SessionState, now: u64) -> Result<String, Error> {
        let body = session.encode_at(now)?;
        let keys = self.keys.at(now, self.expiry.clock_skew());
        let (name, compression) = (&self.cookie.name, self.compression);
        format::seal(&keys, self.algorithm, name, &body, compression)
    }

    /// Whether the response must seal `session` again: it changed or was renewed, or it was
    /// opened from a cookie that needs a re-seal, a touch or an idle refresh.
    fn must_write(&self, session: &SessionState, outcome: LoadOutcome, now: u64) -> bool {
        match session.status() {
            Status::Purged => false,
            Status::Changed | Status::Renewed => true,
            Status::Unchanged => match outcome {
                LoadOutcome::Opened { needs_reseal } => {
                    needs_reseal || session.is_touched() || self.expiry.refresh_due(session, now)
                }
                LoadOutcome::NoCookie | LoadOutcome::Rejected(_) => false,
            },
        }
    }

    /// The session's deadlines as they will stand after this response, in Unix seconds: a
    /// session the response seals is stamped "now", any other keeps its stored times.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).clock(|| 1000).build().unwrap();
    /// let mut loaded = c.load(std::iter::empty());
    /// loaded.session.insert("a", &1u8).unwrap();
    /// let d = c.deadlines(&loaded.session, loaded.outcome);
    /// assert_eq!((d.created_at, d.idle_expires_at, d.absolute_expires_at),
    ///            (1000, Some(1000 + 86_400), 1000 + 604_800));
    /// ```
    pub fn deadlines(&self, session: &SessionState, outcome: LoadOutcome) -> Deadlines {
        let now = self.now();
        let (created_at, refreshed_at) = if self.must_write(session, outcome, now) {
            session.timestamps_at(now)
        } else {
            (
                session.created_at().unwrap_or(now),
                session.refreshed_at().unwrap_or(now),
            )
        };
        let absolute = created_at.saturating_add(self.expiry.absolute().as_secs());
        Deadlines {
            created_at,
            idle_expires_at: self
                .expiry
                .idle()
                .map(|i| refreshed_at.saturating_add(i.as_secs()).min(absolute)),
            absolute_expires_at: absolute,
        }
    }

    /// Whether the request's cookie was sealed under something other than the current
    /// primary key and algorithm: read from the header alone, without decrypting.
    fn reseal_hint<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
        now: u64,
    ) -> bool {
        let Ok(found) = self.cookie.find(cookie_headers) else {
            return false;
        };
        let Some(first) = found.first() else {
            return false;
        };
        let value = first.split_once('.').map_or(first, |(_, v)| v);
        let sealing = self
            .keys
            .at(now, self.expiry.clock_skew())
            .sealing(self.algorithm)
            .id();
        format::peek_key(value).is_some_and(|(alg, id)| alg != self.algorithm || id != sealing)
    }

    /// The `Set-Cookie` values the response needs, given the request's `Cookie` headers and
    /// what happened to the session.
    ///
    /// Pass `session: None` when the handler never looked at the session: then nothing is
    /// decrypted unless the cookie's header shows an old key, in which case it is opened and
    /// re-sealed under the primary key here.
    ///
    /// Rules: a changed, renewed or touched session, one whose idle deadline is due for a
    /// refresh, and one opened under an old key are sealed and sent; a purged or emptied one,
    /// and a rejected cookie, are removed; otherwise nothing is sent. Chunks the request
    /// carried that the new value does not need are removed.
    ///
    /// Fails only with [`Error::TooLarge`] (and [`Error::Serialize`] for a value postcard
    /// cannot encode); then no header should be sent, so the client keeps its last good
    /// cookies.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// // Untouched, no cookie: nothing to send.
    /// assert!(c.finish(std::iter::empty(), None, LoadOutcome::NoCookie).unwrap().is_empty());
    /// ```
    pub fn finish<'h, I>(
        &self,
        cookie_headers: I,
        session: Option<&mut SessionState>,
        outcome: LoadOutcome,
    ) -> Result<Vec<HeaderValue>, Error>
    where
        I: IntoIterator<Item = &'h [u8]> + Clone,
    {
        let headers = cookie_headers;
        let now = self.now();
        let mut late;
        let (session, outcome) = match session {
            Some(s) => (s, outcome),
            None => {
                if !self.reseal_hint(headers.clone(), now) {
                    return Ok(Vec::new());
                }
                late = self.load(headers.clone());
                (&mut late.session, late.outcome)
            }
        };
        // Which chunks the request carried matters only when something is written or
        // removed, so read-only requests skip this second scan of the Cookie header.
        let present = || self.cookie.find(headers).map_or(0, |f| f.present);
        let write = self.must_write(session, outcome, now);
        let remove = session.status() == Status::Purged
            || matches!(outcome, LoadOutcome::Rejected(_))
            || (write && session.is_empty());
        if !write || session.is_empty() {
            return if remove {
                self.cookie.removals(present())
            } else {
                Ok(Vec::new())
            };
        }
        let value = self.seal_at(session, now)?;
        let max_age = self.expiry.deadline(session).map(|d| d.saturating_sub(now));
        self.cookie.set_cookies(&value, max_age, present())
    }

    /// [`finish`](SessionEngine::finish) with the request's `http::HeaderMap`.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let req = http::HeaderMap::new();
    /// let mut loaded = c.load_headers(&req);
    /// loaded.session.insert("a", &1u8).unwrap();
    /// let out = c.finish_headers(&req, Some(&mut loaded.session), loaded.outcome).unwrap();
    /// assert_eq!(out.len(), 1);
    /// ```
    pub fn finish_headers(
        &self,
        request_headers: &HeaderMap,
        session: Option<&mut SessionState>,
        outcome: LoadOutcome,
    ) -> Result<Vec<HeaderValue>, Error> {
        self.finish(CookieHeaders(request_headers), session, outcome)
    }

    /// Seals `session` exactly as a response would, but returns the cookie value instead of
    /// headers (for tools, tests and the size tables).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine, SessionState};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let mut s = SessionState::new();
    /// s.insert("user_id", &1u32).unwrap();
    /// let value = c.seal(&mut s).unwrap();
    /// let back = c.open_value(&value).unwrap();
    /// assert_eq!(back.get::<u32>("user_id").unwrap(), Some(1));
    /// ```
    pub fn seal(&self, session: &mut SessionState) -> Result<String, Error> {
        self.seal_at(session, self.now())
    }

    /// Opens one sealed cookie value (unchunked) as [`load`](SessionEngine::load) would.
    ///
    /// ```
    /// # use sealed_session::{Error, Rejection, Secret, SessionConfig, SessionEngine};
    /// let c = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(c.open_value("AQ").unwrap_err(), Error::Rejected(Rejection::TooShort));
    /// ```
    pub fn open_value(&self, value: &str) -> Result<SessionState, Error> {
        Ok(self.open_sealed(value, self.now())?.0)
    }
}

/// Builder for [`SessionEngine`]; every setting has a secure default.
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
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Starts a configuration with secure defaults: cookie `session` with `HttpOnly`,
    /// `Secure`, `SameSite=Lax`, `Path=/`, one cookie, persistent; idle timeout 24 h
    /// (refreshed once a quarter of it has passed), absolute lifetime 7 days, 60 s clock-skew
    /// leeway, compression when it helps, XAES-256-GCM.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Secret, SessionConfig};
    /// let config = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(config.cookie().name(), "session");
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
        }
    }

    /// The cookie name (default `session`). `__Host-` and `__Secure-` prefixes are checked
    /// against the other attributes by [`build`](SessionConfig::build).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// assert!(SessionConfig::new(Secret::generate()).cookie_name("__Host-s").build().is_ok());
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
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

    /// Absolute lifetime from creation or the last [`renew`](SessionState::renew)
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

    /// Checks every setting and builds the configuration.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionEngine};
    /// let e = SessionConfig::new(Secret::generate()).cookie_name("__Host-s").secure(false).build().unwrap_err();
    /// assert!(e.to_string().contains("__Host-"));
    /// ```
    pub fn build(self) -> Result<SessionEngine, Error> {
        self.cookie.validate()?;
        let expiry = Expiry::new(self.idle, self.absolute, self.refresh_share, self.skew)?;
        self.keys.validate(self.idle, self.skew)?;
        Ok(SessionEngine {
            keys: self.keys,
            cookie: self.cookie,
            expiry,
            compression: self.compression,
            algorithm: self.algorithm,
            clock: self.clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Keyring, Secret};
    use std::sync::atomic::{AtomicU64, Ordering};

    fn secret(b: u8) -> Secret {
        Secret::from_bytes(&[b; 32]).unwrap()
    }

    fn cookie_pairs(set: &[HeaderValue]) -> String {
        set.iter()
            .map(|h| h.to_str().unwrap().split(';').next().unwrap().to_string())
            .filter(|p| !p.ends_with('='))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn untouched_session_costs_no_cookie_and_no_decrypt() {
        let c = SessionConfig::new(secret(1)).build().unwrap();
        let mut s = SessionState::new();
        s.insert("a", &1u8).unwrap();
        let v = c.seal(&mut s).unwrap();
        let h = format!("session={v}");
        assert!(c
            .finish([h.as_bytes()], None, LoadOutcome::NoCookie)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn new_session_without_data_gets_no_cookie() {
        let c = SessionConfig::new(secret(1)).build().unwrap();
        let mut l = c.load(std::iter::empty());
        l.session.renew();
        assert!(c
            .finish(std::iter::empty(), Some(&mut l.session), l.outcome)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn rotation_reseals_under_the_primary_even_when_untouched() {
        let old = SessionConfig::new(Keyring::new(secret(1))).build().unwrap();
        let rotated = SessionConfig::new(Keyring::from_secrets([secret(2), secret(1)]).unwrap())
            .build()
            .unwrap();
        let only_new = SessionConfig::new(Keyring::new(secret(2))).build().unwrap();
        let mut s = SessionState::new();
        s.insert("user", &"ada").unwrap();
        let h = format!("session={}", old.seal(&mut s).unwrap());
        assert_eq!(
            only_new.load([h.as_bytes()]).outcome,
            LoadOutcome::Rejected(Rejection::UnknownKey)
        );
        let set = rotated
            .finish([h.as_bytes()], None, LoadOutcome::NoCookie)
            .unwrap();
        assert_eq!(set.len(), 1);
        let h2 = cookie_pairs(&set);
        let l = only_new.load([h2.as_bytes()]);
        assert_eq!(
            l.outcome,
            LoadOutcome::Opened {
                needs_reseal: false
            }
        );
        assert_eq!(
            l.session.get::<String>("user").unwrap().as_deref(),
            Some("ada")
        );
    }

    #[test]
    fn idle_refresh_only_when_due() {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let t = now.clone();
        let c = SessionConfig::new(secret(1))
            .idle_timeout(Some(Duration::from_secs(100)))
            .clock(move || t.load(Ordering::SeqCst))
            .build()
            .unwrap();
        let mut s = SessionState::new();
        s.insert("a", &1u8).unwrap();
        let h = format!("session={}", c.seal(&mut s).unwrap());
        now.fetch_add(10, Ordering::SeqCst);
        let mut l = c.load([h.as_bytes()]);
        assert_eq!(
            l.outcome,
            LoadOutcome::Opened {
                needs_reseal: false
            }
        );
        assert!(c
            .finish([h.as_bytes()], Some(&mut l.session), l.outcome)
            .unwrap()
            .is_empty());
        now.fetch_add(20, Ordering::SeqCst);
        let mut l = c.load([h.as_bytes()]);
        let set = c
            .finish([h.as_bytes()], Some(&mut l.session), l.outcome)
            .unwrap();
        assert_eq!(set.len(), 1);
        assert!(set[0].to_str().unwrap().contains("Max-Age=100"));
        now.fetch_add(100, Ordering::SeqCst);
        assert_eq!(
            c.load([h.as_bytes()]).outcome,
            LoadOutcome::Rejected(Rejection::IdleExpired)
        );
    }

    #[test]
    fn rejected_cookie_is_removed_purged_session_is_removed() {
        let c = SessionConfig::new(secret(1))
            .max_cookies(2)
            .build()
            .unwrap();
        let h = b"session=2.AAAA; session.1=BBBB";
        let mut l = c.load([&h[..]]);
        assert!(matches!(l.outcome, LoadOutcome::Rejected(_)));
        let set = c.finish([&h[..]], Some(&mut l.session), l.outcome).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set
            .iter()
            .all(|h| h.to_str().unwrap().contains("Max-Age=0")));
    }
}
