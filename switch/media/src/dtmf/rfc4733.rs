//! The RFC 4733 §2.3 telephone-event payload: event, end bit, volume, duration.

use super::{Digit, DtmfError};

/// One telephone-event payload.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     event     |E|R| volume    |          duration             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-15 keys, 16 flash, others (tones, trunk events) are passed through.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level as minus dBm0, 0-63 (larger is quieter); 10 is typical.
    pub volume: u8,
    /// Duration so far, in RTP timestamp units, from the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Bytes in one payload.
    pub const LEN: usize = 4;

    /// The volume senders use when not told otherwise (-10 dBm0).
    pub const DEFAULT_VOLUME: u8 = 10;

    /// Reads the first 4 bytes of `payload`. Longer payloads are accepted and the rest ignored
    /// (the R bit too). Refuses fewer than 4 bytes.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let [event, flags, hi, lo] = match payload.get(..Self::LEN) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => return Err(DtmfError::ShortPayload(payload.len())),
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }

    /// The 4 payload bytes. A volume above 63 is written as 63.
    pub fn to_bytes(&self) -> [u8; 4] {
        let [hi, lo] = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | self.volume.min(63);
        [self.event, flags, hi, lo]
    }

    /// The key this event is, when it is one of 0-9, *, #, A-D or flash.
    pub fn digit(&self) -> Option<Digit> {
        Digit::from_event(self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_layout() {
        let ev = TelephoneEvent::parse(&[11, 0x8a, 0x03, 0x20]).expect("4 bytes");
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(ev.digit(), Some(Digit::Pound));
        // R bit ignored, trailing bytes ignored.
        let ev = TelephoneEvent::parse(&[5, 0x40 | 7, 0, 160, 9, 9]).expect("long payload");
        assert!(!ev.end);
        assert_eq!(ev.volume, 7);
        assert_eq!(ev.duration, 160);
        assert_eq!(
            TelephoneEvent::parse(&[40, 0, 0, 0]).map(|e| e.digit()),
            Ok(None)
        );
    }

    #[test]
    fn short_payloads_are_refused() {
        for n in 0..4 {
            assert_eq!(
                TelephoneEvent::parse(&[1, 2, 3][..n.min(3)]),
                Err(DtmfError::ShortPayload(n.min(3)))
            );
        }
    }

    #[test]
    fn build_then_parse_is_identity() {
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let ev = TelephoneEvent {
                event: x as u8,
                end: x & 0x100 != 0,
                volume: ((x >> 9) & 0x3f) as u8,
                duration: (x >> 16) as u16,
            };
            assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Ok(ev));
        }
        let loud = TelephoneEvent {
            event: 1,
            end: false,
            volume: 200,
            duration: 0,
        };
        assert_eq!(loud.to_bytes()[1], 63);
    }
}
