//! RTCP packets as data, and writing them.

use super::{NtpTime, RtcpError};
use crate::rtp::Ssrc;

/// Packet type of a sender report.
pub(super) const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub(super) const PT_RR: u8 = 201;
/// Packet type of source descriptions.
pub(super) const PT_SDES: u8 = 202;
/// Packet type of a goodbye.
pub(super) const PT_BYE: u8 = 203;
/// Packet type of application-defined data.
pub(super) const PT_APP: u8 = 204;

/// One reception report (RFC 3550 §6.4.1): what a receiver saw of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: Ssrc,
    /// Packets lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Packets lost since the start (expected minus received; negative with duplicates).
    /// The wire carries 24 signed bits: it is clamped to -8388608..=8388607 when built.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received: cycles in the high 16 bits.
    pub highest_seq: u32,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR from the source (0: none yet).
    pub lsr: u32,
    /// Delay since that SR arrived, in 1/65536 s.
    pub dlsr: u32,
}

/// The sender information of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// Wall-clock time the report was made.
    pub ntp: NtpTime,
    /// The same instant in the stream's RTP timestamp units.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the start.
    pub packet_count: u32,
    /// RTP payload bytes sent since the start.
    pub octet_count: u32,
}

/// SR (packet type 200). Profile extensions after the report blocks are dropped on parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport {
    /// The sender.
    pub ssrc: Ssrc,
    /// What it sent.
    pub info: SenderInfo,
    /// What it received (at most 31).
    pub reports: Vec<ReportBlock>,
}

/// RR (packet type 201). Profile extensions are dropped on parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverReport {
    /// The reporter.
    pub ssrc: Ssrc,
    /// What it received (at most 31).
    pub reports: Vec<ReportBlock>,
}

/// One SDES item: type and text (RFC 3550 §6.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// Item type: [`SdesItem::CNAME`], [`SdesItem::NAME`]...
    pub kind: u8,
    /// The text (at most 255 bytes; invalid UTF-8 from the wire is replaced).
    pub text: String,
}

impl SdesItem {
    /// Canonical name: identifies the endpoint across its SSRCs.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// Tool (application) name.
    pub const TOOL: u8 = 6;

    /// A CNAME item.
    pub fn cname(text: &str) -> SdesItem {
        SdesItem {
            kind: SdesItem::CNAME,
            text: text.to_owned(),
        }
    }
}

/// The items describing one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk {
    /// The source.
    pub ssrc: Ssrc,
    /// Its items.
    pub items: Vec<SdesItem>,
}

/// SDES (packet type 202): source descriptions, at most 31 chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdes {
    /// One chunk per source.
    pub chunks: Vec<SdesChunk>,
}

/// BYE (packet type 203): sources leaving, with an optional reason (an empty reason is
/// sent as none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    /// The sources leaving (at most 31).
    pub sources: Vec<Ssrc>,
    /// Why (at most 255 bytes).
    pub reason: Option<String>,
}

/// APP (packet type 204): application-defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Subtype, 0-31.
    pub subtype: u8,
    /// The sender.
    pub ssrc: Ssrc,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Data, a multiple of 4 bytes.
    pub data: Vec<u8>,
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR.
    SenderReport(SenderReport),
    /// RR.
    ReceiverReport(ReceiverReport),
    /// SDES.
    Sdes(Sdes),
    /// BYE.
    Bye(Bye),
    /// APP.
    App(App),
    /// Any other type (RTPFB 205, PSFB 206, XR 207...), kept as it came.
    Other {
        /// Packet type.
        packet_type: u8,
        /// The 5-bit count/format field.
        count: u8,
        /// Everything after the 4-byte header, a multiple of 4 bytes.
        payload: Vec<u8>,
    },
}

