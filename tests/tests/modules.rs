//! Loadable modules in a running switch: mod_example's application from the dialplan during
//! a SIPp call and its API command over the event socket; unload refused while a module's
//! application runs on a call, forced (the call is hung up), and load/reload during calls;
//! modules from `modules.toml` at start, a module built for ABI 99 and a missing one refused
//! with their reasons while the switch starts; a panic in a media tap hangs that call up
//! (NORMAL_TEMPORARY_FAILURE, `hangup_cause_detail`) while another call's media flows on.
//! The harness builds the modules (`cargo build -p mod_example -p mod_record ...`).

use std::time::{Duration, Instant};

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::switch::module_library;
use ferroswitch_tests::{cdr, peer_available, wav, RtpSink, Sipp, Switch};

const DIALPLAN: &str = r#"
[[rule]]
destination = '^7100$'
actions = ["example_hello Ada", "echo"]

[[rule]]
destination = '^7101$'
actions = ["answer", "faulty_sleep 30000", "hangup"]

[[rule]]
destination = '^7102$'
actions = ["answer", "faulty_tap 50", "echo"]

[[rule]]
destination = '^7103$'
actions = ["answer", "faulty_app", "echo"]

[[rule]]
destination = '^7104$'
actions = ["answer", "record_session rec-${destination_number}.wav", "echo"]

[[rule]]
destination = '^9196$'
actions = ["answer", "echo"]
"#;

fn answered_uuid(esl: &mut EslClient, dest: &str) -> String {
    let ev = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_ANSWER")
                && e.header("Caller-Destination-Number") == Some(dest)
        })
        .unwrap_or_else(|| panic!("CHANNEL_ANSWER for {dest}"));
    ev.header("Unique-ID").expect("Unique-ID").to_string()
}

fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn example_application_runs_from_the_dialplan_and_its_api_over_esl() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("load mod_example");
    assert!(reply.starts_with("+OK module mod_example"), "{reply}");
    assert!(reply.contains("example_hello"), "{reply}");
    assert!(esl
        .command("event plain CHANNEL_ANSWER CUSTOM example::hello")
        .starts_with("+OK"));
    let sink = RtpSink::bind();
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "7100")
        .key("sinkport", sink.port())
        .duration_ms(4000)
        .spawn();
    let uuid = answered_uuid(&mut esl, "7100");
    let hello = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Subclass") == Some("example::hello")
        })
        .expect("CUSTOM example::hello");
    assert_eq!(hello.header("Unique-ID"), Some(uuid.as_str()));
    assert_eq!(hello.header("Example-Greeting"), Some("hello, Ada"));
    let var = esl.api(&format!("uuid_getvar {uuid} example_greeting"));
    assert_eq!(var.trim(), "hello, Ada");
    // The module's own subscription sees the event it fired, through the bus.
    assert!(
        poll(Duration::from_secs(5), || esl.api("example_status").trim()
            == "+OK said 1 seen 1"),
        "{}",
        esl.api("example_status")
    );
    // Reloaded during the call (its application is done): the echo goes on.
    let reply = esl.api("reload mod_example");
    assert!(reply.starts_with("+OK module mod_example"), "{reply}");
    assert_eq!(esl.api("example_status").trim(), "+OK said 0 seen 0");
    caller.wait().assert_passed();
    let s = sink.wait_for_packets(100, Duration::from_secs(5));
    assert!(s.packets >= 100, "the echo flowed: {s:?}");
    let modules = esl.api("show modules");
    assert!(
        modules.contains("mod_example") && modules.contains("mod_record"),
        "{modules}"
    );
    assert!(
        modules.contains("example_hello") && modules.contains("1.0"),
        "{modules}"
    );
    let reply = esl.api("unload mod_example");
    assert!(reply.starts_with("+OK"), "{reply}");
    let gone = esl.api("example_status");
    assert!(gone.contains("Command not found"), "{gone}");
    assert!(!esl.api("show modules").contains("mod_example"));
}

