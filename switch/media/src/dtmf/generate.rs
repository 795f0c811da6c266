//! Writing DTMF dual tones into frames, for legs without telephone-event.

use super::{Digit, DigitQueue, DtmfError, INTER_DIGIT_GAP_MS};
use crate::frame::{Frame, RATES};

/// Level of each of the two tones unless set otherwise: -10 dBFS per tone, so the pair peaks
/// near -4 dBFS, well inside Q.23's sending levels once in G.711.
const DEFAULT_LEVEL_DBFS: f64 = -10.0;

/// Fade in and out over 1 ms so a tone starts and stops without a click.
const RAMP_MS: u32 = 1;

/// Plays queued digits as in-band tones, 20 ms at a time.
///
/// Each digit is its row and column tones at the set level for its duration (clamped to
/// [`super::MIN_DURATION_MS`]-[`super::MAX_DURATION_MS`]), followed by
/// [`INTER_DIGIT_GAP_MS`] of silence. Phase runs on across frames. While
/// [`fill`](Self::fill) returns `true` the frame it wrote replaces the leg's audio.
#[derive(Debug, Clone)]
pub struct DtmfGenerator {
    rate: u32,
    amplitude: f64,
    queue: DigitQueue,
    state: State,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Tone {
        row: Sine,
        col: Sine,
        /// Samples played so far and in all.
        at: u32,
        total: u32,
    },
    Gap {
        left: u32,
    },
}

/// A sine oscillator whose phase carries over between frames.
#[derive(Debug, Clone, Copy)]
struct Sine {
    phase: f64,
    step: f64,
}

impl Sine {
    fn new(freq: f64, rate: u32) -> Sine {
        Sine {
            phase: 0.0,
            step: freq / f64::from(rate),
        }
    }

    fn next(&mut self) -> f64 {
        let v = (2.0 * std::f64::consts::PI * self.phase).sin();
        self.phase = (self.phase + self.step).fract();
        v
    }
}

impl DtmfGenerator {
    /// A generator for frames at `rate` (8000, 16000 or 48000).
    pub fn new(rate: u32) -> Result<DtmfGenerator, DtmfError> {
        if !RATES.contains(&rate) {
            return Err(DtmfError::Rate(rate));
        }
        Ok(DtmfGenerator {
            rate,
            amplitude: 10f64.powf(DEFAULT_LEVEL_DBFS / 20.0) * 32767.0,
            queue: DigitQueue::new(),
            state: State::Idle,
        })
    }

    /// Sets the level of each tone in dBFS (0 is a full-scale sine; clamped to -60..-3 so the
    /// pair cannot clip).
    pub fn set_level_dbfs(&mut self, dbfs: f64) {
        let dbfs = if dbfs.is_nan() {
            DEFAULT_LEVEL_DBFS
        } else {
            dbfs
        };
        self.amplitude = 10f64.powf(dbfs.clamp(-60.0, -6.03) / 20.0) * 32767.0;
    }

    /// Queues `digit` for `duration_ms`. Flash has no tone and is refused.
    pub fn queue(&mut self, digit: Digit, duration_ms: u32) -> Result<(), DtmfError> {
        if digit == Digit::Flash {
            return Err(DtmfError::FlashInBand);
        }
        self.queue.push(digit, duration_ms)
    }

    /// Queues every key of `digits` for `duration_ms` each; nothing is queued unless all are
    /// tone keys and fit.
    pub fn queue_str(&mut self, digits: &str, duration_ms: u32) -> Result<(), DtmfError> {
        let mut n = 0;
        for c in digits.chars() {
            match Digit::from_char(c) {
                None => return Err(DtmfError::NotADigit(c)),
                Some(Digit::Flash) => return Err(DtmfError::FlashInBand),
                Some(_) => n += 1,
            }
        }
        if self.queue.len() + n > super::QUEUE_LEN {
            return Err(DtmfError::QueueFull(super::QUEUE_LEN));
        }
        for d in digits.chars().filter_map(Digit::from_char) {
            self.queue.push(d, duration_ms)?;
        }
        Ok(())
    }

