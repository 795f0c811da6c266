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
    let mut events = EslClient::login(sw.esl_addr(), "ClueCon");
    assert_eq!(
        events.command("event plain CHANNEL_CREATE CHANNEL_HANGUP"),
        "+OK event listener enabled plain"
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("originate user/1001 &playback(ivr/ivr-welcome.wav)");
    assert!(reply.starts_with("+OK "), "{reply}");
    let uuid = reply.trim_start_matches("+OK ").trim().to_string();
    callee.wait().assert_passed();
    // The leg the switch dialled is outbound, as FreeSWITCH reports an originated channel.
    for name in ["CHANNEL_CREATE", "CHANNEL_HANGUP"] {
        let e = events
            .wait_event(Duration::from_secs(10), |e| {
                e.header("Event-Name") == Some(name) && e.header("Unique-ID") == Some(&uuid)
            })
            .unwrap_or_else(|| panic!("{name} of {uuid}"));
        assert_eq!(e.header("Call-Direction"), Some("outbound"), "{name}");
        assert_eq!(e.header("variable_direction"), Some("outbound"), "{name}");
        // Named after the user it dialled, not the caller id it presented.
        assert!(
            e.header("Channel-Name")
                .is_some_and(|n| n.starts_with("sofia/internal/1001@")),
            "{name}: {:?}",
            e.header("Channel-Name")
        );
    }
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

#[test]
fn origination_uuid_names_the_ringing_leg_so_it_can_be_hung_up() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    // uas_noanswer rings and passes when the switch CANCELs.
    let callee = Sipp::registered_uas("uas_noanswer.xml", sw.sip_addr(), "1001").spawn();
    let addr = sw.esl_addr();
    let ringing = std::thread::spawn(move || {
        let mut esl = EslClient::login(addr, "ClueCon");
        esl.api("originate {origination_uuid=agent-leg-7,originate_timeout=20}user/1001 &park")
    });
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    // The name is taken while it rings (the ringing fork is listed once the INVITE went).
    let mut listed = false;
    for _ in 0..100 {
        if esl.api("show channels").contains("1001") {
            listed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(listed, "the ringing leg never showed up");
    let dup = esl.api("originate {origination_uuid=agent-leg-7}user/1001 &park");
    assert!(dup.starts_with("-ERR DUPLICATE_UUID"), "{dup}");
    let bad = esl.api("originate {origination_uuid=a/b}user/1001 &park");
    assert!(bad.starts_with("-ERR INVALID_UUID"), "{bad}");
    let kill = esl.api("uuid_kill agent-leg-7 ORIGINATOR_CANCEL");
    assert!(kill.starts_with("+OK"), "{kill}");
    let reply = ringing.join().expect("the originate thread");
    assert!(reply.starts_with("-ERR ORIGINATOR_CANCEL"), "{reply}");
    callee.wait().assert_passed();
}

#[test]
fn uuid_break_stops_music_on_hold_and_the_application_goes_on() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = RtpSink::bind();
    // uas_answer passes once the switch's BYE came: the endless music must be stopped first.
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", sink.port())
        .spawn();
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("originate user/1001 &playback(local_stream://moh)");
    assert!(reply.starts_with("+OK "), "{reply}");
    let uuid = reply.trim_start_matches("+OK ").trim().to_string();
    let s = sink.wait_for_packets(50, Duration::from_secs(5));
    assert!(s.loud >= 40, "music reached the callee: {s:?}");
    let usage = esl.api("uuid_break");
    assert!(usage.starts_with("-USAGE"), "{usage}");
    let r = esl.api(&format!("uuid_break {uuid}"));
    assert!(r.starts_with("+OK"), "{r}");
    callee.wait().assert_passed();
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.uuid, uuid);
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{a:#?}");
}
