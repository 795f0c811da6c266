use std::f64::consts::PI;
use std::sync::{Arc, Mutex};

use super::*;
use crate::codec::{CodecDesc, Encoder};
use crate::dtmf::{DtmfDetector, EventSender};
use crate::rtcp::RtcpPacket;
use crate::rtp::classify;

const A: &str = "192.0.2.10:4000";
const B: &str = "192.0.2.20:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// A bridged session with both sides at their SDP addresses, no latching.
fn session(a: Option<LegCodec>, b: Option<LegCodec>, t0: Instant) -> MediaSession {
    let cfg = SessionConfig {
        latch: LatchMode::Never,
        ..SessionConfig::default()
    };
    let mut s = MediaSession::new(cfg, 0x1234_5678);
    for (side, at) in [(Side::A, A), (Side::B, B)] {
        s.attach(side, t0);
        s.set_remote(side, addr(at), false);
    }
    s.set_codec(Side::A, a).expect("codec A");
    s.set_codec(Side::B, b).expect("codec B");
    s.set_mode(RelayMode::Bridge, t0);
    s
}

/// A source of RTP packets carrying a sine at `hz`, 20 ms each.
struct ToneSource {
    enc: Box<dyn Encoder>,
    desc: CodecDesc,
    pt: u8,
    seq: u16,
    ts: u32,
    phase: f64,
    hz: f64,
}

impl ToneSource {
    fn new(desc: CodecDesc, pt: u8, hz: f64) -> ToneSource {
        ToneSource {
            enc: desc.encoder("").expect("encoder"),
            desc,
            pt,
            seq: 100,
            ts: 1000,
            phase: 0.0,
            hz,
        }
    }

    fn packet(&mut self) -> Vec<u8> {
        let rate = self.desc.sample_rate();
        let n = samples_per(rate);
        let mut f = Frame::silence(rate).expect("rate");
        for s in f.samples_mut() {
            *s = (8000.0 * (self.phase * 2.0 * PI).sin()) as i16;
            self.phase = (self.phase + self.hz / f64::from(rate)).fract();
        }
        let mut payload = [0u8; 1200];
        let len = self.enc.encode(&f, &mut payload).expect("encode");
        let mut p = vec![0x80, self.pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        p[2..4].copy_from_slice(&self.seq.to_be_bytes());
        p[4..8].copy_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&payload[..len]);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(self.desc.rtp_ticks(n));
        p
    }
}

fn samples_per(rate: u32) -> usize {
    crate::frame::samples_per_frame(rate)
}

/// Feeds `n` 20 ms packets from `src` into `side` and ticks after each; returns every packet
/// the session sent to the other side (forwarded or made).
fn run(
    s: &mut MediaSession,
    side: Side,
    src: &mut ToneSource,
    n: usize,
    t0: Instant,
) -> Vec<(Side, Vec<u8>)> {
    let from = if side == Side::A { addr(A) } else { addr(B) };
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    for i in 0..n {
        let now = t0 + Duration::from_millis(20 * i as u64);
        let mut p = src.packet();
        if let Some(f) = s.handle_datagram(now, side, Component::Rtp, from, &mut p) {
            s.record_forwarded(&f, Ok(p.len()));
            out.push((f.side, p.clone()));
        }
        if s.needs_ticks() {
            s.handle_tick(now);
        }
        while let Some(o) = s.poll_transmit(&mut buf) {
            out.push((o.side, buf[..o.len].to_vec()));
        }
    }
    out
}

/// Decodes the packets of payload type `pt` sent to `side` and returns the samples.
fn decode(out: &[(Side, Vec<u8>)], side: Side, desc: CodecDesc, pt: u8) -> Vec<i16> {
    let mut dec = desc.decoder("").expect("decoder");
    let mut samples = Vec::new();
    let mut f = Frame::silence(desc.sample_rate()).expect("rate");
    for (s, p) in out.iter().filter(|(s, _)| *s == side) {
        let _ = s;
        let Ok(Packet::Rtp(h)) = classify(p) else {
            continue;
        };
        if h.payload_type != pt {
            continue;
        }
        let payload = &p[h.payload_offset..h.payload_offset + h.payload_len];
        if dec.decode(payload, &mut f).is_ok() {
            samples.extend_from_slice(f.samples());
        }
    }
    samples
}

