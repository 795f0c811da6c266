//! Sample rate conversion between the switch's rates (8000, 16000, 48000 Hz), 20 ms frame in,
//! 20 ms frame out.
//!
//! What it does: a polyphase FIR for the integer ratios 2, 3 and 6, up or down. The filter is a
//! Kaiser-windowed sinc whose stop band starts at the lower rate's Nyquist frequency, so nothing
//! aliases into the band that survives; its length is fixed so that the delay is a whole number
//! of samples at both rates. The filter's memory carries over from frame to frame: a stream
//! resampled frame by frame is identical to the same stream resampled at once, with no clicks
//! at frame boundaries. No allocation after [`Resampler::new`]. What it does not do: other rates
//! or ratios (44.1 kHz, drift compensation), stereo, I/O.
//!
//! Why not rubato, which the design names: measured on this machine (2 shared cores under a
//! load of about 2, `cargo run --release -p switch-media --example codec_bench resamplers`)
//! against rubato 1.0 fed the same 20 ms frames. µs per frame; delay in output samples; SINAD of
//! a 1004 Hz tone (tone against everything else); for 16k -> 8k the gain at 3.5 kHz (top of the
//! telephone band) and what is left of 4.5 kHz (it would alias onto 3.5 kHz) and of 6 kHz:
//!
//! | resampler                 | 16k->8k µs | delay | 8k->48k µs | delay | 48k->8k µs | SINAD  | 3.5k | 4.5k | 6k |
//! |---------------------------|-----:|------:|-----:|-------:|-----:|-------:|------:|------:|-----:|
//! | **ours, 24 half-taps**    |  2.3 | 3 ms  |  7.5 |  3 ms  |  6.0 | 77-87 dB | -0.3 dB | -74 dB | < -83 dB |
//! | ours, 16 half-taps, β 5   |  1.6 | 2 ms  |  5.7 |  2 ms  |  4.2 | 80-87 dB | -3.0 dB | -68 dB | -68 dB |
//! | ours, 32 half-taps, β 7   |  2.9 | 4 ms  |  9.1 |  4 ms  |  7.8 | 74-88 dB | -0.03 dB | -74 dB | -80 dB |
//! | rubato sinc 256 cubic     | 24.8 | 8 ms  |  133 | 16 ms  | 21.0 | 85-87 dB | -0.01 dB | < -83 dB | < -83 dB |
//! | rubato sinc 128 linear    | 11.9 | 4 ms  | 71.7 |  8 ms  | 12.0 | 85-87 dB | -3.6 dB | < -83 dB | < -83 dB |
//! | rubato sinc 64 linear     |  9.0 | 2 ms  | 59.8 |  4 ms  |  6.6 | 85-87 dB | -14.6 dB | -79 dB | < -83 dB |
//! | rubato polynomial septic  |  3.9 | 0.3 ms | 28.7 | 0.5 ms |  4.0 | 83-88 dB | 0 dB | 0 dB | 0 dB |
//! | rubato polynomial cubic   |  1.8 | 0.1 ms | 11.7 | 0.3 ms |  1.9 | 51-88 dB | 0 dB | 0 dB | 0 dB |
//! | rubato FFT                |  1.7 | 10 ms |  6.0 | 10 ms  |  3.8 | 85-88 dB | -0.1 dB | < -83 dB | < -83 dB |
//!
//! rubato's polynomial resamplers have no anti-aliasing filter (4.5 and 6 kHz come straight
//! through, folded into the band); its sinc resamplers cost 1.1-18 times ours, and the cheaper
//! ones droop in the pass band (-3.6 and -14.6 dB at 3.5 kHz); its FFT resampler is the only
//! one faster than ours (by 20-35 %) but delays every conversion by 10 ms, which a transcoded
//! call pays in each direction, on top of the jitter buffer. Ours delays by 3 ms at 8 kHz (1.5 ms for 16k <-> 48k) for about 2-8 µs,
//! against ~170 µs for the Opus encode it usually sits next to. So the switch uses its own
//! filter; rubato stays a dev-dependency of the bench that measures it. The filter runs in Q15
//! fixed point (the compiler vectorises the integer multiply-adds): 1.25-1.8 times faster than
//! the same filter in f32, for at most 4 dB of SINAD (never below 77 dB). A "-inf" leak in the
//! bench means the output rounded to silence, below one LSB: written < -83 dB here.

