//! Opus tests: fmtp, round trip, FEC, DTX, PLC and hostile payloads.

use super::*;
use crate::codec::testutil::{aligned_snr_db, delay_in, garbage, rms, snr_db, tone};

fn encoder(fmtp: &str) -> OpusEncoder {
    OpusEncoder::new(&OpusConfig::from_fmtp(fmtp)).expect("encoder")
}

/// Encodes `input` in 20 ms packets.
fn packets(enc: &mut OpusEncoder, input: &[i16]) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 1500];
    input
        .chunks_exact(FRAME)
        .map(|chunk| {
            let n = enc.encode_samples(chunk, &mut buf).expect("encode");
            buf[..n].to_vec()
        })
        .collect()
}

#[test]
fn fmtp_parameters_that_matter() {
    let c = OpusConfig::from_fmtp(
        "minptime=10; useinbandfec=1;usedtx=1 ; maxaveragebitrate=20000;stereo=1;\
         sprop-stereo=1;maxplaybackrate=16000",
    );
    assert!(c.use_inband_fec && c.use_dtx && c.stereo && c.sprop_stereo);
    assert_eq!(c.max_average_bitrate, Some(20000));
    assert_eq!(c.max_playback_rate, 16000);
    assert_eq!(OpusConfig::from_fmtp(&c.to_fmtp()), c, "to_fmtp reads back");

    let d = OpusConfig::default();
    assert_eq!(OpusConfig::from_fmtp(""), d);
    assert!(OpusConfig::from_fmtp("a=fmtp:111 useinbandfec=1").use_inband_fec);
    assert!(OpusConfig::from_fmtp("111 USEINBANDFEC=1").use_inband_fec);
    assert_eq!(OpusConfig::to_fmtp(&d), "");
    // Bad values and out-of-range numbers leave the defaults.
    let bad = OpusConfig::from_fmtp(
        "useinbandfec=yes;usedtx=2;maxaveragebitrate=100;maxplaybackrate=96000;stereo;=;;x=1",
    );
    assert_eq!(bad, d);
    assert_eq!(
        OpusConfig::from_fmtp("maxaveragebitrate=9999999999999").max_average_bitrate,
        None
    );
}

#[test]
fn tone_round_trip_snr_after_the_codec_delay() {
    let input = tone(48000, 1004.0, 10000.0, 48000);
    let mut enc = CodecDesc::OPUS
        .encoder("maxaveragebitrate=32000")
        .expect("encoder");
    let mut dec = CodecDesc::OPUS.decoder("").expect("decoder");
    let mut frame = Frame::silence(48000).expect("rate");
    let mut payload = [0u8; 1500];
    let mut output = Vec::new();
    for chunk in input.chunks(FRAME) {
        let f = Frame::from_samples(48000, chunk).expect("960 samples");
        let n = enc.encode(&f, &mut payload).expect("encode");
        assert!(n > 2 && n <= 200, "{n} bytes");
        dec.decode(&payload[..n], &mut frame).expect("decode");
        output.extend_from_slice(frame.samples());
    }
    let snr = aligned_snr_db(&input, &output, 1200, 9600);
    eprintln!("opus 32 kbit/s: 1 kHz tone SNR {snr:.1} dB");
    assert!(snr > 25.0, "opus SNR {snr:.1} dB");
}

#[test]
fn fec_recovers_a_lost_packet_better_than_plc() {
    // A 440 Hz tone with a slow level change: PLC can only extrapolate, FEC carries it.
    let input: Vec<i16> = tone(48000, 440.0, 8000.0, 48000)
        .iter()
        .enumerate()
        .map(|(i, &s)| (f64::from(s) * (0.3 + 0.7 * (i as f64 / 48000.0))) as i16)
        .collect();
    let mut enc = encoder("useinbandfec=1; maxaveragebitrate=24000");
    let stream = packets(&mut enc, &input);
    let lost = 30;
    let run = |use_fec: bool| -> Vec<i16> {
        let mut dec = OpusDecoder::new().expect("decoder");
        let mut frame = Frame::silence(48000).expect("rate");
        let mut out = Vec::new();
        for (i, p) in stream.iter().enumerate() {
            if i == lost {
                if use_fec {
                    dec.decode_fec(&stream[i + 1], &mut frame).expect("fec");
                } else {
                    dec.conceal(&mut frame);
                }
            } else {
                dec.decode(p, &mut frame).expect("decode");
            }
            out.extend_from_slice(frame.samples());
        }
        out
    };
    let clean = run(true);
    let plain = run(false);
    // The decoded audio lags by about the encoder's look-ahead (6.5 ms); find the exact lag
    // within less than one period of the tone.
    let lookahead = enc.lookahead() as usize;
    let delay = delay_in(
        &input[9600..],
        &clean[9600..],
        lookahead - 40..=lookahead + 40,
    );
    let at = lost * FRAME;
    let window = |out: &[i16]| snr_db(&input[at - delay..at - delay + FRAME], &out[at..at + FRAME]);
    let (fec, plc) = (window(&clean), window(&plain));
    eprintln!("opus lost frame: FEC {fec:.1} dB, PLC {plc:.1} dB");
    assert!(fec > plc + 10.0, "FEC {fec:.1} dB, PLC {plc:.1} dB");
    assert!(fec > 15.0, "FEC {fec:.1} dB");
}

