//! The `Cookie` reader: one bounded scan of a request's `Cookie` headers that copies out this
//! session's cookies (values, chunks, refresh stamps), and the candidates they make.

use std::fmt;

use crate::error::Rejection;
use crate::wire::set_cookie::{MAX_CHUNKS, MAX_COOKIE_BYTES, STAMP};

/// The reader stops after this many bytes of `Cookie` headers: more is a hostile or broken
/// client (servers cap request headers lower than this anyway).
pub(crate) const MAX_HEADER_BYTES: usize = 256 * 1024;

/// The reader stops after this many cookies in a request (browsers send at most ~180 per site).
pub(crate) const MAX_REQUEST_COOKIES: usize = 1024;

/// The most values for one session cookie name that the reader keeps from a request: the
/// first two and the last two.
///
/// A request may carry several cookies of the same name: one set by this site, and others
/// planted by a sibling subdomain or a plain-HTTP page for a parent domain or a longer path
/// ("cookie tossing"). The reader tries each rather than trusting the first. Browsers send
/// cookies with longer paths first and, among equal paths, older ones first, so a planted
/// cookie can come before the site's own (a longer path, planted earlier) or after it
/// (planted later); keeping both ends means a handful of planted cookies cannot push the
/// site's own out of reach, and a request whose values were not all kept never removes
/// anything (see [`RequestCookies::untried`]).
pub(crate) const MAX_CANDIDATES: usize = 4;

/// The most sealed values (candidates, or combinations of chunk candidates) one request may
/// make the reader try to open: each costs at most one AEAD open of a 4 KB value.
pub(crate) const MAX_ATTEMPTS: usize = 8;

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
    /// Bit `i` set: the request carried more values for chunk `i` than the reader keeps.
    dropped: u64,
    /// The scan gave up (too many cookie bytes or cookies): nothing was read.
    refused: Option<Rejection>,
    /// Bytes of the `Cookie` header values scanned (up to where the scan gave up).
    header_bytes: usize,
    /// The first [`MAX_LEGACY_VALUES`] values of the legacy cookie an importer reads, as
    /// ranges in `buf` (empty without an importer: no allocation).
    legacy: Vec<(usize, usize)>,
    /// The request carried the legacy cookie (kept or not): the response removes it.
    legacy_present: bool,
}

