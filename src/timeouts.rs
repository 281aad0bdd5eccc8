//! Timeouts: the idle deadline and the absolute lifetime, enforced from the timestamps
//! inside the sealed body, and when an unchanged session is due for a refresh.
//!
//! Everything here works on a session's two times, in Unix seconds: `created` (creation or
//! the last renewal) and `refreshed` (the last idle refresh). The fleet's clock skew is
//! handed in: it is the engine's, not the timeouts'.

use std::time::Duration;

use crate::error::{ConfigError, Rejection};

/// The session's time limits: what an engine was built with
/// ([`SessionEngine::timeouts`](crate::SessionEngine::timeouts)).
///
/// Timestamps are whole seconds, rounded down. A session is rejected only once the clock is
/// *past* its deadline (a deadline is the last second it is accepted), so it never ends
/// before the configured idle time or lifetime has really passed; the `Max-Age` sent with a
/// cookie is `deadline - now`.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Secret, SessionBuilder};
///
/// let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
/// let t = engine.timeouts();
/// assert_eq!(t.idle(), Some(Duration::from_secs(86_400)));
/// assert_eq!(t.absolute(), Duration::from_secs(7 * 86_400));
/// assert_eq!(t.refresh_share(), 0.25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    idle: Option<u64>,
    absolute: u64,
    refresh_share: f64,
}

impl Timeouts {
    /// Checked limits: an `idle` timeout (`None`: no idle limit), an `absolute` lifetime, and
    /// the share of the idle timeout after which an unchanged session's deadline is
    /// refreshed (0.0: on every request; 1.0: never before it expires).
    pub(crate) fn new(
        idle: Option<Duration>,
        absolute: Duration,
        refresh_share: f64,
    ) -> Result<Timeouts, ConfigError> {
        if absolute.as_secs() == 0 {
            return Err(ConfigError::AbsoluteTimeout);
        }
        if idle.is_some_and(|i| i.as_secs() == 0) {
            return Err(ConfigError::IdleTimeout);
        }
        if !(0.0..=1.0).contains(&refresh_share) {
            return Err(ConfigError::RefreshShare {
                share: refresh_share,
            });
        }
        Ok(Timeouts {
            idle: idle.map(|d| d.as_secs()),
            absolute: absolute.as_secs(),
            refresh_share,
        })
    }

    /// The idle timeout; `None` without an idle limit.
    pub fn idle(&self) -> Option<Duration> {
        self.idle.map(Duration::from_secs)
    }

    /// The absolute lifetime, from creation or the last renewal.
    pub fn absolute(&self) -> Duration {
        Duration::from_secs(self.absolute)
    }

    /// The share of the idle timeout after which an unchanged session's deadline is
    /// refreshed.
    pub fn refresh_share(&self) -> f64 {
        self.refresh_share
    }

    /// The last second at which a session created at `created` is within its absolute
    /// lifetime.
    pub(crate) fn absolute_deadline(&self, created: u64) -> u64 {
        created.saturating_add(self.absolute)
    }

    /// The last second at which a session refreshed at `refreshed` is within its idle
    /// timeout (never after its absolute deadline); `None` without an idle limit.
    pub(crate) fn idle_deadline(&self, created: u64, refreshed: u64) -> Option<u64> {
        let idle = refreshed.saturating_add(self.idle?);
        Some(idle.min(self.absolute_deadline(created)))
    }

    /// The earlier of the two deadlines: the last second the session is accepted, and what
    /// `Max-Age` counts down to (`Max-Age = deadline - now`).
    pub(crate) fn deadline(&self, created: u64, refreshed: u64) -> u64 {
        self.idle_deadline(created, refreshed)
            .unwrap_or_else(|| self.absolute_deadline(created))
    }

