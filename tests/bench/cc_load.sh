#!/usr/bin/env bash
# Call-centre load benchmark: calls per second into an ACD queue (mod_callcenter) with 50 SIPp
# agents answering, on loopback. Run by hand (not part of tests/run-all.sh).
#
#   bash tests/bench/cc_load.sh            # full run, about 5-8 minutes (+ the build)
#   bash tests/bench/cc_load.sh --quick    # smoke run, about 1-2 minutes (+ the build)
#
# 1. builds the release switch and its modules (cargo build --release -p ferroswitch
#    -p mod_callcenter; honours $CARGO_TARGET_DIR; $FERROSWITCH_BIN or --no-build skips it);
# 2. writes a scratch conf/ copy: mod_callcenter.toml with queue "sales" (CC_STRATEGY, hold
#    music) and CC_AGENTS agents agent01..agentNN, Available, wrap-up 0, contact
#    sip:agentNN@127.0.0.1:AGENT_PORT (one SIPp UAS, cc_agents.xml, answers every agent leg:
#    180, CC_RING_MS of ringing, 200, CC_TALK_MS of talk, then the agent hangs up); a
#    scripts/ copy whose public.lua routes 7001 to `callcenter sales` (callers come from
#    127.0.0.1, trusted: no digest);
# 3. for each rate of CC_RATES, a fresh switch (its own SIP port, ESL off, its own RTP range and
#    var/): SIPp callers (cc_uac.xml) dial 7001 at the rate for CC_SECS seconds; each caller
#    waits in the queue (hold music) until it is bridged and the agent hangs up;
# 4. per step: calls ok/failed (SIPp), the rate achieved, the switch's CPU per queued call
#    (utime+stime from /proc/<pid>/stat over the run / calls), queue wait (avg/p95/max from the
#    module's cc_calls table), most callers waiting at once, the switch's RSS peak and
#    (peak - idle) / most queue calls up at once; a step is clean when every call succeeded,
#    at >= 90 % of the rate, every call was answered by an agent, and the longest wait stayed
#    under CC_MAX_WAIT_MS (no queue build-up). The steps stop at the first that is not clean.
#
# Environment knobs (defaults in brackets):
#   FERROSWITCH_BIN   use this binary (its modules beside it), do not build
#   CARGO_TARGET_DIR  cargo's target folder [./target]
#   BENCH_OUT         summary file [target/bench/cc_load.txt]
#   BENCH_PORT_BASE   first port: switch SIP BASE, agents BASE+10/+12, callers BASE+20/+22 [7300]
#   BENCH_RTP_PORTS   the switch's rtp.ports [30000-39999]
#   CC_AGENTS         agents [50]
#   CC_RATES          caller rates, calls per second ["20 40 60 80 100 120 140 160"]
#   CC_SECS           seconds of calls per step (calls = rate * this) [15]
#   CC_RING_MS        agent ring time before answering, ms [100]
#   CC_TALK_MS        agent talk time before hanging up, ms [200]
#   CC_STRATEGY       queue strategy [longest-idle-agent]
#   CC_MOH            queue moh_sound ("" = ringback) [local_stream://moh]
#   CC_MAX_WAIT_MS    a longer queue wait counts as build-up [2000]
# With CC_AGENTS agents busy CC_RING_MS + CC_TALK_MS (+ signalling) per call the agents can take
# at most CC_AGENTS * 1000 / (CC_RING_MS + CC_TALK_MS) calls per second (166 by default):
# rates near that build a queue whatever the switch does.

set -uo pipefail

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --quick  --no-build  --keep-going  -h|--help"
}

QUICK=0 BUILD=1 KEEP_GOING=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --no-build) BUILD=0 ;;
        --keep-going) KEEP_GOING=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "cc_load.sh: unknown option $a" >&2; usage >&2; exit 2 ;;
    esac
done

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
STATS="python3 $BENCH_DIR/cc_stats.py"
SIPP_STATS="python3 $BENCH_DIR/bench_stats.py"
OUT_DIR="$REPO/target/bench"
OUT=${BENCH_OUT:-$OUT_DIR/cc_load.txt}
WORK="$OUT_DIR/cc_work"

