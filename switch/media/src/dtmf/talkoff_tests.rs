//! Talk-off: the shipped prompts (speech) and music on hold must not be heard as keys, and
//! keys mixed into speech must still be heard. Skipped when `sounds/` is not there.

use super::{Digit, DtmfDetector, DtmfEvent, DtmfGenerator};
use crate::frame::Frame;
use crate::wav::WavReader;
use std::path::{Path, PathBuf};

fn sounds() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sounds");
    dir.is_dir().then_some(dir)
}

/// Every WAV file under `dir` whose parent folder is named `rate`.
fn wavs(dir: &Path, rate: u32, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            wavs(&p, rate, out);
        } else if p.extension().is_some_and(|x| x == "wav")
            && p.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == rate.to_string().as_str())
        {
            out.push(p);
        }
    }
    out.sort();
}

/// Runs the detector over a file (at `gain`), optionally mixing in a generator's keys.
fn detect_file(path: &Path, gain: f64, keys: Option<&mut DtmfGenerator>) -> Vec<DtmfEvent> {
    let file = std::fs::File::open(path).expect("open");
    let mut r = WavReader::new(std::io::BufReader::new(file)).expect("a WAV file");
    let rate = r.spec().rate;
    let mut det = DtmfDetector::new(rate).expect("rate");
    let mut f = Frame::silence(rate).expect("rate");
    let mut k = Frame::silence(rate).expect("rate");
    let mut keys = keys;
    let mut events = Vec::new();
    while r.read_frame(&mut f).expect("readable") > 0 {
        let add = keys.as_mut().is_some_and(|g| g.fill(&mut k));
        for (i, s) in f.samples_mut().iter_mut().enumerate() {
            let mut v = f64::from(*s) * gain;
            if add {
                v += f64::from(k.samples()[i]);
            }
            *s = v.clamp(-32768.0, 32767.0) as i16;
        }
        det.handle_frame(&f);
        events.extend(std::iter::from_fn(|| det.poll_event()));
    }
    det.flush();
    events.extend(std::iter::from_fn(|| det.poll_event()));
    events
}

#[test]
fn prompts_and_music_are_not_keys() {
    let Some(dir) = sounds() else {
        eprintln!("no sounds/ folder: talk-off test skipped");
        return;
    };
    let mut files = Vec::new();
    for rate in [8000, 16_000] {
        wavs(&dir, rate, &mut files);
    }
    assert!(!files.is_empty());
    let mut hits = Vec::new();
    for p in &files {
        // As recorded (normalised to -3 dBFS) and 12 dB quieter.
        for gain in [1.0, 0.25] {
            let ev = detect_file(p, gain, None);
            if !ev.is_empty() {
                hits.push(format!("{} x{gain}: {ev:?}", p.display()));
            }
        }
    }
    assert!(hits.is_empty(), "talk-off:\n{}", hits.join("\n"));
}

#[test]
fn keys_over_speech_are_heard() {
    let Some(dir) = sounds() else {
        eprintln!("no sounds/ folder: talk-down test skipped");
        return;
    };
    let mut files = Vec::new();
    wavs(&dir.join("en/us/callie/ivr"), 8000, &mut files);
    let Some(prompt) = files.first() else {
        return;
    };
    let mut g = DtmfGenerator::new(8000).expect("rate");
    g.queue_str("147", 120).expect("keys");
    // Speech 10 dB under the keys.
    let ev = detect_file(prompt, 0.3, Some(&mut g));
    let ends: Vec<Digit> = ev
        .iter()
        .filter_map(|e| match e {
            DtmfEvent::End { digit, .. } => Some(*digit),
            DtmfEvent::Begin { .. } => None,
        })
        .collect();
    assert_eq!(
        ends,
        vec![Digit::D1, Digit::D4, Digit::D7],
        "{}",
        prompt.display()
    );
}
