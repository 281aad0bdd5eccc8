//! Epoch keys: one master secret, a key per time period.

use std::fmt;
use std::sync::{Arc, RwLock};

use super::aead::{Algorithm, Key, KeyId};
use super::ring::KeySet;
use super::secret::Secret;
use crate::error::ConfigError;

/// Keys that rotate on a schedule, all derived from one master secret.
///
/// The key of epoch `e = floor(unix_time / period)` seals; the keys of `e` and `e - 1` open,
/// and so does the key of `e + 1` once `now + clock_skew` has reached epoch `e + 1`, so an
/// instance whose clock is a little behind accepts what a peer already sealed under the next
/// epoch's key. A session opened under the previous epoch's key is re-sealed under the
/// current one, so an active session survives every rotation.
///
/// A session is guaranteed to open for at least one whole period after it was sealed (and
/// at most two), so the period must be at least the idle timeout, and longer than twice the
/// clock skew; [`SessionBuilder::build`](crate::SessionBuilder::build) refuses other periods.
///
/// A cookie sealed under the next epoch's key *before* this instance's skew window opens is
/// rejected as [`Rejection::FutureKey`](crate::Rejection::FutureKey), not as an unknown key: a
/// peer with a faster clock sealed it, and the cookie is still good there.
///
/// Derived keys are cached for the current epoch, so a request pays for no derivation.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{EpochKeys, Secret};
///
/// let keys = EpochKeys::new(Secret::generate(), Duration::from_secs(86_400)).unwrap();
/// assert_eq!(keys.epoch_at(86_400 * 3 + 5), 3);
/// ```
pub struct EpochKeys {
    master: Secret,
    pub(super) period_secs: u64,
    cache: RwLock<Option<Arc<EpochCache>>>,
}

pub(crate) struct EpochCache {
    pub(super) epoch: u64,
    pub(super) current: KeySet,
    pub(super) previous: Option<KeySet>,
    pub(super) next: Option<KeySet>,
}

impl EpochKeys {
    /// Epoch keys from a master secret and a period (at least one second).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{EpochKeys, Secret};
    /// assert!(EpochKeys::new(Secret::generate(), Duration::ZERO).is_err());
    /// ```
    pub fn new(master: Secret, period: std::time::Duration) -> Result<EpochKeys, ConfigError> {
        let period_secs = period.as_secs();
        if period_secs == 0 {
            return Err(ConfigError::EpochPeriod);
        }
        Ok(EpochKeys {
            master,
            period_secs,
            cache: RwLock::new(None),
        })
    }

    /// The epoch number at `unix_secs`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{EpochKeys, Secret};
    /// let k = EpochKeys::new(Secret::generate(), Duration::from_secs(60)).unwrap();
    /// assert_eq!(k.epoch_at(59), 0);
    /// assert_eq!(k.epoch_at(60), 1);
    /// ```
    pub fn epoch_at(&self, unix_secs: u64) -> u64 {
        unix_secs / self.period_secs
    }

    /// The rotation period.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{EpochKeys, Secret};
    /// let k = EpochKeys::new(Secret::generate(), Duration::from_secs(60)).unwrap();
    /// assert_eq!(k.period(), Duration::from_secs(60));
    /// ```
    pub fn period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.period_secs)
    }

    pub(super) fn at(&self, unix_secs: u64) -> Arc<EpochCache> {
        let epoch = self.epoch_at(unix_secs);
        // A poisoned lock only means another thread panicked mid-update of a cache we can
        // rebuild, so recover the guard instead of propagating the panic.
        if let Some(c) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && c.epoch == epoch
        {
            return Arc::clone(c);
        }
        let fresh = Arc::new(EpochCache {
            epoch,
            current: KeySet::derive(&self.master, Some(epoch)),
            previous: epoch
                .checked_sub(1)
                .map(|p| KeySet::derive(&self.master, Some(p))),
            next: epoch
                .checked_add(1)
                .map(|n| KeySet::derive(&self.master, Some(n))),
        });
        let mut guard = self.cache.write().unwrap_or_else(|p| p.into_inner());
        // Only move the cache forward: a request with a slightly older clock reading must not
        // evict the newer epoch (it still gets correct keys from `fresh`).
        if guard.as_ref().is_none_or(|c| c.epoch < epoch) {
            *guard = Some(Arc::clone(&fresh));
        }
        fresh
    }

    /// The key id of epoch `epoch`'s key under `algorithm` (derives the key: for tools, not
    /// for requests).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Algorithm, EpochKeys, Secret};
    /// let k = EpochKeys::new(Secret::from_bytes(&[1u8; 32]).unwrap(), Duration::from_secs(60)).unwrap();
    /// let alg = Algorithm::Aes256Gcm;
    /// assert_ne!(k.key_id(7, alg), k.key_id(8, alg));
    /// ```
    pub fn key_id(&self, epoch: u64, algorithm: Algorithm) -> KeyId {
        Key::derive(&self.master, algorithm, Some(epoch)).id()
    }
}

impl fmt::Debug for EpochKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochKeys")
            .field("period_secs", &self.period_secs)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Keyring, Keys};
    use std::time::Duration;

    fn secret(b: u8) -> Secret {
        Secret::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn next_epoch_key_opens_only_within_the_skew() {
        let keys =
            Keys::Epoch(EpochKeys::new(secret(5), std::time::Duration::from_secs(1000)).unwrap());
        let alg = Algorithm::XAes256Gcm;
        let next = keys.at(2000, Duration::ZERO).sealing(alg).id();
        let skew = Duration::from_secs(60);
        // 61 s before the boundary: outside the window, recognised as the future key.
        let at = keys.at(1939, skew);
        assert_eq!(at.candidates(alg, next).count(), 0);
        assert!(at.is_future_key(alg, next));
        // 60 s before: inside; it opens and needs no re-seal.
        let at = keys.at(1940, skew);
        assert_eq!(
            at.candidates(alg, next).map(|(_, p)| p).collect::<Vec<_>>(),
            vec![true]
        );
        assert!(!at.is_future_key(alg, next));
        // Rings know no future keys.
        let ring = Keys::Ring(Keyring::new(secret(5)));
        assert!(!ring.at(0, skew).is_future_key(alg, next));
    }

    #[test]
    fn epoch_keys_roll_over() {
        let keys =
            Keys::Epoch(EpochKeys::new(secret(5), std::time::Duration::from_secs(100)).unwrap());
        let alg = Algorithm::XChaCha20Poly1305;
        let e1 = keys.at(150, Duration::ZERO).sealing(alg).id();
        let e2 = keys.at(250, Duration::ZERO).sealing(alg).id();
        assert_ne!(e1, e2);
        // In epoch 2, epoch 1's key opens (not primary); epoch 0's does not.
        let at = keys.at(250, Duration::ZERO);
        assert_eq!(
            at.candidates(alg, e1).map(|(_, p)| p).collect::<Vec<_>>(),
            vec![false]
        );
        let e0 = keys.at(50, Duration::ZERO).sealing(alg).id();
        assert_eq!(keys.at(250, Duration::ZERO).candidates(alg, e0).count(), 0);
        // Epoch 0 has no previous epoch.
        assert_eq!(keys.at(10, Duration::ZERO).candidates(alg, e0).count(), 1);
    }
}
