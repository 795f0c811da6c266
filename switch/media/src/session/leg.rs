//! One side of a media session once its codec is known: the receive path (jitter buffer,
//! decoder, DTMF) and the send path (encoder, RTP numbering, DTMF out).

use std::time::Instant;

use crate::codec::{CodecDesc, Decoder, Encoder, Reframer};
use crate::dtmf::{Digit, DtmfDetector, DtmfEvent, DtmfGenerator, EventReceiver, EventSender};
use crate::frame::{samples_per_frame, Frame};
use crate::jitter::{JitterBuffer, JitterConfig, JitterStats, Pop, RtpMeta};
use crate::resample::Resampler;
use crate::rtp::RtpHeader;

use super::player::Player;
use super::{SessionError, Tap};

/// The most bytes of RTP the session writes for one packet.
pub const MAX_RTP: usize = 1400;

/// How DTMF is sent to a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DtmfOut {
    /// RFC 4733 telephone-events (needs [`LegCodec::telephone_event`]).
    #[default]
    Rfc4733,
    /// Dual tones in the audio.
    Inband,
    /// Not by media: the signalling sends SIP INFO.
    Signalling,
}

/// What a leg's SDP negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegCodec {
    /// The voice codec.
    pub desc: CodecDesc,
    /// Its payload type on this leg.
    pub pt: u8,
    /// Its fmtp (empty for none), e.g. Opus' `useinbandfec=1`.
    pub fmtp: String,
    /// Telephone-event payload type and clock rate, when negotiated.
    pub telephone_event: Option<(u8, u32)>,
    /// Packet time we send, ms (multiples of 10; Opus always sends 20).
    pub ptime_ms: u32,
    /// How digits go to this leg.
    pub dtmf_out: DtmfOut,
    /// Look for DTMF tones in what this leg sends (legs without telephone-event).
    pub detect_inband: bool,
    /// Opus: libopus encoder complexity 0-10 (CPU against quality).
    pub opus_complexity: u8,
}

impl LegCodec {
    /// A leg speaking `desc` under `pt`, 20 ms, telephone-event at `te` if given.
    pub fn new(desc: CodecDesc, pt: u8, te: Option<u8>) -> LegCodec {
        LegCodec {
            desc,
            pt,
            fmtp: String::new(),
            telephone_event: te.map(|t| (t, desc.clock_rate())),
            ptime_ms: 20,
            dtmf_out: if te.is_some() {
                DtmfOut::Rfc4733
            } else {
                DtmfOut::Inband
            },
            detect_inband: te.is_none(),
            opus_complexity: 5,
        }
    }

    /// The PCM rate of the leg's frames.
    pub fn rate(&self) -> u32 {
        self.desc.sample_rate()
    }

    /// Whether packets of `self` can go to a leg speaking `other` unchanged (but for the
    /// payload type number).
    pub(crate) fn same_audio(&self, other: &LegCodec) -> bool {
        self.desc == other.desc && (self.ptime_ms == other.ptime_ms || self.desc.name() == "opus")
    }
}

/// A leg's two frames of the current tick.
pub(crate) struct Frames {
    /// What the leg sent.
    pub(crate) read: Frame,
    /// What it hears.
    pub(crate) write: Frame,
}

/// The receive path of a leg whose audio the session needs as frames.
pub(crate) struct Rx {
    jitter: JitterBuffer,
    decoder: Box<dyn Decoder>,
    reframer: Reframer,
    concealed: Frame,
    detector: Option<DtmfDetector>,
}

/// Everything of a leg that depends on its codec.
pub(crate) struct Leg {
    pub(crate) codec: LegCodec,
    pub(crate) rx: Option<Box<Rx>>,
    tx: Tx,
    pub(crate) events_in: Option<EventReceiver>,
    pub(crate) player: Option<Player>,
    pub(crate) taps: Vec<(u64, Box<dyn Tap>)>,
    /// Audio added to what the leg hears (a supervisor whispering), with the resampler
    /// from the stream's rate to the leg's.
    pub(crate) mix_in: Option<(super::AudioStream, Option<Resampler>)>,
    /// What the leg sent in the last tick (decoded, valid when `read_ok`) and what it hears
    /// in this tick; made on first use, so a relayed leg carries none.
    pub(crate) frames: Option<Box<Frames>>,
    pub(crate) read_ok: bool,
    /// Resamples the peer's frames to this leg's rate.
    pub(crate) resampler: Option<Resampler>,
    pub(crate) wrong_pt: u64,
    pub(crate) decode_errors: u64,
    pub(crate) jitter_stats: Option<JitterStats>,
    jitter_bounds: (u32, u32),
}

