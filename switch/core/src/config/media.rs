//! `[media]`: codecs and their order, DTMF, jitter buffer, prompt and recording folders.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ConfigError;

/// The codec names `media.codecs` accepts (SDP encoding names; `L16` at 8 kHz, or with a
/// rate such as `L16/16000`).
pub const CODECS: &[&str] = &[
    "PCMU",
    "PCMA",
    "G722",
    "opus",
    "L16",
    "L16/16000",
    "L16/48000",
];

/// How DTMF is sent to a leg, FreeSWITCH's `dtmf_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DtmfMode {
    /// RFC 4733 telephone-event when the leg's SDP has it, else in-band tones.
    Auto,
    /// Always RFC 4733 (telephone-event is offered and, if refused, digits go in-band).
    Rfc2833,
    /// SIP INFO with `application/dtmf-relay`.
    Info,
    /// Tones in the audio.
    Inband,
}

/// Whose codec order wins when the switch answers an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Negotiation {
    /// `media.codecs` order (FreeSWITCH's "greedy").
    Ours,
    /// The offerer's order, among `media.codecs` (FreeSWITCH's default, "generous").
    Theirs,
}

/// `[media]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    /// Codecs the switch speaks, most preferred first.
    pub codecs: Vec<String>,
    /// Whose order picks the codec of an answer.
    pub negotiation: Negotiation,
    /// How DTMF goes to legs.
    pub dtmf: DtmfMode,
    /// Payload type offered for telephone-event when the switch writes the offer.
    pub telephone_event_pt: u8,
    /// Opus: in-band FEC on what we send.
    pub opus_fec: bool,
    /// Opus: target bitrate in bit/s.
    pub opus_bitrate: u32,
    /// Opus: libopus encoder complexity, 0 (cheapest) to 10.
    pub opus_complexity: u8,
    /// Jitter buffer: least and most delay.
    pub jitter_min: Duration,
    /// See `jitter_min`.
    pub jitter_max: Duration,
    /// Folder sound files are looked up in (relative paths of `playback`).
    pub sounds: PathBuf,
    /// Folder recordings with a relative path are written to.
    pub recordings: PathBuf,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            codecs: ["opus", "G722", "PCMU", "PCMA"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            negotiation: Negotiation::Theirs,
            dtmf: DtmfMode::Auto,
            telephone_event_pt: 101,
            opus_fec: true,
            opus_bitrate: 32000,
            opus_complexity: 5,
            jitter_min: Duration::from_millis(20),
            jitter_max: Duration::from_millis(200),
            sounds: PathBuf::from("sounds"),
            recordings: PathBuf::from("var/recordings"),
        }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawMedia {
    codecs: Vec<String>,
    negotiation: Negotiation,
    dtmf: DtmfMode,
    telephone_event_pt: u8,
    opus_fec: bool,
    opus_bitrate: u32,
    opus_complexity: u8,
    jitter_min: u64,
    jitter_max: u64,
    sounds: String,
    recordings: String,
}

impl Default for RawMedia {
    fn default() -> Self {
        let d = MediaConfig::default();
        RawMedia {
            codecs: d.codecs,
            negotiation: d.negotiation,
            dtmf: d.dtmf,
            telephone_event_pt: d.telephone_event_pt,
            opus_fec: d.opus_fec,
            opus_bitrate: d.opus_bitrate,
            opus_complexity: d.opus_complexity,
            jitter_min: d.jitter_min.as_millis() as u64,
            jitter_max: d.jitter_max.as_millis() as u64,
            sounds: d.sounds.to_string_lossy().into_owned(),
            recordings: d.recordings.to_string_lossy().into_owned(),
        }
    }
}

