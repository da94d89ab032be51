#!/usr/bin/env bash
# scripts/bench.sh - Larder vs Redis 7.0 (Debian's redis-server) with redis-benchmark.
#
# usage: scripts/bench.sh [--suite strings|collections|atomic|all] [--callgrind] [--repeats R] [-h]
#   --suite     which table(s) to produce (default all; a comma list like strings,atomic works)
#   --callgrind add user-space instructions per request (Ir/req) columns (slow)
#
# Both servers run in the same run with the same method: Larder (LARDER_BIN --io-threads 1
# --save "") and Redis (redis-server --save "" --appendonly no), both pinned to CPU
# $SERVER_CPU, the load generators (redis-benchmark, redis-cli, resp-load, subscribers)
# pinned to CPU $CLIENT_CPU, everything on 127.0.0.1 and automatically picked free ports.
# For each suite:
#   1. memory rows: FLUSHALL, INFO memory used_memory, load exactly the items below via
#      redis-cli --pipe (replies checked, DBSIZE/HLEN/ZCARD verified), wait 1 s,
#      (used_memory after - before) / items.
#   2. throughput, $REPEATS times, alternating the servers (and the order each repeat): one
#      test per invocation, $CLIENTS clients, pipeline 1 and 16; ops/s, and server CPU time per
#      request = delta(utime+stime of the whole process, all threads, /proc/PID/stat) / N.
#      Medians over the repeats are reported.
#   3. with --callgrind: each server is started again under valgrind --tool=callgrind (pinned
#      the same way), the suite's data is set up again (strings: $CG_KEYS keys), and for each
#      row: callgrind_control -z PID (zero the counters), run $CG_N requests (-r $CG_KEYS),
#      callgrind_control -d PID (dump), "summary:" Ir of the new dump / $CG_N. That is user-space
#      instructions of all server threads per request, including the 50 connection set-ups and
#      the server's timers during the run. One run (instruction counts barely vary).
#
# Rows (N = requests per run; N1 at pipeline 1, N16 at pipeline 16, some divided as shown):
#   strings     redis-benchmark -t set|get -d $VALUE_SIZE -r $KEYS over $KEYS preloaded keys
#               key:%012d (the names -r generates, so every GET hits); bytes/key after loading
#               $KEYS keys with $VALUE_SIZE-byte values.
#   collections redis-benchmark -t hset|lpush|lpop|sadd|zadd -d $VALUE_SIZE -r $KEYS (one key
#               each: myhash, mylist, myset, myzset with random fields/members; ZADD N16/2);
#               LPOP pops the elements the LPUSH row before it pushed, topped up with RPUSH
#               before each run so that it never pops an empty list; ZRANGE: redis-benchmark's
#               positional mode `ZRANGE zr1k 0 99` against a preloaded sorted set zr1k of 1000
#               members (skiplist encoding on Redis), N1/4 and N16/16.
#               bytes/hash: $MEM_ITEMS hashes `HSET cache:product:p-<i> name "Product <i>"
#               price <d.dd> stock <0-999> category category-<0-39>`; bytes/member: one sorted
#               set lb of $MEM_ITEMS members member:<i> with pseudo-random integer scores (ZADD
#               with 100 members per command); both per item, used_memory.
#   atomic      EVALSHA of the single-flight lock script
#                 if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0
#               (SCRIPT LOAD on each server, then redis-benchmark positional
#               `EVALSHA <sha> 1 lock:__rand_int__ token 100` -r $KEYS), N1/2, N16/4.
#               MULTI/EXEC of 3 commands: redis-benchmark cannot send multi-command units, so
#               scripts/resp-load.rs (std-only Rust, compiled here with rustc -O into the temp
#               dir) sends `MULTI; INCR rl:<r>; EXPIRE rl:<r> 60; TTL rl:<r>; EXEC` (<r> random
#               below $KEYS, the same within a transaction) from $CLIENTS connections, P whole
#               transactions per write; one request = one transaction (5 commands). N1/2, N16/4.
#               PUBLISH to $PUB_SUBS subscribers: $PUB_SUBS `redis-cli subscribe ch` processes
#               (output discarded, on the client CPU), then redis-benchmark positional
#               `PUBLISH ch hello`; CPU/req is the server's only. N1/4, N16/8.
#               A row whose setup the server answers with an error (unknown command, ...) is
#               skipped for that server with a note below the table; the run goes on.
#
# Environment (defaults):
#   LARDER_BIN   (<repo>/target/release/larder)   REDIS_SERVER (redis-server)
#   REPEATS (3)  N1 (200000: requests at -P 1)    N16 (2000000: requests at -P 16)
#   CLIENTS (50) KEYS (1000000)  VALUE_SIZE (100)  MEM_ITEMS (1000000)  PUB_SUBS (10)
#   CG_N (20000) CG_KEYS (100000)
#   SERVER_CPU (1)  CLIENT_CPU (0)
#   LARDER_ARGS  extra Larder arguments;  REDIS_ARGS  extra redis-server arguments
#   BENCH_TIMEOUT (180: seconds allowed for each redis-benchmark / load step)
#   RUSTC (rustc: compiles scripts/resp-load.rs for the MULTI row)
# Default runtime on a 2-core machine: about 6 minutes for --suite all (strings about 1.5,
# collections 3, atomic 1; estimated from a run at N/10: about 4 minutes of measured
# requests plus start-up, loading and per-run overhead); --callgrind adds about 3 minutes.
#
# Output: one Markdown table per suite on stdout; progress and raw per-repeat numbers on
# stderr. Below each table: skipped rows and why, the share of the two CPUs used by OTHER
# processes during that suite's measured runs (from /proc/stat minus server, client and
# subscriber time; above 5% prints a WARNING: ops/s are then not comparable), error replies
# counted by the server (INFO stats total_error_replies) during measured runs (should be 0),
# and suite-specific sanity checks.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LARDER_BIN=${LARDER_BIN:-$ROOT/target/release/larder}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REPEATS=${REPEATS:-3}
N1=${N1:-200000}
N16=${N16:-2000000}
CLIENTS=${CLIENTS:-50}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
MEM_ITEMS=${MEM_ITEMS:-1000000}
PUB_SUBS=${PUB_SUBS:-10}
CG_N=${CG_N:-20000}
CG_KEYS=${CG_KEYS:-100000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
LARDER_ARGS=${LARDER_ARGS:-}
REDIS_ARGS=${REDIS_ARGS:-}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}
RUSTC=${RUSTC:-rustc}
CALLGRIND=0
SUITE_ARG=all

# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --callgrind) CALLGRIND=1 ;;
        --repeats) shift; REPEATS=${1:?--repeats needs a value} ;;
        --repeats=*) REPEATS=${1#*=} ;;
        --suite) shift; SUITE_ARG=${1:?--suite needs a value} ;;
        --suite=*) SUITE_ARG=${1#*=} ;;
        -h|--help) usage ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done

SUITES=()
for x in ${SUITE_ARG//,/ }; do
    case $x in
        all) SUITES=(strings collections atomic) ;;
        strings|collections|atomic) [[ " ${SUITES[*]:-} " == *" $x "* ]] || SUITES+=("$x") ;;
        *) die "unknown suite '$x' (strings, collections, atomic or all)" ;;
    esac
done
[ ${#SUITES[@]} -gt 0 ] || die "--suite needs strings, collections, atomic or all"
has_suite() { [[ " ${SUITES[*]} " == *" $1 "* ]]; }

for v in REPEATS N1 N16 CLIENTS KEYS VALUE_SIZE MEM_ITEMS PUB_SUBS CG_N CG_KEYS SERVER_CPU CLIENT_CPU BENCH_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
[ "$REPEATS" -ge 1 ] && [ "$N1" -ge 16 ] && [ "$N16" -ge 16 ] && [ "$KEYS" -ge 1 ] && [ "$MEM_ITEMS" -ge 1 ] \
    && [ "$CG_N" -ge 1 ] && [ "$CG_KEYS" -ge 1 ] && [ "$PUB_SUBS" -ge 1 ] \
    || die "REPEATS, KEYS, MEM_ITEMS, PUB_SUBS, CG_N and CG_KEYS must be >= 1, N1 and N16 >= 16"

# ---------------------------------------------------------------- prerequisites
missing=()
for t in "$REDIS_SERVER" redis-benchmark redis-cli; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench.sh: missing: ${missing[*]}" >&2
    echo "bench.sh: install them with:  sudo apt-get install -y redis-server redis-tools" >&2
    exit 1
fi
command -v taskset >/dev/null 2>&1 || die "missing taskset; install with: sudo apt-get install -y util-linux"
command -v timeout >/dev/null 2>&1 || die "missing timeout; install with: sudo apt-get install -y coreutils"
if [ "$CALLGRIND" -eq 1 ]; then
    { command -v valgrind && command -v callgrind_control; } >/dev/null 2>&1 \
        || die "--callgrind needs valgrind; install with: sudo apt-get install -y valgrind"
fi
[ -x "$LARDER_BIN" ] || die "no Larder binary at $LARDER_BIN (run: cargo build --release, or set LARDER_BIN)"
ncpu=$(nproc --all)
[ "$SERVER_CPU" -lt "$ncpu" ] && [ "$CLIENT_CPU" -lt "$ncpu" ] \
    || die "SERVER_CPU=$SERVER_CPU / CLIENT_CPU=$CLIENT_CPU: this machine has $ncpu CPUs"
[ "$SERVER_CPU" -ne "$CLIENT_CPU" ] || log "warning: server and client pinned to the same CPU"
HZ=$(getconf CLK_TCK)

WORK=$(mktemp -d -t larder-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

RESP_LOAD=$WORK/resp-load
RESP_LOAD_ERR=""
if has_suite atomic; then
    if ! command -v "$RUSTC" >/dev/null 2>&1; then
        RESP_LOAD_ERR="no rustc to build scripts/resp-load.rs"
    elif ! nice "$RUSTC" -O --edition 2021 -o "$RESP_LOAD" "$ROOT/scripts/resp-load.rs" 2>"$WORK/rustc.err"; then
        RESP_LOAD_ERR="scripts/resp-load.rs did not compile: $(head -3 "$WORK/rustc.err" | tr '\n' ' ')"
    fi
    [ -z "$RESP_LOAD_ERR" ] || log "MULTI/EXEC rows will be skipped: $RESP_LOAD_ERR"
fi

# ---------------------------------------------------------------- rows
LOCK_SCRIPT="if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0"
ZR_KEY=zr1k ZR_MEMBERS=1000
PUB_CHANNEL=ch
MULTI_CMDS=(MULTI ';' INCR 'rl:__rand_int__' ';' EXPIRE 'rl:__rand_int__' 60 ';' TTL 'rl:__rand_int__' ';' EXEC)

suite_rows() {   # the rows ("kind pipeline") of a suite, in run order
    case $1 in
        strings) printf "%s\n" "set 1" "get 1" "set 16" "get 16" ;;
        collections) for p in 1 16; do for k in hset lpush lpop sadd zadd zrange; do echo "$k $p"; done; done ;;
        atomic) for p in 1 16; do for k in evalsha multi publish; do echo "$k $p"; done; done ;;
    esac
}
row_name() {
    local k p; read -r k p <<<"$1"
    case $k in
        zrange) echo "ZRANGE 0 99 of $ZR_MEMBERS p$p" ;;
        evalsha) echo "EVALSHA lock script p$p" ;;
        multi) echo "MULTI/EXEC of 3 p$p" ;;
        publish) echo "PUBLISH to $PUB_SUBS subs p$p" ;;
        *) echo "${k^^} p$p" ;;
    esac
}
row_n() {   # requests for the throughput runs of a row
    local k p d; read -r k p <<<"$1"
    case "$k/$p" in
        zrange/1|publish/1) d=4 ;;  evalsha/1|multi/1) d=2 ;;
        zrange/16) d=16 ;;  publish/16) d=8 ;;  evalsha/16|multi/16) d=4 ;;  zadd/16) d=2 ;;
        *) d=1 ;;
    esac
    if [ "$p" = 1 ]; then echo $(( N1 / d )); else echo $(( N16 / d )); fi
}

