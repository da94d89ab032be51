#!/usr/bin/env bash
# scripts/crash-test.sh - acknowledged writes against SIGKILL, per appendfsync policy.
#
# For each policy, scripts/crashtest.rs runs TRIALS trials on one data directory: clients send
# numbered INCRs (half of them inside MULTI/EXEC) over CONNS connections, the server is killed
# with SIGKILL after a random 200-1500 ms, restarted, and every acknowledged write is checked.
# Targets: `always` loses nothing in every trial; `everysec` at most about two seconds of
# writes; the server restarts every time (a torn tail is cut per aof-load-truncated).
#
# usage: scripts/crash-test.sh
# environment: TRIALS (20)  CONNS (4)  POLICIES ("always everysec")  RUSTC (rustc)
#              LARDER_BIN (target/release/larder, built here)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TRIALS=${TRIALS:-20}
CONNS=${CONNS:-4}
POLICIES=${POLICIES:-"always everysec"}
RUSTC=${RUSTC:-rustc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/larder-crash.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -z "${LARDER_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    LARDER_BIN=$ROOT/target/release/larder
fi
"$RUSTC" -O --edition 2021 -o "$WORK/crashtest" "$ROOT/scripts/crashtest.rs"
port=$(( 20000 + RANDOM % 10000 ))
status=0
for policy in $POLICIES; do
    dir=$WORK/$policy
    mkdir -p "$dir"
    "$WORK/crashtest" --bin "$LARDER_BIN" --dir "$dir" --policy "$policy" --trials "$TRIALS" \
        --conns "$CONNS" --port "$port" | tee "$WORK/$policy.out" | sed 's/^/  /' >&2
    summary=$(tail -1 "$WORK/$policy.out")
    echo "$summary"
    case "$policy" in
        always) grep -q ' lost_writes_max=0 ' <<<"$summary" || { echo "FAIL: appendfsync always lost acknowledged writes"; status=1; } ;;
        everysec) ms=$(sed -n 's/.*lost_ms_max=\([0-9]*\).*/\1/p' <<<"$summary"); [ "${ms:-99999}" -le 2500 ] || { echo "FAIL: everysec lost ${ms} ms of writes"; status=1; } ;;
    esac
    grep -q "restarts_ok=$TRIALS " <<<"$summary" || { echo "FAIL: not every restart succeeded"; status=1; }
    port=$((port + 1))
done
exit $status
