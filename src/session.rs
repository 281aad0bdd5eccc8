//! The per-request session handle: what handlers use, and what an adapter finishes into the
//! response.
//!
//! One [`Session`] lives for one request. It is created by
//! [`SessionEngine::start`](crate::SessionEngine::start) from the request's `Cookie` headers,
//! cloned into the handler (clones share one state), and finished once with
//! [`Session::finish`], which adds `Set-Cookie`, `Cache-Control` and `Vary` headers to the
//! response.
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
//!   [`refresh_share`](crate::SessionConfig::refresh_share)), touched, or revalidated. The
//!   value is never re-sent for that, so a late refresh response cannot undo a concurrent
//!   write or logout (FORMAT.md, *Refresh stamps*);
//! * removals for a purged session, and for a rejected cookie that no healthy instance could
//!   open ([`Rejection::remove_cookie`](crate::Rejection::remove_cookie));
//! * removals of chunk cookies the new value no longer needs.
//!
//! A cookie that fails to open is "no session": the handler sees an empty session, and the
//! rejection is counted and logged (see [`SessionEngine`](crate::SessionEngine)), never a
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
//!   deploy): [`get`](Session::get) returns [`Error::Deserialize`], which the handler can
//!   handle: treat the value as absent and [`remove`](Session::remove) or overwrite it, or
//!   [`clear`](Session::clear) the session. Left unhandled with `?`, it is an opaque 500
//!   whose details go to the log only.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{Deadlines, LoadOutcome, SessionEngine};
use crate::error::Error;
use crate::policy::{Revalidation, ServerErrorWrites, Verdict};
use crate::response::{self, ErrorResponse, ResponseHeaders};
use crate::state::{SessionState, Status};
use crate::wire::request::RequestCookies;
use crate::wire::seal::Binding;

/// One request's session, shared by the handler and the adapter that finishes the response.
///
/// `Clone` (clones share one state), `Send` and `Sync`: it can be held across `.await`s in
/// any executor. Reading methods open the cookie on first use; changing methods return
/// [`Error::Committed`] once the response has been finished.
///
/// ```
/// use sealed_session::{Secret, SessionConfig, Status};
///
/// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("cart", &vec!["SKU-1"])?;
/// assert_eq!(session.status(), Status::Changed);
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
    slot: Mutex<Slot>,
}

struct Slot {
    /// The session, once someone used it (or `finish` opened it for a re-seal).
    opened: Option<(SessionState, LoadOutcome, Option<Binding>)>,
    /// A nested session layer owns the request: this handle writes nothing.
    superseded: bool,
    /// [`Session::revalidate`] already ran for this request.
    revalidated: bool,
    /// `finish` ran (or a nested layer took over): changes can no longer reach the client.
    closed: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.lock();
        let mut d = f.debug_struct("Session");
        match &slot.opened {
            None => d.field("state", &"untouched"),
            Some((state, outcome, _)) => d.field("state", state).field("outcome", outcome),
        };
        d.field("superseded", &slot.superseded)
            .field("closed", &slot.closed)
            .finish()
    }
}

