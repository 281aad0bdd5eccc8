//! Flash messages through the handle: queued in one request, read once by the next one that
//! asks for them.

use super::Session;
use crate::error::Error;
use crate::state::{FlashLevel, FlashMessage};

impl Session {
    /// Queues a message for the next request that reads flashes
    /// ([`take_flashes`](Session::take_flashes)), typically the page a redirect leads to.
    ///
    /// The messages ride in the sealed session (no cookie of their own, nothing when none is
    /// queued). Reading other entries does not consume them; an idle refresh of a
    /// concurrent request sends only a refresh stamp, which neither drops nor repeats them.
    /// Two requests in flight that both take the flashes both get them: a session in cookies
    /// has no server-side record to decide which one was first.
    ///
    /// ```
    /// # use sealed_session::{FlashLevel, Secret, SessionBuilder};
    /// # let engine = SessionBuilder::new(Secret::generate()).build().unwrap();
    /// # let session = engine.start_headers(&http::HeaderMap::new());
    /// session.flash(FlashLevel::Success, "Profile saved")?;
    /// // … the next request:
    /// let shown = session.take_flashes()?;
    /// assert_eq!((shown[0].level, shown[0].text.as_str()), (FlashLevel::Success, "Profile saved"));
    /// assert!(session.take_flashes()?.is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn flash(&self, level: FlashLevel, text: impl Into<String>) -> Result<(), Error> {
        let text = text.into();
        self.change(|s| s.flash(level, text))?
    }

    /// The queued flash messages, oldest first, removed from the session so that each is
    /// shown once.
    pub fn take_flashes(&self) -> Result<Vec<FlashMessage>, Error> {
        self.change(|s| s.take_flashes())
    }
}
