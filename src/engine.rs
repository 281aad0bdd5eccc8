//! The engine: keys → seal → session → cookies, put together once per application.
//!
//! A [`SessionEngine`] holds the validated configuration and the derived keys. It is cheap to
//! clone (one `Arc`) and is what adapters hold. Per request it starts a [`Session`] handle
//! ([`start`](SessionEngine::start)); the handle opens the cookie lazily and, when the
//! response is ready, asks the engine what to write back. The rules for *what* to write live
//! here, in [`write_back`](SessionEngine::write_back); the rules for *when* live in the
//! handle.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::config::{Clock, Migration, Revalidator, Schema, ServerErrorWrites, TooLargePolicy};
use crate::error::{Error, Rejection};
use crate::keys::{Algorithm, Keys};
use crate::options::CookieConfig;
use crate::session::Session;
use crate::state::{SessionState, Status};
use crate::timeouts::Expiry;
use crate::wire::body::Compression;
use crate::wire::request::RequestCookies;
use crate::wire::seal::{self as format, Binding};

/// The `Cookie` header values of an `http::HeaderMap`.
pub(crate) fn cookie_values(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes)
}

/// How the request's session cookie turned out.
///
/// ```
/// use sealed_session::{LoadOutcome, Secret, SessionConfig};
///
/// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
/// let loaded = engine.load([&b"__Host-session=garbage"[..]]);
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
    /// The cookie did not open; the session is new and empty.
    Rejected(Rejection),
}

/// When a session was created and when it expires, in Unix seconds, as they will stand after
/// this response (see [`Session::deadlines`]).
///
/// Serializes as `{"createdAt", "idleExpiresAt", "absoluteExpiresAt"}`.
///
/// ```
/// # use sealed_session::{Secret, SessionConfig};
/// let engine = SessionConfig::new(Secret::generate()).clock(|| 1000).build().unwrap();
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("a", &1u8).unwrap();
/// let d = session.deadlines();
/// assert_eq!((d.created_at, d.idle_expires_at, d.absolute_expires_at),
///            (1000, Some(1000 + 86_400), 1000 + 604_800));
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

/// Everything [`SessionConfig::build`](crate::SessionConfig::build) validated.
pub(crate) struct EngineParts {
    pub keys: Keys,
    pub cookie: CookieConfig,
    pub expiry: Expiry,
    pub compression: Compression,
    pub algorithm: Algorithm,
    pub clock: Clock,
    pub too_large: TooLargePolicy,
    pub server_errors: ServerErrorWrites,
    pub max_session_bytes: usize,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub size_warning_share: f64,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub cookie_header_budget: Option<usize>,
    pub schema: Schema,
    pub revalidator: Option<Revalidator>,
}

/// Turns requests' cookies into sessions and sessions into `Set-Cookie` headers: the
/// validated configuration and the derived keys, built once by
/// [`SessionConfig::build`](crate::SessionConfig::build).
///
/// Cheap to clone (one `Arc`): build it once and hand clones to every worker. Adapters hold
/// one; without a framework, call [`start`](SessionEngine::start) per request.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Keyring, Secret, SessionConfig};
///
/// let engine = SessionConfig::new(Keyring::new(Secret::generate()))
///     .cookie_name("__Host-session")
///     .idle_timeout(Some(Duration::from_secs(30 * 60)))
///     .build()
///     .unwrap();
///
/// // A request without a cookie: a new session, then the response's headers.
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("user_id", &7u64).unwrap();
/// let mut response = http::Response::new(());
/// session.finish(&mut response).unwrap();
/// let set_cookie = response.headers()[http::header::SET_COOKIE].to_str().unwrap();
///
/// // The next request carries it back.
/// let mut request = http::HeaderMap::new();
/// request.insert(http::header::COOKIE, set_cookie.split(';').next().unwrap().parse().unwrap());
/// let session = engine.start_headers(&request);
/// assert_eq!(session.get::<u64>("user_id").unwrap(), Some(7));
/// ```
#[derive(Clone)]
pub struct SessionEngine {
    inner: Arc<Inner>,
}