#[test]
fn unload_is_refused_while_an_application_runs_unless_forced() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.api("load mod_faulty").starts_with("+OK"));
    assert!(esl.command("event plain CHANNEL_ANSWER").starts_with("+OK"));
    let sink = RtpSink::bind();
    // Passes only if the switch hangs up (the forced unload does).
    let caller = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "7101")
        .key("sinkport", sink.port())
        .spawn();
    let uuid = answered_uuid(&mut esl, "7101");
    assert!(poll(Duration::from_secs(5), || esl
        .api("show modules")
        .lines()
        .any(
            |l| l.starts_with("module,mod_faulty") && l.contains(",1,")
        )));
    let refused = esl.api("unload mod_faulty");
    assert!(
        refused.starts_with("-ERR module mod_faulty is in use"),
        "{refused}"
    );
    assert!(refused.contains(&uuid), "{refused}");
    let reply = esl.api("unload mod_faulty force");
    assert!(
        reply.starts_with("+OK module mod_faulty unloaded"),
        "{reply}"
    );
    caller.wait().assert_passed();
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.hangup_cause, "MANAGER_REQUEST");
    // Nothing of it is left, and it loads again.
    assert!(esl.api("faulty_boom").contains("Command not found"));
    assert!(!esl.api("show modules").contains("mod_faulty"));
    let again = esl.api("load mod_faulty");
    assert!(again.starts_with("+OK module mod_faulty"), "{again}");
}

#[test]
fn modules_toml_loads_at_start_and_bad_modules_are_refused_with_reasons() {
    let modules = format!(
        r#"
[[module]]
name = "mod_record"

[[module]]
name = "mod_example"

[[module]]
name = "mod_wrong_abi"
path = "{}"

[[module]]
name = "mod_missing"
"#,
        module_library("mod_wrong_abi").display()
    );
    let sw = Switch::start_with_conf(
        &[
            ("modules.toml", &modules),
            ("modules/mod_example.toml", "greeting = \"hi\"\n"),
        ],
        &[],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let show = esl.api("show modules");
    assert!(
        show.contains("module,mod_example") && show.contains("module,mod_record"),
        "{show}"
    );
    assert!(
        !show.contains("mod_wrong_abi") && !show.contains("mod_missing"),
        "{show}"
    );
    let log = sw.log_text();
    assert!(
        log.contains("module mod_wrong_abi")
            && log.contains("built for module ABI 99.4, this switch speaks ABI 1.1"),
        "{log}"
    );
    assert!(
        log.contains("module mod_missing") && log.contains("cannot open the library"),
        "{log}"
    );
    // Refused the same way at run time, naming both versions.
    let path = module_library("mod_wrong_abi");
    let reply = esl.api(&format!("load {}", path.display()));
    assert!(reply.starts_with("-ERR"), "{reply}");
    assert!(
        reply.contains("ABI 99.4") && reply.contains("ABI 1.1"),
        "{reply}"
    );
    // Not a module at all: no entry symbol.
    let not_module = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if let Some(libm) = not_module {
        let reply = esl.api(&format!("load {libm}"));
        assert!(
            reply.contains("missing symbol ferroswitch_module_v1"),
            "{reply}"
        );
    }
    // A config error in a module's file refuses its load with file and line.
    assert!(esl.api("unload mod_example").starts_with("+OK"));
    let conf = sw.dir().join("conf/modules/mod_example.toml");
    std::fs::write(&conf, "greeting = \"hi\"\ngreting = 1\n").expect("write");
    let reply = esl.api("load mod_example");
    assert!(
        reply.starts_with("-ERR module mod_example not loaded"),
        "{reply}"
    );
    assert!(reply.contains("mod_example.toml:2"), "{reply}");
}

#[test]
fn a_panicking_tap_hangs_up_its_call_and_other_calls_go_on() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.api("load mod_faulty").starts_with("+OK"));
    assert!(esl
        .command("event plain CHANNEL_ANSWER CHANNEL_HANGUP")
        .starts_with("+OK"));
    let other_sink = RtpSink::bind();
    let other = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9196")
        .key("sinkport", other_sink.port())
        .duration_ms(8000)
        .spawn();
    let other_uuid = answered_uuid(&mut esl, "9196");
    other_sink.wait_for_packets(25, Duration::from_secs(5));
    let sink = RtpSink::bind();
    // The switch hangs this call up when its tap panics (after 50 frames, 1 s).
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "7102")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let hangup = esl
        .wait_event(Duration::from_secs(10), |e| {
            e.header("Event-Name") == Some("CHANNEL_HANGUP")
                && e.header("Caller-Destination-Number") == Some("7102")
        })
        .expect("CHANNEL_HANGUP of the tapped call");
    assert_eq!(
        hangup.header("Hangup-Cause"),
        Some("NORMAL_TEMPORARY_FAILURE")
    );
    let detail = hangup.header("variable_hangup_cause_detail").unwrap_or("");
    assert!(
        detail.contains("mod_faulty") && detail.contains("panicked in a media tap"),
        "{detail:?}"
    );
    // The other call's media kept flowing after the panic.
    let before = other_sink.stats().packets;
    let after = other_sink.wait_for_packets(before + 50, Duration::from_secs(5));
    assert!(after.packets >= before + 50, "{before} then {after:?}");
    assert!(esl
        .api(&format!("uuid_getvar {other_uuid} uuid"))
        .contains(&other_uuid));
    other.wait().assert_passed();
    let show = esl.api("show modules");
    assert!(show.contains("failed: panicked in a media tap"), "{show}");
    // A failed module runs nothing more; reloading it makes it usable again.
    let reply = esl.api("reload mod_faulty");
    assert!(reply.starts_with("+OK module mod_faulty"), "{reply}");
    assert!(esl.api("show modules").contains("mod_faulty"));
}

