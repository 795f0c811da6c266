//! Wrap-up, reject/busy/no-answer delays, max_no_answer, unreachable phones.

mod common;

use common::{one_queue, queue, Harness};
use mod_callcenter::{AgentStatus, OfferResult, Strategy};

fn h1(wrap: u32) -> Harness {
    let mut c = one_queue(queue("q", Strategy::LongestIdleAgent), &["a"]);
    let a = c.agents.get_mut("a").unwrap();
    a.wrap_up_time = wrap;
    a.reject_delay_time = 7;
    a.busy_delay_time = 11;
    a.no_answer_delay_time = 13;
    a.max_no_answer = 3;
    Harness::new(c)
}

#[test]
fn wrap_up_keeps_the_agent_out_for_its_time() {
    let mut h = h1(20);
    h.join("q", "m1");
    let o = h.one_offer();
    h.answer_and_talk(&o, 30);
    h.join("q", "m2");
    assert!(h.offers().is_empty(), "in wrap-up");
    assert!(h.engine.agent("a").unwrap().in_wrap_up(h.now));
    h.wait(19);
    assert!(h.offers().is_empty());
    h.wait(1);
    assert_eq!(
        h.one_offer().agent,
        "a",
        "offered exactly when the wrap-up ends"
    );
    assert_eq!(h.t(), 50);
}

#[test]
fn reject_busy_and_no_answer_delays() {
    for (result, delay) in [
        (OfferResult::Rejected, 7),
        (OfferResult::Busy, 11),
        (OfferResult::NoAnswer, 13),
    ] {
        let mut h = h1(0);
        h.join("q", "m");
        let o = h.one_offer();
        h.result(o.offer_id, result);
        h.wait(delay - 1);
        assert!(h.offers().is_empty(), "{result:?}: still delayed");
        h.wait(1);
        assert_eq!(h.one_offer().agent, "a", "{result:?}: after {delay} s");
    }
}

#[test]
fn max_no_answer_puts_the_agent_on_break() {
    let mut h = h1(0);
    h.join("q", "m");
    for i in 1..=3 {
        let o = h.one_offer();
        h.result(o.offer_id, OfferResult::NoAnswer);
        let a = h.engine.agent("a").unwrap();
        assert_eq!(a.no_answer_count, i);
        if i < 3 {
            assert_eq!(a.status, AgentStatus::Available);
            h.wait(13);
        }
    }
    let actions = h.take();
    assert_eq!(h.engine.agent("a").unwrap().status, AgentStatus::OnBreak);
    let ev = common::events(&actions);
    let max = ev
        .iter()
        .find(|e| e.action() == "agent-max-no-answer")
        .expect("event");
    assert_eq!(max.header("CC-Agent-No-Answer-Count"), Some("3"));
    assert_eq!(max.header("CC-Agent-No-Answer-Status"), Some("On Break"));
    assert!(ev
        .iter()
        .any(|e| e.action() == "agent-status-change"
            && e.header("CC-Agent-Status") == Some("On Break")));
    h.wait(60);
    assert!(h.offers().is_empty(), "on break: never offered");
    // Back to Available resets the count (as FreeSWITCH) and the caller gets through.
    h.status("a", AgentStatus::Available);
    assert_eq!(h.engine.agent("a").unwrap().no_answer_count, 0);
    assert_eq!(h.one_offer().agent, "a");
}

#[test]
fn an_answer_resets_the_no_answer_count() {
    let mut h = h1(0);
    h.join("q", "m");
    let o = h.one_offer();
    h.result(o.offer_id, OfferResult::NoAnswer);
    h.wait(13);
    let o = h.one_offer();
    h.answer_and_talk(&o, 5);
    assert_eq!(h.engine.agent("a").unwrap().no_answer_count, 0);
}

#[test]
fn an_unreachable_agent_is_skipped_and_counted() {
    let mut h = Harness::new(one_queue(
        queue("q", Strategy::SequentiallyByAgentOrder),
        &["a", "b"],
    ));
    h.join("q", "m");
    let o = h.one_offer();
    assert_eq!(o.agent, "a");
    h.result(o.offer_id, OfferResult::Unreachable);
    assert_eq!(h.one_offer().agent, "b", "skipped to the next agent");
    let a = h.engine.agent("a").unwrap();
    assert_eq!(a.unreachable_count, 1);
    assert_eq!(a.no_answer_count, 0, "not a no-answer");
    assert_eq!(
        a.ready_at(h.now),
        Some(h.now.plus_secs(5)),
        "5 s unreachable delay"
    );
}

#[test]
fn on_demand_agents_go_idle_after_one_call() {
    let mut h = h1(0);
    h.status("a", AgentStatus::AvailableOnDemand);
    h.join("q", "m1");
    let o = h.one_offer();
    h.answer_and_talk(&o, 10);
    assert_eq!(
        h.engine.agent("a").unwrap().state,
        mod_callcenter::AgentState::Idle
    );
    h.join("q", "m2");
    assert!(h.offers().is_empty());
    assert_eq!(h.cc("agent set state a Waiting"), "+OK\n");
    assert_eq!(h.one_offer().agent, "a");
}

#[test]
fn an_agent_never_has_two_offers_or_two_calls() {
    let mut c = one_queue(queue("q1", Strategy::RingAll), &["a"]);
    c.queues.insert("q2".into(), queue("q2", Strategy::RingAll));
    c.tiers.push(mod_callcenter::Tier::new("q2", "a", 1, 1));
    c.normalize();
    let mut h = Harness::new(c);
    h.join("q1", "m1");
    h.join("q2", "m2");
    let offers = h.offers();
    assert_eq!(offers.len(), 1, "one offer for a, whatever the queues");
    assert_eq!(
        h.engine.tiers("q2")[0].state,
        mod_callcenter::TierState::Standby
    );
    h.result(offers[0].offer_id, OfferResult::Answered);
    assert!(h.offers().is_empty(), "in a call: no second offer");
    assert_eq!(
        h.cc("agent set state a Waiting"),
        "-ERR agent a is In a queue call (its state changes when that ends)\n"
    );
    h.hangup_agent("a");
    let o = h.one_offer();
    assert_eq!(o.member_uuid, "m2");
}
