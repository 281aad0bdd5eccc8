//! Cookie options: the session cookie's name and attributes, and how many cookies a session
//! may span. Plain data, set through [`SessionBuilder`](crate::SessionBuilder) and checked
//! once when the engine is built.

use crate::error::ConfigError;
use crate::wire::set_cookie::{Attributes, CookieWriter, MAX_CHUNKS, MAX_COOKIE_BYTES};

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
/// use sealed_session::{SameSite, Secret, SessionBuilder};
/// assert_eq!(SameSite::default(), SameSite::Lax);
/// let engine = SessionBuilder::new(Secret::generate()).same_site(SameSite::Strict).build().unwrap();
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
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The session cookie's name and attributes, and how many cookies a session may span: what
/// an engine was built with ([`SessionEngine::cookie`](crate::SessionEngine::cookie)).
///
/// ```
/// let engine = sealed_session::SessionBuilder::new(sealed_session::Secret::generate()).build().unwrap();
/// let c = engine.cookie();
/// assert_eq!(c.name(), "__Host-session");
/// assert!(c.secure() && c.http_only() && c.persistent());
/// assert_eq!((c.path(), c.domain(), c.max_cookies()), ("/", None, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieOptions {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) persistent: bool,
    pub(crate) max_cookies: usize,
    pub(crate) partitioned: bool,
}

impl CookieOptions {
    /// The cookie name (of the first chunk; further chunks append `.1`, `.2`, …, and the
    /// refresh stamp `.t`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Path` attribute.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Domain` attribute; `None` for a host-only cookie.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Whether cookies carry `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether cookies carry `HttpOnly`.
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// Whether sessions that do not choose otherwise get persistent cookies (`Max-Age`) or
    /// browser-session cookies.
    pub fn persistent(&self) -> bool {
        self.persistent
    }

    /// The most cookies a session may span.
    pub fn max_cookies(&self) -> usize {
        self.max_cookies
    }

    /// Whether cookies carry `Partitioned` (CHIPS: kept per top-level site when the app
    /// runs embedded in another site's page).
    pub fn partitioned(&self) -> bool {
        self.partitioned
    }

    /// The name a builder gives the cookie when none is set: `__Host-session` when the
    /// attributes allow the prefix, `session` otherwise.
    pub(crate) fn default_name(&self) -> &'static str {
        if self.secure && self.path == "/" && self.domain.is_none() {
            "__Host-session"
        } else {
            "session"
        }
    }

    /// Checks the options; called when an engine is built.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return Err(ConfigError::CookieName {
                name: self.name.clone(),
            });
        }
        if !(1..=MAX_CHUNKS).contains(&self.max_cookies) {
            return Err(ConfigError::MaxCookies {
                n: self.max_cookies,
            });
        }
        if self.name.len() + 8 > MAX_COOKIE_BYTES / 2 {
            return Err(ConfigError::CookieNameTooLong {
                len: self.name.len(),
            });
        }
        if !self.path.starts_with('/') || !self.path.bytes().all(is_attr_byte) {
            return Err(ConfigError::CookiePath {
                path: self.path.clone(),
            });
        }
        if let Some(d) = &self.domain
            && (d.is_empty() || !d.bytes().all(is_attr_byte))
        {
            return Err(ConfigError::CookieDomain { domain: d.clone() });
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneNeedsSecure);
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::PartitionedNeedsSecure);
        }
        // Chrome keeps at most 10,240 bytes of partitioned cookies (names and values) per
        // site and partition: a session's chunks and its refresh stamp must fit together.
        if self.partitioned && self.max_cookies * MAX_COOKIE_BYTES + 128 > PARTITION_BYTES {
            return Err(ConfigError::PartitionBudget {
                max_cookies: self.max_cookies,
            });
        }
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            if !self.secure || self.path != "/" || self.domain.is_some() {
                return Err(ConfigError::HostPrefix {
                    name: self.name.clone(),
                });
            }
        } else if lower.starts_with("__secure-") && !self.secure {
            return Err(ConfigError::SecurePrefix {
                name: self.name.clone(),
            });
        }
        Ok(())
    }

    /// Checks another cookie the crate removes (an imported session's): a valid name that
    /// is none of this session's own names, and a path and domain it can write.
    #[cfg(feature = "actix-session-import")]
    pub(crate) fn validate_other(
        &self,
        name: &str,
        path: &str,
        domain: Option<&str>,
    ) -> Result<(), ConfigError> {
        let ours =
            crate::wire::request::cookie_index(self.name.as_bytes(), MAX_CHUNKS, name.as_bytes());
        if name.is_empty() || !name.bytes().all(is_token_byte) || ours.is_some() {
            return Err(ConfigError::LegacyCookieName {
                name: name.to_owned(),
            });
        }
        if !path.starts_with('/') || !path.bytes().all(is_attr_byte) {
            return Err(ConfigError::CookiePath {
                path: path.to_owned(),
            });
        }
        if let Some(d) = domain
            && (d.is_empty() || !d.bytes().all(is_attr_byte))
        {
            return Err(ConfigError::CookieDomain {
                domain: d.to_owned(),
            });
        }
        Ok(())
    }

    /// The `Set-Cookie` writer for these options.
    pub(crate) fn writer(&self) -> CookieWriter {
        CookieWriter::new(
            &self.name,
            self.max_cookies,
            &Attributes {
                path: &self.path,
                domain: self.domain.as_deref(),
                secure: self.secure,
                http_only: self.http_only,
                same_site: self.same_site.as_str(),
                partitioned: self.partitioned,
            },
        )
    }
}

