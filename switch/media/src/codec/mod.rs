//! Audio codecs: payload bytes to [`Frame`]s and back.
//!
//! What it does: G.711 µ-law and A-law ([`g711`]), G.722 64 kbit/s SB-ADPCM ([`g722`]),
//! 16-bit linear L16 at 8, 16 and 48 kHz ([`l16`]), all written here, and Opus through libopus
//! ([`opus`]: in-band FEC, DTX, PLC and the SDP `fmtp` parameters that matter). [`CodecDesc`]
//! names each one the way SDP does (`PCMU/8000`, `G722/8000`, `opus/48000/2`) and builds its
//! [`Encoder`] and [`Decoder`]. Payloads of any ptime decode into samples, and a [`Reframer`]
//! cuts any run of samples into 20 ms frames and back. A lost packet is concealed: Opus runs its
//! own PLC (or FEC from the next packet); the others repeat the last 20 ms with a fade that
//! reaches silence on the fourth lost frame.
//!
//! What it does not do: RTP (the caller strips headers and keeps timestamps), jitter buffering,
//! resampling (see [`crate::resample`]), stereo (Opus is decoded and encoded mono, which RFC 7587
//! allows whatever `stereo=` says), G.722 at 56 or 48 kbit/s, and I/O of any kind.
//!
//! Drive loop, receiving: for each RTP payload call [`Decoder::decode`] when it is 20 ms, or
//! [`Reframer::decode_into`] then [`Reframer::pop_frame`] for other ptimes; for a missing packet
//! call [`Decoder::decode_fec`] when the next one is already there, else [`Decoder::conceal`].
//! Sending: [`Encoder::encode`] each frame, or [`Reframer::push_frame`] then
//! [`Reframer::pop_into`] a ptime's worth and [`Encoder::encode_samples`].
//!
//! Measured (2 shared cores under a load of about 2, release build, speech from `sounds/`,
//! `cargo run --release -p switch-media --example codec_bench`), per 20 ms frame:
//!
//! | codec                      | encode µs | decode µs | bytes | speech SNR | 1004 Hz tone SNR |
//! |----------------------------|----------:|----------:|------:|-----------:|-----------------:|
//! | PCMU                       |      0.29 |      0.08 |   160 |    37.3 dB |          37.2 dB |
//! | PCMA                       |      0.33 |      0.08 |   160 |    37.5 dB |          37.3 dB |
//! | G.722                      |      11.4 |       8.7 |   160 |    22.5 dB |          47.5 dB |
//! | L16 (8 / 16 / 48 kHz)      | 0.02-0.10 | 0.03-0.13 | 320-1920 |  exact |            exact |
//! | opus, complexity 5 (ours)  |       172 |        40 |   118 |    11.0 dB | 41.4 dB (32 kbit/s) |
//! | opus, c5, FEC, 24 kbit/s   |       185 |        23 |    56 |     9.2 dB |                  |
//! | opus, complexity 10        |       302 |        39 |   121 |    11.1 dB |                  |
//! | opus, complexity 0         |        79 |        35 |   114 |    10.7 dB |                  |
//!
//! SNRs are after aligning for each codec's delay (G.722 22 samples, Opus ~310 samples at
//! 48 kHz); Opus is perceptual, so its waveform SNR on speech says little. A lost Opus frame
//! rebuilt by FEC came back at 25.8 dB against 4.6 dB for PLC (see the opus tests). The G.722
//! coder agrees bit for bit with FFmpeg's, both ways, on the committed fixtures.
//!
//! Transcoding one call, both directions, with resampling where the rates differ ([`Resampler`]
//! default filter):
//!
//! | path           | µs per 20 ms | µs CPU per second of call | % of one core | calls per core |
//! |----------------|-------------:|--------------------------:|--------------:|---------------:|
//! | PCMU <-> PCMA  |          0.8 |                        39 |         0.004 |         25 800 |
//! | PCMU <-> G.722 |           25 |                     1 258 |          0.13 |            795 |
//! | PCMU <-> opus  |          223 |                    11 166 |          1.12 |             90 |
//! | G.722 <-> opus |          243 |                    12 164 |          1.22 |             82 |
//!
//! Opus' encoder is nearly all of it: complexity 5 (our default) costs about half of 10.
//!
//! [`Resampler`]: crate::resample::Resampler
//! [`Frame`]: crate::frame::Frame

mod conceal;
mod desc;
pub mod g711;
pub mod g722;
pub mod l16;
pub mod opus;
mod reframe;
#[cfg(test)]
pub(crate) mod testutil;

pub use desc::{CodecDesc, CodecKind};
pub use reframe::Reframer;

use crate::frame::{samples_per_frame, Frame};

/// The most samples one payload may decode to: 120 ms at 48 kHz, Opus' longest packet.
pub const MAX_PACKET_SAMPLES: usize = 5760;

