//! The one place randomness comes from.
//!
//! Nonces and generated secrets come from `rand`'s thread-local generator: a ChaCha-based
//! CSPRNG seeded from, and periodically reseeded by, the operating system. It is as
//! unpredictable as the OS generator for this use and costs no system call per seal.

use rand::Rng as _;

/// Fills `buf` with cryptographically secure random bytes.
pub(crate) fn fill(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}
