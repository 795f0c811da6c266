//! A supervisor listens in on a call with `eavesdrop`: they hear both what the caller says
//! and what the caller hears, the caller does not hear them until the supervisor presses 2
//! (whisper), and the supervisor's call ends when the call they listen to does.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::sipp::SippProcess;
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch};

const DIALPLAN: &str = r#"
[[rule]]
destination = '^7100$'
actions = ["answer", "park"]

[[rule]]
destination = '^9664$'
actions = ["answer", "playback local_stream://moh"]

[[rule]]
destination = '^88(10[01][0-9])$'
actions = ["answer", "eavesdrop user/$1", "hangup"]

[[rule]]
destination = '^88(.+)$'
actions = ["answer", "eavesdrop $1", "hangup"]
"#;

/// Waits for the CHANNEL_ANSWER of a call to `dest` and returns its Unique-ID.
fn answered(esl: &mut EslClient, dest: &str) -> String {
    let ev = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_ANSWER")
                && e.header("Caller-Destination-Number") == Some(dest)
        })
        .unwrap_or_else(|| panic!("CHANNEL_ANSWER of the call to {dest}"));
    ev.header("Unique-ID").expect("Unique-ID").to_string()
}

/// A switch on [`DIALPLAN`] and an event-socket client subscribed to `event`.
fn switch_listening_for(event: &str) -> (Switch, EslClient) {
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl
        .command(&format!("event plain {event}"))
        .starts_with("+OK"));
    (sw, esl)
}

/// User `user` calls `dest` with `scenario`, hanging up after `ms`; the sink counts what
/// they hear.
fn call(sw: &Switch, scenario: &str, user: &str, dest: &str, ms: u64) -> (RtpSink, SippProcess) {
    let sink = RtpSink::bind();
    let sipp = Sipp::caller(scenario, sw.sip_addr(), user, dest)
        .key("sinkport", sink.port())
        .duration_ms(ms)
        .spawn();
    (sink, sipp)
}

#[test]
fn a_supervisor_hears_the_caller_who_does_not_hear_the_supervisor() {
    if !peer_available("sipp") {
        return;
    }
    let (sw, mut esl) = switch_listening_for("CHANNEL_ANSWER");
    // The caller talks (the pcap) to a parked line: they hear nothing of the switch's own.
    let (caller_sink, caller) = call(&sw, "uac_call.xml", "1002", "7100", 6000);
    let uuid = answered(&mut esl, "7100");
    // The supervisor talks too (the same pcap), and waits for the switch to hang up.
    let supervisor_sink = RtpSink::bind();
    let dest = format!("88{uuid}");
    let supervisor = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1003", &dest)
        .key("sinkport", supervisor_sink.port())
        .spawn();
    // The pcap is speech with pauses: about half of its packets are loud.
    let heard = supervisor_sink.wait_for_packets(150, Duration::from_secs(8));
    assert!(
        heard.loud >= 40,
        "the supervisor hears the caller's voice: {heard:?}"
    );
    caller.wait().assert_passed();
    // The call listened to ended: so does the supervisor's (the dialplan's hangup).
    supervisor.wait().assert_passed();
    let caller_heard = caller_sink.stats();
    assert_eq!(
        caller_heard.loud, 0,
        "the caller hears nothing of the supervisor: {caller_heard:?}"
    );
    assert!(
        sw.log_text().contains("eavesdropping"),
        "the switch logged the eavesdrop"
    );
}

#[test]
fn a_supervisor_dialling_88_and_an_extension_hears_what_that_user_hears() {
    if !peer_available("sipp") {
        return;
    }
    listen_by_extension(&Switch::start_with_dialplan(DIALPLAN, &[]));
}

#[test]
fn the_shipped_lua_dialplan_routes_88_and_an_extension_to_eavesdrop() {
    if !peer_available("sipp") {
        return;
    }
    listen_by_extension(&Switch::start(&[]));
}

/// User 1002 listens to music on hold; 1003 dials 881002, hears it, hangs up first.
fn listen_by_extension(sw: &Switch) {
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain CHANNEL_ANSWER").starts_with("+OK"));
    // User 1002 sends no audio and listens to music on hold.
    let (caller_sink, caller) = call(sw, "uac_call_nomedia.xml", "1002", "9664", 6000);
    answered(&mut esl, "9664");
    // The supervisor (silent too) listens for 2 s and hangs up first.
    let (supervisor_sink, supervisor) = call(sw, "uac_call_nomedia.xml", "1003", "881002", 2000);
    let heard = supervisor_sink.wait_for_packets(75, Duration::from_secs(8));
    assert!(
        heard.loud >= 50,
        "the supervisor hears the music the caller hears: {heard:?}"
    );
    supervisor.wait().assert_passed();
    // The call listened to goes on as before.
    let before = caller_sink.stats().loud;
    std::thread::sleep(Duration::from_secs(1));
    let after = caller_sink.stats().loud;
    assert!(
        after >= before + 30,
        "the caller still hears the music after the supervisor left: {before} -> {after}"
    );
    caller.wait().assert_passed();
}

