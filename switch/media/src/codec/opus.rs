//! Opus (RFC 6716, RTP payload RFC 7587) through libopus: 48 kHz mono, with in-band FEC, DTX
//! and libopus' own loss concealment, set up from the SDP `fmtp` parameters that matter.
//!
//! The rtpmap always says `opus/48000/2`; the decoder here downmixes stereo packets and the
//! encoder sends mono, which RFC 7587 §7.3 allows whatever `stereo=` asks for.
//!
//! DTX: a payload of 2 bytes or less (libopus' "nothing to send" packet) or an empty one
//! decodes to silence, and so does a loss while the peer is in DTX; no error either way.
//! FEC: when a packet is lost and the next one is there, [`Decoder::decode_fec`] rebuilds the
//! lost 20 ms from the redundancy in the next one (libopus falls back to PLC if it has none).

use audiopus::coder::{Decoder as LibDecoder, Encoder as LibEncoder};
use audiopus::{Application, Bandwidth, Bitrate, Channels, SampleRate, Signal};

use super::{ensure_room, CodecDesc, CodecError, Decoder, Encoder};
use crate::frame::Frame;

/// The Opus parameters of an `a=fmtp` line (RFC 7587 §6.1), plus local encoder settings.
///
/// The fmtp parameters describe what the side that sent them wants to *receive*: build the
/// encoder for a peer from the peer's fmtp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusConfig {
    /// `useinbandfec=1`: the receiver can use in-band FEC, so the encoder adds it.
    pub use_inband_fec: bool,
    /// `usedtx=1`: the receiver prefers DTX, so the encoder stops sending in silence.
    pub use_dtx: bool,
    /// `maxaveragebitrate`: the encoder's bit rate cap, 6000-510000 bit/s.
    pub max_average_bitrate: Option<u32>,
    /// `stereo=1`: the receiver prefers stereo (this encoder sends mono regardless).
    pub stereo: bool,
    /// `sprop-stereo=1`: the sender may send stereo (the decoder downmixes).
    pub sprop_stereo: bool,
    /// `maxplaybackrate`: the highest audio rate the receiver will play, 8000-48000 Hz; the
    /// encoder limits its bandwidth to it.
    pub max_playback_rate: u32,
    /// Local: libopus complexity 0-10 (not an fmtp parameter).
    pub complexity: u8,
    /// Local: the loss rate, in percent, the FEC is sized for (not an fmtp parameter).
    pub expected_loss_percent: u8,
}

impl Default for OpusConfig {
    /// RFC 7587's defaults (no FEC, no DTX, mono, 48 kHz), complexity 5 and 10 % expected loss.
    fn default() -> Self {
        OpusConfig {
            use_inband_fec: false,
            use_dtx: false,
            max_average_bitrate: None,
            stereo: false,
            sprop_stereo: false,
            max_playback_rate: 48000,
            complexity: 5,
            expected_loss_percent: 10,
        }
    }
}

impl OpusConfig {
    /// Reads the parameters of an fmtp value such as `minptime=10; useinbandfec=1`. A leading
    /// `a=fmtp:111 ` is skipped; unknown parameters, bad values and out-of-range numbers are
    /// ignored (the default stays), as RFC 7587 wants of a receiver.
    pub fn from_fmtp(fmtp: &str) -> OpusConfig {
        let mut config = OpusConfig::default();
        let mut params = fmtp.trim();
        params = params.strip_prefix("a=fmtp:").unwrap_or(params);
        if let Some((pt, rest)) = params.split_once(' ') {
            if !pt.is_empty() && pt.bytes().all(|b| b.is_ascii_digit()) {
                params = rest;
            }
        }
        for param in params.split(';') {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let value = value.trim();
            let flag = match value {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            };
            let number = value.parse::<u32>().ok();
            if key.eq_ignore_ascii_case("useinbandfec") {
                config.use_inband_fec = flag.unwrap_or(config.use_inband_fec);
            } else if key.eq_ignore_ascii_case("usedtx") {
                config.use_dtx = flag.unwrap_or(config.use_dtx);
            } else if key.eq_ignore_ascii_case("stereo") {
                config.stereo = flag.unwrap_or(config.stereo);
            } else if key.eq_ignore_ascii_case("sprop-stereo") {
                config.sprop_stereo = flag.unwrap_or(config.sprop_stereo);
            } else if key.eq_ignore_ascii_case("maxaveragebitrate") {
                if let Some(n) = number.filter(|n| (6000..=510_000).contains(n)) {
                    config.max_average_bitrate = Some(n);
                }
            } else if key.eq_ignore_ascii_case("maxplaybackrate") {
                if let Some(n) = number.filter(|n| (8000..=48000).contains(n)) {
                    config.max_playback_rate = n;
                }
            }
        }
        config
    }

