#!/usr/bin/env bash
# Event socket benchmark (issue 5): calls per second through the switch with no event
# subscriber and with 10 subscribers to every event (`event plain ALL`), in one run, and the
# events per second those subscribers received.
#
#   bash tests/bench/esl_load.sh            # rates 500 1000 1500, 3 runs each way
#   BENCH_RATES="1000" bash tests/bench/esl_load.sh
#
# It runs tests/bench/sip_load.sh (--skip-rtp --skip-direct) twice on the same binary; the
# switch listens for the event socket on its default 127.0.0.1:8021. Honours
# FERROSWITCH_BIN and CARGO_TARGET_DIR like sip_load.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
RATES=${BENCH_RATES:-"500 1000 1500"}
SUBSCRIBERS=${BENCH_SUBSCRIBERS:-10}
target=${CARGO_TARGET_DIR:-$PWD/target}
out_dir="$target/bench"
mkdir -p "$out_dir"
if [ -z "${FERROSWITCH_BIN:-}" ]; then
    cargo build --release -p ferroswitch
    export FERROSWITCH_BIN="$target/release/ferroswitch"
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run() { # label
    BENCH_RATES="$RATES" BENCH_REPEAT=${BENCH_REPEAT:-3} \
        BENCH_OUT="$out_dir/esl_load_$1.txt" \
        bash tests/bench/sip_load.sh --skip-rtp --skip-direct --no-build >/dev/null 2>&1 || true
    grep -E "highest clean rate|switch CPU per call" "$out_dir/esl_load_$1.txt" \
        | sed "s/^/  $1: /"
}

echo "event socket benchmark, rates: $RATES, $SUBSCRIBERS subscribers ($(date -u +%H:%M) UTC)"
run none
for i in $(seq "$SUBSCRIBERS"); do
    python3 tests/bench/esl_subscriber.py 8021 ClueCon >"$out_dir/esl_sub_$i.txt" &
    pids+=("$!")
done
run subscribed
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait "${pids[@]}" 2>/dev/null || true
pids=()
total=0
secs=0
for i in $(seq "$SUBSCRIBERS"); do
    read -r _ n s <"$out_dir/esl_sub_$i.txt" || true
    total=$((total + ${n:-0}))
    secs=${s:-$secs}
done
echo "  events received by $SUBSCRIBERS subscribers: $total in about ${secs}s of load" \
    "($(python3 -c "print(int($total / max(float('${secs:-1}'), 1)))") events/s)"
