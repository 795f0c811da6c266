//! Writing a 16-bit PCM WAV file that stays readable if the writer dies.

use std::io::{Seek, SeekFrom, Write};

use super::WavError;
use crate::frame::Frame;

/// The canonical header: RIFF, a 16-byte fmt chunk, the data chunk header.
const HEADER_LEN: u64 = 44;

/// Size written before the real one is known: what streaming writers use for "unknown", so
/// a reader takes the file's length.
const UNKNOWN_SIZE: u32 = 0xffff_ffff;

/// The sizes are patched after this much audio unless told otherwise.
const DEFAULT_PATCH_SECONDS: u32 = 5;

/// Bytes converted at a time.
const CHUNK: usize = 4096;

/// Writes 16-bit PCM, mono or stereo, at any rate.
///
/// [`new`](Self::new) writes the 44-byte header with unknown (`0xFFFFFFFF`) sizes. Every
/// [`set_patch_seconds`](Self::set_patch_seconds) of audio (5 by default) the sizes are
/// written in and the sink flushed, and [`finish`](Self::finish) does it a last time, so a
/// file whose writer crashed reads to its last patch with any reader, and to its end with
/// [`super::WavReader`]. Dropping an unfinished writer patches the sizes too, ignoring errors.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    inner: Option<W>,
    rate: u32,
    channels: u16,
    /// Where the header starts in the sink.
    start: u64,
    data_bytes: u64,
    since_patch: u64,
    patch_every: u64,
    buf: Box<[u8; CHUNK]>,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Starts a file of `channels` (1 or 2) at `rate` Hz in `inner`, at its current position.
    pub fn new(mut inner: W, rate: u32, channels: u16) -> Result<WavWriter<W>, WavError> {
        if !(1..=2).contains(&channels) {
            return Err(WavError::Mismatch(format!(
                "WAV files are written mono or stereo, not {channels} channels"
            )));
        }
        if rate == 0 {
            return Err(WavError::Mismatch("a WAV file needs a sample rate".into()));
        }
        let start = inner.stream_position()?;
        inner.write_all(&header(rate, channels, None))?;
        Ok(WavWriter {
            inner: Some(inner),
            rate,
            channels,
            start,
            data_bytes: 0,
            since_patch: 0,
            patch_every: patch_bytes(rate, channels, DEFAULT_PATCH_SECONDS),
            buf: Box::new([0; CHUNK]),
        })
    }

    /// Patches the sizes after every `seconds` of audio (0: only on finish).
    pub fn set_patch_seconds(&mut self, seconds: u32) {
        self.patch_every = patch_bytes(self.rate, self.channels, seconds);
    }

    /// Samples per channel written.
    pub fn samples_written(&self) -> u64 {
        self.data_bytes / (2 * u64::from(self.channels))
    }

    /// Writes interleaved samples (a whole number per channel).
    pub fn write_interleaved(&mut self, samples: &[i16]) -> Result<(), WavError> {
        if self.channels == 2 && samples.len() % 2 == 1 {
            return Err(WavError::Mismatch(format!(
                "{} samples do not split into {} channels",
                samples.len(),
                self.channels
            )));
        }
        self.check_room(samples.len())?;
        for part in samples.chunks(CHUNK / 2) {
            for (b, s) in self.buf.chunks_exact_mut(2).zip(part) {
                b.copy_from_slice(&s.to_le_bytes());
            }
            self.put(part.len() * 2)?;
        }
        Ok(())
    }

    /// Writes a mono frame to a mono file at the frame's rate.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), WavError> {
        if self.channels != 1 {
            return Err(WavError::Mismatch(
                "a stereo file takes two frames (write_stereo)".into(),
            ));
        }
        self.check_rate(frame)?;
        self.write_interleaved(frame.samples())
    }

    /// Writes one leg to each channel of a stereo file: `left` and `right` at the file's rate.
    pub fn write_stereo(&mut self, left: &Frame, right: &Frame) -> Result<(), WavError> {
        if self.channels != 2 {
            return Err(WavError::Mismatch(
                "a mono file takes one frame (write_frame)".into(),
            ));
        }
        self.check_rate(left)?;
        self.check_rate(right)?;
        let (l, r) = (left.samples(), right.samples());
        self.check_room(l.len() * 2)?;
        // A frame is at most 960 samples: 3840 bytes interleaved, within one buffer.
        for (b, (a, c)) in self.buf.chunks_exact_mut(4).zip(l.iter().zip(r)) {
            b[..2].copy_from_slice(&a.to_le_bytes());
            b[2..].copy_from_slice(&c.to_le_bytes());
        }
        self.put(l.len() * 4)
    }

    /// Writes the sizes into the header now and flushes the sink.
    pub fn patch(&mut self) -> Result<(), WavError> {
        let Some(w) = self.inner.as_mut() else {
            return Ok(());
        };
        let data = u32::try_from(self.data_bytes).map_err(|_| WavError::TooLong)?;
        w.seek(SeekFrom::Start(self.start + 4))?;
        w.write_all(&(data + 36).to_le_bytes())?;
        w.seek(SeekFrom::Start(self.start + 40))?;
        w.write_all(&data.to_le_bytes())?;
        w.seek(SeekFrom::Start(self.start + HEADER_LEN + self.data_bytes))?;
        w.flush()?;
        self.since_patch = 0;
        Ok(())
    }

    /// Patches the sizes, flushes, and hands back the sink.
    pub fn finish(mut self) -> Result<W, WavError> {
        self.patch()?;
        // `inner` is only taken here, and `self` is consumed.
        self.inner
            .take()
            .ok_or(WavError::Mismatch("writer already finished".into()))
    }

    fn check_rate(&self, frame: &Frame) -> Result<(), WavError> {
        if frame.rate() != self.rate {
            return Err(WavError::Mismatch(format!(
                "a {} Hz frame in a {} Hz file",
                frame.rate(),
                self.rate
            )));
        }
        Ok(())
    }

    fn check_room(&self, samples: usize) -> Result<(), WavError> {
        let total = self.data_bytes + samples as u64 * 2;
        if total + 36 > u64::from(u32::MAX) - 1 {
            return Err(WavError::TooLong);
        }
        Ok(())
    }

    /// Writes the first `n` converted bytes and patches when due.
    fn put(&mut self, n: usize) -> Result<(), WavError> {
        let Some(w) = self.inner.as_mut() else {
            return Ok(());
        };
        w.write_all(&self.buf[..n])?;
        self.data_bytes += n as u64;
        self.since_patch += n as u64;
        if self.patch_every > 0 && self.since_patch >= self.patch_every {
            self.patch()?;
        }
        Ok(())
    }
}

impl<W: Write + Seek> Drop for WavWriter<W> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            // Best effort: an error here has nobody to go to.
            let _ = self.patch();
        }
    }
}

fn patch_bytes(rate: u32, channels: u16, seconds: u32) -> u64 {
    u64::from(rate) * u64::from(channels) * 2 * u64::from(seconds)
}

/// The 44-byte header; `None` writes unknown sizes.
fn header(rate: u32, channels: u16, data: Option<u32>) -> [u8; 44] {
    let mut h = [0u8; 44];
    let (riff, data) = match data {
        Some(d) => (d.saturating_add(36), d),
        None => (UNKNOWN_SIZE, UNKNOWN_SIZE),
    };
    let block = channels * 2;
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&riff.to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&rate.saturating_mul(u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

#[cfg(test)]
pub(super) fn canonical_header(rate: u32, channels: u16, data: u32) -> [u8; 44] {
    header(rate, channels, Some(data))
}
