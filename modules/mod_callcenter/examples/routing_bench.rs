//! Routing decision time with 1,000 agents and 5,000 waiting callers.
//!
//! `cargo run --release -p mod_callcenter --example routing_bench`
//!
//! Every agent is in a call and 5,000 callers wait. One decision = an agent's call ends
//! (`handle_agent_hangup`): the engine closes the call, runs its routing pass and offers the
//! best caller to the freed agent. The offer is then answered and a new caller joins, so the
//! line stays at 5,000. Timed: the `handle_agent_hangup` call and draining its actions
//! ("hangup"), and the new caller's `handle_member_join` ("join": it is routed at once if a
//! free agent can take it). With skills some freed agents can serve nobody in line and stay
//! free; later joins are routed to them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mod_callcenter::rng::SplitMix64;
use mod_callcenter::{
    Action, AgentConfig, AgentStatus, Config, Engine, MemberJoin, OfferResult, QueueConfig, Skills,
    Strategy, Tier, Timestamp,
};

const AGENTS: usize = 1_000;
const WAITING: usize = 5_000;
const DECISIONS: usize = 20_000;
const SKILLS: [&str; 8] = [
    "english", "spanish", "french", "billing", "tech", "sales", "vip", "german",
];

struct Scenario {
    name: &'static str,
    queues: usize,
    strategy: Strategy,
    skills: bool,
}

fn agent_skills(rng: &mut SplitMix64) -> Skills {
    let mut s = Skills::new().with("english", 1 + rng.below(9) as u32);
    for _ in 0..2 {
        let k = SKILLS[rng.below(SKILLS.len() as u64) as usize];
        s = s.with(k, 1 + rng.below(9) as u32);
    }
    s
}

fn member_skills(rng: &mut SplitMix64) -> Skills {
    let k = SKILLS[rng.below(4) as usize];
    Skills::new().with(k, 1 + rng.below(3) as u32)
}

fn build(s: &Scenario, rng: &mut SplitMix64) -> Config {
    let mut c = Config::default();
    for q in 0..s.queues {
        let mut qc = QueueConfig::new(&format!("q{q}"));
        qc.strategy = s.strategy;
        c.queues.insert(qc.name.clone(), qc);
    }
    for i in 0..AGENTS {
        let name = format!("agent{i:04}");
        let mut a = AgentConfig::new(&name, &format!("user/{name}"));
        a.status = AgentStatus::Available;
        if s.skills {
            a.skills = agent_skills(rng);
        }
        c.agents.insert(name.clone(), a);
        let q = i % s.queues;
        c.tiers.push(Tier::new(
            &format!("q{q}"),
            &name,
            1 + (i / 500) as u32,
            i as u32,
        ));
    }
    c.normalize();
    c
}

fn drain(e: &mut Engine, now: Timestamp, busy: &mut VecDeque<String>) -> usize {
    let mut offers = 0;
    while let Some(a) = e.poll_action() {
        match a {
            Action::Offer(o) => {
                offers += 1;
                e.handle_offer_result(now, o.offer_id, OfferResult::Answered)
                    .expect("answer");
            }
            Action::Bridge(b) => busy.push_back(b.agent),
            _ => {}
        }
    }
    offers
}

fn run(s: &Scenario) {
    let mut rng = SplitMix64::new(7);
    let config = build(s, &mut rng);
    let mut now = Timestamp::from_secs(1_700_000_000);
    let mut e = Engine::new(config, now).expect("config");
    let mut busy = VecDeque::new();
    let mut id = 0usize;
    let join = |e: &mut Engine, now: Timestamp, rng: &mut SplitMix64, id: &mut usize| {
        *id += 1;
        let q = format!("q{}", *id % s.queues);
        let mut m = MemberJoin::new(&format!("member{id}"));
        m.priority = u32::from(rng.below(20) == 0);
        if s.skills {
            m.skills = member_skills(rng);
        }
        e.handle_member_join(now, &q, m).expect("join");
    };
    // Fill every agent, then the line.
    while busy.len() < AGENTS {
        now = now + Duration::from_millis(1);
        join(&mut e, now, &mut rng, &mut id);
        drain(&mut e, now, &mut busy);
        if id > AGENTS * 20 {
            break;
        }
    }
    let waiting_target = busy.len() + WAITING;
    while id < waiting_target {
        now = now + Duration::from_millis(1);
        join(&mut e, now, &mut rng, &mut id);
        drain(&mut e, now, &mut busy);
    }
    let waiting: usize = (0..s.queues)
        .map(|q| e.waiting_count(&format!("q{q}")))
        .sum();
    let mut times = Vec::with_capacity(DECISIONS);
    let mut joins = Vec::with_capacity(DECISIONS);
    let mut offers = 0;
    while times.len() < DECISIONS {
        let Some(agent) = busy.pop_front() else { break };
        let in_call = e
            .agent(&agent)
            .is_some_and(|a| a.state == mod_callcenter::AgentState::InAQueueCall);
        if !in_call {
            continue;
        }
        now = now + Duration::from_millis(10);
        let t = Instant::now();
        e.handle_agent_hangup(now, &agent).expect("hangup");
        let mut made = 0;
        let mut actions = Vec::new();
        while let Some(a) = e.poll_action() {
            if matches!(a, Action::Offer(_)) {
                made += 1;
            }
            actions.push(a);
        }
        times.push(t.elapsed());
        offers += made;
        for a in actions {
            match a {
                Action::Offer(o) => {
                    e.handle_offer_result(now, o.offer_id, OfferResult::Answered)
                        .expect("answer");
                    drain(&mut e, now, &mut busy);
                }
                Action::Bridge(b) => busy.push_back(b.agent),
                _ => {}
            }
        }
        let t = Instant::now();
        join(&mut e, now, &mut rng, &mut id);
        let mut joined = Vec::new();
        while let Some(a) = e.poll_action() {
            joined.push(a);
        }
        joins.push(t.elapsed());
        for a in joined {
            if let Action::Offer(o) = a {
                e.handle_offer_result(now, o.offer_id, OfferResult::Answered)
                    .expect("answer");
            }
        }
        drain(&mut e, now, &mut busy);
    }
    let free = e
        .agents()
        .iter()
        .filter(|a| a.state == mod_callcenter::AgentState::Waiting)
        .count();
    println!(
        "{:<32} agents {AGENTS} ({free:>3} free at the end), waiting {waiting}: {} freed agents, {offers} offered",
        s.name,
        times.len()
    );
    report("  hangup -> offer", &mut times);
    report("  join (-> offer)", &mut joins);
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let n = times.len().max(1);
    let total: Duration = times.iter().sum();
    let pct = |p: f64| times[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e6;
    println!(
        "{label:<20} mean {:>6.2} µs  p50 {:>6.2} µs  p99 {:>7.2} µs  max {:>8.2} µs",
        total.as_secs_f64() * 1e6 / n as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
}

fn main() {
    for s in [
        Scenario {
            name: "longest-idle-agent, 1 queue",
            queues: 1,
            strategy: Strategy::LongestIdleAgent,
            skills: false,
        },
        Scenario {
            name: "longest-idle-agent, 10 queues",
            queues: 10,
            strategy: Strategy::LongestIdleAgent,
            skills: false,
        },
        Scenario {
            name: "skills-based, 1 queue, 8 skills",
            queues: 1,
            strategy: Strategy::SkillsBased,
            skills: true,
        },
        Scenario {
            name: "round-robin, 1 queue",
            queues: 1,
            strategy: Strategy::RoundRobin,
            skills: false,
        },
    ] {
        run(&s);
    }
}
