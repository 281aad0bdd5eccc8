//! The per-request session handle: what handlers use, and what an adapter finishes into the
//! response.
//!
//! One [`Session`] lives for one request. It is created by
//! [`SessionEngine::start`] from the request's `Cookie` headers, cloned into the handler
//! (clones share one state), and finished once with [`Session::finish`], which asks the
//! engine what the response writes back (one decision, `engine/write.rs`) and adds the
//! `Set-Cookie`, `Cache-Control` and `Vary` headers to the response.
//!
//! # When the cookie is opened
//!
//! The first time a method is called, once per request. A route that never uses the session
//! pays for one scan of the `Cookie` header (done by `start`) and nothing else, unless the
//! cookie's header shows it was sealed under an older key or another algorithm: then
//! `finish` opens it and re-seals it under the primary key, so live sessions migrate off old
//! keys even on routes that never read them.
//!
//! # What the response writes back
//!
//! * nothing for an unused session, or one read but unchanged and not yet due for an idle
//!   refresh;
//! * a sealed cookie for a changed, renewed or regenerated session, and for one opened under an
//!   old key;
//! * only a refresh stamp (`<name>.t`, bound to the request's value) for a session whose
//!   times alone move: one due for an idle refresh (see
//!   [`refresh_share`](crate::SessionBuilder::refresh_share)), touched, or revalidated. The
//!   value is never re-sent for that, so a late refresh response cannot undo a concurrent
//!   write or logout (FORMAT.md, *Refresh stamps*);
//! * removals for a purged session, and for a rejected cookie that no healthy instance could
//!   open ([`Rejection::remove_cookie`](crate::Rejection::remove_cookie));
//! * removals of chunk cookies the new value no longer needs.
//!
//! A cookie that fails to open is "no session": the handler sees an empty session, and the
//! rejection is counted and logged, never a
//! server error. When the session no longer fits, [`finish`](Session::finish) returns an
//! [`ErrorResponse`] under [`TooLargePolicy::ServerError`](crate::TooLargePolicy), and sends no
//! session cookie either way, so the client keeps its last good one.
//!
//! # Edge cases, decided here once for every adapter
//!
//! * **Two session layers on one request** (app-level and scope-level): the inner one owns
//!   the request. Its adapter calls [`supersede`](Session::supersede) on the outer handle,
//!   whose `finish` then does nothing, so a response never carries two competing
//!   `Set-Cookie`s for the session.
//! * **Writes after the response headers were built** (from a streaming body, a spawned
//!   task): they return [`Error::Committed`] instead of succeeding and being lost.
//! * **A handler that writes and then answers 5xx**: its writes are discarded by default
//!   ([`ServerErrorWrites`](crate::ServerErrorWrites)).
//! * **A stored value that no longer decodes** as the requested type (the type changed in a
//!   deploy): [`get`](Session::get) treats it as absent, drops it from the cookie on that
//!   response and logs a warning naming [`schema`](crate::SessionBuilder::schema), so a
//!   deploy is never a loop of 500s; [`Undecodable::Error`](crate::Undecodable::Error)
//!   returns [`Error::Deserialize`] instead.
//! * **A revalidation check that is due**: the data is out of reach until it has answered
//!   (see [`Session::revalidate`]).

mod csrf;
mod flash;
mod lifecycle;

use std::fmt;
use std::ops::Not as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::{Deadlines, LoadOutcome, Opened, SessionEngine};
use crate::error::Error;
use crate::policy::Undecodable;
use crate::state::{KeyName, SessionState, SessionStatus};
use crate::wire::request::RequestCookies;

#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use csrf::{CsrfGate, csrf_gate};
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use lifecycle::missing_layer_message;
#[cfg(feature = "actix")]
pub(crate) use lifecycle::plain_http_host;
#[cfg(feature = "axum")]
pub(crate) use lifecycle::plain_http_host_of;

