//! What the request lifecycle reads from and writes to a response, on any `http` version.
//!
//! [`Session::finish`](crate::Session::finish) needs four things from a response: its status,
//! the values of a header, and a way to set or append one. [`ResponseHeaders`] is that, so
//! one implementation of the write-back and cache rules serves every framework: this crate
//! implements it for `http::Response` (http 1.x, axum, hyper) and, in the `actix` adapter, for
//! actix-web's response (http 0.2 types).
//!
//! # Cache rules
//!
//! A response that carries a session `Set-Cookie` must not be stored by a shared cache, or
//! the cache could hand one user's session to everyone. So:
//!
//! * a response with a session `Set-Cookie` gets `Cache-Control: private` (added to what the
//!   handler set, unless it already says `private` or `no-store`);
//! * a response the handler marked storable by shared caches (`Cache-Control: public` or
//!   `s-maxage`, or a `CDN-Cache-Control` or `Surrogate-Control` field that lets a CDN store
//!   it) never carries a session value: the write is dropped and an error event logged,
//!   because a cached copy would replay it to other users;
//! * a logout (the handler purged the session) on such a response is sent anyway, and the
//!   response is made uncacheable (`no-store` in every cache field it had): a logout served
//!   from a shared cache would never reach the application, and the user would stay logged
//!   in. The removal of a cookie nobody can open is dropped like any other session cookie:
//!   a public page stays cacheable whatever a client sends;
//! * a response whose content may depend on the session (the handler used it) gets
//!   `Vary: Cookie`, as Django's session middleware does, so a cache keys it by the cookie.

use std::borrow::Cow;

use crate::error::Error;

/// Lowercase header names the lifecycle touches.
pub(crate) const SET_COOKIE: &str = "set-cookie";
pub(crate) const CACHE_CONTROL: &str = "cache-control";
pub(crate) const VARY: &str = "vary";
/// Cache directives for CDNs only (RFC 9213).
pub(crate) const CDN_CACHE_CONTROL: &str = "cdn-cache-control";
/// Cache directives for surrogates (reverse proxies and CDNs, Edge Architecture 1.0).
pub(crate) const SURROGATE_CONTROL: &str = "surrogate-control";

/// The parts of an HTTP response that [`Session::finish`](crate::Session::finish) reads and
/// writes. Header names are passed in lowercase; values are visible ASCII, borrowed when they
/// are fixed text (`Cookie`, `private`: an implementation can store them without copying)
/// and owned when built per response (a `Set-Cookie` value).
///
/// Implemented for `http::Response<B>` (http 1.x). An adapter for a framework on another
/// `http` version implements it in a few lines.
///
/// ```
/// use sealed_session::adapter::ResponseHeaders;
///
/// let mut response = http::Response::new(());
/// response.append("vary", "Accept".into());
/// assert_eq!(response.values("vary").collect::<Vec<_>>(), [&b"Accept"[..]]);
/// assert_eq!(ResponseHeaders::status(&response), 200);
/// ```
pub trait ResponseHeaders {
    /// The status code.
    fn status(&self) -> u16;
    /// The values of header `name`, in order.
    fn values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a;
    /// Replaces every value of header `name` with `value`.
    fn set(&mut self, name: &'static str, value: Cow<'static, str>);
    /// Adds a value for header `name`, keeping the others.
    fn append(&mut self, name: &'static str, value: Cow<'static, str>);
}

