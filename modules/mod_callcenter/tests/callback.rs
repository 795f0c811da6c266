//! Virtual hold: the caller leaves the line keeping its place, is called back when its turn
//! comes, then bridged to an agent.

mod common;

use common::{exits, has_event, one_queue, queue, Harness};
use mod_callcenter::{
    Action, AgentStatus, CallbackResult, ExitReason, MemberJoin, OfferResult, PersistOp, Strategy,
};

fn setup() -> Harness {
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.callback_key = "*".into();
    q.callback_destination = Some("callback_confirm XML default".into());
    q.callback_retries = 2;
    q.callback_retry_delay = 30;
    q.max_wait_time = 100;
    let mut h = Harness::new(one_queue(q, &["a"]));
    h.status("a", AgentStatus::OnBreak);
    h
}

fn callbacks(actions: &[Action]) -> Vec<&mod_callcenter::CallbackCall> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Callback(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn a_callback_keeps_the_place_and_bridges_on_answer() {
    let mut h = setup();
    h.join_with("q", MemberJoin::new("cb").caller("5551234", "Alice"));
    h.wait(10);
    h.join("q", "later");
    h.take();
    assert!(h.engine.handle_member_dtmf(h.now, "cb", '*').unwrap());
    let actions = h.take();
    let exit = exits(&actions);
    assert_eq!(exit.len(), 1);
    assert_eq!(exit[0].reason, ExitReason::CallbackRequested);
    assert_eq!(
        exit[0].destination.as_deref(),
        Some("callback_confirm XML default")
    );
    assert!(has_event(&actions, "member-callback-start"));
    assert!(actions.iter().any(
        |a| matches!(a, Action::Persist(PersistOp::SaveCallback(r)) if r.number == "5551234")
    ));
    assert_eq!(h.engine.position("cb"), Some(1), "still first in line");
    assert!(!h.engine.member("cb").unwrap().is_live());

    // The callback is off the line: max_wait_time does not apply to it.
    h.wait(200);
    assert!(h.engine.member("cb").is_some());

    // An agent frees up: the callback is dialed first, and nobody else gets the agent...
    h.status("a", AgentStatus::Available);
    let actions = h.take();
    let calls = callbacks(&actions);
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].number.as_str(), calls[0].attempt), ("5551234", 1));
    // ("later" was sent out by max_wait_time at t=110.)
    assert!(h.engine.member("later").is_none());

    // ... the customer answers: on the line again at its place, offered to the agent.
    h.engine
        .handle_callback_result(
            h.now,
            "cb",
            CallbackResult::Answered {
                session_uuid: "leg2".into(),
            },
        )
        .unwrap();
    let o = h.one_offer();
    assert_eq!(
        (o.member_uuid.as_str(), o.member_session_uuid.as_str()),
        ("cb", "leg2")
    );
    h.result(o.offer_id, OfferResult::Answered);
    let actions = h.take();
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Bridge(b) if b.member_session_uuid == "leg2")));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Persist(PersistOp::DeleteCallback(u)) if u == "cb")));
}

#[test]
fn a_failed_callback_is_retried_then_dropped() {
    let mut h = setup();
    h.join("q", "cb");
    h.engine
        .handle_callback_request(h.now, "cb", Some("5550000"))
        .unwrap();
    h.status("a", AgentStatus::Available);
    assert_eq!(callbacks(&h.take()).len(), 1);
    h.engine
        .handle_callback_result(h.now, "cb", CallbackResult::Failed)
        .unwrap();
    assert!(has_event(&h.take(), "member-callback-failed"));
    h.wait(29);
    assert!(
        callbacks(&h.take()).is_empty(),
        "retry waits callback_retry_delay"
    );
    h.wait(1);
    let actions = h.take();
    let c = callbacks(&actions);
    assert_eq!((c.len(), c[0].attempt), (1, 2));
    h.engine
        .handle_callback_result(h.now, "cb", CallbackResult::Failed)
        .unwrap();
    let actions = h.take();
    assert!(
        h.engine.member("cb").is_none(),
        "callback_retries = 2 reached"
    );
    let end = common::events(&actions)
        .into_iter()
        .find(|e| e.action() == "member-queue-end")
        .unwrap();
    assert_eq!(end.header("CC-Cancel-Reason"), Some("CALLBACK_FAILED"));
}

#[test]
fn callbacks_need_the_queue_to_allow_them() {
    let mut h = Harness::new(one_queue(queue("q", Strategy::LongestIdleAgent), &["a"]));
    h.status("a", AgentStatus::OnBreak);
    h.join("q", "m");
    assert!(!h.engine.handle_member_dtmf(h.now, "m", '*').unwrap());
    let e = h
        .engine
        .handle_callback_request(h.now, "m", None)
        .unwrap_err();
    assert!(e.to_string().contains("does not offer callbacks"), "{e}");
}
