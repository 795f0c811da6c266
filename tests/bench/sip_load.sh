#!/usr/bin/env bash
# SIP load benchmark of ferroswitch (issue 2), on loopback, rerunnable after every change.
#
#   bash tests/bench/sip_load.sh            # full run, about 10-13 minutes (+ the build)
#   bash tests/bench/sip_load.sh --quick    # smoke run, about 1-2 minutes (+ the build)
#
# 1. builds the release binary and the modules conf/modules.toml loads (cargo build --release
#    -p ferroswitch -p mod_record -p mod_callcenter -p mod_espeak; honours $CARGO_TARGET_DIR,
#    default ./target; $FERROSWITCH_BIN or --no-build skips the build);
# 2. calls per second of 0-second calls: SIPp UAC -> SIPp UAS directly (the ceiling) and
#    SIPp UAC -> ferroswitch -> SIPp UAS (registered as 1001), stepping the rate up; each step
#    runs 3 times and is clean when every call succeeded, at >= 90% of the rate; the highest
#    clean rates and their ratio;
# 3. simultaneous bridged calls held with RTP both ways at 20 ms (SIPp rtp_stream -> switch ->
#    SIPp -rtp_echo -> switch -> caller), loss from the switch's CDR counters;
# 4. the switch's CPU and RSS: CPU us per call in the cps test, CPU% and KiB per bridged call
#    while the calls are held;
# 5. a summary table on stdout and in $BENCH_OUT (default target/bench/sip_load.txt).
# Scratch files (SIPp logs and CSVs, switch logs, CDR databases) are in target/bench/work/.
# Every SIPp run is bounded (-m, -timeout) and every process started is stopped at the end.
#
# Environment knobs (defaults in brackets):
#   FERROSWITCH_BIN      use this binary, do not build
#   CARGO_TARGET_DIR     cargo's target folder [./target]
#   BENCH_CONF           the switch's --conf folder [conf/ of this repository]
#   BENCH_OUT            summary file [target/bench/sip_load.txt]
#   BENCH_PORT_BASE      first SIP port; the bench uses BASE..BASE+79 [7100]
#   BENCH_RTP_PORTS      the switch's rtp.ports; 4 ports per bridged call [40000-60999]
#   BENCH_RATES          cps steps ["200 400 800 1200 1600 2000 2500 3000 4000 5000 6000 8000 10000 12000 15000"]
#   BENCH_CALLS_PER_SEC  calls per run = rate * this [5]
#   BENCH_REPEAT         runs per cps step [3]
#   BENCH_RTP_CALLS      simultaneous-call steps ["100 250 500 750 1000 1500 2000"]
#   BENCH_HOLD           seconds each RTP call is held [25]
#   BENCH_SETUP          seconds over which an RTP step's calls are set up [10]
#
# --switch-big-buffers starts the switch with net.core.rmem_default/wmem_default raised to 4 MiB
# (restored once its SIP socket is bound), to see what big SIP socket buffers would give it.

set -uo pipefail

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --quick  --no-build  --skip-cps  --skip-direct  --skip-rtp  --switch-big-buffers  -h|--help"
}

QUICK=0 BUILD=1 DO_CPS=1 DO_DIRECT=1 DO_RTP=1 BIGBUF=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --no-build) BUILD=0 ;;
        --skip-cps) DO_CPS=0 ;;
        --skip-rtp) DO_RTP=0 ;;
        --skip-direct) DO_DIRECT=0 ;;
        --switch-big-buffers) BIGBUF=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "sip_load.sh: unknown option $a" >&2; usage >&2; exit 2 ;;
    esac
done

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
STATS="python3 $BENCH_DIR/bench_stats.py"
OUT_DIR="$REPO/target/bench"
OUT=${BENCH_OUT:-$OUT_DIR/sip_load.txt}
WORK="$OUT_DIR/work"
CONF=${BENCH_CONF:-$REPO/conf}

BASE=${BENCH_PORT_BASE:-7100}
RTP_PORTS=${BENCH_RTP_PORTS:-40000-60999}
if ((QUICK)); then
    RATES=${BENCH_RATES:-"200 1000 2000 4000 8000"}
    CALLS_PER_SEC=${BENCH_CALLS_PER_SEC:-2}
    REPEAT=${BENCH_REPEAT:-1}
    RTP_CALLS=${BENCH_RTP_CALLS:-"100 250"}
    HOLD=${BENCH_HOLD:-12}
    SETUP=${BENCH_SETUP:-4}
