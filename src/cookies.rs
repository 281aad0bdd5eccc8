//! Cookie transport on plain `http` types: finding the session cookie(s) in a request,
//! building `Set-Cookie` values, the per-cookie size limit and chunking.
//!
//! Browsers keep a cookie only if its name and value together are at most 4096 bytes; a
//! larger one is dropped *silently*, so the check here is on the final bytes. A sealed value
//! too large for one cookie can be split across up to `max_cookies` cookies:
//!
//! ```text
//! one cookie:   session=<value>
//! n chunks:     session=<n>.<part 0>   session.1=<part 1>   ...   session.<n-1>=<part n-1>
//! ```
//!
//! The count prefix is unambiguous because `.` is not in the base64url alphabet, and it lets
//! the reader ignore stale chunks a client failed to delete.

use std::fmt;

use cookie::{Cookie, SameSite};
use http::HeaderValue;

use crate::error::{Error, Rejection};

/// The most bytes of name plus value a browser keeps in one cookie.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The most cookies one session may be split across.
pub const MAX_CHUNKS: usize = 32;

/// The reader stops after this many bytes of `Cookie` headers: more is a hostile or broken
/// client (servers cap request headers lower than this anyway).
pub const MAX_HEADER_BYTES: usize = 256 * 1024;

/// The reader stops after this many cookies in a request (browsers send at most ~180 per site).
pub const MAX_REQUEST_COOKIES: usize = 1024;

