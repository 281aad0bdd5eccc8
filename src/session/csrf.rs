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

/// What an adapter's CSRF layer does with a request, from its method and headers alone.
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) enum CsrfGate {
    /// A safe method: through, untouched.
    Pass,
    /// Another origin, or no session layer: the 403.
    Refuse,
    /// The token decides: await [`Session::revalidate`] (the token is the session's, so a
    /// revoked session's token must not pass), then [`Session::verify_csrf`] the token of
    /// the header, or of the form field when the header is absent and `form` is true.
    Check {
        /// The request's session.
        session: Session,
        /// The body is a URL-encoded form, where the token may be a field.
        form: bool,
    },
}

/// The CSRF layers' first step: a safe method passes; an unsafe one from another origin
/// (`Sec-Fetch-Site`, `Origin`) or without a session is refused; any other needs its token
/// checked. `header` reads one of the request's headers by its lowercase name; `allowed` are
/// extra origins.
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) fn csrf_gate<'r>(
    session: Option<Session>,
    method: &str,
    header: impl Fn(&'static str) -> Option<&'r [u8]>,
    allowed: &[String],
) -> CsrfGate {
    if !csrf::is_unsafe(method) {
        return CsrfGate::Pass;
    }
    if !csrf::origin_allowed(
        header("origin"),
        header("sec-fetch-site"),
        header("host"),
        allowed,
    ) {
        return CsrfGate::Refuse;
    }
    match session {
        Some(session) => CsrfGate::Check {
            session,
            form: header(csrf::TOKEN_HEADER).is_none()
                && header("content-type").is_some_and(csrf::is_form),
        },
        None => CsrfGate::Refuse,
    }
}

#[cfg(any(feature = "actix", feature = "axum"))]
impl Session {
    /// The token check of [`CsrfGate::Check`]: revalidates the session if due, then
    /// verifies `token`. Anything that fails (a revoked session, no token) is `false`.
    pub(crate) async fn csrf_token_passes(&self, token: Option<&[u8]>) -> bool {
        if self.revalidate().await.is_err() {
            return false;
        }
        token
            .and_then(|t| std::str::from_utf8(t).ok())
            .is_some_and(|t| self.verify_csrf(t).unwrap_or(false))
    }
}
