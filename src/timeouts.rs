//! Timeouts: the idle deadline and the absolute lifetime, enforced from the timestamps
//! inside the sealed body, and when an unchanged session is due for a refresh.

use std::time::Duration;

use crate::error::{Error, Rejection};
use crate::state::SessionState;

/// The session's time limits, enforced from the timestamps inside the sealed body.
///
/// Timestamps are whole seconds, rounded down. A session is rejected only once the clock is
/// *past* its deadline ([`Expiry::deadline`] is the last second it is accepted), so it never
/// ends before the configured idle time or lifetime has really passed; the `Max-Age` sent
/// with a sealed cookie is `deadline - now`.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::Expiry;
///
/// let e = Expiry::default();
/// assert_eq!(e.idle(), Some(Duration::from_secs(86_400)));
/// assert_eq!(e.absolute(), Duration::from_secs(7 * 86_400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expiry {
    idle: Option<u64>,
    absolute: u64,
    refresh_share: f64,
    skew: u64,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            idle: Some(86_400),
            absolute: 7 * 86_400,
            refresh_share: 0.25,
            skew: 60,
        }
    }
}

impl Expiry {
    /// Limits: `idle` timeout (`None`: no idle limit), `absolute` lifetime, the share of the
    /// idle timeout that must pass before an unchanged session's deadline is refreshed
    /// (0.0 refreshes on every request; 1.0 never before it expires), and the clock-skew
    /// leeway for a creation time slightly in the future.
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = sealed_session::Expiry::new(
    ///     Some(Duration::from_secs(1800)), Duration::from_secs(86_400), 0.5, Duration::from_secs(30),
    /// ).unwrap();
    /// assert_eq!(e.refresh_share(), 0.5);
    /// assert!(sealed_session::Expiry::new(None, Duration::ZERO, 0.5, Duration::ZERO).is_err());
    /// ```
    pub fn new(
        idle: Option<Duration>,
        absolute: Duration,
        refresh_share: f64,
        skew: Duration,
    ) -> Result<Expiry, Error> {
        if absolute.as_secs() == 0 {
            return Err(Error::Config(
                "the absolute lifetime must be at least one second".into(),
            ));
        }
        if idle.is_some_and(|i| i.as_secs() == 0) {
            return Err(Error::Config(
                "the idle timeout must be at least one second, or None for no idle limit".into(),
            ));
        }
        if !(0.0..=1.0).contains(&refresh_share) {
            return Err(Error::Config(format!(
                "the refresh share must be between 0.0 and 1.0, not {refresh_share}"
            )));
        }
        Ok(Expiry {
            idle: idle.map(|d| d.as_secs()),
            absolute: absolute.as_secs(),
            refresh_share,
            skew: skew.as_secs(),
        })
    }

    /// The idle timeout.
    ///
    /// ```
    /// assert!(sealed_session::Expiry::default().idle().is_some());
    /// ```
    pub fn idle(&self) -> Option<Duration> {
        self.idle.map(Duration::from_secs)
    }

    /// The absolute lifetime.
    ///
    /// ```
    /// assert_eq!(sealed_session::Expiry::default().absolute().as_secs(), 604_800);
    /// ```
    pub fn absolute(&self) -> Duration {
        Duration::from_secs(self.absolute)
    }

    /// The share of the idle timeout after which the deadline is refreshed.
    ///
    /// ```
    /// assert_eq!(sealed_session::Expiry::default().refresh_share(), 0.25);
    /// ```
    pub fn refresh_share(&self) -> f64 {
        self.refresh_share
    }

    /// The clock-skew leeway.
    ///
    /// ```
    /// assert_eq!(sealed_session::Expiry::default().clock_skew().as_secs(), 60);
    /// ```
    pub fn clock_skew(&self) -> Duration {
        Duration::from_secs(self.skew)
    }

    /// The last second (Unix time) at which `session` is within its absolute lifetime, once
    /// it has been sealed: it is rejected from the next second on. Timestamps are rounded
    /// down, so this never ends a session before the lifetime has really passed.
    ///
    /// ```
    /// # use sealed_session::{Expiry, SessionState};
    /// let s = SessionState::new().with_timestamps(1000, 1000);
    /// assert_eq!(Expiry::default().absolute_deadline(&s), Some(1000 + 604_800));
    /// ```
    pub fn absolute_deadline(&self, session: &SessionState) -> Option<u64> {
        session.created_at.map(|c| c.saturating_add(self.absolute))
    }

    /// The last second (Unix time) at which `session` is within its idle timeout (rejected
    /// from the next second on): `None` before it is sealed or without an idle limit.
    ///
    /// ```
    /// # use sealed_session::{Expiry, SessionState};
    /// let s = SessionState::new().with_timestamps(1000, 2000);
    /// assert_eq!(Expiry::default().idle_deadline(&s), Some(2000 + 86_400));
    /// ```
    pub fn idle_deadline(&self, session: &SessionState) -> Option<u64> {
        Some(session.refreshed_at?.saturating_add(self.idle?))
    }

    /// The earlier of the two deadlines: the last second the session is accepted, and what
    /// `Max-Age` counts down to (`Max-Age = deadline - now`).
    ///
    /// ```
    /// # use sealed_session::{Expiry, SessionState};
    /// let s = SessionState::new().with_timestamps(0, 604_000);
    /// assert_eq!(Expiry::default().deadline(&s), Some(604_800));
    /// ```
    pub fn deadline(&self, session: &SessionState) -> Option<u64> {
        let abs = self.absolute_deadline(session)?;
        Some(self.idle_deadline(session).map_or(abs, |i| i.min(abs)))
    }

    /// Checks a just-opened session against the limits at `now`.
    ///
    /// Timestamps are whole seconds, rounded down: a session stamped `t` was sealed at some
    /// real time in `[t, t + 1)`. A deadline `d` is therefore the *last* second at which the
    /// session is accepted, and it is rejected from `d + 1` on, so it never ends before the
    /// configured time has really passed (it may live up to one second longer). `Max-Age` is
    /// `d - now`: the browser keeps the cookie the configured time from when it receives it
    /// and drops it no later than the server stops accepting it.
    pub(crate) fn check(&self, session: &SessionState, now: u64) -> Result<(), Rejection> {
        let created = session.created_at.unwrap_or(0);
        if created > now.saturating_add(self.skew) {
            return Err(Rejection::FromTheFuture);
        }
        if self.absolute_deadline(session).is_some_and(|d| now > d) {
            return Err(Rejection::AbsoluteExpired);
        }
        if self.idle_deadline(session).is_some_and(|d| now > d) {
            return Err(Rejection::IdleExpired);
        }
        Ok(())
    }

    /// Whether an unchanged session should be re-sealed to push its idle deadline forward.
    pub(crate) fn refresh_due(&self, session: &SessionState, now: u64) -> bool {
        let (Some(idle), Some(refreshed)) = (self.idle, session.refreshed_at) else {
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

    #[test]
    fn expiry_idle_absolute_and_skew() {
        let e = Expiry::new(
            Some(Duration::from_secs(100)),
            Duration::from_secs(1000),
            0.25,
            Duration::from_secs(60),
        )
        .unwrap();
        let s = SessionState::new().with_timestamps(1000, 1500);
        assert_eq!(e.check(&s, 1600), Ok(()));
        assert_eq!(e.check(&s, 1601), Err(Rejection::IdleExpired));
        let s = SessionState::new().with_timestamps(1000, 1990);
        assert_eq!(e.check(&s, 2000), Ok(()));
        assert_eq!(e.check(&s, 2001), Err(Rejection::AbsoluteExpired));
        let s = SessionState::new().with_timestamps(1060, 1060);
        assert_eq!(e.check(&s, 1000), Ok(()), "within the leeway");
        let s = SessionState::new().with_timestamps(1061, 1061);
        assert_eq!(e.check(&s, 1000), Err(Rejection::FromTheFuture));
    }

    /// Issue 10.9: a session refreshed at real time 1500.9 is stamped 1500; at real time
    /// 1600.0 (clock reading 1600) only 99.1 s of a 100 s idle timeout have passed, so it must
    /// still open. The same for the absolute lifetime. `Max-Age` (deadline - now) then equals
    /// the configured time, as the browser counts it from receipt.
    #[test]
    fn expiry_is_never_early_at_whole_second_resolution() {
        let e = Expiry::new(
            Some(Duration::from_secs(100)),
            Duration::from_secs(1000),
            0.25,
            Duration::ZERO,
        )
        .unwrap();
        let idle = SessionState::new().with_timestamps(1500, 1500);
        assert_eq!(e.check(&idle, 1600), Ok(()), "99.1 s idle is not 100 s");
        let old = SessionState::new().with_timestamps(1000, 1950);
        assert_eq!(e.check(&old, 2000), Ok(()), "999.1 s old is not 1000 s");
        assert_eq!(e.deadline(&idle), Some(1600));
        // Sealed at 1500: Max-Age = deadline - now = the idle timeout exactly.
        assert_eq!(e.deadline(&idle).unwrap() - 1500, 100);
    }

    #[test]
    fn refresh_only_after_the_share_has_passed() {
        let e = Expiry::new(
            Some(Duration::from_secs(100)),
            Duration::from_secs(1000),
            0.25,
            Duration::ZERO,
        )
        .unwrap();
        let s = SessionState::new().with_timestamps(0, 1000);
        assert!(!e.refresh_due(&s, 1024));
        assert!(e.refresh_due(&s, 1025));
        let every = Expiry::new(
            Some(Duration::from_secs(100)),
            Duration::from_secs(1000),
            0.0,
            Duration::ZERO,
        )
        .unwrap();
        assert!(every.refresh_due(&s, 1000));
        let none = Expiry::new(None, Duration::from_secs(1000), 0.25, Duration::ZERO).unwrap();
        assert!(!none.refresh_due(&s, 1999));
    }
}
