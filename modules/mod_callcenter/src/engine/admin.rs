//! Run-time configuration: add, delete and set queues, agents and tiers (what
//! `callcenter_config` drives). Every change emits the Persist action the store needs.

use crate::action::{Action, PersistOp};
use crate::error::Error;
use crate::model::{
    Agent, CancelReason, MemberState, QueueConfig, SetError, Tier, TierState, TimeBaseScore,
};
use crate::score::order_key;
use crate::stats::Outcome;
use crate::time::Timestamp;

use super::{Engine, QueueRt, TierRt};
use crate::action::ExitReason;

pub(super) fn number(key: &str, value: &str) -> Result<u32, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::value(key, value, "a whole number"))
}

impl Engine {
    // --- queues ---

    /// Adds a queue at run time (persisted as an override of the file).
    pub fn add_queue(&mut self, now: Timestamp, config: QueueConfig) -> Result<(), Error> {
        let now = self.advance(now);
        if self.queues.contains_key(&config.name) {
            return Err(Error::QueueExists(config.name));
        }
        self.tombstones.queues.remove(&config.name);
        let name = config.name.clone();
        self.push(Action::Persist(PersistOp::SaveQueue(config.clone())));
        self.insert_queue(config, now);
        self.refresh_no_agent(&name, now);
        self.mark_all();
        Ok(())
    }

    /// Deletes a queue for good (persisted): its callers exit with QUEUE_REMOVED.
    pub fn del_queue(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        self.unload_queue(now, name)?;
        self.tombstones.queues.insert(name.to_string());
        self.push(Action::Persist(PersistOp::DeleteQueue(name.to_string())));
        Ok(())
    }

    /// Unloads a queue until it is loaded again or the switch restarts (`queue unload`).
    pub fn unload_queue(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        let now = self.advance(now);
        if !self.queues.contains_key(name) {
            return Err(Error::UnknownQueue(name.to_string()));
        }
        let members: Vec<(String, MemberState, bool)> = self
            .members
            .values()
            .filter(|m| m.queue == name)
            .map(|m| (m.uuid.clone(), m.state, m.is_live()))
            .collect();
        for (uuid, state, live) in members {
            match state {
                MemberState::Waiting | MemberState::Trying if live => {
                    self.exit_member(&uuid, ExitReason::QueueRemoved, now)
                }
                MemberState::Waiting | MemberState::Trying => self.remove_member(
                    &uuid,
                    Outcome::QueueRemoved,
                    CancelReason::QueueRemoved,
                    now,
                ),
                MemberState::Abandoned => {
                    self.members.remove(&uuid);
                }
                // A bridged call goes on; its end is still recorded.
                MemberState::Answered => {}
            }
        }
        self.queues.remove(name);
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Loads a queue (and its tiers) from the file configuration (`queue load`); a queue
    /// already loaded is left as it is.
    pub fn load_queue(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        let now = self.advance(now);
        if self.queues.contains_key(name) {
            return Ok(());
        }
        let mut config = self
            .file
            .queues
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownQueue(name.to_string()))?;
        config.name = name.to_string();
        self.tombstones.queues.remove(name);
        self.push(Action::Persist(PersistOp::ResetQueue(name.to_string())));
        self.insert_queue(config, now);
        let tiers: Vec<Tier> = self
            .file
            .tiers
            .iter()
            .filter(|t| t.queue == name)
            .cloned()
            .collect();
        for t in tiers {
            if self.insert_tier(t.clone()).is_ok() {
                self.push(Action::Persist(PersistOp::SaveTier(t)));
            }
        }
        self.refresh_no_agent(name, now);
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Puts a queue back to its file configuration (`queue reload`), keeping its callers.
    pub fn reload_queue(&mut self, now: Timestamp, name: &str) -> Result<(), Error> {
        let now = self.advance(now);
        if !self.queues.contains_key(name) {
            return self.load_queue(now, name);
        }
        let mut config = self
            .file
            .queues
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownQueue(name.to_string()))?;
        config.name = name.to_string();
        if let Some(q) = self.queues.get_mut(name) {
            q.config = config;
        }
        self.push(Action::Persist(PersistOp::ResetQueue(name.to_string())));
        self.requeue(name, now);
        self.dispatch();
        Ok(())
    }

