//! A queue's configuration: FreeSWITCH's queue parameters (with `_` for `-`) plus what it
//! lacks: exit destinations, virtual-hold callbacks, the score weights and the service-level
//! threshold. Times are whole seconds, as in FreeSWITCH; 0 turns a limit off.

use serde::{Deserialize, Serialize};

use super::names::{parse_bool, AgentStatus, Strategy, TimeBaseScore};

/// One queue's settings. Every key can be set at run time with
/// `callcenter_config queue set <key> <queue> <value>` (see [`QueueConfig::set`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// The queue's name (the key of `[queues.NAME]` in the file, which wins).
    pub name: String,
    /// How agents are picked.
    pub strategy: Strategy,
    /// What callers hear while waiting (a sound, `local_stream://moh`); none: ringback.
    pub moh_sound: Option<String>,
    /// Played every announce_frequency seconds, before the position and wait announcement.
    pub announce_sound: Option<String>,
    /// Seconds between announcements; 0: never.
    pub announce_frequency: u32,
    /// Whether announcements carry the caller's position and estimated wait.
    pub announce_position: bool,
    /// Recording path template for answered calls (expanded by the host); none: no recording.
    pub record_template: Option<String>,
    /// Whether a caller's score counts time before this queue.
    pub time_base_score: TimeBaseScore,
    /// Seconds between agents added by ring-progressively.
    pub ring_progressively_delay: u32,
    /// Whether tier levels open one after another as the caller waits.
    pub tier_rules_apply: bool,
    /// Seconds a caller waits before the next tier level is tried.
    pub tier_rule_wait_second: u32,
    /// Whether level L opens after tier_rule_wait_second × L (else all after one wait).
    pub tier_rule_wait_multiply_level: bool,
    /// Whether a level with no agent logged in is skipped without waiting.
    pub tier_rule_no_agent_no_wait: bool,
    /// Seconds an abandoned caller keeps its place for a resume.
    pub discard_abandoned_after: u32,
    /// Whether a caller who hangs up and calls again (same caller id) resumes its place.
    pub abandoned_resume_allowed: bool,
    /// Longest wait before the caller exits to timeout_destination; 0: none.
    pub max_wait_time: u32,
    /// Exit after the queue has had no agent logged in this long; 0: never.
    pub max_wait_time_with_no_agent: u32,
    /// Once a queue has had no agent that long, new callers still wait at least this long.
    pub max_wait_time_with_no_agent_time_reached: u32,
    /// The status given to an agent reaching max_no_answer.
    pub agent_no_answer_status: AgentStatus,
    /// Where a caller goes on max_wait_time (none: back to the dialplan after the app).
    pub timeout_destination: Option<String>,
    /// Where a caller goes on max_wait_time_with_no_agent.
    pub no_agent_destination: Option<String>,
    /// DTMF digits that take the caller out of the queue ("" for none).
    pub exit_keys: String,
    /// Where a caller who pressed an exit key goes.
    pub exit_key_destination: Option<String>,
    /// The DTMF digit asking for a callback (virtual hold); "" disables callbacks.
    pub callback_key: String,
    /// Where a caller goes after asking for a callback (a "we will call you back" prompt).
    pub callback_destination: Option<String>,
    /// Callback attempts before giving up.
    pub callback_retries: u32,
    /// Seconds between callback attempts.
    pub callback_retry_delay: u32,
    /// "Answered within N seconds" for the service level.
    pub service_level_threshold: u32,
    /// Score points per priority step (a VIP of priority 1 is worth this many seconds of waiting).
    pub priority_weight: u32,
    /// Score points per second of waiting.
    pub age_weight: u32,
    /// Seconds an agent's phone rings before the offer counts as not answered.
    pub offer_timeout: u32,
    /// Handle time (talk plus wrap-up, seconds) assumed before the queue has any history.
    pub default_handle_time: u32,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            name: String::new(),
            strategy: Strategy::LongestIdleAgent,
            moh_sound: None,
            announce_sound: None,
            announce_frequency: 0,
            announce_position: true,
            record_template: None,
            time_base_score: TimeBaseScore::Queue,
            ring_progressively_delay: 10,
            tier_rules_apply: false,
            tier_rule_wait_second: 0,
            tier_rule_wait_multiply_level: false,
            tier_rule_no_agent_no_wait: true,
            discard_abandoned_after: 60,
            abandoned_resume_allowed: false,
            max_wait_time: 0,
            max_wait_time_with_no_agent: 0,
            max_wait_time_with_no_agent_time_reached: 5,
            agent_no_answer_status: AgentStatus::OnBreak,
            timeout_destination: None,
            no_agent_destination: None,
            exit_keys: String::new(),
            exit_key_destination: None,
            callback_key: String::new(),
            callback_destination: None,
            callback_retries: 3,
            callback_retry_delay: 60,
            service_level_threshold: 20,
            priority_weight: 300,
            age_weight: 1,
            offer_timeout: 30,
            default_handle_time: 180,
        }
    }
}