else
    RATES=${BENCH_RATES:-"200 400 800 1200 1600 2000 2500 3000 4000 5000 6000 8000 10000 12000 15000"}
    CALLS_PER_SEC=${BENCH_CALLS_PER_SEC:-5}
    REPEAT=${BENCH_REPEAT:-3}
    RTP_CALLS=${BENCH_RTP_CALLS:-"100 250 500 750 1000 1500 2000"}
    HOLD=${BENCH_HOLD:-25}
    SETUP=${BENCH_SETUP:-10}
fi

# Ports (all on 127.0.0.1).
SW_PORT=$BASE                                   # the switch's SIP/UDP
CPS_UAS_PORT=$((BASE + 10)) CPS_UAS_MP=$((BASE + 12))
CPS_UAC_PORT=$((BASE + 20)) CPS_UAC_MP=$((BASE + 22))
DIR_UAS_PORT=$((BASE + 30)) DIR_UAS_MP=$((BASE + 32))
RTP_UAS_PORT=$((BASE + 40)) RTP_UAS_MP=$((BASE + 50))
RTP_UAC_PORT=$((BASE + 60)) RTP_UAC_MP=$((BASE + 70))

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
# forget PID: it has been waited for; the trap must not signal its number, which may be reused.
forget() {
    local p keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
# nap SECONDS: a sleep that SIGINT/SIGTERM interrupt (bash runs traps only between commands).
nap() {
    sleep "$1" &
    wait $!
}
# stop PID [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace time.
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
# bound PORT PID: PID holds UDP 127.0.0.1:PORT.
bound() { ss -Hlunp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"; }
wait_bound() {
    local i
    for ((i = 0; i < 100; i++)); do bound "$1" "$2" && return 0; alive "$2" || return 1; sleep 0.05; done
    return 1
}
port_taken() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }

# /proc sampling.
proc_ticks() { # utime+stime of PID in clock ticks
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
proc_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
proc_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
host_cpu() { awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; } # total idle
now_us() { date +%s%6N; }
# Receive-buffer size, send-buffer size and drop count of PID's UDP socket on PORT (from ss).
sock_mem() {
    ss -Haunmp "sport = :$1" 2>/dev/null | tr -d '\n' | grep "pid=$2," |
        sed -n 's/.*skmem:(\([^)]*\)).*/\1/p' | tr ',' '\n' |
        awk '/^rb/ {rb=substr($0,3)} /^tb/ {tb=substr($0,3)} /^d/ {d=substr($0,2)}
             END {printf "%s %s %s\n", rb+0, tb+0, d+0}'
}
# Sockets and summed drop counters of PID's UDP sockets: "sockets drops".
pid_drops() {
    ss -Haunmp 2>/dev/null | tr -d '\n' | sed 's/\(UNCONN\|ESTAB\)/\n\1/g' | grep "pid=$1," |
        sed -n 's/.*skmem:(\([^)]*\)).*/\1/p' | tr ',' ' ' |
        awk '{n++; for (i = 1; i <= NF; i++) if ($i ~ /^d[0-9]/) d += substr($i, 2)} END {print n + 0, d + 0}'
}
calc() { awk "BEGIN { printf \"%s\", ($*) }"; }

# ---------------------------------------------------------------------------------------------
# Set-up.
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"
command -v python3 >/dev/null || die "python3 not found"
command -v ss >/dev/null || die "ss not found (iproute2)"
for p in $SW_PORT $CPS_UAS_PORT $CPS_UAC_PORT $DIR_UAS_PORT $RTP_UAS_PORT $RTP_UAC_PORT \
    $CPS_UAS_MP $CPS_UAC_MP $DIR_UAS_MP $RTP_UAS_MP $RTP_UAC_MP; do
    port_taken "$p" && die "UDP port $p is in use; set BENCH_PORT_BASE"
done

# 4 sockets per bridged call: lift the soft open-files limit (the switch does not raise it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

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
    log "building: cargo build --release -p ferroswitch and the default modules (target ${CARGO_TARGET_DIR:-$REPO/target})"
    (cd "$REPO" && cargo build --release -p ferroswitch -p mod_record -p mod_callcenter -p mod_espeak) >"$WORK/build.log" 2>&1 ||
        { tail -30 "$WORK/build.log" >&2; die "build failed (log: $WORK/build.log)"; }
fi
[[ -x "$BIN" ]] || die "no binary at $BIN"
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "${FERROSWITCH_BIN:-}" ]]; then
    SRC_NOTE="binary $BIN (given by FERROSWITCH_BIN)"
