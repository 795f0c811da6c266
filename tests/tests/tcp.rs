//! SIP over TCP: a caller registers and calls over one TCP connection (framing by
//! Content-Length, responses and the far end's BYE on that same connection), and a callee
//! registered over TCP is reached over TCP while the caller speaks UDP.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn echo_test_over_tcp() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    Sipp::new("register.xml")
        .target(sw.sip_addr())
        .user("1002", "1234")
        .key("expires", 3600)
        .tcp()
        .run()
        .assert_passed();
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9196")
        .key("sinkport", sink.port())
        .duration_ms(2000)
        .tcp()
        .run()
        .assert_passed();
    let stats = sink.wait_for_packets(50, Duration::from_secs(5));
    assert!(stats.of_type(8) >= 50, "echoed PCMA: {stats:?}");
    assert!(
        stats.sources.iter().all(|s| sw.is_rtp_source(*s)),
        "{stats:?}"
    );
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.destination_number, "9196");
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{a:#?}");
}

#[test]
fn udp_caller_reaches_a_tcp_callee() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let port = ferroswitch_tests::ports::reserve(1);
    Sipp::new("register.xml")
        .target(sw.sip_addr())
        .local_port(port)
        .user("1001", "1234")
        .key("expires", 3600)
        .tcp()
        .run()
        .assert_passed();
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::new("uas_answer.xml")
        .local_port(port)
        .key("sinkport", to_callee.port())
        .tcp()
        .spawn();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(2000)
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    assert!(
        to_callee.stats().of_type(8) >= 25,
        "{:?}",
        to_callee.stats()
    );
    assert!(
        to_caller.stats().of_type(8) >= 25,
        "{:?}",
        to_caller.stats()
    );
    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "NORMAL_CLEARING", "{row:#?}");
    }
}