declare -A RPS CPU IR ERRS SKIP SHA MEMB MEMR FOREIGN STEAL NOTES SANITY
# RPS[srv,row] / CPU[srv,row] = "v1 v2 ..." (per repeat); SKIP[srv,kind] = reason

# run_row NAME ROW N KEYSPACE : one measured invocation; ops/s into $WORK/rps
run_row() {
    local s=$1 k p n=$3 r=$4; read -r k p <<<"$2"
    case $k in
        set|get|hset|lpush|lpop|sadd|zadd) rb "$s" "${k^^}" "$p" "$n" "$r" -t "$k" -d "$VALUE_SIZE" ;;
        zrange) rb "$s" "ZRANGE $ZR_KEY 0 99" "$p" "$n" "$r" ZRANGE "$ZR_KEY" 0 99 ;;
        evalsha) rb "$s" "EVALSHA ${SHA[$s]} 1 lock:__rand_int__ token 100" "$p" "$n" "$r" \
                     EVALSHA "${SHA[$s]}" 1 'lock:__rand_int__' token 100 ;;
        publish) rb "$s" "PUBLISH $PUB_CHANNEL hello" "$p" "$n" "$r" PUBLISH "$PUB_CHANNEL" hello ;;
        multi) rl "$s" "$p" "$n" "$r" "${MULTI_CMDS[@]}" ;;
    esac > "$WORK/rps"
}
# prep_row NAME ROW N : unmeasured preparation before each run
prep_row() {
    local s=$1 k p n=$3 got; read -r k p <<<"$2"
    case $k in
        lpop) top_up_list "$s" mylist "$n" ;;
        publish)
            got=$(pubsub_numsub "$s")
            if [ "$got" != "$PUB_SUBS" ]; then
                log "$s: only '$got' of $PUB_SUBS subscribers left; restarting them"
                NOTES[$s,publish]="subscribers were lost (output-buffer limit?) and restarted before a run"
                stop_subscribers "$s"
                start_subscribers "$s" "$PUB_SUBS" >/dev/null || die "$s: cannot restart subscribers"
            fi ;;
    esac
}