/// One request's session, shared by the handler and the adapter that finishes the response.
///
/// `Clone` (clones share one state), `Send` and `Sync`: it can be held across `.await`s in
/// any executor. Reading methods open the cookie on first use; changing methods return
/// [`Error::Committed`] once the response has been finished.
///
/// ```
/// use sealed_session::{Secret, SessionBuilder, SessionStatus};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("cart", &vec!["SKU-1"])?;
/// assert_eq!(session.status(), SessionStatus::Changed);
///
/// let mut response = http::Response::new(());
/// session.finish(&mut response).unwrap();
/// assert!(response.headers().contains_key("set-cookie"));
/// assert_eq!(response.headers()["cache-control"], "private");
/// assert_eq!(session.insert("late", &1u8), Err(sealed_session::Error::Committed));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

struct Shared {
    engine: SessionEngine,
    request: RequestCookies,
    /// The host the request came to over plain HTTP, if a `Secure` cookie sent back would be
    /// dropped by the browser (see `lifecycle::plain_http_host`).
    plain_http_host: Option<Box<str>>,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The session, once someone used it (or `finish` opened it for a re-seal).
    opened: Option<Opened>,
    /// The clock, read once per request when first needed.
    now: Option<u64>,
    /// A nested session layer owns the request: this handle writes nothing.
    superseded: bool,
    /// Whether the application's revalidation check must run before the data is read.
    check: Check,
    /// `finish` ran (or a nested layer took over): changes can no longer reach the client.
    closed: bool,
}

/// Where the revalidation check stands for this request's session.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Not configured, not due, or no data to check.
    #[default]
    NotDue,
    /// Due and not yet answered: the data may belong to a revoked session, so nothing reads
    /// or changes it until [`Session::revalidate`] has applied the verdict.
    Due,
    /// Answered in this request (or the data was dropped).
    Done,
    /// The check could not answer ([`Verdict::Unavailable`](crate::Verdict::Unavailable)):
    /// the data stays out of reach for this request; dropping it (a logout) still works.
    Unavailable,
}

impl Check {
    /// The error of reading or changing the data now, if it is out of reach.
    fn refusal(self) -> Option<Error> {
        match self {
            Check::Due => Some(Error::RevalidationPending),
            Check::Unavailable => Some(Error::RevalidationUnavailable),
            Check::NotDue | Check::Done => None,
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.lock();
        let mut d = f.debug_struct("Session");
        match &slot.opened {
            None => d.field("state", &"untouched"),
            Some(o) => d.field("state", &o.state).field("outcome", &o.outcome),
        };
        d.field("superseded", &slot.superseded)
            .field("closed", &slot.closed)
            .finish()
    }
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding the lock leaves a session that is still consistent (every
        // change is a single map operation), so recover the guard rather than spread it.
        self.shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The request's one clock reading.
    fn now(&self, slot: &mut Slot) -> u64 {
        *slot.now.get_or_insert_with(|| self.shared.engine.now())
    }

    /// The opened session, opening it first if nobody has: the one place a request's cookie
    /// is opened, its rejection logged, and whether the revalidation check is due decided.
    fn open<'s>(&self, slot: &'s mut Slot) -> &'s mut Opened {
        if slot.opened.is_none() {
            let now = self.now(slot);
            let engine = &self.shared.engine;
            #[cfg_attr(not(feature = "actix-session-import"), allow(unused_mut))]
            let mut opened = engine.open_request(&self.shared.request, now);
            #[cfg(feature = "actix-session-import")]
            engine.import(&mut opened, &self.shared.request, now);
            if let LoadOutcome::Rejected(r) = opened.outcome {
                engine.note_rejection(r, now);
            }
            if engine.revalidation_due(&opened.state, now) {
                slot.check = Check::Due;
            }
            slot.opened = Some(opened);
        }
        match slot.opened.as_mut() {
            Some(opened) => opened,
            None => unreachable!("opened just above"),
        }
    }

    /// Runs `f` on the opened session, opening it first if nobody has: what it shows of
    /// the session, never its data.
    fn peek<R>(&self, f: impl FnOnce(&SessionState, LoadOutcome) -> R) -> R {
        let mut slot = self.lock();
        let opened = self.open(&mut slot);
        f(&opened.state, opened.outcome)
    }

