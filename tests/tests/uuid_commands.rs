//! Driving a call in progress from the event socket: `uuid_transfer` sends a caller who
//! listens to music on hold to a prompt (after which the switch hangs up), and `uuid_record`
//! records a call between `start` and `stop`.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::{peer_available, wav, RtpSink, Sipp, Switch};

const DIALPLAN: &str = r#"
[[rule]]
destination = '^7001$'
actions = ["answer", "playback ivr/ivr-welcome.wav", "hangup"]

[[rule]]
destination = '^9664$'
actions = ["answer", "playback local_stream://moh"]
"#;

/// Waits for the caller's CHANNEL_ANSWER and returns its Unique-ID.
fn answered_uuid(esl: &mut EslClient) -> String {
    let ev = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_ANSWER")
        })
        .expect("CHANNEL_ANSWER");
    ev.header("Unique-ID").expect("Unique-ID").to_string()
}

#[test]
fn uuid_transfer_moves_a_call_to_another_extension() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain CHANNEL_ANSWER").starts_with("+OK"));
    let sink = RtpSink::bind();
    // The caller waits for the switch's BYE, which only the 7001 extension sends.
    let caller = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", sink.port())
        .spawn();
    let uuid = answered_uuid(&mut esl);
    sink.wait_for_packets(25, Duration::from_secs(5));
    let reply = esl.api(&format!("uuid_transfer {uuid} 7001"));
    assert!(reply.starts_with("+OK"), "{reply}");
    caller.wait().assert_passed();
    assert!(
        sw.log_text().contains("uuid_transfer"),
        "the switch logged the transfer"
    );
}

#[test]
fn uuid_record_records_between_start_and_stop() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain CHANNEL_ANSWER").starts_with("+OK"));
    let sink = RtpSink::bind();
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", sink.port())
        .duration_ms(5000)
        .spawn();
    let uuid = answered_uuid(&mut esl);
    let reply = esl.api(&format!("uuid_record {uuid} start rec.wav"));
    assert!(reply.starts_with("+OK"), "{reply}");
    std::thread::sleep(Duration::from_secs(2));
    let reply = esl.api(&format!("uuid_record {uuid} stop rec.wav"));
    assert!(reply.starts_with("+OK"), "{reply}");
    let wrong = esl.api(&format!("uuid_record {uuid} stop other.wav"));
    assert!(wrong.starts_with("-ERR"), "{wrong}");
    caller.wait().assert_passed();
    let path = sw.recordings_dir().join("rec.wav");
    let rec = wav::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        (1.8..2.5).contains(&rec.seconds()),
        "{} s recorded",
        rec.seconds()
    );
    let loud = rec
        .samples
        .iter()
        .filter(|s| s.unsigned_abs() > 1000)
        .count();
    assert!(loud > 1000, "the music is in the recording");
}

#[test]
fn uuid_hold_plays_music_to_the_held_leg_until_taken_off() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain CHANNEL_BRIDGE").starts_with("+OK"));
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(6000)
        .spawn();
    let ev = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_BRIDGE")
        })
        .expect("CHANNEL_BRIDGE");
    let uuid = ev.header("Unique-ID").expect("Unique-ID").to_string();
    // The relayed packets keep the callee's SSRC; music on hold is the switch's own stream.
    std::thread::sleep(Duration::from_millis(500));
    let before = to_caller.stats().ssrcs.len();
    let reply = esl.api(&format!("uuid_hold {uuid}"));
    assert!(reply.starts_with("+OK"), "{reply}");
    std::thread::sleep(Duration::from_secs(1));
    let during = to_caller.stats();
    assert!(
        during.ssrcs.len() > before,
        "a new stream (the music) reached the caller: {during:?}"
    );
    let reply = esl.api(&format!("uuid_hold off {uuid}"));
    assert!(reply.starts_with("+OK"), "{reply}");
    caller.wait().assert_passed();
    callee.wait().assert_passed();
}

#[test]
fn uuid_bridge_joins_two_separate_calls() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl
        .command("event plain CHANNEL_ANSWER CHANNEL_HANGUP")
        .starts_with("+OK"));
    let (to_agent, to_caller) = (RtpSink::bind(), RtpSink::bind());
    // The agent (1001) is called by the switch and parked; uas_answer ends on a BYE.
    let agent = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_agent.port())
        .spawn();
    let reply = esl.api("originate {agent_tag=blue}user/1001 &park");
    assert!(reply.starts_with("+OK "), "{reply}");
    let agent_uuid = reply.trim_start_matches("+OK ").trim().to_string();
    // The caller listens to music on hold on 9664 and hangs up after 4 s.
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", to_caller.port())
        .duration_ms(4000)
        .spawn();
    let caller_uuid = loop {
        let ev = esl
            .wait_event(Duration::from_secs(10), |e| {
                e.header("Event-Name") == Some("CHANNEL_ANSWER")
            })
            .expect("CHANNEL_ANSWER");
        let id = ev.header("Unique-ID").unwrap_or_default().to_string();
        if id != agent_uuid {
            break id;
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let reply = esl.api(&format!("uuid_bridge {caller_uuid} {agent_uuid}"));
    assert!(reply.starts_with("+OK"), "{reply}");
    // Joined, each leg still has its own variables, read and written by its uuid.
    assert_eq!(
        esl.api(&format!("uuid_getvar {agent_uuid} agent_tag")),
        "blue"
    );
    assert_eq!(
        esl.api(&format!("uuid_getvar {caller_uuid} agent_tag")),
        "_undef_"
    );
    assert_eq!(
        esl.api(&format!("uuid_setvar {agent_uuid} note agent-only")),
        "+OK\n"
    );
    assert_eq!(
        esl.api(&format!("uuid_getvar {agent_uuid} note")),
        "agent-only"
    );
    assert_eq!(
        esl.api(&format!("uuid_getvar {caller_uuid} note")),
        "_undef_"
    );
    caller.wait().assert_passed();
    // The caller's BYE reached the agent.
    agent.wait().assert_passed();
    // Once joined, each channel's events still carry its own variables, as in FreeSWITCH.
    let mut tags = std::collections::HashMap::new();
    while tags.len() < 2 {
        let ev = esl
            .wait_event(Duration::from_secs(10), |e| {
                e.header("Event-Name") == Some("CHANNEL_HANGUP")
            })
            .expect("a CHANNEL_HANGUP of each channel");
        let id = ev.header("Unique-ID").unwrap_or_default().to_string();
        let tag = ev.header("variable_agent_tag").map(str::to_string);
        tags.insert(id, tag);
    }
    assert_eq!(tags[&agent_uuid].as_deref(), Some("blue"), "{tags:?}");
    assert_eq!(tags[&caller_uuid], None, "{tags:?}");
    // Both voices crossed: the agent got the caller's PCMA, the caller the agent's.
    let agent_got = to_agent.stats().of_type(8);
    assert!(agent_got >= 50, "caller to agent: {:?}", to_agent.stats());
    let caller_ssrcs = to_caller.stats().ssrcs.len();
    assert!(
        caller_ssrcs >= 2,
        "music, then the agent: {:?}",
        to_caller.stats()
    );
    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    let a = ferroswitch_tests::cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.uuid, caller_uuid);
    let b = ferroswitch_tests::cdr::leg(&rows, "B").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(b.uuid, agent_uuid);
    assert_eq!(
        b.call_uuid, caller_uuid,
        "the agent's leg joined the caller's call"
    );
}
