#!/usr/bin/env bash
# Writes the seed corpora into fuzz/corpus/<target>/ (see fuzz-harness/examples/seed.rs).
# Usage: fuzz/seed.sh [output-dir]   (default: fuzz/corpus)
# Runs on stable Rust, in the main workspace (the seed generator lives in fuzz-harness/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
cargo run --quiet --release -p sealed-session-fuzz --example seed -- "${1:-$here/corpus}"