/// Cookie name and attributes, and how many cookies a session may span.
///
/// Secure defaults: `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, no `Domain`, one cookie.
/// Build it through [`SessionConfig::new`](crate::SessionConfig::new); the checks
/// (name syntax, `__Host-`/`__Secure-` prefix rules) run when the configuration is built.
///
/// ```
/// let c = sealed_session::CookieConfig::default();
/// assert_eq!(c.name(), "session");
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
    /// assert_eq!(sealed_session::CookieConfig::default().name(), "session");
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

    /// Whether cookies persist (`Max-Age`) or end with the browser session.
    ///
    /// ```
    /// assert!(sealed_session::CookieConfig::default().persistent());
    /// ```
    pub fn persistent(&self) -> bool {
        self.persistent
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
    /// `Some(i)` for `name.i`, `None` for any other cookie.
    ///
    /// ```
    /// let c = sealed_session::CookieConfig::default();
    /// assert_eq!(c.chunk_index("session"), Some(0));
    /// assert_eq!(c.chunk_index("session.2"), Some(2));
    /// assert_eq!(c.chunk_index("session.02"), None);
    /// assert_eq!(c.chunk_index("sessions"), None);
    /// ```
    pub fn chunk_index(&self, cookie_name: &str) -> Option<usize> {
        self.chunk_index_bytes(cookie_name.as_bytes())
    }

    fn chunk_index_bytes(&self, cookie_name: &[u8]) -> Option<usize> {
        match cookie_name.strip_prefix(self.name.as_bytes())? {
            [] => Some(0),
            [b'.', digits @ ..] => parse_index(digits).filter(|i| (1..MAX_CHUNKS).contains(i)),
            _ => None,
        }
    }

    /// The name of chunk `i` (0 is the plain name).
    fn chunk_name(&self, i: usize) -> ChunkName<'_> {
        ChunkName(&self.name, i)
    }

    /// Bytes chunk `i` can carry out of a `total`-chunk split.
    fn capacity(&self, i: usize, total: usize) -> usize {
        let name = self.chunk_name(i).len();
        let prefix = if i == 0 && total > 1 {
            digits(total) + 1
        } else {
            0
        };
        MAX_COOKIE_BYTES.saturating_sub(name + prefix)
    }

    /// The longest sealed value a request may carry under this configuration.
    pub(crate) fn max_value_len(&self) -> usize {
        (0..self.max_cookies)
            .map(|i| self.capacity(i, self.max_cookies))
            .sum()
    }

    /// Finds this session's cookies in `Cookie` header values, in bounded time and with no
    /// allocation. The first occurrence of each name wins (browsers send the most specific
    /// path first).
    pub(crate) fn find<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> Result<Found<'h>, Rejection> {
        let mut found = Found::default();
        let mut bytes = 0usize;
        let mut count = 0usize;
        for header in headers {
            bytes += header.len();
            if bytes > MAX_HEADER_BYTES {
                return Err(Rejection::HeaderTooLarge);
            }
            for pair in header.split(|&b| b == b';') {
                count += 1;
                if count > MAX_REQUEST_COOKIES {
                    return Err(Rejection::HeaderTooLarge);
                }
                let pair = pair.trim_ascii();
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let (k, v) = (pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii());
                let Some(index) = self.chunk_index_bytes(k) else {
                    continue;
                };
                if found.present & (1 << index) != 0 {
                    continue;
                }
                // Base64url and the chunk prefix are ASCII; anything else cannot be ours.
                let Ok(v) = std::str::from_utf8(v) else {
                    found.present |= 1 << index;
                    continue;
                };
                found.present |= 1 << index;
                found.chunks[index] = Some(v);
            }
        }
        Ok(found)
    }

    /// Splits a sealed value into `Set-Cookie` values for `max_age` seconds (`None`: a
    /// browser-session cookie), removing chunks the request carried that are no longer needed.
    pub(crate) fn set_cookies(
        &self,
        value: &str,
        max_age: Option<u64>,
        present: u64,
    ) -> Result<Vec<HeaderValue>, Error> {
        let total = self.chunks_needed(value.len())?;
        let mut out = Vec::with_capacity(total + present.count_ones() as usize);
        let mut rest = value;
        for i in 0..total {
            let cap = self.capacity(i, total);
            let (part, tail) = rest.split_at(cap.min(rest.len()));
            rest = tail;
            let name = self.chunk_name(i).to_string();
            let h = if i == 0 && total > 1 {
                self.header(&name, &format!("{total}.{part}"), max_age)
            } else {
                self.header(&name, part, max_age)
            };
            out.push(h?);
        }
        debug_assert!(rest.is_empty());
        out.extend(self.removals(present & !((1u64 << total) - 1))?);
        Ok(out)
    }

    /// `Set-Cookie` values that delete the chunks whose bits are set in `mask`.
    pub(crate) fn removals(&self, mask: u64) -> Result<Vec<HeaderValue>, Error> {
        (0..MAX_CHUNKS)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| {
                let name = self.chunk_name(i).to_string();
                let mut c = self.base(&name, "");
                c.make_removal();
                to_header(&c)
            })
            .collect()
    }

    fn chunks_needed(&self, len: usize) -> Result<usize, Error> {
        for total in 1..=self.max_cookies {
            let cap: usize = (0..total).map(|i| self.capacity(i, total)).sum();
            if len <= cap {
                return Ok(total);
            }
        }
        let n = self.max_cookies;
        let overhead: usize = (0..n).map(|i| MAX_COOKIE_BYTES - self.capacity(i, n)).sum();
        Err(Error::TooLarge {
            size: len + overhead,
            limit: n * MAX_COOKIE_BYTES,
            max_cookies: n,
        })
    }

    /// A cookie with this configuration's attributes, borrowing every string so that the
    /// only allocation is the final header text.
    fn base<'a>(&'a self, name: &'a str, value: &'a str) -> Cookie<'a> {
        let mut c = Cookie::new(name, value);
        c.set_path(self.path.as_str());
        if let Some(d) = &self.domain {
            c.set_domain(d.as_str());
        }
        c.set_secure(self.secure);
        c.set_http_only(self.http_only);
        c.set_same_site(self.same_site);
        c
    }

    fn header(&self, name: &str, value: &str, max_age: Option<u64>) -> Result<HeaderValue, Error> {
        debug_assert!(name.len() + value.len() <= MAX_COOKIE_BYTES);
        let mut c = self.base(name, value);
        if let (true, Some(secs)) = (self.persistent, max_age) {
            let secs = i64::try_from(secs).unwrap_or(i64::MAX);
            c.set_max_age(cookie::time::Duration::seconds(secs));
        }
        to_header(&c)
    }
}

