//! `ferroswitch cli` against a running switch: `-x` runs one command and exits non-zero on
//! `-ERR` or when it cannot connect; defaults come from the config's `[esl]`; the
//! interactive console reads commands and `/` commands from its input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ferroswitch_tests::switch::binary;
use ferroswitch_tests::{ports, Switch, TestDir};

fn cli(args: &[&str]) -> Output {
    Command::new(binary())
        .arg("cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ferroswitch cli")
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn execute_prints_the_reply_and_fails_on_err() {
    let sw = Switch::start(&[]);
    let port = sw.esl_port().to_string();
    let base = ["-H", "127.0.0.1", "-P", port.as_str(), "-p", "ClueCon"];

    let o = cli(&[&base[..], &["-x", "status"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("UP "),
        "{}",
        text(&o)
    );

    let o = cli(&[&base[..], &["-x", "show channels as json"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["row_count"], 0);

    let o = cli(&[&base[..], &["-x", "no_such_command"]].concat());
    assert!(!o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("-ERR no_such_command"));

    let o = cli(&[&base[..], &["-x", "uuid_kill"]].concat());
    assert!(
        !o.status.success(),
        "a -USAGE reply fails too: {}",
        text(&o)
    );

    let o = cli(&[
        "-H",
        "127.0.0.1",
        "-P",
        &port,
        "-p",
        "wrong",
        "-x",
        "status",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("authentication failed"),
        "{}",
        text(&o)
    );

    let closed = ports::reserve(1).to_string();
    let o = cli(&["-H", "127.0.0.1", "-P", &closed, "-x", "status"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot connect"),
        "{}",
        text(&o)
    );
}

#[test]
fn defaults_come_from_the_config_folder() {
    let sw = Switch::start(&[("esl.password", "from-conf")]);
    let dir = TestDir::new("cli-conf");
    std::fs::write(
        dir.join("ferroswitch.toml"),
        format!(
            "[esl]\nlisten = \"127.0.0.1:{}\"\npassword = \"from-conf\"\n",
            sw.esl_port()
        ),
    )
    .unwrap();
    let conf = dir.path().to_str().unwrap();
    let o = cli(&["--conf", conf, "-x", "version"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("ferroswitch Version"));
}

#[test]
fn the_console_reads_commands_and_slash_commands() {
    let sw = Switch::start(&[]);
    let port = sw.esl_port().to_string();
    let mut child = Command::new(binary())
        .args(["cli", "-H", "127.0.0.1", "-P", &port, "-l", "none"])
        .env("HOME", TestDir::new("cli-home").path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ferroswitch cli");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(b"status\n/log info\nshow registrations\n/nolog\n/bogus\n/exit\n")
        .unwrap();
    drop(input);
    let o = child.wait_with_output().expect("cli output");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.contains("UP 0 years"), "{out}");
    assert!(out.contains("+OK log level info [6]"), "{out}");
    assert!(out.contains("0 total."), "{out}");
    assert!(out.contains("+OK no longer logging"), "{out}");
    assert!(out.contains("-ERR unknown console command /bogus"), "{out}");
}

/// The console under a pseudo-terminal (python's pty): `originate` a call to a SIPp UAS
/// registered as 1001, see it in `show channels`, `uuid_kill` it (the UAS gets the BYE).
#[test]
fn the_console_in_a_terminal_originates_and_kills_a_call() {
    if !ferroswitch_tests::peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let sink = ferroswitch_tests::RtpSink::bind();
    let uas = ferroswitch_tests::Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", sink.port())
        .spawn();
    let script = ferroswitch_tests::switch::repo_root().join("tests/esl/cli_pty.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(binary())
        .arg(sw.esl_port().to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("\nOK"), "{}", text(&o));
    // uas_answer passes only once the switch's BYE came.
    uas.wait().assert_passed();
    let rows = sw.wait_cdrs(1, std::time::Duration::from_secs(10));
    let uuid = out
        .lines()
        .find_map(|l| l.strip_prefix("UUID "))
        .expect("the uuid line");
    let a = ferroswitch_tests::cdr::leg(&rows, "A").unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(a.uuid, uuid);
    assert_eq!(a.hangup_cause, "NORMAL_CLEARING", "{a:#?}");
}
