//! The `Cookie` reader: one bounded scan of a request's `Cookie` headers that copies out this
//! session's cookies (values, chunks, refresh stamps), and the candidates they make.

use std::fmt;

use crate::error::Rejection;
use crate::options::CookieConfig;
use crate::wire::set_cookie::{MAX_CHUNKS, MAX_COOKIE_BYTES, STAMP};

/// The reader stops after this many bytes of `Cookie` headers: more is a hostile or broken
/// client (servers cap request headers lower than this anyway).
pub const MAX_HEADER_BYTES: usize = 256 * 1024;

/// The reader stops after this many cookies in a request (browsers send at most ~180 per site).
pub const MAX_REQUEST_COOKIES: usize = 1024;

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

/// A small decimal index with no sign, no leading zero and at most two digits.
pub(crate) fn parse_index(d: &[u8]) -> Option<usize> {
    match d {
        [a @ b'1'..=b'9'] => Some(usize::from(a - b'0')),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => {
            Some(usize::from(a - b'0') * 10 + usize::from(b - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::set_cookie::tests::{cfg, names_and_values};

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
    fn the_chunk_count_is_read_from_the_first_three_bytes_only() {
        assert_eq!(split_chunk_count("2.AQMA"), Some(("2", "AQMA")));
        assert_eq!(split_chunk_count("32.AQMA"), Some(("32", "AQMA")));
        assert_eq!(split_chunk_count(".AQMA"), Some(("", "AQMA"))); // then a bad count
        assert_eq!(split_chunk_count("123.AQMA"), None); // a single (undecodable) value
        assert_eq!(split_chunk_count("AQMAAAAA.x"), None);
        assert_eq!(split_chunk_count(""), None);
        assert_eq!(chunk_count_dot(b"7."), Some(1));
    }
}
