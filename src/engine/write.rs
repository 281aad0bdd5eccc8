//! The write path: the one decision of what a response writes back for a session
//! ([`WriteBack`]: nothing, a refresh stamp, a sealed value, removals), and sealing.

use super::{Deadlines, LoadOutcome, Opened, SessionEngine};
use crate::error::Error;
use crate::state::{SessionState, SessionStatus};
use crate::wire::body::Compression;
use crate::wire::seal::{self, Binding};

/// What a response writes back for its session, decided once by
/// [`SessionEngine::decide`] and applied by the handle.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WriteBack {
    /// No `Set-Cookie` for the session.
    Nothing,
    /// Only the times move: a refresh stamp bound to the request's value, never the value
    /// itself, so this response cannot undo a concurrent write or logout.
    Stamp(String),
    /// The sealed value's cookies, and removals of chunks it no longer needs.
    Seal(Vec<String>),
    /// Removals of every session cookie the request carried, for a cookie nobody can open.
    Remove(Vec<String>),
    /// The same removals because the handler ended the session (a purge, or every entry
    /// cleared): a logout, which must reach the browser even on a response the handler
    /// marked cacheable.
    Logout(Vec<String>),
}

impl WriteBack {
    /// The `Set-Cookie` values to add to the response.
    pub(crate) fn into_set_cookies(self) -> Vec<String> {
        match self {
            WriteBack::Nothing => Vec::new(),
            WriteBack::Stamp(stamp) => vec![stamp],
            WriteBack::Seal(cookies) | WriteBack::Remove(cookies) | WriteBack::Logout(cookies) => {
                cookies
            }
        }
    }
}

impl SessionEngine {
    /// Decides what the response writes back for the request's session `opened`, at `now`.
    /// `present` has a bit set for each session cookie the request carried (removals reach
    /// those only); `discard` drops the handler's writes (a 5xx under
    /// [`ServerErrorWrites::Discard`](crate::ServerErrorWrites::Discard)).
    ///
    /// * A changed, renewed or touched session, one due for an idle refresh and one opened
    ///   under an old key or algorithm are sealed and sent; a session whose times alone move
    ///   gets a refresh stamp instead (FORMAT.md, *Refresh stamps*).
    /// * A purged or emptied session is removed, and so is a rejected cookie that no other
    ///   healthy instance could accept ([`Rejection::remove_cookie`](crate::Rejection)).
    /// * With `discard`, only what a route that never used the session would send: a
    ///   re-seal under the current key of the session as it opened, or a removal of a
    ///   rejected cookie.
    pub(crate) fn decide(
        &self,
        opened: &mut Opened,
        present: u64,
        discard: bool,
        now: u64,
    ) -> Result<WriteBack, Error> {
        let removals = || WriteBack::Remove(self.writer().removals(present));
        let (outcome, binding) = (opened.outcome, opened.binding);
        // A removal reaches only the host's own cookie of the name; when a request carried
        // values nobody tried, that cookie may be the user's good one.
        let rejected_removable =
            !opened.untried && matches!(outcome, LoadOutcome::Rejected(r) if r.remove_cookie());
        let state = if discard {
            // The session as it opened, unchanged: decided as on an untouched route.
            match &mut opened.pristine {
                Some(pristine) => pristine,
                None if rejected_removable => return Ok(removals()),
                None => return Ok(WriteBack::Nothing),
            }
        } else {
            &mut opened.state
        };
        let write = self.must_write(state, outcome, now);
        let current = outcome
            == LoadOutcome::Opened {
                needs_reseal: false,
            };
        if let (true, true, Some(binding)) = (write && state.only_refreshed(), current, binding)
            && !state.is_blank()
        {
            return Ok(WriteBack::Stamp(self.stamp(state, binding, now)?));
        }
        let logout = state.status() == SessionStatus::Purged || (write && state.is_blank());
        if !write || state.is_blank() {
            return Ok(if logout {
                WriteBack::Logout(self.writer().removals(present))
            } else if rejected_removable {
                removals()
            } else {
                WriteBack::Nothing
            });
        }
        Ok(WriteBack::Seal(self.seal_cookies(state, present, now)?))
    }

    /// Seals `session` at `now` into its cookies, removing chunks of `present` it no longer
    /// needs.
    fn seal_cookies(
        &self,
        session: &mut SessionState,
        present: u64,
        now: u64,
    ) -> Result<Vec<String>, Error> {
        let value = self.seal_at(session, now)?;
        let p = self.parts();
        #[cfg(feature = "metrics")]
        crate::metrics::sealed(
            value.len(),
            p.writer.chunks_needed(value.len()).ok(),
            p.writer.max_value_len(),
            p.writer.max_cookies(),
            p.size_warning_share,
            now,
        );
        p.writer
            .set_cookies(&value, self.max_age(session, now), present)
    }