BASE=${BENCH_PORT_BASE:-7300}
RTP_PORTS=${BENCH_RTP_PORTS:-30000-39999}
AGENTS=${CC_AGENTS:-50}
RING_MS=${CC_RING_MS:-100}
TALK_MS=${CC_TALK_MS:-200}
STRATEGY=${CC_STRATEGY:-longest-idle-agent}
MOH=${CC_MOH-local_stream://moh}
MAX_WAIT_MS=${CC_MAX_WAIT_MS:-2000}
if ((QUICK)); then
    RATES=${CC_RATES:-"20 60 120"}
    SECS=${CC_SECS:-6}
else
    RATES=${CC_RATES:-"20 40 60 80 100 120 140 160"}
    SECS=${CC_SECS:-15}
fi

SW_PORT=$BASE
AG_PORT=$((BASE + 10)) AG_MP=$((BASE + 12))
UAC_PORT=$((BASE + 20)) UAC_MP=$((BASE + 22))

BUF=4194304
SIPP_COMMON=(-i 127.0.0.1 -buff_size "$BUF" -default_behaviors all,-abortunexp -trace_err
    -trace_stat -stf stat.csv -fd 1)
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Processes: everything started is recorded and stopped on exit, by pid.
PIDS=()
SYSCTL_RESTORE=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$p" 2>/dev/null
    done
    local kv
    for kv in "${SYSCTL_RESTORE[@]}"; do sysctl -q -w "$kv" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

alive() { kill -0 "$1" 2>/dev/null; }
forget() {
    local p keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
stop() {
    local p=$1 grace=${2:-5} i
    if alive "$p"; then
        kill -TERM "$p" 2>/dev/null
        for ((i = 0; i < grace * 10; i++)); do alive "$p" || break; sleep 0.1; done
        alive "$p" && kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    forget "$p"
    return 0
}
bound() { ss -Hlunp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"; }
wait_bound() {
    local i
    for ((i = 0; i < 100; i++)); do bound "$1" "$2" && return 0; alive "$2" || return 1; sleep 0.05; done
    return 1
}
port_taken() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
proc_ticks() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
proc_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
proc_threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
host_cpu() { awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }
now_ms() { date +%s%3N; }
calc() { awk "BEGIN { printf \"%s\", ($*) }"; }
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; } # kv "a=1 b=2" b -> 2

# ---------------------------------------------------------------------------------------------
# Set-up.
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"
command -v python3 >/dev/null || die "python3 not found"
command -v ss >/dev/null || die "ss not found (iproute2)"
for p in $SW_PORT $AG_PORT $AG_MP $UAC_PORT $UAC_MP; do
    port_taken "$p" && die "UDP port $p is in use; set BENCH_PORT_BASE"
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p "$OUT_DIR" "$(dirname "$OUT")"
rm -rf "$WORK"
mkdir -p "$WORK"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

if [[ -n "${FERROSWITCH_BIN:-}" ]]; then
    BIN=$FERROSWITCH_BIN
    BUILD=0
else
    BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/ferroswitch"
fi
if ((BUILD)); then
    log "building: cargo build --release -p ferroswitch -p mod_callcenter (target ${CARGO_TARGET_DIR:-$REPO/target})"
    (cd "$REPO" && cargo build --release -p ferroswitch -p mod_callcenter) >"$WORK/build.log" 2>&1 ||
        { tail -30 "$WORK/build.log" >&2; die "build failed (log: $WORK/build.log)"; }
fi
[[ -x "$BIN" ]] || die "no binary at $BIN"
[[ -f "$(dirname "$BIN")/libmod_callcenter.so" ]] || die "no libmod_callcenter.so beside $BIN"
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "${FERROSWITCH_BIN:-}" ]]; then
    SRC_NOTE="binary $BIN (given by FERROSWITCH_BIN)"
else
    SRC_NOTE="built from $REPO at $GIT_REV$(cd "$REPO" && git diff --quiet HEAD -- switch modules Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
fi

