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

use cookie::Cookie;

use crate::error::Error;
use crate::options::{CookieConfig, SameSite};

/// The most bytes of name plus value a browser keeps in one cookie.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The most cookies one session may be split across.
pub const MAX_CHUNKS: usize = 32;

// `RequestCookies::heads` looks for the chunk count's dot within the first three bytes.
const _: () = assert!(MAX_CHUNKS < 100);

impl CookieConfig {
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
/// the chunks), and its bit in `RequestCookies::present`.
pub(crate) const STAMP: usize = MAX_CHUNKS;

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn cfg(max: usize) -> CookieConfig {
        CookieConfig {
            max_cookies: max,
            ..CookieConfig::default()
        }
    }

    pub(crate) fn names_and_values(headers: &[String]) -> Vec<(String, String)> {
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
    fn browser_session_cookie_has_no_max_age() {
        let h = cfg(1).set_cookies("v", None, 0).unwrap();
        assert!(!h[0].contains("Max-Age") && !h[0].contains("Expires"));
        let h = cfg(1).set_cookies("v", Some(100), 0).unwrap();
        assert!(h[0].contains("Max-Age=100"));
    }
}