use crate::frame::{samples_per_frame, Frame, MAX_SAMPLES, RATES};

/// Why a resampler cannot be built or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// A rate is not one of 8000, 16000, 48000 Hz.
    #[error("cannot resample {from} Hz to {to} Hz: rates are 8000, 16000 or 48000")]
    UnsupportedRates {
        /// The input rate asked for.
        from: u32,
        /// The output rate asked for.
        to: u32,
    },
    /// The filter design asks for no taps or more than [`FilterDesign::MAX_HALF_TAPS`].
    #[error("filter design with {half_taps} half-taps is out of range")]
    BadDesign {
        /// The half-length asked for.
        half_taps: usize,
    },
    /// The input frame is not at the resampler's input rate.
    #[error("resampler takes {expected} Hz frames, got {rate} Hz")]
    WrongRate {
        /// The frame's rate.
        rate: u32,
        /// The resampler's input rate.
        expected: u32,
    },
}

/// The anti-aliasing (down) or anti-imaging (up) low-pass filter, in units of the lower rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterDesign {
    /// Half the filter length, in samples at the lower rate; this is also the delay in samples
    /// at the lower rate (the filter has 2 × ratio × `half_taps` + 1 taps at the higher rate).
    pub half_taps: usize,
    /// Width of the transition band as a fraction of the lower rate: the pass band ends at
    /// (0.5 - `transition`) × rate and the stop band starts at 0.5 × rate.
    pub transition: f64,
    /// Kaiser window β: higher means deeper stop band, wider transition.
    pub beta: f64,
}

impl FilterDesign {
    /// The longest filter accepted, in half-taps at the lower rate.
    pub const MAX_HALF_TAPS: usize = 64;
}

impl Default for FilterDesign {
    /// 24 half-taps (3 ms of delay at 8 kHz), pass band to 0.43 × rate (3.44 kHz at 8 kHz, 6.9
    /// kHz at 16 kHz), β = 6, which gives at least 60 dB of stop band.
    fn default() -> Self {
        FilterDesign {
            half_taps: 24,
            transition: 0.07,
            beta: 6.0,
        }
    }
}

/// Converts 20 ms frames from one rate to another, keeping the filter's state between frames.
/// One resampler serves one stream.
#[derive(Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// 1 when the rates are equal.
    ratio: usize,
    /// Input samples the filter looks at per output (down) or per phase (up).
    window: usize,
    /// Up: `ratio` phases of `window` taps each, reversed for a forward dot product.
    /// Down: one filter of `window` taps, reversed. Q15 fixed point.
    taps: Vec<i16>,
    /// The last `window - 1` input samples, then room for one input frame.
    buf: Vec<i16>,
    delay: usize,
}

