//! mod_espeak: text to speech for `speak`, Lua's `session:speak` and `tts://espeak|voice|text`
//! playback, on the espeak-ng program (Debian `espeak-ng`), which the shipped prompts were made
//! with too.
//!
//! Config (`conf/modules/mod_espeak.toml`, every key optional):
//! ```toml
//! program = "espeak-ng"   # the binary (a name on PATH or a path)
//! voice = "en-us"         # when the caller names none
//! words_per_minute = 160
//! rate = 16000            # what the engine hands the switch: 8000, 16000 or 48000
//! ```
//! The text goes to espeak-ng as one argument (no shell); its 22,050 Hz WAV on standard
//! output is resampled to `rate`.

use std::process::{Command, Stdio};

use switch_sdk::serde::Deserialize;
use switch_sdk::{declare_module, Host, Module};

/// The module's settings.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(crate = "switch_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// The espeak-ng binary.
    pub program: String,
    /// The default voice.
    pub voice: String,
    /// Speaking speed.
    pub words_per_minute: u32,
    /// The rate of the samples handed to the switch.
    pub rate: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            program: "espeak-ng".into(),
            voice: "en-us".into(),
            words_per_minute: 160,
            rate: 16000,
        }
    }
}

/// The longest text spoken at once (a runaway script must not keep espeak busy for minutes).
pub const MAX_TEXT: usize = 4000;

/// Mono PCM16 samples and their rate, from a WAV file's bytes.
pub fn parse_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("espeak-ng did not write a WAV file".into());
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let declared =
            u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                as usize;
        let body = at + 8;
        // espeak-ng writing to a pipe cannot seek back: its data size is 0 or too big.
        let len = declared.min(bytes.len() - body);
        match id {
            b"fmt " if len >= 16 => {
                let b = &bytes[body..body + 16];
                format = Some((
                    u16::from_le_bytes([b[0], b[1]]),
                    u16::from_le_bytes([b[2], b[3]]),
                    u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
                    u16::from_le_bytes([b[14], b[15]]),
                ));
            }
            b"data" => {
                let (tag, channels, rate, bits) = format.ok_or("WAV data before its format")?;
                if tag != 1 || bits != 16 || channels == 0 {
                    return Err(format!(
                        "espeak-ng wrote {bits}-bit format {tag} with {channels} channel(s), not PCM16"
                    ));
                }
                let data = if declared == 0 || declared > bytes.len() - body {
                    &bytes[body..]
                } else {
                    &bytes[body..body + len]
                };
                let step = 2 * usize::from(channels);
                let samples = data
                    .chunks_exact(step)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                return Ok((rate, samples));
            }
            _ => {}
        }
        at = body + len + (len & 1);
    }
    Err("no audio in espeak-ng's WAV".into())
}

/// `samples` at `from` Hz as `to` Hz, by linear interpolation (speech, not music).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() || from == 0 {
        return samples.to_vec();
    }
    let n = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..n)
        .map(|i| {
            let x = i as f64 * step;
            let k = x as usize;
            let a = f64::from(samples[k.min(samples.len() - 1)]);
            let b = f64::from(samples[(k + 1).min(samples.len() - 1)]);
            (a + (b - a) * (x - k as f64)).round() as i16
        })
        .collect()
}

/// The engine.
pub struct Espeak {
    cfg: Config,
}

impl Espeak {
    /// Speaks `text` with `voice` (the configured one when empty).
    pub fn speak(&self, voice: &str, text: &str) -> Result<(u32, Vec<i16>), String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("nothing to say".into());
        }
        let text: String = text.chars().take(MAX_TEXT).collect();
        let voice = if voice.trim().is_empty() {
            self.cfg.voice.as_str()
        } else {
            voice.trim()
        };
        if !voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_+/".contains(c))
        {
            return Err(format!("bad voice name {voice:?}"));
        }
        let out = Command::new(&self.cfg.program)
            .arg("-v")
            .arg(voice)
            .arg("-s")
            .arg(self.cfg.words_per_minute.to_string())
            .arg("--stdout")
            .arg("--")
            .arg(&text)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.cfg.program))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                self.cfg.program,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let (rate, samples) = parse_wav(&out.stdout)?;
        Ok((self.cfg.rate, resample(&samples, rate, self.cfg.rate)))
    }
}

/// The loaded module.
pub struct ModEspeak;

impl Module for ModEspeak {
    fn init(host: &Host) -> Result<Self, String> {
        let cfg: Config = host.config()?;
        if ![8000, 16000, 48000].contains(&cfg.rate) {
            return Err(format!("rate {} (expected 8000, 16000 or 48000)", cfg.rate));
        }
        let found = Command::new(&cfg.program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            switch_sdk::warn!(
                "{} is not installed: speak will fail until it is (Debian: apt-get install espeak-ng)",
                cfg.program
            );
        }
        let engine = Espeak { cfg };
        host.register_tts(
            "espeak",
            "espeak-ng text to speech",
            move |voice: &str, text: &str| engine.speak(voice, text),
        )
        .map_err(|e| e.to_string())?;
        Ok(ModEspeak)
    }
}

declare_module! {
    name: "mod_espeak",
    description: "text to speech (speak, tts://espeak|voice|text) with espeak-ng",
    module: ModEspeak,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, samples: &[i16], data_size: u32) -> Vec<u8> {
        let mut v = b"RIFF\0\0\0\0WAVE".to_vec();
        v.extend(b"fmt ");
        v.extend(16u32.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(rate.to_le_bytes());
        v.extend((rate * 2).to_le_bytes());
        v.extend(2u16.to_le_bytes());
        v.extend(16u16.to_le_bytes());
        v.extend(b"data");
        v.extend(data_size.to_le_bytes());
        for s in samples {
            v.extend(s.to_le_bytes());
        }
        v
    }

    #[test]
    fn wav_from_a_pipe_with_no_data_size_is_read_to_the_end() {
        let w = wav(22050, &[1, -2, 3], 0x7fff_ffff);
        assert_eq!(parse_wav(&w), Ok((22050, vec![1, -2, 3])));
        let w = wav(22050, &[5, 6], 4);
        assert_eq!(parse_wav(&w), Ok((22050, vec![5, 6])));
        assert!(parse_wav(b"not a wav").is_err());
        assert!(parse_wav(&w[..20]).is_err());
    }

    #[test]
    fn resampling_keeps_the_duration() {
        let one_second = vec![100i16; 22050];
        let r = resample(&one_second, 22050, 16000);
        assert_eq!(r.len(), 16000);
        assert!(r.iter().all(|&s| s == 100));
        assert_eq!(resample(&[1, 2], 8000, 8000), vec![1, 2]);
    }

    #[test]
    fn espeak_speaks_when_installed() {
        let e = Espeak {
            cfg: Config::default(),
        };
        match e.speak("", "hello world") {
            Ok((rate, samples)) => {
                assert_eq!(rate, 16000);
                // "hello world" is most of a second of speech.
                assert!(samples.len() > 8000, "{}", samples.len());
                assert!(samples.iter().any(|s| s.unsigned_abs() > 1000));
            }
            Err(e) => assert!(e.contains("cannot run"), "{e}"),
        }
        assert!(e.speak("", "  ").is_err());
        assert!(e.speak("en; rm -rf /", "x").is_err());
    }
}