#[test]
fn a_panicking_application_hangs_up_its_call_with_a_clear_cause() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.api("load mod_faulty").starts_with("+OK"));
    let sink = RtpSink::bind();
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "7103")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.hangup_cause, "NORMAL_TEMPORARY_FAILURE");
    assert!(sw.log_text().contains("application bomb went off"));
}

#[test]
fn unloading_mod_record_mid_call_is_refused_then_forced_and_the_file_is_finished() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_dialplan(DIALPLAN, &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl.command("event plain CHANNEL_ANSWER").starts_with("+OK"));
    let sink = RtpSink::bind();
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "7104")
        .key("sinkport", sink.port())
        .duration_ms(5000)
        .spawn();
    answered_uuid(&mut esl, "7104");
    sink.wait_for_packets(50, Duration::from_secs(5));
    let refused = esl.api("unload mod_record");
    assert!(
        refused.starts_with("-ERR module mod_record is in use") && refused.contains("1 media tap"),
        "{refused}"
    );
    let reply = esl.api("unload mod_record force");
    assert!(
        reply.starts_with("+OK module mod_record unloaded"),
        "{reply}"
    );
    // The call goes on without its recording; the file was finished when the tap closed.
    let before = sink.stats().packets;
    let after = sink.wait_for_packets(before + 50, Duration::from_secs(5));
    assert!(after.packets >= before + 50, "{before} then {after:?}");
    let path = sw.recordings_dir().join("rec-7104.wav");
    let rec = wav::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        rec.seconds() > 0.5 && rec.seconds() < 4.5,
        "{} s",
        rec.seconds()
    );
    caller.wait().assert_passed();
    assert!(esl
        .api("uuid_record x start y.wav")
        .contains("Command not found"));
    let again = esl.api("load mod_record");
    assert!(again.starts_with("+OK module mod_record"), "{again}");
}