impl Session {
    pub(crate) fn new(engine: SessionEngine, request: RequestCookies) -> Session {
        Session {
            shared: Arc::new(Shared {
                engine,
                request,
                slot: Mutex::new(Slot {
                    opened: None,
                    superseded: false,
                    revalidated: false,
                    closed: false,
                }),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding the lock leaves a session that is still consistent (every
        // change is a single map operation), so recover the guard rather than spread it.
        self.shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the opened session, opening it first if nobody has.
    fn read<R>(&self, f: impl FnOnce(&SessionState, LoadOutcome) -> R) -> R {
        let mut slot = self.lock();
        let (state, outcome) = self.open(&mut slot);
        f(state, outcome)
    }

    /// Runs `f` on the opened session to change it; refused once the response is finished.
    fn change<R>(&self, f: impl FnOnce(&mut SessionState) -> R) -> Result<R, Error> {
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        let (state, _) = self.open(&mut slot);
        Ok(f(state))
    }

    fn open<'s>(&self, slot: &'s mut Slot) -> (&'s mut SessionState, LoadOutcome) {
        let (state, outcome, _) = slot.opened.get_or_insert_with(|| {
            let engine = &self.shared.engine;
            engine.open_request(&self.shared.request, engine.now())
        });
        (state, *outcome)
    }

    /// Reads the value under `key` as a `T`: `Ok(None)` when absent.
    ///
    /// A value that does not decode as `T` (stored as another type, or by an older release
    /// whose type had other fields) is [`Error::Deserialize`]. Handle it rather than let it
    /// fail every request: treat it as absent and overwrite or [`remove`](Session::remove)
    /// it.
    ///
    /// ```
    /// # use sealed_session::{Error, Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("n", &5u32)?;
    /// assert_eq!(session.get::<u32>("n")?, Some(5));
    /// assert_eq!(session.get::<u32>("missing")?, None);
    ///
    /// // Recovering from a value of another shape:
    /// let cart: Vec<String> = match session.get("n") {
    ///     Ok(v) => v.unwrap_or_default(),
    ///     Err(Error::Deserialize { key, .. }) => { session.remove(&key)?; Vec::new() }
    ///     Err(e) => return Err(e),
    /// };
    /// assert!(cart.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.read(|s, _| s.get(key))
    }

    /// Stores `value` under `key`. Writing the value already stored is not a change and sends
    /// no cookie.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("theme", "dark")?;
    /// assert_eq!(session.status(), Status::Changed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), Error> {
        self.change(|s| s.insert(key, value))?
    }

    /// Removes `key`; returns whether it was present.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
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
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("flash", "saved")?;
    /// assert_eq!(session.remove_as::<String>("flash")?.as_deref(), Some("saved"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.change(|s| s.remove_as(key))?
    }

    /// Removes every entry; the session and its lifetime go on.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// session.clear()?;
    /// assert!(session.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn clear(&self) -> Result<(), Error> {
        self.change(SessionState::clear)
    }