    /// The `Set-Cookie` of a refresh stamp carrying `session`'s times at `now`, bound to the
    /// value whose nonce is `binding`.
    fn stamp(
        &self,
        session: &mut SessionState,
        binding: Binding,
        now: u64,
    ) -> Result<String, Error> {
        let p = self.parts();
        let body = session.encode_stamp(now)?;
        let stamp = seal::seal(
            &self.keys_at(now),
            p.algorithm,
            &self.inner.stamp_name,
            binding.as_bytes(),
            &body,
            Compression::Off,
        )?;
        Ok(p.writer
            .stamp_cookie(&stamp, self.stamp_max_age(session, now)))
    }

    /// Whether `session` persists beyond the browser session: its own choice, or the
    /// configuration's.
    fn persistent(&self, session: &SessionState) -> bool {
        session
            .persistent()
            .unwrap_or(self.parts().cookie.persistent)
    }

    /// The `Max-Age` the session value's cookies carry at `now`: up to the absolute deadline
    /// (the idle deadline moves with refresh stamps, which carry it), or none for a
    /// browser-session cookie.
    pub(super) fn max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let (created, _) = session.times();
        self.persistent(session).then(|| {
            self.timeouts()
                .absolute_deadline(created)
                .saturating_sub(now)
        })
    }

    /// The `Max-Age` of a refresh stamp at `now`: up to the idle deadline (never past the
    /// absolute one), or none for a browser-session cookie.
    fn stamp_max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let (created, refreshed) = session.times();
        self.persistent(session).then(|| {
            self.timeouts()
                .deadline(created, refreshed)
                .saturating_sub(now)
        })
    }

    /// Stamps `session` with `now` and seals it under the current primary key with a fresh
    /// random nonce; fails when the serialized session is over `max_session_bytes`.
    pub(crate) fn seal_at(&self, session: &mut SessionState, now: u64) -> Result<String, Error> {
        let p = self.parts();
        session.set_schema(p.schema.version);
        // The keys and values alone already exceed the bound: refuse without serializing.
        let at_least = session.min_encoded_len();
        if at_least > p.max_session_bytes {
            return Err(Error::SessionTooLarge {
                size: at_least,
                limit: p.max_session_bytes,
            });
        }
        let body = session.encode_at(now)?;
        if body.len() > p.max_session_bytes {
            return Err(Error::SessionTooLarge {
                size: body.len(),
                limit: p.max_session_bytes,
            });
        }
        seal::seal(
            &self.keys_at(now),
            p.algorithm,
            &p.cookie.name,
            &[],
            &body,
            p.compression,
        )
    }

    /// Whether the response must seal `session` again: it changed or was renewed, or it was
    /// opened from a cookie that needs a re-seal, a touch or an idle refresh.
    pub(crate) fn must_write(
        &self,
        session: &SessionState,
        outcome: LoadOutcome,
        now: u64,
    ) -> bool {
        match session.status() {
            SessionStatus::Purged => false,
            SessionStatus::Changed | SessionStatus::Renewed => true,
            SessionStatus::Unchanged => match outcome {
                LoadOutcome::Opened { needs_reseal } => {
                    let (_, refreshed) = session.times();
                    needs_reseal
                        || session.is_touched()
                        || self.timeouts().refresh_due(refreshed, now)
                }
                LoadOutcome::NoCookie | LoadOutcome::Rejected(_) => false,
            },
        }
    }

    /// The session's deadlines as they will stand after this response: a session the
    /// response seals is stamped `now`, any other keeps its stored times.
    pub(crate) fn deadlines(
        &self,
        session: &SessionState,
        outcome: LoadOutcome,
        now: u64,
    ) -> Deadlines {
        let (created_at, refreshed_at) = if self.must_write(session, outcome, now) {
            session.timestamps_at(now)
        } else {
            (
                session.created_at().unwrap_or(now),
                session.refreshed_at().unwrap_or(now),
            )
        };
        let t = self.timeouts();
        Deadlines {
            created_at,
            idle_expires_at: t.idle_deadline(created_at, refreshed_at),
            absolute_expires_at: t.absolute_deadline(created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionBuilder;
    use crate::keys::Secret;

    #[test]
    fn an_oversized_session_is_refused_before_it_is_serialized() {
        let engine = SessionBuilder::new(Secret::from_bytes(&[1; 32]).unwrap())
            .build()
            .unwrap();
        let mut s = SessionState::new();
        s.insert("blob", &vec![b'a'; 100 * 1024]).unwrap();
        // The keys and values alone pass the bound: the lower bound is what is reported.
        match engine.seal(&mut s) {
            Err(Error::SessionTooLarge { size, limit }) => {
                assert_eq!(limit, 64 * 1024);
                assert_eq!(size, "blob".len() + 100 * 1024 + 3, "key + value bytes");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.created_at(), None, "nothing was stamped or serialized");
    }
}
