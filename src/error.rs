//! The crate's one error type.
//!
//! Every message ends with what to do about it, because the person reading it is usually an
//! operator looking at a log line, not the author of the code that failed.

use std::fmt;

/// Everything that can go wrong in `sealed-session`.
///
/// Configuration mistakes (a short secret, a `__Host-` cookie without `Secure`) are reported
/// when the configuration is built, so a misconfigured server fails at start-up. A cookie that
/// fails to open is an [`Error::Rejected`] carrying the [`Rejection`] reason, which adapters
/// log and then treat as "no session". A session too large for its cookies is
/// [`Error::TooLarge`].
///
/// ```
/// use sealed_session::{Error, Secret};
///
/// let err = Secret::from_bytes(&[7u8; 16]).unwrap_err();
/// assert!(matches!(err, Error::SecretTooShort { len: 16 }));
/// assert!(err.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A secret had fewer than [`Secret::MIN_LEN`](crate::Secret::MIN_LEN) bytes.
    SecretTooShort {
        /// How many bytes the secret had.
        len: usize,
    },
    /// A secret was not valid base64 (standard or URL-safe, padded or not).
    SecretNotBase64 {
        /// Position (0-based) of the secret in the list it came from.
        index: usize,
    },
    /// A key ring or epoch configuration was given no secret at all.
    NoKeys,
    /// The configuration is inconsistent; the message says which setting to change.
    Config(String),
    /// The sealed session does not fit in the cookies allowed.
    TooLarge {
        /// Bytes needed on the wire: all cookie names and values.
        size: usize,
        /// Bytes allowed on the wire: what `max_cookies` cookies can carry.
        limit: usize,
        /// The configured maximum number of cookies.
        max_cookies: usize,
    },
    /// A value could not be serialized with postcard before it was stored.
    Serialize {
        /// The session key being written.
        key: String,
        /// What postcard reported.
        reason: String,
    },
    /// A stored value could not be read back as the type asked for.
    Deserialize {
        /// The session key being read.
        key: String,
        /// What postcard reported.
        reason: String,
    },
    /// A session cookie was present but could not be opened.
    Rejected(Rejection),
    /// The serialized session is larger than
    /// [`max_session_bytes`](crate::SessionConfig::max_session_bytes) (checked before
    /// compression).
    SessionTooLarge {
        /// Bytes of the serialized session (a lower bound, its keys and values alone, when it
        /// was refused before being serialized).
        size: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The session was changed after its response headers were built (for example from
    /// inside a streaming body): the change cannot reach the client.
    Committed,
    /// The operating system's random number generator failed, so no nonce could be drawn
    /// and nothing was sealed (the crate never falls back to a weaker source).
    Random(String),
}

/// Why a session cookie could not be opened.
///
/// These are safe to log: they describe the failure, never the cookie's contents. None of
/// them is a server error — a client can always send garbage — so adapters treat every
/// rejection as "no session" and remove the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The request carried more cookie bytes or cookies than the reader accepts.
    HeaderTooLarge,
    /// The cookies were chunked but a chunk was missing or the chunk count was invalid.
    BadChunks,
    /// The value was not base64url without padding.
    BadBase64,
    /// The value was shorter than a header and a tag.
    TooShort,
    /// The value was longer than any value this configuration writes.
    TooLong,
    /// The first byte named a format version this build does not know.
    UnknownVersion(u8),
    /// The header named an algorithm this build does not know.
    UnknownAlgorithm(u8),
    /// No key in the key ring has the key id in the header.
    UnknownKey,
    /// The cookie was sealed under the *next* epoch's key of [`EpochKeys`](crate::EpochKeys)
    /// before this instance's clock-skew window opened it: an instance whose clock is ahead
    /// by more than the skew sealed it, and the cookie is still good there. Unlike the other
    /// rejections, it is no reason to remove the cookie.
    FutureKey,
    /// The authentication tag did not verify: the value was forged, corrupted, moved from
    /// another cookie name, or sealed under a key whose id collides with one of ours.
    BadTag,
    /// The flags byte had bits this build does not know.
    BadFlags,
    /// The compressed payload was malformed or inflated past its declared or maximum size.
    BadCompression,
    /// The session payload was not valid postcard for the session layout.
    BadPayload,
    /// The session's idle deadline has passed.
    IdleExpired,
    /// The session's absolute lifetime has passed.
    AbsoluteExpired,
    /// The session claims to be created further in the future than the clock-skew leeway.
    FromTheFuture,
    /// The session was written under an older [schema](crate::SessionConfig::schema) version
    /// that the migration dropped (or there is no migration): a new session starts.
    OldSchema,
    /// The session was written under a newer schema version (by an instance of the next
    /// release, during a rolling deploy): no session here, but the cookie is kept.
    NewerSchema,
}