struct Inner {
    parts: EngineParts,
    /// `<name>.t`, the refresh stamp's cookie name and AAD name, computed once.
    stamp_name: String,
    /// For a key ring: the first eight characters of every value sealed under the primary
    /// key, so that an untouched route sees whether a re-seal is due without the clock.
    /// Epoch keys change their sealing key with time, so they have none.
    sealing_prefix: Option<[u8; format::KEY_PREFIX_LEN]>,
    log: RejectionLog,
}

impl fmt::Debug for SessionEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.inner.parts;
        f.debug_struct("SessionEngine")
            .field("keys", &p.keys)
            .field("cookie", &p.cookie)
            .field("expiry", &p.expiry)
            .field("compression", &p.compression)
            .field("algorithm", &p.algorithm)
            .field("too_large", &p.too_large)
            .field("server_errors", &p.server_errors)
            .field("max_session_bytes", &p.max_session_bytes)
            .finish_non_exhaustive()
    }
}

impl SessionEngine {
    pub(crate) fn from_parts(parts: EngineParts) -> SessionEngine {
        SessionEngine {
            inner: Arc::new(Inner {
                stamp_name: parts.cookie.stamp_name(),
                sealing_prefix: match &parts.keys {
                    Keys::Ring(ring) => Some(format::key_prefix(
                        parts.algorithm,
                        ring.primary_id(parts.algorithm),
                    )),
                    Keys::Epoch(_) => None,
                },
                parts,
                log: RejectionLog::default(),
            }),
        }
    }

    fn p(&self) -> &EngineParts {
        &self.inner.parts
    }

    /// The cookie settings.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).max_cookies(3).build().unwrap();
    /// assert_eq!(e.cookie().max_cookies(), 3);
    /// ```
    pub fn cookie(&self) -> &CookieConfig {
        &self.p().cookie
    }

    /// The time limits.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.expiry().absolute().as_secs(), 604_800);
    /// ```
    pub fn expiry(&self) -> &Expiry {
        &self.p().expiry
    }

