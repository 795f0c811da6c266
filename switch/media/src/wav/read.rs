//! Reading a WAV file chunk by chunk.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use super::g711::{alaw_to_linear, ulaw_to_linear};
use super::{Encoding, WavError, WavSpec};
use crate::frame::{samples_per_frame, Frame, RATES};

/// Bytes read from the file at a time.
const CHUNK: usize = 4096;

/// The format codes that may be met, for naming what is refused.
fn format_name(tag: u16) -> String {
    match tag {
        0x0002 => "MS ADPCM".into(),
        0x0003 => "IEEE float".into(),
        0x0011 => "IMA ADPCM".into(),
        0x0031 => "GSM 6.10".into(),
        0x0040 => "G.721 ADPCM".into(),
        0x0050 | 0x0055 => "MPEG audio".into(),
        t => format!("format tag 0x{t:04x}"),
    }
}

/// Streams the samples of a WAV file.
///
/// [`new`](Self::new) reads the header chunks up to `data` and stops there; each read then
/// pulls at most 4 KiB from the source into a buffer inside the reader, so playback of a
/// long file costs neither memory nor allocations. Samples come at the file's rate; stereo
/// files give interleaved samples ([`read_interleaved`](Self::read_interleaved)) or a mono
/// mix ([`read_mono`](Self::read_mono), [`read_frame`](Self::read_frame)).
#[derive(Debug)]
pub struct WavReader<R> {
    inner: R,
    spec: WavSpec,
    data_start: u64,
    /// Bytes of audio, a whole number of blocks.
    data_len: u64,
    /// Bytes of audio consumed.
    pos: u64,
    buf: Box<[u8; CHUNK]>,
}

