//! Each strategy offers the caller to the agent it should.

mod common;

use common::{agent, one_queue, queue, Harness};
use mod_callcenter::{OfferResult, Skills, Strategy, Tier};

/// Gives agents distinct histories: `a` talked 50 s ending at t=100, `b` 10 s ending at
/// t=120, `c` never; then all are free again.
fn with_history(strategy: Strategy) -> Harness {
    let mut h = Harness::new(one_queue(
        queue("q", Strategy::SequentiallyByAgentOrder),
        &["a", "b", "c"],
    ));
    h.cc("agent set status c 'On Break'");
    h.cc("agent set reject_delay_time a 30");
    h.wait(50);
    h.join("q", "m1");
    let o = h.one_offer();
    assert_eq!(o.agent, "a");
    h.answer_and_talk(&o, 50); // a: bridge 50..100
    h.wait(10);
    h.join("q", "m2");
    let o = h.one_offer();
    assert_eq!(o.agent, "a", "sequential takes the first position again");
    h.result(o.offer_id, OfferResult::Rejected); // a rejects (30 s delay): b next
    let o = h.one_offer();
    assert_eq!(o.agent, "b");
    h.answer_and_talk(&o, 10); // b: 110..120
    h.cc("agent set status c Available");
    h.cc(&format!("queue set strategy q {strategy}"));
    h.wait(60);
    h.take();
    h
}

#[test]
fn longest_idle_agent_takes_the_one_idle_longest() {
    let mut h = with_history(Strategy::LongestIdleAgent);
    h.join("q", "x");
    // c never had a call (last bridge end 0), then a (ended at 100) before b (120).
    assert_eq!(h.one_offer().agent, "c");
    h.join("q", "y");
    assert_eq!(h.one_offer().agent, "a");
    h.join("q", "z");
    assert_eq!(h.one_offer().agent, "b");
}

#[test]
fn least_talk_time_and_fewest_calls() {
    let mut h = with_history(Strategy::AgentWithLeastTalkTime);
    h.join("q", "x");
    assert_eq!(h.one_offer().agent, "c", "0 s talked");
    h.join("q", "y");
    assert_eq!(h.one_offer().agent, "b", "10 s before a's 50 s");

    let mut h = with_history(Strategy::AgentWithFewestCalls);
    h.cc("agent set status c 'On Break'");
    h.join("q", "x");
    // a and b answered one call each: the tie goes to the lower position (a).
    assert_eq!(h.one_offer().agent, "a");
}

#[test]
fn sequentially_by_agent_order_always_starts_at_the_top() {
    let mut h = Harness::new(one_queue(
        queue("q", Strategy::SequentiallyByAgentOrder),
        &["a", "b", "c"],
    ));
    for i in 0..3 {
        h.join("q", &format!("m{i}"));
        let o = h.one_offer();
        assert_eq!(o.agent, "a");
        h.answer_and_talk(&o, 5);
    }
    h.cc("tier set position q a 9");
    h.join("q", "m9");
    assert_eq!(h.one_offer().agent, "b");
}

#[test]
fn round_robin_goes_on_after_the_last_offered() {
    let mut h = Harness::new(one_queue(
        queue("q", Strategy::RoundRobin),
        &["a", "b", "c"],
    ));
    let mut seen = Vec::new();
    for i in 0..5 {
        h.join("q", &format!("m{i}"));
        let o = h.one_offer();
        seen.push(o.agent.clone());
        h.answer_and_talk(&o, 5);
    }
    assert_eq!(seen, ["a", "b", "c", "a", "b"]);
}

#[test]
fn top_down_moves_down_for_the_same_caller() {
    let mut h = Harness::new(one_queue(queue("q", Strategy::TopDown), &["a", "b", "c"]));
    h.join("q", "m");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let o = h.one_offer();
        seen.push(o.agent.clone());
        h.result(o.offer_id, OfferResult::NoAnswer);
    }
    assert_eq!(seen, ["a", "b", "c"]);
    // After c the caller wraps to the top again.
    assert_eq!(h.one_offer().agent, "a");
    // A new caller starts at the top: a is ringing, so b.
    h.join("q", "n");
    assert_eq!(h.one_offer().agent, "b");
}

