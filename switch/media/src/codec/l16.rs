//! L16 (RFC 3551 §4.5.11): uncompressed 16-bit signed samples in network byte order, here mono
//! at 8, 16 or 48 kHz. Lossless; a payload must be a whole number of 2-byte samples.

use super::conceal::Concealer;
use super::{ensure_room, CodecDesc, CodecError, Decoder, Encoder};
use crate::frame::Frame;

/// L16 encoder at one rate.
#[derive(Debug, Clone, Copy)]
pub struct L16Encoder {
    desc: CodecDesc,
}

/// L16 decoder at one rate, with fade-out concealment.
pub struct L16Decoder {
    desc: CodecDesc,
    concealer: Concealer,
}

impl L16Encoder {
    /// An encoder for `desc`, one of the `CodecDesc::L16_*` constants.
    pub fn new(desc: CodecDesc) -> L16Encoder {
        L16Encoder { desc }
    }
}

impl L16Decoder {
    /// A decoder for `desc`, one of the `CodecDesc::L16_*` constants.
    pub fn new(desc: CodecDesc) -> L16Decoder {
        L16Decoder {
            desc,
            concealer: Concealer::new(desc.sample_rate()),
        }
    }
}

impl Encoder for L16Encoder {
    fn desc(&self) -> CodecDesc {
        self.desc
    }

    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        let len = samples.len() * 2;
        ensure_room("L16", len, out.len())?;
        for (o, &s) in out.chunks_exact_mut(2).zip(samples) {
            o.copy_from_slice(&s.to_be_bytes());
        }
        Ok(len)
    }
}

impl Decoder for L16Decoder {
    fn desc(&self) -> CodecDesc {
        self.desc
    }

    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError> {
        if payload.len() & 1 == 1 {
            return Err(CodecError::BadPayload {
                codec: "L16",
                len: payload.len(),
                why: "odd length, samples are 2 bytes",
            });
        }
        Ok(payload.len() / 2)
    }

    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let n = self.payload_samples(payload)?;
        ensure_room("L16", n, out.len())?;
        for (o, b) in out.iter_mut().zip(payload.chunks_exact(2)) {
            *o = i16::from_be_bytes([b[0], b[1]]);
        }
        self.concealer.remember(&out[..n]);
        Ok(n)
    }

    fn conceal(&mut self, out: &mut Frame) {
        self.concealer.conceal(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testutil::{garbage, tone};

    #[test]
    fn round_trip_is_exact_at_every_rate() {
        for desc in [CodecDesc::L16_8K, CodecDesc::L16_16K, CodecDesc::L16_48K] {
            let rate = desc.sample_rate();
            let n = crate::frame::samples_per_frame(rate);
            let input = tone(rate, 1000.0, 30000.0, n * 5);
            let mut enc = desc.encoder("").expect("encoder");
            let mut dec = desc.decoder("").expect("decoder");
            let mut payload = [0u8; 1920];
            let mut frame = Frame::silence(rate).expect("rate");
            for chunk in input.chunks(n) {
                let f = Frame::from_samples(rate, chunk).expect("20 ms");
                let len = enc.encode(&f, &mut payload).expect("encode");
                assert_eq!(len, 2 * n);
                dec.decode(&payload[..len], &mut frame).expect("decode");
                assert_eq!(frame.samples(), chunk);
            }
        }
    }

    #[test]
    fn network_byte_order() {
        let mut enc = L16Encoder::new(CodecDesc::L16_8K);
        let mut out = [0u8; 4];
        assert_eq!(enc.encode_samples(&[0x0102, -2], &mut out), Ok(4));
        assert_eq!(out, [0x01, 0x02, 0xff, 0xfe]);
    }

    #[test]
    fn odd_empty_and_garbage_payloads() {
        let mut dec = L16Decoder::new(CodecDesc::L16_16K);
        let mut out = [0i16; 960];
        assert_eq!(dec.decode_samples(&[], &mut out), Ok(0));
        assert!(matches!(
            dec.decode_samples(&[1, 2, 3], &mut out),
            Err(CodecError::BadPayload { .. })
        ));
        let mut frame = Frame::silence(16000).expect("rate");
        for len in [0, 1, 2, 639, 640, 641, 2000] {
            let _ = dec.decode(&garbage(len as u64, len), &mut frame);
        }
        assert!(dec.decode(&garbage(7, 640), &mut frame).is_ok());
    }
}
