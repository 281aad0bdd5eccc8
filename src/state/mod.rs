//! Session state: the data, its metadata, and what happened to it during a request.
//!
//! A session is a map from string keys to postcard-encoded values, plus two timestamps:
//! when the session was created (for the absolute lifetime) and when its idle deadline was
//! last refreshed. This layer knows nothing of bytes on the wire; it turns a session into a
//! body and back, and decides expiry from the timestamps inside that body.

mod codec;
mod entries;
mod key;
mod reserved;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use entries::Entries;

pub use key::{KeyName, SessionKey};
pub use reserved::{FlashLevel, FlashMessage};

/// The key under which [`SessionState::set_data`] stores a whole-struct session. Map keys
/// chosen by users are never empty, so it cannot collide with one.
pub(crate) const WHOLE_STRUCT_KEY: &str = "";

/// What happened to a session during the current request, which decides the response.
///
/// ```
/// use sealed_session::{SessionState, SessionStatus};
///
/// let mut s = SessionState::new();
/// assert_eq!(s.status(), SessionStatus::Unchanged);
/// s.insert("user_id", &42u64).unwrap();
/// assert_eq!(s.status(), SessionStatus::Changed);
/// s.renew();
/// assert_eq!(s.status(), SessionStatus::Renewed);
/// s.purge();
/// assert_eq!(s.status(), SessionStatus::Purged);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum SessionStatus {
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
    entries: Entries,
    /// Unix seconds; `None` until first sealed.
    created_at: Option<u64>,
    /// Unix seconds the idle deadline was last refreshed; `None` until first sealed.
    refreshed_at: Option<u64>,
    status: SessionStatus,
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
    /// [`Error::Deserialize`] when the stored bytes do not decode as a `T`.
    ///
    /// The stored bytes are postcard, which does not say what type wrote them, so a value
    /// read as another type is an error only when its bytes do not fit that type. What fits
    /// is read, wrongly: an integer as another integer type of the same sign-less encoding
    /// (`2u64` reads as `1i64`, zigzag), a small integer as a narrower one (`2u64` as `2u8`),
    /// a `String` as a `Vec<u8>`, a struct as a tuple (or another struct) with fields of the
    /// same types in the same order, a renamed or reordered enum variant. A
    /// [`SessionKey`](crate::SessionKey) rules all of these out at compile time.
    ///
    /// ```
    /// # let mut s = sealed_session::SessionState::new();
    /// s.insert("n", &7i32).unwrap();
    /// assert_eq!(s.get::<i32>("n").unwrap(), Some(7));
    /// assert!(s.get::<String>("n").is_err());
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: impl KeyName<T>) -> Result<Option<T>, Error> {
        let key = key.key_name();
        match self.entries.get(key) {
            None => Ok(None),
            Some(v) => decode_value(key, v).map(Some),
        }
    }

    /// Stores `value` under `key`. The session is marked changed only if the encoded value
    /// differs from what was there, so writing the same value again costs no cookie.
    ///
    /// ```
    /// # use sealed_session::{SessionState, SessionStatus};
    /// let mut s = SessionState::new();
    /// s.insert("theme", &"dark").unwrap();
    /// assert!(s.insert("", &1).is_err()); // keys must not be empty
    /// ```
    pub fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: impl KeyName<T>,
        value: &T,
    ) -> Result<(), Error> {
        let key = key.key_name();
        if key.is_empty() || reserved::is_reserved(key) {
            return Err(Error::Serialize {
                key: String::new(),
                reason: "session keys must not be empty or start with NUL (the crate's own \
                         entries)"
                    .into(),
            });
        }
        self.insert_raw(key, value)
    }

    fn insert_raw<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        let bytes = postcard::to_allocvec(value).map_err(|e| Error::Serialize {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        if self.entries.set(key, bytes) {
            self.mark(SessionStatus::Changed);
        }
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
        let was = self.entries.remove(key);
        if was {
            self.mark(SessionStatus::Changed);
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
    pub fn remove_as<T: DeserializeOwned>(
        &mut self,
        key: impl KeyName<T>,
    ) -> Result<Option<T>, Error> {
        let key = key.key_name();
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
            self.mark(SessionStatus::Changed);
        }
    }

    /// Starts a new session lifetime with the same data: a new creation time (so the absolute
    /// lifetime restarts) and a fresh cookie. At login, prefer
    /// [`regenerate`](SessionState::regenerate), which also drops the data.
    ///
    /// ```
    /// # use sealed_session::{SessionState, SessionStatus};
    /// let mut s = SessionState::new();
    /// s.renew();
    /// assert_eq!(s.status(), SessionStatus::Renewed);
    /// ```
    pub fn renew(&mut self) {
        self.validated_at = None;
        // A new lifetime is a new privilege level: the CSRF secret rotates with it.
        self.entries.remove(reserved::CSRF_KEY);
        self.mark(SessionStatus::Renewed);
    }

    /// Starts a new, empty session: every entry is dropped and the lifetime restarts, as
    /// express-session's `regenerate()` does. Call it at login and at every change of
    /// privilege, so that nothing planted in the session before the user authenticated (by
    /// an attacker who fixed the victim's session, say) survives into the authenticated one.
    ///
    /// ```
    /// # use sealed_session::{SessionState, SessionStatus};
    /// let mut s = SessionState::new();
    /// s.insert("planted", &1u8).unwrap();
    /// s.regenerate();
    /// assert!(s.is_empty());
    /// assert_eq!(s.status(), SessionStatus::Renewed);
    /// ```
    pub fn regenerate(&mut self) {
        self.entries.clear();
        self.validated_at = None;
        self.mark(SessionStatus::Renewed);
    }

    /// Destroys the session: all data is dropped and the response removes its cookies.
    /// Data inserted afterwards starts a new session.
    ///
    /// ```
    /// # use sealed_session::{SessionState, SessionStatus};
    /// let mut s = SessionState::new();
    /// s.insert("a", &1u8).unwrap();
    /// s.purge();
    /// assert!(s.is_empty());
    /// assert_eq!(s.status(), SessionStatus::Purged);
    /// ```
    pub fn purge(&mut self) {
        self.entries.clear();
        self.created_at = None;
        self.refreshed_at = None;
        self.touched = false;
        self.persistent = None;
        self.validated_at = None;
        self.status = SessionStatus::Purged;
    }

    /// Chooses how long the browser keeps this session's cookies: `true` ("keep me signed
    /// in") sends `Max-Age` up to the session's deadline; `false` sends none, so the browser
    /// drops the cookies when it closes. The choice is sealed in the cookie and kept across
    /// refreshes, re-seals and key rotations until it is changed or the session is purged.
    /// Sessions that never choose follow
    /// [`SessionBuilder::persistent`](crate::SessionBuilder::persistent). The server enforces
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
            self.mark(SessionStatus::Changed);
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
    /// [`SessionBuilder::schema`](crate::SessionBuilder::schema)); 0 unless the application
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
            self.mark(SessionStatus::Changed);
        }
    }

    /// When the session was last revalidated (Unix seconds; see
    /// [`SessionBuilder::revalidate`](crate::SessionBuilder::revalidate)): its creation time
    /// until the first revalidation; `None` before the session is first sealed.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionState::new().validated_at(), None);
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
    /// # use sealed_session::{SessionState, SessionStatus};
    /// assert_eq!(SessionState::new().status(), SessionStatus::Unchanged);
    /// ```
    pub fn status(&self) -> SessionStatus {
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
        self.get::<T>(WHOLE_STRUCT_KEY)
    }

    /// Stores one struct as the whole session's typed data. It lives beside (not instead of)
    /// map entries, so the two styles can be mixed during a migration.
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// s.set_data(&(1u8, "two")).unwrap();
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.insert_raw(WHOLE_STRUCT_KEY, value)
    }

    /// Whether the session holds no data of the application's (queued flash messages and a
    /// CSRF secret are not the application's data).
    ///
    /// ```
    /// assert!(sealed_session::SessionState::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the session holds nothing at all, the crate's own entries included: what
    /// decides whether a response writes it.
    pub(crate) fn is_blank(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of the application's entries (a whole-struct value counts as one).
    ///
    /// ```
    /// let mut s = sealed_session::SessionState::new();
    /// s.insert("a", &()).unwrap();
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries
            .keys()
            .filter(|k| !reserved::is_reserved(k))
            .count()
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
            .filter(|k| !k.is_empty() && !reserved::is_reserved(k))
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

    fn mark(&mut self, status: SessionStatus) {
        self.status = match (self.status, status) {
            // After a purge, new data starts a new session; report it as changed.
            (SessionStatus::Purged, s) => s,
            (cur, s) => cur.max(s),
        };
    }

    /// The (created, refreshed) timestamps the session carries now: those it was opened with
    /// (0 for a session never sealed).
    pub(crate) fn times(&self) -> (u64, u64) {
        let created = self.created_at.unwrap_or(0);
        (created, self.refreshed_at.unwrap_or(created))
    }

    /// The (created, refreshed) timestamps the session carries once sealed at `now`.
    ///
    /// A session created by an instance whose clock is ahead (within the clock-skew leeway)
    /// can be re-sealed by one whose clock is behind: `refreshed` is then `created`, never
    /// earlier, so the body stays valid (`refreshed >= created`) on every instance.
    pub(crate) fn timestamps_at(&self, now: u64) -> (u64, u64) {
        let created = match self.created_at {
            Some(c) if self.status != SessionStatus::Renewed => c,
            _ => now,
        };
        (created, now.max(created))
    }

    /// A lower bound of the encoded length: the bytes of every key and value, without any
    /// framing. Cheap, so an oversized session is refused before it is serialized.
    pub(crate) fn min_encoded_len(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Marks the data changed, so the response re-seals the whole value (a migration).
    pub(crate) fn mark_changed(&mut self) {
        self.mark(SessionStatus::Changed);
    }

    /// Whether this request only refreshes the session's times (an idle refresh, a touch, a
    /// revalidation): nothing in its data changed.
    pub(crate) fn only_refreshed(&self) -> bool {
        self.status == SessionStatus::Unchanged
    }

    /// Sets the timestamps directly (tests, known-answer vectors, fuzz seeds).
    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn with_timestamps(mut self, created_at: u64, refreshed_at: u64) -> SessionState {
        self.created_at = Some(created_at);
        self.refreshed_at = Some(refreshed_at);
        self
    }

    /// Every entry's name and the size of its serialized value, in order; the whole-struct
    /// value of [`set_data`](SessionState::set_data) has the empty name (for the inspector).
    pub(crate) fn entry_sizes(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries.iter().map(|(k, v)| (k, v.len()))
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(s.status(), SessionStatus::Changed);
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
}
