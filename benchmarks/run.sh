#!/usr/bin/env bash
# The one driver of the benchmarks (see BENCHMARKS.md, "How to run"). Every figure comes from
# an application's build: release profile, the library with `default-features = false` plus
# the features `benchmarks/Cargo.toml` (or `demo/Cargo.toml`) names, and NONE of the
# repository's `.cargo/config.toml` rustflags (`--cfg poly1305_backend="soft"`): cargo is run
# with `RUSTFLAGS=` (set and empty), which takes precedence over every configured rustflags,
# and CARGO_ENCODED_RUSTFLAGS unset. Each binary reports whether the cfg reached it, and this
# script stops if it did.
#
#   bash benchmarks/run.sh check         # the flags: what rustc sees with and without the override
#   bash benchmarks/run.sh sizes         # cookie sizes (seconds)
#   bash benchmarks/run.sh codec [-- ARGS]   # criterion + interleaved summary (CODEC_SUMMARY_ONLY=1: summary only)
#   bash benchmarks/run.sh algorithms    # seal+open per algorithm, raw AEADs, nonce source
#   bash benchmarks/run.sh worst-case    # the bound on a session, refresh stamps
#   bash benchmarks/run.sh http          # login session: read / write / untouched, both frameworks
#   bash benchmarks/run.sh curve         # CPU per request against session size and Cookie header size
#   bash benchmarks/run.sh demo          # the demo servers against the same peers
#   bash benchmarks/run.sh all           # everything above but check, in that order
#   OUT=DIR bash benchmarks/run.sh report http|curve|curve2|demo   # the tables again, from DIR/results
#
# HTTP settings (environment): ROUTES (a subset of the set's routes: read write untouched
# login), ROUNDS (3), DURATION (seconds per run, 5), CONNECTIONS (16),
# FRAMEWORKS ("actix axum"), BENCH_FEATURES (features of the benchmarks member for the bench
# servers, e.g. `ring`: the library's optional AES-256-GCM backend), BENCH_PORT (18090), SERVER_CORE (0), CLIENT_CORE (1), OUT (a
# directory for the raw results, default a temporary one). Each run starts a fresh server
# pinned to SERVER_CORE, logs in with `POST /login`, takes the `Cookie` from the response, and
# drives one route with `wrk -t1 -cCONNECTIONS -dDURATION` pinned to CLIENT_CORE; the server's
# CPU time (utime + stime from /proc/PID/stat) over the run, divided by the requests wrk
# completed, is its CPU per request. Modes alternate within each round (ours, peer, bare, ours,
# peer, bare, ...) so that a change in the machine's load hits all of them; tables give the
# medians over rounds. Servers bind 127.0.0.1 only and exit by themselves after
# 3 x DURATION + 60 seconds.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-16}
read -r -a FRAMEWORKS <<<"${FRAMEWORKS:-actix axum}"
PORT=${BENCH_PORT:-18090}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
# The demo servers' key (SESSION_KEYS): 32 bytes of 7, as every bench engine uses.
DEMO_KEY=BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc

for v in ROUNDS DURATION CONNECTIONS; do
    [[ ${!v} =~ ^[1-9][0-9]{0,3}$ ]] || { echo "error: $v must be a positive integer" >&2; exit 2; }
done

# cargo as an application builds: no configured rustflags.
app_cargo() {
    env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS= cargo "$@"
}

# Stops unless every build line the binary printed says the poly1305 cfg is absent.
check_build_line() { # output
    if ! grep -q "build: release, poly1305 cfg absent" <<<"$1" || grep -q "build: .*PRESENT" <<<"$1"; then
        echo "error: not an application build:" >&2
        grep "build:" <<<"$1" >&2 || echo "(no build line)" >&2
        exit 1
    fi
}

cmd_check() {
    echo "== rustc's cfg for the benchmarks library, as configured and as run.sh builds it"
    echo "-- with the repository's .cargo/config.toml:"
    cargo rustc -q -p sealed-session-benchmarks --lib -- --print cfg | grep poly1305 || echo "   (no poly1305 cfg)"
    echo "-- RUSTFLAGS= (what run.sh uses):"
    app_cargo rustc -q -p sealed-session-benchmarks --lib -- --print cfg | grep poly1305 || echo "   (no poly1305 cfg)"
    echo "-- --config 'target.x86_64-unknown-linux-gnu.rustflags=[]' (NOT enough: the config's table is target.'cfg(..)', which cargo adds):"
    cargo rustc -q --config 'target.x86_64-unknown-linux-gnu.rustflags=[]' -p sealed-session-benchmarks --lib -- --print cfg | grep poly1305 || echo "   (no poly1305 cfg)"
    # `cargo rustc -- --print cfg` changed the library's fingerprint: rebuild it normally.
    app_cargo build -q --release -p sealed-session-benchmarks --example sizes
    out=$(app_cargo run -q --release -p sealed-session-benchmarks --example sizes | head -1)
    echo "-- the built binaries say: $out"
    check_build_line "$out"
}