struct Tx {
    encoder: Option<Box<dyn Encoder>>,
    /// The highest audio rate worth encoding: the rate of what the leg hears (an Opus
    /// encoder fed 8 kHz audio need not spend bits above 4 kHz).
    audio_cap: Option<u32>,
    reframer: Option<Reframer>,
    ssrc: u32,
    seq: u16,
    ts: u32,
    marker: bool,
    events: Option<EventSender>,
    inband: Option<DtmfGenerator>,
    chunk: Vec<i16>,
}

/// An RTP packet the leg wants sent: `len` bytes at the start of the caller's buffer.
pub(crate) struct Written {
    pub(crate) len: usize,
}

impl Leg {
    pub(crate) fn new(codec: LegCodec, ssrc: u32, jitter_bounds: (u32, u32)) -> Leg {
        let events_in = codec
            .telephone_event
            .and_then(|(_, clock)| EventReceiver::new(clock).ok());
        Leg {
            tx: Tx {
                encoder: None,
                audio_cap: None,
                reframer: None,
                ssrc,
                seq: (ssrc >> 16) as u16,
                ts: ssrc.rotate_left(7),
                marker: true,
                events: None,
                inband: None,
                chunk: Vec::new(),
            },
            codec,
            rx: None,
            events_in,
            player: None,
            taps: Vec::new(),
            mix_in: None,
            frames: None,
            read_ok: false,
            resampler: None,
            wrong_pt: 0,
            decode_errors: 0,
            jitter_stats: None,
            jitter_bounds,
        }
    }

    /// The leg's frames, made at its rate on first use.
    pub(crate) fn frames(&mut self) -> &mut Frames {
        frames_in(&mut self.frames, self.codec.rate())
    }

    /// Starts the receive path (jitter buffer and decoder) if it is not running.
    pub(crate) fn ensure_rx(&mut self) -> Result<(), SessionError> {
        if self.rx.is_some() {
            return Ok(());
        }
        let desc = self.codec.desc;
        let ptime = if desc.name() == "opus" {
            20
        } else {
            self.codec.ptime_ms.max(10)
        };
        let spp = desc.clock_rate() / 1000 * ptime;
        let mut cfg = JitterConfig::new(desc.clock_rate(), spp);
        // Slots sized for the codec (a G.711 packet is 160 bytes, not 1500), with room for
        // a longer ptime than announced; Opus packets are at most 1275 bytes.
        cfg.max_payload = match desc.name() {
            "opus" => 1275,
            "L16" => (desc.sample_rate() / 1000 * 2 * ptime) as usize * 2,
            _ => (desc.sample_rate() / 1000 * ptime) as usize * 3,
        }
        .clamp(160, 1500);
        cfg.min_delay_ms = self.jitter_bounds.0;
        cfg.max_delay_ms = self.jitter_bounds.1;
        let jitter = JitterBuffer::new(cfg).map_err(|e| SessionError::Setup(e.to_string()))?;
        let decoder = desc
            .decoder(&self.codec.fmtp)
            .map_err(|e| SessionError::Setup(e.to_string()))?;
        let reframer =
            Reframer::new(desc.sample_rate()).ok_or(SessionError::Rate(desc.sample_rate()))?;
        let detector = if self.codec.detect_inband {
            DtmfDetector::new(desc.sample_rate()).ok()
        } else {
            None
        };
        self.rx = Some(Box::new(Rx {
            jitter,
            decoder,
            reframer,
            concealed: Frame::silence(desc.sample_rate()).unwrap_or_default(),
            detector,
        }));
        Ok(())
    }

    /// Stops the receive path (the peer gets packets straight through again).
    pub(crate) fn drop_rx(&mut self) {
        if let Some(rx) = self.rx.take() {
            self.jitter_stats = Some(rx.jitter.stats());
        }
    }

    /// Stores a received audio packet for decoding.
    pub(crate) fn push_audio(&mut self, now: Instant, h: &RtpHeader, packet: &[u8]) {
        if let Some(rx) = self.rx.as_mut() {
            let payload = packet
                .get(h.payload_offset..h.payload_offset + h.payload_len)
                .unwrap_or(&[]);
            rx.jitter.push(now, RtpMeta::from(h), payload);
        }
    }

