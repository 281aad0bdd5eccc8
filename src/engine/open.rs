//! The read path: a request's cookie candidates opened at one instant, refresh stamps
//! applied, expiry and the schema checked; and the header-only check for a re-seal.

use super::{LoadOutcome, Opened, SessionEngine};
use crate::error::Rejection;
use crate::keys::KeysAt;
use crate::metrics::KeyLabel;
use crate::policy::Migration;
use crate::state::SessionState;
use crate::wire::request::RequestCookies;
use crate::wire::seal::{self, Binding};

/// The longest refresh stamp a reader opens: its header, flags, two varints and the tag,
/// base64url, with room to spare.
pub(super) const MAX_STAMP_LEN: usize = 128;

impl SessionEngine {
    /// Opens the request's cookies at `now`: the reader offers the candidates (with its
    /// attempt budget inside) and the engine tries each. The one that opens is the session;
    /// two different values that both open are [`Rejection::Ambiguous`] (one was planted). A
    /// request with no session cookie is a new session; one whose cookies all fail is a new
    /// session and the first candidate's reason (the browser sends the most specific cookie
    /// first).
    pub(crate) fn open_request(&self, request: &RequestCookies, now: u64) -> Opened {
        let opened = self.open_candidates(request, now);
        let (outcome, reason) = match opened.outcome {
            LoadOutcome::Opened { .. } => ("opened", ""),
            LoadOutcome::NoCookie => ("no_cookie", ""),
            LoadOutcome::Rejected(r) => ("rejected", r.as_str()),
        };
        crate::metrics::opened(outcome, reason);
        opened
    }

    fn open_candidates(&self, request: &RequestCookies, now: u64) -> Opened {
        let rejected = |r| Opened::new(SessionState::new(), LoadOutcome::Rejected(r), None);
        if let Some(reason) = request.refused() {
            return rejected(reason);
        }
        let keys = self.keys_at(now);
        let mut candidates = request.candidates(self.writer().max_cookies());
        let mut first_err = None;
        let mut found: Option<(SessionState, bool, Binding)> = None;
        while let Some(candidate) = candidates.next() {
            let value = match candidate {
                Ok(value) => value,
                Err(r) => {
                    first_err.get_or_insert(r);
                    continue;
                }
            };
            match self.open_sealed(&keys, value, request.stamps(), now) {
                // Two values that open are the same cookie sent twice (same nonce), or one
                // planted beside the user's own: then neither is trusted.
                Ok(opened) => match &found {
                    Some((_, _, seen)) if *seen == opened.2 => {}
                    Some(_) => {
                        let mut ambiguous = rejected(Rejection::Ambiguous);
                        ambiguous.untried = true;
                        return ambiguous;
                    }
                    None => found = Some(opened),
                },
                Err(r) => {
                    first_err.get_or_insert(r);
                }
            }
        }
        let mut opened = match (found, first_err) {
            (Some((state, needs_reseal, binding)), _) => {
                Opened::new(state, LoadOutcome::Opened { needs_reseal }, Some(binding))
            }
            (None, Some(r)) => rejected(r),
            (None, None) if candidates.saw_head() => rejected(Rejection::BadChunks),
            (None, None) => Opened::new(SessionState::new(), LoadOutcome::NoCookie, None),
        };
        opened.untried = request.untried() || candidates.untried();
        opened
    }

    /// Imports the old library's session into `opened` when the request carried no cookie
    /// of this crate but carried the old one (see [`LegacyImport`](crate::LegacyImport)).
    #[cfg(feature = "actix-session-import")]
    pub(crate) fn import(&self, opened: &mut Opened, request: &RequestCookies, now: u64) {
        let Some(import) = &self.parts().import else {
            return;
        };
        if opened.outcome != LoadOutcome::NoCookie || !request.legacy_present() {
            return;
        }
        match import.import(request.legacy_values()) {
            Ok(state) => {
                tracing::debug!("session imported from the old library's cookie");
                opened.state = state;
                opened.imported = true;
            }
            Err(why) => self.note_not_imported(&why, now),
        }
    }

