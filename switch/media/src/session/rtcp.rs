//! RTCP for one side of a session: statistics of what the side sends us and of what we send
//! it, reports every ~5 s while the session itself terminates that side's media (a relayed
//! side's reports pass end to end instead), and the figures the far end reports back.

use std::time::{Instant, SystemTime};

use crate::rtcp::{
    build_compound, parse_compound, report_compound, round_trip, NtpTime, ReceiverStats,
    RtcpPacket, RtcpSchedule, SenderStats,
};
use crate::rtp::Ssrc;

/// RTCP figures of one side, for CDRs and the console.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RtcpFigures {
    /// Round trip to the peer, from its reports on our stream.
    pub rtt_ms: Option<f64>,
    /// Packets of the side's stream we never got (RFC 3550 cumulative loss).
    pub lost: i64,
    /// Packets of it we expected.
    pub expected: u64,
    /// Interarrival jitter of the side's stream, ms.
    pub jitter_ms: f64,
    /// Loss the peer reported on what it receives, as a fraction (0-1), last report.
    pub remote_fraction_lost: Option<f64>,
    /// Jitter the peer reported on what it receives, ms, last report.
    pub remote_jitter_ms: Option<f64>,
    /// Reports sent to the side.
    pub reports_sent: u64,
    /// Reports received from the side.
    pub reports_received: u64,
}

pub(crate) struct SideRtcp {
    rx: Option<ReceiverStats>,
    tx: Option<SenderStats>,
    schedule: RtcpSchedule,
    clock_rate: u32,
    figures: RtcpFigures,
}

/// Wall clock for NTP timestamps, from one reading the driver gave.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock {
    base: Instant,
    wall: SystemTime,
}

impl WallClock {
    pub(crate) fn new(base: Instant, wall: SystemTime) -> WallClock {
        WallClock { base, wall }
    }

    pub(crate) fn ntp(&self, now: Instant) -> NtpTime {
        NtpTime::from_system_time(self.wall + now.saturating_duration_since(self.base))
    }
}

impl SideRtcp {
    pub(crate) fn new(seed: u64) -> SideRtcp {
        SideRtcp {
            rx: None,
            tx: None,
            schedule: RtcpSchedule::new(RtcpSchedule::DEFAULT_INTERVAL, seed),
            clock_rate: 8000,
            figures: RtcpFigures::default(),
        }
    }

    /// The RTP clock of the side's codec (for jitter in ms).
    pub(crate) fn set_clock_rate(&mut self, rate: u32) {
        self.clock_rate = rate.max(1);
    }

    /// An RTP packet from the side.
    pub(crate) fn on_rtp(&mut self, now: Instant, ssrc: Ssrc, seq: u16, ts: u32) {
        let rate = self.clock_rate;
        let rx = match &mut self.rx {
            Some(rx) if rx.ssrc() == ssrc => rx,
            slot => slot.insert(ReceiverStats::new(ssrc, rate)),
        };
        rx.handle_rtp(now, seq, ts);
    }

    /// An RTP packet we made for the side.
    pub(crate) fn on_sent(&mut self, now: Instant, ssrc: Ssrc, ts: u32, payload_len: usize) {
        let rate = self.clock_rate;
        let tx = match &mut self.tx {
            Some(tx) if tx.ssrc() == ssrc => tx,
            slot => slot.insert(SenderStats::new(ssrc, rate)),
        };
        tx.handle_sent(now, ts, payload_len);
    }

    /// An RTCP datagram from the side: sender reports feed LSR/DLSR, report blocks about our
    /// stream give the round trip, any block gives the peer's view of loss and jitter.
    pub(crate) fn on_rtcp(&mut self, now: Instant, clock: &WallClock, buf: &[u8]) {
        let Ok(packets) = parse_compound(buf) else {
            return;
        };
        self.figures.reports_received += 1;
        let ours = self.tx.as_ref().map(|t| t.ssrc());
        for p in packets {
            let blocks = match p {
                RtcpPacket::SenderReport(sr) => {
                    if let Some(rx) = self.rx.as_mut().filter(|rx| rx.ssrc() == sr.ssrc) {
                        rx.handle_sender_report(now, &sr.info);
                    }
                    sr.reports
                }
                RtcpPacket::ReceiverReport(rr) => rr.reports,
                _ => continue,
            };
            for b in blocks {
                self.figures.remote_fraction_lost = Some(f64::from(b.fraction_lost) / 256.0);
                self.figures.remote_jitter_ms =
                    Some(f64::from(b.jitter) * 1000.0 / f64::from(self.clock_rate));
                if Some(b.ssrc) == ours {
                    if let Some(rtt) = round_trip(clock.ntp(now), &b) {
                        self.figures.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                    }
                }
            }
        }
    }

    /// Starts or stops our own reports.
    pub(crate) fn set_reporting(&mut self, on: bool, now: Instant) {
        match (on, self.schedule.poll_timeout().is_some()) {
            (true, false) => self.schedule.start(now),
            (false, true) => self.schedule.stop(),
            _ => {}
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.schedule.poll_timeout()
    }

    /// A report into `out` when one is due (SR when we sent media, else RR).
    pub(crate) fn due_report(
        &mut self,
        now: Instant,
        clock: &WallClock,
        our_ssrc: Ssrc,
        out: &mut Vec<u8>,
    ) -> bool {
        if !self.schedule.handle_timeout(now) {
            return false;
        }
        let sender = self
            .tx
            .as_ref()
            .filter(|t| t.has_sent())
            .map(|t| t.sender_info(now, clock.ntp(now)));
        let ssrc = self.tx.as_ref().map_or(our_ssrc, |t| t.ssrc());
        let blocks = self
            .rx
            .as_mut()
            .map(|rx| rx.report_block(now))
            .into_iter()
            .collect();
        out.clear();
        let ok = build_compound(&report_compound(ssrc, sender, blocks, "ferroswitch"), out).is_ok();
        if ok {
            self.figures.reports_sent += 1;
        }
        ok
    }

    pub(crate) fn figures(&self) -> RtcpFigures {
        let mut f = self.figures;
        if let Some(rx) = &self.rx {
            f.lost = i64::from(rx.cumulative_lost());
            f.expected = u64::from(rx.expected());
            f.jitter_ms = f64::from(rx.jitter()) * 1000.0 / f64::from(self.clock_rate);
        }
        f
    }
}