/// Every settable key, in the order `queue get`/`queue list` style output uses.
pub const QUEUE_KEYS: &[&str] = &[
    "strategy",
    "moh_sound",
    "announce_sound",
    "announce_frequency",
    "announce_position",
    "record_template",
    "time_base_score",
    "ring_progressively_delay",
    "tier_rules_apply",
    "tier_rule_wait_second",
    "tier_rule_wait_multiply_level",
    "tier_rule_no_agent_no_wait",
    "discard_abandoned_after",
    "abandoned_resume_allowed",
    "max_wait_time",
    "max_wait_time_with_no_agent",
    "max_wait_time_with_no_agent_time_reached",
    "agent_no_answer_status",
    "timeout_destination",
    "no_agent_destination",
    "exit_keys",
    "exit_key_destination",
    "callback_key",
    "callback_destination",
    "callback_retries",
    "callback_retry_delay",
    "service_level_threshold",
    "priority_weight",
    "age_weight",
    "offer_timeout",
    "default_handle_time",
];

/// Why a `queue set` was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    /// No such key.
    UnknownKey,
    /// The value does not fit the key; the text says what was expected.
    BadValue(String),
}

fn opt(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn secs(v: &str) -> Result<u32, SetError> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= 86_400 * 7)
        .ok_or_else(|| SetError::BadValue("a whole number of seconds (0-604800)".into()))
}

fn flag(v: &str) -> Result<bool, SetError> {
    parse_bool(v).ok_or_else(|| SetError::BadValue("true or false".into()))
}

fn digits(v: &str, max: usize) -> Result<String, SetError> {
    let v = v.trim();
    let ok = v.chars().count() <= max && v.chars().all(|c| "0123456789*#ABCD".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(SetError::BadValue(format!(
            "up to {max} DTMF digit(s) from 0-9 * # A-D"
        )))
    }
}

impl QueueConfig {
    /// A queue with default settings.
    pub fn new(name: &str) -> QueueConfig {
        QueueConfig {
            name: name.to_string(),
            ..QueueConfig::default()
        }
    }

