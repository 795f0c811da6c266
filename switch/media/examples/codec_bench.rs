//! What the codecs and resamplers cost, and how good the resamplers are.
//!
//! `cargo run --release -p switch-media --example codec_bench` prints, per 20 ms frame, the
//! encode and decode time of each codec, the time and quality of our resampler and of rubato's
//! options, and the CPU a call costs when the switch transcodes it (both directions). Input is
//! the `ivr-after_hours` prompt from `sounds/` (espeak-ng speech) where it exists, else a
//! synthetic vowel. Times are the best of several runs of `std::time::Instant` over many frames;
//! on a shared machine expect ±10 %.

use std::f64::consts::PI;
use std::time::Instant;

use rubato::audioadapter::{Adapter, AdapterMut};
use rubato::{
    Async, Fft, FixedAsync, FixedSync, PolynomialDegree, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};
use switch_media::codec::opus::{OpusConfig, OpusEncoder};
use switch_media::codec::{CodecDesc, Encoder};
use switch_media::frame::{samples_per_frame, Frame};
use switch_media::resample::{FilterDesign, Resampler};

/// Runs of each measurement; the best one is reported.
const RUNS: usize = 7;

fn main() {
    let speech = Speech([8000, 16000, 48000].map(|rate| (rate, speech(rate))));
    println!("input: {}\n", source_name());
    // An optional argument picks one section: codecs, resamplers or calls.
    let only = std::env::args().nth(1);
    let wants = |section: &str| match only.as_deref() {
        Some(o) => o == section,
        None => true,
    };

    if wants("codecs") {
        codecs(&speech);
    }
    if wants("resamplers") {
        resamplers(&speech);
    }
    if wants("calls") {
        calls(&speech);
    }
}

/// The speech input at each rate.
struct Speech([(u32, Vec<i16>); 3]);

impl Speech {
    fn at(&self, rate: u32) -> &[i16] {
        self.0
            .iter()
            .find(|(r, _)| *r == rate)
            .map(|(_, s)| s.as_slice())
            .unwrap_or(&[])
    }
}

fn codecs(speech: &Speech) {
    let signal = |rate| speech.at(rate);
    println!("== codecs: µs per 20 ms frame (speech), payload bytes, speech SNR ==");
    println!(
        "{:<28} {:>8} {:>8} {:>7} {:>9}",
        "codec", "encode", "decode", "bytes", "SNR dB"
    );
    let opus_variants = [
        ("opus c5 (default)", OpusConfig::default()),
        (
            "opus c5 FEC 24k",
            OpusConfig::from_fmtp("useinbandfec=1;maxaveragebitrate=24000"),
        ),
        (
            "opus c10",
            OpusConfig {
                complexity: 10,
                ..OpusConfig::default()
            },
        ),
        (
            "opus c0",
            OpusConfig {
                complexity: 0,
                ..OpusConfig::default()
            },
        ),
    ];
    for desc in CodecDesc::ALL {
        if desc == CodecDesc::OPUS {
            for (name, config) in &opus_variants {
                let enc = Box::new(OpusEncoder::new(config).expect("opus encoder"));
                codec_row(name, desc, enc, signal(desc.sample_rate()));
            }
        } else {
            let enc = desc.encoder("").expect("encoder");
            codec_row(&desc.to_string(), desc, enc, signal(desc.sample_rate()));
        }
    }
}

fn resamplers(speech: &Speech) {
    let signal = |rate| speech.at(rate);
    println!("\n== resamplers: µs per 20 ms frame; 1 kHz SINAD; 16k->8k: 3.5 kHz gain, 4.5 kHz and 6 kHz leak ==");
    println!(
        "{:<34} {:>11} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "resampler", "pair", "µs", "delay", "SINAD dB", "3.5k dB", "4.5k dB", "6k dB"
    );
    let pairs = [
        (8000, 16000),
        (16000, 8000),
        (16000, 48000),
        (48000, 16000),
        (8000, 48000),
        (48000, 8000),
    ];
    let designs = [
        ("ours (default, 24 half-taps)", FilterDesign::default()),
        (
            "ours (16 half-taps, beta 5)",
            FilterDesign {
                half_taps: 16,
                transition: 0.1,
                beta: 5.0,
            },
        ),
        (
            "ours (32 half-taps, beta 7)",
            FilterDesign {
                half_taps: 32,
                transition: 0.0625,
                beta: 7.0,
            },
        ),
    ];
    for (name, design) in &designs {
        for (from, to) in pairs {
            let make = || Ours(Resampler::with_design(from, to, design).expect("design"));
            resampler_row(name, from, to, make, signal(from));
        }
    }
    let rubato_pairs = [(16000, 8000), (8000, 48000), (48000, 8000)];
    for (from, to) in rubato_pairs {
        for (name, kind) in RUBATO_KINDS {
            let make = || Rubato::new(kind, from, to);
            resampler_row(name, from, to, make, signal(from));
        }
    }
}