/// The most values of a legacy cookie the reader keeps for the importer: the first two. A
/// planted one (cookie tossing) cannot open without the legacy key; two that open and differ
/// are not imported at all.
pub(crate) const MAX_LEGACY_VALUES: usize = 2;

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
    /// With `legacy`, also the first [`MAX_LEGACY_VALUES`] values of that cookie.
    pub(crate) fn scan<'h>(
        name: &str,
        max_cookies: usize,
        legacy: Option<&str>,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> RequestCookies {
        let session = name.as_bytes();
        let legacy = legacy.map(str::as_bytes);
        let mut out = RequestCookies::default();
        let (mut bytes, mut count) = (0usize, 0usize);
        let mut per_index = [0u16; MAX_CHUNKS + 1];
        for header in headers {
            bytes += header.len();
            out.header_bytes = bytes;
            if bytes > MAX_HEADER_BYTES {
                return RequestCookies::given_up(Rejection::HeaderTooLarge, bytes);
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
                    return RequestCookies::given_up(Rejection::HeaderTooLarge, bytes);
                }
                let pair = pair.trim_ascii();
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let (cookie, value) = pair.split_at(eq);
                let (cookie, value) = (cookie.trim_ascii(), value.get(1..).unwrap_or_default());
                let value = value.trim_ascii();
                let index = match cookie_index(session, max_cookies, cookie) {
                    Some(i) => i,
                    None => {
                        if legacy == Some(cookie) {
                            out.keep_legacy(cookie, value);
                        }
                        continue;
                    }
                };
                out.present |= 1 << index;
                let Some(seen) = per_index.get_mut(index) else {
                    continue; // index <= STAMP by construction
                };
                *seen = seen.saturating_add(1);
                if usize::from(*seen) > MAX_CANDIDATES {
                    // Keep the first two and the last two: the oldest of the last two goes.
                    out.drop_third(index);
                }
                let value = if cookie.len() + value.len() > MAX_COOKIE_BYTES {
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

    /// Keeps a value of the legacy cookie, if there is room and a browser could have sent it.
    fn keep_legacy(&mut self, cookie: &[u8], value: &[u8]) {
        self.legacy_present = true;
        if self.legacy.len() < MAX_LEGACY_VALUES && cookie.len() + value.len() <= MAX_COOKIE_BYTES {
            let start = self.buf.len();
            self.buf.extend_from_slice(value);
            self.legacy.push((start, self.buf.len()));
        }
    }

    /// Whether the request carried the legacy cookie an importer reads.
    #[cfg_attr(not(feature = "actix-session-import"), allow(dead_code))]
    pub(crate) fn legacy_present(&self) -> bool {
        self.legacy_present
    }

    /// The kept values of the legacy cookie, in the order the request carried them.
    #[cfg_attr(not(feature = "actix-session-import"), allow(dead_code))]
    pub(crate) fn legacy_values(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.legacy
            .iter()
            .map(|&(a, b)| self.buf.get(a..b).unwrap_or_default())
    }

    /// Drops the third kept value of chunk `index` (the older of its last two), to make room
    /// for a newer one. It is never the first part of the request.
    fn drop_third(&mut self, index: usize) {
        let third = self
            .more
            .iter()
            .enumerate()
            .filter(|(_, p)| p.index == index)
            .map(|(i, _)| i)
            .nth(if self.first.as_ref().is_some_and(|p| p.index == index) {
                1
            } else {
                2
            });
        if let Some(i) = third {
            self.more.remove(i);
        }
        self.dropped |= 1 << index;
    }

    /// Whether the request carried values of this session's cookies that the reader did not
    /// keep (more than [`MAX_CANDIDATES`] of one name): some cookie of the name was never
    /// tried, so nothing is known about it and no response may remove the name.
    pub(crate) fn untried(&self) -> bool {
        self.dropped != 0
    }

    fn given_up(reason: Rejection, header_bytes: usize) -> RequestCookies {
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

    fn values(&self, index: usize) -> impl Iterator<Item = Result<&str, Rejection>> + '_ {
        self.parts().filter(move |p| p.index == index).map(|p| {
            let (a, b) = p.value?;
            // Base64url and the chunk prefix are ASCII; anything else cannot be ours.
            std::str::from_utf8(self.buf.get(a..b).unwrap_or_default())
                .map_err(|_| Rejection::BadBase64)
        })
    }

    /// The refresh stamps the request carried (usable ones), in order.
    pub(crate) fn stamps(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(STAMP).flatten()
    }

    /// The sealed values of the first chunk's candidates, without any chunk-count prefix: what
    /// a reader can peek at (key id, algorithm) without decrypting.
    ///
    /// Runs on every request that carries the cookie, touched or not, so it works on the raw
    /// bytes (no UTF-8 check: [`peek_key`](super::seal::peek_key) accepts base64url only).
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

    /// Why nothing was read, when the scan gave up (too many cookie bytes or cookies).
    pub(crate) fn refused(&self) -> Option<Rejection> {
        self.refused
    }

    /// The sealed values the request's cookies make, in the order the request carried them,
    /// within [`MAX_ATTEMPTS`]: see [`Candidates::next`].
    pub(crate) fn candidates(&self, max_cookies: usize) -> Candidates<'_> {
        Candidates {
            request: self,
            max_cookies,
            next_head: 0,
            chunked: None,
            attempts: 0,
            joined: String::new(),
            saw_head: false,
        }
    }

    /// Moves `choice` (chunks 1..total) to the next combination; false after the last.
    fn advance(&self, choice: &mut [usize; MAX_CHUNKS], total: usize) -> bool {
        for (i, c) in choice.iter_mut().enumerate().take(total).skip(1) {
            let n = self.values(i).filter(Result::is_ok).count();
            if *c + 1 < n {
                *c += 1;
                return true;
            }
            *c = 0;
        }
        false
    }
}

/// The candidate values of one request, offered one at a time by [`Candidates::next`]: each
/// first-chunk value alone, or joined with every combination of the further chunks' values
/// (chunk 1 varying fastest, then chunk 2, and so on: FORMAT.md, *Reading*).
pub(crate) struct Candidates<'r> {
    request: &'r RequestCookies,
    max_cookies: usize,
    /// Which first-chunk value comes next.
    next_head: usize,
    /// The chunked value being combined, if any.
    chunked: Option<Chunked<'r>>,
    attempts: usize,
    /// The current combination of chunks, joined.
    joined: String,
    saw_head: bool,
}

