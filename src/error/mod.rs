//! The crate's errors: [`ConfigError`] when an engine is built, [`Error`] while serving, and
//! [`Rejection`], why a session cookie did not open.
//!
//! Every message ends with what to do about it, because the person reading it is usually an
//! operator looking at a log line, not the author of the code that failed.

mod rejection;

use std::fmt;

pub use rejection::Rejection;

/// A configuration mistake, reported when the keys are read or the engine is built, so that
/// a misconfigured server fails at start-up and never on a request.
///
/// ```
/// use sealed_session::{ConfigError, Secret};
///
/// let err = Secret::from_bytes(&[7u8; 16]).unwrap_err();
/// assert_eq!(err, ConfigError::SecretTooShort { len: 16 });
/// assert!(err.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
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
    /// The environment variable that should hold the secrets is not set, or empty.
    MissingEnvVar {
        /// The variable's name.
        name: String,
    },
    /// An algorithm name that this build does not know.
    UnknownAlgorithm {
        /// The name given.
        name: String,
    },
    /// The cookie name is empty or holds characters a cookie name cannot hold.
    CookieName {
        /// The name given.
        name: String,
    },
    /// The cookie name leaves too little room for a session value in 4096 bytes.
    CookieNameTooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The cookie `Path` does not start with `/` or holds `;` or control characters.
    CookiePath {
        /// The path given.
        path: String,
    },
    /// The cookie `Domain` is empty or holds `;` or control characters.
    CookieDomain {
        /// The domain given.
        domain: String,
    },
    /// `SameSite=None` without `Secure`, which browsers refuse.
    SameSiteNoneNeedsSecure,
    /// `Partitioned` without `Secure`, which browsers refuse.
    PartitionedNeedsSecure,
    /// Partitioned cookies with more chunks than Chrome keeps per partition (10,240 bytes).
    PartitionBudget {
        /// The `max_cookies` given.
        max_cookies: usize,
    },
    /// A `__Host-` cookie name without `Secure`, `Path=/` and no `Domain`.
    HostPrefix {
        /// The name given.
        name: String,
    },
    /// A `__Secure-` cookie name without `Secure`.
    SecurePrefix {
        /// The name given.
        name: String,
    },
    /// `max_cookies` outside `1..=32`.
    MaxCookies {
        /// The number given.
        n: usize,
    },
    /// An absolute lifetime under one second.
    AbsoluteTimeout,
    /// An idle timeout under one second.
    IdleTimeout,
    /// A refresh share outside `0.0..=1.0`.
    RefreshShare {
        /// The share given.
        share: f64,
    },
    /// An epoch period of zero.
    EpochPeriod,
    /// An epoch period shorter than the idle timeout.
    EpochShorterThanIdle {
        /// The period, in seconds.
        period: u64,
        /// The idle timeout, in seconds.
        idle: u64,
    },
    /// An epoch period not longer than twice the clock skew.
    EpochSkew {
        /// The period, in seconds.
        period: u64,
        /// The clock skew, in seconds.
        skew: u64,
    },
    /// `max_session_bytes` outside the range the format can carry.
    MaxSessionBytes {
        /// The number given.
        bytes: usize,
        /// The smallest accepted.
        min: usize,
        /// The largest accepted.
        max: usize,
    },
    /// A size-warning share outside `(0, 1]`.
    SizeWarningShare {
        /// The share given.
        share: f64,
    },
    /// A `Cookie` header budget of zero bytes.
    CookieHeaderBudget,
    /// The key of a [`LegacyImport`](crate::LegacyImport) is not a `cookie::Key`'s bytes.
    LegacyKey {
        /// What was wrong with it.
        reason: String,
    },
    /// A [`LegacyImport`](crate::LegacyImport)'s cookie name is not a valid cookie name, or
    /// is one of the session's own cookie names.
    LegacyCookieName {
        /// The name given.
        name: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigError as E;
        match self {
            E::SecretTooShort { len } => write!(
                f,
                "secret is {len} bytes; secrets must be at least 32 bytes of random data: \
                 generate one with `Secret::generate()` (or `sealed-session keygen`, \
                 from the sealed-session-cli crate)"
            ),
            E::SecretNotBase64 { index } => write!(
                f,
                "secret #{index} is not valid base64 (standard or URL-safe, padded or not): \
                 generate one with `sealed-session keygen` (the sealed-session-cli crate)"
            ),
            E::NoKeys => f.write_str(
                "no secret was given: pass at least one secret (the first seals, the rest only open)",
            ),
            E::MissingEnvVar { name } => write!(
                f,
                "the environment variable {name} is not set: give it one or more base64 \
                 secrets, newest first, separated by commas (generate one with \
                 `sealed-session keygen` from the sealed-session-cli crate, or \
                 `Secret::generate().to_base64()`)"
            ),
            E::UnknownAlgorithm { name } => write!(
                f,
                "unknown algorithm {name:?}: use \"xaes256gcm\", \"xchacha20poly1305\" or \
                 \"aes256gcm\""
            ),
            E::CookieName { name } => write!(
                f,
                "cookie name {name:?} is not a valid cookie name: use letters, digits and \
                 !#$%&'*+-.^_`|~"
            ),
            E::CookieNameTooLong { len } => write!(
                f,
                "the cookie name is {len} bytes, too long to leave room for a session value \
                 in a 4096-byte cookie: use a short name"
            ),
            E::CookiePath { path } => write!(
                f,
                "cookie path {path:?} must start with '/' and hold no ';' or control characters"
            ),
            E::CookieDomain { domain } => write!(
                f,
                "cookie domain {domain:?} is not a valid domain: give a host name without ';', \
                 spaces or control characters"
            ),
            E::LegacyKey { reason } => write!(
                f,
                "the key to import old sessions with is not a cookie::Key: {reason}; give the \
                 64 bytes (or their standard base64) the old application gave \
                 cookie::Key::from, or the master key it gave Key::derive_from"
            ),
            E::LegacyCookieName { name } => write!(
                f,
                "the old session cookie's name {name:?} is not a valid cookie name, or is one \
                 of this session's own names: give the name the old application used \
                 (actix-session's default is \"id\")"
            ),
            E::SameSiteNoneNeedsSecure => f.write_str(
                "SameSite=None requires Secure (browsers reject it otherwise): keep secure(true)",
            ),
            E::PartitionedNeedsSecure => f.write_str(
                "Partitioned cookies require Secure (browsers reject them otherwise): keep \
                 secure(true), or do not partition",
            ),
            E::PartitionBudget { max_cookies } => write!(
                f,
                "partitioned cookies with max_cookies({max_cookies}) could pass the 10,240 \
                 bytes Chrome keeps per site and partition, and the browser would drop the \
                 session: use max_cookies(2) or fewer with partitioned(true)"
            ),
            E::HostPrefix { name } => write!(
                f,
                "cookie name {name:?} has the __Host- prefix, which browsers accept only with \
                 Secure, Path=/ and no Domain: set secure(true), path(\"/\") and no domain, or \
                 drop the prefix"
            ),
            E::SecurePrefix { name } => write!(
                f,
                "cookie name {name:?} has the __Secure- prefix, which browsers accept only with \
                 Secure: set secure(true) or drop the prefix"
            ),
            E::MaxCookies { n } => {
                write!(f, "max_cookies is {n}; it must be between 1 and 32")
            }
            E::AbsoluteTimeout => {
                f.write_str("the absolute lifetime must be at least one second")
            }
            E::IdleTimeout => f.write_str(
                "the idle timeout must be at least one second; to have no idle limit, call \
                 `no_idle_timeout()`",
            ),
            E::RefreshShare { share } => write!(
                f,
                "the refresh share must be between 0.0 and 1.0, not {share}"
            ),
            E::EpochPeriod => f.write_str(
                "the epoch period must be at least one second; pick one at least as long as \
                 the idle timeout",
            ),
            E::EpochShorterThanIdle { period, idle } => write!(
                f,
                "the epoch period ({period} s) is shorter than the idle timeout ({idle} s): a \
                 session sealed just before a rotation could not be opened after one period \
                 and would end early; use a period of at least {idle} s, or a shorter idle \
                 timeout"
            ),
            E::EpochSkew { period, skew } => write!(
                f,
                "the epoch period ({period} s) must be longer than twice the clock skew \
                 ({skew} s): use a period of at least {} s, or a smaller clock_skew",
                skew.saturating_mul(2).saturating_add(1)
            ),
            E::MaxSessionBytes { bytes, min, max } => write!(
                f,
                "max_session_bytes is {bytes}; it must be between {min} and {max} (a cookie \
                 session holding more is a design error: store an id and keep the data \
                 server-side)"
            ),
            E::SizeWarningShare { share } => write!(
                f,
                "size_warning_share is {share}; it must be above 0 and at most 1 (0.8 warns at \
                 80 % of what the cookies can carry)"
            ),
            E::CookieHeaderBudget => f.write_str(
                "cookie_header_budget is 0 bytes; give a size such as 8192, or None for no budget",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Everything that can go wrong while serving a request.
///
/// A cookie that fails to open is an [`Error::Rejected`] carrying the [`Rejection`] reason,
/// which adapters log and then treat as "no session". A session too large for its cookies is
/// [`Error::TooLarge`].
///
/// ```
/// use sealed_session::{Error, Rejection};
///
/// let err = Error::from(Rejection::BadTag);
/// assert!(err.to_string().contains("tampered with"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
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
    /// [`max_session_bytes`](crate::SessionBuilder::max_session_bytes) (checked before
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
    /// The session's data was read or changed while the application's revalidation check
    /// ([`SessionBuilder::revalidate`](crate::SessionBuilder::revalidate)) was due and had
    /// not answered: the session may have been revoked.
    RevalidationPending,
    /// The session's data was read or changed after the application's revalidation check
    /// answered [`Verdict::Unavailable`](crate::Verdict::Unavailable): it cannot be used in
    /// this request, and the cookie is left as it was.
    RevalidationUnavailable,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
                 for ({reason}): it was written by an older release whose type had other \
                 fields, or stored as another type; version what you store with \
                 `SessionBuilder::schema(version, migrate)` and migrate old values, and use a \
                 `SessionKey<T>` so every read and write agrees on the type"
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
            Error::RevalidationPending => f.write_str(
                "the session was read before its revalidation check answered (it may have \
                 been revoked): take the session through the framework's `Session` \
                 extractor, or call `session.revalidate().await` before reading it; a \
                 middleware or a custom extractor that takes the session from the request's \
                 extensions must await it too",
            ),
            Error::RevalidationUnavailable => f.write_str(
                "the session's revalidation check could not answer (the application's records \
                 are unavailable), so its data cannot be used in this request; the cookie is \
                 left as it was and the next request checks again",
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
}