for k in net.core.rmem_max net.core.wmem_max; do
    cur=$(sysctl -n "$k" 2>/dev/null || echo 0)
    if ((cur < BUF)); then
        if sysctl -q -w "$k=$BUF" >/dev/null 2>&1; then
            SYSCTL_RESTORE+=("$k=$cur")
            log "sysctl $k: $cur -> $BUF (restored at exit)"
        else
            log "WARNING: cannot raise $k ($cur); SIPp's socket buffers stay small"
        fi
    fi
done

# The scratch configuration: conf/ and scripts/ copies; modules load from the binary's folder.
CONF="$WORK/conf"
SCRIPTS="$WORK/scripts"
cp -r "$REPO/conf" "$CONF"
cp -r "$REPO/scripts" "$SCRIPTS"
sed -i "s|^dir = \"\"|dir = \"$(dirname "$BIN")\"|" "$CONF/modules.toml"
# Trusted callers are routed by public.lua: 7001 goes to the queue there too.
cat >"$SCRIPTS/public.lua" <<'EOF'
-- cc_load.sh: the bench's callers come from 127.0.0.1 (acl.trusted, context public).
local dest = argv[1] or ""
if dest == "7001" then
  ACTIONS = { { "callcenter", "sales" } }
else
  session:hangup("NO_ROUTE_DESTINATION")
end
EOF
{
    echo "# generated by tests/bench/cc_load.sh"
    echo "[settings]"
    echo "db = \"callcenter.db\""
    echo
    echo "[queues.sales]"
    echo "strategy = \"$STRATEGY\""
    [[ -n $MOH ]] && echo "moh_sound = \"$MOH\""
    echo "max_wait_time = 0"
    echo "offer_timeout = 10"
    for ((i = 1; i <= AGENTS; i++)); do
        a=$(printf 'agent%02d' "$i")
        echo
        echo "[agents.$a]"
        echo "contact = \"sip:$a@127.0.0.1:$AG_PORT\""
        echo "status = \"Available\""
        echo "wrap_up_time = 0"
        echo
        echo "[[tiers]]"
        echo "queue = \"sales\""
        echo "agent = \"$a\""
        echo "level = 1"
        echo "position = $i"
    done
} >"$CONF/modules/mod_callcenter.toml"

# ---------------------------------------------------------------------------------------------
# The switch, fresh for every step.
SW_PID=
start_switch() {
    local d=$1
    mkdir -p "$d"
    (cd "$d" && exec "$BIN" --conf "$CONF" \
        --set "sip.udp=127.0.0.1:$SW_PORT" --set sip.tcp=off --set esl.listen=off \
        --set "rtp.ports=$RTP_PORTS" --set 'acl.trusted=["127.0.0.1/32"]' \
        --set "lua.scripts=$SCRIPTS" --set "lua.db_dir=$d/var" --set "media.sounds=$REPO/sounds" \
        --set log.level=warn --set "cdr.path=$d/cdr.sqlite") </dev/null >"$d/switch.log" 2>&1 &
    SW_PID=$!
    PIDS+=("$SW_PID")
    wait_bound "$SW_PORT" "$SW_PID" || { tail "$d/switch.log" >&2; die "the switch did not start (log: $d/switch.log)"; }
    sleep 0.5 # the module's start (SQLite) after the socket is bound
}
stop_switch() {
    [[ -n "$SW_PID" ]] && stop "$SW_PID" 10
    SW_PID=
}

ROWS="$WORK/steps.txt"
: >"$ROWS"
BEST=0 FAILED_AT=

