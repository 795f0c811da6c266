//! Replays of packet traces through the buffer with a fake clock.

use super::{JitterBuffer, JitterConfig, JitterError, JitterStats, Pop, Pushed, RtpMeta};
use crate::rtp::Ssrc;
use std::time::{Duration, Instant};

/// What a pop gave, reduced for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// A packet, by sequence number (checked against its payload).
    P(u16),
    M,
    E,
}

/// One arrival: when (ms), sequence number, timestamp, marker, SSRC.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at_ms: u64,
    seq: u16,
    ts: u32,
    marker: bool,
    ssrc: u32,
}

fn arrival(at_ms: u64, seq: u16) -> Arrival {
    Arrival {
        at_ms,
        seq,
        ts: u32::from(seq).wrapping_mul(160).wrapping_add(1_000_000),
        marker: false,
        ssrc: 7,
    }
}

/// A steady stream: packet `i` (sequence `first + i`) sent at `20 i` ms, arriving 3 ms later.
fn steady(first: u16, count: u16, start_ms: u64) -> Vec<Arrival> {
    (0..count)
        .map(|i| arrival(start_ms + u64::from(i) * 20 + 3, first.wrapping_add(i)))
        .collect()
}

struct Sim {
    jb: JitterBuffer,
    t0: Instant,
    pushed: Vec<Pushed>,
}

impl Sim {
    fn new(cfg: JitterConfig) -> Sim {
        Sim {
            jb: JitterBuffer::new(cfg).expect("config"),
            t0: Instant::now(),
            pushed: Vec::new(),
        }
    }

