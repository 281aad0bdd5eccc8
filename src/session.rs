//! Session state: the data, its metadata, and what happened to it during a request.
//!
//! A session is a map from string keys to postcard-encoded values, plus two timestamps:
//! when the session was created (for the absolute lifetime) and when its idle deadline was
//! last refreshed. This layer knows nothing of bytes on the wire; it turns a session into a
//! body and back, and decides expiry from the timestamps inside that body.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Rejection};

/// The key under which [`SessionState::set_data`] stores a whole-struct session. Map keys
/// chosen by users are never empty, so it cannot collide with one.
const WHOLE_STRUCT_KEY: &str = "";

/// What happened to a session during the current request, which decides the response.
///
/// ```
/// use sealed_session::{SessionState, Status};
///
/// let mut s = SessionState::new();
/// assert_eq!(s.status(), Status::Unchanged);
/// s.insert("user_id", &42u64).unwrap();
/// assert_eq!(s.status(), Status::Changed);
/// s.renew();
/// assert_eq!(s.status(), Status::Renewed);
/// s.purge();
/// assert_eq!(s.status(), Status::Purged);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Status {
    /// Nothing was written. A cookie is still sent if the idle deadline is due for a refresh
    /// or the session must be re-sealed under the primary key.
    #[default]
    Unchanged,
    /// Data was inserted, removed or cleared: the session is sealed and sent again.
    Changed,
    /// The session starts a new lifetime: a new creation time ([`SessionState::renew`] keeps
    /// the data, [`SessionState::regenerate`] drops it).
    Renewed,
    /// The session was destroyed: its cookies are removed.
    Purged,
}

/// The contents and metadata of one session.
///
/// Values are stored postcard-encoded; [`get`](SessionState::get) decodes on demand. Keys must
/// not be empty.
///
/// ```
/// use sealed_session::SessionState;
///
/// let mut s = SessionState::new();
/// s.insert("cart", &vec!["SKU-1", "SKU-2"]).unwrap();
/// let cart: Vec<String> = s.get("cart").unwrap().unwrap();
/// assert_eq!(cart.len(), 2);
/// assert_eq!(s.get::<u32>("missing").unwrap(), None);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SessionState {
    entries: BTreeMap<String, Value>,
    /// Unix seconds; `None` until first sealed.
    created_at: Option<u64>,
    /// Unix seconds the idle deadline was last refreshed; `None` until first sealed.
    refreshed_at: Option<u64>,
    status: Status,
    touched: bool,
    /// The schema version the entries are written in.
    schema: u32,
    /// `Some(false)`: a browser-session cookie; `None`: the engine's default.
    persistent: Option<bool>,
    /// Unix seconds of the last revalidation; `None` before the first.
    validated_at: Option<u64>,
}

impl fmt::Debug for SessionState {
    // Values may hold anything a user stores (tokens, e-mail addresses): never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("keys", &self.entries.keys().collect::<Vec<_>>())
            .field("created_at", &self.created_at)
            .field("refreshed_at", &self.refreshed_at)
            .field("status", &self.status)
            .field("schema", &self.schema)
            .field("persistent", &self.persistent)
            .field("validated_at", &self.validated_at)
            .finish()
    }
}

