//! The caller's CANCEL while the callee rings reaches the callee; both get 487.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn caller_cancel_reaches_the_ringing_callee() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    let callee = Sipp::registered_uas("uas_noanswer.xml", sw.sip_addr(), "1001").spawn();
    Sipp::caller("uac_cancel.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    // uas_noanswer passes only if the CANCEL came and its 487 was ACKed.
    callee.wait().assert_passed();

    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    let b = cdr::leg(&rows, "B").unwrap_or_else(|| panic!("one B leg: {rows:#?}"));
    assert_eq!(a.hangup_cause, "ORIGINATOR_CANCEL", "{rows:#?}");
    for leg in [a, b] {
        assert_eq!(leg.answer_stamp, None, "{leg:#?}");
        assert_eq!(leg.billsec, 0, "{leg:#?}");
    }
}
