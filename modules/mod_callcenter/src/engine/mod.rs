//! The ACD engine: queues, agents, tiers and waiting callers, as a sans-IO state machine.
//!
//! Drive loop (the host, e.g. the module's task):
//! ```text
//! loop {
//!     feed one input:  engine.handle_member_join(now, ..) / handle_offer_result(now, ..) /
//!                      handle_agent_hangup(now, ..) / set_agent_status(now, ..) / ...
//!     or, at the deadline:  engine.handle_timeout(now)
//!     drain:  while let Some(a) = engine.poll_action() { perform a }
//!     sleep until engine.poll_timeout()  (or the next input)
//! }
//! ```
//! Every input first fires the timers due at `now`, then applies itself, then routes: each
//! caller (highest score first, across queues) is offered to the agent its queue's strategy
//! picks among the agents free at `now`. An agent has at most one offer and one call at a
//! time, so it can never answer two offers.

mod admin;
mod agents;
mod callbacks;
mod dispatch;
mod events;
mod invariant;
mod members;
mod offers;
mod predict;
mod snapshot;
mod strategy;
mod timers;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

pub use agents::AGENT_KEYS;
pub use snapshot::{CallbackRecord, Snapshot};

use crate::action::{Action, OfferId};
use crate::config::{Config, Settings};
use crate::error::Error;
use crate::model::{Agent, Member, QueueConfig, Skills, Tier};
use crate::rng::SplitMix64;
use crate::score::Weights;
use crate::stats::History;
use crate::time::Timestamp;
use timers::{Timer, Timers};

/// The ACD. See the module documentation for the drive loop.
#[derive(Debug)]
pub struct Engine {
    pub(crate) settings: Settings,
    pub(crate) file: Config,
    pub(crate) queues: BTreeMap<String, QueueRt>,
    pub(crate) slots: Vec<Option<Slot>>,
    pub(crate) agent_ids: HashMap<String, usize>,
    pub(crate) members: HashMap<String, Member>,
    pub(crate) offers: HashMap<OfferId, OfferRt>,
    pub(crate) timers: Timers,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) rng: SplitMix64,
    pub(crate) next_offer: u64,
    pub(crate) seq: u64,
    pub(crate) tombstones: Tombstones,
    pub(crate) dirty: dispatch::Dirty,
    pub(crate) now: Timestamp,
}

impl Engine {
    /// An engine with the file's queues, agents and tiers, at `now`. Fails on a tier that
    /// names an unknown queue or agent.
    pub fn new(config: Config, now: Timestamp) -> Result<Engine, Error> {
        let mut e = Engine {
            settings: config.settings.clone(),
            file: config.clone(),
            queues: BTreeMap::new(),
            slots: Vec::new(),
            agent_ids: HashMap::new(),
            members: HashMap::new(),
            offers: HashMap::new(),
            timers: Timers::default(),
            actions: VecDeque::new(),
            rng: SplitMix64::new(config.settings.seed),
            next_offer: 1,
            seq: 0,
            tombstones: Tombstones::default(),
            dirty: dispatch::Dirty::default(),
            now,
        };
        for (name, q) in &config.queues {
            let mut q = q.clone();
            q.name = name.clone();
            e.insert_queue(q, now);
        }
        for (name, a) in &config.agents {
            let mut a = a.clone();
            a.name = name.clone();
            e.insert_agent(Agent::from_config(&a, now));
        }
        for t in &config.tiers {
            e.insert_tier(t.clone())?;
        }
        for name in e.queue_names() {
            e.refresh_no_agent(&name, now);
        }
        e.actions.clear();
        e.mark_all();
        Ok(e)
    }