/// A postcard-encoded value; (de)serialized as a byte string so that postcard writes
/// `len || bytes` and reads it back in one copy.
#[derive(Clone, PartialEq, Eq)]
struct Value(Vec<u8>);

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
                Ok(Value(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// The body layout, version 1 of the format: postcard of this struct, optionally followed by
/// an [`Ext`] trailer (see FORMAT.md, *Session bytes → Extension*).
#[derive(Serialize)]
struct WireOut<'a> {
    created_at: u64,
    refreshed_at: u64,
    entries: &'a BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct WireIn {
    created_at: u64,
    refreshed_at: u64,
    entries: BTreeMap<String, Value>,
}

/// The extension trailer: present only when one of its fields differs from its default, so
/// a deployment that uses none of them writes exactly what earlier releases wrote and read
/// (an earlier release rejects a trailer as `bad_payload`: upgrade every instance before
/// turning these features on).
#[derive(Serialize, Deserialize, Default, PartialEq, Eq)]
struct Ext {
    /// The application's schema version of what it stores (default 0).
    schema: u32,
    /// Bit 0: a browser-session cookie (no `Max-Age`/`Expires`). Other bits must be zero.
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
const EXT_KNOWN_FLAGS: u8 = EXT_BROWSER_SESSION;

impl SessionState {
    /// An empty, new session.
    ///
    /// ```
    /// assert!(sealed_session::SessionState::new().is_empty());
    /// ```
    pub fn new() -> SessionState {
        SessionState::default()
    }

    /// Reads the value under `key` as a `T`; `Ok(None)` when absent, an
    /// [`Error::Deserialize`] when the stored bytes are not a `T`.
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.insert("n", &7i32).unwrap();
    /// assert_eq!(s.get::<i32>("n").unwrap(), Some(7));
    /// assert!(s.get::<String>("n").is_err());
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(v) => decode_value(key, &v.0).map(Some),
        }
    }

    /// Stores `value` under `key`. The session is marked changed only if the encoded value
    /// differs from what was there, so writing the same value again costs no cookie.
    ///
    /// ```
    /// # use sealed_session::{SessionState, Status};
    /// let mut s = SessionState::new();
    /// s.insert("theme", &"dark").unwrap();
    /// assert!(s.insert("", &1).is_err()); // keys must not be empty
    /// ```
    pub fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), Error> {
        let key = key.into();
        if key.is_empty() {
            return Err(Error::Serialize {
                key,
                reason: "session keys must not be empty".into(),
            });
        }
        self.insert_raw(key, value)
    }

    fn insert_raw<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        let bytes = postcard::to_allocvec(value).map_err(|e| Error::Serialize {
            key: key.clone(),
            reason: e.to_string(),
        })?;
        if self.entries.get(&key).is_some_and(|old| old.0 == bytes) {
            return Ok(());
        }
        self.entries.insert(key, Value(bytes));
        self.mark(Status::Changed);
        Ok(())
    }

    /// Removes `key`; returns whether it was present.
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.insert("a", &1u8).unwrap();
    /// assert!(s.remove("a"));
    /// assert!(!s.remove("a"));
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        let was = self.entries.remove(key).is_some();
        if was {
            self.mark(Status::Changed);
        }
        was
    }

    /// Removes `key` and returns its value as a `T`.
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.insert("flash", &"saved").unwrap();
    /// assert_eq!(s.remove_as::<String>("flash").unwrap().as_deref(), Some("saved"));
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, Error> {
        let out = self.get(key)?;
        self.remove(key);
        Ok(out)
    }

    /// Removes every entry but keeps the session (and its lifetime).
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.insert("a", &1u8).unwrap();
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    pub fn clear(&mut self) {
        if !self.entries.is_empty() {
            self.entries.clear();
            self.mark(Status::Changed);
        }
    }

    /// Starts a new session lifetime with the same data: a new creation time (so the absolute
    /// lifetime restarts) and a fresh cookie. At login, prefer
    /// [`regenerate`](SessionState::regenerate), which also drops the data.
    ///
    /// ```
    /// # use sealed_session::{SessionState, Status};
    /// let mut s = SessionState::new();
    /// s.renew();
    /// assert_eq!(s.status(), Status::Renewed);
    /// ```
    pub fn renew(&mut self) {
        self.validated_at = None;
        self.mark(Status::Renewed);
    }

    /// Starts a new, empty session: every entry is dropped and the lifetime restarts, as
    /// express-session's `regenerate()` does. Call it at login and at every change of
    /// privilege, so that nothing planted in the session before the user authenticated (by
    /// an attacker who fixed the victim's session, say) survives into the authenticated one.
    ///
    /// ```
    /// # use sealed_session::{SessionState, Status};
    /// let mut s = SessionState::new();
    /// s.insert("planted", &1u8).unwrap();
    /// s.regenerate();
    /// assert!(s.is_empty());
    /// assert_eq!(s.status(), Status::Renewed);
    /// ```
    pub fn regenerate(&mut self) {
        self.entries.clear();
        self.validated_at = None;
        self.mark(Status::Renewed);
    }

    /// Destroys the session: all data is dropped and the response removes its cookies.
    /// Data inserted afterwards starts a new session.
    ///
    /// ```
    /// # use sealed_session::{SessionState, Status};
    /// let mut s = SessionState::new();
    /// s.insert("a", &1u8).unwrap();
    /// s.purge();
    /// assert!(s.is_empty());
    /// assert_eq!(s.status(), Status::Purged);
    /// ```
    pub fn purge(&mut self) {
        self.entries.clear();
        self.created_at = None;
        self.refreshed_at = None;
        self.touched = false;
        self.persistent = None;
        self.validated_at = None;
        self.status = Status::Purged;
    }

    /// Chooses how long the browser keeps this session's cookies: `true` ("keep me signed
    /// in") sends `Max-Age` up to the session's deadline; `false` sends none, so the browser
    /// drops the cookies when it closes. The choice is sealed in the cookie and kept across
    /// refreshes, re-seals and key rotations until it is changed or the session is purged.
    /// Sessions that never choose follow
    /// [`SessionConfig::persistent`](crate::SessionConfig::persistent). The server enforces
    /// the idle and absolute limits either way.
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// assert_eq!(s.persistent(), None);
    /// s.set_persistent(false);
    /// assert_eq!(s.persistent(), Some(false));
    /// ```
    pub fn set_persistent(&mut self, persistent: bool) {
        if self.persistent != Some(persistent) {
            self.persistent = Some(persistent);
            self.mark(Status::Changed);
        }
    }

    /// The session's own persistence choice ([`set_persistent`](SessionState::set_persistent));
    /// `None` when it follows the configuration.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionState::new().persistent(), None);
    /// ```
    pub fn persistent(&self) -> Option<bool> {
        self.persistent
    }

    /// The schema version of the stored entries (see
    /// [`SessionConfig::schema`](crate::SessionConfig::schema)); 0 unless the application
    /// versions its data.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionState::new().schema(), 0);
    /// ```
    pub fn schema(&self) -> u32 {
        self.schema
    }

    /// Sets the schema version the entries follow (the engine stamps it when sealing).
    pub(crate) fn set_schema(&mut self, schema: u32) {
        self.schema = schema;
    }

    /// Replaces the entries with `other`'s (a revalidation's new contents); the lifetime
    /// and the persistence choice stay.
    pub(crate) fn replace_entries(&mut self, other: SessionState) {
        if self.entries != other.entries {
            self.entries = other.entries;
            self.mark(Status::Changed);
        }
    }

    /// When the session was last revalidated (Unix seconds; see
    /// [`SessionConfig::revalidate`](crate::SessionConfig::revalidate)): its creation time
    /// until the first revalidation.
    ///
    /// ```
    /// let s = sealed_session::SessionState::new().with_timestamps(10, 20);
    /// assert_eq!(s.validated_at(), Some(10));
    /// ```
    pub fn validated_at(&self) -> Option<u64> {
        self.validated_at.or(self.created_at)
    }

    /// Records a revalidation at `now`; the response re-seals the session.
    pub(crate) fn mark_validated(&mut self, now: u64) {
        self.validated_at = Some(now);
        self.touched = true;
    }

    /// Refreshes the idle deadline on this response even if it is not yet due.
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.touch();
    /// assert!(s.is_touched());
    /// ```
    pub fn touch(&mut self) {
        self.touched = true;
    }

    /// Whether [`touch`](SessionState::touch) was called.
    ///
    /// ```
    /// assert!(!sealed_session::SessionState::new().is_touched());
    /// ```
    pub fn is_touched(&self) -> bool {
        self.touched
    }

    /// What happened to the session so far.
    ///
    /// ```
    /// # use sealed_session::{SessionState, Status};
    /// assert_eq!(SessionState::new().status(), Status::Unchanged);
    /// ```
    pub fn status(&self) -> Status {
        self.status
    }

    /// Reads a whole-struct session stored with [`set_data`](SessionState::set_data).
    ///
    /// ```
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct User { id: u64, name: String }
    ///
    /// let mut s = sealed_session::SessionState::new();
    /// assert_eq!(s.data::<User>().unwrap(), None);
    /// s.set_data(&User { id: 1, name: "ada".into() }).unwrap();
    /// assert_eq!(s.data::<User>().unwrap().unwrap().name, "ada");
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.get(WHOLE_STRUCT_KEY)
    }

    /// Stores one struct as the whole session's typed data. It lives beside (not instead of)
    /// map entries, so the two styles can be mixed during a migration.
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// s.set_data(&(1u8, "two")).unwrap();
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.insert_raw(WHOLE_STRUCT_KEY.to_string(), value)
    }

    /// Whether the session holds no data.
    ///
    /// ```
    /// assert!(sealed_session::SessionState::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of entries (a whole-struct value counts as one).
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// s.insert("a", &()).unwrap();
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The keys of the map entries, in order (the whole-struct value is not listed).
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// s.insert("b", &1u8).unwrap();
    /// s.insert("a", &1u8).unwrap();
    /// assert_eq!(s.keys().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries
            .keys()
            .map(String::as_str)
            .filter(|k| !k.is_empty())
    }

    /// When the session was created (Unix seconds); `None` before it is first sealed.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionState::new().created_at(), None);
    /// ```
    pub fn created_at(&self) -> Option<u64> {
        self.created_at
    }

    /// When the idle deadline was last refreshed (Unix seconds); `None` before first sealed.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionState::new().refreshed_at(), None);
    /// ```
    pub fn refreshed_at(&self) -> Option<u64> {
        self.refreshed_at
    }

    fn mark(&mut self, status: Status) {
        self.status = match (self.status, status) {
            // After a purge, new data starts a new session; report it as changed.
            (Status::Purged, s) => s,
            (cur, s) => cur.max(s),
        };
    }

    /// Encodes the session as a body, stamping the timestamps for `now`: a new or renewed
    /// session is created now; every sealed session's idle deadline restarts now.
    pub(crate) fn encode_at(&mut self, now: u64) -> Result<Vec<u8>, Error> {
        let (created, refreshed) = self.timestamps_at(now);
        self.created_at = Some(created);
        self.refreshed_at = Some(refreshed);
        self.encode()
    }

    /// The (created, refreshed) timestamps the session carries once sealed at `now`.
    ///
    /// A session created by an instance whose clock is ahead (within the clock-skew leeway)
    /// can be re-sealed by one whose clock is behind: `refreshed` is then `created`, never
    /// earlier, so the body stays valid (`refreshed >= created`) on every instance.
    pub(crate) fn timestamps_at(&self, now: u64) -> (u64, u64) {
        let created = match self.created_at {
            Some(c) if self.status != Status::Renewed => c,
            _ => now,
        };
        (created, now.max(created))
    }

    /// A lower bound of the encoded length: the bytes of every key and value, without any
    /// framing. Cheap, so an oversized session is refused before it is serialized.
    pub(crate) fn min_encoded_len(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.0.len()).sum()
    }

    /// Encodes without touching the timestamps (known-answer tests and the fuzzer use it).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, Error> {
        let wire = WireOut {
            created_at: self.created_at.unwrap_or(0),
            refreshed_at: self.refreshed_at.unwrap_or(0),
            entries: &self.entries,
        };
        // Reserve the exact-or-slightly-more size up front: growing a Vec byte by byte from
        // empty would reallocate several times per response.
        let estimate = 24
            + self
                .entries
                .iter()
                .map(|(k, v)| k.len() + v.0.len() + 10)
                .sum::<usize>();
        let serialize = |e: postcard::Error| Error::Serialize {
            key: String::new(),
            reason: e.to_string(),
        };
        let out = postcard::to_extend(&wire, Vec::with_capacity(estimate)).map_err(serialize)?;
        let ext = Ext {
            schema: self.schema,
            flags: if self.persistent == Some(false) {
                EXT_BROWSER_SESSION
            } else {
                0
            },
            validated_at: self.validated_at.unwrap_or(0),
        };
        if ext == Ext::default() {
            return Ok(out);
        }
        postcard::to_extend(&ext, out).map_err(serialize)
    }

    /// Decodes a body. The whole body must be consumed.
    pub(crate) fn decode(body: &[u8]) -> Result<SessionState, Rejection> {
        let (wire, rest) =
            postcard::take_from_bytes::<WireIn>(body).map_err(|_| Rejection::BadPayload)?;
        let ext = if rest.is_empty() {
            Ext::default()
        } else {
            match postcard::take_from_bytes::<Ext>(rest) {
                Ok((ext, [])) if ext.flags & !EXT_KNOWN_FLAGS == 0 => ext,
                _ => return Err(Rejection::BadPayload),
            }
        };
        if wire.refreshed_at < wire.created_at {
            return Err(Rejection::BadPayload);
        }
        Ok(SessionState {
            entries: wire.entries,
            created_at: Some(wire.created_at),
            refreshed_at: Some(wire.refreshed_at),
            status: Status::Unchanged,
            touched: false,
            schema: ext.schema,
            persistent: (ext.flags & EXT_BROWSER_SESSION != 0).then_some(false),
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
    pub(crate) fn apply_stamp(&mut self, body: &[u8]) -> Result<(), Rejection> {
        let stamp = match postcard::take_from_bytes::<Stamp>(body) {
            Ok((stamp, [])) => stamp,
            _ => return Err(Rejection::BadPayload),
        };
        if self.refreshed_at.is_some_and(|r| stamp.refreshed_at > r) {
            self.refreshed_at = Some(stamp.refreshed_at);
        }
        if stamp.validated_at > self.validated_at.unwrap_or(0) {
            self.validated_at = Some(stamp.validated_at);
        }
        Ok(())
    }

    /// Marks the data changed, so the response re-seals the whole value (a migration).
    pub(crate) fn mark_changed(&mut self) {
        self.mark(Status::Changed);
    }

    /// Whether this request only refreshes the session's times (an idle refresh, a touch, a
    /// revalidation): nothing in its data changed.
    pub(crate) fn only_refreshed(&self) -> bool {
        self.status == Status::Unchanged
    }

    /// Sets the timestamps directly (tests, known-answer vectors).
    #[doc(hidden)]
    pub fn with_timestamps(mut self, created_at: u64, refreshed_at: u64) -> SessionState {
        self.created_at = Some(created_at);
        self.refreshed_at = Some(refreshed_at);
        self
    }

    /// Every entry's name and the size of its serialized value, in order; the whole-struct
    /// value of [`set_data`](SessionState::set_data) has the empty name (for the inspector).
    pub(crate) fn entry_sizes(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.0.len()))
    }
}