    /// Checks a just-opened session's times against the limits at `now`, with `skew` seconds
    /// of leeway for a time ahead of this instance's clock.
    ///
    /// Timestamps are whole seconds, rounded down: a session stamped `t` was sealed at some
    /// real time in `[t, t + 1)`. A deadline `d` is therefore the *last* second at which the
    /// session is accepted, and it is rejected from `d + 1` on, so it never ends before the
    /// configured time has really passed (it may live up to one second longer). `Max-Age` is
    /// `d - now`: the browser keeps the cookie the configured time from when it receives it
    /// and drops it no later than the server stops accepting it.
    pub(crate) fn check(
        &self,
        created: u64,
        refreshed: u64,
        now: u64,
        skew: u64,
    ) -> Result<(), Rejection> {
        // Either time ahead of this instance's clock by more than the skew was not written
        // by a healthy instance of this fleet: an idle deadline pushed into the future would
        // outlive the idle timeout.
        if created.max(refreshed) > now.saturating_add(skew) {
            return Err(Rejection::FromTheFuture);
        }
        if now > self.absolute_deadline(created) {
            return Err(Rejection::AbsoluteExpired);
        }
        if self
            .idle_deadline(created, refreshed)
            .is_some_and(|d| now > d)
        {
            return Err(Rejection::IdleExpired);
        }
        Ok(())
    }

    /// Whether an unchanged session last refreshed at `refreshed` should be refreshed at
    /// `now` to push its idle deadline forward.
    pub(crate) fn refresh_due(&self, refreshed: u64, now: u64) -> bool {
        let Some(idle) = self.idle else {
            return false;
        };
        if self.refresh_share == 0.0 {
            return true;
        }
        // Whole seconds, and at least one: timestamps have one-second resolution.
        let after = ((idle as f64 * self.refresh_share) as u64).max(1);
        now.saturating_sub(refreshed) >= after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts(idle: Option<u64>, absolute: u64, share: f64) -> Timeouts {
        Timeouts::new(
            idle.map(Duration::from_secs),
            Duration::from_secs(absolute),
            share,
        )
        .unwrap()
    }

    #[test]
    fn expiry_idle_absolute_and_skew() {
        let e = timeouts(Some(100), 1000, 0.25);
        assert_eq!(e.check(1000, 1500, 1600, 60), Ok(()));
        assert_eq!(e.check(1000, 1500, 1601, 60), Err(Rejection::IdleExpired));
        assert_eq!(e.check(1000, 1990, 2000, 60), Ok(()));
        assert_eq!(
            e.check(1000, 1990, 2001, 60),
            Err(Rejection::AbsoluteExpired)
        );
        assert_eq!(e.check(1060, 1060, 1000, 60), Ok(()), "within the leeway");
        assert_eq!(e.check(1061, 1061, 1000, 60), Err(Rejection::FromTheFuture));
        // A refresh time ahead of the clock is as suspect as a creation time.
        assert_eq!(e.check(900, 1060, 1000, 60), Ok(()), "within the leeway");
        assert_eq!(e.check(900, 1061, 1000, 60), Err(Rejection::FromTheFuture));
    }

    /// A session refreshed at real time 1500.9 is stamped 1500; at real time 1600.0 (clock
    /// reading 1600) only 99.1 s of a 100 s idle timeout have passed, so it must still open.
    /// The same for the absolute lifetime. `Max-Age` (deadline - now) then equals the
    /// configured time, as the browser counts it from receipt.
    #[test]
    fn expiry_is_never_early_at_whole_second_resolution() {
        let e = timeouts(Some(100), 1000, 0.25);
        assert_eq!(
            e.check(1500, 1500, 1600, 0),
            Ok(()),
            "99.1 s idle is not 100 s"
        );
        assert_eq!(
            e.check(1000, 1950, 2000, 0),
            Ok(()),
            "999.1 s old is not 1000 s"
        );
        assert_eq!(e.deadline(1500, 1500), 1600);
        // Sealed at 1500: Max-Age = deadline - now = the idle timeout exactly.
        assert_eq!(e.deadline(1500, 1500) - 1500, 100);
    }

    #[test]
    fn refresh_only_after_the_share_has_passed() {
        let e = timeouts(Some(100), 1000, 0.25);
        assert!(!e.refresh_due(1000, 1024));
        assert!(e.refresh_due(1000, 1025));
        assert!(timeouts(Some(100), 1000, 0.0).refresh_due(1000, 1000));
        assert!(!timeouts(None, 1000, 0.25).refresh_due(1000, 1999));
    }

    #[test]
    fn limits_are_checked() {
        let d = Duration::from_secs;
        assert_eq!(
            Timeouts::new(None, Duration::ZERO, 0.5),
            Err(ConfigError::AbsoluteTimeout)
        );
        assert_eq!(
            Timeouts::new(Some(Duration::ZERO), d(1), 0.5),
            Err(ConfigError::IdleTimeout)
        );
        assert!(Timeouts::new(None, d(1), 1.5).is_err());
    }
}
