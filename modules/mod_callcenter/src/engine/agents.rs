//! Run-time agent changes: add, delete, reload, status, state and keys (what
//! `callcenter_config agent ...` drives). Every change emits the Persist action the store needs.

use crate::action::{Action, PersistOp};
use crate::error::Error;
use crate::model::{Agent, AgentConfig, AgentState, AgentStatus};
use crate::time::Timestamp;

use super::admin::number;
use super::Engine;

/// Every key of `agent set`.
pub const AGENT_KEYS: &[&str] = &[
    "status",
    "state",
    "contact",
    "uuid",
    "type",
    "max_no_answer",
    "wrap_up_time",
    "reject_delay_time",
    "busy_delay_time",
    "no_answer_delay_time",
    "ready_time",
    "skills",
    "break_reason",
];

impl Engine {
    /// Adds an agent (`agent add <name> <type>`), persisted.
    pub fn add_agent(&mut self, now: Timestamp, config: AgentConfig) -> Result<(), Error> {
        let now = self.advance(now);
        if self.agent_ids.contains_key(&config.name) {
            return Err(Error::AgentExists(config.name));
        }
        self.tombstones.agents.remove(&config.name);
        let agent = Agent::from_config(&config, now);
        let id = self.insert_agent(agent);
        self.ev_agent_simple(
            &config.name,
            "agent-add",
            Some(("CC-Agent-Type", config.agent_type.as_str())),
        );
        self.persist_agent(id);
        self.mark_agent(id);
        self.dispatch();
        Ok(())
    }