    /// The fmtp value announcing these wishes (only the parameters that differ from the
    /// defaults, `;`-separated), for an offer or answer.
    pub fn to_fmtp(&self) -> String {
        let mut parts = Vec::new();
        if self.max_playback_rate != 48000 {
            parts.push(format!("maxplaybackrate={}", self.max_playback_rate));
        }
        if self.sprop_stereo {
            parts.push("sprop-stereo=1".to_string());
        }
        if self.stereo {
            parts.push("stereo=1".to_string());
        }
        if let Some(rate) = self.max_average_bitrate {
            parts.push(format!("maxaveragebitrate={rate}"));
        }
        if self.use_inband_fec {
            parts.push("useinbandfec=1".to_string());
        }
        if self.use_dtx {
            parts.push("usedtx=1".to_string());
        }
        parts.join(";")
    }
}

/// An Opus encoder, 48 kHz mono, VoIP mode.
pub struct OpusEncoder {
    inner: LibEncoder,
}

/// An Opus decoder, 48 kHz mono, that knows whether its peer is in DTX.
pub struct OpusDecoder {
    inner: LibDecoder,
    in_dtx: bool,
}

/// libopus' DTX switch, which audiopus 0.2 has no method for.
const OPUS_SET_DTX_REQUEST: i32 = 4016;

fn opus_err(op: &'static str) -> impl Fn(audiopus::Error) -> CodecError {
    move |source| CodecError::Opus { op, source }
}

impl OpusEncoder {
    /// An encoder configured by `config`.
    pub fn new(config: &OpusConfig) -> Result<OpusEncoder, CodecError> {
        let mut inner = LibEncoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)
            .map_err(opus_err("create encoder"))?;
        inner
            .set_complexity(config.complexity.min(10))
            .map_err(opus_err("set complexity"))?;
        inner
            .set_signal(Signal::Voice)
            .map_err(opus_err("set signal"))?;
        if let Some(rate) = config.max_average_bitrate {
            inner
                .set_bitrate(Bitrate::BitsPerSecond(rate as i32))
                .map_err(opus_err("set bitrate"))?;
        }
        let bandwidth = match config.max_playback_rate {
            0..=8000 => Bandwidth::Narrowband,
            8001..=12000 => Bandwidth::Mediumband,
            12001..=16000 => Bandwidth::Wideband,
            16001..=24000 => Bandwidth::Superwideband,
            _ => Bandwidth::Fullband,
        };
        inner
            .set_max_bandwidth(bandwidth)
            .map_err(opus_err("set bandwidth"))?;
        if config.use_inband_fec {
            inner.set_inband_fec(true).map_err(opus_err("set FEC"))?;
            inner
                .set_packet_loss_perc(config.expected_loss_percent.min(100))
                .map_err(opus_err("set loss"))?;
        }
        if config.use_dtx {
            inner
                .set_encoder_ctl_request(OPUS_SET_DTX_REQUEST, 1)
                .map_err(opus_err("set DTX"))?;
        }
        Ok(OpusEncoder { inner })
    }

    /// The encoder's look-ahead in samples at 48 kHz: how much later its audio comes out.
    pub fn lookahead(&self) -> u32 {
        self.inner.lookahead().unwrap_or(0)
    }
}

