#!/usr/bin/env bash
# HTTP throughput of the three apps of benchmarks/examples/bench_server.rs (issue 5), with wrk.
#
#   bash benchmarks/http.sh                 # 3 rounds x 2 routes x 3 modes x 10 s (~4 min)
#   ROUNDS=5 DURATION=15 bash benchmarks/http.sh
#
# The server runs with 1 worker pinned to core 0, wrk with 1 thread pinned to core 1
# (CONNECTIONS connections, default 16). Per round and route the modes alternate
# ours, actix, bare (A B C A B C ...), each with a fresh server. Everything binds and
# connects to 127.0.0.1 only; every server is killed after its run, and exits by itself
# after BENCH_SERVER_TTL seconds anyway.
#
# Routes: GET /profile reads the profile workload from the session (cookie from GET /login;
# no Set-Cookie in the answer); GET /counter writes the session (a Set-Cookie each time).
# Prints requests/s and the server's CPU time per request (user + system, from /proc, which
# other jobs on the machine disturb less than throughput) per run, their medians, and the
# ratios ours/bare and ours/actix-session.
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

echo "== building benchmarks/examples/bench_server (release)" >&2
cargo build --release -p sealed-session-benchmarks --example bench_server >&2
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

TICKS=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime + stime of the whole process, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
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
            t0=$(cpu_ticks "$server_pid")
            hdr=()
            if [ -n "$cookie" ]; then hdr=(-H "Cookie: $cookie"); fi
            out=$(taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
                "${hdr[@]}" "http://127.0.0.1:$PORT/$route")
            t1=$(cpu_ticks "$server_pid")
            stop_server
            rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
            nreq=$(echo "$out" | awk '/ requests in / { print $1 }')
            # Server CPU time (user + system) per request, in microseconds.
            cpu_us=$(python3 -c "print(f'{($t1 - $t0) * 1e6 / $TICKS / $nreq:.1f}')")
            non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
            lat=$(echo "$out" | awk '$1=="Latency" { print $2 }')
            echo "round $round  /$route  $mode  ${rps} req/s  server CPU ${cpu_us} us/req  latency avg ${lat}${non2xx:+  NON-2xx: $non2xx}  cookie bytes ${#cookie}"
            echo "$route $mode $rps $cpu_us" >>"$results"
        done
    done
done

python3 - "$results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rps, cpu = {}, {}
for route, mode, r, c in rows:
    rps.setdefault((route, mode), []).append(float(r))
    cpu.setdefault((route, mode), []).append(float(c))
modes = ("ours", "actix", "bare")
print("\nmedian [min..max] over rounds: requests/s, and server CPU time per request")
for route in ("profile", "counter"):
    mr = {m: statistics.median(rps[(route, m)]) for m in modes}
    mc = {m: statistics.median(cpu[(route, m)]) for m in modes}
    for m in modes:
        xs, cs = rps[(route, m)], cpu[(route, m)]
        print(f"  /{route:<8} {m:<6} {mr[m]:>9.0f} req/s [{min(xs):.0f}..{max(xs):.0f}]"
              f"   {mc[m]:>6.1f} us CPU/req [{min(cs):.1f}..{max(cs):.1f}]")
    print(f"  /{route:<8} req/s ratios:   ours/bare {mr['ours']/mr['bare']:.3f}   ours/actix-session {mr['ours']/mr['actix']:.3f}")
    print(f"  /{route:<8} CPU/req ratios: ours/bare {mc['ours']/mc['bare']:.3f}   ours/actix-session {mc['ours']/mc['actix']:.3f}"
          f"   session cost over bare: ours {mc['ours']-mc['bare']:.1f} us, actix-session {mc['actix']-mc['bare']:.1f} us")
EOF
rm -f "$results"