/// Share of the signal's power at `hz` (Goertzel over the whole run).
fn tone_share(samples: &[i16], rate: u32, hz: f64) -> f64 {
    let w = 2.0 * PI * hz / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0;
    for &x in samples {
        let x = f64::from(x);
        energy += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if energy == 0.0 {
        0.0
    } else {
        2.0 * power / (energy * samples.len() as f64)
    }
}

#[test]
fn same_codec_is_relayed_packet_for_packet_with_the_far_payload_type() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(96))),
        t0,
    );
    assert!(!s.needs_ticks(), "a plain bridge needs no clock");
    let mut src = ToneSource::new(CodecDesc::PCMU, 0, 1000.0);
    let out = run(&mut s, Side::A, &mut src, 10, t0);
    assert_eq!(out.len(), 10);
    assert!(out
        .iter()
        .all(|(side, p)| *side == Side::B && p[1] & 0x7f == 0));
    // The SSRC is the caller's: nothing was re-encoded.
    assert!(out.iter().all(|(_, p)| p[8..12] == [0, 0, 0, 7]));
    assert_eq!(s.stats(Side::B).relay.packets_out, 10);
}

#[test]
fn pcmu_to_pcma_is_transcoded_and_keeps_the_tone() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMU, 0, None)),
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        t0,
    );
    assert!(s.needs_ticks());
    let mut src = ToneSource::new(CodecDesc::PCMU, 0, 1000.0);
    let out = run(&mut s, Side::A, &mut src, 50, t0);
    let pcma = decode(&out, Side::B, CodecDesc::PCMA, 8);
    assert!(pcma.len() >= 40 * 160, "{} samples", pcma.len());
    let share = tone_share(&pcma[160 * 10..], 8000, 1000.0);
    assert!(share > 0.9, "1 kHz share {share}");
    assert_eq!(decode(&out, Side::B, CodecDesc::PCMU, 0).len(), 0);
}

#[test]
fn opus_to_pcmu_resamples_and_keeps_the_tone() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::OPUS, 111, Some(101))),
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        t0,
    );
    let mut src = ToneSource::new(CodecDesc::OPUS, 111, 1000.0);
    let out = run(&mut s, Side::A, &mut src, 60, t0);
    let pcmu = decode(&out, Side::B, CodecDesc::PCMU, 0);
    assert!(pcmu.len() >= 45 * 160, "{} samples", pcmu.len());
    let share = tone_share(&pcmu[160 * 15..], 8000, 1000.0);
    assert!(share > 0.8, "1 kHz share {share}");
}

#[test]
fn playback_replaces_what_a_side_hears_then_reports_done() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        t0,
    );
    let tone: Vec<i16> = (0..8000)
        .map(|i| (6000.0 * (2.0 * PI * 440.0 * f64::from(i) / 8000.0).sin()) as i16)
        .collect();
    let sound = Sound {
        samples: tone.into(),
        rate: 8000,
    };
    s.play(Side::A, Play::once(7, vec![PlayItem::Sound(sound)]))
        .expect("play");
    // B speaks 1 kHz; A must hear the 440 Hz prompt, not B.
    let mut src = ToneSource::new(CodecDesc::PCMA, 8, 1000.0);
    let out = run(&mut s, Side::B, &mut src, 60, t0);
    let heard = decode(&out, Side::A, CodecDesc::PCMA, 8);
    let during = &heard[..160 * 45];
    assert!(tone_share(during, 8000, 440.0) > 0.9);
    assert!(tone_share(during, 8000, 1000.0) < 0.05);
    let done: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        done.iter().any(|e| matches!(
            e,
            SessionEvent::PlayDone { side: Side::A, id: 7, end: PlayEnd::Finished, played_ms }
                if *played_ms == 1000
        )),
        "{done:?}"
    );
    // Afterwards B's packets go straight through again.
    let after = run(&mut s, Side::B, &mut src, 5, t0 + Duration::from_secs(2));
    assert!(
        after.iter().all(|(_, p)| p[8..12] == [0, 0, 0, 7]),
        "relayed again"
    );
}

