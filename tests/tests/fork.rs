//! A user registered from two places rings at both at once: the first to answer gets the
//! call, the other is cancelled (its INVITE ends 487).

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn every_contact_rings_and_the_loser_is_cancelled() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let (to_answerer, to_loser, to_caller) = (RtpSink::bind(), RtpSink::bind(), RtpSink::bind());
    // uas_noanswer passes only when a CANCEL came; start it first so its INVITE is already
    // ringing when the other one answers.
    let loser = Sipp::registered_uas("uas_noanswer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_loser.port())
        .spawn();
    let answerer = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_answerer.port())
        .spawn();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(1500)
        .run()
        .assert_passed();
    answerer.wait().assert_passed();
    loser.wait().assert_passed();
    assert!(
        to_answerer.stats().of_type(8) > 0,
        "media reached the answering contact"
    );
    assert_eq!(
        to_loser.stats().packets,
        0,
        "no media to the cancelled contact"
    );
    let rows = sw.wait_cdrs(3, Duration::from_secs(10));
    let b: Vec<_> = rows.iter().filter(|r| r.leg == "B").collect();
    assert_eq!(b.len(), 2, "{rows:#?}");
    assert_eq!(
        b.iter().filter(|r| r.answer_stamp.is_some()).count(),
        1,
        "{rows:#?}"
    );
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{a:#?}");
}
