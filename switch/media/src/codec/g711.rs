//! G.711 (ITU-T, 1972): µ-law (PCMU) and A-law (PCMA), one byte per 8 kHz sample.
//!
//! Both laws are 8 segments of 16 steps, each segment twice as coarse as the one below. Encoding
//! computes the segment from the magnitude's highest bit; decoding reads a 256-entry table built
//! at compile time. Any payload length is valid: each byte is one sample.

use super::conceal::Concealer;
use super::{ensure_room, CodecDesc, CodecError, Decoder, Encoder};
use crate::frame::Frame;

/// µ-law bias: added to the magnitude so that every segment starts at a power of two.
const ULAW_BIAS: i32 = 0x84;
/// The largest magnitude µ-law encodes; louder samples clip to its top code.
const ULAW_CLIP: i32 = 32635;

/// Encodes one linear sample as a µ-law byte.
pub fn ulaw_encode(sample: i16) -> u8 {
    let x = i32::from(sample);
    let sign: u8 = if x < 0 { 0x80 } else { 0 };
    let magnitude = x.abs().min(ULAW_CLIP) + ULAW_BIAS;
    // magnitude lies in 132..=32767, so its top bit is bit 7 (segment 0) up to bit 14 (7).
    let segment = (31 - magnitude.leading_zeros() - 7) as u8;
    let step = ((magnitude >> (segment + 3)) & 0x0f) as u8;
    !(sign | (segment << 4) | step)
}

/// Decodes one µ-law byte.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TABLE[code as usize]
}

/// Encodes one linear sample as an A-law byte.
pub fn alaw_encode(sample: i16) -> u8 {
    let x = i32::from(sample) >> 3; // A-law works on 13 bits
    let (sign, magnitude) = if x >= 0 { (0x80u8, x) } else { (0, -x - 1) };
    let code = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        // magnitude lies in 32..=4095: segment 1 has its top bit at bit 5, segment 7 at bit 11.
        let segment = (31 - magnitude.leading_zeros() - 4) as u8;
        (segment << 4) | ((magnitude >> segment) & 0x0f) as u8
    };
    (sign | code) ^ 0x55
}

/// Decodes one A-law byte.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[code as usize]
}

/// PCMU encoder: stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct PcmuEncoder;

/// PCMA encoder: stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct PcmaEncoder;

/// PCMU decoder with fade-out concealment.
pub struct PcmuDecoder {
    concealer: Concealer,
}

/// PCMA decoder with fade-out concealment.
pub struct PcmaDecoder {
    concealer: Concealer,
}

impl PcmuDecoder {
    /// A decoder that conceals from silence until it has decoded something.
    pub fn new() -> PcmuDecoder {
        PcmuDecoder {
            concealer: Concealer::new(8000),
        }
    }
}

impl Default for PcmuDecoder {
    fn default() -> Self {
        PcmuDecoder::new()
    }
}

impl PcmaDecoder {
    /// A decoder that conceals from silence until it has decoded something.
    pub fn new() -> PcmaDecoder {
        PcmaDecoder {
            concealer: Concealer::new(8000),
        }
    }
}

impl Default for PcmaDecoder {
    fn default() -> Self {
        PcmaDecoder::new()
    }
}

impl Encoder for PcmuEncoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::PCMU
    }

    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        encode_with(ulaw_encode, "PCMU", samples, out)
    }
}

impl Encoder for PcmaEncoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::PCMA
    }

    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        encode_with(alaw_encode, "PCMA", samples, out)
    }
}

impl Decoder for PcmuDecoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::PCMU
    }

    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError> {
        Ok(payload.len())
    }

    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        decode_with(&ULAW_TABLE, &mut self.concealer, "PCMU", payload, out)
    }

    fn conceal(&mut self, out: &mut Frame) {
        self.concealer.conceal(out);
    }
}

impl Decoder for PcmaDecoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::PCMA
    }

    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError> {
        Ok(payload.len())
    }

    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        decode_with(&ALAW_TABLE, &mut self.concealer, "PCMA", payload, out)
    }

    fn conceal(&mut self, out: &mut Frame) {
        self.concealer.conceal(out);
    }
}

fn encode_with(
    law: fn(i16) -> u8,
    codec: &'static str,
    samples: &[i16],
    out: &mut [u8],
) -> Result<usize, CodecError> {
    ensure_room(codec, samples.len(), out.len())?;
    for (o, &s) in out.iter_mut().zip(samples) {
        *o = law(s);
    }
    Ok(samples.len())
}

fn decode_with(
    table: &[i16; 256],
    concealer: &mut Concealer,
    codec: &'static str,
    payload: &[u8],
    out: &mut [i16],
) -> Result<usize, CodecError> {
    ensure_room(codec, payload.len(), out.len())?;
    for (o, &b) in out.iter_mut().zip(payload) {
        *o = table[b as usize];
    }
    concealer.remember(&out[..payload.len()]);
    Ok(payload.len())
}

