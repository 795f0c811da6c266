//! Call-progress tones in FreeSWITCH's `tone_stream://` notation.
//!
//! What it does: parses the notation into a [`ToneSpec`] ([`ToneSpec::parse`], with errors
//! that quote the bad part) and prints it back ([`ToneSpec`]'s `Display`); plays a spec into
//! 20 ms frames at 8, 16 or 48 kHz ([`ToneGenerator`]), with the phase running on across
//! frames, looping forever unless a count is given and saying when it is done. The common
//! tones are ready made: [`ToneSpec::ringback`], [`ToneSpec::busy`], [`ToneSpec::dial`] and
//! the strings in [`presets`].
//!
//! The notation, `;`-separated parts:
//! - `%(on,off,f1,f2,...)`: `f1`, `f2`... Hz mixed for `on` ms, then `off` ms of silence (up
//!   to 18 frequencies; none is silence). `%(2000,4000,440,480)` is US ringback.
//! - `v=-7`: the level in dB below full scale of the parts that follow (0 to -63; the
//!   frequencies of a part share it). The default is FreeSWITCH's -7.
//! - `L=3` (FreeSWITCH puts it first) or `loops=3` (last): play the whole sequence 3 times.
//!   Both multiply; `loops=-1` or neither means forever.
//! - `d=100`, `w=50`: on and off ms for keys given as text, then `0`-`9*#A-D` play as DTMF
//!   (`1234` is four keys).
//!
//! What it does not do: FreeSWITCH's decay (`>=`, `+=`), channel (`c=`) and per-part loop
//! (`l=`) settings are refused by name; `r=` (a rate) is accepted and ignored, since the
//! generator plays at the frame rate it is given. No I/O.
//!
//! Drive loop: build a [`ToneGenerator`] from a spec and a rate, then call
//! [`ToneGenerator::fill`] once per 20 ms frame until it returns [`Progress::Finished`].

mod generate;
mod parse;

pub use generate::{Progress, ToneGenerator};

/// The level used until a `v=` says otherwise, dB below full scale (FreeSWITCH's default).
pub const DEFAULT_VOLUME_DB: f64 = -7.0;

/// The most frequencies mixed in one part (as FreeSWITCH's teletone).
pub const MAX_FREQUENCIES: usize = 18;

/// Ready-made tone strings.
pub mod presets {
    /// North American ringback: 440+480 Hz, 2 s on, 4 s off.
    pub const RINGBACK_US: &str = "%(2000,4000,440,480)";
    /// UK ringback: 400+450 Hz, twice 0.4 s with 0.2 s between, then 2 s off.
    pub const RINGBACK_UK: &str = "%(400,200,400,450);%(400,2000,400,450)";
    /// European (CEPT) ringback: 425 Hz, 1 s on, 4 s off.
    pub const RINGBACK_EU: &str = "%(1000,4000,425)";
    /// European busy: 425 Hz, 0.5 s on, 0.5 s off.
    pub const BUSY: &str = "%(500,500,425)";
    /// North American busy: 480+620 Hz, 0.5 s on, 0.5 s off.
    pub const BUSY_US: &str = "%(500,500,480,620)";
    /// North American dial tone: 350+440 Hz, continuous.
    pub const DIAL_US: &str = "%(1000,0,350,440)";
    /// European dial tone: 425 Hz, continuous.
    pub const DIAL: &str = "%(1000,0,425)";
}

/// A parsed tone: parts played in order, the whole repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneSpec {
    /// How many times the sequence plays; `None` is forever.
    pub repeat: Option<u32>,
    /// The parts, in order.
    pub segments: Vec<Segment>,
}

/// One `%(on,off,freqs...)` part.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Milliseconds of tone.
    pub on_ms: u32,
    /// Milliseconds of silence after it.
    pub off_ms: u32,
    /// Frequencies mixed, Hz (empty: the part is silence).
    pub freqs: Vec<f64>,
    /// Level of the mix, dB below full scale (0 to -63).
    pub volume_db: f64,
}

/// Why a tone string or a generator was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToneError {
    /// A part of the string is wrong (the writer's fault); `part` quotes it.
    #[error("tone part {part:?}: {reason}")]
    Invalid {
        /// The offending `;`-separated part, as written.
        part: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The string has no part that makes sound or silence of some length.
    #[error("tone {0:?} has nothing to play")]
    NothingToPlay(String),
    /// A frequency the rate cannot carry (at or above half the rate).
    #[error("{freq} Hz cannot be played at {rate} Hz sampling")]
    AboveNyquist {
        /// The frequency.
        freq: f64,
        /// The sample rate.
        rate: u32,
    },
    /// A rate outside [`crate::RATES`] (the caller's fault).
    #[error("sample rate {0} Hz is not 8000, 16000 or 48000")]
    Rate(u32),
}

