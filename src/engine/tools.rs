//! Tools and tests: opening and sealing outside a request's lifecycle.

use super::{LoadOutcome, SessionEngine};
use crate::error::Error;
use crate::state::SessionState;
use crate::wire::request::RequestCookies;

/// # For tools and tests
///
/// Opening and sealing outside a request's lifecycle: the inspector, size tables, and tests
/// that need a client holding a given session. Handlers use [`Session`](crate::Session).
impl SessionEngine {
    /// Opens the session carried by these `Cookie` header values, as a request would.
    ///
    /// Never fails: a missing cookie gives a new session and [`LoadOutcome::NoCookie`], a
    /// bad or expired one a new session and a [`LoadOutcome::Rejected`] reason.
    ///
    /// ```
    /// # use sealed_session::{LoadOutcome, Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// let (session, outcome) = e.load([&b"theme=dark"[..]]);
    /// assert_eq!(outcome, LoadOutcome::NoCookie);
    /// assert!(session.is_empty());
    /// ```
    pub fn load<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> (SessionState, LoadOutcome) {
        let writer = self.writer();
        let request = RequestCookies::scan(
            self.cookie().name(),
            writer.max_cookies(),
            None,
            cookie_headers,
        );
        let opened = self.open_request(&request, self.now());
        (opened.state, opened.outcome)
    }

    /// Seals `session` exactly as a response would, but returns the cookie value instead of
    /// headers (for tools and size tables).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionState};
    /// let e = SessionBuilder::new(Secret::generate()).build().unwrap();
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
    /// session): for tests that need a client holding a given session, such as "cookies
    /// issued by the previous release still open".
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder, SessionState};
    /// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// let mut s = SessionState::new();
    /// s.insert("user_id", &7u64).unwrap();
    /// let set_cookies = engine.set_cookies(&mut s).unwrap();
    /// let pair = set_cookies[0].split(';').next().unwrap();
    /// let (back, _) = engine.load([pair.as_bytes()]);
    /// assert_eq!(back.get::<u64>("user_id").unwrap(), Some(7));
    /// ```
    pub fn set_cookies(&self, session: &mut SessionState) -> Result<Vec<String>, Error> {
        if session.is_blank() {
            return Ok(Vec::new()); // an empty new session sends no cookie
        }
        let now = self.now();
        let value = self.seal_at(session, now)?;
        self.writer()
            .set_cookies(&value, self.max_age(session, now), 0)
    }

    /// Opens one sealed cookie value (unchunked) as a request would.
    ///
    /// ```
    /// # use sealed_session::{Error, Rejection, Secret, SessionBuilder};
    /// let e = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// assert_eq!(e.open_value("AQ").unwrap_err(), Error::Rejected(Rejection::TooShort));
    /// ```
    pub fn open_value(&self, value: &str) -> Result<SessionState, Error> {
        let now = self.now();
        let keys = self.keys_at(now);
        let (state, _, _) = self.open_sealed(&keys, value, std::iter::empty(), now)?;
        Ok(state)
    }
}