# setup_suite NAME SUITE STRING_KEYS : data and probes every row of SUITE needs (unmeasured)
setup_suite() {
    local s=$1 suite=$2 keys=$3 out
    case $suite in
        strings)
            [ "$(rcli "$s" dbsize)" = "$keys" ] || { rcli "$s" flushall >/dev/null; load_keys "$s" "$keys"; } ;;
        collections)
            rcli "$s" flushall >/dev/null
            load_zset "$s" "$ZR_KEY" "$ZR_MEMBERS" "$ZR_MEMBERS" ;;
        atomic)
            rcli "$s" flushall >/dev/null
            unset "SKIP[$s,evalsha]" "SKIP[$s,multi]" "SKIP[$s,publish]"
            out=$(rcli "$s" script load "$LOCK_SCRIPT" 2>&1 | head -1)
            if [[ $out =~ ^[0-9a-f]{40}$ ]]; then
                SHA[$s]=$out
                out=$(rcli "$s" evalsha "${SHA[$s]}" 1 lock:probe token 100 2>&1 | head -1)
                [[ $out =~ ^[01]$ ]] || SKIP[$s,evalsha]="EVALSHA replied: $out"
            else
                SKIP[$s,evalsha]="SCRIPT LOAD replied: $out"
            fi
            if [ -n "$RESP_LOAD_ERR" ]; then
                SKIP[$s,multi]=$RESP_LOAD_ERR
            else
                out=$(timeout --foreground 30 "$RESP_LOAD" -h 127.0.0.1 -p "${PORT[$s]}" -c 1 -n 1 -P 1 -r 1 "${MULTI_CMDS[@]}" 2>&1 || true)
                grep -q ' errors=0 nested_errors=0 nils=0 ' <<<"$out" || SKIP[$s,multi]="probe transaction failed: $out"
            fi
            out=$(rcli "$s" publish "$PUB_CHANNEL" hello 2>&1 | head -1)
            if ! [[ $out =~ ^[0-9]+$ ]]; then
                SKIP[$s,publish]="PUBLISH replied: $out"
            elif ! start_subscribers "$s" "$PUB_SUBS" > "$WORK/subs.msg"; then   # not in $(...): keeps SUBS
                SKIP[$s,publish]=$(cat "$WORK/subs.msg")
                stop_subscribers "$s"
            fi
            local k; for k in evalsha multi publish; do
                [ -n "${SKIP[$s,$k]:-}" ] || continue
                SKIP[$s,$k]=$(tr -s ' \n' ' ' <<<"${SKIP[$s,$k]}" | cut -c1-160 | sed 's/ *$//')
                log "$s: skipping $k rows: ${SKIP[$s,$k]}"
            done ;;
    esac
}
teardown_suite() {   # NAME SUITE [record]: stop helpers; with "record", keep sanity numbers
    local s=$1 suite=$2
    [ "${3:-}" = record ] || { stop_subscribers "$s"; return 0; }
    case $suite in
        strings) SANITY[$s,dbsize]=$(rcli "$s" dbsize) ;;
        collections) SANITY[$s,zcard]=$(rcli "$s" zcard "$ZR_KEY"); SANITY[$s,llen]=$(rcli "$s" llen mylist) ;;
        atomic) SANITY[$s,numsub]=$(pubsub_numsub "$s"); stop_subscribers "$s" ;;
    esac
}

