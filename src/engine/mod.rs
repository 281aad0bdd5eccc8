//! The engine: keys → seal → session → cookies, put together once per application.
//!
//! A [`SessionEngine`] holds the validated configuration and the derived keys. It is cheap to
//! clone (one `Arc`) and is what adapters hold. It knows how to open a request's cookies
//! (`open.rs`, the read path) and what a response must write back for a session
//! (`write.rs`, one decision); the per-request handle ([`Session`](crate::Session)) decides
//! *when*, and applies what the engine decided.

mod log;
mod open;
mod tools;
#[cfg(test)]
mod vectors;
mod write;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::keys::{Algorithm, Keys, KeysAt};
use crate::options::CookieOptions;
use crate::policy::{Clock, Revalidator, Schema, ServerErrorWrites, TooLargePolicy, Undecodable};
use crate::state::SessionState;
use crate::timeouts::Timeouts;
use crate::wire::body::Compression;
use crate::wire::seal::{self, Binding, KEY_PREFIX_LEN};
use crate::wire::set_cookie::CookieWriter;

use log::RejectionLog;
pub(crate) use write::WriteBack;

/// How the request's session cookie turned out.
///
/// ```
/// use sealed_session::{LoadOutcome, Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let (session, outcome) = engine.load([&b"__Host-session=garbage"[..]]);
/// assert!(matches!(outcome, LoadOutcome::Rejected(_)));
/// assert!(session.is_empty());
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
    Rejected(crate::Rejection),
}

/// When a session was created and when it expires, in Unix seconds, as they will stand after
/// this response (see [`Session::deadlines`](crate::Session::deadlines)).
///
/// ```
/// # use sealed_session::{Secret, SessionBuilder};
/// let engine = SessionBuilder::new(Secret::generate()).clock(|| 1000).build().unwrap();
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("a", &1u8).unwrap();
/// let d = session.deadlines();
/// assert_eq!((d.created_at, d.idle_expires_at, d.absolute_expires_at),
///            (1000, Some(1000 + 86_400), 1000 + 604_800));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deadlines {
    /// Creation (or last renewal).
    pub created_at: u64,
    /// End of the idle timeout (`None` without an idle limit); never after the absolute one.
    pub idle_expires_at: Option<u64>,
    /// End of the absolute lifetime.
    pub absolute_expires_at: u64,
}

/// A request's session as its cookies gave it: what the handle holds once opened, and what
/// the write-back decision reads.
#[derive(Debug)]
pub(crate) struct Opened {
    pub state: SessionState,
    pub outcome: LoadOutcome,
    /// The nonce of the value that opened: what a refresh stamp is bound to.
    pub binding: Option<Binding>,
    /// The session was imported from the old library's cookie on this request: that
    /// cookie is removed only once the imported session is sealed.
    pub imported: bool,
    /// For a value under an old key or algorithm only: the session as it opened, which a
    /// response that discards the handler's writes still re-seals under the current key.
    pub pristine: Option<SessionState>,
    /// The request carried values of the session's cookies that were never tried (more than
    /// the reader keeps, or past the attempt budget): a response must not remove the name,
    /// which could only reach a cookie nobody looked at.
    pub untried: bool,
}

impl Opened {
    fn new(state: SessionState, outcome: LoadOutcome, binding: Option<Binding>) -> Opened {
        let pristine =
            matches!(outcome, LoadOutcome::Opened { needs_reseal: true }).then(|| state.clone());
        Opened {
            state,
            outcome,
            binding,
            pristine,
            imported: false,
            untried: false,
        }
    }
}

