//! XAES-256-GCM (C2SP), built on `aes-gcm`, with its derived keys cached.
//!
//! XAES-256-GCM turns a 32-byte key `K` and a 24-byte nonce `N` into AES-256-GCM under a key
//! derived from `K` and the nonce's first half `N[..12]`, with `N[12..]` as the GCM nonce:
//!
//! ```text
//! L  = AES-256(K, 0^128);  K1 = L << 1, xor 0x87 into the last byte if L's top bit was set
//! Kx = AES-256(K, K1 xor (00 01 58 00 || N[..12])) || AES-256(K, K1 xor (00 02 58 00 || N[..12]))
//! ciphertext, tag = AES-256-GCM(Kx, N[12..], plaintext, aad)
//! ```
//!
//! Deriving `Kx` and building its AES-256 key schedule and GHASH key costs more than sealing
//! a small cookie itself (BENCHMARKS.md), so this module avoids doing it per message:
//!
//! * **Sealing** reuses one random prefix `N[..12]` for up to [`PREFIX_SEALS`] seals and draws
//!   a fresh random `N[12..]` from the operating system for every seal. Under each derived key
//!   that is AES-GCM with random 96-bit nonces, used for at most [`PREFIX_SEALS`] messages per
//!   process: a repeat needs two equal 96-bit draws, about `n² / 2^97` for `n` messages (below
//!   2^-65 here). A process that forks, or a virtual machine that is cloned, keeps the prefix
//!   but not the suffix, which comes from the kernel at every seal: even 4096 copies sealing
//!   their whole allowance under one prefix stay below 2^-41.
//! * **Opening** keeps the ciphers of the last [`RECENT_PREFIXES`] prefixes it saw. Every
//!   cookie a process seals in one allowance shares a prefix, so a fleet's readers mostly hit
//!   it; a miss derives the key, exactly what every open cost before.
//!
//! The cached ciphers are the derived keys: they are wiped when dropped (`aes-gcm`'s
//! `zeroize` feature), as is `K1` and the stack copy of each derived key.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use aes_gcm::aead::KeyInit;
use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::BlockCipherEncrypt;
use zeroize::Zeroize;

use super::gcm::{Gcm, Mismatch};
use crate::error::Error;

/// Bytes of the nonce that select the derived key.
pub(crate) const PREFIX_LEN: usize = 12;

/// The most seals one process makes under one nonce prefix before it draws a new one.
pub(crate) const PREFIX_SEALS: u32 = 1 << 16;

/// How many derived keys an opening process keeps.
pub(crate) const RECENT_PREFIXES: usize = 32;

type Prefix = [u8; PREFIX_LEN];

/// One XAES-256-GCM key. Clones share the caches.
#[derive(Clone)]
pub(crate) struct Xaes {
    inner: Arc<Inner>,
}

struct Inner {
    aes: Aes256,
    k1: [u8; 16],
    /// The prefix this process seals under, its cipher, and how many seals it has left.
    sealing: Mutex<Option<(Prefix, Gcm, u32)>>,
    /// Recently seen prefixes and their ciphers, replaced oldest first.
    recent: RwLock<Recent>,
}

#[derive(Default)]
struct Recent {
    entries: Vec<(Prefix, Gcm)>,
    next: usize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.k1.zeroize();
    }
}

impl Xaes {
    /// The key `K`: its AES-256 key schedule and the CMAC subkey `K1`.
    pub(crate) fn new(key: &[u8; 32]) -> Xaes {
        let aes = Aes256::new(key.into());
        let mut l = [0u8; 16];
        aes.encrypt_block((&mut l).into());
        let mut k1 = [0u8; 16];
        for i in 0..16 {
            let carry = l.get(i + 1).map_or(0, |next| next >> 7);
            k1[i] = l[i] << 1 | carry;
        }
        k1[15] ^= 0x87 * (l[0] >> 7);
        l.zeroize();
        Xaes {
            inner: Arc::new(Inner {
                aes,
                k1,
                sealing: Mutex::new(None),
                recent: RwLock::new(Recent::default()),
            }),
        }
    }