# measure_row NAME SUITE ROW REP : one measured run, results appended to RPS/CPU
measure_row() {
    local s=$1 suite=$2 row=$3 rep=$4 k p n m0 e0 b0 st0 a0 k0 c0 c1 k1 b1 st1 a1 e1 m1 rps foreign steal us
    read -r k p <<<"$row"; n=$(row_n "$row")
    [ -z "${SKIP[$s,$k]:-}" ] || return 0
    prep_row "$s" "$row" "$n"
    m0=$(stat_field "$s" keyspace_misses); e0=$(stat_field "$s" total_error_replies)
    read -r b0 st0 a0 < <(cpus_busy)
    children_ticks > "$WORK/k0"; k0=$(( $(cat "$WORK/k0") + $(subscriber_ticks) ))
    c0=$(cpu_ticks "${PID[$s]}")
    run_row "$s" "$row" "$n" "$KEYS"    # not in $(...): "times" must see the client's time
    c1=$(cpu_ticks "${PID[$s]}")
    children_ticks > "$WORK/k1"; k1=$(( $(cat "$WORK/k1") + $(subscriber_ticks) ))
    read -r b1 st1 a1 < <(cpus_busy)
    e1=$(stat_field "$s" total_error_replies); m1=$(stat_field "$s" keyspace_misses)
    rps=$(cat "$WORK/rps")
    foreign=$(awk -v b=$((b1 - b0)) -v s=$((c1 - c0)) -v k=$((k1 - k0)) -v a=$((a1 - a0)) \
        'BEGIN { f = (b - s - k) / (a > 0 ? a : 1) * 100; printf "%.1f", f < 0 ? 0 : f }')
    steal=$(awk -v st=$((st1 - st0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.1f", st / (a > 0 ? a : 1) * 100 }')
    FOREIGN[$suite]=$(fmax "$foreign" "${FOREIGN[$suite]:-0}")
    STEAL[$suite]=$(fmax "$steal" "${STEAL[$suite]:-0}")
    ERRS[$s,$row]=$(( ${ERRS[$s,$row]:-0} + e1 - e0 ))
    ERRS[$s,$suite]=$(( ${ERRS[$s,$suite]:-0} + e1 - e0 ))
    if [ "$k" = get ]; then
        SANITY[$s,misses]=$(( ${SANITY[$s,misses]:-0} + m1 - m0 )); SANITY[$s,gets]=$(( ${SANITY[$s,gets]:-0} + n ))
    fi
    us=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')
    RPS[$s,$row]="${RPS[$s,$row]:-} $rps"; CPU[$s,$row]="${CPU[$s,$row]:-} $us"
    log "rep $rep $(row_name "$row") $s: N=$n $rps ops/s, $us us CPU/req ($((c1 - c0)) server ticks, $((k1 - k0)) client ticks; other work ${foreign}% and steal ${steal}% of CPUs $SERVER_CPU,$CLIENT_CPU; $((e1 - e0)) error replies)"
}

# memory_row NAME LABEL ITEMS LOADER ARGS... : used_memory growth per item
memory_row() {
    local s=$1 label=$2 items=$3 m0 r0 m1 r1 t0 t1; shift 3
    rcli "$s" flushall >/dev/null
    sleep 1
    m0=$(mem_used "$s"); r0=$(mem_rss "$s")
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    sleep 1    # let any periodically refreshed memory statistics catch up
    m1=$(mem_used "$s"); r1=$(mem_rss "$s")
    MEMB[$s,$label]=$(awk -v a="$m0" -v b="$m1" -v n="$items" 'BEGIN { printf "%.1f", (b - a) / n }')
    MEMR[$s,$label]=$(awk -v a="$r0" -v b="$r1" -v n="$items" 'BEGIN { printf "%.1f", (b - a) / n }')
    log "$s: $label: used_memory $m0 -> $m1 (${MEMB[$s,$label]} B/item; rss ${MEMR[$s,$label]} B/item), load $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}
suite_memory() {   # the memory rows of a suite, on one server
    local s=$1
    case $2 in
        strings) memory_row "$s" "bytes/key" "$KEYS" load_keys "$s" "$KEYS" ;;
        collections)
            memory_row "$s" "bytes/hash" "$MEM_ITEMS" load_hashes "$s" "$MEM_ITEMS"
            memory_row "$s" "bytes/member" "$MEM_ITEMS" load_zset "$s" lb "$MEM_ITEMS" 100 ;;
    esac
}
mem_labels() {
    case $1 in
        strings) echo "bytes/key" ;;
        collections) echo "bytes/hash" "bytes/member" ;;
    esac
}
mem_label_long() {
    case $1 in
        bytes/key) echo "bytes/key ($VALUE_SIZE-byte values, used_memory)" ;;
        bytes/hash) echo "bytes/hash (4 short fields, used_memory)" ;;
        bytes/member) echo "bytes/member (1 sorted set, used_memory)" ;;
    esac
}