# step RATE -> appends a row; returns 0 when clean.
step() {
    local rate=$1 n=$(($1 * SECS)) d="$WORK/rate-$1"
    mkdir -p "$d/uac" "$d/agents"
    start_switch "$d/switch"
    local secs=$((SECS + 60))
    # Agents: one UAS for every agent leg; stopped once the callers are done (-m is only a bound).
    (cd "$d/agents" && exec sipp -sf "$BENCH_DIR/cc_agents.xml" -key ring_ms "$RING_MS" -d "$TALK_MS" \
        -p "$AG_PORT" -mp "$AG_MP" -m $((2 * n + 1000)) -timeout "$((secs + 20))s" \
        "${SIPP_COMMON[@]}") </dev/null >"$d/agents.out" 2>&1 &
    local ag=$!
    PIDS+=("$ag")
    wait_bound "$AG_PORT" "$ag" || { stop "$ag"; stop_switch; log "agents' UAS did not start ($d)"; return 1; }
    local rss0 t0 w0 h0 i0 thr0
    rss0=$(proc_rss "$SW_PID")
    thr0=$(proc_threads "$SW_PID")
    t0=$(proc_ticks "$SW_PID")
    read -r h0 i0 < <(host_cpu)
    w0=$(now_ms)
    # Callers: -l bounds the calls up at once (waiting + talking).
    (cd "$d/uac" && exec sipp -sf "$BENCH_DIR/cc_uac.xml" -s 7001 -p "$UAC_PORT" -mp "$UAC_MP" \
        -r "$rate" -m "$n" -l $((rate * 30 + 100)) -timeout "${secs}s" -timeout_error -recv_timeout 30s \
        "${SIPP_COMMON[@]}" "127.0.0.1:$SW_PORT") </dev/null >"$d/uac.out" 2>&1 &
    local uac=$!
    PIDS+=("$uac")
    local rss_peak=$rss0 thr_peak=$thr0 r
    while alive "$uac"; do
        r=$(proc_rss "$SW_PID")
        ((r > rss_peak)) && rss_peak=$r
        r=$(proc_threads "$SW_PID")
        ((r > thr_peak)) && thr_peak=$r
        sleep 0.25
    done
    wait "$uac"
    local rc=$?
    forget "$uac"
    local t1 w1 h1 i1
    t1=$(proc_ticks "$SW_PID")
    read -r h1 i1 < <(host_cpu)
    w1=$(now_ms)
    local died=0
    alive "$SW_PID" || { died=1; log "ERROR: the switch died (log: $d/switch/switch.log)"; }
    sleep 1
    local rss_end
    rss_end=$(proc_rss "$SW_PID")
    stop "$ag" 2
    stop_switch
    local ok failed retrans cps
    read -r ok failed retrans cps _ < <($SIPP_STATS sipp "$d/uac/stat.csv")
    local s
    s=$($STATS calls "$d/switch/var/callcenter.db")
    echo "$s" >"$d/cc_calls.txt"
    local answered wait_avg wait_p95 wait_max waiting_max insys_max agents amin amax reasons
    answered=$(kv "$s" answered) wait_avg=$(kv "$s" wait_avg) wait_p95=$(kv "$s" wait_p95)
    wait_max=$(kv "$s" wait_max) waiting_max=$(kv "$s" waiting_max) insys_max=$(kv "$s" insys_max)
    agents=$(kv "$s" agents) amin=$(kv "$s" per_agent_min) amax=$(kv "$s" per_agent_max)
    reasons=$(kv "$s" reasons)
    local run_s us cpu_pct host_pct kib achieved
    run_s=$(calc "($w1 - $w0) / 1000")
    us=$(calc "($t1 - $t0) * 1000000 / $CLK_TCK / $n" | awk '{printf "%.0f", $1}')
    cpu_pct=$(calc "($t1 - $t0) * 100 / $CLK_TCK / $run_s" | awk '{printf "%.1f", $1}')
    host_pct=$(calc "(($h1 - $h0) - ($i1 - $i0)) * 100 / ($h1 - $h0)" | awk '{printf "%.0f", $1}')
    kib=$(calc "$insys_max > 0 ? ($rss_peak - $rss0) / $insys_max : 0" | awk '{printf "%.1f", $1}')
    local retained
    retained=$(calc "($rss_end - $rss0) / $n" | awk '{printf "%.1f", $1}')
    # Achieved rate: calls / the time over which they joined the queue.
    local span
    span=$(kv "$s" span_ms)
    achieved=$(calc "$span > 0 ? ($answered - 1) * 1000 / $span : 0" | awk '{printf "%.1f", $1}')
    local verdict=clean
    if [[ $rc -ne 0 || ${ok:-0} -ne $n || ${failed:-1} -ne 0 || $died -ne 0 || ${answered:-0} -ne $n ]]; then
        verdict=FAILED
    elif ! awk "BEGIN { exit !($achieved >= 0.9 * $rate) }"; then
        verdict=SLOW
    elif ((wait_max > MAX_WAIT_MS)); then
        verdict=BUILDUP
    fi
    echo "$rate $n ${ok:-0} ${failed:-0} ${retrans:-0} $achieved $answered $wait_avg $wait_p95 $wait_max $waiting_max $insys_max $agents $amin $amax $us $cpu_pct $host_pct $rss0 $rss_peak $kib $thr_peak $rc $verdict $reasons $rss_end $retained" >>"$ROWS"
    log "  $rate cps x ${SECS}s: $ok/$n ok, $failed failed, $retrans retrans; joined at $achieved/s; answered $answered by $agents agents ($amin-$amax each); wait avg ${wait_avg} p95 ${wait_p95} max ${wait_max} ms, up to $waiting_max waiting, $insys_max in the queue at once; switch CPU $us us/call (${cpu_pct}% of a core, host ${host_pct}%), RSS $rss0 -> $rss_peak KiB ($kib KiB per queue call up at once), $rss_end KiB after the calls ($retained KiB per call kept), threads $thr0 -> $thr_peak; exits $reasons: $verdict"
    [[ $verdict == clean ]] && { BEST=$rate; return 0; }
    FAILED_AT=$rate
    return 1
}