run_example() { # name [args...]
    local name=$1
    shift
    app_cargo build -q --release -p sealed-session-benchmarks --example "$name"
    local out
    out=$("$TARGET/release/examples/$name" "$@")
    check_build_line "$out"
    echo "$out"
}

cmd_codec() {
    [ "${1:-}" = "--" ] && shift
    local log
    log=$(mktemp)
    app_cargo bench -p sealed-session-benchmarks --bench codec -- "$@" | tee "$log"
    if ! grep -q "build: " "$log"; then rm -f "$log"; return; fi # a filter that ran nothing
    check_build_line "$(cat "$log")"
    rm -f "$log"
}

# ---------------------------------------------------------------------------------------
# HTTP

need_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v curl >/dev/null || missing+=(curl)
    command -v taskset >/dev/null || missing+=(util-linux)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing ${missing[*]}" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

built_http=""
build_http() {
    [ -n "$built_http" ] && return
    echo "== building the bench servers and the demo servers (release, RUSTFLAGS=)" >&2
    app_cargo build -q --release -p sealed-session-benchmarks --example http_actix --example http_axum \
        ${BENCH_FEATURES:+--features "$BENCH_FEATURES"} >&2
    app_cargo build -q --release -p sealed-session-demo --features axum --bin server --bin axum_server >&2
    built_http=1
}

server_pid="" # what we started (for the demo: `timeout`, which passes the signal on)
cpu_pid=""    # the server process itself, whose CPU time is measured
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        cpu_pid=""
    fi
}
trap stop_server EXIT

url() { echo "http://127.0.0.1:$PORT$1"; }
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# start_server <framework> <mode> <workload>: mode ours|peer|bare (bench servers) or demo.
start_server() {
    local fw=$1 mode=$2 workload=$3 bin log="$OUT/server.log"
    if [ "$(http_code "$(url /)")" != 000 ]; then
        echo "error: something already answers on 127.0.0.1:$PORT (set BENCH_PORT)" >&2
        exit 1
    fi
    if [ "$mode" = demo ]; then
        bin="$TARGET/release/server"
        [ "$fw" = axum ] && bin="$TARGET/release/axum_server"
        PORT=$PORT SESSION_KEYS=$DEMO_KEY RUST_LOG=warn \
            timeout $((DURATION * 3 + 60)) taskset -c "$SERVER_CORE" "$bin" >"$log" 2>&1 &
    else
        bin="$TARGET/release/examples/http_$fw"
        BENCH_MODE=$mode BENCH_WORKLOAD=$workload BENCH_PORT=$PORT \
            BENCH_SERVER_TTL=$((DURATION * 3 + 60)) \
            taskset -c "$SERVER_CORE" "$bin" >"$log" 2>&1 &
    fi
    server_pid=$!
    cpu_pid=$server_pid
    for _ in $(seq 1 100); do
        if [ "$(http_code "$(url /)")" != 000 ]; then
            # The demo has no time limit of its own: it runs under `timeout`, as its child.
            [ "$mode" = demo ] && cpu_pid=$(cat "/proc/$server_pid/task/$server_pid/children" | awk '{ print $1 }')
            # The bench servers print their build line at startup; the demo's is the same
            # build of the library (checked through the bench servers).
            [ "$mode" = demo ] || check_build_line "$(cat "$log")"
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "error: $fw $mode server did not start:" >&2
    cat "$log" >&2
    exit 1
}

# `POST /login` (the demo's credentials; the bench servers ignore the body) -> the response's
# cookies as a `Cookie` header value, or "" (and the status on stderr) when it set none.
login_cookie() {
    local headers status
    headers=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data '{"username":"admin","password":"admin123"}' "$(url /login)" | tr -d '\r')
    status=$(awk 'NR == 1 { print $2 }' <<<"$headers")
    if [ "$status" != 200 ]; then
        echo "login answered ${status:-nothing}" >&2
        return 0
    fi
    awk 'tolower($1) == "set-cookie:" {
            sub(/^[^:]*: */, ""); split($0, a, ";")
            if (a[1] !~ /^[^=]*=$/) { printf "%s%s", sep, a[1]; sep = "; " }
        }' <<<"$headers"
}

# `n` bytes of unrelated cookies (`xNN=aaa...`, ~100 bytes each, joined by "; ").
extra_cookies() {
    local n=$1 s="" i=0
    while [ ${#s} -lt "$n" ]; do
        [ -n "$s" ] && s+="; "
        s+=$(printf 'x%02d=%s' "$i" "$(printf 'a%.0s' $(seq 1 92))")
        i=$((i + 1))
    done
    printf '%s' "${s:0:$n}"
}

route_path() {
    case $1 in
    read) echo /profile ;;
    write) echo /counter ;;
    untouched) echo /hello ;;
    login) echo /login ;;
    esac
}

