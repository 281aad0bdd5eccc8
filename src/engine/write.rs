//! The write path: what a response writes back for a session (nothing, a refresh stamp, a
//! sealed value, removals), and sealing.

use super::{Deadlines, LoadOutcome, SessionEngine};
use crate::error::Error;
use crate::state::{SessionState, Status};
use crate::wire::body::Compression;
use crate::wire::request::RequestCookies;
use crate::wire::seal::{self as format, Binding};

impl SessionEngine {
    /// The `Max-Age` the session value's cookies carry at `now`: up to the absolute deadline
    /// (the idle deadline moves with refresh stamps, which carry it), or none for a
    /// browser-session cookie.
    pub(super) fn max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let p = self.p();
        if !session.persistent().unwrap_or(p.cookie.persistent) {
            return None;
        }
        p.expiry
            .absolute_deadline(session)
            .map(|d| d.saturating_sub(now))
    }

    /// The `Max-Age` of a refresh stamp at `now`: up to the idle deadline (never past the
    /// absolute one), or none for a browser-session cookie.
    fn stamp_max_age(&self, session: &SessionState, now: u64) -> Option<u64> {
        let p = self.p();
        if !session.persistent().unwrap_or(p.cookie.persistent) {
            return None;
        }
        p.expiry.deadline(session).map(|d| d.saturating_sub(now))
    }

    /// Stamps `session` with `now` and seals it under the current primary key with a fresh
    /// random nonce; fails when the serialized session is over `max_session_bytes`.
    pub(crate) fn seal_at(&self, session: &mut SessionState, now: u64) -> Result<String, Error> {
        let p = self.p();
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
        let keys = p.keys.at(now, p.expiry.clock_skew());
        format::seal(
            &keys,
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
            Status::Purged => false,
            Status::Changed | Status::Renewed => true,
            Status::Unchanged => match outcome {
                LoadOutcome::Opened { needs_reseal } => {
                    needs_reseal
                        || session.is_touched()
                        || self.p().expiry.refresh_due(session, now)
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
        let expiry = &self.p().expiry;
        let absolute = created_at.saturating_add(expiry.absolute().as_secs());
        Deadlines {
            created_at,
            idle_expires_at: expiry
                .idle()
                .map(|i| refreshed_at.saturating_add(i.as_secs()).min(absolute)),
            absolute_expires_at: absolute,
        }
    }

    /// The `Set-Cookie` values the response needs for `session`, given how the request's
    /// cookie turned out.
    ///
    /// A changed, renewed or touched session, one due for an idle refresh and one opened
    /// under an old key are sealed and sent; a purged or emptied one is removed, and so is a
    /// rejected cookie that no other healthy instance could accept; otherwise nothing.
    /// Chunks the request carried that the new value does not need are removed.
    pub(crate) fn write_back(
        &self,
        session: &mut SessionState,
        outcome: LoadOutcome,
        binding: Option<Binding>,
        request: &RequestCookies,
        now: u64,
    ) -> Result<Vec<String>, Error> {
        let cookie = self.cookie();
        let write = self.must_write(session, outcome, now);
        if let (
            true,
            Some(binding),
            LoadOutcome::Opened {
                needs_reseal: false,
            },
        ) = (
            write && session.only_refreshed() && !session.is_empty(),
            binding,
            outcome,
        ) {
            // Only the times move: a refresh stamp bound to the request's value, never the
            // value itself, so this response cannot undo a concurrent write or logout.
            let p = self.p();
            let body = session.encode_stamp(now)?;
            let keys = p.keys.at(now, p.expiry.clock_skew());
            let stamp = format::seal(
                &keys,
                p.algorithm,
                &self.inner.stamp_name,
                binding.as_bytes(),
                &body,
                Compression::Off,
            )?;
            return Ok(vec![
                cookie.stamp_cookie(&stamp, self.stamp_max_age(session, now))
            ]);
        }
        let rejected_removable = matches!(outcome, LoadOutcome::Rejected(r) if r.remove_cookie());
        let remove = session.status() == Status::Purged
            || rejected_removable
            || (write && session.is_empty());
        if !write || session.is_empty() {
            return Ok(if remove {
                cookie.removals(request.present())
            } else {
                Vec::new()
            });
        }
        let value = self.seal_at(session, now)?;
        crate::metrics::sealed(self, value.len(), now);
        cookie.set_cookies(&value, self.max_age(session, now), request.present())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;
    use crate::SessionConfig;

    #[test]
    fn an_oversized_session_is_refused_before_it_is_serialized() {
        let engine = SessionConfig::new(Secret::from_bytes(&[1; 32]).unwrap())
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
