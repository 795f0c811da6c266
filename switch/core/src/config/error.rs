//! The one error type of configuration loading.

use std::fmt;
use std::path::PathBuf;

/// What kind of problem a [`ConfigError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A file or folder could not be read.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// A key that ferroswitch does not know (often a typo).
    UnknownKey,
    /// A value of the wrong type or outside its allowed range or set.
    InvalidValue,
    /// Something defined twice (a directory user in two files).
    Duplicate,
    /// A `--set KEY=VALUE` override that cannot be applied (bad key syntax, not a table).
    BadOverride,
}

/// A configuration problem, naming the file and, when known, the line and the dotted key.
///
/// Displayed as `conf/ferroswitch.toml:12: sip.udp: invalid socket address "foo"`; parts that
/// are unknown are left out. When the faulty value came from a `--set KEY=VALUE` override,
/// `--set KEY` stands where the line would be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file at fault (or the folder, for a folder that cannot be read).
    pub file: PathBuf,
    /// 1-based line in `file`, when the problem has a place in it.
    pub line: Option<usize>,
    /// Dotted key path, e.g. `sip.udp` or `rule[2].destination`.
    pub key: Option<String>,
    /// The `--set` key whose value is at fault, when it came from an override.
    pub set: Option<String>,
    /// What kind of problem this is.
    pub kind: ConfigErrorKind,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(
        file: impl Into<PathBuf>,
        kind: ConfigErrorKind,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.into(),
            line: None,
            key: None,
            set: None,
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub(crate) fn at_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.key = (!key.is_empty()).then_some(key);
        self
    }

    pub(crate) fn via_set(mut self, set: impl Into<String>) -> Self {
        self.set = Some(set.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(set) = &self.set {
            write!(f, ": --set {set}")?;
        }
        match &self.key {
            // An override of `sip` that breaks `sip.udp` names both; `--set sip.udp` alone suffices.
            Some(key) if self.set.as_deref() != Some(key.as_str()) => write!(f, ": {key}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_key_and_message() {
        let e = ConfigError::new(
            "conf/ferroswitch.toml",
            ConfigErrorKind::InvalidValue,
            "invalid socket address \"foo\"",
        )
        .at_line(Some(12))
        .at_key("sip.udp");
        assert_eq!(
            e.to_string(),
            "conf/ferroswitch.toml:12: sip.udp: invalid socket address \"foo\""
        );
    }

    #[test]
    fn display_omits_unknown_parts() {
        let e = ConfigError::new("conf/dialplan.toml", ConfigErrorKind::Syntax, "bad");
        assert_eq!(e.to_string(), "conf/dialplan.toml: bad");
    }

    #[test]
    fn display_names_the_override_instead_of_a_line() {
        let e = ConfigError::new(
            "conf/ferroswitch.toml",
            ConfigErrorKind::InvalidValue,
            "bad",
        )
        .at_key("sip.udp")
        .via_set("sip.udp");
        assert_eq!(e.to_string(), "conf/ferroswitch.toml: --set sip.udp: bad");
        let inner = ConfigError::new("f.toml", ConfigErrorKind::InvalidValue, "bad")
            .at_key("sip.register.min_expires")
            .via_set("sip.register");
        assert_eq!(
            inner.to_string(),
            "f.toml: --set sip.register: sip.register.min_expires: bad"
        );
    }
}