impl<R: Read + Seek> WavReader<R> {
    /// Reads the header of the WAV file in `inner` (from its current position) and stands
    /// at the first sample.
    pub fn new(mut inner: R) -> Result<WavReader<R>, WavError> {
        let start = inner.stream_position()?;
        let end = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(start))?;
        let mut riff = [0u8; 12];
        if read_full(&mut inner, &mut riff)? < 12 {
            return Err(WavError::NotWav("shorter than a RIFF header"));
        }
        match &riff[..4] {
            b"RIFF" => {}
            b"RF64" | b"BW64" => return Err(WavError::Unsupported("RF64 (64-bit WAV)".into())),
            b"RIFX" => return Err(WavError::Unsupported("big-endian RIFX".into())),
            _ => return Err(WavError::NotWav("no RIFF signature")),
        }
        if &riff[8..12] != b"WAVE" {
            return Err(WavError::NotWav("a RIFF file but not WAVE"));
        }
        let mut spec = None;
        let mut at = start + 12;
        loop {
            let mut head = [0u8; 8];
            if read_full(&mut inner, &mut head)? < 8 {
                return Err(WavError::Malformed(if spec.is_some() {
                    "no data chunk"
                } else {
                    "no fmt chunk"
                }));
            }
            let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
            at += 8;
            match &head[..4] {
                b"fmt " => {
                    let mut fmt = [0u8; 40];
                    let want = usize::try_from(size.min(40)).unwrap_or(40);
                    if read_full(&mut inner, &mut fmt[..want])? < want {
                        return Err(WavError::Malformed("fmt chunk cut short"));
                    }
                    spec = Some(parse_fmt(&fmt[..want])?);
                }
                b"data" => {
                    let Some(spec) = spec else {
                        return Err(WavError::Malformed("data chunk before the fmt chunk"));
                    };
                    let available = end.saturating_sub(at);
                    let mut len = if size == 0 || size == 0xffff_ffff {
                        available
                    } else {
                        size.min(available)
                    };
                    if len < available && !chunk_follows(&mut inner, at, len, end)? {
                        // A writer stopped between two size patches: the audio runs on.
                        len = available;
                    }
                    let block = u64::from(spec.block_align());
                    inner.seek(SeekFrom::Start(at))?;
                    return Ok(WavReader {
                        inner,
                        spec,
                        data_start: at,
                        data_len: len - len % block,
                        pos: 0,
                        buf: Box::new([0; CHUNK]),
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even size.
            at += size + (size & 1);
            inner.seek(SeekFrom::Start(at))?;
        }
    }

    /// What the file holds.
    pub fn spec(&self) -> WavSpec {
        self.spec
    }

    /// Length in samples per channel.
    pub fn len_samples(&self) -> u64 {
        self.data_len / u64::from(self.spec.block_align())
    }

    /// Samples per channel read so far.
    pub fn position(&self) -> u64 {
        self.pos / u64::from(self.spec.block_align())
    }

    /// Moves to sample `n` (per channel); past the end is the end.
    pub fn seek_samples(&mut self, n: u64) -> Result<(), WavError> {
        let bytes = n
            .saturating_mul(u64::from(self.spec.block_align()))
            .min(self.data_len);
        self.inner.seek(SeekFrom::Start(self.data_start + bytes))?;
        self.pos = bytes;
        Ok(())
    }

    /// Fills `out` with interleaved samples (a whole number per channel) and returns how
    /// many it wrote; 0 at the end. A file cut short ends where its bytes end.
    pub fn read_interleaved(&mut self, out: &mut [i16]) -> Result<usize, WavError> {
        let channels = usize::from(self.spec.channels);
        let bps = usize::from(self.spec.encoding.bytes_per_sample());
        let mut written = 0;
        loop {
            let room = (out.len() - written) / channels * channels;
            let left = self.data_len - self.pos;
            let block = channels * bps;
            let want = (room * bps).min(CHUNK / block * block);
            let want = usize::try_from(left).map_or(want, |l| want.min(l));
            if want == 0 {
                return Ok(written);
            }
            let got = read_full(&mut self.inner, &mut self.buf[..want])?;
            let got = got - got % block;
            if got == 0 {
                // The file ended before the data size said.
                self.data_len = self.pos;
                return Ok(written);
            }
            let dst = &mut out[written..written + got / bps];
            match self.spec.encoding {
                Encoding::Pcm16 => {
                    for (d, b) in dst.iter_mut().zip(self.buf[..got].chunks_exact(2)) {
                        *d = i16::from_le_bytes([b[0], b[1]]);
                    }
                }
                Encoding::Alaw => {
                    for (d, &b) in dst.iter_mut().zip(&self.buf[..got]) {
                        *d = alaw_to_linear(b);
                    }
                }
                Encoding::Ulaw => {
                    for (d, &b) in dst.iter_mut().zip(&self.buf[..got]) {
                        *d = ulaw_to_linear(b);
                    }
                }
            }
            written += got / bps;
            self.pos += got as u64;
        }
    }

    /// Fills `out` with mono samples (stereo is averaged) and returns how many; 0 at the end.
    pub fn read_mono(&mut self, out: &mut [i16]) -> Result<usize, WavError> {
        if self.spec.channels == 1 {
            return self.read_interleaved(out);
        }
        // Stereo pairs go through a small buffer on the stack and are mixed into `out`.
        let mut done = 0;
        let mut pair = [0i16; 512];
        while done < out.len() {
            let want = ((out.len() - done) * 2).min(pair.len());
            let n = self.read_interleaved(&mut pair[..want])?;
            if n == 0 {
                break;
            }
            for (d, p) in out[done..].iter_mut().zip(pair[..n].chunks_exact(2)) {
                *d = ((i32::from(p[0]) + i32::from(p[1])) / 2) as i16;
            }
            done += n / 2;
        }
        Ok(done)
    }

    /// Fills `frame` with the next 20 ms in mono at the file's rate (the part past the end
    /// is silence) and returns how many samples came from the file; 0 at the end. The file's
    /// rate must be one of [`RATES`]; others need [`read_mono`](Self::read_mono) and a
    /// resampler.
    pub fn read_frame(&mut self, frame: &mut Frame) -> Result<usize, WavError> {
        let rate = self.spec.rate;
        if !RATES.contains(&rate) {
            return Err(WavError::Mismatch(format!(
                "a {rate} Hz file does not make 20 ms frames without resampling"
            )));
        }
        frame.clear(rate);
        let out = frame.samples_mut();
        debug_assert_eq!(out.len(), samples_per_frame(rate));
        self.read_mono(out)
    }

    /// The source back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Where the audio starts in the source, bytes.
    pub fn data_start(&self) -> u64 {
        self.data_start
    }
}

/// Whether a plausible chunk header (four printable characters and a size that fits) sits
/// right after `len` bytes of data at `at`. Leaves the position unspecified.
fn chunk_follows<R: Read + Seek>(r: &mut R, at: u64, len: u64, end: u64) -> Result<bool, WavError> {
    let next = at + len + (len & 1);
    r.seek(SeekFrom::Start(next))?;
    let mut head = [0u8; 8];
    if read_full(r, &mut head)? < 8 {
        // Only a pad byte or a scrap: nothing that is audio either.
        return Ok(true);
    }
    let printable = head[..4].iter().all(|b| (0x20..0x7f).contains(b));
    let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    Ok(printable && next + 8 + size <= end)
}

fn parse_fmt(fmt: &[u8]) -> Result<WavSpec, WavError> {
    let u16_at = |i: usize| fmt.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let (Some(mut tag), Some(channels), Some(bits)) = (u16_at(0), u16_at(2), u16_at(14)) else {
        return Err(WavError::Malformed("fmt chunk shorter than 16 bytes"));
    };
    let rate = fmt
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0);
    if tag == 0xfffe {
        // WAVE_FORMAT_EXTENSIBLE: the real tag leads the sub-format GUID at byte 24.
        tag = u16_at(24).ok_or(WavError::Malformed("extensible fmt chunk cut short"))?;
    }
    let encoding = match (tag, bits) {
        (1, 16) => Encoding::Pcm16,
        (1, b) => return Err(WavError::Unsupported(format!("{b}-bit PCM (only 16-bit)"))),
        (3, b) => return Err(WavError::Unsupported(format!("{b}-bit IEEE float"))),
        (6, 8) => Encoding::Alaw,
        (7, 8) => Encoding::Ulaw,
        (6 | 7, b) => return Err(WavError::Unsupported(format!("G.711 with {b} bits"))),
        (t, _) => return Err(WavError::Unsupported(format_name(t))),
    };
    match channels {
        1 | 2 => {}
        0 => return Err(WavError::Malformed("zero channels")),
        n => {
            return Err(WavError::Unsupported(format!(
                "{n} channels (mono or stereo only)"
            )))
        }
    }
    if rate == 0 {
        return Err(WavError::Malformed("sample rate of zero"));
    }
    Ok(WavSpec {
        rate,
        channels,
        encoding,
    })
}

/// Reads until `buf` is full or the source ends; the bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, WavError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}
