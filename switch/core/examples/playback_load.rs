//! How many channels can play a prompt at once without late frames.
//!
//! `cargo run --release -p switch-core --example playback_load -- --channels 1000 --seconds 20`
//! starts a tokio runtime with 2 workers (the machine's cores), a [`PortPool`] on 127.0.0.1
//! (`--ports 40000-44999`), and `--channels` relay tasks exactly as a call gets them
//! ([`spawn_relay`], PCMU on side A, [`Relay::set_remote`] to a receiver, [`RelayMode::Idle`],
//! [`Relay::play`] of a looping `--sound`, default `music/moh.wav`, loaded through [`Sounds`]
//! from `sounds/`). `--receivers` threads (10) each own one socket (4 MB `SO_RCVBUF`) that is
//! the remote of a share of the channels, and note the kernel's receive time
//! (`SO_TIMESTAMPNS`: when the relay's `send_to` delivered it, whatever the receiver thread's
//! own scheduling) of every packet by SSRC. The receivers drain their sockets every 5 ms
//! rather than block on them, so that no `send_to` has a sleeping receiver to wake (on
//! loopback the sender pays for that wake-up, and the woken thread preempts the worker), and
//! run at nice 10, below the workers they measure.
//!
//! After a warm-up (`--warmup 2` s from the last channel's start) it measures `--seconds`:
//! packets expected (by sequence numbers, and 50 per second per channel) against received,
//! the inter-arrival gaps of each stream (p50/p99/p99.9/max), late frames (a packet arriving
//! more than 20 ms after its due time, due = the stream's first arrival + 20 ms x (seq - first
//! seq)), gaps over 40 ms, the CPU of the process and of the tokio workers alone (from
//! `/proc/self/task/*/schedstat`, which also says how long the workers were runnable but
//! waited for a CPU), RSS (`/proc/self/status`), and how late a canary thread sleeping 5 ms
//! at a time woke (the machine's scheduling delay, whatever the relays do). It ends with
//! `CLEAN` (no late frame, no gap over 40 ms, nothing lost) or `LATE`.
//!
//! Measured 2026-12-01 on this 2-core VM while other agents built and tested on it (table and
//! details in switch/media/examples/README.md): the largest N that ran clean is 1 500 (20 s,
//! worst frame 5.3 ms after due, workers at 78 % of one core, RSS 90 MB), in a quiet moment;
//! 1 000 ran clean in 2 of 13 runs (worst 4.8 and 7.7 ms). Under the other agents' load every
//! N from 250 up had some late frames (mostly under 1 %, 2-80 % in the worst moments), while
//! the workers needed only 0.05-0.09 % of a core per channel: the frames were late because the
//! workers waited for a CPU, not because they ran out of one. About 60 KB of RSS per channel.

use std::collections::HashMap;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switch_core::media::sounds::{Sounds, DEFAULT_PREFIX};
use switch_core::media::{
    spawn_relay, LegCodec, Play, PlayItem, PortPool, Relay, RelayConfig, RelayMode, Side,
};
use switch_media::codec::CodecDesc;

struct Args {
    channels: usize,
    seconds: u64,
    warmup: u64,
    receivers: usize,
    ports: (u16, u16),
    sound: String,
    sounds: PathBuf,
    workers: usize,
}