impl Rejection {
    /// A short, stable, machine-friendly name for the reason (for logs and metrics labels).
    ///
    /// ```
    /// assert_eq!(sealed_session::Rejection::BadTag.as_str(), "bad_tag");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::HeaderTooLarge => "header_too_large",
            Rejection::BadChunks => "bad_chunks",
            Rejection::BadBase64 => "bad_base64",
            Rejection::TooShort => "too_short",
            Rejection::TooLong => "too_long",
            Rejection::UnknownVersion(_) => "unknown_version",
            Rejection::UnknownAlgorithm(_) => "unknown_algorithm",
            Rejection::UnknownKey => "unknown_key",
            Rejection::FutureKey => "future_key",
            Rejection::BadTag => "bad_tag",
            Rejection::BadFlags => "bad_flags",
            Rejection::BadCompression => "bad_compression",
            Rejection::BadPayload => "bad_payload",
            Rejection::IdleExpired => "idle_expired",
            Rejection::AbsoluteExpired => "absolute_expired",
            Rejection::FromTheFuture => "from_the_future",
            Rejection::OldSchema => "old_schema",
            Rejection::NewerSchema => "newer_schema",
        }
    }

    /// How many reasons there are (for per-reason counters).
    pub(crate) const COUNT: usize = 18;

    /// A dense index per reason, `0..COUNT`, in declaration order.
    pub(crate) fn index(self) -> usize {
        match self {
            Rejection::HeaderTooLarge => 0,
            Rejection::BadChunks => 1,
            Rejection::BadBase64 => 2,
            Rejection::TooShort => 3,
            Rejection::TooLong => 4,
            Rejection::UnknownVersion(_) => 5,
            Rejection::UnknownAlgorithm(_) => 6,
            Rejection::UnknownKey => 7,
            Rejection::FutureKey => 8,
            Rejection::BadTag => 9,
            Rejection::BadFlags => 10,
            Rejection::BadCompression => 11,
            Rejection::BadPayload => 12,
            Rejection::IdleExpired => 13,
            Rejection::AbsoluteExpired => 14,
            Rejection::FromTheFuture => 15,
            Rejection::OldSchema => 16,
            Rejection::NewerSchema => 17,
        }
    }

    /// The [`as_str`](Rejection::as_str) name of the reason with index `i`.
    pub(crate) fn name_at(i: usize) -> &'static str {
        const NAMES: [&str; Rejection::COUNT] = [
            "header_too_large",
            "bad_chunks",
            "bad_base64",
            "too_short",
            "too_long",
            "unknown_version",
            "unknown_algorithm",
            "unknown_key",
            "future_key",
            "bad_tag",
            "bad_flags",
            "bad_compression",
            "bad_payload",
            "idle_expired",
            "absolute_expired",
            "from_the_future",
            "old_schema",
            "newer_schema",
        ];
        NAMES.get(i).copied().unwrap_or("unknown")
    }

    /// Whether the response should delete a cookie rejected for this reason.
    ///
    /// Not when another healthy instance may still accept it: a key this instance does not
    /// have yet (a rollout in progress; an epoch key from an instance whose clock is ahead,
    /// [`FutureKey`](Rejection::FutureKey)) or a creation time ahead of this instance's clock. Not either when the request's
    /// cookies were not read at all (too many): nothing is known to be ours. Every other
    /// reason is a cookie nobody can open, and removing it saves the client from sending it
    /// again.
    ///
    /// ```
    /// use sealed_session::Rejection;
    /// assert!(Rejection::BadTag.remove_cookie());
    /// assert!(!Rejection::UnknownKey.remove_cookie());
    /// ```
    pub fn remove_cookie(self) -> bool {
        !matches!(
            self,
            Rejection::HeaderTooLarge
                | Rejection::UnknownKey
                | Rejection::FutureKey
                | Rejection::FromTheFuture
                | Rejection::NewerSchema
        )
    }

    /// True for the expiry reasons: the cookie was genuine but its time is up.
    ///
    /// ```
    /// use sealed_session::Rejection;
    /// assert!(Rejection::IdleExpired.is_expiry());
    /// assert!(!Rejection::BadTag.is_expiry());
    /// ```
    pub fn is_expiry(self) -> bool {
        matches!(
            self,
            Rejection::IdleExpired | Rejection::AbsoluteExpired | Rejection::FromTheFuture
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::HeaderTooLarge => f.write_str(
                "the request carried more cookie data than the session reader accepts; \
                 the client should clear its cookies for this site",
            ),
            Rejection::BadChunks => f.write_str(
                "the session was split across several cookies but a chunk is missing or \
                 the chunk count is invalid; the client dropped a cookie, or `max_cookies` \
                 was lowered since it was written",
            ),
            Rejection::BadBase64 => f.write_str("the session cookie is not base64url"),
            Rejection::TooShort => f.write_str("the session cookie is too short to be sealed"),
            Rejection::TooLong => {
                f.write_str("the session cookie is longer than any value this server writes")
            }
            Rejection::UnknownVersion(v) => write!(
                f,
                "the session cookie uses format version {v}, which this build cannot open; \
                 upgrade sealed-session on every instance before issuing it"
            ),
            Rejection::UnknownAlgorithm(a) => write!(
                f,
                "the session cookie names algorithm id {a}, which this build does not know"
            ),
            Rejection::UnknownKey => f.write_str(
                "the session cookie was sealed under a key that is not in the key ring; \
                 if you rotated keys, keep the old secret as a fallback for one session lifetime",
            ),
            Rejection::FutureKey => f.write_str(
                "the session cookie was sealed under the next epoch's key by an instance whose \
                 clock is ahead of this one by more than the clock skew; synchronise the \
                 clocks (NTP) or raise `clock_skew`",
            ),
            Rejection::BadTag => f.write_str(
                "the session cookie failed authentication: it was tampered with, corrupted, \
                 or sealed for another cookie name",
            ),
            Rejection::BadFlags => {
                f.write_str("the session payload has flags this build does not know")
            }
            Rejection::BadCompression => f.write_str(
                "the session payload failed to decompress or exceeded the decompression cap",
            ),
            Rejection::BadPayload => {
                f.write_str("the session payload is not a valid session encoding")
            }
            Rejection::IdleExpired => {
                f.write_str("the session expired: its idle timeout passed without activity")
            }
            Rejection::AbsoluteExpired => {
                f.write_str("the session expired: it reached its absolute lifetime")
            }
            Rejection::FromTheFuture => f.write_str(
                "the session claims a creation time in the future beyond the clock-skew \
                 leeway; check the clocks of your servers or raise `clock_skew`",
            ),
            Rejection::OldSchema => f.write_str(
                "the session was written under an older schema version and the migration \
                 dropped it (or `SessionConfig::schema` has no migration for it); the user \
                 starts a new session",
            ),
            Rejection::NewerSchema => f.write_str(
                "the session was written under a newer schema version, by an instance of a \
                 later release; finish the rolling deploy (the cookie is kept for it)",
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SecretTooShort { len } => write!(
                f,
                "secret is {len} bytes; secrets must be at least 32 bytes of random data: \
                 generate one with `Secret::generate()` (or `sealed-session keygen`, \
                 from the sealed-session-cli crate)"
            ),
            Error::SecretNotBase64 { index } => write!(
                f,
                "secret #{index} is not valid base64 (standard or URL-safe, padded or not): \
                 generate one with `sealed-session keygen` (the sealed-session-cli crate)"
            ),
            Error::NoKeys => f.write_str(
                "no secret was given: pass at least one secret (the first seals, the rest only open)",
            ),
            Error::Config(msg) => write!(f, "invalid session configuration: {msg}"),
            Error::TooLarge {
                size,
                limit,
                max_cookies,
            } => {
                let per = if *max_cookies == 1 {
                    "per cookie".to_string()
                } else {
                    format!("for {max_cookies} cookies")
                };
                write!(
                    f,
                    "session is {} sealed; the limit is {} {per}: store less, or allow more \
                     cookies with `max_cookies(n)`",
                    kb(*size),
                    kb(*limit),
                )
            }
            Error::Serialize { key, reason } => write!(
                f,
                "could not serialize the value for session key {key:?}: {reason}; postcard \
                 cannot encode untagged enums, `serde(flatten)` or maps of unknown length"
            ),
            Error::Deserialize { key, reason } => write!(
                f,
                "the value stored under session key {key:?} does not decode as the type asked \
                 for ({reason}); read it with the type it was inserted with"
            ),
            Error::Rejected(r) => write!(f, "session cookie rejected: {r}"),
            Error::SessionTooLarge { size, limit } => write!(
                f,
                "session is {} serialized; the limit is {} (`max_session_bytes`): store ids, \
                 not documents, in a cookie session",
                kb(*size),
                kb(*limit)
            ),
            Error::Committed => f.write_str(
                "the session was changed after its response headers were built (for example \
                 inside a streaming body), so the change would be lost: change the session \
                 before returning the response",
            ),
            Error::Random(reason) => write!(
                f,
                "the operating system's random number generator failed ({reason}); nothing \
                 was sealed: check that the process may call getrandom(2) (seccomp filters, \
                 sandboxes) and, early at boot, that the kernel's generator is initialised"
            ),
        }
    }
}

