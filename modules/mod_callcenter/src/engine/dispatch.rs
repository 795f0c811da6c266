//! The routing pass: match waiting callers to free agents.
//!
//! 1. For each queue with callers, collect the tier agents free now (the candidates) and,
//!    per tier level, how many agents are logged in (for tier_rule_no_agent_no_wait).
//! 2. Visit callers highest score first across all queues (each queue's line is already in
//!    score order; the heads are merged by their score at `now`).
//! 3. For each caller, the open tier levels bound the candidates and the queue's strategy
//!    picks; the pick is offered. A queue whose candidates are all taken is done.
//!
//! After every pass no waiting caller can be served by a free agent. So an input only needs
//! a pass *focused* on what it changed: a caller that joined (or came back to waiting) is
//! tried against the free agents; an agent that became free visits the line, highest score
//! first, until a caller takes it (callers it cannot serve cost one skill and level check).
//! Changes that can affect everyone (queue settings, tier edits, a restore) run a full pass.
//! Timers that make a caller or an agent eligible (tier level opening, ring-progressively,
//! callback retry, wrap-up or delay end) mark that caller or agent.
//!
//! Cost: O(tiers of the queue) to collect, then O(log n + candidates) per caller visited.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;

use crate::model::{CallbackState, MemberState, QueueConfig, Strategy};
use crate::score::score_at;
use crate::time::Timestamp;

use super::strategy::{choose, Cand, Ctx, Pick};
use super::timers::Timer;
use super::Engine;

struct Pass {
    queue: String,
    cands: Vec<Cand>,
    /// (level, agents logged in), ascending.
    levels: Vec<(u32, u32)>,
    free: usize,
}

/// The highest tier level open to a caller who joined at `joined`, and when the next one
/// opens. The lowest level is always open. Level L above it opens after
/// tier_rule_wait_second × L (tier_rule_wait_multiply_level) or tier_rule_wait_second, or at
/// once if tier_rule_no_agent_no_wait and the level below has no agent logged in.
pub(crate) fn open_level(
    q: &QueueConfig,
    levels: &[(u32, u32)],
    joined: Timestamp,
    now: Timestamp,
) -> (u32, Option<Timestamp>) {
    if !q.tier_rules_apply {
        return (u32::MAX, None);
    }
    let Some(&(first, _)) = levels.first() else {
        return (u32::MAX, None);
    };
    let waited = now.since(joined).as_millis() as u64;
    let mut open = first;
    for w in levels.windows(2) {
        let ((_, below_logged_in), (level, _)) = (w[0], w[1]);
        if q.tier_rule_no_agent_no_wait && below_logged_in == 0 {
            open = level;
            continue;
        }
        let factor = if q.tier_rule_wait_multiply_level {
            u64::from(level)
        } else {
            1
        };
        let gate_ms = u64::from(q.tier_rule_wait_second) * 1000 * factor;
        if waited >= gate_ms {
            open = level;
        } else {
            return (
                open,
                Some(joined + std::time::Duration::from_millis(gate_ms)),
            );
        }
    }
    (open, None)
}

/// What changed since the last pass.
#[derive(Debug, Default)]
pub(crate) struct Dirty {
    pub full: bool,
    pub agents: Vec<usize>,
    pub members: Vec<String>,
}

/// What a pass looks at.
#[derive(Clone, Debug)]
enum Focus {
    All,
    Agent(usize),
    Member(String),
}

impl Engine {
    /// Every caller may have become servable: the next pass is a full one.
    pub(crate) fn mark_all(&mut self) {
        self.dirty.full = true;
    }

    /// An agent may have become free.
    pub(crate) fn mark_agent(&mut self, id: usize) {
        if !self.dirty.agents.contains(&id) {
            self.dirty.agents.push(id);
        }
    }

    /// A caller may have become servable.
    pub(crate) fn mark_member(&mut self, uuid: &str) {
        if !self.dirty.members.iter().any(|m| m == uuid) {
            self.dirty.members.push(uuid.to_string());
        }
    }

