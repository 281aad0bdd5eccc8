//! Tools and tests: opening and sealing outside a request's lifecycle.

#[cfg(doc)]
use super::LoadOutcome;
use super::{Loaded, SessionEngine};
use crate::error::Error;
#[cfg(doc)]
use crate::session::Session;
use crate::state::SessionState;
use crate::wire::request::RequestCookies;

impl SessionEngine {
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
}
