//! Extension 9196 answers and sends the caller's own RTP back.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn echo_9196_returns_the_callers_audio() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    // uac_call.xml plays g711a.pcap (PCMA) and offers the sink's port for what comes back.
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9196")
        .key("sinkport", sink.port())
        .duration_ms(3000)
        .run()
        .assert_passed();

    let s = sink.wait_for_packets(50, Duration::from_secs(5));
    assert!(s.of_type(8) >= 50, "too little PCMA echoed: {s:?}");
    assert!(
        s.sources.iter().all(|a| sw.is_rtp_source(*a)),
        "echo did not come from the switch's ports {:?}: {s:?}",
        sw.rtp_range()
    );

    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.destination_number, "9196");
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{rows:#?}");
    assert!(a.answer_stamp.is_some());
}