    /// Routes what the last changes made possible: freed agents first (they serve the best
    /// caller), then callers that joined or came back.
    pub(crate) fn dispatch(&mut self) {
        loop {
            let dirty = std::mem::take(&mut self.dirty);
            if dirty.full {
                self.route(Focus::All);
            } else {
                for a in dirty.agents {
                    self.route(Focus::Agent(a));
                }
                // Callers in score order, so a later caller never takes an earlier one's agent.
                let now = self.now;
                let mut members: Vec<(i64, u64, String)> = dirty
                    .members
                    .into_iter()
                    .filter_map(|u| {
                        let m = self.members.get(&u)?;
                        let q = self.queues.get(&m.queue)?;
                        let score = score_at(q.weights(), -m.order.0, now.as_millis());
                        Some((score, m.order.1, u))
                    })
                    .collect();
                members.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                for (_, _, m) in members {
                    self.route(Focus::Member(m));
                }
            }
            // Routing can free agents again (a ring-all winner cancels the others).
            if !self.dirty.full && self.dirty.agents.is_empty() && self.dirty.members.is_empty() {
                break;
            }
        }
    }

    fn route(&mut self, focus: Focus) {
        let now = self.now;
        let focus_queue = match &focus {
            Focus::Member(u) => match self.members.get(u) {
                Some(m) if m.is_waiting() => Some(m.queue.clone()),
                _ => return,
            },
            Focus::Agent(id) => {
                let free = self.slot(*id).is_some_and(|s| {
                    s.offer.is_none() && s.call.is_none() && s.agent.offerable(now)
                });
                if !free {
                    return;
                }
                None
            }
            Focus::All => None,
        };
        let mut passes: Vec<Pass> = Vec::new();
        for (name, q) in &self.queues {
            if q.order.is_empty() {
                continue;
            }
            if focus_queue.as_ref().is_some_and(|f| f != name) {
                continue;
            }
            if let Focus::Agent(id) = focus {
                if !q.tier_index.contains_key(&id) {
                    continue;
                }
            }
            let mut cands = Vec::new();
            let mut levels: Vec<(u32, u32)> = Vec::new();
            for t in &q.tiers {
                let Some(s) = self.slots.get(t.agent).and_then(|s| s.as_ref()) else {
                    continue;
                };
                if levels.last().map(|l| l.0) != Some(t.tier.level) {
                    levels.push((t.tier.level, 0));
                }
                if s.agent.is_logged_in() {
                    if let Some(l) = levels.last_mut() {
                        l.1 += 1;
                    }
                }
                let free = t.tier.accepts_offers()
                    && s.offer.is_none()
                    && s.call.is_none()
                    && s.agent.offerable(now);
                if free {
                    cands.push(Cand {
                        slot: t.agent,
                        level: t.tier.level,
                        position: t.tier.position,
                    });
                }
            }
            if cands.is_empty() {
                continue;
            }
            passes.push(Pass {
                queue: name.clone(),
                free: cands.len(),
                cands,
                levels,
            });
        }
        if passes.is_empty() {
            return;
        }
        // Which passes share an agent (only needed with several queues).
        let mut slot_passes: HashMap<usize, Vec<usize>> = HashMap::new();
        if passes.len() > 1 {
            for (idx, p) in passes.iter().enumerate() {
                for c in &p.cands {
                    slot_passes.entry(c.slot).or_default().push(idx);
                }
            }
        }
        if let Focus::Member(u) = &focus {
            if let Some(p) = passes.first() {
                self.route_member(u, p, now);
            }
            return;
        }
        // The lines to visit: each queue's whole line, or for a freed agent only the callers
        // of the skill classes it can serve. Heads are merged by score at `now`.
        let mut lines: Vec<(usize, Option<usize>)> = Vec::new();
        for (i, p) in passes.iter().enumerate() {
            match focus {
                Focus::Agent(id) => {
                    let (Some(q), Some(s)) = (self.queues.get(&p.queue), self.slot(id)) else {
                        continue;
                    };
                    for (c, (class, line)) in q.classes.iter().enumerate() {
                        if !line.is_empty() && s.agent.skills.match_score(class).is_some() {
                            lines.push((i, Some(c)));
                        }
                    }
                }
                _ => lines.push((i, None)),
            }
        }
        // (score now, join sequence, line, key): the best head on top.
        type Head = (i64, Reverse<u64>, usize, (i64, u64));
        let mut heap: BinaryHeap<Head> = BinaryHeap::new();
        for (l, (i, class)) in lines.iter().enumerate() {
            if let Some(h) = self.head_after(&passes[*i].queue, *class, None, now) {
                heap.push((h.0, Reverse(h.1 .1), l, h.1));
            }
        }
        while let Some((_, _, l, key)) = heap.pop() {
            let i = lines[l].0;
            if passes[i].free == 0 {
                continue;
            }
            if let Focus::Agent(id) = focus {
                if self.slot(id).is_some_and(|s| s.offer.is_some()) {
                    break;
                }
            }
            let queue = passes[i].queue.clone();
            let Some(uuid) = self
                .queues
                .get(&queue)
                .and_then(|q| q.order.get(&key))
                .cloned()
            else {
                continue;
            };
            let fits = match focus {
                Focus::Agent(id) => self.agent_fits(id, &uuid, &passes[i], now),
                _ => true,
            };
            let taken = if fits {
                self.route_member(&uuid, &passes[i], now)
            } else {
                Vec::new()
            };
            for slot in taken {
                if passes.len() == 1 {
                    passes[0].free = passes[0].free.saturating_sub(1);
                }
                for p in slot_passes.get(&slot).into_iter().flatten() {
                    passes[*p].free = passes[*p].free.saturating_sub(1);
                }
            }
            if passes[i].free > 0 {
                if let Some(h) = self.head_after(&queue, lines[l].1, Some(key), now) {
                    heap.push((h.0, Reverse(h.1 .1), l, h.1));
                }
            }
        }
    }