/// Formats a byte count the way the size error reads best: "812 bytes", "5.1 KB".
fn kb(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

impl std::error::Error for Error {}
impl std::error::Error for Rejection {}

impl From<Rejection> for Error {
    fn from(r: Rejection) -> Self {
        Error::Rejected(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_names_size_limit_and_fix() {
        let e = Error::TooLarge {
            size: 5222,
            limit: 4096,
            max_cookies: 1,
        };
        assert_eq!(
            e.to_string(),
            "session is 5.1 KB sealed; the limit is 4 KB per cookie: store less, or allow more \
             cookies with `max_cookies(n)`"
        );
        let e = Error::TooLarge {
            size: 13000,
            limit: 12288,
            max_cookies: 3,
        };
        assert!(e.to_string().contains("the limit is 12 KB for 3 cookies"));
    }

    #[test]
    fn rejection_names_are_distinct() {
        let all = [
            Rejection::HeaderTooLarge,
            Rejection::BadChunks,
            Rejection::BadBase64,
            Rejection::TooShort,
            Rejection::TooLong,
            Rejection::UnknownVersion(9),
            Rejection::UnknownAlgorithm(9),
            Rejection::UnknownKey,
            Rejection::FutureKey,
            Rejection::BadTag,
            Rejection::BadFlags,
            Rejection::BadCompression,
            Rejection::BadPayload,
            Rejection::IdleExpired,
            Rejection::AbsoluteExpired,
            Rejection::FromTheFuture,
            Rejection::OldSchema,
            Rejection::NewerSchema,
        ];
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(Rejection::name_at(i), r.as_str());
        }
        assert_eq!(all.len(), Rejection::COUNT);
        let mut names: Vec<_> = all.iter().map(|r| r.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for r in all {
            assert!(!r.to_string().is_empty());
        }
    }
}