#[test]
fn eavesdropping_on_nobody_goes_on_with_the_dialplan() {
    if !peer_available("sipp") {
        return;
    }
    let (sw, mut esl) = switch_listening_for("CHANNEL_HANGUP");
    // No call of user 1005: eavesdrop returns at once and the dialplan hangs up (so soon
    // after the answer that SIPp calls the BYE unexpected: its verdict is not the point).
    let sink = RtpSink::bind();
    let supervisor = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1003", "881005")
        .key("sinkport", sink.port())
        .spawn();
    let ev = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_HANGUP")
        })
        .expect("CHANNEL_HANGUP of the supervisor");
    assert_eq!(
        ev.header("variable_eavesdrop_status"),
        Some("no such channel"),
        "{ev:?}"
    );
    assert_eq!(ev.header("Hangup-Cause"), Some("NORMAL_CLEARING"), "{ev:?}");
    let _ = supervisor.wait();
}

#[test]
fn after_pressing_2_the_supervisor_is_heard_by_the_leg_they_listen_to() {
    if !peer_available("sipp") {
        return;
    }
    let (sw, mut esl) = switch_listening_for("CHANNEL_ANSWER");
    // A silent caller on a parked line: alone, they hear nothing.
    let (caller_sink, caller) = call(&sw, "uac_call_nomedia.xml", "1002", "7100", 6000);
    answered(&mut esl, "7100");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(caller_sink.stats().loud, 0, "a parked line is silent");
    // The supervisor presses 2, then talks.
    let (_supervisor_sink, supervisor) =
        call(&sw, "uac_call_dtmf2_talk.xml", "1003", "881002", 4000);
    supervisor.wait().assert_passed();
    let heard = caller_sink.stats();
    assert!(
        heard.loud >= 30,
        "the caller hears the supervisor after the 2: {heard:?}"
    );
    assert!(
        sw.log_text().contains("eavesdrop: talk mode"),
        "the switch logged the change"
    );
    caller.wait().assert_passed();
}

#[test]
fn originate_puts_a_supervisors_phone_on_a_call_to_listen() {
    if !peer_available("sipp") {
        return;
    }
    let (sw, mut esl) = switch_listening_for("CHANNEL_ANSWER");
    let (_caller_sink, caller) = call(&sw, "uac_call_nomedia.xml", "1002", "9664", 5000);
    let uuid = answered(&mut esl, "9664");
    // The supervisor's phone (1005) answers; it passes once the switch hangs it up.
    let phone_sink = RtpSink::bind();
    let phone = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1005")
        .key("sinkport", phone_sink.port())
        .spawn();
    let reply = esl.api(&format!("originate user/1005 &eavesdrop({uuid})"));
    assert!(reply.starts_with("+OK "), "{reply}");
    let heard = phone_sink.wait_for_packets(75, Duration::from_secs(8));
    assert!(heard.loud >= 50, "the phone hears the call: {heard:?}");
    caller.wait().assert_passed();
    phone.wait().assert_passed();
}

#[test]
fn eavesdrop_all_goes_through_the_calls_and_star_skips_to_the_next() {
    if !peer_available("sipp") {
        return;
    }
    let (sw, mut esl) = switch_listening_for("CHANNEL_ANSWER");
    // The oldest call, which the supervisor leaves with *, and a newer one they stay on
    // until it ends.
    let (_talker_sink, talker) = call(&sw, "uac_call.xml", "1002", "7100", 9000);
    let first = answered(&mut esl, "7100");
    let (_music_sink, music) = call(&sw, "uac_call_nomedia.xml", "1004", "9664", 5000);
    let second = answered(&mut esl, "9664");
    let supervisor_sink = RtpSink::bind();
    let supervisor = Sipp::caller("uac_call_star_wait_bye.xml", sw.sip_addr(), "1003", "88all")
        .key("sinkport", supervisor_sink.port())
        .spawn();
    // The switch hangs the supervisor up once the second call is over, while the first one
    // still runs: the * left it for good.
    music.wait().assert_passed();
    supervisor.wait().assert_passed();
    let log = sw.log_text();
    let listened: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("eavesdropping"))
        .collect();
    assert!(
        listened.len() == 2 && listened[0].contains(&first) && listened[1].contains(&second),
        "{listened:#?}"
    );
    let heard = supervisor_sink.stats();
    assert!(
        heard.loud >= 50,
        "the supervisor heard both calls: {heard:?}"
    );
    talker.wait().assert_passed();
}