    /// The next caller of `queue` (of one skill class, or any) after `key` in line, with
    /// its score at `now`.
    fn head_after(
        &self,
        queue: &str,
        class: Option<usize>,
        key: Option<(i64, u64)>,
        now: Timestamp,
    ) -> Option<(i64, (i64, u64))> {
        let q = self.queues.get(queue)?;
        let line = match class {
            Some(c) => &q.classes.get(c)?.1,
            None => &q.order,
        };
        let lower = match key {
            Some(k) => Bound::Excluded(k),
            None => Bound::Unbounded,
        };
        let (k, _) = line.range((lower, Bound::Unbounded)).next()?;
        Some((score_at(q.weights(), -k.0, now.as_millis()), *k))
    }

    /// The tier levels of `queue` with their logged-in agent counts.
    pub(crate) fn tier_levels(&self, queue: &str) -> Vec<(u32, u32)> {
        let mut levels: Vec<(u32, u32)> = Vec::new();
        let Some(q) = self.queues.get(queue) else {
            return levels;
        };
        for t in &q.tiers {
            let Some(s) = self.slot(t.agent) else {
                continue;
            };
            if levels.last().map(|l| l.0) != Some(t.tier.level) {
                levels.push((t.tier.level, 0));
            }
            if s.agent.is_logged_in() {
                if let Some(l) = levels.last_mut() {
                    l.1 += 1;
                }
            }
        }
        levels
    }

    /// Whether the focused free agent could serve this caller (skills and open level); a
    /// level that is not open yet gets its wake-up.
    fn agent_fits(&mut self, id: usize, uuid: &str, pass: &Pass, now: Timestamp) -> bool {
        let Some(c) = pass.cands.iter().find(|c| c.slot == id) else {
            return false;
        };
        let (Some(m), Some(q), Some(s)) = (
            self.members.get(uuid),
            self.queues.get(&pass.queue),
            self.slot(id),
        ) else {
            return false;
        };
        if s.agent.skills.match_score(&m.skills).is_none() {
            return false;
        }
        let (max_level, next_open) = open_level(&q.config, &pass.levels, m.joined, now);
        if c.level <= max_level {
            return true;
        }
        if let Some(at) = next_open {
            self.timers.set(Timer::TierOpen(uuid.to_string()), at);
        }
        false
    }

