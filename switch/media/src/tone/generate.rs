//! Playing a [`ToneSpec`] into 20 ms frames.

use super::{ToneError, ToneSpec, MAX_FREQUENCIES};
use crate::frame::{Frame, RATES};

/// Fade each burst in and out over 1 ms so it starts and stops without a click.
const RAMP_MS: u32 = 1;

/// Whether a generator has more to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The tone goes on after this frame.
    Playing,
    /// The tone ended in or before this frame; the rest of the frame is silence.
    Finished,
}

/// Plays a tone spec at one sample rate.
///
/// All per-part values are worked out when it is built, so [`fill`](Self::fill) does not
/// allocate. The phase of each frequency runs on across frames within a burst and restarts
/// at the next burst. Each burst's frequencies share the part's level equally, so a mix
/// never clips.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    rate: u32,
    parts: Vec<Part>,
    repeat: Option<u32>,
    passes: u32,
    index: usize,
    /// Samples into the current part.
    at: u32,
    phases: [f64; MAX_FREQUENCIES],
    finished: bool,
}

#[derive(Debug, Clone)]
struct Part {
    on: u32,
    off: u32,
    /// Per-sample phase increments, cycles.
    steps: Vec<f64>,
    /// Peak amplitude of each frequency, in sample units.
    amplitude: f64,
}

impl ToneGenerator {
    /// A generator playing `spec` at `rate` (8000, 16000 or 48000). Refuses frequencies at
    /// or above half the rate.
    pub fn new(spec: &ToneSpec, rate: u32) -> Result<ToneGenerator, ToneError> {
        if !RATES.contains(&rate) {
            return Err(ToneError::Rate(rate));
        }
        let per_ms = rate / 1000;
        let mut parts = Vec::with_capacity(spec.segments.len());
        for s in &spec.segments {
            if let Some(&freq) = s.freqs.iter().find(|&&f| f >= f64::from(rate) / 2.0) {
                return Err(ToneError::AboveNyquist { freq, rate });
            }
            let n = s.freqs.len().clamp(1, MAX_FREQUENCIES) as f64;
            parts.push(Part {
                on: s.on_ms.saturating_mul(per_ms),
                off: s.off_ms.saturating_mul(per_ms),
                steps: s
                    .freqs
                    .iter()
                    .take(MAX_FREQUENCIES)
                    .map(|f| f / f64::from(rate))
                    .collect(),
                amplitude: 32767.0 * 10f64.powf(s.volume_db.min(0.0) / 20.0) / n,
            });
        }
        let silent = parts.iter().all(|p| p.on == 0 && p.off == 0);
        Ok(ToneGenerator {
            rate,
            parts,
            repeat: spec.repeat,
            passes: 0,
            index: 0,
            at: 0,
            phases: [0.0; MAX_FREQUENCIES],
            finished: silent || spec.repeat == Some(0),
        })
    }

    /// Parses `notation` and builds a generator for it.
    pub fn from_notation(notation: &str, rate: u32) -> Result<ToneGenerator, ToneError> {
        ToneGenerator::new(&ToneSpec::parse(notation)?, rate)
    }

    /// The rate it plays at.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Everything has been played.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Starts again from the first part.
    pub fn restart(&mut self) {
        self.passes = 0;
        self.index = 0;
        self.at = 0;
        self.phases = [0.0; MAX_FREQUENCIES];
        self.finished =
            self.parts.iter().all(|p| p.on == 0 && p.off == 0) || self.repeat == Some(0);
    }

    /// Writes the next 20 ms into `frame` (which is set to the generator's rate).
    pub fn fill(&mut self, frame: &mut Frame) -> Progress {
        frame.clear(self.rate);
        let ramp = self.rate / 1000 * RAMP_MS;
        for out in frame.samples_mut() {
            match self.next_sample(ramp) {
                Some(v) => *out = v,
                None => break,
            }
        }
        self.settle();
        if self.finished {
            Progress::Finished
        } else {
            Progress::Playing
        }
    }

    /// The next sample, or `None` once finished.
    fn next_sample(&mut self, ramp: u32) -> Option<i16> {
        loop {
            if self.finished {
                return None;
            }
            let part = self.parts.get(self.index)?;
            if self.at < part.on {
                let edge = self.at.min(part.on - self.at - 1);
                let env = if edge < ramp {
                    f64::from(edge + 1) / f64::from(ramp + 1)
                } else {
                    1.0
                };
                let mut v = 0.0;
                for (phase, step) in self.phases.iter_mut().zip(&part.steps) {
                    v += (2.0 * std::f64::consts::PI * *phase).sin();
                    *phase = (*phase + step).fract();
                }
                self.at += 1;
                // The level is at most 0 dBFS shared among the frequencies: no clipping.
                return Some((v * part.amplitude * env).round().clamp(-32768.0, 32767.0) as i16);
            }
            if self.at < part.on.saturating_add(part.off) {
                self.at += 1;
                return Some(0);
            }
            self.next_part();
        }
    }

