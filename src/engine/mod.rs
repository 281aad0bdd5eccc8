//! The engine: keys → seal → session → cookies, put together once per application.
//!
//! A [`SessionEngine`] holds the validated configuration and the derived keys. It is cheap to
//! clone (one `Arc`) and is what adapters hold. Per request it starts a [`Session`] handle
//! ([`start`](SessionEngine::start)); the handle opens the cookie lazily and, when the
//! response is ready, asks the engine what to write back. The rules for *what* to write live
//! here, in [`write_back`](SessionEngine::write_back); the rules for *when* live in the
//! handle.

mod log;
mod open;
mod tools;
mod write;

use std::fmt;
use std::sync::Arc;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::error::Rejection;
use crate::keys::{Algorithm, Keys};
use crate::options::CookieConfig;
use crate::policy::{Clock, Revalidator, Schema, ServerErrorWrites, TooLargePolicy};
use crate::session::Session;
use crate::state::SessionState;
use crate::timeouts::Expiry;
use crate::wire::body::Compression;
use crate::wire::request::RequestCookies;
use crate::wire::seal as format;

use log::RejectionLog;

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

    /// The revalidation settings, if any.
    pub(crate) fn revalidator(&self) -> Option<&Revalidator> {
        self.p().revalidator.as_ref()
    }

    /// The validated settings and keys, for the inspector and the metrics hooks.
    pub(crate) fn parts(&self) -> &EngineParts {
        self.p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;
    use crate::SessionConfig;

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