#[test]
fn random_is_seeded_and_spreads_over_the_lowest_level() {
    let run = |seed: u64| {
        let mut c = one_queue(queue("q", Strategy::Random), &["a", "b", "c", "d"]);
        c.settings.seed = seed;
        c.agents.insert("z".into(), agent("z"));
        c.tiers.push(Tier::new("q", "z", 2, 1));
        let mut h = Harness::new(c);
        let mut seen = Vec::new();
        for i in 0..40 {
            h.join("q", &format!("m{i}"));
            let o = h.one_offer();
            seen.push(o.agent.clone());
            h.answer_and_talk(&o, 1);
        }
        seen
    };
    let a = run(42);
    assert_eq!(a, run(42), "same seed, same picks");
    assert_ne!(a, run(43));
    assert!(
        !a.iter().any(|x| x == "z"),
        "level 2 never while level 1 is free"
    );
    for name in ["a", "b", "c", "d"] {
        assert!(a.iter().any(|x| x == name), "{name} picked at least once");
    }
}

#[test]
fn ring_all_rings_everyone_and_the_first_answer_wins() {
    let mut h = Harness::new(one_queue(queue("q", Strategy::RingAll), &["a", "b", "c"]));
    h.join("q", "m");
    let offers = h.offers();
    let names: Vec<&str> = offers.iter().map(|o| o.agent.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    h.result(offers[1].offer_id, OfferResult::Answered);
    let actions = h.take();
    let cancels: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            mod_callcenter::Action::CancelOffer(c) => Some((c.agent.clone(), c.cause.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        cancels,
        [
            ("a".to_string(), "LOSE_RACE".to_string()),
            ("c".into(), "LOSE_RACE".into())
        ]
    );
    assert!(actions
        .iter()
        .any(|a| matches!(a, mod_callcenter::Action::Bridge(b) if b.agent == "b")));
    // The losers' late answers are refused: an agent cannot answer a canceled offer.
    assert!(h
        .engine
        .handle_offer_result(h.now, offers[0].offer_id, OfferResult::Answered)
        .is_err());
}

#[test]
fn ring_progressively_adds_one_agent_per_delay() {
    let mut q = queue("q", Strategy::RingProgressively);
    q.ring_progressively_delay = 5;
    let mut h = Harness::new(one_queue(q, &["a", "b", "c"]));
    h.join("q", "m");
    assert_eq!(h.one_offer().agent, "a");
    h.wait(4);
    assert!(h.offers().is_empty());
    h.wait(1);
    assert_eq!(h.one_offer().agent, "b", "a still rings, b added");
    h.wait(5);
    assert_eq!(h.one_offer().agent, "c");
    assert_eq!(h.engine.member("m").unwrap().offers().len(), 3);
}

#[test]
fn skills_based_picks_the_best_match_then_longest_idle() {
    let mut c = one_queue(queue("q", Strategy::SkillsBased), &["a", "b", "c", "d"]);
    let set = |c: &mut mod_callcenter::Config, n: &str, s: &str| {
        c.agents.get_mut(n).unwrap().skills = s.parse().unwrap();
    };
    set(&mut c, "a", "english=5");
    set(&mut c, "b", "english=3,billing=2");
    set(&mut c, "c", "english=4,billing=5");
    set(&mut c, "d", "spanish=5,billing=9");
    let mut h = Harness::new(c);
    let need = |s: &str| -> Skills { s.parse().unwrap() };
    h.join_with(
        "q",
        mod_callcenter::MemberJoin::new("m1").skills(need("english,billing=2")),
    );
    // b (3+2=5) and c (4+5=9) qualify; a lacks billing, d lacks english.
    assert_eq!(h.one_offer().agent, "c");
    h.join_with(
        "q",
        mod_callcenter::MemberJoin::new("m2").skills(need("english=4")),
    );
    assert_eq!(
        h.one_offer().agent,
        "a",
        "c is busy; a (5) qualifies, b (3) does not"
    );
    h.join_with(
        "q",
        mod_callcenter::MemberJoin::new("m3").skills(need("french")),
    );
    assert!(
        h.offers().is_empty(),
        "nobody speaks french: the caller waits"
    );
    h.join_with("q", mod_callcenter::MemberJoin::new("m4"));
    // No requirement: all match equally (score 0), longest idle among the free: b (pos 2).
    assert_eq!(h.one_offer().agent, "b");
}

#[test]
fn required_skills_filter_every_strategy() {
    let mut c = one_queue(queue("q", Strategy::LongestIdleAgent), &["a", "b"]);
    c.agents.get_mut("b").unwrap().skills = "billing=3".parse().unwrap();
    let mut h = Harness::new(c);
    h.join_with(
        "q",
        mod_callcenter::MemberJoin::new("m").skills("billing=2".parse().unwrap()),
    );
    assert_eq!(h.one_offer().agent, "b");
}
