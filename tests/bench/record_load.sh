#!/usr/bin/env bash
# Calls per second with mod_record recording every call vs no recording, in one run of one
# switch (issue 6), on loopback.
#
#   bash tests/bench/record_load.sh           # rates 100 200 300 400 600 800, 10 s each
#   BENCH_RATES="100 200" bash tests/bench/record_load.sh
#
# Builds the release binary and mod_record (cargo build --release; $FERROSWITCH_BIN skips it,
# the modules are then looked for beside that binary), starts the switch with conf/ plus a
# dialplan where 8100 is ["answer", "echo"] and 8101 is ["answer", "record_session
# bench/${uuid}.wav", "echo"] (mono WAV of the whole call), then for each rate runs SIPp
# (uac_1s.xml: INVITE, 200, ACK, 1 s, BYE; no RTP sent: the switch records what it makes,
# silence included, 50 frames a second) at that rate for BENCH_SECS seconds, first to 8100,
# then to 8101. A step is clean when every call succeeded. Reported per step and extension:
# calls ok/failed, the rate SIPp achieved, the switch's CPU per call (utime+stime), the WAV
# files written (and that each one holds about 1 s). Output in $BENCH_OUT (default
# target/bench/record_load.txt), scratch in target/bench/record_work/.

set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
STATS="python3 $BENCH_DIR/bench_stats.py"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
OUT=${BENCH_OUT:-$REPO/target/bench/record_load.txt}
WORK="$REPO/target/bench/record_work"
RATES=${BENCH_RATES:-"100 200 300 400 600 800"}
SECS=${BENCH_SECS:-10}
PORT=${BENCH_PORT_BASE:-7300}
CLK_TCK=$(getconf CLK_TCK)
PIDS=()

die() { echo "record_load.sh: $*" >&2; exit 1; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"

if [[ -n ${FERROSWITCH_BIN:-} ]]; then
    BIN=$FERROSWITCH_BIN
else
    (cd "$REPO" && cargo build --release -q -p ferroswitch -p mod_record) || die "build failed"
    BIN=$TARGET/release/ferroswitch
fi
[[ -x $BIN ]] || die "no binary at $BIN"

rm -rf "$WORK" && mkdir -p "$WORK/conf" "$WORK/rec" "$(dirname "$OUT")"
cp -r "$REPO/conf/." "$WORK/conf/"
cat >"$WORK/conf/dialplan.toml" <<'TOML'
[[rule]]
destination = '^8100$'
actions = ["answer", "echo"]

[[rule]]
destination = '^8101$'
actions = ["answer", "record_session bench/${uuid}.wav", "echo"]
TOML

"$BIN" --conf "$WORK/conf" --no-console --set "sip.udp=127.0.0.1:$PORT" --set sip.tcp=off \
    --set 'acl.trusted=["127.0.0.1/32"]' --set log.level=warn --set esl.listen=off \
    --set "cdr.path=$WORK/cdr.sqlite" --set "media.recordings=$WORK/rec" \
    --set rtp.ports=40000-60999 >"$WORK/switch.log" 2>&1 &
SW=$!
PIDS+=("$SW")
sleep 1
kill -0 "$SW" 2>/dev/null || die "the switch did not start: $(tail -5 "$WORK/switch.log")"
! grep -q "module mod_record.*not loaded" "$WORK/switch.log" || die "mod_record did not load: $(grep -i "not loaded" "$WORK/switch.log" | tail -3)"

ticks() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo $((${12} + ${13})); }

run() { # rate extension -> one summary line
    local rate=$1 ext=$2 d="$WORK/r$1-$2" n=$(($1 * SECS))
    mkdir -p "$d"
    local before files0 t0 t1
    files0=$(find "$WORK/rec/bench" -name '*.wav' 2>/dev/null | wc -l)
    t0=$(ticks "$SW")
    (cd "$d" && exec sipp -sf "$BENCH_DIR/uac_1s.xml" -s "$ext" -i 127.0.0.1 -p $((PORT + 1)) \
        -mp $((PORT + 10)) -r "$rate" -m "$n" -l $((rate * 4)) -timeout $((SECS + 30))s \
        -timeout_error -recv_timeout 10s -buff_size 4194304 -default_behaviors all,-abortunexp \
        -trace_err -trace_stat -stf stat.csv -fd 1 "127.0.0.1:$PORT") </dev/null >"$d/uac.out" 2>&1
    sleep 2
    t1=$(ticks "$SW")
    local ok failed retrans cps
    read -r ok failed retrans cps _ _ < <($STATS sipp "$d/stat.csv")
    local us files short
    us=$(awk "BEGIN { printf \"%.0f\", ($t1 - $t0) * 1000000 / $CLK_TCK / $n }")
    files=$(($(find "$WORK/rec/bench" -name '*.wav' 2>/dev/null | wc -l) - files0))
    # A 1 s call at 8 kHz mono is ~16 KB of samples; count files well under that.
    short=$(find "$WORK/rec/bench" -name '*.wav' -newer "$d" -size -12k 2>/dev/null | wc -l)
    local verdict=clean
    [[ $ok -eq $n && $failed -eq 0 ]] || verdict=FAILED
    printf "%6s  %-10s %6s %6s %7s %10s %6s %6s  %s\n" "$rate" \
        "$([[ $ext == 8100 ]] && echo none || echo mod_record)" "$ok" "$failed" "$cps" "$us" \
        "$([[ $ext == 8100 ]] && echo - || echo "$files")" \
        "$([[ $ext == 8100 ]] && echo - || echo "$short")" "$verdict"
}

{
    echo "record_load.sh $(date -u +%Y-%m-%dT%H:%MZ), $SECS s per step, 1 s calls, $(nproc) cores"
    printf "%6s  %-10s %6s %6s %7s %10s %6s %6s  %s\n" rate recording ok failed cps "cpu_us/call" wavs short verdict
    for r in $RATES; do
        run "$r" 8100
        run "$r" 8101
    done
} | tee "$OUT"