    fn g711(min: u32, max: u32) -> Sim {
        let mut cfg = JitterConfig::new(8000, 160);
        cfg.min_delay_ms = min;
        cfg.max_delay_ms = max;
        Sim::new(cfg)
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Pushes the arrivals (sorted by time) and pops every 20 ms at `20 k + 10` ms, for
    /// `pops` pops starting at `first_pop`.
    fn run(&mut self, trace: &[Arrival], first_pop: u64, pops: u64) -> Vec<Out> {
        let mut trace = trace.to_vec();
        trace.sort_by_key(|a| a.at_ms);
        let mut it = trace.iter().peekable();
        let mut out = Vec::new();
        for k in first_pop..first_pop + pops {
            let t = k * 20 + 10;
            while let Some(a) = it.next_if(|a| a.at_ms <= t) {
                let meta = RtpMeta {
                    ssrc: Ssrc(a.ssrc),
                    sequence: a.seq,
                    timestamp: a.ts,
                    marker: a.marker,
                };
                let r = self.jb.push(self.at(a.at_ms), meta, &a.seq.to_be_bytes());
                self.pushed.push(r);
            }
            out.push(match self.jb.pop(self.at(t)) {
                Pop::Packet {
                    payload, sequence, ..
                } => {
                    assert_eq!(payload, sequence.to_be_bytes(), "payload of {sequence}");
                    Out::P(sequence)
                }
                Pop::Missing => Out::M,
                Pop::Empty => Out::E,
            });
        }
        out
    }

    fn stats(&self) -> JitterStats {
        self.jb.stats()
    }
}

/// The output without the leading `Empty`s of buffering.
fn played(out: &[Out]) -> Vec<Out> {
    out.iter().copied().skip_while(|o| *o == Out::E).collect()
}

fn packets(out: &[Out]) -> Vec<u16> {
    out.iter()
        .filter_map(|o| match o {
            Out::P(s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn a_steady_stream_plays_in_order_after_the_minimum_delay() {
    let mut sim = Sim::g711(20, 200);
    let out = sim.run(&steady(100, 50, 0), 0, 60);
    assert_eq!(out[0], Out::E, "buffering");
    let p = played(&out);
    let want: Vec<Out> = (100..150).map(Out::P).collect();
    assert_eq!(&p[..50], &want[..]);
    let s = sim.stats();
    assert_eq!((s.received, s.lost, s.late, s.duplicate), (50, 0, 0, 0));
    assert_eq!(s.target_ms, 20);
    assert!(s.delay_ms <= 40, "{s:?}");
}

#[test]
fn reordered_packets_come_out_in_order() {
    let mut sim = Sim::g711(60, 200);
    let order = [1u16, 2, 4, 3, 5, 7, 6, 8, 10, 9, 11, 12, 13, 14, 15, 16];
    let trace: Vec<Arrival> = order
        .iter()
        .enumerate()
        .map(|(i, &s)| arrival(i as u64 * 20 + 3, s))
        .collect();
    let out = sim.run(&trace, 0, 30);
    assert_eq!(packets(&out), (1..=16).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!((s.reordered, s.lost, s.late), (3, 0, 0));
}

#[test]
fn a_lost_packet_is_one_missing_slot() {
    let mut sim = Sim::g711(20, 200);
    let trace: Vec<Arrival> = steady(0, 20, 0)
        .into_iter()
        .filter(|a| a.seq != 5)
        .collect();
    let out = played(&sim.run(&trace, 0, 25));
    assert_eq!(
        &out[..7],
        &[
            Out::P(0),
            Out::P(1),
            Out::P(2),
            Out::P(3),
            Out::P(4),
            Out::M,
            Out::P(6)
        ]
    );
    assert_eq!(sim.stats().lost, 1);
}

#[test]
fn a_packet_after_its_slot_is_late_and_dropped() {
    let mut sim = Sim::g711(20, 20);
    let mut trace = steady(0, 20, 0);
    trace[5].at_ms += 70;
    let out = played(&sim.run(&trace, 0, 25));
    assert_eq!(out[5], Out::M);
    assert!(!packets(&out).contains(&5));
    let s = sim.stats();
    assert_eq!((s.lost, s.late, s.received), (1, 1, 20));
    assert!(sim.pushed.contains(&Pushed::Late));
}

#[test]
fn duplicates_are_counted_and_played_once() {
    let mut sim = Sim::g711(40, 200);
    let mut trace = steady(0, 20, 0);
    trace.push(arrival(64, 3)); // a second copy while held
    trace.push(arrival(300, 2)); // a copy long after it was played
    let out = sim.run(&trace, 0, 25);
    assert_eq!(packets(&out), (0..20).collect::<Vec<u16>>());
    assert_eq!(sim.stats().duplicate, 2);
}

#[test]
fn sequence_numbers_wrap_at_65535() {
    let mut sim = Sim::g711(40, 200);
    let mut trace = steady(65_530, 16, 0);
    trace.swap(5, 6); // 65535 and 0 swapped across the wrap
    trace[5].at_ms = trace[6].at_ms - 1;
    let out = sim.run(&trace, 0, 25);
    let want: Vec<u16> = (0..16u16).map(|i| 65_530u16.wrapping_add(i)).collect();
    assert_eq!(packets(&out), want);
    let s = sim.stats();
    assert_eq!((s.lost, s.late, s.reordered), (0, 0, 1));
}

#[test]
fn a_delay_spike_is_waited_for_not_lost() {
    let mut sim = Sim::g711(20, 200);
    let mut trace = steady(0, 30, 0);
    // Packets 10-12 held up in the network and delivered together 50 ms late.
    for a in &mut trace[10..13] {
        a.at_ms = 12 * 20 + 3 + 10;
    }
    let out = sim.run(&trace, 0, 40);
    assert_eq!(packets(&out), (0..30).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!((s.lost, s.late), (0, 0));
    assert!(s.expanded >= 2, "{s:?}");
}

#[test]
fn a_stray_packet_is_ignored_and_a_confirmed_jump_restarts() {
    let mut sim = Sim::g711(20, 200);
    let mut trace = steady(0, 10, 0);
    let mut stray = arrival(95, 30_000);
    stray.ts = 5;
    trace.push(stray);
    // The sender restarts at 40000: two packets in a row confirm it.
    trace.extend(steady(40_000, 10, 200));
    let out = sim.run(&trace, 0, 30);
    let got = packets(&out);
    assert!(!got.contains(&30_000));
    assert_eq!(&got[..10], &(0..10).collect::<Vec<u16>>()[..]);
    assert_eq!(&got[10..], &(40_001..40_010).collect::<Vec<u16>>()[..]);
    assert_eq!(sim.stats().resets, 1);
    assert_eq!(
        sim.pushed.iter().filter(|p| **p == Pushed::Stray).count(),
        2
    );
}

#[test]
fn a_new_ssrc_restarts_the_buffer() {
    let mut sim = Sim::g711(20, 200);
    let mut trace = steady(500, 10, 0);
    let mut other = steady(9, 10, 260);
    for a in &mut other {
        a.ssrc = 8;
    }
    trace.extend(other);
    let out = sim.run(&trace, 0, 30);
    let got = packets(&out);
    assert_eq!(&got[..10], &(500..510).collect::<Vec<u16>>()[..]);
    assert_eq!(&got[10..], &(9..19).collect::<Vec<u16>>()[..]);
    assert_eq!(sim.stats().resets, 1);
    assert_eq!(sim.stats().lost, 0);
}

#[test]
fn a_timestamp_jump_does_not_look_like_jitter() {
    let mut sim = Sim::g711(20, 200);
    let mut trace = steady(0, 40, 0);
    for a in &mut trace[20..] {
        a.ts = a.ts.wrapping_add(3_000_000);
    }
    let out = sim.run(&trace, 0, 45);
    assert_eq!(packets(&out), (0..40).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!(s.timestamp_jumps, 1);
    assert!(s.jitter_ms < 1.0, "{s:?}");
}

#[test]
fn a_pause_conceals_briefly_then_goes_quiet_and_resumes() {
    let mut sim = Sim::g711(20, 200);
    let mut trace = steady(0, 10, 0);
    let mut resumed = steady(10, 10, 1000);
    resumed[0].marker = true;
    for a in &mut resumed {
        a.ts = a.ts.wrapping_add(8000 * 4 / 5); // the silence in timestamp units
    }
    trace.extend(resumed);
    let out = sim.run(&trace, 0, 70);
    let p = played(&out);
    assert_eq!(&p[10..13], &[Out::M, Out::M, Out::M], "{p:?}");
    assert_eq!(p[13], Out::E);
    assert_eq!(packets(&out), (0..20).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!((s.lost, s.late), (0, 0));
}

#[test]
fn a_burst_of_jitter_raises_the_delay_and_a_quiet_period_lowers_it() {
    let mut sim = Sim::g711(20, 200);
    // 4 s steady, 6 s in bursts (each packet held to the next 100 ms boundary), 30 s steady.
    let mut trace = Vec::new();
    for i in 0..2000u16 {
        let sent = u64::from(i) * 20;
        let at = if (200..500).contains(&i) {
            (sent / 100 + 1) * 100 + 3
        } else {
            sent + 3
        };
        trace.push(arrival(at, i));
    }
    let mut out = sim.run(&trace[..200], 0, 200);
    let quiet = sim.stats();
    assert_eq!(quiet.target_ms, 20);
    out.extend(sim.run(&trace[200..500], 200, 300));
    let jittery = sim.stats();
    assert!(jittery.target_ms >= 80, "{jittery:?}");
    assert!(jittery.delay_ms >= 80, "{jittery:?}");
    assert!(jittery.jitter_ms > 20.0, "{jittery:?}");
    out.extend(sim.run(&trace[500..], 500, 1500));
    let calm = sim.stats();
    assert_eq!(calm.target_ms, 20, "{calm:?}");
    assert!(calm.delay_ms <= 40, "{calm:?}");
    assert!(calm.max_delay_ms >= 80);
    assert!(calm.skipped >= 3, "shrunk by skipping: {calm:?}");
    // Sequence order holds throughout; losses only while the target was catching up.
    let got = packets(&out);
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    assert!(calm.late + calm.lost < 30, "{calm:?}");
    assert!(
        got.len() as u64 + calm.lost + calm.skipped <= 2000,
        "{calm:?}"
    );
    assert!(got.len() > 1900, "{}", got.len());
}

#[test]
fn opus_at_48_khz() {
    let mut sim = Sim::new(JitterConfig::new(48_000, 960));
    let trace: Vec<Arrival> = (0..20u16)
        .map(|i| {
            let mut a = arrival(u64::from(i) * 20 + 3, i);
            a.ts = u32::from(i) * 960;
            a
        })
        .collect();
    let out = sim.run(&trace, 0, 25);
    assert_eq!(packets(&out), (0..20).collect::<Vec<u16>>());
    assert!(sim.stats().jitter_ms < 0.1);
}

#[test]
fn oversized_payloads_and_bad_configs_are_refused() {
    let mut cfg = JitterConfig::new(8000, 160);
    cfg.max_payload = 10;
    let mut jb = JitterBuffer::new(cfg).expect("config");
    let meta = RtpMeta {
        ssrc: Ssrc(1),
        sequence: 1,
        timestamp: 0,
        marker: false,
    };
    assert_eq!(jb.push(Instant::now(), meta, &[0; 11]), Pushed::TooLarge);
    assert_eq!(jb.push(Instant::now(), meta, &[0; 10]), Pushed::Stored);
    assert_eq!(jb.len(), 1);
    jb.reset();
    assert!(jb.is_empty());
    assert_eq!(jb.stats().too_large, 1);
    for bad in [
        JitterConfig::new(0, 160),
        JitterConfig::new(8000, 0),
        JitterConfig {
            min_delay_ms: 300,
            ..JitterConfig::new(8000, 160)
        },
        JitterConfig {
            max_payload: 0,
            ..JitterConfig::new(8000, 160)
        },
    ] {
        assert!(matches!(
            JitterBuffer::new(bad),
            Err(JitterError::Config(_))
        ));
    }
}

#[test]
fn random_traces_keep_the_invariants() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut rnd = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for _ in 0..40 {
        let mut sim = Sim::g711(20, 200);
        let mut trace = Vec::new();
        for i in 0..500u16 {
            if rnd(20) == 0 {
                continue; // lost
            }
            let at = u64::from(i) * 20 + rnd(120);
            let seq = 60_000u16.wrapping_add(i);
            trace.push(arrival(at, seq));
            if rnd(30) == 0 {
                trace.push(arrival(at + rnd(50), seq)); // duplicate
            }
        }
        let out = sim.run(&trace, 0, 540);
        let got = packets(&out);
        let rank = |s: u16| s.wrapping_sub(60_000);
        assert!(got.windows(2).all(|w| rank(w[0]) < rank(w[1])), "order");
        let s = sim.stats();
        // Bursts can momentarily queue more than the maximum; it is then cut back.
        assert!(s.target_ms <= 200 && s.delay_ms <= 200 + 140, "{s:?}");
        assert!(sim.jb.len() <= 2 * 10 + 8);
    }
}