fn args() -> Args {
    let mut a = Args {
        channels: 1000,
        seconds: 20,
        warmup: 2,
        receivers: 10,
        ports: (40000, 44999),
        sound: "music/moh.wav".into(),
        sounds: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sounds"),
        workers: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        let num = |what: &str| -> u64 { v.parse().unwrap_or_else(|_| panic!("{what} N")) };
        match k.as_str() {
            "--channels" => a.channels = num("--channels") as usize,
            "--seconds" => a.seconds = num("--seconds"),
            "--warmup" => a.warmup = num("--warmup"),
            "--receivers" => a.receivers = (num("--receivers") as usize).max(1),
            "--workers" => a.workers = (num("--workers") as usize).max(1),
            "--sound" => a.sound = v,
            "--sounds" => a.sounds = PathBuf::from(v),
            "--ports" => {
                let (lo, hi) = v.split_once('-').expect("--ports LOW-HIGH");
                a.ports = (
                    lo.parse().expect("--ports LOW-HIGH"),
                    hi.parse().expect("--ports LOW-HIGH"),
                );
            }
            other => panic!(
                "unknown argument {other}; use --channels, --seconds, --warmup, --receivers, \
                 --workers, --ports, --sound, --sounds"
            ),
        }
    }
    a
}

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const FRAME_NS: i64 = 20_000_000;
/// Gap histogram: 0.1 ms buckets up to 100 ms, then one for everything longer.
const BUCKET_NS: i64 = 100_000;
const BUCKETS: usize = 1001;
/// How long a receiver sleeps once its socket is drained.
const POLL: Duration = Duration::from_millis(5);

