//! Seal+open of the login, profile and cart sessions through the public API, for every
//! algorithm, as an application builds the crate; then the raw AEADs, and the nonce source.
//!
//! ```text
//! bash benchmarks/run.sh algorithms        # ROUNDS=31 by default
//! ```
//!
//! Each operation is what a handler sees: insert the typed value into a new session, seal,
//! open the value, read the typed value back. The algorithms alternate in short rounds
//! (A B C A B C ...), so load from other jobs on the machine hits them alike; the figures are
//! medians over rounds, and each ratio is the median of the per-round ratios. Times are the
//! thread's CPU time, which other jobs on a shared machine disturb less than wall time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use sealed_session_benchmarks::ours::{self, Algorithm, Engine as SessionEngine, Options};
use sealed_session_benchmarks::workloads;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn engine(alg: Algorithm) -> SessionEngine {
    ours::engine(Options::algorithm(alg))
}

/// This thread's CPU time in nanoseconds.
fn cpu_ns() -> f64 {
    sealed_session_benchmarks::cpu::thread_time().as_nanos() as f64
}

/// One seal+open of `value` stored under `key`.
fn roundtrip<T: Serialize + DeserializeOwned + PartialEq>(e: &SessionEngine, key: &str, value: &T) {
    let mut s = ours::state_of(key, value);
    let sealed = e.seal(&mut s).expect("fits");
    let back = e.open_value(black_box(&sealed)).expect("opens");
    let got: T = back.get(key).expect("decodes").expect("present");
    assert!(got == *value);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run<T: Serialize + DeserializeOwned + PartialEq>(
    name: &str,
    key: &str,
    value: &T,
    rounds: usize,
) {
    let algs = Algorithm::ALL;
    let engines: Vec<SessionEngine> = algs.iter().map(|&a| engine(a)).collect();
    let size = engines[0]
        .seal(&mut ours::state_of(key, value))
        .expect("fits")
        .len();
    // Iterations per round: about 5 ms for all algorithms together.
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_millis() < 5 {
        for e in &engines {
            roundtrip(e, key, value);
        }
        n += 1;
    }
    let iters = n.max(50);
    let mut per_alg: Vec<Vec<f64>> = vec![Vec::new(); algs.len()];
    for round in 0..rounds {
        // Rotate the starting algorithm so none always runs first in a round.
        for k in 0..algs.len() {
            let i = (round + k) % algs.len();
            let t = cpu_ns();
            for _ in 0..iters {
                roundtrip(&engines[i], key, value);
            }
            per_alg[i].push((cpu_ns() - t) / f64::from(iters) / 1000.0);
        }
    }
    let aes = algs
        .iter()
        .position(|&a| a == Algorithm::Aes256Gcm)
        .expect("aes");
    let xchacha = algs
        .iter()
        .position(|&a| a == Algorithm::XChaCha20Poly1305)
        .expect("xchacha");
    println!(
        "\n{name} (cookie value {size} bytes; {rounds} rounds x {iters} seal+open per algorithm)"
    );
    println!(
        "  {:<20} {:>10} {:>10} {:>12}",
        "algorithm", "us/op", "/ AES-GCM", "/ XChaCha"
    );
    for (i, alg) in algs.iter().enumerate() {
        let ratio = |j: usize| {
            let mut r: Vec<f64> = per_alg[i]
                .iter()
                .zip(&per_alg[j])
                .map(|(a, b)| a / b)
                .collect();
            median(&mut r)
        };
        let mut t = per_alg[i].clone();
        let default = if *alg == Algorithm::default() {
            " (default)"
        } else {
            ""
        };
        println!(
            "  {:<20} {:>10.2} {:>9.2}x {:>11.2}x{default}",
            alg.name(),
            median(&mut t),
            ratio(aes),
            ratio(xchacha),
        );
    }
}

/// The bare AEAD: encrypt then decrypt 450 bytes in place with a fixed key (built once) and
/// nonce, 30 bytes of associated data, per algorithm, interleaved. `xaes256gcm` is RustCrypto's
/// `xaes-256-gcm`, which derives the message key at every call (the library caches it per
/// nonce prefix instead: per message it then costs what `aes256gcm` does).
fn raw_aead(rounds: usize) {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    fn one<C: AeadInOut>(c: &C, nonce: &aes_gcm::aead::Nonce<C>, buf: &mut [u8]) {
        let aad = [5u8; 30];
        let tag = c
            .encrypt_inout_detached(nonce, &aad, buf.into())
            .expect("seal");
        c.decrypt_inout_detached(nonce, &aad, black_box(buf).into(), &tag)
            .expect("open");
    }
    let key = [9u8; 32];
    let x = chacha20poly1305::XChaCha20Poly1305::new(&key.into());
    let a = aes_gcm::Aes256Gcm::new(&key.into());
    let xa = xaes_256_gcm::Xaes256Gcm::new(&key.into());
    let (n24, n12) = ([1u8; 24], [1u8; 12]);
    let iters = 2_000u32;
    let mut buf = [0u8; 450];
    let mut t: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        for k in 0..3 {
            let i = (round + k) % 3;
            let start = cpu_ns();
            for _ in 0..iters {
                match i {
                    0 => one(&x, &n24.into(), &mut buf),
                    1 => one(&a, &n12.into(), &mut buf),
                    _ => one(&xa, &n24.into(), &mut buf),
                }
            }
            t[i].push((cpu_ns() - start) / f64::from(iters) / 1000.0);
        }
    }
    let [x, a, xa] = t.map(|mut v| median(&mut v));
    println!(
        "\nraw AEAD seal+open of 450 bytes: xchacha20poly1305 {x:.2} us, aes256gcm {a:.2} us, \
         xaes256gcm {xa:.2} us"
    );
}

/// The cost of a 24-byte nonce from the OS generator (one `getrandom` call, what every seal
/// does) against rand's thread-local generator (whose state `fork` and VM snapshots copy).
fn nonce_cost(rounds: usize) {
    use rand::Rng as _;
    let iters = 20_000u32;
    let mut os = Vec::new();
    let mut user = Vec::new();
    let mut buf = [0u8; 24];
    for round in 0..rounds {
        for k in 0..2 {
            let t = cpu_ns();
            if (round + k) % 2 == 0 {
                for _ in 0..iters {
                    getrandom::fill(black_box(&mut buf)).expect("getrandom");
                }
                os.push((cpu_ns() - t) / f64::from(iters));
            } else {
                let mut rng = rand::rng();
                for _ in 0..iters {
                    rng.fill_bytes(black_box(&mut buf));
                }
                user.push((cpu_ns() - t) / f64::from(iters));
            }
        }
    }
    let mut diff: Vec<f64> = os.iter().zip(&user).map(|(a, b)| a - b).collect();
    println!(
        "\nnonce (24 bytes; {rounds} rounds x {iters}): getrandom {:.0} ns, rand::rng() {:.0} ns; \
         added per seal {:.0} ns",
        median(&mut os),
        median(&mut user),
        median(&mut diff)
    );
}

fn main() {
    println!("{}", sealed_session_benchmarks::build::line());
    println!("default algorithm: {}", Algorithm::default().name());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(31);
    run("login", "user", &workloads::login(), rounds);
    run("profile", "profile", &workloads::profile(), rounds);
    run("cart", "cart", &workloads::cart(), rounds);
    raw_aead(rounds);
    nonce_cost(rounds);
}
