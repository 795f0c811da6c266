//! Sandbox escapes tried from real calls: io.open, os.execute, require outside scripts/, a
//! string.rep memory bomb, a growing table, `while true do end`, deep recursion and a
//! pathological pattern. Each call is refused or stopped with `file:line: reason` in the
//! log and a clean 503, while a music-on-hold call next to them keeps its media flowing.

use std::time::{Duration, Instant};

use ferroswitch_tests::lua::{caller_expecting, DISPATCH};
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch, TestDir};

const T: Duration = Duration::from_secs(10);

#[test]
fn escapes_are_refused_or_stopped_while_another_call_keeps_its_media() {
    if !peer_available("sipp") {
        return;
    }
    let outside = TestDir::new("lua-outside");
    let pwned = outside.join("pwned");
    let exec = format!("local x = 1\nos.execute('touch {}')\n", pwned.display());
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "t_io",
            "\nlocal f = io.open('/etc/passwd')\n",
            &["t_io.lua:2:", "io"],
        ),
        ("t_exec", &exec, &["t_exec.lua:2:", "execute"]),
        (
            "t_outside",
            "\n\nrequire('../secret')\n",
            &["t_outside.lua:3: require: bad module name"],
        ),
        (
            "t_bomb",
            "local s = string.rep('x', 1 << 30)\n",
            &["t_bomb.lua:1:", "string.rep", "lua.memory_limit"],
        ),
        (
            "t_grow",
            "local t, s = {}, ('x'):rep(64)\nwhile true do\n  s = s .. s\n  t[#t + 1] = s\nend\n",
            &["t_grow.lua:", "not enough memory", "lua.memory_limit is"],
        ),
        (
            "t_loop",
            "local n = 0\nwhile true do\n  n = n + 1\nend\n",
            &["t_loop.lua:", "script stopped", "lua.max_cpu_ms (500 ms)"],
        ),
        (
            "t_recurse",
            "local function f(n) return 1 + f(n + 1) end\nreturn f(1)\n",
            &["t_recurse.lua:1:"],
        ),
        (
            "t_pattern",
            "local s = ('a'):rep(40000)\nreturn s:find('(.-)(.-)(.-)(.-)b')\n",
            &["t_pattern.lua:2:", "lua.max_cpu_ms"],
        ),
    ];
    let mut scripts: Vec<(&str, String)> = vec![("default.lua", DISPATCH.to_string())];
    for (name, src, _) in cases {
        scripts.push((
            Box::leak(format!("{name}.lua").into_boxed_str()),
            src.to_string(),
        ));
    }
    let refs: Vec<(&str, &str)> = scripts.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let sw = Switch::start_with_scripts(&refs, &[("lua.max_cpu_ms", "500")]);

    // Music on hold next to the bad calls, for 25 s at most.
    let moh = RtpSink::bind();
    let held = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "9664")
        .key("sinkport", moh.port())
        .duration_ms(25_000)
        .timeout(Duration::from_secs(40))
        .spawn();
    assert!(
        moh.wait_for_packets(25, T).packets >= 25,
        "no music on hold"
    );
    let (start, start_packets) = (Instant::now(), moh.stats().packets);
    for (name, _, expect) in cases {
        let before = (Instant::now(), moh.stats().packets);
        let sink = RtpSink::bind();
        caller_expecting(&sw, name, 503)
            .key("sinkport", sink.port())
            .run()
            .assert_passed();
        let mut parts = vec!["script failed"];
        parts.extend_from_slice(expect);
        let line = sw
            .wait_log(&parts, T)
            .unwrap_or_else(|| panic!("{name}: no log line with {parts:?}"));
        assert!(line.contains("ERROR"), "{line}");
        // Packets went on flowing to the held call meanwhile (50 a second; short windows
        // on a busy machine are noisy, the whole run is checked closer below).
        let (t0, p0) = before;
        let secs = t0.elapsed().as_secs_f64();
        let got = moh.stats().packets - p0;
        assert!(
            got as f64 >= secs * 50.0 * 0.4,
            "{name}: music on hold got {got} packets in {secs:.2} s"
        );
    }
    let secs = start.elapsed().as_secs_f64();
    let got = moh.stats().packets - start_packets;
    assert!(
        got as f64 >= secs * 50.0 * 0.75,
        "music on hold got {got} packets in {secs:.2} s"
    );
    assert!(!pwned.exists(), "os.execute ran");
    let cdrs = sw.wait_cdrs(cases.len(), T);
    assert_eq!(
        cdrs.iter()
            .filter(|c| c.hangup_cause == "NORMAL_TEMPORARY_FAILURE")
            .count(),
        cases.len(),
        "{cdrs:?}"
    );
    drop(held);
}
