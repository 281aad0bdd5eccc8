#!/usr/bin/env bash
# HTTP throughput and server CPU per request (issues 5, 9 and 11), with wrk, of
#   benchmarks/examples/bench_server.rs  modes ours (our actix middleware), actix
#                                        (actix-session 0.11), bare (no session middleware)
#   benchmarks/examples/bench_axum.rs    modes axum-ours (our SessionLayer), axum-bare
#
#   bash benchmarks/http.sh                               # every case below, 3 rounds x 10 s
#   ROUNDS=5 DURATION=15 bash benchmarks/http.sh
#   CASES="login-read login-write" MODES="ours actix bare" bash benchmarks/http.sh
#   CASES=untouched MODES="ours bare axum-ours axum-bare" ROUNDS=7 bash benchmarks/http.sh
#   BASE_DIR=/tmp/base MODES="ours@base ours bare" bash benchmarks/http.sh   # before/after
#
# Cases (the client first takes the cookie from the "cookie route", then hammers the route):
#   login-read     cookie from /signin (the seeds' login session), GET /me reads it
#   login-write    cookie from /signin, GET /counter reads and writes (a Set-Cookie each time)
#   profile-read   cookie from /login (the ~1 KB profile), GET /profile reads it
#   profile-write  cookie from /login, GET /counter
#   untouched      cookie from /signin, GET /hello never touches the session (issue 9)
# `bare` modes set the same cookie our middleware would, so every mode receives requests of
# the same size.
#
# The server runs with 1 worker (axum: a current-thread runtime) pinned to core 0, wrk with
# 1 thread pinned to core 1 (CONNECTIONS connections, default 16). Per round and case the
# modes alternate (A B C A B C ...), each with a fresh server. Everything binds and connects
# to 127.0.0.1 only; every server is killed after its run, and exits by itself after
# BENCH_SERVER_TTL seconds anyway.
#
# Prints requests/s and the server's CPU time per request (user + system, from /proc, which
# other jobs on the machine disturb less than throughput) per run, their medians, and the
# ratios ours/bare and ours/actix-session (and axum-ours/axum-bare).
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${BENCH_PORT:-8090}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
# shellcheck source=benchmarks/servers.sh
source benchmarks/servers.sh # the working directory is the repository root

if ! command -v wrk >/dev/null; then
    echo "== installing wrk" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
command -v curl >/dev/null || { apt-get update -qq >&2; apt-get install -y -qq curl >&2; }

build_servers

server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

start_server() { # mode cookie-route
    local bin mode
    read -r bin mode <<<"$(server_of "$1")"
    BENCH_MODE="$mode" BENCH_PORT="$PORT" BENCH_SERVER_TTL=$((DURATION * 3 + 60)) \
        taskset -c "$SERVER_CORE" "$bin" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT$2"; then return 0; fi
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

login_cookie() { # route -> "name=value; name2=value2" from its Set-Cookie headers
    curl -s -D - -o /dev/null "http://127.0.0.1:$PORT$1" |
        tr -d '\r' | awk 'tolower($1)=="set-cookie:" { sub(/^[^:]*: */, ""); split($0, a, ";"); printf "%s%s", sep, a[1]; sep="; " }'
}

results=$(mktemp)
echo "# nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# ${ROUNDS} rounds, ${DURATION} s per run, wrk -t1 -c${CONNECTIONS} on core ${CLIENT_CORE}, server 1 worker on core ${SERVER_CORE}"
for round in $(seq 1 "$ROUNDS"); do
    for case in "${CASES[@]}"; do
        read -r from route <<<"$(case_paths "$case")"
        for mode in "${MODES[@]}"; do
            start_server "$mode" "$from"
            cookie=$(login_cookie "$from")
            if [ -z "$cookie" ]; then echo "$mode $from set no cookie" >&2; exit 1; fi
            # Check the route answers 200 with this cookie before measuring.
            code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$PORT$route")
            if [ "$code" != 200 ]; then echo "$mode $route answered $code" >&2; exit 1; fi
            t0=$(cpu_ticks "$server_pid")
            out=$(taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
                -H "Cookie: $cookie" "http://127.0.0.1:$PORT$route")
            t1=$(cpu_ticks "$server_pid")
            stop_server
            rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
            nreq=$(echo "$out" | awk '/ requests in / { print $1 }')
            # Server CPU time (user + system) per request, in microseconds.
            cpu_us=$(python3 -c "print(f'{($t1 - $t0) * 1e6 / $TICKS / $nreq:.2f}')")
            non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
            lat=$(echo "$out" | awk '$1=="Latency" { print $2 }')
            echo "round $round  $case ($route)  $mode  ${rps} req/s  server CPU ${cpu_us} us/req  latency avg ${lat}${non2xx:+  NON-2xx: $non2xx}  cookie bytes ${#cookie}"
            echo "$case $mode $rps $cpu_us" >>"$results"
        done
    done
done

python3 - "$results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rps, cpu, cases, modes = {}, {}, [], []
for case, mode, r, c in rows:
    rps.setdefault((case, mode), []).append(float(r))
    cpu.setdefault((case, mode), []).append(float(c))
    if case not in cases: cases.append(case)
    if mode not in modes: modes.append(mode)
print("\nmedian [min..max] over rounds: requests/s, and server CPU time per request")
for case in cases:
    mr = {m: statistics.median(rps[(case, m)]) for m in modes if (case, m) in rps}
    mc = {m: statistics.median(cpu[(case, m)]) for m in modes if (case, m) in cpu}
    for m in mr:
        xs, cs = rps[(case, m)], cpu[(case, m)]
        print(f"  {case:<14} {m:<10} {mr[m]:>9.0f} req/s [{min(xs):.0f}..{max(xs):.0f}]"
              f"   {mc[m]:>7.2f} us CPU/req [{min(cs):.2f}..{max(cs):.2f}]")
    if {"ours", "bare"} <= mr.keys():
        line = f"  {case:<14} actix: ours/bare req/s {mr['ours']/mr['bare']:.3f}, CPU {mc['ours']/mc['bare']:.3f}; ours over bare {mc['ours']-mc['bare']:+.2f} us CPU/req"
        if "actix" in mr:
            line += (f"; actix-session over bare {mc['actix']-mc['bare']:+.2f} us"
                     f"; ours/actix-session req/s {mr['ours']/mr['actix']:.3f}, CPU {mc['ours']/mc['actix']:.3f}")
            if mc['actix'] != mc['bare']:
                line += f", session CPU over bare ours/actix-session {(mc['ours']-mc['bare'])/(mc['actix']-mc['bare']):.2f}x"
        print(line)
    if {"axum-ours", "axum-bare"} <= mr.keys():
        print(f"  {case:<14} axum:  ours/bare req/s {mr['axum-ours']/mr['axum-bare']:.3f}, CPU {mc['axum-ours']/mc['axum-bare']:.3f}; ours over bare {mc['axum-ours']-mc['axum-bare']:+.2f} us CPU/req")
    # Per-round paired differences (same round, adjacent runs): less sensitive to drift.
    for a, b in (("ours", "bare"), ("actix", "bare"), ("axum-ours", "axum-bare")):
        if (case, a) in cpu and (case, b) in cpu:
            d = sorted(x - y for x, y in zip(cpu[(case, a)], cpu[(case, b)]))
            print(f"  {case:<14} per-round CPU {a}-{b}: median {statistics.median(d):+.2f} us [{d[0]:+.2f}..{d[-1]:+.2f}]")
EOF
rm -f "$results"
