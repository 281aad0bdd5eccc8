#!/usr/bin/env bash
# Downstream benchmark (issue 11.2): seal+open of the login, profile and cart workloads for
# every algorithm, in the crate `downstream-bench/` that depends on sealed-session the way an
# application does (path dependency, default features off, release).
#
#   bash benchmarks/downstream.sh            # application build, then the repository's cfg build
#   ROUNDS=51 bash benchmarks/downstream.sh
#   MODES=app bash benchmarks/downstream.sh  # only the application build
#
# Cargo reads `.cargo/config.toml` from the *current directory* upwards, so the repository's
# `--cfg poly1305_backend="soft"` would reach any build started inside the repository. The
# application build therefore runs from a temporary directory outside it, with RUSTFLAGS and
# CARGO_ENCODED_RUSTFLAGS unset, and the binary reports the flags it was built with (its
# build script records CARGO_ENCODED_RUSTFLAGS): the script fails if the cfg reached it.
# The second build passes the repository's cfg explicitly, for the in-repo figures.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
MANIFEST="$REPO/downstream-bench/Cargo.toml"
MODES=${MODES:-"app repo"}
OUTSIDE=$(mktemp -d)
trap 'rm -rf "$OUTSIDE"' EXIT

for mode in $MODES; do
    target="$REPO/target/downstream-$mode"
    case $mode in
    app)
        echo "== application build (no repository cfg; run from $OUTSIDE)"
        out=$(cd "$OUTSIDE" && env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
            CARGO_TARGET_DIR="$target" cargo run --quiet --release --manifest-path "$MANIFEST")
        if ! grep -q "poly1305 soft-backend cfg absent" <<<"$out"; then
            echo "$out" | head -2
            echo "error: the poly1305 cfg reached the application build" >&2
            exit 1
        fi
        ;;
    repo)
        echo "== repository build (--cfg poly1305_backend=\"soft\", as .cargo/config.toml sets)"
        out=$(cd "$OUTSIDE" && env -u CARGO_ENCODED_RUSTFLAGS \
            RUSTFLAGS='--cfg poly1305_backend="soft"' \
            CARGO_TARGET_DIR="$target" cargo run --quiet --release --manifest-path "$MANIFEST")
        grep -q "poly1305 soft-backend cfg PRESENT" <<<"$out" || {
            echo "error: the poly1305 cfg did not reach the repository build" >&2
            exit 1
        }
        ;;
    *)
        echo "unknown mode $mode (use app and/or repo)" >&2
        exit 2
        ;;
    esac
    echo "$out"
    echo
done