    /// Moves past parts that are used up, so `finished` is known as soon as the last
    /// sample has been played.
    fn settle(&mut self) {
        while !self.finished {
            match self.parts.get(self.index) {
                Some(p) if self.at >= p.on.saturating_add(p.off) => self.next_part(),
                Some(_) => break,
                None => self.finished = true,
            }
        }
    }

    fn next_part(&mut self) {
        self.at = 0;
        self.phases = [0.0; MAX_FREQUENCIES];
        self.index += 1;
        if self.index < self.parts.len() {
            return;
        }
        self.index = 0;
        self.passes = self.passes.saturating_add(1);
        if self.repeat.is_some_and(|n| self.passes >= n) {
            self.finished = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::presets;
    use super::*;

    /// Frames until finished (at most `max`), and the samples.
    fn play(g: &mut ToneGenerator, max: usize) -> (usize, Vec<i16>) {
        let mut f = Frame::silence(g.rate()).expect("rate");
        let mut all = Vec::new();
        for n in 1..=max {
            let p = g.fill(&mut f);
            all.extend_from_slice(f.samples());
            if p == Progress::Finished {
                return (n, all);
            }
        }
        (max, all)
    }

    /// Power of `freq` in `x` (a single-bin DFT), normalised to the amplitude.
    fn amplitude_at(x: &[i16], freq: f64, rate: u32) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate);
            re += f64::from(s) * w.cos();
            im += f64::from(s) * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn cadence_and_loop_count() {
        let mut g = ToneGenerator::from_notation("L=3;%(100,60,425)", 8000).expect("valid");
        let (frames, x) = play(&mut g, 1000);
        assert_eq!(frames, 24, "3 passes of 160 ms in 20 ms frames");
        assert!(g.is_finished());
        // Loud during 0-100 ms, quiet during 100-160 ms, loud again at 160.
        let rms = |a: usize, b: usize| {
            let s = &x[a * 8..b * 8];
            (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
        };
        assert!(rms(5, 95) > 10_000.0);
        assert_eq!(rms(101, 159), 0.0);
        assert!(rms(165, 255) > 10_000.0);
        let mut f = Frame::silence(8000).expect("rate");
        assert_eq!(g.fill(&mut f), Progress::Finished);
        assert_eq!(f.rms(), 0.0);
        g.restart();
        assert!(!g.is_finished());
    }

    #[test]
    fn forever_unless_counted() {
        let mut g = ToneGenerator::new(&ToneSpec::busy(), 16_000).expect("valid");
        let (frames, _) = play(&mut g, 500);
        assert_eq!(frames, 500);
        assert!(!g.is_finished());
    }

    #[test]
    fn frequencies_and_level_are_right_at_every_rate() {
        for rate in RATES {
            let mut g = ToneGenerator::from_notation(presets::RINGBACK_US, rate).expect("valid");
            let (_, x) = play(&mut g, 50);
            let x = &x[..rate as usize]; // the first second: all tone
            let each = 32767.0 * 10f64.powf(-7.0 / 20.0) / 2.0;
            for f in [440.0, 480.0] {
                let a = amplitude_at(x, f, rate);
                assert!(
                    (a - each).abs() < each * 0.03,
                    "{f} Hz at {rate}: {a} vs {each}"
                );
            }
            assert!(amplitude_at(x, 1000.0, rate) < each * 0.01);
        }
    }

    #[test]
    fn phase_is_continuous_across_frames() {
        let mut g = ToneGenerator::from_notation("%(1000,0,1000)", 8000).expect("valid");
        let (_, x) = play(&mut g, 10);
        // A 1 kHz sine at 8 kHz never moves more than amplitude * 2 sin(pi/8) per sample.
        let a = 32767.0 * 10f64.powf(-7.0 / 20.0);
        let limit = a * 2.0 * (std::f64::consts::PI / 8.0).sin() + 2.0;
        for w in x.windows(2).skip(10) {
            let d = (f64::from(w[1]) - f64::from(w[0])).abs();
            assert!(d <= limit, "jump of {d}");
        }
    }

    #[test]
    fn uk_ringback_double_ring() {
        let mut g = ToneGenerator::from_notation(presets::RINGBACK_UK, 8000).expect("valid");
        let (_, x) = play(&mut g, 200);
        let on = |ms: usize| x[ms * 8..ms * 8 + 80].iter().any(|&v| v != 0);
        assert!(on(100) && !on(450) && on(700) && !on(1200) && on(3100));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            ToneGenerator::from_notation("%(100,0,5000)", 8000).err(),
            Some(ToneError::AboveNyquist {
                freq: 5000.0,
                rate: 8000
            })
        );
        assert!(ToneGenerator::from_notation("%(100,0,5000)", 16_000).is_ok());
        assert_eq!(
            ToneGenerator::new(&ToneSpec::busy(), 11_025).err(),
            Some(ToneError::Rate(11_025))
        );
        // A spec built by hand with nothing in it is finished at once.
        let empty = ToneSpec {
            repeat: None,
            segments: Vec::new(),
        };
        let mut g = ToneGenerator::new(&empty, 8000).expect("valid");
        let mut f = Frame::silence(8000).expect("rate");
        assert_eq!(g.fill(&mut f), Progress::Finished);
    }
}