    /// Sets one queue key at run time (`queue set <key> <queue> <value>`), persisted.
    pub fn set_queue(
        &mut self,
        now: Timestamp,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let q = self
            .queues
            .get_mut(name)
            .ok_or_else(|| Error::UnknownQueue(name.to_string()))?;
        q.config.set(key, value).map_err(|e| match e {
            SetError::UnknownKey => Error::InvalidKey {
                target: "Queue",
                key: key.to_string(),
            },
            SetError::BadValue(expected) => Error::value(key, value, expected),
        })?;
        let config = q.config.clone();
        self.push(Action::Persist(PersistOp::SaveQueue(config)));
        self.requeue(name, now);
        self.dispatch();
        Ok(())
    }

    /// After a queue's configuration changed: new score keys, timers again.
    fn requeue(&mut self, name: &str, now: Timestamp) {
        let Some(q) = self.queues.get(name) else {
            return;
        };
        let (w, base) = (q.weights(), q.config.time_base_score);
        let uuids: Vec<String> = self
            .members
            .values()
            .filter(|m| m.queue == name)
            .map(|m| m.uuid.clone())
            .collect();
        let mut line = Vec::new();
        for u in &uuids {
            let Some(m) = self.members.get_mut(u) else {
                continue;
            };
            let origin = match base {
                TimeBaseScore::Queue => m.joined,
                TimeBaseScore::System => m.system_epoch,
            };
            let was_waiting = self
                .queues
                .get(name)
                .is_some_and(|q| q.order.contains_key(&m.order));
            let key = order_key(w, m.base_score, m.priority, origin.as_millis());
            m.order = (key.saturating_neg(), m.order.1);
            if was_waiting {
                line.push((m.order, u.clone(), m.skills.clone()));
            }
        }
        if let Some(q) = self.queues.get_mut(name) {
            q.line_clear();
            for (key, u, skills) in &line {
                q.line_insert(*key, u, skills);
            }
        }
        for u in &uuids {
            if self.members.get(u).is_some_and(|m| m.is_waiting()) {
                self.arm_member_timers(u, now);
            }
        }
        self.refresh_no_agent(name, now);
        self.mark_all();
    }

    // --- agents ---

    // --- tiers ---