    /// The algorithm that seals.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.algorithm(), Algorithm::XAes256Gcm);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.p().algorithm
    }

    /// What a response whose session no longer fits turns into.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, TooLargePolicy};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.too_large_policy(), TooLargePolicy::ServerError);
    /// ```
    pub fn too_large_policy(&self) -> TooLargePolicy {
        self.p().too_large
    }

    /// What happens to session writes of a request answered with a 5xx.
    ///
    /// ```
    /// # use sealed_session::{Secret, ServerErrorWrites, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.server_error_writes(), ServerErrorWrites::Discard);
    /// ```
    pub fn server_error_writes(&self) -> ServerErrorWrites {
        self.p().server_errors
    }

    /// The largest serialized session this engine seals or opens, in bytes.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.max_session_bytes(), 64 * 1024);
    /// ```
    pub fn max_session_bytes(&self) -> usize {
        self.p().max_session_bytes
    }

    /// The current time from the configured clock, in Unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).clock(|| 42).build().unwrap();
    /// assert_eq!(e.now(), 42);
    /// ```
    pub fn now(&self) -> u64 {
        (self.p().clock)()
    }

    /// Starts the session lifecycle of one request from its `Cookie` header values.
    ///
    /// This scans the header once and copies out only this session's cookies (usually one
    /// value); nothing is decrypted until a handler uses the [`Session`]. When the response
    /// is ready, call [`Session::finish`] once.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let session = engine.start([&b"theme=dark"[..]]);
    /// assert!(session.is_empty());
    /// ```
    pub fn start<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Session {
        let request = RequestCookies::scan(self.cookie(), cookie_headers);
        crate::metrics::request_header(self, request.header_bytes());
        Session::new(self.clone(), request)
    }

    /// [`start`](SessionEngine::start) from an `http::HeaderMap` (http 1.x).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let session = engine.start_headers(&http::HeaderMap::new());
    /// assert_eq!(session.get::<u64>("user_id").unwrap(), None);
    /// ```
    pub fn start_headers(&self, request_headers: &HeaderMap) -> Session {
        self.start(cookie_values(request_headers))
    }

    /// Opens the session carried by these `Cookie` header values, without a lifecycle: for
    /// tools and tests. Handlers use [`Session`] instead.
    ///
    /// Never fails: a missing cookie gives a new session, a bad or expired one gives a new
    /// session and a [`LoadOutcome::Rejected`] reason.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.load([&b"theme=dark"[..]]).outcome, LoadOutcome::NoCookie);
    /// ```
    pub fn load<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Loaded {
        let request = RequestCookies::scan(self.cookie(), cookie_headers);
        let (session, outcome, _) = self.open_request(&request, self.now());
        Loaded { session, outcome }
    }

    /// Opens the request's cookies at `now`: the first candidate that opens wins. Also returns
    /// the opened value's nonce, which a refresh stamp written for it is bound to.
    pub(crate) fn open_request(
        &self,
        request: &RequestCookies,
        now: u64,
    ) -> (SessionState, LoadOutcome, Option<Binding>) {
        let max_cookies = self.cookie().max_cookies();
        let opened =
            match request.open_with(max_cookies, |value| self.open_sealed(value, request, now)) {
                Ok(Some((session, needs_reseal, binding))) => {
                    (session, LoadOutcome::Opened { needs_reseal }, Some(binding))
                }
                Ok(None) => (SessionState::new(), LoadOutcome::NoCookie, None),
                Err(r) => (SessionState::new(), LoadOutcome::Rejected(r), None),
            };
        crate::metrics::opened(opened.1);
        opened
    }

    /// Opens one sealed value at `now`, applies the request's refresh stamp bound to it (if
    /// any opens), checks expiry and the schema; also says whether it must be re-sealed (an
    /// older key or another algorithm).
    pub(crate) fn open_sealed(
        &self,
        value: &str,
        request: &RequestCookies,
        now: u64,
    ) -> Result<(SessionState, bool, Binding), Rejection> {
        let p = self.p();
        let keys = p.keys.at(now, p.expiry.clock_skew());
        let opened = format::open(&keys, &p.cookie.name, &[], value, p.cookie.max_value_len())?;
        if opened.body.len() > p.max_session_bytes {
            return Err(Rejection::TooLong);
        }
        let mut session = SessionState::decode(&opened.body)?;
        let mut stamps = request.stamps().peekable();
        if stamps.peek().is_some() {
            // A stamp bound to another value (older, or planted) does not open: ignored.
            let name = &self.inner.stamp_name;
            let binding = opened.nonce.as_bytes();
            for stamp in stamps {
                let Ok(s) = format::open(&keys, name, binding, stamp, MAX_STAMP_LEN) else {
                    continue;
                };
                if session.apply_stamp(&s.body).is_ok() {
                    break;
                }
            }
        }
        p.expiry.check(&session, now)?;
        self.migrate(&mut session)?;
        crate::metrics::opened_key(opened.algorithm, value, opened.primary);
        let needs_reseal = !opened.primary || opened.algorithm != p.algorithm;
        Ok((session, needs_reseal, opened.nonce))
    }

    /// Brings a just-opened session to the configured schema version (see
    /// [`SessionConfig::schema`](crate::SessionConfig::schema)).
    fn migrate(&self, session: &mut SessionState) -> Result<(), Rejection> {
        let schema = &self.p().schema;
        let from = session.schema();
        if from == schema.version {
            return Ok(());
        }
        if from > schema.version {
            return Err(Rejection::NewerSchema);
        }
        match schema.migrate.as_ref().map(|m| m(from, session)) {
            Some(Migration::Keep) => {
                // Re-sealed on this response, under the new version.
                session.set_schema(schema.version);
                session.mark_changed();
                Ok(())
            }
            Some(Migration::Drop) | None => Err(Rejection::OldSchema),
        }
    }

    /// The revalidation settings, if any.
    pub(crate) fn revalidator(&self) -> Option<&Revalidator> {
        self.p().revalidator.as_ref()
    }

    /// The `Max-Age` the session value's cookies carry at `now`: up to the absolute deadline
    /// (the idle deadline moves with refresh stamps, which carry it), or none for a
    /// browser-session cookie.
    fn max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let p = self.p();
        if !session.persistent().unwrap_or(p.cookie.persistent) {
            return None;
        }
        p.expiry
            .absolute_deadline(session)
            .map(|d| d.saturating_sub(now))
    }

    /// The `Max-Age` of a refresh stamp at `now`: up to the idle deadline (never past the
    /// absolute one), or none for a browser-session cookie.
    fn stamp_max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let p = self.p();
        if !session.persistent().unwrap_or(p.cookie.persistent) {
            return None;
        }
        p.expiry.deadline(session).map(|d| d.saturating_sub(now))
    }

    /// Stamps `session` with `now` and seals it under the current primary key with a fresh
    /// random nonce; fails when the serialized session is over `max_session_bytes`.
    pub(crate) fn seal_at(&self, session: &mut SessionState, now: u64) -> Result<String, Error> {
        let p = self.p();
        session.set_schema(p.schema.version);
        // The keys and values alone already exceed the bound: refuse without serializing.
        let at_least = session.min_encoded_len();
        if at_least > p.max_session_bytes {
            return Err(Error::SessionTooLarge {
                size: at_least,
                limit: p.max_session_bytes,
            });
        }
        let body = session.encode_at(now)?;
        if body.len() > p.max_session_bytes {
            return Err(Error::SessionTooLarge {
                size: body.len(),
                limit: p.max_session_bytes,
            });
        }
        let keys = p.keys.at(now, p.expiry.clock_skew());
        format::seal(
            &keys,
            p.algorithm,
            &p.cookie.name,
            &[],
            &body,
            p.compression,
        )
    }

    /// Seals `session` exactly as a response would, but returns the cookie value instead of
    /// headers: for tools, tests (a cookie "from the previous release") and size tables.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionState};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let mut s = SessionState::new();
    /// s.insert("user_id", &1u32).unwrap();
    /// let value = e.seal(&mut s).unwrap();
    /// let back = e.open_value(&value).unwrap();
    /// assert_eq!(back.get::<u32>("user_id").unwrap(), Some(1));
    /// ```
    pub fn seal(&self, session: &mut SessionState) -> Result<String, Error> {
        self.seal_at(session, self.now())
    }

    /// The `Set-Cookie` values a response would send to store `session` as a new session
    /// (stamped with the clock, chunked when it needs several cookies; none for an empty
    /// session): for tests that need a
    /// client holding a given session, such as "cookies issued by the previous release still
    /// open", and for tools.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, SessionState};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let mut s = SessionState::new();
    /// s.insert("user_id", &7u64).unwrap();
    /// let set_cookies = engine.set_cookies(&mut s).unwrap();
    /// let pair = set_cookies[0].split(';').next().unwrap();
    /// let back = engine.start([pair.as_bytes()]);
    /// assert_eq!(back.get::<u64>("user_id").unwrap(), Some(7));
    /// ```
    pub fn set_cookies(&self, session: &mut SessionState) -> Result<Vec<String>, Error> {
        if session.is_empty() {
            return Ok(Vec::new()); // an empty new session sends no cookie
        }
        let now = self.now();
        let value = self.seal_at(session, now)?;
        self.cookie()
            .set_cookies(&value, self.max_age(session, now), 0)
    }

    /// Opens one sealed cookie value (unchunked) as a request would.
    ///
    /// ```
    /// # use sealed_session::{Error, Rejection, Secret, SessionConfig};
    /// let e = SessionConfig::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.open_value("AQ").unwrap_err(), Error::Rejected(Rejection::TooShort));
    /// ```
    pub fn open_value(&self, value: &str) -> Result<SessionState, Error> {
        let no_stamps = RequestCookies::default();
        Ok(self.open_sealed(value, &no_stamps, self.now())?.0)
    }

    /// Whether the response must seal `session` again: it changed or was renewed, or it was
    /// opened from a cookie that needs a re-seal, a touch or an idle refresh.
    pub(crate) fn must_write(
        &self,
        session: &SessionState,
        outcome: LoadOutcome,
        now: u64,
    ) -> bool {
        match session.status() {
            Status::Purged => false,
            Status::Changed | Status::Renewed => true,
            Status::Unchanged => match outcome {
                LoadOutcome::Opened { needs_reseal } => {
                    needs_reseal
                        || session.is_touched()
                        || self.p().expiry.refresh_due(session, now)
                }
                LoadOutcome::NoCookie | LoadOutcome::Rejected(_) => false,
            },
        }
    }

    /// The session's deadlines as they will stand after this response: a session the
    /// response seals is stamped `now`, any other keeps its stored times.
    pub(crate) fn deadlines(
        &self,
        session: &SessionState,
        outcome: LoadOutcome,
        now: u64,
    ) -> Deadlines {
        let (created_at, refreshed_at) = if self.must_write(session, outcome, now) {
            session.timestamps_at(now)
        } else {
            (
                session.created_at().unwrap_or(now),
                session.refreshed_at().unwrap_or(now),
            )
        };
        let expiry = &self.p().expiry;
        let absolute = created_at.saturating_add(expiry.absolute().as_secs());
        Deadlines {
            created_at,
            idle_expires_at: expiry
                .idle()
                .map(|i| refreshed_at.saturating_add(i.as_secs()).min(absolute)),
            absolute_expires_at: absolute,
        }
    }

    /// Whether any of the request's first-chunk values names a key or algorithm other than
    /// the current primary one: read from the header alone, without decrypting.
    ///
    /// Runs on every request that carries the cookie, so `now` is only read when the answer
    /// depends on it (epoch keys): with a key ring, eight bytes compared answer it.
    pub(crate) fn reseal_hint(&self, request: &RequestCookies, now: impl FnOnce() -> u64) -> bool {
        let p = self.p();
        let mut heads = request.heads().peekable();
        if heads.peek().is_none() {
            return false;
        }
        if let Some(current) = &self.inner.sealing_prefix {
            // The prefix encodes exactly (version, algorithm, key id): a value that starts
            // differently and still parses names another key or algorithm.
            return heads
                .any(|v| v.get(..current.len()) != Some(current) && format::peek_key(v).is_some());
        }
        let sealing = p
            .keys
            .at(now(), p.expiry.clock_skew())
            .sealing(p.algorithm)
            .id();
        heads.any(|v| {
            format::peek_key(v).is_some_and(|(alg, id)| alg != p.algorithm || id != sealing)
        })
    }

    /// The `Set-Cookie` values the response needs for `session`, given how the request's
    /// cookie turned out.
    ///
    /// A changed, renewed or touched session, one due for an idle refresh and one opened
    /// under an old key are sealed and sent; a purged or emptied one is removed, and so is a
    /// rejected cookie that no other healthy instance could accept; otherwise nothing.
    /// Chunks the request carried that the new value does not need are removed.
    pub(crate) fn write_back(
        &self,
        session: &mut SessionState,
        outcome: LoadOutcome,
        binding: Option<Binding>,
        request: &RequestCookies,
        now: u64,
    ) -> Result<Vec<String>, Error> {
        let cookie = self.cookie();
        let write = self.must_write(session, outcome, now);
        if let (
            true,
            Some(binding),
            LoadOutcome::Opened {
                needs_reseal: false,
            },
        ) = (
            write && session.only_refreshed() && !session.is_empty(),
            binding,
            outcome,
        ) {
            // Only the times move: a refresh stamp bound to the request's value, never the
            // value itself, so this response cannot undo a concurrent write or logout.
            let p = self.p();
            let body = session.encode_stamp(now)?;
            let keys = p.keys.at(now, p.expiry.clock_skew());
            let stamp = format::seal(
                &keys,
                p.algorithm,
                &self.inner.stamp_name,
                binding.as_bytes(),
                &body,
                Compression::Off,
            )?;
            return Ok(vec![
                cookie.stamp_cookie(&stamp, self.stamp_max_age(session, now))
            ]);
        }
        let rejected_removable = matches!(outcome, LoadOutcome::Rejected(r) if r.remove_cookie());
        let remove = session.status() == Status::Purged
            || rejected_removable
            || (write && session.is_empty());
        if !write || session.is_empty() {
            return Ok(if remove {
                cookie.removals(request.present())
            } else {
                Vec::new()
            });
        }
        let value = self.seal_at(session, now)?;
        crate::metrics::sealed(self, value.len(), now);
        cookie.set_cookies(&value, self.max_age(session, now), request.present())
    }

    /// Records a rejected cookie: a `debug` event for each, and at most one `info` summary
    /// per minute with the counts by reason, so a client sending garbage on every request
    /// cannot flood the logs.
    pub(crate) fn note_rejection(&self, reason: Rejection, now: u64) {
        tracing::debug!(reason = reason.as_str(), "session cookie rejected");
        self.inner.log.note(reason, now);
    }

    /// The validated settings and keys, for the inspector and the metrics hooks.
    pub(crate) fn parts(&self) -> &EngineParts {
        self.p()
    }
}