fn calls(speech: &Speech) {
    let signal = |rate| speech.at(rate);
    println!("\n== transcoding a call (both directions), per call ==");
    println!(
        "{:<18} {:>13} {:>14} {:>12} {:>14}",
        "path", "µs per 20 ms", "µs CPU per s", "% of a core", "calls per core"
    );
    let opus_fmtp = "";
    let paths: [(&str, CodecDesc, CodecDesc); 4] = [
        ("PCMU <-> PCMA", CodecDesc::PCMU, CodecDesc::PCMA),
        ("PCMU <-> G722", CodecDesc::PCMU, CodecDesc::G722),
        ("PCMU <-> opus", CodecDesc::PCMU, CodecDesc::OPUS),
        ("G722 <-> opus", CodecDesc::G722, CodecDesc::OPUS),
    ];
    for (name, a, b) in paths {
        let us = transcode_cost(
            a,
            b,
            opus_fmtp,
            signal(a.sample_rate()),
            signal(b.sample_rate()),
        );
        let per_second = us * 50.0;
        println!(
            "{:<18} {:>13.1} {:>14.0} {:>11.3}% {:>14.0}",
            name,
            us,
            per_second,
            per_second / 1e4,
            1e6 / per_second
        );
    }
}

/// Times `f` over `frames` frames, `RUNS` times; µs per frame of the best run.
fn time_frames(frames: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..RUNS {
        let start = Instant::now();
        for i in 0..frames {
            f(i);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / frames as f64);
    }
    best
}

/// Splits `signal` into frames at `rate`.
fn frames(rate: u32, signal: &[i16]) -> Vec<Frame> {
    signal
        .chunks_exact(samples_per_frame(rate))
        .filter_map(|c| Frame::from_samples(rate, c))
        .collect()
}

fn codec_row(name: &str, desc: CodecDesc, mut enc: Box<dyn Encoder>, signal: &[i16]) {
    let rate = desc.sample_rate();
    let input = frames(rate, signal);
    let mut payloads = vec![Vec::new(); input.len()];
    let mut buf = [0u8; 2000];
    let encode = time_frames(input.len(), |i| {
        let n = enc.encode(&input[i], &mut buf).expect("encode");
        payloads[i].clear();
        payloads[i].extend_from_slice(&buf[..n]);
    });
    let mut dec = desc.decoder("").expect("decoder");
    let mut out = Frame::silence(rate).expect("rate");
    let mut decoded = vec![0i16; signal.len()];
    let n = samples_per_frame(rate);
    let decode = time_frames(input.len(), |i| {
        dec.decode(&payloads[i], &mut out).expect("decode");
        decoded[i * n..(i + 1) * n].copy_from_slice(out.samples());
    });
    let bytes = payloads.iter().map(Vec::len).sum::<usize>() as f64 / payloads.len() as f64;
    let original: Vec<i16> = input.iter().flat_map(|f| f.samples().to_vec()).collect();
    let delay = best_delay(&original, &decoded, rate as usize / 40);
    let snr = snr_db(&original, &decoded[delay..]);
    println!("{name:<28} {encode:>8.2} {decode:>8.2} {bytes:>7.1} {snr:>9.1}");
}

/// One resampler under test, whatever it is built on.
trait Under {
    /// Resamples one 20 ms frame, appending the output.
    fn frame(&mut self, input: &[i16], out: &mut Vec<i16>);
    /// Delay in output samples, as the resampler reports it.
    fn delay(&self) -> usize;
}

struct Ours(Resampler);

