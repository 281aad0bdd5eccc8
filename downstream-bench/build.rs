//! Records the flags this crate (and so, with cargo, every crate of the build) was compiled
//! with, so the benchmark can prove which build it measures: `benchmarks/downstream.sh` refuses to
//! report "application build" figures if the poly1305 cfg reached the build.
fn main() {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags = flags.replace('\x1f', " ");
    println!("cargo:rustc-env=DOWNSTREAM_RUSTFLAGS={flags}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}
