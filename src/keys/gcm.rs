//! AES-256-GCM with a 96-bit nonce: the one place that chooses its implementation, for
//! `Algorithm::Aes256Gcm` and for the keys XAES-256-GCM derives.
//!
//! By default RustCrypto's `aes-gcm` (pure Rust, AES-NI and CLMUL detected at run time; it
//! runs CTR and GHASH in separate passes). With the feature `ring`, `ring`'s (BoringSSL's
//! assembly, which runs both in one pass and on these sizes costs about half). The bytes are
//! the same either way: the known-answer vectors pass under both.

use std::sync::Arc;

/// An AES-256-GCM key, its schedule built once. Clones share it.
#[derive(Clone)]
pub(crate) struct Gcm(Inner);

#[cfg(not(feature = "ring"))]
type Inner = Arc<aes_gcm::Aes256Gcm>;

#[cfg(feature = "ring")]
type Inner = Arc<::ring::aead::LessSafeKey>;

/// The tag did not verify.
#[derive(Debug)]
pub(crate) struct Mismatch;

#[cfg(not(feature = "ring"))]
impl Gcm {
    pub(crate) fn new(key: &[u8; 32]) -> Gcm {
        use aes_gcm::aead::KeyInit;
        Gcm(Arc::new(aes_gcm::Aes256Gcm::new(key.into())))
    }

    /// Encrypts `buf` in place; returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        use aes_gcm::aead::AeadInOut;
        match self.0.encrypt_inout_detached(nonce.into(), aad, buf.into()) {
            Ok(tag) => tag.into(),
            // AES-GCM only refuses inputs over 2^36 bytes; cookies are a few KB.
            Err(_) => unreachable!("AES-256-GCM seals any cookie-sized buffer"),
        }
    }

    /// Decrypts `buf` in place if `tag` verifies.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), Mismatch> {
        use aes_gcm::aead::AeadInOut;
        self.0
            .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
            .map_err(|_| Mismatch)
    }
}

#[cfg(feature = "ring")]
impl Gcm {
    pub(crate) fn new(key: &[u8; 32]) -> Gcm {
        use ::ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        match UnboundKey::new(&AES_256_GCM, key) {
            Ok(k) => Gcm(Arc::new(LessSafeKey::new(k))),
            Err(_) => unreachable!("32 bytes are an AES-256-GCM key"),
        }
    }

    /// Encrypts `buf` in place; returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        use ::ring::aead::{Aad, Nonce};
        let nonce = Nonce::assume_unique_for_key(*nonce);
        match self
            .0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
        {
            Ok(tag) => {
                let mut out = [0u8; 16];
                out.copy_from_slice(tag.as_ref());
                out
            }
            // AES-GCM only refuses inputs over 2^36 bytes; cookies are a few KB.
            Err(_) => unreachable!("AES-256-GCM seals any cookie-sized buffer"),
        }
    }

    /// Decrypts `buf` in place if `tag` verifies.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), Mismatch> {
        use ::ring::aead::{Aad, Nonce, Tag};
        self.0
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                Tag::from(*tag),
                buf,
                0..,
            )
            .map(|_| ())
            .map_err(|_| Mismatch)
    }
}