impl Under for Ours {
    fn frame(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let f = Frame::from_samples(self.0.from_rate(), input).expect("frame");
        let mut o = Frame::silence(self.0.to_rate()).expect("rate");
        self.0.process(&f, &mut o).expect("process");
        out.extend_from_slice(o.samples());
    }
    fn delay(&self) -> usize {
        self.0.delay()
    }
}

/// rubato's resamplers tried, each fed 20 ms frames (fixed input size).
#[derive(Clone, Copy)]
enum RubatoKind {
    Sinc(usize, SincInterpolationType),
    Poly(PolynomialDegree),
    Fft,
}

const RUBATO_KINDS: [(&str, RubatoKind); 6] = [
    (
        "rubato sinc 256 cubic",
        RubatoKind::Sinc(256, SincInterpolationType::Cubic),
    ),
    (
        "rubato sinc 128 linear",
        RubatoKind::Sinc(128, SincInterpolationType::Linear),
    ),
    (
        "rubato sinc 64 linear",
        RubatoKind::Sinc(64, SincInterpolationType::Linear),
    ),
    (
        "rubato poly septic",
        RubatoKind::Poly(PolynomialDegree::Septic),
    ),
    (
        "rubato poly cubic",
        RubatoKind::Poly(PolynomialDegree::Cubic),
    ),
    ("rubato fft", RubatoKind::Fft),
];

struct Rubato {
    inner: Box<dyn rubato::Resampler<f32>>,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Rubato {
    fn new(kind: RubatoKind, from: u32, to: u32) -> Rubato {
        let chunk = samples_per_frame(from);
        let ratio = f64::from(to) / f64::from(from);
        let inner: Box<dyn rubato::Resampler<f32>> = match kind {
            RubatoKind::Sinc(len, interpolation) => {
                let params = SincInterpolationParameters {
                    sinc_len: len,
                    f_cutoff: rubato::calculate_cutoff(len, WindowFunction::BlackmanHarris2),
                    oversampling_factor: 256,
                    interpolation,
                    window: WindowFunction::BlackmanHarris2,
                };
                Box::new(
                    Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input)
                        .expect("sinc"),
                )
            }
            RubatoKind::Poly(degree) => Box::new(
                Async::<f32>::new_poly(ratio, 1.0, degree, chunk, 1, FixedAsync::Input)
                    .expect("poly"),
            ),
            RubatoKind::Fft => Box::new(
                Fft::<f32>::new(from as usize, to as usize, chunk, 1, 1, FixedSync::Input)
                    .expect("fft"),
            ),
        };
        let max_out = inner.output_frames_max();
        Rubato {
            inner,
            input: vec![0.0; chunk],
            output: vec![0.0; max_out],
        }
    }
}

impl Under for Rubato {
    fn frame(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for (d, &s) in self.input.iter_mut().zip(input) {
            *d = f32::from(s);
        }
        let (_, written) = self
            .inner
            .process_into_buffer(&Mono(&self.input), &mut MonoMut(&mut self.output), None)
            .expect("rubato process");
        out.extend(
            self.output[..written]
                .iter()
                .map(|&x| x.round().clamp(-32768.0, 32767.0) as i16),
        );
    }
    fn delay(&self) -> usize {
        self.inner.output_delay()
    }
}

/// A mono `f32` slice as rubato's input.
struct Mono<'a>(&'a [f32]);
/// A mono `f32` slice as rubato's output.
struct MonoMut<'a>(&'a mut [f32]);

impl<'a> Adapter<'a, f32> for Mono<'a> {
    unsafe fn read_sample_unchecked(&self, _channel: usize, frame: usize) -> f32 {
        self.0[frame]
    }
    fn channels(&self) -> usize {
        1
    }
    fn frames(&self) -> usize {
        self.0.len()
    }
}

impl<'a> Adapter<'a, f32> for MonoMut<'a> {
    unsafe fn read_sample_unchecked(&self, _channel: usize, frame: usize) -> f32 {
        self.0[frame]
    }
    fn channels(&self) -> usize {
        1
    }
    fn frames(&self) -> usize {
        self.0.len()
    }
}

impl<'a> AdapterMut<'a, f32> for MonoMut<'a> {
    unsafe fn write_sample_unchecked(
        &mut self,
        _channel: usize,
        frame: usize,
        value: &f32,
    ) -> bool {
        self.0[frame] = *value;
        false
    }
}

