//! Key rings: secrets in rotation order, newest first.

use std::fmt;

use super::aead::{Algorithm, Key, KeyId};
use super::secret::Secret;
use crate::error::ConfigError;

/// The keys one secret yields: one per algorithm, so every algorithm always opens.
#[derive(Clone)]
pub(crate) struct KeySet {
    xchacha: Key,
    aes: Key,
    xaes: Key,
}

impl KeySet {
    pub(super) fn derive(secret: &Secret, epoch: Option<u64>) -> KeySet {
        KeySet {
            xchacha: Key::derive(secret, Algorithm::XChaCha20Poly1305, epoch),
            aes: Key::derive(secret, Algorithm::Aes256Gcm, epoch),
            xaes: Key::derive(secret, Algorithm::XAes256Gcm, epoch),
        }
    }

    pub(super) fn get(&self, algorithm: Algorithm) -> &Key {
        match algorithm {
            Algorithm::XChaCha20Poly1305 => &self.xchacha,
            Algorithm::Aes256Gcm => &self.aes,
            Algorithm::XAes256Gcm => &self.xaes,
        }
    }
}

/// Secrets in rotation order: the first (primary) seals, all of them open.
///
/// Rotation without downtime and without a key store:
///
/// 1. Roll out `[old, new]` to every instance: `new` opens but does not seal yet, so no
///    instance issues a cookie another cannot open.
/// 2. Roll out `[new, old]`: `new` seals. A cookie opened under `old` is re-sealed under
///    `new` in the same response, so live sessions migrate by themselves.
/// 3. After one absolute session lifetime, roll out `[new]`.
///
/// ```
/// use sealed_session::{Keyring, Secret};
///
/// let ring = Keyring::new(Secret::generate()).with_fallback(Secret::generate());
/// assert_eq!(ring.len(), 2);
/// ```
#[derive(Clone)]
pub struct Keyring {
    pub(super) sets: Vec<KeySet>,
}

impl Keyring {
    /// A key ring with one secret, which seals and opens.
    ///
    /// ```
    /// let ring = sealed_session::Keyring::new(sealed_session::Secret::generate());
    /// assert_eq!(ring.len(), 1);
    /// ```
    pub fn new(primary: Secret) -> Keyring {
        Keyring {
            sets: vec![KeySet::derive(&primary, None)],
        }
    }

    /// A key ring from secrets newest first; fails with [`ConfigError::NoKeys`] when empty.
    ///
    /// ```
    /// use sealed_session::{Keyring, Secret};
    /// let ring = Keyring::from_secrets([Secret::generate(), Secret::generate()]).unwrap();
    /// assert_eq!(ring.len(), 2);
    /// assert!(Keyring::from_secrets(Vec::new()).is_err());
    /// ```
    pub fn from_secrets(secrets: impl IntoIterator<Item = Secret>) -> Result<Keyring, ConfigError> {
        let sets: Vec<KeySet> = secrets
            .into_iter()
            .map(|s| KeySet::derive(&s, None))
            .collect();
        if sets.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        Ok(Keyring { sets })
    }

    /// A key ring from a comma-separated list of base64 secrets, newest first.
    ///
    /// ```
    /// let list = format!("{},{}", sealed_session::Secret::generate().to_base64(),
    ///                             sealed_session::Secret::generate().to_base64());
    /// assert_eq!(sealed_session::Keyring::from_base64_list(&list).unwrap().len(), 2);
    /// ```
    pub fn from_base64_list(list: &str) -> Result<Keyring, ConfigError> {
        Self::from_secrets(Secret::list_from_base64(list)?)
    }

    /// A key ring from the environment variable `name`: comma-separated base64 secrets,
    /// newest first (what [`from_base64_list`](Keyring::from_base64_list) reads). A missing
    /// or empty variable is [`ConfigError::MissingEnvVar`], which names it.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, Keyring};
    /// let err = Keyring::from_env("SEALED_SESSION_DOC_UNSET").unwrap_err();
    /// assert_eq!(err, ConfigError::MissingEnvVar { name: "SEALED_SESSION_DOC_UNSET".into() });
    /// assert!(err.to_string().contains("sealed-session keygen"));
    /// ```
    pub fn from_env(name: &str) -> Result<Keyring, ConfigError> {
        match std::env::var(name) {
            Ok(list) if !list.trim().is_empty() => Self::from_base64_list(&list),
            _ => Err(ConfigError::MissingEnvVar {
                name: name.to_owned(),
            }),
        }
    }

    /// Appends an older secret that opens but never seals.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Secret};
    /// let ring = Keyring::new(Secret::generate()).with_fallback(Secret::generate());
    /// assert_eq!(ring.len(), 2);
    /// ```
    pub fn with_fallback(mut self, older: Secret) -> Keyring {
        self.sets.push(KeySet::derive(&older, None));
        self
    }

    /// Number of secrets in the ring.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Secret};
    /// assert_eq!(Keyring::new(Secret::generate()).len(), 1);
    /// ```
    #[allow(clippy::len_without_is_empty)] // a ring is never empty
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// The key id the primary secret seals with under `algorithm`.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Keyring, Secret};
    /// let s = Secret::from_bytes(&[1u8; 32]).unwrap();
    /// let a = Keyring::new(s.clone()).primary_id(Algorithm::Aes256Gcm);
    /// let b = Keyring::new(s).primary_id(Algorithm::Aes256Gcm);
    /// assert_eq!(a, b); // derived from the key: stable across restarts and instances
    /// ```
    pub fn primary_id(&self, algorithm: Algorithm) -> KeyId {
        self.primary().get(algorithm).id()
    }

    pub(super) fn primary(&self) -> &KeySet {
        match self.sets.first() {
            Some(set) => set,
            None => unreachable!("a Keyring is never built empty"),
        }
    }

    /// The key id of every secret under `algorithm`, in rotation order (index 0 is the
    /// primary): what a sealed value's header names, so logs, metrics and the inspector can
    /// be matched to the secrets of a `SESSION_KEYS` list.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Keyring, Secret};
    /// let ring = Keyring::new(Secret::generate()).with_fallback(Secret::generate());
    /// let ids = ring.key_ids(Algorithm::Aes256Gcm);
    /// assert_eq!(ids.len(), 2);
    /// assert_eq!(ids[0], ring.primary_id(Algorithm::Aes256Gcm));
    /// ```
    pub fn key_ids(&self, algorithm: Algorithm) -> Vec<KeyId> {
        self.sets.iter().map(|s| s.get(algorithm).id()).collect()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("secrets", &self.sets.len())
            .finish_non_exhaustive()
    }
}
