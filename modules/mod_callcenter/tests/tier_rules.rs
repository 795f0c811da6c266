//! Tier rules: higher levels open only after the caller waited; empty levels are skipped.

mod common;

use common::{agent, queue, Harness};
use mod_callcenter::{Config, Strategy, Tier};

/// Agents l1 (level 1), l2 (level 2), l3 (level 3) in queue q with tier rules.
fn tiered(multiply: bool, no_agent_no_wait: bool) -> Harness {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.tier_rules_apply = true;
    q.tier_rule_wait_second = 10;
    q.tier_rule_wait_multiply_level = multiply;
    q.tier_rule_no_agent_no_wait = no_agent_no_wait;
    let mut c = Config::default();
    c.queues.insert("q".into(), q);
    for (n, level) in [("l1", 1), ("l2", 2), ("l3", 3)] {
        c.agents.insert(n.into(), agent(n));
        c.tiers.push(Tier::new("q", n, level, 1));
    }
    c.normalize();
    Harness::new(c)
}

#[test]
fn the_next_level_opens_after_the_wait_times_its_level() {
    let mut h = tiered(true, false);
    h.cc("agent set status l1 'On Break'"); // level 1 logged in but not taking calls
    h.join("q", "m");
    assert!(h.offers().is_empty(), "level 2 is closed at t=0");
    h.wait(19);
    assert!(h.offers().is_empty(), "level 2 opens at 2 × 10 s");
    h.wait(1);
    assert_eq!(h.one_offer().agent, "l2");
    assert_eq!(h.t(), 20);
}

#[test]
fn without_multiply_all_levels_open_after_one_wait() {
    let mut h = tiered(false, false);
    h.cc("agent set status l1 'On Break'");
    h.cc("agent set status l2 'On Break'");
    h.join("q", "m");
    h.wait(9);
    assert!(h.offers().is_empty());
    h.wait(1);
    assert_eq!(h.one_offer().agent, "l3", "after 10 s every level is open");
}

#[test]
fn an_empty_level_is_skipped_with_no_agent_no_wait() {
    let mut h = tiered(true, true);
    h.cc("agent set status l1 'Logged Out'");
    h.join("q", "m");
    assert_eq!(
        h.one_offer().agent,
        "l2",
        "nobody logged in at level 1: no wait"
    );

    // With the rule off the same caller would wait for level 2.
    let mut h = tiered(true, false);
    h.cc("agent set status l1 'Logged Out'");
    h.join("q", "m");
    assert!(h.offers().is_empty());
    h.wait(20);
    assert_eq!(h.one_offer().agent, "l2");
}

#[test]
fn lower_levels_are_preferred_when_tier_rules_are_off() {
    let mut h = tiered(true, false);
    h.cc("queue set tier_rules_apply q false");
    h.join("q", "a");
    assert_eq!(h.one_offer().agent, "l1");
    h.join("q", "b");
    assert_eq!(h.one_offer().agent, "l2", "l1 busy: the next level at once");
}

#[test]
fn a_waiting_caller_takes_a_lower_level_agent_freed_before_its_level_opens() {
    let mut h = tiered(true, false);
    h.join("q", "first");
    let o = h.one_offer();
    assert_eq!(o.agent, "l1");
    h.result(o.offer_id, mod_callcenter::OfferResult::Answered);
    h.join("q", "second");
    h.wait(5);
    assert!(h.offers().is_empty());
    h.hangup_agent("l1");
    assert_eq!(h.one_offer().agent, "l1");
}
