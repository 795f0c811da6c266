//! `conf/modules/mod_callcenter.toml`: settings, queues, agents and tiers.
//!
//! ```toml
//! [settings]
//! db = "callcenter.db"          # SQLite file (the host resolves it against its db dir)
//!
//! [queues.sales]
//! strategy = "longest-idle-agent"
//! moh_sound = "local_stream://moh"
//!
//! [agents.1000]
//! contact = "user/1000"
//! status = "Available"
//! skills = "english=5,billing=3"
//!
//! [[tiers]]
//! queue = "sales"
//! agent = "1000"
//! level = 1
//! position = 1
//! ```
//! Every error names the file, the line and the dotted key (`queues.sales.strategy`).

mod spans;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml_edit::ImDocument;

use crate::model::{AgentConfig, AgentType, QueueConfig, Tier};
use spans::{dotted, key_at, line_at, span_of, Seg};

/// Module-wide settings (`[settings]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// SQLite database file for agents, tiers, overrides, callbacks and `cc_calls`.
    pub db: String,
    /// Seed of the engine's random generator (the `random` strategy, agent-leg uuids).
    pub seed: u64,
    /// Seconds before an agent whose phone was unreachable is offered a call again.
    pub unreachable_delay_time: u32,
    /// Minutes east of UTC of the local time zone, for the "today" statistics.
    pub utc_offset_minutes: i32,
    /// Seconds past an offer's timeout before the engine gives up on the host's result.
    pub offer_guard_secs: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            db: "callcenter.db".to_string(),
            seed: 0x5EED,
            unreachable_delay_time: 5,
            utc_offset_minutes: 0,
            offer_guard_secs: 10,
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[settings]`.
    pub settings: Settings,
    /// `[queues.NAME]`.
    pub queues: BTreeMap<String, QueueConfig>,
    /// `[agents.NAME]`.
    pub agents: BTreeMap<String, AgentConfig>,
    /// `[[tiers]]`.
    pub tiers: Vec<Tier>,
}

/// A configuration error: file, line, key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as named by the caller.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted key, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '|' && c != '\'' && c != '"')
}

fn digits_ok(s: &str) -> bool {
    s.chars().all(|c| "0123456789*#ABCD".contains(c))
}

impl Config {
    /// Parses and validates the text of `file`.
    pub fn from_toml(file: &str, text: &str) -> Result<Config, ConfigError> {
        let err = |line, key: Option<String>, message: String| ConfigError {
            file: file.to_string(),
            line,
            key,
            message,
        };
        let doc = ImDocument::parse(text.to_string()).map_err(|e| {
            let line = e.span().map(|s| line_at(text, s.start));
            err(line, None, one_line(e.message()))
        })?;
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(s) => {
                    let path = key_at(&doc, s.start);
                    let key = (!path.is_empty()).then(|| dotted(&path));
                    (Some(line_at(text, s.start)), key)
                }
                None => (None, None),
            };
            err(line, key, one_line(e.message()))
        })?;
        config.normalize();
        config.validate().map_err(|(path, message)| {
            let line = span_of(&doc, &path).map(|s| line_at(text, s.start));
            err(line, Some(dotted(&path)), message)
        })?;
        Ok(config)
    }

    /// Copies map keys into the `name` fields.
    pub fn normalize(&mut self) {
        for (k, q) in self.queues.iter_mut() {
            q.name = k.clone();
        }
        for (k, a) in self.agents.iter_mut() {
            a.name = k.clone();
        }
    }

    /// Checks names, cross references and values the types cannot: returns the path of the
    /// first offending key and what is wrong.
    fn validate(&self) -> Result<(), (Vec<Seg>, String)> {
        let key = |parts: &[&str]| -> Vec<Seg> {
            parts.iter().map(|p| Seg::Key(p.to_string())).collect()
        };
        for (name, q) in &self.queues {
            if !valid_name(name) {
                return Err((
                    key(&["queues", name]),
                    format!("bad queue name '{name}' (no spaces, quotes or '|')"),
                ));
            }
            if !digits_ok(&q.exit_keys) {
                return Err((
                    key(&["queues", name, "exit_keys"]),
                    "DTMF digits only (0-9 * # A-D)".to_string(),
                ));
            }
            if q.callback_key.chars().count() > 1 || !digits_ok(&q.callback_key) {
                return Err((
                    key(&["queues", name, "callback_key"]),
                    "one DTMF digit (0-9 * # A-D), or \"\" for no callbacks".to_string(),
                ));
            }
            if let Some(c) = q.callback_key.chars().next() {
                if q.exit_keys.contains(c) {
                    return Err((
                        key(&["queues", name, "callback_key"]),
                        format!("'{c}' is also an exit key"),
                    ));
                }
            }
            if q.offer_timeout == 0 {
                return Err((
                    key(&["queues", name, "offer_timeout"]),
                    "must be at least 1 second".to_string(),
                ));
            }
            if q.callback_allowed() && q.callback_retries == 0 {
                return Err((
                    key(&["queues", name, "callback_retries"]),
                    "must be at least 1 when callback_key is set".to_string(),
                ));
            }
            if q.age_weight > 1000 {
                return Err((
                    key(&["queues", name, "age_weight"]),
                    "at most 1000 points per second".to_string(),
                ));
            }
        }
        for (name, a) in &self.agents {
            if !valid_name(name) {
                return Err((
                    key(&["agents", name]),
                    format!("bad agent name '{name}' (no spaces, quotes or '|')"),
                ));
            }
            if a.agent_type == AgentType::Callback && a.contact.trim().is_empty() {
                return Err((
                    key(&["agents", name, "contact"]),
                    "a callback agent needs a contact (dial string, e.g. user/1000)".to_string(),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for (i, t) in self.tiers.iter().enumerate() {
            let at = |field: &str| {
                vec![
                    Seg::Key("tiers".into()),
                    Seg::Index(i),
                    Seg::Key(field.into()),
                ]
            };
            if !self.queues.contains_key(&t.queue) {
                return Err((at("queue"), format!("unknown queue '{}'", t.queue)));
            }
            if !self.agents.contains_key(&t.agent) {
                return Err((at("agent"), format!("unknown agent '{}'", t.agent)));
            }
            if !seen.insert((&t.queue, &t.agent)) {
                return Err((
                    at("agent"),
                    format!(
                        "agent '{}' already has a tier in queue '{}'",
                        t.agent, t.queue
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "mod_callcenter.toml";

    #[test]
    fn errors_name_key_and_line() {
        let text = "[queues.sales]\nstrategy = \"fifo\"\n";
        let e = Config::from_toml(F, text).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("queues.sales.strategy"));
        assert!(e.message.contains("unknown strategy 'fifo'"), "{e}");

        let text = "[queues.sales]\n[agents.1000]\ncontact = \"user/1000\"\n\n[[tiers]]\nqueue = \"sales\"\nagent = \"1001\"\n";
        let e = Config::from_toml(F, text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "mod_callcenter.toml:7: tiers[0].agent: unknown agent '1001'"
        );

        let text = "[queues.sales]\nmax_wait = 3\n";
        let e = Config::from_toml(F, text).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("unknown field"), "{e}");

        let text = "[queues.sales]\ncallback_key = \"12\"\n";
        let e = Config::from_toml(F, text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("queues.sales.callback_key"));
        assert_eq!(e.line, Some(2));

        let e = Config::from_toml(F, "[queues\n").unwrap_err();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn names_are_copied_and_defaults_apply() {
        let text = "[queues.support]\nstrategy = \"ring-all\"\n[agents.1000]\ncontact = \"user/1000\"\nskills = { english = 5 }\n";
        let c = Config::from_toml(F, text).unwrap();
        assert_eq!(c.queues["support"].name, "support");
        assert_eq!(
            c.queues["support"].max_wait_time_with_no_agent_time_reached,
            5
        );
        assert_eq!(c.agents["1000"].skills.level("english"), Some(5));
        assert_eq!(c.settings.unreachable_delay_time, 5);
    }
}
