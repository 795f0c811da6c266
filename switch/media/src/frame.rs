//! The unit of audio everything above RTP works in: 20 ms of signed linear mono samples at
//! one of the switch's rates, in a fixed buffer so the media path never allocates for it.

/// Every frame is 20 ms long.
pub const FRAME_MS: u32 = 20;

/// The largest frame: 20 ms at 48 kHz.
pub const MAX_SAMPLES: usize = 960;

/// The sample rates frames come in.
pub const RATES: [u32; 3] = [8000, 16000, 48000];

/// Samples in one 20 ms frame at `rate` (160 at 8 kHz, 320 at 16 kHz, 960 at 48 kHz).
pub const fn samples_per_frame(rate: u32) -> usize {
    (rate / 50) as usize
}

/// 20 ms of mono i16 audio at `rate`.
#[derive(Clone)]
pub struct Frame {
    rate: u32,
    len: usize,
    data: [i16; MAX_SAMPLES],
}

impl Frame {
    /// A silent frame at `rate`; `None` when `rate` is not one of [`RATES`].
    pub fn silence(rate: u32) -> Option<Frame> {
        if !RATES.contains(&rate) {
            return None;
        }
        Some(Frame {
            rate,
            len: samples_per_frame(rate),
            data: [0; MAX_SAMPLES],
        })
    }

    /// A frame holding `samples`, which must be exactly 20 ms at `rate`.
    pub fn from_samples(rate: u32, samples: &[i16]) -> Option<Frame> {
        let mut f = Frame::silence(rate)?;
        if samples.len() != f.len {
            return None;
        }
        f.data[..f.len].copy_from_slice(samples);
        Some(f)
    }

    /// The sample rate in Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The samples (always 20 ms worth).
    pub fn samples(&self) -> &[i16] {
        &self.data[..self.len]
    }

    /// The samples, writable.
    pub fn samples_mut(&mut self) -> &mut [i16] {
        &mut self.data[..self.len]
    }

    /// Turns the frame into silence at `rate` (keeps the buffer). Unknown rates are ignored.
    pub fn clear(&mut self, rate: u32) {
        if RATES.contains(&rate) {
            self.rate = rate;
            self.len = samples_per_frame(rate);
        }
        self.data[..self.len].fill(0);
    }

    /// Adds `other`'s samples to these, clipping at full scale (both at the same rate).
    pub fn mix(&mut self, other: &Frame) {
        for (d, a) in self.samples_mut().iter_mut().zip(other.samples()) {
            *d = d.saturating_add(*a);
        }
    }

    /// Root mean square level, 0.0 to 32768.0.
    pub fn rms(&self) -> f64 {
        let s = self.samples();
        if s.is_empty() {
            return 0.0;
        }
        let sum: f64 = s.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        (sum / s.len() as f64).sqrt()
    }
}

impl Default for Frame {
    /// 20 ms of silence at 8 kHz.
    fn default() -> Frame {
        Frame {
            rate: 8000,
            len: samples_per_frame(8000),
            data: [0; MAX_SAMPLES],
        }
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("rate", &self.rate)
            .field("len", &self.len)
            .field("rms", &self.rms())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_rate() {
        assert_eq!(Frame::silence(8000).map(|f| f.samples().len()), Some(160));
        assert_eq!(Frame::silence(16000).map(|f| f.samples().len()), Some(320));
        assert_eq!(Frame::silence(48000).map(|f| f.samples().len()), Some(960));
        assert!(Frame::silence(44100).is_none());
        assert!(Frame::from_samples(8000, &[0; 100]).is_none());
    }

    #[test]
    fn clear_changes_rate_and_silences() {
        let mut f = Frame::from_samples(8000, &[1000; 160]).expect("160 samples");
        assert!(f.rms() > 999.0);
        f.clear(16000);
        assert_eq!(f.rate(), 16000);
        assert_eq!(f.samples().len(), 320);
        assert_eq!(f.rms(), 0.0);
    }
}