/// The most bytes of partitioned cookies (names and values) Chrome keeps per site and
/// partition.
const PARTITION_BYTES: usize = 10_240;

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

    fn options() -> CookieOptions {
        CookieOptions {
            name: "session".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            persistent: true,
            max_cookies: 1,
            partitioned: false,
        }
    }

    #[test]
    fn prefix_rules_checked_at_build() {
        let host = |secure, path: &str, domain: Option<&str>| CookieOptions {
            name: "__Host-s".into(),
            secure,
            path: path.into(),
            domain: domain.map(Into::into),
            ..options()
        };
        assert!(host(true, "/", None).validate().is_ok());
        assert!(host(false, "/", None).validate().is_err());
        assert!(host(true, "/app", None).validate().is_err());
        assert!(host(true, "/", Some("example.com")).validate().is_err());
        let sec = |secure| CookieOptions {
            name: "__Secure-s".into(),
            secure,
            domain: Some("example.com".into()),
            ..options()
        };
        assert!(sec(true).validate().is_ok());
        let e = sec(false).validate().unwrap_err();
        assert!(e.to_string().contains("set secure(true)"), "{e}");
        assert!(
            CookieOptions {
                name: "a b".into(),
                ..options()
            }
            .validate()
            .is_err()
        );
        let max = |n| CookieOptions {
            max_cookies: n,
            ..options()
        };
        assert!(max(0).validate().is_err());
        assert!(max(MAX_CHUNKS + 1).validate().is_err());
    }

    #[test]
    fn partitioned_cookies_need_secure_and_fit_chromes_partition_budget() {
        let p = |secure, max_cookies| CookieOptions {
            partitioned: true,
            secure,
            max_cookies,
            ..options()
        };
        assert!(p(true, 2).validate().is_ok());
        assert_eq!(
            p(false, 1).validate(),
            Err(ConfigError::PartitionedNeedsSecure)
        );
        assert_eq!(
            p(true, 3).validate(),
            Err(ConfigError::PartitionBudget { max_cookies: 3 })
        );
        let header = p(true, 1).writer().set_cookies("v", Some(5), 0).unwrap();
        assert!(
            header[0].contains("; SameSite=Lax; Partitioned; Secure"),
            "{header:?}"
        );
    }
}
