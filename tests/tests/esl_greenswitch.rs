//! A real ESL client library nobody here wrote, greenswitch (PyPI, on gevent): it connects,
//! authenticates, runs `api status`, receives CHANNEL_ANSWER during a SIPp call, and runs
//! `bgapi` with its BACKGROUND_JOB. `tests/run-all.sh` installs it into
//! `$CARGO_TARGET_DIR/esl-venv` (or set `FERROSWITCH_ESL_PYTHON` to a python that has it).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ferroswitch_tests::process::{peers_required, terminate};
use ferroswitch_tests::switch::repo_root;
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch};

/// The python with greenswitch, or `None` (the test is skipped unless peers are required).
fn python() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let py = std::env::var_os("FERROSWITCH_ESL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("esl-venv").join("bin").join("python"));
    let ok = Command::new(&py)
        .args(["-c", "import greenswitch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    assert!(
        !peers_required(),
        "greenswitch is not installed for {} and FERROSWITCH_REQUIRE_PEERS is set \
         (bash tests/run-all.sh installs it)",
        py.display()
    );
    eprintln!("SKIPPED: greenswitch is not installed for {}", py.display());
    None
}

#[test]
fn greenswitch_runs_api_gets_channel_answer_and_background_job() {
    if !peer_available("sipp") {
        return;
    }
    let Some(py) = python() else { return };
    let sw = Switch::start(&[]);
    let script = repo_root().join("tests/esl/greenswitch_client.py");
    let mut child = Command::new(&py)
        .arg(&script)
        .args(["127.0.0.1", &sw.esl_port().to_string(), "ClueCon"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(20));
    if ready.as_deref() != Ok("READY") {
        let _ = terminate(&mut child, Duration::from_secs(1));
        let err = child
            .stderr
            .take()
            .map(|e| std::io::read_to_string(e).unwrap_or_default())
            .unwrap_or_default();
        panic!("greenswitch client not ready: {ready:?}\n{err}");
    }
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9196")
        .key("sinkport", sink.port())
        .duration_ms(1500)
        .run()
        .assert_passed();
    let mut lines = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(20)) {
        lines.push(l);
        if lines
            .last()
            .is_some_and(|l| l.starts_with("JOB ") || l.starts_with("FAIL"))
        {
            break;
        }
    }
    let status = ferroswitch_tests::process::wait_timeout(&mut child, Duration::from_secs(10));
    let status = status.or_else(|| terminate(&mut child, Duration::from_secs(1)));
    let err = child
        .stderr
        .take()
        .map(|e| std::io::read_to_string(e).unwrap_or_default())
        .unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "greenswitch client failed: {lines:?}\n{err}"
    );
    let answer = lines
        .iter()
        .find(|l| l.starts_with("ANSWER "))
        .expect("an ANSWER line");
    let parts: Vec<&str> = answer.split_whitespace().collect();
    assert_eq!(parts.len(), 4, "{answer}");
    assert_eq!(parts[1].len(), 36, "a uuid: {answer}");
    assert_eq!(&parts[2..], ["9196", "answered"], "{answer}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" status") && l.starts_with("JOB ")),
        "{lines:?}"
    );
}

#[test]
fn greenswitch_outbound_server_drives_a_call_through_the_socket_application() {
    if !peer_available("sipp") {
        return;
    }
    let Some(py) = python() else { return };
    let port = ferroswitch_tests::ports::reserve(1);
    let dialplan = format!(
        "[[rule]]\ndestination = '^7003$'\nactions = [\"socket 127.0.0.1:{port} async full\"]\n"
    );
    let sw = Switch::start_with_dialplan(&dialplan, &[]);
    let script = repo_root().join("tests/esl/greenswitch_outbound.py");
    let mut child = Command::new(&py)
        .arg(&script)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(20));
    assert_eq!(ready.as_deref().ok(), Some("READY"), "{ready:?}");
    let sink = RtpSink::bind();
    // The caller waits for a BYE: the controller's hangup.
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "7003")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let mut lines = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
        let last = l == "DONE" || l.starts_with("FAIL");
        lines.push(l);
        if last {
            break;
        }
    }
    let status = terminate(&mut child, Duration::from_secs(5));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CONNECT ") && l.ends_with(" 7003")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "PLAYED playback"), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("DONE"),
        "{lines:?} {status:?}"
    );
    let s = sink.wait_for_packets(50, Duration::from_secs(5));
    assert!(s.loud >= 40, "the prompt reached the caller: {s:?}");
}
