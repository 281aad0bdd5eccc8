//! CSRF tokens through the handle, and the check the adapters' CSRF layers run.

use super::Session;
use crate::csrf;
use crate::error::Error;

impl Session {
    /// A CSRF token for this session, to send with the next unsafe request (a form's hidden
    /// field, or the `X-CSRF-Token` header of a `fetch`). Each call gives a different string,
    /// and each verifies until the session is renewed, regenerated or purged: a login
    /// rotates the secret, so a token handed out before login no longer works after it.
    ///
    /// A session without a secret gets one (a pre-login form gets a token too): the
    /// response then seals a session that holds only it.
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionBuilder};
    /// # let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// # let session = engine.start_headers(&http::HeaderMap::new());
    /// let token = session.csrf_token()?;
    /// assert!(session.verify_csrf(&token)?);
    /// assert_ne!(session.csrf_token()?, token, "masked afresh, still valid");
    /// session.regenerate()?; // at login
    /// assert!(!session.verify_csrf(&token)?);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn csrf_token(&self) -> Result<String, Error> {
        let secret = self.own(|s| s.ensure_csrf_secret())??;
        csrf::mask(&secret)
    }

    /// Whether `token` is a CSRF token of this session (in constant time). The CSRF layers
    /// of the adapters check the `X-CSRF-Token` header themselves; call this for a token that
    /// came in a form field.
    pub fn verify_csrf(&self, token: &str) -> Result<bool, Error> {
        let secret = self.own(|s| s.csrf_secret())?;
        Ok(secret.is_some_and(|secret| csrf::verify(&secret, token.as_bytes())))
    }
}

/// Whether an adapter's CSRF layer lets a request through: a safe method, or an unsafe one
/// whose `Sec-Fetch-Site` and `Origin` pass and whose token verifies. `header` reads one of
/// the request's headers by its lowercase name; `allowed` are extra origins.
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) fn request_allowed<'r>(
    session: Option<&Session>,
    method: &str,
    header: impl Fn(&'static str) -> Option<&'r [u8]>,
    allowed: &[String],
) -> bool {
    if !csrf::is_unsafe(method) {
        return true;
    }
    if !csrf::origin_allowed(
        header("origin"),
        header("sec-fetch-site"),
        header("host"),
        allowed,
    ) {
        return false;
    }
    let (Some(session), Some(token)) = (session, header(csrf::TOKEN_HEADER)) else {
        return false;
    };
    std::str::from_utf8(token)
        .ok()
        .is_some_and(|t| session.verify_csrf(t).unwrap_or(false))
}
