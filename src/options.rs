//! Cookie options: the session cookie's name and attributes, and how many cookies a session
//! may span. Plain data, checked once when the engine is built.

use std::fmt;

use crate::error::Error;
use crate::wire::request::parse_index;
use crate::wire::set_cookie::{MAX_CHUNKS, MAX_COOKIE_BYTES};

/// The cookie `SameSite` attribute.
///
/// This crate's own type, so that configuring it does not tie an application to the `cookie`
/// crate version this crate uses (actix-web 4 re-exports cookie 0.16, for instance).
///
/// * `Lax` (the default): the cookie goes with same-site requests and with top-level
///   navigations from other sites (following a link), not with cross-site subrequests or
///   form posts. Right for most session cookies.
/// * `Strict`: never sent from another site, not even when following a link: a user arriving
///   from elsewhere looks logged out on that first page.
/// * `None`: sent with every cross-site request; requires `Secure`. Only for sessions that
///   must work inside other sites' frames, and then CSRF protection is your job.
///
/// ```
/// use sealed_session::{SameSite, Secret, SessionConfig};
/// assert_eq!(SameSite::default(), SameSite::Lax);
/// let engine = SessionConfig::new(Secret::generate()).same_site(SameSite::Strict).build().unwrap();
/// assert_eq!(engine.cookie().same_site(), SameSite::Strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    #[default]
    Lax,
    /// `SameSite=None` (requires `Secure`).
    None,
}

impl SameSite {
    pub(crate) fn to_cookie(self) -> cookie::SameSite {
        match self {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        }
    }
}

/// Cookie name and attributes, and how many cookies a session may span.
///
/// Secure defaults: `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, no `Domain`, one cookie.
/// Build it through [`SessionConfig::new`](crate::SessionConfig::new); the checks
/// (name syntax, `__Host-`/`__Secure-` prefix rules) run when the configuration is built.
///
/// ```
/// let engine = sealed_session::SessionConfig::new(sealed_session::Secret::generate()).build().unwrap();
/// let c = engine.cookie();
/// assert_eq!(c.name(), "__Host-session");
/// assert!(c.secure() && c.http_only());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CookieConfig {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) persistent: bool,
    pub(crate) max_cookies: usize,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig {
            name: "session".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            persistent: true,
            max_cookies: 1,
        }
    }
}

impl fmt::Debug for CookieConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieConfig")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("domain", &self.domain)
            .field("secure", &self.secure)
            .field("http_only", &self.http_only)
            .field("same_site", &self.same_site)
            .field("persistent", &self.persistent)
            .field("max_cookies", &self.max_cookies)
            .finish()
    }
}

impl CookieConfig {
    /// The cookie name (of the first chunk; further chunks append `.1`, `.2`, …).
    ///
    /// ```
    /// # use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate()).cookie_name("sid").build().unwrap();
    /// assert_eq!(engine.cookie().name(), "sid");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether cookies carry `Secure`.
    ///
    /// ```
    /// assert!(sealed_session::CookieConfig::default().secure());
    /// ```
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether cookies carry `HttpOnly`.
    ///
    /// ```
    /// assert!(sealed_session::CookieConfig::default().http_only());
    /// ```
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The most cookies a session may span.
    ///
    /// ```
    /// assert_eq!(sealed_session::CookieConfig::default().max_cookies(), 1);
    /// ```
    pub fn max_cookies(&self) -> usize {
        self.max_cookies
    }

    /// The `SameSite` attribute.
    ///
    /// ```
    /// use sealed_session::{CookieConfig, SameSite};
    /// assert_eq!(CookieConfig::default().same_site(), SameSite::Lax);
    /// ```
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// Whether cookies persist (`Max-Age`) or end with the browser session.
    ///
    /// ```
    /// assert!(sealed_session::CookieConfig::default().persistent());
    /// ```
    pub fn persistent(&self) -> bool {
        self.persistent
    }

