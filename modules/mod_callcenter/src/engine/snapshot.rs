//! What survives a restart: agents, tiers, queue overrides, tombstones and waiting
//! callbacks. The engine stays pure: it emits `Persist` actions as things change and can
//! produce a whole [`Snapshot`]; the host keeps either in the store and hands the snapshot
//! back at start-up to [`Engine::restore`].
//!
//! Precedence at restore: the file's queues, agents and tiers first, then the snapshot over
//! them (what was changed at run time wins; tombstones delete what the file still has).
//! `agent reload`, `queue reload`/`load` and `tier reload` put the file's values back.
//! Live callers do not survive (their channels are gone); callbacks do, keeping their place.
//! Agents come back with their status and counters; their state restarts as Waiting (Idle
//! stays Idle), since no call is in progress after a restart.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Error;
use crate::model::{
    Agent, AgentState, Callback, CallbackState, Member, MemberState, QueueConfig, Skills, Tier,
    TierState, TimeBaseScore,
};
use crate::score::order_key;
use crate::stats::CallRecord;
use crate::time::Timestamp;

use super::Engine;

/// A waiting callback as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRecord {
    /// The member uuid.
    pub uuid: String,
    /// The queue.
    pub queue: String,
    /// The number to call back.
    pub number: String,
    /// Caller id number.
    pub cid_number: String,
    /// Caller id name.
    pub cid_name: String,
    /// Priority steps.
    pub priority: u32,
    /// Base score.
    pub base_score: i64,
    /// Required skills.
    pub skills: Skills,
    /// When the call entered the switch.
    pub system_epoch: Timestamp,
    /// When it joined the queue (its place).
    pub joined: Timestamp,
    /// When it asked for the callback.
    pub requested: Timestamp,
    /// Attempts made.
    pub attempts: u32,
}

/// Everything the store keeps about the engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every agent.
    pub agents: Vec<Agent>,
    /// Agents deleted at run time.
    pub deleted_agents: Vec<String>,
    /// Every tier.
    pub tiers: Vec<Tier>,
    /// Tiers deleted at run time (queue, agent).
    pub deleted_tiers: Vec<(String, String)>,
    /// Queues whose configuration differs from the file (or that only exist at run time).
    pub queues: Vec<QueueConfig>,
    /// Queues deleted at run time.
    pub deleted_queues: Vec<String>,
    /// Waiting callbacks.
    pub callbacks: Vec<CallbackRecord>,
}

/// The stored form of a member's callback, if it has one.
pub(crate) fn callback_record(m: &Member) -> Option<CallbackRecord> {
    let c = m.callback.as_ref()?;
    Some(CallbackRecord {
        uuid: m.uuid.clone(),
        queue: m.queue.clone(),
        number: c.number.clone(),
        cid_number: m.cid_number.clone(),
        cid_name: m.cid_name.clone(),
        priority: m.priority,
        base_score: m.base_score,
        skills: m.skills.clone(),
        system_epoch: m.system_epoch,
        joined: m.joined,
        requested: c.requested,
        attempts: c.attempts,
    })
}

impl Engine {
    /// Everything a restart needs, as of now.
    pub fn snapshot(&self) -> Snapshot {
        let mut queues: Vec<QueueConfig> = Vec::new();
        for (name, q) in &self.queues {
            let mut file = self.file.queues.get(name).cloned();
            if let Some(f) = file.as_mut() {
                f.name = name.clone();
            }
            if file.as_ref() != Some(&q.config) {
                queues.push(q.config.clone());
            }
        }
        let mut callbacks: Vec<CallbackRecord> =
            self.members.values().filter_map(callback_record).collect();
        callbacks.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        Snapshot {
            agents: self.agents().into_iter().cloned().collect(),
            deleted_agents: self.tombstones.agents.iter().cloned().collect(),
            tiers: self.all_tiers().into_iter().cloned().collect(),
            deleted_tiers: self.tombstones.tiers.iter().cloned().collect(),
            queues,
            deleted_queues: self.tombstones.queues.iter().cloned().collect(),
            callbacks,
        }
    }