    /// Nothing queued or playing (the gap after the last digit included).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.queue.len() == 0
    }

    /// Drops queued digits and stops the one playing.
    pub fn cancel(&mut self) {
        self.queue.clear();
        self.state = State::Idle;
    }

    /// Writes the next 20 ms into `frame` (set to the generator's rate) and returns `true`,
    /// or leaves `frame` alone and returns `false` when idle.
    pub fn fill(&mut self, frame: &mut Frame) -> bool {
        if self.is_idle() {
            return false;
        }
        frame.clear(self.rate);
        let ramp = self.rate / 1000 * RAMP_MS;
        for out in frame.samples_mut() {
            *out = self.next_sample(ramp);
        }
        true
    }

    fn next_sample(&mut self, ramp: u32) -> i16 {
        loop {
            match &mut self.state {
                State::Idle => {
                    let Some((digit, ms)) = self.queue.pop() else {
                        return 0;
                    };
                    let Some((r, c)) = digit.frequencies() else {
                        continue;
                    };
                    self.state = State::Tone {
                        row: Sine::new(r, self.rate),
                        col: Sine::new(c, self.rate),
                        at: 0,
                        total: ms * (self.rate / 1000),
                    };
                }
                State::Tone {
                    row,
                    col,
                    at,
                    total,
                } => {
                    if *at >= *total {
                        self.state = State::Gap {
                            left: INTER_DIGIT_GAP_MS * (self.rate / 1000),
                        };
                        continue;
                    }
                    let edge = (*at).min(*total - *at - 1);
                    let env = if edge < ramp {
                        f64::from(edge + 1) / f64::from(ramp + 1)
                    } else {
                        1.0
                    };
                    *at += 1;
                    let v = (row.next() + col.next()) * self.amplitude * env;
                    // |v| <= 2 * 0.5 * 32767: the level is clamped below -6 dBFS per tone.
                    return v.round().clamp(-32768.0, 32767.0) as i16;
                }
                State::Gap { left } => {
                    if *left == 0 {
                        self.state = State::Idle;
                        if self.queue.len() == 0 {
                            return 0;
                        }
                        continue;
                    }
                    *left -= 1;
                    return 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_for_the_duration_then_a_gap_then_idles() {
        let mut g = DtmfGenerator::new(8000).expect("rate");
        g.queue(Digit::D5, 100).expect("room");
        let mut f = Frame::silence(8000).expect("rate");
        let mut loud = 0;
        let mut frames = 0;
        while g.fill(&mut f) {
            frames += 1;
            if f.rms() > 1000.0 {
                loud += 1;
            }
            assert!(frames < 50, "never idles");
        }
        assert_eq!(loud, 5);
        assert_eq!(frames, 8, "100 ms of tone and a 50 ms gap, in 20 ms frames");
        assert!(g.is_idle());
    }

    #[test]
    fn levels_and_refusals() {
        let mut g = DtmfGenerator::new(16_000).expect("rate");
        assert_eq!(g.queue(Digit::Flash, 100), Err(DtmfError::FlashInBand));
        assert_eq!(g.queue_str("1F", 100), Err(DtmfError::FlashInBand));
        assert_eq!(g.queue_str("1x", 100), Err(DtmfError::NotADigit('x')));
        assert!(g.is_idle());
        g.set_level_dbfs(0.0);
        g.queue(Digit::D1, 200).expect("room");
        let mut f = Frame::silence(8000).expect("rate");
        assert!(g.fill(&mut f));
        assert_eq!(f.rate(), 16_000);
        assert!(g.fill(&mut f));
        // Two tones each of amplitude a (the clamp, -6.03 dBFS) have an rms of a.
        let expected = 32767.0 * 10f64.powf(-6.03 / 20.0);
        assert!((f.rms() - expected).abs() < expected * 0.05, "{}", f.rms());
        g.cancel();
        assert!(!g.fill(&mut f));
        assert!(DtmfGenerator::new(44_100).is_err());
    }
}