    /// Adds a tier (`tier add <queue> <agent> [level] [position]`), persisted.
    pub fn add_tier(&mut self, now: Timestamp, tier: Tier) -> Result<(), Error> {
        let now = self.advance(now);
        self.insert_tier(tier.clone())?;
        self.tombstones
            .tiers
            .remove(&(tier.queue.clone(), tier.agent.clone()));
        self.refresh_no_agent(&tier.queue, now);
        self.push(Action::Persist(PersistOp::SaveTier(tier)));
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Deletes a tier (`tier del <queue> <agent>`), persisted; an offer from that queue to
    /// that agent is canceled.
    pub fn del_tier(&mut self, now: Timestamp, queue: &str, agent: &str) -> Result<(), Error> {
        let now = self.advance(now);
        let id = self.tier_slot(queue, agent)?;
        let offer = self
            .slot(id)
            .and_then(|s| s.offer)
            .filter(|o| self.offers.get(o).is_some_and(|off| off.queue == queue));
        if let Some(o) = offer {
            let member = self.offers.get(&o).map(|off| off.member.clone());
            self.cancel_offer(o, "ORIGINATOR_CANCEL", now);
            if let Some(m) = member {
                self.after_offer_detached(&m, now);
            }
        }
        if let Some(q) = self.queues.get_mut(queue) {
            q.tiers.retain(|t| t.agent != id);
            q.sort_tiers();
        }
        self.tombstones
            .tiers
            .insert((queue.to_string(), agent.to_string()));
        self.push(Action::Persist(PersistOp::DeleteTier {
            queue: queue.to_string(),
            agent: agent.to_string(),
        }));
        self.refresh_no_agent(queue, now);
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Sets a tier's level, position or state (`tier set <key> <queue> <agent> <value>`).
    pub fn set_tier(
        &mut self,
        now: Timestamp,
        queue: &str,
        agent: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.advance(now);
        let id = self.tier_slot(queue, agent)?;
        let key_l = key.trim().to_ascii_lowercase();
        let Some(q) = self.queues.get_mut(queue) else {
            return Err(Error::UnknownQueue(queue.to_string()));
        };
        let Some(&i) = q.tier_index.get(&id) else {
            return Err(Error::UnknownTier {
                queue: queue.to_string(),
                agent: agent.to_string(),
            });
        };
        let t = &mut q.tiers[i].tier;
        match key_l.as_str() {
            "level" => t.level = number(key, value)?,
            "position" => t.position = number(key, value)?,
            "state" => {
                t.state = value
                    .parse::<TierState>()
                    .map_err(|e: crate::model::UnknownName| {
                        Error::value("state", value, e.expected)
                    })?
            }
            _ => {
                return Err(Error::InvalidKey {
                    target: "Tier",
                    key: key.to_string(),
                })
            }
        }
        let saved = t.clone();
        q.sort_tiers();
        self.push(Action::Persist(PersistOp::SaveTier(saved)));
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    /// Loads tiers from the file again (`tier reload <queue|all> [agent]`): each matching
    /// tier is added or gets the file's level and position back.
    pub fn reload_tiers(
        &mut self,
        now: Timestamp,
        queue: &str,
        agent: Option<&str>,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let all = queue.eq_ignore_ascii_case("all");
        if !all && !self.queues.contains_key(queue) {
            return Err(Error::UnknownQueue(queue.to_string()));
        }
        let tiers: Vec<Tier> = self
            .file
            .tiers
            .iter()
            .filter(|t| (all || t.queue == queue) && agent.is_none_or(|a| t.agent == a))
            .cloned()
            .collect();
        for t in tiers {
            let Ok(id) = self.tier_slot(&t.queue, &t.agent) else {
                if self.insert_tier(t.clone()).is_ok() {
                    self.tombstones
                        .tiers
                        .remove(&(t.queue.clone(), t.agent.clone()));
                    self.push(Action::Persist(PersistOp::SaveTier(t.clone())));
                    self.refresh_no_agent(&t.queue, now);
                }
                continue;
            };
            if let Some(q) = self.queues.get_mut(&t.queue) {
                if let Some(&i) = q.tier_index.get(&id) {
                    q.tiers[i].tier.level = t.level;
                    q.tiers[i].tier.position = t.position;
                    let saved = q.tiers[i].tier.clone();
                    q.sort_tiers();
                    self.push(Action::Persist(PersistOp::SaveTier(saved)));
                }
            }
        }
        self.mark_all();
        self.dispatch();
        Ok(())
    }

    // --- internals ---

    fn tier_slot(&self, queue: &str, agent: &str) -> Result<usize, Error> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_string()))?;
        let id = *self
            .agent_ids
            .get(agent)
            .ok_or_else(|| Error::UnknownAgent(agent.to_string()))?;
        if q.tier_index.contains_key(&id) {
            Ok(id)
        } else {
            Err(Error::UnknownTier {
                queue: queue.to_string(),
                agent: agent.to_string(),
            })
        }
    }

    pub(crate) fn insert_queue(&mut self, config: QueueConfig, now: Timestamp) {
        let name = config.name.clone();
        let mut q = QueueRt::new(config);
        q.no_agent_since = Some(now);
        self.queues.insert(name, q);
    }

    pub(crate) fn insert_agent(&mut self, agent: Agent) -> usize {
        let id = self.slots.len();
        self.agent_ids.insert(agent.name.clone(), id);
        self.slots.push(Some(super::Slot {
            agent,
            offer: None,
            call: None,
        }));
        id
    }

    pub(crate) fn insert_tier(&mut self, tier: Tier) -> Result<(), Error> {
        let id = *self
            .agent_ids
            .get(&tier.agent)
            .ok_or_else(|| Error::UnknownAgent(tier.agent.clone()))?;
        let q = self
            .queues
            .get_mut(&tier.queue)
            .ok_or_else(|| Error::UnknownQueue(tier.queue.clone()))?;
        if q.tier_index.contains_key(&id) {
            return Err(Error::TierExists {
                queue: tier.queue,
                agent: tier.agent,
            });
        }
        q.tiers.push(TierRt { tier, agent: id });
        q.sort_tiers();
        Ok(())
    }
}
