//! SIGTERM while a call is up: both parties get a BYE, the switch exits 0 and the CDRs of
//! both legs are in the database.

use std::time::{Duration, Instant};

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn sigterm_hangs_up_calls_in_progress_and_flushes_cdrs() {
    if !peer_available("sipp") {
        return;
    }
    let mut sw = Switch::start(&[]);
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    // Both scenarios pass only once a BYE came to them and was answered.
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    let caller = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .spawn();
    // Media flowing to the caller means the call is bridged.
    to_caller.wait_for_packets(10, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sw.log_text().contains("bridged") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = sw.stop();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "clean exit");
    caller.wait().assert_passed();
    callee.wait().assert_passed();
    let rows = cdr::read(&sw.cdr_path()).expect("CDR database readable after exit");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "SYSTEM_SHUTDOWN", "{row:#?}");
        assert!(row.answer_stamp.is_some(), "{row:#?}");
    }
}