    /// Decodes the next 20 ms into `read` (sets `read_ok`); in-band digits found go to `dtmf`.
    pub(crate) fn decode_tick(&mut self, now: Instant, dtmf: &mut impl FnMut(DtmfEvent)) {
        self.read_ok = false;
        if self.rx.is_none() {
            return;
        }
        let rate = self.codec.rate();
        self.frames();
        let (Some(rx), Some(frames)) = (self.rx.as_mut(), self.frames.as_mut()) else {
            return;
        };
        let spf = samples_per_frame(rate);
        // Pull packets until 20 ms are ready; a ptime above 20 ms leaves some for later.
        let mut got_any = !rx.reframer.is_empty();
        while rx.reframer.len() < spf {
            match rx.jitter.pop(now) {
                Pop::Packet { payload, .. } => {
                    got_any = true;
                    if rx
                        .reframer
                        .decode_into(rx.decoder.as_mut(), payload)
                        .is_err()
                    {
                        self.decode_errors += 1;
                        rx.decoder.conceal(&mut rx.concealed);
                        let _ = rx.reframer.push_frame(&rx.concealed);
                    }
                }
                Pop::Missing => {
                    got_any = true;
                    rx.decoder.conceal(&mut rx.concealed);
                    let _ = rx.reframer.push_frame(&rx.concealed);
                }
                Pop::Empty => break,
            }
        }
        if got_any && rx.reframer.pop_frame(&mut frames.read) {
            self.read_ok = true;
            if let Some(d) = rx.detector.as_mut() {
                d.handle_frame(&frames.read);
                while let Some(ev) = d.poll_event() {
                    dtmf(ev);
                }
            }
        } else {
            frames.read.clear(rate);
        }
        self.jitter_stats = Some(rx.jitter.stats());
    }

    /// Queues digits for this leg in its DTMF mode. Returns false when the leg's mode is
    /// [`DtmfOut::Signalling`] (the caller sends INFO).
    pub(crate) fn queue_dtmf(
        &mut self,
        digits: &str,
        duration_ms: u32,
    ) -> Result<bool, SessionError> {
        let bad = |e: crate::dtmf::DtmfError| SessionError::Dtmf(e.to_string());
        match (self.codec.dtmf_out, self.codec.telephone_event) {
            (DtmfOut::Signalling, _) => Ok(false),
            (DtmfOut::Rfc4733, Some((_, clock))) => {
                if self.tx.events.is_none() {
                    self.tx.events = Some(EventSender::new(clock).map_err(bad)?);
                }
                if let Some(s) = self.tx.events.as_mut() {
                    s.queue_str(digits, duration_ms).map_err(bad)?;
                }
                Ok(true)
            }
            _ => {
                if self.tx.inband.is_none() {
                    self.tx.inband = Some(DtmfGenerator::new(self.codec.rate()).map_err(bad)?);
                }
                if let Some(g) = self.tx.inband.as_mut() {
                    g.queue_str(digits, duration_ms).map_err(bad)?;
                }
                Ok(true)
            }
        }
    }

    /// One digit, for relaying a digit heard on the other leg.
    pub(crate) fn queue_digit(&mut self, digit: Digit, duration_ms: u32) {
        let mut s = [0u8; 4];
        let _ = self.queue_dtmf(digit.char().encode_utf8(&mut s), duration_ms);
    }

    /// Telephone-events or in-band tones are on their way out.
    pub(crate) fn dtmf_busy(&self) -> bool {
        self.tx.events.as_ref().is_some_and(|s| !s.is_idle())
            || self.tx.inband.as_ref().is_some_and(|g| !g.is_idle())
    }

    /// Tells the leg the rate of the audio it hears (`None`: its own rate), so the encoder
    /// can limit its bandwidth; the encoder is remade when that changes.
    pub(crate) fn set_audio_cap(&mut self, rate: Option<u32>) {
        let cap = rate.filter(|r| *r < self.codec.rate());
        if cap != self.tx.audio_cap {
            self.tx.audio_cap = cap;
            if self.codec.desc.name() == "opus" {
                self.tx.encoder = None;
            }
        }
    }

    /// Advances the send clock by 20 ms without sending: keeps timestamps in step with time.
    pub(crate) fn skip_tick(&mut self) {
        let ticks = self
            .codec
            .desc
            .rtp_ticks(samples_per_frame(self.codec.rate()));
        self.tx.ts = self.tx.ts.wrapping_add(ticks);
        self.tx.marker = true;
    }

