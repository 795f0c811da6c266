//! The ring of slots and the playout decisions.

use std::time::{Duration, Instant};

use super::estimate::{Estimator, Sample};
use super::{JitterConfig, JitterError, JitterStats, Pop, Pushed, RtpMeta};
use crate::rtp::Ssrc;

/// A forward sequence jump larger than this is a stray packet or a restarted sender
/// (RFC 3550 A.1's MAX_DROPOUT).
const MAX_DROPOUT: i64 = 3000;
/// A backward jump larger than this is too (A.1's MAX_MISORDER).
const MAX_MISORDER: i64 = 100;
/// Pops over which the queue depth is watched (one second of 20 ms packets).
const WINDOW: usize = 50;
/// Pops a lower jitter estimate must last before the target comes down one packet.
const SHRINK_HOLD: u32 = 50;
/// Consecutive pops with nothing to play that are concealed before the stream counts as
/// paused (60 ms of 20 ms packets).
const MAX_UNDERRUN: u32 = 3;

/// The jitter buffer of one stream; see the [module](super) documentation.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    ptime_ms: f64,
    min_slots: u32,
    max_slots: u32,
    slots: Vec<Slot>,
    /// `slots.len() * max_payload` bytes, allocated once.
    data: Vec<u8>,
    ssrc: Option<Ssrc>,
    /// Extended sequence numbers (64-bit, never wrapping).
    highest: Option<u64>,
    next: u64,
    /// Something has been played since the (re)start: `next` only moves forward.
    played: bool,
    /// Bit `i` set: `highest - i` has been received.
    recent: u64,
    /// A stray packet's successor: if it comes next, the stream restarts there.
    stray_next: Option<u16>,
    state: State,
    estimator: Estimator,
    target_slots: u32,
    shrink_hold: u32,
    underruns: u32,
    window: [u16; WINDOW],
    window_len: usize,
    window_at: usize,
    stats: JitterStats,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    used: bool,
    seq: u64,
    timestamp: u32,
    marker: bool,
    len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No packet to wait for.
    Idle,
    /// Holding packets until the target delay has passed since `since`.
    Buffering {
        since: Instant,
    },
    Playing,
}

impl JitterBuffer {
    /// A buffer for `cfg`; all its storage is allocated here.
    pub fn new(cfg: JitterConfig) -> Result<JitterBuffer, JitterError> {
        if cfg.clock_rate == 0 || cfg.samples_per_packet == 0 {
            return Err(JitterError::Config(
                "clock rate and samples per packet must be > 0",
            ));
        }
        if cfg.max_payload == 0 || cfg.max_payload > 65_535 {
            return Err(JitterError::Config("max payload must be 1-65535 bytes"));
        }
        if cfg.min_delay_ms > cfg.max_delay_ms || cfg.max_delay_ms > 10_000 {
            return Err(JitterError::Config("delays must be min <= max <= 10 s"));
        }
        let ptime_ms = f64::from(cfg.samples_per_packet) * 1000.0 / f64::from(cfg.clock_rate);
        if !(1.0..=1000.0).contains(&ptime_ms) {
            return Err(JitterError::Config("a packet must last 1 ms to 1 s"));
        }
        let min_slots = ((f64::from(cfg.min_delay_ms) / ptime_ms).ceil() as u32).max(1);
        let max_slots = ((f64::from(cfg.max_delay_ms) / ptime_ms).floor() as u32).max(min_slots);
        // Room for the deepest delay twice over, for reordering and bursts beyond it.
        let capacity = (2 * max_slots as usize + 8).max(16);
        let empty = Slot {
            used: false,
            seq: 0,
            timestamp: 0,
            marker: false,
            len: 0,
        };
        let mut jb = JitterBuffer {
            cfg,
            ptime_ms,
            min_slots,
            max_slots,
            slots: vec![empty; capacity],
            data: vec![0; capacity * cfg.max_payload],
            ssrc: None,
            highest: None,
            next: 0,
            played: false,
            recent: 0,
            stray_next: None,
            state: State::Idle,
            estimator: Estimator::new(cfg.clock_rate),
            target_slots: min_slots,
            shrink_hold: 0,
            underruns: 0,
            window: [0; WINDOW],
            window_len: 0,
            window_at: 0,
            stats: JitterStats::default(),
        };
        jb.stats.target_ms = jb.slots_ms(min_slots);
        Ok(jb)
    }

    /// The configuration.
    pub fn config(&self) -> JitterConfig {
        self.cfg
    }

