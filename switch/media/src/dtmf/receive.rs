//! Turning a stream of RFC 4733 packets into key presses, each reported exactly once.

use std::time::{Duration, Instant};

use super::{Digit, DtmfError, DtmfEvent, EventQueue, TelephoneEvent};

/// How long an event may go without packets before it is ended for the sender (whose end
/// packets were all lost). Senders refresh every 50 ms or faster (RFC 4733 §2.5.1.2).
const EVENT_TIMEOUT: Duration = Duration::from_millis(500);

/// The receiving side of telephone-events for one RTP stream.
///
/// Packets of one event share an RTP timestamp; a new timestamp is a new event. The first
/// packet seen of an event yields [`DtmfEvent::Begin`] (so an event whose first packets were
/// lost still begins), the first end packet yields [`DtmfEvent::End`] and the retransmitted
/// end packets are ignored. If the end packets are all lost, the event ends when the next
/// event starts or 500 ms after its last packet ([`poll_timeout`](Self::poll_timeout)), with
/// the last duration heard. Packets older
/// than the current event (by timestamp or sequence number) are ignored, and so are events
/// that are no key (codes above 16). A long event that the sender split into segments
/// (RFC 4733 §2.5.1.3: same key, no marker, next timestamp = previous timestamp + duration)
/// is one press.
#[derive(Debug, Clone)]
pub struct EventReceiver {
    clock_rate: u32,
    current: Option<Current>,
    last_seq: Option<u16>,
    events: EventQueue,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    digit: Digit,
    timestamp: u32,
    /// Samples covered by earlier segments of a long event.
    base: u64,
    /// Largest duration seen in the current segment.
    duration: u16,
    ended: bool,
    last_seen: Instant,
}

impl Current {
    fn samples(&self) -> u64 {
        self.base + u64::from(self.duration)
    }
}

impl EventReceiver {
    /// A receiver for telephone-events clocked at `clock_rate` Hz (8000 as a rule, 48000
    /// next to Opus). The rate must be a positive multiple of 1000.
    pub fn new(clock_rate: u32) -> Result<EventReceiver, DtmfError> {
        if clock_rate == 0 || clock_rate / 1000 * 1000 != clock_rate {
            return Err(DtmfError::ClockRate(clock_rate));
        }
        Ok(EventReceiver {
            clock_rate,
            current: None,
            last_seq: None,
            events: EventQueue::new(),
        })
    }

    /// Takes one telephone-event packet: its RTP sequence number, timestamp, marker bit and
    /// payload. Events it completes come out of [`poll_event`](Self::poll_event). A payload
    /// shorter than 4 bytes is refused and changes nothing.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let Some(digit) = ev.digit() else {
            return Ok(());
        };
        let stale_seq = self.last_seq.is_some_and(|last| serial_before16(seq, last));
        if !stale_seq {
            self.last_seq = Some(seq);
        }
        if let Some(cur) = self.current.as_mut() {
            if cur.timestamp == timestamp {
                if !cur.ended {
                    cur.duration = cur.duration.max(ev.duration);
                    cur.last_seen = now;
                    if ev.end {
                        cur.ended = true;
                        let end = end_of(self.clock_rate, *cur);
                        self.events.push(end);
                    }
                }
                return Ok(());
            }
            if stale_seq || serial_before32(timestamp, cur.timestamp) {
                return Ok(());
            }
            if !cur.ended {
                let expected = cur.timestamp.wrapping_add(u32::from(cur.duration));
                let slack = self.clock_rate / 10;
                let continues = cur.digit == digit
                    && !marker
                    && timestamp
                        .wrapping_sub(expected)
                        .min(expected.wrapping_sub(timestamp))
                        <= slack;
                if continues {
                    cur.base += u64::from(cur.duration);
                    cur.timestamp = timestamp;
                    cur.duration = ev.duration;
                    cur.last_seen = now;
                    if ev.end {
                        cur.ended = true;
                        let end = end_of(self.clock_rate, *cur);
                        self.events.push(end);
                    }
                    return Ok(());
                }
                cur.ended = true;
                let end = end_of(self.clock_rate, *cur);
                self.events.push(end);
            }
        }
        let cur = Current {
            digit,
            timestamp,
            base: 0,
            duration: ev.duration,
            ended: ev.end,
            last_seen: now,
        };
        self.events.push(DtmfEvent::Begin { digit });
        if ev.end {
            let end = end_of(self.clock_rate, cur);
            self.events.push(end);
        }
        self.current = Some(cur);
        Ok(())
    }

    /// When an event still in progress times out for want of packets; `None` when idle.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current
            .filter(|c| !c.ended)
            .map(|c| c.last_seen + EVENT_TIMEOUT)
    }

    /// Ends an event whose packets stopped coming (all its end packets lost).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(cur) = self.current.as_mut() {
            if !cur.ended && now >= cur.last_seen + EVENT_TIMEOUT {
                cur.ended = true;
                let end = end_of(self.clock_rate, *cur);
                self.events.push(end);
            }
        }
    }

    /// The next begin or end of a key press, oldest first.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop()
    }

    /// Forgets the current event (new stream, SSRC change); pending events are kept.
    pub fn reset(&mut self) {
        self.current = None;
        self.last_seq = None;
    }
}