/// Writes `input` into `output` at rate `to`: copied when the rates match, else through the
/// resampler in `slot`, made (or remade) for these rates when it is missing or built for
/// others. `false` when the rates cannot be converted (then `output` is untouched).
pub fn convert(slot: &mut Option<Resampler>, input: &Frame, to: u32, output: &mut Frame) -> bool {
    if input.rate() == to {
        output.clone_from(input);
        return true;
    }
    let fits = slot
        .as_ref()
        .is_some_and(|r| r.from == input.rate() && r.to == to);
    if !fits {
        *slot = Resampler::new(input.rate(), to).ok();
    }
    slot.as_mut()
        .is_some_and(|r| r.process(input, output).is_ok())
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz (8000, 16000 or 48000) with the default filter.
    pub fn new(from: u32, to: u32) -> Result<Resampler, ResampleError> {
        Resampler::with_design(from, to, &FilterDesign::default())
    }

    /// A resampler with a filter of one's own (for measurements; the default suits telephony).
    pub fn with_design(
        from: u32,
        to: u32,
        design: &FilterDesign,
    ) -> Result<Resampler, ResampleError> {
        let ratio = match (RATES.contains(&from), RATES.contains(&to)) {
            (true, true) => (from.max(to) / from.min(to)) as usize,
            _ => return Err(ResampleError::UnsupportedRates { from, to }),
        };
        if design.half_taps == 0 || design.half_taps > FilterDesign::MAX_HALF_TAPS {
            return Err(ResampleError::BadDesign {
                half_taps: design.half_taps,
            });
        }
        let (window, taps, delay) = if ratio == 1 {
            (1, vec![i16::MAX], 0)
        } else {
            let h = low_pass(ratio, design);
            let window = if to > from {
                2 * design.half_taps + 1
            } else {
                h.len()
            };
            let taps = if to > from {
                phases(&h, ratio, window)
            } else {
                let reversed: Vec<f64> = h.iter().rev().copied().collect();
                q15(&reversed)
            };
            let delay = design.half_taps * if to > from { ratio } else { 1 };
            (window, taps, delay)
        };
        Ok(Resampler {
            from,
            to,
            ratio,
            window,
            taps,
            buf: vec![0; window - 1 + MAX_SAMPLES],
            delay,
        })
    }

    /// The input rate.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// The output rate.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// How many samples (at the output rate) the output lags the input.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Forgets the filter's memory, as after a stream change.
    pub fn reset(&mut self) {
        self.buf.fill(0);
    }

    /// Resamples one 20 ms frame at the input rate into `output`, which takes the output rate.
    pub fn process(&mut self, input: &Frame, output: &mut Frame) -> Result<(), ResampleError> {
        if input.rate() != self.from {
            return Err(ResampleError::WrongRate {
                rate: input.rate(),
                expected: self.from,
            });
        }
        output.clear(self.to);
        let history = self.window - 1;
        let n = samples_per_frame(self.from);
        self.buf[history..history + n].copy_from_slice(input.samples());
        let out = output.samples_mut();
        if self.ratio == 1 {
            out.copy_from_slice(input.samples());
        } else if self.to > self.from {
            for (i, chunk) in out.chunks_exact_mut(self.ratio).enumerate() {
                let window = &self.buf[i..i + self.window];
                for (o, phase) in chunk.iter_mut().zip(self.taps.chunks_exact(self.window)) {
                    *o = dot(window, phase);
                }
            }
        } else {
            for (m, o) in out.iter_mut().enumerate() {
                let start = m * self.ratio;
                *o = dot(&self.buf[start..start + self.window], &self.taps);
            }
        }
        self.buf.copy_within(n..n + history, 0);
        Ok(())
    }
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("taps", &self.taps.len())
            .field("delay", &self.delay)
            .finish()
    }
}

/// The prototype low-pass at the higher rate: 2 × ratio × half_taps + 1 taps, symmetric around
/// the middle one, with unit gain at DC.
fn low_pass(ratio: usize, design: &FilterDesign) -> Vec<f64> {
    let centre = (ratio * design.half_taps) as f64;
    let len = 2 * ratio * design.half_taps + 1;
    // Cut-off in the middle of the transition band, in cycles per sample at the higher rate.
    let cutoff = (0.5 - design.transition / 2.0) / ratio as f64;
    let i0_beta = bessel_i0(design.beta);
    let mut h: Vec<f64> = (0..len)
        .map(|j| {
            let t = j as f64 - centre;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * std::f64::consts::PI * cutoff * t).sin() / (std::f64::consts::PI * t)
            };
            let r = t / centre;
            let window = bessel_i0(design.beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            sinc * window
        })
        .collect();
    let sum: f64 = h.iter().sum();
    for x in &mut h {
        *x /= sum;
    }
    h
}

