//! What SDP negotiation needs to know about each codec, and the way from its rtpmap to a coder.

use std::fmt;

use super::{g711, g722, l16, opus, Decoder, Encoder};
use crate::codec::CodecError;

/// The codec families the switch speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// G.711 µ-law (RFC 3551 PCMU).
    Pcmu,
    /// G.711 A-law (RFC 3551 PCMA).
    Pcma,
    /// G.722 at 64 kbit/s.
    G722,
    /// Big-endian 16-bit linear PCM (RFC 3551 L16), mono.
    L16,
    /// Opus (RFC 7587).
    Opus,
}

/// One codec as SDP names it, with the PCM rate its frames have. Only the values listed as
/// associated constants exist, so every `CodecDesc` can build a coder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodecDesc {
    kind: CodecKind,
    sample_rate: u32,
}

impl CodecDesc {
    /// PCMU/8000, static payload type 0.
    pub const PCMU: CodecDesc = CodecDesc::new(CodecKind::Pcmu, 8000);
    /// PCMA/8000, static payload type 8.
    pub const PCMA: CodecDesc = CodecDesc::new(CodecKind::Pcma, 8000);
    /// G722/8000, static payload type 9: 16 kHz audio on an 8000 Hz RTP clock (RFC 3551 §4.5.2).
    pub const G722: CodecDesc = CodecDesc::new(CodecKind::G722, 16000);
    /// opus/48000/2 (RFC 7587 always says 2 channels), decoded and encoded here as mono 48 kHz.
    pub const OPUS: CodecDesc = CodecDesc::new(CodecKind::Opus, 48000);
    /// L16/8000, dynamic payload type.
    pub const L16_8K: CodecDesc = CodecDesc::new(CodecKind::L16, 8000);
    /// L16/16000, dynamic payload type.
    pub const L16_16K: CodecDesc = CodecDesc::new(CodecKind::L16, 16000);
    /// L16/48000, dynamic payload type.
    pub const L16_48K: CodecDesc = CodecDesc::new(CodecKind::L16, 48000);

    /// Every codec, in a reasonable default offer order for a call center (wideband first).
    pub const ALL: [CodecDesc; 7] = [
        CodecDesc::OPUS,
        CodecDesc::G722,
        CodecDesc::PCMU,
        CodecDesc::PCMA,
        CodecDesc::L16_8K,
        CodecDesc::L16_16K,
        CodecDesc::L16_48K,
    ];

    const fn new(kind: CodecKind, sample_rate: u32) -> CodecDesc {
        CodecDesc { kind, sample_rate }
    }

    /// The codec family.
    pub fn kind(&self) -> CodecKind {
        self.kind
    }

    /// The encoding name as an SDP rtpmap spells it (`PCMU`, `PCMA`, `G722`, `L16`, `opus`).
    pub fn name(&self) -> &'static str {
        match self.kind {
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
            CodecKind::G722 => "G722",
            CodecKind::L16 => "L16",
            CodecKind::Opus => "opus",
        }
    }

    /// The static RTP payload type from RFC 3551, where there is one (0, 8, 9). L16's static
    /// types 10 and 11 are 44.1 kHz, a rate the switch does not use.
    pub fn static_payload_type(&self) -> Option<u8> {
        match self.kind {
            CodecKind::Pcmu => Some(0),
            CodecKind::Pcma => Some(8),
            CodecKind::G722 => Some(9),
            CodecKind::L16 | CodecKind::Opus => None,
        }
    }

    /// The RTP clock rate of the rtpmap: 8000 for G.722 (RFC 3551's historical error, kept by
    /// everyone), 48000 for Opus whatever its audio bandwidth.
    pub fn clock_rate(&self) -> u32 {
        match self.kind {
            CodecKind::G722 => 8000,
            _ => self.sample_rate,
        }
    }

    /// The rate of the PCM frames this codec's coders take and give.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The channel count of the rtpmap (2 for Opus per RFC 7587, 1 otherwise).
    pub fn channels(&self) -> u8 {
        match self.kind {
            CodecKind::Opus => 2,
            _ => 1,
        }
    }

    /// RTP timestamp ticks that `samples` PCM samples span (half of them for G.722).
    pub fn rtp_ticks(&self, samples: usize) -> u32 {
        let ticks = samples as u64 * u64::from(self.clock_rate()) / u64::from(self.sample_rate);
        ticks as u32
    }

    /// The codec an rtpmap names: `name` compared without regard to case, `channels` 1 when the
    /// rtpmap has none. Opus is accepted with 1 channel too, as some old phones send.
    pub fn lookup(name: &str, clock_rate: u32, channels: u8) -> Option<CodecDesc> {
        CodecDesc::ALL.into_iter().find(|d| {
            d.name().eq_ignore_ascii_case(name)
                && d.clock_rate() == clock_rate
                && (d.channels() == channels || (d.kind == CodecKind::Opus && channels == 1))
        })
    }

    /// The codec a static payload type stands for when no rtpmap says otherwise (0, 8, 9).
    pub fn from_static_payload_type(pt: u8) -> Option<CodecDesc> {
        CodecDesc::ALL
            .into_iter()
            .find(|d| d.static_payload_type() == Some(pt))
    }

    /// A new encoder. `fmtp` is the remote side's `a=fmtp` parameters for this payload type
    /// (empty when there are none); only Opus reads them (see [`opus::OpusConfig`]).
    pub fn encoder(&self, fmtp: &str) -> Result<Box<dyn Encoder>, CodecError> {
        Ok(match self.kind {
            CodecKind::Pcmu => Box::new(g711::PcmuEncoder),
            CodecKind::Pcma => Box::new(g711::PcmaEncoder),
            CodecKind::G722 => Box::new(g722::G722Encoder::new()),
            CodecKind::L16 => Box::new(l16::L16Encoder::new(*self)),
            CodecKind::Opus => {
                Box::new(opus::OpusEncoder::new(&opus::OpusConfig::from_fmtp(fmtp))?)
            }
        })
    }

    /// A new decoder. `fmtp` is as for [`CodecDesc::encoder`]; no decoder needs it yet.
    pub fn decoder(&self, fmtp: &str) -> Result<Box<dyn Decoder>, CodecError> {
        let _ = fmtp;
        Ok(match self.kind {
            CodecKind::Pcmu => Box::new(g711::PcmuDecoder::new()),
            CodecKind::Pcma => Box::new(g711::PcmaDecoder::new()),
            CodecKind::G722 => Box::new(g722::G722Decoder::new()),
            CodecKind::L16 => Box::new(l16::L16Decoder::new(*self)),
            CodecKind::Opus => Box::new(opus::OpusDecoder::new()?),
        })
    }
}

