//! DTMF: keys pressed on a phone, carried three ways.
//!
//! What it does:
//! - RFC 4733 telephone-events: the 4-byte payload ([`TelephoneEvent`]), a receiver per
//!   stream that turns packets into each digit exactly once ([`EventReceiver`]) and a sender
//!   that paces the packets of queued digits every 20 ms ([`EventSender`]).
//! - SIP INFO bodies: `application/dtmf-relay` (`Signal=5\r\nDuration=160\r\n`) and
//!   `application/dtmf` ([`InfoDtmf`]).
//! - In-band tones: a Goertzel detector on 20 ms frames at 8, 16 and 48 kHz
//!   ([`DtmfDetector`]) and a generator that writes the dual tones into frames
//!   ([`DtmfGenerator`]), for legs that do not negotiate telephone-event.
//!
//! What it does not do: I/O, RTP headers (the caller parses them with
//! [`crate::rtp::classify`] and numbers outgoing packets itself), or deciding which of the
//! three ways a leg uses (that is negotiation, in core).
//!
//! Drive loop: per received RTP packet of the telephone-event payload type call
//! [`EventReceiver::handle_packet`], per 20 ms decoded frame call
//! [`DtmfDetector::handle_frame`], and once in a while [`EventReceiver::handle_timeout`]
//! (at [`EventReceiver::poll_timeout`]); after each, drain `poll_event()` until it returns
//! `None`. To send, queue digits on an [`EventSender`] or [`DtmfGenerator`] and call its
//! `tick`/`fill` once per 20 ms slot of the outgoing stream.

mod detect;
mod generate;
mod goertzel;
mod info;
mod receive;
mod rfc4733;
mod send;

pub use detect::{DetectorConfig, DtmfDetector};
pub use generate::DtmfGenerator;
pub use info::InfoDtmf;
pub use receive::EventReceiver;
pub use rfc4733::TelephoneEvent;
pub use send::{EventPacket, EventSender};

/// The digit duration used when none is given: 2000 samples at 8 kHz, FreeSWITCH's
/// `rtp_digit_duration` default.
pub const DEFAULT_DURATION_MS: u32 = 250;

/// The shortest digit the senders produce (FreeSWITCH's minimum of 400 samples at 8 kHz).
pub const MIN_DURATION_MS: u32 = 50;

/// The longest digit the senders produce. Longer requests are cut to this.
pub const MAX_DURATION_MS: u32 = 5000;

/// The silence the senders leave between two queued digits.
pub const INTER_DIGIT_GAP_MS: u32 = 50;

/// A DTMF key, numbered as its RFC 4733 event code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Digit {
    /// `0`
    D0 = 0,
    /// `1`
    D1 = 1,
    /// `2`
    D2 = 2,
    /// `3`
    D3 = 3,
    /// `4`
    D4 = 4,
    /// `5`
    D5 = 5,
    /// `6`
    D6 = 6,
    /// `7`
    D7 = 7,
    /// `8`
    D8 = 8,
    /// `9`
    D9 = 9,
    /// `*`
    Star = 10,
    /// `#`
    Pound = 11,
    /// `A`
    A = 12,
    /// `B`
    B = 13,
    /// `C`
    C = 14,
    /// `D`
    D = 15,
    /// Hook flash (event 16); written `F` (and `!` in SIP INFO). Not a tone: in-band it is
    /// neither detected nor generated.
    Flash = 16,
}

impl Digit {
    /// Every digit, in event-code order.
    pub const ALL: [Digit; 17] = [
        Digit::D0,
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::Star,
        Digit::Pound,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
        Digit::Flash,
    ];

    /// The digit for an RFC 4733 event code (0-16); `None` for other events.
    pub fn from_event(code: u8) -> Option<Digit> {
        Digit::ALL.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code.
    pub fn event(self) -> u8 {
        self as u8
    }

    /// The digit written as `c`: `0`-`9`, `*`, `#`, `A`-`D` (either case), `F` or `!` for
    /// flash.
    pub fn from_char(c: char) -> Option<Digit> {
        let d = match c.to_ascii_uppercase() {
            c @ '0'..='9' => Digit::from_event(c as u8 - b'0')?,
            '*' => Digit::Star,
            '#' => Digit::Pound,
            c @ 'A'..='D' => Digit::from_event(c as u8 - b'A' + 12)?,
            'F' | '!' => Digit::Flash,
            _ => return None,
        };
        Some(d)
    }

    /// The character FreeSWITCH uses for the digit (`F` for flash).
    pub fn char(self) -> char {
        match self {
            Digit::Star => '*',
            Digit::Pound => '#',
            Digit::Flash => 'F',
            d if d.event() < 10 => char::from(b'0' + d.event()),
            d => char::from(b'A' + d.event() - 12),
        }
    }

    /// The (row, column) frequencies in Hz of the key's dual tone; `None` for flash.
    pub fn frequencies(self) -> Option<(f64, f64)> {
        let (row, col) = match self {
            Digit::D1 => (0, 0),
            Digit::D2 => (0, 1),
            Digit::D3 => (0, 2),
            Digit::A => (0, 3),
            Digit::D4 => (1, 0),
            Digit::D5 => (1, 1),
            Digit::D6 => (1, 2),
            Digit::B => (1, 3),
            Digit::D7 => (2, 0),
            Digit::D8 => (2, 1),
            Digit::D9 => (2, 2),
            Digit::C => (2, 3),
            Digit::Star => (3, 0),
            Digit::D0 => (3, 1),
            Digit::Pound => (3, 2),
            Digit::D => (3, 3),
            Digit::Flash => return None,
        };
        Some((ROW_HZ[row], COL_HZ[col]))
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.char())
    }
}

