#!/usr/bin/env bash
# Writes the seed corpora into fuzz/corpus/<target>/ (see examples/seed.rs).
# Usage: fuzz/seed.sh [output-dir]   (default: fuzz/corpus)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

cd "$here"
cargo run --quiet --release --example seed -- "${1:-$here/corpus}"
