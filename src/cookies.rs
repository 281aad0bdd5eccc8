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

use cookie::Cookie;

use crate::error::{Error, Rejection};

/// The most bytes of name plus value a browser keeps in one cookie.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The most cookies one session may be split across.
pub const MAX_CHUNKS: usize = 32;
// `RequestCookies::heads` looks for the chunk count's dot within the first three bytes.
const _: () = assert!(MAX_CHUNKS < 100);

/// The reader stops after this many bytes of `Cookie` headers: more is a hostile or broken
/// client (servers cap request headers lower than this anyway).
pub const MAX_HEADER_BYTES: usize = 256 * 1024;

/// The reader stops after this many cookies in a request (browsers send at most ~180 per site).
pub const MAX_REQUEST_COOKIES: usize = 1024;

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
    fn to_cookie(self) -> cookie::SameSite {
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

    fn chunk_index_bytes(&self, cookie_name: &[u8]) -> Option<usize> {
        match cookie_name.strip_prefix(self.name.as_bytes())? {
            [] => Some(0),
            [b'.', digits @ ..] => {
                parse_index(digits).filter(|i| (1..self.max_cookies).contains(i))
            }
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

    /// Splits a sealed value into `Set-Cookie` values for `max_age` seconds (`None`: a
    /// browser-session cookie), removing chunks the request carried that are no longer needed.
    pub(crate) fn set_cookies(
        &self,
        value: &str,
        max_age: Option<u64>,
        present: u64,
    ) -> Result<Vec<String>, Error> {
        let total = self.chunks_needed(value.len())?;
        let mut out = Vec::with_capacity(total + present.count_ones() as usize);
        let mut rest = value;
        for i in 0..total {
            let cap = self.capacity(i, total);
            let (part, tail) = rest.split_at(cap.min(rest.len()));
            rest = tail;
            let h = if i == 0 && total > 1 {
                self.header(i, Some(total), part, max_age)
            } else {
                self.header(i, None, part, max_age)
            };
            out.push(h);
        }
        debug_assert!(rest.is_empty());
        out.extend(self.removals(present & !((1u64 << total) - 1)));
        Ok(out)
    }

    /// `Set-Cookie` values that delete the chunks whose bits are set in `mask`.
    pub(crate) fn removals(&self, mask: u64) -> Vec<String> {
        (0..=STAMP)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| {
                let name = self.chunk_name(i).to_string();
                let mut c = self.base(&name, "");
                c.make_removal();
                c.to_string()
            })
            .collect()
    }

    pub(crate) fn chunks_needed(&self, len: usize) -> Result<usize, Error> {
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

    /// The `Set-Cookie` value of a refresh stamp (see FORMAT.md, *Refresh stamps*): the cookie
    /// `<name>.t`, with this configuration's attributes.
    pub(crate) fn stamp_cookie(&self, value: &str, max_age: Option<u64>) -> String {
        self.header(STAMP, None, value, max_age)
    }

    /// The name of the refresh stamp cookie, `<name>.t` (the AAD of a stamp names it).
    pub(crate) fn stamp_name(&self) -> String {
        self.chunk_name(STAMP).to_string()
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
        c.set_same_site(self.same_site.to_cookie());
        c
    }

    /// The `Set-Cookie` text of chunk `index` carrying `value` (prefixed with `count.` when
    /// given: the first of several chunks). Every part is visible ASCII: the name and the
    /// path and domain were checked when the configuration was built, and the value is
    /// base64url.
    ///
    /// Written directly into one `String` of the right size, byte for byte what the `cookie`
    /// crate's `Display` writes for the same cookie (a unit test compares the two): the
    /// crate's formatting machinery cost more than the AEAD on a small session.
    fn header(
        &self,
        index: usize,
        count: Option<usize>,
        value: &str,
        max_age: Option<u64>,
    ) -> String {
        let name = self.chunk_name(index);
        debug_assert!(name.len() + value.len() <= MAX_COOKIE_BYTES);
        let domain = self
            .domain
            .as_deref()
            .map(|d| d.strip_prefix('.').unwrap_or(d));
        let mut h = String::with_capacity(
            name.len() + value.len() + self.path.len() + domain.map_or(0, |d| d.len() + 9) + 80,
        );
        h.push_str(&self.name);
        match index {
            0 => {}
            STAMP => h.push_str(".t"),
            i => {
                h.push('.');
                push_decimal(&mut h, i as u64);
            }
        }
        h.push('=');
        if let Some(count) = count {
            push_decimal(&mut h, count as u64);
            h.push('.');
        }
        h.push_str(value);
        if self.http_only {
            h.push_str("; HttpOnly");
        }
        h.push_str(match self.same_site {
            SameSite::Strict => "; SameSite=Strict",
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
        if self.secure {
            h.push_str("; Secure");
        }
        h.push_str("; Path=");
        h.push_str(&self.path);
        if let Some(d) = domain {
            h.push_str("; Domain=");
            h.push_str(d);
        }
        // The engine decides persistence per session: `None` is a browser-session cookie.
        if let Some(secs) = max_age {
            h.push_str("; Max-Age=");
            push_decimal(&mut h, secs.min(i64::MAX as u64));
        }
        h
    }
}

/// The slot of the refresh stamp cookie `<name>.t` among a request's session cookies (after
/// the chunks), and its bit in [`RequestCookies::present`].
const STAMP: usize = MAX_CHUNKS;

/// The most values for one session cookie name that the reader keeps from a request.
///
/// A request may carry several cookies of the same name: one set by this site, and others
/// planted by a sibling subdomain or a plain-HTTP page for a parent domain or a longer path
/// ("cookie tossing"). The reader tries each rather than trusting the first.
pub const MAX_CANDIDATES: usize = 4;

/// The most sealed values (candidates, or combinations of chunk candidates) one request may
/// make the reader try to open: each costs at most one AEAD open of a 4 KB value.
pub const MAX_ATTEMPTS: usize = 8;

/// The session cookies a request carried, copied out of its `Cookie` headers by one bounded
/// scan, so that a request handle can open them later without borrowing the request.
#[derive(Clone, Default)]
pub(crate) struct RequestCookies {
    /// Every candidate value, concatenated; the parts hold ranges into it. Checked to be
    /// UTF-8 only when read (most requests never read them).
    buf: Vec<u8>,
    /// The first part, and any further ones: a request usually carries one session cookie,
    /// so it costs no allocation of its own.
    first: Option<Part>,
    more: Vec<Part>,
    /// Bit `i` set: the request carried chunk `i` (usable or not).
    present: u64,
    /// The scan gave up (too many cookie bytes or cookies): nothing was read.
    refused: Option<Rejection>,
    /// Bytes of the `Cookie` header values scanned (up to where the scan gave up).
    header_bytes: usize,
}

#[derive(Clone)]
struct Part {
    index: usize,
    /// The value's range in `buf`, or why it cannot be a value this crate wrote.
    value: Result<(usize, usize), Rejection>,
}

impl fmt::Debug for RequestCookies {
    // Values are sealed, but they are still the user's credentials: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestCookies")
            .field("candidates", &self.parts().count())
            .field("present", &self.present)
            .field("refused", &self.refused)
            .finish()
    }
}

impl RequestCookies {
    /// Scans `Cookie` header values for this session's cookies, in bounded time and memory:
    /// at most [`MAX_HEADER_BYTES`], [`MAX_REQUEST_COOKIES`] cookies, and
    /// [`MAX_CANDIDATES`] values per chunk name, each at most [`MAX_COOKIE_BYTES`] long.
    pub(crate) fn scan<'h>(
        config: &CookieConfig,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> RequestCookies {
        let mut out = RequestCookies::default();
        let (mut bytes, mut count) = (0usize, 0usize);
        let mut per_index = [0u8; MAX_CHUNKS + 1];
        for header in headers {
            bytes += header.len();
            out.header_bytes = bytes;
            if bytes > MAX_HEADER_BYTES {
                return RequestCookies::refused(Rejection::HeaderTooLarge, bytes);
            }
            let mut rest = Some(header);
            while let Some(text) = rest {
                let pair = match memchr::memchr(b';', text) {
                    Some(i) => {
                        let (pair, tail) = text.split_at(i);
                        rest = tail.get(1..);
                        pair
                    }
                    None => {
                        rest = None;
                        text
                    }
                };
                count += 1;
                if count > MAX_REQUEST_COOKIES {
                    return RequestCookies::refused(Rejection::HeaderTooLarge, bytes);
                }
                let pair = pair.trim_ascii();
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let (name, value) = pair.split_at(eq);
                let (name, value) = (name.trim_ascii(), value.get(1..).unwrap_or_default());
                let value = value.trim_ascii();
                let index = if name.strip_prefix(config.name.as_bytes()) == Some(b".t") {
                    STAMP
                } else {
                    match config.chunk_index_bytes(name) {
                        Some(i) => i,
                        None => continue,
                    }
                };
                out.present |= 1 << index;
                let Some(seen) = per_index.get_mut(index) else {
                    continue; // index <= STAMP by construction
                };
                if usize::from(*seen) >= MAX_CANDIDATES {
                    continue;
                }
                *seen += 1;
                let value = if name.len() + value.len() > MAX_COOKIE_BYTES {
                    // No browser keeps such a cookie, so no response of ours set it.
                    Err(Rejection::TooLong)
                } else {
                    let start = out.buf.len();
                    out.buf.extend_from_slice(value);
                    Ok((start, out.buf.len()))
                };
                let part = Part { index, value };
                if out.first.is_none() {
                    out.first = Some(part);
                } else {
                    out.more.push(part);
                }
            }
        }
        out
    }

    fn refused(reason: Rejection, header_bytes: usize) -> RequestCookies {
        RequestCookies {
            refused: Some(reason),
            header_bytes,
            ..RequestCookies::default()
        }
    }

    /// Bytes of the `Cookie` header values the request carried (as far as the scan read).
    pub(crate) fn header_bytes(&self) -> usize {
        self.header_bytes
    }

    /// Which chunk names the request carried (bit `i`: chunk `i`), for removals. Empty when
    /// the scan was refused: then nothing is known to be ours.
    pub(crate) fn present(&self) -> u64 {
        self.present
    }

    fn parts(&self) -> impl Iterator<Item = &Part> + '_ {
        self.first.iter().chain(&self.more)
    }

    fn candidates(&self, index: usize) -> impl Iterator<Item = Result<&str, Rejection>> + '_ {
        self.parts().filter(move |p| p.index == index).map(|p| {
            let (a, b) = p.value?;
            // Base64url and the chunk prefix are ASCII; anything else cannot be ours.
            std::str::from_utf8(self.buf.get(a..b).unwrap_or_default())
                .map_err(|_| Rejection::BadBase64)
        })
    }

    /// The refresh stamps the request carried (usable ones), in order.
    pub(crate) fn stamps(&self) -> impl Iterator<Item = &str> + '_ {
        self.candidates(STAMP).flatten()
    }

    /// The sealed values of the first chunk's candidates, without any chunk-count prefix: what
    /// a reader can peek at (key id, algorithm) without decrypting.
    ///
    /// Runs on every request that carries the cookie, touched or not, so it works on the raw
    /// bytes (no UTF-8 check: [`peek_key`](crate::format::peek_key) accepts base64url only).
    pub(crate) fn heads(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.parts()
            .filter(|p| p.index == 0)
            .filter_map(|p| {
                let (a, b) = p.value.ok()?;
                self.buf.get(a..b)
            })
            .map(|v| match chunk_count_dot(v) {
                Some(dot) => v.get(dot + 1..).unwrap_or_default(),
                None => v,
            })
    }

    /// Calls `open` on each candidate sealed value (a single cookie, or chunks joined), in
    /// the order the request carried them, until one opens; at most [`MAX_ATTEMPTS`] calls.
    ///
    /// `Ok(None)`: the request carried no first chunk. `Err`: nothing opened; the reason is
    /// the first candidate's (the browser sends the most specific cookie first).
    pub(crate) fn open_with<T>(
        &self,
        max_cookies: usize,
        mut open: impl FnMut(&str) -> Result<T, Rejection>,
    ) -> Result<Option<T>, Rejection> {
        if let Some(reason) = self.refused {
            return Err(reason);
        }
        let mut first_err: Option<Rejection> = None;
        let mut attempts = 0usize;
        let mut any = false;
        let mut joined = String::new();
        for head in self.candidates(0) {
            any = true;
            let mut fail = |r: Rejection| {
                first_err.get_or_insert(r);
            };
            let head = match head {
                Ok(h) => h,
                Err(r) => {
                    fail(r);
                    continue;
                }
            };
            let Some((count, part0)) = split_chunk_count(head) else {
                attempts += 1;
                match open(head) {
                    Ok(t) => return Ok(Some(t)),
                    Err(r) => fail(r),
                }
                if attempts >= MAX_ATTEMPTS {
                    break;
                }
                continue;
            };
            let total = match parse_index(count.as_bytes()) {
                Some(n) if (2..=max_cookies).contains(&n) => n,
                _ => {
                    fail(Rejection::BadChunks);
                    continue;
                }
            };
            // One choice per further chunk, advanced like an odometer: every combination of
            // the (at most MAX_CANDIDATES) values of each chunk, within the attempt budget.
            let mut choice = [0usize; MAX_CHUNKS];
            loop {
                joined.clear();
                joined.push_str(part0);
                let mut missing = None;
                for (i, &k) in choice.iter().enumerate().take(total).skip(1) {
                    match self.candidates(i).filter_map(Result::ok).nth(k) {
                        Some(v) => joined.push_str(v),
                        None => {
                            // Absent, or present but unusable (say, longer than a browser
                            // keeps): say which.
                            let unusable = self.candidates(i).find_map(Result::err);
                            missing = Some(unusable.unwrap_or(Rejection::BadChunks));
                            break;
                        }
                    }
                }
                if let Some(reason) = missing {
                    fail(reason);
                    break;
                }
                attempts += 1;
                match open(&joined) {
                    Ok(t) => return Ok(Some(t)),
                    Err(r) => fail(r),
                }
                if attempts >= MAX_ATTEMPTS || !self.advance(&mut choice, total) {
                    break;
                }
            }
            if attempts >= MAX_ATTEMPTS {
                break;
            }
        }
        match first_err {
            Some(r) => Err(r),
            None if any => Err(Rejection::BadChunks),
            None => Ok(None),
        }
    }

    /// Moves `choice` (chunks 1..total) to the next combination; false after the last.
    fn advance(&self, choice: &mut [usize; MAX_CHUNKS], total: usize) -> bool {
        for (i, c) in choice.iter_mut().enumerate().take(total).skip(1) {
            let n = self.candidates(i).filter(Result::is_ok).count();
            if *c + 1 < n {
                *c += 1;
                return true;
            }
            *c = 0;
        }
        false
    }
}

