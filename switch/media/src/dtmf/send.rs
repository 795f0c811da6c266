//! Pacing the RFC 4733 packets of queued digits, one per 20 ms tick.

use super::{Digit, DigitQueue, DtmfError, TelephoneEvent, INTER_DIGIT_GAP_MS};

/// How many times the end packet is sent (RFC 4733 §2.5.1.4 recommends three).
const END_PACKETS: u8 = 3;

/// The sender ticks every 20 ms.
const TICK_MS: u32 = 20;

/// One telephone-event packet to send: the caller puts it in RTP with the negotiated
/// telephone-event payload type and the stream's next sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// RTP timestamp: the same for every packet of one event (its start).
    pub timestamp: u32,
    /// Marker bit: set on the first packet of an event.
    pub marker: bool,
    /// The payload fields.
    pub event: TelephoneEvent,
}

impl EventPacket {
    /// The 4 payload bytes.
    pub fn payload(&self) -> [u8; 4] {
        self.event.to_bytes()
    }
}

/// The sending side of telephone-events for one RTP stream.
///
/// Digits are queued with a duration (clamped to [`super::MIN_DURATION_MS`]-
/// [`super::MAX_DURATION_MS`], and to 65535 RTP units, the most one packet can say: 8.2 s at
/// 8 kHz, 1.36 s at 48 kHz; [`super::DEFAULT_DURATION_MS`] is FreeSWITCH's 250 ms). Each call
/// to [`tick`](Self::tick), one per 20 ms slot of the outgoing stream, yields at most one
/// packet: the first of an event carries the marker, every packet of the event the event's
/// start timestamp and the duration so far, and the end packet is sent on three consecutive
/// ticks with the final duration. [`INTER_DIGIT_GAP_MS`] of nothing follows each digit.
/// While [`is_sending`](Self::is_sending) the caller should not send audio on the stream.
#[derive(Debug, Clone)]
pub struct EventSender {
    clock_rate: u32,
    tick_samples: u32,
    volume: u8,
    queue: DigitQueue,
    state: State,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Gap {
        ticks_left: u32,
    },
    Sending {
        digit: Digit,
        timestamp: u32,
        elapsed: u32,
        total: u16,
        ends_sent: u8,
    },
}

impl EventSender {
    /// A sender clocked at `clock_rate` Hz (the telephone-event rtpmap rate, 8000 as a rule),
    /// a positive multiple of 1000.
    pub fn new(clock_rate: u32) -> Result<EventSender, DtmfError> {
        if clock_rate == 0 || clock_rate / 1000 * 1000 != clock_rate {
            return Err(DtmfError::ClockRate(clock_rate));
        }
        Ok(EventSender {
            clock_rate,
            tick_samples: clock_rate / 1000 * TICK_MS,
            volume: TelephoneEvent::DEFAULT_VOLUME,
            queue: DigitQueue::new(),
            state: State::Idle,
        })
    }

    /// Sets the volume field (minus dBm0, 0-63) of the packets to come.
    pub fn set_volume(&mut self, volume: u8) {
        self.volume = volume.min(63);
    }

    /// Queues `digit` held for `duration_ms`.
    pub fn queue(&mut self, digit: Digit, duration_ms: u32) -> Result<(), DtmfError> {
        self.queue.push(digit, duration_ms)
    }

    /// Queues every key in `digits` (as FreeSWITCH's `send_dtmf` string, e.g. `"123#"`),
    /// each held for `duration_ms`. Nothing is queued unless all are keys and fit.
    pub fn queue_str(&mut self, digits: &str, duration_ms: u32) -> Result<(), DtmfError> {
        let mut n = 0;
        for c in digits.chars() {
            Digit::from_char(c).ok_or(DtmfError::NotADigit(c))?;
            n += 1;
        }
        if self.queue.len() + n > super::QUEUE_LEN {
            return Err(DtmfError::QueueFull(super::QUEUE_LEN));
        }
        for d in digits.chars().filter_map(Digit::from_char) {
            self.queue.push(d, duration_ms)?;
        }
        Ok(())
    }

    /// Digits queued and not yet started.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// An event is being sent (its end packets included): mute the stream's audio.
    pub fn is_sending(&self) -> bool {
        matches!(self.state, State::Sending { .. })
    }