struct Chunked<'r> {
    part0: &'r str,
    total: usize,
    /// Which value of each further chunk the next combination takes.
    choice: [usize; MAX_CHUNKS],
    done: bool,
}

impl Candidates<'_> {
    /// The next sealed value to try (a single cookie's value, or chunks joined), or why a
    /// candidate cannot be one; `None` once every candidate was offered or [`MAX_ATTEMPTS`]
    /// values were.
    pub(crate) fn next(&mut self) -> Option<Result<&str, Rejection>> {
        if self.attempts >= MAX_ATTEMPTS {
            return None;
        }
        loop {
            if let Some(ch) = &mut self.chunked {
                if ch.done {
                    self.chunked = None;
                    continue;
                }
                self.joined.clear();
                self.joined.push_str(ch.part0);
                let mut missing = None;
                for (i, &k) in ch.choice.iter().enumerate().take(ch.total).skip(1) {
                    match self.request.values(i).filter_map(Result::ok).nth(k) {
                        Some(v) => self.joined.push_str(v),
                        None => {
                            // Absent, or present but unusable (say, longer than a browser
                            // keeps): say which.
                            let unusable = self.request.values(i).find_map(Result::err);
                            missing = Some(unusable.unwrap_or(Rejection::BadChunks));
                            break;
                        }
                    }
                }
                if let Some(reason) = missing {
                    self.chunked = None;
                    return Some(Err(reason));
                }
                ch.done = !self.request.advance(&mut ch.choice, ch.total);
                self.attempts += 1;
                return Some(Ok(&self.joined));
            }
            let head = self.request.values(0).nth(self.next_head)?;
            self.next_head += 1;
            self.saw_head = true;
            let head = match head {
                Ok(h) => h,
                Err(r) => return Some(Err(r)),
            };
            let Some((count, part0)) = split_chunk_count(head) else {
                self.attempts += 1;
                return Some(Ok(head));
            };
            match parse_index(count.as_bytes()) {
                Some(total) if (2..=self.max_cookies).contains(&total) => {
                    self.chunked = Some(Chunked {
                        part0,
                        total,
                        choice: [0; MAX_CHUNKS],
                        done: false,
                    });
                }
                _ => return Some(Err(Rejection::BadChunks)),
            }
        }
    }

    /// Whether the request carried a first chunk at all (usable or not).
    pub(crate) fn saw_head(&self) -> bool {
        self.saw_head
    }

    /// Whether the attempt budget ran out with candidates left untried.
    pub(crate) fn untried(&self) -> bool {
        self.attempts >= MAX_ATTEMPTS
            && (self.chunked.as_ref().is_some_and(|c| !c.done)
                || self.request.values(0).nth(self.next_head).is_some())
    }
}

/// Which of this session's cookies `cookie` (a cookie name from a request) is: `Some(0)` for
/// the session's name, `Some(i)` for `name.i` when this configuration could have written it
/// (`i < max_cookies`), [`STAMP`] for the refresh stamp `name.t`, `None` for any other cookie.
/// Cookies this configuration could not have written are never read and never removed.
pub(crate) fn cookie_index(session: &[u8], max_cookies: usize, cookie: &[u8]) -> Option<usize> {
    match cookie.strip_prefix(session)? {
        [] => Some(0),
        b".t" => Some(STAMP),
        [b'.', digits @ ..] => parse_index(digits).filter(|i| (1..max_cookies).contains(i)),
        _ => None,
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
fn parse_index(d: &[u8]) -> Option<usize> {
    match d {
        [a @ b'1'..=b'9'] => Some(usize::from(a - b'0')),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => {
            Some(usize::from(a - b'0') * 10 + usize::from(b - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
