//! RFC 3550 §6.4.1 interarrival jitter, in RTP timestamp units.

use std::time::Instant;

/// The running estimate `J += (|D| - J) / 16`, where `D` is the change in transit time
/// (arrival minus timestamp) between consecutive arrivals.
#[derive(Debug, Clone, Copy)]
pub(super) struct Estimator {
    clock_rate: u32,
    epoch: Option<Instant>,
    prev_transit: Option<u32>,
    jitter: f64,
}

/// What one arrival did to the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sample {
    /// Counted.
    Counted,
    /// The first arrival, or one after a restart: a reference for the next.
    Reference,
    /// A marker or a transit change of more than a second: taken as the new reference.
    Jump,
}

impl Estimator {
    pub(super) fn new(clock_rate: u32) -> Estimator {
        Estimator {
            clock_rate,
            epoch: None,
            prev_transit: None,
            jitter: 0.0,
        }
    }

    /// Takes one arrival of the packet stamped `timestamp` at `now`.
    pub(super) fn arrival(&mut self, now: Instant, timestamp: u32, marker: bool) -> Sample {
        let epoch = *self.epoch.get_or_insert(now);
        let nanos = now.saturating_duration_since(epoch).as_nanos();
        // RTP arithmetic is modulo 2^32 on both sides.
        let arrival = (nanos * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(timestamp);
        let Some(prev) = self.prev_transit.replace(transit) else {
            return Sample::Reference;
        };
        let d = f64::from(transit.wrapping_sub(prev) as i32).abs();
        if marker || d > f64::from(self.clock_rate) {
            return Sample::Jump;
        }
        self.jitter += (d - self.jitter) / 16.0;
        Sample::Counted
    }

    /// Forgets the reference transit (a new stream); the estimate itself is kept.
    pub(super) fn restart(&mut self) {
        self.prev_transit = None;
    }

    /// The estimate in milliseconds.
    pub(super) fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.clock_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steady_arrivals_have_no_jitter_and_alternating_ones_converge() {
        let t0 = Instant::now();
        let mut e = Estimator::new(8000);
        for i in 0..100u32 {
            let now = t0 + Duration::from_millis(u64::from(i) * 20);
            e.arrival(now, i * 160 + 12345, false);
        }
        assert!(e.jitter_ms() < 0.01);
        // Every other packet 10 ms late: |D| is 10 ms each time.
        let mut e = Estimator::new(8000);
        for i in 0..400u32 {
            let late = if i % 2 == 1 { 10 } else { 0 };
            let now = t0 + Duration::from_millis(u64::from(i) * 20 + late);
            e.arrival(
                now,
                i.wrapping_mul(160).wrapping_add(u32::MAX - 5000),
                false,
            );
        }
        assert!((e.jitter_ms() - 10.0).abs() < 0.2, "{}", e.jitter_ms());
    }

    #[test]
    fn jumps_and_markers_are_references() {
        let t0 = Instant::now();
        let mut e = Estimator::new(8000);
        assert_eq!(e.arrival(t0, 0, false), Sample::Reference);
        let t1 = t0 + Duration::from_millis(20);
        assert_eq!(e.arrival(t1, 160, false), Sample::Counted);
        let t2 = t1 + Duration::from_millis(20);
        assert_eq!(e.arrival(t2, 160 + 80_000, false), Sample::Jump);
        let t3 = t2 + Duration::from_millis(20);
        assert_eq!(e.arrival(t3, 160 + 80_160, true), Sample::Jump);
        assert!(e.jitter_ms() < 0.01);
        e.restart();
        assert_eq!(e.arrival(t3, 5, false), Sample::Reference);
    }
}