TICKS=$(getconf CLK_TCK)

# measure <set> <framework> <mode> <workload> <extra bytes> <route> <round>: one run, one
# line appended to $OUT/results.
measure() {
    local set=$1 fw=$2 mode=$3 workload=$4 extra=$5 route=$6 round=$7 path cookie header
    path=$(route_path "$route")
    start_server "$fw" "$mode" "$workload"
    cookie=$(login_cookie 2>"$OUT/login.err")
    if [ -z "$cookie" ]; then
        stop_server
        echo "round $round  $set $fw $workload+${extra}B $route  $mode: REFUSED ($(cat "$OUT/login.err"))"
        echo "$set $fw $workload $extra $route $mode refused - - -" >>"$OUT/results"
        return
    fi
    header=$cookie
    [ "$extra" -gt 0 ] && header="$(extra_cookies "$extra"); $cookie"
    local code load
    if [ "$route" = login ]; then
        # A login from a client without a session: POST /login with the demo's credentials
        # (the bench servers ignore the body), no Cookie header; every answer seals a new
        # session into a Set-Cookie.
        header=""
        load=(-s "$OUT/login.lua")
        printf '%s\n' 'wrk.method = "POST"' \
            'wrk.body = '"'"'{"username":"admin","password":"admin123"}'"'" \
            'wrk.headers["Content-Type"] = "application/json"' >"$OUT/login.lua"
        code=$(http_code -X POST -H 'Content-Type: application/json' \
            --data '{"username":"admin","password":"admin123"}' "$(url "$path")")
    else
        load=(-H "Cookie: $header")
        code=$(http_code -H "Cookie: $header" "$(url "$path")")
    fi
    if [ "$code" != 200 ]; then
        echo "error: $fw $mode $path answered $code" >&2
        exit 1
    fi
    local t0 t1 out rps nreq cpu non2xx
    t0=$(awk '{ print $14 + $15 }' "/proc/$cpu_pid/stat")
    out=$(taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
        "${load[@]}" "$(url "$path")")
    t1=$(awk '{ print $14 + $15 }' "/proc/$cpu_pid/stat")
    stop_server
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    nreq=$(awk '/ requests in / { print $1 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    if [ -n "$non2xx" ]; then
        echo "error: $fw $mode $path: $non2xx non-2xx answers" >&2
        exit 1
    fi
    cpu=$(awk -v a="$t0" -v b="$t1" -v t="$TICKS" -v n="$nreq" 'BEGIN { printf "%.3f", (b - a) * 1e6 / t / n }')
    printf 'round %s  %-5s %-5s %-7s +%5sB %-9s %-5s %9.0f req/s  %7.2f us CPU/req  (Cookie header %s B)\n' \
        "$round" "$set" "$fw" "$workload" "$extra" "$route" "$mode" "$rps" "$cpu" "${#header}"
    echo "$set $fw $workload $extra $route $mode $rps $cpu ${#header}" >>"$OUT/results"
}

# The medians over rounds as Markdown, per framework, session, extra bytes and route: each
# mode's requests/s and CPU per request, its CPU per request over bare, and ours (or the
# demo) against the peer.
summarize() { # set
    awk -v set="$1" '
        function median(list,    n, v, i, j, t) {
            n = split(list, v, " ")
            for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
            return v[int((n + 1) / 2)]
        }
        # "median [min..max]" of a list of ratios
        function spread(list,    n, v, i, lo, hi) {
            n = split(list, v, " "); lo = v[1] + 0; hi = v[1] + 0
            for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
            return sprintf("%.2fx [%.2f..%.2f]", median(list), lo, hi)
        }
        $1 == set {
            g = $2 " " $3 " " $4 " " $5
            if (!(g in seen)) { seen[g] = 1; groups[++ng] = g }
            k = g " " $6
            if ($7 == "refused") { refused[k] = 1; if (!(k in modes)) { modes[k] = 1; order[g] = order[g] " " $6 } ; next }
            rps[k] = rps[k] " " $7; cpu[k] = cpu[k] " " $8; hdr[k] = $9
            n = ++runs[k]; CR[k, n] = $8; RR[k, n] = $7   # the n-th run of a mode is round n
            busy[k] = busy[k] " " ($7 * $8 / 1e4)
            if (!(k in modes)) { modes[k] = 1; order[g] = order[g] " " $6 }
        }
        END {
            print "| framework | session | extra cookies | route | mode | Cookie header | requests/s | CPU/request | over bare | server busy |"
            print "|---|---|---|---|---|---|---|---|---|---|"
            for (i = 1; i <= ng; i++) {
                split(groups[i], p, " ")
                b = groups[i] " bare"
                bare = (b in cpu) ? median(cpu[b]) : ""
                nm = split(order[groups[i]], ms, " ")
                for (j = 1; j <= nm; j++) {
                    k = groups[i] " " ms[j]
                    if (k in refused && !(k in cpu)) {
                        printf "| %s | %s | %s B | %s | %s | | refused | | | |\n", p[1], p[2], p[3], p[4], ms[j]
                        continue
                    }
                    r = median(rps[k]); c = median(cpu[k]); R[k] = r; C[k] = c
                    over = (bare != "" && ms[j] != "bare") ? sprintf("%+.2f us", c - bare) : ""
                    # The share of the run the server spent on the CPU: below ~100 %, requests/s
                    # was bounded by the client or by other jobs on the machine, not by the server.
                    printf "| %s | %s | %s B | %s | %s | %s B | %.0f | %.2f us | %s | %.0f %% |\n", p[1], p[2], p[3], p[4], ms[j], hdr[k], r, c, over, median(busy[k])
                }
            }
            print ""
            print "| framework | session | extra cookies | route | ours over bare | peer over bare | ratio ours/peer (over bare) | per round | req/s ours/peer | per round | CPU/request peer/ours |"
            print "|---|---|---|---|---|---|---|---|---|---|---|"
            for (i = 1; i <= ng; i++) {
                split(groups[i], p, " ")
                b = groups[i] " bare"; o = groups[i] " ours"; q = groups[i] " peer"
                if (!(o in C)) o = groups[i] " demo"
                if (!(o in C) || !(q in C) || !(b in C)) continue
                oo = C[o] - C[b]; pp = C[q] - C[b]
                # The same ratios within each round (adjacent runs), median over rounds.
                lc = ""; lr = ""
                for (n = 1; n <= runs[o] && n <= runs[q] && n <= runs[b]; n++) {
                    d = CR[q, n] - CR[b, n]
                    if (d > 0) lc = lc " " (CR[o, n] - CR[b, n]) / d
                    lr = lr " " RR[o, n] / RR[q, n]
                }
                printf "| %s | %s | %s B | %s | %+.2f us | %+.2f us | %s | %s | %.2fx | %s | %.2fx |\n", p[1], p[2], p[3], p[4], oo, pp, (pp > 0 ? sprintf("%.2fx", oo / pp) : "n/a"), (lc != "" ? spread(lc) : "n/a"), R[o] / R[q], spread(lr), C[q] / C[o]
            }
        }' "$OUT/results"
}

http_header() {
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src benchmarks demo || echo ' (uncommitted changes)'); $ROUNDS rounds, ${DURATION} s per run, wrk -t1 -c$CONNECTIONS on core $CLIENT_CORE, server on core $SERVER_CORE"
}

