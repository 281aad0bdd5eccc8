//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`):
//! the names below, recorded by the engine on every request. Nothing is recorded until the
//! application installs a recorder (for example `metrics-exporter-prometheus`); without the
//! feature the hooks compile to nothing.
//!
//! | name | kind | labels | what it answers |
//! |---|---|---|---|
//! | [`OPENS`] | counter | `outcome` (`opened`, `no_cookie`, `rejected`), `reason` ([`Rejection::as_str`], empty unless rejected) | how many cookies fail, and why |
//! | [`OPENS_BY_KEY`] | counter | `algorithm`, `key_id` (a key ring's key: hex, as `sealed-session key-ids` prints; an epoch key: `epoch:previous`, `epoch:current`, `epoch:next`), `primary` (`true`, `false`) | which keys sessions still use: once `primary="false"` stays at zero, the old secret can go |
//! | [`SEALED_BYTES`] | histogram | | bytes of each sealed value written (all chunks) |
//! | [`SEALED_CHUNKS`] | histogram | | cookies each sealed value needed |
//! | [`SIZE_WARNINGS`] | counter | | sealed values past [`size_warning_share`](crate::SessionBuilder::size_warning_share) of what the cookies can carry |
//! | [`TOO_LARGE`] | counter | | sessions that no longer fit in their cookies (not saved) |
//! | [`COOKIE_HEADER_BYTES`] | histogram | | bytes of each request's `Cookie` header (all cookies, not only the session's) |
//! | [`COOKIE_HEADER_OVER_BUDGET`] | counter | | requests whose `Cookie` header passed [`cookie_header_budget`](crate::SessionBuilder::cookie_header_budget) |
//!
//! The two warning counters also log a `warn` event, at most one a minute each, so a hot
//! path cannot flood the logs. Key-id labels come only from values that authenticated, so a
//! client cannot create label values.
//!
//! ```
//! assert_eq!(sealed_session::metrics::OPENS, "sealed_session_opens_total");
//! ```

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

#[cfg(doc)]
use crate::error::Rejection;
use crate::keys::{Algorithm, KeyId};

/// Counter: cookies opened, by `outcome` and `reason`.
pub const OPENS: &str = "sealed_session_opens_total";
/// Counter: cookies opened, by `algorithm`, `key_id` and `primary`.
pub const OPENS_BY_KEY: &str = "sealed_session_opens_by_key_total";
/// Histogram: bytes of each sealed value written.
pub const SEALED_BYTES: &str = "sealed_session_sealed_bytes";
/// Histogram: cookies each sealed value needed.
pub const SEALED_CHUNKS: &str = "sealed_session_sealed_chunks";
/// Counter: sealed values past the configured share of the cookies' capacity.
pub const SIZE_WARNINGS: &str = "sealed_session_size_warnings_total";
/// Counter: sessions too large for their cookies.
pub const TOO_LARGE: &str = "sealed_session_too_large_total";
/// Histogram: bytes of each request's `Cookie` header values.
pub const COOKIE_HEADER_BYTES: &str = "sealed_session_cookie_header_bytes";
/// Counter: requests whose `Cookie` header passed the configured budget.
pub const COOKIE_HEADER_OVER_BUDGET: &str = "sealed_session_cookie_header_over_budget_total";

/// Records how a request's cookie turned out: `outcome` is `opened`, `no_cookie` or
/// `rejected`, `reason` a [`Rejection::as_str`] name or empty.
#[inline]
pub(crate) fn opened(outcome: &'static str, reason: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(OPENS, "outcome" => outcome, "reason" => reason).increment(1);
}

/// Which key opened a value, as the `key_id` label names it: a key ring's key by its id
/// (one series per secret the operator configured), an epoch key by its place relative to
/// the current epoch (three series at most, however long the process runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyLabel {
    /// A key ring's key.
    Id(KeyId),
    /// An epoch key: `epoch:previous`, `epoch:current` or `epoch:next`.
    Epoch(&'static str),
}

/// Records the key that opened an authenticated value.
#[inline]
pub(crate) fn opened_key(algorithm: Algorithm, key: KeyLabel, primary: bool) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(
        OPENS_BY_KEY,
        "algorithm" => algorithm.name(),
        "key_id" => match key {
            KeyLabel::Id(id) => std::borrow::Cow::Owned(id.to_string()),
            KeyLabel::Epoch(place) => std::borrow::Cow::Borrowed(place),
        },
        "primary" => if primary { "true" } else { "false" },
    )
    .increment(1);
}

/// Records a sealed value of `value_len` bytes about to be written in `chunks` cookies (or
/// `None`: too large for `max_cookies`), and warns when it comes close to (or past) the
/// `capacity` its cookies can carry: past `warn_share` of it.
#[cfg(feature = "metrics")]
pub(crate) fn sealed(
    value_len: usize,
    chunks: Option<usize>,
    capacity: usize,
    max_cookies: usize,
    warn_share: f64,
    now: u64,
) {
    ::metrics::histogram!(SEALED_BYTES).record(value_len as f64);
    let Some(chunks) = chunks else {
        ::metrics::counter!(TOO_LARGE).increment(1);
        return;
    };
    ::metrics::histogram!(SEALED_CHUNKS).record(chunks as f64);
    if value_len as f64 > warn_share * capacity as f64 {
        ::metrics::counter!(SIZE_WARNINGS).increment(1);
        if warn_due(&LAST_SIZE_WARNING, now) {
            tracing::warn!(
                bytes = value_len,
                capacity,
                max_cookies,
                "a session cookie is past {:.0} % of what its cookies can carry; store \
                 less in the session, or raise max_cookies before sessions stop being \
                 saved (at most one such warning a minute)",
                warn_share * 100.0
            );
        }
    }
}

/// Records the size of a request's `Cookie` header and warns past the `budget`; reads the
/// clock (`now`) only then.
#[cfg(feature = "metrics")]
pub(crate) fn request_header(bytes: usize, budget: Option<usize>, now: impl FnOnce() -> u64) {
    ::metrics::histogram!(COOKIE_HEADER_BYTES).record(bytes as f64);
    if let Some(budget) = budget.filter(|b| bytes > *b) {
        ::metrics::counter!(COOKIE_HEADER_OVER_BUDGET).increment(1);
        if warn_due(&LAST_HEADER_WARNING, now()) {
            tracing::warn!(
                bytes,
                budget,
                "a request's Cookie header is over the configured budget; proxies refuse \
                 large headers (nginx: 8 KiB by default) with 400 or 431 before the app \
                 sees them: store less in cookies (at most one such warning a minute)"
            );
        }
    }
}

#[cfg(feature = "metrics")]
static LAST_SIZE_WARNING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
#[cfg(feature = "metrics")]
static LAST_HEADER_WARNING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether a rate-limited warning may be logged at `now` (one a minute), claiming the slot.
#[cfg(feature = "metrics")]
fn warn_due(last: &std::sync::atomic::AtomicU64, now: u64) -> bool {
    use std::sync::atomic::Ordering;
    let prev = last.load(Ordering::Relaxed);
    (prev == 0 || now >= prev.saturating_add(60))
        && last
            .compare_exchange(prev, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}
