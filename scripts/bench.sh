#!/usr/bin/env bash
# scripts/bench.sh - Larder vs Redis 7.0 (Debian's redis-server) with redis-benchmark.
#
# usage: scripts/bench.sh [--callgrind] [--repeats R] [-h]
#
# For each server (Larder: target/release/larder --io-threads 1 --save "";
# Redis: redis-server --save "" --appendonly no), both pinned to CPU $SERVER_CPU
# and redis-benchmark pinned to CPU $CLIENT_CPU, on 127.0.0.1 and free ports:
#   1. bytes/key: FLUSHALL, INFO memory used_memory, load exactly $KEYS keys
#      (SET key:%012d <$VALUE_SIZE bytes>, via redis-cli --pipe; these are the
#      names redis-benchmark -r generates, so the GET runs below always hit),
#      check DBSIZE, (used_memory after - before) / $KEYS.
#   2. throughput, $REPEATS times, alternating the servers (and the order each
#      repeat): redis-benchmark -t set|get -c $CLIENTS -P 1|16 -n N -r $KEYS
#      -d $VALUE_SIZE --csv, one test per invocation; ops/s, and server CPU
#      time per request = delta(utime+stime of the whole process, all threads,
#      /proc/PID/stat) / N. Medians over the repeats are reported.
#   3. with --callgrind (off by default): each server is started again under
#      valgrind --tool=callgrind (pinned the same way), preloaded with
#      $CG_KEYS keys, and for each row: callgrind_control -z PID (zero the
#      counters), run $CG_N requests (-r $CG_KEYS), callgrind_control -d PID
#      (dump), read the "summary:" Ir total of the new dump file, divide by
#      $CG_N. That is user-space instructions of all server threads per request,
#      including the 50 connection set-ups and the server's timers (cron) for
#      the duration of the run. One run (instruction counts barely vary).
#
# Environment (defaults):
#   LARDER_BIN   (<repo>/target/release/larder)   REDIS_SERVER (redis-server)
#   REPEATS (3)  N1 (200000: requests at -P 1)    N16 (2000000: requests at -P 16)
#   CLIENTS (50) KEYS (1000000)  VALUE_SIZE (100)
#   CG_N (20000) CG_KEYS (100000)
#   SERVER_CPU (1)  CLIENT_CPU (0)
#   LARDER_ARGS  extra Larder arguments;  REDIS_ARGS  extra redis-server arguments
#   BENCH_TIMEOUT (180: seconds allowed for each redis-benchmark / load step)
# Default runtime: about 1.5 minutes (plus about 2-3 minutes with --callgrind).
#
# Output: a Markdown table on stdout; progress and raw per-repeat numbers on stderr.
# Below the table: the share of the two CPUs used by OTHER processes during the
# measured runs (from /proc/stat minus server and redis-benchmark time; above 5%
# prints a WARNING: ops/s are then not comparable), and sanity checks: GET misses
# (should be 0: every key is preloaded) and DBSIZE after the SET runs (should
# still be $KEYS: SETs only overwrite).

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
CG_N=${CG_N:-20000}
CG_KEYS=${CG_KEYS:-100000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
LARDER_ARGS=${LARDER_ARGS:-}
REDIS_ARGS=${REDIS_ARGS:-}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}
CALLGRIND=0

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }

while [ $# -gt 0 ]; do
    case $1 in
        --callgrind) CALLGRIND=1 ;;
        --repeats) shift; REPEATS=${1:?--repeats needs a value} ;;
        --repeats=*) REPEATS=${1#*=} ;;
        -h|--help) usage ;;
        *) echo "bench.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done

for v in REPEATS N1 N16 CLIENTS KEYS VALUE_SIZE CG_N CG_KEYS SERVER_CPU CLIENT_CPU BENCH_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 0 ] || die "$v must be a non-negative integer (got '${!v}')"
done
[ "$REPEATS" -ge 1 ] && [ "$N1" -ge 1 ] && [ "$N16" -ge 1 ] && [ "$KEYS" -ge 1 ] \
    || die "REPEATS, N1, N16 and KEYS must be >= 1"

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