    /// Sets `key` (a name from [`QUEUE_KEYS`]; `-` may stand for `_`) from its text form.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SetError> {
        let key = key.trim().to_ascii_lowercase().replace('-', "_");
        match key.as_str() {
            "strategy" => {
                self.strategy = value
                    .parse()
                    .map_err(|e: super::names::UnknownName| SetError::BadValue(e.expected))?
            }
            "moh_sound" => self.moh_sound = opt(value),
            "announce_sound" => self.announce_sound = opt(value),
            "announce_frequency" => self.announce_frequency = secs(value)?,
            "announce_position" => self.announce_position = flag(value)?,
            "record_template" => self.record_template = opt(value),
            "time_base_score" => {
                self.time_base_score = value
                    .parse()
                    .map_err(|e: super::names::UnknownName| SetError::BadValue(e.expected))?
            }
            "ring_progressively_delay" => self.ring_progressively_delay = secs(value)?,
            "tier_rules_apply" => self.tier_rules_apply = flag(value)?,
            "tier_rule_wait_second" => self.tier_rule_wait_second = secs(value)?,
            "tier_rule_wait_multiply_level" => self.tier_rule_wait_multiply_level = flag(value)?,
            "tier_rule_no_agent_no_wait" => self.tier_rule_no_agent_no_wait = flag(value)?,
            "discard_abandoned_after" => self.discard_abandoned_after = secs(value)?,
            "abandoned_resume_allowed" => self.abandoned_resume_allowed = flag(value)?,
            "max_wait_time" => self.max_wait_time = secs(value)?,
            "max_wait_time_with_no_agent" => self.max_wait_time_with_no_agent = secs(value)?,
            "max_wait_time_with_no_agent_time_reached" => {
                self.max_wait_time_with_no_agent_time_reached = secs(value)?
            }
            "agent_no_answer_status" => {
                self.agent_no_answer_status = value
                    .parse()
                    .map_err(|e: super::names::UnknownName| SetError::BadValue(e.expected))?
            }
            "timeout_destination" => self.timeout_destination = opt(value),
            "no_agent_destination" => self.no_agent_destination = opt(value),
            "exit_keys" => self.exit_keys = digits(value, 16)?,
            "exit_key_destination" => self.exit_key_destination = opt(value),
            "callback_key" => self.callback_key = digits(value, 1)?,
            "callback_destination" => self.callback_destination = opt(value),
            "callback_retries" => {
                self.callback_retries = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| SetError::BadValue("a number of attempts (1-100)".into()))?
            }
            "callback_retry_delay" => self.callback_retry_delay = secs(value)?,
            "service_level_threshold" => self.service_level_threshold = secs(value)?,
            "priority_weight" => {
                self.priority_weight = value
                    .trim()
                    .parse()
                    .map_err(|_| SetError::BadValue("a whole number of points".into()))?
            }
            "age_weight" => {
                self.age_weight = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n <= 1000)
                    .ok_or_else(|| SetError::BadValue("points per second (0-1000)".into()))?
            }
            "offer_timeout" => {
                self.offer_timeout = secs(value)?.max(1);
            }
            "default_handle_time" => self.default_handle_time = secs(value)?.max(1),
            _ => return Err(SetError::UnknownKey),
        }
        Ok(())
    }

    /// The text form of `key`, as [`QueueConfig::set`] reads it back.
    pub fn get(&self, key: &str) -> Option<String> {
        let key = key.trim().to_ascii_lowercase().replace('-', "_");
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        Some(match key.as_str() {
            "name" => self.name.clone(),
            "strategy" => self.strategy.to_string(),
            "moh_sound" => o(&self.moh_sound),
            "announce_sound" => o(&self.announce_sound),
            "announce_frequency" => self.announce_frequency.to_string(),
            "announce_position" => self.announce_position.to_string(),
            "record_template" => o(&self.record_template),
            "time_base_score" => self.time_base_score.to_string(),
            "ring_progressively_delay" => self.ring_progressively_delay.to_string(),
            "tier_rules_apply" => self.tier_rules_apply.to_string(),
            "tier_rule_wait_second" => self.tier_rule_wait_second.to_string(),
            "tier_rule_wait_multiply_level" => self.tier_rule_wait_multiply_level.to_string(),
            "tier_rule_no_agent_no_wait" => self.tier_rule_no_agent_no_wait.to_string(),
            "discard_abandoned_after" => self.discard_abandoned_after.to_string(),
            "abandoned_resume_allowed" => self.abandoned_resume_allowed.to_string(),
            "max_wait_time" => self.max_wait_time.to_string(),
            "max_wait_time_with_no_agent" => self.max_wait_time_with_no_agent.to_string(),
            "max_wait_time_with_no_agent_time_reached" => {
                self.max_wait_time_with_no_agent_time_reached.to_string()
            }
            "agent_no_answer_status" => self.agent_no_answer_status.to_string(),
            "timeout_destination" => o(&self.timeout_destination),
            "no_agent_destination" => o(&self.no_agent_destination),
            "exit_keys" => self.exit_keys.clone(),
            "exit_key_destination" => o(&self.exit_key_destination),
            "callback_key" => self.callback_key.clone(),
            "callback_destination" => o(&self.callback_destination),
            "callback_retries" => self.callback_retries.to_string(),
            "callback_retry_delay" => self.callback_retry_delay.to_string(),
            "service_level_threshold" => self.service_level_threshold.to_string(),
            "priority_weight" => self.priority_weight.to_string(),
            "age_weight" => self.age_weight.to_string(),
            "offer_timeout" => self.offer_timeout.to_string(),
            "default_handle_time" => self.default_handle_time.to_string(),
            _ => return None,
        })
    }

    /// Whether the queue offers callbacks (virtual hold).
    pub fn callback_allowed(&self) -> bool {
        !self.callback_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_sets_and_reads_back() {
        let mut q = QueueConfig::new("sales");
        for key in QUEUE_KEYS {
            let v = q.get(key).unwrap();
            q.set(key, &v)
                .unwrap_or_else(|e| panic!("{key}={v}: {e:?}"));
            assert_eq!(q.get(key).unwrap(), v, "{key}");
        }
        q.set("max-wait-time", "30").unwrap();
        assert_eq!(q.max_wait_time, 30);
        assert_eq!(q.set("nope", "1"), Err(SetError::UnknownKey));
        assert!(matches!(
            q.set("strategy", "fifo"),
            Err(SetError::BadValue(_))
        ));
        assert!(q.set("callback_key", "12").is_err());
    }
}
