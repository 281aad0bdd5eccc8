//! Secrets: the operator's random bytes that every key is derived from.

use std::fmt;

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::ConfigError;

/// A secret from which session keys are derived: at least 32 bytes, zeroized on drop,
/// never printed.
///
/// ```
/// use sealed_session::Secret;
///
/// let s = Secret::generate();
/// let again = Secret::from_base64(&s.to_base64()).unwrap();
/// assert_eq!(format!("{again:?}"), "Secret(<redacted>)");
/// assert!(Secret::from_base64("c2hvcnQ").is_err()); // "short"
/// ```
#[derive(Clone)]
pub struct Secret(pub(super) Zeroizing<Vec<u8>>);

impl Secret {
    /// The minimum secret length in bytes.
    pub const MIN_LEN: usize = 32;

    /// Wraps raw secret bytes; fails with [`ConfigError::SecretTooShort`] under 32 bytes.
    ///
    /// ```
    /// assert!(sealed_session::Secret::from_bytes(&[1u8; 32]).is_ok());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Secret, ConfigError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::SecretTooShort { len: bytes.len() });
        }
        Ok(Secret(Zeroizing::new(bytes.to_vec())))
    }

    /// Decodes a secret from base64: standard or URL-safe alphabet, padded or not.
    /// Surrounding whitespace is ignored.
    ///
    /// ```
    /// let s = sealed_session::Secret::from_base64(
    ///     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    /// ).unwrap();
    /// # let _ = s;
    /// ```
    pub fn from_base64(text: &str) -> Result<Secret, ConfigError> {
        Self::from_base64_at(text, 0)
    }

    fn from_base64_at(text: &str, index: usize) -> Result<Secret, ConfigError> {
        let trimmed = text.trim().trim_end_matches('=');
        // Normalise the URL-safe alphabet to the standard one so one decoder takes both.
        let normalised: Zeroizing<String> = Zeroizing::new(
            trimmed
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect(),
        );
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(normalised.as_bytes())
                .map_err(|_| ConfigError::SecretNotBase64 { index })?,
        );
        Self::from_bytes(&bytes)
    }

    /// Parses a comma-separated list of base64 secrets, newest first (the form the example
    /// server reads from `SESSION_KEYS`). Empty items are an error.
    ///
    /// ```
    /// use sealed_session::Secret;
    /// let a = Secret::generate().to_base64();
    /// let b = Secret::generate().to_base64();
    /// assert_eq!(Secret::list_from_base64(&format!("{a}, {b}")).unwrap().len(), 2);
    /// ```
    pub fn list_from_base64(list: &str) -> Result<Vec<Secret>, ConfigError> {
        if list.trim().is_empty() {
            return Err(ConfigError::NoKeys);
        }
        list.split(',')
            .enumerate()
            .map(|(i, item)| Self::from_base64_at(item, i))
            .collect()
    }

    /// Generates a fresh 32-byte secret from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system's generator fails (see [`Error::Random`](crate::Error::Random)): a process that
    /// cannot draw a secret must not start with a weak one.
    ///
    /// ```
    /// assert_ne!(
    ///     sealed_session::Secret::generate().to_base64(),
    ///     sealed_session::Secret::generate().to_base64(),
    /// );
    /// ```
    pub fn generate() -> Secret {
        let mut bytes = Zeroizing::new(vec![0u8; Self::MIN_LEN]);
        if let Err(e) = crate::random::fill(&mut bytes) {
            panic!("{e}");
        }
        Secret(bytes)
    }

    /// Encodes the secret as URL-safe base64 without padding, the form
    /// [`Secret::from_base64`] reads back. Treat the result as the secret itself.
    ///
    /// ```
    /// let s = sealed_session::Secret::from_bytes(&[0u8; 32]).unwrap();
    /// assert_eq!(s.to_base64(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    /// ```
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.as_slice())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
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
    fn short_secret_is_an_error_that_says_so() {
        let e = Secret::from_bytes(&[0u8; 31]).unwrap_err();
        assert_eq!(e, ConfigError::SecretTooShort { len: 31 });
        assert!(e.to_string().contains("at least 32 bytes"));
    }

    #[test]
    fn base64_in_all_four_spellings() {
        let raw: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37) ^ 0xfb).collect();
        let e = base64::engine::general_purpose::STANDARD.encode(&raw);
        let forms = [
            e.clone(),
            e.trim_end_matches('=').to_string(),
            base64::engine::general_purpose::URL_SAFE.encode(&raw),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw),
        ];
        assert!(forms.iter().any(|f| f.contains('+') || f.contains('/')));
        for f in forms {
            let s = Secret::from_base64(&format!("  {f}\n")).unwrap();
            assert_eq!(s.0.as_slice(), raw.as_slice(), "{f}");
        }
        assert_eq!(
            Secret::from_base64("not base64!!").unwrap_err(),
            ConfigError::SecretNotBase64 { index: 0 }
        );
        assert_eq!(
            Secret::list_from_base64(&format!("{},%%", secret(1).to_base64())).unwrap_err(),
            ConfigError::SecretNotBase64 { index: 1 }
        );
    }

    #[test]
    fn debug_never_prints_key_material() {
        let s = secret(0xab);
        let ring = Keyring::new(s.clone());
        for text in [format!("{s:?}"), format!("{ring:?}")] {
            assert!(!text.contains("ab"), "{text}");
            assert!(!text.contains("171"), "{text}");
        }
    }
}
