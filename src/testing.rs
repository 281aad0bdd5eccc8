//! A test kit for applications: a clock a test moves by hand, a cookie jar that keeps the
//! session's cookies between requests as a browser does, and the `Cookie` header of a
//! client that already holds a given session (a logged-in request without going through
//! the login route).
//!
//! ```
//! use std::time::Duration;
//! use sealed_session::testing::{TestClock, TestJar, cookie_header};
//! use sealed_session::{Secret, SessionBuilder, SessionState};
//!
//! let clock = TestClock::new(1_800_000_000);
//! let engine = SessionBuilder::new(Secret::generate())
//!     .idle_timeout(Duration::from_secs(1800))
//!     .clock(clock.source())
//!     .build()?;
//!
//! // A client already logged in as user 7.
//! let mut user = SessionState::new();
//! user.insert("user_id", &7u64)?;
//! let mut jar = TestJar::new();
//! jar.set_header(&cookie_header(&engine, &mut user)?);
//!
//! // A request, as an adapter serves it: the jar keeps what the response sets.
//! let session = engine.start([jar.cookie_header().as_bytes()]);
//! assert_eq!(session.get::<u64>("user_id")?, Some(7));
//! let mut response = http::Response::new(());
//! session.finish(&mut response).unwrap();
//! jar.apply_response(&response);
//!
//! // Half an hour later the session has expired.
//! clock.advance(Duration::from_secs(1801));
//! let session = engine.start([jar.cookie_header().as_bytes()]);
//! assert_eq!(session.get::<u64>("user_id")?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::engine::SessionEngine;
use crate::error::Error;
use crate::state::SessionState;

/// A clock a test sets and moves by hand, in Unix seconds; give
/// [`source`](TestClock::source) to [`SessionBuilder::clock`](crate::SessionBuilder::clock).
/// Clones share one time.
///
/// ```
/// # use std::time::Duration;
/// let clock = sealed_session::testing::TestClock::new(1000);
/// let read = clock.source();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(read(), 1060);
/// ```
#[derive(Debug, Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// A clock that reads `unix_secs` until moved.
    pub fn new(unix_secs: u64) -> TestClock {
        TestClock(Arc::new(AtomicU64::new(unix_secs)))
    }

    /// The time it reads now.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Sets the time.
    pub fn set(&self, unix_secs: u64) {
        self.0.store(unix_secs, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    /// The clock as [`SessionBuilder::clock`](crate::SessionBuilder::clock) takes it.
    pub fn source(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let time = Arc::clone(&self.0);
        move || time.load(Ordering::SeqCst)
    }
}

/// A browser's cookie jar for one site, as far as sessions need it: it applies a response's
/// `Set-Cookie` headers (new values, chunks, refresh stamps, removals by `Max-Age=0` or a
/// past `Expires`) and gives the `Cookie` header of the next request.
///
/// It keeps cookies in the order they were first set, as browsers send cookies of equal
/// paths, and ignores `Path`, `Domain` and `Secure`: every cookie goes with every request.
/// Forgetting to apply a response is the usual mistake in hand-written tests: after an idle
/// refresh, for instance, a response carries only the refresh stamp (`<name>.t`), and a
/// jar that replaced all its cookies with the response's would lose the session.
///
/// ```
/// let mut jar = sealed_session::testing::TestJar::new();
/// jar.apply("session=AQ1; HttpOnly; Secure; Path=/; Max-Age=60");
/// jar.apply("session.t=AQ2; Path=/; Max-Age=60");
/// assert_eq!(jar.cookie_header(), "session=AQ1; session.t=AQ2");
/// jar.apply("session.t=; Path=/; Max-Age=0");
/// assert_eq!(jar.cookie_header(), "session=AQ1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct TestJar {
    cookies: Vec<(String, String)>,
}

impl TestJar {
    /// An empty jar.
    pub fn new() -> TestJar {
        TestJar::default()
    }