    /// Nothing is queued, being sent or waiting out the gap after a digit.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.queue.len() == 0
    }

    /// Drops the queued digits; an event in flight is finished (its end packets still go).
    pub fn cancel(&mut self) {
        self.queue.clear();
    }

    /// One 20 ms slot of the outgoing stream, whose RTP timestamp for this slot is
    /// `timestamp`: the packet to send now, if any.
    pub fn tick(&mut self, timestamp: u32) -> Option<EventPacket> {
        match self.state {
            State::Gap { ticks_left } => {
                self.state = if ticks_left > 1 {
                    State::Gap {
                        ticks_left: ticks_left - 1,
                    }
                } else {
                    State::Idle
                };
                None
            }
            State::Idle => {
                let (digit, duration_ms) = self.queue.pop()?;
                let samples = u64::from(duration_ms) * u64::from(self.clock_rate) / 1000;
                let total = u16::try_from(samples).unwrap_or(u16::MAX);
                self.state = State::Sending {
                    digit,
                    timestamp,
                    elapsed: 0,
                    total,
                    ends_sent: 0,
                };
                self.sending_tick(true)
            }
            State::Sending { .. } => self.sending_tick(false),
        }
    }

    fn sending_tick(&mut self, first: bool) -> Option<EventPacket> {
        let State::Sending {
            digit,
            timestamp,
            elapsed,
            total,
            ends_sent,
        } = &mut self.state
        else {
            return None;
        };
        *elapsed = elapsed.saturating_add(self.tick_samples);
        let end = *elapsed >= u32::from(*total);
        let duration = if end {
            *total
        } else {
            // Below `total`, which is a u16.
            u16::try_from(*elapsed).unwrap_or(u16::MAX)
        };
        let packet = EventPacket {
            timestamp: *timestamp,
            marker: first,
            event: TelephoneEvent {
                event: digit.event(),
                end,
                volume: self.volume,
                duration,
            },
        };
        if end {
            *ends_sent += 1;
            if *ends_sent >= END_PACKETS {
                self.state = State::Gap {
                    ticks_left: INTER_DIGIT_GAP_MS.div_ceil(TICK_MS),
                };
            }
        }
        Some(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DtmfEvent, EventReceiver, DEFAULT_DURATION_MS};
    use super::*;
    use std::time::{Duration, Instant};

    fn run(tx: &mut EventSender, ticks: u32) -> Vec<Option<EventPacket>> {
        (0..ticks).map(|i| tx.tick(i * 160)).collect()
    }

    #[test]
    fn one_digit_is_marker_growing_duration_and_three_ends() {
        let mut tx = EventSender::new(8000).expect("8 kHz");
        tx.queue(Digit::D5, 100).expect("room");
        assert!(!tx.is_idle());
        let out = run(&mut tx, 12);
        let sent: Vec<EventPacket> = out.iter().flatten().copied().collect();
        assert_eq!(sent.len(), 4 + 3, "{sent:?}");
        assert!(sent[0].marker);
        assert!(sent[1..].iter().all(|p| !p.marker));
        assert!(sent.iter().all(|p| p.timestamp == 0 && p.event.event == 5));
        let durations: Vec<u16> = sent.iter().map(|p| p.event.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends = sent.iter().filter(|p| p.event.end).count();
        assert_eq!(
            ends, 3,
            "the fifth packet reaches 100 ms and is the first end"
        );
        assert!(
            out[7..10].iter().all(Option::is_none),
            "gap after the digit"
        );
        assert!(tx.is_idle());
    }

    #[test]
    fn queued_digits_get_their_own_timestamps_after_a_gap() {
        let mut tx = EventSender::new(8000).expect("8 kHz");
        tx.queue_str("1#", DEFAULT_DURATION_MS).expect("keys");
        assert_eq!(tx.pending(), 2);
        let sent: Vec<EventPacket> = run(&mut tx, 60).into_iter().flatten().collect();
        let firsts: Vec<&EventPacket> = sent.iter().filter(|p| p.marker).collect();
        assert_eq!(firsts.len(), 2);
        assert_eq!(firsts[0].timestamp, 0);
        // 13 packets to reach 2000 samples, 2 more ends, 3 ticks of gap.
        assert_eq!(firsts[1].timestamp, (13 + 2 + 3) * 160);
        assert_eq!(firsts[1].event.event, 11);
    }

    #[test]
    fn queue_str_is_all_or_nothing() {
        let mut tx = EventSender::new(8000).expect("8 kHz");
        assert_eq!(tx.queue_str("12x", 100), Err(DtmfError::NotADigit('x')));
        assert_eq!(tx.pending(), 0);
        let long: String = "1".repeat(65);
        assert!(matches!(
            tx.queue_str(&long, 100),
            Err(DtmfError::QueueFull(_))
        ));
        assert_eq!(tx.pending(), 0);
    }

    #[test]
    fn durations_are_clamped_to_what_fits() {
        let mut tx = EventSender::new(48_000).expect("48 kHz");
        tx.queue(Digit::D1, 5000).expect("room");
        let sent: Vec<EventPacket> = run(&mut tx, 200).into_iter().flatten().collect();
        assert_eq!(sent.last().map(|p| p.event.duration), Some(u16::MAX));
        let mut tx = EventSender::new(8000).expect("8 kHz");
        tx.queue(Digit::D1, 1).expect("room");
        let sent: Vec<EventPacket> = run(&mut tx, 10).into_iter().flatten().collect();
        assert_eq!(sent.last().map(|p| p.event.duration), Some(400));
    }

    #[test]
    fn sender_and_receiver_agree() {
        let mut tx = EventSender::new(8000).expect("8 kHz");
        let mut rx = EventReceiver::new(8000).expect("8 kHz");
        tx.queue_str("0123456789*#ABCDF", 120).expect("keys");
        let t0 = Instant::now();
        let mut seq = 0u16;
        let mut got = Vec::new();
        for i in 0..400u32 {
            if let Some(p) = tx.tick(i * 160) {
                let now = t0 + Duration::from_millis(u64::from(i) * 20);
                rx.handle_packet(now, seq, p.timestamp, p.marker, &p.payload())
                    .expect("valid");
                seq = seq.wrapping_add(1);
            }
            got.extend(std::iter::from_fn(|| rx.poll_event()));
        }
        let ends: Vec<(char, u32)> = got
            .iter()
            .filter_map(|e| match e {
                DtmfEvent::End { digit, duration_ms } => Some((digit.char(), *duration_ms)),
                DtmfEvent::Begin { .. } => None,
            })
            .collect();
        let keys: String = ends.iter().map(|e| e.0).collect();
        assert_eq!(keys, "0123456789*#ABCDF");
        assert!(ends.iter().all(|e| e.1 == 120));
        assert_eq!(got.len(), 34);
    }
}