    /// Fills `nonce` (24 bytes) for a seal: the current prefix (a new random one when the
    /// allowance is spent) and a fresh random suffix from the operating system.
    pub(crate) fn fresh_nonce(&self, nonce: &mut [u8; 24]) -> Result<(), Error> {
        let (prefix, suffix) = nonce.split_at_mut(PREFIX_LEN);
        crate::random::fill(suffix)?;
        let mut sealing = self
            .inner
            .sealing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match sealing.as_mut() {
            Some((current, _, left)) if *left > 0 => {
                *left -= 1;
                prefix.copy_from_slice(current);
            }
            _ => {
                let mut fresh = [0u8; PREFIX_LEN];
                crate::random::fill(&mut fresh)?;
                let cipher = self.derive(&fresh);
                self.remember(fresh, cipher.clone());
                *sealing = Some((fresh, cipher, PREFIX_SEALS - 1));
                prefix.copy_from_slice(&fresh);
            }
        }
        Ok(())
    }

    /// Encrypts `buf` in place under the 24-byte `nonce`; returns the tag.
    pub(crate) fn encrypt(&self, nonce: &[u8; 24], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let (prefix, suffix) = split(nonce);
        self.cipher(prefix, true).seal(suffix, aad, buf)
    }

    /// Decrypts `buf` in place under the 24-byte `nonce` if `tag` verifies.
    pub(crate) fn decrypt(
        &self,
        nonce: &[u8; 24],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), Mismatch> {
        let (prefix, suffix) = split(nonce);
        self.cipher(prefix, false).open(suffix, aad, buf, tag)
    }

    /// The AES-256-GCM instance of `prefix`: this process's sealing one, a recent one, or
    /// derived now (and remembered). Seals look at the sealing prefix first; opens at the
    /// recent ones first, under a read lock that concurrent opens share.
    fn cipher(&self, prefix: &Prefix, sealing_first: bool) -> Gcm {
        let found = if sealing_first {
            self.sealing_cipher(prefix)
                .or_else(|| self.recent_cipher(prefix))
        } else {
            self.recent_cipher(prefix)
                .or_else(|| self.sealing_cipher(prefix))
        };
        if let Some(cipher) = found {
            return cipher;
        }
        let cipher = self.derive(prefix);
        self.remember(*prefix, cipher.clone());
        cipher
    }

    fn sealing_cipher(&self, prefix: &Prefix) -> Option<Gcm> {
        let sealing = self
            .inner
            .sealing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match sealing.as_ref() {
            Some((current, cipher, _)) if current == prefix => Some(cipher.clone()),
            _ => None,
        }
    }

    fn recent_cipher(&self, prefix: &Prefix) -> Option<Gcm> {
        self.inner
            .recent
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, c)| c.clone())
    }

    fn remember(&self, prefix: Prefix, cipher: Gcm) {
        let mut recent = self
            .inner
            .recent
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Recent { entries, next } = &mut *recent;
        if entries.iter().any(|(p, _)| *p == prefix) {
            return; // another thread derived it meanwhile
        }
        if entries.len() < RECENT_PREFIXES {
            entries.push((prefix, cipher));
        } else if let Some(slot) = entries.get_mut(*next) {
            *slot = (prefix, cipher);
        }
        *next = (*next + 1) % RECENT_PREFIXES;
    }

    /// AES-256-GCM under `Kx`, the key derived for `prefix`.
    fn derive(&self, prefix: &Prefix) -> Gcm {
        let mut kx = [0u8; 32];
        for (half, counter) in kx.chunks_exact_mut(16).zip([1u8, 2]) {
            let mut block = [0u8; 16];
            block[..4].copy_from_slice(&[0, counter, b'X', 0]);
            block[4..].copy_from_slice(prefix);
            for (b, k) in block.iter_mut().zip(&self.inner.k1) {
                *b ^= k;
            }
            self.inner.aes.encrypt_block((&mut block).into());
            half.copy_from_slice(&block);
            block.zeroize();
        }
        let cipher = Gcm::new(&kx);
        kx.zeroize();
        cipher
    }
}