impl RawMedia {
    pub(crate) fn validate(
        self,
        bad: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<MediaConfig, ConfigError> {
        if self.codecs.is_empty() {
            return Err(bad(
                "media.codecs",
                format!("needs at least one codec of {}", CODECS.join(", ")),
            ));
        }
        let mut codecs: Vec<String> = Vec::new();
        for (i, c) in self.codecs.iter().enumerate() {
            let key = format!("media.codecs[{i}]");
            let Some(name) = CODECS.iter().find(|k| k.eq_ignore_ascii_case(c.trim())) else {
                return Err(bad(
                    &key,
                    format!("unknown codec {c:?}; expected one of {}", CODECS.join(", ")),
                ));
            };
            if codecs.iter().any(|k| k == name) {
                return Err(bad(&key, format!("{name} is listed twice")));
            }
            codecs.push(name.to_string());
        }
        if !(96..=127).contains(&self.telephone_event_pt) {
            return Err(bad(
                "media.telephone_event_pt",
                format!(
                    "{} is not a dynamic payload type (96-127)",
                    self.telephone_event_pt
                ),
            ));
        }
        if !(6000..=510_000).contains(&self.opus_bitrate) {
            return Err(bad(
                "media.opus_bitrate",
                format!("{} is outside 6000..=510000 bit/s", self.opus_bitrate),
            ));
        }
        if self.opus_complexity > 10 {
            return Err(bad(
                "media.opus_complexity",
                format!("{} is outside 0..=10", self.opus_complexity),
            ));
        }
        if self.jitter_min == 0 || self.jitter_min > 1000 {
            return Err(bad(
                "media.jitter_min",
                format!("{} ms is outside 1..=1000", self.jitter_min),
            ));
        }
        if self.jitter_max < self.jitter_min || self.jitter_max > 2000 {
            return Err(bad(
                "media.jitter_max",
                format!(
                    "{} ms must be between jitter_min ({}) and 2000",
                    self.jitter_max, self.jitter_min
                ),
            ));
        }
        for (key, v) in [
            ("media.sounds", &self.sounds),
            ("media.recordings", &self.recordings),
        ] {
            if v.trim().is_empty() {
                return Err(bad(key, "must not be empty".into()));
            }
        }
        Ok(MediaConfig {
            codecs,
            negotiation: self.negotiation,
            dtmf: self.dtmf,
            telephone_event_pt: self.telephone_event_pt,
            opus_fec: self.opus_fec,
            opus_bitrate: self.opus_bitrate,
            opus_complexity: self.opus_complexity,
            jitter_min: Duration::from_millis(self.jitter_min),
            jitter_max: Duration::from_millis(self.jitter_max),
            sounds: PathBuf::from(self.sounds.trim()),
            recordings: PathBuf::from(self.recordings.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::error::ConfigErrorKind;

    fn bad(key: &str, msg: String) -> ConfigError {
        ConfigError::new("ferroswitch.toml", ConfigErrorKind::InvalidValue, msg).at_key(key)
    }

    #[test]
    fn defaults_validate_and_codec_names_are_normalised() {
        let m = RawMedia::default()
            .validate(&bad)
            .expect("defaults are valid");
        assert_eq!(m, MediaConfig::default());
        let raw = RawMedia {
            codecs: vec!["pcma".into(), "OPUS".into()],
            ..RawMedia::default()
        };
        assert_eq!(raw.validate(&bad).expect("valid").codecs, ["PCMA", "opus"]);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (raw, key) in [
            (
                RawMedia {
                    codecs: vec!["G729".into()],
                    ..RawMedia::default()
                },
                "media.codecs[0]",
            ),
            (
                RawMedia {
                    codecs: vec!["PCMU".into(), "pcmu".into()],
                    ..RawMedia::default()
                },
                "media.codecs[1]",
            ),
            (
                RawMedia {
                    telephone_event_pt: 8,
                    ..RawMedia::default()
                },
                "media.telephone_event_pt",
            ),
            (
                RawMedia {
                    jitter_max: 10,
                    ..RawMedia::default()
                },
                "media.jitter_max",
            ),
        ] {
            let e = raw.validate(&bad).expect_err("invalid");
            assert!(e.to_string().contains(key), "{e} should name {key}");
        }
    }
}
