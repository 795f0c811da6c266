//! Behaviour of the in-band detector on generated signals: keys at several levels, lengths,
//! rates and noise; and sounds that must not be keys.

use super::{DetectorConfig, Digit, DtmfDetector, DtmfEvent, DtmfGenerator};
use crate::frame::{samples_per_frame, Frame};
use std::f64::consts::PI;

/// A deterministic noise source (xorshift), roughly Gaussian (sum of four uniforms).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// Unit variance.
    fn gauss(&mut self) -> f64 {
        (self.uniform() + self.uniform() + self.uniform() + self.uniform()) * (3.0f64 / 4.0).sqrt()
    }
}

fn amp(dbfs: f64) -> f64 {
    10f64.powf(dbfs / 20.0)
}

/// A signal being assembled, in full-scale units (1.0 = 32768).
struct Signal {
    rate: u32,
    x: Vec<f64>,
}

impl Signal {
    fn new(rate: u32) -> Signal {
        Signal {
            rate,
            x: Vec::new(),
        }
    }

    fn samples(&self, ms: f64) -> usize {
        (ms * f64::from(self.rate) / 1000.0).round() as usize
    }

    fn silence(mut self, ms: f64) -> Signal {
        let n = self.samples(ms);
        self.x.resize(self.x.len() + n, 0.0);
        self
    }

    /// Sines of (Hz, dBFS) for `ms`.
    fn tones(mut self, ms: f64, tones: &[(f64, f64)]) -> Signal {
        let n = self.samples(ms);
        let r = f64::from(self.rate);
        for i in 0..n {
            let t = i as f64 / r;
            let v: f64 = tones
                .iter()
                .map(|&(f, db)| amp(db) * (2.0 * PI * f * t + f).sin())
                .sum();
            self.x.push(v);
        }
        self
    }

    fn key(self, d: Digit, ms: f64, row_db: f64, col_db: f64) -> Signal {
        let (r, c) = d.frequencies().expect("tone key");
        self.tones(ms, &[(r, row_db), (c, col_db)])
    }

    fn noise(mut self, rms_dbfs: f64, seed: u64) -> Signal {
        let mut n = Noise(seed | 1);
        for v in &mut self.x {
            *v += amp(rms_dbfs) * n.gauss();
        }
        self
    }

    fn pcm(&self) -> Vec<i16> {
        self.x
            .iter()
            .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect()
    }
}

/// Runs the detector over the signal in 20 ms frames (the tail padded with silence) and
/// then 100 ms of silence.
fn detect(rate: u32, pcm: &[i16]) -> Vec<DtmfEvent> {
    detect_with(DtmfDetector::new(rate).expect("rate"), rate, pcm)
}

fn detect_with(mut det: DtmfDetector, rate: u32, pcm: &[i16]) -> Vec<DtmfEvent> {
    let n = samples_per_frame(rate);
    let mut out = Vec::new();
    let mut padded = pcm.to_vec();
    padded.resize(pcm.len().div_ceil(n) * n + 5 * n, 0);
    for chunk in padded.chunks(n) {
        let f = Frame::from_samples(rate, chunk).expect("whole frames");
        det.handle_frame(&f);
        out.extend(std::iter::from_fn(|| det.poll_event()));
    }
    out
}

/// The presses in `events` as (key, duration), checking each Begin is followed by its End.
fn presses(events: &[DtmfEvent]) -> Vec<(Digit, u32)> {
    let mut out = Vec::new();
    let mut open = None;
    for e in events {
        match *e {
            DtmfEvent::Begin { digit } => {
                assert_eq!(open, None, "begin inside a press: {events:?}");
                open = Some(digit);
            }
            DtmfEvent::End { digit, duration_ms } => {
                assert_eq!(open, Some(digit), "end without its begin: {events:?}");
                open = None;
                out.push((digit, duration_ms));
            }
        }
    }
    assert_eq!(open, None, "unfinished press: {events:?}");
    out
}

#[test]
fn every_key_at_every_rate() {
    for rate in [8000, 16_000, 48_000] {
        for d in Digit::ALL.into_iter().filter(|&d| d != Digit::Flash) {
            let s = Signal::new(rate)
                .silence(30.0)
                .key(d, 100.0, -10.0, -10.0)
                .silence(30.0);
            let p = presses(&detect(rate, &s.pcm()));
            assert_eq!(p.len(), 1, "{d} at {rate}: {p:?}");
            assert_eq!(p[0].0, d, "at {rate}");
        }
    }
}

