//! The routing invariant, checked by the randomized tests.

use crate::model::{CallbackState, MemberState, Strategy};

use super::dispatch::open_level;
use super::Engine;

impl Engine {
    /// The routing invariant, for tests: after any input, no caller waits while a free
    /// agent could take it. Returns the first such pair, described.
    #[doc(hidden)]
    pub fn unserved_match(&self) -> Option<String> {
        let now = self.now;
        for (name, q) in &self.queues {
            let mut levels: Vec<(u32, u32)> = Vec::new();
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
            for uuid in q.order.values() {
                let Some(m) = self.members.get(uuid) else {
                    return Some(format!("{uuid} is in line but unknown"));
                };
                if m.exit_pending.is_some() {
                    continue;
                }
                match m.callback.as_ref().map(|c| c.state) {
                    Some(CallbackState::Dialing) => continue,
                    Some(CallbackState::RetryAt(t)) if t > now => continue,
                    _ => {}
                }
                let open = match (m.state, q.config.strategy) {
                    (MemberState::Waiting, _) => true,
                    (MemberState::Trying, Strategy::RingAll) => true,
                    (MemberState::Trying, Strategy::RingProgressively) => {
                        now >= m
                            .last_ring
                            .plus_secs(u64::from(q.config.ring_progressively_delay))
                    }
                    _ => false,
                };
                if !open {
                    continue;
                }
                let (max_level, _) = open_level(&q.config, &levels, m.joined, now);
                for t in &q.tiers {
                    let Some(s) = self.slot(t.agent) else {
                        continue;
                    };
                    let free = t.tier.accepts_offers()
                        && s.offer.is_none()
                        && s.call.is_none()
                        && s.agent.offerable(now);
                    if free
                        && t.tier.level <= max_level
                        && s.agent.skills.match_score(&m.skills).is_some()
                    {
                        return Some(format!(
                            "queue {name}: {uuid} ({}, joined {}, skills {}, level open {max_level}) waits while {} (level {}, skills {}) is free",
                            m.state,
                            now.since(m.joined).as_secs_f64(),
                            m.skills,
                            s.agent.name,
                            t.tier.level,
                            s.agent.skills
                        ));
                    }
                }
            }
        }
        None
    }
}
