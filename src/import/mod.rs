//! Importing the session of another library's cookie once, so that moving to this crate
//! does not sign every user out (feature `actix-session-import`).
//!
//! A request that carries no session cookie of this crate but carries the old library's
//! cookie has it opened once; the application turns its data into a session, which the
//! response seals as this crate's cookie while it removes the old one. A request with a
//! session of this crate never reads the old cookie, and the response removes it.
//!
//! The decoder ([`jar`]) reads cookie-rs private jars: AES-256-GCM under the encryption half
//! of a `cookie::Key`, the cookie's name as associated data. That jar is what actix-session
//! 0.11 (`CookieSessionStore`, `CookieContentSecurity::Private`, its default), axum-extra's
//! `PrivateCookieJar` and tower-sessions-cookie-store's private mode write. The plaintext is
//! each library's own: actix-session's map of JSON texts is read for you
//! ([`LegacySession::get`]); any other is there as text ([`LegacySession::plaintext`]).

pub(crate) mod jar;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ConfigError, Error};
use crate::state::SessionState;

/// The key of the library a session is imported from: the bytes of its `cookie::Key`.
///
/// ```
/// use sealed_session::LegacyKey;
///
/// // What the old application gave `actix_web::cookie::Key::from` (64 bytes or more).
/// let key = LegacyKey::from_bytes(&[7u8; 64]).unwrap();
/// // The same bytes as standard base64, as a deployment keeps them in an environment variable.
/// # let b64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw==";
/// let same = LegacyKey::from_base64(b64).unwrap();
/// assert!(LegacyKey::from_bytes(&[7u8; 32]).is_err()); // a cookie::Key is 64 bytes
/// ```
#[derive(Clone)]
pub struct LegacyKey(jar::LegacyKey);

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacyKey(..)")
    }
}

impl LegacyKey {
    /// The key of an application that built its `cookie::Key` with `Key::from(bytes)` (or
    /// `Key::try_from`): at least 64 bytes, of which, as `cookie` does, only the first 64
    /// count.
    pub fn from_bytes(bytes: &[u8]) -> Result<LegacyKey, ConfigError> {
        jar::LegacyKey::from_master(bytes)
            .map(LegacyKey)
            .map_err(ConfigError::from)
    }

    /// [`from_bytes`](LegacyKey::from_bytes) of standard base64 text (padding optional,
    /// surrounding whitespace ignored), as `base64 -w0 < key.bin` prints it.
    pub fn from_base64(text: &str) -> Result<LegacyKey, ConfigError> {
        jar::LegacyKey::from_base64(text)
            .map(LegacyKey)
            .map_err(ConfigError::from)
    }

    /// The key of an application that built its `cookie::Key` with `Key::derive_from(master)`
    /// (cookie's feature `key-expansion`; `master` at least 32 bytes).
    pub fn derive_from(master: &[u8]) -> Result<LegacyKey, ConfigError> {
        jar::LegacyKey::derive_from(master)
            .map(LegacyKey)
            .map_err(ConfigError::from)
    }
}

impl From<jar::LegacyKeyError> for ConfigError {
    fn from(e: jar::LegacyKeyError) -> ConfigError {
        ConfigError::LegacyKey {
            reason: e.to_string(),
        }
    }
}

/// The application's conversion of an imported session into this crate's.
type Convert = dyn Fn(&LegacySession, &mut SessionState) -> Result<(), Error> + Send + Sync;

/// Where a session is imported from: the old library's cookie, its key, and the
/// application's conversion of its data. Given to
/// [`SessionBuilder::import_legacy`](crate::SessionBuilder::import_legacy).
///
/// The conversion runs once per user, on the first request that uses the session and carries
/// the old cookie but none of this crate's. What it stores in the session is sealed on that
/// response, which also removes the old cookie; storing nothing (or returning `Err`) imports
/// nothing, and the old cookie is removed all the same. A cookie that does not open (another
/// key, a changed value) is ignored and removed.
///
/// ```
/// use sealed_session::{LegacyImport, LegacyKey, Secret, SessionBuilder};
///
/// // The actix-session app stored `userId` (a number) and `username` at login.
/// let import = LegacyImport::actix_session(
///     LegacyKey::from_bytes(&[7u8; 64]).unwrap(),
///     |old, session| {
///         if let (Some(id), Some(name)) = (old.get::<u64>("userId")?, old.get::<String>("username")?) {
///             session.insert("user_id", &id)?;
///             session.insert("username", &name)?;
///         }
///         Ok(())
///     },
/// );
/// let engine = SessionBuilder::new(Secret::generate()).import_legacy(import).build().unwrap();
/// ```
///
/// # Security
///
/// actix-session's cookie store keeps no expiry inside the cookie: a copied old cookie opens
/// for as long as the importer is configured. Configure it for the old cookie's lifetime
/// (its `Max-Age`, or the users' browser sessions), then remove it.
#[derive(Clone)]
pub struct LegacyImport {
    key: LegacyKey,
    name: String,
    path: String,
    domain: Option<String>,
    convert: Arc<Convert>,
}