static ULAW_TABLE: [i16; 256] = ulaw_table();
static ALAW_TABLE: [i16; 256] = alaw_table();

/// µ-law decoding: undo the inversion, rebuild the biased magnitude at the middle of its step.
const fn ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let code = !(i as u8);
        let segment = ((code >> 4) & 0x07) as i32;
        let step = (code & 0x0f) as i32;
        let magnitude = (((step << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
        table[i] = if code & 0x80 != 0 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        i += 1;
    }
    table
}

/// A-law decoding: undo the even-bit inversion, rebuild the magnitude at the middle of its step
/// (in 16-bit units: the 13-bit value shifted left by 3).
const fn alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let code = (i as u8) ^ 0x55;
        let segment = ((code >> 4) & 0x07) as i32;
        let step = (code & 0x0f) as i32;
        let magnitude = if segment == 0 {
            (step << 4) + 8
        } else {
            ((step << 4) + 0x108) << (segment - 1)
        };
        table[i] = if code & 0x80 != 0 {
            magnitude as i16
        } else {
            -magnitude as i16
        };
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testutil::{snr_db, tone};

    #[test]
    fn known_code_points() {
        assert_eq!(ulaw_encode(0), 0xff);
        assert_eq!(ulaw_decode(0xff), 0);
        assert_eq!(ulaw_decode(0x7f), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(0), 0xd5);
        assert_eq!(alaw_decode(0xd5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xaa), 32256);
        assert_eq!(alaw_decode(0x2a), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xaa);
        assert_eq!(alaw_encode(i16::MIN), 0x2a);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for code in 0..=255u8 {
            if code != 0x7f {
                // 0x7f is µ-law's negative zero; it re-encodes as positive zero 0xff.
                assert_eq!(ulaw_encode(ulaw_decode(code)), code, "µ-law {code:#04x}");
            }
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        let mut last_u = i16::MIN;
        let mut last_a = i16::MIN;
        for x in (i16::MIN..=i16::MAX).step_by(7) {
            let u = ulaw_decode(ulaw_encode(x));
            let a = alaw_decode(alaw_encode(x));
            assert!(u >= last_u && a >= last_a, "at {x}");
            // The error never exceeds half of the coarsest step (1024 µ-law, 1024 A-law).
            assert!((i32::from(u) - i32::from(x)).abs() <= 1024, "µ-law at {x}");
            assert!((i32::from(a) - i32::from(x)).abs() <= 1024, "A-law at {x}");
            last_u = u;
            last_a = a;
        }
    }

    #[test]
    fn tone_round_trip_snr() {
        let input = tone(8000, 1004.0, 10000.0, 8000);
        for desc in [CodecDesc::PCMU, CodecDesc::PCMA] {
            let mut enc = desc.encoder("").expect("encoder");
            let mut dec = desc.decoder("").expect("decoder");
            let mut output = Vec::new();
            let mut payload = [0u8; 160];
            let mut frame = Frame::silence(8000).expect("rate");
            for chunk in input.chunks(160) {
                let f = Frame::from_samples(8000, chunk).expect("160 samples");
                let n = enc.encode(&f, &mut payload).expect("encode");
                assert_eq!(n, 160);
                dec.decode(&payload[..n], &mut frame).expect("decode");
                output.extend_from_slice(frame.samples());
            }
            let snr = snr_db(&input, &output);
            eprintln!("{desc}: 1 kHz tone SNR {snr:.1} dB");
            assert!(snr > 33.0, "{desc} SNR {snr:.1} dB");
        }
    }

    #[test]
    fn any_payload_length_decodes_and_short_buffers_are_refused() {
        let mut dec = PcmuDecoder::new();
        let mut out = [0i16; 400];
        assert_eq!(dec.decode_samples(&[], &mut out), Ok(0));
        assert_eq!(dec.decode_samples(&[0x12; 240], &mut out), Ok(240));
        assert!(matches!(
            dec.decode_samples(&[0; 401], &mut out),
            Err(CodecError::BufferTooSmall { .. })
        ));
        let mut frame = Frame::silence(8000).expect("rate");
        assert!(matches!(
            dec.decode(&[0; 240], &mut frame),
            Err(CodecError::NotOneFrame { .. })
        ));
        let wrong = Frame::silence(16000).expect("rate");
        assert!(matches!(
            PcmaEncoder.encode(&wrong, &mut [0; 320]),
            Err(CodecError::WrongRate { .. })
        ));
        assert!(matches!(
            PcmaEncoder.encode_samples(&[0; 160], &mut [0; 100]),
            Err(CodecError::BufferTooSmall { .. })
        ));
    }
}
