//! Agents: who answers queue calls, how they are reached, their status and state, their
//! timers (wrap-up, reject/busy/no-answer delays) and counters.

use serde::{Deserialize, Serialize};

use super::names::{AgentState, AgentStatus, AgentType};
use super::skills::Skills;
use crate::time::Timestamp;

/// An agent as configured (the file's `[agents.NAME]`, `agent add`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// The agent's name (the key of `[agents.NAME]`, which wins).
    pub name: String,
    /// How the agent is reached.
    #[serde(rename = "type")]
    pub agent_type: AgentType,
    /// Dial string for `callback` agents, e.g. `user/1000`.
    pub contact: String,
    /// Status at first load.
    pub status: AgentStatus,
    /// Consecutive unanswered offers before the agent is set to the queue's
    /// agent_no_answer_status (On Break); 0: never.
    pub max_no_answer: u32,
    /// Seconds after a call before the next offer.
    pub wrap_up_time: u32,
    /// Seconds before a new offer after the agent rejected one.
    pub reject_delay_time: u32,
    /// Seconds before a new offer after the agent was busy.
    pub busy_delay_time: u32,
    /// Seconds before a new offer after the agent did not answer.
    pub no_answer_delay_time: u32,
    /// Skills with levels, e.g. `"english=5,billing=3"`.
    pub skills: Skills,
}

impl Default for AgentConfig {
    fn default() -> AgentConfig {
        AgentConfig {
            name: String::new(),
            agent_type: AgentType::Callback,
            contact: String::new(),
            status: AgentStatus::LoggedOut,
            max_no_answer: 0,
            wrap_up_time: 0,
            reject_delay_time: 0,
            busy_delay_time: 0,
            no_answer_delay_time: 0,
            skills: Skills::new(),
        }
    }
}

impl AgentConfig {
    /// An agent of type `callback` reached at `contact`, Logged Out.
    pub fn new(name: &str, contact: &str) -> AgentConfig {
        AgentConfig {
            name: name.to_string(),
            contact: contact.to_string(),
            ..AgentConfig::default()
        }
    }
}

/// An agent with its live status, state and counters. The engine owns agents; read them with
/// `Engine::agent` and change them through the engine (or `callcenter_config agent set`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// The agent's name.
    pub name: String,
    /// How the agent is reached.
    pub agent_type: AgentType,
    /// Dial string (callback agents).
    pub contact: String,
    /// The parked call's uuid (uuid-standby agents).
    pub uuid: String,
    /// Personal status.
    pub status: AgentStatus,
    /// Reason code while On Break (e.g. `lunch`), if one was given.
    pub break_reason: Option<String>,
    /// What the agent is doing.
    pub state: AgentState,
    /// See [`AgentConfig::max_no_answer`].
    pub max_no_answer: u32,
    /// Seconds of wrap-up after each call.
    pub wrap_up_time: u32,
    /// Seconds of delay after a rejected offer.
    pub reject_delay_time: u32,
    /// Seconds of delay after a busy offer.
    pub busy_delay_time: u32,
    /// Seconds of delay after an unanswered offer.
    pub no_answer_delay_time: u32,
    /// Skills with levels.
    pub skills: Skills,
    /// When the agent's last queue call was bridged (zero: never).
    pub last_bridge_start: Timestamp,
    /// When the agent's last queue call ended (zero: never).
    pub last_bridge_end: Timestamp,
    /// When the agent was last offered a call.
    pub last_offered_call: Timestamp,
    /// When the status last changed.
    pub last_status_change: Timestamp,
    /// Consecutive unanswered offers.
    pub no_answer_count: u32,
    /// Calls answered since the status last became Available.
    pub calls_answered: u32,
    /// Seconds talked since the status last became Available.
    pub talk_time: u64,
    /// No offer before this time (reject/busy/no-answer delays).
    pub ready_time: Timestamp,
    /// Offers that failed because the agent's phone could not be reached.
    pub unreachable_count: u32,
}

