#!/usr/bin/env bash
# HTTP throughput of the three apps of examples/bench_server.rs (issue 5), with wrk.
#
#   bash bench/http.sh                 # 3 rounds x 2 routes x 3 modes x 10 s (~4 min)
#   ROUNDS=5 DURATION=15 bash bench/http.sh
#
# The server runs with 1 worker pinned to core 0, wrk with 1 thread pinned to core 1
# (CONNECTIONS connections, default 16). Per round and route the modes alternate
# ours, actix, bare (A B C A B C ...), each with a fresh server. Everything binds and
# connects to 127.0.0.1 only; every server is killed after its run, and exits by itself
# after BENCH_SERVER_TTL seconds anyway.
#
# Routes: GET /profile reads the profile workload from the session (cookie from GET /login;
# no Set-Cookie in the answer); GET /counter writes the session (a Set-Cookie each time).
# Prints requests/s per run, the medians, and the ratios ours/bare and ours/actix-session.
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${BENCH_PORT:-8090}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
MODES=(ours actix bare)
ROUTES=(profile counter)

if ! command -v wrk >/dev/null; then
    echo "== installing wrk" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
command -v curl >/dev/null || { apt-get update -qq >&2; apt-get install -y -qq curl >&2; }

echo "== building examples/bench_server (release)" >&2
cargo build --release --example bench_server >&2
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$target_dir/release/examples/bench_server"

server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

start_server() { # mode
    BENCH_MODE="$1" BENCH_PORT="$PORT" BENCH_SERVER_TTL=$((DURATION * 3 + 60)) \
        taskset -c "$SERVER_CORE" "$BIN" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT/login"; then return 0; fi
        sleep 0.05
    done
    echo "server ($1) did not start" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

login_cookie() { # -> "name=value; name2=value2" from GET /login's Set-Cookie headers
    curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/login" |
        tr -d '\r' | awk 'tolower($1)=="set-cookie:" { sub(/^[^:]*: */, ""); split($0, a, ";"); printf "%s%s", sep, a[1]; sep="; " }'
}

results=$(mktemp)
echo "# nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%FT%TZ)"
echo "# ${ROUNDS} rounds, ${DURATION} s per run, wrk -t1 -c${CONNECTIONS} on core ${CLIENT_CORE}, server 1 worker on core ${SERVER_CORE}"
for round in $(seq 1 "$ROUNDS"); do
    for route in "${ROUTES[@]}"; do
        for mode in "${MODES[@]}"; do
            start_server "$mode"
            cookie=$(login_cookie)
            # Check the route answers 200 with this cookie before measuring.
            code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$PORT/$route")
            if [ "$code" != 200 ]; then echo "$mode /$route answered $code" >&2; exit 1; fi
            hdr=()
            if [ -n "$cookie" ]; then hdr=(-H "Cookie: $cookie"); fi
            out=$(taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
                "${hdr[@]}" "http://127.0.0.1:$PORT/$route")
            stop_server
            rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
            non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
            lat=$(echo "$out" | awk '$1=="Latency" { print $2 }')
            echo "round $round  /$route  $mode  ${rps} req/s  latency avg ${lat}${non2xx:+  NON-2xx: $non2xx}  cookie bytes ${#cookie}"
            echo "$route $mode $rps" >>"$results"
        done
    done
done

python3 - "$results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for route, mode, rps in rows:
    by.setdefault((route, mode), []).append(float(rps))
print("\nrequests/s: median [min..max] over rounds")
for route in ("profile", "counter"):
    med = {m: statistics.median(by[(route, m)]) for m in ("ours", "actix", "bare")}
    for m in ("ours", "actix", "bare"):
        xs = by[(route, m)]
        print(f"  /{route:<8} {m:<6} {med[m]:>10.0f} [{min(xs):.0f}..{max(xs):.0f}]")
    print(f"  /{route:<8} ours/bare {med['ours']/med['bare']:.3f}   ours/actix-session {med['ours']/med['actix']:.3f}")
EOF
rm -f "$results"