# cg_row NAME ROW : callgrind Ir per request of one row (server already under valgrind)
cg_row() {
    local s=$1 row=$2 k p cgdir=$WORK/cg-$1 before f ir; read -r k p <<<"$row"
    [ -z "${SKIP[$s,$k]:-}" ] || return 0
    prep_row "$s" "$row" "$CG_N"
    callgrind_control -z "${PID[$s]}" >/dev/null 2>&1
    run_row "$s" "$row" "$CG_N" "$CG_KEYS"
    before=$(ls "$cgdir" | wc -l)
    callgrind_control -d "${PID[$s]}" >/dev/null 2>&1
    for _ in $(seq 100); do [ "$(ls "$cgdir" | wc -l)" -gt "$before" ] && break; sleep 0.1; done
    f=$(ls -t "$cgdir"/cg.* | head -1)
    ir=$(awk '/^summary:/ { print $2; exit }' "$f")
    [ -n "$ir" ] || die "$s: no summary line in $f"
    IR[$s,$row]=$(awk -v a="$ir" -v n="$CG_N" 'BEGIN { printf "%.0f", a / n }')
    log "callgrind $(row_name "$row") $s: $ir Ir / $CG_N = ${IR[$s,$row]} Ir/req"
}

# ---------------------------------------------------------------- header
log "Larder: $LARDER_BIN ($("$LARDER_BIN" --version 2>/dev/null | head -1 || echo '?'))"
log "Redis:  $(command -v "$REDIS_SERVER") ($("$REDIS_SERVER" --version | head -1))"
log "redis-benchmark: $(redis-benchmark --version 2>/dev/null | head -1)"
log "suites: ${SUITES[*]}; servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; repeats=$REPEATS N(p1)=$N1 N(p16)=$N16 clients=$CLIENTS keys=$KEYS value=${VALUE_SIZE}B mem_items=$MEM_ITEMS"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
busy_warning "before the run"
T_START=$(date +%s)