/// Whether fixed header text may go to `HeaderValue::from_static` (of either `http`
/// version), which panics on anything else: visible ASCII, spaces and tabs.
fn is_static_value(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// The `http` 1.x name of a header the lifecycle touches: a constant for the three it uses,
/// since `HeaderName::from_static` parses its argument on every call (about as much work as
/// formatting the `Set-Cookie` value).
fn header_name(name: &'static str) -> http::HeaderName {
    match name {
        SET_COOKIE => http::header::SET_COOKIE,
        CACHE_CONTROL => http::header::CACHE_CONTROL,
        VARY => http::header::VARY,
        other => http::HeaderName::from_static(other),
    }
}

impl<B> ResponseHeaders for http::Response<B> {
    fn status(&self) -> u16 {
        http::Response::status(self).as_u16()
    }

    fn values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers()
            .get_all(header_name(name))
            .iter()
            .map(http::HeaderValue::as_bytes)
    }

    fn set(&mut self, name: &'static str, value: Cow<'static, str>) {
        let parse = http::HeaderValue::try_from;
        if let Some(v) = header_value(name, value, http::HeaderValue::from_static, parse) {
            self.headers_mut().insert(header_name(name), v);
        }
    }

    fn append(&mut self, name: &'static str, value: Cow<'static, str>) {
        let parse = http::HeaderValue::try_from;
        if let Some(v) = header_value(name, value, http::HeaderValue::from_static, parse) {
            self.headers_mut().append(header_name(name), v);
        }
    }
}

/// A header value of either `http` version from what the lifecycle writes: fixed text goes
/// to `from_static` without a copy, once checked (it panics on anything else); built text is
/// parsed. The values come from this crate (cookie text built from validated attributes,
/// fixed directives), so the parse cannot fail in practice; a header dropped with an error
/// event beats failing the response.
pub(crate) fn header_value<V, E>(
    name: &'static str,
    value: Cow<'static, str>,
    from_static: fn(&'static str) -> V,
    parse: impl FnOnce(String) -> Result<V, E>,
) -> Option<V> {
    let v = match value {
        Cow::Borrowed(text) if is_static_value(text) => Ok(from_static(text)),
        other => parse(other.into_owned()),
    };
    if v.is_err() {
        tracing::error!(header = name, "a session header value was not valid");
    }
    v.ok()
}

/// The comma-separated directives of every value of `name`, lowercased names only.
fn directives<'a>(
    response: &'a impl ResponseHeaders,
    name: &'static str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    response
        .values(name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|d| {
            let name = d.split(|&b| b == b'=').next().unwrap_or_default();
            name.trim_ascii()
        })
}

fn has_directive(response: &impl ResponseHeaders, name: &'static str, any_of: &[&str]) -> bool {
    directives(response, name).any(|d| any_of.iter().any(|a| d.eq_ignore_ascii_case(a.as_bytes())))
}

/// Whether the handler marked the response as storable by shared caches: `public` or
/// `s-maxage` in `Cache-Control`, or a targeted field (`CDN-Cache-Control`,
/// `Surrogate-Control`) that lets its caches store it.
pub(crate) fn publicly_cacheable(response: &impl ResponseHeaders) -> bool {
    has_directive(response, CACHE_CONTROL, &["public", "s-maxage"])
        || [CDN_CACHE_CONTROL, SURROGATE_CONTROL]
            .into_iter()
            .any(|field| {
                has_directive(response, field, &["public", "s-maxage", "max-age"])
                    && !has_directive(response, field, &["no-store", "private"])
            })
}

/// Adds the session's `Set-Cookie` values with the cache rules of this module; `logout`
/// when they remove the session's cookies because the handler ended it, `vary` when the
/// content may depend on the session.
pub(crate) fn apply(
    response: &mut impl ResponseHeaders,
    set_cookies: Vec<String>,
    logout: bool,
    vary: bool,
) {
    if !set_cookies.is_empty() {
        let cacheable = publicly_cacheable(response);
        if cacheable && !logout {
            tracing::error!(
                "session cookie not sent: the response is marked publicly cacheable \
                 (Cache-Control: public or s-maxage, or a CDN-Cache-Control or \
                 Surrogate-Control that stores it), and a shared cache would replay the \
                 session to other users; do not mark responses of session routes public"
            );
        } else {
            if cacheable {
                tracing::warn!(
                    "a logout on a response marked publicly cacheable: \
                     sent, and the response made uncacheable (no-store), since a cached \
                     logout would never reach the application; do not mark responses of \
                     session routes public"
                );
                make_uncacheable(response);
            } else {
                make_private(response);
            }
            for value in set_cookies {
                response.append(SET_COOKIE, Cow::Owned(value));
            }
        }
    }
    if vary && !has_directive(response, VARY, &["cookie", "*"]) {
        response.append(VARY, Cow::Borrowed("Cookie"));
    }
}

