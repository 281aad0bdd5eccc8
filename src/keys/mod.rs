//! Secrets, derived AEAD keys, key ids and the rotation order.
//!
//! Operators hand over *secrets* (at least 32 random bytes each). The crate never uses a
//! secret directly as a cipher key: each one goes through HKDF-SHA256 with an info string
//! that names the crate, the purpose and the algorithm, so one secret never feeds two
//! algorithms or two purposes. Each derived key gets a 4-byte *key id* computed from the key
//! itself; the id travels in the cookie header so that opening goes straight to the right key
//! and no operator ever numbers keys.
//!
//! Two ways to supply keys:
//!
//! * a [`Keyring`]: secrets newest first; the first seals, every one opens. Rotating is
//!   "put the new secret in front, keep the old one for one session lifetime, drop it".
//! * [`EpochKeys`]: one master secret; the key of each period `floor(now / period)` is derived
//!   from it, the current one seals and the current and previous ones open (and the next one
//!   within the clock-skew leeway of its start), so keys rotate on a schedule with no
//!   operator action at all.
//!
//! Key material in memory: secrets are held in `Zeroizing` buffers and wiped on drop. The
//! derived cipher states (AES key schedules and GHASH keys, ChaCha20 keys, XAES-256-GCM's
//! subkey and its cached derived AES-256-GCM instances) and the SHA-256 states inside HKDF's
//! HMAC are wiped when dropped (the `zeroize` features of `aes-gcm`, `chacha20poly1305` and
//! `sha2`, and `src/xaes.rs` for the subkey). Not wiped: temporaries the hash crates keep on the stack while
//! deriving (HKDF's pseudorandom key and output blocks, HMAC's padded key block). They live
//! in stack frames that later calls overwrite, never in heap memory that outlives the key.

mod aead;
mod epoch;
mod gcm;
mod ring;
mod secret;
mod xaes;

use std::sync::Arc;
use std::time::Duration;

use crate::error::ConfigError;

pub(crate) use aead::Key;
pub use aead::{Algorithm, KeyId};
pub(crate) use epoch::EpochCache;
pub use epoch::EpochKeys;
pub(crate) use ring::KeySet;
pub use ring::Keyring;
pub use secret::Secret;

/// Where session keys come from: a [`Keyring`] or [`EpochKeys`].
///
/// ```
/// use sealed_session::{Keys, Keyring, Secret};
/// let keys: Keys = Keyring::new(Secret::generate()).into();
/// # let _ = keys;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Keys {
    /// Operator-managed secrets, newest first.
    Ring(Keyring),
    /// Keys derived per time period from one master secret.
    Epoch(EpochKeys),
}

impl From<Keyring> for Keys {
    fn from(k: Keyring) -> Keys {
        Keys::Ring(k)
    }
}

impl From<EpochKeys> for Keys {
    fn from(k: EpochKeys) -> Keys {
        Keys::Epoch(k)
    }
}

impl From<Secret> for Keys {
    fn from(s: Secret) -> Keys {
        Keys::Ring(Keyring::new(s))
    }
}

/// The keys in force at one instant: borrowed from a ring, or one epoch's cached keys and
/// whether the next epoch's key opens yet.
pub(crate) enum KeysAt<'a> {
    Ring(&'a Keyring),
    Epoch {
        cache: Arc<EpochCache>,
        next_opens: bool,
    },
}

