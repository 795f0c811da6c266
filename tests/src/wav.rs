//! 16-bit PCM WAV files and tone detection: the tests write a sine for a softphone to send
//! and measure, with a Goertzel filter, whether the tone reached the other side.

use std::path::Path;

/// Decoded 16-bit PCM audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl Wav {
    /// The first channel only.
    pub fn mono(&self) -> Vec<i16> {
        self.samples
            .iter()
            .step_by(usize::from(self.channels.max(1)))
            .copied()
            .collect()
    }

    /// The first two channels apart (left, right).
    pub fn split_stereo(&self) -> (Vec<i16>, Vec<i16>) {
        let ch = usize::from(self.channels.max(1));
        let left = self.samples.iter().step_by(ch).copied().collect();
        let right = self.samples.iter().skip(1).step_by(ch).copied().collect();
        (left, right)
    }

    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.channels.max(1)) / f64::from(self.rate.max(1))
    }
}

/// Writes `secs` seconds of a `freq` Hz sine at half of full scale, 16-bit, to `path`.
pub fn write_tone(
    path: &Path,
    freq: f64,
    secs: f64,
    rate: u32,
    channels: u16,
) -> std::io::Result<()> {
    let frames = (secs * f64::from(rate)) as usize;
    let mut samples = Vec::with_capacity(frames * usize::from(channels));
    for n in 0..frames {
        let v = (2.0 * std::f64::consts::PI * freq * n as f64 / f64::from(rate)).sin() * 16384.0;
        for _ in 0..channels {
            samples.push(v as i16);
        }
    }
    write(
        path,
        &Wav {
            rate,
            channels,
            samples,
        },
    )
}

/// Writes `wav` as a canonical 44-byte-header PCM WAV file.
pub fn write(path: &Path, wav: &Wav) -> std::io::Result<()> {
    let data_len = (wav.samples.len() * 2) as u32;
    let block = wav.channels * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&wav.channels.to_le_bytes());
    out.extend_from_slice(&wav.rate.to_le_bytes());
    out.extend_from_slice(&(wav.rate * u32::from(block)).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in &wav.samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, out)
}

/// Reads a 16-bit PCM WAV file (any chunk order; unknown chunks skipped).
pub fn read(path: &Path) -> Result<Wav, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a 16-bit PCM WAV image. A data chunk whose length was never filled in (a file
/// still being written) is read to the end of the image.
pub fn parse(bytes: &[u8]) -> Result<Wav, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let le16 = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]);
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = le32(&bytes[pos + 4..pos + 8]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err("short fmt chunk".into());
            }
            let b = &bytes[body..];
            format = Some((le16(b), le16(&b[2..]), le32(&b[4..]), le16(&b[14..])));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = format.ok_or("data chunk before fmt chunk")?;
            // 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which libsndfile may write for PCM too.
            if !(tag == 1 || tag == 0xfffe) || bits != 16 {
                return Err(format!(
                    "format {tag:#x} with {bits} bits is not 16-bit PCM"
                ));
            }
            let end = if len == 0 || body + len > bytes.len() {
                bytes.len()
            } else {
                body + len
            };
            let samples = bytes[body..end]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return Ok(Wav {
                rate,
                channels,
                samples,
            });
        }
        pos = body + len + (len & 1);
    }
    Err("no data chunk".into())
}

/// The share of `samples`' energy at `freq` Hz, from 0 (none) to about 1 (a pure tone).
pub fn tone_fraction(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    if samples.is_empty() || energy == 0.0 {
        return 0.0;
    }
    goertzel_power(samples, rate, freq) / (energy * samples.len() as f64 / 2.0)
}

/// Goertzel power |X(freq)|² over `samples`.
pub fn goertzel_power(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Counts 50 ms blocks of `wav` (first channel) that are audible (RMS above ~-40 dBFS) and
/// carry mostly `freq`: (tone blocks, all blocks). Blocks keep packet loss or a late start
/// from spoiling the measure of the rest.
pub fn tone_blocks(wav: &Wav, freq: f64) -> (usize, usize) {
    let mono = wav.mono();
    let block = (wav.rate / 20).max(1) as usize;
    let mut hits = 0;
    let mut total = 0;
    for chunk in mono.chunks_exact(block) {
        total += 1;
        let rms = (chunk.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / block as f64).sqrt();
        if rms > 330.0 && tone_fraction(chunk, wav.rate, freq) > 0.5 {
            hits += 1;
        }
    }
    (hits, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                ((2.0 * std::f64::consts::PI * freq * t).sin() * 10000.0) as i16
            })
            .collect()
    }

    #[test]
    fn goertzel_finds_the_tone_and_not_its_neighbour() {
        let s = sine(1000.0, 8000, 400);
        assert!(tone_fraction(&s, 8000, 1000.0) > 0.9);
        assert!(tone_fraction(&s, 8000, 440.0) < 0.05);
        assert_eq!(tone_fraction(&[0; 400], 8000, 1000.0), 0.0);
    }

    #[test]
    fn written_tone_reads_back_and_is_detected() {
        let dir = std::env::temp_dir().join(format!("fst-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tone.wav");
        write_tone(&path, 1000.0, 1.0, 8000, 2).unwrap();
        let wav = read(&path).unwrap();
        assert_eq!(
            (wav.rate, wav.channels, wav.samples.len()),
            (8000, 2, 16000)
        );
        assert!((wav.seconds() - 1.0).abs() < 1e-9);
        assert_eq!(tone_blocks(&wav, 1000.0), (20, 20));
        assert_eq!(tone_blocks(&wav, 1500.0).0, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unfinished_data_length_reads_to_the_end() {
        let mut img = Vec::new();
        img.extend_from_slice(
            b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0",
        );
        img.extend_from_slice(b"data\0\0\0\0\x01\0\x02\0");
        let wav = parse(&img).unwrap();
        assert_eq!(wav.samples, vec![1, 2]);
        assert!(parse(b"RIFX").is_err());
    }
}