fn split(nonce: &[u8; 24]) -> (&Prefix, &[u8; 12]) {
    let (prefix, suffix) = nonce.split_at(PREFIX_LEN);
    match (prefix.try_into(), suffix.try_into()) {
        (Ok(p), Ok(s)) => (p, s),
        _ => unreachable!("24 bytes split at 12 are two 12-byte halves"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::AeadInOut;

    /// The reference: RustCrypto's `xaes-256-gcm`, which derives per message.
    fn reference(key: &[u8; 32]) -> xaes_256_gcm::Xaes256Gcm {
        <xaes_256_gcm::Xaes256Gcm as xaes_256_gcm::aead::KeyInit>::new(key.into())
    }

    #[test]
    fn agrees_with_the_reference_implementation_both_ways() {
        for seed in 0u8..40 {
            let key = [seed.wrapping_mul(37); 32];
            let ours = Xaes::new(&key);
            let theirs = reference(&key);
            let mut nonce = [0u8; 24];
            ours.fresh_nonce(&mut nonce).unwrap();
            // Half the cases with a prefix of our own choosing (a cache miss).
            if seed % 2 == 1 {
                nonce[..PREFIX_LEN].copy_from_slice(&[seed; PREFIX_LEN]);
            }
            let plain: Vec<u8> = (0..usize::from(seed) * 7).map(|i| i as u8).collect();
            let aad = [seed; 5];
            let mut a = plain.clone();
            let tag_a = ours.encrypt(&nonce, &aad, &mut a);
            let mut b = plain.clone();
            let tag_b = theirs
                .encrypt_inout_detached((&nonce).into(), &aad, b.as_mut_slice().into())
                .unwrap();
            assert_eq!(
                (a.clone(), tag_a),
                (b, <[u8; 16]>::from(tag_b)),
                "seed {seed}"
            );
            let mut opened = a.clone();
            ours.decrypt(&nonce, &aad, &mut opened, &tag_a).unwrap();
            assert_eq!(opened, plain);
            // A fresh instance (nothing cached) opens it too, and a wrong tag fails.
            let mut again = a.clone();
            Xaes::new(&key)
                .decrypt(&nonce, &aad, &mut again, &tag_a)
                .unwrap();
            let mut bad = tag_a;
            bad[0] ^= 1;
            assert!(ours.decrypt(&nonce, &aad, &mut a, &bad).is_err());
        }
    }

    #[test]
    fn a_prefix_serves_its_allowance_then_changes_and_suffixes_are_fresh() {
        let x = Xaes::new(&[9; 32]);
        let mut first = [0u8; 24];
        x.fresh_nonce(&mut first).unwrap();
        let mut suffixes = std::collections::HashSet::new();
        suffixes.insert(first[PREFIX_LEN..].to_vec());
        for _ in 1..PREFIX_SEALS {
            let mut n = [0u8; 24];
            x.fresh_nonce(&mut n).unwrap();
            assert_eq!(n[..PREFIX_LEN], first[..PREFIX_LEN]);
            assert!(
                suffixes.insert(n[PREFIX_LEN..].to_vec()),
                "a suffix repeated"
            );
        }
        let mut next = [0u8; 24];
        x.fresh_nonce(&mut next).unwrap();
        assert_ne!(next[..PREFIX_LEN], first[..PREFIX_LEN]);
    }

    #[test]
    fn threads_sharing_a_key_seal_and_open_each_others_values() {
        let key = Xaes::new(&[5; 32]);
        type Sealed = ([u8; 24], Vec<u8>, [u8; 16]);
        let sealed: Vec<Vec<Sealed>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0u8..4)
                .map(|t| {
                    let key = key.clone();
                    scope.spawn(move || {
                        (0..500u32)
                            .map(|i| {
                                let mut nonce = [0u8; 24];
                                key.fresh_nonce(&mut nonce).unwrap();
                                let mut buf = [t, i as u8, (i >> 8) as u8].repeat(10);
                                let tag = key.encrypt(&nonce, b"ad", &mut buf);
                                (nonce, buf, tag)
                            })
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let mut nonces = std::collections::HashSet::new();
        for (t, values) in sealed.iter().enumerate() {
            for (i, (nonce, ciphertext, tag)) in values.iter().enumerate() {
                assert!(nonces.insert(*nonce), "a nonce repeated across threads");
                let mut buf = ciphertext.clone();
                key.decrypt(nonce, b"ad", &mut buf, tag).unwrap();
                assert_eq!(buf, [t as u8, i as u8, (i >> 8) as u8].repeat(10));
            }
        }
    }

    #[test]
    fn the_recent_list_is_bounded_and_replaces_oldest_first() {
        let x = Xaes::new(&[3; 32]);
        for i in 0..(RECENT_PREFIXES as u8 + 5) {
            let _ = x.cipher(&[i; PREFIX_LEN], false);
            let _ = x.cipher(&[i; PREFIX_LEN], true); // a hit adds nothing
        }
        let recent = x.inner.recent.read().unwrap();
        assert_eq!(recent.entries.len(), RECENT_PREFIXES);
        let kept: Vec<u8> = recent.entries.iter().map(|(p, _)| p[0]).collect();
        assert!(!kept.contains(&0) && kept.contains(&(RECENT_PREFIXES as u8 + 4)));
    }
}