impl RtcpPacket {
    /// Appends the packet's bytes to `out` (no padding).
    pub fn build(&self, out: &mut Vec<u8>) -> Result<(), RtcpError> {
        let start = out.len();
        let result = self.write(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), RtcpError> {
        let start = out.len();
        match self {
            RtcpPacket::SenderReport(sr) => {
                let count = count5(sr.reports.len(), "more than 31 report blocks")?;
                header(out, count, PT_SR);
                put32(out, sr.ssrc.0);
                put32(out, (sr.info.ntp.0 >> 32) as u32);
                put32(out, sr.info.ntp.0 as u32);
                put32(out, sr.info.rtp_timestamp);
                put32(out, sr.info.packet_count);
                put32(out, sr.info.octet_count);
                for b in &sr.reports {
                    block(out, b);
                }
            }
            RtcpPacket::ReceiverReport(rr) => {
                let count = count5(rr.reports.len(), "more than 31 report blocks")?;
                header(out, count, PT_RR);
                put32(out, rr.ssrc.0);
                for b in &rr.reports {
                    block(out, b);
                }
            }
            RtcpPacket::Sdes(sdes) => {
                let count = count5(sdes.chunks.len(), "more than 31 SDES chunks")?;
                header(out, count, PT_SDES);
                for chunk in &sdes.chunks {
                    put32(out, chunk.ssrc.0);
                    for item in &chunk.items {
                        if item.kind == 0 {
                            return Err(RtcpError::TooLarge("an SDES item of type 0 (END)"));
                        }
                        let len = u8::try_from(item.text.len())
                            .map_err(|_| RtcpError::TooLarge("an SDES item over 255 bytes"))?;
                        out.push(item.kind);
                        out.push(len);
                        out.extend_from_slice(item.text.as_bytes());
                    }
                    // END, then zeros to the next word: at least one zero byte.
                    out.push(0);
                    pad_zeros(out, start);
                }
            }
            RtcpPacket::Bye(bye) => {
                let count = count5(bye.sources.len(), "more than 31 BYE sources")?;
                header(out, count, PT_BYE);
                for s in &bye.sources {
                    put32(out, s.0);
                }
                if let Some(reason) = bye.reason.as_ref().filter(|r| !r.is_empty()) {
                    let len = u8::try_from(reason.len())
                        .map_err(|_| RtcpError::TooLarge("a BYE reason over 255 bytes"))?;
                    out.push(len);
                    out.extend_from_slice(reason.as_bytes());
                    pad_zeros(out, start);
                }
            }
            RtcpPacket::App(app) => {
                if app.data.len() % 4 != 0 {
                    return Err(RtcpError::Unaligned("APP data"));
                }
                let count = count5(usize::from(app.subtype), "an APP subtype over 31")?;
                header(out, count, PT_APP);
                put32(out, app.ssrc.0);
                out.extend_from_slice(&app.name);
                out.extend_from_slice(&app.data);
            }
            RtcpPacket::Other {
                packet_type,
                count,
                payload,
            } => {
                if payload.len() % 4 != 0 {
                    return Err(RtcpError::Unaligned("an opaque RTCP payload"));
                }
                let count = count5(usize::from(*count), "a count over 31")?;
                header(out, count, *packet_type);
                out.extend_from_slice(payload);
            }
        }
        let words = (out.len() - start) / 4 - 1;
        let words =
            u16::try_from(words).map_err(|_| RtcpError::TooLarge("a packet over 256 KiB"))?;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
        Ok(())
    }
}

/// Appends every packet of a compound datagram to `out`; on error `out` is left as it was.
pub fn build_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) -> Result<(), RtcpError> {
    let start = out.len();
    for p in packets {
        if let Err(e) = p.build(out) {
            out.truncate(start);
            return Err(e);
        }
    }
    Ok(())
}

/// The usual report datagram: an SR when `sender` is given (an RR otherwise) with `blocks`,
/// then an SDES with the CNAME.
pub fn report_compound(
    ssrc: Ssrc,
    sender: Option<SenderInfo>,
    blocks: Vec<ReportBlock>,
    cname: &str,
) -> Vec<RtcpPacket> {
    let report = match sender {
        Some(info) => RtcpPacket::SenderReport(SenderReport {
            ssrc,
            info,
            reports: blocks,
        }),
        None => RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc,
            reports: blocks,
        }),
    };
    vec![report, sdes_cname(ssrc, cname)]
}

/// The goodbye datagram: an empty RR, the SDES CNAME and a BYE (RFC 3550 §6.1 wants a
/// compound to start with a report).
pub fn bye_compound(ssrc: Ssrc, cname: &str, reason: Option<&str>) -> Vec<RtcpPacket> {
    vec![
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc,
            reports: Vec::new(),
        }),
        sdes_cname(ssrc, cname),
        RtcpPacket::Bye(Bye {
            sources: vec![ssrc],
            reason: reason.map(str::to_owned),
        }),
    ]
}

fn sdes_cname(ssrc: Ssrc, cname: &str) -> RtcpPacket {
    RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk {
            ssrc,
            items: vec![SdesItem::cname(cname)],
        }],
    })
}

fn count5(n: usize, what: &'static str) -> Result<u8, RtcpError> {
    u8::try_from(n)
        .ok()
        .filter(|&c| c <= 31)
        .ok_or(RtcpError::TooLarge(what))
}

/// V=2, no padding, `count`, `pt`, and a length patched in later.
fn header(out: &mut Vec<u8>, count: u8, pt: u8) {
    out.extend_from_slice(&[0x80 | count, pt, 0, 0]);
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn block(out: &mut Vec<u8>, b: &ReportBlock) {
    put32(out, b.ssrc.0);
    let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32 & 0x00ff_ffff;
    put32(out, (u32::from(b.fraction_lost) << 24) | lost);
    put32(out, b.highest_seq);
    put32(out, b.jitter);
    put32(out, b.lsr);
    put32(out, b.dlsr);
}

/// Zeros up to the next 32-bit boundary counted from `start`.
fn pad_zeros(out: &mut Vec<u8>, start: usize) {
    let len = (out.len() - start).div_ceil(4) * 4;
    out.resize(start + len, 0);
}