/// The low (row) group of the keypad, Hz.
pub const ROW_HZ: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The high (column) group of the keypad, Hz.
pub const COL_HZ: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// What a receiver or detector reports about a key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// The key went down (reported once per press).
    Begin {
        /// The key.
        digit: Digit,
    },
    /// The key came up after `duration_ms` (reported once per press, after its `Begin`).
    End {
        /// The key.
        digit: Digit,
        /// How long it was held.
        duration_ms: u32,
    },
}

impl DtmfEvent {
    /// The key this event is about.
    pub fn digit(&self) -> Digit {
        match *self {
            DtmfEvent::Begin { digit } | DtmfEvent::End { digit, .. } => digit,
        }
    }
}

/// Why a DTMF payload, body or request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// A telephone-event payload shorter than 4 bytes (the peer's fault).
    #[error("telephone-event payload of {0} bytes is shorter than 4")]
    ShortPayload(usize),
    /// A SIP INFO body without a usable signal (the peer's fault).
    #[error("DTMF INFO body has no valid signal: {0:?}")]
    BadSignal(String),
    /// A SIP INFO body whose duration is not a number (the peer's fault).
    #[error("DTMF INFO body has an invalid duration: {0:?}")]
    BadDuration(String),
    /// A character that is no DTMF key (the caller's fault).
    #[error("{0:?} is not a DTMF key (0-9, *, #, A-D, F)")]
    NotADigit(char),
    /// The sender's or generator's queue is full (the caller's fault).
    #[error("DTMF queue is full ({0} digits)")]
    QueueFull(usize),
    /// A sample rate outside [`crate::RATES`] (the caller's fault).
    #[error("sample rate {0} Hz is not 8000, 16000 or 48000")]
    Rate(u32),
    /// An RTP clock rate of zero or one not a multiple of 1000 Hz (the caller's fault).
    #[error("telephone-event clock rate {0} Hz is not a positive multiple of 1000")]
    ClockRate(u32),
    /// Flash has no tone, so it cannot be generated in-band (the caller's fault).
    #[error("flash cannot be sent in-band")]
    FlashInBand,
}

/// Digits waiting to be sent, with their durations: a fixed ring, no allocation.
#[derive(Debug, Clone)]
struct DigitQueue {
    items: [(Digit, u32); QUEUE_LEN],
    head: usize,
    len: usize,
}

/// How many digits a sender or generator holds.
const QUEUE_LEN: usize = 64;

impl DigitQueue {
    fn new() -> DigitQueue {
        DigitQueue {
            items: [(Digit::D0, 0); QUEUE_LEN],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, digit: Digit, duration_ms: u32) -> Result<(), DtmfError> {
        if self.len == QUEUE_LEN {
            return Err(DtmfError::QueueFull(QUEUE_LEN));
        }
        let duration_ms = duration_ms.clamp(MIN_DURATION_MS, MAX_DURATION_MS);
        self.items[(self.head + self.len) % QUEUE_LEN] = (digit, duration_ms);
        self.len += 1;
        Ok(())
    }

    fn pop(&mut self) -> Option<(Digit, u32)> {
        if self.len == 0 {
            return None;
        }
        let item = self.items[self.head];
        self.head = (self.head + 1) % QUEUE_LEN;
        self.len -= 1;
        Some(item)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Pending events: a tiny fixed FIFO so `handle_*` never allocates.
#[derive(Debug, Clone)]
struct EventQueue {
    items: [Option<DtmfEvent>; 8],
    head: usize,
    len: usize,
}

impl EventQueue {
    fn new() -> EventQueue {
        EventQueue {
            items: [None; 8],
            head: 0,
            len: 0,
        }
    }

    /// Appends `ev`; when full the oldest event is dropped (a caller that never polls).
    fn push(&mut self, ev: DtmfEvent) {
        let cap = self.items.len();
        if self.len == cap {
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        self.items[(self.head + self.len) % cap] = Some(ev);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<DtmfEvent> {
        if self.len == 0 {
            return None;
        }
        let ev = self.items[self.head].take();
        self.head = (self.head + 1) % self.items.len();
        self.len -= 1;
        ev
    }
}

#[cfg(test)]
mod detect_tests;
#[cfg(test)]
mod talkoff_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_and_events_round_trip() {
        for d in Digit::ALL {
            assert_eq!(Digit::from_event(d.event()), Some(d));
            assert_eq!(Digit::from_char(d.char()), Some(d));
        }
        assert_eq!(Digit::from_event(17), None);
        assert_eq!(Digit::from_char('a'), Some(Digit::A));
        assert_eq!(Digit::from_char('!'), Some(Digit::Flash));
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::Pound.to_string(), "#");
    }

    #[test]
    fn keypad_frequencies() {
        assert_eq!(Digit::D1.frequencies(), Some((697.0, 1209.0)));
        assert_eq!(Digit::D0.frequencies(), Some((941.0, 1336.0)));
        assert_eq!(Digit::D.frequencies(), Some((941.0, 1633.0)));
        assert_eq!(Digit::Flash.frequencies(), None);
    }

    #[test]
    fn queues_are_bounded() {
        let mut q = DigitQueue::new();
        for _ in 0..QUEUE_LEN {
            q.push(Digit::D1, 10).expect("room");
        }
        assert_eq!(q.push(Digit::D2, 100), Err(DtmfError::QueueFull(QUEUE_LEN)));
        assert_eq!(q.pop(), Some((Digit::D1, MIN_DURATION_MS)));
        let mut e = EventQueue::new();
        for i in 0..10u32 {
            e.push(DtmfEvent::End {
                digit: Digit::D1,
                duration_ms: i,
            });
        }
        assert_eq!(
            e.pop(),
            Some(DtmfEvent::End {
                digit: Digit::D1,
                duration_ms: 2
            })
        );
    }
}
