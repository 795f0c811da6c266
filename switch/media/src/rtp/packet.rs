//! Checking a datagram as RTP or RTCP without allocating.

use rtp_rs::{RtpReader, RtpReaderError};

/// Synchronisation source identifier (RFC 3550 §3): names one media stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// What a well-formed datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    /// An RTP packet.
    Rtp(RtpHeader),
    /// An RTCP packet (or compound packet); only its first header is looked at.
    Rtcp(RtcpHeader),
}

/// The fixed RTP header fields of a checked packet, plus where its payload lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Stream identifier.
    pub ssrc: Ssrc,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp in the payload's clock rate.
    pub timestamp: u32,
    /// Payload type (0-127).
    pub payload_type: u8,
    /// Marker bit (start of a talkspurt for audio).
    pub marker: bool,
    /// Offset of the payload after the CSRC list and any header extension.
    pub payload_offset: usize,
    /// Payload length, padding excluded.
    pub payload_len: usize,
}

/// The first header of a checked RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpHeader {
    /// Packet type: 200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, 205-207 feedback and XR.
    pub packet_type: u8,
    /// The SSRC in bytes 4-7: the sender for SR/RR/feedback/XR, the first chunk or source
    /// for SDES/BYE/APP. Good enough to tell streams apart when latching.
    pub ssrc: Ssrc,
}

/// Why a datagram is not acceptable RTP or RTCP: the peer's fault, so it is counted and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Shorter than the fixed header (12 bytes for RTP, 8 for RTCP).
    #[error("datagram of {len} bytes is too short for RTP/RTCP")]
    TooShort {
        /// Datagram length.
        len: usize,
    },
    /// The version field is not 2 (STUN, DTLS and random bytes land here).
    #[error("RTP/RTCP version {0} is not 2")]
    Version(u8),
    /// The CSRC list, the header extension or the RTCP length runs past the datagram.
    #[error("header of {header_len} bytes runs past the {len}-byte datagram")]
    Truncated {
        /// Bytes the header claims.
        header_len: usize,
        /// Datagram length.
        len: usize,
    },
    /// The padding count is zero or longer than the space after the header.
    #[error("RTP padding count {0} is invalid")]
    Padding(u8),
}

/// RTP header length before CSRCs.
const RTP_FIXED: usize = 12;
/// RTCP common header plus the SSRC that every packet type carries next.
const RTCP_FIXED: usize = 8;

/// Checks `buf` and reports whether it is RTP or RTCP, with its header fields.
///
/// RTCP is recognised by the second byte lying in 192-223, the range RFC 5761 §4 keeps
/// free of RTP payload types so the two can share a port (it holds SR/RR/SDES/BYE/APP,
/// 200-204). Checks for RTP: version 2, at least `12 + 4*CC` bytes, extension within
/// the datagram, padding count between 1 and the space left. For RTCP: version 2, at least
/// 8 bytes, the first packet's length within the datagram.
pub fn classify(buf: &[u8]) -> Result<Packet, PacketError> {
    let (Some(&first), Some(&second)) = (buf.first(), buf.get(1)) else {
        return Err(PacketError::TooShort { len: buf.len() });
    };
    let version = first >> 6;
    if version != 2 {
        return Err(PacketError::Version(version));
    }
    if (192..=223).contains(&second) {
        rtcp(buf, second).map(Packet::Rtcp)
    } else {
        rtp(buf).map(Packet::Rtp)
    }
}

fn rtcp(buf: &[u8], packet_type: u8) -> Result<RtcpHeader, PacketError> {
    let len = buf.len();
    let Some(head) = buf.get(..RTCP_FIXED) else {
        return Err(PacketError::TooShort { len });
    };
    // The length field counts 32-bit words minus one.
    let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let header_len = (words + 1) * 4;
    if header_len > len {
        return Err(PacketError::Truncated { header_len, len });
    }
    let ssrc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    Ok(RtcpHeader {
        packet_type,
        ssrc: Ssrc(ssrc),
    })
}

