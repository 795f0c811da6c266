#!/usr/bin/env bash
# Calls per second and switch CPU per call: the Lua dialplan (scripts/default.lua, a fresh
# sandboxed state per call returning ACTIONS) against the TOML rules, both bridging 1002 ->
# 1001 to a SIPp UAS, same run, same rate. Loopback only, bounded in calls and time.
#
#   bash tests/bench/lua_vs_toml.sh [RATE] [CALLS]      (default 100 cps, 2000 calls)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
RATE=${1:-100}
CALLS=${2:-2000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p ferroswitch
BIN=$CARGO_TARGET_DIR/release/ferroswitch
WORK=$(mktemp -d)
trap 'kill $(cat "$WORK"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASE=$((31000 + ($$ % 50) * 20))

# TOML: the shipped conf without the context scripts.
mkdir -p "$WORK/toml"
cp -r conf/. "$WORK/toml/"
sed -i '/^\[context\./,/^script = /d' "$WORK/toml/dialplan.toml"
printf 'SEQUENTIAL\n1002;1234;\n' >"$WORK/caller.csv"
printf 'SEQUENTIAL\n1001;1234;\n' >"$WORK/callee.csv"

run() { # NAME CONF PORT
    local name=$1 conf=$2 port=$3
    "$BIN" --conf "$conf" --no-console --set sip.udp=127.0.0.1:$port --set sip.tcp=off \
        --set esl.listen=off --set "rtp.ports=$((port + 20))-$((port + 99))" \
        --set "cdr.path=$WORK/$name.sqlite" --set log.level=warn \
        --set 'sip.auth_algorithms=["MD5"]' --set "lua.scripts=$PWD/scripts" \
        --set sip.throttle.max_failures=0 >"$WORK/$name.log" 2>&1 &
    echo $! >"$WORK/$name.pid"
    sleep 1
    local uas=$((port + 10))
    sipp -sf tests/sipp/register.xml -inf "$WORK/callee.csv" -au 1001 -ap 1234 -key expires 3600 \
        -i 127.0.0.1 -p $uas -m 1 -timeout 10s -timeout_error -nostdin 127.0.0.1:$port >/dev/null
    sipp -sn uas -i 127.0.0.1 -p $uas -mp $((uas + 2)) -nostdin >/dev/null 2>&1 &
    local uas_pid=$!
    echo $uas_pid >"$WORK/$name-uas.pid"
    local pid=$(cat "$WORK/$name.pid")
    local before=$(awk '{print $14 + $15}' /proc/$pid/stat)
    local t0=$(date +%s.%N)
    sipp -sf tests/sipp/uac_call_nomedia.xml -inf "$WORK/caller.csv" -au 1002 -ap 1234 -s 1001 \
        -auth_uri 1001@127.0.0.1:$port -key sinkport 9 -d 0 -i 127.0.0.1 -p $((port + 11)) \
        -mp $((port + 13)) -r "$RATE" -m "$CALLS" -l 500 -timeout 60s -timeout_error -nostdin \
        -default_behaviors all,-abortunexp -trace_stat -stf "$WORK/$name.csv" \
        127.0.0.1:$port >/dev/null 2>&1 || true
    local t1=$(date +%s.%N)
    local after=$(awk '{print $14 + $15}' /proc/$pid/stat)
    local last=$(tail -1 "$WORK/$name.csv")
    local head=$(head -1 "$WORK/$name.csv")
    local col=$(echo "$head" | tr ';' '\n' | grep -n '^SuccessfulCall(C)$' | cut -d: -f1)
    local fcol=$(echo "$head" | tr ';' '\n' | grep -n '^FailedCall(C)$' | cut -d: -f1)
    local ok=$(echo "$last" | cut -d';' -f"$col")
    local failed=$(echo "$last" | cut -d';' -f"$fcol")
    local ticks=$(getconf CLK_TCK)
    awk -v n="$name" -v ok="$ok" -v f="$failed" -v t0="$t0" -v t1="$t1" -v c=$((after - before)) \
        -v tk="$ticks" 'BEGIN { printf "%-5s %6d ok %4d failed  %7.1f calls/s  switch CPU %6.0f us/call\n",
        n, ok, f, ok / (t1 - t0), (c / tk) * 1e6 / (ok > 0 ? ok : 1) }'
    kill "$uas_pid" "$pid"
    wait "$uas_pid" "$pid" 2>/dev/null || true
}

# Twice each, alternating, since the machine may be shared.
for round in 1 2; do
    run toml "$WORK/toml" $((BASE + round * 200))
    run lua conf $((BASE + round * 200 + 100))
done