    /// Counters and estimates.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Packets held now.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.used).count()
    }

    /// No packet is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the stream (packets, sequence state, SSRC); counters are kept.
    pub fn reset(&mut self) {
        self.restart();
        self.ssrc = None;
    }

    /// Takes one RTP packet of the stream: its header fields and payload, arrived at `now`.
    pub fn push(&mut self, now: Instant, meta: RtpMeta, payload: &[u8]) -> Pushed {
        if payload.len() > self.cfg.max_payload {
            self.stats.too_large += 1;
            return Pushed::TooLarge;
        }
        if self.ssrc.is_some_and(|s| s != meta.ssrc) {
            self.stats.resets += 1;
            self.restart();
        }
        self.ssrc = Some(meta.ssrc);
        let Some(highest) = self.highest else {
            // One cycle of headroom below, for packets older than the first.
            return self.start_at(now, 65_536 + u64::from(meta.sequence), meta, payload);
        };
        let seq = extend(highest, meta.sequence);
        let delta = seq as i64 - highest as i64;
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            if self.stray_next == Some(meta.sequence) {
                self.stats.resets += 1;
                self.restart();
                return self.start_at(now, 65_536 + u64::from(meta.sequence), meta, payload);
            }
            self.stray_next = Some(meta.sequence.wrapping_add(1));
            return Pushed::Stray;
        }
        self.stray_next = None;
        if delta <= 0 && delta > -64 && self.recent & (1u64 << (-delta)) != 0 {
            self.stats.duplicate += 1;
            return Pushed::Duplicate;
        }
        let capacity = self.slots.len() as u64;
        if seq < self.next && (self.played || highest - seq >= capacity) {
            self.stats.received += 1;
            self.stats.late += 1;
            self.note_arrival(now, meta);
            return Pushed::Late;
        }
        if delta < 0 {
            self.stats.reordered += 1;
        }
        if seq < self.next {
            // Older than the first packet and nothing played yet: start earlier.
            self.next = seq;
        }
        if seq >= self.next + capacity {
            self.drop_until(seq + 1 - capacity);
        }
        if delta > 0 {
            self.recent = if delta >= 64 { 0 } else { self.recent << delta };
            self.highest = Some(seq);
        }
        let back = (self.highest.unwrap_or(seq) - seq) as u32;
        if back < 64 {
            self.recent |= 1 << back;
        }
        self.store(seq, meta, payload);
        self.stats.received += 1;
        self.note_arrival(now, meta);
        if self.state == State::Idle {
            self.state = State::Buffering { since: now };
        }
        Pushed::Stored
    }

    /// The next slot's worth to play, at `now`: call it once per packet interval.
    pub fn pop(&mut self, now: Instant) -> Pop<'_> {
        self.adapt_target();
        match self.state {
            State::Idle => return Pop::Empty,
            State::Buffering { since } => {
                let wait =
                    Duration::from_secs_f64(f64::from(self.target_slots) * self.ptime_ms / 1000.0);
                if now.saturating_duration_since(since) < wait {
                    return Pop::Empty;
                }
                self.state = State::Playing;
                self.skip_to_first_held();
                self.played = true;
            }
            State::Playing => {}
        }
        let highest = self.highest.unwrap_or(self.next);
        let level = if highest >= self.next {
            highest - self.next + 1
        } else {
            0
        };
        self.note_level(level);
        let deepest = self.window_max();
        if self.is_held(self.next) {
            self.underruns = 0;
            if u64::from(deepest) < u64::from(self.target_slots) {
                // Growing: conceal one slot and keep the packet for the next.
                self.stats.expanded += 1;
                return Pop::Missing;
            }
            let too_deep = (self.window_len == WINDOW
                && u64::from(deepest) > u64::from(self.target_slots) + 1)
                || level > u64::from(self.max_slots) + 1;
            if too_deep && self.is_held(self.next + 1) {
                // Shrinking: drop one packet, at most once per window unless past the
                // maximum delay.
                self.release(self.next);
                self.next += 1;
                self.stats.skipped += 1;
                self.window_len = 0;
            }
            return self.take_next();
        }
        if highest > self.next {
            self.stats.lost += 1;
            self.next += 1;
            self.played = true;
            self.underruns = 0;
            return Pop::Missing;
        }
        self.underruns += 1;
        if self.underruns > MAX_UNDERRUN {
            self.state = State::Idle;
            self.window_len = 0;
            return Pop::Empty;
        }
        self.stats.expanded += 1;
        Pop::Missing
    }

    fn start_at(&mut self, now: Instant, seq: u64, meta: RtpMeta, payload: &[u8]) -> Pushed {
        self.highest = Some(seq);
        self.next = seq;
        self.recent = 1;
        self.stray_next = None;
        self.store(seq, meta, payload);
        self.stats.received += 1;
        self.note_arrival(now, meta);
        self.state = State::Buffering { since: now };
        Pushed::Stored
    }

    /// Back to no stream: slots emptied, estimator re-referenced, target kept.
    fn restart(&mut self) {
        for s in &mut self.slots {
            s.used = false;
        }
        self.highest = None;
        self.next = 0;
        self.played = false;
        self.recent = 0;
        self.stray_next = None;
        self.state = State::Idle;
        self.underruns = 0;
        self.window_len = 0;
        self.estimator.restart();
    }

    fn note_arrival(&mut self, now: Instant, meta: RtpMeta) {
        if self.estimator.arrival(now, meta.timestamp, meta.marker) == Sample::Jump {
            self.stats.timestamp_jumps += 1;
        }
        self.stats.jitter_ms = self.estimator.jitter_ms();
    }

    fn adapt_target(&mut self) {
        let needed = ((3.0 * self.estimator.jitter_ms() / self.ptime_ms).ceil() as u32)
            .clamp(self.min_slots, self.max_slots);
        if needed > self.target_slots {
            self.target_slots = needed;
            self.shrink_hold = 0;
        } else if needed < self.target_slots {
            self.shrink_hold += 1;
            if self.shrink_hold >= SHRINK_HOLD {
                self.target_slots -= 1;
                self.shrink_hold = 0;
            }
        } else {
            self.shrink_hold = 0;
        }
        self.stats.target_ms = self.slots_ms(self.target_slots);
    }

    fn note_level(&mut self, level: u64) {
        let level = u16::try_from(level).unwrap_or(u16::MAX);
        self.window[self.window_at] = level;
        self.window_at = (self.window_at + 1) % WINDOW;
        self.window_len = (self.window_len + 1).min(WINDOW);
        let delay = self.slots_ms(u32::from(self.window_max()));
        self.stats.delay_ms = delay;
        self.stats.max_delay_ms = self.stats.max_delay_ms.max(delay);
    }

    /// The deepest queue over the window: the delay held for the earliest packets.
    fn window_max(&self) -> u16 {
        let n = self.window_len;
        (0..n)
            .map(|i| self.window[(self.window_at + WINDOW - 1 - i) % WINDOW])
            .max()
            .unwrap_or(0)
    }

    fn slots_ms(&self, slots: u32) -> u32 {
        (f64::from(slots) * self.ptime_ms).round() as u32
    }

    fn index(&self, seq: u64) -> usize {
        (seq % self.slots.len() as u64) as usize
    }

    fn is_held(&self, seq: u64) -> bool {
        let s = &self.slots[self.index(seq)];
        s.used && s.seq == seq
    }

    fn store(&mut self, seq: u64, meta: RtpMeta, payload: &[u8]) {
        let i = self.index(seq);
        let max = self.cfg.max_payload;
        // `payload.len() <= max_payload` was checked by `push`.
        self.data[i * max..i * max + payload.len()].copy_from_slice(payload);
        self.slots[i] = Slot {
            used: true,
            seq,
            timestamp: meta.timestamp,
            marker: meta.marker,
            len: payload.len(),
        };
    }

    fn release(&mut self, seq: u64) {
        let i = self.index(seq);
        if self.slots[i].seq == seq {
            self.slots[i].used = false;
        }
    }

    /// Moves `next` up to `until`, dropping what is held below it (the ring is full); slots
    /// never received count as lost once playing has begun.
    fn drop_until(&mut self, until: u64) {
        while self.next < until {
            if self.is_held(self.next) {
                self.stats.overflow += 1;
                self.release(self.next);
            } else if self.played {
                self.stats.lost += 1;
            }
            self.next += 1;
        }
    }

    /// After a pause, starts at the first packet held rather than at every hole before it.
    fn skip_to_first_held(&mut self) {
        let highest = self.highest.unwrap_or(self.next);
        while self.next < highest && !self.is_held(self.next) {
            self.stats.lost += 1;
            self.next += 1;
        }
    }

    fn take_next(&mut self) -> Pop<'_> {
        let seq = self.next;
        let i = self.index(seq);
        self.next += 1;
        self.played = true;
        let slot = self.slots[i];
        self.slots[i].used = false;
        let start = i * self.cfg.max_payload;
        Pop::Packet {
            payload: &self.data[start..start + slot.len],
            sequence: seq as u16,
            timestamp: slot.timestamp,
            marker: slot.marker,
        }
    }
}

/// The extended sequence number nearest `highest` whose low 16 bits are `seq`.
fn extend(highest: u64, seq: u16) -> u64 {
    let delta = i64::from(seq.wrapping_sub(highest as u16) as i16);
    (highest as i64 + delta).max(0) as u64
}