    /// The next action for the host, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next deadline: call [`Engine::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.next()
    }

    /// Fires every timer due at `now` (caller timeouts, announcements, wrap-up ends, tier
    /// openings, callback retries), then routes.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.advance(now);
        self.dispatch();
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A queue's configuration.
    pub fn queue(&self, name: &str) -> Option<&QueueConfig> {
        self.queues.get(name).map(|q| &q.config)
    }

    /// Every queue, by name.
    pub fn queues(&self) -> impl Iterator<Item = &QueueConfig> {
        self.queues.values().map(|q| &q.config)
    }

    /// Answered and abandoned calls of a queue since start (`queue list` columns).
    pub fn queue_counters(&self, name: &str) -> Option<(u32, u32)> {
        self.queues
            .get(name)
            .map(|q| (q.calls_answered, q.calls_abandoned))
    }

    /// An agent.
    pub fn agent(&self, name: &str) -> Option<&Agent> {
        let id = *self.agent_ids.get(name)?;
        self.slot(id).map(|s| &s.agent)
    }

    /// Every agent, by name.
    pub fn agents(&self) -> Vec<&Agent> {
        let mut v: Vec<&Agent> = self.slots.iter().flatten().map(|s| &s.agent).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The offer an agent is ringing with, if any.
    pub fn agent_offer(&self, name: &str) -> Option<OfferId> {
        let id = *self.agent_ids.get(name)?;
        self.slot(id)?.offer
    }

    /// The agent leg (uuid) an agent is ringing or talking on, if any.
    pub fn agent_leg(&self, name: &str) -> Option<&str> {
        let id = *self.agent_ids.get(name)?;
        let s = self.slot(id)?;
        if let Some(m) = &s.call {
            return self
                .members
                .get(m)?
                .leg
                .as_ref()
                .map(|l| l.agent_uuid.as_str());
        }
        let o = s.offer?;
        self.offers.get(&o).map(|o| o.agent_uuid.as_str())
    }

    /// A queue's tiers by level and position.
    pub fn tiers(&self, queue: &str) -> Vec<&Tier> {
        self.queues
            .get(queue)
            .map(|q| q.tiers.iter().map(|t| &t.tier).collect())
            .unwrap_or_default()
    }

    /// Every tier, by level and position (`tier list`).
    pub fn all_tiers(&self) -> Vec<&Tier> {
        let mut v: Vec<&Tier> = self
            .queues
            .values()
            .flat_map(|q| q.tiers.iter().map(|t| &t.tier))
            .collect();
        v.sort_by_key(|a| (a.level, a.position));
        v
    }

    /// A member (waiting, being offered, bridged, or abandoned and resumable).
    pub fn member(&self, uuid: &str) -> Option<&Member> {
        self.members.get(uuid)
    }

    /// A queue's members, highest score first (answered and abandoned ones last).
    pub fn members(&self, queue: &str) -> Vec<&Member> {
        let Some(q) = self.queues.get(queue) else {
            return Vec::new();
        };
        let mut v: Vec<&Member> = q
            .order
            .values()
            .filter_map(|u| self.members.get(u))
            .collect();
        let mut rest: Vec<&Member> = self
            .members
            .values()
            .filter(|m| m.queue == queue && !q.order.contains_key(&m.order))
            .collect();
        rest.sort_by_key(|m| m.order);
        v.extend(rest);
        v
    }

    /// A member's score at `now`, in whole points.
    pub fn score(&self, uuid: &str, now: Timestamp) -> Option<i64> {
        let m = self.members.get(uuid)?;
        let q = self.queues.get(&m.queue)?;
        Some(crate::score::points_at(
            q.weights(),
            -m.order.0,
            now.as_millis(),
        ))
    }

    /// A waiting member's 1-based place in its queue.
    pub fn position(&self, uuid: &str) -> Option<u32> {
        let m = self.members.get(uuid)?;
        let q = self.queues.get(&m.queue)?;
        q.order
            .contains_key(&m.order)
            .then(|| u32::try_from(q.order.range(..m.order).count() + 1).unwrap_or(u32::MAX))
    }

    /// Callers waiting (Waiting or Trying, callbacks included) in a queue.
    pub fn waiting_count(&self, queue: &str) -> usize {
        self.queues.get(queue).map_or(0, |q| q.order.len())
    }

    // --- internals shared by the submodules ---

    pub(crate) fn slot(&self, id: usize) -> Option<&Slot> {
        self.slots.get(id).and_then(|s| s.as_ref())
    }

    pub(crate) fn slot_mut(&mut self, id: usize) -> Option<&mut Slot> {
        self.slots.get_mut(id).and_then(|s| s.as_mut())
    }

    pub(crate) fn queue_names(&self) -> Vec<String> {
        self.queues.keys().cloned().collect()
    }

    pub(crate) fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    /// Moves the clock to `now` (never backwards) and fires the timers due.
    pub(crate) fn advance(&mut self, now: Timestamp) -> Timestamp {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        let offset = self.settings.utc_offset_minutes;
        for q in self.queues.values_mut() {
            q.history.trim(now, offset);
        }
        while let Some(t) = self.timers.pop_due(now) {
            self.fire(t, now);
        }
        now
    }

    fn fire(&mut self, timer: Timer, now: Timestamp) {
        match timer {
            Timer::MaxWait(u) => self.on_max_wait(&u, now),
            Timer::NoAgent(u) => self.on_no_agent(&u, now),
            Timer::Announce(u) => self.on_announce(&u, now),
            Timer::CallbackRetry(u) => self.on_callback_retry(&u, now),
            Timer::Discard(u) => self.on_discard(&u),
            Timer::OfferGuard(id) => self.on_offer_guard(id, now),
            // Wake-ups: the routing pass after this input does the work.
            Timer::TierOpen(u) | Timer::RingNext(u) => self.mark_member(&u),
            Timer::AgentReady(name) => {
                if let Some(&id) = self.agent_ids.get(&name) {
                    self.mark_agent(id);
                }
            }
        }
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

// --- internal state ---

/// A waiting line: (−score key, join sequence) → member uuid.
pub(crate) type Line = BTreeMap<(i64, u64), String>;

/// One pending offer.
#[derive(Clone, Debug)]
pub(crate) struct OfferRt {
    pub member: String,
    pub agent: usize,
    pub queue: String,
    pub agent_uuid: String,
    pub created: Timestamp,
}

/// An agent and what it is busy with.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub agent: Agent,
    pub offer: Option<OfferId>,
    /// The member it is bridged to.
    pub call: Option<String>,
}

/// A tier with its agent's slot.
#[derive(Clone, Debug)]
pub(crate) struct TierRt {
    pub tier: Tier,
    pub agent: usize,
}

/// A queue and its waiting line.
#[derive(Clone, Debug)]
pub(crate) struct QueueRt {
    pub config: QueueConfig,
    /// Sorted by (level, position, agent).
    pub tiers: Vec<TierRt>,
    /// Agent slot → index in `tiers`.
    pub tier_index: HashMap<usize, usize>,
    /// Waiting callers (live and callbacks): (−score key, join sequence) → member uuid.
    pub order: Line,
    /// The same line split by required skills (one line per distinct set, ids stable), so a
    /// freed agent only visits the callers it can serve.
    pub class_ids: HashMap<Skills, usize>,
    pub classes: Vec<(Skills, Line)>,
    /// round-robin: the (level, position) last offered.
    pub rr_cursor: Option<(u32, u32)>,
    /// Since when no tier agent is logged in.
    pub no_agent_since: Option<Timestamp>,
    pub calls_answered: u32,
    pub calls_abandoned: u32,
    pub history: History,
}

impl QueueRt {
    fn new(config: QueueConfig) -> QueueRt {
        QueueRt {
            config,
            tiers: Vec::new(),
            tier_index: HashMap::new(),
            order: BTreeMap::new(),
            class_ids: HashMap::new(),
            classes: Vec::new(),
            rr_cursor: None,
            no_agent_since: None,
            calls_answered: 0,
            calls_abandoned: 0,
            history: History::default(),
        }
    }

    /// Puts a caller in line.
    pub fn line_insert(&mut self, key: (i64, u64), uuid: &str, skills: &Skills) {
        self.order.insert(key, uuid.to_string());
        let id = match self.class_ids.get(skills) {
            Some(id) => *id,
            None => {
                let id = self.classes.len();
                self.class_ids.insert(skills.clone(), id);
                self.classes.push((skills.clone(), BTreeMap::new()));
                id
            }
        };
        self.classes[id].1.insert(key, uuid.to_string());
    }

    /// Takes a caller out of line.
    pub fn line_remove(&mut self, key: &(i64, u64), skills: &Skills) {
        self.order.remove(key);
        if let Some(&id) = self.class_ids.get(skills) {
            self.classes[id].1.remove(key);
        }
    }

    /// Empties the line.
    pub fn line_clear(&mut self) {
        self.order.clear();
        for (_, line) in &mut self.classes {
            line.clear();
        }
    }

    pub fn weights(&self) -> Weights {
        Weights {
            priority_weight: self.config.priority_weight,
            age_weight: self.config.age_weight,
        }
    }

    pub fn sort_tiers(&mut self) {
        self.tiers.sort_by(|a, b| {
            (a.tier.level, a.tier.position, &a.tier.agent).cmp(&(
                b.tier.level,
                b.tier.position,
                &b.tier.agent,
            ))
        });
        self.tier_index = self
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.agent, i))
            .collect();
    }
}

/// Names deleted at run time, so a restart does not bring them back from the file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tombstones {
    pub agents: BTreeSet<String>,
    pub tiers: BTreeSet<(String, String)>,
    pub queues: BTreeSet<String>,
}