    /// Encodes `write` (with any in-band digit mixed in) as this tick's packet into `buf`,
    /// or a telephone-event packet while one is being sent. `None` when nothing is due yet
    /// (a ptime above 20 ms collects more first).
    pub(crate) fn send_tick(&mut self, buf: &mut [u8]) -> Option<Written> {
        let rate = self.codec.rate();
        let spf = samples_per_frame(rate);
        let ticks = self.codec.desc.rtp_ticks(spf);
        if let Some(g) = self.tx.inband.as_mut() {
            g.fill(&mut frames_in(&mut self.frames, rate).write);
        }
        // A telephone-event takes the place of audio while it lasts.
        if let (Some(sender), Some((te_pt, te_clock))) =
            (self.tx.events.as_mut(), self.codec.telephone_event)
        {
            let te_ts = scale_ts(self.tx.ts, self.codec.desc.clock_rate(), te_clock);
            if let Some(p) = sender.tick(te_ts) {
                let ts = scale_ts(p.timestamp, te_clock, self.codec.desc.clock_rate());
                let written = write_rtp(
                    buf,
                    te_pt,
                    p.marker,
                    self.tx.seq,
                    ts,
                    self.tx.ssrc,
                    &p.payload(),
                );
                self.tx.seq = self.tx.seq.wrapping_add(1);
                self.tx.ts = self.tx.ts.wrapping_add(ticks);
                return written;
            }
        }
        let ptime = if self.codec.desc.name() == "opus" {
            20
        } else {
            self.codec.ptime_ms.clamp(10, 60)
        };
        if self.tx.encoder.is_none() {
            match self.make_encoder() {
                Ok(e) => self.tx.encoder = Some(e),
                Err(_) => return None,
            }
        }
        let frames = frames_in(&mut self.frames, rate);
        let mut payload = [0u8; MAX_RTP - 12];
        let len = if ptime == 20 {
            let enc = self.tx.encoder.as_mut()?;
            enc.encode(&frames.write, &mut payload).ok()?
        } else {
            let reframer = self.tx.reframer.get_or_insert_with(|| {
                Reframer::new(rate).unwrap_or_else(|| unreachable!("leg rates are frame rates"))
            });
            let _ = reframer.push_frame(&frames.write);
            let want = (rate / 1000 * ptime) as usize;
            self.tx.chunk.resize(want, 0);
            if !reframer.pop_into(&mut self.tx.chunk) {
                self.tx.ts = self.tx.ts.wrapping_add(ticks);
                return None;
            }
            let enc = self.tx.encoder.as_mut()?;
            enc.encode_samples(&self.tx.chunk, &mut payload).ok()?
        };
        let packet_ticks = self.codec.desc.rtp_ticks((rate / 1000 * ptime) as usize);
        // The timestamp of a packet is that of its first sample.
        let first_ts = self.tx.ts.wrapping_add(ticks).wrapping_sub(packet_ticks);
        let written = write_rtp(
            buf,
            self.codec.pt,
            self.tx.marker,
            self.tx.seq,
            first_ts,
            self.tx.ssrc,
            &payload[..len],
        );
        self.tx.marker = false;
        self.tx.seq = self.tx.seq.wrapping_add(1);
        self.tx.ts = self.tx.ts.wrapping_add(ticks);
        written
    }
}

/// The frames in `slot`, made at `rate` when there are none yet.
pub(crate) fn frames_in(slot: &mut Option<Box<Frames>>, rate: u32) -> &mut Frames {
    slot.get_or_insert_with(|| {
        Box::new(Frames {
            read: Frame::silence(rate).unwrap_or_default(),
            write: Frame::silence(rate).unwrap_or_default(),
        })
    })
}

impl Leg {
    fn make_encoder(&self) -> Result<Box<dyn Encoder>, crate::codec::CodecError> {
        if self.codec.desc.name() != "opus" {
            return self.codec.desc.encoder(&self.codec.fmtp);
        }
        let mut cfg = crate::codec::opus::OpusConfig::from_fmtp(&self.codec.fmtp);
        cfg.complexity = self.codec.opus_complexity.min(10);
        if let Some(cap) = self.tx.audio_cap {
            cfg.max_playback_rate = cfg.max_playback_rate.min(cap);
        }
        Ok(Box::new(crate::codec::opus::OpusEncoder::new(&cfg)?))
    }
}

fn scale_ts(ts: u32, from: u32, to: u32) -> u32 {
    if from == to || from == 0 {
        ts
    } else {
        (u64::from(ts) * u64::from(to) / u64::from(from)) as u32
    }
}

/// Writes a 12-byte RTP header and `payload` into `buf`.
fn write_rtp(
    buf: &mut [u8],
    pt: u8,
    marker: bool,
    seq: u16,
    ts: u32,
    ssrc: u32,
    payload: &[u8],
) -> Option<Written> {
    let len = 12 + payload.len();
    let out = buf.get_mut(..len)?;
    out[0] = 0x80;
    out[1] = (pt & 0x7f) | if marker { 0x80 } else { 0 };
    out[2..4].copy_from_slice(&seq.to_be_bytes());
    out[4..8].copy_from_slice(&ts.to_be_bytes());
    out[8..12].copy_from_slice(&ssrc.to_be_bytes());
    out[12..].copy_from_slice(payload);
    Some(Written { len })
}
