//! Cutting a run of samples into 20 ms frames, and frames into packets of another ptime.

use super::{CodecError, Decoder, MAX_PACKET_SAMPLES};
use crate::frame::{samples_per_frame, Frame, MAX_SAMPLES, RATES};

/// A first-in first-out queue of mono samples at one rate, sized once for the longest packet
/// plus two frames, so it never allocates after [`Reframer::new`].
///
/// Receiving 30 ms packets: [`Reframer::decode_into`] each payload, then [`Reframer::pop_frame`]
/// while it returns `true`. Sending 30 ms packets: [`Reframer::push_frame`] each frame, then
/// [`Reframer::pop_into`] a 240-sample (at 8 kHz) buffer while it returns `true` and encode it.
#[derive(Debug, Clone)]
pub struct Reframer {
    rate: u32,
    buf: Vec<i16>,
    start: usize,
    end: usize,
}

impl Reframer {
    /// Samples a reframer holds at most.
    pub const CAPACITY: usize = MAX_PACKET_SAMPLES + 2 * MAX_SAMPLES;

    /// An empty reframer for audio at `rate`; `None` unless `rate` is one of the frame rates.
    pub fn new(rate: u32) -> Option<Reframer> {
        if !RATES.contains(&rate) {
            return None;
        }
        Some(Reframer {
            rate,
            buf: vec![0; Reframer::CAPACITY],
            start: 0,
            end: 0,
        })
    }

    /// The sample rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Samples waiting.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no samples are waiting.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops every waiting sample (after a stream change, say).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Appends `samples`, all or none.
    pub fn push(&mut self, samples: &[i16]) -> Result<(), CodecError> {
        let spare = self.spare(samples.len())?;
        spare[..samples.len()].copy_from_slice(samples);
        self.end += samples.len();
        Ok(())
    }

    /// Appends a frame, which must be at this reframer's rate.
    pub fn push_frame(&mut self, frame: &Frame) -> Result<(), CodecError> {
        if frame.rate() != self.rate {
            return Err(CodecError::WrongRate {
                codec: "reframer",
                rate: frame.rate(),
                expected: self.rate,
            });
        }
        self.push(frame.samples())
    }

    /// Decodes `payload` with `decoder` straight into the queue and returns the sample count.
    pub fn decode_into(
        &mut self,
        decoder: &mut dyn Decoder,
        payload: &[u8],
    ) -> Result<usize, CodecError> {
        let desc = decoder.desc();
        if desc.sample_rate() != self.rate {
            return Err(CodecError::WrongRate {
                codec: desc.name(),
                rate: self.rate,
                expected: desc.sample_rate(),
            });
        }
        let needed = decoder.payload_samples(payload)?;
        let spare = self.spare(needed)?;
        let n = decoder.decode_samples(payload, spare)?;
        self.end += n;
        Ok(n)
    }

    /// Takes the oldest 20 ms into `out` (which takes this rate) if that much is waiting.
    pub fn pop_frame(&mut self, out: &mut Frame) -> bool {
        let n = samples_per_frame(self.rate);
        if self.len() < n {
            return false;
        }
        out.clear(self.rate);
        out.samples_mut()
            .copy_from_slice(&self.buf[self.start..self.start + n]);
        self.consume(n);
        true
    }

    /// Fills all of `out` with the oldest samples if that many are waiting.
    pub fn pop_into(&mut self, out: &mut [i16]) -> bool {
        if self.len() < out.len() {
            return false;
        }
        out.copy_from_slice(&self.buf[self.start..self.start + out.len()]);
        self.consume(out.len());
        true
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.clear();
        }
    }

    /// Room for `n` more samples at the end, moving the waiting ones to the front if needed.
    fn spare(&mut self, n: usize) -> Result<&mut [i16], CodecError> {
        if self.end + n > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let free = self.buf.len() - self.end;
        if n > free {
            return Err(CodecError::ReframerFull { needed: n, free });
        }
        Ok(&mut self.buf[self.end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::CodecDesc;

    #[test]
    fn thirty_ms_packets_become_twenty_ms_frames() {
        let mut enc = CodecDesc::PCMU.encoder("").expect("encoder");
        let mut dec = CodecDesc::PCMU.decoder("").expect("decoder");
        let mut r = Reframer::new(8000).expect("rate");
        let mut frame = Frame::silence(8000).expect("rate");
        let mut frames = 0;
        let mut payload = [0u8; 240];
        let pcm: Vec<i16> = (0..240).map(|i| (i * 100) as i16).collect();
        for _ in 0..4 {
            let n = enc.encode_samples(&pcm, &mut payload).expect("encode");
            assert_eq!(r.decode_into(dec.as_mut(), &payload[..n]), Ok(240));
            while r.pop_frame(&mut frame) {
                frames += 1;
            }
        }
        // 4 x 30 ms = 120 ms = 6 frames, nothing left over.
        assert_eq!(frames, 6);
        assert!(r.is_empty());
    }

    #[test]
    fn frames_become_packets_of_any_ptime() {
        let mut r = Reframer::new(16000).expect("rate");
        let mut seq = 0i16;
        let mut packet = [0i16; 640]; // 40 ms at 16 kHz
        let mut got = Vec::new();
        for _ in 0..10 {
            let mut f = Frame::silence(16000).expect("rate");
            for s in f.samples_mut() {
                *s = seq;
                seq = seq.wrapping_add(1);
            }
            r.push_frame(&f).expect("room");
            while r.pop_into(&mut packet) {
                got.extend_from_slice(&packet);
            }
        }
        assert_eq!(got.len(), 5 * 640);
        assert!(got.iter().enumerate().all(|(i, &s)| s == i as i16));
    }

    #[test]
    fn refuses_what_does_not_fit_and_wrong_rates() {
        let mut r = Reframer::new(8000).expect("rate");
        assert!(Reframer::new(44100).is_none());
        assert_eq!(r.push(&vec![1; Reframer::CAPACITY]), Ok(()));
        assert_eq!(
            r.push(&[1]),
            Err(CodecError::ReframerFull { needed: 1, free: 0 })
        );
        let mut frame = Frame::silence(8000).expect("rate");
        assert!(r.pop_frame(&mut frame));
        assert_eq!(r.push(&[2; 160]), Ok(()), "space is reclaimed");
        let wide = Frame::silence(16000).expect("rate");
        assert!(matches!(
            r.push_frame(&wide),
            Err(CodecError::WrongRate { .. })
        ));
        let mut g722 = CodecDesc::G722.decoder("").expect("decoder");
        assert!(matches!(
            r.decode_into(g722.as_mut(), &[0; 160]),
            Err(CodecError::WrongRate { .. })
        ));
    }
}
