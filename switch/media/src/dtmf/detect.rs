//! In-band DTMF detection with Goertzel filters.

use super::goertzel::Goertzel;
use super::{Digit, DtmfError, DtmfEvent, EventQueue, COL_HZ, ROW_HZ};
use crate::frame::{Frame, RATES};

/// The analysis block at 8 kHz: 102 samples (12.75 ms) puts the nulls of each row filter
/// close to its neighbours, as spandsp does. Other rates scale it, keeping the resolution.
const BLOCK_AT_8K: u32 = 102;

/// Blocks in a row that must agree before a key counts as pressed (about 25 ms), and
/// blocks in a row without it before it counts as released.
const CONFIRM_BLOCKS: u32 = 2;

/// The keypad, by (row, column).
const KEYS: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Pound, Digit::D],
];

/// The thresholds a block must pass to count as a key. The defaults follow ITU-T Q.24's
/// North American column and spandsp's choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// The quietest tone accepted, dBFS per tone (a sine peaking at full scale is 0 dBFS;
    /// -32 dBFS is about -29 dBm0 in G.711). Default -32.
    pub min_level_dbfs: f64,
    /// How much weaker the high (column) tone may be than the low (row) tone, dB. Default 8.
    pub normal_twist_db: f64,
    /// How much weaker the low (row) tone may be than the high (column) tone, dB. Default 4.
    pub reverse_twist_db: f64,
    /// How far each tone must stand above the other frequencies of its group, dB. Default 6.
    pub relative_peak_db: f64,
    /// The share of the block's energy the two tones must hold (speech, music and noise
    /// spread theirs). Default 0.6.
    pub min_energy_ratio: f64,
    /// How far below the high tone its second harmonic must be, dB (a voiced sound is a
    /// series of harmonics; a keypad is not). Default 12.
    pub harmonic_db: f64,
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            min_level_dbfs: -32.0,
            normal_twist_db: 8.0,
            reverse_twist_db: 4.0,
            relative_peak_db: 6.0,
            min_energy_ratio: 0.6,
            harmonic_db: 12.0,
        }
    }
}

/// Finds key presses in a leg's decoded audio.
///
/// Samples are analysed in blocks of 12.75 ms (102 samples at 8 kHz, 204 at 16 kHz, 612
/// at 48 kHz, filtered directly at that rate) whatever the frame boundaries. A block is a
/// key when the strongest row and column tones are both above the minimum level, within the
/// twist limits, clear of the rest of their group, hold most of the block's energy and the
/// column tone has no strong second harmonic. Two agreeing blocks (~25 ms) make a
/// [`DtmfEvent::Begin`]; two blocks without the key make its [`DtmfEvent::End`], with the
/// duration of the blocks it was heard in. So tones of 40 ms and more are found, and a gap of
/// about 25 ms separates two presses of one key. Flash has no tone and is never reported.
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DetectorConfig,
    rate: u32,
    block_len: u32,
    /// Goertzel power thresholds derived from the config for this block length.
    min_power: f64,
    rows: [Goertzel; 4],
    cols: [Goertzel; 4],
    col_harmonics: [Goertzel; 4],
    energy: f64,
    filled: u32,
    last_hit: Option<Digit>,
    current: Option<Pressed>,
    events: EventQueue,
}

#[derive(Debug, Clone, Copy)]
struct Pressed {
    digit: Digit,
    /// Blocks from the first hit to the last.
    blocks: u32,
    /// Blocks without the key since the last hit.
    misses: u32,
}

impl DtmfDetector {
    /// A detector with the default thresholds for audio at `rate` (8000, 16000 or 48000).
    pub fn new(rate: u32) -> Result<DtmfDetector, DtmfError> {
        DtmfDetector::with_config(rate, DetectorConfig::default())
    }

    /// A detector with thresholds of one's own.
    pub fn with_config(rate: u32, config: DetectorConfig) -> Result<DtmfDetector, DtmfError> {
        if !RATES.contains(&rate) {
            return Err(DtmfError::Rate(rate));
        }
        let block_len = BLOCK_AT_8K * rate / 8000;
        let amp = 10f64.powf(config.min_level_dbfs / 20.0);
        let half = amp * f64::from(block_len) / 2.0;
        Ok(DtmfDetector {
            config,
            rate,
            block_len,
            min_power: half * half,
            rows: ROW_HZ.map(|f| Goertzel::new(f, rate)),
            cols: COL_HZ.map(|f| Goertzel::new(f, rate)),
            col_harmonics: COL_HZ.map(|f| Goertzel::new(2.0 * f, rate)),
            energy: 0.0,
            filled: 0,
            last_hit: None,
            current: None,
            events: EventQueue::new(),
        })
    }