#[test]
fn levels_durations_offsets_and_noise() {
    let mut seed = 7;
    for rate in [8000, 16_000, 48_000] {
        for level in [-3.0, -10.0, -20.0, -25.0] {
            for ms in [40.0, 60.0, 100.0, 500.0] {
                for lead in [20.0, 23.3, 27.9] {
                    seed += 1;
                    // At -3 dBFS per tone the pair clips in i16: it must still be found.
                    let lvl = level;
                    let s = Signal::new(rate)
                        .silence(lead)
                        .key(Digit::D8, ms, lvl, lvl)
                        .silence(60.0)
                        .noise(lvl - 20.0, seed);
                    let p = presses(&detect(rate, &s.pcm()));
                    let what = format!("{rate} Hz, {level} dBFS, {ms} ms, lead {lead}: {p:?}");
                    assert_eq!(p.len(), 1, "{what}");
                    assert_eq!(p[0].0, Digit::D8, "{what}");
                    let got = f64::from(p[0].1);
                    assert!((got - ms).abs() <= 26.0, "duration {what}");
                }
            }
        }
    }
}

#[test]
fn a_string_of_keys_with_short_gaps() {
    let mut s = Signal::new(8000).silence(20.0);
    for d in [Digit::D1, Digit::D2, Digit::D3, Digit::D3, Digit::Pound] {
        s = s.key(d, 60.0, -12.0, -10.0).silence(45.0);
    }
    let p = presses(&detect(8000, &s.noise(-45.0, 3).pcm()));
    let keys: String = p.iter().map(|x| x.0.char()).collect();
    assert_eq!(keys, "1233#", "{p:?}");
}

#[test]
fn one_key_straight_into_another_is_two_presses() {
    let s = Signal::new(16_000)
        .silence(20.0)
        .key(Digit::D4, 100.0, -10.0, -10.0)
        .key(Digit::D9, 100.0, -10.0, -10.0);
    let p = presses(&detect(16_000, &s.pcm()));
    let keys: Vec<Digit> = p.iter().map(|x| x.0).collect();
    assert_eq!(keys, vec![Digit::D4, Digit::D9]);
}

#[test]
fn twist_limits() {
    let run = |row: f64, col: f64| {
        let s = Signal::new(8000)
            .silence(20.0)
            .key(Digit::D6, 100.0, row, col);
        presses(&detect(8000, &s.pcm())).len()
    };
    assert_eq!(run(-10.0, -16.0), 1, "6 dB normal twist");
    assert_eq!(run(-10.0, -20.0), 0, "10 dB normal twist");
    assert_eq!(run(-13.0, -10.0), 1, "3 dB reverse twist");
    assert_eq!(run(-16.0, -10.0), 0, "6 dB reverse twist");
}

#[test]
fn too_quiet_or_too_short_is_nothing() {
    let quiet = Signal::new(8000)
        .silence(20.0)
        .key(Digit::D1, 200.0, -40.0, -40.0);
    assert!(detect(8000, &quiet.pcm()).is_empty());
    for ms in [5.0, 10.0] {
        for lead in [0.0, 3.0, 7.0, 11.0] {
            let s = Signal::new(8000)
                .silence(20.0 + lead)
                .key(Digit::D1, ms, -10.0, -10.0);
            assert!(
                detect(8000, &s.pcm()).is_empty(),
                "{ms} ms tone, lead {lead}"
            );
        }
    }
}

#[test]
fn a_long_press_is_reported_once() {
    let s = Signal::new(48_000)
        .silence(20.0)
        .key(Digit::Star, 2000.0, -20.0, -20.0)
        .noise(-40.0, 11);
    let p = presses(&detect(48_000, &s.pcm()));
    assert_eq!(p.len(), 1);
    assert!((f64::from(p[0].1) - 2000.0).abs() <= 26.0, "{p:?}");
}

#[test]
fn single_tones_are_not_keys() {
    let freqs = [
        440.0, 1000.0, 697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0,
    ];
    for rate in [8000, 16_000] {
        for f in freqs {
            for db in [-3.0, -20.0] {
                let s = Signal::new(rate).tones(1000.0, &[(f, db)]);
                assert!(
                    detect(rate, &s.pcm()).is_empty(),
                    "{f} Hz at {db} dBFS, {rate}"
                );
            }
        }
    }
}

#[test]
fn call_progress_tones_are_not_keys() {
    let tones: [&[(f64, f64)]; 4] = [
        &[(350.0, -10.0), (440.0, -10.0)], // dial tone
        &[(440.0, -10.0), (480.0, -10.0)], // ringback
        &[(480.0, -10.0), (620.0, -10.0)], // busy
        &[(425.0, -7.0)],                  // European tones
    ];
    for t in tones {
        let s = Signal::new(8000).tones(2000.0, t);
        assert!(detect(8000, &s.pcm()).is_empty(), "{t:?}");
    }
}