fn main() {
    let args = args();
    let rss_start = rss_kb();
    let sound = Sounds::new(&args.sounds, DEFAULT_PREFIX)
        .load(&args.sound, 8000)
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "playback_load: {} channels, PCMU, playing {} ({:.1} s at {} Hz, looped), {} tokio \
         workers, {} receivers",
        args.channels,
        args.sound,
        sound.samples.len() as f64 / f64::from(sound.rate),
        sound.rate,
        args.workers,
        args.receivers
    );
    println!("load average before: {}", loadavg());

    // Receivers first: the relays need their addresses.
    let stop = Arc::new(AtomicBool::new(false));
    let window = Arc::new([AtomicI64::new(i64::MAX), AtomicI64::new(i64::MAX)]);
    let mut sockets = Vec::new();
    let mut receivers = Vec::new();
    for i in 0..args.receivers {
        let sock = UdpSocket::bind((LOCAL, 0)).expect("bind receiver");
        tune(&sock);
        sock.set_nonblocking(true).expect("non-blocking receiver");
        sockets.push(sock.local_addr().expect("receiver address"));
        let (stop, window) = (Arc::clone(&stop), Arc::clone(&window));
        receivers.push(
            std::thread::Builder::new()
                .name(format!("rx-{i}"))
                .spawn(move || receive(sock, &stop, &window))
                .expect("receiver thread"),
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .thread_name("media-worker")
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let (relays, rss_channels) = runtime.block_on(start(&args, &sockets, sound));
    let start_s = started.elapsed().as_secs_f64();
    println!(
        "{} channels started in {start_s:.2} s; warm-up {} s, then measuring {} s",
        relays.len(),
        args.warmup,
        args.seconds
    );
    std::thread::sleep(Duration::from_secs(args.warmup));

    let cpu0 = cpu();
    let wall0 = Instant::now();
    let t0 = realtime_ns();
    window[1].store(t0 + args.seconds as i64 * 1_000_000_000, Ordering::Relaxed);
    window[0].store(t0, Ordering::Relaxed);
    let canary = canary(Duration::from_secs(args.seconds));
    let cpu1 = cpu();
    let wall = wall0.elapsed().as_secs_f64();
    let rss_end = rss_kb();
    // A little more, so what was sent inside the window has arrived.
    std::thread::sleep(Duration::from_millis(200));

    runtime.block_on(async {
        for r in &relays {
            r.stop();
        }
    });
    drop(relays);
    runtime.shutdown_timeout(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for r in receivers {
        total.merge(r.join().expect("receiver thread"));
    }

    report(
        &args,
        &total,
        (cpu0, cpu1),
        wall,
        (rss_start, rss_channels, rss_end),
    );
    println!(
        "scheduling canary (this thread, normal priority, sleeping 5 ms at a time): woke more \
         than 20 ms late {} times, worst {:.1} ms late",
        canary.0,
        canary.1.as_secs_f64() * 1e3
    );
    let clean = total.late == 0
        && total.gaps_over_40 == 0
        && total.received >= total.expected
        && total.streams == args.channels;
    println!("{}", if clean { "CLEAN" } else { "LATE" });
}

/// Sleeps 5 ms at a time for `how_long` and says how often and how badly the thread woke
/// more than 20 ms late: the machine's own scheduling delay, whatever the relays do.
fn canary(how_long: Duration) -> (u64, Duration) {
    let step = Duration::from_millis(5);
    let end = Instant::now() + how_long;
    let (mut late, mut worst) = (0, Duration::ZERO);
    while Instant::now() < end {
        let t = Instant::now();
        std::thread::sleep(step);
        let over = t.elapsed().saturating_sub(step);
        worst = worst.max(over);
        if over > Duration::from_millis(20) {
            late += 1;
        }
    }
    (late, worst)
}

/// Starts every channel; returns their handles and the RSS once they all play.
async fn start(
    args: &Args,
    receivers: &[SocketAddr],
    sound: switch_core::media::Sound,
) -> (Vec<Relay>, u64) {
    let pool = PortPool::new(LOCAL, args.ports.0..=args.ports.1);
    let (events, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    // Nothing here needs the events (a looping playback never ends); keep the queue empty.
    tokio::spawn(async move { while events_rx.recv().await.is_some() {} });
    let cfg = RelayConfig {
        timeout: None,
        ..RelayConfig::default()
    };
    let codec = LegCodec::new(CodecDesc::PCMU, 0, Some(101));
    let play = Play {
        repeat: None,
        ..Play::once(1, vec![PlayItem::Sound(sound)])
    };
    let mut relays = Vec::with_capacity(args.channels);
    for i in 0..args.channels {
        let port = pool
            .allocate()
            .await
            .unwrap_or_else(|e| panic!("channel {i}: {e}"));
        let relay = spawn_relay(port, cfg, events.clone(), i as u64);
        relay
            .set_codec(Side::A, Some(codec.clone()))
            .await
            .expect("set_codec");
        relay.set_remote(Side::A, receivers[i % receivers.len()], false);
        relay.set_mode(RelayMode::Idle);
        relay.play(Side::A, play.clone()).await.expect("play");
        relays.push(relay);
    }
    (relays, rss_kb())
}

/// What one receiver saw, merged over all.
struct Tally {
    streams: usize,
    /// Packets received in the window.
    received: u64,
    /// Sum over streams of the sequence span seen in the window.
    expected: u64,
    late: u64,
    max_late_ns: i64,
    gaps_over_40: u64,
    gaps: [u64; BUCKETS],
    max_gap_ns: i64,
    /// Late frames before the window (start-up), for information.
    late_before: u64,
    /// Datagrams that were not this test's RTP (the relays' RTCP goes elsewhere; anything
    /// else is counted here).
    other: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            streams: 0,
            received: 0,
            expected: 0,
            late: 0,
            max_late_ns: 0,
            gaps_over_40: 0,
            gaps: [0; BUCKETS],
            max_gap_ns: 0,
            late_before: 0,
            other: 0,
        }
    }
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.streams += o.streams;
        self.received += o.received;
        self.expected += o.expected;
        self.late += o.late;
        self.max_late_ns = self.max_late_ns.max(o.max_late_ns);
        self.gaps_over_40 += o.gaps_over_40;
        for (a, b) in self.gaps.iter_mut().zip(o.gaps.iter()) {
            *a += b;
        }
        self.max_gap_ns = self.max_gap_ns.max(o.max_gap_ns);
        self.late_before += o.late_before;
        self.other += o.other;
    }

    /// The gap (ms) below which `q` of the gaps fall.
    fn gap_quantile_ms(&self, q: f64) -> String {
        let n: u64 = self.gaps.iter().sum();
        let want = (q * n as f64).ceil() as u64;
        let mut seen = 0;
        for (i, c) in self.gaps.iter().enumerate() {
            seen += c;
            if seen >= want.max(1) {
                if i == BUCKETS - 1 {
                    break;
                }
                return format!("{:.2}", (i as i64 * BUCKET_NS + BUCKET_NS / 2) as f64 / 1e6);
            }
        }
        format!(">{}", (BUCKETS - 1) as i64 * BUCKET_NS / 1_000_000)
    }
}