    /// The rate this detector expects.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Analyses one frame. A frame at another rate than the detector's restarts the
    /// detector at the frame's rate (a key being pressed is ended first).
    pub fn handle_frame(&mut self, frame: &Frame) {
        if frame.rate() != self.rate {
            self.flush();
            if let Ok(fresh) = DtmfDetector::with_config(frame.rate(), self.config) {
                let events = std::mem::replace(&mut self.events, EventQueue::new());
                *self = fresh;
                self.events = events;
            }
        }
        self.handle_samples(frame.samples());
    }

    /// Analyses samples at the detector's rate, any number at a time.
    pub fn handle_samples(&mut self, samples: &[i16]) {
        for &s in samples {
            let x = f64::from(s) / 32768.0;
            self.energy += x * x;
            for g in self
                .rows
                .iter_mut()
                .chain(self.cols.iter_mut())
                .chain(self.col_harmonics.iter_mut())
            {
                g.push(x);
            }
            self.filled += 1;
            if self.filled == self.block_len {
                let hit = self.classify_block();
                self.step(hit);
                self.start_block();
            }
        }
    }

    /// Ends a key still being pressed (the stream stopped), as if silence followed.
    pub fn flush(&mut self) {
        if let Some(p) = self.current.take() {
            self.events.push(DtmfEvent::End {
                digit: p.digit,
                duration_ms: self.blocks_ms(p.blocks),
            });
        }
        self.last_hit = None;
        self.start_block();
    }

    /// The next begin or end of a key press, oldest first.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop()
    }

    fn start_block(&mut self) {
        self.filled = 0;
        self.energy = 0.0;
        for g in self
            .rows
            .iter_mut()
            .chain(self.cols.iter_mut())
            .chain(self.col_harmonics.iter_mut())
        {
            g.reset();
        }
    }

    fn blocks_ms(&self, blocks: u32) -> u32 {
        let samples = u64::from(blocks) * u64::from(self.block_len);
        u32::try_from(samples * 1000 / u64::from(self.rate)).unwrap_or(u32::MAX)
    }

    /// The key the finished block holds, if it passes every check.
    fn classify_block(&self) -> Option<Digit> {
        let rows = self.rows.map(|g| g.power());
        let cols = self.cols.map(|g| g.power());
        let (r, row) = strongest(&rows);
        let (c, col) = strongest(&cols);
        let cfg = &self.config;
        if row < self.min_power || col < self.min_power {
            return None;
        }
        // Powers are amplitude squared: dB = 10 log10.
        let ratio = |db: f64| 10f64.powf(db / 10.0);
        if col * ratio(cfg.normal_twist_db) < row || row * ratio(cfg.reverse_twist_db) < col {
            return None;
        }
        let peak = ratio(cfg.relative_peak_db);
        let clear = |powers: &[f64; 4], best: usize| {
            powers
                .iter()
                .enumerate()
                .all(|(i, &p)| i == best || p * peak < powers[best])
        };
        if !clear(&rows, r) || !clear(&cols, c) {
            return None;
        }
        // A tone of power P over n samples carries about 2P/n of energy.
        let tones = 2.0 * (row + col) / f64::from(self.block_len);
        if tones < cfg.min_energy_ratio * self.energy {
            return None;
        }
        if self.col_harmonics[c].power() * ratio(cfg.harmonic_db) > col {
            return None;
        }
        Some(KEYS[r][c])
    }

    fn step(&mut self, hit: Option<Digit>) {
        if let Some(mut p) = self.current {
            if hit == Some(p.digit) {
                p.blocks += p.misses + 1;
                p.misses = 0;
                self.current = Some(p);
            } else {
                p.misses += 1;
                if p.misses >= CONFIRM_BLOCKS {
                    self.events.push(DtmfEvent::End {
                        digit: p.digit,
                        duration_ms: self.blocks_ms(p.blocks),
                    });
                    self.current = None;
                } else {
                    self.current = Some(p);
                }
            }
        }
        if self.current.is_none() {
            if let Some(d) = hit.filter(|&d| self.last_hit == Some(d)) {
                self.events.push(DtmfEvent::Begin { digit: d });
                self.current = Some(Pressed {
                    digit: d,
                    blocks: CONFIRM_BLOCKS,
                    misses: 0,
                });
                // The next press needs two fresh blocks.
                self.last_hit = None;
                return;
            }
        }
        self.last_hit = hit;
    }
}

fn strongest(powers: &[f64; 4]) -> (usize, f64) {
    let mut best = (0, powers[0]);
    for (i, &p) in powers.iter().enumerate().skip(1) {
        if p > best.1 {
            best = (i, p);
        }
    }
    best
}
