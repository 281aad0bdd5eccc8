//! Why a session cookie did not open: one table of reasons, their names, whether the
//! cookie is removed, and what each means for the operator.

use std::fmt;

/// Why a session cookie could not be opened.
///
/// These are safe to log: they describe the failure, never the cookie's contents. None of
/// them is a server error (a client can always send garbage), so adapters treat every
/// rejection as "no session" and, when [`remove_cookie`](Rejection::remove_cookie) says so,
/// remove the cookie.
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
    /// The session was written under an older [schema](crate::SessionBuilder::schema) version
    /// that the migration dropped (or there is no migration): a new session starts.
    OldSchema,
    /// The session was written under a newer schema version (by an instance of the next
    /// release, during a rolling deploy): no session here, but the cookie is kept.
    NewerSchema,
    /// Two different values of the session cookie's name both opened: one of them was
    /// planted by someone who can set cookies for this site (a sibling subdomain, a
    /// plain-HTTP page), so neither is trusted. No session, nothing removed, a warning
    /// logged; the `__Host-` prefix prevents it.
    Ambiguous,
}

/// One row per [`Rejection`], in declaration order: its stable name, whether a response
/// removes a cookie rejected for it, and what it means for the operator.
///
/// A cookie is not removed when another healthy instance may still accept it: a key this
/// instance does not have yet (a rollout in progress; an epoch key from an instance whose
/// clock is ahead), a creation time ahead of this instance's clock, a newer schema; nor when
/// the request's cookies were not read at all (too many): nothing is known to be ours.
const REASONS: [(&str, bool, &str); Rejection::COUNT] = [
    (
        "header_too_large",
        false,
        "the request carried more cookie data than the session reader accepts; the client should clear its cookies for this site",
    ),
    (
        "bad_chunks",
        true,
        "the session was split across several cookies but a chunk is missing or the chunk count is invalid; the client dropped a cookie, or `max_cookies` was lowered since it was written",
    ),
    ("bad_base64", true, "the session cookie is not base64url"),
    (
        "too_short",
        true,
        "the session cookie is too short to be sealed",
    ),
    (
        "too_long",
        true,
        "the session cookie is longer than any value this server writes",
    ),
    (
        "unknown_version",
        true,
        "the session cookie uses a format version this build cannot open; upgrade sealed-session on every instance before issuing it",
    ),
    (
        "unknown_algorithm",
        true,
        "the session cookie names an algorithm id this build does not know",
    ),
    (
        "unknown_key",
        false,
        "the session cookie was sealed under a key that is not in the key ring; if you rotated keys, keep the old secret as a fallback for one session lifetime",
    ),
    (
        "future_key",
        false,
        "the session cookie was sealed under the next epoch's key by an instance whose clock is ahead of this one by more than the clock skew; synchronise the clocks (NTP) or raise `clock_skew`",
    ),
    (
        "bad_tag",
        true,
        "the session cookie failed authentication: it was tampered with, corrupted, or sealed for another cookie name",
    ),
    (
        "bad_flags",
        true,
        "the session payload has flags this build does not know",
    ),
    (
        "bad_compression",
        true,
        "the session payload failed to decompress or exceeded the decompression cap",
    ),
    (
        "bad_payload",
        true,
        "the session payload is not a valid session encoding",
    ),
    (
        "idle_expired",
        true,
        "the session expired: its idle timeout passed without activity",
    ),
    (
        "absolute_expired",
        true,
        "the session expired: it reached its absolute lifetime",
    ),
    (
        "from_the_future",
        false,
        "the session claims a time in the future beyond the clock-skew leeway; check the clocks of your servers or raise `clock_skew`",
    ),
    (
        "old_schema",
        true,
        "the session was written under an older schema version and the migration dropped it (or `SessionBuilder::schema` has no migration for it); the user starts a new session",
    ),
    (
        "newer_schema",
        false,
        "the session was written under a newer schema version, by an instance of a later release; finish the rolling deploy (the cookie is kept for it)",
    ),
    (
        "ambiguous",
        false,
        "two different session cookies of this name both opened, so one was planted by someone who can set cookies for this site (a sibling subdomain, a plain-HTTP page): neither is used; name the cookie with the __Host- prefix to rule this out",
    ),
];

impl Rejection {
    /// How many reasons there are (for per-reason counters).
    pub(crate) const COUNT: usize = 19;

    /// A dense index per reason, `0..COUNT`, in declaration order: its row in [`REASONS`].
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
            Rejection::Ambiguous => 18,
        }
    }

    fn row(self) -> (&'static str, bool, &'static str) {
        REASONS
            .get(self.index())
            .copied()
            .unwrap_or(("unknown", false, ""))
    }

    /// A short, stable, machine-friendly name for the reason (for logs and metrics labels).
    ///
    /// ```
    /// assert_eq!(sealed_session::Rejection::BadTag.as_str(), "bad_tag");
    /// ```
    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The [`as_str`](Rejection::as_str) name of the reason with index `i`.
    pub(crate) fn name_at(i: usize) -> &'static str {
        REASONS.get(i).map_or("unknown", |r| r.0)
    }

    /// Whether the response should delete a cookie rejected for this reason: not when
    /// another healthy instance may still accept it (a key this instance does not have yet,
    /// a time or schema ahead of this instance), nor when the request's cookies were not
    /// read at all. Every other reason is a cookie nobody can open.
    ///
    /// ```
    /// use sealed_session::Rejection;
    /// assert!(Rejection::BadTag.remove_cookie());
    /// assert!(!Rejection::UnknownKey.remove_cookie());
    /// ```
    pub fn remove_cookie(self) -> bool {
        self.row().1
    }

    /// True for the expiry reasons: the cookie was genuine but its time is up (or not yet
    /// come).
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
        f.write_str(self.row().2)?;
        match self {
            Rejection::UnknownVersion(v) => write!(f, " (version {v})"),
            Rejection::UnknownAlgorithm(a) => write!(f, " (algorithm id {a})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

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
            Rejection::Ambiguous,
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
        assert!(
            Rejection::UnknownVersion(7)
                .to_string()
                .ends_with("(version 7)")
        );
    }

    #[test]
    fn removal_follows_the_table() {
        for r in [
            Rejection::HeaderTooLarge,
            Rejection::UnknownKey,
            Rejection::FutureKey,
            Rejection::FromTheFuture,
            Rejection::NewerSchema,
            Rejection::Ambiguous,
        ] {
            assert!(!r.remove_cookie(), "{r:?}");
        }
        assert!(Rejection::BadTag.remove_cookie());
        assert!(Rejection::IdleExpired.remove_cookie());
    }
}