impl Keys {
    /// The keys in force at `unix_secs`, for a fleet whose clocks may differ by up to
    /// `clock_skew` (the time and the skew only matter for epoch keys: the next epoch's key
    /// opens once `unix_secs + clock_skew` is in the next epoch).
    pub(crate) fn at(&self, unix_secs: u64, clock_skew: Duration) -> KeysAt<'_> {
        match self {
            Keys::Ring(r) => KeysAt::Ring(r),
            Keys::Epoch(e) => {
                let cache = e.at(unix_secs);
                let ahead = e.epoch_at(unix_secs.saturating_add(clock_skew.as_secs()));
                KeysAt::Epoch {
                    next_opens: ahead > cache.epoch,
                    cache,
                }
            }
        }
    }

    /// Checks the keys against the session limits, at build time: an epoch period shorter
    /// than the idle timeout ends idle sessions early, and one not longer than twice the
    /// clock skew leaves no time in which only the current keys apply. Key rings have no
    /// constraint.
    pub(crate) fn validate(
        &self,
        idle: Option<Duration>,
        clock_skew: Duration,
    ) -> Result<(), ConfigError> {
        let Keys::Epoch(e) = self else {
            return Ok(());
        };
        let period = e.period_secs;
        if let Some(idle) = idle.filter(|i| i.as_secs() > period) {
            return Err(ConfigError::EpochShorterThanIdle {
                period,
                idle: idle.as_secs(),
            });
        }
        let skew = clock_skew.as_secs();
        if period <= skew.saturating_mul(2) {
            return Err(ConfigError::EpochSkew { period, skew });
        }
        Ok(())
    }
}

impl KeysAt<'_> {
    /// The key that seals under `algorithm`.
    pub(crate) fn sealing(&self, algorithm: Algorithm) -> &Key {
        match self {
            KeysAt::Ring(r) => r.primary().get(algorithm),
            KeysAt::Epoch { cache, .. } => cache.current.get(algorithm),
        }
    }

    /// Keys of `algorithm` whose id is `id`, in rotation order, each with whether a value it
    /// opens is current (sealed under the sealing key, or under the next epoch's key, which
    /// re-sealing would only move backwards). Usually one; more only on a 32-bit id
    /// collision. Allocates nothing.
    pub(crate) fn candidates(
        &self,
        algorithm: Algorithm,
        id: KeyId,
    ) -> impl Iterator<Item = (&Key, bool)> {
        let sets: (&[KeySet], Option<&KeySet>, Option<&KeySet>, Option<&KeySet>) = match self {
            KeysAt::Ring(r) => (&r.sets, None, None, None),
            KeysAt::Epoch { cache, next_opens } => (
                &[],
                Some(&cache.current),
                cache.previous.as_ref(),
                cache.next.as_ref().filter(|_| *next_opens),
            ),
        };
        let next = sets.3.map(|set| (set.get(algorithm), true));
        sets.0
            .iter()
            .chain(sets.1)
            .chain(sets.2)
            .enumerate()
            .map(move |(i, set)| (set.get(algorithm), i == 0))
            .chain(next)
            .filter(move |(k, _)| k.id() == id)
    }

    /// Whether `id` is the next epoch's key of `algorithm` while that key does not open yet:
    /// the value was sealed by an instance whose clock is ahead by more than the skew.
    pub(crate) fn is_future_key(&self, algorithm: Algorithm, id: KeyId) -> bool {
        match self {
            KeysAt::Ring(_) => false,
            KeysAt::Epoch { cache, next_opens } => {
                !next_opens
                    && cache
                        .next
                        .as_ref()
                        .is_some_and(|n| n.get(algorithm).id() == id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(b: u8) -> Secret {
        Secret::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn candidates_follow_rotation_order() {
        let ring = Keyring::from_secrets([secret(1), secret(2)]).unwrap();
        let keys = Keys::Ring(ring);
        let at = keys.at(0, Duration::ZERO);
        let alg = Algorithm::XChaCha20Poly1305;
        let old = Keyring::new(secret(2)).primary_id(alg);
        let found: Vec<_> = at.candidates(alg, old).map(|(_, p)| p).collect();
        assert_eq!(found, vec![false]);
        let new = at.sealing(alg).id();
        let found: Vec<_> = at.candidates(alg, new).map(|(_, p)| p).collect();
        assert_eq!(found, vec![true]);
        assert_eq!(at.candidates(alg, KeyId([0; 4])).count(), 0);
    }
}
