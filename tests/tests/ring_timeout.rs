//! `sip.ring_timeout`: a callee that rings too long is cancelled; the caller gets 480 and
//! the call ends NO_ANSWER.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn unanswered_call_is_cancelled_at_the_ring_timeout() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[("sip.ring_timeout", "3")]);
    let sink = RtpSink::bind();
    let callee = Sipp::registered_uas("uas_noanswer.xml", sw.sip_addr(), "1001").spawn();
    Sipp::caller("uac_expect_480.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    // uas_noanswer passes only if the switch's CANCEL came and its 487 was ACKed.
    callee.wait().assert_passed();

    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.hangup_cause, "NO_ANSWER", "{rows:#?}");
    assert_eq!(a.answer_stamp, None);
}
