//! Looking inside session cookies, for operators and tools: what a sealed value's header
//! says (readable without any key), and, with the keys, which key opened it, when it
//! expires, what it holds, or exactly why it does not open.
//!
//! The `sealed-session` command-line tool (`cargo install sealed-session-cli`) prints these.
//! Nothing here is needed to serve requests, and nothing here prints entry values: only
//! names and sizes.
//!
//! ```
//! use sealed_session::inspect::{Header, KeySource};
//! use sealed_session::{Keyring, Secret, SessionBuilder, SessionState};
//!
//! let old = Secret::generate();
//! let engine = SessionBuilder::new(Keyring::new(old.clone())).build()?;
//! let mut s = SessionState::new();
//! s.insert("user_id", &42u64)?;
//! let value = engine.seal(&mut s)?;
//!
//! // Without keys: the header.
//! let header = Header::parse(&value)?;
//! assert_eq!(header.key_id, Keyring::new(old.clone()).primary_id(header.algorithm));
//!
//! // After a rotation to [new, old]: the old key (index 1) still opens it.
//! let rotated = SessionBuilder::new(Keyring::new(Secret::generate()).with_fallback(old)).build()?;
//! let cookie = format!("{}={value}", rotated.cookie().name()); // `__Host-session` by default
//! let report = rotated.inspect([cookie.as_bytes()]);
//! let opened = report.candidates[0].contents.as_ref().unwrap();
//! assert_eq!(opened.key, KeySource::Ring { index: 1 });
//! assert_eq!(opened.entries[0].name, "user_id");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::engine::{LoadOutcome, SessionEngine};
use crate::error::Rejection;
use crate::keys::{Algorithm, KeyId, Keys};
use crate::state::SessionState;
use crate::wire::request::RequestCookies;
use crate::wire::seal;

/// What the unencrypted header of a sealed value says, and its sizes. Reading it needs no
/// key and proves nothing: anyone can write any header.
///
/// ```
/// use sealed_session::inspect::Header;
/// use sealed_session::{Algorithm, Rejection, Secret, SessionBuilder, SessionState};
///
/// let engine = SessionBuilder::new(Secret::generate()).algorithm(Algorithm::Aes256Gcm).build()?;
/// let mut s = SessionState::new();
/// s.insert("a", &1u8)?;
/// let value = engine.seal(&mut s)?;
/// let h = Header::parse(&value)?;
/// assert_eq!((h.version, h.algorithm, h.nonce_len), (1, Algorithm::Aes256Gcm, 12));
/// assert_eq!(h.encoded_len, value.len());
/// assert_eq!(h.sealed_len, h.header_len + h.ciphertext_len + h.tag_len);
/// assert_eq!(Header::parse("AQkA"), Err(Rejection::UnknownAlgorithm(9)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// The format version (1).
    pub version: u8,
    /// The algorithm it names.
    pub algorithm: Algorithm,
    /// The id of the key it names (see [`Keyring::key_ids`](crate::Keyring::key_ids)).
    pub key_id: KeyId,
    /// Nonce bytes in the header.
    pub nonce_len: usize,
    /// Header bytes: version, algorithm, key id, nonce.
    pub header_len: usize,
    /// Encrypted bytes: the flags byte and the (possibly compressed) session body.
    pub ciphertext_len: usize,
    /// Authentication tag bytes.
    pub tag_len: usize,
    /// All decoded bytes (header, ciphertext, tag).
    pub sealed_len: usize,
    /// Characters of the base64url text (the cookie value, without a chunk prefix).
    pub encoded_len: usize,
}

impl Header {
    /// Parses the header of one sealed value (a whole value: chunks joined, without the
    /// `N.` chunk-count prefix), with the same checks and [`Rejection`]s as opening, short
    /// of the key and the tag. The work is linear in the value's length.
    ///
    /// ```
    /// use sealed_session::inspect::Header;
    /// use sealed_session::Rejection;
    /// assert_eq!(Header::parse("!!"), Err(Rejection::BadBase64));
    /// assert_eq!(Header::parse("AAAA"), Err(Rejection::UnknownVersion(0)));
    /// assert_eq!(Header::parse("AQEA"), Err(Rejection::TooShort));
    /// ```
    pub fn parse(value: &str) -> Result<Header, Rejection> {
        let raw = URL_SAFE_NO_PAD
            .decode(value.as_bytes())
            .map_err(|_| Rejection::BadBase64)?;
        let (version, alg_id) = match raw.as_slice() {
            [v, a, ..] => (*v, *a),
            _ => return Err(Rejection::TooShort),
        };
        if version != seal::VERSION {
            return Err(Rejection::UnknownVersion(version));
        }
        let algorithm = Algorithm::from_id(alg_id).ok_or(Rejection::UnknownAlgorithm(alg_id))?;
        let header_len = seal::header_len(algorithm);
        let tag_len = algorithm.tag_len();
        let key_id = match raw.get(2..6) {
            Some(&[a, b, c, d]) => KeyId([a, b, c, d]),
            _ => return Err(Rejection::TooShort),
        };
        if raw.len() < header_len + 1 + tag_len {
            return Err(Rejection::TooShort);
        }
        Ok(Header {
            version,
            algorithm,
            key_id,
            nonce_len: algorithm.nonce_len(),
            header_len,
            ciphertext_len: raw.len() - header_len - tag_len,
            tag_len,
            sealed_len: raw.len(),
            encoded_len: value.len(),
        })
    }
}

