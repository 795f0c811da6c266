//! Packet loss concealment for the codecs without their own: repeat the last 20 ms heard,
//! fading it out over consecutive losses.

use crate::frame::{samples_per_frame, Frame};

/// Concealed frames until silence: gains run 1 → 3/4 → 1/2 → 1/4 → 0 across the first four
/// losses (linearly within each frame, so there is no step between them), then stay at 0.
const FADE_FRAMES: u32 = 4;

/// The last 20 ms a decoder produced and how many frames in a row have been concealed since.
pub(crate) struct Concealer {
    last: Frame,
    lost: u32,
}

impl Concealer {
    /// A concealer for audio at `rate`, one of the frame rates; it starts from silence.
    pub(crate) fn new(rate: u32) -> Concealer {
        // One of RATES by the callers' construction; the fallback is never taken.
        let last = Frame::silence(rate).unwrap_or_else(|| Frame::silence(8000).expect("8000"));
        Concealer { last, lost: 0 }
    }

    /// Notes freshly decoded samples (any count) and ends a run of losses.
    pub(crate) fn remember(&mut self, samples: &[i16]) {
        self.lost = 0;
        let keep = self.last.samples_mut();
        let n = keep.len();
        if samples.len() >= n {
            keep.copy_from_slice(&samples[samples.len() - n..]);
        } else {
            keep.copy_within(samples.len().., 0);
            keep[n - samples.len()..].copy_from_slice(samples);
        }
    }

    /// Writes the stand-in for one lost 20 ms frame into `out`.
    pub(crate) fn conceal(&mut self, out: &mut Frame) {
        let rate = self.last.rate();
        out.clear(rate);
        let k = self.lost;
        self.lost = self.lost.saturating_add(1);
        if k >= FADE_FRAMES {
            return;
        }
        let from = 1.0 - k as f32 / FADE_FRAMES as f32;
        let to = 1.0 - (k + 1) as f32 / FADE_FRAMES as f32;
        let n = samples_per_frame(rate) as f32;
        for (i, (o, &s)) in out
            .samples_mut()
            .iter_mut()
            .zip(self.last.samples())
            .enumerate()
        {
            let gain = from + (to - from) * (i as f32 / n);
            *o = (f32::from(s) * gain) as i16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fades_to_silence_and_recovers() {
        let mut c = Concealer::new(8000);
        c.remember(&[8000; 160]);
        let mut out = Frame::silence(8000).expect("rate");
        let mut levels = Vec::new();
        for _ in 0..6 {
            c.conceal(&mut out);
            levels.push(out.rms());
        }
        assert!(levels[0] > 6000.0 && levels[0] < 8000.0, "{levels:?}");
        assert!(levels.windows(2).all(|w| w[1] <= w[0]), "{levels:?}");
        assert_eq!(levels[4], 0.0);
        assert_eq!(levels[5], 0.0);
        c.remember(&[100; 160]);
        c.conceal(&mut out);
        assert!(out.rms() > 80.0);
    }

    #[test]
    fn remembers_the_tail_of_short_and_long_runs() {
        let mut c = Concealer::new(8000);
        let ramp: Vec<i16> = (0..400).collect();
        c.remember(&ramp);
        assert_eq!(c.last.samples()[0], 240);
        c.remember(&[-1; 80]);
        assert_eq!(c.last.samples()[0], 320);
        assert_eq!(c.last.samples()[79], 399);
        assert_eq!(c.last.samples()[80], -1);
    }
}
