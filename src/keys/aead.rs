//! The AEADs: which algorithm seals, the key derived for it from a secret, its key id, and
//! the initialised cipher.

use std::fmt;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::gcm::Gcm;
use super::secret::Secret;
use super::xaes::Xaes;
use crate::error::{ConfigError, Error};

///
/// Every algorithm is always available for opening (each secret yields a key for each); the
/// configured one is used for sealing, so a deployment can switch algorithms and live cookies
/// move over as they are re-sealed.
///
/// * [`Algorithm::XAes256Gcm`] (the default): XAES-256-GCM (C2SP), AES-256-GCM with 192-bit
///   nonces. Safe at any volume like XChaCha20-Poly1305, and about as fast as AES-256-GCM
///   on any CPU with AES instructions (x86-64 AES-NI, ARMv8 crypto extensions): the key it
///   derives from the nonce's first half is derived once per run of seals that share that
///   half (FORMAT.md, *Nonces*) and kept for recently opened ones.
/// * [`Algorithm::XChaCha20Poly1305`]: 192-bit random nonces too, and the fast choice on a
///   CPU *without* AES instructions, where AES runs as slow constant-time software. Build
///   the application with `--cfg poly1305_backend="soft"` on x86-64 (see FORMAT.md).
/// * [`Algorithm::Aes256Gcm`]: fastest with AES-NI, but its 96-bit random nonce limits one key
///   to about 2^32 seals before the collision risk passes 2^-32. Rotate keys (or use
///   [`EpochKeys`](crate::EpochKeys)) well before a key has sealed that many cookies.
///
/// ```
/// use sealed_session::Algorithm;
/// assert_eq!("aes256gcm".parse::<Algorithm>().unwrap(), Algorithm::Aes256Gcm);
/// assert_eq!("xaes".parse::<Algorithm>().unwrap(), Algorithm::XAes256Gcm);
/// assert_eq!(Algorithm::default(), Algorithm::XAes256Gcm);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// XChaCha20-Poly1305: 32-byte key, 24-byte nonce, 16-byte tag. Header id `1`.
    XChaCha20Poly1305,
    /// AES-256-GCM: 32-byte key, 12-byte nonce, 16-byte tag. Header id `2`.
    Aes256Gcm,
    /// XAES-256-GCM (C2SP): 32-byte key, 24-byte nonce, 16-byte tag. Header id `3`. The
    /// default.
    #[default]
    XAes256Gcm,
}

impl Algorithm {
    /// Every algorithm this build knows, in header-id order.
    pub const ALL: [Algorithm; 3] = [
        Algorithm::XChaCha20Poly1305,
        Algorithm::Aes256Gcm,
        Algorithm::XAes256Gcm,
    ];

    /// The byte that names this algorithm in the sealed header.
    pub(crate) const fn id(self) -> u8 {
        match self {
            Algorithm::XChaCha20Poly1305 => 1,
            Algorithm::Aes256Gcm => 2,
            Algorithm::XAes256Gcm => 3,
        }
    }

    /// The algorithm a header byte names, if this build knows it.
    pub(crate) const fn from_id(id: u8) -> Option<Algorithm> {
        match id {
            1 => Some(Algorithm::XChaCha20Poly1305),
            2 => Some(Algorithm::Aes256Gcm),
            3 => Some(Algorithm::XAes256Gcm),
            _ => None,
        }
    }

    /// Nonce length in bytes.
    pub(crate) const fn nonce_len(self) -> usize {
        match self {
            Algorithm::XChaCha20Poly1305 | Algorithm::XAes256Gcm => 24,
            Algorithm::Aes256Gcm => 12,
        }
    }

    /// Authentication tag length in bytes (16 for all three).
    pub(crate) const fn tag_len(self) -> usize {
        16
    }

    /// The lowercase name used in configuration and in the HKDF info string.
    ///
    /// ```
    /// assert_eq!(sealed_session::Algorithm::Aes256Gcm.name(), "aes256gcm");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::XChaCha20Poly1305 => "xchacha20poly1305",
            Algorithm::Aes256Gcm => "aes256gcm",
            Algorithm::XAes256Gcm => "xaes256gcm",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match norm.as_str() {
            "xchacha20poly1305" | "xchacha" => Ok(Algorithm::XChaCha20Poly1305),
            "aes256gcm" | "aesgcm" => Ok(Algorithm::Aes256Gcm),
            "xaes256gcm" | "xaes" => Ok(Algorithm::XAes256Gcm),
            _ => Err(ConfigError::UnknownAlgorithm { name: s.to_owned() }),
        }
    }
}