    /// Opens one sealed value at `now` under `keys`, applies the first of `stamps` that is
    /// bound to it (if any opens), checks expiry and the schema; also says whether it must be
    /// re-sealed (an older key or another algorithm) and returns its nonce, which a refresh
    /// stamp written for it is bound to.
    pub(crate) fn open_sealed<'s>(
        &self,
        keys: &KeysAt<'_>,
        value: &str,
        stamps: impl Iterator<Item = &'s str>,
        now: u64,
    ) -> Result<(SessionState, bool, Binding), Rejection> {
        let p = self.parts();
        let mut opened = seal::open(keys, &p.cookie.name, &[], value, p.writer.max_value_len())?;
        if opened.body.len() > p.max_session_bytes {
            return Err(Rejection::TooLong);
        }
        // The session keeps the body: its entries are read in place.
        let mut session = SessionState::decode(std::mem::take(&mut opened.body))?;
        // A stamp bound to another value (older, or planted) does not open: ignored.
        let binding = opened.nonce.as_bytes();
        for stamp in stamps {
            let Ok(s) = seal::open(keys, &self.inner.stamp_name, binding, stamp, MAX_STAMP_LEN)
            else {
                continue;
            };
            if session
                .apply_stamp(&s.body, now.saturating_add(p.skew))
                .is_ok()
            {
                break;
            }
        }
        let (created, refreshed) = session.times();
        p.timeouts.check(created, refreshed, now, p.skew)?;
        self.migrate(&mut session)?;
        crate::metrics::opened_key(
            opened.algorithm,
            self.key_label(keys, &opened),
            opened.primary,
        );
        let needs_reseal = !opened.primary || opened.algorithm != p.algorithm;
        Ok((session, needs_reseal, opened.nonce))
    }

    /// How the metrics name the key that opened `opened`: a key ring's key by its id, an
    /// epoch key by its place, so that the label set stays bounded as epochs pass.
    fn key_label(&self, keys: &KeysAt<'_>, opened: &seal::Opened) -> KeyLabel {
        match keys {
            KeysAt::Ring(_) => KeyLabel::Id(opened.key_id),
            KeysAt::Epoch { .. } if keys.sealing(opened.algorithm).id() == opened.key_id => {
                KeyLabel::Epoch("epoch:current")
            }
            // Among epoch keys, only the next epoch's opens as primary.
            KeysAt::Epoch { .. } if opened.primary => KeyLabel::Epoch("epoch:next"),
            KeysAt::Epoch { .. } => KeyLabel::Epoch("epoch:previous"),
        }
    }

    /// Brings a just-opened session to the configured schema version (see
    /// [`SessionBuilder::schema`](crate::SessionBuilder::schema)).
    fn migrate(&self, session: &mut SessionState) -> Result<(), Rejection> {
        let schema = &self.parts().schema;
        let from = session.schema();
        if from == schema.version {
            return Ok(());
        }
        if from > schema.version {
            return Err(Rejection::NewerSchema);
        }
        match schema.migrate.as_ref().map(|m| m(from, session)) {
            Some(Migration::Keep) => {
                // Re-sealed on this response, under the new version.
                session.set_schema(schema.version);
                session.mark_changed();
                Ok(())
            }
            Some(Migration::Drop) | None => Err(Rejection::OldSchema),
        }
    }

    /// Whether any of the request's first-chunk values names a key or algorithm other than
    /// the current primary one: read from the header alone, without decrypting.
    ///
    /// Runs on every request that carries the cookie, so `now` is only read when the answer
    /// depends on it (epoch keys): with a key ring, eight bytes compared answer it.
    pub(crate) fn reseal_hint(&self, request: &RequestCookies, now: impl FnOnce() -> u64) -> bool {
        let p = self.parts();
        let mut heads = request.heads().peekable();
        if heads.peek().is_none() {
            return false;
        }
        if let Some(current) = &self.inner.sealing_prefix {
            // The prefix encodes exactly (version, algorithm, key id): a value that starts
            // differently and still parses names another key or algorithm.
            return heads
                .any(|v| v.get(..current.len()) != Some(current) && seal::peek_key(v).is_some());
        }
        let sealing = self.keys_at(now()).sealing(p.algorithm).id();
        heads
            .any(|v| seal::peek_key(v).is_some_and(|(alg, id)| alg != p.algorithm || id != sealing))
    }
}
