//! G.722 tests: round trip quality, and bit-exact agreement with an independent implementation.
//!
//! The fixtures in `codec/testdata` were made once with FFmpeg's G.722 coder (not a dependency):
//! `g722_input.s16le` is 0.5 s of a 100-7000 Hz sweep with noise, a clipped burst and a silence;
//! `g722_ffmpeg.g722` is FFmpeg's encoding of it and `g722_ffmpeg_decoded.s16le` FFmpeg's
//! decoding of that; `g722_garbage.g722` is 2000 random bytes (unused codes 0-3 included) and
//! `g722_garbage_decoded.s16le` FFmpeg's decoding of them.

use super::*;
use crate::codec::testutil::{aligned_snr_db, delay_of, garbage, tone};

fn samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn decode_all(bytes: &[u8]) -> Vec<i16> {
    let mut dec = G722Decoder::new();
    bytes.iter().flat_map(|&b| dec.decode_byte(b)).collect()
}

#[test]
fn decoder_matches_an_independent_decoder_bit_for_bit() {
    let stream = include_bytes!("../testdata/g722_ffmpeg.g722");
    let expected = samples(include_bytes!("../testdata/g722_ffmpeg_decoded.s16le"));
    assert_eq!(decode_all(stream), expected);
    let stream = include_bytes!("../testdata/g722_garbage.g722");
    let expected = samples(include_bytes!("../testdata/g722_garbage_decoded.s16le"));
    assert_eq!(decode_all(stream), expected);
}

#[test]
fn encoder_matches_an_independent_encoder_bit_for_bit() {
    let input = samples(include_bytes!("../testdata/g722_input.s16le"));
    let expected = include_bytes!("../testdata/g722_ffmpeg.g722");
    let mut enc = G722Encoder::new();
    let coded: Vec<u8> = input
        .chunks_exact(2)
        .map(|p| enc.encode_pair(p[0], p[1]))
        .collect();
    assert_eq!(coded.len(), expected.len());
    let differing = coded.iter().zip(expected).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "{differing} of {} bytes differ", coded.len());
}

#[test]
fn tone_round_trip_snr_after_the_filter_delay() {
    let input = tone(16000, 1004.0, 10000.0, 16000);
    let mut enc = CodecDesc::G722.encoder("").expect("encoder");
    let mut dec = CodecDesc::G722.decoder("").expect("decoder");
    let mut payload = [0u8; 160];
    let mut frame = Frame::silence(16000).expect("rate");
    let mut output = Vec::new();
    for chunk in input.chunks(320) {
        let f = Frame::from_samples(16000, chunk).expect("320 samples");
        let n = enc.encode(&f, &mut payload).expect("encode");
        assert_eq!(n, 160);
        dec.decode(&payload[..n], &mut frame).expect("decode");
        output.extend_from_slice(frame.samples());
    }
    assert_eq!(delay_of(&input, &output, 64), 22);
    let snr = aligned_snr_db(&input, &output, 64, 1600);
    eprintln!("G.722: 1 kHz tone SNR {snr:.1} dB");
    assert!(snr > 40.0, "G.722 SNR {snr:.1} dB");
}

#[test]
fn speech_band_sweep_survives() {
    let input = samples(include_bytes!("../testdata/g722_input.s16le"));
    let mut enc = G722Encoder::new();
    let mut dec = G722Decoder::new();
    let output: Vec<i16> = input
        .chunks_exact(2)
        .flat_map(|p| dec.decode_byte(enc.encode_pair(p[0], p[1])))
        .collect();
    // The first 0.3 s sweep 100-4200 Hz through the lower band, with noise; the noise and the
    // sweep's upper part are coarsely coded, so the floor is modest.
    let snr = aligned_snr_db(&input[..4800], &output[..4800 + 64], 64, 320);
    eprintln!("G.722: sweep SNR {snr:.1} dB");
    assert!(snr > 20.0, "sweep SNR {snr:.1} dB");
}

#[test]
fn odd_sample_counts_and_garbage_never_panic() {
    let mut enc = G722Encoder::new();
    let mut out = [0u8; 200];
    assert_eq!(enc.encode_samples(&[1, 2, 3], &mut out), Ok(1));
    assert_eq!(enc.encode_samples(&[], &mut out), Ok(0));
    assert!(matches!(
        enc.encode_samples(&[0; 402], &mut out),
        Err(CodecError::BufferTooSmall { .. })
    ));
    let mut dec = G722Decoder::new();
    let mut frame = Frame::silence(16000).expect("rate");
    let mut pcm = [0i16; 2000];
    for len in [0usize, 1, 2, 159, 160, 161, 999] {
        let bytes = garbage(len as u64 + 3, len);
        let _ = dec.decode(&bytes, &mut frame);
        assert_eq!(dec.decode_samples(&bytes, &mut pcm), Ok(2 * len));
    }
    assert_eq!(
        dec.decode_samples(&[0xff; 1001], &mut pcm),
        Err(CodecError::BufferTooSmall {
            codec: "G722",
            needed: 2002,
            available: 2000
        })
    );
    assert!(dec.decode(&garbage(1, 160), &mut frame).is_ok());
    dec.conceal(&mut frame);
}

#[test]
fn step_mantissa_table_is_two_to_the_i_over_32() {
    for (i, &m) in ILB.iter().enumerate() {
        assert_eq!(m, (2048.0 * 2f64.powf(i as f64 / 32.0)).round() as i32);
    }
}
