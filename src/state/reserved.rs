//! The crate's own entries in a session map: queued flash messages and the CSRF secret.
//!
//! They live in the same map as the application's entries (so they cost nothing when
//! unused, and ride in the same sealed value), under names that start with a NUL byte, which
//! [`SessionState::insert`] refuses to the application (FORMAT.md, *Session bytes → The
//! crate's own entries*).

use serde::{Deserialize, Serialize};

use super::{SessionState, SessionStatus};
use crate::error::Error;

/// The entry of queued flash messages: postcard of a sequence of [`FlashMessage`].
pub(crate) const FLASH_KEY: &str = "\0flash";

/// The entry of the CSRF secret: 32 random bytes (postcard of `[u8; 32]`, the bytes as
/// they are).
pub(crate) const CSRF_KEY: &str = "\0csrf";

/// The most flash messages a session queues; older ones give way.
const MAX_FLASHES: usize = 16;

/// Whether `key` names one of the crate's own entries.
pub(crate) fn is_reserved(key: &str) -> bool {
    key.starts_with('\0')
}

/// How a flash message should be shown.
///
/// Serialized (for a JSON response, say) as its lowercase name: `"success"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashLevel {
    /// Detail for developers.
    Debug,
    /// Neutral news.
    Info,
    /// Something worked ("Welcome back").
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

/// A message queued during one request for the next one that reads flashes (after a
/// redirect, typically): see [`Session::flash`](crate::Session::flash).
///
/// Serialized as `{"level": "success", "text": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashMessage {
    /// How to show it.
    pub level: FlashLevel,
    /// What it says.
    pub text: String,
}

impl SessionState {
    /// Queues a flash message for the next request that reads them
    /// ([`take_flashes`](SessionState::take_flashes)). At most 16 wait; a 17th pushes out
    /// the oldest.
    ///
    /// ```
    /// use sealed_session::{FlashLevel, SessionState};
    /// let mut s = SessionState::new();
    /// s.flash(FlashLevel::Success, "Saved").unwrap();
    /// assert!(s.is_empty(), "a flash is not the application's data");
    /// assert_eq!(s.take_flashes()[0].text, "Saved");
    /// assert!(s.take_flashes().is_empty(), "read once");
    /// ```
    pub fn flash(&mut self, level: FlashLevel, text: impl Into<String>) -> Result<(), Error> {
        let mut queued = self.queued_flashes();
        if queued.len() >= MAX_FLASHES {
            queued.remove(0);
        }
        queued.push(FlashMessage {
            level,
            text: text.into(),
        });
        self.insert_raw(FLASH_KEY, &queued)
    }

    /// The queued flash messages, oldest first, removed from the session: each is read once.
    /// Reading other entries does not consume them.
    pub fn take_flashes(&mut self) -> Vec<FlashMessage> {
        let queued = self.queued_flashes();
        if self.entries.remove(FLASH_KEY) {
            self.mark(SessionStatus::Changed);
        }
        queued
    }

    /// The queued flash messages, left in place (an entry that does not decode is none).
    fn queued_flashes(&self) -> Vec<FlashMessage> {
        self.entries
            .get(FLASH_KEY)
            .and_then(|bytes| postcard::from_bytes(bytes).ok())
            .unwrap_or_default()
    }

    /// The session's CSRF secret, if it has one.
    pub(crate) fn csrf_secret(&self) -> Option<[u8; 32]> {
        self.entries.get(CSRF_KEY)?.try_into().ok()
    }

    /// Sets the CSRF secret to `secret` (the known-answer vectors fix it).
    #[cfg(test)]
    pub(crate) fn set_csrf_secret(&mut self, secret: [u8; 32]) {
        self.entries.set(CSRF_KEY, secret.to_vec());
        self.mark(SessionStatus::Changed);
    }

    /// The session's CSRF secret, drawn from the operating system's generator when it has
    /// none yet (the session then changes, so the response seals it).
    pub(crate) fn ensure_csrf_secret(&mut self) -> Result<[u8; 32], Error> {
        if let Some(secret) = self.csrf_secret() {
            return Ok(secret);
        }
        let mut secret = [0u8; 32];
        crate::random::fill(&mut secret)?;
        // postcard writes a `[u8; 32]` as its 32 bytes, with no length.
        self.entries.set(CSRF_KEY, secret.to_vec());
        self.mark(SessionStatus::Changed);
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crates_own_entries_are_not_the_applications() {
        let mut s = SessionState::new();
        assert!(
            s.insert("\0mine", &1u8).is_err(),
            "reserved names are refused"
        );
        s.flash(FlashLevel::Info, "hello").unwrap();
        let secret = s.ensure_csrf_secret().unwrap();
        assert_eq!(s.ensure_csrf_secret().unwrap(), secret, "drawn once");
        assert!(s.is_empty() && s.keys().next().is_none());
        assert_eq!(s.len(), 0);
        assert!(!s.is_blank(), "but the session is written");
        // A new lifetime rotates the CSRF secret and keeps queued flashes.
        s.renew();
        assert_eq!(s.csrf_secret(), None);
        assert_eq!(s.take_flashes().len(), 1);
    }

    #[test]
    fn flashes_are_bounded_and_their_bytes_are_pinned() {
        let mut s = SessionState::new();
        for i in 0..20 {
            s.flash(FlashLevel::Warning, format!("m{i}")).unwrap();
        }
        let taken = s.take_flashes();
        assert_eq!(taken.len(), MAX_FLASHES);
        assert_eq!(taken[0].text, "m4", "the oldest gave way");
        s.flash(FlashLevel::Success, "Hi").unwrap();
        // A sequence of one: level 2 (success), then the string "Hi".
        assert_eq!(
            s.entries.get(FLASH_KEY).unwrap(),
            [0x01, 0x02, 0x02, b'H', b'i']
        );
    }
}