#[test]
fn dtx_silence_is_silence_not_an_error() {
    let mut enc = encoder("usedtx=1");
    let silence = vec![0i16; FRAME * 50];
    let stream = packets(&mut enc, &silence);
    assert!(
        stream.iter().any(|p| p.len() <= 2),
        "DTX packets: {:?}",
        stream.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut frame = Frame::silence(48000).expect("rate");
    for p in &stream {
        dec.decode(p, &mut frame).expect("decode");
    }
    assert!(dec.in_dtx());
    frame.samples_mut().fill(1);
    dec.conceal(&mut frame);
    assert_eq!(frame.rms(), 0.0);
    // Empty, a 20 ms SILK TOC alone, a 10 ms CELT TOC and a padding byte, and junk.
    for p in [&[][..], &[0x78][..], &[0xe0, 0x00][..], &[0xff, 0xff][..]] {
        frame.samples_mut().fill(1);
        dec.decode(p, &mut frame).expect("DTX payload");
        assert_eq!(frame.rms(), 0.0);
    }
}

#[test]
fn plc_continues_the_signal_then_decays() {
    let input = tone(48000, 300.0, 8000.0, FRAME * 20);
    let mut enc = encoder("");
    let stream = packets(&mut enc, &input);
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut frame = Frame::silence(48000).expect("rate");
    for p in &stream {
        dec.decode(p, &mut frame).expect("decode");
    }
    dec.conceal(&mut frame);
    let first = frame.rms();
    assert!(first > 1000.0, "PLC level {first}");
    for _ in 0..20 {
        dec.conceal(&mut frame);
    }
    assert!(frame.rms() < first / 4.0, "PLC fades: {}", frame.rms());
}

#[test]
fn other_ptimes_decode_into_samples() {
    let input = tone(48000, 1000.0, 8000.0, 2880);
    let mut enc = encoder("");
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut payload = [0u8; 1500];
    let mut pcm = vec![0i16; crate::codec::MAX_PACKET_SAMPLES];
    for size in [480, 1920, 2880] {
        let n = enc
            .encode_samples(&input[..size], &mut payload)
            .expect("encode");
        assert_eq!(dec.payload_samples(&payload[..n]), Ok(size));
        assert_eq!(dec.decode_samples(&payload[..n], &mut pcm), Ok(size));
        let mut frame = Frame::silence(48000).expect("rate");
        assert!(matches!(
            dec.decode(&payload[..n], &mut frame),
            Err(CodecError::NotOneFrame { .. })
        ));
    }
    assert!(matches!(
        enc.encode_samples(&input[..1000], &mut payload),
        Err(CodecError::BadFrameSize { .. })
    ));
    assert!(matches!(
        enc.encode_samples(&input[..960], &mut payload[..2]),
        Err(CodecError::BufferTooSmall { .. })
    ));
}

#[test]
fn garbage_payloads_never_panic() {
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut frame = Frame::silence(48000).expect("rate");
    let mut pcm = vec![0i16; crate::codec::MAX_PACKET_SAMPLES];
    let mut decoded = 0;
    for seed in 0..300u64 {
        let len = (seed as usize * 7) % 400;
        let bytes = garbage(seed, len);
        if dec.decode(&bytes, &mut frame).is_ok() {
            decoded += 1;
        }
        let _ = dec.decode_samples(&bytes, &mut pcm);
        let _ = dec.decode_samples(&bytes, &mut pcm[..10]);
        let _ = dec.decode_fec(&bytes, &mut frame);
        dec.conceal(&mut frame);
    }
    // Some random bytes are valid Opus; the rest must have been errors, not panics.
    assert!(decoded < 300);
    let _ = rms(frame.samples());
}
