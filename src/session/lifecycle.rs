//! The request's lifecycle around the handle: starting it from the request's cookies,
//! revalidating it before a handler reads it, and finishing it into the response (lock,
//! decide, apply).

use std::sync::atomic::{AtomicBool, Ordering};
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
        self.start_from(cookie_headers, None)
    }

    /// [`start`](SessionEngine::start) from an `http::HeaderMap` (http 1.x). The headers
    /// also tell whether the request came over plain HTTP to a host other than localhost:
    /// the first time a `Secure` cookie is set in answer to one, a warning says that the
    /// browser will drop it.
    pub fn start_headers(&self, request_headers: &HeaderMap) -> Session {
        let host = request_headers
            .get(http::header::HOST)
            .map(HeaderValue::as_bytes);
        let plain = plain_http_host(self, false, host, |name| {
            request_headers
                .get_all(name)
                .iter()
                .map(HeaderValue::as_bytes)
        });
        self.start_from(
            request_headers
                .get_all(COOKIE)
                .iter()
                .map(HeaderValue::as_bytes),
            plain,
        )
    }

    /// [`start`](SessionEngine::start), knowing whether the request came over plain HTTP
    /// to a host that is not a loopback name (`Some(host)`; see [`plain_http_host`]).
    pub(crate) fn start_from<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
        plain_http_host: Option<Box<str>>,
    ) -> Session {
        let p = self.parts();
        let request = RequestCookies::scan(
            &p.cookie.name,
            p.writer.max_cookies(),
            engine_legacy_name(self),
            cookie_headers,
        );
        #[cfg(feature = "metrics")]
        crate::metrics::request_header(request.header_bytes(), p.cookie_header_budget, || {
            self.now()
        });
        Session {
            shared: Arc::new(Shared {
                engine: self.clone(),
                request,
                plain_http_host,
                slot: Mutex::new(Slot::default()),
            }),
        }
    }
}

/// The old library's cookie name an importer reads, if one is configured.
fn engine_legacy_name(engine: &SessionEngine) -> Option<&str> {
    #[cfg(feature = "actix-session-import")]
    if let Some(import) = &engine.parts().import {
        return Some(import.name());
    }
    let _ = engine;
    None
}

/// Whether a `Secure` cookie has been set over plain HTTP in this process yet: the warning
/// is said once.
static PLAIN_HTTP_WARNED: AtomicBool = AtomicBool::new(false);

/// The host a request was sent to over plain HTTP, when `engine` sets `Secure` cookies and
/// the warning was not said yet, the host is not a loopback name (browsers treat
/// `http://localhost` as secure), and the request shows no sign of TLS: not `tls` (the
/// connection's own, or an `https` URI), no `X-Forwarded-Proto: https`, no `proto=https` in
/// `Forwarded`. `header` gives a request header's values by its lowercase name. `None`
/// otherwise.
///
/// Runs on every request until the warning is said, which on a healthy deployment is never:
/// a flag read, then byte comparisons, with no allocation unless the answer is `Some`.
pub(crate) fn plain_http_host<'h, I>(
    engine: &SessionEngine,
    tls: bool,
    host: Option<&[u8]>,
    header: impl Fn(&'static str) -> I,
) -> Option<Box<str>>
where
    I: Iterator<Item = &'h [u8]>,
{
    if tls || !transport_matters(engine) {
        return None;
    }
    let host = host?;
    if is_loopback(host) {
        return None;
    }
    let https = |v: &[u8]| v.trim_ascii().eq_ignore_ascii_case(b"https");
    let forwarded_tls = header("x-forwarded-proto").any(|v| v.split(|&b| b == b',').any(https))
        || header("forwarded").any(|v| {
            v.split(|&b| b == b';' || b == b',')
                .any(|p| p.trim_ascii().eq_ignore_ascii_case(b"proto=https"))
        });
    if forwarded_tls {
        return None;
    }
    std::str::from_utf8(host).ok().map(Box::from)
}

/// [`plain_http_host`] of an `http` request's parts (http 1.x): the URI's scheme and
/// authority (HTTP/2), and its headers.
#[cfg(feature = "axum")]
pub(crate) fn plain_http_host_of(
    engine: &SessionEngine,
    uri: &http::Uri,
    headers: &HeaderMap,
) -> Option<Box<str>> {
    let host = headers
        .get(http::header::HOST)
        .map(HeaderValue::as_bytes)
        .or_else(|| uri.authority().map(|a| a.as_str().as_bytes()));
    plain_http_host(engine, uri.scheme_str() == Some("https"), host, |name| {
        headers.get_all(name).iter().map(HeaderValue::as_bytes)
    })
}

/// Whether a `Secure` cookie could be dropped and nobody was told yet: `engine` sets
/// `Secure` cookies and the warning was not said.
fn transport_matters(engine: &SessionEngine) -> bool {
    engine.parts().cookie.secure && !PLAIN_HTTP_WARNED.load(Ordering::Relaxed)
}

