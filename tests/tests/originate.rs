//! `originate` from the event socket: the switch rings a registered user and, once it
//! answers, runs an application (or an extension) on that leg; an unregistered user fails
//! with the cause.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn originate_rings_the_user_and_runs_the_application() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    // uas_answer passes once the switch's BYE came, after the prompt.
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", sink.port())
        .spawn();
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("originate user/1001 &playback(ivr/ivr-welcome.wav)");
    assert!(reply.starts_with("+OK "), "{reply}");
    let uuid = reply.trim_start_matches("+OK ").trim().to_string();
    callee.wait().assert_passed();
    let s = sink.wait_for_packets(50, Duration::from_secs(5));
    assert!(s.loud >= 40, "the prompt reached the callee: {s:?}");
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.uuid, uuid);
    assert_eq!(a.destination_number, "1001");
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{a:#?}");
    assert!(a.answer_stamp.is_some());
}

#[test]
fn originate_to_an_unregistered_user_fails_with_the_cause() {
    let sw = Switch::start(&[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("originate user/1009 &echo");
    assert!(reply.starts_with("-ERR USER_NOT_REGISTERED"), "{reply}");
}