/// Which key opened a value.
///
/// ```
/// use sealed_session::inspect::KeySource;
/// assert_ne!(KeySource::Ring { index: 0 }, KeySource::Epoch { epoch: 0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The secret at this position of the key ring (0: the primary, which seals).
    Ring {
        /// Position in rotation order.
        index: usize,
    },
    /// The key of this epoch ([`EpochKeys`](crate::EpochKeys)).
    Epoch {
        /// The epoch number (`unix_time / period`).
        epoch: u64,
    },
    /// A key that opened it but whose id matches none computed here (should not happen).
    Unknown,
}

/// One entry of an opened session: its name and the size of its serialized value. Values
/// are never shown.
///
/// ```
/// # use sealed_session::inspect::Entry;
/// # fn f(e: &Entry) -> usize { e.size }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The key it is stored under; empty for the whole-struct value of
    /// [`set_data`](crate::Session::set_data).
    pub name: String,
    /// Bytes of its postcard encoding.
    pub size: usize,
}

/// What an opened (authenticated and decoded) value holds.
///
/// ```
/// # use sealed_session::inspect::Contents;
/// # fn f(c: &Contents) -> u64 { c.absolute_expires_at }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Contents {
    /// The key that opened it.
    pub key: KeySource,
    /// Whether that key is the one sealing now (if not, the next response re-seals it).
    pub primary: bool,
    /// Whether the body was LZ4-compressed.
    pub compressed: bool,
    /// Bytes of the serialized session (after decompression).
    pub body_len: usize,
    /// Creation (or last renewal), Unix seconds.
    pub created_at: u64,
    /// Last refresh of the idle deadline, Unix seconds.
    pub refreshed_at: u64,
    /// End of the idle timeout (never after the absolute one), or `None` without one.
    pub idle_expires_at: Option<u64>,
    /// End of the absolute lifetime.
    pub absolute_expires_at: u64,
    /// The entries, by name.
    pub entries: Vec<Entry>,
}

/// One sealed value the request carried (a single cookie, or chunks joined), in the order
/// the reader tried them.
///
/// ```
/// # use sealed_session::inspect::Candidate;
/// # fn f(c: &Candidate) -> bool { c.rejection.is_none() }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Candidate {
    /// The header, or why it is not one.
    pub header: Result<Header, Rejection>,
    /// What it holds, when it authenticated and decoded (also when it then turned out to
    /// be expired).
    pub contents: Option<Contents>,
    /// Why it does not open; `None` when it does.
    pub rejection: Option<Rejection>,
}

/// The result of [`SessionEngine::inspect`].
///
/// ```
/// # use sealed_session::{LoadOutcome, Secret, SessionBuilder};
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let report = engine.inspect([&b"theme=dark"[..]]);
/// assert_eq!(report.outcome, LoadOutcome::NoCookie);
/// assert!(report.candidates.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// The clock reading the deadlines were checked against (Unix seconds).
    pub now: u64,
    /// Bytes of all the `Cookie` header values given.
    pub header_bytes: usize,
    /// The chunk cookies present (0: the plain name, `i`: `name.i`), usable or not.
    pub chunks: Vec<usize>,
    /// Every value tried, in order; the last one opened if the outcome is `Opened`.
    pub candidates: Vec<Candidate>,
    /// Exactly what a request carrying these headers would get from this engine.
    pub outcome: LoadOutcome,
}

