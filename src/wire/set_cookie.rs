//! The `Set-Cookie` writer: a sealed value as one cookie or several chunks, refresh stamps,
//! removals, and the browser's per-cookie size limit.
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

use crate::error::Error;

/// The most bytes of name plus value a browser keeps in one cookie.
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;

/// The most cookies one session may be split across.
pub(crate) const MAX_CHUNKS: usize = 32;

// The reader looks for the chunk count's dot within the first three bytes of a value.
const _: () = assert!(MAX_CHUNKS < 100);

/// The slot of the refresh stamp cookie `<name>.t` among a request's session cookies (after
/// the chunks), and its bit in a request's mask of present cookies.
pub(crate) const STAMP: usize = MAX_CHUNKS;

/// The attributes every cookie of a session carries, as [`CookieWriter::new`] takes them.
pub(crate) struct Attributes<'a> {
    pub path: &'a str,
    /// Without a leading dot (browsers ignore it).
    pub domain: Option<&'a str>,
    pub secure: bool,
    pub http_only: bool,
    /// `"Strict"`, `"Lax"` or `"None"`.
    pub same_site: &'static str,
    /// CHIPS: the cookie is kept per top-level site.
    pub partitioned: bool,
}

/// Writes a session's `Set-Cookie` values: its name, how many cookies it may span, and its
/// attributes, rendered once as the text every cookie ends with.
#[derive(Clone, Debug)]
pub(crate) struct CookieWriter {
    name: String,
    max_cookies: usize,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/` and the domain: the same for every cookie,
    /// so it is written once here rather than per response.
    attributes: String,
}

impl CookieWriter {
    /// A writer for cookie `name` (chunks `name.1`…, stamp `name.t`), checked by the caller.
    pub(crate) fn new(name: &str, max_cookies: usize, a: &Attributes<'_>) -> CookieWriter {
        let mut attributes = String::with_capacity(64);
        if a.http_only {
            attributes.push_str("; HttpOnly");
        }
        attributes.push_str("; SameSite=");
        attributes.push_str(a.same_site);
        if a.partitioned {
            attributes.push_str("; Partitioned");
        }
        if a.secure {
            attributes.push_str("; Secure");
        }
        attributes.push_str("; Path=");
        attributes.push_str(a.path);
        if let Some(d) = a.domain {
            attributes.push_str("; Domain=");
            attributes.push_str(d.strip_prefix('.').unwrap_or(d));
        }
        CookieWriter {
            name: name.to_owned(),
            max_cookies,
            attributes,
        }
    }

    /// How many cookies a session may span.
    pub(crate) fn max_cookies(&self) -> usize {
        self.max_cookies
    }

    /// The name of chunk `i` (0 is the plain name).
    fn chunk_name(&self, i: usize) -> ChunkName<'_> {
        ChunkName(&self.name, i)
    }

    /// Bytes chunk `i` can carry out of a `total`-chunk split.
    fn capacity(&self, i: usize, total: usize) -> usize {
        let name = self.chunk_name(i).len();
        let prefix = if i == 0 && total > 1 {
            digits(total as u64) + 1
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
    /// browser-session cookie), removing chunks the request carried (bits of `present`) that
    /// are no longer needed.
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
            let count = (i == 0 && total > 1).then_some(total);
            out.push(self.header(i, count, part, max_age, ""));
        }
        debug_assert!(rest.is_empty());
        self.push_removals(&mut out, present & !((1u64 << total) - 1));
        Ok(out)
    }

    /// `Set-Cookie` values that delete the cookies whose bits are set in `mask` (chunk `i`:
    /// bit `i`; the refresh stamp: bit [`STAMP`]).
    pub(crate) fn removals(&self, mask: u64) -> Vec<String> {
        let mut out = Vec::with_capacity(mask.count_ones() as usize);
        self.push_removals(&mut out, mask);
        out
    }

    fn push_removals(&self, out: &mut Vec<String>, mask: u64) {
        for i in (0..=STAMP).filter(|i| mask & (1 << i) != 0) {
            // An empty value that expires now and in the past, whichever a browser reads.
            out.push(self.header(i, None, "", Some(0), EXPIRED));
        }
    }

    /// How many cookies a sealed value of `len` bytes needs, or the size error.
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
        self.header(STAMP, None, value, max_age, "")
    }

    /// The name of the refresh stamp cookie, `<name>.t` (the AAD of a stamp names it).
    pub(crate) fn stamp_name(&self) -> String {
        self.chunk_name(STAMP).to_string()
    }

    /// The `Set-Cookie` text of chunk `index` carrying `value` (prefixed with `count.` when
    /// given: the first of several chunks), ending with `suffix` (a removal's expiry). Every
    /// part is visible ASCII: the name and the
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
        suffix: &str,
    ) -> String {
        let name = self.chunk_name(index);
        debug_assert!(name.len() + value.len() <= MAX_COOKIE_BYTES);
        let max_age = max_age.map(|secs| secs.min(i64::MAX as u64));
        // Exactly the length written: a `String` whose capacity is its length becomes the
        // header value's bytes without another allocation (`bytes::Bytes: From<Vec<u8>>`).
        let len = name.len()
            + 1
            + count.map_or(0, |c| digits(c as u64) + 1)
            + value.len()
            + self.attributes.len()
            + max_age.map_or(0, |secs| "; Max-Age=".len() + digits(secs))
            + suffix.len();
        let mut h = String::with_capacity(len);
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
        h.push_str(&self.attributes);
        // The engine decides persistence per session: `None` is a browser-session cookie.
        if let Some(secs) = max_age {
            h.push_str("; Max-Age=");
            push_decimal(&mut h, secs);
        }
        h.push_str(suffix);
        debug_assert_eq!(h.len(), len);
        h
    }
}

/// What a removal adds after `Max-Age=0`: an expiry in the past, for browsers that read only
/// `Expires`.
const EXPIRED: &str = "; Expires=Thu, 01 Jan 1970 00:00:01 GMT";

struct ChunkName<'a>(&'a str, usize);

impl ChunkName<'_> {
    fn len(&self) -> usize {
        self.0.len()
            + match self.1 {
                0 => 0,
                STAMP => 2,
                i => 1 + digits(i as u64),
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

/// How many decimal digits `n` has.
fn digits(n: u64) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

#[cfg(test)]
pub(crate) mod tests;
