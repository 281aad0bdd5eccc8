//! The session's bytes: the body a sealed value carries (FORMAT.md, *Session bytes*) and the
//! body of a refresh stamp.

use serde::{Deserialize, Serialize};

use super::entries::{Entries, read_varint};
use super::{SessionState, SessionStatus};
use crate::error::{Error, Rejection};
use crate::wire::body::write_varint;

/// The extension trailer: present only when one of its fields differs from its default, so
/// a deployment that uses none of them writes exactly what earlier releases wrote and read
/// (an earlier release rejects a trailer as `bad_payload`: upgrade every instance before
/// turning these features on).
#[derive(Serialize, Deserialize, Default, PartialEq, Eq)]
struct Ext {
    /// The application's schema version of what it stores (default 0).
    schema: u32,
    /// Bit 0: a browser-session cookie (no `Max-Age`/`Expires`); bit 1: a persistent one,
    /// whatever the configuration says. Not both; other bits must be zero.
    flags: u8,
    /// Unix seconds of the last revalidation; 0 means "at creation".
    validated_at: u64,
}

/// The body of a refresh stamp (FORMAT.md, *Refresh stamps*): newer times for the session
/// value it is bound to.
#[derive(Serialize, Deserialize)]
struct Stamp {
    refreshed_at: u64,
    validated_at: u64,
}

const EXT_BROWSER_SESSION: u8 = 0b0000_0001;
/// The session chose persistent cookies ("remember me"), whatever the configuration's default.
const EXT_PERSISTENT: u8 = 0b0000_0010;

const EXT_KNOWN_FLAGS: u8 = EXT_BROWSER_SESSION | EXT_PERSISTENT;

impl SessionState {
    /// Encodes the session as a body, stamping the timestamps for `now`: a new or renewed
    /// session is created now; every sealed session's idle deadline restarts now.
    pub(crate) fn encode_at(&mut self, now: u64) -> Result<Vec<u8>, Error> {
        let (created, refreshed) = self.timestamps_at(now);
        self.created_at = Some(created);
        self.refreshed_at = Some(refreshed);
        self.encode()
    }