/// Replaces every cache field the response has with `no-store`.
fn make_uncacheable(response: &mut impl ResponseHeaders) {
    response.set(CACHE_CONTROL, Cow::Borrowed("no-store"));
    for field in [CDN_CACHE_CONTROL, SURROGATE_CONTROL] {
        if response.values(field).next().is_some() {
            response.set(field, Cow::Borrowed("no-store"));
        }
    }
}

/// Adds `private` to `Cache-Control` unless it already forbids shared storage.
fn make_private(response: &mut impl ResponseHeaders) {
    if has_directive(response, CACHE_CONTROL, &["private", "no-store"]) {
        return;
    }
    let mut joined = String::new();
    for v in response.values(CACHE_CONTROL) {
        let v = String::from_utf8_lossy(v);
        let v = v.trim();
        if !v.is_empty() {
            joined.push_str(v);
            joined.push_str(", ");
        }
    }
    if joined.is_empty() {
        // The usual case: the handler set no Cache-Control.
        response.set(CACHE_CONTROL, Cow::Borrowed("private"));
    } else {
        joined.push_str("private");
        response.set(CACHE_CONTROL, Cow::Owned(joined));
    }
}

/// The response that replaces a handler's when its session could not be saved (see
/// [`TooLargePolicy::ServerError`](crate::TooLargePolicy::ServerError)).
///
/// Its body is JSON that names the size and the limit and nothing else:
/// `{"error": "...", "size": n, "limit": n, "maxCookies": n}`. Adapters send it as is.
///
/// ```
/// use sealed_session::{Compression, Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).compression(Compression::Off).build().unwrap();
/// let session = engine.start_headers(&http::HeaderMap::new());
/// session.insert("blob", &vec![7u8; 5000]).unwrap(); // more than one 4 KB cookie holds
/// let mut response = http::Response::new(());
/// let failed = session.finish(&mut response).unwrap_err();
/// assert_eq!(failed.status(), 500);
/// assert!(failed.body().contains("\"limit\":4096"));
/// assert!(response.headers().get("set-cookie").is_none());
/// ```
#[derive(Debug)]
pub struct ErrorResponse {
    error: Error,
    body: String,
}

impl ErrorResponse {
    pub(crate) fn new(error: Error) -> ErrorResponse {
        let body = error_body(&error);
        ErrorResponse { error, body }
    }

    /// The status to answer with (500).
    ///
    /// ```
    /// # use sealed_session::{adapter::ErrorResponse, Error};
    /// # let r = ErrorResponse::from(Error::Committed);
    /// assert_eq!(r.status(), 500);
    /// ```
    pub fn status(&self) -> u16 {
        500
    }

    /// The `Content-Type` of [`body`](ErrorResponse::body).
    ///
    /// ```
    /// # use sealed_session::{adapter::ErrorResponse, Error};
    /// # let r = ErrorResponse::from(Error::Committed);
    /// assert_eq!(r.content_type(), "application/json");
    /// ```
    pub fn content_type(&self) -> &'static str {
        "application/json"
    }

    /// The JSON body: opaque except for the size and limit of a session that did not fit,
    /// and, in debug builds only, a `hint` that says what went wrong and how to fix it.
    ///
    /// ```
    /// # use sealed_session::{adapter::ErrorResponse, Error};
    /// let r = ErrorResponse::from(Error::Deserialize { key: "user".into(), reason: "x".into() });
    /// if cfg!(debug_assertions) {
    ///     assert!(r.body().contains(r#""hint":"the value stored under session key \"user\""#));
    /// } else {
    ///     assert_eq!(r.body(), r#"{"error":"internal server error"}"#); // no key names, no serde text
    /// }
    /// ```
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The error, for logging.
    ///
    /// ```
    /// # use sealed_session::{adapter::ErrorResponse, Error};
    /// assert_eq!(ErrorResponse::from(Error::Committed).error(), &Error::Committed);
    /// ```
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> ErrorResponse {
        ErrorResponse::new(error)
    }
}