impl ToneSpec {
    /// Parses FreeSWITCH tone notation, e.g. `L=3;v=-10;%(400,200,400,450)`.
    pub fn parse(s: &str) -> Result<ToneSpec, ToneError> {
        parse::parse(s)
    }

    /// North American ringback, forever: `%(2000,4000,440,480)`.
    pub fn ringback() -> ToneSpec {
        ToneSpec::forever(vec![Segment::new(2000, 4000, &[440.0, 480.0])])
    }

    /// Busy, forever: 425 Hz, 500 ms on, 500 ms off.
    pub fn busy() -> ToneSpec {
        ToneSpec::forever(vec![Segment::new(500, 500, &[425.0])])
    }

    /// North American dial tone, continuous: 350+440 Hz.
    pub fn dial() -> ToneSpec {
        ToneSpec::forever(vec![Segment::new(1000, 0, &[350.0, 440.0])])
    }

    /// Total length of one pass, ms.
    pub fn pass_ms(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| u64::from(s.on_ms) + u64::from(s.off_ms))
            .sum()
    }

    fn forever(segments: Vec<Segment>) -> ToneSpec {
        ToneSpec {
            repeat: None,
            segments,
        }
    }
}

impl Segment {
    /// A part at the default level.
    pub fn new(on_ms: u32, off_ms: u32, freqs: &[f64]) -> Segment {
        Segment {
            on_ms,
            off_ms,
            freqs: freqs.to_vec(),
            volume_db: DEFAULT_VOLUME_DB,
        }
    }
}

impl std::fmt::Display for ToneSpec {
    /// The notation back: `L=` when the count is finite, `v=` before each change of level,
    /// then the parts. Parsing the output gives the same spec.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut std::fmt::Formatter<'_>| {
            if std::mem::take(&mut first) {
                Ok(())
            } else {
                f.write_str(";")
            }
        };
        if let Some(n) = self.repeat {
            sep(f)?;
            write!(f, "L={n}")?;
        }
        let mut volume = DEFAULT_VOLUME_DB;
        for s in &self.segments {
            if s.volume_db != volume {
                sep(f)?;
                write!(f, "v={}", s.volume_db)?;
                volume = s.volume_db;
            }
            sep(f)?;
            write!(f, "%({},{}", s.on_ms, s.off_ms)?;
            for fr in &s.freqs {
                write!(f, ",{fr}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_to_the_helpers() {
        assert_eq!(
            ToneSpec::parse(presets::RINGBACK_US),
            Ok(ToneSpec::ringback())
        );
        assert_eq!(ToneSpec::parse(presets::BUSY), Ok(ToneSpec::busy()));
        assert_eq!(ToneSpec::parse(presets::DIAL_US), Ok(ToneSpec::dial()));
        for p in [
            presets::RINGBACK_UK,
            presets::RINGBACK_EU,
            presets::BUSY_US,
            presets::DIAL,
        ] {
            assert!(ToneSpec::parse(p).is_ok(), "{p}");
        }
        assert_eq!(ToneSpec::ringback().pass_ms(), 6000);
    }

    #[test]
    fn display_prints_the_notation() {
        let s = ToneSpec::parse("L=3;v=-10;%(400,200,400,450);v=-7;%(400,2000,400.5)");
        assert_eq!(
            s.map(|s| s.to_string()).as_deref(),
            Ok("L=3;v=-10;%(400,200,400,450);v=-7;%(400,2000,400.5)")
        );
        assert_eq!(ToneSpec::busy().to_string(), "%(500,500,425)");
    }

    #[test]
    fn print_then_parse_is_identity() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for _ in 0..500 {
            let segments = (0..1 + next(4))
                .map(|_| Segment {
                    on_ms: next(5000) as u32 + 1,
                    off_ms: next(5000) as u32,
                    freqs: (0..next(5))
                        .map(|_| (next(39_000) as f64 + 100.0) / 10.0)
                        .collect(),
                    volume_db: -(next(630) as f64) / 10.0,
                })
                .collect();
            let spec = ToneSpec {
                repeat: if next(2) == 0 {
                    None
                } else {
                    Some(next(100) as u32 + 1)
                },
                segments,
            };
            assert_eq!(
                ToneSpec::parse(&spec.to_string()),
                Ok(spec.clone()),
                "{spec}"
            );
        }
    }
}
