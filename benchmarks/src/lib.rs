//! What the benchmark binaries (`benches/codec.rs`, `examples/*.rs`) share.
//!
//! * [`ours`]: the only module that names `sealed_session` items: engines built the way the
//!   benchmarks use them, and the types and adapters re-exported under stable local names;
//! * [`workloads`]: the reference sessions, `tests/data/workloads/*.json`, as typed values;
//! * [`peers`]: actix-session's cookie codec reproduced step by step, and the "floor" (the least
//!   any sealed cookie can cost: postcard + one AEAD call + base64url);
//! * [`server`]: the HTTP bench servers' settings (`BENCH_MODE`, `BENCH_WORKLOAD`, ...) and the
//!   sessions they store;
//! * [`views`]: the JSON bodies the HTTP bench servers answer, the same in every mode;
//! * [`cpu`]: this thread's CPU time, and medians;
//! * [`build`]: whether the repository's `--cfg poly1305_backend="soft"` reached this build
//!   (`run.sh` refuses to report a figure if it did).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/workloads.rs"]
pub mod workloads;

pub mod build;
pub mod cpu;
pub mod ours;
pub mod peers;
pub mod server;
pub mod views;