log "call centre load: $AGENTS agents ($STRATEGY, ring ${RING_MS} ms, talk ${TALK_MS} ms), rates $RATES, ${SECS}s each"
for rate in $RATES; do
    step "$rate" || ((KEEP_GOING)) || break
done

# ---------------------------------------------------------------------------------------------
# Summary.
CAP=$(calc "$AGENTS * 1000 / ($RING_MS + $TALK_MS)" | awk '{printf "%.0f", $1}')
{
    echo "ferroswitch call-centre load benchmark (tests/bench/cc_load.sh$( ((QUICK)) && echo ' --quick'))"
    echo "date: $START_DATE   host: $NCPU cores, load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "(the load generator shares the host; other work on it lowers every figure)"
    echo "switch: $SRC_NOTE"
    echo "queue sales: $STRATEGY, moh ${MOH:-none (ringback)}; $AGENTS agents (one SIPp UAS), ring ${RING_MS} ms, talk ${TALK_MS} ms, wrap-up 0:"
    echo "  the agents can take at most ~$CAP calls per second; callers from 127.0.0.1 (trusted), ${SECS}s of calls per step"
    echo
    printf '  %5s %6s %6s %6s %7s %8s %7s %7s %7s %5s %5s %7s %7s %6s %5s %7s %8s %5s %7s %s\n' \
        rate calls ok failed retrans joined/s "wait" "p95" "max" "wait#" "inq#" agents "us/call" "CPU%" "host%" "RSS-MiB" "KiB/call" "kept" threads result
    awk '{printf "  %5s %6s %6s %6s %7s %8s %7s %7s %7s %5s %5s %7s %7s %6s %5s %7.1f %8s %5s %7s %s\n", $1, $2, $3, $4, $5, $6, $8, $9, $10, $11, $12, $13 "(" $14 "-" $15 ")", $16, $17, $18, $20/1024, $21, $27, $22, $24}' "$ROWS"
    echo "  (wait/p95/max: queue wait in ms, join -> agent answered, from cc_calls; wait#: most callers"
    echo "   waiting at once; inq#: most queue calls at once, talking included; us/call and CPU%: the"
    echo "   switch's utime+stime over the callers' run, / calls; RSS-MiB: the switch's peak;"
    echo "   KiB/call = (RSS peak - idle RSS) / inq#; kept = (RSS after the calls - idle RSS) / calls;"
    echo "   the queue wait includes the agent's ring time; agents: how many answered (min-max calls each))"
    echo "  highest clean rate: $BEST calls per second$([[ -n $FAILED_AT ]] && echo " (first not clean: $FAILED_AT)")"
    echo
    echo "scratch files (SIPp logs and stats, switch logs, callcenter.db, CDRs): $WORK"
} | tee "$OUT"
log "summary written to $OUT"