/// Where the dot after a first chunk's count is: a count is at most two digits
/// (`MAX_CHUNKS` < 100), so only the first three bytes are looked at, not the whole value
/// (base64url has no dot, and this runs on every request that carries the cookie).
fn chunk_count_dot(value: &[u8]) -> Option<usize> {
    value.iter().take(3).position(|&b| b == b'.')
}

/// A first chunk's `count.` prefix and the rest, or `None` for a single cookie's value.
fn split_chunk_count(value: &str) -> Option<(&str, &str)> {
    let dot = chunk_count_dot(value.as_bytes())?;
    Some((value.get(..dot)?, value.get(dot + 1..)?))
}

struct ChunkName<'a>(&'a str, usize);

impl ChunkName<'_> {
    fn len(&self) -> usize {
        self.0.len()
            + match self.1 {
                0 => 0,
                STAMP => 2,
                i => 1 + digits(i),
            }
    }
}

impl fmt::Display for ChunkName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            0 => f.write_str(self.0),
            STAMP => write!(f, "{}.t", self.0),
            i => write!(f, "{}.{i}", self.0),
        }
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20]; // u64::MAX has 20
    let mut len = 0;
    for d in digits.iter_mut() {
        *d = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in digits.get(..len).unwrap_or_default().iter().rev() {
        out.push(char::from(d));
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

    fn names_and_values(headers: &[String]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| {
                let c = Cookie::parse(h.clone()).unwrap();
                (c.name().to_string(), c.value().to_string())
            })
            .collect()
    }

    #[test]
    fn secure_defaults_on_the_wire() {
        let h = cfg(1).set_cookies("abc", Some(60), 0).unwrap();
        let s = &h[0];
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
        let found = RequestCookies::scan(&c, [header.as_bytes()]);
        assert_eq!(found.present(), 0b111);
        assert_eq!(joined(&c, &found), Ok(Some(value)));
        // One chunk missing: typed rejection.
        let header = format!("session={}; session.2={}", nv[0].1, nv[2].1);
        let found = RequestCookies::scan(&c, [header.as_bytes()]);
        assert_eq!(joined(&c, &found), Err(Rejection::BadChunks));
    }

    #[test]
    fn stale_chunks_are_removed_when_the_session_shrinks() {
        let c = cfg(3);
        let h = c.set_cookies("small", Some(10), 0b111).unwrap();
        let nv = names_and_values(&h);
        assert_eq!(nv[0], ("session".to_string(), "small".to_string()));
        assert_eq!(nv.len(), 3);
        for s in &h[1..] {
            assert!(s.contains("Max-Age=0") && s.contains("Path=/"), "{s}");
        }
        assert!(h[1].starts_with("session.1="));
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

    /// The first candidate value (joined when chunked), as the engine would try it.
    fn joined(c: &CookieConfig, found: &RequestCookies) -> Result<Option<String>, Rejection> {
        found.open_with(c.max_cookies, |v| Ok(v.to_string()))
    }

    /// Every value `open_with` offers, in order, when none opens.
    fn offered(c: &CookieConfig, header: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let found = RequestCookies::scan(c, [header.as_bytes()]);
        let _ = found.open_with(c.max_cookies, |v| {
            seen.push(v.to_string());
            Err::<(), _>(Rejection::BadTag)
        });
        seen
    }

    #[test]
    fn exact_name_match_only() {
        let c = cfg(2);
        let f = RequestCookies::scan(
            &c,
            [&b"xsession=1; session_x=2; sessions=3; session.01=4; session.99=5"[..]],
        );
        assert_eq!(f.present(), 0);
        let f = RequestCookies::scan(&c, [&b"a=b"[..], &b" session = v1 ; session=v2"[..]]);
        assert_eq!(joined(&c, &f), Ok(Some("v1".into())));
    }

    #[test]
    fn duplicates_are_all_tried_in_order_within_bounds() {
        let c = cfg(1);
        assert_eq!(offered(&c, "session=a; x=1; session=b"), ["a", "b"]);
        let many = (0..10)
            .map(|i| format!("session=v{i}"))
            .collect::<Vec<_>>()
            .join("; ");
        assert_eq!(offered(&c, &many).len(), MAX_CANDIDATES);
        // Chunked: every combination of the chunks' candidates, up to the attempt budget.
        let c = cfg(3);
        assert_eq!(
            offered(&c, "session=2.a; session.1=x; session.1=y"),
            ["ax", "ay"]
        );
        let dup = "session=3.a; session=3.b; session.1=x; session.1=y; session.2=p; session.2=q";
        assert_eq!(offered(&c, dup).len(), MAX_ATTEMPTS);
        // A usable candidate wins over an unusable one, whatever the order.
        let found = RequestCookies::scan(&c, [&b"session=\xff; session=ok"[..]]);
        assert_eq!(joined(&c, &found), Ok(Some("ok".into())));
    }

    #[test]
    fn only_what_this_configuration_writes_is_read() {
        // A chunk count above max_cookies, or with a leading zero, is not ours.
        let c = cfg(2);
        for bad in [
            "session=3.a; session.1=b; session.2=c",
            "session=02.a; session.1=b",
            "session=1.a",
            "session=0.a",
        ] {
            let found = RequestCookies::scan(&c, [bad.as_bytes()]);
            assert_eq!(joined(&c, &found), Err(Rejection::BadChunks), "{bad}");
        }
        // Chunk names at or past max_cookies are someone else's.
        let found = RequestCookies::scan(&c, [&b"session.2=x; session.1=y"[..]]);
        assert_eq!(found.present(), 0b10);
        // A cookie longer than any browser keeps is not one we set.
        let long = format!("session={}", "A".repeat(MAX_COOKIE_BYTES));
        let found = RequestCookies::scan(&c, [long.as_bytes()]);
        assert_eq!(joined(&c, &found), Err(Rejection::TooLong));
    }

    #[test]
    fn a_non_utf8_session_cookie_is_rejected_not_ignored() {
        let c = cfg(1);
        let f = RequestCookies::scan(&c, [&b"session=\xc3\x28abc"[..]]);
        assert_eq!(f.present(), 1);
        assert_eq!(joined(&c, &f), Err(Rejection::BadBase64));
    }

    #[test]
    fn reader_is_bounded() {
        let c = cfg(1);
        let many = "a=b;".repeat(MAX_REQUEST_COOKIES + 1);
        let f = RequestCookies::scan(&c, [many.as_bytes()]);
        assert_eq!(joined(&c, &f), Err(Rejection::HeaderTooLarge));
        let big = vec![b'a'; MAX_HEADER_BYTES + 1];
        let f = RequestCookies::scan(&c, [big.as_slice()]);
        assert_eq!(joined(&c, &f), Err(Rejection::HeaderTooLarge));
        assert_eq!(f.present(), 0, "nothing is known to be ours");
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

    /// The `cookie` crate's text for what `header` writes by hand.
    fn via_cookie_crate(c: &CookieConfig, name: &str, value: &str, max_age: Option<u64>) -> String {
        let mut k = c.base(name, value);
        if let Some(secs) = max_age {
            let secs = i64::try_from(secs).unwrap_or(i64::MAX);
            k.set_max_age(cookie::time::Duration::seconds(secs));
        }
        k.to_string()
    }

    #[test]
    fn set_cookie_text_is_what_the_cookie_crate_writes() {
        let configs = [
            CookieConfig::default(),
            CookieConfig {
                name: "__Host-session".into(),
                ..CookieConfig::default()
            },
            CookieConfig {
                secure: false,
                http_only: false,
                same_site: SameSite::Strict,
                path: "/app".into(),
                domain: Some(".example.com".into()),
                ..CookieConfig::default()
            },
            CookieConfig {
                same_site: SameSite::None,
                domain: Some("example.com".into()),
                persistent: false,
                ..CookieConfig::default()
            },
            CookieConfig {
                secure: false,
                same_site: SameSite::None,
                ..CookieConfig::default()
            },
        ];
        for c in &configs {
            for max_age in [None, Some(0), Some(7), Some(86_400), Some(u64::MAX)] {
                for (index, count) in [
                    (0, None),
                    (0, Some(3)),
                    (1, None),
                    (12, None),
                    (STAMP, None),
                ] {
                    let name = c.chunk_name(index).to_string();
                    let value = match count {
                        Some(n) => format!("{n}.AbC-_9"),
                        None => "AbC-_9".to_string(),
                    };
                    assert_eq!(
                        c.header(index, count, "AbC-_9", max_age),
                        via_cookie_crate(c, &name, &value, max_age),
                        "{c:?} {max_age:?} {index} {count:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_chunk_count_is_read_from_the_first_three_bytes_only() {
        assert_eq!(split_chunk_count("2.AQMA"), Some(("2", "AQMA")));
        assert_eq!(split_chunk_count("32.AQMA"), Some(("32", "AQMA")));
        assert_eq!(split_chunk_count(".AQMA"), Some(("", "AQMA"))); // then a bad count
        assert_eq!(split_chunk_count("123.AQMA"), None); // a single (undecodable) value
        assert_eq!(split_chunk_count("AQMAAAAA.x"), None);
        assert_eq!(split_chunk_count(""), None);
        assert_eq!(chunk_count_dot(b"7."), Some(1));
    }

    #[test]
    fn browser_session_cookie_has_no_max_age() {
        let h = cfg(1).set_cookies("v", None, 0).unwrap();
        assert!(!h[0].contains("Max-Age") && !h[0].contains("Expires"));
        let h = cfg(1).set_cookies("v", Some(100), 0).unwrap();
        assert!(h[0].contains("Max-Age=100"));
    }
}