/// The longest refresh stamp a reader opens: its header, flags, two varints and the tag,
/// base64url, with room to spare.
const MAX_STAMP_LEN: usize = 128;

/// Counts rejections by reason between `info` summaries.
#[derive(Default)]
struct RejectionLog {
    counts: [AtomicU64; Rejection::COUNT],
    last_report: AtomicU64,
}

/// Seconds between two rejection summaries.
const REPORT_EVERY: u64 = 60;

impl RejectionLog {
    fn note(&self, reason: Rejection, now: u64) {
        if let Some(c) = self.counts.get(reason.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let last = self.last_report.load(Ordering::Relaxed);
        if now < last.saturating_add(REPORT_EVERY)
            || self
                .last_report
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let mut summary = String::new();
        let mut total = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            let n = c.swap(0, Ordering::Relaxed);
            if n > 0 {
                total += n;
                if !summary.is_empty() {
                    summary.push_str(", ");
                }
                summary.push_str(Rejection::name_at(i));
                summary.push('=');
                summary.push_str(&n.to_string());
            }
        }
        tracing::info!(
            total,
            reasons = %summary,
            "session cookies rejected since the last report (each treated as no session; \
             per-request detail at debug level)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;
    use crate::SessionConfig;
    use std::sync::atomic::AtomicU64;
    use std::sync::Mutex;
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Collects the level of every event.
    #[derive(Clone, Default)]
    struct Levels(Arc<Mutex<Vec<tracing::Level>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Levels {
        fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.lock().unwrap().push(*e.metadata().level());
        }
    }

    #[test]
    fn a_flood_of_bad_cookies_writes_one_info_line_a_minute() {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let t = now.clone();
        let engine = SessionConfig::new(Secret::from_bytes(&[1; 32]).unwrap())
            .cookie_name("session")
            .clock(move || t.load(Ordering::SeqCst))
            .build()
            .unwrap();
        let levels = Levels::default();
        let subscriber = tracing_subscriber::registry().with(levels.clone());
        with_default(subscriber, || {
            for i in 0..1000u64 {
                if i == 500 {
                    now.fetch_add(REPORT_EVERY, Ordering::SeqCst);
                }
                let session = engine.start([&b"session=garbage"[..]]);
                assert!(session.is_empty());
                session.finish(&mut http::Response::new(())).unwrap();
            }
        });
        let levels = levels.0.lock().unwrap();
        let info = levels
            .iter()
            .filter(|l| **l <= tracing::Level::INFO)
            .count();
        assert_eq!(
            info, 2,
            "one summary at the first rejection, one a minute later"
        );
        assert_eq!(levels.len() - info, 1000, "every rejection at debug level");
    }

    #[test]
    fn an_oversized_session_is_refused_before_it_is_serialized() {
        let engine = SessionConfig::new(Secret::from_bytes(&[1; 32]).unwrap())
            .build()
            .unwrap();
        let mut s = SessionState::new();
        s.insert("blob", &vec![b'a'; 100 * 1024]).unwrap();
        // The keys and values alone pass the bound: the lower bound is what is reported.
        match engine.seal(&mut s) {
            Err(Error::SessionTooLarge { size, limit }) => {
                assert_eq!(limit, 64 * 1024);
                assert_eq!(size, "blob".len() + 100 * 1024 + 3, "key + value bytes");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.created_at(), None, "nothing was stamped or serialized");
    }

    #[test]
    fn an_untouched_session_without_an_old_key_decrypts_nothing() {
        let engine = SessionConfig::new(Secret::from_bytes(&[1; 32]).unwrap())
            .cookie_name("session")
            .build()
            .unwrap();
        let mut s = SessionState::new();
        s.insert("a", &1u8).unwrap();
        let value = engine.seal(&mut s).unwrap();
        // A valid cookie and a garbage one alike: the untouched handle finishes with no
        // header, and the header-only peek does not even try a garbage value.
        for cookie in [format!("session={value}"), "session=garbage".into()] {
            let session = engine.start([cookie.as_bytes()]);
            let mut res = http::Response::new(());
            session.finish(&mut res).unwrap();
            assert!(res.headers().is_empty(), "{cookie}");
            assert!(format!("{session:?}").contains("untouched"));
        }
    }
}
