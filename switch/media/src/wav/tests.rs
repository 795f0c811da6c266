//! Reading and writing WAV files in memory: round trips, odd chunks, damaged files and
//! refused formats.

use super::write::canonical_header;
use super::{Encoding, WavError, WavReader, WavSpec, WavWriter};
use crate::frame::{Frame, RATES};
use std::io::Cursor;

/// A file built chunk by chunk.
struct Builder(Vec<u8>);

impl Builder {
    fn new() -> Builder {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF\0\0\0\0WAVE");
        Builder(v)
    }

    /// Appends a chunk with its declared size (padding odd bodies).
    fn chunk(mut self, id: &[u8; 4], declared: u32, body: &[u8]) -> Builder {
        self.0.extend_from_slice(id);
        self.0.extend_from_slice(&declared.to_le_bytes());
        self.0.extend_from_slice(body);
        if body.len() % 2 == 1 {
            self.0.push(0);
        }
        self
    }

    fn fmt(self, tag: u16, channels: u16, rate: u32, bits: u16) -> Builder {
        let block = channels * bits / 8;
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        self.chunk(b"fmt ", 16, &b)
    }

    fn data16(self, declared: Option<u32>, samples: &[i16]) -> Builder {
        let body: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let len = declared.unwrap_or(body.len() as u32);
        self.chunk(b"data", len, &body)
    }

    fn reader(self) -> Result<WavReader<Cursor<Vec<u8>>>, WavError> {
        WavReader::new(Cursor::new(self.0))
    }
}

fn ramp(n: usize) -> Vec<i16> {
    (0..n).map(|i| (i as i32 * 37 - 20_000) as i16).collect()
}

