#!/usr/bin/env bash
# Issue 11's target, measured: seal+open of the login, profile and cart workloads with the
# DEFAULT configuration of an earlier revision (by default 67bb30e, when the issue was filed:
# XChaCha20-Poly1305, nonces from rand's thread generator) against the DEFAULT configuration
# of this tree (what the path dependency sees: the working tree, committed or not), both
# built the way an application builds the crate.
#
#   bash benchmarks/downstream-before.sh              # REV = 67bb30e, 31 rounds
#   bash benchmarks/downstream-before.sh <rev>
#   ROUNDS=11 ITERS=2000 bash benchmarks/downstream-before.sh
#
# REV is checked out in a temporary git worktree outside the repository (removed on exit).
# Two tiny application crates are written below, in the same temporary directory: one
# depends on REV's tree, one on this repository's root, each with `default-features = false`,
# built in release from the temporary directory with RUSTFLAGS and CARGO_ENCODED_RUSTFLAGS
# unset, so neither tree's `.cargo/config.toml` (`--cfg poly1305_backend="soft"`) applies;
# each binary reports the flags it was built with and the script fails if the cfg got in.
# Their lockfiles start from each tree's Cargo.lock, so REV is built with the dependency
# versions it had. Target directories are cached in $CACHE_DIR (default
# /tmp/sealed-session-downstream-before) so reruns only rebuild the two sealed-session trees.
#
# One operation is what downstream-bench's `roundtrip` does: insert the typed value into a new
# SessionState, seal, open the value, read the typed value back (and compare). Each run of a
# binary does WARMUP operations, then ITERS timed ones, and prints the thread CPU time per
# operation. Each round runs old and new for every workload, the order alternating by round;
# the table gives the medians over rounds and the median of the per-round ratios old/new.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REV=${1:-67bb30e}
ROUNDS=${ROUNDS:-31}
ITERS=${ITERS:-5000}
WARMUP=${WARMUP:-500}
CACHE_DIR=${CACHE_DIR:-/tmp/sealed-session-downstream-before}
WORKLOADS="login profile cart"

for v in ROUNDS ITERS WARMUP; do
    [[ ${!v} =~ ^[1-9][0-9]{0,6}$ ]] || {
        echo "error: $v must be a positive integer" >&2
        exit 2
    }
done
OLD_SHA=$(git -C "$REPO" rev-parse --verify --quiet "$REV^{commit}") || {
    echo "error: $REV is not a commit of $REPO" >&2
    exit 2
}
NEW_DESC=$(git -C "$REPO" describe --always --dirty)