fn to_header(c: &Cookie<'_>) -> Result<HeaderValue, Error> {
    HeaderValue::try_from(c.to_string()).map_err(|_| {
        Error::Config("the cookie path or domain holds bytes not allowed in a header".into())
    })
}

/// The session cookies found in a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found<'h> {
    chunks: [Option<&'h str>; MAX_CHUNKS],
    /// Bit `i` set: the request carried chunk `i` (valid or not).
    pub present: u64,
}

impl<'h> Found<'h> {
    /// The first chunk's value as sent.
    pub fn first(&self) -> Option<&'h str> {
        self.chunks[0]
    }

    /// The sealed value: chunk 0 alone, or the chunks it announces, joined.
    pub fn value(&self) -> Result<Option<std::borrow::Cow<'h, str>>, Rejection> {
        let Some(first) = self.chunks[0] else {
            // Present but not UTF-8: not a value we wrote, so reject it (and have it removed)
            // rather than act as if there were no cookie.
            return if self.present & 1 != 0 {
                Err(Rejection::BadBase64)
            } else {
                Ok(None)
            };
        };
        let Some((count, part0)) = first.split_once('.') else {
            return Ok(Some(first.into()));
        };
        let total = match parse_index(count.as_bytes()) {
            Some(n) if (2..=MAX_CHUNKS).contains(&n) => n,
            _ => return Err(Rejection::BadChunks),
        };
        let mut len = part0.len();
        for chunk in &self.chunks[1..total] {
            len += chunk.ok_or(Rejection::BadChunks)?.len();
        }
        let mut joined = String::with_capacity(len);
        joined.push_str(part0);
        for part in self.chunks[1..total].iter().flatten() {
            joined.push_str(part);
        }
        Ok(Some(joined.into()))
    }
}

struct ChunkName<'a>(&'a str, usize);

impl ChunkName<'_> {
    fn len(&self) -> usize {
        self.0.len() + if self.1 == 0 { 0 } else { 1 + digits(self.1) }
    }
}

impl fmt::Display for ChunkName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            0 => f.write_str(self.0),
            i => write!(f, "{}.{i}", self.0),
        }
    }
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