    /// Applies one `Set-Cookie` header value. Text that is not a cookie is ignored.
    pub fn apply(&mut self, set_cookie: &str) {
        let Ok(cookie) = cookie::Cookie::parse(set_cookie) else {
            return;
        };
        let expired = cookie
            .max_age()
            .is_some_and(|a| a <= cookie::time::Duration::ZERO)
            || cookie
                .expires_datetime()
                .is_some_and(|t| t <= cookie::time::OffsetDateTime::now_utc());
        let name = cookie.name();
        let kept = self.cookies.iter().position(|(n, _)| n == name);
        match (kept, expired) {
            (Some(i), true) => {
                self.cookies.remove(i);
            }
            (Some(i), false) => {
                if let Some(slot) = self.cookies.get_mut(i) {
                    slot.1 = cookie.value().to_owned();
                }
            }
            (None, true) => {}
            (None, false) => self
                .cookies
                .push((name.to_owned(), cookie.value().to_owned())),
        }
    }

    /// Applies every `Set-Cookie` value of a response, given as bytes (any framework's
    /// header values).
    pub fn apply_all<'a>(&mut self, set_cookies: impl IntoIterator<Item = &'a [u8]>) {
        for value in set_cookies {
            if let Ok(text) = std::str::from_utf8(value) {
                self.apply(text);
            }
        }
    }

    /// Applies every `Set-Cookie` header of an `http::Response` (axum, hyper, tower).
    pub fn apply_response<B>(&mut self, response: &http::Response<B>) {
        let values = response.headers().get_all(http::header::SET_COOKIE);
        self.apply_all(values.iter().map(http::HeaderValue::as_bytes));
    }

    /// Sets the cookies of a `Cookie` header (`name=value; name2=value2`), as a client that
    /// already holds them (see [`cookie_header`]).
    pub fn set_header(&mut self, cookie_header: &str) {
        for pair in cookie_header.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                self.apply(&format!("{name}={value}"));
            }
        }
    }

    /// The `Cookie` header the next request carries (empty when the jar is).
    pub fn cookie_header(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.cookies {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        out
    }

    /// The value of cookie `name`, if the jar holds it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the jar holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }
}

/// The `Cookie` header of a client holding `session` as a new session that `engine` sealed
/// now (chunked when it needs several cookies): a logged-in request without going through
/// the login route.
///
/// ```
/// # use sealed_session::{Secret, SessionBuilder, SessionState, testing::cookie_header};
/// let engine = SessionBuilder::new(Secret::generate()).cookie_name("sid").build()?;
/// let mut admin = SessionState::new();
/// admin.insert("role", "admin")?;
/// let header = cookie_header(&engine, &mut admin)?;
/// assert!(header.starts_with("sid="));
/// let (session, _) = engine.load([header.as_bytes()]);
/// assert_eq!(session.get::<String>("role")?.as_deref(), Some("admin"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cookie_header(engine: &SessionEngine, session: &mut SessionState) -> Result<String, Error> {
    let mut jar = TestJar::new();
    for set_cookie in engine.set_cookies(session)? {
        jar.apply(&set_cookie);
    }
    Ok(jar.cookie_header())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jar_keeps_order_replaces_in_place_and_removes() {
        let mut jar = TestJar::new();
        jar.apply("a=1; Path=/");
        jar.apply("b=2; Path=/; Max-Age=10");
        jar.apply("a=3; Path=/");
        assert_eq!(jar.cookie_header(), "a=3; b=2", "replaced where it was");
        jar.apply("a=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT");
        assert_eq!(jar.cookie_header(), "b=2");
        jar.apply("not a cookie");
        jar.apply_all([&b"c=4"[..], &b"\xff=5"[..]]);
        assert_eq!(jar.cookie_header(), "b=2; c=4");
        assert_eq!(jar.get("c"), Some("4"));
    }
}
