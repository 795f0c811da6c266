//! Test signals and measures shared by the codec and resampler tests.

/// `n` samples of a sine at `freq` Hz with peak `amplitude`, sampled at `rate`.
pub(crate) fn tone(rate: u32, freq: f64, amplitude: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin()).round() as i16
        })
        .collect()
}

/// Signal-to-noise ratio in dB of `test` against `reference`, sample by sample.
pub(crate) fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let n = reference.len().min(test.len());
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for i in 0..n {
        let r = f64::from(reference[i]);
        let e = r - f64::from(test[i]);
        signal += r * r;
        noise += e * e;
    }
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal / noise).log10()
}

/// The delay (0..=max_delay samples) by which `test` best lines up with `reference`, by
/// cross-correlation. Periodic signals line up at every period: keep `max_delay` below one.
pub(crate) fn delay_of(reference: &[i16], test: &[i16], max_delay: usize) -> usize {
    delay_in(reference, test, 0..=max_delay)
}

/// The delay within `range` by which `test` best lines up with `reference`.
pub(crate) fn delay_in(
    reference: &[i16],
    test: &[i16],
    range: std::ops::RangeInclusive<usize>,
) -> usize {
    let mut best = (f64::MIN, *range.start());
    for d in range {
        let n = reference.len().min(test.len().saturating_sub(d));
        let c: f64 = (0..n)
            .map(|i| f64::from(reference[i]) * f64::from(test[i + d]))
            .sum();
        if c > best.0 {
            best = (c, d);
        }
    }
    best.1
}

/// SNR after shifting `test` back by its delay, ignoring the first `skip` reference samples
/// (a codec's start-up).
pub(crate) fn aligned_snr_db(
    reference: &[i16],
    test: &[i16],
    max_delay: usize,
    skip: usize,
) -> f64 {
    let d = delay_of(reference, test, max_delay);
    let n = reference.len().min(test.len().saturating_sub(d));
    snr_db(&reference[skip..n], &test[skip + d..n + d])
}

#[allow(dead_code)] // used by the resampler tests
/// Power of `freq` in `samples` by the Goertzel algorithm, as the RMS of that component.
pub(crate) fn goertzel_rms(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    (2.0 * power.max(0.0)).sqrt() / samples.len() as f64
}

/// RMS of `samples`.
pub(crate) fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// A deterministic stream of pseudo-random bytes (xorshift), for garbage payloads.
pub(crate) fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
