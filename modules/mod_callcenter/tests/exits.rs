//! Leaving the queue on the engine's initiative: max wait, no agent, exit keys.

mod common;

use common::{exits, one_queue, queue, Harness};
use mod_callcenter::{AgentStatus, ExitReason, OfferResult, Outcome, Strategy};

#[test]
fn max_wait_time_exits_to_the_timeout_destination() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.max_wait_time = 60;
    q.timeout_destination = Some("voicemail:sales".into());
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.status("a", AgentStatus::OnBreak);
    h.join("q", "m");
    h.wait(59);
    assert!(exits(&h.take()).is_empty());
    h.wait(1);
    let actions = h.take();
    let e = exits(&actions);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].reason, ExitReason::Timeout);
    assert_eq!(e[0].destination.as_deref(), Some("voicemail:sales"));
    assert_eq!(e[0].session_uuid, "m");
    let end = common::events(&actions)
        .into_iter()
        .find(|x| x.action() == "member-queue-end")
        .unwrap();
    assert_eq!(end.header("CC-Cancel-Reason"), Some("TIMEOUT"));
    assert!(h.engine.member("m").is_none());
    let s = h.engine.queue_stats("q", h.now).unwrap();
    assert_eq!((s.today.offered, s.today.exited), (1, 1));
}

#[test]
fn a_timeout_while_an_agent_rings_waits_for_that_offer() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.max_wait_time = 20;
    q.offer_timeout = 30;
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.wait(10);
    h.status("a", AgentStatus::OnBreak);
    h.status("a", AgentStatus::Available);
    h.take();
    h.join("q", "m");
    let o = h.one_offer();
    h.wait(25);
    assert!(
        exits(&h.take()).is_empty(),
        "the ringing agent gets its chance"
    );
    h.result(o.offer_id, OfferResult::NoAnswer);
    assert_eq!(exits(&h.take())[0].reason, ExitReason::Timeout);
}

#[test]
fn no_agent_logged_in_exits_after_max_wait_time_with_no_agent() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.max_wait_time_with_no_agent = 30;
    q.max_wait_time_with_no_agent_time_reached = 10;
    q.no_agent_destination = Some("7002 XML default".into());
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.join("q", "early");
    h.wait(5);
    // The last agent logs out at t=5: the no-agent clock starts.
    h.status("a", AgentStatus::LoggedOut);
    h.take();
    h.wait(29);
    assert!(exits(&h.take()).is_empty());
    h.wait(1);
    let actions = h.take();
    let e = exits(&actions);
    assert_eq!((e.len(), e[0].reason), (1, ExitReason::NoAgentTimeout));
    assert_eq!(e[0].destination.as_deref(), Some("7002 XML default"));
    // The queue has had no agent for 30 s: a new caller still waits time_reached (10 s).
    h.join("q", "late");
    h.wait(9);
    assert!(exits(&h.take()).is_empty());
    h.wait(1);
    assert_eq!(exits(&h.take())[0].member_uuid, "late");
    // An agent logging in stops the clock.
    h.status("a", AgentStatus::OnBreak);
    h.join("q", "kept");
    h.wait(100);
    assert!(exits(&h.take()).is_empty());
    assert!(h.engine.member("kept").is_some());
}

#[test]
fn on_break_agents_count_as_logged_in() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.max_wait_time_with_no_agent = 10;
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.status("a", AgentStatus::OnBreak);
    h.join("q", "m");
    h.wait(60);
    assert!(exits(&h.take()).is_empty());
}

#[test]
fn an_exit_key_takes_the_caller_out() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.exit_keys = "0#".into();
    q.exit_key_destination = Some("operator XML default".into());
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.status("a", AgentStatus::OnBreak);
    h.join("q", "m");
    assert!(!h.engine.handle_member_dtmf(h.now, "m", '5').unwrap());
    assert!(h.engine.handle_member_dtmf(h.now, "m", '#').unwrap());
    let actions = h.take();
    let e = exits(&actions);
    assert_eq!(e[0].reason, ExitReason::ExitWithKey('#'));
    assert_eq!(e[0].destination.as_deref(), Some("operator XML default"));
    let r = actions.iter().find_map(|a| match a {
        mod_callcenter::Action::Persist(mod_callcenter::PersistOp::RecordCall(r)) => Some(r),
        _ => None,
    });
    assert_eq!(r.unwrap().outcome, Outcome::ExitWithKey);
}

#[test]
fn announcements_carry_position_and_estimated_wait() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.announce_frequency = 30;
    q.announce_sound = Some("ivr/ivr-please_hold.wav".into());
    q.default_handle_time = 120;
    let mut h = Harness::new(one_queue(q, &["a", "b"]));
    h.join("q", "x");
    h.join("q", "y");
    for o in h.offers() {
        h.result(o.offer_id, OfferResult::Answered);
    }
    h.join("q", "m1");
    h.join("q", "m2");
    h.take();
    h.wait(30);
    let actions = h.take();
    let ann: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            mod_callcenter::Action::Announce(x) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(ann.len(), 2);
    let m2 = ann.iter().find(|a| a.member_uuid == "m2").unwrap();
    // 2 agents busy, AHT 120 s: m2 at place 2 waits 2 × 120 / 2 = 120 s.
    assert_eq!((m2.position, m2.estimated_wait_secs), (Some(2), Some(120)));
    assert_eq!(m2.sound.as_deref(), Some("ivr/ivr-please_hold.wav"));
    let w = h.engine.predict_wait("q", h.now).unwrap().unwrap();
    assert_eq!(w.as_secs(), 180, "a third caller: 3 × 120 / 2");
}

#[test]
fn routing_by_shortest_predicted_wait() {
    let mut c = one_queue(queue("sales", Strategy::LongestIdleAgent), &["a"]);
    c.queues.insert(
        "support".into(),
        queue("support", Strategy::LongestIdleAgent),
    );
    c.agents.insert("b".into(), common::agent("b"));
    c.agents.insert("c".into(), common::agent("c"));
    c.tiers
        .push(mod_callcenter::Tier::new("support", "b", 1, 1));
    c.tiers
        .push(mod_callcenter::Tier::new("support", "c", 1, 2));
    c.normalize();
    let mut h = Harness::new(c);
    h.join("sales", "s1");
    h.join("support", "p1");
    for o in h.offers() {
        h.result(o.offer_id, OfferResult::Answered);
    }
    // sales: 1 agent busy; support: 1 of 2 busy, 1 free.
    let best = h
        .engine
        .shortest_predicted_wait(&["sales", "support"], h.now);
    assert_eq!(best.map(|b| b.0), Some("support"));
    assert_eq!(
        h.cc("queue predict sales support"),
        "queue|predicted_wait\nsupport|0\nsales|180\n+OK\n"
    );
}