/// A small decimal index with no sign, no leading zero and at most two digits.
fn parse_index(d: &[u8]) -> Option<usize> {
    match d {
        [a @ b'1'..=b'9'] => Some(usize::from(a - b'0')),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => {
            Some(usize::from(a - b'0') * 10 + usize::from(b - b'0'))
        }
        _ => None,
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

    fn cfg(max: usize) -> CookieConfig {
        CookieConfig {
            max_cookies: max,
            ..CookieConfig::default()
        }
    }

    fn names_and_values(headers: &[HeaderValue]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| {
                let c = Cookie::parse(h.to_str().unwrap().to_string()).unwrap();
                (c.name().to_string(), c.value().to_string())
            })
            .collect()
    }

    #[test]
    fn secure_defaults_on_the_wire() {
        let h = cfg(1).set_cookies("abc", Some(60), 0).unwrap();
        let s = h[0].to_str().unwrap();
        for attr in [
            "session=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(s.contains(attr), "{s}");
        }
    }

    #[test]
    fn exactly_at_the_limit_fits_one_byte_more_does_not() {
        let c = cfg(1);
        let fits = "A".repeat(MAX_COOKIE_BYTES - "session".len());
        let h = c.set_cookies(&fits, None, 0).unwrap();
        let (n, v) = &names_and_values(&h)[0];
        assert_eq!(n.len() + v.len(), MAX_COOKIE_BYTES);
        let over = format!("{fits}A");
        let e = c.set_cookies(&over, None, 0).unwrap_err();
        assert_eq!(
            e,
            Error::TooLarge {
                size: MAX_COOKIE_BYTES + 1,
                limit: MAX_COOKIE_BYTES,
                max_cookies: 1
            }
        );
    }

    #[test]
    fn split_and_reassemble_every_chunk_under_the_limit() {
        let c = cfg(3);
        let value: String = (0..10_000)
            .map(|i| char::from(b'A' + (i % 26) as u8))
            .collect();
        let h = c.set_cookies(&value, Some(10), 0).unwrap();
        let nv = names_and_values(&h);
        assert_eq!(nv.len(), 3);
        for (n, v) in &nv {
            assert!(n.len() + v.len() <= MAX_COOKIE_BYTES);
        }
        assert_eq!(nv[0].0, "session");
        assert_eq!(nv[2].0, "session.2");
        assert!(nv[0].1.starts_with("3."));
        // Browsers may send them in any order, among other cookies.
        let header = format!(
            "other=1; session.2={}; session={}; x=y; session.1={}",
            nv[2].1, nv[0].1, nv[1].1
        );
        let found = c.find([header.as_bytes()]).unwrap();
        assert_eq!(found.present, 0b111);
        assert_eq!(found.value().unwrap().unwrap(), value);
        // One chunk missing: typed rejection.
        let header = format!("session={}; session.2={}", nv[0].1, nv[2].1);
        assert_eq!(
            c.find([header.as_bytes()]).unwrap().value(),
            Err(Rejection::BadChunks)
        );
    }

    #[test]
    fn stale_chunks_are_removed_when_the_session_shrinks() {
        let c = cfg(3);
        let h = c.set_cookies("small", Some(10), 0b111).unwrap();
        let nv = names_and_values(&h);
        assert_eq!(nv[0], ("session".to_string(), "small".to_string()));
        assert_eq!(nv.len(), 3);
        for h in &h[1..] {
            let s = h.to_str().unwrap();
            assert!(s.contains("Max-Age=0") && s.contains("Path=/"), "{s}");
        }
        assert!(h[1].to_str().unwrap().starts_with("session.1="));
    }

    #[test]
    fn too_large_even_chunked_names_the_fix() {
        let c = cfg(2);
        let e = c.set_cookies(&"A".repeat(9000), None, 0).unwrap_err();
        assert!(matches!(
            e,
            Error::TooLarge {
                limit: 8192,
                max_cookies: 2,
                ..
            }
        ));
        assert!(e.to_string().contains("max_cookies(n)"));
    }

    #[test]
    fn exact_name_match_only() {
        let c = cfg(2);
        let f = c
            .find([&b"xsession=1; session_x=2; sessions=3; session.01=4; session.99=5"[..]])
            .unwrap();
        assert_eq!(f.present, 0);
        let f = c
            .find([&b"a=b"[..], &b" session = v1 ; session=v2"[..]])
            .unwrap();
        assert_eq!(f.first(), Some("v1"));
    }

    #[test]
    fn a_non_utf8_session_cookie_is_rejected_not_ignored() {
        let f = cfg(1).find([&b"session=\xc3\x28abc"[..]]).unwrap();
        assert_eq!(f.present, 1);
        assert_eq!(f.value(), Err(Rejection::BadBase64));
    }

    #[test]
    fn reader_is_bounded() {
        let c = cfg(1);
        let many = "a=b;".repeat(MAX_REQUEST_COOKIES + 1);
        assert_eq!(
            c.find([many.as_bytes()]).unwrap_err(),
            Rejection::HeaderTooLarge
        );
        let big = vec![b'a'; MAX_HEADER_BYTES + 1];
        assert_eq!(
            c.find([big.as_slice()]).unwrap_err(),
            Rejection::HeaderTooLarge
        );
    }

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

    #[test]
    fn browser_session_cookie_has_no_max_age() {
        let c = CookieConfig {
            persistent: false,
            ..CookieConfig::default()
        };
        let h = c.set_cookies("v", Some(100), 0).unwrap();
        assert!(!h[0].to_str().unwrap().contains("Max-Age"));
    }
}