/// Decodes one stored value; all bytes must be used, so a value of another type is an error
/// rather than a silent misread.
fn decode_value<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, Error> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(Error::Deserialize {
            key: key.to_string(),
            reason: format!("{} bytes left over", rest.len()),
        }),
        Err(e) => Err(Error::Deserialize {
            key: key.to_string(),
            reason: e.to_string(),
        }),
    }
}

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
    fn body_round_trip_and_strict_decode() {
        let mut s = SessionState::new();
        s.insert("a", &1u32).unwrap();
        s.insert("b", &"two").unwrap();
        s.set_data(&(3u8, 4u8)).unwrap();
        let body = s.encode_at(1000).unwrap();
        let back = SessionState::decode(&body).unwrap();
        assert_eq!(back.get::<u32>("a").unwrap(), Some(1));
        assert_eq!(back.get::<String>("b").unwrap().as_deref(), Some("two"));
        assert_eq!(back.data::<(u8, u8)>().unwrap(), Some((3, 4)));
        assert_eq!(back.created_at(), Some(1000));
        assert_eq!(back.status(), Status::Unchanged);
        assert_eq!(back.keys().collect::<Vec<_>>(), ["a", "b"]);

        let mut trailing = body.clone();
        trailing.push(0);
        assert_eq!(SessionState::decode(&trailing), Err(Rejection::BadPayload));
        assert_eq!(
            SessionState::decode(&body[..body.len() - 1]),
            Err(Rejection::BadPayload)
        );
        // refreshed before created is not something this crate writes
        let bad = SessionState::new().with_timestamps(10, 5).encode().unwrap();
        assert_eq!(SessionState::decode(&bad), Err(Rejection::BadPayload));
    }

    #[test]
    fn same_value_again_is_not_a_change() {
        let mut s =
            SessionState::decode(&SessionState::new().with_timestamps(1, 1).encode().unwrap())
                .unwrap();
        assert!(!s.remove("nothing"));
        s.clear();
        assert_eq!(s.status(), Status::Unchanged);
        s.insert("k", &5u8).unwrap();
        let mut again = SessionState::decode(&s.encode().unwrap()).unwrap();
        again.insert("k", &5u8).unwrap();
        assert_eq!(again.status(), Status::Unchanged);
        again.insert("k", &6u8).unwrap();
        assert_eq!(again.status(), Status::Changed);
    }

    #[test]
    fn wrong_type_is_a_deserialize_error_naming_the_key() {
        let mut s = SessionState::new();
        s.insert("n", &300u32).unwrap();
        let e = s.get::<bool>("n").unwrap_err();
        assert!(
            matches!(&e, Error::Deserialize { key, .. } if key == "n"),
            "{e}"
        );
    }

    #[test]
    fn purge_then_insert_is_a_new_session() {
        let mut s = SessionState::new().with_timestamps(5, 5);
        s.insert("a", &1u8).unwrap();
        s.purge();
        assert_eq!(s.created_at(), None);
        s.insert("b", &1u8).unwrap();
        assert_eq!(s.status(), Status::Changed);
        s.encode_at(100).unwrap();
        assert_eq!(s.created_at(), Some(100));
    }

    #[test]
    fn renew_restarts_the_lifetime() {
        let mut s = SessionState::new().with_timestamps(5, 50);
        s.insert("a", &1u8).unwrap();
        s.encode_at(100).unwrap();
        assert_eq!(s.created_at(), Some(5), "a change keeps the creation time");
        s.renew();
        s.encode_at(200).unwrap();
        assert_eq!((s.created_at(), s.refreshed_at()), (Some(200), Some(200)));
    }

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
