//! The media the switch makes itself: a prompt played to the caller (as long as the file),
//! music on hold on 9664 (a real loop, not silence), a stereo recording as long as the call,
//! and 488 for an offer with no codec the switch can play to.

use std::time::Duration;

use ferroswitch_tests::wav;
use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

const DIALPLAN: &str = r#"
[[rule]]
name = "prompt"
destination = '^7001$'
actions = ["answer", "playback ivr/ivr-welcome.wav", "hangup"]

[[rule]]
name = "record"
destination = '^7002$'
actions = ["answer", "set RECORD_STEREO=true", "record_session call-${destination_number}.wav", "echo"]

[[rule]]
name = "music on hold"
destination = '^9664$'
actions = ["answer", "playback local_stream://moh"]
"#;

/// Payload bytes that are not G.711 silence (0xff µ-law, 0xd5 A-law, and their neighbours).
fn loud_packets(sink: &RtpSink) -> u64 {
    sink.stats().loud
}

#[test]
fn prompt_plays_for_as_long_as_the_file_then_the_switch_hangs_up() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let sink = RtpSink::bind();
    // uac_call_wait_bye passes only when the switch sends the BYE.
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "7001")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let file = wav::read(
        &ferroswitch_tests::switch::repo_root()
            .join("sounds/en/us/callie/ivr/8000/ivr-welcome.wav"),
    )
    .expect("shipped prompt");
    let expected = (file.seconds() * 50.0) as u64;
    let s = sink.wait_for_packets(expected * 9 / 10, Duration::from_secs(5));
    let got = s.of_type(8) + s.of_type(0);
    assert!(
        got >= expected * 9 / 10 && got <= expected + 10,
        "{got} packets for a {expected}-frame prompt: {s:?}"
    );
    assert!(s.sources.iter().all(|a| sw.is_rtp_source(*a)));
    assert!(
        loud_packets(&sink) > expected / 2,
        "the prompt is not silence: {s:?}"
    );
}

#[test]
fn music_on_hold_plays_until_the_caller_hangs_up() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", sink.port())
        .duration_ms(3000)
        .run()
        .assert_passed();
    let s = sink.wait_for_packets(120, Duration::from_secs(5));
    assert!(s.packets >= 120, "{s:?}");
    assert!(loud_packets(&sink) >= 100, "music, not silence: {s:?}");
}

#[test]
fn stereo_recording_is_as_long_as_the_call() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "7002")
        .key("sinkport", sink.port())
        .duration_ms(10_000)
        .timeout(Duration::from_secs(40))
        .run()
        .assert_passed();
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    let answered_us = a.end_epoch_us - a.answer_epoch_us.expect("answered");
    let path = sw.recordings_dir().join("call-7002.wav");
    // The writer thread finishes the file just after the call.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let rec = loop {
        match wav::read(&path) {
            Ok(w) if w.seconds() > 1.0 => break w,
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            other => panic!("no recording at {}: {other:?}", path.display()),
        }
    };
    assert_eq!(rec.channels, 2, "stereo");
    let diff_ms = (rec.seconds() * 1000.0 - answered_us as f64 / 1000.0).abs();
    assert!(
        diff_ms <= 40.0,
        "recording {:.3} s for {:.3} s answered",
        rec.seconds(),
        answered_us as f64 / 1e6
    );
    // The caller's voice (the pcap) is on the left, and the echo of it on the right.
    let (left, right) = rec.split_stereo();
    assert!(
        rms(&left) > 300.0 && rms(&right) > 300.0,
        "{} {}",
        rms(&left),
        rms(&right)
    );
}

#[test]
fn offer_without_a_usable_codec_gets_488() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_expect_488.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.hangup_cause, "INCOMPATIBLE_DESTINATION", "{a:#?}");
}

fn rms(s: &[i16]) -> f64 {
    let sum: f64 = s.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / s.len().max(1) as f64).sqrt()
}