/// A 4-byte key id: the first bytes of SHA-256 over a label and the derived key.
///
/// It lets the opener go straight to the right key. It is a hint, not a secret and not an
/// authenticator: two keys may share an id (one chance in 2^32), in which case both are tried.
///
/// ```
/// use sealed_session::{Algorithm, Keyring, Secret};
/// let ring = Keyring::new(Secret::from_bytes(&[9u8; 32]).unwrap());
/// let id = ring.primary_id(Algorithm::XChaCha20Poly1305);
/// assert_eq!(id.to_string().len(), 8); // hex
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub(crate) [u8; 4]);

impl KeyId {
    /// The id's bytes as they appear in the header.
    ///
    /// ```
    /// # use sealed_session::{Algorithm, Keyring, Secret};
    /// # let ring = Keyring::new(Secret::generate());
    /// assert_eq!(ring.primary_id(Algorithm::Aes256Gcm).as_bytes().len(), 4);
    /// ```
    pub fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// An initialised AEAD, built once per key so no request pays for a key schedule.
#[derive(Clone)]
enum Cipher {
    XChaCha(Box<XChaCha20Poly1305>),
    Aes(Gcm),
    XAes(Xaes),
}

/// The AEAD's tag did not verify (the only failure of [`Key::open_detached`]).
#[derive(Debug)]
pub(crate) struct TagMismatch;

/// One derived AEAD key: its id, its algorithm and the initialised cipher.
#[derive(Clone)]
pub(crate) struct Key {
    id: KeyId,
    algorithm: Algorithm,
    cipher: Cipher,
}

/// HKDF salt: fixed and public; it separates this crate's derivations from anyone else's use
/// of the same secret.
const HKDF_SALT: &[u8] = b"sealed-session";
/// The purpose every key here serves. A later purpose (say, CSRF tokens) gets its own string.
const PURPOSE: &str = "session-cookie";

impl Key {
    /// Derives the key of `algorithm` from `secret`, optionally for one epoch.
    ///
    /// info = `sealed-session/v1/session-cookie/<algorithm>` (+ `/epoch/<n>`).
    pub(super) fn derive(secret: &Secret, algorithm: Algorithm, epoch: Option<u64>) -> Key {
        let info = match epoch {
            None => format!("sealed-session/v1/{PURPOSE}/{}", algorithm.name()),
            Some(e) => format!("sealed-session/v1/{PURPOSE}/{}/epoch/{e}", algorithm.name()),
        };
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), &secret.0);
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail.
        if hk.expand(info.as_bytes(), okm.as_mut_slice()).is_err() {
            unreachable!("HKDF-SHA256 can always expand 32 bytes");
        }
        Self::from_raw(algorithm, &okm)
    }

    /// Builds a key from raw AEAD key bytes (known-answer tests use this directly).
    pub(crate) fn from_raw(algorithm: Algorithm, raw: &[u8; 32]) -> Key {
        let mut h = Sha256::new();
        h.update(b"sealed-session/v1/key-id");
        h.update([algorithm.id()]);
        h.update(raw);
        let digest = h.finalize();
        let id = KeyId([digest[0], digest[1], digest[2], digest[3]]);
        let cipher = match algorithm {
            Algorithm::XChaCha20Poly1305 => {
                Cipher::XChaCha(Box::new(XChaCha20Poly1305::new(raw.into())))
            }
            Algorithm::Aes256Gcm => Cipher::Aes(Gcm::new(raw)),
            Algorithm::XAes256Gcm => Cipher::XAes(Xaes::new(raw)),
        };
        Key {
            id,
            algorithm,
            cipher,
        }
    }

    pub(crate) fn id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Fills `nonce` (`self.algorithm().nonce_len()` bytes) for one seal: random bytes
    /// from the operating system, except that XAES-256-GCM reuses its nonce prefix for a
    /// bounded number of seals so that its derived key is computed once for them (see
    /// `xaes.rs` for the bounds).
    pub(crate) fn fresh_nonce(&self, nonce: &mut [u8]) -> Result<(), Error> {
        match &self.cipher {
            Cipher::XAes(c) => match nonce.try_into() {
                Ok(n) => c.fresh_nonce(n),
                Err(_) => unreachable!("format passes a 24-byte nonce for XAES-256-GCM"),
            },
            _ => crate::random::fill(nonce),
        }
    }

    /// Encrypts `buf` in place and returns the tag. `nonce` must be
    /// `self.algorithm().nonce_len()` bytes; the format layer guarantees it.
    pub(crate) fn seal_detached(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let tag = match &self.cipher {
            Cipher::XChaCha(c) => {
                let Ok(n) = nonce.try_into() else {
                    unreachable!("format passes a 24-byte nonce for XChaCha20-Poly1305")
                };
                c.encrypt_inout_detached(n, aad, buf.into())
            }
            Cipher::Aes(c) => {
                let Ok(n) = nonce.try_into() else {
                    unreachable!("format passes a 12-byte nonce for AES-256-GCM")
                };
                return c.seal(n, aad, buf);
            }
            Cipher::XAes(c) => {
                let Ok(n) = nonce.try_into() else {
                    unreachable!("format passes a 24-byte nonce for XAES-256-GCM")
                };
                return c.encrypt(n, aad, buf);
            }
        };
        match tag {
            Ok(tag) => tag.into(),
            // The AEADs only fail on inputs over 2^36 bytes; cookies are a few KB.
            Err(_) => unreachable!("AEAD seal of a cookie-sized buffer cannot fail"),
        }
    }

    /// Decrypts `buf` in place if `tag` verifies; on failure `buf` is left unspecified.
    pub(crate) fn open_detached(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), TagMismatch> {
        let Ok(tag) = tag.try_into() else {
            return Err(TagMismatch);
        };
        match &self.cipher {
            Cipher::XChaCha(c) => {
                let n = nonce.try_into().map_err(|_| TagMismatch)?;
                c.decrypt_inout_detached(n, aad, buf.into(), tag)
                    .map_err(|_| TagMismatch)
            }
            Cipher::Aes(c) => {
                let n = nonce.try_into().map_err(|_| TagMismatch)?;
                c.open(n, aad, buf, tag.as_ref()).map_err(|_| TagMismatch)
            }
            Cipher::XAes(c) => {
                let n = nonce.try_into().map_err(|_| TagMismatch)?;
                c.decrypt(n, aad, buf, tag.as_ref())
                    .map_err(|_| TagMismatch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keyring;

    fn secret(b: u8) -> Secret {
        Secret::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn one_secret_gives_distinct_keys_per_algorithm_and_epoch() {
        let s = secret(3);
        let a = Key::derive(&s, Algorithm::XChaCha20Poly1305, None);
        let b = Key::derive(&s, Algorithm::Aes256Gcm, None);
        let c = Key::derive(&s, Algorithm::XChaCha20Poly1305, Some(7));
        let d = Key::derive(&s, Algorithm::XChaCha20Poly1305, Some(8));
        let ids = [a.id(), b.id(), c.id(), d.id()];
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                assert_ne!(ids[i], ids[j]);
            }
        }
        // Deterministic: the same secret gives the same id on every instance.
        assert_eq!(
            Key::derive(&s, Algorithm::Aes256Gcm, None).id(),
            Keyring::new(secret(3)).primary_id(Algorithm::Aes256Gcm)
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The two test vectors of the C2SP XAES-256-GCM specification
    /// (<https://github.com/C2SP/C2SP/blob/main/XAES-256-GCM.md>), through our `Key`.

    #[test]
    fn xaes_256_gcm_c2sp_vectors() {
        let cases = [
            (
                0x01,
                &b""[..],
                "ce546ef63c9cc60765923609",
                "b33a9a1974e96e52daf2fcf7075e2271",
            ),
            (
                0x03,
                b"c2sp.org/XAES-256-GCM",
                "986ec1832593df5443a17943",
                "7fd083bf3fdb41abd740a21f71eb769d",
            ),
        ];
        for (k, aad, ct, tag) in cases {
            let key = Key::from_raw(Algorithm::XAes256Gcm, &[k; 32]);
            let mut buf = b"XAES-256-GCM".to_vec();
            let t = key.seal_detached(b"ABCDEFGHIJKLMNOPQRSTUVWX", aad, &mut buf);
            assert_eq!(buf, hex(ct));
            assert_eq!(t.to_vec(), hex(tag));
            key.open_detached(b"ABCDEFGHIJKLMNOPQRSTUVWX", aad, &mut buf, &t)
                .unwrap();
            assert_eq!(buf, b"XAES-256-GCM");
        }
    }

    #[test]
    fn every_algorithm_parses_by_name_and_id() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(Algorithm::from_id(alg.id()), Some(alg));
        }
        assert_eq!("XAES".parse::<Algorithm>().unwrap(), Algorithm::XAes256Gcm);
        assert_eq!(
            "XAES-256-GCM".parse::<Algorithm>().unwrap(),
            Algorithm::XAes256Gcm
        );
        assert!("xaes".parse::<Algorithm>().is_ok());
        let e = "aes128".parse::<Algorithm>().unwrap_err();
        assert!(e.to_string().contains("\"xaes256gcm\""), "{e}");
        assert_eq!(Algorithm::default(), Algorithm::XAes256Gcm);
    }
}
