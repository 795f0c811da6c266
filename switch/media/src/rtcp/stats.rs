//! The numbers reports carry: RFC 3550 A.1 (sequence), A.3 (loss), A.8 (jitter), §6.4.

use std::time::{Duration, Instant};

use super::{NtpTime, ReportBlock, SenderInfo};
use crate::rtp::Ssrc;

const SEQ_MOD: u32 = 1 << 16;
/// Forward jump still taken as the same stream (A.1's MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3000;
/// Backward jump still taken as reordering (A.1's MAX_MISORDER).
const MAX_MISORDER: u16 = 100;
/// Packets in sequence needed before a new source counts (A.1's MIN_SEQUENTIAL).
const MIN_SEQUENTIAL: u32 = 2;

/// What a receiver knows about one source, for its report blocks.
///
/// Sequence numbers are validated as in RFC 3550 A.1: a new source is counted once two
/// packets came in sequence, a jump of more than 3000 forward or 100 back is ignored unless
/// the next packet confirms it (then counting restarts there). Loss is A.3's expected minus
/// received, per report interval for the fraction. Jitter is A.8's, in RTP timestamp units.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    ssrc: Ssrc,
    clock_rate: u32,
    started: bool,
    max_seq: u16,
    /// Wraps of the sequence number, shifted left by 16.
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter times 16, as A.8 keeps it.
    jitter16: u32,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// Statistics for the source `ssrc`, whose RTP clock runs at `clock_rate` Hz.
    pub fn new(ssrc: Ssrc, clock_rate: u32) -> ReceiverStats {
        ReceiverStats {
            ssrc,
            clock_rate: clock_rate.max(1),
            started: false,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            transit: None,
            jitter16: 0,
            last_sr: None,
        }
    }

    /// The source.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Takes one RTP packet of the source, received at `now`. Returns whether it was counted
    /// (false while a new source is on probation and for unconfirmed jumps).
    pub fn handle_rtp(&mut self, now: Instant, seq: u16, timestamp: u32) -> bool {
        self.jitter_sample(now, timestamp);
        if !self.started {
            self.started = true;
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two in a row after a jump: the source restarted its numbering.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, no change to the highest.
        self.received += 1;
        true
    }

    /// Notes a sender report from the source, received at `now` (for LSR and DLSR).
    pub fn handle_sender_report(&mut self, now: Instant, info: &SenderInfo) {
        self.last_sr = Some((info.ntp.short(), now));
    }

    /// The report block to send now about the source; starts a new loss interval.
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_ntp_short(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            highest_seq: self.extended_highest(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        }
    }

    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub fn extended_highest(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected since counting began.
    pub fn expected(&self) -> u32 {
        if self.probation > 0 {
            return 0;
        }
        self.extended_highest()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets counted as received.
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Expected minus received, clamped to the 24 signed bits a report carries.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// Interarrival jitter, RTP timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter16 >> 4
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    fn jitter_sample(&mut self, now: Instant, timestamp: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        let nanos = now.saturating_duration_since(epoch).as_nanos();
        // Arrival in RTP units, modulo 2^32 like the timestamps.
        let arrival = (nanos * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(timestamp);
        if let Some(prev) = self.transit.replace(transit) {
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            // J += (|D| - J) / 16, kept times 16 with rounding as A.8 does.
            let j = i64::from(self.jitter16) + i64::from(d) - ((i64::from(self.jitter16) + 8) >> 4);
            self.jitter16 = j.clamp(0, i64::from(u32::MAX)) as u32;
        }
    }
}

/// What a sender knows about its own stream, for its SRs.
#[derive(Debug, Clone)]
pub struct SenderStats {
    ssrc: Ssrc,
    clock_rate: u32,
    packets: u32,
    octets: u32,
    last: Option<(Instant, u32)>,
}

impl SenderStats {
    /// Statistics for our stream `ssrc`, with its RTP clock at `clock_rate` Hz.
    pub fn new(ssrc: Ssrc, clock_rate: u32) -> SenderStats {
        SenderStats {
            ssrc,
            clock_rate: clock_rate.max(1),
            packets: 0,
            octets: 0,
            last: None,
        }
    }

    /// Our stream.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Notes one RTP packet sent at `now` with `timestamp` and `payload_len` payload bytes.
    pub fn handle_sent(&mut self, now: Instant, timestamp: u32, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last = Some((now, timestamp));
    }

    /// Packets sent (modulo 2^32).
    pub fn packets(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent (modulo 2^32).
    pub fn octets(&self) -> u32 {
        self.octets
    }

    /// Whether anything has been sent (an SR is due rather than an RR).
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }

    /// The sender info for an SR made at `now`, whose wall-clock time is `ntp_now`: the
    /// RTP timestamp is the last one sent carried forward to `now` at the clock rate.
    pub fn sender_info(&self, now: Instant, ntp_now: NtpTime) -> SenderInfo {
        let rtp_timestamp = match self.last {
            Some((at, ts)) => {
                let nanos = now.saturating_duration_since(at).as_nanos();
                ts.wrapping_add((nanos * u128::from(self.clock_rate) / 1_000_000_000) as u32)
            }
            None => 0,
        };
        SenderInfo {
            ntp: ntp_now,
            rtp_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
        }
    }
}

/// The round trip told by a report block about our stream that arrived when the wall
/// clock read `now`: `now - LSR - DLSR` (RFC 3550 §6.4.1). `None` when the peer has had no
/// SR from us (LSR 0) or the result would be negative (clocks or the block are off).
pub fn round_trip(now: NtpTime, block: &ReportBlock) -> Option<Duration> {
    if block.lsr == 0 {
        return None;
    }
    let rtt = now.short().wrapping_sub(block.lsr).wrapping_sub(block.dlsr);
    if rtt >= 0x8000_0000 {
        return None;
    }
    Some(Duration::from_nanos((u64::from(rtt) * 1_000_000_000) >> 16))
}

/// `d` in 1/65536 s, saturating.
fn to_ntp_short(d: Duration) -> u32 {
    let units = (d.as_nanos() << 16) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        thread_local!(static T0: Instant = Instant::now());
        T0.with(|t0| *t0 + Duration::from_millis(ms))
    }

    #[test]
    fn loss_and_highest_sequence_across_the_wrap() {
        let mut rx = ReceiverStats::new(Ssrc(9), 8000);
        let mut seq = 65_500u16;
        let mut sent = 0u32;
        for i in 0..100u64 {
            if i % 10 != 5 {
                rx.handle_rtp(t(i * 20), seq, (i as u32) * 160);
            }
            seq = seq.wrapping_add(1);
            sent += 1;
        }
        // Counting starts with the second packet (probation).
        assert_eq!(rx.expected(), sent - 1);
        assert_eq!(rx.cumulative_lost(), 10);
        assert_eq!(
            rx.extended_highest(),
            (1 << 16) + u32::from(seq.wrapping_sub(1))
        );
        let b = rx.report_block(t(2000));
        assert_eq!(b.cumulative_lost, 10);
        assert_eq!(b.fraction_lost, (10 * 256 / 99) as u8);
        assert_eq!(b.jitter, 0);
        assert_eq!((b.lsr, b.dlsr), (0, 0));
        // A clean interval: fraction 0, cumulative unchanged.
        for i in 100..150u64 {
            rx.handle_rtp(t(i * 20), seq, (i as u32) * 160);
            seq = seq.wrapping_add(1);
        }
        let b = rx.report_block(t(3000));
        assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 10));
    }

    #[test]
    fn duplicates_make_loss_negative() {
        let mut rx = ReceiverStats::new(Ssrc(1), 8000);
        for s in [1u16, 2, 3, 3, 3, 4] {
            rx.handle_rtp(t(0), s, 0);
        }
        assert_eq!(rx.cumulative_lost(), -2);
        assert_eq!(rx.report_block(t(0)).fraction_lost, 0);
    }

    #[test]
    fn a_jump_counts_only_when_confirmed() {
        let mut rx = ReceiverStats::new(Ssrc(1), 8000);
        for s in 10..20u16 {
            assert!(rx.handle_rtp(t(0), s, 0) || s == 10);
        }
        assert!(!rx.handle_rtp(t(0), 30_000, 0), "stray");
        assert_eq!(rx.extended_highest(), 19);
        assert!(rx.handle_rtp(t(0), 20, 0));
        assert!(!rx.handle_rtp(t(0), 40_000, 0));
        assert!(rx.handle_rtp(t(0), 40_001, 0), "confirmed: restart");
        assert_eq!(rx.extended_highest(), 40_001);
        assert_eq!(rx.expected(), 1);
    }

    #[test]
    fn jitter_follows_a_8() {
        let mut rx = ReceiverStats::new(Ssrc(1), 8000);
        // Every other packet 5 ms (40 units) late: |D| = 40 every packet.
        for i in 0..500u32 {
            let late = if i % 2 == 1 { 5 } else { 0 };
            rx.handle_rtp(t(u64::from(i) * 20 + late), i as u16, i * 160);
        }
        assert!((38..=40).contains(&rx.jitter()), "{}", rx.jitter());
    }

    #[test]
    fn lsr_and_dlsr_from_the_last_sender_report() {
        let mut rx = ReceiverStats::new(Ssrc(1), 8000);
        let ntp = NtpTime::from_unix(Duration::from_secs(1_700_000_000));
        rx.handle_sender_report(
            t(100),
            &SenderInfo {
                ntp,
                ..SenderInfo::default()
            },
        );
        let b = rx.report_block(t(1600));
        assert_eq!(b.lsr, ntp.short());
        assert_eq!(b.dlsr, 65_536 * 3 / 2);
    }

    #[test]
    fn round_trip_from_lsr_and_dlsr() {
        // We sent an SR at `sent`; the peer held it 1.5 s; it reached us 80 ms later.
        let sent = NtpTime::from_unix(Duration::from_millis(1_700_000_000_250));
        let block = ReportBlock {
            ssrc: Ssrc(1),
            fraction_lost: 0,
            cumulative_lost: 0,
            highest_seq: 0,
            jitter: 0,
            lsr: sent.short(),
            dlsr: 65_536 * 3 / 2,
        };
        let now = sent + Duration::from_millis(1580);
        let rtt = round_trip(now, &block).expect("rtt");
        assert!(rtt.as_micros().abs_diff(80_000) < 100, "{rtt:?}");
        assert_eq!(round_trip(now, &ReportBlock { lsr: 0, ..block }), None);
        assert_eq!(
            round_trip(sent, &block),
            None,
            "a DLSR longer than the elapsed time"
        );
    }

    #[test]
    fn sender_counts_and_timestamp_mapping() {
        let mut tx = SenderStats::new(Ssrc(5), 8000);
        assert!(!tx.has_sent());
        for i in 0..50u32 {
            tx.handle_sent(t(u64::from(i) * 20), 1000 + i * 160, 160);
        }
        let ntp = NtpTime::from_unix(Duration::from_secs(10));
        let info = tx.sender_info(t(49 * 20 + 10), ntp);
        assert_eq!(info.packet_count, 50);
        assert_eq!(info.octet_count, 8000);
        assert_eq!(info.rtp_timestamp, 1000 + 49 * 160 + 80);
        assert_eq!(info.ntp, ntp);
    }
}