else
    SRC_NOTE="built from $REPO at $GIT_REV$(cd "$REPO" && git diff --quiet HEAD -- switch Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
fi

# Large socket buffers for SIPp (-buff_size / -rtp_buffsize are capped by these).
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
RMEM_MAX=$(sysctl -n net.core.rmem_max 2>/dev/null || echo '?')
RMEM_DEF=$(sysctl -n net.core.rmem_default 2>/dev/null || echo '?')

printf 'SEQUENTIAL\n1001;1234\n' >"$WORK/users.csv"
# 10 s of a 440 Hz tone as raw A-law (rtp_stream sends the file's bytes as they are).
if command -v sox >/dev/null; then
    sox -n -r 8000 -c 1 -e a-law -t raw "$WORK/tone.alaw" synth 10 sine 440 2>/dev/null
fi
# Without sox any bytes do: the switch relays RTP without decoding it.
[[ -s "$WORK/tone.alaw" ]] ||
    python3 -c 'import sys; sys.stdout.buffer.write(bytes((0xD5 ^ (i % 7)) for i in range(80000)))' >"$WORK/tone.alaw"

# big_default_buffers on|off: raises net.core.rmem_default/wmem_default to $BUF (and puts the
# old values back), for the moment a process binds the sockets that should get big buffers.
# SIPp 3.6.1 ignores -rtp_buffsize: its -rtp_echo socket only gets a big buffer this way.
BIGDEF_SAVED=()
big_default_buffers() {
    local k kv
    if [[ $1 == on ]]; then
        BIGDEF_SAVED=()
        for k in net.core.rmem_default net.core.wmem_default; do
            kv="$k=$(sysctl -n "$k" 2>/dev/null)" || return 1
            BIGDEF_SAVED+=("$kv")
            SYSCTL_RESTORE+=("$kv")
            sysctl -q -w "$k=$BUF" >/dev/null 2>&1 || { big_default_buffers off; return 1; }
        done
    else
        for kv in "${BIGDEF_SAVED[@]}"; do sysctl -q -w "$kv" >/dev/null 2>&1; done
        BIGDEF_SAVED=()
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# The switch.
SW_PID=
SW_N=0
start_switch() {
    SW_N=$((SW_N + 1))
    local d="$WORK/switch-$SW_N-$1"
    mkdir -p "$d"
    SW_DIR=$d
    SW_CDR="$d/cdr.sqlite"
    ((BIGBUF)) && { big_default_buffers on || die "--switch-big-buffers: cannot raise net.core.rmem_default"; }
    (cd "$d" && exec "$BIN" --conf "$CONF" \
        --set "sip.udp=127.0.0.1:$SW_PORT" --set sip.tcp=off \
        --set "rtp.ports=$RTP_PORTS" --set 'acl.trusted=["127.0.0.1/32"]' \
        --set 'sip.auth_algorithms=["MD5"]' \
        --set log.level=warn --set "cdr.path=$SW_CDR") </dev/null >"$d/switch.log" 2>&1 &
    SW_PID=$!
    PIDS+=("$SW_PID")
    local up=0
    wait_bound "$SW_PORT" "$SW_PID" && up=1
    ((BIGBUF)) && big_default_buffers off
    ((up)) || { tail "$d/switch.log" >&2; die "the switch did not start"; }
}
# switch_alive WHERE: logs and notes it when the switch has died.
SWITCH_DIED=
switch_alive() {
    alive "$SW_PID" && return 0
    wait "$SW_PID" 2>/dev/null
    local st=$?
    forget "$SW_PID"
    log "ERROR: the switch died during $1 (exit status $st; log: $SW_DIR/switch.log)"
    SWITCH_DIED="${SWITCH_DIED:+$SWITCH_DIED; }during $1 (see $SW_DIR/switch.log)"
    return 1
}
stop_switch() {
    [[ -n "$SW_PID" ]] && stop "$SW_PID" 10
    SW_PID=
}
# register_uas PORT: REGISTER 1001 from PORT, so that the switch sends 1001's calls there.
register_uas() {
    local d="$SW_DIR/register-$1"
    mkdir -p "$d"
    (cd "$d" && exec sipp -sf "$REPO/tests/sipp/register.xml" -inf "$WORK/users.csv" \
        -au 1001 -ap 1234 -key expires 3600 -i 127.0.0.1 -p "$1" -mp $((BASE + 78)) \
        -m 1 -timeout 10s -timeout_error -trace_err "127.0.0.1:$SW_PORT") </dev/null >"$d/sipp.out" 2>&1 ||
        die "REGISTER 1001 from port $1 failed (see $d)"
}

# ---------------------------------------------------------------------------------------------
# Calls per second.
CPS_ROWS="$WORK/cps_runs.txt" # path rate run calls ok failed retrans cps rc sw_us_per_call sw_drops
: >"$CPS_ROWS"

# cps_run PATH RATE RUN -> appends a row; returns 0 when clean.
cps_run() {
    local path=$1 rate=$2 run=$3 n=$(($2 * CALLS_PER_SEC))
    local d="$WORK/cps/$path-$rate-$run" uas_port uas_mp target
    mkdir -p "$d"
    if [[ $path == direct ]]; then
        uas_port=$DIR_UAS_PORT uas_mp=$DIR_UAS_MP target="127.0.0.1:$DIR_UAS_PORT"
    else
        uas_port=$CPS_UAS_PORT uas_mp=$CPS_UAS_MP target="127.0.0.1:$SW_PORT"
    fi
    local secs=$((n / rate + 25))
    # The UAS is stopped once the UAC is done, not by -m: SIPp makes a call of every message
    # with an unknown Call-ID (e.g. the switch retransmitting a BYE of the previous run whose
    # 200 it lost), and such calls would use up a -m of exactly N.
    (cd "$d" && mkdir -p uas && cd uas && exec sipp -sf "$BENCH_DIR/uas_0s.xml" \
        -p "$uas_port" -mp "$uas_mp" -m $((2 * n + 1000)) -timeout "$((secs + 10))s" -recv_timeout 10s \
        "${SIPP_COMMON[@]}") </dev/null >"$d/uas.out" 2>&1 &
    local uas=$!
    PIDS+=("$uas")
    wait_bound "$uas_port" "$uas" || { stop "$uas"; log "UAS did not start ($d)"; return 1; }
    local t0=0 d0=0 drops=0 rc
    if [[ $path == switch ]]; then t0=$(proc_ticks "$SW_PID"); d0=$(sock_mem "$SW_PORT" "$SW_PID" | cut -d' ' -f3); fi
    (cd "$d" && exec sipp -sf "$BENCH_DIR/uac_0s.xml" -s 1001 -p "$CPS_UAC_PORT" -mp "$CPS_UAC_MP" \
        -r "$rate" -m "$n" -l $((rate * 10)) -timeout "${secs}s" -timeout_error -recv_timeout 10s \
        "${SIPP_COMMON[@]}" "$target") </dev/null >"$d/uac.out" 2>&1 &
    local uac=$!
    PIDS+=("$uac")
    wait "$uac"
    rc=$?
    forget "$uac"
    local us="-"
    if [[ $path == switch ]]; then
        local t1
        t1=$(proc_ticks "$SW_PID")
        us=$(calc "($t1 - $t0) * 1000000 / $CLK_TCK / $n" | awk '{printf "%.0f", $1}')
        drops=$(($(sock_mem "$SW_PORT" "$SW_PID" | cut -d' ' -f3) - d0))
    fi
    sleep 0.5
    stop "$uas" 2
    local ok failed retrans cps
    read -r ok failed retrans cps _ _ < <($STATS sipp "$d/stat.csv")
    echo "$path $rate $run $n $ok $failed $retrans $cps $rc $us $drops" >>"$CPS_ROWS"
    local verdict=clean
    [[ $rc -eq 0 && $ok -eq $n && $failed -eq 0 ]] || verdict=FAILED
    # Calls that got through only after seconds of retransmissions do not sustain the rate.
    [[ $verdict == clean ]] && ((cps * 10 < rate * 9)) && verdict=SLOW
    [[ $path == switch ]] && ! switch_alive "cps $rate run $run" && verdict=FAILED
    log "  $path $rate cps run $run: $ok/$n ok, $failed failed, $retrans retrans, ${cps} cps achieved, rc $rc, switch ${us} us/call, SIP drops $drops: $verdict"
    [[ $verdict == clean ]]
}

# cps_path PATH -> sets BEST_<PATH>
cps_path() {
    local path=$1 best=0 rate run clean
    for rate in $RATES; do
        clean=1
        for ((run = 1; run <= REPEAT; run++)); do
            cps_run "$path" "$rate" "$run" || { clean=0; break; }
        done
        if ((clean)); then best=$rate; else break; fi
    done
    if [[ $path == direct ]]; then BEST_DIRECT=$best; else BEST_SWITCH=$best; fi
    ((clean)) && [[ $best == "${RATES##* }" ]] && eval "TOP_${path^^}=1"
    return 0
}

BEST_DIRECT=0 BEST_SWITCH=0 TOP_DIRECT=0 TOP_SWITCH=0
SW_SIP_MEM="- - -" SW_RSS_CPS_START=0 SW_RSS_CPS_END=0
if ((DO_CPS)); then
    if ((DO_DIRECT)); then
        log "calls per second, direct SIPp UAC -> SIPp UAS (steps: $RATES; $CALLS_PER_SEC s of calls per run, $REPEAT runs per step)"
        cps_path direct
        log "direct ceiling: $BEST_DIRECT cps"
    fi
    start_switch cps
    register_uas "$CPS_UAS_PORT"
    SW_RSS_CPS_START=$(proc_rss "$SW_PID")
    log "calls per second, SIPp UAC -> ferroswitch -> SIPp UAS (registered as 1001)"
    cps_path switch
    SW_SIP_MEM=$(sock_mem "$SW_PORT" "$SW_PID")
    SW_RSS_CPS_END=$(proc_rss "$SW_PID")
    log "switch: $BEST_SWITCH cps; SIP socket rcvbuf/sndbuf/drops: $SW_SIP_MEM; RSS $SW_RSS_CPS_START -> $SW_RSS_CPS_END KiB"
    stop_switch
fi

# ---------------------------------------------------------------------------------------------
# Simultaneous bridged calls with RTP both ways.
RTP_ROWS="$WORK/rtp_runs.txt"
# calls rate hold ok up a_in b_out b_in a_out expected relay_loss_pct short_per_call echo_loss_pct cpu_pct host_pct rss_idle rss_peak kib_per_call rc verdict idle_cpu_pct switch_socket_drops echo_socket_drops
: >"$RTP_ROWS"
BEST_RTP=0 BEST_RTP_KIB="-" RTP_FAILED_AT=0

rtp_step() {
    local n=$1
    local rate=$(((n + SETUP - 1) / SETUP))
    ((rate < 10)) && rate=10
    local setup=$(((n + rate - 1) / rate)) hold=$HOLD
    ((hold < setup + 8)) && hold=$((setup + 8))
    local d="$WORK/rtp/$n"
    mkdir -p "$d/uas" "$d/uac"
    cp "$WORK/tone.alaw" "$d/uac/"
    start_switch "rtp-$n"
    register_uas "$RTP_UAS_PORT"
    local rss_idle fds_idle c0 c1 idle_pct
    c0=$(proc_ticks "$SW_PID")
    sleep 1
    c1=$(proc_ticks "$SW_PID")
    idle_pct=$(calc "($c1 - $c0) * 100 / $CLK_TCK" | awk '{printf "%.1f", $1}')
    rss_idle=$(proc_rss "$SW_PID")
    fds_idle=$(proc_fds "$SW_PID")
    local since
    since=$(now_us)
    local secs=$((setup + hold + 30))
    # The echo socket takes ~50 packets per call per second: give it a big buffer.
    local bigecho=0
    big_default_buffers on && bigecho=1
    (cd "$d/uas" && exec sipp -sf "$BENCH_DIR/uas_rtp.xml" -rtp_echo \
        -p "$RTP_UAS_PORT" -mp "$RTP_UAS_MP" -m $((2 * n + 1000)) -timeout "$((secs + 10))s" \
        "${SIPP_COMMON[@]}") </dev/null >"$d/uas.out" 2>&1 &
    local uas=$!
    PIDS+=("$uas")
    local started=0
    wait_bound "$RTP_UAS_PORT" "$uas" && wait_bound "$RTP_UAS_MP" "$uas" && started=1
    ((bigecho)) && big_default_buffers off
    ((started)) || { stop "$uas"; log "RTP UAS did not start ($d)"; return 1; }
    ECHO_BUF=$(sock_mem "$RTP_UAS_MP" "$uas" | cut -d' ' -f1)
    (cd "$d/uac" && exec sipp -sf "$BENCH_DIR/uac_rtp.xml" -s 1001 -d $((hold * 1000)) \
        -p "$RTP_UAC_PORT" -mp "$RTP_UAC_MP" -r "$rate" -m "$n" \
        -timeout "${secs}s" -timeout_error -recv_timeout 10s \
        "${SIPP_COMMON[@]}" "127.0.0.1:$SW_PORT") </dev/null >"$d/uac.out" 2>&1 &
    local uac=$!
    PIDS+=("$uac")
    # Every call is up from `setup` until `hold`: measure in that window.
    nap $((setup + 2))
    local t0 h0 i0 rss_peak=0 r up=0 f
    t0=$(proc_ticks "$SW_PID")
    read -r h0 i0 < <(host_cpu)
    local w0
    w0=$(now_us)
    local window=$((hold - setup - 5))
    ((window < 2)) && window=2
    for ((i = 0; i < window; i++)); do
        nap 1
        r=$(proc_rss "$SW_PID")
        ((r > rss_peak)) && rss_peak=$r
        f=$(proc_fds "$SW_PID")
        (((f - fds_idle) / 4 > up)) && up=$(((f - fds_idle) / 4))
    done
    local sw_drops echo_drops
    sw_drops=$(pid_drops "$SW_PID" | cut -d' ' -f2)
    echo_drops=$(sock_mem "$RTP_UAS_MP" "$uas" | cut -d' ' -f3)
    local t1 h1 i1 w1
    t1=$(proc_ticks "$SW_PID")
    read -r h1 i1 < <(host_cpu)
    w1=$(now_us)
    local cpu_pct host_pct
    cpu_pct=$(calc "($t1 - $t0) * 100 / $CLK_TCK / (($w1 - $w0) / 1000000)" | awk '{printf "%.1f", $1}')
    host_pct=$(calc "(($h1 - $h0) - ($i1 - $i0)) * 100 / ($h1 - $h0)" | awk '{printf "%.0f", $1}')
    wait "$uac"
    local rc=$?
    forget "$uac"
    local died=0
    switch_alive "RTP step $n" || died=1
    sleep 0.5
    stop "$uas" 2
    # The CDR writer batches: wait until every A leg is in, or the count stops growing.
    local rows last=-1
    for ((i = 0; i < 30; i++)); do
        rows=$($STATS rtp "$SW_CDR" "$since" 2>/dev/null | cut -d' ' -f1)
        [[ "${rows:-0}" -ge $n ]] && break
        [[ "${rows:-0}" -eq $last && $i -ge 10 ]] && break
        last=${rows:-0}
        sleep 0.5
    done
    stop_switch # flushes the last CDRs
    local a_rows b_rows answered a_in a_out b_in b_out expected
    read -r a_rows b_rows answered a_in a_out b_in b_out expected < <($STATS rtp "$SW_CDR" "$since")
    local ok
    read -r ok _ < <($STATS sipp "$d/uac/stat.csv")
    local v
    for v in a_rows b_rows answered a_in a_out b_in b_out expected ok; do
        [[ ${!v:-} =~ ^[0-9]+$ ]] || printf -v "$v" 0
    done
    local relay_loss short echo_loss kib
    relay_loss=$(calc "($a_in + $b_in) > 0 ? (($a_in - $b_out) + ($b_in - $a_out)) * 100 / ($a_in + $b_in) : 100" | awk '{printf "%.4f", $1}')
    short=$(calc "$answered > 0 ? ($expected - $a_in) / $answered : 0" | awk '{printf "%.2f", $1}')
    echo_loss=$(calc "$b_out > 0 ? ($b_out - $b_in) * 100 / $b_out : 0" | awk '{printf "%.3f", $1}')
    kib=$(calc "($rss_peak - $rss_idle) / $n" | awk '{printf "%.1f", $1}')
    # Clean: every call succeeded and was up at once; the switch relayed what it received
    # (both ways, within 0.01 %: a packet in flight at hangup); and it received what SIPp
    # streams in the media time, less at most 5 packets (100 ms, stream start-up) per call.
    local verdict=clean
    [[ $rc -eq 0 && $ok -eq $n && $answered -eq $n && $up -ge $n && $died -eq 0 ]] || verdict=FAILED
    awk "BEGIN { exit !($relay_loss <= 0.01 && $short <= 5) }" || verdict=LOSS
    echo "$n $rate $hold $ok $up $a_in $b_out $b_in $a_out $expected $relay_loss $short $echo_loss $cpu_pct $host_pct $rss_idle $rss_peak $kib $rc $verdict $idle_pct $sw_drops $echo_drops" >>"$RTP_ROWS"
    log "  $n calls ($rate cps, held ${hold}s): $ok ok, $up up at once; A.in $a_in B.out $b_out B.in $b_in A.out $a_out expected $expected; relay loss ${relay_loss}%, ingress short ${short} pkt/call, echo loss ${echo_loss}%; socket drops: switch $sw_drops, SIPp echo $echo_drops (its buffer ${ECHO_BUF}B); switch CPU ${cpu_pct}% (idle ${idle_pct}%, host ${host_pct}%), RSS $rss_idle -> $rss_peak KiB = $kib KiB/call: $verdict"
    if [[ $verdict == clean ]]; then BEST_RTP=$n BEST_RTP_KIB=$kib; return 0; fi
    RTP_FAILED_AT=$n
    return 1
}

if ((DO_RTP)); then
    log "simultaneous bridged calls with RTP both ways (steps: $RTP_CALLS; held ${HOLD}s)"
    for n in $RTP_CALLS; do
        rtp_step "$n" || break
    done
fi

# ---------------------------------------------------------------------------------------------
# Summary.
pct() { [[ $2 -gt 0 ]] && calc "$1 * 100 / $2" | awk '{printf "%.0f%%", $1}' || echo "-"; }
# The switch's CPU per call: mean over the runs of its highest clean step (else of its first).
us_at() { awk -v r="$1" '$1 == "switch" && $2 == r && $10 != "-" {s += $10; n++} END {if (n) printf "%.0f", s / n; else print "-"}' "$CPS_ROWS"; }
SW_US=$(us_at "$BEST_SWITCH")
[[ $BEST_SWITCH -eq 0 ]] && SW_US=$(us_at "$(awk '$1 == "switch" {print $2; exit}' "$CPS_ROWS")")
ge() { [[ $1 -eq 1 ]] && echo ">=" || echo ""; }
verdict() { [[ $1 -eq 1 ]] && echo "PASS" || echo "FAIL"; }

{
    echo "ferroswitch SIP load benchmark (tests/bench/sip_load.sh$( ((QUICK)) && echo ' --quick'))"
    echo "date: $START_DATE   host: $NCPU cores, load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "(the load generator shares the host; other work on it lowers every figure)"
    echo "switch: $SRC_NOTE"
    echo "switch config: $CONF, with --set sip.udp=127.0.0.1:$SW_PORT sip.tcp=off rtp.ports=$RTP_PORTS acl.trusted=[127.0.0.1/32] sip.auth_algorithms=[MD5] log.level=warn; open files limit $NOFILE"
    echo "net.core.rmem_max $RMEM_MAX, rmem_default $RMEM_DEF; SIPp -buff_size $BUF (its echo socket: rmem_default $BUF at its start)$( ((BIGBUF)) && echo "; --switch-big-buffers: the switch started with rmem/wmem_default $BUF")"
    [[ -n $SWITCH_DIED ]] && echo "THE SWITCH DIED: $SWITCH_DIED"
    echo
    if ((DO_CPS)); then
        echo "Calls per second: 0-second calls (INVITE/200/ACK/BYE/200), rate x $CALLS_PER_SEC calls per run,"
        echo "$REPEAT runs per step; a step is clean when every call of every run succeeded (SIPp exit 0,"
        echo "FailedCall 0) at >= 90% of the rate (calls / SIPp's run time; retransmission tails fail this)."
        printf '  %-36s %16s %16s\n' "" "SIPp direct" "via ferroswitch"
        printf '  %-36s %16s %16s\n' "highest clean rate (cps)" "$(ge $TOP_DIRECT)$BEST_DIRECT" "$(ge $TOP_SWITCH)$BEST_SWITCH"
        printf '  %-36s %16s %16s\n' "ratio to the direct ceiling" "100%" "$(pct "$BEST_SWITCH" "$BEST_DIRECT")"
        printf '  %-36s %16s %16s\n' "switch CPU per call (us)" "-" "$SW_US"
        read -r rb tb dr <<<"$SW_SIP_MEM"
        printf '  %-36s %16s %16s\n' "switch SIP socket rcvbuf/sndbuf (B)" "$BUF" "$rb/$tb"
        printf '  %-36s %16s %16s\n' "switch SIP socket drops (whole test)" "-" "$dr"
        printf '  %-36s %16s %16s\n' "switch RSS before/after (KiB)" "-" "$SW_RSS_CPS_START/$SW_RSS_CPS_END"
        local_target=0
        [[ $BEST_DIRECT -gt 0 ]] && ((BEST_SWITCH * 2 >= BEST_DIRECT)) && local_target=1
        echo "  target: switch >= 50% of the direct ceiling: $(verdict $local_target)"
        echo "  runs (path rate run: ok/calls failed retrans achieved-cps rc switch-us/call switch-SIP-drops):"
        awk '{printf "    %-6s %5s #%s: %6s/%-6s %5s failed %6s retrans %5s cps rc %-3s %5s us/call %6s drops\n", $1, $2, $3, $5, $4, $6, $7, $8, $9, $10, $11}' "$CPS_ROWS"
        echo
    fi
    if ((DO_RTP)); then
        echo "Simultaneous bridged calls, PCMA 20 ms both ways (SIPp rtp_stream -> switch -> SIPp -rtp_echo"
        echo "-> switch -> caller), a fresh switch per step. From the switch's CDRs: relay loss = packets the"
        echo "switch received on one leg and did not send on the other; short = packets per call below"
        echo "media time / 20 ms (what SIPp streams); echo loss = sent to the callee, not echoed back;"
        echo "swdrop/ecdrop = kernel drops (full receive buffer) on the switch's sockets / SIPp's echo socket."
        printf '  %5s %4s %5s %5s %9s %9s %8s %6s %6s %6s %6s %5s %6s %5s %7s %8s %s\n' calls cps ok up "A.in" "B.in" "relay%" short "echo%" "swdrop" "ecdrop" "idle%" "CPU%" "host%" "RSS-MiB" "KiB/call" result
        awk '{printf "  %5s %4s %5s %5s %9s %9s %8s %6s %6s %6s %6s %5s %6s %5s %7.1f %8s %s\n", $1, $2, $4, $5, $6, $8, $11, $12, $13, $22, $23, $21, $14, $15, $17/1024, $18, $20}' "$RTP_ROWS"
        echo "  (CPU% of one core while all calls are up; host% = the whole host, load generator included;"
        echo "   KiB/call = (RSS with every call up - RSS of the idle switch) / calls)"
        echo "  highest clean step: $BEST_RTP simultaneous calls, $BEST_RTP_KIB KiB of switch RSS per bridged call"
        if ((BEST_RTP >= 500)); then t500=PASS
        elif ((RTP_FAILED_AT > 0)); then t500="FAIL (loss or failed calls at $RTP_FAILED_AT)"
        else t500="not reached (largest step $BEST_RTP)"; fi
        tmem=FAIL
        [[ $BEST_RTP_KIB == "-" ]] && tmem="-"
        [[ $BEST_RTP_KIB != "-" ]] && awk "BEGIN {exit !($BEST_RTP_KIB < 64)}" && tmem=PASS
        echo "  target: 500 simultaneous bridged calls without loss: $t500; < 64 KiB per bridged call: $tmem"
        echo
    fi
    echo "scratch files (SIPp logs and stats, switch logs, CDRs): $WORK"
} | tee "$OUT"
log "summary written to $OUT"