# ---------------------------------------------------------------- state + cleanup
WORK=$(mktemp -d -t larder-bench.XXXXXX)
declare -A PID PORT
cleanup() {
    local s p
    for s in "${!PID[@]}"; do
        p=${PID[$s]}
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
        kill "$p" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

port_busy() {   # any socket (listening, connected, TIME-WAIT) on 127.0.0.1:PORT?
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Htan "( sport = :$1 or dport = :$1 )" 2>/dev/null)" ] && return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
pick_port() {   # a free port below the ephemeral range, not already handed out
    local lo=10000 hi p i
    hi=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
    [ "$hi" -gt "$((lo + 1000))" ] || { lo=20000; hi=29999; }
    for ((i = 0; i < 200; i++)); do
        p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
        [[ " ${PORT[*]:-} " == *" $p "* ]] && continue
        port_busy "$p" || { echo "$p"; return 0; }
    done
    die "no free port found"
}

rcli() { redis-cli -h 127.0.0.1 -p "${PORT[$1]}" "${@:2}"; }

# start_server NAME [WRAPPER...] : starts server NAME (larder|redis), pinned.
start_server() {
    local try
    for try in 1 2 3; do
        start_server_once "$@" && return 0
        log "$1: start attempt $try failed, retrying on another port"
    done
    tail -20 "$WORK/$1/stdout.log" >&2
    die "$1 did not start"
}
start_server_once() {
    local s=$1; shift
    local port; port=$(pick_port); PORT[$s]=$port
    local dir=$WORK/$s; mkdir -p "$dir"
    local cmd
    if [ "$s" = larder ]; then
        # shellcheck disable=SC2206
        cmd=("$LARDER_BIN" --port "$port" --bind 127.0.0.1 --io-threads 1 --save "" --dir "$dir" $LARDER_ARGS)
    else
        # shellcheck disable=SC2206
        cmd=("$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" $REDIS_ARGS)
    fi
    (cd "$dir" && exec taskset -c "$SERVER_CPU" "$@" "${cmd[@]}") >"$dir/stdout.log" 2>&1 &
    PID[$s]=$!
    local wait_s=10; [ $# -gt 0 ] && wait_s=120   # valgrind starts slowly
    local i
    for ((i = 0; i < wait_s * 10; i++)); do
        [ "$(rcli "$s" ping 2>/dev/null)" = PONG ] && { log "$s: pid ${PID[$s]} port $port"; return 0; }
        kill -0 "${PID[$s]}" 2>/dev/null || break
        sleep 0.1
    done
    log "$s did not answer PING: ${cmd[*]}"
    stop_server "$s"
    return 1
}
stop_server() {
    local s=$1 p=${PID[$1]:-}
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    PID[$s]=""
}

cpu_ticks() {   # utime+stime (clock ticks) of the whole process, all threads
    local st; st=$(cat "/proc/$1/stat") || die "process $1 is gone"
    st=${st##*) }                       # drop "pid (comm) "; field 3 (state) is now $1
    awk '{ print $12 + $13 }' <<<"$st"  # fields 14 and 15: utime, stime
}

stat_field() { rcli "$1" info stats | tr -d '\r' | awk -F: -v f="$2" '$1 == f { v = $2 } END { print v + 0 }'; }
mem_used() { rcli "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
mem_rss() { rcli "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory_rss" { print $2 }'; }

# load_keys NAME COUNT : exactly COUNT keys key:%012d with VALUE_SIZE-byte values
load_keys() {
    local s=$1 n=$2 out
    out=$(taskset -c "$CLIENT_CPU" awk -v n="$n" -v size="$VALUE_SIZE" 'BEGIN {
            v = sprintf("%" size "s", ""); gsub(/ /, "x", v)
            for (i = 0; i < n; i++)
                printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, size, v
          }' | timeout "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" \
              redis-cli -h 127.0.0.1 -p "${PORT[$s]}" --pipe 2>&1) \
        || die "$s: loading keys failed: $out"
    grep -q "errors: 0, replies: $n" <<<"$out" || die "$s: load reply: $out"
    local db; db=$(rcli "$s" dbsize)
    [ "$db" = "$n" ] || die "$s: DBSIZE is $db after loading $n keys"
}

# bench NAME TEST PIPELINE N KEYSPACE -> "ops_per_s" on stdout
bench() {
    local s=$1 t=$2 p=$3 n=$4 r=$5 out rps
    out=$(timeout "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 \
            -p "${PORT[$s]}" -t "$t" -c "$CLIENTS" -P "$p" -n "$n" -r "$r" -d "$VALUE_SIZE" \
            --csv 2>"$WORK/bench.err") \
        || die "$s: redis-benchmark -t $t -P $p failed or timed out: $(cat "$WORK/bench.err") $out"
    rps=$(awk -F, -v T="\"${t^^}\"" '$1 == T { gsub(/"/, "", $2); print $2 }' <<<"$out")
    [ -n "$rps" ] || die "$s: cannot parse redis-benchmark output: $out"
    echo "$rps"
}

# Busy and steal clock ticks of the two CPUs used (from /proc/stat), to detect other work
# sharing them: foreign = busy - server ticks - redis-benchmark ticks.
cpus_busy() { awk -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" '$1 == a || $1 == b {
    busy += $2 + $3 + $4; steal += $9; all += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }
    END { print busy, steal, all }' /proc/stat; }
# CPU ticks used so far by this shell's finished children (bash "times", second line);
# "times" must run in this shell, not in a $(...) subshell.
children_ticks() { times > "$WORK/times"; awk -v hz="$HZ" 'NR == 2 { t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.0f", t * hz }' "$WORK/times"; }

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

ROWS=("set 1" "get 1" "set 16" "get 16")
row_name() { local t p; read -r t p <<<"$1"; echo "${t^^} p$p"; }
row_n() { local t p; read -r t p <<<"$1"; [ "$p" = 1 ] && echo "$N1" || echo "$N16"; }

declare -A RPS CPU BPK RSSK IR MISSES GETS DBSIZE_END    # RPS[srv,row] = "v1 v2 ..." ; CPU likewise (µs/req)

# ---------------------------------------------------------------- header
log "Larder: $LARDER_BIN ($("$LARDER_BIN" --version 2>/dev/null | head -1 || echo '?'))"
log "Redis:  $(command -v "$REDIS_SERVER") ($("$REDIS_SERVER" --version | head -1))"
log "redis-benchmark: $(redis-benchmark --version 2>/dev/null | head -1)"
log "servers on CPU $SERVER_CPU, redis-benchmark on CPU $CLIENT_CPU; repeats=$REPEATS N(p1)=$N1 N(p16)=$N16 clients=$CLIENTS keys=$KEYS value=${VALUE_SIZE}B"

busy_warning() {   # other processes competing for the two CPUs make ops/s meaningless
    local la; la=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$la" 'BEGIN { exit !(l > 0.5) }'; then
        log "WARNING: load average is $la $1: other processes are using the CPUs; ops/s (and, less so, CPU/req) will be noisy"
        echo "$la"
    fi
}
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
busy_warning "before the run" >/dev/null || true
FOREIGN_MAX=0 STEAL_MAX=0

# ---------------------------------------------------------------- 1. bytes per key
start_server larder
start_server redis
for s in larder redis; do
    rcli "$s" flushall >/dev/null
    sleep 1
    m0=$(mem_used "$s"); r0=$(mem_rss "$s")
    t0=$(date +%s.%N)
    load_keys "$s" "$KEYS"
    sleep 1    # let any periodically refreshed memory statistics catch up
    m1=$(mem_used "$s"); r1=$(mem_rss "$s")
    t1=$(date +%s.%N)
    BPK[$s]=$(awk -v a="$m0" -v b="$m1" -v n="$KEYS" 'BEGIN { printf "%.1f", (b - a) / n }')
    RSSK[$s]=$(awk -v a="$r0" -v b="$r1" -v n="$KEYS" 'BEGIN { printf "%.1f", (b - a) / n }')
    log "$s: used_memory $m0 -> $m1 (${BPK[$s]} B/key; rss ${RSSK[$s]} B/key), load $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a - 1 }') s"
done

# ---------------------------------------------------------------- 2. throughput + CPU/request
for ((rep = 1; rep <= REPEATS; rep++)); do
    if (( rep % 2 )); then order=(larder redis); else order=(redis larder); fi
    for row in "${ROWS[@]}"; do
        read -r t p <<<"$row"; n=$(row_n "$row")
        for s in "${order[@]}"; do
            m0=$(stat_field "$s" keyspace_misses)
            read -r b0 st0 a0 < <(cpus_busy)
            children_ticks > "$WORK/k0"; k0=$(cat "$WORK/k0")
            c0=$(cpu_ticks "${PID[$s]}")
            bench "$s" "$t" "$p" "$n" "$KEYS" > "$WORK/rps"    # not $(...): "times" must see it
            c1=$(cpu_ticks "${PID[$s]}")
            children_ticks > "$WORK/k1"; k1=$(cat "$WORK/k1")
            read -r b1 st1 a1 < <(cpus_busy)
            rps=$(cat "$WORK/rps")
            foreign=$(awk -v b=$((b1 - b0)) -v s=$((c1 - c0)) -v k=$((k1 - k0)) -v a=$((a1 - a0)) \
                'BEGIN { f = (b - s - k) / (a > 0 ? a : 1) * 100; printf "%.1f", f < 0 ? 0 : f }')
            steal=$(awk -v st=$((st1 - st0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.1f", st / (a > 0 ? a : 1) * 100 }')
            FOREIGN_MAX=$(awk -v x="$foreign" -v m="${FOREIGN_MAX:-0}" 'BEGIN { print (x > m ? x : m) }')
            STEAL_MAX=$(awk -v x="$steal" -v m="${STEAL_MAX:-0}" 'BEGIN { print (x > m ? x : m) }')
            MISSES[$s]=$(( ${MISSES[$s]:-0} + $(stat_field "$s" keyspace_misses) - m0 ))
            [ "$t" = get ] && GETS[$s]=$(( ${GETS[$s]:-0} + n ))
            us=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')
            RPS[$s,$row]="${RPS[$s,$row]:-} $rps"; CPU[$s,$row]="${CPU[$s,$row]:-} $us"
            log "rep $rep $(row_name "$row") $s: $rps ops/s, $us us CPU/req ($((c1 - c0)) server ticks, $((k1 - k0)) client ticks; other work ${foreign}% and steal ${steal}% of CPUs $SERVER_CPU,$CLIENT_CPU)"
        done
    done
done
for s in larder redis; do DBSIZE_END[$s]=$(rcli "$s" dbsize); done
stop_server larder
stop_server redis

# ---------------------------------------------------------------- 3. callgrind (optional)
if [ "$CALLGRIND" -eq 1 ]; then
    for s in larder redis; do
        cgdir=$WORK/cg-$s; mkdir -p "$cgdir"
        start_server "$s" valgrind --tool=callgrind --callgrind-out-file="$cgdir/cg.%p" --dump-instr=no
        load_keys "$s" "$CG_KEYS"
        for row in "${ROWS[@]}"; do
            read -r t p <<<"$row"
            callgrind_control -z "${PID[$s]}" >/dev/null 2>&1
            bench "$s" "$t" "$p" "$CG_N" "$CG_KEYS" >/dev/null
            before=$(ls "$cgdir" | wc -l)
            callgrind_control -d "${PID[$s]}" >/dev/null 2>&1
            for _ in $(seq 100); do [ "$(ls "$cgdir" | wc -l)" -gt "$before" ] && break; sleep 0.1; done
            f=$(ls -t "$cgdir"/cg.* | head -1)
            ir=$(awk '/^summary:/ { print $2; exit }' "$f")
            [ -n "$ir" ] || die "$s: no summary line in $f"
            IR[$s,$row]=$(awk -v a="$ir" -v n="$CG_N" 'BEGIN { printf "%.0f", a / n }')
            log "callgrind $(row_name "$row") $s: $ir Ir / $CG_N = ${IR[$s,$row]} Ir/req"
        done
        stop_server "$s"
    done
fi

# ---------------------------------------------------------------- report
fmt_int() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo
echo "Larder vs Redis $("$REDIS_SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(date -u +%Y-%m-%d), median of $REPEATS, $CLIENTS clients, ${VALUE_SIZE}-byte values, N=$N1 (p1) / $N16 (p16); servers on CPU $SERVER_CPU, redis-benchmark on CPU $CLIENT_CPU"
echo
hdr="| | Larder ops/s | Redis ops/s | ratio | Larder µs CPU/req | Redis µs CPU/req |"
sep="|---|---:|---:|---:|---:|---:|"
if [ "$CALLGRIND" -eq 1 ]; then
    hdr="$hdr Larder Ir/req | Redis Ir/req |"; sep="$sep---:|---:|"
fi
echo "$hdr"; echo "$sep"
for row in "${ROWS[@]}"; do
    lr=$(tr ' ' '\n' <<<"${RPS[larder,$row]}" | grep . | median)
    rr=$(tr ' ' '\n' <<<"${RPS[redis,$row]}" | grep . | median)
    lc=$(tr ' ' '\n' <<<"${CPU[larder,$row]}" | grep . | median)
    rc=$(tr ' ' '\n' <<<"${CPU[redis,$row]}" | grep . | median)
    line="| $(row_name "$row") | $(fmt_int "$lr") | $(fmt_int "$rr") | $(ratio "$lr" "$rr") | $(printf '%.2f' "$lc") | $(printf '%.2f' "$rc") |"
    [ "$CALLGRIND" -eq 1 ] && line="$line ${IR[larder,$row]} | ${IR[redis,$row]} |"
    echo "$line"
done
# For bytes/key the ratio is Larder/Redis too: lower is better there.
line="| bytes/key (used_memory) | ${BPK[larder]} | ${BPK[redis]} | $(ratio "${BPK[larder]}" "${BPK[redis]}") | | |"
[ "$CALLGRIND" -eq 1 ] && line="$line | |"
echo "$line"
echo
echo "ratio = Larder/Redis (higher is better for ops/s, lower is better for bytes/key)."
echo "Other processes used at most ${FOREIGN_MAX}% (hypervisor steal at most ${STEAL_MAX}%) of CPUs $SERVER_CPU,$CLIENT_CPU during any measured run (load average before the run: $LOAD_START)."
if awk -v f="$FOREIGN_MAX" -v s="$STEAL_MAX" 'BEGIN { exit !(f > 5 || s > 5) }'; then
    echo "WARNING: the machine was not quiet; ops/s are unreliable (CPU/req less so). Rerun on an idle machine."
fi
echo "RSS growth per key while loading: Larder ${RSSK[larder]} B, Redis ${RSSK[redis]} B."
# Sanity checks: every GET should hit (all keys are preloaded) and SETs only overwrite.
for s in larder redis; do
    echo "$s: GET misses $(awk -v m="${MISSES[$s]:-0}" -v g="${GETS[$s]:-0}" 'BEGIN { printf "%d of %d (%.2f%%)", m, g, g ? 100 * m / g : 0 }'), DBSIZE after the SET runs ${DBSIZE_END[$s]} (expected $KEYS)"
done
[ "$CALLGRIND" -eq 1 ] && echo "Ir/req: callgrind, $CG_N requests per row over $CG_KEYS preloaded keys, counters zeroed after preload."
exit 0