impl fmt::Debug for LegacyImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyImport")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl LegacyImport {
    /// Imports the cookie of actix-session 0.11's `CookieSessionStore` with
    /// `CookieContentSecurity::Private` (its default), named `id` (its default; see
    /// [`cookie_name`](LegacyImport::cookie_name)), with `Path=/` and no `Domain`.
    ///
    /// The same jar serves axum-extra's `PrivateCookieJar` and tower-sessions-cookie-store's
    /// private mode: name their cookie, and read [`LegacySession::plaintext`].
    pub fn actix_session(
        key: LegacyKey,
        convert: impl Fn(&LegacySession, &mut SessionState) -> Result<(), Error> + Send + Sync + 'static,
    ) -> LegacyImport {
        LegacyImport {
            key,
            name: "id".to_owned(),
            path: "/".to_owned(),
            domain: None,
            convert: Arc::new(convert),
        }
    }

    /// The old cookie's name (actix-session's `cookie_name`). It is also the associated data
    /// the cookie was sealed with, so it must be the name the old application used.
    #[must_use]
    pub fn cookie_name(mut self, name: impl Into<String>) -> LegacyImport {
        self.name = name.into();
        self
    }

    /// The old cookie's `Path` (actix-session's `cookie_path`; default `/`): the removal must
    /// name it to reach the cookie.
    #[must_use]
    pub fn cookie_path(mut self, path: impl Into<String>) -> LegacyImport {
        self.path = path.into();
        self
    }

    /// The old cookie's `Domain` (actix-session's `cookie_domain`; default none): the
    /// removal must name it to reach the cookie.
    #[must_use]
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> LegacyImport {
        self.domain = Some(domain.into());
        self
    }

    /// The old cookie's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The old cookie's path and domain, to validate as the crate's own are.
    pub(crate) fn path_and_domain(&self) -> (&str, Option<&str>) {
        (&self.path, self.domain.as_deref())
    }

    /// The `Set-Cookie` that removes the old cookie (with `Secure` when `secure`, so that a
    /// `Secure` cookie may be replaced).
    pub(crate) fn removal(&self, secure: bool) -> String {
        let mut out = format!(
            "{}=; Path={}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            self.name, self.path
        );
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if secure {
            out.push_str("; Secure");
        }
        out.push_str("; HttpOnly");
        out
    }

    /// Opens the request's values of the old cookie and runs the application's conversion:
    /// the imported session, or why there is none.
    pub(crate) fn import<'v>(
        &self,
        values: impl Iterator<Item = &'v [u8]>,
    ) -> Result<SessionState, NotImported> {
        let mut opened: Option<Vec<u8>> = None;
        let mut first_err = None;
        for value in values {
            match self.key.0.open(&self.name, value) {
                Ok(plain) => match &opened {
                    Some(seen) if *seen != plain => return Err(NotImported::Ambiguous),
                    Some(_) => {}
                    None => opened = Some(plain),
                },
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let plain = match (opened, first_err) {
            (Some(plain), _) => plain,
            (None, Some(e)) => return Err(NotImported::Unopened(e)),
            (None, None) => return Err(NotImported::Absent),
        };
        let old = LegacySession::new(plain);
        let mut session = SessionState::new();
        (self.convert)(&old, &mut session).map_err(NotImported::Refused)?;
        if session.is_blank() {
            return Err(NotImported::Nothing);
        }
        Ok(session)
    }
}

/// Why a request's old cookie gave no session.
#[derive(Debug)]
pub(crate) enum NotImported {
    /// The request carried no usable value of it.
    Absent,
    /// No value opened under the key (the first value's reason).
    Unopened(jar::LegacyError),
    /// Two different values opened: one was planted; neither is trusted.
    Ambiguous,
    /// The application's conversion returned this error.
    Refused(Error),
    /// The application's conversion stored nothing.
    Nothing,
}

impl fmt::Display for NotImported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotImported::Absent => f.write_str("no usable value of the old cookie"),
            NotImported::Unopened(e) => write!(f, "{e}"),
            NotImported::Ambiguous => f.write_str(
                "two different values of the old cookie opened (one was planted); neither \
                 was imported",
            ),
            NotImported::Refused(e) => write!(f, "the application's conversion failed: {e}"),
            NotImported::Nothing => f.write_str("the application's conversion stored nothing"),
        }
    }
}

/// The data of an imported session, as the old library's cookie held it: what
/// [`LegacyImport`]'s conversion reads.
///
/// ```
/// # use sealed_session::{LegacyImport, LegacyKey};
/// LegacyImport::actix_session(LegacyKey::from_bytes(&[7u8; 64]).unwrap(), |old, session| {
///     // actix-session stored each value as JSON: read it back as the type it had.
///     if let Some(permissions) = old.get::<Vec<String>>("permissions")? {
///         session.insert("permissions", &permissions)?;
///     }
///     Ok(())
/// });
/// ```
pub struct LegacySession {
    plaintext: String,
    /// actix-session's entries, when the plaintext is its map of JSON texts.
    entries: Option<BTreeMap<String, Value>>,
}

impl fmt::Debug for LegacySession {
    // The user's session data: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacySession")
            .field("entries", &self.entries.as_ref().map(BTreeMap::len))
            .finish_non_exhaustive()
    }
}

impl LegacySession {
    fn new(plain: Vec<u8>) -> LegacySession {
        let entries = jar::decode_state(&plain).ok();
        // The jar opened it, and it checks the plaintext is UTF-8.
        let plaintext = String::from_utf8(plain).unwrap_or_default();
        LegacySession { plaintext, entries }
    }

    /// The value actix-session stored under `key` (with `Session::insert`), read as `T`;
    /// `None` when there is none, or when the plaintext is not actix-session's.
    ///
    /// `Err` ([`Error::Deserialize`]) when the value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.entries.as_ref().and_then(|e| e.get(key)) else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|e| Error::Deserialize {
                key: key.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The names actix-session stored values under, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .flat_map(|e| e.keys().map(String::as_str))
    }

    /// The cookie's plaintext, as the old library wrote it (for actix-session, a JSON object
    /// of JSON texts): for a library whose format [`get`](LegacySession::get) does not read.
    pub fn plaintext(&self) -> &str {
        &self.plaintext
    }
}
