# scripts/bench-lib.sh - helpers for scripts/bench.sh (sourced, not run).
# Uses bench.sh's configuration variables (PORT, PID, WORK, SERVER_CPU, ...).
# shellcheck shell=bash

die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }

# ---------------------------------------------------------------- state + cleanup
declare -A PID PORT SUBS   # SUBS[srv] = "pid pid ..." of its background subscribers
cleanup() {
    local s p
    for s in "${!SUBS[@]}"; do stop_subscribers "$s"; done
    for s in "${!PID[@]}"; do
        p=${PID[$s]}
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
        kill "$p" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
}

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

rcli() { timeout --foreground 60 redis-cli -h 127.0.0.1 -p "${PORT[$1]}" "${@:2}"; }

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
    (cd "$dir" && exec setsid taskset -c "$SERVER_CPU" "$@" "${cmd[@]}") >"$dir/stdout.log" 2>&1 &
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
    stop_subscribers "$s"
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    PID[$s]=""
}

# ---------------------------------------------------------------- subscribers (PUBLISH row)
# start_subscribers NAME COUNT : COUNT `redis-cli subscribe $PUB_CHANNEL` processes on the
# client CPU, output discarded; returns 1 (with a message on stdout) unless PUBSUB NUMSUB
# reaches COUNT within 10 s.
start_subscribers() {
    local s=$1 k=$2 i got=
    for ((i = 0; i < k; i++)); do
        taskset -c "$CLIENT_CPU" redis-cli -h 127.0.0.1 -p "${PORT[$s]}" subscribe "$PUB_CHANNEL" >/dev/null 2>&1 &
        SUBS[$s]="${SUBS[$s]:-} $!"
    done
    for ((i = 0; i < 100; i++)); do
        got=$(pubsub_numsub "$s")
        [ "$got" = "$k" ] && return 0
        sleep 0.1
    done
    echo "PUBSUB NUMSUB $PUB_CHANNEL is '$got', expected $k"
    return 1
}
pubsub_numsub() { rcli "$1" pubsub numsub "$PUB_CHANNEL" 2>/dev/null | sed -n 2p; }
stop_subscribers() {
    local s=$1 p
    for p in ${SUBS[$s]:-}; do kill "$p" 2>/dev/null || true; done
    for p in ${SUBS[$s]:-}; do wait "$p" 2>/dev/null || true; done
    SUBS[$s]=""
}
subscriber_ticks() {   # CPU ticks of the running subscribers of every server
    local s p t=0 st
    for s in "${!SUBS[@]}"; do
        for p in ${SUBS[$s]:-}; do
            st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
            st=${st##*) }
            t=$(( t + $(awk '{ print $12 + $13 }' <<<"$st") ))
        done
    done
    echo "$t"
}

# ---------------------------------------------------------------- measurements
cpu_ticks() {   # utime+stime (clock ticks) of the whole process, all threads
    local st; st=$(cat "/proc/$1/stat") || die "process $1 is gone"
    st=${st##*) }                       # drop "pid (comm) "; field 3 (state) is now $1
    awk '{ print $12 + $13 }' <<<"$st"  # fields 14 and 15: utime, stime
}

info_field() { rcli "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { v = $2 } END { print v + 0 }'; }
stat_field() { info_field "$1" stats "$2"; }
mem_used() { info_field "$1" memory used_memory; }
mem_rss() { info_field "$1" memory used_memory_rss; }
is_error_reply() {   # redis-cli (not a tty) prints error replies as "CODE message", exit 0
    [[ $1 =~ ^(ERR|WRONGTYPE|NOSCRIPT|NOPERM|NOAUTH|BUSY|LOADING|OOM|EXECABORT|[A-Z]+\ )|^Could\ not|^Error ]]
}

# pipe_load NAME REPLIES WHAT : feeds stdin to redis-cli --pipe, expects REPLIES replies, no error
pipe_load() {
    local s=$1 n=$2 what=$3 out
    out=$(timeout --foreground "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" \
              redis-cli -h 127.0.0.1 -p "${PORT[$s]}" --pipe 2>&1) \
        || die "$s: loading $what failed or timed out: $out"
    grep -q "errors: 0, replies: $n\$" <<<"$out" || die "$s: loading $what: $out"
}

# load_keys NAME COUNT : exactly COUNT keys key:%012d with VALUE_SIZE-byte values
load_keys() {
    local s=$1 n=$2 db
    taskset -c "$CLIENT_CPU" awk -v n="$n" -v size="$VALUE_SIZE" 'BEGIN {
            v = sprintf("%" size "s", ""); gsub(/ /, "x", v)
            for (i = 0; i < n; i++)
                printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, size, v
          }' | pipe_load "$s" "$n" "$n keys"
    db=$(rcli "$s" dbsize)
    [ "$db" = "$n" ] || die "$s: DBSIZE is $db after loading $n keys"
}

# load_hashes NAME COUNT : COUNT hashes cache:product:p-<i> with 4 short fields
load_hashes() {
    local s=$1 n=$2 db len
    taskset -c "$CLIENT_CPU" awk -v n="$n" 'function b(x) { return "$" length(x) "\r\n" x "\r\n" }
        BEGIN {
            for (i = 0; i < n; i++)
                printf "*10\r\n$4\r\nHSET\r\n%s$4\r\nname\r\n%s$5\r\nprice\r\n%s$5\r\nstock\r\n%s$8\r\ncategory\r\n%s",
                    b("cache:product:p-" i), b("Product " i), b(sprintf("%d.%02d", i % 500, i % 100)),
                    b(i % 1000), b("category-" (i % 40))
        }' | pipe_load "$s" "$n" "$n hashes"
    db=$(rcli "$s" dbsize); len=$(rcli "$s" hlen "cache:product:p-$((n - 1))")
    [ "$db" = "$n" ] && [ "$len" = 4 ] || die "$s: DBSIZE $db / HLEN $len after loading $n hashes"
}

# load_zset NAME KEY COUNT BATCH : one sorted set KEY of COUNT members member:<i>, pseudo-random
# integer scores (the same on both servers), ZADD with BATCH members per command
load_zset() {
    local s=$1 key=$2 n=$3 batch=$4 card
    taskset -c "$CLIENT_CPU" awk -v n="$n" -v bs="$batch" -v key="$key" 'BEGIN {
            srand(42)
            for (i = 0; i < n; i += bs) {
                m = (n - i < bs) ? n - i : bs
                printf "*%d\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n", 2 + 2 * m, length(key), key
                for (j = i; j < i + m; j++) {
                    sc = int(rand() * 1000000000); mem = "member:" j
                    printf "$%d\r\n%d\r\n$%d\r\n%s\r\n", length(sc), sc, length(mem), mem
                }
            }
        }' | pipe_load "$s" $(( (n + batch - 1) / batch )) "$n sorted-set members"
    card=$(rcli "$s" zcard "$key")
    [ "$card" = "$n" ] || die "$s: ZCARD $key is $card after adding $n members"
}

# top_up_list NAME KEY COUNT : RPUSH VALUE_SIZE-byte elements until LLEN KEY >= COUNT
top_up_list() {
    local s=$1 key=$2 want=$3 have need
    have=$(rcli "$s" llen "$key"); need=$(( want - have ))
    [ "$need" -gt 0 ] || return 0
    taskset -c "$CLIENT_CPU" awk -v n="$need" -v size="$VALUE_SIZE" -v key="$key" 'BEGIN {
            v = sprintf("%" size "s", ""); gsub(/ /, "x", v)
            for (i = 0; i < n; i += 100) {
                m = (n - i < 100) ? n - i : 100
                printf "*%d\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n", 2 + m, length(key), key
                for (j = 0; j < m; j++) printf "$%d\r\n%s\r\n", size, v
            }
        }' | pipe_load "$s" $(( (need + 99) / 100 )) "$need list elements"
}