fn te_packet(seq: u16, ts: u32, marker: bool, payload: [u8; 4]) -> Vec<u8> {
    let mut p = vec![
        0x80,
        101 | if marker { 0x80 } else { 0 },
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        9,
    ];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&payload);
    p
}

/// Sends digit `c` as RFC 4733 from A; returns what went to B.
fn send_digit(s: &mut MediaSession, c: char, t0: Instant) -> Vec<(Side, Vec<u8>)> {
    let mut sender = EventSender::new(8000).expect("sender");
    sender.queue_str(&c.to_string(), 100).expect("queue");
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    let mut seq = 500;
    for i in 0..30u64 {
        let now = t0 + Duration::from_millis(20 * i);
        if let Some(ev) = sender.tick(8000 + 160 * i as u32) {
            let mut p = te_packet(seq, ev.timestamp, ev.marker, ev.payload());
            seq += 1;
            if let Some(f) = s.handle_datagram(now, Side::A, Component::Rtp, addr(A), &mut p) {
                out.push((f.side, p.clone()));
            }
        }
        if s.needs_ticks() {
            s.handle_tick(now);
        }
        while let Some(o) = s.poll_transmit(&mut buf) {
            out.push((o.side, buf[..o.len].to_vec()));
        }
    }
    out
}

#[test]
fn rfc4733_digit_is_reported_once_and_relayed_as_events() {
    let t0 = Instant::now();
    let mut a = LegCodec::new(CodecDesc::PCMU, 0, Some(101));
    a.detect_inband = false;
    let mut s = session(
        Some(a),
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(96))),
        t0,
    );
    let out = send_digit(&mut s, '5', t0);
    let digits: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            SessionEvent::Dtmf { side, digit, .. } => Some((side, digit)),
            _ => None,
        })
        .collect();
    assert_eq!(digits, [(Side::A, '5')]);
    assert!(!out.is_empty());
    assert!(out
        .iter()
        .all(|(side, p)| *side == Side::B && p[1] & 0x7f == 96));
}

#[test]
fn rfc4733_digit_becomes_tones_for_a_side_without_telephone_event() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        Some(LegCodec::new(CodecDesc::PCMU, 0, None)),
        t0,
    );
    let out = send_digit(&mut s, '#', t0);
    let pcm = decode(&out, Side::B, CodecDesc::PCMU, 0);
    let mut det = DtmfDetector::new(8000).expect("detector");
    det.handle_samples(&pcm);
    det.flush();
    let found: Vec<char> = std::iter::from_fn(|| det.poll_event())
        .filter_map(|e| match e {
            crate::dtmf::DtmfEvent::End { digit, .. } => Some(digit.char()),
            _ => None,
        })
        .collect();
    assert_eq!(found, ['#']);
}

#[test]
fn a_digit_in_stop_on_interrupts_playback() {
    let t0 = Instant::now();
    let mut a = LegCodec::new(CodecDesc::PCMU, 0, Some(101));
    a.detect_inband = false;
    let mut s = session(
        Some(a),
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        t0,
    );
    s.set_mode(RelayMode::Idle, t0);
    let mut play = Play::once(
        3,
        vec![PlayItem::Tone(
            crate::tone::ToneSpec::parse("%(1000,0,440)").expect("tone"),
        )],
    );
    play.repeat = None;
    play.stop_on = "0123456789#*".into();
    s.play(Side::A, play).expect("play");
    send_digit(&mut s, '3', t0);
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        events.iter().any(|e| matches!(
            e,
            SessionEvent::PlayDone {
                id: 3,
                end: PlayEnd::Digit('3'),
                ..
            }
        )),
        "{events:?}"
    );
    assert!(!s.is_playing(Side::A));
}

#[derive(Default)]
struct Counts {
    frames: usize,
    read_rms: f64,
    write_rms: f64,
    closed: bool,
}

struct CountTap(Arc<Mutex<Counts>>);