impl OpusDecoder {
    /// A decoder in its initial state.
    pub fn new() -> Result<OpusDecoder, CodecError> {
        let inner = LibDecoder::new(SampleRate::Hz48000, Channels::Mono)
            .map_err(opus_err("create decoder"))?;
        Ok(OpusDecoder {
            inner,
            in_dtx: false,
        })
    }

    /// Whether the last payload was a DTX one (so a gap now is silence, not loss).
    pub fn in_dtx(&self) -> bool {
        self.in_dtx
    }
}

/// Samples in 20 ms at 48 kHz.
const FRAME: usize = 960;
/// Packet durations Opus can encode, in samples at 48 kHz (2.5 to 60 ms).
const FRAME_SIZES: [usize; 6] = [120, 240, 480, 960, 1920, 2880];

impl Encoder for OpusEncoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::OPUS
    }

    /// Encodes 2.5-60 ms; a result of 2 bytes or less is a DTX packet that need not be sent.
    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if !FRAME_SIZES.contains(&samples.len()) {
            return Err(CodecError::BadFrameSize {
                codec: "opus",
                samples: samples.len(),
            });
        }
        ensure_room("opus", 3, out.len())?;
        self.inner.encode(samples, out).map_err(opus_err("encode"))
    }
}

impl Decoder for OpusDecoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::OPUS
    }

    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Ok(FRAME);
        }
        match audiopus::packet::nb_samples(payload, SampleRate::Hz48000) {
            Ok(n) if n > 0 => Ok(n),
            Ok(_) | Err(_) if payload.len() <= 2 => Ok(FRAME),
            Ok(_) => Err(CodecError::BadPayload {
                codec: "opus",
                len: payload.len(),
                why: "packet holds no audio",
            }),
            Err(_) => Err(CodecError::BadPayload {
                codec: "opus",
                len: payload.len(),
                why: "unparsable table of contents",
            }),
        }
    }

    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let n = self.payload_samples(payload)?;
        ensure_room("opus", n, out.len())?;
        if payload.len() <= 2 {
            self.in_dtx = true;
            out[..n].fill(0);
            return Ok(n);
        }
        self.in_dtx = false;
        self.inner
            .decode(Some(payload), &mut out[..n], false)
            .map_err(opus_err("decode"))
    }

    /// Decodes a 20 ms packet; a DTX payload (2 bytes or less) of any duration gives 20 ms of
    /// silence.
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        if payload.len() <= 2 {
            self.in_dtx = true;
            out.clear(48000);
            return Ok(());
        }
        let samples = self.payload_samples(payload)?;
        if samples != FRAME {
            return Err(CodecError::NotOneFrame {
                codec: "opus",
                samples,
                expected: FRAME,
            });
        }
        out.clear(48000);
        self.decode_samples(payload, out.samples_mut()).map(|_| ())
    }

    fn conceal(&mut self, out: &mut Frame) {
        out.clear(48000);
        if self.in_dtx {
            return;
        }
        let no_packet: Option<&[u8]> = None;
        if self
            .inner
            .decode(no_packet, out.samples_mut(), false)
            .is_err()
        {
            out.clear(48000);
        }
    }

    /// Rebuilds the lost 20 ms before `next` from `next`'s FEC data; `next` itself must then
    /// be decoded as usual. On error `out` holds the PLC output.
    fn decode_fec(&mut self, next: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        if next.len() <= 2 {
            self.conceal(out);
            return Ok(());
        }
        out.clear(48000);
        match self.inner.decode(Some(next), out.samples_mut(), true) {
            Ok(_) => Ok(()),
            Err(source) => {
                self.conceal(out);
                Err(CodecError::Opus {
                    op: "decode FEC",
                    source,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