fn resampler_row<R: Under>(name: &str, from: u32, to: u32, make: impl Fn() -> R, speech: &[i16]) {
    let n = samples_per_frame(from);
    let input = if speech.len() >= n * 50 {
        speech.to_vec()
    } else {
        tone(from, 1004.0, 8000.0, from as usize)
    };
    let mut r = make();
    let mut sink = Vec::with_capacity(input.len() * 6 + 1000);
    let frame_count = input.len() / n;
    let us = time_frames(frame_count, |i| {
        if i == 0 {
            sink.clear();
        }
        r.frame(&input[i * n..(i + 1) * n], &mut sink);
    });
    let delay = make().delay();
    let sinad = sinad_db(
        &run_all(make(), from, &tone(from, 1004.0, 10000.0, from as usize)),
        to,
        1004.0,
    );
    let (pass, leak45, leak6) = if (from, to) == (16000, 8000) {
        let gain = |freq: f64| {
            let out = run_all(make(), from, &tone(from, freq, 10000.0, from as usize));
            20.0 * (rms(&out[out.len() / 5..]) / (10000.0 / 2f64.sqrt())).log10()
        };
        (
            format!("{:.2}", gain(3500.0)),
            format!("{:.1}", gain(4500.0)),
            format!("{:.1}", gain(6000.0)),
        )
    } else {
        ("-".into(), "-".into(), "-".into())
    };
    println!(
        "{name:<34} {:>11} {us:>7.2} {delay:>7} {sinad:>9.1} {pass:>9} {leak45:>9} {leak6:>9}",
        format!("{}->{}", from / 1000, to / 1000)
    );
}

/// Resamples all of `input` and returns the output.
fn run_all(mut r: impl Under, from: u32, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    for chunk in input.chunks_exact(samples_per_frame(from)) {
        r.frame(chunk, &mut out);
    }
    out
}

/// Both directions of a transcoded call for one 20 ms frame: a's decode, resample, b's encode,
/// and b's decode, resample, a's encode. µs per 20 ms.
fn transcode_cost(a: CodecDesc, b: CodecDesc, fmtp: &str, sig_a: &[i16], sig_b: &[i16]) -> f64 {
    let (ra, rb) = (a.sample_rate(), b.sample_rate());
    let encode_all = |desc: CodecDesc, sig: &[i16]| -> Vec<Vec<u8>> {
        let mut enc = desc.encoder(fmtp).expect("encoder");
        let mut buf = [0u8; 2000];
        frames(desc.sample_rate(), sig)
            .iter()
            .map(|f| {
                let n = enc.encode(f, &mut buf).expect("encode");
                buf[..n].to_vec()
            })
            .collect()
    };
    let from_a = encode_all(a, sig_a);
    let from_b = encode_all(b, sig_b);
    let count = from_a.len().min(from_b.len());
    let (mut dec_a, mut dec_b) = (a.decoder("").expect("dec"), b.decoder("").expect("dec"));
    let (mut enc_a, mut enc_b) = (a.encoder(fmtp).expect("enc"), b.encoder(fmtp).expect("enc"));
    let mut ab = Resampler::new(ra, rb).expect("resampler");
    let mut ba = Resampler::new(rb, ra).expect("resampler");
    let (mut fa, mut fb) = (
        Frame::silence(ra).expect("rate"),
        Frame::silence(rb).expect("rate"),
    );
    let (mut ga, mut gb) = (fa.clone(), fb.clone());
    let mut out = [0u8; 2000];
    time_frames(count, |i| {
        dec_a.decode(&from_a[i], &mut fa).expect("decode");
        ab.process(&fa, &mut gb).expect("resample");
        enc_b.encode(&gb, &mut out).expect("encode");
        dec_b.decode(&from_b[i], &mut fb).expect("decode");
        ba.process(&fb, &mut ga).expect("resample");
        enc_a.encode(&ga, &mut out).expect("encode");
    })
}

