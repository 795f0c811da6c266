//! Caller order: score = base + priority × priority_weight + age_weight × seconds waited.

mod common;

use common::{one_queue, queue, Harness};
use mod_callcenter::{MemberJoin, OfferResult, Strategy};

fn busy_queue() -> Harness {
    // One agent, kept busy so callers pile up.
    let mut h = Harness::new(one_queue(queue("q", Strategy::LongestIdleAgent), &["a"]));
    h.join("q", "busy");
    let o = h.one_offer();
    h.result(o.offer_id, OfferResult::Answered);
    h.take();
    h
}

fn next_served(h: &mut Harness) -> String {
    h.hangup_agent("a");
    let o = h.one_offer();
    h.result(o.offer_id, OfferResult::Answered);
    h.take();
    o.member_uuid
}

#[test]
fn a_vip_overtakes_normal_callers() {
    let mut h = busy_queue();
    h.join("q", "n1");
    h.wait(30);
    h.join("q", "n2");
    h.wait(30);
    h.join_with("q", MemberJoin::new("vip").priority(1));
    assert_eq!(h.engine.position("vip"), Some(1));
    assert_eq!(h.engine.position("n1"), Some(2));
    assert_eq!(next_served(&mut h), "vip");
    assert_eq!(next_served(&mut h), "n1");
    assert_eq!(next_served(&mut h), "n2");
}

#[test]
fn aging_keeps_low_priority_callers_from_starving() {
    // priority_weight 300: a VIP is worth 5 minutes of waiting, no more.
    let mut h = busy_queue();
    h.join("q", "old");
    h.wait(301);
    // VIPs keep arriving; the old caller has waited longer than their head start.
    h.join_with("q", MemberJoin::new("vip1").priority(1));
    assert_eq!(h.engine.position("old"), Some(1));
    h.wait(1);
    h.join_with("q", MemberJoin::new("vip2").priority(1));
    assert_eq!(next_served(&mut h), "old");
    assert_eq!(next_served(&mut h), "vip1");
    assert_eq!(next_served(&mut h), "vip2");
    // A caller who joined shortly before a VIP is overtaken (head start not used up).
    h.join("q", "recent");
    h.wait(100);
    h.join_with("q", MemberJoin::new("vip3").priority(1));
    assert_eq!(next_served(&mut h), "vip3");
    assert_eq!(next_served(&mut h), "recent");
}

#[test]
fn score_and_base_score_show_in_queue_list_members() {
    let mut h = busy_queue();
    h.join_with("q", MemberJoin::new("m").base_score(40));
    h.wait(20);
    let out = h.cc("queue list members q");
    let row = out.lines().find(|l| l.contains("|m|")).expect("member row");
    let cols: Vec<&str> = row.split('|').collect();
    assert_eq!(cols[15], "Waiting");
    assert_eq!(cols[11], "40", "base_score");
    assert_eq!(cols[16], "60", "score = 20 s waited + 40");
    assert_eq!(h.engine.score("m", h.now), Some(60));
}

#[test]
fn changing_the_weights_reorders_the_line() {
    let mut h = busy_queue();
    h.join("q", "n1");
    h.wait(100);
    h.join_with("q", MemberJoin::new("vip").priority(1));
    assert_eq!(h.engine.position("vip"), Some(1));
    assert_eq!(h.cc("queue set priority_weight q 50"), "+OK\n");
    assert_eq!(
        h.engine.position("vip"),
        Some(2),
        "50 s head start < 100 s waited"
    );
}