fn read_all<R: std::io::Read + std::io::Seek>(r: &mut WavReader<R>) -> Vec<i16> {
    let mut out = Vec::new();
    let mut buf = [0i16; 333];
    loop {
        let n = r.read_interleaved(&mut buf).expect("readable");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn written_files_read_back_mono_and_stereo_at_every_rate() {
    for rate in RATES {
        let n = crate::samples_per_frame(rate);
        let mut w = WavWriter::new(Cursor::new(Vec::new()), rate, 1).expect("writer");
        let mut s = WavWriter::new(Cursor::new(Vec::new()), rate, 2).expect("writer");
        let mut want_mono = Vec::new();
        let mut want_stereo = Vec::new();
        for k in 0..60 {
            let a: Vec<i16> = (0..n).map(|i| (i * 7 + k) as i16).collect();
            let b: Vec<i16> = (0..n).map(|i| -((i * 3 + k) as i16)).collect();
            let fa = Frame::from_samples(rate, &a).expect("frame");
            let fb = Frame::from_samples(rate, &b).expect("frame");
            w.write_frame(&fa).expect("write");
            s.write_stereo(&fa, &fb).expect("write");
            want_mono.extend_from_slice(&a);
            want_stereo.extend(a.iter().zip(&b).flat_map(|(x, y)| [*x, *y]));
        }
        assert_eq!(w.samples_written(), 60 * n as u64);
        let mono = w.finish().expect("finish").into_inner();
        let stereo = s.finish().expect("finish").into_inner();
        let data = (want_mono.len() * 2) as u32;
        assert_eq!(&mono[..44], &canonical_header(rate, 1, data)[..]);
        let mut r = WavReader::new(Cursor::new(mono)).expect("reader");
        assert_eq!(
            r.spec(),
            WavSpec {
                rate,
                channels: 1,
                encoding: Encoding::Pcm16
            }
        );
        assert_eq!(r.len_samples(), want_mono.len() as u64);
        assert_eq!(read_all(&mut r), want_mono);
        let mut r = WavReader::new(Cursor::new(stereo)).expect("reader");
        assert_eq!(r.spec().channels, 2);
        assert_eq!(read_all(&mut r), want_stereo);
    }
}

#[test]
fn frames_come_out_mono_with_a_silent_tail() {
    let samples = ramp(400);
    let mut r = Builder::new()
        .fmt(1, 1, 8000, 16)
        .data16(None, &samples)
        .reader()
        .expect("reader");
    let mut f = Frame::silence(16_000).expect("rate");
    assert_eq!(r.read_frame(&mut f).expect("read"), 160);
    assert_eq!(f.rate(), 8000);
    assert_eq!(f.samples(), &samples[..160]);
    assert_eq!(r.read_frame(&mut f).expect("read"), 160);
    assert_eq!(r.read_frame(&mut f).expect("read"), 80);
    assert_eq!(&f.samples()[..80], &samples[320..]);
    assert!(f.samples()[80..].iter().all(|&s| s == 0));
    assert_eq!(r.read_frame(&mut f).expect("read"), 0);
    // Back to the start.
    r.seek_samples(100).expect("seek");
    assert_eq!(r.position(), 100);
    assert_eq!(r.read_frame(&mut f).expect("read"), 160);
    assert_eq!(f.samples()[0], samples[100]);
}

#[test]
fn stereo_mixes_down_for_mono_reads() {
    let pairs = [1000i16, 3000, -2000, -4000, 32767, 32767, -32768, -32768];
    let mut r = Builder::new()
        .fmt(1, 2, 16_000, 16)
        .data16(None, &pairs)
        .reader()
        .expect("reader");
    let mut out = [0i16; 8];
    assert_eq!(r.read_mono(&mut out).expect("read"), 4);
    assert_eq!(&out[..4], &[2000, -3000, 32767, -32768]);
}

#[test]
fn odd_and_unknown_chunks_are_skipped() {
    let samples = ramp(99);
    let mut r = Builder::new()
        .chunk(b"JUNK", 3, b"abc")
        .fmt(1, 1, 8000, 16)
        .chunk(b"fact", 4, &99u32.to_le_bytes())
        .chunk(b"LIST", 5, b"INFOx")
        .data16(None, &samples)
        .chunk(b"LIST", 4, b"INFO")
        .reader()
        .expect("reader");
    assert_eq!(read_all(&mut r), samples);
}

#[test]
fn the_extensible_header_is_read() {
    let mut fmt = Vec::new();
    for v in [0xfffeu16, 2] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    fmt.extend_from_slice(&48_000u32.to_le_bytes());
    fmt.extend_from_slice(&(48_000u32 * 4).to_le_bytes());
    for v in [4u16, 16, 22, 16] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    fmt.extend_from_slice(&3u32.to_le_bytes()); // front left and right
    fmt.extend_from_slice(&[
        1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
    ]);
    let samples = ramp(20);
    let mut r = Builder::new()
        .chunk(b"fmt ", 40, &fmt)
        .data16(None, &samples)
        .reader()
        .expect("reader");
    assert_eq!(r.spec().rate, 48_000);
    assert_eq!(r.spec().channels, 2);
    assert_eq!(read_all(&mut r), samples);
}

#[test]
fn streaming_sizes_use_the_file_length() {
    let samples = ramp(300);
    for declared in [0, 0xffff_ffff] {
        let mut r = Builder::new()
            .fmt(1, 1, 8000, 16)
            .data16(Some(declared), &samples)
            .reader()
            .expect("reader");
        assert_eq!(r.len_samples(), 300, "declared {declared:#x}");
        assert_eq!(read_all(&mut r), samples);
    }
}

#[test]
fn truncated_files_give_what_is_there() {
    let samples = ramp(300);
    let mut bytes = Builder::new().fmt(1, 1, 8000, 16).data16(None, &samples).0;
    bytes.truncate(bytes.len() - 101); // half a sample at the end
    let mut r = WavReader::new(Cursor::new(bytes)).expect("reader");
    assert_eq!(read_all(&mut r), &samples[..249]);
    // Header cut inside the fmt chunk.
    let mut bytes = Builder::new().fmt(1, 1, 8000, 16).0;
    bytes.truncate(30);
    assert!(matches!(
        WavReader::new(Cursor::new(bytes)),
        Err(WavError::Malformed(_))
    ));
    let bytes = Builder::new().fmt(1, 1, 8000, 16).0;
    assert!(matches!(
        WavReader::new(Cursor::new(bytes)),
        Err(WavError::Malformed("no data chunk"))
    ));
    assert!(matches!(
        WavReader::new(Cursor::new(b"RIFF".to_vec())),
        Err(WavError::NotWav(_))
    ));
}

#[test]
fn a_crash_between_patches_still_reads() {
    let mut file = Vec::new();
    {
        let mut w = WavWriter::new(Cursor::new(&mut file), 8000, 1).expect("writer");
        w.set_patch_seconds(1);
        let f = Frame::from_samples(8000, &[500; 160]).expect("frame");
        for _ in 0..125 {
            w.write_frame(&f).expect("write"); // 2.5 s
        }
        // The process dies: no finish, no drop.
        std::mem::forget(w);
    }
    let declared = u32::from_le_bytes([file[40], file[41], file[42], file[43]]);
    assert_eq!(declared, 2 * 16_000, "patched at 2 s");
    let mut r = WavReader::new(Cursor::new(file)).expect("reader");
    assert_eq!(
        r.len_samples(),
        20_000,
        "the half second after the patch is kept"
    );
    assert!(read_all(&mut r).iter().all(|&s| s == 500));
    // Before any patch the placeholder sizes say "unknown" and the length is used.
    let mut file = Vec::new();
    {
        let mut w = WavWriter::new(Cursor::new(&mut file), 16_000, 1).expect("writer");
        w.write_interleaved(&[7; 320]).expect("write");
        std::mem::forget(w);
    }
    assert_eq!(&file[40..44], &[0xff; 4]);
    let r = WavReader::new(Cursor::new(file)).expect("reader");
    assert_eq!(r.len_samples(), 320);
}

#[test]
fn dropping_an_unfinished_writer_patches_it() {
    let mut file = Vec::new();
    {
        let mut w = WavWriter::new(Cursor::new(&mut file), 8000, 2).expect("writer");
        w.write_interleaved(&[1, 2, 3, 4]).expect("write");
    }
    assert_eq!(&file[..44], &canonical_header(8000, 2, 8)[..]);
}

#[test]
fn g711_files_are_decoded() {
    for (tag, byte, want) in [(7u16, 0x80u8, 32124i16), (6, 0xd5, 8)] {
        let mut r = Builder::new()
            .fmt(tag, 1, 8000, 8)
            .chunk(b"data", 3, &[byte, byte, byte])
            .reader()
            .expect("reader");
        let enc = if tag == 7 {
            Encoding::Ulaw
        } else {
            Encoding::Alaw
        };
        assert_eq!(r.spec().encoding, enc);
        assert_eq!(read_all(&mut r), vec![want; 3]);
    }
}

#[test]
fn unsupported_formats_say_what_they_are() {
    let msg = |b: Builder| match b.data16(None, &[0; 4]).reader() {
        Err(WavError::Unsupported(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        msg(Builder::new().fmt(1, 1, 8000, 8)),
        "8-bit PCM (only 16-bit)"
    );
    assert_eq!(
        msg(Builder::new().fmt(1, 1, 8000, 24)),
        "24-bit PCM (only 16-bit)"
    );
    assert_eq!(msg(Builder::new().fmt(3, 1, 8000, 32)), "32-bit IEEE float");
    assert_eq!(msg(Builder::new().fmt(0x55, 1, 8000, 0)), "MPEG audio");
    assert_eq!(msg(Builder::new().fmt(0x11, 1, 8000, 4)), "IMA ADPCM");
    assert_eq!(
        msg(Builder::new().fmt(0x1234, 1, 8000, 16)),
        "format tag 0x1234"
    );
    assert_eq!(
        msg(Builder::new().fmt(1, 6, 8000, 16)),
        "6 channels (mono or stereo only)"
    );
    let mut rf64 = Builder::new().fmt(1, 1, 8000, 16).0;
    rf64[..4].copy_from_slice(b"RF64");
    let err = WavReader::new(Cursor::new(rf64)).map(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), "unsupported WAV format: RF64 (64-bit WAV)");
    let mut avi = Builder::new().0;
    avi[8..12].copy_from_slice(b"AVI ");
    assert!(matches!(
        WavReader::new(Cursor::new(avi)),
        Err(WavError::NotWav(_))
    ));
    let data_first = Builder::new().data16(None, &[1, 2]).fmt(1, 1, 8000, 16);
    assert!(matches!(data_first.reader(), Err(WavError::Malformed(_))));
}

#[test]
fn writer_refuses_what_does_not_fit() {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 8000, 2).expect("writer");
    let f8 = Frame::silence(8000).expect("rate");
    let f16 = Frame::silence(16_000).expect("rate");
    assert!(matches!(w.write_frame(&f8), Err(WavError::Mismatch(_))));
    assert!(matches!(
        w.write_stereo(&f8, &f16),
        Err(WavError::Mismatch(_))
    ));
    assert!(matches!(
        w.write_interleaved(&[1, 2, 3]),
        Err(WavError::Mismatch(_))
    ));
    assert!(w.write_stereo(&f8, &f8).is_ok());
    assert!(WavWriter::new(Cursor::new(Vec::new()), 8000, 3).is_err());
    assert!(WavWriter::new(Cursor::new(Vec::new()), 0, 1).is_err());
}

#[test]
fn garbage_never_panics() {
    let good = Builder::new().fmt(1, 2, 8000, 16).data16(None, &ramp(64)).0;
    let mut x: u32 = 0xdead_beef;
    for round in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..(1 + round % 6) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = (x as usize) % bytes.len();
            bytes[i] = (x >> 24) as u8;
        }
        bytes.truncate((x as usize >> 8) % (bytes.len() + 1));
        if let Ok(mut r) = WavReader::new(Cursor::new(bytes)) {
            let _ = read_all(&mut r);
        }
    }
}
