//! mod_callcenter end to end: SIPp agents registered as users, SIPp callers dialling the
//! queues, the ACD's choices checked in the calls the agents get, its events and its tables.

use std::time::{Duration, Instant};

use ferroswitch_tests::{peer_available, EslClient, RtpSink, Sipp, Switch};

/// A callcenter config with `agents` (name, extra TOML lines) in queue `sales` (7001) of `strategy`.
fn conf(strategy: &str, queue_extra: &str, agents: &[(&str, &str)]) -> String {
    let mut s = format!(
        "[settings]\ndb = \"callcenter.db\"\n\n[queues.sales]\nstrategy = \"{strategy}\"\nmoh_sound = \"local_stream://moh\"\n{queue_extra}\n"
    );
    for (i, (a, extra)) in agents.iter().enumerate() {
        s.push_str(&format!(
            "[agents.\"{a}\"]\ncontact = \"user/{a}\"\nstatus = \"Available\"\n{extra}\n\n"
        ));
        s.push_str(&format!(
            "[[tiers]]\nqueue = \"sales\"\nagent = \"{a}\"\nlevel = 1\nposition = {}\n\n",
            i + 1
        ));
    }
    s
}

fn api(sw: &Switch, cmd: &str) -> String {
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.api(cmd)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// The `callcenter::info` events (CC-Action, CC-Agent) seen on `esl` within `timeout`.
fn cc_events(esl: &mut EslClient, timeout: Duration) -> Vec<(String, String)> {
    esl.drain(timeout)
        .into_iter()
        .filter(|m| m.content_type() == "text/event-plain")
        .map(|m| m.plain_event())
        .filter(|e| e.header("Event-Subclass") == Some("callcenter::info"))
        .map(|e| {
            (
                e.header("CC-Action").unwrap_or("").to_string(),
                e.header("CC-Agent").unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The queue calls recorded in the switch's callcenter database: (answered_by, exit_reason).
fn cc_calls(sw: &Switch) -> Vec<(Option<String>, String)> {
    let db = sw.dir().join("var").join("callcenter.db");
    let Ok(conn) = rusqlite::Connection::open(&db) else {
        return Vec::new();
    };
    let Ok(mut st) = conn.prepare("SELECT answered_by, exit_reason FROM cc_calls ORDER BY entered")
    else {
        return Vec::new();
    };
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// `callcenter_config agent list` row of `agent`: (status, state, calls_answered).
fn agent_row(sw: &Switch, agent: &str) -> Option<(String, String, String)> {
    let list = api(sw, "callcenter_config agent list");
    list.lines().find_map(|l| {
        let f: Vec<&str> = l.split('|').collect();
        (f.first() == Some(&agent) && f.len() > 17)
            .then(|| (f[5].to_string(), f[6].to_string(), f[17].to_string()))
    })
}

#[test]
fn a_caller_in_queue_reaches_the_only_registered_agent() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf("longest-idle-agent", "", &[("1001", ""), ("1002", "")]);
    let sw = Switch::start_with_conf(&[("modules/mod_callcenter.toml", &cc)], &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.command("event plain CUSTOM callcenter::info");
    let to_agent = RtpSink::bind();
    let to_caller = RtpSink::bind();
    // 1002 is Available but not registered: skipped as unreachable.
    let agent = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_agent.port())
        .spawn();
    let caller_port = Sipp::register(sw.sip_addr(), "1005");
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1005", "7001")
        .local_port(caller_port)
        .key("sinkport", to_caller.port())
        .duration_ms(4000)
        .run();
    caller.assert_passed();
    agent.wait().assert_passed();
    for (who, sink) in [("agent", &to_agent), ("caller", &to_caller)] {
        let s = sink.wait_for_packets(50, Duration::from_secs(5));
        assert!(s.of_type(8) >= 50, "the {who} heard too little: {s:?}");
    }
    // The agent is free again (no wrap-up) with one answered call.
    wait_until("agent 1001 back to Waiting", Duration::from_secs(5), || {
        agent_row(&sw, "1001").is_some_and(|(_, state, n)| state == "Waiting" && n == "1")
    });
    let events = cc_events(&mut esl, Duration::from_millis(500));
    let actions: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).collect();
    for want in [
        "member-queue-start",
        "agent-offering",
        "bridge-agent-start",
        "bridge-agent-end",
        "member-queue-end",
    ] {
        assert!(actions.contains(&want), "no {want} in {events:?}");
    }
    assert!(
        events
            .iter()
            .any(|(a, who)| a == "bridge-agent-start" && who == "1001"),
        "{events:?}"
    );
    wait_until("the queue call's record", Duration::from_secs(5), || {
        cc_calls(&sw)
            .iter()
            .any(|(by, _)| by.as_deref() == Some("1001"))
    });
}
