//! A re-INVITE in a bridged call (hold with a=sendonly, then unhold with a=sendrecv) is passed
//! to the other party and its answer back, and the call goes on until the BYE.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn hold_and_unhold_pass_through_without_dropping_the_call() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer_hold.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    // Each of hold, unhold and BYE comes -d ms after the one before.
    Sipp::caller("uac_call_hold.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(700)
        .run()
        .assert_passed();
    // The callee's scenario checks the offers it got (sendonly, then sendrecv).
    callee.wait().assert_passed();
    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "NORMAL_CLEARING", "{row:#?}");
        assert!(
            row.billsec >= 2,
            "the call lasted through both re-INVITEs: {row:#?}"
        );
    }
    assert!(to_callee.stats().of_type(8) > 0 && to_caller.stats().of_type(8) > 0);
}