# ---------------------------------------------------------------- measured runs
start_server larder
start_server redis
for suite in "${SUITES[@]}"; do
    ts=$(date +%s)
    log "=== suite $suite"
    for s in larder redis; do suite_memory "$s" "$suite"; done
    for s in larder redis; do setup_suite "$s" "$suite" "$KEYS"; done
    mapfile -t rows < <(suite_rows "$suite")
    for ((rep = 1; rep <= REPEATS; rep++)); do
        if (( rep % 2 )); then order=(larder redis); else order=(redis larder); fi
        for row in "${rows[@]}"; do
            for s in "${order[@]}"; do measure_row "$s" "$suite" "$row" "$rep"; done
        done
    done
    for s in larder redis; do teardown_suite "$s" "$suite" record; done
    log "=== suite $suite took $(( $(date +%s) - ts )) s"
done
stop_server larder
stop_server redis

# ---------------------------------------------------------------- callgrind (optional)
if [ "$CALLGRIND" -eq 1 ]; then
    ts=$(date +%s)
    for s in larder redis; do
        cgdir=$WORK/cg-$s; mkdir -p "$cgdir"
        start_server "$s" valgrind --tool=callgrind --callgrind-out-file="$cgdir/cg.%p" --dump-instr=no
        for suite in "${SUITES[@]}"; do
            setup_suite "$s" "$suite" "$CG_KEYS"
            mapfile -t rows < <(suite_rows "$suite")
            for row in "${rows[@]}"; do cg_row "$s" "$row"; done
            teardown_suite "$s" "$suite"
        done
        stop_server "$s"
    done
    log "=== callgrind took $(( $(date +%s) - ts )) s"
fi

