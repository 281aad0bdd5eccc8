//! How this binary was built. The benchmarks report figures for an application's build: release
//! profile, and none of the repository's `.cargo/config.toml` rustflags
//! (`--cfg poly1305_backend="soft"`, which swaps poly1305's backend). `run.sh` builds with the
//! configured rustflags overridden and checks [`line`] before it reports anything.

/// Whether `--cfg poly1305_backend="soft"` reached this build. Rustflags apply to every crate
/// of a build alike, so this crate sees exactly what poly1305 saw.
pub fn poly1305_soft_cfg() -> bool {
    cfg!(poly1305_backend = "soft")
}

/// One line for the logs: `build: release, poly1305 cfg absent` (or `debug`, `PRESENT`).
pub fn line() -> String {
    format!(
        "build: {}, poly1305 cfg {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        if poly1305_soft_cfg() {
            "PRESENT (repository rustflags)"
        } else {
            "absent"
        }
    )
}
