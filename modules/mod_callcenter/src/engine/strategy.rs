//! Picking agents for one caller: the ten strategies over the queue's candidate agents.
//!
//! Candidates come sorted by tier (level, position). An agent is eligible when its level is
//! open for the caller (tier rules), it is free at `now` (available status, Waiting, no wrap-up
//! or delay, no offer, no call) and it has every skill the caller requires at the minimum
//! level. Orders (lowest first; FreeSWITCH's where it has the strategy):
//!
//! | strategy | order |
//! |---|---|
//! | longest-idle-agent | level, last bridge end, position |
//! | agent-with-least-talk-time | level, talk time, position |
//! | agent-with-fewest-calls | level, calls answered, position |
//! | sequentially-by-agent-order | level, position, last offered |
//! | top-down | the first after the caller's last tried (level, position), wrapping |
//! | round-robin | the next position after the queue's last offered one in its level, else the first |
//! | random | uniformly among the eligible agents of the lowest level that has one |
//! | ring-all | every eligible agent |
//! | ring-progressively | the first eligible (one more each ring_progressively_delay) |
//! | skills-based | best skill match (sum of the agent's levels in the required skills), then longest idle, level, position |

use std::cmp::Reverse;

use crate::model::{Skills, Strategy};
use crate::rng::SplitMix64;
use crate::time::Timestamp;

use super::Slot;

/// A tier agent that was free when the routing pass began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand {
    pub slot: usize,
    pub level: u32,
    pub position: u32,
}

/// What the strategy needs to know about the caller and the queue.
pub(crate) struct Ctx<'a> {
    pub strategy: Strategy,
    pub max_level: u32,
    pub required: &'a Skills,
    pub rr_cursor: Option<(u32, u32)>,
    pub member_cursor: Option<(u32, u32)>,
    pub now: Timestamp,
}

/// The chosen candidates (indices into the candidate list).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    None,
    One(usize),
    All(Vec<usize>),
}

fn eligible(ctx: &Ctx, c: &Cand, slots: &[Option<Slot>]) -> Option<u32> {
    if c.level > ctx.max_level {
        return None;
    }
    let s = slots.get(c.slot)?.as_ref()?;
    if s.offer.is_some() || s.call.is_some() || !s.agent.offerable(ctx.now) {
        return None;
    }
    s.agent.skills.match_score(ctx.required)
}

fn agent<'a>(slots: &'a [Option<Slot>], c: &Cand) -> Option<&'a crate::model::Agent> {
    slots.get(c.slot)?.as_ref().map(|s| &s.agent)
}

fn min_by_key<K: Ord>(
    ctx: &Ctx,
    cands: &[Cand],
    slots: &[Option<Slot>],
    key: impl Fn(&Cand, &crate::model::Agent, u32) -> K,
) -> Pick {
    let mut best: Option<(K, usize)> = None;
    for (i, c) in cands.iter().enumerate() {
        let Some(m) = eligible(ctx, c, slots) else {
            continue;
        };
        let Some(a) = agent(slots, c) else { continue };
        let k = key(c, a, m);
        if best.as_ref().is_none_or(|(bk, _)| k < *bk) {
            best = Some((k, i));
        }
    }
    best.map_or(Pick::None, |(_, i)| Pick::One(i))
}

/// Picks the agent(s) for one caller.
pub(crate) fn choose(
    ctx: &Ctx,
    cands: &[Cand],
    slots: &[Option<Slot>],
    rng: &mut SplitMix64,
) -> Pick {
    match ctx.strategy {
        Strategy::LongestIdleAgent => min_by_key(ctx, cands, slots, |c, a, _| {
            (c.level, a.last_bridge_end, c.position)
        }),
        Strategy::AgentWithLeastTalkTime => min_by_key(ctx, cands, slots, |c, a, _| {
            (c.level, a.talk_time, c.position)
        }),
        Strategy::AgentWithFewestCalls => min_by_key(ctx, cands, slots, |c, a, _| {
            (c.level, a.calls_answered, c.position)
        }),
        Strategy::SequentiallyByAgentOrder => min_by_key(ctx, cands, slots, |c, a, _| {
            (c.level, c.position, a.last_offered_call)
        }),
        Strategy::SkillsBased => min_by_key(ctx, cands, slots, |c, a, m| {
            (Reverse(m), a.last_bridge_end, c.level, c.position)
        }),
        Strategy::RingProgressively => first(ctx, cands, slots, |_| true),
        Strategy::TopDown => {
            let cursor = ctx.member_cursor;
            match first(ctx, cands, slots, |c| {
                cursor.is_none_or(|cur| (c.level, c.position) > cur)
            }) {
                Pick::None => first(ctx, cands, slots, |_| true),
                p => p,
            }
        }
        Strategy::RoundRobin => {
            let cursor = ctx.rr_cursor;
            match first(ctx, cands, slots, |c| {
                cursor.is_some_and(|(l, p)| c.level == l && c.position > p)
            }) {
                Pick::None => first(ctx, cands, slots, |_| true),
                p => p,
            }
        }
        Strategy::RingAll => {
            let all: Vec<usize> = (0..cands.len())
                .filter(|i| eligible(ctx, &cands[*i], slots).is_some())
                .collect();
            if all.is_empty() {
                Pick::None
            } else {
                Pick::All(all)
            }
        }
        Strategy::Random => {
            let mut level = None;
            let mut pool = Vec::new();
            for (i, c) in cands.iter().enumerate() {
                if level.is_some_and(|l| c.level > l) {
                    break;
                }
                if eligible(ctx, c, slots).is_some() {
                    level = Some(c.level);
                    pool.push(i);
                }
            }
            if pool.is_empty() {
                Pick::None
            } else {
                let n = pool.len() as u64;
                Pick::One(pool[rng.below(n) as usize])
            }
        }
    }
}

fn first(ctx: &Ctx, cands: &[Cand], slots: &[Option<Slot>], ok: impl Fn(&Cand) -> bool) -> Pick {
    cands
        .iter()
        .position(|c| ok(c) && eligible(ctx, c, slots).is_some())
        .map_or(Pick::None, Pick::One)
}