# rb NAME TITLE PIPELINE N KEYSPACE ARGS... -> ops/s on stdout (one redis-benchmark test:
# either "-t name" with TITLE its upper-case name, or a positional command line with TITLE
# that line, as redis-benchmark names them in --csv output)
rb() {
    local s=$1 title=$2 p=$3 n=$4 r=$5 out rps; shift 5
    out=$(timeout --foreground "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 \
            -p "${PORT[$s]}" -c "$CLIENTS" -P "$p" -n "$n" -r "$r" --csv "$@" 2>"$WORK/bench.err") \
        || die "$s: redis-benchmark $* -P $p failed or timed out: $(cat "$WORK/bench.err") $out"
    rps=$(awk -F'","' -v T="$title" '{ t = $1; sub(/^"/, "", t) } t == T { print $2 }' <<<"$out")
    [ -n "$rps" ] || die "$s: cannot parse redis-benchmark output: $out"
    echo "$rps"
}

# rl NAME PIPELINE N KEYSPACE CMD... -> units/s on stdout (scripts/resp-load.rs)
rl() {
    local s=$1 p=$2 n=$3 r=$4 out; shift 4
    out=$(timeout --foreground "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" "$RESP_LOAD" -h 127.0.0.1 -p "${PORT[$s]}" \
            -c "$CLIENTS" -P "$p" -n "$n" -r "$r" --timeout "$BENCH_TIMEOUT" "$@" 2>"$WORK/bench.err") \
        || die "$s: resp-load $* -P $p failed or timed out: $(cat "$WORK/bench.err") $out"
    grep -q ' errors=0 nested_errors=0 nils=0 ' <<<"$out" || log "$s: resp-load reported failures: $out"
    sed -n 's/.* rps=\([0-9.]*\) .*/\1/p' <<<"$out"
}

# Busy and steal clock ticks of the two CPUs used (from /proc/stat), to detect other work
# sharing them: foreign = busy - server ticks - client ticks.
cpus_busy() { awk -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" '$1 == a || $1 == b {
    busy += $2 + $3 + $4; steal += $9; all += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }
    END { print busy, steal, all }' /proc/stat; }
# CPU ticks used so far by this shell's finished children (bash "times", second line);
# "times" must run in this shell, not in a $(...) subshell.
children_ticks() { times > "$WORK/times"; awk -v hz="$HZ" 'NR == 2 { t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.0f", t * hz }' "$WORK/times"; }

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
med() { tr ' ' '\n' <<<"${1:-}" | { grep . || true; } | median; }
fmax() { awk -v x="$1" -v m="${2:-0}" 'BEGIN { print (x > m ? x : m) }'; }
fmt_int() { awk -v x="$1" 'BEGIN { if (x == "nan" || x == "") print "–"; else printf "%.0f", x }'; }
fmt_2() { awk -v x="$1" 'BEGIN { if (x == "nan" || x == "") print "–"; else printf "%.2f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && a != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

busy_warning() {   # other processes competing for the two CPUs make ops/s meaningless
    local la; la=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$la" 'BEGIN { exit !(l > 0.5) }'; then
        log "WARNING: load average is $la $1: other processes are using the CPUs; ops/s (and, less so, CPU/req) will be noisy"
    fi
}
