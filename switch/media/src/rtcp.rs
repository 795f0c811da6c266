//! RTCP (RFC 3550 §6): the reports that go with an RTP stream.
//!
//! What it does: parses and builds compound RTCP packets ([`parse_compound`],
//! [`build_compound`]) of sender and receiver reports, SDES (CNAME), BYE and APP, keeping other
//! types (feedback, XR) as opaque bytes; keeps the statistics a receiver reports about a stream
//! ([`ReceiverStats`]: extended highest sequence number, cumulative and per-interval loss,
//! interarrival jitter, LSR/DLSR) and a sender about its own ([`SenderStats`]: packet and octet
//! counts, the NTP/RTP timestamp pair); works out the round-trip time from a report block
//! ([`round_trip`]); and decides when to send ([`RtcpSchedule`]: 5 s randomised by 0.5-1.5).
//! Parsing refuses truncated or garbled input with an error and never panics.
//!
//! What it does not do: I/O, reading clocks (the wall-clock [`NtpTime`] and `now` come in),
//! RFC 3550's bandwidth-scaled interval for large sessions (a switch's two-party legs use
//! the fixed minimum), RTCP feedback or XR contents, SRTCP.
//!
//! Drive loop: per RTP packet received call [`ReceiverStats::handle_rtp`], per SR received
//! [`ReceiverStats::handle_sender_report`], per RTP packet sent [`SenderStats::handle_sent`].
//! Sleep until [`RtcpSchedule::poll_timeout`]; when [`RtcpSchedule::handle_timeout`] says so,
//! make an SR (or RR when not sending) with [`ReceiverStats::report_block`] and an SDES CNAME
//! ([`report_compound`]), build it and send it. For each RTCP datagram received,
//! [`parse_compound`] and feed its SRs and report blocks back in.

mod packet;
mod parse;
mod schedule;
mod stats;

pub use packet::{
    build_compound, bye_compound, report_compound, App, Bye, ReceiverReport, ReportBlock,
    RtcpPacket, Sdes, SdesChunk, SdesItem, SenderInfo, SenderReport,
};
pub use parse::parse_compound;
pub use schedule::RtcpSchedule;
pub use stats::{round_trip, ReceiverStats, SenderStats};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A wall-clock time in NTP format: seconds since 1900 in the high 32 bits, the fraction
/// in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// The NTP time of a `SystemTime` the caller read (times before 1970 give 1970).
    pub fn from_system_time(t: SystemTime) -> NtpTime {
        NtpTime::from_unix(t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
    }

    /// The NTP time `since_unix` after 1970-01-01.
    pub fn from_unix(since_unix: Duration) -> NtpTime {
        let secs = since_unix.as_secs().wrapping_add(NTP_UNIX_OFFSET);
        let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime((secs << 32) | frac)
    }

    /// The middle 32 bits (16.16 seconds), as carried in LSR and used for round trips.
    pub fn short(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

impl std::ops::Add<Duration> for NtpTime {
    type Output = NtpTime;

    /// The time `d` later (wrapping in 2036 as NTP does).
    fn add(self, d: Duration) -> NtpTime {
        NtpTime(self.0.wrapping_add(duration_to_ntp(d)))
    }
}

/// Why an RTCP packet could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// An empty datagram (the peer's fault).
    #[error("empty RTCP datagram")]
    Empty,
    /// Fewer bytes than a header or a length field needs (the peer's fault).
    #[error("RTCP packet at byte {offset} needs {needed} bytes, {available} left")]
    Truncated {
        /// Where the packet starts in the datagram.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// A version other than 2 (the peer's fault).
    #[error("RTCP packet at byte {offset} has version {version}, not 2")]
    Version {
        /// Where the packet starts.
        offset: usize,
        /// The version found.
        version: u8,
    },
    /// The contents do not fit the packet's length or count (the peer's fault).
    #[error("RTCP packet type {packet_type} at byte {offset}: {reason}")]
    Malformed {
        /// Where the packet starts.
        offset: usize,
        /// Its packet type.
        packet_type: u8,
        /// What does not fit.
        reason: &'static str,
    },
    /// Something too large for the wire format was asked to be built (the caller's fault).
    #[error("cannot build RTCP: {0}")]
    TooLarge(&'static str),
    /// Opaque contents that are not a whole number of 32-bit words (the caller's fault).
    #[error("cannot build RTCP: {0} is not a multiple of 4 bytes")]
    Unaligned(&'static str),
}

/// `d` in 32.32 fixed-point seconds.
fn duration_to_ntp(d: Duration) -> u64 {
    (d.as_secs() << 32).wrapping_add((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
}

#[cfg(test)]
mod tests;