TMP=$(mktemp -d /tmp/downstream-before.XXXXXX)
cleanup() {
    if [ -d "$TMP/old" ]; then
        git -C "$REPO" worktree remove --force "$TMP/old" || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
case $TMP/ in
"$REPO"/* | /work/*)
    echo "error: temporary directory $TMP is inside the repository" >&2
    exit 1
    ;;
esac

git -C "$REPO" worktree add --quiet --detach "$TMP/old" "$OLD_SHA"

# The workload structs and data, from this tree (REV may not have them), copied with their
# relative layout (workloads.rs reads ../data/workloads/*.json).
mkdir -p "$TMP/common/support" "$TMP/common/data"
cp "$REPO/tests/support/workloads.rs" "$TMP/common/support/"
cp -r "$REPO/tests/data/workloads" "$TMP/common/data/"

# ---- the application crate: one source, built twice (feature `old` picks REV's API) ----
mkdir -p "$TMP/app-src"
cat >"$TMP/app-src/build.rs" <<'EOF'
// Records the flags the build used, so the script can prove no poly1305 cfg reached it.
fn main() {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    println!("cargo:rustc-env=APP_RUSTFLAGS={}", flags.replace('\x1f', " "));
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}
EOF
cat >"$TMP/app-src/main.rs" <<'EOF'
//! `app info`: the build's flags and the default algorithm.
//! `app run <login|profile|cart> <warmup> <iters>`: prints `<us per op> <sealed bytes>`.
#[path = "../../common/support/workloads.rs"]
mod workloads;

use std::hint::black_box;

use sealed_session::{Algorithm, Secret, SessionConfig, SessionState};
use serde::de::DeserializeOwned;
use serde::Serialize;

// Everything left at its default; only the secret is fixed.
#[cfg(feature = "old")]
type Engine = SessionConfig;
#[cfg(feature = "old")]
fn engine() -> Engine {
    SessionConfig::builder(Secret::from_bytes(&[7u8; 32]).expect("32 bytes"))
        .build()
        .expect("valid configuration")
}
#[cfg(not(feature = "old"))]
type Engine = sealed_session::SessionEngine;
#[cfg(not(feature = "old"))]
fn engine() -> Engine {
    SessionConfig::new(Secret::from_bytes(&[7u8; 32]).expect("32 bytes"))
        .build()
        .expect("valid configuration")
}

fn cpu_ns() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// One seal+open of `value` under `key`; returns the sealed value's length.
fn roundtrip<T: Serialize + DeserializeOwned + PartialEq>(e: &Engine, key: &str, value: &T) -> usize {
    let mut s = SessionState::new();
    s.insert(key, value).expect("serializable");
    let sealed = e.seal(&mut s).expect("fits");
    let back = e.open_value(black_box(&sealed)).expect("opens");
    let got: T = back.get(key).expect("decodes").expect("present");
    assert!(got == *value);
    sealed.len()
}

fn measure<T: Serialize + DeserializeOwned + PartialEq>(key: &str, value: &T, warmup: u32, iters: u32) {
    let e = engine();
    let mut size = 0;
    for _ in 0..warmup {
        size = roundtrip(&e, key, value);
    }
    let t = cpu_ns();
    for _ in 0..iters {
        black_box(roundtrip(&e, key, value));
    }
    let us = (cpu_ns() - t) / f64::from(iters) / 1000.0;
    println!("{us:.4} {size}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("info") => {
            let flags = env!("APP_RUSTFLAGS");
            let soft = cfg!(poly1305_backend = "soft") || flags.contains("poly1305_backend");
            println!(
                "rustflags [{}]; poly1305 soft-backend cfg {}; default algorithm {}",
                flags.trim(),
                if soft { "PRESENT" } else { "absent" },
                Algorithm::default()
            );
        }
        Some("run") if args.len() == 4 => {
            let warmup: u32 = args[2].parse().expect("warmup");
            let iters: u32 = args[3].parse().expect("iters");
            match args[1].as_str() {
                "login" => measure("user", &workloads::login(), warmup, iters),
                "profile" => measure("profile", &workloads::profile(), warmup, iters),
                "cart" => measure("cart", &workloads::cart(), warmup, iters),
                w => panic!("unknown workload {w}"),
            }
        }
        _ => panic!("usage: app info | app run <login|profile|cart> <warmup> <iters>"),
    }
}
EOF

# make_app <old|new> <path of the sealed-session tree> <seed Cargo.lock>
make_app() {
    local side=$1 dep=$2 lock=$3 dir="$TMP/app-$1" feature=""
    [ "$side" = old ] && feature='"old"'
    mkdir -p "$dir/src"
    cp "$TMP/app-src/main.rs" "$dir/src/main.rs"
    cp "$TMP/app-src/build.rs" "$dir/build.rs"
    cp "$lock" "$dir/Cargo.lock"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "app-$side"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[features]
default = [$feature]
old = []

[dependencies]
sealed-session = { path = "$dep", default-features = false }
serde = { version = "1", default-features = false, features = ["std", "derive"] }
serde_json = { version = "1", default-features = false, features = ["std"] }
libc = "0.2"

[lints.rust]
unexpected_cfgs = { level = "warn", check-cfg = ['cfg(poly1305_backend, values("soft"))'] }
EOF
}
git -C "$REPO" show "$OLD_SHA:Cargo.lock" >"$TMP/old.lock"
make_app old "$TMP/old" "$TMP/old.lock"
make_app new "$REPO" "$REPO/Cargo.lock"

declare -A BIN
for side in old new; do
    echo "== building app-$side (release, from $TMP, no RUSTFLAGS)"
    (cd "$TMP" && env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        CARGO_TARGET_DIR="$CACHE_DIR/$side" \
        cargo build --quiet --release --manifest-path "$TMP/app-$side/Cargo.toml")
    BIN[$side]="$CACHE_DIR/$side/release/app-$side"
    info=$("${BIN[$side]}" info)
    echo "   $info"
    if ! grep -q "poly1305 soft-backend cfg absent" <<<"$info"; then
        echo "error: the poly1305 cfg reached the app-$side build" >&2
        exit 1
    fi
done

echo "== $ROUNDS rounds x $ITERS seal+open per run (+$WARMUP warm-up), thread CPU time"
START=$(date -u '+%Y-%m-%d %H:%M:%S')
RESULTS="$TMP/results"
: >"$RESULTS"
for ((round = 0; round < ROUNDS; round++)); do
    if ((round % 2 == 0)); then order="old new"; else order="new old"; fi
    for w in $WORKLOADS; do
        for side in $order; do
            out=$("${BIN[$side]}" run "$w" "$WARMUP" "$ITERS")
            read -r us size <<<"$out"
            echo "$w $round $side $us $size" >>"$RESULTS"
        done
    done
done

# Median as downstream-bench computes it: the element at index len/2 of the sorted values.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }

echo
echo "old: $REV ($OLD_SHA), default configuration"
echo "new: $REPO at $NEW_DESC, default configuration"
echo "measured: $START to $(date -u '+%H:%M:%S') UTC; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
SUMMARY=""
printf '%-8s %10s %10s %10s %10s %18s\n' workload "old B" "new B" "old us/op" "new us/op" "old/new [min..max]"
for w in $WORKLOADS; do
    old_us=$(awk -v w="$w" '$1 == w && $3 == "old" { print $4 }' "$RESULTS" | median)
    new_us=$(awk -v w="$w" '$1 == w && $3 == "new" { print $4 }' "$RESULTS" | median)
    old_b=$(awk -v w="$w" '$1 == w && $3 == "old" { print $5; exit }' "$RESULTS")
    new_b=$(awk -v w="$w" '$1 == w && $3 == "new" { print $5; exit }' "$RESULTS")
    ratios=$(awk -v w="$w" '$1 == w { t[$2 " " $3] = $4; r[$2] = 1 }
        END { for (k in r) print t[k " old"] / t[k " new"] }' "$RESULTS" | sort -g)
    ratio=$(median <<<"$ratios")
    lo=$(head -1 <<<"$ratios")
    hi=$(tail -1 <<<"$ratios")
    printf '%-8s %10s %10s %10.2f %10.2f %7.2fx [%.2f..%.2f]\n' \
        "$w" "$old_b" "$new_b" "$old_us" "$new_us" "$ratio" "$lo" "$hi"
    SUMMARY+=$(awk -v w="$w" -v r="$ratio" 'BEGIN {
        if (r >= 1) printf "%s: new default is %.2fx faster than the old default", w, r
        else printf "%s: new default is %.2fx slower than the old default", w, 1 / r
        if (w == "profile") printf " (issue 11 target >= 2x: %s)", (r >= 2 ? "met" : "missed")
        printf "\n" }')$'\n'
done
echo
printf '%s' "$SUMMARY"