    /// The name [`SessionConfig`](crate::SessionConfig) gives the cookie when none is set:
    /// `__Host-session` when the attributes allow the prefix, `session` otherwise.
    pub(crate) fn default_name(&self) -> &'static str {
        if self.secure && self.path == "/" && self.domain.is_none() {
            "__Host-session"
        } else {
            "session"
        }
    }

    /// Checks the configuration; called when a [`SessionEngine`](crate::SessionEngine) is built.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Config(m));
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return bad(format!(
                "cookie name {:?} is not a valid cookie name: use letters, digits and !#$%&'*+-.^_`|~",
                self.name
            ));
        }
        if !(1..=MAX_CHUNKS).contains(&self.max_cookies) {
            return bad(format!(
                "max_cookies is {}; it must be between 1 and {MAX_CHUNKS}",
                self.max_cookies
            ));
        }
        if self.name.len() + 8 > MAX_COOKIE_BYTES / 2 {
            return bad("the cookie name is too long to leave room for a session value".into());
        }
        if !self.path.starts_with('/') || !self.path.bytes().all(is_attr_byte) {
            return bad(format!(
                "cookie path {:?} must start with '/' and hold no ';' or control characters",
                self.path
            ));
        }
        if let Some(d) = &self.domain {
            if d.is_empty() || !d.bytes().all(is_attr_byte) {
                return bad(format!("cookie domain {d:?} is not a valid domain"));
            }
        }
        if self.same_site == SameSite::None && !self.secure {
            return bad(
                "SameSite=None requires Secure (browsers reject it otherwise): keep secure(true)"
                    .into(),
            );
        }
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            if !self.secure || self.path != "/" || self.domain.is_some() {
                return bad(format!(
                    "cookie name {:?} has the __Host- prefix, which browsers accept only with \
                     Secure, Path=/ and no Domain: set secure(true), path(\"/\") and no domain, \
                     or drop the prefix",
                    self.name
                ));
            }
        } else if lower.starts_with("__secure-") && !self.secure {
            return bad(format!(
                "cookie name {:?} has the __Secure- prefix, which browsers accept only with \
                 Secure: set secure(true) or drop the prefix",
                self.name
            ));
        }
        Ok(())
    }

    /// Which chunk of this session a cookie name is: `Some(0)` for the name itself,
    /// `Some(i)` for `name.i` when this configuration could have written it
    /// (`i < max_cookies`), `None` for any other cookie. Cookies this configuration could not
    /// have written are never read and never removed.
    ///
    /// ```
    /// use sealed_session::{Secret, SessionConfig};
    /// let engine = SessionConfig::new(Secret::generate())
    ///     .cookie_name("session")
    ///     .max_cookies(3)
    ///     .build()
    ///     .unwrap();
    /// let c = engine.cookie();
    /// assert_eq!(c.chunk_index("session"), Some(0));
    /// assert_eq!(c.chunk_index("session.2"), Some(2));
    /// assert_eq!(c.chunk_index("session.3"), None); // max_cookies(3) writes .1 and .2 only
    /// assert_eq!(c.chunk_index("session.02"), None);
    /// assert_eq!(c.chunk_index("sessions"), None);
    /// ```
    pub fn chunk_index(&self, cookie_name: &str) -> Option<usize> {
        self.chunk_index_bytes(cookie_name.as_bytes())
    }

    pub(crate) fn chunk_index_bytes(&self, cookie_name: &[u8]) -> Option<usize> {
        match cookie_name.strip_prefix(self.name.as_bytes())? {
            [] => Some(0),
            [b'.', digits @ ..] => {
                parse_index(digits).filter(|i| (1..self.max_cookies).contains(i))
            }
            _ => None,
        }
    }
}

/// RFC 6265 token characters (allowed in a cookie name).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes allowed in a Path or Domain attribute value.
fn is_attr_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && b != b';'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::set_cookie::tests::cfg;

    #[test]
    fn prefix_rules_checked_at_build() {
        let host = |secure, path: &str, domain: Option<&str>| CookieConfig {
            name: "__Host-s".into(),
            secure,
            path: path.into(),
            domain: domain.map(Into::into),
            ..CookieConfig::default()
        };
        assert!(host(true, "/", None).validate().is_ok());
        assert!(host(false, "/", None).validate().is_err());
        assert!(host(true, "/app", None).validate().is_err());
        assert!(host(true, "/", Some("example.com")).validate().is_err());
        let sec = |secure| CookieConfig {
            name: "__Secure-s".into(),
            secure,
            domain: Some("example.com".into()),
            ..CookieConfig::default()
        };
        assert!(sec(true).validate().is_ok());
        let e = sec(false).validate().unwrap_err();
        assert!(e.to_string().contains("set secure(true)"), "{e}");
        assert!(CookieConfig {
            name: "a b".into(),
            ..CookieConfig::default()
        }
        .validate()
        .is_err());
        assert!(cfg(0).validate().is_err());
        assert!(cfg(MAX_CHUNKS + 1).validate().is_err());
    }
}
