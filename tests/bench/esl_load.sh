#!/usr/bin/env bash
# Event socket benchmark (issue 5): calls per second through the switch with no event
# subscriber and with 10 subscribers to every event (`event plain ALL`), in one run, and the
# events per second those subscribers received. The subscribers are
# tests/src/bin/esl_count.rs (built here), which count frames at little cost to the host.
#
#   bash tests/bench/esl_load.sh            # rates 500-1600, 3 runs each way
#   BENCH_RATES="1000" bash tests/bench/esl_load.sh
#   BENCH_EVENTS="CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE" bash tests/bench/esl_load.sh
#                                           # what the subscribers ask for [ALL]
#
# It runs tests/bench/sip_load.sh (--skip-rtp --skip-direct) twice on the same binary; the
# switch listens for the event socket on its default 127.0.0.1:8021. Honours
# FERROSWITCH_BIN and CARGO_TARGET_DIR like sip_load.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
RATES=${BENCH_RATES:-"500 800 1000 1200 1400 1600"}
SUBSCRIBERS=${BENCH_SUBSCRIBERS:-10}
EVENTS=${BENCH_EVENTS:-ALL}
target=${CARGO_TARGET_DIR:-$PWD/target}
out_dir="$target/bench"
mkdir -p "$out_dir"
if [ -z "${FERROSWITCH_BIN:-}" ]; then
    cargo build --release -p ferroswitch -p mod_record -p mod_callcenter -p mod_espeak
    export FERROSWITCH_BIN="$target/release/ferroswitch"
fi
# The subscribers: tests/src/bin/esl_count.rs, light on the shared host.
cargo build --release -p ferroswitch-tests --bin esl_count
COUNTER="$target/release/esl_count"
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

echo "event socket benchmark, rates: $RATES, $SUBSCRIBERS subscribers to $EVENTS ($(date -u +%H:%M) UTC)"
run none
for i in $(seq "$SUBSCRIBERS"); do
    # shellcheck disable=SC2086 # the event names are words
    "$COUNTER" 8021 ClueCon $EVENTS >"$out_dir/esl_sub_$i.txt" &
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
# The cost: the highest clean rate with subscribers against without, and the switch's CPU
# per call at each rate both sides ran (mean of the runs), from the two summaries.
python3 - "$out_dir/esl_load_none.txt" "$out_dir/esl_load_subscribed.txt" <<'PY'
import re, sys
def runs(path):
    rates, best = {}, 0
    for line in open(path):
        m = re.match(r"\s*switch\s+(\d+) #\d+:.*?\s(\d+) us/call", line)
        if m:
            rates.setdefault(int(m.group(1)), []).append(int(m.group(2)))
        m = re.match(r"\s*highest clean rate \(cps\)\s+\S+\s+>?=?(\d+)", line)
        if m:
            best = int(m.group(1))
    return {r: sum(v) / len(v) for r, v in rates.items()}, best
try:
    (none, bn), (sub, bs) = runs(sys.argv[1]), runs(sys.argv[2])
except OSError as e:
    sys.exit(f"  no summary: {e}")
if bn:
    print(f"  cost on the highest clean rate: {bn} -> {bs} cps ({100 * (bn - bs) / bn:.0f}% fewer)")
for r in sorted(set(none) & set(sub)):
    print(f"  {r:5d} cps: switch CPU per call {none[r]:.0f} us without, {sub[r]:.0f} us with"
          f" subscribers (+{100 * (sub[r] - none[r]) / none[r]:.0f}%)")
PY
