# Sourced by http.sh and instr.sh: the cases and modes both measure, and the bench servers
# each mode runs. Sets MODES and CASES (arrays, from the environment or the defaults) and
# target_dir (after build_servers).

read -r -a MODES <<<"${MODES:-ours actix bare axum-ours axum-bare}"
read -r -a CASES <<<"${CASES:-login-read login-write profile-read profile-write untouched}"

case_paths() { # case -> "cookie-route route"
    case $1 in
    login-read) echo "/signin /me" ;;
    login-write) echo "/signin /counter" ;;
    profile-read) echo "/login /profile" ;;
    profile-write) echo "/login /counter" ;;
    untouched) echo "/signin /hello" ;;
    *) echo "unknown case $1" >&2; exit 2 ;;
    esac
}

build_servers() {
    echo "== building benchmarks/examples/bench_server and bench_axum (release)" >&2
    cargo build --release -p sealed-session-benchmarks --example bench_server --example bench_axum >&2
    target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
}

server_of() { # mode -> "binary BENCH_MODE"
    # A mode ending in @base runs the binaries in $BASE_DIR (copies of an earlier build), to
    # compare a change with what it replaces in the same alternating run.
    local dir="$target_dir/release/examples" mode="$1"
    case $mode in *@base) dir="${BASE_DIR:?set BASE_DIR for @base modes}"; mode="${mode%@base}" ;; esac
    local bin="$dir/bench_server"
    case $mode in axum-*) bin="$dir/bench_axum" ;; esac
    echo "$bin $mode"
}
