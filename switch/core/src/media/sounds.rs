//! Finding and loading sound files for playback, FreeSWITCH style: a relative name such as
//! `ivr/ivr-welcome.wav` is looked up under the sound folder's prefix with the leg's rate as a
//! folder (`sounds/en/us/callie/ivr/8000/ivr-welcome.wav`), falling back to the other rates
//! (resampled when played) and to the name as given. Loaded files are decoded once and
//! shared by every channel that plays them.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use switch_media::wav::WavReader;
use switch_media::RATES;

use super::Sound;

/// The prefix under the sound folder where the shipped voice lives.
pub const DEFAULT_PREFIX: &str = "en/us/callie";

/// Files longer than this are refused (they belong in a streaming player, not in memory).
const MAX_SAMPLES: u64 = 48_000 * 60 * 10;

/// How many decoded files the cache keeps.
const CACHE_FILES: usize = 512;

/// Why a sound could not be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoundError {
    /// No file matched the name.
    #[error("sound {name:?} not found (looked in {looked})")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The paths tried.
        looked: String,
    },
    /// The file exists but is no usable WAV.
    #[error("sound {path}: {reason}")]
    Bad {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The sound folder and its cache. Cheap to share.
#[derive(Debug)]
pub struct Sounds {
    root: PathBuf,
    prefix: PathBuf,
    cache: Mutex<HashMap<PathBuf, Sound>>,
}

impl Sounds {
    /// Sounds under `root`, with the voice at `root/prefix`.
    pub fn new(root: &Path, prefix: &str) -> Sounds {
        Sounds {
            root: root.to_path_buf(),
            prefix: PathBuf::from(prefix),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The file for `name` at (preferably) `rate`.
    pub fn resolve(&self, name: &str, rate: u32) -> Result<PathBuf, SoundError> {
        let mut name = name.trim().to_string();
        if Path::new(&name).extension().is_none() {
            name.push_str(".wav");
        }
        let given = PathBuf::from(&name);
        let given = given.as_path();
        let mut tried = Vec::new();
        if given.is_absolute() {
            return match given.is_file() {
                true => Ok(given.to_path_buf()),
                false => Err(SoundError::NotFound {
                    looked: given.display().to_string(),
                    name,
                }),
            };
        }
        let (dir, file) = match (given.parent(), given.file_name()) {
            (Some(d), Some(f)) => (d.to_path_buf(), PathBuf::from(f)),
            _ => (PathBuf::new(), given.to_path_buf()),
        };
        let mut rates = vec![rate];
        rates.extend(RATES.iter().copied().filter(|r| *r != rate));
        for base in [self.root.join(&self.prefix), self.root.clone()] {
            for r in &rates {
                tried.push(base.join(&dir).join(r.to_string()).join(&file));
            }
            tried.push(base.join(given));
        }
        // Relative to the working directory last, as a path typed on the console would be.
        tried.push(given.to_path_buf());
        match tried.iter().find(|p| p.is_file()) {
            Some(p) => Ok(p.clone()),
            None => Err(SoundError::NotFound {
                name,
                looked: tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Resolves and decodes `name` (from the cache when it was loaded before). Blocking: call
    /// it from `spawn_blocking` when the file may not be cached.
    pub fn load(&self, name: &str, rate: u32) -> Result<Sound, SoundError> {
        let path = self.resolve(name, rate)?;
        if let Some(s) = self.cache.lock().ok().and_then(|c| c.get(&path).cloned()) {
            return Ok(s);
        }
        let sound = decode(&path)?;
        if let Ok(mut c) = self.cache.lock() {
            if c.len() < CACHE_FILES {
                c.insert(path, sound.clone());
            }
        }
        Ok(sound)
    }
}

fn decode(path: &Path) -> Result<Sound, SoundError> {
    let bad = |reason: String| SoundError::Bad {
        path: path.display().to_string(),
        reason,
    };
    let file = File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut r = WavReader::new(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    let spec = r.spec();
    if !RATES.contains(&spec.rate) {
        return Err(bad(format!(
            "{} Hz is not a rate the switch plays (8000, 16000, 48000); convert it with sox",
            spec.rate
        )));
    }
    let frames = r.len_samples();
    if frames > MAX_SAMPLES {
        return Err(bad(format!("{frames} samples is longer than 10 minutes")));
    }
    let mut samples = vec![0i16; frames as usize];
    let mut at = 0;
    while at < samples.len() {
        match r.read_mono(&mut samples[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    samples.truncate(at);
    Ok(Sound {
        samples: samples.into(),
        rate: spec.rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn repo_sounds() -> Sounds {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sounds");
        Sounds::new(&root, DEFAULT_PREFIX)
    }

    #[test]
    fn relative_names_find_the_rate_folder() {
        let s = repo_sounds();
        for rate in RATES {
            let p = s
                .resolve("ivr/ivr-welcome.wav", rate)
                .expect("shipped prompt");
            assert!(
                p.ends_with(format!("ivr/{rate}/ivr-welcome.wav")),
                "{}",
                p.display()
            );
        }
        let p = s.resolve("digits/5", 16000).expect("without extension");
        assert!(p.ends_with("digits/16000/5.wav"));
        let p = s
            .resolve("music/moh.wav", 8000)
            .expect("outside the voice prefix");
        assert!(p.ends_with("music/8000/moh.wav"));
    }

    #[test]
    fn loads_once_and_shares_the_samples() {
        let s = repo_sounds();
        let a = s.load("voicemail/vm-goodbye.wav", 8000).expect("load");
        let b = s.load("voicemail/vm-goodbye.wav", 8000).expect("load");
        assert_eq!(a.rate, 8000);
        assert!(a.samples.len() > 4000);
        assert!(Arc::ptr_eq(&a.samples, &b.samples));
    }

    #[test]
    fn missing_and_broken_files_say_what_and_where() {
        let s = repo_sounds();
        let e = s.load("ivr/no-such-prompt", 8000).expect_err("missing");
        assert!(e.to_string().contains("no-such-prompt.wav"), "{e}");
        let bad = std::env::temp_dir().join(format!("fs-bad-{}.wav", std::process::id()));
        std::fs::write(&bad, b"not a wav at all").expect("write");
        let e = s
            .load(bad.to_str().expect("utf-8 path"), 8000)
            .expect_err("bad");
        assert!(e.to_string().contains(&*bad.to_string_lossy()), "{e}");
        let _ = std::fs::remove_file(bad);
    }
}