/// Splits `h` into `ratio` interpolation phases of `window` taps, each scaled to unit DC gain
/// (so a constant input stays constant, with no ripple at the lower rate) and reversed.
fn phases(h: &[f64], ratio: usize, window: usize) -> Vec<i16> {
    let mut taps = Vec::with_capacity(ratio * window);
    for p in 0..ratio {
        // Output phase p at time n·ratio + p sees input x[n - k] through h[k·ratio + p].
        let phase: Vec<f64> = (0..window)
            .map(|k| h.get(k * ratio + p).copied().unwrap_or(0.0))
            .collect();
        let sum: f64 = phase.iter().sum();
        let reversed: Vec<f64> = phase.iter().rev().map(|&x| x / sum).collect();
        taps.extend(q15(&reversed));
    }
    taps
}

/// Modified Bessel function of the first kind, order 0, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= half / k as f64;
        sum += term * term;
        if term * term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Taps summing to (about) 1.0 as Q15 integers that sum to exactly 32768, the rounding
/// error put on the largest tap, so DC passes unchanged.
fn q15(taps: &[f64]) -> Vec<i16> {
    let mut q: Vec<i32> = taps.iter().map(|&x| (x * 32768.0).round() as i32).collect();
    let error = 32768 - q.iter().sum::<i32>();
    if let Some(big) = (0..q.len()).max_by_key(|&i| q[i].abs()) {
        q[big] += error;
    }
    q.iter().map(|&x| x.clamp(-32767, 32767) as i16).collect()
}

