//! Either party's BYE ends the whole call: the other party gets a BYE too.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

fn assert_both_legs_cleared(sw: &Switch) {
    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "NORMAL_CLEARING", "{row:#?}");
        assert!(row.answer_stamp.is_some(), "{row:#?}");
    }
}

#[test]
fn caller_bye_reaches_the_callee() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(1000)
        .run()
        .assert_passed();
    // uas_answer passes only once a BYE came and was answered.
    callee.wait().assert_passed();
    assert_both_legs_cleared(&sw);
}

#[test]
fn callee_bye_reaches_the_caller() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer_bye.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .duration_ms(1000)
        .spawn();
    // uac_call_wait_bye passes only once a BYE came and was answered.
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    assert_both_legs_cleared(&sw);
}
