//! Random walks through the engine (joins, hangups, offer outcomes, status changes, DTMF,
//! callbacks, time passing) with every strategy, skills and tier rules: after every input no
//! caller waits while a free agent could take it, and no agent has two offers or calls.

mod common;

use common::{agent, queue, Harness};
use mod_callcenter::rng::SplitMix64;
use mod_callcenter::{
    Action, AgentStatus, CallbackResult, Config, LeaveReason, MemberJoin, OfferResult, Strategy,
    Tier,
};

fn config(strategy: Strategy, seed: u64) -> Config {
    let mut rng = SplitMix64::new(seed);
    let mut c = Config::default();
    for (i, name) in ["q0", "q1"].iter().enumerate() {
        let mut q = queue(name, strategy);
        q.tier_rules_apply = i == 0;
        q.tier_rule_wait_second = 7;
        q.tier_rule_wait_multiply_level = seed.is_multiple_of(2);
        q.tier_rule_no_agent_no_wait = seed.is_multiple_of(3);
        q.ring_progressively_delay = 3;
        q.max_wait_time = 90;
        q.callback_key = "*".into();
        q.callback_retry_delay = 5;
        q.abandoned_resume_allowed = true;
        c.queues.insert(name.to_string(), q);
    }
    for i in 0..8 {
        let name = format!("a{i}");
        let mut a = agent(&name);
        a.wrap_up_time = rng.below(4) as u32 * 2;
        a.no_answer_delay_time = rng.below(3) as u32 * 3;
        a.busy_delay_time = 2;
        a.max_no_answer = 3;
        if rng.below(2) == 0 {
            a.skills = "english=5".parse().unwrap();
        } else {
            a.skills = "english=2,billing=4".parse().unwrap();
        }
        c.agents.insert(name.clone(), a);
        c.tiers.push(Tier::new("q0", &name, 1 + i / 3, i));
        if i % 2 == 0 {
            c.tiers.push(Tier::new("q1", &name, 1, i));
        }
    }
    c.normalize();
    c
}

fn walk(strategy: Strategy, seed: u64, steps: usize) {
    let mut h = Harness::new(config(strategy, seed));
    let mut rng = SplitMix64::new(seed ^ 0xABCD);
    let mut pending = Vec::new(); // offers not resolved
    let mut dialing = Vec::new(); // callbacks being dialed
    let mut next = 0;
    for step in 0..steps {
        match rng.below(10) {
            0 | 1 => {
                next += 1;
                let q = if rng.below(2) == 0 { "q0" } else { "q1" };
                let skills = ["", "english=3", "billing=2"][rng.below(3) as usize];
                let join = MemberJoin::new(&format!("m{next}"))
                    .caller(&format!("55{}", rng.below(30)), "x")
                    .priority(u32::from(rng.below(5) == 0))
                    .skills(skills.parse().unwrap());
                let _ = h.engine.handle_member_join(h.now, q, join);
            }
            2 | 3 => {
                if !pending.is_empty() {
                    let i = rng.below(pending.len() as u64) as usize;
                    let id = pending.swap_remove(i);
                    let r = [
                        OfferResult::Answered,
                        OfferResult::Answered,
                        OfferResult::NoAnswer,
                        OfferResult::Busy,
                        OfferResult::Rejected,
                        OfferResult::Unreachable,
                    ][rng.below(6) as usize];
                    let _ = h.engine.handle_offer_result(h.now, id, r);
                }
            }
            4 => {
                let a = format!("a{}", rng.below(8));
                let _ = h.engine.handle_agent_hangup(h.now, &a);
            }
            5 => {
                let a = format!("a{}", rng.below(8));
                let s = [
                    AgentStatus::Available,
                    AgentStatus::Available,
                    AgentStatus::OnBreak,
                    AgentStatus::LoggedOut,
                    AgentStatus::AvailableOnDemand,
                ][rng.below(5) as usize];
                let _ = h.engine.set_agent_status(h.now, &a, s, None);
            }
            6 => {
                let m = format!("m{}", 1 + rng.below(next.max(1)));
                let _ = if rng.below(3) == 0 {
                    h.engine.handle_member_dtmf(h.now, &m, '*').map(|_| ())
                } else {
                    h.engine.handle_member_leave(h.now, &m, LeaveReason::Hangup)
                };
            }
            7 => {
                if !dialing.is_empty() {
                    let i = rng.below(dialing.len() as u64) as usize;
                    let m: String = dialing.swap_remove(i);
                    let r = if rng.below(2) == 0 {
                        CallbackResult::Answered {
                            session_uuid: format!("{m}-cb"),
                        }
                    } else {
                        CallbackResult::Failed
                    };
                    let _ = h.engine.handle_callback_result(h.now, &m, r);
                }
            }
            8 => {
                let a = format!("a{}", rng.below(8));
                let _ = h.engine.set_agent(h.now, &a, "state", "Waiting");
            }
            _ => h.wait_ms(rng.below(4000)),
        }
        h.collect();
        for a in std::mem::take(&mut h.log) {
            match a {
                Action::Offer(o) => pending.push(o.offer_id),
                Action::CancelOffer(c) => pending.retain(|p| *p != c.offer_id),
                Action::Callback(c) => dialing.push(c.member_uuid),
                _ => {}
            }
        }
        // Offers the engine gave up on (its guard) are no longer pending.
        pending.retain(|id| {
            h.engine
                .agents()
                .iter()
                .any(|a| h.engine.agent_offer(&a.name) == Some(*id))
        });
        if let Some(v) = h.engine.unserved_match() {
            panic!("{strategy} seed {seed} step {step}: {v}");
        }
        let mut offered = std::collections::HashSet::new();
        for a in h.engine.agents() {
            if let Some(o) = h.engine.agent_offer(&a.name) {
                assert!(offered.insert(o), "offer {o} held by two agents");
            }
        }
    }
}

#[test]
fn no_caller_waits_while_a_free_agent_could_take_it() {
    for (i, s) in Strategy::ALL.iter().enumerate() {
        for seed in 0..6u64 {
            walk(*s, seed * 31 + i as u64, 600);
        }
    }
}