    /// Runs `f` on the opened session's data; refused while the revalidation check is due.
    fn read<R>(&self, f: impl FnOnce(&SessionState) -> R) -> Result<R, Error> {
        let mut slot = self.lock();
        self.open(&mut slot);
        if let Some(refused) = slot.check.refusal() {
            return Err(refused);
        }
        Ok(f(&self.open(&mut slot).state))
    }

    /// Runs `f` on the opened session to change it; refused once the response is finished,
    /// and while the revalidation check is due.
    fn change<R>(&self, f: impl FnOnce(&mut SessionState) -> R) -> Result<R, Error> {
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        self.open(&mut slot);
        if let Some(refused) = slot.check.refusal() {
            return Err(refused);
        }
        Ok(f(&mut self.open(&mut slot).state))
    }

    /// Runs `f`, which drops the session's data, on the opened session: allowed while the
    /// revalidation check is due (a revoked session's data goes either way), after which
    /// there is nothing left to check.
    fn drop_data(&self, f: impl FnOnce(&mut SessionState)) -> Result<(), Error> {
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        f(&mut self.open(&mut slot).state);
        if slot.check.refusal().is_some() {
            slot.check = Check::Done;
        }
        Ok(())
    }

    /// Runs `f` on the crate's own entries of the session (the CSRF secret): refused once
    /// the response is finished, but not while the revalidation check is due, since they
    /// are no data of the application's.
    fn own<R>(&self, f: impl FnOnce(&mut crate::state::SessionState) -> R) -> Result<R, Error> {
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        Ok(f(&mut self.open(&mut slot).state))
    }

