//! A bridged call between two registered users: media flows both ways through the switch's
//! own ports, and each leg writes a CDR row that ends NORMAL_CLEARING.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

/// One second of 20 ms packets: far below what 3 s of talk sends, far above zero.
const SOME_AUDIO: u64 = 50;

#[test]
fn bridged_call_relays_rtp_both_ways_and_writes_both_legs() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let to_callee = RtpSink::bind();
    let to_caller = RtpSink::bind();

    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    let caller_port = Sipp::register(sw.sip_addr(), "1002");
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .local_port(caller_port)
        .key("sinkport", to_caller.port())
        .duration_ms(3000)
        .run();
    caller.assert_passed();
    callee.wait().assert_passed();

    for (who, sink) in [("callee", &to_callee), ("caller", &to_caller)] {
        let s = sink.wait_for_packets(SOME_AUDIO, Duration::from_secs(5));
        assert!(
            s.of_type(8) >= SOME_AUDIO,
            "the {who} got too little PCMA: {s:?}"
        );
        assert!(
            s.sources.iter().all(|a| sw.is_rtp_source(*a)),
            "the {who}'s RTP did not all come from the switch's ports {:?}: {s:?}",
            sw.rtp_range()
        );
    }

    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    let b = cdr::leg(&rows, "B").unwrap_or_else(|| panic!("one B leg: {rows:#?}"));
    assert_eq!(a.caller_id_number, "1002");
    assert_eq!(a.destination_number, "1001");
    assert_eq!(a.call_uuid, a.uuid);
    assert_eq!(b.call_uuid, a.uuid);
    for leg in [a, b] {
        assert_eq!(leg.hangup_cause, "NORMAL_CLEARING", "{leg:#?}");
        assert!(leg.answer_stamp.is_some(), "{leg:#?}");
        assert!(leg.billsec <= leg.duration, "{leg:#?}");
        // Both offered and answered PCMA; loopback loses nothing.
        assert_eq!(leg.codec, "PCMA", "{leg:#?}");
        assert_eq!(leg.rtp_lost, 0, "{leg:#?}");
    }
}