/// Everything [`SessionBuilder::build`](crate::SessionBuilder::build) validated.
pub(crate) struct EngineParts {
    pub keys: Keys,
    pub cookie: CookieOptions,
    pub writer: CookieWriter,
    pub timeouts: Timeouts,
    /// How far the instances' clocks may differ, in seconds.
    pub skew: u64,
    pub compression: Compression,
    pub algorithm: Algorithm,
    pub clock: Clock,
    pub too_large: TooLargePolicy,
    pub server_errors: ServerErrorWrites,
    pub undecodable: Undecodable,
    pub max_session_bytes: usize,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub size_warning_share: f64,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub cookie_header_budget: Option<usize>,
    pub schema: Schema,
    pub revalidator: Option<Revalidator>,
    #[cfg(feature = "actix-session-import")]
    pub import: Option<crate::LegacyImport>,
}

/// Turns requests' cookies into sessions and sessions into `Set-Cookie` headers: the
/// validated configuration and the derived keys, built once by
/// [`SessionBuilder::build`](crate::SessionBuilder::build).
///
/// Cheap to clone (one `Arc`): build it once and hand clones to every worker. Adapters hold
/// one; handlers never see it.
///
/// ```
/// use sealed_session::{Keyring, Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Keyring::new(Secret::generate())).build()?;
/// assert_eq!(engine.cookie().name(), "__Host-session");
/// # Ok::<(), sealed_session::ConfigError>(())
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
    sealing_prefix: Option<[u8; KEY_PREFIX_LEN]>,
    log: RejectionLog,
}

impl fmt::Debug for SessionEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.inner.parts;
        f.debug_struct("SessionEngine")
            .field("keys", &p.keys)
            .field("cookie", &p.cookie)
            .field("timeouts", &p.timeouts)
            .field("clock_skew", &p.skew)
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
                stamp_name: parts.writer.stamp_name(),
                sealing_prefix: match &parts.keys {
                    Keys::Ring(ring) => Some(seal::key_prefix(
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

    /// The validated settings and keys.
    pub(crate) fn parts(&self) -> &EngineParts {
        &self.inner.parts
    }

    /// The keys in force at `now`.
    pub(crate) fn keys_at(&self, now: u64) -> KeysAt<'_> {
        let p = self.parts();
        p.keys.at(now, Duration::from_secs(p.skew))
    }

    /// The session cookie's name and attributes.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).max_cookies(3).build().unwrap();
    /// assert_eq!(e.cookie().max_cookies(), 3);
    /// ```
    pub fn cookie(&self) -> &CookieOptions {
        &self.parts().cookie
    }

    /// The idle timeout and the absolute lifetime.
    pub fn timeouts(&self) -> &Timeouts {
        &self.parts().timeouts
    }

    /// How far the instances' clocks may differ.
    pub fn clock_skew(&self) -> Duration {
        Duration::from_secs(self.parts().skew)
    }

    /// The algorithm that seals.
    pub fn algorithm(&self) -> Algorithm {
        self.parts().algorithm
    }

    /// The current time from the configured clock, in Unix seconds.
    pub fn now(&self) -> u64 {
        (self.parts().clock)()
    }

    /// The `Set-Cookie` writer.
    pub(crate) fn writer(&self) -> &CookieWriter {
        &self.parts().writer
    }

    /// The revalidation settings, if any.
    pub(crate) fn revalidator(&self) -> Option<&Revalidator> {
        self.parts().revalidator.as_ref()
    }

    /// Whether the application's revalidation check must run for `session` at `now` before
    /// its data is read: a check is configured, the session holds data, and its last check
    /// is an interval old, or claims a time ahead of this instance's clock by more than the
    /// skew (an instance with a fast clock, or a key holder, cannot put a session beyond
    /// revocation).
    pub(crate) fn revalidation_due(&self, session: &SessionState, now: u64) -> bool {
        let Some(revalidator) = self.revalidator() else {
            return false;
        };
        if session.is_empty() {
            return false;
        }
        let validated_at = session.validated_at().unwrap_or(now);
        validated_at > now.saturating_add(self.parts().skew)
            || now.saturating_sub(validated_at) >= revalidator.interval
    }
}