    /// What a data accessor without an error path answers while the data is out of reach:
    /// nothing, as for a session that was revoked, with an error event saying why.
    fn pending<R: Default>(&self, result: Result<R, Error>) -> R {
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, "session data read before its revalidation check");
            R::default()
        })
    }

    /// Reads the value under `key` as a `T`: `Ok(None)` when absent.
    ///
    /// `key` is a name or, better, a [`SessionKey<T>`](crate::SessionKey), with which the
    /// compiler checks that every read and write of the entry uses the same type.
    ///
    /// A stored value that no longer decodes as `T` (written by an older release whose type
    /// had other fields, or stored as another type) is treated as absent: `Ok(None)`, the
    /// entry is dropped from the cookie on this response, and a warning (at most one a
    /// minute) names the entry and the fix, [`SessionBuilder::schema`]. With
    /// [`Undecodable::Error`](crate::Undecodable::Error) it is [`Error::Deserialize`]
    /// instead. postcard does not say which type wrote a value, so a value whose bytes happen
    /// to fit `T` is read as one (see [`SessionState::get`]); typed keys rule that out.
    ///
    /// [`SessionBuilder::schema`]: crate::SessionBuilder::schema
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionKey};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// const COUNT: SessionKey<u32> = SessionKey::new("n");
    /// session.insert(COUNT, &5)?;
    /// assert_eq!(session.get(COUNT)?, Some(5));
    /// assert_eq!(session.get::<u32>("missing")?, None);
    ///
    /// // The stored entry read as a shape it does not have: absent, and dropped.
    /// assert_eq!(session.get::<(u64, String)>("n")?, None);
    /// assert_eq!(session.get(COUNT)?, None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: impl KeyName<T>) -> Result<Option<T>, Error> {
        let key = key.key_name();
        let read = self.read(|s| s.get::<T>(key))?;
        self.or_stale(key, read)
    }

    /// What a read that did not decode becomes under the configured
    /// [`Undecodable`](crate::Undecodable) policy: absent (the entry dropped, a warning
    /// logged) or the error.
    fn or_stale<T>(&self, key: &str, read: Result<Option<T>, Error>) -> Result<Option<T>, Error> {
        let error = match read {
            Err(e @ Error::Deserialize { .. }) => e,
            other => return other,
        };
        let engine = &self.shared.engine;
        if engine.parts().undecodable == Undecodable::Error {
            return Err(error);
        }
        let mut slot = self.lock();
        let now = self.now(&mut slot);
        if !slot.closed {
            self.open(&mut slot).state.remove(key);
        }
        engine.note_undecodable(&error, now);
        Ok(None)
    }

    /// Stores `value` under `key`. Writing the value already stored is not a change and sends
    /// no cookie.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("theme", "dark")?;
    /// assert_eq!(session.status(), SessionStatus::Changed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<T: Serialize + ?Sized>(
        &self,
        key: impl KeyName<T>,
        value: &T,
    ) -> Result<(), Error> {
        self.change(|s| s.insert(key, value))?
    }

    /// Removes `key`; returns whether it was present.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// assert!(session.remove("a")?);
    /// assert!(!session.remove("a")?);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove(&self, key: &str) -> Result<bool, Error> {
        self.change(|s| s.remove(key))
    }

    /// Removes `key` and returns its value as a `T`.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("flash", "saved")?;
    /// assert_eq!(session.remove_as::<String>("flash")?.as_deref(), Some("saved"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&self, key: impl KeyName<T>) -> Result<Option<T>, Error> {
        let key = key.key_name();
        let read = self.change(|s| s.remove_as::<T>(key))?;
        self.or_stale(key, read)
    }

    /// Removes every entry; the session and its lifetime go on.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// session.clear()?;
    /// assert!(session.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn clear(&self) -> Result<(), Error> {
        self.drop_data(SessionState::clear)
    }

    /// Starts a new lifetime and a new cookie, keeping the data. See
    /// [`SessionState::renew`]; at login, prefer [`regenerate`](Session::regenerate).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("theme", "dark")?;
    /// session.renew()?;
    /// assert_eq!(session.status(), SessionStatus::Renewed);
    /// assert_eq!(session.get::<String>("theme")?.as_deref(), Some("dark"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn renew(&self) -> Result<(), Error> {
        self.change(SessionState::renew)
    }

    /// Starts a new, empty session with a new lifetime: do this at login (and at any change
    /// of privilege), so nothing planted in the session before the user authenticated
    /// survives into the authenticated one. See [`SessionState::regenerate`].
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("planted", &true)?;
    /// session.regenerate()?;
    /// session.insert("user_id", &42u64)?;
    /// assert_eq!(session.get::<bool>("planted")?, None);
    /// assert_eq!(session.status(), SessionStatus::Renewed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn regenerate(&self) -> Result<(), Error> {
        self.drop_data(SessionState::regenerate)
    }

    /// Destroys the session and removes its cookies. See [`SessionState::purge`].
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// session.purge()?;
    /// assert_eq!(session.status(), SessionStatus::Purged);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn purge(&self) -> Result<(), Error> {
        self.drop_data(SessionState::purge)
    }

    /// Refreshes the idle deadline on this response even if it is not yet due.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.touch()?;
    /// assert_eq!(session.status(), SessionStatus::Unchanged); // but the response refreshes the cookie
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn touch(&self) -> Result<(), Error> {
        self.change(SessionState::touch)
    }

    /// Chooses whether this session's cookies outlive the browser ("keep me signed in") or
    /// end with it. See [`SessionState::set_persistent`]; the choice is sealed in the cookie.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// let session = engine.start_headers(&http::HeaderMap::new());
    /// session.insert("user_id", &1u64)?;
    /// session.set_persistent(false)?;
    /// let mut response = http::Response::new(());
    /// session.finish(&mut response).unwrap();
    /// let cookie = response.headers()["set-cookie"].to_str().unwrap();
    /// assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn set_persistent(&self, persistent: bool) -> Result<(), Error> {
        self.change(|s| s.set_persistent(persistent))
    }

    /// What happened to the session so far in this request.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionStatus};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// assert_eq!(session.status(), SessionStatus::Unchanged);
    /// ```
    pub fn status(&self) -> SessionStatus {
        self.peek(|s, _| s.status())
    }

    /// How the request's cookie turned out (no cookie, opened, or rejected and why).
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// let session = engine.start([&b"__Host-session=not-sealed"[..]]);
    /// assert!(matches!(session.outcome(), LoadOutcome::Rejected(_)));
    /// ```
    pub fn outcome(&self) -> LoadOutcome {
        self.peek(|_, o| o)
    }

    /// Reads a whole-struct session stored with [`set_data`](Session::set_data).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Cart { items: Vec<String> }
    /// assert!(session.data::<Cart>()?.is_none());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        let read = self.read(|s| s.data::<T>())?;
        self.or_stale(crate::state::WHOLE_STRUCT_KEY, read)
    }

    /// Stores one struct as the session's typed data. See [`SessionState::set_data`].
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Cart { items: Vec<String> }
    /// session.set_data(&Cart { items: vec!["SKU-1".into()] })?;
    /// assert_eq!(session.data::<Cart>()?.unwrap().items.len(), 1);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.change(|s| s.set_data(value))?
    }

    /// Whether the session holds no data.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// assert!(session.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // While the check is due the session may be revoked: it holds nothing yet.
        self.pending(self.read(|s| !s.is_empty())).not()
    }

    /// The keys of the map entries, in order.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("b", &1u8)?;
    /// session.insert("a", &1u8)?;
    /// assert_eq!(session.keys(), ["a", "b"]);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn keys(&self) -> Vec<String> {
        self.pending(self.read(|s| s.keys().map(str::to_owned).collect()))
    }

    /// The session's deadlines as they will stand after this response (Unix seconds): a
    /// session written, renewed or touched in this request is stamped "now" when the
    /// response is sealed.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let session = SessionBuilder::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// let d = session.deadlines();
    /// assert_eq!(d.absolute_expires_at, d.created_at + 7 * 86_400);
    /// assert!(d.idle_expires_at.unwrap() <= d.absolute_expires_at);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn deadlines(&self) -> Deadlines {
        let mut slot = self.lock();
        let now = self.now(&mut slot);
        let opened = self.open(&mut slot);
        self.shared
            .engine
            .deadlines(&opened.state, opened.outcome, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionBuilder;
    use crate::keys::Secret;

    #[test]
    fn an_untouched_session_without_an_old_key_decrypts_nothing() {
        let engine = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
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

    #[test]
    fn a_request_reads_the_clock_once() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let reads = Arc::new(AtomicU64::new(0));
        let r = Arc::clone(&reads);
        let engine = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
            .cookie_name("session")
            .refresh_share(0.0)
            .clock(move || {
                r.fetch_add(1, Ordering::SeqCst);
                1_800_000_000
            })
            .build()
            .unwrap();
        let mut s = SessionState::new();
        s.insert("a", &1u8).unwrap();
        let cookie = format!("session={}", engine.seal(&mut s).unwrap());
        reads.store(0, Ordering::SeqCst);
        // Open, read, the deadlines, a refresh stamp on finish: one reading.
        let session = engine.start([cookie.as_bytes()]);
        assert_eq!(session.get::<u8>("a").unwrap(), Some(1));
        let _ = session.deadlines();
        let mut res = http::Response::new(());
        session.finish(&mut res).unwrap();
        assert!(res.headers().contains_key("set-cookie"));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_last_check_claimed_in_the_future_makes_the_check_due() {
        let engine = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
            .revalidate(std::time::Duration::from_secs(600), |_| async {
                crate::Verdict::Keep
            })
            .build()
            .unwrap();
        let now = 1_800_000_000;
        let mut s = SessionState::new().with_timestamps(now - 10, now - 10);
        s.insert("a", &1u8).unwrap();
        s.mark_validated(now - 10);
        assert!(!engine.revalidation_due(&s, now), "checked 10 s ago");
        s.mark_validated(now + 60);
        assert!(!engine.revalidation_due(&s, now), "within the clock skew");
        s.mark_validated(now + 61);
        assert!(engine.revalidation_due(&s, now), "beyond it: due");
    }
}