/// Whether `host` (a `Host` header: a name or address, maybe with a port) is a loopback
/// name, which browsers treat as a secure context over plain HTTP. Compares bytes in place.
fn is_loopback(host: &[u8]) -> bool {
    let name = match host.strip_prefix(b"[") {
        Some(v6) => v6.split(|&b| b == b']').next().unwrap_or_default(),
        None => match host.iter().rposition(|&b| b == b':') {
            Some(colon) => host.get(..colon).unwrap_or_default(),
            None => host,
        },
    };
    let name = name.strip_suffix(b".").unwrap_or(name);
    let localhost = b"localhost";
    name.eq_ignore_ascii_case(localhost)
        || name.len() > localhost.len() + 1
            && name
                .get(name.len() - localhost.len() - 1..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(b".localhost"))
        || name == b"::1"
        // 127.0.0.0/8, without parsing an address on every request: digits and dots after
        // `127.` (a malformed one only spares a warning).
        || name.strip_prefix(b"127.").is_some_and(|rest| {
            !rest.is_empty() && rest.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        })
}

impl Session {
    /// Whether [`revalidate`](Session::revalidate) can have anything to do: the engine has a
    /// check configured. Adapters whose extractor future would otherwise be boxed answer at
    /// once when it has not.
    pub(crate) fn may_revalidate(&self) -> bool {
        self.shared.engine.revalidator().is_some()
    }

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
        let opened = self.open(&mut slot);
        let decided = engine.decide(opened, request.present(), discard, now);
        #[cfg_attr(not(feature = "actix-session-import"), allow(unused_variables))]
        let imported = opened.imported;
        drop(slot);
        match decided {
            Ok(write_back) => {
                let sets = matches!(write_back, WriteBack::Seal(_) | WriteBack::Stamp(_));
                if let (true, Some(host)) = (sets, &self.shared.plain_http_host) {
                    warn_plain_http(host);
                }
                let logout = matches!(write_back, WriteBack::Logout(_));
                #[cfg_attr(not(feature = "actix-session-import"), allow(unused_mut))]
                let mut set_cookies = write_back.into_set_cookies();
                // The old library's cookie goes once nothing depends on it: an imported
                // session only when it is sealed on this response.
                #[cfg(feature = "actix-session-import")]
                if let Some(import) = &engine.parts().import
                    && request.legacy_present()
                    && (!imported || sets)
                {
                    set_cookies.push(import.removal(engine.parts().cookie.secure));
                }
                response::apply(response, set_cookies, logout, used);
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

/// Says, once per process, that a `Secure` session cookie went out over plain HTTP.
fn warn_plain_http(host: &str) {
    if PLAIN_HTTP_WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    tracing::warn!(
        host,
        "a Secure session cookie was set in answer to a request that came over plain HTTP \
         to {host}: browsers drop Secure cookies from http:// pages (other than localhost), \
         so login will seem to work and the next request will have no session. Serve the \
         site over HTTPS (behind a proxy, have it send X-Forwarded-Proto: https), or, for \
         plain-HTTP development only, build the engine with secure(false) (the demo: \
         SESSION_SECURE=0). Said once per process"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_request_to_a_real_host_is_named() {
        let engine = crate::SessionBuilder::new(crate::Secret::from_bytes(&[1; 32]).unwrap())
            .build()
            .unwrap();
        let plain = |tls: bool, host: &str, headers: &[(&'static str, &'static str)]| {
            plain_http_host(&engine, tls, Some(host.as_bytes()), |name| {
                headers
                    .iter()
                    .filter(move |(k, _)| *k == name)
                    .map(|(_, v)| v.as_bytes())
            })
        };
        assert_eq!(plain(false, "app.test", &[]).as_deref(), Some("app.test"));
        assert_eq!(plain(true, "app.test", &[]), None, "the connection is TLS");
        assert_eq!(plain(false, "localhost:8080", &[]), None);
        assert_eq!(
            plain(false, "app.test", &[("x-forwarded-proto", "http, HTTPS")]),
            None
        );
        assert_eq!(
            plain(
                false,
                "app.test",
                &[("forwarded", "for=1.2.3.4;Proto=https")]
            ),
            None
        );
        assert_eq!(
            plain(false, "app.test", &[("x-forwarded-proto", "http")]).as_deref(),
            Some("app.test")
        );
        let insecure = crate::SessionBuilder::new(crate::Secret::from_bytes(&[1; 32]).unwrap())
            .secure(false)
            .build()
            .unwrap();
        let none = plain_http_host(&insecure, false, Some(&b"app.test"[..]), |_| {
            std::iter::empty()
        });
        assert_eq!(none, None, "no Secure cookie, nothing to warn about");
    }

    #[test]
    fn loopback_names_are_secure_contexts() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "app.localhost",
            "127.0.0.1:80",
            "127.9.0.1",
            "[::1]:8080",
            "localhost.",
        ] {
            assert!(is_loopback(host.as_bytes()), "{host}");
        }
        for host in [
            "app.test",
            "example.com:443",
            "10.0.0.1",
            "[2001:db8::1]",
            "localhost.example.com",
            "xlocalhost",
            ".localhost",
            "127.evil.example",
            "127.",
        ] {
            assert!(!is_loopback(host.as_bytes()), "{host}");
        }
    }
}