/// Signal to (noise + distortion) of a tone at `freq`: the tone is fitted by least squares over
/// the settled last 80 %, whatever its phase (so the delay does not matter).
fn sinad_db(out: &[i16], rate: u32, freq: f64) -> f64 {
    let x = &out[out.len() / 5..];
    let w = 2.0 * PI * freq / f64::from(rate);
    // Normal equations for a·sin + b·cos + c.
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    for (i, &s) in x.iter().enumerate() {
        let basis = [(w * i as f64).sin(), (w * i as f64).cos(), 1.0];
        for r in 0..3 {
            for c in 0..3 {
                m[r][c] += basis[r] * basis[c];
            }
            v[r] += basis[r] * f64::from(s);
        }
    }
    let coef = solve3(m, v);
    let (mut signal, mut noise) = (0.0, 0.0);
    for (i, &s) in x.iter().enumerate() {
        let fit = coef[0] * (w * i as f64).sin() + coef[1] * (w * i as f64).cos() + coef[2];
        signal += fit * fit;
        noise += (f64::from(s) - fit).powi(2);
    }
    10.0 * (signal / noise.max(1e-9)).log10()
}

fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap_or(col);
        m.swap(col, pivot);
        v.swap(col, pivot);
        for r in 0..3 {
            if r != col && m[col][col] != 0.0 {
                let f = m[r][col] / m[col][col];
                let pivot_row = m[col];
                for (x, p) in m[r].iter_mut().zip(pivot_row) {
                    *x -= f * p;
                }
                v[r] -= f * v[col];
            }
        }
    }
    [0, 1, 2].map(|i| if m[i][i] != 0.0 { v[i] / m[i][i] } else { 0.0 })
}

fn tone(rate: u32, freq: f64, amplitude: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (amplitude * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()).round() as i16)
        .collect()
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let n = reference.len().min(test.len());
    let signal: f64 = reference[..n].iter().map(|&s| f64::from(s).powi(2)).sum();
    let noise: f64 = reference[..n]
        .iter()
        .zip(&test[..n])
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    10.0 * (signal / noise.max(1e-9)).log10()
}

/// The lag in 0..max by which `test` best matches `reference` (cross-correlation).
fn best_delay(reference: &[i16], test: &[i16], max: usize) -> usize {
    let n = reference.len().min(test.len()).saturating_sub(max);
    (0..max)
        .max_by(|&a, &b| {
            let c = |d: usize| -> f64 {
                (0..n)
                    .step_by(3)
                    .map(|i| f64::from(reference[i]) * f64::from(test[i + d]))
                    .sum()
            };
            c(a).total_cmp(&c(b))
        })
        .unwrap_or(0)
}

const PROMPT: &str = "ivr-after_hours.wav";

fn source_name() -> String {
    if speech(8000).is_empty() {
        "synthetic vowel (sounds/ not found)".into()
    } else {
        format!("sounds/en/us/callie/ivr/<rate>/{PROMPT}")
    }
}

/// The speech prompt at `rate`, or a synthetic vowel if the file is not there.
fn speech(rate: u32) -> Vec<i16> {
    let path = format!(
        "{}/../../sounds/en/us/callie/ivr/{rate}/{PROMPT}",
        env!("CARGO_MANIFEST_DIR")
    );
    match std::fs::read(path).ok().and_then(|b| wav_samples(&b)) {
        Some(s) if s.len() >= samples_per_frame(rate) * 100 => s,
        _ => vowel(rate),
    }
}

/// The samples of a 16-bit mono WAV file.
fn wav_samples(bytes: &[u8]) -> Option<Vec<i16>> {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        let body = bytes.get(at + 8..(at + 8 + len).min(bytes.len()))?;
        if id == b"data" {
            return Some(
                body.chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect(),
            );
        }
        at += 8 + len + (len & 1);
    }
    None
}

/// Eight seconds of a vowel-like sound: harmonics of a 140 Hz voice, syllable-rate swell.
fn vowel(rate: u32) -> Vec<i16> {
    let n = rate as usize * 8;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let swell = 0.5 + 0.5 * (2.0 * PI * 4.0 * t).sin();
            let mut v = 0.0;
            for k in 1..25 {
                let f = 140.0 * k as f64;
                if f < f64::from(rate) / 2.0 {
                    v += (2.0 * PI * f * t).sin() / k as f64;
                }
            }
            (3000.0 * swell * v) as i16
        })
        .collect()
}