    /// An engine from the file configuration and a stored snapshot (see the module
    /// documentation for the precedence). Snapshot entries naming what no longer exists
    /// (a tier of a deleted queue) are dropped.
    pub fn restore(config: Config, snap: Snapshot, now: Timestamp) -> Result<Engine, Error> {
        let mut e = Engine::new(config, now)?;
        for name in &snap.deleted_queues {
            e.queues.remove(name);
            e.tombstones.queues.insert(name.clone());
        }
        for q in snap.queues {
            let name = q.name.clone();
            match e.queues.get_mut(&name) {
                Some(rt) => rt.config = q,
                None => e.insert_queue(q, now),
            }
        }
        for name in &snap.deleted_agents {
            if let Some(id) = e.agent_ids.remove(name) {
                e.slots[id] = None;
                for q in e.queues.values_mut() {
                    q.tiers.retain(|t| t.agent != id);
                    q.sort_tiers();
                }
            }
            e.tombstones.agents.insert(name.clone());
        }
        for mut a in snap.agents {
            // No call survives a restart (as FreeSWITCH: state Waiting, no uuid); an agent
            // set Idle on purpose stays Idle.
            if a.state != AgentState::Idle {
                a.state = AgentState::Waiting;
            }
            if a.agent_type == crate::model::AgentType::UuidStandby {
                a.uuid.clear();
            }
            match e.agent_ids.get(&a.name) {
                Some(&id) => {
                    if let Some(s) = e.slot_mut(id) {
                        s.agent = a;
                    }
                }
                None => {
                    e.insert_agent(a);
                }
            }
        }
        for (queue, agent) in &snap.deleted_tiers {
            if let (Some(&id), Some(q)) = (e.agent_ids.get(agent), e.queues.get_mut(queue)) {
                q.tiers.retain(|t| t.agent != id);
                q.sort_tiers();
            }
            e.tombstones.tiers.insert((queue.clone(), agent.clone()));
        }
        for mut t in snap.tiers {
            t.state = TierState::Ready;
            let Some(&id) = e.agent_ids.get(&t.agent) else {
                continue;
            };
            let Some(q) = e.queues.get_mut(&t.queue) else {
                continue;
            };
            match q.tier_index.get(&id) {
                Some(&i) => q.tiers[i].tier = t,
                None => q.tiers.push(super::TierRt { tier: t, agent: id }),
            }
            q.sort_tiers();
        }
        for cb in snap.callbacks {
            let uuid = cb.uuid.clone();
            e.restore_callback(cb);
            e.arm_member_timers(&uuid, now);
        }
        for name in e.queue_names() {
            e.refresh_no_agent(&name, now);
        }
        e.actions.clear();
        e.mark_all();
        Ok(e)
    }

    fn restore_callback(&mut self, cb: CallbackRecord) {
        let Some(q) = self.queues.get_mut(&cb.queue) else {
            return;
        };
        let origin = match q.config.time_base_score {
            TimeBaseScore::Queue => cb.joined,
            TimeBaseScore::System => cb.system_epoch,
        };
        let key = order_key(q.weights(), cb.base_score, cb.priority, origin.as_millis());
        self.seq += 1;
        let order = (key.saturating_neg(), self.seq);
        let mut record = CallRecord::start(&cb.queue, &cb.uuid, cb.joined);
        record.cid_number = cb.cid_number.clone();
        record.cid_name = cb.cid_name.clone();
        record.priority = cb.priority;
        record.callback = true;
        q.line_insert(order, &cb.uuid, &cb.skills);
        let m = Member {
            uuid: cb.uuid.clone(),
            session_uuid: None,
            queue: cb.queue,
            cid_number: cb.cid_number,
            cid_name: cb.cid_name,
            system_epoch: cb.system_epoch,
            joined: cb.joined,
            rejoined: Timestamp::ZERO,
            bridged: Timestamp::ZERO,
            abandoned: Timestamp::ZERO,
            priority: cb.priority,
            base_score: cb.base_score,
            skills: cb.skills,
            state: MemberState::Waiting,
            serving_agent: None,
            callback: Some(Callback {
                number: cb.number,
                requested: cb.requested,
                attempts: cb.attempts,
                state: CallbackState::Pending,
            }),
            callback_number: None,
            offers: Vec::new(),
            order,
            last_tier: None,
            last_ring: Timestamp::ZERO,
            exit_pending: None,
            record,
            leg: None,
        };
        self.members.insert(cb.uuid, m);
    }
}
