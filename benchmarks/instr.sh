#!/usr/bin/env bash
# Instructions per request of the HTTP bench servers (issues 9 and 11), counted exactly by
# valgrind's callgrind: unaffected by other load on the machine, so it resolves the few
# hundred nanoseconds the untouched route may cost, which wall-clock runs on a shared
# machine cannot.
#
#   bash benchmarks/instr.sh                      # every case and mode, 2000 requests each
#   CASES=untouched MODES="ours bare axum-ours axum-bare" N=4000 bash benchmarks/instr.sh
#   BASE_DIR=/tmp/base MODES="ours@base ours" bash benchmarks/instr.sh
#   KEEP=/tmp/cg CASES=untouched bash benchmarks/instr.sh   # keep the profiles for callgrind_annotate
#
# Per case and mode: start the server (benchmarks/examples/bench_server.rs or bench_axum.rs)
# under callgrind, take the cookie from the case's cookie route, send 200 warm-up requests
# on one keep-alive connection, dump (callgrind_control -d, which resets the counters), send
# N more, dump again: the second dump's total over N is the server's instructions per
# request (user space only: the kernel's share of each request is not counted). Cases and
# modes are those of http.sh.
set -euo pipefail

cd "$(dirname "$0")/.."

N=${N:-2000}
PORT=${BENCH_PORT:-8091}
# shellcheck source=benchmarks/servers.sh
source benchmarks/servers.sh # the working directory is the repository root

command -v valgrind >/dev/null || { apt-get update -qq >&2; apt-get install -y -qq valgrind >&2; }
build_servers
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Sends `count` GET requests for `route` with `cookie` on one keep-alive connection.
client() { # route cookie count
    python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import http.client, sys
port, route, cookie, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", route, headers={"Cookie": cookie})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"{route} answered {r.status}")
PY
}

total_ir() { # callgrind file -> total Ir
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

echo "# $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), N=$N requests per run"
results="$work/results"
for case in "${CASES[@]}"; do
    read -r from route <<<"$(case_paths "$case")"
    for mode in "${MODES[@]}"; do
        read -r bin m <<<"$(server_of "$mode")"
        out="$work/cg.$case.$mode"
        BENCH_MODE="$m" BENCH_PORT="$PORT" BENCH_SERVER_TTL=600 \
            valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$bin" 2>/dev/null &
        server_pid=$!
        for _ in $(seq 1 200); do
            if curl -s -o /dev/null "http://127.0.0.1:$PORT$from"; then break; fi
            sleep 0.1
        done
        cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT$from" |
            tr -d '\r' | awk 'tolower($1)=="set-cookie:" { sub(/^[^:]*: */, ""); split($0, a, ";"); printf "%s%s", sep, a[1]; sep="; " }')
        client "$route" "$cookie" 200
        callgrind_control -d "$server_pid" >/dev/null
        client "$route" "$cookie" "$N"
        callgrind_control -d "$server_pid" >/dev/null
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        last=$(ls "$out".*.2 2>/dev/null | head -1)
        ir=$(total_ir "$last")
        per=$((ir / N))
        echo "$case ($route)  $mode  $per instructions/request"
        echo "$case $mode $per" >>"$results"
        if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$last" "$KEEP/$case.$mode.callgrind"; fi
    done
done
python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ir = {(c, m): int(v) for c, m, v in rows}
print("\ninstructions per request over the bare framework")
for case in dict.fromkeys(c for c, _, _ in rows):
    parts = []
    for ours, bare in (("ours", "bare"), ("ours@base", "bare"), ("actix", "bare"),
                       ("axum-ours", "axum-bare"), ("axum-ours@base", "axum-bare")):
        if (case, ours) in ir and (case, bare) in ir:
            parts.append(f"{ours} {ir[(case, ours)] - ir[(case, bare)]:+}")
    line = f"  {case:<14} " + ", ".join(parts)
    if all((case, m) in ir for m in ("ours", "actix", "bare")) and ir[(case, "actix")] != ir[(case, "bare")]:
        line += f"; ours/actix-session over bare {(ir[(case, 'ours')] - ir[(case, 'bare')]) / (ir[(case, 'actix')] - ir[(case, 'bare')]):.2f}x"
    print(line)
PY
