//! Busy: the dialplan's `hangup USER_BUSY` (4486) and a callee's own 486 both reach the
//! caller as 486 and end USER_BUSY.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn busy_extension_4486_answers_486() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_expect_486.xml", sw.sip_addr(), "1002", "4486")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();

    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.destination_number, "4486");
    assert_eq!(a.hangup_cause, "USER_BUSY", "{rows:#?}");
    assert_eq!(a.answer_stamp, None);
}

#[test]
fn callee_486_maps_back_to_the_caller() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    let callee = Sipp::registered_uas("uas_busy.xml", sw.sip_addr(), "1001").spawn();
    Sipp::caller("uac_expect_486.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    callee.wait().assert_passed();

    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.destination_number, "1001");
    assert_eq!(a.hangup_cause, "USER_BUSY", "{rows:#?}");
}