impl Tap for CountTap {
    fn on_frame(&mut self, read: &Frame, write: &Frame) -> bool {
        if let Ok(mut c) = self.0.lock() {
            c.frames += 1;
            c.read_rms = c.read_rms.max(read.rms());
            c.write_rms = c.write_rms.max(write.rms());
        }
        true
    }

    fn close(&mut self) {
        if let Ok(mut c) = self.0.lock() {
            c.closed = true;
        }
    }
}

#[test]
fn tap_sees_both_directions_of_a_relayed_call() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        Some(LegCodec::new(CodecDesc::PCMU, 0, Some(101))),
        t0,
    );
    let counts = Arc::new(Mutex::new(Counts::default()));
    s.add_tap(Side::A, 1, Box::new(CountTap(counts.clone())))
        .expect("tap");
    let (mut from_a, mut from_b) = (
        ToneSource::new(CodecDesc::PCMU, 0, 500.0),
        ToneSource::new(CodecDesc::PCMU, 0, 700.0),
    );
    let mut buf = [0u8; 1500];
    let mut relayed = 0;
    for i in 0..50u64 {
        let now = t0 + Duration::from_millis(20 * i);
        for (side, src, at) in [(Side::A, &mut from_a, A), (Side::B, &mut from_b, B)] {
            let mut p = src.packet();
            if s.handle_datagram(now, side, Component::Rtp, addr(at), &mut p)
                .is_some()
            {
                relayed += 1;
            }
        }
        s.handle_tick(now);
        while s.poll_transmit(&mut buf).is_some() {}
    }
    assert_eq!(relayed, 100, "taps do not stop the packets");
    let c = counts.lock().expect("counts");
    assert_eq!(c.frames, 50);
    assert!(
        c.read_rms > 3000.0 && c.write_rms > 3000.0,
        "{} {}",
        c.read_rms,
        c.write_rms
    );
    drop(c);
    assert!(s.remove_tap(Side::A, 1));
    assert!(counts.lock().expect("counts").closed);
    assert!(!s.needs_ticks());
}

#[test]
fn garbage_and_wrong_payload_types_are_counted_and_dropped() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMU, 0, None)),
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        t0,
    );
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x80],
        vec![0x00; 20],
        // Valid RTP with a 1-byte PCMU payload: decoded, not malformed.
        vec![0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff],
        // A CSRC count running past the end.
        vec![0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
        // Payload type 18 (G.729), not negotiated.
        vec![0x80, 18, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4],
        // An absurd timestamp jump on the right payload type.
        vec![0x80, 0, 0, 2, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0xff, 0xff],
    ];
    for (i, j) in junk.iter_mut().enumerate() {
        let now = t0 + Duration::from_millis(i as u64);
        assert!(s
            .handle_datagram(now, Side::A, Component::Rtp, addr(A), j)
            .is_none());
        s.handle_tick(now);
    }
    let st = s.stats(Side::A);
    assert_eq!(st.relay.malformed, 4);
    assert_eq!(st.wrong_payload_type, 1);
}