fn end_of(clock_rate: u32, cur: Current) -> DtmfEvent {
    let ms = cur.samples() * 1000 / u64::from(clock_rate);
    DtmfEvent::End {
        digit: cur.digit,
        duration_ms: u32::try_from(ms).unwrap_or(u32::MAX),
    }
}

/// `a` comes before `b` in 16-bit serial number arithmetic.
fn serial_before16(a: u16, b: u16) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000
}

/// `a` comes before `b` in 32-bit serial number arithmetic.
fn serial_before32(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Feed {
        rx: EventReceiver,
        t0: Instant,
        ms: u64,
    }

    impl Feed {
        fn new() -> Feed {
            Feed {
                rx: EventReceiver::new(8000).expect("8 kHz"),
                t0: Instant::now(),
                ms: 0,
            }
        }

        fn now(&self) -> Instant {
            self.t0 + Duration::from_millis(self.ms)
        }

        fn send(&mut self, seq: u16, ts: u32, marker: bool, ev: u8, end: bool, dur: u16) {
            self.ms += 20;
            let p = TelephoneEvent {
                event: ev,
                end,
                volume: 10,
                duration: dur,
            };
            self.rx
                .handle_packet(self.now(), seq, ts, marker, &p.to_bytes())
                .expect("valid payload");
        }

        fn events(&mut self) -> Vec<DtmfEvent> {
            std::iter::from_fn(|| self.rx.poll_event()).collect()
        }
    }

    /// The packets of one well-behaved event: marker first, growing duration, 3 ends.
    fn event_packets(
        seq0: u16,
        ts: u32,
        ev: u8,
        packets: u16,
    ) -> Vec<(u16, u32, bool, u8, bool, u16)> {
        let mut v = Vec::new();
        for i in 0..packets {
            v.push((seq0.wrapping_add(i), ts, i == 0, ev, false, (i + 1) * 160));
        }
        for i in 0..3 {
            v.push((
                seq0.wrapping_add(packets + i),
                ts,
                false,
                ev,
                true,
                (packets + 1) * 160,
            ));
        }
        v
    }

    #[test]
    fn one_press_is_one_begin_and_one_end_despite_three_end_packets() {
        let mut f = Feed::new();
        for (s, ts, m, e, end, d) in event_packets(100, 8000, 5, 5) {
            f.send(s, ts, m, e, end, d);
        }
        assert_eq!(
            f.events(),
            vec![
                DtmfEvent::Begin { digit: Digit::D5 },
                DtmfEvent::End {
                    digit: Digit::D5,
                    duration_ms: 120
                }
            ]
        );
        assert_eq!(f.rx.poll_timeout(), None);
    }

    #[test]
    fn an_end_packet_alone_is_still_one_digit() {
        let mut f = Feed::new();
        f.send(7, 1000, false, 11, true, 800);
        f.send(8, 1000, false, 11, true, 800);
        assert_eq!(
            f.events(),
            vec![
                DtmfEvent::Begin {
                    digit: Digit::Pound
                },
                DtmfEvent::End {
                    digit: Digit::Pound,
                    duration_ms: 100
                }
            ]
        );
    }

    #[test]
    fn lost_first_packets_still_begin() {
        let mut f = Feed::new();
        let pk = event_packets(1, 500, 1, 6);
        for &(s, ts, m, e, end, d) in &pk[3..] {
            f.send(s, ts, m, e, end, d);
        }
        let ev = f.events();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0], DtmfEvent::Begin { digit: Digit::D1 });
    }

    #[test]
    fn same_key_twice_is_two_presses_told_apart_by_timestamp() {
        let mut f = Feed::new();
        for (s, ts, m, e, end, d) in event_packets(10, 0, 2, 4) {
            f.send(s, ts, m, e, end, d);
        }
        for (s, ts, m, e, end, d) in event_packets(20, 3200, 2, 4) {
            f.send(s, ts, m, e, end, d);
        }
        let ev = f.events();
        assert_eq!(ev.len(), 4);
        assert!(ev.iter().all(|e| e.digit() == Digit::D2));
    }

    #[test]
    fn all_end_packets_lost_ends_at_the_next_event_or_timeout() {
        let mut f = Feed::new();
        let a = event_packets(1, 0, 3, 5);
        for &(s, ts, m, e, end, d) in &a[..5] {
            f.send(s, ts, m, e, end, d);
        }
        for (s, ts, m, e, end, d) in event_packets(10, 4000, 4, 2) {
            f.send(s, ts, m, e, end, d);
        }
        assert_eq!(
            f.events(),
            vec![
                DtmfEvent::Begin { digit: Digit::D3 },
                DtmfEvent::End {
                    digit: Digit::D3,
                    duration_ms: 100
                },
                DtmfEvent::Begin { digit: Digit::D4 },
                DtmfEvent::End {
                    digit: Digit::D4,
                    duration_ms: 60
                },
            ]
        );
        // Timeout: a lone unfinished event.
        f.send(30, 9000, true, 16, false, 160);
        let due = f.rx.poll_timeout().expect("event running");
        f.rx.handle_timeout(due - Duration::from_millis(1));
        assert_eq!(
            f.events(),
            vec![DtmfEvent::Begin {
                digit: Digit::Flash
            }]
        );
        f.rx.handle_timeout(due);
        assert_eq!(
            f.events(),
            vec![DtmfEvent::End {
                digit: Digit::Flash,
                duration_ms: 20
            }]
        );
        assert_eq!(f.rx.poll_timeout(), None);
    }

    #[test]
    fn late_packets_of_an_old_event_are_ignored() {
        let mut f = Feed::new();
        f.send(5, 1600, true, 7, false, 160);
        f.send(3, 0, false, 6, true, 800); // older seq and timestamp
        f.send(6, 1600, false, 7, true, 320);
        f.send(4, 1, false, 6, true, 800); // older seq, newer-looking timestamp
        assert_eq!(
            f.events(),
            vec![
                DtmfEvent::Begin { digit: Digit::D7 },
                DtmfEvent::End {
                    digit: Digit::D7,
                    duration_ms: 40
                }
            ]
        );
    }

    #[test]
    fn reordered_packets_keep_the_largest_duration() {
        let mut f = Feed::new();
        f.send(2, 0, false, 9, false, 320);
        f.send(1, 0, true, 9, false, 160);
        f.send(3, 0, false, 9, true, 480);
        assert_eq!(
            f.events()[1],
            DtmfEvent::End {
                digit: Digit::D9,
                duration_ms: 60
            }
        );
    }

    #[test]
    fn long_events_split_in_segments_are_one_press() {
        let mut f = Feed::new();
        f.send(1, 0, true, 0, false, 65_000);
        f.send(2, 65_000, false, 0, false, 3000);
        f.send(3, 65_000, false, 0, true, 7000);
        assert_eq!(
            f.events(),
            vec![
                DtmfEvent::Begin { digit: Digit::D0 },
                DtmfEvent::End {
                    digit: Digit::D0,
                    duration_ms: 9000
                }
            ]
        );
    }

    #[test]
    fn sequence_and_timestamp_wrap_around() {
        let mut f = Feed::new();
        for (s, ts, m, e, end, d) in event_packets(65_533, u32::MAX - 100, 8, 3) {
            f.send(s, ts, m, e, end, d);
        }
        for (s, ts, m, e, end, d) in event_packets(3, 2000, 8, 3) {
            f.send(s, ts, m, e, end, d);
        }
        assert_eq!(f.events().len(), 4);
    }

    #[test]
    fn other_events_and_bad_payloads() {
        let mut f = Feed::new();
        f.send(1, 0, true, 32, true, 160); // not a key
        assert!(f.events().is_empty());
        assert_eq!(
            f.rx.handle_packet(f.now(), 2, 0, false, &[1, 2]),
            Err(DtmfError::ShortPayload(2))
        );
        assert!(EventReceiver::new(0).is_err());
        assert!(EventReceiver::new(8001).is_err());
    }

    #[test]
    fn opus_clock_durations() {
        let mut rx = EventReceiver::new(48_000).expect("48 kHz");
        let p = TelephoneEvent {
            event: 4,
            end: true,
            volume: 10,
            duration: 4800,
        };
        rx.handle_packet(Instant::now(), 1, 0, true, &p.to_bytes())
            .expect("valid");
        rx.poll_event();
        assert_eq!(
            rx.poll_event(),
            Some(DtmfEvent::End {
                digit: Digit::D4,
                duration_ms: 100
            })
        );
    }
}
