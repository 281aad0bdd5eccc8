//! Nonces must differ between a process and a child it forks after sealing.
//!
//! With nonces from a user-space generator (rand's thread-local one, as before), `fork`
//! copies the generator's state, so parent and child drew identical nonce sequences; with
//! AES-GCM a repeated nonce under one key enables forgery. Nonces now come from the
//! operating system's generator on every seal.
#![cfg(unix)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealed_session::{Algorithm, Secret, SessionBuilder, SessionEngine, SessionState};

const SEALS: usize = 4;

/// The nonce length of `alg` (FORMAT.md, *Header*).
fn nonce_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::Aes256Gcm => 12,
        _ => 24,
    }
}

/// The nonces of `SEALS` fresh seals, concatenated.
fn nonces(engine: &SessionEngine, alg: Algorithm) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..SEALS {
        let mut s = SessionState::new();
        s.insert("n", &1u8).unwrap();
        let raw = URL_SAFE_NO_PAD
            .decode(engine.seal(&mut s).unwrap())
            .unwrap();
        out.extend_from_slice(&raw[6..6 + nonce_len(alg)]);
    }
    out
}

#[test]
fn parent_and_forked_child_draw_different_nonces() {
    for alg in Algorithm::ALL {
        let engine = SessionBuilder::new(Secret::from_bytes(&[3; 32]).unwrap())
            .cookie_name("session")
            .algorithm(alg)
            .build()
            .unwrap();
        // Seal once first, so any per-thread generator is initialised before the fork.
        let _ = nonces(&engine, alg);
        let len = SEALS * nonce_len(alg);

        let mut fds = [0i32; 2];
        // SAFETY: `fds` is a valid array of two file descriptors for pipe(2) to fill.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only seals (allocation is fork-safe with glibc's atfork
        // handlers), writes to the pipe and leaves with _exit, never returning into the test
        // harness; the parent waits for it below.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let child = nonces(&engine, alg);
            // SAFETY: writes `child.len()` initialised bytes from a live buffer, then exits
            // without running destructors or atexit handlers (as a forked child must).
            unsafe {
                let n = libc::write(fds[1], child.as_ptr().cast(), child.len());
                libc::_exit(if n == child.len() as isize { 0 } else { 1 });
            }
        }
        let parent = nonces(&engine, alg);
        let mut child = vec![0u8; len];
        let mut got = 0;
        while got < len {
            // SAFETY: reads into the unfilled tail of `child`, which has `len - got` bytes.
            let n = unsafe { libc::read(fds[0], child[got..].as_mut_ptr().cast(), len - got) };
            assert!(n > 0, "the child wrote no nonces");
            got += n as usize;
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above; `status` is a valid out-pointer.
        unsafe {
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        for (i, (p, c)) in parent
            .chunks(nonce_len(alg))
            .zip(child.chunks(nonce_len(alg)))
            .enumerate()
        {
            assert_ne!(
                p, c,
                "{alg}: seal {i} after the fork reused the parent's nonce"
            );
        }
    }
}
