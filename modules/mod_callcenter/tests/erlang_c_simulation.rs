//! A deterministic M/M/c simulation through the engine: Poisson arrivals, exponential
//! handle times, one FIFO queue, longest-idle-agent, agents answer at once, no abandons.
//! The measured mean wait and service level must match Erlang C for the same load.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use mod_callcenter::erlang::ErlangC;
use mod_callcenter::rng::SplitMix64;
use mod_callcenter::{
    Action, AgentConfig, AgentStatus, Config, Engine, MemberJoin, OfferResult, PersistOp,
    QueueConfig, Strategy, Tier, Timestamp,
};

struct Measured {
    calls: u64,
    mean_wait: f64,
    service_level: f64,
}

fn exp(rng: &mut SplitMix64, mean: f64) -> f64 {
    -mean * (1.0 - rng.unit()).ln()
}

/// Runs `hours` of traffic (after `warmup` hours) and measures the calls that entered
/// after the warm-up.
fn simulate(agents: u32, handle: f64, load: f64, hours: f64, seed: u64, sl_t: f64) -> Measured {
    let mut c = Config::default();
    let mut q = QueueConfig::new("q");
    q.strategy = Strategy::LongestIdleAgent;
    c.queues.insert("q".into(), q);
    for i in 0..agents {
        let name = format!("a{i}");
        let mut a = AgentConfig::new(&name, &format!("user/{name}"));
        a.status = AgentStatus::Available;
        c.agents.insert(name.clone(), a);
        c.tiers.push(Tier::new("q", &name, 1, i + 1));
    }
    c.normalize();
    let t0 = Timestamp::from_secs(1_700_000_000);
    let mut e = Engine::new(c, t0).unwrap();
    let mut rng = SplitMix64::new(seed);
    let lambda = load / handle;
    let warmup = t0.plus_secs(4 * 3600);
    let end = warmup.plus_secs((hours * 3600.0) as u64);
    let ms = |s: f64| Duration::from_millis((s * 1000.0).round() as u64);
    let mut next_arrival = t0 + ms(exp(&mut rng, 1.0 / lambda));
    let mut hangups: BinaryHeap<Reverse<(Timestamp, String)>> = BinaryHeap::new();
    let (mut n, mut total_wait, mut within) = (0u64, 0u64, 0u64);
    let mut id = 0u64;
    loop {
        let next_hangup = hangups.peek().map(|Reverse((t, _))| *t);
        let now = [Some(next_arrival), next_hangup, e.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .expect("arrivals never stop");
        if now > end {
            break;
        }
        if now == next_arrival {
            id += 1;
            e.handle_member_join(now, "q", MemberJoin::new(&format!("c{id}")))
                .unwrap();
            next_arrival = now + ms(exp(&mut rng, 1.0 / lambda));
        } else if Some(now) == next_hangup {
            let Reverse((_, agent)) = hangups.pop().unwrap();
            e.handle_agent_hangup(now, &agent).unwrap();
        } else {
            e.handle_timeout(now);
        }
        while let Some(a) = e.poll_action() {
            match a {
                Action::Offer(o) => e
                    .handle_offer_result(now, o.offer_id, OfferResult::Answered)
                    .unwrap(),
                Action::Bridge(b) => {
                    hangups.push(Reverse((now + ms(exp(&mut rng, handle)), b.agent)))
                }
                Action::Persist(PersistOp::RecordCall(r)) if r.entered >= warmup => {
                    n += 1;
                    total_wait += r.wait_ms;
                    if r.wait_ms as f64 <= sl_t * 1000.0 {
                        within += 1;
                    }
                }
                _ => {}
            }
        }
    }
    Measured {
        calls: n,
        mean_wait: total_wait as f64 / 1000.0 / n as f64,
        service_level: within as f64 / n as f64,
    }
}

fn check(agents: u32, handle: f64, load: f64, hours: f64, seed: u64) {
    let sl_t = 20.0;
    let m = simulate(agents, handle, load, hours, seed, sl_t);
    let model = ErlangC {
        agents,
        arrival_rate: load / handle,
        handle_time: handle,
    };
    let w = model.mean_wait().unwrap();
    let sl = model.service_level(sl_t);
    println!(
        "M/M/{agents} a={load} AHT={handle}s over {hours} h: {} calls; mean wait {:.2} s (Erlang C {:.2} s, {:+.1}%), \
         SL({sl_t} s) {:.4} (Erlang C {:.4}, {:+.1}%), P(wait) model {:.4}",
        m.calls,
        m.mean_wait,
        w,
        (m.mean_wait / w - 1.0) * 100.0,
        m.service_level,
        sl,
        (m.service_level / sl - 1.0) * 100.0,
        model.wait_probability(),
    );
    assert!(
        (m.mean_wait / w - 1.0).abs() < 0.10,
        "mean wait off by more than 10%"
    );
    assert!(
        (m.service_level / sl - 1.0).abs() < 0.10,
        "service level off by more than 10%"
    );
}

#[test]
fn mmc_ten_agents_at_80_percent_matches_erlang_c() {
    check(10, 180.0, 8.0, 600.0, 0xE71A);
}

#[test]
fn mmc_three_agents_at_70_percent_matches_erlang_c() {
    check(3, 120.0, 2.1, 600.0, 0xC0FFEE);
}