/// Dot product of samples and Q15 taps, rounded back to a sample. The compiler vectorises the
/// integer sum (pmaddwd on x86). It cannot overflow: the taps' absolute sum stays under 2.0
/// (a windowed sinc's is about 1.2), so |sum| < 2 · 32768 · 32768 = 2^31.
fn dot(samples: &[i16], taps: &[i16]) -> i16 {
    let acc: i32 = samples
        .iter()
        .zip(taps)
        .map(|(&x, &t)| i32::from(x) * i32::from(t))
        .sum();
    ((acc + (1 << 14)) >> 15).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testutil::{goertzel_rms, rms, snr_db, tone};

    const PAIRS: [(u32, u32); 6] = [
        (8000, 16000),
        (16000, 8000),
        (16000, 48000),
        (48000, 16000),
        (8000, 48000),
        (48000, 8000),
    ];

    /// Resamples `input` (at `from`) frame by frame.
    fn run(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
        let from = r.from_rate();
        let mut out = Frame::silence(r.to_rate()).expect("rate");
        let mut all = Vec::new();
        for chunk in input.chunks_exact(samples_per_frame(from)) {
            let f = Frame::from_samples(from, chunk).expect("20 ms");
            r.process(&f, &mut out).expect("process");
            all.extend_from_slice(out.samples());
        }
        all
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    #[test]
    fn a_tone_keeps_its_frequency_and_level_at_every_rate_pair() {
        for (from, to) in PAIRS {
            let mut r = Resampler::new(from, to).expect("pair");
            let input = tone(from, 1004.0, 10000.0, from as usize); // 1 s
            let output = run(&mut r, &input);
            assert_eq!(output.len(), to as usize);
            let settled = &output[to as usize / 10..];
            let level = goertzel_rms(settled, to, 1004.0);
            let gain = db(level / goertzel_rms(&input, from, 1004.0));
            assert!(gain.abs() < 1.0, "{from}->{to}: {gain:.2} dB");
            // All of the output's energy is that tone: nothing else was made.
            let purity = db(level / rms(settled));
            assert!(purity.abs() < 0.01, "{from}->{to}: {purity:.3} dB");
        }
    }

    #[test]
    fn output_is_the_delayed_tone_across_frame_boundaries() {
        for (from, to) in PAIRS {
            let mut r = Resampler::new(from, to).expect("pair");
            let input = tone(from, 1004.0, 10000.0, from as usize / 2);
            let output = run(&mut r, &input);
            let ideal = tone(to, 1004.0, 10000.0, output.len());
            let d = r.delay();
            let skip = samples_per_frame(to) * 2;
            let snr = snr_db(&ideal[skip..output.len() - d], &output[skip + d..]);
            assert!(snr > 55.0, "{from}->{to}: SNR {snr:.1} dB");
            // Sample by sample, boundaries included, the error stays tiny: no clicks.
            let worst = ideal[skip..output.len() - d]
                .iter()
                .zip(&output[skip + d..])
                .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
                .max()
                .unwrap_or(0);
            assert!(worst < 40, "{from}->{to}: worst error {worst}");
        }
    }

    #[test]
    fn sixteen_to_eight_removes_what_would_alias() {
        let mut r = Resampler::new(16000, 8000).expect("pair");
        for (freq, alias) in [(6000.0, 2000.0), (4500.0, 3500.0), (4200.0, 3800.0)] {
            r.reset();
            let input = tone(16000, freq, 10000.0, 16000);
            let output = run(&mut r, &input);
            let settled = &output[800..];
            let left = db(rms(settled) / rms(&input));
            assert!(left < -50.0, "{freq} Hz: {left:.1} dB");
            assert!(db(goertzel_rms(settled, 8000, alias) / rms(&input)) < -50.0);
        }
        // 6 kHz as the design asks: at least 30 dB down (it is far more).
        r.reset();
        let output = run(&mut r, &tone(16000, 6000.0, 10000.0, 16000));
        assert!(db(rms(&output[800..]) / 7071.0) < -30.0);
        // 3.5 kHz, the top of the telephone band, passes.
        r.reset();
        let output = run(&mut r, &tone(16000, 3500.0, 10000.0, 16000));
        let gain = db(goertzel_rms(&output[800..], 8000, 3500.0) / 7071.0);
        assert!(gain.abs() < 1.0, "3.5 kHz: {gain:.2} dB");
    }

    #[test]
    fn upsampling_leaves_no_images() {
        for (from, to) in [(8000, 16000), (8000, 48000), (16000, 48000)] {
            let mut r = Resampler::new(from, to).expect("pair");
            let output = run(&mut r, &tone(from, 3000.0, 10000.0, from as usize));
            let settled = &output[to as usize / 10..];
            // The image of 3 kHz mirrored about the input's Nyquist frequency.
            let image = f64::from(from) - 3000.0;
            let level = db(goertzel_rms(settled, to, image) / 7071.0);
            assert!(level < -50.0, "{from}->{to}: image {level:.1} dB");
        }
    }

    #[test]
    fn constant_input_stays_constant() {
        for (from, to) in PAIRS {
            let mut r = Resampler::new(from, to).expect("pair");
            let output = run(&mut r, &vec![12000; from as usize / 5]);
            let settled = &output[output.len() / 2..];
            assert!(
                settled.iter().all(|&s| (s - 12000).abs() <= 1),
                "{from}->{to}"
            );
        }
    }

    #[test]
    fn same_rate_copies_and_misuse_is_refused() {
        let mut r = Resampler::new(16000, 16000).expect("pair");
        let input = Frame::from_samples(16000, &tone(16000, 440.0, 9000.0, 320)).expect("rate");
        let mut out = Frame::silence(8000).expect("rate");
        r.process(&input, &mut out).expect("process");
        assert_eq!(out.samples(), input.samples());
        assert_eq!(r.delay(), 0);
        assert_eq!(
            Resampler::new(44100, 8000).err(),
            Some(ResampleError::UnsupportedRates {
                from: 44100,
                to: 8000
            })
        );
        let bad = FilterDesign {
            half_taps: 0,
            ..FilterDesign::default()
        };
        assert!(Resampler::with_design(8000, 16000, &bad).is_err());
        let mut r = Resampler::new(8000, 16000).expect("pair");
        assert_eq!(
            r.process(&input, &mut out),
            Err(ResampleError::WrongRate {
                rate: 16000,
                expected: 8000
            })
        );
        assert_eq!(r.delay(), 48);
        assert_eq!(Resampler::new(48000, 8000).map(|r| r.delay()), Ok(24));
    }
}