#[test]
fn a_terminated_side_gets_sender_reports_and_its_receiver_reports_give_the_round_trip() {
    use crate::rtcp::{build_compound, parse_compound, ReceiverReport, ReportBlock};
    let t0 = Instant::now();
    let mut s = session(Some(LegCodec::new(CodecDesc::PCMU, 0, None)), None, t0);
    s.set_mode(RelayMode::Idle, t0);
    s.set_wall_clock(t0, std::time::SystemTime::now());
    let mut play = Play::once(1, vec![PlayItem::Silence(60_000)]);
    play.repeat = None;
    s.play(Side::A, play).expect("play");
    let mut src = ToneSource::new(CodecDesc::PCMU, 0, 1000.0);
    let mut buf = [0u8; 1500];
    let mut sr = None;
    for i in 0..500u64 {
        let now = t0 + Duration::from_millis(20 * i);
        let mut p = src.packet();
        s.handle_datagram(now, Side::A, Component::Rtp, addr(A), &mut p);
        s.handle_tick(now);
        if s.poll_timeout().is_some_and(|t| t <= now) {
            s.handle_timeout(now);
        }
        while let Some(o) = s.poll_transmit(&mut buf) {
            if o.component == Component::Rtcp {
                assert_eq!(o.to, addr("192.0.2.10:4001"), "RTCP goes to port + 1");
                let pkts = parse_compound(&buf[..o.len]).expect("our RTCP parses");
                if let Some(crate::rtcp::RtcpPacket::SenderReport(r)) = pkts.first() {
                    if sr.is_none() {
                        sr = Some((r.clone(), now));
                    }
                }
            }
        }
    }
    let (report, sent_at) = sr.expect("a sender report within 10 s");
    assert!(report.info.packet_count > 100, "{report:?}");
    assert_eq!(report.reports.len(), 1, "a block about A's stream");
    assert_eq!(report.reports[0].ssrc, crate::rtp::Ssrc(7));
    // A answers 150 ms after our SR, having held it 50 ms: the round trip is 100 ms.
    let block = ReportBlock {
        ssrc: report.ssrc,
        fraction_lost: 0,
        cumulative_lost: 0,
        highest_seq: 0,
        jitter: 80,
        lsr: report.info.ntp.short(),
        dlsr: 65536 / 20,
    };
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: crate::rtp::Ssrc(7),
        reports: vec![block],
    });
    let mut bytes = Vec::new();
    build_compound(&[rr], &mut bytes).expect("build");
    let at = sent_at + Duration::from_millis(150);
    s.handle_datagram(
        at,
        Side::A,
        Component::Rtcp,
        addr("192.0.2.10:4001"),
        &mut bytes,
    );
    let f = s.stats(Side::A).rtcp;
    let rtt = f.rtt_ms.expect("round trip");
    assert!((rtt - 100.0).abs() < 2.0, "{rtt} ms");
    assert_eq!(f.remote_jitter_ms, Some(10.0));
    assert_eq!(f.lost, 0);
    assert!(f.expected >= 490, "{f:?}");
}

#[test]
fn mixed_in_audio_is_heard_on_top_of_the_peer_until_its_stream_closes() {
    let t0 = Instant::now();
    let mut s = session(
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        Some(LegCodec::new(CodecDesc::PCMA, 8, None)),
        t0,
    );
    let stream = AudioStream::new();
    s.mix_in(Side::A, Some(stream.clone())).expect("mix in");
    // B speaks 1 kHz; a whisper of 440 Hz (at 16 kHz, so it is resampled) is added for A.
    let mut src = ToneSource::new(CodecDesc::PCMA, 8, 1000.0);
    let mut phase = 0.0f64;
    let mut out = Vec::new();
    for i in 0..50u64 {
        let whisper: Vec<i16> = (0..320)
            .map(|_| {
                phase += 2.0 * PI * 440.0 / 16000.0;
                (6000.0 * phase.sin()) as i16
            })
            .collect();
        assert!(stream.push(&Frame::from_samples(16000, &whisper).expect("frame")));
        out.extend(run(
            &mut s,
            Side::B,
            &mut src,
            1,
            t0 + Duration::from_millis(20 * i),
        ));
    }
    let heard = decode(&out, Side::A, CodecDesc::PCMA, 8);
    let settled = &heard[160 * 10..];
    assert!(
        tone_share(settled, 8000, 440.0) > 0.3,
        "the whisper is heard"
    );
    assert!(
        tone_share(settled, 8000, 1000.0) > 0.3,
        "and so is the peer"
    );
    // B hears only A (silent here): nothing of the whisper.
    assert!(out.iter().all(|(side, _)| *side == Side::A));
    // Closed and drained, the mix-in goes and B's packets are relayed as they are again.
    stream.close();
    let _ = run(&mut s, Side::B, &mut src, 10, t0 + Duration::from_secs(2));
    let after = run(&mut s, Side::B, &mut src, 5, t0 + Duration::from_secs(3));
    assert!(
        !after.is_empty() && after.iter().all(|(_, p)| p[8..12] == [0, 0, 0, 7]),
        "relayed again"
    );
}