/// One SSRC's stream as a receiver follows it.
struct Track {
    first_seq: i64,
    first_ns: i64,
    last_seq: i64,
    last_ns: i64,
    /// First sequence number seen inside the window.
    window_first: Option<i64>,
    window_last: i64,
}

/// Reads datagrams until `stop`, tallying the packets that arrive inside `window`.
fn receive(sock: UdpSocket, stop: &AtomicBool, window: &[AtomicI64; 2]) -> Tally {
    // Below the workers: a receiver that runs late loses nothing (the kernel stamped the
    // packet and holds it), a worker that runs late is what is measured.
    // SAFETY: gettid and setpriority on the calling thread have no memory preconditions.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
    let mut tally = Tally::default();
    let mut tracks: HashMap<u32, Track> = HashMap::new();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        // Drain, then sleep: the kernel's timestamps keep the arrival times, and a receiver
        // that is not waiting is not woken (and does not preempt a worker) per packet.
        let Some((len, at)) = recv_stamped(&sock, &mut buf) else {
            std::thread::sleep(POLL);
            continue;
        };
        let p = &buf[..len];
        // RTP version 2, payload type 0 (PCMU): the relays' packets.
        if len < 12 || p[0] >> 6 != 2 || p[1] & 0x7f != 0 {
            tally.other += 1;
            continue;
        }
        let seq = u16::from_be_bytes([p[2], p[3]]);
        let ssrc = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
        let (start, end) = (
            window[0].load(Ordering::Relaxed),
            window[1].load(Ordering::Relaxed),
        );
        let in_window = at >= start && at < end;
        let t = tracks.entry(ssrc).or_insert_with(|| Track {
            first_seq: i64::from(seq),
            first_ns: at,
            last_seq: i64::from(seq) - 1,
            last_ns: at,
            window_first: None,
            window_last: 0,
        });
        // Extend the 16-bit sequence number around the last one seen.
        let delta = i64::from(seq.wrapping_sub(t.last_seq as u16) as i16);
        let ext = t.last_seq + delta;
        let due = t.first_ns + FRAME_NS * (ext - t.first_seq);
        let late = at - due > FRAME_NS;
        if in_window {
            tally.received += 1;
            if t.window_first.is_none() {
                t.window_first = Some(ext);
            } else {
                let gap = at - t.last_ns;
                let bucket = usize::try_from(gap / BUCKET_NS)
                    .unwrap_or(0)
                    .min(BUCKETS - 1);
                tally.gaps[bucket] += 1;
                tally.max_gap_ns = tally.max_gap_ns.max(gap);
                if gap > 2 * FRAME_NS {
                    tally.gaps_over_40 += 1;
                }
            }
            t.window_last = t.window_last.max(ext);
            if late {
                tally.late += 1;
            }
            tally.max_late_ns = tally.max_late_ns.max(at - due);
        } else if late && at < start {
            tally.late_before += 1;
        }
        if ext > t.last_seq {
            t.last_seq = ext;
        }
        t.last_ns = at;
    }
    for t in tracks.values() {
        if let Some(first) = t.window_first {
            tally.streams += 1;
            tally.expected += (t.window_last - first + 1) as u64;
        }
    }
    tally
}

/// A large receive buffer and kernel receive timestamps.
fn tune(sock: &UdpSocket) {
    let fd = sock.as_raw_fd();
    let size: libc::c_int = 4 << 20;
    let on: libc::c_int = 1;
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is an open socket; the option values are c_ints that outlive the calls.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            len,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            len,
        );
    }
}

