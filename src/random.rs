//! The one place randomness comes from: the operating system's generator, for every nonce
//! and every secret.
//!
//! Nonces are drawn with one `getrandom` call per seal (the `getrandom(2)` system call on
//! Linux), not from a user-space generator seeded once: a user-space generator's state is
//! copied by `fork` and by VM snapshots, so a parent and child (or two clones) would draw the
//! same nonces, and with AES-GCM a repeated nonce enables forgery. The kernel's generator is
//! reseeded across both. The cost is one system call per seal (measured in BENCHMARKS.md).
//! XAES-256-GCM keeps the first half of its nonce for a bounded run of seals (`xaes.rs`);
//! the half that must differ is still drawn here at every seal.

use crate::error::Error;

/// Fills `buf` from the operating system's random number generator (nonces and secrets).
///
/// Fails only if the OS generator does (a seccomp filter forbidding the call, say); the
/// caller then seals nothing.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Random(e.to_string()))
}
