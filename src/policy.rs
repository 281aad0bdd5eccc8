//! Policies the application chooses, which the engine applies: what happens to a session too
//! large for its cookies or written by a failing handler, the schema of what is stored and
//! its migration, revalidation against the application's records, and the clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::state::SessionState;

/// A source of "now" in Unix seconds. Tests inject a fixed or stepping clock.
pub(crate) type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub(crate) fn system_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a [`schema`](crate::SessionBuilder::schema) migration decided for a session written under an
/// older schema version.
///
/// ```
/// use sealed_session::Migration;
/// let keep = Migration::Keep;
/// # let _ = keep;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Migration {
    /// The entries now follow the current schema: the session goes on and this response
    /// re-seals it under the new version.
    Keep,
    /// Start a new, empty session and remove the old cookie (a clean logout of that one
    /// session, never an error).
    Drop,
}

/// Migrates a session's entries from an older schema version, in place.
pub(crate) type Migrate = Arc<dyn Fn(u32, &mut SessionState) -> Migration + Send + Sync>;

/// The application's schema of what it stores: its version and the migration from older
/// versions.
#[derive(Clone)]
pub(crate) struct Schema {
    pub version: u32,
    pub migrate: Option<Migrate>,
}

/// What [`SessionBuilder::revalidate`](crate::SessionBuilder::revalidate)'s check is given: a copy of the session, and when it
/// was created and last revalidated (Unix seconds).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Revalidation {
    /// A copy of the session as the request opened it.
    pub session: SessionState,
    /// When the session was created (or last renewed: at login).
    pub created_at: u64,
    /// When it was last revalidated (its creation until the first time).
    pub validated_at: u64,
    /// Now, by the engine's clock.
    pub now: u64,
}

/// What the revalidation check decided.
///
/// ```
/// use sealed_session::Verdict;
/// assert_ne!(Verdict::Keep, Verdict::Reject);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Still valid: the time of this check is sealed in the cookie, so the next one is due
    /// one interval from now.
    Keep,
    /// Revoked (the user logged out everywhere, was disabled, changed their password): the
    /// session is purged and its cookie removed, as by [`Session::purge`](crate::Session::purge).
    Reject,
    /// Still valid, with new contents (fresh permissions, say): the entries are replaced and
    /// the session re-sealed.
    Replace(SessionState),
    /// The check could not answer (the application's database is down): for this request
    /// the session's data stays out of reach (reading or changing it is
    /// [`Error::RevalidationUnavailable`](crate::Error::RevalidationUnavailable), an opaque
    /// 500 when a handler returns it), dropping it (a logout) still works, and the cookie is
    /// left as it was, so the next request checks again. Neither a logout of everyone on a
    /// database blip (failing closed) nor revoked sessions served while it lasts (failing
    /// open).
    Unavailable,
}

/// The future a revalidation check returns, boxed once per check.
pub(crate) type VerdictFuture = Pin<Box<dyn Future<Output = Verdict> + Send>>;

/// The application's revalidation check and how often it runs per session.
#[derive(Clone)]
pub(crate) struct Revalidator {
    pub interval: u64,
    pub check: Arc<dyn Fn(Revalidation) -> VerdictFuture + Send + Sync>,
}

/// What to do with a response whose session no longer fits: more than
/// [`max_session_bytes`](crate::SessionBuilder::max_session_bytes) serialized, or more than the
/// allowed cookies can carry.
///
/// Either way no session cookie is sent, so the client keeps its last good session, and an
/// error event is logged (at most one a minute, with the count since the last).
///
/// ```
/// use sealed_session::TooLargePolicy;
/// assert_eq!(TooLargePolicy::default(), TooLargePolicy::ServerError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TooLargePolicy {
    /// Replace the response with a `500` whose JSON body names the size and the limit
    /// (`{"error", "size", "limit", "maxCookies"}`). The failure is visible at once, in
    /// development and in monitoring.
    #[default]
    ServerError,
    /// Send the handler's response without the session cookie: the write is lost.
    KeepResponse,
}

/// What happens to a handler's session writes when the response it returns is a server
/// error (status 500–599).
///
/// The default discards them, as Django does: a handler that failed half-way may have
/// written half of what it meant to, and the client's last good session is safer than a
/// half-updated one. A rejected cookie is still removed and a re-seal under a new key still
/// happens, as on a route that never touched the session. Client errors (4xx) always commit,
/// since handlers answer them on purpose (a failed login may well have counted the attempt).
///
/// ```
/// use sealed_session::ServerErrorWrites;
/// assert_eq!(ServerErrorWrites::default(), ServerErrorWrites::Discard);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerErrorWrites {
    /// Drop the session changes of a request answered with a 5xx.
    #[default]
    Discard,
    /// Save them whatever the status.
    Commit,
}

/// What reading a stored value that no longer decodes as the type asked for gives: a value
/// written by an older release whose type had other fields (a deploy that changed a stored
/// struct without a [`schema`](crate::SessionBuilder::schema) migration), or stored as
/// another type.
///
/// ```
/// use sealed_session::Undecodable;
/// assert_eq!(Undecodable::default(), Undecodable::Drop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Undecodable {
    /// Treat it as absent: the read gives `Ok(None)`, the entry is dropped from the cookie on
    /// this response, and a warning (at most one a minute) names the entry and the fix. A
    /// deploy that changes a stored type is never a loop of 500s.
    #[default]
    Drop,
    /// Return [`Error::Deserialize`](crate::Error::Deserialize) to the handler, and leave the
    /// entry as it is.
    Error,
}
