//! The rejection log: every rejected cookie at `debug`, and at most one `info` summary a
//! minute with the counts by reason.

use std::sync::atomic::{AtomicU64, Ordering};

use super::SessionEngine;
use crate::error::Rejection;

impl SessionEngine {
    /// Records a rejected cookie: a `debug` event for each, and at most one `info` summary
    /// per minute with the counts by reason, so a client sending garbage on every request
    /// cannot flood the logs.
    ///
    /// Two session cookies that both open ([`Rejection::Ambiguous`]) are an attack on this
    /// user, not a client's garbage: they are also logged at `warn`, at most once a minute.
    pub(crate) fn note_rejection(&self, reason: Rejection, now: u64) {
        tracing::debug!(reason = reason.as_str(), "session cookie rejected");
        let log = &self.inner.log;
        if reason == Rejection::Ambiguous && once_a_minute(&log.last_warning, now) {
            tracing::warn!(
                "two different session cookies of this name both opened: one was planted by \
                 someone who can set cookies for this site (a sibling subdomain, a plain-HTTP \
                 page); the request gets no session and nothing is removed; name the cookie \
                 with the __Host- prefix to rule this out (at most one such warning a minute)"
            );
        }
        log.note(reason, now);
    }

    /// Records a stored value that no longer decodes and was dropped: a warning at most once
    /// a minute (the entry's name and postcard's reason, never the value), and each at
    /// `debug`.
    pub(crate) fn note_undecodable(&self, error: &crate::Error, now: u64) {
        tracing::debug!(error = %error, "undecodable session value dropped");
        if once_a_minute(&self.inner.log.last_undecodable, now) {
            tracing::warn!(
                error = %error,
                "a session value no longer decodes as the type asked for, so it was treated \
                 as absent and dropped from the cookie; if a deploy changed a stored type, \
                 version what you store with `SessionBuilder::schema(version, migrate)` and \
                 migrate old values instead of losing them (at most one such warning a \
                 minute)"
            );
        }
    }

    /// Records an old library's cookie that gave no session: each at `debug`, and a warning
    /// at most once a minute, since an importer that never imports (a wrong key, a
    /// conversion that fails) signs every user out.
    #[cfg(feature = "actix-session-import")]
    pub(crate) fn note_not_imported(&self, why: &crate::import::NotImported, now: u64) {
        tracing::debug!(reason = %why, "old session cookie not imported");
        if once_a_minute(&self.inner.log.last_not_imported, now) {
            tracing::warn!(
                reason = %why,
                "an old session cookie was not imported, and is removed: if this happens for \
                 every user, check the LegacyImport's key and cookie name against the old \
                 application's, and the conversion (at most one such warning a minute)"
            );
        }
    }

    /// Records a session that could not be saved: an `error` event at most once a minute
    /// (with the count since the last), so that a client growing its session past the limit
    /// on every request cannot flood the logs. Details of every one are at `debug`.
    pub(crate) fn note_not_saved(&self, error: &crate::Error, now: u64) {
        let log = &self.inner.log;
        log.not_saved.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(error = %error, "session not saved; the client keeps its last good session");
        if once_a_minute(&log.last_not_saved, now) {
            let count = log.not_saved.swap(0, Ordering::Relaxed);
            tracing::error!(
                error = %error,
                count,
                "session not saved; the client keeps its last good session ({count} since \
                 the last report, at most one such line a minute)"
            );
        }
    }
}

/// Counts rejections by reason between `info` summaries, and sessions that could not be
/// saved between `error` lines.
#[derive(Default)]
pub(super) struct RejectionLog {
    counts: [AtomicU64; Rejection::COUNT],
    last_report: AtomicU64,
    last_warning: AtomicU64,
    last_undecodable: AtomicU64,
    #[cfg(feature = "actix-session-import")]
    last_not_imported: AtomicU64,
    not_saved: AtomicU64,
    last_not_saved: AtomicU64,
}

/// Whether a rate-limited line may be logged at `now` (one a minute), claiming the slot.
fn once_a_minute(last: &AtomicU64, now: u64) -> bool {
    let prev = last.load(Ordering::Relaxed);
    (prev == 0 || now >= prev.saturating_add(REPORT_EVERY))
        && last
            .compare_exchange(prev, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Seconds between two rejection summaries.
const REPORT_EVERY: u64 = 60;

impl RejectionLog {
    fn note(&self, reason: Rejection, now: u64) {
        if let Some(c) = self.counts.get(reason.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let last = self.last_report.load(Ordering::Relaxed);
        if now < last.saturating_add(REPORT_EVERY)
            || self
                .last_report
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let mut summary = String::new();
        let mut total = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            let n = c.swap(0, Ordering::Relaxed);
            if n > 0 {
                total += n;
                if !summary.is_empty() {
                    summary.push_str(", ");
                }
                summary.push_str(Rejection::name_at(i));
                summary.push('=');
                summary.push_str(&n.to_string());
            }
        }
        tracing::info!(
            total,
            reasons = %summary,
            "session cookies rejected since the last report (each treated as no session; \
             per-request detail at debug level)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionBuilder;
    use crate::keys::Secret;
    use std::sync::{Arc, Mutex};
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Collects the level of every event.
    #[derive(Clone, Default)]
    struct Levels(Arc<Mutex<Vec<tracing::Level>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Levels {
        fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.lock().unwrap().push(*e.metadata().level());
        }
    }

    /// A builder on a clock the test moves (the returned handle), from 1,000,000 s.
    fn on_test_clock() -> (SessionBuilder, Arc<AtomicU64>) {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let t = now.clone();
        let builder = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
            .clock(move || t.load(Ordering::SeqCst));
        (builder, now)
    }

    /// The level of every event `f` emits.
    fn levels_of(f: impl FnOnce()) -> Vec<tracing::Level> {
        let levels = Levels::default();
        with_default(tracing_subscriber::registry().with(levels.clone()), f);
        levels.0.lock().unwrap().clone()
    }

    #[test]
    fn a_flood_of_bad_cookies_writes_one_info_line_a_minute() {
        let (builder, now) = on_test_clock();
        let engine = builder.cookie_name("session").build().unwrap();
        let levels = levels_of(|| {
            for i in 0..1000u64 {
                if i == 500 {
                    now.fetch_add(REPORT_EVERY, Ordering::SeqCst);
                }
                let session = engine.start([&b"session=garbage"[..]]);
                assert!(session.is_empty());
                session.finish(&mut http::Response::new(())).unwrap();
            }
        });
        let info = levels
            .iter()
            .filter(|l| **l <= tracing::Level::INFO)
            .count();
        assert_eq!(
            info, 2,
            "one summary at the first rejection, one a minute later"
        );
        assert_eq!(levels.len() - info, 1000, "every rejection at debug level");
    }

    #[test]
    fn a_client_growing_its_session_past_the_limit_writes_one_error_line_a_minute() {
        let (builder, now) = on_test_clock();
        let engine = builder
            .compression(crate::Compression::Off)
            .build()
            .unwrap();
        let levels = levels_of(|| {
            for i in 0..100u64 {
                if i == 50 {
                    now.fetch_add(REPORT_EVERY, Ordering::SeqCst);
                }
                let session = engine.start_headers(&http::HeaderMap::new());
                session.insert("blob", &vec![7u8; 5000]).unwrap();
                assert!(session.finish(&mut http::Response::new(())).is_err());
            }
        });
        let errors = levels
            .iter()
            .filter(|l| **l == tracing::Level::ERROR)
            .count();
        assert_eq!(errors, 2, "one line at the first, one a minute later");
    }
}
