//! When to send the next report.

use std::time::{Duration, Instant};

/// Report timing for one stream: every `interval` (5 s by default), each wait drawn uniformly
/// from 0.5 to 1.5 times it so that endpoints do not fall into step (RFC 3550 §6.3.1), the
/// first after half that. The random draws come from a seed the caller gives (the SSRC will
/// do), so runs are reproducible.
#[derive(Debug, Clone)]
pub struct RtcpSchedule {
    interval: Duration,
    next: Option<Instant>,
    rng: u64,
}

impl RtcpSchedule {
    /// The RFC 3550 minimum interval.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

    /// A stopped schedule with the given mean interval (held to 100 ms - 1 hour) and random
    /// seed.
    pub fn new(interval: Duration, seed: u64) -> RtcpSchedule {
        RtcpSchedule {
            interval: interval.clamp(Duration::from_millis(100), Duration::from_secs(3600)),
            next: None,
            // xorshift must not start at zero.
            rng: (seed ^ 0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    /// Starts reporting at `now`: the first report comes after a randomised half interval.
    pub fn start(&mut self, now: Instant) {
        let wait = self.randomised() / 2;
        self.next = Some(now + wait);
    }

    /// Stops reporting (after a BYE).
    pub fn stop(&mut self) {
        self.next = None;
    }

    /// When the next report is due; `None` when stopped.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a report is due at `now`; when it is, the one after is scheduled.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.next {
            Some(due) if now >= due => {
                let wait = self.randomised();
                self.next = Some(now + wait);
                true
            }
            _ => false,
        }
    }

    /// The interval times a factor drawn from [0.5, 1.5).
    fn randomised(&mut self) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        self.interval.mul_f64(0.5 + unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_randomised_around_the_mean() {
        let t0 = Instant::now();
        let mut s = RtcpSchedule::new(RtcpSchedule::DEFAULT_INTERVAL, 0x1234);
        assert_eq!(s.poll_timeout(), None);
        assert!(!s.handle_timeout(t0));
        s.start(t0);
        let first = s.poll_timeout().expect("started") - t0;
        assert!(first >= Duration::from_millis(1250) && first < Duration::from_millis(3750));
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..200 {
            let due = s.poll_timeout().expect("running");
            assert!(!s.handle_timeout(due - Duration::from_millis(1)));
            assert!(s.handle_timeout(due));
            waits.push(s.poll_timeout().expect("next") - due);
            now = due;
        }
        assert!(now > t0);
        assert!(waits
            .iter()
            .all(|w| *w >= Duration::from_millis(2500) && *w < Duration::from_millis(7500)));
        let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
        assert!(mean > Duration::from_millis(4500) && mean < Duration::from_millis(5500));
        assert!(waits.windows(2).any(|w| w[0] != w[1]));
        s.stop();
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn same_seed_same_schedule() {
        let t0 = Instant::now();
        let mut a = RtcpSchedule::new(Duration::from_secs(1), 77);
        let mut b = RtcpSchedule::new(Duration::from_secs(1), 77);
        a.start(t0);
        b.start(t0);
        assert_eq!(a.poll_timeout(), b.poll_timeout());
    }
}
