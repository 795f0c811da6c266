//! The Goertzel filter: the power of one frequency over a block of samples.

/// A second-order resonator tuned to one frequency; after a block of `n` samples its
/// [`power`](Goertzel::power) is |X(f)|², which for a sine of amplitude `a` at `f` is about
/// `(a * n / 2)²`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Goertzel {
    coeff: f64,
    s1: f64,
    s2: f64,
}

impl Goertzel {
    /// A filter for `freq` Hz at `rate` samples per second.
    pub(super) fn new(freq: f64, rate: u32) -> Goertzel {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        Goertzel {
            coeff: 2.0 * w.cos(),
            s1: 0.0,
            s2: 0.0,
        }
    }

    /// Feeds one sample.
    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        let s0 = x + self.coeff * self.s1 - self.s2;
        self.s2 = self.s1;
        self.s1 = s0;
    }

    /// The power at the filter's frequency of the samples fed since the last reset.
    pub(super) fn power(&self) -> f64 {
        (self.s1 * self.s1 + self.s2 * self.s2 - self.coeff * self.s1 * self.s2).max(0.0)
    }

    /// Starts a new block.
    pub(super) fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn power_of(tone: f64, probe: f64, n: usize) -> f64 {
        let mut g = Goertzel::new(probe, 8000);
        for i in 0..n {
            let t = i as f64 / 8000.0;
            g.push(0.5 * (2.0 * std::f64::consts::PI * tone * t).sin());
        }
        g.power()
    }

    #[test]
    fn power_matches_the_amplitude_on_frequency_and_falls_off_beside_it() {
        let n = 102;
        let on = power_of(697.0, 697.0, n);
        let expected = (0.5 * n as f64 / 2.0).powi(2);
        assert!((on / expected - 1.0).abs() < 0.05, "{on} vs {expected}");
        let off = power_of(697.0, 770.0, n);
        assert!(off < on / 30.0, "neighbour row leaks {off} of {on}");
        let mut g = Goertzel::new(697.0, 8000);
        g.push(1.0);
        g.reset();
        assert_eq!(g.power(), 0.0);
    }
}