# run_set <set> <modes> <points> <routes...>: points are workload:extra-bytes.
run_set() {
    local set=$1 modes=$2 points=$3
    shift 3
    local routes=("$@")
    [ -n "${ROUTES:-}" ] && read -r -a routes <<<"$ROUTES"
    need_tools
    build_http
    OUT=${OUT:-$(mktemp -d /tmp/sealed-bench.XXXXXX)}
    mkdir -p "$OUT"
    http_header
    for round in $(seq 1 "$ROUNDS"); do
        for fw in "${FRAMEWORKS[@]}"; do
            for point in $points; do
                for route in "${routes[@]}"; do
                    for mode in $modes; do
                        measure "$set" "$fw" "$mode" "${point%%:*}" "${point#*:}" "$route" "$round"
                    done
                done
            done
        done
    done
    echo
    summarize "$set"
    echo
    echo "(raw results: $OUT/results)"
}

cmd_http() { run_set http "ours peer bare" "login:0" read write untouched login; }
cmd_curve() {
    # The session size on the read and the write route; the Cookie header size on the read
    # route (the session is the login one).
    run_set curve "ours peer bare" "login:0 profile:0 cart:0" read write
    run_set curve2 "ours peer bare" "login:2048 login:8192" read
}
cmd_demo() { run_set demo "demo peer bare" "login:0" read write login; }

what=${1:-}
[ $# -gt 0 ] && shift
case $what in
check) cmd_check ;;
sizes) run_example sizes ;;
codec) cmd_codec "$@" ;;
algorithms) run_example algorithms ;;
worst-case) run_example worst_case ;;
http) cmd_http ;;
curve) cmd_curve ;;
demo) cmd_demo ;;
report) summarize "${1:?which set: http, curve, curve2 or demo}" ;;
all)
    run_example sizes
    cmd_codec
    run_example algorithms
    run_example worst_case
    cmd_http
    cmd_curve
    cmd_demo
    ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
