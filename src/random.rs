//! The one place randomness comes from.
//!
//! Nonces come from `rand`'s thread-local generator: a ChaCha-based CSPRNG seeded from, and
//! periodically reseeded by, the operating system. It is as unpredictable as the OS generator
//! for this use and costs no system call per seal (a `getrandom` call would add about 0.3 µs
//! to every seal). Secrets, made rarely and kept long, come straight from the OS generator.

use rand::{Rng as _, TryRng as _};

/// Fills `buf` with cryptographically secure random bytes (for nonces).
pub(crate) fn fill(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}

/// Fills `buf` from the operating system's random number generator (for secrets).
pub(crate) fn fill_from_os(buf: &mut [u8]) {
    if rand::rngs::SysRng.try_fill_bytes(buf).is_err() {
        // The OS generator failing is exceptional; the thread generator was seeded from it
        // and panics itself if the OS cannot seed it, so no weak secret is ever produced.
        fill(buf);
    }
}