impl fmt::Display for CodecDesc {
    /// The rtpmap form: `PCMU/8000`, `G722/8000`, `opus/48000/2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name(), self.clock_rate())?;
        if self.channels() != 1 {
            write!(f, "/{}", self.channels())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_exact_on_rate() {
        assert_eq!(CodecDesc::lookup("pcmu", 8000, 1), Some(CodecDesc::PCMU));
        assert_eq!(CodecDesc::lookup("PCMA", 8000, 1), Some(CodecDesc::PCMA));
        assert_eq!(CodecDesc::lookup("g722", 8000, 1), Some(CodecDesc::G722));
        assert_eq!(CodecDesc::lookup("G722", 16000, 1), None);
        assert_eq!(CodecDesc::lookup("OPUS", 48000, 2), Some(CodecDesc::OPUS));
        assert_eq!(CodecDesc::lookup("opus", 48000, 1), Some(CodecDesc::OPUS));
        assert_eq!(CodecDesc::lookup("opus", 16000, 2), None);
        assert_eq!(CodecDesc::lookup("l16", 16000, 1), Some(CodecDesc::L16_16K));
        assert_eq!(CodecDesc::lookup("L16", 44100, 1), None);
        assert_eq!(CodecDesc::lookup("L16", 8000, 2), None);
        assert_eq!(CodecDesc::lookup("PCMU", 8000, 2), None);
        assert_eq!(CodecDesc::lookup("G729", 8000, 1), None);
        assert_eq!(CodecDesc::lookup("", 0, 0), None);
    }

    #[test]
    fn static_payload_types() {
        assert_eq!(
            CodecDesc::from_static_payload_type(0),
            Some(CodecDesc::PCMU)
        );
        assert_eq!(
            CodecDesc::from_static_payload_type(8),
            Some(CodecDesc::PCMA)
        );
        assert_eq!(
            CodecDesc::from_static_payload_type(9),
            Some(CodecDesc::G722)
        );
        assert_eq!(CodecDesc::from_static_payload_type(18), None);
        assert_eq!(CodecDesc::from_static_payload_type(111), None);
        assert_eq!(CodecDesc::OPUS.static_payload_type(), None);
    }

    #[test]
    fn rtpmap_text_and_rates() {
        let text: Vec<String> = CodecDesc::ALL.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            text,
            [
                "opus/48000/2",
                "G722/8000",
                "PCMU/8000",
                "PCMA/8000",
                "L16/8000",
                "L16/16000",
                "L16/48000"
            ]
        );
        assert_eq!(CodecDesc::G722.sample_rate(), 16000);
        assert_eq!(CodecDesc::G722.rtp_ticks(320), 160);
        assert_eq!(CodecDesc::OPUS.rtp_ticks(960), 960);
        assert_eq!(CodecDesc::PCMU.rtp_ticks(240), 240);
    }

    #[test]
    fn no_decoder_panics_on_hostile_payloads() {
        use crate::codec::testutil::garbage;
        use crate::frame::Frame;
        let mut pcm = vec![0i16; crate::codec::MAX_PACKET_SAMPLES];
        for d in CodecDesc::ALL {
            let mut dec = d.decoder("").expect("decoder");
            let mut frame = Frame::silence(8000).expect("rate");
            for len in (0..1500)
                .step_by(37)
                .chain([1, 2, 3, 159, 160, 161, 320, 1920, 6000])
            {
                let bytes = garbage(len as u64 * 31 + 7, len);
                let _ = dec.payload_samples(&bytes);
                let _ = dec.decode(&bytes, &mut frame);
                let _ = dec.decode_samples(&bytes, &mut pcm);
                let _ = dec.decode_samples(&bytes, &mut pcm[..7]);
                let _ = dec.decode_fec(&bytes, &mut frame);
                dec.conceal(&mut frame);
                assert_eq!(frame.rate(), d.sample_rate(), "{d}");
            }
        }
    }

    #[test]
    fn every_codec_builds_both_coders() {
        for d in CodecDesc::ALL {
            let enc = d.encoder("").expect("encoder");
            let dec = d.decoder("").expect("decoder");
            assert_eq!(enc.desc(), d);
            assert_eq!(dec.desc(), d);
        }
    }
}
