//! The read path: a request's cookie candidates opened at one instant, refresh stamps
//! applied, expiry and the schema checked; and the header-only check for a re-seal.

use super::{LoadOutcome, SessionEngine};
use crate::error::Rejection;
use crate::policy::Migration;
use crate::state::SessionState;
use crate::wire::request::RequestCookies;
use crate::wire::seal::{self as format, Binding};

impl SessionEngine {
    /// Opens the request's cookies at `now`: the first candidate that opens wins. Also returns
    /// the opened value's nonce, which a refresh stamp written for it is bound to.
    pub(crate) fn open_request(
        &self,
        request: &RequestCookies,
        now: u64,
    ) -> (SessionState, LoadOutcome, Option<Binding>) {
        let max_cookies = self.cookie().max_cookies();
        let opened =
            match request.open_with(max_cookies, |value| self.open_sealed(value, request, now)) {
                Ok(Some((session, needs_reseal, binding))) => {
                    (session, LoadOutcome::Opened { needs_reseal }, Some(binding))
                }
                Ok(None) => (SessionState::new(), LoadOutcome::NoCookie, None),
                Err(r) => (SessionState::new(), LoadOutcome::Rejected(r), None),
            };
        crate::metrics::opened(opened.1);
        opened
    }

    /// Opens one sealed value at `now`, applies the request's refresh stamp bound to it (if
    /// any opens), checks expiry and the schema; also says whether it must be re-sealed (an
    /// older key or another algorithm).
    pub(crate) fn open_sealed(
        &self,
        value: &str,
        request: &RequestCookies,
        now: u64,
    ) -> Result<(SessionState, bool, Binding), Rejection> {
        let p = self.p();
        let keys = p.keys.at(now, p.expiry.clock_skew());
        let opened = format::open(&keys, &p.cookie.name, &[], value, p.cookie.max_value_len())?;
        if opened.body.len() > p.max_session_bytes {
            return Err(Rejection::TooLong);
        }
        let mut session = SessionState::decode(&opened.body)?;
        let mut stamps = request.stamps().peekable();
        if stamps.peek().is_some() {
            // A stamp bound to another value (older, or planted) does not open: ignored.
            let name = &self.inner.stamp_name;
            let binding = opened.nonce.as_bytes();
            for stamp in stamps {
                let Ok(s) = format::open(&keys, name, binding, stamp, MAX_STAMP_LEN) else {
                    continue;
                };
                if session.apply_stamp(&s.body).is_ok() {
                    break;
                }
            }
        }
        p.expiry.check(&session, now)?;
        self.migrate(&mut session)?;
        crate::metrics::opened_key(opened.algorithm, value, opened.primary);
        let needs_reseal = !opened.primary || opened.algorithm != p.algorithm;
        Ok((session, needs_reseal, opened.nonce))
    }

    /// Brings a just-opened session to the configured schema version (see
    /// [`SessionConfig::schema`](crate::SessionConfig::schema)).
    fn migrate(&self, session: &mut SessionState) -> Result<(), Rejection> {
        let schema = &self.p().schema;
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
        let p = self.p();
        let mut heads = request.heads().peekable();
        if heads.peek().is_none() {
            return false;
        }
        if let Some(current) = &self.inner.sealing_prefix {
            // The prefix encodes exactly (version, algorithm, key id): a value that starts
            // differently and still parses names another key or algorithm.
            return heads
                .any(|v| v.get(..current.len()) != Some(current) && format::peek_key(v).is_some());
        }
        let sealing = p
            .keys
            .at(now(), p.expiry.clock_skew())
            .sealing(p.algorithm)
            .id();
        heads.any(|v| {
            format::peek_key(v).is_some_and(|(alg, id)| alg != p.algorithm || id != sealing)
        })
    }
}

/// The longest refresh stamp a reader opens: its header, flags, two varints and the tag,
/// base64url, with room to spare.
pub(super) const MAX_STAMP_LEN: usize = 128;