    /// Starts a new lifetime and a new cookie, keeping the data. See
    /// [`SessionState::renew`]; at login, prefer [`regenerate`](Session::regenerate).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("theme", "dark")?;
    /// session.renew()?;
    /// assert_eq!(session.status(), Status::Renewed);
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
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("planted", &true)?;
    /// session.regenerate()?;
    /// session.insert("user_id", &42u64)?;
    /// assert_eq!(session.get::<bool>("planted")?, None);
    /// assert_eq!(session.status(), Status::Renewed);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn regenerate(&self) -> Result<(), Error> {
        self.change(SessionState::regenerate)
    }

    /// Destroys the session and removes its cookies. See [`SessionState::purge`].
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// session.purge()?;
    /// assert_eq!(session.status(), Status::Purged);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn purge(&self) -> Result<(), Error> {
        self.change(SessionState::purge)
    }

    /// Refreshes the idle deadline on this response even if it is not yet due.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.touch()?;
    /// assert_eq!(session.status(), Status::Unchanged); // but the response refreshes the cookie
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn touch(&self) -> Result<(), Error> {
        self.change(SessionState::touch)
    }

    /// Chooses whether this session's cookies outlive the browser ("keep me signed in") or
    /// end with it. See [`SessionState::set_persistent`]; the choice is sealed in the cookie.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
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

    /// Runs the configured revalidation check
    /// ([`SessionConfig::revalidate`](crate::SessionConfig::revalidate)) if it is due for this
    /// session, once per request, and applies its verdict: a rejected session is purged
    /// before anything reads it. The adapters' extractors await this; without a framework,
    /// await it before using the session. Without a check configured it returns at once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sealed_session::{Secret, SessionConfig, Verdict};
    /// let engine = SessionConfig::new(Secret::generate())
    ///     .revalidate(Duration::ZERO, |_| Box::pin(async { Verdict::Reject }))
    ///     .build()
    ///     .unwrap();
    /// # let mut s = sealed_session::SessionState::new();
    /// # s.insert("user_id", &7u64).unwrap();
    /// # let cookie = engine.set_cookies(&mut s).unwrap()[0].split(';').next().unwrap().to_owned();
    /// let session = engine.start([cookie.as_bytes()]); // a cookie holding user_id 7
    /// # futures_lite_block_on(async {
    /// session.revalidate().await.unwrap();
    /// # });
    /// assert_eq!(session.get::<u64>("user_id").unwrap(), None); // revoked
    /// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn revalidate(&self) -> Result<(), Error> {
        let engine = &self.shared.engine;
        let Some(revalidator) = engine.revalidator() else {
            return Ok(());
        };
        let input = {
            let mut slot = self.lock();
            if slot.revalidated || slot.closed {
                return Ok(());
            }
            slot.revalidated = true;
            let now = engine.now();
            let (state, _) = self.open(&mut slot);
            let validated_at = state.validated_at().unwrap_or(now);
            if state.is_empty() || now.saturating_sub(validated_at) < revalidator.interval {
                return Ok(());
            }
            Revalidation {
                session: state.clone(),
                created_at: state.created_at().unwrap_or(now),
                validated_at,
                now,
            }
        };
        let now = input.now;
        // The lock is not held across the application's check.
        let verdict = (revalidator.check)(input).await;
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        let (state, _) = self.open(&mut slot);
        match verdict {
            Verdict::Keep => state.mark_validated(now),
            Verdict::Reject => state.purge(),
            Verdict::Replace(new) => {
                state.replace_entries(new);
                state.mark_validated(now);
            }
        }
        Ok(())
    }

    /// What happened to the session so far in this request.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig, Status};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// assert_eq!(session.status(), Status::Unchanged);
    /// ```
    pub fn status(&self) -> Status {
        self.read(|s, _| s.status())
    }

    /// How the request's cookie turned out (no cookie, opened, or rejected and why).
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let session = engine.start([&b"__Host-session=not-sealed"[..]]);
    /// assert!(matches!(session.outcome(), LoadOutcome::Rejected(_)));
    /// ```
    pub fn outcome(&self) -> LoadOutcome {
        self.read(|_, o| o)
    }

    /// Reads a whole-struct session stored with [`set_data`](Session::set_data).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Cart { items: Vec<String> }
    /// assert!(session.data::<Cart>()?.is_none());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.read(|s, _| s.data())
    }

    /// Stores one struct as the session's typed data. See [`SessionState::set_data`].
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
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
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// assert!(session.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.read(|s, _| s.is_empty())
    }

    /// The keys of the map entries, in order.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("b", &1u8)?;
    /// session.insert("a", &1u8)?;
    /// assert_eq!(session.keys(), ["a", "b"]);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn keys(&self) -> Vec<String> {
        self.read(|s, _| s.keys().map(str::to_owned).collect())
    }

    /// The session's deadlines as they will stand after this response (Unix seconds): a
    /// session written, renewed or touched in this request is stamped "now" when the
    /// response is sealed.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// # let session = SessionConfig::new(Secret::generate()).build().unwrap().start_headers(&http::HeaderMap::new());
    /// session.insert("a", &1u8)?;
    /// let d = session.deadlines();
    /// assert_eq!(d.absolute_expires_at, d.created_at + 7 * 86_400);
    /// assert!(d.idle_expires_at.unwrap() <= d.absolute_expires_at);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn deadlines(&self) -> Deadlines {
        let engine = &self.shared.engine;
        self.read(|s, o| engine.deadlines(s, o, engine.now()))
    }

    /// Marks this handle as replaced by a nested session layer's handle for the same request:
    /// its [`finish`](Session::finish) then writes nothing and its changes are refused. Only
    /// adapters call this.
    ///
    /// ```
    /// # use sealed_session::{Error, Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let outer = engine.start_headers(&http::HeaderMap::new());
    /// outer.supersede();
    /// assert_eq!(outer.insert("a", &1u8), Err(Error::Committed));
    /// ```
    pub fn supersede(&self) {
        let mut slot = self.lock();
        slot.closed = true;
        slot.superseded = true;
        tracing::debug!("a nested session layer owns this request");
    }

    /// Ends the request: adds to `response` the `Set-Cookie` headers the session needs, and
    /// the cache headers that keep shared caches from storing or mixing up sessions (see the
    /// [module docs](crate::response)). Call it once, when the handler's response is ready
    /// and before its headers are sent; later calls do nothing.
    ///
    /// `Err` only when the session could not be saved (too large, not serializable, or the
    /// operating system's random generator failed) under
    /// [`TooLargePolicy::ServerError`](crate::TooLargePolicy::ServerError): then send the
    /// [`ErrorResponse`] instead of `response`. No session cookie is added either way.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).build().unwrap();
    /// let session = engine.start_headers(&http::HeaderMap::new());
    /// let mut response = http::Response::new(());
    /// session.finish(&mut response).unwrap();
    /// assert!(response.headers().is_empty()); // untouched: nothing to send
    /// ```
    pub fn finish(&self, response: &mut impl ResponseHeaders) -> Result<(), ErrorResponse> {
        let engine = &self.shared.engine;
        let request = &self.shared.request;
        let mut slot = self.lock();
        if slot.closed {
            return Ok(());
        }
        slot.closed = true;
        if slot.superseded {
            return Ok(());
        }
        let used = slot.opened.is_some();
        if !used && !engine.reseal_hint(request, || engine.now()) {
            // Untouched, and no cookie under an old key to re-seal: the common case of a
            // route that never uses the session returns here, usually without the clock.
            return Ok(());
        }
        let now = engine.now();
        let discard = (500..600).contains(&response.status())
            && engine.server_error_writes() == ServerErrorWrites::Discard;
        let written = match &mut slot.opened {
            Some((state, outcome, binding)) if !discard => {
                if let LoadOutcome::Rejected(r) = outcome {
                    engine.note_rejection(*r, now);
                }
                engine.write_back(state, *outcome, *binding, request, now)
            }
            Some((_, LoadOutcome::Rejected(r), _)) => {
                engine.note_rejection(*r, now);
                Ok(if r.remove_cookie() {
                    engine.cookie().removals(request.present())
                } else {
                    Vec::new()
                })
            }
            // Untouched, or used but its changes discarded: only what a route that never
            // touched the session would send, a re-seal under the current key.
            _ => {
                // An untouched handle got here only because a re-seal is due.
                if !used || engine.reseal_hint(request, || now) {
                    let (mut state, outcome, binding) = engine.open_request(request, now);
                    if let LoadOutcome::Rejected(r) = outcome {
                        engine.note_rejection(r, now);
                    }
                    let written = engine.write_back(&mut state, outcome, binding, request, now);
                    if !used {
                        slot.opened = Some((state, outcome, binding));
                    }
                    written
                } else {
                    Ok(Vec::new())
                }
            }
        };
        drop(slot);
        match written {
            Ok(set_cookies) => {
                response::apply(response, set_cookies, used);
                Ok(())
            }
            Err(error) => {
                tracing::error!(error = %error, "session not saved; the client keeps its last good session");
                response::apply(response, Vec::new(), used);
                match engine.too_large_policy() {
                    crate::TooLargePolicy::KeepResponse => Ok(()),
                    _ => Err(ErrorResponse::new(error)),
                }
            }
        }
    }
}

/// The message an adapter logs when a handler asks for the session on a route without the
/// session layer: `layer` names what to add.
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) fn missing_layer_message(layer: &str) -> String {
    format!(
        "a handler asked for the session, but no session layer runs on this route: add \
         {layer} to the app, router or scope that serves it"
    )
}