#[test]
fn silence_and_noise_are_not_keys() {
    assert!(detect(8000, &[0; 16_000]).is_empty());
    for (rate, db) in [
        (8000, -10.0),
        (8000, -30.0),
        (16_000, -15.0),
        (48_000, -10.0),
    ] {
        for seed in 1..4 {
            let s = Signal::new(rate).silence(2000.0).noise(db, seed * 977);
            assert!(
                detect(rate, &s.pcm()).is_empty(),
                "{db} dBFS noise at {rate}"
            );
        }
    }
}

/// A rough vowel: harmonics of a gliding pitch, amplitude 1/k, with a syllable rhythm.
fn speechlike(rate: u32, f0_from: f64, f0_to: f64, ms: f64) -> Vec<i16> {
    let n = (ms * f64::from(rate) / 1000.0) as usize;
    let r = f64::from(rate);
    let mut phase = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / r;
        let f0 = f0_from + (f0_to - f0_from) * i as f64 / n as f64;
        phase += 2.0 * PI * f0 / r;
        let mut v = 0.0;
        let mut k = 1.0;
        while k * f0 < r / 2.0 && k <= 30.0 {
            v += (k * phase).sin() / k;
            k += 1.0;
        }
        let syllable = 0.6 + 0.4 * (2.0 * PI * 4.0 * t).sin();
        out.push((v * syllable * 0.3 * 32767.0).clamp(-32768.0, 32767.0) as i16);
    }
    out
}

#[test]
fn speech_like_sounds_are_not_keys() {
    // 174.25 Hz puts harmonics 4 and 7 on 697 and ~1209 Hz: the "1" key's frequencies.
    for (a, b) in [
        (100.0, 250.0),
        (250.0, 100.0),
        (174.25, 174.25),
        (116.0, 140.0),
    ] {
        let pcm = speechlike(8000, a, b, 2000.0);
        assert!(detect(8000, &pcm).is_empty(), "pitch {a}-{b}");
        let pcm = speechlike(16_000, a, b, 1000.0);
        assert!(detect(16_000, &pcm).is_empty(), "pitch {a}-{b} at 16 kHz");
    }
    // A pure chirp sweeping the band crosses every key frequency, one at a time.
    let rate = 8000;
    let mut phase = 0.0f64;
    let chirp: Vec<i16> = (0..16_000)
        .map(|i| {
            let f = 300.0 + 3100.0 * f64::from(i) / 16_000.0;
            phase += 2.0 * PI * f / f64::from(rate);
            (phase.sin() * 0.3 * 32767.0) as i16
        })
        .collect();
    assert!(detect(rate, &chirp).is_empty());
}

#[test]
fn the_generator_is_heard_by_the_detector() {
    for rate in [8000, 16_000, 48_000] {
        let mut g = DtmfGenerator::new(rate).expect("rate");
        g.queue_str("159*0#D", 80).expect("keys");
        let mut det = DtmfDetector::new(rate).expect("rate");
        let mut f = Frame::silence(rate).expect("rate");
        let mut events = Vec::new();
        for _ in 0..100 {
            if !g.fill(&mut f) {
                f.clear(rate);
            }
            det.handle_frame(&f);
            events.extend(std::iter::from_fn(|| det.poll_event()));
        }
        let keys: String = presses(&events).iter().map(|p| p.0.char()).collect();
        assert_eq!(keys, "159*0#D", "at {rate}");
    }
}

#[test]
fn a_change_of_rate_restarts_the_detector() {
    let mut det = DtmfDetector::new(8000).expect("rate");
    let a = Signal::new(8000).key(Digit::D2, 100.0, -10.0, -10.0).pcm();
    for c in a.chunks(160) {
        det.handle_frame(&Frame::from_samples(8000, c).expect("frame"));
    }
    let b = Signal::new(16_000)
        .key(Digit::D7, 100.0, -10.0, -10.0)
        .silence(100.0)
        .pcm();
    for c in b.chunks(320) {
        det.handle_frame(&Frame::from_samples(16_000, c).expect("frame"));
    }
    assert_eq!(det.rate(), 16_000);
    let events: Vec<DtmfEvent> = std::iter::from_fn(|| det.poll_event()).collect();
    let keys: Vec<Digit> = presses(&events).iter().map(|p| p.0).collect();
    assert_eq!(keys, vec![Digit::D2, Digit::D7]);
}

#[test]
fn a_stricter_energy_ratio_refuses_noisy_keys() {
    let cfg = DetectorConfig {
        min_energy_ratio: 0.95,
        ..DetectorConfig::default()
    };
    let s = Signal::new(8000)
        .silence(20.0)
        .key(Digit::D5, 200.0, -20.0, -20.0)
        .noise(-30.0, 5);
    assert_eq!(presses(&detect(8000, &s.pcm())).len(), 1);
    let det = DtmfDetector::with_config(8000, cfg).expect("rate");
    assert!(detect_with(det, 8000, &s.pcm()).is_empty());
}