impl SessionEngine {
    /// Opens the session cookies in these `Cookie` header values as a request would, and
    /// reports what each value tried holds or why it failed: for tools (the `sealed-session
    /// inspect` command) and debugging, not for request handling.
    ///
    /// The reader's bounds apply (at most eight values tried); entry values are never
    /// decoded, only measured.
    ///
    /// ```
    /// use sealed_session::{LoadOutcome, Rejection, Secret, SessionBuilder, SessionState};
    ///
    /// let engine = SessionBuilder::new(Secret::generate()).build()?;
    /// let mut s = SessionState::new();
    /// s.insert("cart", &vec!["SKU-1"])?;
    /// let cookie = engine.set_cookies(&mut s)?[0].split(';').next().unwrap().to_owned();
    ///
    /// let report = engine.inspect([cookie.as_bytes()]);
    /// assert_eq!(report.outcome, LoadOutcome::Opened { needs_reseal: false });
    /// let c = report.candidates[0].contents.as_ref().unwrap();
    /// assert_eq!((c.entries[0].name.as_str(), c.primary), ("cart", true));
    ///
    /// // Another server's keys: the header reads, the value does not open.
    /// let other = SessionBuilder::new(Secret::generate()).build()?;
    /// let report = other.inspect([cookie.as_bytes()]);
    /// assert_eq!(report.outcome, LoadOutcome::Rejected(Rejection::UnknownKey));
    /// assert!(report.candidates[0].header.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inspect<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Inspection {
        let max_cookies = self.writer().max_cookies();
        let request = RequestCookies::scan(self.cookie().name(), max_cookies, None, cookie_headers);
        let now = self.now();
        let mut candidates = Vec::new();
        // As a request opens them (`open_request`): the first that opens wins.
        let mut outcome = None;
        let mut first_err = request.refused();
        if first_err.is_none() {
            let mut values = request.candidates(max_cookies);
            while let Some(value) = values.next() {
                let verdict = match value {
                    Ok(value) => {
                        let (candidate, verdict) = self.inspect_value(value, &request, now);
                        candidates.push(candidate);
                        verdict
                    }
                    Err(r) => Err(r),
                };
                match verdict {
                    Ok(needs_reseal) => {
                        outcome = Some(LoadOutcome::Opened { needs_reseal });
                        break;
                    }
                    Err(r) => {
                        first_err.get_or_insert(r);
                    }
                }
            }
            if outcome.is_none() && first_err.is_none() && values.saw_head() {
                first_err = Some(Rejection::BadChunks);
            }
        }
        let outcome = outcome.unwrap_or(match first_err {
            Some(r) => LoadOutcome::Rejected(r),
            None => LoadOutcome::NoCookie,
        });
        let present = request.present();
        Inspection {
            now,
            header_bytes: request.header_bytes(),
            chunks: (0..64).filter(|i| present & (1u64 << i) != 0).collect(),
            candidates,
            outcome,
        }
    }

    /// Opens one value exactly as a request does (the verdict), and once more step by step
    /// to report what it holds even when the verdict is a rejection such as an expiry.
    fn inspect_value(
        &self,
        value: &str,
        request: &RequestCookies,
        now: u64,
    ) -> (Candidate, Result<bool, Rejection>) {
        let p = self.parts();
        let header = Header::parse(value);
        let keys = self.keys_at(now);
        let verdict = self.open_sealed(&keys, value, request.stamps(), now);
        let decoded = seal::open(&keys, &p.cookie.name, &[], value, p.writer.max_value_len())
            .and_then(|opened| {
                if opened.body.len() > p.max_session_bytes {
                    return Err(Rejection::TooLong);
                }
                let session = SessionState::decode(opened.body.clone())?;
                Ok((opened, session))
            });
        let contents = decoded.ok().map(|(opened, raw)| {
            // After a refresh stamp and a migration when it opens; as sealed otherwise.
            let session = match &verdict {
                Ok((s, _, _)) => s,
                Err(_) => &raw,
            };
            let (created_at, refreshed_at) = session.times();
            Contents {
                key: header.map_or(KeySource::Unknown, |h| {
                    self.key_source(opened.algorithm, h.key_id, now)
                }),
                primary: opened.primary,
                compressed: header.is_ok_and(|h| h.ciphertext_len != opened.body.len() + 1),
                body_len: opened.body.len(),
                created_at,
                refreshed_at,
                idle_expires_at: p.timeouts.idle_deadline(created_at, refreshed_at),
                absolute_expires_at: p.timeouts.absolute_deadline(created_at),
                entries: session
                    .entry_sizes()
                    .map(|(name, size)| Entry {
                        name: name.to_owned(),
                        size,
                    })
                    .collect(),
            }
        });
        let verdict = verdict.map(|(_, needs_reseal, _)| needs_reseal);
        let candidate = Candidate {
            header,
            contents,
            rejection: verdict.err(),
        };
        (candidate, verdict)
    }

    /// Which configured key has this id: the first in rotation order, or the epoch around
    /// `now` whose key it is.
    fn key_source(&self, algorithm: Algorithm, id: KeyId, now: u64) -> KeySource {
        match &self.parts().keys {
            Keys::Ring(ring) => ring
                .key_ids(algorithm)
                .iter()
                .position(|k| *k == id)
                .map_or(KeySource::Unknown, |index| KeySource::Ring { index }),
            Keys::Epoch(epochs) => {
                let current = epochs.epoch_at(now);
                [
                    Some(current),
                    current.checked_sub(1),
                    current.checked_add(1),
                ]
                .into_iter()
                .flatten()
                .find(|e| epochs.key_id(*e, algorithm) == id)
                .map_or(KeySource::Unknown, |epoch| KeySource::Epoch { epoch })
            }
        }
    }
}
