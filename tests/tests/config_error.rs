//! A bad configuration stops the switch before it binds anything, with an exit status other
//! than 0 and a message naming the key (and file and line when it comes from a file).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferroswitch_tests::process::{read_text, terminate, wait_timeout};
use ferroswitch_tests::switch::{binary, conf_dir};
use ferroswitch_tests::{ports, TestDir};

/// Runs the binary with `args` and returns (exit code, stderr); it must exit within 10 s.
fn run(dir: &TestDir, args: &[&str]) -> (Option<i32>, String) {
    let port = ports::reserve(1);
    let err_path = dir.join("stderr.txt");
    let err = File::create(&err_path).unwrap();
    let mut child = Command::new(binary())
        .args(args)
        .arg("--set")
        .arg(format!("sip.udp=127.0.0.1:{port}"))
        .arg("--set")
        .arg(format!("sip.tcp=127.0.0.1:{port}"))
        .arg("--set")
        .arg(format!("cdr.path={}", dir.join("cdr.sqlite").display()))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    if status.is_none() {
        terminate(&mut child, Duration::from_secs(5));
        panic!(
            "ferroswitch kept running with a bad config; stderr:\n{}",
            read_text(&err_path)
        );
    }
    (status.and_then(|s| s.code()), read_text(&err_path))
}

#[test]
fn bad_set_value_exits_nonzero_naming_the_key() {
    let dir = TestDir::new("config-error");
    let conf = conf_dir();
    let conf = conf.to_str().unwrap();
    let (code, stderr) = run(&dir, &["--conf", conf, "--set", "rtp.ports=30000-20000"]);
    assert_ne!(code, Some(0), "stderr:\n{stderr}");
    assert!(code.is_some(), "killed by a signal; stderr:\n{stderr}");
    assert!(
        stderr.contains("rtp.ports"),
        "stderr does not name the key:\n{stderr}"
    );
    assert!(
        !dir.join("cdr.sqlite").exists(),
        "it started before failing"
    );
}

#[test]
fn bad_file_value_names_file_line_and_key() {
    let dir = TestDir::new("config-file-error");
    let conf = dir.join("conf");
    copy_dir(&conf_dir(), &conf);
    let main = conf.join("ferroswitch.toml");
    let text = std::fs::read_to_string(&main).unwrap();
    let (line_no, _) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("ring_timeout"))
        .expect("the shipped config has sip.ring_timeout");
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line_no {
                "ring_timeout = \"soon\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&main, broken.join("\n") + "\n").unwrap();

    let (code, stderr) = run(&dir, &["--conf", conf.to_str().unwrap()]);
    assert_ne!(code, Some(0), "stderr:\n{stderr}");
    let expected = format!("ferroswitch.toml:{}: sip.ring_timeout", line_no + 1);
    assert!(
        stderr.contains(&expected),
        "expected {expected:?} in:\n{stderr}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