fn rtp(buf: &[u8]) -> Result<RtpHeader, PacketError> {
    let len = buf.len();
    let reader = RtpReader::new(buf).map_err(|e| match e {
        RtpReaderError::BufferTooShort(_) => PacketError::TooShort { len },
        RtpReaderError::UnsupportedVersion(v) => PacketError::Version(v),
        RtpReaderError::HeadersTruncated { header_len, .. } => {
            PacketError::Truncated { header_len, len }
        }
        RtpReaderError::PaddingLengthInvalid(p) => PacketError::Padding(p),
    })?;
    debug_assert!(len >= RTP_FIXED);
    Ok(RtpHeader {
        ssrc: Ssrc(reader.ssrc()),
        sequence: u16::from(reader.sequence_number()),
        timestamp: reader.timestamp(),
        payload_type: reader.payload_type(),
        marker: reader.mark(),
        payload_offset: reader.payload_offset(),
        payload_len: reader.payload().len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtp_rs::{Pad, RtpPacketBuilder, Seq};

    fn build(pt: u8, marker: bool) -> Vec<u8> {
        RtpPacketBuilder::new()
            .payload_type(pt)
            .marked(marker)
            .sequence(Seq::from(4321))
            .timestamp(160_000)
            .ssrc(0xdead_beef)
            .payload(&[0xd5; 160])
            .build()
            .unwrap()
    }

    #[test]
    fn rtp_fields_round_trip_through_the_builder() {
        let buf = build(8, true);
        let Ok(Packet::Rtp(h)) = classify(&buf) else {
            panic!("not RTP: {:?}", classify(&buf));
        };
        assert_eq!(h.ssrc, Ssrc(0xdead_beef));
        assert_eq!(h.sequence, 4321);
        assert_eq!(h.timestamp, 160_000);
        assert_eq!(h.payload_type, 8);
        assert!(h.marker);
        assert_eq!(h.payload_offset, 12);
        assert_eq!(h.payload_len, 160);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped_in_payload_bounds() {
        let ext = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let buf = RtpPacketBuilder::new()
            .payload_type(0)
            .add_csrc(7)
            .add_csrc(9)
            .extension(0xbede, &ext)
            .padded(Pad::round_to(4))
            .payload(&[1, 2, 3, 4, 5])
            .build()
            .unwrap();
        let Ok(Packet::Rtp(h)) = classify(&buf) else {
            panic!("not RTP");
        };
        assert_eq!(h.payload_offset, 12 + 8 + 4 + 8);
        assert_eq!(h.payload_len, 5);
        assert_eq!(&buf[h.payload_offset..][..h.payload_len], &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn short_datagrams_are_too_short() {
        for len in 0..12 {
            let mut buf = vec![0u8; len];
            if let Some(b) = buf.first_mut() {
                *b = 0x80;
            }
            assert_eq!(
                classify(&buf),
                Err(PacketError::TooShort { len }),
                "len {len}"
            );
        }
    }

    #[test]
    fn wrong_version_is_rejected() {
        let mut buf = build(0, false);
        buf[0] = (buf[0] & 0x3f) | 0x40;
        assert_eq!(classify(&buf), Err(PacketError::Version(1)));
        // A STUN binding request starts with two zero bits.
        let stun = [
            0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(classify(&stun), Err(PacketError::Version(0)));
    }

    #[test]
    fn csrc_count_past_the_end_is_truncated() {
        let mut buf = build(0, false);
        buf.truncate(20);
        buf[0] |= 0x0f; // 15 CSRCs need 72 bytes
        assert_eq!(
            classify(&buf),
            Err(PacketError::Truncated {
                header_len: 72,
                len: 20
            })
        );
    }

    #[test]
    fn extension_length_past_the_end_is_truncated() {
        let mut buf = vec![
            0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x10,
        ];
        buf.extend_from_slice(&[0; 8]);
        assert!(matches!(
            classify(&buf),
            Err(PacketError::Truncated { len: 24, .. })
        ));
        // The extension header itself cut off.
        let cut = [0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe];
        assert!(matches!(classify(&cut), Err(PacketError::Truncated { .. })));
    }

    #[test]
    fn bad_padding_counts_are_rejected() {
        let mut buf = build(0, false);
        buf[0] |= 0x20;
        let last = buf.len() - 1;
        buf[last] = 0;
        assert_eq!(classify(&buf), Err(PacketError::Padding(0)));
        buf[last] = 200; // more than the 160-byte payload
        assert_eq!(classify(&buf), Err(PacketError::Padding(200)));
    }

    #[test]
    fn rtcp_types_are_not_rtp() {
        // RR with no report blocks: length 1 (8 bytes).
        for pt in 200..=204u8 {
            let buf = [0x80, pt, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44];
            assert_eq!(
                classify(&buf),
                Ok(Packet::Rtcp(RtcpHeader {
                    packet_type: pt,
                    ssrc: Ssrc(0x1122_3344)
                }))
            );
        }
    }

    #[test]
    fn rtcp_length_past_the_end_is_truncated() {
        let buf = [0x81, 200, 0x00, 0x06, 1, 2, 3, 4, 0, 0, 0, 0];
        assert_eq!(
            classify(&buf),
            Err(PacketError::Truncated {
                header_len: 28,
                len: 12
            })
        );
        assert_eq!(
            classify(&[0x80, 201, 0, 1, 0]),
            Err(PacketError::TooShort { len: 5 })
        );
    }

    #[test]
    fn rtp_with_marker_and_ordinary_payload_type_stays_rtp() {
        // Marker + PT 0 puts 0x80 in the second byte: outside the RTCP range.
        assert!(matches!(classify(&build(0, true)), Ok(Packet::Rtp(_))));
        assert!(matches!(classify(&build(127, true)), Ok(Packet::Rtp(_))));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small xorshift generator: deterministic, no dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut buf = [0u8; 64];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 65) as usize;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (x.rotate_left(i as u32 * 5) >> 3) as u8;
            }
            buf[0] = (buf[0] & 0x3f) | 0x80; // mostly version 2, to reach the deeper checks
            let _ = classify(&buf[..len]);
        }
    }
}
