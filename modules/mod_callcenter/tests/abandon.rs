//! Callers leaving: before an offer, while agents ring (cancel at once), during the call;
//! resuming an abandoned place.

mod common;

use common::{events, has_event, one_queue, queue, Harness};
use mod_callcenter::{Action, LeaveReason, MemberState, OfferResult, Outcome, PersistOp, Strategy};

fn records(actions: &[Action]) -> Vec<&mod_callcenter::CallRecord> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Persist(PersistOp::RecordCall(r)) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn abandon_before_any_offer() {
    let mut h = Harness::new(one_queue(queue("q", Strategy::LongestIdleAgent), &["a"]));
    h.status("a", mod_callcenter::AgentStatus::OnBreak);
    h.join("q", "m");
    h.wait(12);
    h.take();
    h.engine
        .handle_member_leave(h.now, "m", LeaveReason::Hangup)
        .unwrap();
    let actions = h.take();
    let end = events(&actions)
        .into_iter()
        .find(|e| e.action() == "member-queue-end")
        .expect("member-queue-end");
    assert_eq!(end.header("CC-Cause"), Some("Cancel"));
    assert_eq!(end.header("CC-Cancel-Reason"), Some("BREAK_OUT"));
    let r = records(&actions);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].outcome, Outcome::Abandoned);
    assert_eq!(r[0].wait_ms, 12_000);
    assert!(h.engine.member("m").is_none());
    assert_eq!(h.engine.queue_counters("q"), Some((0, 1)));
}

#[test]
fn abandon_during_an_offer_cancels_the_agent_leg_at_once() {
    let mut h = Harness::new(one_queue(queue("q", Strategy::RingAll), &["a", "b"]));
    h.join("q", "m");
    let offers = h.offers();
    assert_eq!(offers.len(), 2);
    h.wait(3);
    h.engine
        .handle_member_leave(h.now, "m", LeaveReason::Hangup)
        .unwrap();
    let actions = h.take();
    // The very first actions are the cancels, before any event about the caller.
    let cancels: Vec<_> = actions
        .iter()
        .take_while(|a| !matches!(a, Action::Event(e) if e.action() == "member-queue-end"))
        .filter_map(|a| match a {
            Action::CancelOffer(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(cancels.len(), 2);
    assert!(cancels.iter().all(|c| c.cause == "ORIGINATOR_CANCEL"));
    assert_eq!(cancels[0].agent_uuid, offers[0].agent_uuid);
    assert!(has_event(&actions, "bridge-agent-fail"));
    // The agents are free at once, without a no-answer penalty.
    let a = h.engine.agent("a").unwrap();
    assert_eq!(a.state, mod_callcenter::AgentState::Waiting);
    assert_eq!(a.no_answer_count, 0);
    assert!(h.engine.agent_offer("a").is_none());
    // A late answer from a canceled leg is refused (the host hangs it up).
    assert!(h
        .engine
        .handle_offer_result(h.now, offers[0].offer_id, OfferResult::Answered)
        .is_err());
    h.join("q", "next");
    assert_eq!(h.offers().len(), 2, "both agents ring for the next caller");
}

#[test]
fn hanging_up_during_the_call_ends_it_and_starts_wrap_up() {
    let mut c = one_queue(queue("q", Strategy::LongestIdleAgent), &["a"]);
    c.agents.get_mut("a").unwrap().wrap_up_time = 15;
    let mut h = Harness::new(c);
    h.join("q", "m");
    let o = h.one_offer();
    h.wait(2);
    h.result(o.offer_id, OfferResult::Answered);
    h.wait(40);
    h.take();
    h.engine
        .handle_member_leave(h.now, "m", LeaveReason::Hangup)
        .unwrap();
    let actions = h.take();
    assert!(has_event(&actions, "bridge-agent-end"));
    let r = records(&actions);
    assert_eq!(r[0].outcome, Outcome::Answered);
    assert_eq!(
        (r[0].wait_ms, r[0].talk_ms, r[0].wrap_up_ms),
        (2_000, 40_000, 15_000)
    );
    assert_eq!(r[0].offered_agents, ["a"]);
    // The agent's later hangup is a no-op.
    h.hangup_agent("a");
    assert!(h.engine.agent("a").unwrap().in_wrap_up(h.now));
    assert_eq!(h.engine.agent("a").unwrap().talk_time, 40);
}

#[test]
fn an_abandoned_caller_resumes_its_place() {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.abandoned_resume_allowed = true;
    q.discard_abandoned_after = 60;
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.status("a", mod_callcenter::AgentStatus::OnBreak);
    h.join("q", "first");
    h.wait(10);
    h.join("q", "second");
    h.wait(10);
    h.engine
        .handle_member_leave(h.now, "first", LeaveReason::Hangup)
        .unwrap();
    assert_eq!(
        h.engine.member("first").unwrap().state,
        MemberState::Abandoned
    );
    h.wait(30);
    // Calls again from the same number (a new channel): back in front of "second".
    h.join_with(
        "q",
        mod_callcenter::MemberJoin::new("again").caller("5first", "first"),
    );
    let actions = h.take();
    assert!(has_event(&actions, "member-queue-resume"));
    assert_eq!(h.engine.position("first"), Some(1));
    assert_eq!(h.engine.position("second"), Some(2));
    assert_eq!(
        h.engine.member("first").unwrap().session_uuid.as_deref(),
        Some("again")
    );
    // Too late: the abandoned place is discarded after discard_abandoned_after.
    h.engine
        .handle_member_leave(h.now, "first", LeaveReason::Hangup)
        .unwrap();
    h.wait(61);
    assert!(h.engine.member("first").is_none());
}
