//! Media inactivity: noticing a side that stopped sending RTP.

use std::time::{Duration, Instant};

use super::relay::Side;

/// Per-side "last RTP seen" clocks and the deadline they imply.
///
/// A side is timed only while it is watched (the relay forwards its media) and not on hold
/// (a held leg may legitimately send nothing). Each silence is reported once; the next packet
/// or a fresh watch/unhold starts the clock again.
#[derive(Debug, Clone)]
pub struct Inactivity {
    timeout: Option<Duration>,
    sides: [Watch; 2],
}

#[derive(Debug, Clone, Copy, Default)]
struct Watch {
    watched: bool,
    held: bool,
    reported: bool,
    last: Option<Instant>,
}

impl Watch {
    fn deadline(&self, timeout: Duration) -> Option<Instant> {
        if !self.watched || self.held || self.reported {
            return None;
        }
        // An absurdly long timeout that overflows the clock means "never".
        self.last.and_then(|t| t.checked_add(timeout))
    }

    fn restart(&mut self, now: Instant) {
        self.last = Some(now);
        self.reported = false;
    }
}

impl Inactivity {
    /// A tracker with no side watched; `None` disables timeouts altogether.
    pub fn new(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            sides: [Watch::default(); 2],
        }
    }

    /// Starts or stops timing `side`. Starting restarts its clock at `now`.
    pub fn watch(&mut self, side: Side, on: bool, now: Instant) {
        let w = &mut self.sides[side.index()];
        if on && !w.watched {
            w.restart(now);
        }
        w.watched = on;
    }

    /// Suspends (`held`) or resumes timing `side`. Resuming restarts its clock at `now`.
    pub fn set_hold(&mut self, side: Side, held: bool, now: Instant) {
        let w = &mut self.sides[side.index()];
        if w.held && !held {
            w.restart(now);
        }
        w.held = held;
    }

    /// Records RTP from `side` at `now`.
    pub fn on_packet(&mut self, side: Side, now: Instant) {
        self.sides[side.index()].restart(now);
    }

    /// The earliest moment a side may time out, if any is being timed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.timeout?;
        self.sides.iter().filter_map(|w| w.deadline(timeout)).min()
    }

    /// Reports a side silent for the whole timeout at `now`, once per silence. Call again
    /// until `None`: both sides may be due together.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Side> {
        let timeout = self.timeout?;
        for side in [Side::A, Side::B] {
            let w = &mut self.sides[side.index()];
            if w.deadline(timeout).is_some_and(|d| d <= now) {
                w.reported = true;
                return Some(side);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(60);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn unwatched_sides_never_time_out() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        assert_eq!(i.poll_timeout(), None);
        assert_eq!(i.handle_timeout(t0 + secs(3600)), None);
    }

    #[test]
    fn silent_side_times_out_once_after_the_timeout() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::A, true, t0);
        assert_eq!(i.poll_timeout(), Some(t0 + T));
        assert_eq!(i.handle_timeout(t0 + secs(59)), None);
        assert_eq!(i.handle_timeout(t0 + secs(60)), Some(Side::A));
        assert_eq!(i.handle_timeout(t0 + secs(61)), None);
        assert_eq!(i.poll_timeout(), None);
    }

    #[test]
    fn packets_push_the_deadline_back() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::A, true, t0);
        i.watch(Side::B, true, t0);
        i.on_packet(Side::A, t0 + secs(50));
        i.on_packet(Side::B, t0 + secs(40));
        assert_eq!(i.poll_timeout(), Some(t0 + secs(100)));
        assert_eq!(i.handle_timeout(t0 + secs(100)), Some(Side::B));
        assert_eq!(i.handle_timeout(t0 + secs(100)), None);
        assert_eq!(i.handle_timeout(t0 + secs(110)), Some(Side::A));
    }

    #[test]
    fn both_sides_due_are_reported_one_by_one() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::A, true, t0);
        i.watch(Side::B, true, t0);
        assert_eq!(i.handle_timeout(t0 + T), Some(Side::A));
        assert_eq!(i.handle_timeout(t0 + T), Some(Side::B));
        assert_eq!(i.handle_timeout(t0 + T), None);
    }

    #[test]
    fn hold_suspends_and_unhold_restarts_the_clock() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::A, true, t0);
        i.set_hold(Side::A, true, t0 + secs(10));
        assert_eq!(i.poll_timeout(), None);
        assert_eq!(i.handle_timeout(t0 + secs(600)), None);
        i.set_hold(Side::A, false, t0 + secs(600));
        assert_eq!(i.poll_timeout(), Some(t0 + secs(660)));
        assert_eq!(i.handle_timeout(t0 + secs(660)), Some(Side::A));
    }

    #[test]
    fn a_packet_after_a_report_rearms_the_side() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::B, true, t0);
        assert_eq!(i.handle_timeout(t0 + T), Some(Side::B));
        i.on_packet(Side::B, t0 + secs(70));
        assert_eq!(i.poll_timeout(), Some(t0 + secs(130)));
    }

    #[test]
    fn rewatching_a_watched_side_keeps_its_clock() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(T));
        i.watch(Side::A, true, t0);
        i.watch(Side::A, true, t0 + secs(30));
        assert_eq!(i.poll_timeout(), Some(t0 + T));
        i.watch(Side::A, false, t0 + secs(31));
        assert_eq!(i.poll_timeout(), None);
    }

    #[test]
    fn no_timeout_configured_disables_everything() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(None);
        i.watch(Side::A, true, t0);
        assert_eq!(i.poll_timeout(), None);
        assert_eq!(i.handle_timeout(t0 + secs(1_000_000)), None);
    }

    #[test]
    fn huge_timeout_does_not_overflow() {
        let t0 = Instant::now();
        let mut i = Inactivity::new(Some(Duration::MAX));
        i.watch(Side::A, true, t0);
        assert_eq!(i.poll_timeout(), None);
        assert_eq!(i.handle_timeout(t0 + secs(10)), None);
    }
}