# ---------------------------------------------------------------- report
REDIS_VERSION=$("$REDIS_SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
echo
echo "Larder vs Redis $REDIS_VERSION, $(date -u +%Y-%m-%d), median of $REPEATS, $CLIENTS clients, N=$N1 (p1) / $N16 (p16) unless divided (see scripts/bench.sh), keyspace $KEYS, ${VALUE_SIZE}-byte values; servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; run took $(( $(date +%s) - T_START )) s"
for suite in "${SUITES[@]}"; do
    echo
    echo "### $suite"
    echo
    hdr="| | Larder ops/s | Redis ops/s | ratio | Larder µs CPU/req | Redis µs CPU/req |"
    sep="|---|---:|---:|---:|---:|---:|"
    if [ "$CALLGRIND" -eq 1 ]; then hdr="$hdr Larder Ir/req | Redis Ir/req |"; sep="$sep---:|---:|"; fi
    echo "$hdr"; echo "$sep"
    notes=()
    mapfile -t rows < <(suite_rows "$suite")
    for row in "${rows[@]}"; do
        read -r k p <<<"$row"
        lr=$(med "${RPS[larder,$row]:-}"); rr=$(med "${RPS[redis,$row]:-}")
        lc=$(med "${CPU[larder,$row]:-}"); rc=$(med "${CPU[redis,$row]:-}")
        lrs=$(fmt_int "$lr"); rrs=$(fmt_int "$rr")
        for s in larder redis; do
            if [ -n "${SKIP[$s,$k]:-}" ]; then
                [ $s = larder ] && lrs="skipped" || rrs="skipped"
                note="$(row_name "$row"): $s skipped: ${SKIP[$s,$k]}"
                [ "$p" = 1 ] || note="$(row_name "$row"): $s skipped (see above)"
                notes+=("$note")
            elif [ "${ERRS[$s,$row]:-0}" -gt 0 ]; then
                [ $s = larder ] && lrs="$lrs (errors!)" || rrs="$rrs (errors!)"
                notes+=("$(row_name "$row"): $s replied ${ERRS[$s,$row]} errors during the measured runs: not a valid measurement")
            fi
            [ -z "${NOTES[$s,$k]:-}" ] || notes+=("$(row_name "$row"): $s: ${NOTES[$s,$k]}")
        done
        line="| $(row_name "$row") | $lrs | $rrs | $(ratio "$lr" "$rr") | $(fmt_2 "$lc") | $(fmt_2 "$rc") |"
        [ "$CALLGRIND" -eq 1 ] && line="$line ${IR[larder,$row]:-–} | ${IR[redis,$row]:-–} |"
        echo "$line"
    done
    for label in $(mem_labels "$suite"); do
        # For memory the ratio is Larder/Redis too: lower is better there.
        line="| $(mem_label_long "$label") | ${MEMB[larder,$label]} | ${MEMB[redis,$label]} | $(ratio "${MEMB[larder,$label]}" "${MEMB[redis,$label]}") | | |"
        [ "$CALLGRIND" -eq 1 ] && line="$line | |"
        echo "$line"
    done
    echo
    if [ -n "$(mem_labels "$suite")" ]; then
        echo "ratio = Larder/Redis (higher is better for ops/s, lower is better for bytes)."
    else
        echo "ratio = Larder/Redis (higher is better)."
    fi
    [ ${#notes[@]} -eq 0 ] || printf -- '- %s\n' "${notes[@]}" | awk '!seen[$0]++'
    echo "Other processes used at most ${FOREIGN[$suite]:-0}% (hypervisor steal at most ${STEAL[$suite]:-0}%) of CPUs $SERVER_CPU,$CLIENT_CPU during any measured run of this suite (load average before the run: $LOAD_START)."
    if awk -v f="${FOREIGN[$suite]:-0}" -v s="${STEAL[$suite]:-0}" 'BEGIN { exit !(f > 5 || s > 5) }'; then
        echo "WARNING: the machine was not quiet; ops/s are unreliable (CPU/req less so). Rerun on an idle machine."
    fi
    echo "Error replies during measured runs: Larder ${ERRS[larder,$suite]:-0}, Redis ${ERRS[redis,$suite]:-0} (expected 0)."
    for label in $(mem_labels "$suite"); do
        echo "RSS growth per item while loading ($label; informational: after a FLUSHALL the allocator returns freed pages late): Larder ${MEMR[larder,$label]} B, Redis ${MEMR[redis,$label]} B."
    done
    case $suite in
        strings)
            for s in larder redis; do
                echo "$s: GET misses $(awk -v m="${SANITY[$s,misses]:-0}" -v g="${SANITY[$s,gets]:-0}" 'BEGIN { printf "%d of %d (%.2f%%)", m, g, g ? 100 * m / g : 0 }'), DBSIZE after the SET runs ${SANITY[$s,dbsize]} (expected $KEYS)"
            done ;;
        collections)
            echo "Memory rows: $MEM_ITEMS items each. ZRANGE: ZCARD $ZR_KEY after the runs Larder ${SANITY[larder,zcard]}, Redis ${SANITY[redis,zcard]} (expected $ZR_MEMBERS); LLEN mylist after the last LPOP run Larder ${SANITY[larder,llen]}, Redis ${SANITY[redis,llen]} (LPOP never ran on an empty list: topped up before each run)." ;;
        atomic)
            echo "Subscribers still subscribed after the runs: Larder ${SANITY[larder,numsub]:-–}, Redis ${SANITY[redis,numsub]:-–} (expected $PUB_SUBS). MULTI/EXEC: one request = one 5-command transaction, sent by scripts/resp-load.rs (the other rows by redis-benchmark)." ;;
    esac
    [ "$CALLGRIND" -eq 1 ] && echo "Ir/req: callgrind, $CG_N requests per row (keyspace $CG_KEYS), counters zeroed after setup."
done
exit 0
