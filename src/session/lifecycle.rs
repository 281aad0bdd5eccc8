//! The request's lifecycle around the handle: starting it from the request's cookies,
//! revalidating it before a handler reads it, and finishing it into the response (lock,
//! decide, apply).

use std::sync::{Arc, Mutex};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use super::{Check, Session, Shared, Slot};
use crate::engine::{SessionEngine, WriteBack};
use crate::error::Error;
use crate::policy::{Revalidation, ServerErrorWrites, TooLargePolicy, Verdict};
use crate::response::{self, ErrorResponse, ResponseHeaders};
use crate::wire::request::RequestCookies;

/// # For adapter authors
///
/// Starting a request's session from its `Cookie` headers. The actix-web middleware and the
/// axum layer call these; a handler never does.
impl SessionEngine {
    /// Starts the session lifecycle of one request from its `Cookie` header values.
    ///
    /// This scans the header once and copies out only this session's cookies (usually one
    /// value); nothing is decrypted until a handler uses the [`Session`]. When the response
    /// is ready, call [`Session::finish`] once.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// let session = engine.start([&b"theme=dark"[..]]);
    /// assert!(session.is_empty());
    /// ```
    pub fn start<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Session {
        let p = self.parts();
        let request = RequestCookies::scan(&p.cookie.name, p.writer.max_cookies(), cookie_headers);
        #[cfg(feature = "metrics")]
        crate::metrics::request_header(request.header_bytes(), p.cookie_header_budget, || {
            self.now()
        });
        Session {
            shared: Arc::new(Shared {
                engine: self.clone(),
                request,
                slot: Mutex::new(Slot::default()),
            }),
        }
    }

    /// [`start`](SessionEngine::start) from an `http::HeaderMap` (http 1.x).
    pub fn start_headers(&self, request_headers: &HeaderMap) -> Session {
        self.start(
            request_headers
                .get_all(COOKIE)
                .iter()
                .map(HeaderValue::as_bytes),
        )
    }
}

impl Session {
    /// Runs the configured revalidation check
    /// ([`SessionBuilder::revalidate`](crate::SessionBuilder::revalidate)) if it is due for
    /// this session and applies its verdict: a rejected session is purged before anything
    /// reads it. Without a check configured, or when it is not due, it returns at once.
    ///
    /// While the check is due, nothing reads or changes the session's data: [`get`],
    /// [`insert`] and the other data methods return [`Error::RevalidationPending`], and
    /// [`is_empty`] answers `true`, whichever way the handle was reached (an extractor, the
    /// request's extensions, a middleware). The adapters' `Session` extractors await this;
    /// a middleware or a custom extractor that takes the session from the request's
    /// extensions awaits it before reading; without a framework, await it after
    /// [`SessionEngine::start`].
    ///
    /// [`get`]: Session::get
    /// [`insert`]: Session::insert
    /// [`is_empty`]: Session::is_empty
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sealed_session::{Secret, SessionBuilder, Verdict};
    /// let engine = SessionBuilder::new(Secret::generate())
    ///     .revalidate(Duration::ZERO, |_| async { Verdict::Reject })
    ///     .build()
    ///     .unwrap();
    /// # let mut s = sealed_session::SessionState::new();
    /// # s.insert("user_id", &7u64).unwrap();
    /// # let cookie = engine.set_cookies(&mut s).unwrap()[0].split(';').next().unwrap().to_owned();
    /// let session = engine.start([cookie.as_bytes()]); // a cookie holding user_id 7
    /// # block_on(async {
    /// session.revalidate().await.unwrap();
    /// # });
    /// assert_eq!(session.get::<u64>("user_id").unwrap(), None); // revoked
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
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
            if slot.closed {
                return Ok(());
            }
            let now = self.now(&mut slot);
            self.open(&mut slot);
            if slot.check != Check::Due {
                return Ok(());
            }
            let state = &self.open(&mut slot).state;
            Revalidation {
                session: state.clone(),
                created_at: state.created_at().unwrap_or(now),
                validated_at: state.validated_at().unwrap_or(now),
                now,
            }
        };
        let now = input.now;
        // The lock is not held across the application's check. A second caller meanwhile
        // (two extractors of one handler) finds the check still due and runs it too: the
        // data stays out of reach until a verdict is applied.
        let verdict = (revalidator.check)(input).await;
        let mut slot = self.lock();
        if slot.closed {
            return Err(Error::Committed);
        }
        let state = &mut self.open(&mut slot).state;
        match verdict {
            Verdict::Keep => state.mark_validated(now),
            Verdict::Reject => state.purge(),
            Verdict::Replace(new) => {
                state.replace_entries(new);
                state.mark_validated(now);
            }
            // The data stays out of reach; dropping it (a logout) still works.
            Verdict::Unavailable => {
                slot.check = Check::Unavailable;
                return Ok(());
            }
        }
        slot.check = Check::Done;
        Ok(())
    }
}

/// # For adapter authors
///
/// Ending a request: the framework adapters call these; a handler never does.
impl Session {
    /// Marks this handle as replaced by a nested session layer's handle for the same request:
    /// its [`finish`](Session::finish) then writes nothing and its changes are refused.
    ///
    /// ```
    /// # use sealed_session::{Error, Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
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
    /// the cache headers that keep shared caches from storing or mixing up sessions. Call it
    /// once, when the handler's response is ready and before its headers are sent; later
    /// calls do nothing.
    ///
    /// `Err` only when the session could not be saved (too large, not serializable, or the
    /// operating system's random generator failed) under
    /// [`TooLargePolicy::ServerError`]: then send the [`ErrorResponse`] instead of
    /// `response`. No session cookie is added either way.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
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
        if !used && !engine.reseal_hint(request, || self.now(&mut slot)) {
            // Untouched, and no cookie under an old key to re-seal: the common case of a
            // route that never uses the session returns here, usually without the clock.
            return Ok(());
        }
        let now = self.now(&mut slot);
        let discard = (500..600).contains(&response.status())
            && engine.parts().server_errors == ServerErrorWrites::Discard;
        let decided = engine.decide(self.open(&mut slot), request.present(), discard, now);
        drop(slot);
        match decided {
            Ok(write_back) => {
                let logout = matches!(write_back, WriteBack::Logout(_));
                response::apply(response, write_back.into_set_cookies(), logout, used);
                Ok(())
            }
            Err(error) => {
                engine.note_not_saved(&error, now);
                response::apply(response, Vec::new(), false, used);
                match engine.parts().too_large {
                    TooLargePolicy::KeepResponse => Ok(()),
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
