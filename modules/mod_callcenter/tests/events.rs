//! The CUSTOM callcenter::info events carry FreeSWITCH's actions and headers.

mod common;

use common::{events, one_queue, queue, Harness};
use mod_callcenter::{MemberJoin, OfferResult, Strategy};

#[test]
fn a_queue_call_fires_freeswitch_events_in_order() {
    let mut h = Harness::new(one_queue(
        queue("sales", Strategy::LongestIdleAgent),
        &["1000"],
    ));
    h.take();
    h.join_with(
        "sales",
        MemberJoin::new("m-1")
            .caller("5551234", "Alice")
            .priority(2),
    );
    h.wait(3);
    let actions = h.take();
    let offer = actions
        .iter()
        .find_map(|a| match a {
            mod_callcenter::Action::Offer(o) => Some(o.clone()),
            _ => None,
        })
        .unwrap();
    h.wait(2);
    h.result(offer.offer_id, OfferResult::Answered);
    h.wait(60);
    h.hangup_agent("1000");
    h.cc("agent set status 1000 'On Break' lunch");
    let mut all = actions;
    all.extend(h.take());
    let ev = events(&all);
    let order: Vec<&str> = ev.iter().map(|e| e.action()).collect();
    assert_eq!(
        order,
        [
            "member-queue-start",
            "members-count",
            "agent-state-change",
            "agent-offering",
            "bridge-agent-start",
            "agent-state-change",
            "members-count",
            "bridge-agent-end",
            "member-queue-end",
            "agent-state-change",
            "agent-status-change",
        ]
    );
    let start = ev[0];
    assert_eq!(start.header("CC-Queue"), Some("sales"));
    assert_eq!(start.header("CC-Member-UUID"), Some("m-1"));
    assert_eq!(start.header("CC-Member-Session-UUID"), Some("m-1"));
    assert_eq!(start.header("CC-Member-CID-Name"), Some("Alice"));
    assert_eq!(start.header("CC-Member-CID-Number"), Some("5551234"));
    assert_eq!(start.header("CC-Member-Priority"), Some("2"));
    assert_eq!(ev[1].header("CC-Count"), Some("1"));
    assert_eq!(ev[1].header("CC-Selection"), Some("Single-Queue"));
    assert_eq!(ev[2].header("CC-Agent-State"), Some("Receiving"));
    let offering = ev[3];
    assert_eq!(offering.header("CC-Agent"), Some("1000"));
    assert_eq!(offering.header("CC-Agent-Type"), Some("callback"));
    assert_eq!(offering.header("CC-Agent-System"), Some("single_box"));
    assert_eq!(offering.header("CC-Member-CID-Number"), Some("5551234"));
    let t0 = common::T0;
    let bridge = ev[4];
    assert_eq!(
        bridge.header("CC-Agent-UUID"),
        Some(offer.agent_uuid.as_str())
    );
    assert_eq!(
        bridge.header("CC-Agent-Called-Time"),
        Some((t0).to_string().as_str())
    );
    assert_eq!(
        bridge.header("CC-Agent-Answered-Time"),
        Some((t0 + 5).to_string().as_str())
    );
    assert_eq!(
        bridge.header("CC-Member-Joined-Time"),
        Some(t0.to_string().as_str())
    );
    assert_eq!(ev[5].header("CC-Agent-State"), Some("In a queue call"));
    assert_eq!(ev[6].header("CC-Count"), Some("0"));
    let end = ev[7];
    assert_eq!(end.header("CC-Agent-Bridged"), Some("true"));
    assert_eq!(
        end.header("CC-Bridge-Terminated-Time"),
        Some((t0 + 65).to_string().as_str())
    );
    assert_eq!(end.header("CC-Hangup-Cause"), Some("NORMAL_CLEARING"));
    let qend = ev[8];
    assert_eq!(qend.header("CC-Cause"), Some("Terminated"));
    assert_eq!(
        qend.header("CC-Member-Leaving-Time"),
        Some((t0 + 65).to_string().as_str())
    );
    assert_eq!(ev[9].header("CC-Agent-State"), Some("Waiting"));
    let status = ev[10];
    assert_eq!(status.header("CC-Agent-Status"), Some("On Break"));
    assert_eq!(status.header("CC-Agent-Break-Reason"), Some("lunch"));
    assert!(ev.iter().all(|e| e.header("CC-Action").is_some()));
    assert_eq!(mod_callcenter::Event::SUBCLASS, "callcenter::info");
}

#[test]
fn a_failed_offer_fires_bridge_agent_fail_with_the_cause() {
    let mut h = Harness::new(one_queue(
        queue("sales", Strategy::LongestIdleAgent),
        &["1000"],
    ));
    h.join("sales", "m");
    let o = h.one_offer();
    h.wait(4);
    h.result(o.offer_id, OfferResult::Busy);
    let actions = h.take();
    let fail = events(&actions)
        .into_iter()
        .find(|e| e.action() == "bridge-agent-fail")
        .unwrap();
    assert_eq!(fail.header("CC-Hangup-Cause"), Some("USER_BUSY"));
    assert_eq!(fail.header("CC-Agent"), Some("1000"));
    let t0 = common::T0;
    assert_eq!(
        fail.header("CC-Agent-Aborted-Time"),
        Some((t0 + 4).to_string().as_str())
    );
    // Events serialize for the event socket.
    let json = serde_json::to_string(fail).unwrap();
    assert!(json.contains("bridge-agent-fail"));
}