    /// Deletes an agent and its tiers (`agent del`), persisted. A ringing offer is canceled;
    /// a call in progress goes on but is recorded as ended now.
    pub fn del_agent(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        let now = self.advance(now);
        let id = *self
            .agent_ids
            .get(name)
            .ok_or_else(|| Error::UnknownAgent(name.to_string()))?;
        let (offer, call) = match self.slot(id) {
            Some(s) => (s.offer, s.call.clone()),
            None => (None, None),
        };
        if let Some(o) = offer {
            let member = self.offers.get(&o).map(|off| off.member.clone());
            self.cancel_offer(o, "ORIGINATOR_CANCEL", now);
            if let Some(m) = member {
                self.after_offer_detached(&m, now);
            }
        }
        if let Some(m) = call {
            self.end_bridge(&m, now);
        }
        let queues: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| q.tier_index.contains_key(&id))
            .map(|(n, _)| n.clone())
            .collect();
        for qn in &queues {
            if let Some(q) = self.queues.get_mut(qn) {
                q.tiers.retain(|t| t.agent != id);
                q.sort_tiers();
            }
        }
        self.slots[id] = None;
        self.agent_ids.remove(name);
        self.tombstones.agents.insert(name.to_string());
        self.push(Action::Persist(PersistOp::DeleteAgent(name.to_string())));
        for qn in &queues {
            self.refresh_no_agent(qn, now);
        }
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Puts an agent back to its file configuration (`agent reload`), keeping its status
    /// and counters; adds it if only the file has it.
    pub fn reload_agent(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        let mut config = self
            .file
            .agents
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownAgent(name.to_string()))?;
        config.name = name.to_string();
        let Some(&id) = self.agent_ids.get(name) else {
            return self.add_agent(now, config);
        };
        self.advance(now);
        if let Some(s) = self.slot_mut(id) {
            s.agent.apply_config(&config);
        }
        self.persist_agent(id);
        self.mark_agent(id);
        self.dispatch();
        Ok(())
    }

    /// Sets an agent's status (`agent set status <agent> <status> [reason]`). Going
    /// Available resets its counters (as FreeSWITCH); leaving the available statuses cancels
    /// a ringing offer at once.
    pub fn set_agent_status(
        &mut self,
        now: Timestamp,
        name: &str,
        status: AgentStatus,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let id = *self
            .agent_ids
            .get(name)
            .ok_or_else(|| Error::UnknownAgent(name.to_string()))?;
        self.apply_status(id, status, reason, now);
        self.dispatch();
        Ok(())
    }

    /// Sets an agent's state by hand (`agent set state`): Idle or Waiting, and not while the
    /// agent rings or talks (the engine owns Receiving and In a queue call).
    pub fn set_agent_state(
        &mut self,
        now: Timestamp,
        name: &str,
        state: AgentState,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let id = *self
            .agent_ids
            .get(name)
            .ok_or_else(|| Error::UnknownAgent(name.to_string()))?;
        let Some(s) = self.slot_mut(id) else {
            return Err(Error::UnknownAgent(name.to_string()));
        };
        if matches!(state, AgentState::Receiving | AgentState::InAQueueCall) {
            return Err(Error::NotAllowed(format!(
                "state '{state}' is set by the engine (agent {name})"
            )));
        }
        if s.offer.is_some() || s.call.is_some() {
            return Err(Error::NotAllowed(format!(
                "agent {name} is {} (its state changes when that ends)",
                s.agent.state
            )));
        }
        s.agent.state = state;
        self.ev_agent_state(name, state);
        self.mark_agent(id);
        let _ = now;
        self.dispatch();
        Ok(())
    }

    /// Sets one agent key from text (`agent set <key> <agent> <value>`; see [`AGENT_KEYS`]).
    pub fn set_agent(
        &mut self,
        now: Timestamp,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let key_l = key.trim().to_ascii_lowercase();
        match key_l.as_str() {
            "status" => {
                let status: AgentStatus =
                    value.parse().map_err(|e: crate::model::UnknownName| {
                        Error::value("status", value, e.expected)
                    })?;
                return self.set_agent_status(now, name, status, None);
            }
            "state" => {
                let state: AgentState = value.parse().map_err(|e: crate::model::UnknownName| {
                    Error::value("state", value, e.expected)
                })?;
                return self.set_agent_state(now, name, state);
            }
            _ => {}
        }
        let now = self.advance(now);
        let id = *self
            .agent_ids
            .get(name)
            .ok_or_else(|| Error::UnknownAgent(name.to_string()))?;
        let Some(s) = self.slot_mut(id) else {
            return Err(Error::UnknownAgent(name.to_string()));
        };
        let a = &mut s.agent;
        let mut contact_changed = false;
        match key_l.as_str() {
            "contact" => {
                a.contact = value.to_string();
                contact_changed = true;
            }
            "uuid" => a.uuid = value.to_string(),
            "type" => {
                a.agent_type = value.parse().map_err(|e: crate::model::UnknownName| {
                    Error::value("type", value, e.expected)
                })?
            }
            "max_no_answer" => a.max_no_answer = number(key, value)?,
            "wrap_up_time" => a.wrap_up_time = number(key, value)?,
            "reject_delay_time" => a.reject_delay_time = number(key, value)?,
            "busy_delay_time" => a.busy_delay_time = number(key, value)?,
            "no_answer_delay_time" => a.no_answer_delay_time = number(key, value)?,
            "ready_time" => {
                let secs: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| Error::value(key, value, "epoch seconds"))?;
                a.ready_time = Timestamp::from_secs(secs);
            }
            "skills" => {
                a.skills = value.parse().map_err(|e: crate::model::BadSkills| {
                    Error::value("skills", value, e.to_string())
                })?
            }
            "break_reason" => {
                let v = value.trim();
                a.break_reason = (!v.is_empty()).then(|| v.to_string());
            }
            _ => {
                return Err(Error::InvalidKey {
                    target: "Agent",
                    key: key.to_string(),
                })
            }
        }
        let ready = a.ready_at(now);
        if let Some(at) = ready {
            self.timers
                .set(super::timers::Timer::AgentReady(name.to_string()), at);
        }
        if contact_changed {
            self.ev_agent_simple(
                name,
                "agent-contact-change",
                Some(("CC-Agent-Contact", value)),
            );
        }
        self.persist_agent(id);
        self.mark_agent(id);
        self.dispatch();
        Ok(())
    }

    /// Applies a status change to an agent slot.
    pub(crate) fn apply_status(
        &mut self,
        id: usize,
        status: AgentStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) {
        let Some(s) = self.slot_mut(id) else {
            return;
        };
        let a = &mut s.agent;
        let old = a.status;
        a.status = status;
        a.last_status_change = now;
        if status == AgentStatus::Available && old != AgentStatus::Available {
            a.talk_time = 0;
            a.calls_answered = 0;
            a.no_answer_count = 0;
        }
        a.break_reason = match status {
            AgentStatus::OnBreak => reason.map(str::to_string),
            _ => None,
        };
        let available = a.is_available();
        let mut state_change = None;
        if available && a.state == AgentState::Idle && s.offer.is_none() && s.call.is_none() {
            a.state = AgentState::Waiting;
            state_change = Some(AgentState::Waiting);
        }
        let name = a.name.clone();
        let offer = if available { None } else { s.offer };
        let reason = s.agent.break_reason.clone();
        self.ev_agent_status(&name, status, reason.as_deref());
        if let Some(st) = state_change {
            self.ev_agent_state(&name, st);
        }
        if let Some(o) = offer {
            let member = self.offers.get(&o).map(|off| off.member.clone());
            self.cancel_offer(o, "ORIGINATOR_CANCEL", now);
            if let Some(m) = member {
                self.after_offer_detached(&m, now);
            }
        }
        let queues: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| q.tier_index.contains_key(&id))
            .map(|(n, _)| n.clone())
            .collect();
        for q in &queues {
            self.refresh_no_agent(q, now);
        }
        // Logging in or out changes which tier levels count as empty
        // (tier_rule_no_agent_no_wait): the free agents of those queues may now be reachable.
        if old.is_logged_in() != status.is_logged_in() {
            self.mark_free_agents(&queues);
        }
        self.persist_agent(id);
        self.mark_agent(id);
    }

    fn mark_free_agents(&mut self, queues: &[String]) {
        let now = self.now;
        let mut free = Vec::new();
        for name in queues {
            let Some(q) = self.queues.get(name) else {
                continue;
            };
            if !(q.config.tier_rules_apply && q.config.tier_rule_no_agent_no_wait) {
                continue;
            }
            for t in &q.tiers {
                let ok = self.slot(t.agent).is_some_and(|s| {
                    s.offer.is_none() && s.call.is_none() && s.agent.offerable(now)
                });
                if ok {
                    free.push(t.agent);
                }
            }
        }
        for id in free {
            self.mark_agent(id);
        }
    }
}
