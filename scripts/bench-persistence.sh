#!/usr/bin/env bash
# scripts/bench-persistence.sh - persistence costs, Larder against redis-server in one run.
#
# Rows:
#   SET ops/s with appendonly yes, appendfsync everysec and always (redis-benchmark, CLIENTS
#     clients, pipeline 1, median of REPEATS; the servers alternate run by run, in alternating
#     order), and the Larder/Redis ratio;
#   BGSAVE of a DATA_MB dataset (KEYS_BG keys of 1000-byte values) while redis-benchmark keeps
#     writing: seconds until rdb_bgsave_in_progress is 0 again, the steady RSS before, and the
#     peak RSS during the save of the server process plus its children (Redis forks a child;
#     Larder saves from a thread), sampled every 20 ms.
# Both servers run with --save "" in fresh directories under TMPDIR, pinned to SERVER_CPU, the
# load generators to CLIENT_CPU.
#
# usage: scripts/bench-persistence.sh
# environment: REPEATS (3) N (100000) CLIENTS (50) KEYS_BG (2000000) SERVER_CPU (1)
#              CLIENT_CPU (0) REDIS_SERVER (redis-server) LARDER_BIN (target/release/larder)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPEATS=${REPEATS:-3}
N=${N:-100000}
CLIENTS=${CLIENTS:-50}
KEYS_BG=${KEYS_BG:-2000000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/larder-bench-persist.XXXXXX")
LARDER_ARGS=""
REDIS_ARGS=""
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
trap cleanup EXIT
command -v redis-benchmark >/dev/null || die "redis-benchmark is needed (apt-get install redis-tools)"
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
[ -n "$REDIS_SERVER" ] || die "redis-server not found (apt-get install redis-server)"
if [ -z "${LARDER_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
    LARDER_BIN=$ROOT/target/release/larder
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

set_rps() {   # NAME -> ops/s of one redis-benchmark SET run
    taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "${PORT[$1]}" -t set -n "$N" -r 1000000 \
        -c "$CLIENTS" -d 100 -q 2>/dev/null | tr '\r' '\n' | sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' | tail -1
}

tree_rss_kb() {   # PID -> RSS of the process and its children, in kB
    local pids p t=0 r
    pids="$1 $(pgrep -P "$1" 2>/dev/null | tr '\n' ' ')"
    for p in $pids; do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        t=$((t + ${r:-0}))
    done
    echo "$t"
}

declare -A RESULT
for policy in everysec always; do
    declare -A VALS=([larder]="" [redis]="")
    # The servers alternate, and so does their order in each repeat, so that a slow spell of
    # the machine does not land on one server's runs only.
    for ((rep = 0; rep < REPEATS; rep++)); do
        order="larder redis"
        ((rep % 2 == 1)) && order="redis larder"
        for s in $order; do
            LARDER_ARGS="--appendonly yes --appendfsync $policy"
            REDIS_ARGS="--appendonly yes --appendfsync $policy"
            rm -rf "${WORK:?}/$s"
            start_server "$s"
            VALS[$s]+="$(set_rps "$s") "
            stop_server "$s"
        done
    done
    for s in larder redis; do
        RESULT[$s/$policy]=$(printf '%s\n' ${VALS[$s]} | median)
        log "$s appendfsync $policy: ${VALS[$s]}ops/s"
    done
done

for s in larder redis; do
    LARDER_ARGS=""
    REDIS_ARGS=""
    rm -rf "${WORK:?}/$s"
    start_server "$s"
    log "$s: loading $KEYS_BG keys of 1000 bytes"
    # Exactly KEYS_BG distinct keys, the same names on both servers, 50000 per script call.
    for ((from = 0; from < KEYS_BG; from += 50000)); do
        rcli "$s" eval "local v = string.rep('x', 1000) for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', string.format('key:%012d', i), v) end return 1" \
            0 "$from" "$(( (from + 50000 < KEYS_BG ? from + 50000 : KEYS_BG) - 1 ))" >/dev/null || die "$s: load failed"
    done
    sleep 2
    steady=$(tree_rss_kb "${PID[$s]}")
    keys=$(rcli "$s" dbsize)
    # Writers keep going during the save.
    taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "${PORT[$s]}" -t set -n 100000000 -r "$KEYS_BG" \
        -d 1000 -c 4 -q >/dev/null 2>&1 &
    # (redis-benchmark's keys are key:%012d below KEYS_BG: it overwrites the loaded keys.)
    writer=$!
    sleep 1
    t0=$(date +%s.%N)
    rcli "$s" bgsave >/dev/null
    peak=$steady
    sleep 0.05
    while [ "$(rcli "$s" info persistence | tr -d '\r' | sed -n 's/^rdb_bgsave_in_progress://p')" = 1 ]; do
        r=$(tree_rss_kb "${PID[$s]}")
        [ "$r" -gt "$peak" ] && peak=$r
        sleep 0.02
    done
    t1=$(date +%s.%N)
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    status=$(rcli "$s" info persistence | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')
    RESULT[$s/bgsave]=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    RESULT[$s/steady]=$((steady / 1024))
    RESULT[$s/peak]=$((peak / 1024))
    RESULT[$s/keys]=$keys
    log "$s: $keys keys, BGSAVE ${RESULT[$s/bgsave]} s ($status), RSS steady ${RESULT[$s/steady]} MB, peak ${RESULT[$s/peak]} MB"
    stop_server "$s"
done

REDIS_VERSION=$("$REDIS_SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo "Persistence, Larder vs Redis $REDIS_VERSION, $(date -u +%Y-%m-%d): SET -c $CLIENTS -d 100, median of $REPEATS; BGSAVE of $KEYS_BG x 1000-byte keys under concurrent SETs"
echo
echo "| row | Larder | Redis | Larder/Redis |"
echo "|---|---|---|---|"
for policy in everysec always; do
    echo "| SET ops/s, appendfsync $policy | ${RESULT[larder/$policy]} | ${RESULT[redis/$policy]} | $(ratio "${RESULT[larder/$policy]}" "${RESULT[redis/$policy]}") |"
done
echo "| BGSAVE seconds | ${RESULT[larder/bgsave]} | ${RESULT[redis/bgsave]} | $(ratio "${RESULT[larder/bgsave]}" "${RESULT[redis/bgsave]}") |"
echo "| RSS before BGSAVE, MB | ${RESULT[larder/steady]} | ${RESULT[redis/steady]} | $(ratio "${RESULT[larder/steady]}" "${RESULT[redis/steady]}") |"
echo "| peak RSS during BGSAVE, MB (process + children) | ${RESULT[larder/peak]} | ${RESULT[redis/peak]} | $(ratio "${RESULT[larder/peak]}" "${RESULT[redis/peak]}") |"
echo "| peak / steady | $(ratio "${RESULT[larder/peak]}" "${RESULT[larder/steady]}") | $(ratio "${RESULT[redis/peak]}" "${RESULT[redis/steady]}") | |"