    /// Encodes without touching the timestamps (known-answer tests and the fuzzer use it):
    /// `varint(created_at) || varint(refreshed_at) || map`, and the [`Ext`] trailer when it is
    /// not the default (FORMAT.md, *Session bytes*).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, Error> {
        // Sized up front: growing a Vec from empty would reallocate several times.
        let mut out = Vec::with_capacity(20 + self.entries.encoded_len_bound() + 16);
        write_varint(&mut out, self.created_at.unwrap_or(0));
        write_varint(&mut out, self.refreshed_at.unwrap_or(0));
        self.entries.write_to(&mut out);
        let serialize = |e: postcard::Error| Error::Serialize {
            key: String::new(),
            reason: e.to_string(),
        };
        let ext = Ext {
            schema: self.schema,
            flags: match self.persistent {
                Some(false) => EXT_BROWSER_SESSION,
                Some(true) => EXT_PERSISTENT,
                None => 0,
            },
            validated_at: self.validated_at.unwrap_or(0),
        };
        if ext == Ext::default() {
            return Ok(out);
        }
        postcard::to_extend(&ext, out).map_err(serialize)
    }

    /// Decodes a body, which the session keeps: its entries are read in place. The whole
    /// body must be consumed.
    pub(crate) fn decode(body: Vec<u8>) -> Result<SessionState, Rejection> {
        let mut pos = 0;
        let created_at = read_varint(&body, &mut pos)?;
        let refreshed_at = read_varint(&body, &mut pos)?;
        let (entries, end) = Entries::read(body, pos)?;
        let rest = entries.trailer(end);
        let ext = if rest.is_empty() {
            Ext::default()
        } else {
            match postcard::take_from_bytes::<Ext>(rest) {
                // Both choices at once is not something a writer does.
                Ok((ext, []))
                    if ext.flags & !EXT_KNOWN_FLAGS == 0 && ext.flags != EXT_KNOWN_FLAGS =>
                {
                    ext
                }
                _ => return Err(Rejection::BadPayload),
            }
        };
        if refreshed_at < created_at {
            return Err(Rejection::BadPayload);
        }
        Ok(SessionState {
            entries,
            created_at: Some(created_at),
            refreshed_at: Some(refreshed_at),
            status: SessionStatus::Unchanged,
            touched: false,
            schema: ext.schema,
            persistent: match ext.flags {
                EXT_BROWSER_SESSION => Some(false),
                EXT_PERSISTENT => Some(true),
                _ => None,
            },
            validated_at: (ext.validated_at != 0).then_some(ext.validated_at),
        })
    }

    /// The body of a refresh stamp carrying this session's idle refresh, stamped `now`.
    pub(crate) fn encode_stamp(&mut self, now: u64) -> Result<Vec<u8>, Error> {
        let refreshed = now.max(self.created_at.unwrap_or(now));
        self.refreshed_at = Some(refreshed);
        let stamp = Stamp {
            refreshed_at: refreshed,
            validated_at: self.validated_at.unwrap_or(0),
        };
        postcard::to_allocvec(&stamp).map_err(|e| Error::Serialize {
            key: String::new(),
            reason: e.to_string(),
        })
    }

    /// Applies an authenticated refresh stamp: its times count when they are newer.
    ///
    /// A stamp whose times are after `latest` (this instance's clock plus the skew) is
    /// refused whole: an instance with a fast clock, or a key holder, cannot stretch the idle
    /// timeout or put off revalidation with it.
    pub(crate) fn apply_stamp(&mut self, body: &[u8], latest: u64) -> Result<(), Rejection> {
        let stamp = match postcard::take_from_bytes::<Stamp>(body) {
            Ok((stamp, [])) => stamp,
            _ => return Err(Rejection::BadPayload),
        };
        if stamp.refreshed_at > latest || stamp.validated_at > latest {
            return Err(Rejection::FromTheFuture);
        }
        if self.refreshed_at.is_some_and(|r| stamp.refreshed_at > r) {
            self.refreshed_at = Some(stamp.refreshed_at);
        }
        if stamp.validated_at > self.validated_at.unwrap_or(0) {
            self.validated_at = Some(stamp.validated_at);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trip_and_strict_decode() {
        let mut s = SessionState::new();
        s.insert("a", &1u32).unwrap();
        s.insert("b", &"two").unwrap();
        s.set_data(&(3u8, 4u8)).unwrap();
        let body = s.encode_at(1000).unwrap();
        let back = SessionState::decode(body.clone()).unwrap();
        assert_eq!(back.get::<u32>("a").unwrap(), Some(1));
        assert_eq!(back.get::<String>("b").unwrap().as_deref(), Some("two"));
        assert_eq!(back.data::<(u8, u8)>().unwrap(), Some((3, 4)));
        assert_eq!(back.created_at(), Some(1000));
        assert_eq!(back.status(), SessionStatus::Unchanged);
        assert_eq!(back.keys().collect::<Vec<_>>(), ["a", "b"]);

        let mut trailing = body.clone();
        trailing.push(0);
        assert_eq!(
            SessionState::decode(trailing.clone()),
            Err(Rejection::BadPayload)
        );
        assert_eq!(
            SessionState::decode(body[..body.len() - 1].to_vec()),
            Err(Rejection::BadPayload)
        );
        // refreshed before created is not something this crate writes
        let bad = SessionState::new().with_timestamps(10, 5).encode().unwrap();
        assert_eq!(
            SessionState::decode(bad.clone()),
            Err(Rejection::BadPayload)
        );
    }

    #[test]
    fn same_value_again_is_not_a_change() {
        let mut s =
            SessionState::decode(SessionState::new().with_timestamps(1, 1).encode().unwrap())
                .unwrap();
        assert!(!s.remove("nothing"));
        s.clear();
        assert_eq!(s.status(), SessionStatus::Unchanged);
        s.insert("k", &5u8).unwrap();
        let mut again = SessionState::decode(s.encode().unwrap()).unwrap();
        again.insert("k", &5u8).unwrap();
        assert_eq!(again.status(), SessionStatus::Unchanged);
        again.insert("k", &6u8).unwrap();
        assert_eq!(again.status(), SessionStatus::Changed);
    }
}