impl Agent {
    /// A fresh agent from its configuration, the status taking effect at `now`.
    pub fn from_config(c: &AgentConfig, now: Timestamp) -> Agent {
        Agent {
            name: c.name.clone(),
            agent_type: c.agent_type,
            contact: c.contact.clone(),
            uuid: String::new(),
            status: c.status,
            break_reason: None,
            state: AgentState::Waiting,
            max_no_answer: c.max_no_answer,
            wrap_up_time: c.wrap_up_time,
            reject_delay_time: c.reject_delay_time,
            busy_delay_time: c.busy_delay_time,
            no_answer_delay_time: c.no_answer_delay_time,
            skills: c.skills.clone(),
            last_bridge_start: Timestamp::ZERO,
            last_bridge_end: Timestamp::ZERO,
            last_offered_call: Timestamp::ZERO,
            last_status_change: now,
            no_answer_count: 0,
            calls_answered: 0,
            talk_time: 0,
            ready_time: Timestamp::ZERO,
            unreachable_count: 0,
        }
    }

    /// The agent's configuration part (what `agent reload` and the file set).
    pub fn config(&self) -> AgentConfig {
        AgentConfig {
            name: self.name.clone(),
            agent_type: self.agent_type,
            contact: self.contact.clone(),
            status: self.status,
            max_no_answer: self.max_no_answer,
            wrap_up_time: self.wrap_up_time,
            reject_delay_time: self.reject_delay_time,
            busy_delay_time: self.busy_delay_time,
            no_answer_delay_time: self.no_answer_delay_time,
            skills: self.skills.clone(),
        }
    }

    /// Applies a configuration, keeping status, state and counters.
    pub fn apply_config(&mut self, c: &AgentConfig) {
        self.agent_type = c.agent_type;
        self.contact = c.contact.clone();
        self.max_no_answer = c.max_no_answer;
        self.wrap_up_time = c.wrap_up_time;
        self.reject_delay_time = c.reject_delay_time;
        self.busy_delay_time = c.busy_delay_time;
        self.no_answer_delay_time = c.no_answer_delay_time;
        self.skills = c.skills.clone();
    }

    /// Whether the status lets the agent take calls (Available or Available (On Demand)).
    pub fn is_available(&self) -> bool {
        matches!(
            self.status,
            AgentStatus::Available | AgentStatus::AvailableOnDemand
        )
    }

    /// Whether the agent is logged in (any status but Logged Out).
    pub fn is_logged_in(&self) -> bool {
        self.status != AgentStatus::LoggedOut
    }

    /// When the wrap-up after the last call ends (zero if the agent never had a call).
    pub fn wrap_up_until(&self) -> Timestamp {
        if self.last_bridge_end.is_zero() {
            Timestamp::ZERO
        } else {
            self.last_bridge_end.plus_secs(u64::from(self.wrap_up_time))
        }
    }

    /// Whether the agent is in wrap-up at `now`.
    pub fn in_wrap_up(&self, now: Timestamp) -> bool {
        self.state == AgentState::Waiting && now < self.wrap_up_until()
    }

    /// The first time the agent may be offered a call again (wrap-up and delays), if later
    /// than `now`.
    pub fn ready_at(&self, now: Timestamp) -> Option<Timestamp> {
        let at = self.wrap_up_until().max(self.ready_time);
        (at > now).then_some(at)
    }

    /// Whether an offer could be made to the agent at `now`: available status, Waiting
    /// state, wrap-up and delays over. (The engine also checks that no offer is pending.)
    pub fn offerable(&self, now: Timestamp) -> bool {
        self.is_available() && self.state == AgentState::Waiting && self.ready_at(now).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_up_and_delays_gate_offers() {
        let mut c = AgentConfig::new("1000", "user/1000");
        c.status = AgentStatus::Available;
        c.wrap_up_time = 10;
        let mut a = Agent::from_config(&c, Timestamp::from_secs(1));
        assert!(a.offerable(Timestamp::from_secs(1)));
        a.last_bridge_end = Timestamp::from_secs(100);
        assert!(a.in_wrap_up(Timestamp::from_secs(105)));
        assert!(!a.offerable(Timestamp::from_secs(109)));
        assert!(a.offerable(Timestamp::from_secs(110)));
        a.ready_time = Timestamp::from_secs(120);
        assert_eq!(
            a.ready_at(Timestamp::from_secs(110)),
            Some(Timestamp::from_secs(120))
        );
        a.status = AgentStatus::OnBreak;
        assert!(!a.offerable(Timestamp::from_secs(200)));
    }
}
