//! DTMF through a bridge: RFC 4733 telephone-events from SIPp reach the callee as events
//! (and the switch reports the digit), and in-band tones from a caller without
//! telephone-event are detected and reach a callee that has it as events.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::pcap::{dtmf_pieces, write_g711};
use ferroswitch_tests::sipp::scenario_path;
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch, TestDir, G711};

/// Whether the switch logged digit `d` from the caller.
fn logged_digit(sw: &Switch, d: char) -> bool {
    sw.log_text()
        .lines()
        .any(|l| l.contains("DTMF") && l.contains(&format!("digit={d}")) && l.contains("side=A"))
}

fn wait_logged(sw: &Switch, d: char) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if logged_digit(sw, d) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn rfc4733_digit_is_reported_and_reaches_the_callee() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain DTMF").starts_with("+OK"));
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    Sipp::caller("uac_call_dtmf.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(1500)
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    assert!(wait_logged(&sw, '5'), "the switch did not report digit 5");
    let ev = esl
        .wait_event(Duration::from_secs(5), |e| {
            e.header("Event-Name") == Some("DTMF")
        })
        .expect("a DTMF event on the event socket");
    assert_eq!(ev.header("DTMF-Digit"), Some("5"), "{ev:?}");
    assert_eq!(
        ev.header("Caller-Destination-Number"),
        Some("1001"),
        "{ev:?}"
    );
    // dtmf_2833_5.pcap holds 10 event packets (3 of them end retransmissions).
    let got = to_callee.stats().of_type(101);
    assert!(
        got >= 7,
        "telephone-events at the callee: {:?}",
        to_callee.stats()
    );
}

#[test]
fn inband_tones_are_detected_and_sent_on_as_events() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let dir = TestDir::new("dtmf-inband");
    let pcap = dir.join("seven.pcap");
    write_g711(&pcap, G711::Pcmu, &dtmf_pieces('7', 200, 400)).expect("write pcap");
    let text = std::fs::read_to_string(scenario_path("uac_call_pcmu_pcap.xml")).expect("read");
    let scenario = dir.join("uac_inband.xml");
    std::fs::write(
        &scenario,
        text.replace("@PCAP@", &pcap.display().to_string()),
    )
    .expect("write scenario");
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    // The callee offers telephone-event (uas_answer's SDP has 101), the caller does not.
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    Sipp::from_path(&scenario)
        .target(sw.sip_addr())
        .user("1002", "1234")
        .service("1001")
        .key("sinkport", to_caller.port())
        .duration_ms(2000)
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    assert!(wait_logged(&sw, '7'), "the switch did not detect the tones");
    let events = to_callee.stats().of_type(101);
    assert!(
        events >= 3,
        "telephone-events at the callee: {:?}",
        to_callee.stats()
    );
}
