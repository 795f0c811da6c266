//! The harness and the scenarios checked without the switch: each SIPp UAC scenario against
//! its UAS partner directly (a digest challenge spliced in front of the UAS, standing in for
//! the switch's), SIPp's REGISTER against a minimal registrar, and two baresips calling each
//! other. When these pass and a switch test fails, look at the switch.

use std::path::PathBuf;
use std::time::Duration;

use ferroswitch_tests::sipp::scenario_path;
use ferroswitch_tests::wav::{self, tone_blocks};
use ferroswitch_tests::{peer_available, ports, Baresip, RtpSink, Sipp, SippResult, TestDir};

/// A 407 for the first INVITE, as the switch sends it; the UAC answers with credentials.
const CHALLENGE: &str = r#"  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]challenge[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="127.0.0.1", nonce="selftest", algorithm=MD5, qop="auth"
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"#;

/// Challenges a REGISTER, then answers FINAL (200 or 403).
const REGISTRAR: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<scenario name="minimal registrar">
  <recv request="REGISTER"/>
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="127.0.0.1", nonce="selftest", algorithm=MD5, qop="auth"
      Content-Length: 0

    ]]>
  </send>
  <recv request="REGISTER">
    <action>
      <ereg regexp="username=.1001." search_in="hdr" header="Authorization:" check_it="true" assign_to="who"/>
      <log message="[$who]"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 FINAL
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#;

/// Writes `tests/sipp/<uas>` with the challenge spliced before its first INVITE, and
/// `replace` (from, to) applied.
fn challenged(dir: &TestDir, uas: &str, replace: Option<(&str, &str)>) -> PathBuf {
    let text = std::fs::read_to_string(scenario_path(uas)).unwrap();
    let at = text
        .find("  <recv request=\"INVITE\"")
        .expect("a UAS scenario");
    let mut spliced = format!("{}{CHALLENGE}{}", &text[..at], &text[at..]);
    if let Some((from, to)) = replace {
        spliced = spliced.replace(from, to);
    }
    let path = dir.join(uas);
    std::fs::write(&path, spliced).unwrap();
    path
}

/// Runs UAC `uac` against the challenged UAS `uas` directly; returns both results.
fn pair(uas: Sipp, uac: &str, extra: impl FnOnce(Sipp) -> Sipp) -> (SippResult, SippResult) {
    let port = ports::reserve(1);
    let uas = uas.local_port(port).spawn();
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let uac = extra(Sipp::caller(uac, target, "1002", "1001")).run();
    (uac, uas.wait())
}

#[test]
fn uac_call_and_uas_answer_exchange_rtp_directly() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-call");
    let (to_uas, to_uac) = (RtpSink::bind(), RtpSink::bind());
    let uas =
        Sipp::from_path(&challenged(&dir, "uas_answer.xml", None)).key("sinkport", to_uas.port());
    let (uac, uas) = pair(uas, "uac_call.xml", |s| {
        s.key("sinkport", to_uac.port()).duration_ms(2000)
    });
    uac.assert_passed();
    uas.assert_passed();
    for sink in [&to_uas, &to_uac] {
        let s = sink.wait_for_packets(25, Duration::from_secs(5));
        assert!(s.of_type(8) >= 25, "{s:?}");
    }
}

#[test]
fn uas_bye_reaches_uac_wait_bye_directly() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-bye");
    let (to_uas, to_uac) = (RtpSink::bind(), RtpSink::bind());
    let uas = Sipp::from_path(&challenged(&dir, "uas_answer_bye.xml", None))
        .key("sinkport", to_uas.port())
        .duration_ms(1000);
    let (uac, uas) = pair(uas, "uac_call_wait_bye.xml", |s| {
        s.key("sinkport", to_uac.port())
    });
    uac.assert_passed();
    uas.assert_passed();
}

#[test]
fn cc_agent_rings_answers_and_hangs_up_directly() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-cc-agent");
    let uas = Sipp::from_path(&challenged(&dir, "cc_agent_answer_bye.xml", None))
        .key("ringms", 1000)
        .key("talkms", 1000);
    let started = std::time::Instant::now();
    let (uac, uas) = pair(uas, "uac_call_wait_bye.xml", |s| {
        let media = ports::reserve(4);
        s.media_port(media).key("sinkport", media)
    });
    uac.assert_passed();
    uas.assert_passed();
    // [ringms] before the 200 and [talkms] before the BYE were both waited.
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn busy_and_unavailable_reach_uac_expect_directly() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-busy");
    let sink = RtpSink::bind();
    for (status, uac) in [
        ("486 Busy Here", "uac_expect_486.xml"),
        ("480 Temporarily Unavailable", "uac_expect_480.xml"),
    ] {
        let uas = Sipp::from_path(&challenged(
            &dir,
            "uas_busy.xml",
            Some(("486 Busy Here", status)),
        ));
        let (uac, uas) = pair(uas, uac, |s| s.key("sinkport", sink.port()));
        uac.assert_passed();
        uas.assert_passed();
    }
}

#[test]
fn uac_cancel_and_uas_noanswer_agree_directly() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-cancel");
    let sink = RtpSink::bind();
    let uas = Sipp::from_path(&challenged(&dir, "uas_noanswer.xml", None));
    let (uac, uas) = pair(uas, "uac_cancel.xml", |s| s.key("sinkport", sink.port()));
    uac.assert_passed();
    uas.assert_passed();
}

#[test]
fn register_scenarios_against_a_minimal_registrar() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("selftest-register");
    for (answer, scenario) in [
        ("200 OK", "register.xml"),
        ("403 Forbidden", "register_badpass.xml"),
    ] {
        let path = dir.join(&format!("registrar-{}.xml", &answer[..3]));
        std::fs::write(&path, REGISTRAR.replace("FINAL", answer)).unwrap();
        let port = ports::reserve(1);
        let registrar = Sipp::from_path(&path).local_port(port).spawn();
        Sipp::new(scenario)
            .target(([127, 0, 0, 1], port).into())
            .user("1001", "1234")
            .key("expires", 3600)
            .run()
            .assert_passed();
        registrar.wait().assert_passed();
    }
}

#[test]
fn two_baresips_hear_each_others_tone_directly() {
    if !peer_available("baresip") {
        return;
    }
    let dir = TestDir::new("selftest-baresip");
    let (a, b) = (dir.join("a.wav"), dir.join("b.wav"));
    wav::write_tone(&a, 1000.0, 20.0, 8000, 1).unwrap();
    wav::write_tone(&b, 440.0, 20.0, 8000, 1).unwrap();
    let mut callee = Baresip::builder("1001")
        .auto_answer()
        .audio_file(&b)
        .quit_after(Duration::from_secs(30))
        .start();
    let mut caller = Baresip::builder("1002")
        .audio_file(&a)
        .dial(&format!("sip:1001@127.0.0.1:{}", callee.sip_port()))
        .quit_after(Duration::from_secs(4))
        .start();
    caller.wait_exit(Duration::from_secs(10));
    assert!(
        callee.wait_for_log(&["Call with", "terminated"], Duration::from_secs(10)),
        "{}",
        callee.log_text()
    );
    callee.stop();
    for (phone, hz) in [(&callee, 1000.0), (&caller, 440.0)] {
        let dumps = phone.decoded_wavs();
        assert_eq!(dumps.len(), 1, "{dumps:?}");
        let (heard, blocks) = tone_blocks(&wav::read(&dumps[0]).unwrap(), hz);
        assert!(heard >= 20, "{hz} Hz in {heard} of {blocks} blocks");
    }
}
