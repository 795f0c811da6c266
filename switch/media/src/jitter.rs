//! An adaptive jitter buffer for one inbound RTP stream of one codec.
//!
//! What it does: holds packets that arrive early, out of order or twice, and hands them out
//! one per packet interval in sequence order ([`JitterBuffer`]): [`Pop::Packet`] when the
//! packet is there, [`Pop::Missing`] when it is lost or not yet in (the decoder conceals),
//! [`Pop::Empty`] while buffering or when the stream has paused. Late packets (after their
//! slot was played) are counted and dropped, sequence numbers wrap, a jump of the sequence
//! (confirmed by a second packet) or a new SSRC restarts the buffer, and a timestamp jump does
//! not disturb the jitter estimate. The delay adapts: the RFC 3550 interarrival jitter sets
//! a target between [`JitterConfig::min_delay_ms`] and [`JitterConfig::max_delay_ms`];
//! the buffer grows at once (by concealing a slot instead of playing) and shrinks slowly (by
//! skipping one packet at a time, at most one a second). Storage is a ring of slots allocated
//! up front: nothing is allocated per packet.
//!
//! What it does not do: decode, conceal or time-stretch (that is the codec's job with the
//! [`Pop`] it gets), tell silence from speech when shrinking, or read a clock: `now` comes in.
//!
//! Drive loop: for each RTP packet of the stream call [`JitterBuffer::push`] with `now`; every
//! packet interval (20 ms for the usual 160 samples at 8 kHz) call [`JitterBuffer::pop`] with
//! `now` and decode or conceal what it returns.

mod buffer;
mod estimate;

pub use buffer::JitterBuffer;

use crate::rtp::{RtpHeader, Ssrc};

/// How a [`JitterBuffer`] is sized and how far its delay may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate of the payload, Hz (8000 for G.711, 48000 for Opus).
    pub clock_rate: u32,
    /// RTP timestamp units per packet: 160 for 20 ms at 8 kHz, 960 for Opus at 48 kHz. `pop`
    /// is called once per this duration.
    pub samples_per_packet: u32,
    /// The least delay the buffer keeps, ms (default 20).
    pub min_delay_ms: u32,
    /// The most delay the buffer keeps, ms (default 200).
    pub max_delay_ms: u32,
    /// The largest payload stored, bytes (default 1500); longer ones are dropped and counted.
    pub max_payload: usize,
}

impl JitterConfig {
    /// The defaults for a payload of `samples_per_packet` units at `clock_rate` Hz.
    pub fn new(clock_rate: u32, samples_per_packet: u32) -> JitterConfig {
        JitterConfig {
            clock_rate,
            samples_per_packet,
            min_delay_ms: 20,
            max_delay_ms: 200,
            max_payload: 1500,
        }
    }
}

/// The RTP header fields the buffer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpMeta {
    /// The stream; a new SSRC restarts the buffer.
    pub ssrc: Ssrc,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Marker bit (start of a talkspurt).
    pub marker: bool,
}

impl From<&RtpHeader> for RtpMeta {
    fn from(h: &RtpHeader) -> RtpMeta {
        RtpMeta {
            ssrc: h.ssrc,
            sequence: h.sequence,
            timestamp: h.timestamp,
            marker: h.marker,
        }
    }
}

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Kept for playout.
    Stored,
    /// Already held or already played.
    Duplicate,
    /// Its slot has already been played; dropped.
    Late,
    /// Longer than [`JitterConfig::max_payload`]; dropped.
    TooLarge,
    /// Far from the stream's sequence numbers; dropped unless the next packet follows it, in
    /// which case the buffer restarts there.
    Stray,
}

/// What to play for the next slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop<'a> {
    /// Decode this packet.
    Packet {
        /// The payload, valid until the next call on the buffer.
        payload: &'a [u8],
        /// Its sequence number.
        sequence: u16,
        /// Its timestamp.
        timestamp: u32,
        /// Its marker bit.
        marker: bool,
    },
    /// A packet is due but not here (lost, late, or the buffer is growing): conceal.
    Missing,
    /// Nothing to play yet (buffering) or any more (the stream paused): play silence or
    /// comfort noise.
    Empty,
}

/// Counters and estimates of a [`JitterBuffer`]. Counters are cumulative across restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JitterStats {
    /// Packets accepted (stored, or late).
    pub received: u64,
    /// Slots played as missing because their packet never arrived in time.
    pub lost: u64,
    /// Packets that arrived after their slot was played.
    pub late: u64,
    /// Packets received twice.
    pub duplicate: u64,
    /// Packets that arrived after one with a higher sequence number.
    pub reordered: u64,
    /// Packets dropped for being longer than the maximum payload.
    pub too_large: u64,
    /// Packets dropped because the ring was full.
    pub overflow: u64,
    /// Slots concealed to grow the delay or while waiting for a packet.
    pub expanded: u64,
    /// Packets skipped to shrink the delay.
    pub skipped: u64,
    /// Restarts: new SSRC or a confirmed sequence jump.
    pub resets: u64,
    /// Timestamp jumps left out of the jitter estimate.
    pub timestamp_jumps: u64,
    /// RFC 3550 interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Delay the buffer is aiming for, ms.
    pub target_ms: u32,
    /// Delay it holds now: the most packets queued over the last second, in ms.
    pub delay_ms: u32,
    /// The largest `delay_ms` seen.
    pub max_delay_ms: u32,
}

/// Why a buffer could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JitterError {
    /// A configuration that cannot work (the caller's fault), saying which field.
    #[error("jitter buffer configuration: {0}")]
    Config(&'static str),
}

#[cfg(test)]
mod tests;
