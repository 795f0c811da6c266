//! WAV (RIFF) files: reading for playback, writing for recordings.
//!
//! What it does: reads 16-bit PCM, A-law and µ-law WAV files, mono or stereo, at any rate
//! ([`WavReader`]), a chunk at a time from any `Read + Seek` (big files are never loaded
//! whole), skipping chunks it does not need (`LIST`, `fact`, odd-sized ones), accepting the
//! extensible format header, and coping with files cut short (it reads what is there) and
//! with data sizes of 0 or `0xFFFFFFFF` left by streaming writers (it uses the file's
//! length). It writes 16-bit PCM mono or stereo ([`WavWriter`]) to any `Write + Seek`: the
//! header goes first with placeholder sizes, which are patched every few seconds of audio and
//! on [`WavWriter::finish`], so a crash leaves a readable file. Stereo recordings put one leg
//! in each channel ([`WavWriter::write_stereo`]).
//!
//! What it does not do: open files (the caller hands in the reader or writer), resample (the
//! samples come at the file's rate; see [`crate::resample`]), or read 8/24/32-bit PCM,
//! float, ADPCM, MP3, RF64 or more than two channels: those are refused with an error that
//! names the format.
//!
//! Drive loop: playback opens a [`WavReader`] and calls [`WavReader::read_frame`] (or
//! [`WavReader::read_mono`] for rates that need resampling) every 20 ms until it returns 0;
//! recording creates a [`WavWriter`], calls [`WavWriter::write_frame`] or
//! [`WavWriter::write_stereo`] every 20 ms and [`WavWriter::finish`] at the end.

mod g711;
mod read;
mod write;

pub use read::WavReader;
pub use write::WavWriter;

/// How the samples of a file are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Signed 16-bit little-endian linear PCM (format 1).
    Pcm16,
    /// G.711 A-law, 8 bits a sample (format 6).
    Alaw,
    /// G.711 µ-law, 8 bits a sample (format 7).
    Ulaw,
}

impl Encoding {
    /// Bytes per sample of one channel.
    pub fn bytes_per_sample(self) -> u16 {
        match self {
            Encoding::Pcm16 => 2,
            Encoding::Alaw | Encoding::Ulaw => 1,
        }
    }
}

/// What a WAV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavSpec {
    /// Samples per second of each channel.
    pub rate: u32,
    /// 1 (mono) or 2 (stereo).
    pub channels: u16,
    /// Sample coding.
    pub encoding: Encoding,
}

impl WavSpec {
    /// Bytes of one sample of every channel.
    pub fn block_align(&self) -> u16 {
        self.channels * self.encoding.bytes_per_sample()
    }
}

/// Why a WAV file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The underlying reader or writer failed.
    #[error("WAV I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with a RIFF/WAVE header (the file's fault).
    #[error("not a WAV file: {0}")]
    NotWav(&'static str),
    /// A format this crate does not read, named (the file's fault).
    #[error("unsupported WAV format: {0}")]
    Unsupported(String),
    /// The header is malformed or cut short before the audio (the file's fault).
    #[error("malformed WAV header: {0}")]
    Malformed(&'static str),
    /// The writer would pass the 4 GiB a RIFF size can describe (the caller's fault).
    #[error("WAV data would exceed 4 GiB")]
    TooLong,
    /// Frames or samples that do not fit the file: another rate, or a channel count that
    /// does not match (the caller's fault).
    #[error("{0}")]
    Mismatch(String),
}

#[cfg(test)]
mod tests;