    /// Offers one caller to the agent(s) its strategy picks; returns the slots taken.
    fn route_member(&mut self, uuid: &str, pass: &Pass, now: Timestamp) -> Vec<usize> {
        let Some(q) = self.queues.get(&pass.queue) else {
            return Vec::new();
        };
        let Some(m) = self.members.get(uuid) else {
            return Vec::new();
        };
        let cfg = &q.config;
        let strategy = cfg.strategy;
        if m.exit_pending.is_some() {
            return Vec::new();
        }
        let callback_pending = match m.callback.as_ref().map(|c| c.state) {
            None | Some(CallbackState::Connected) => false,
            Some(CallbackState::Pending) => true,
            Some(CallbackState::Dialing) => return Vec::new(),
            Some(CallbackState::RetryAt(t)) => {
                if t > now {
                    return Vec::new();
                }
                true
            }
        };
        match m.state {
            MemberState::Waiting => {}
            MemberState::Trying => match strategy {
                Strategy::RingAll => {}
                Strategy::RingProgressively => {
                    let next = m
                        .last_ring
                        .plus_secs(u64::from(cfg.ring_progressively_delay));
                    if now < next {
                        self.timers.set(Timer::RingNext(uuid.to_string()), next);
                        return Vec::new();
                    }
                }
                _ => return Vec::new(),
            },
            MemberState::Answered | MemberState::Abandoned => return Vec::new(),
        }
        let (max_level, next_open) = open_level(cfg, &pass.levels, m.joined, now);
        let ctx = Ctx {
            strategy,
            max_level,
            required: &m.skills,
            rr_cursor: q.rr_cursor,
            member_cursor: m.last_tier,
            now,
        };
        let pick = choose(&ctx, &pass.cands, &self.slots, &mut self.rng);
        if let Some(at) = next_open {
            self.timers.set(Timer::TierOpen(uuid.to_string()), at);
        }
        let chosen: Vec<Cand> = match pick {
            Pick::None => return Vec::new(),
            Pick::One(i) => vec![pass.cands[i]],
            Pick::All(v) => v.into_iter().map(|i| pass.cands[i]).collect(),
        };
        if callback_pending {
            // Its turn has come: call the customer first; the agent is not held meanwhile
            // (the caller is at the head of the line when it comes back).
            self.start_callback(uuid, now);
            return Vec::new();
        }
        let queue = pass.queue.clone();
        let mut taken = Vec::with_capacity(chosen.len());
        for c in chosen {
            if self.make_offer(uuid, c, &queue, now) {
                taken.push(c.slot);
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(multiply: bool, no_wait: bool) -> QueueConfig {
        let mut q = QueueConfig::new("q");
        q.tier_rules_apply = true;
        q.tier_rule_wait_second = 10;
        q.tier_rule_wait_multiply_level = multiply;
        q.tier_rule_no_agent_no_wait = no_wait;
        q
    }

    #[test]
    fn levels_open_with_waiting() {
        let s = Timestamp::from_secs;
        let levels = [(1, 2), (2, 1), (3, 1)];
        let cfg = q(true, false);
        assert_eq!(open_level(&cfg, &levels, s(0), s(5)), (1, Some(s(20))));
        assert_eq!(open_level(&cfg, &levels, s(0), s(20)), (2, Some(s(30))));
        assert_eq!(open_level(&cfg, &levels, s(0), s(31)), (3, None));
        let flat = q(false, false);
        assert_eq!(open_level(&flat, &levels, s(0), s(10)), (3, None));
        // Level 1 has nobody logged in: level 2 opens at once.
        let empty = [(1, 0), (2, 1), (3, 1)];
        assert_eq!(
            open_level(&q(true, true), &empty, s(0), s(0)),
            (2, Some(s(30)))
        );
        let mut off = cfg.clone();
        off.tier_rules_apply = false;
        assert_eq!(open_level(&off, &levels, s(0), s(0)).0, u32::MAX);
    }
}
