//! Reading compound RTCP datagrams, checking every length against the bytes there are.

use super::packet::{PT_APP, PT_BYE, PT_RR, PT_SDES, PT_SR};
use super::{
    App, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpError, RtcpPacket, Sdes, SdesChunk,
    SdesItem, SenderInfo, SenderReport,
};
use crate::rtp::Ssrc;

/// Bytes in a report block.
const BLOCK_LEN: usize = 24;

/// Parses every packet of a compound RTCP datagram.
///
/// Each packet must be version 2, its length must lie within the datagram, and its count
/// must fit its length; padding (P bit) is accepted on any packet if its count is sane. The
/// order of packets is not checked (RFC 5506 reduced-size RTCP is accepted). Any error
/// refuses the whole datagram.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut packets = Vec::new();
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        let Some(head) = rest.get(..4) else {
            return Err(RtcpError::Truncated {
                offset,
                needed: 4,
                available: rest.len(),
            });
        };
        let version = head[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version { offset, version });
        }
        let padded = head[0] & 0x20 != 0;
        let count = head[0] & 0x1f;
        let packet_type = head[1];
        let len = (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1) * 4;
        let Some(packet) = rest.get(..len) else {
            return Err(RtcpError::Truncated {
                offset,
                needed: len,
                available: rest.len(),
            });
        };
        let bad = |reason| RtcpError::Malformed {
            offset,
            packet_type,
            reason,
        };
        let mut body = &packet[4..];
        if padded {
            let pad = usize::from(body.last().copied().unwrap_or(0));
            if pad == 0 || pad > body.len() {
                return Err(bad("padding count is zero or longer than the packet"));
            }
            body = &body[..body.len() - pad];
        }
        packets.push(match packet_type {
            PT_SR => sender_report(body, count).ok_or_else(|| bad("report blocks overrun"))?,
            PT_RR => receiver_report(body, count).ok_or_else(|| bad("report blocks overrun"))?,
            PT_SDES => sdes(body, count).map_err(bad)?,
            PT_BYE => bye(body, count).map_err(bad)?,
            PT_APP => app(body, count).ok_or_else(|| bad("shorter than SSRC and name"))?,
            _ => RtcpPacket::Other {
                packet_type,
                count,
                payload: packet[4..].to_vec(),
            },
        });
        offset += len;
    }
    Ok(packets)
}

/// A cursor over a packet body; every read is checked.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.buf.get(..n)?, self.buf.get(n..)?);
        self.buf = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn ssrc(&mut self) -> Option<Ssrc> {
        self.u32().map(Ssrc)
    }

    fn text(&mut self, n: usize) -> Option<String> {
        self.take(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

fn blocks(r: &mut Reader<'_>, count: u8) -> Option<Vec<ReportBlock>> {
    if r.buf.len() < usize::from(count) * BLOCK_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let ssrc = r.ssrc()?;
        let word = r.u32()?;
        // 24-bit two's complement, sign-extended.
        let lost = ((word << 8) as i32) >> 8;
        out.push(ReportBlock {
            ssrc,
            fraction_lost: (word >> 24) as u8,
            cumulative_lost: lost,
            highest_seq: r.u32()?,
            jitter: r.u32()?,
            lsr: r.u32()?,
            dlsr: r.u32()?,
        });
    }
    Some(out)
}

fn sender_report(body: &[u8], count: u8) -> Option<RtcpPacket> {
    let mut r = Reader { buf: body };
    let ssrc = r.ssrc()?;
    let hi = r.u32()?;
    let lo = r.u32()?;
    let info = SenderInfo {
        ntp: NtpTime((u64::from(hi) << 32) | u64::from(lo)),
        rtp_timestamp: r.u32()?,
        packet_count: r.u32()?,
        octet_count: r.u32()?,
    };
    let reports = blocks(&mut r, count)?;
    Some(RtcpPacket::SenderReport(SenderReport {
        ssrc,
        info,
        reports,
    }))
}

fn receiver_report(body: &[u8], count: u8) -> Option<RtcpPacket> {
    let mut r = Reader { buf: body };
    let ssrc = r.ssrc()?;
    let reports = blocks(&mut r, count)?;
    Some(RtcpPacket::ReceiverReport(ReceiverReport { ssrc, reports }))
}

fn sdes(body: &[u8], count: u8) -> Result<RtcpPacket, &'static str> {
    let mut r = Reader { buf: body };
    let mut chunks = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let chunk_start = body.len() - r.buf.len();
        let ssrc = r.ssrc().ok_or("a chunk is cut short")?;
        let mut items = Vec::new();
        loop {
            let kind = r.u8().ok_or("a chunk has no END item")?;
            if kind == 0 {
                break;
            }
            let len = r.u8().ok_or("an item is cut short")?;
            let text = r
                .text(usize::from(len))
                .ok_or("an item runs past the packet")?;
            items.push(SdesItem { kind, text });
        }
        // The END byte is followed by zeros up to the next 32-bit boundary.
        let used = body.len() - r.buf.len() - chunk_start;
        let pad = (4 - used % 4) % 4;
        r.take(pad).ok_or("a chunk is not padded to 32 bits")?;
        chunks.push(SdesChunk { ssrc, items });
    }
    Ok(RtcpPacket::Sdes(Sdes { chunks }))
}

fn bye(body: &[u8], count: u8) -> Result<RtcpPacket, &'static str> {
    let mut r = Reader { buf: body };
    let mut sources = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        sources.push(r.ssrc().ok_or("more sources counted than present")?);
    }
    let reason = match r.u8() {
        None => None,
        // Zero padding after the sources, not a reason.
        Some(0) if r.buf.iter().all(|&b| b == 0) => None,
        Some(len) => Some(
            r.text(usize::from(len))
                .ok_or("the reason runs past the packet")?,
        ),
    };
    Ok(RtcpPacket::Bye(Bye { sources, reason }))
}

fn app(body: &[u8], subtype: u8) -> Option<RtcpPacket> {
    let mut r = Reader { buf: body };
    let ssrc = r.ssrc()?;
    let name = r.take(4)?;
    Some(RtcpPacket::App(App {
        subtype,
        ssrc,
        name: [name[0], name[1], name[2], name[3]],
        data: r.buf.to_vec(),
    }))
}
