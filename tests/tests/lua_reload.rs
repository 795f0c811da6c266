//! Scripts are read again when they change: a new call gets the edited version; an edit
//! that does not compile is reported (`file:line`) and the last good version keeps serving.
//! And fresh state per call: nothing one call's script leaves in its globals reaches the
//! next call.

use std::time::Duration;

use ferroswitch_tests::lua::{caller_expecting, script};
use ferroswitch_tests::{peer_available, RtpSink, Switch};

const T: Duration = Duration::from_secs(10);

fn call(sw: &Switch) {
    let sink = RtpSink::bind();
    caller_expecting(sw, "5555", 486)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
}

fn versions(sw: &Switch) -> Vec<String> {
    sw.log_text()
        .lines()
        .filter_map(|l| l.split("RESULT version=").nth(1))
        .map(|v| v.split(" script=").next().unwrap_or("").trim().to_string())
        .collect()
}

fn wait_versions(sw: &Switch, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + T;
    loop {
        let v = versions(sw);
        if v.len() >= n || std::time::Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn edited_scripts_serve_new_calls_and_a_broken_edit_keeps_the_old_one() {
    if !peer_available("sipp") {
        return;
    }
    let v1 = script("R(\"version\", \"one\", leaked)\nleaked = \"from call one\"\nsession:hangup(\"USER_BUSY\")\n");
    let sw = Switch::start_with_scripts(&[("default.lua", &v1)], &[]);
    let file = sw.scripts_dir().join("default.lua");
    call(&sw);
    assert_eq!(wait_versions(&sw, 1), ["one,nil"]);
    // A second call on the same version: a fresh state, the global is gone.
    call(&sw);
    assert_eq!(wait_versions(&sw, 2), ["one,nil", "one,nil"]);
    let v2 = script("R(\"version\", \"two, edited\", leaked)\nsession:hangup(\"USER_BUSY\")\n");
    std::fs::write(&file, v2).unwrap();
    call(&sw);
    assert_eq!(wait_versions(&sw, 3)[2], "two, edited,nil");
    std::fs::write(
        &file,
        "R(\"version\", \"three\"\nsession:hangup(\"USER_BUSY\")\n",
    )
    .unwrap();
    call(&sw);
    assert_eq!(wait_versions(&sw, 4)[3], "two, edited,nil");
    let line = sw
        .wait_log(
            &[
                "default.lua:2:",
                "no longer compiles",
                "previous version keeps serving",
            ],
            T,
        )
        .expect("the syntax error reported");
    assert!(line.contains("ERROR"), "{line}");
    // Reported once, not on every call.
    call(&sw);
    assert_eq!(wait_versions(&sw, 5)[4], "two, edited,nil");
    let reports = sw.log_text().matches("no longer compiles").count();
    assert_eq!(reports, 1);
    // Fixed again: served.
    std::fs::write(
        &file,
        script("R(\"version\", \"four\")\nsession:hangup(\"USER_BUSY\")\n"),
    )
    .unwrap();
    call(&sw);
    assert_eq!(wait_versions(&sw, 6)[5], "four");
}