impl std::fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session not saved: {}", self.error)
    }
}

impl std::error::Error for ErrorResponse {}

/// The body of every 500 this crate produces that is not about size, in release builds.
pub(crate) const OPAQUE_BODY: &str = r#"{"error":"internal server error"}"#;

/// The body of a 500 that is not about size: opaque in release builds; in debug builds
/// (`debug_assertions`: `cargo run`, `cargo test`) it also carries `hint`, what went wrong
/// and how to fix it, so that a new application sees why a request failed without a log
/// subscriber. Release builds never send it: it may name session keys.
pub(crate) fn opaque_body(hint: &dyn std::fmt::Display) -> String {
    if cfg!(debug_assertions) {
        format!(
            r#"{{"error":"internal server error","hint":"{}"}}"#,
            json_escape(&hint.to_string())
        )
    } else {
        OPAQUE_BODY.to_string()
    }
}

/// The JSON body a client sees for `error`. Only the size errors say more than "internal
/// server error" in release builds: their numbers help whoever tests the app, and reveal
/// nothing the client did not send. Serde messages, key names and rejection details go to
/// the log only, and, in debug builds, to the body's `hint` (see [`opaque_body`]).
pub(crate) fn error_body(error: &Error) -> String {
    match error {
        Error::TooLarge {
            size,
            limit,
            max_cookies,
        } => format!(
            r#"{{"error":"{}","size":{size},"limit":{limit},"maxCookies":{max_cookies}}}"#,
            json_escape(&error.to_string())
        ),
        Error::SessionTooLarge { size, limit } => format!(
            r#"{{"error":"{}","size":{size},"limit":{limit}}}"#,
            json_escape(&error.to_string())
        ),
        _ => opaque_body(error),
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&'static str, &str)]) -> http::Response<()> {
        let mut r = http::Response::new(());
        for (k, v) in headers {
            r.append(k, Cow::Owned(v.to_string()));
        }
        r
    }

    #[test]
    fn fixed_text_is_stored_as_is_and_invalid_text_is_dropped_not_a_panic() {
        let mut r = http::Response::new(());
        r.append(VARY, Cow::Borrowed("Cookie"));
        r.set(CACHE_CONTROL, Cow::Borrowed("private"));
        // `HeaderValue::from_static` would panic on these: they are checked instead.
        r.append(VARY, Cow::Borrowed("bad\nvalue"));
        r.append(VARY, Cow::Owned("also\rbad".to_string()));
        assert_eq!(values(&r, VARY), ["Cookie"]);
        assert_eq!(values(&r, CACHE_CONTROL), ["private"]);
        assert!(is_static_value("max-age=0, \tprivate"));
        assert!(!is_static_value("\u{7f}"));
    }

    fn values(r: &http::Response<()>, name: &'static str) -> Vec<String> {
        r.values(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    #[test]
    fn a_session_cookie_makes_the_response_private_keeping_stricter_directives() {
        let mut r = response(&[]);
        apply(&mut r, vec!["s=v".into()], false, false);
        assert_eq!(values(&r, CACHE_CONTROL), ["private"]);
        assert_eq!(values(&r, SET_COOKIE), ["s=v"]);
        assert!(values(&r, VARY).is_empty());

        let mut r = response(&[
            (CACHE_CONTROL, "max-age=60"),
            (CACHE_CONTROL, "must-revalidate"),
        ]);
        apply(&mut r, vec!["s=v".into()], false, false);
        assert_eq!(
            values(&r, CACHE_CONTROL),
            ["max-age=60, must-revalidate, private"]
        );

        for strict in [
            "no-store",
            "private",
            "Private, max-age=5",
            r#"private="set-cookie""#,
        ] {
            let mut r = response(&[(CACHE_CONTROL, strict)]);
            apply(&mut r, vec!["s=v".into()], false, false);
            assert_eq!(values(&r, CACHE_CONTROL), [strict], "{strict}");
        }
    }

    #[test]
    fn a_public_response_never_carries_a_session_cookie() {
        for public in ["public, max-age=3600", "s-maxage=60", "PUBLIC"] {
            let mut r = response(&[(CACHE_CONTROL, public)]);
            apply(&mut r, vec!["s=v".into()], false, true);
            assert!(values(&r, SET_COOKIE).is_empty(), "{public}");
            assert_eq!(values(&r, CACHE_CONTROL), [public]);
            assert_eq!(values(&r, VARY), ["Cookie"]);
        }
    }

    #[test]
    fn caching_for_cdns_only_counts_as_public() {
        for (field, value) in [
            (CDN_CACHE_CONTROL, "max-age=600"),
            (SURROGATE_CONTROL, "max-age=3600"),
            (CDN_CACHE_CONTROL, "public"),
        ] {
            let mut r = response(&[(field, value)]);
            apply(&mut r, vec!["s=v".into()], false, false);
            assert!(values(&r, SET_COOKIE).is_empty(), "{field}: {value}");
        }
        for (field, value) in [
            (CDN_CACHE_CONTROL, "no-store"),
            (SURROGATE_CONTROL, "max-age=60, no-store"),
            (CDN_CACHE_CONTROL, "private"),
        ] {
            let mut r = response(&[(field, value)]);
            apply(&mut r, vec!["s=v".into()], false, false);
            assert_eq!(values(&r, SET_COOKIE), ["s=v"], "{field}: {value}");
        }
    }

    #[test]
    fn a_logout_on_a_public_response_is_sent_and_not_cached() {
        let mut r = response(&[
            (CACHE_CONTROL, "public, max-age=3600"),
            (CDN_CACHE_CONTROL, "max-age=600"),
        ]);
        apply(&mut r, vec!["s=; Max-Age=0".into()], true, true);
        assert_eq!(values(&r, SET_COOKIE), ["s=; Max-Age=0"]);
        assert_eq!(values(&r, CACHE_CONTROL), ["no-store"]);
        assert_eq!(values(&r, CDN_CACHE_CONTROL), ["no-store"]);
        assert!(
            values(&r, SURROGATE_CONTROL).is_empty(),
            "no field is added"
        );
    }

    #[test]
    fn vary_cookie_once() {
        let mut r = response(&[(VARY, "Accept-Encoding")]);
        apply(&mut r, Vec::new(), false, true);
        assert_eq!(values(&r, VARY), ["Accept-Encoding", "Cookie"]);
        assert!(
            values(&r, CACHE_CONTROL).is_empty(),
            "no cookie, no Cache-Control"
        );
        for already in ["cookie", "Accept, Cookie", "*"] {
            let mut r = response(&[(VARY, already)]);
            apply(&mut r, Vec::new(), false, true);
            assert_eq!(values(&r, VARY), [already]);
        }
    }

    #[test]
    fn error_bodies_are_opaque_but_for_sizes() {
        let e = Error::Serialize {
            key: "secret_key_name".into(),
            reason: "serde detail".into(),
        };
        let body = error_body(&e);
        if cfg!(debug_assertions) {
            assert!(
                body.starts_with(r#"{"error":"internal server error","hint":"#),
                "{body}"
            );
        } else {
            assert_eq!(body, OPAQUE_BODY);
        }
        let e = Error::TooLarge {
            size: 5000,
            limit: 4096,
            max_cookies: 1,
        };
        let body = error_body(&e);
        assert!(
            body.contains(r#""size":5000,"limit":4096,"maxCookies":1"#),
            "{body}"
        );
        assert!(body.starts_with(r#"{"error":"session is"#), "{body}");
    }
}