/// What went wrong encoding or decoding, sorted by fault: the peer's payload first, then misuse
/// by the caller, then failures of libopus itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The payload cannot be this codec's (an odd length for L16, an unparsable Opus packet).
    #[error("{codec} payload of {len} bytes is malformed: {why}")]
    BadPayload {
        /// The codec's SDP name.
        codec: &'static str,
        /// Payload length in bytes.
        len: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// [`Decoder::decode`] was given a payload that is not 20 ms long; use
    /// [`Decoder::decode_samples`] (or a [`Reframer`]) for other ptimes.
    #[error("{codec} payload holds {samples} samples, a 20 ms frame needs {expected}")]
    NotOneFrame {
        /// The codec's SDP name.
        codec: &'static str,
        /// Samples the payload holds.
        samples: usize,
        /// Samples in 20 ms.
        expected: usize,
    },
    /// The frame handed to an encoder is at another rate than the codec's.
    #[error("{codec} encodes {expected} Hz audio, the frame is at {rate} Hz")]
    WrongRate {
        /// The codec's SDP name.
        codec: &'static str,
        /// The frame's rate.
        rate: u32,
        /// The codec's PCM rate.
        expected: u32,
    },
    /// The output buffer is too small for what is to be written into it.
    #[error("{codec} needs an output buffer of {needed}, it has {available}")]
    BufferTooSmall {
        /// The codec's SDP name.
        codec: &'static str,
        /// Bytes or samples needed.
        needed: usize,
        /// Bytes or samples available.
        available: usize,
    },
    /// This many samples cannot make one packet of this codec (Opus takes 2.5 to 60 ms).
    #[error("{codec} cannot encode {samples} samples as one packet")]
    BadFrameSize {
        /// The codec's SDP name.
        codec: &'static str,
        /// Samples offered.
        samples: usize,
    },
    /// A [`Reframer`] has no room for this many more samples: they were not taken out in time.
    #[error("reframer has room for {free} samples, {needed} were offered")]
    ReframerFull {
        /// Samples offered.
        needed: usize,
        /// Samples of room left.
        free: usize,
    },
    /// libopus refused: creating a coder, setting it up, or a packet it could not decode.
    #[error("opus {op}: {source}")]
    Opus {
        /// What was being done.
        op: &'static str,
        /// libopus' answer.
        source: audiopus::Error,
    },
}

/// Turns linear audio into payloads of one codec. Keeps the codec's state between calls, so one
/// encoder serves one stream.
pub trait Encoder: Send {
    /// The codec this encoder produces.
    fn desc(&self) -> CodecDesc;

    /// Encodes `samples` at [`CodecDesc::sample_rate`] into `out` as one payload and returns its
    /// length. Any count works for G.711, G.722 (pairs; a last odd sample is dropped) and L16;
    /// Opus takes 2.5, 5, 10, 20, 40 or 60 ms.
    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError>;

    /// Encodes one 20 ms frame into `out` and returns the payload length.
    fn encode(&mut self, frame: &Frame, out: &mut [u8]) -> Result<usize, CodecError> {
        let desc = self.desc();
        if frame.rate() != desc.sample_rate() {
            return Err(CodecError::WrongRate {
                codec: desc.name(),
                rate: frame.rate(),
                expected: desc.sample_rate(),
            });
        }
        self.encode_samples(frame.samples(), out)
    }
}

/// Turns payloads of one codec into linear audio and hides lost ones. Keeps state between calls,
/// so one decoder serves one stream.
pub trait Decoder: Send {
    /// The codec this decoder reads.
    fn desc(&self) -> CodecDesc;

    /// How many samples (at [`CodecDesc::sample_rate`]) `payload` decodes to.
    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError>;

    /// Decodes a payload of any ptime into the start of `out` and returns the sample count.
    /// `out` must hold [`Decoder::payload_samples`] samples ([`MAX_PACKET_SAMPLES`] always do).
    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError>;

    /// Decodes a 20 ms payload into `out`, which takes the codec's rate.
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        let desc = self.desc();
        let expected = samples_per_frame(desc.sample_rate());
        let samples = self.payload_samples(payload)?;
        if samples != expected {
            return Err(CodecError::NotOneFrame {
                codec: desc.name(),
                samples,
                expected,
            });
        }
        out.clear(desc.sample_rate());
        self.decode_samples(payload, out.samples_mut()).map(|_| ())
    }

    /// Fills `out` with 20 ms standing in for a lost packet: Opus' PLC, or for the other codecs
    /// the last 20 ms heard, fading out over consecutive losses.
    fn conceal(&mut self, out: &mut Frame);

    /// Recovers a lost 20 ms packet from `next`, the packet after it, where the codec can (Opus
    /// with in-band FEC); otherwise the same as [`Decoder::conceal`]. Decode `next` itself
    /// afterwards as usual.
    fn decode_fec(&mut self, next: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        let _ = next;
        self.conceal(out);
        Ok(())
    }
}

/// Fails with [`CodecError::BufferTooSmall`] unless `available >= needed`.
fn ensure_room(codec: &'static str, needed: usize, available: usize) -> Result<(), CodecError> {
    if available < needed {
        return Err(CodecError::BufferTooSmall {
            codec,
            needed,
            available,
        });
    }
    Ok(())
}
