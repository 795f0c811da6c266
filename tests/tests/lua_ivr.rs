//! The shipped dialplan (scripts/default.lua) and demo IVR (scripts/ivr.lua on 5000) with
//! real calls: each menu choice reaches its destination, the sub-menu goes back, invalid
//! keys three times say goodbye, and outside business hours the after-hours message plays.
//! The IVR's clock is set with `vars.ivr_clock`.

use std::time::Duration;

use ferroswitch_tests::lua::{caller_expecting, caller_with_digits, Ends};
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch};

const T: Duration = Duration::from_secs(20);

fn open_switch() -> Switch {
    Switch::start(&[("vars.ivr_clock", "Mon 10:00")])
}

/// Calls 5000, presses `digits`, and checks that the IVR bridged to `user`.
fn choice_reaches(digits: &[(char, u32)], user: &str, logged: &[&str]) {
    let sw = open_switch();
    let to_callee = RtpSink::bind();
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), user)
        .key("sinkport", to_callee.port())
        .spawn();
    let sink = RtpSink::bind();
    let last = digits.iter().map(|d| d.1).max().unwrap_or(0);
    caller_with_digits(&sw, "5000", digits, last + 6000, Ends::CallerHangsUp)
        .key("sinkport", sink.port())
        .duration_ms(u64::from(last) + 5000)
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    for what in logged {
        assert!(
            sw.wait_log(&[&format!("ivr.lua: {what}")], T).is_some(),
            "no \"ivr.lua: {what}\" in the log"
        );
    }
    let cdrs = sw.wait_cdrs(2, T);
    let b = cdrs.iter().find(|c| c.leg == "B").expect("a B leg");
    assert_eq!(b.destination_number, user, "{cdrs:?}");
    assert!(b.answer_stamp.is_some(), "{cdrs:?}");
    assert!(to_callee.stats().packets > 0, "no media reached {user}");
}

#[test]
fn one_is_sales() {
    if peer_available("sipp") {
        choice_reaches(&[('1', 2500)], "1000", &["sales"]);
    }
}

#[test]
fn zero_is_the_operator() {
    if peer_available("sipp") {
        choice_reaches(&[('0', 2500)], "1001", &["operator"]);
    }
}

#[test]
fn two_then_one_is_billing_in_the_support_menu() {
    if peer_available("sipp") {
        choice_reaches(&[('2', 2500), ('1', 4500)], "1010", &["support", "billing"]);
    }
}

#[test]
fn two_then_two_is_technical_support() {
    if peer_available("sipp") {
        choice_reaches(
            &[('2', 2500), ('2', 4500)],
            "1011",
            &["support", "technical"],
        );
    }
}

#[test]
fn star_goes_back_to_the_main_menu_and_three_is_the_echo_test() {
    if !peer_available("sipp") {
        return;
    }
    let sw = open_switch();
    let sink = RtpSink::bind();
    let digits = [('2', 2500), ('*', 4500), ('3', 7000)];
    caller_with_digits(&sw, "5000", &digits, 12000, Ends::CallerHangsUp)
        .key("sinkport", sink.port())
        .duration_ms(11000)
        .run()
        .assert_passed();
    for what in ["support", "back", "echo"] {
        assert!(
            sw.wait_log(&[&format!("ivr.lua: {what}")], T).is_some(),
            "{what}"
        );
    }
    assert!(sw.wait_log(&["execute", "app=echo"], T).is_some());
    assert!(sink.stats().packets > 300, "{:?}", sink.stats());
}

#[test]
fn three_invalid_keys_say_goodbye() {
    if !peer_available("sipp") {
        return;
    }
    let sw = open_switch();
    let sink = RtpSink::bind();
    let digits = [('7', 2500), ('8', 6000), ('9', 9500)];
    caller_with_digits(&sw, "5000", &digits, 20000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert!(sw.wait_log(&["ivr.lua: no choice"], T).is_some());
    let cdrs = sw.wait_cdrs(1, T);
    assert_eq!(cdrs[0].hangup_cause, "NORMAL_CLEARING", "{cdrs:?}");
    assert!(cdrs[0].answer_stamp.is_some());
}

#[test]
fn after_hours_plays_the_closed_message() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[("vars.ivr_clock", "Sat 10:00")]);
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "5000", &[('1', 3000)], 15000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert!(sw.wait_log(&["ivr.lua: after hours"], T).is_some());
    assert!(
        !sw.log_text().contains("ivr.lua: sales"),
        "the menu ran after hours"
    );
    // Welcome, after-hours and goodbye: about 10 s of prompts.
    assert!(sink.stats().loud >= 200, "{:?}", sink.stats());
}

#[test]
fn the_shipped_dialplan_is_lua_and_refuses_unknown_numbers() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    assert!(sw
        .wait_log(&["context routed by a Lua script", "script=default.lua"], T)
        .is_some());
    let sink = RtpSink::bind();
    caller_expecting(&sw, "7777", 404)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert!(sw
        .wait_log(&["default.lua: no route for 7777"], T)
        .is_some());
    let cdrs = sw.wait_cdrs(1, T);
    assert_eq!(cdrs[0].hangup_cause, "NO_ROUTE_DESTINATION");
    // 4486 through the script: busy.
    caller_expecting(&sw, "4486", 486)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert!(sw
        .wait_log(&["script started", "script=default.lua"], T)
        .is_some());
}
