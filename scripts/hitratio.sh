#!/usr/bin/env bash
# scripts/hitratio.sh - cache hit ratio per eviction policy, Larder against redis-server.
#
# The workload of a cache tier: GET a key drawn from a Zipf distribution, SET it (1000-byte
# value) on a miss; REQUESTS requests over KEYS keys, maxmemory at a tenth of the data. Every
# server gets the identical request stream (scripts/hitratio.rs, fixed seed), a fresh process
# per run, default settings otherwise (maxmemory-samples 5). A second connection samples
# used_memory during the run; the table reports the largest value seen against maxmemory.
#
# usage: scripts/hitratio.sh            (the full run: about 10 runs of ~40 s)
# environment:
#   REQUESTS (10000000)  KEYS (1000000)  VALUE (1000)  SKEWS ("0.8 1.0")
#   MAXMEMORY (KEYS*VALUE/10)  PIPELINE (64)  SEED (42)
#   LARDER_POLICIES ("allkeys-lru allkeys-lfu allkeys-tinylfu")
#   REDIS_POLICIES ("allkeys-lru allkeys-lfu")
#   REDIS_SERVER (redis-server on PATH; its rows are skipped, loudly, when absent)
#   SERVER_CPU (1) CLIENT_CPU (0)  RUSTC (rustc)  LARDER_BIN (target/release/larder, built here)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${REQUESTS:-10000000}
KEYS=${KEYS:-1000000}
VALUE=${VALUE:-1000}
SKEWS=${SKEWS:-"0.8 1.0"}
MAXMEMORY=${MAXMEMORY:-$((KEYS * VALUE / 10))}
PIPELINE=${PIPELINE:-64}
SEED=${SEED:-42}
LARDER_POLICIES=${LARDER_POLICIES:-"allkeys-lru allkeys-lfu allkeys-tinylfu"}
REDIS_POLICIES=${REDIS_POLICIES:-"allkeys-lru allkeys-lfu"}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
RUSTC=${RUSTC:-rustc}
LARDER_ARGS=""
REDIS_ARGS=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/larder-hitratio.XXXXXX")
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for v in REQUESTS KEYS VALUE MAXMEMORY PIPELINE SEED SERVER_CPU CLIENT_CPU; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
command -v redis-cli >/dev/null || die "redis-cli is needed (apt-get install redis-tools)"
command -v "$RUSTC" >/dev/null || die "no rustc to build scripts/hitratio.rs"
"$RUSTC" -O --edition 2021 -o "$WORK/hitratio" "$ROOT/scripts/hitratio.rs" 2>"$WORK/rustc.err" \
    || die "scripts/hitratio.rs did not compile: $(head -3 "$WORK/rustc.err")"
if [ -z "${LARDER_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
    LARDER_BIN=$ROOT/target/release/larder
fi
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
if [ -z "$REDIS_SERVER" ]; then
    echo "!!! redis-server not found: Redis rows are SKIPPED (apt-get install redis-server)" >&2
    REDIS_POLICIES=""
fi

declare -A RATIO
ROWS=()
run_one() {   # SERVER POLICY SKEW
    local s=$1 policy=$2 skew=$3 out
    if [ "$s" = larder ]; then LARDER_ARGS="--maxmemory $MAXMEMORY --maxmemory-policy $policy"
    else REDIS_ARGS="--maxmemory $MAXMEMORY --maxmemory-policy $policy"; fi
    start_server "$s"
    out=$(timeout 1800 taskset -c "$CLIENT_CPU" "$WORK/hitratio" -p "${PORT[$s]}" -n "$REQUESTS" -k "$KEYS" \
        -s "$skew" -d "$VALUE" -P "$PIPELINE" --seed "$SEED") || die "$s $policy: hitratio failed: $out"
    stop_server "$s"
    log "$s $policy skew $skew: $out"
    local field ratio maxused held ideal exact errors
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $out"; }
    ratio=$(field hit_ratio); maxused=$(field max_used_memory); held=$(field keys_held)
    ideal=$(field ideal); exact=$(field lfu_exact); errors=$(field set_errors)
    RATIO[$s/$policy/$skew]=$ratio
    ROWS+=("$(printf '| %s | %s | %s | %.2f%% | %.2f%% | %s | %.2f%% | %.2f%% | %s |' "$skew" "$s" "$policy" \
        "$(awk "BEGIN{print $ratio*100}")" "$(awk "BEGIN{print $maxused*100/$MAXMEMORY}")" "$held" \
        "$(awk "BEGIN{print $exact*100}")" "$(awk "BEGIN{print $ideal*100}")" "$errors")")
}

for skew in $SKEWS; do
    for p in $LARDER_POLICIES; do run_one larder "$p" "$skew"; done
    for p in $REDIS_POLICIES; do run_one redis "$p" "$skew"; done
done

REDIS_VERSION=$([ -n "$REDIS_SERVER" ] && "$REDIS_SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p' || echo none)
echo "Hit ratio, Larder vs Redis $REDIS_VERSION, $(date -u +%Y-%m-%d): $REQUESTS requests over $KEYS keys of $VALUE bytes, Zipf, maxmemory $MAXMEMORY, seed $SEED"
echo
echo "| skew | server | policy | hit ratio | peak used_memory / maxmemory | keys held | exact LFU, K keys | oracle top-K | SET errors |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
pt() { awk "BEGIN{printf \"%+.2f\", ($1 - $2) * 100}"; }
for skew in $SKEWS; do
    line="skew $skew:"
    for p in allkeys-lru allkeys-lfu; do
        [ -n "${RATIO[larder/$p/$skew]:-}" ] && [ -n "${RATIO[redis/$p/$skew]:-}" ] \
            && line+=" $p Larder-Redis $(pt "${RATIO[larder/$p/$skew]}" "${RATIO[redis/$p/$skew]}") pts;"
    done
    best=""
    for p in $REDIS_POLICIES; do
        r=${RATIO[redis/$p/$skew]}
        [ -z "$best" ] || awk "BEGIN{exit !($r > $best)}" && best=$r
    done
    [ -n "$best" ] && [ -n "${RATIO[larder/allkeys-tinylfu/$skew]:-}" ] \
        && line+=" allkeys-tinylfu vs best Redis policy $(pt "${RATIO[larder/allkeys-tinylfu/$skew]}" "$best") pts"
    echo "$line"
done
