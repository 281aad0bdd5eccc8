//! A loop of one codec operation, for profilers (issue 5): where does the time of a seal+open
//! go?
//!
//! ```text
//! RUSTFLAGS= cargo build --release -p sealed-session-benchmarks --example profile_loop
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/profile_loop ours profile roundtrip 2000
//! callgrind_annotate --inclusive=yes /tmp/cg.out | head -60
//! ```
//!
//! Arguments: system (`ours` (XAES-256-GCM, the default), `ours-xchacha`, `ours-aes`,
//! `actix`, `floor-xaes`, `floor-xaes-cached`, `floor-xchacha`, `floor-aes`), workload (`small`, `login`, `profile`, `cart`), operation
//! (`seal`, `open`, `roundtrip`; for `ours` also the request lifecycle of the HTTP bench's
//! routes without the framework: `read` (start from the `Cookie` header, `get`, finish into
//! an `http::Response`), `write` (start, `get` + `insert` a counter, finish) and
//! `untouched` (start, finish)), iterations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use sealed_session_benchmarks::ours::{self, Algorithm, Options, State};
use sealed_session_benchmarks::peers::{ActixCookie, Floor, FloorAlg};
use sealed_session_benchmarks::workloads;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn run<T: Serialize + DeserializeOwned>(system: &str, key: &str, v: &T, op: &str, iters: u64) {
    let start = Instant::now();
    match system {
        "ours" | "ours-xchacha" | "ours-aes" => {
            let alg = match system {
                "ours" => Algorithm::XAes256Gcm,
                "ours-xchacha" => Algorithm::XChaCha20Poly1305,
                _ => Algorithm::Aes256Gcm,
            };
            let c = ours::engine(Options::algorithm(alg));
            let mut state = ours::state_of(key, v);
            let value = c.seal(&mut state).unwrap();
            let header = format!("theme=dark; session={value}; lang=en");
            let headers = [header.as_bytes()];
            for _ in 0..iters {
                match op {
                    "read" => {
                        let session = c.start(black_box(headers));
                        let t: T = session.get(key).unwrap().unwrap();
                        drop(black_box(t));
                        let mut res = http::Response::new(());
                        session.finish(&mut res).unwrap();
                        drop(black_box(res));
                    }
                    "write" => {
                        let session = c.start(black_box(headers));
                        let n = session.get::<u64>("count").unwrap().unwrap_or(0) + 1;
                        session.insert("count", &n).unwrap();
                        let mut res = http::Response::new(());
                        session.finish(&mut res).unwrap();
                        drop(black_box(res));
                    }
                    "untouched" => {
                        let session = c.start(black_box(headers));
                        let mut res = http::Response::new(());
                        session.finish(&mut res).unwrap();
                        drop(black_box(res));
                    }
                    "seal" => drop(black_box(c.seal(&mut state).unwrap())),
                    "open" => drop(black_box(c.open_value(black_box(&value)).unwrap())),
                    _ => {
                        let mut s = State::new();
                        s.insert(key, black_box(v)).unwrap();
                        let value = c.seal(&mut s).unwrap();
                        let t: T = c.open_value(&value).unwrap().get(key).unwrap().unwrap();
                        drop(black_box(t));
                    }
                }
            }
        }
        "actix" => {
            let a = ActixCookie::new();
            let state = ActixCookie::state_of(key, v);
            let value = a.seal(&state).value;
            for _ in 0..iters {
                match op {
                    "seal" => drop(black_box(a.seal(&state))),
                    "open" => drop(black_box(a.open(black_box(&value)).unwrap())),
                    _ => {
                        let s = ActixCookie::state_of(key, black_box(v));
                        let sealed = a.seal(&s);
                        let t: T = ActixCookie::get(&a.open(&sealed.value).unwrap(), key).unwrap();
                        drop(black_box(t));
                    }
                }
            }
        }
        "floor-xaes" | "floor-xaes-cached" | "floor-xchacha" | "floor-aes" => {
            let f = Floor::new(match system {
                "floor-xaes" => FloorAlg::XAes,
                "floor-xaes-cached" => FloorAlg::XAesCached,
                "floor-xchacha" => FloorAlg::XChaCha,
                _ => FloorAlg::Aes,
            });
            let value = f.seal(v);
            for _ in 0..iters {
                match op {
                    "seal" => drop(black_box(f.seal(black_box(v)))),
                    "open" => drop(black_box(f.open::<T>(black_box(&value)).unwrap())),
                    _ => drop(black_box(f.open::<T>(&f.seal(black_box(v))).unwrap())),
                }
            }
        }
        other => panic!("unknown system {other}"),
    }
    let ns = start.elapsed().as_nanos() as f64 / iters as f64;
    eprintln!(
        "{system} {key} {op}: {ns:.0} ns/op over {iters} iterations ({})",
        sealed_session_benchmarks::build::line()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let system = args.get(1).map_or("ours", String::as_str);
    let workload = args.get(2).map_or("profile", String::as_str);
    let op = args.get(3).map_or("roundtrip", String::as_str);
    let iters: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    match workload {
        "small" => run(system, "user", &workloads::small(), op, iters),
        "login" => run(system, "user", &workloads::login(), op, iters),
        "profile" => run(system, "profile", &workloads::profile(), op, iters),
        "cart" => run(system, "cart", &workloads::cart(), op, iters),
        other => panic!("unknown workload {other}"),
    }
}