/// One datagram and the kernel's receive time (ns since the Unix epoch; the time of the
/// call when the kernel gave none).
fn recv_stamped(sock: &UdpSocket, buf: &mut [u8]) -> Option<(usize, i64)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: an all-zero msghdr is valid; the pointers set below live until recvmsg returns.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: `msg` describes `buf` and `control`, both valid for writes of their lengths.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return None;
    }
    let mut at = None;
    // SAFETY: the cmsg macros walk the control buffer the kernel just filled, within
    // `msg_controllen`; SCM_TIMESTAMPNS carries a timespec.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                at = Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Some((n as usize, at.unwrap_or_else(realtime_ns)))
}

fn realtime_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// CPU counters at one moment.
#[derive(Clone, Copy, Default)]
struct Cpu {
    /// utime + stime of the whole process, clock ticks.
    process_ticks: u64,
    /// Time the tokio workers ran, ns (`schedstat`).
    workers_ran_ns: u64,
    /// Time the tokio workers were runnable but waited for a CPU, ns (`schedstat`).
    workers_waited_ns: u64,
}

fn cpu() -> Cpu {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let mut c = Cpu {
        process_ticks: get(11) + get(12),
        ..Cpu::default()
    };
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() != "media-worker" {
                continue;
            }
            let sched = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            let mut n = sched
                .split_whitespace()
                .map(|x| x.parse::<u64>().unwrap_or(0));
            c.workers_ran_ns += n.next().unwrap_or(0);
            c.workers_waited_ns += n.next().unwrap_or(0);
        }
    }
    c
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn report(args: &Args, t: &Tally, cpu: (Cpu, Cpu), wall: f64, rss: (u64, u64, u64)) {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let (c0, c1) = cpu;
    let process = (c1.process_ticks - c0.process_ticks) as f64 / hz / wall * 100.0;
    let workers = (c1.workers_ran_ns - c0.workers_ran_ns) as f64 / 1e9 / wall * 100.0;
    let waited = (c1.workers_waited_ns - c0.workers_waited_ns) as f64 / 1e6 / wall;
    let nominal = args.channels as u64 * args.seconds * 50;
    let lost = t.expected.saturating_sub(t.received);
    println!(
        "streams heard in the window: {}/{}{}",
        t.streams,
        args.channels,
        if t.other > 0 {
            format!(" ({} other datagrams ignored)", t.other)
        } else {
            String::new()
        }
    );
    println!(
        "packets: nominal {nominal} (50/s x {} x {} s), expected by seq {}, received {}, lost {lost}",
        args.channels, args.seconds, t.expected, t.received
    );
    println!(
        "inter-arrival gap ms: p50 {}  p99 {}  p99.9 {}  max {:.2}",
        t.gap_quantile_ms(0.5),
        t.gap_quantile_ms(0.99),
        t.gap_quantile_ms(0.999),
        t.max_gap_ns as f64 / 1e6
    );
    println!(
        "late frames (> 20 ms after due): {} ({:.4} %), worst {:.1} ms after due; gaps > 40 ms: {}; \
         late before the window (start-up): {}",
        t.late,
        t.late as f64 * 100.0 / t.received.max(1) as f64,
        t.max_late_ns as f64 / 1e6,
        t.gaps_over_40,
        t.late_before
    );
    println!(
        "CPU: process {process:.1} % of one core, tokio workers {workers:.1} % ({:.1} µs per \
         channel-second, {:.3} % of a core per channel)",
        workers / 100.0 * 1e6 / args.channels as f64,
        workers / args.channels as f64
    );
    println!(
        "tokio workers waited for a CPU (runnable, not running): {waited:.1} ms per second, \
         summed over the workers"
    );
    let (r0, r1, r2) = rss;
    println!(
        "RSS: {:.1} MB at start, {:.1} MB with the channels playing, {:.1} MB at the end \
         ({:.1} KB per channel)",
        r0 as f64 / 1024.0,
        r1 as f64 / 1024.0,
        r2 as f64 / 1024.0,
        (r2.saturating_sub(r0)) as f64 / args.channels.max(1) as f64
    );
    println!(
        "load average at the end (other agents share the machine): {}",
        loadavg()
    );
}
