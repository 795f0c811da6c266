//! mod_callcenter end to end: SIPp agents registered as users, SIPp callers dialling the
//! queues, the ACD's choices checked in the calls the agents get, its events and its tables.

use std::time::Duration;

use ferroswitch_tests::lua::{self, Ends};
use ferroswitch_tests::sipp::SippProcess;
use ferroswitch_tests::{peer_available, wait_until, EslClient, RtpSink, Sipp, Switch, TestDir};

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

/// Agent `ext` registered as a SIPp UAS that answers and talks (its pcap); the sink counts
/// what the agent hears.
fn agent(sw: &Switch, ext: &str) -> (RtpSink, SippProcess) {
    let sink = RtpSink::bind();
    let uas = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), ext)
        .key("sinkport", sink.port())
        .spawn();
    (sink, uas)
}

/// User 1005, registered, about to dial `dest` with `scenario` and hang up after `ms`; the
/// sink counts what the caller hears.
fn caller_1005(sw: &Switch, scenario: &str, dest: &str, ms: u64) -> (RtpSink, Sipp) {
    let sink = RtpSink::bind();
    let port = Sipp::register(sw.sip_addr(), "1005");
    let sipp = Sipp::caller(scenario, sw.sip_addr(), "1005", dest)
        .local_port(port)
        .key("sinkport", sink.port())
        .duration_ms(ms);
    (sink, sipp)
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
    let list = sw.api("callcenter_config agent list");
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
    // 1002 is Available but not registered: skipped as unreachable.
    let (to_agent, agent) = agent(&sw, "1001");
    let (to_caller, caller) = caller_1005(&sw, "uac_call.xml", "7001", 4000);
    let caller = caller.run();
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

/// `agents`' conf with callbacks on key `*` in queue sales.
fn callback_conf(agent_status: &str) -> String {
    conf(
        "longest-idle-agent",
        "callback_key = \"*\"\ncallback_retry_delay = 2\n",
        &[("1001", &format!("status = \"{agent_status}\"\n"))],
    )
    .replace("status = \"Available\"\nstatus", "status")
}

/// The caller 1002 dials 7001, presses `*` and is hung up on after the confirmation.
fn ask_for_callback(sw: &Switch) {
    let sink = RtpSink::bind();
    lua::caller_with_digits(sw, "7001", &[('*', 2500)], 12000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
}

#[test]
fn a_callback_keeps_the_place_and_bridges_the_customer_on_answer() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_conf(
        &[("modules/mod_callcenter.toml", &callback_conf("Logged Out"))],
        &[],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.command("event plain CUSTOM callcenter::info");
    // The customer's phone, where the switch calls back.
    let to_customer = RtpSink::bind();
    let customer = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1002")
        .key("sinkport", to_customer.port())
        .spawn();
    ask_for_callback(&sw);
    let waiting = sw.api("callcenter_config queue count callbacks sales");
    assert_eq!(waiting.trim(), "1", "one callback waits");
    // An agent logs in: the customer is called back, then bridged to it.
    let to_agent = RtpSink::bind();
    let agent = Sipp::registered_uas("uas_answer_bye.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_agent.port())
        .duration_ms(3000)
        .spawn();
    let r = sw.api("callcenter_config agent set status 1001 Available");
    assert!(r.starts_with("+OK"), "{r}");
    agent.wait().assert_passed();
    customer.wait().assert_passed();
    for (who, sink) in [("agent", &to_agent), ("customer", &to_customer)] {
        let s = sink.wait_for_packets(50, Duration::from_secs(5));
        assert!(s.of_type(8) >= 50, "the {who} heard too little: {s:?}");
    }
    let events = cc_events(&mut esl, Duration::from_millis(500));
    let actions: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).collect();
    for want in [
        "member-callback-start",
        "member-callback-dialing",
        "member-callback-answered",
        "bridge-agent-start",
    ] {
        assert!(actions.contains(&want), "no {want} in {events:?}");
    }
    wait_until("the callback's record", Duration::from_secs(5), || {
        cc_calls(&sw)
            .iter()
            .any(|(by, _)| by.as_deref() == Some("1001"))
    });
    assert_eq!(
        sw.api("callcenter_config queue count callbacks sales")
            .trim(),
        "0"
    );
}

#[test]
fn agent_state_and_waiting_callbacks_survive_a_restart() {
    if !peer_available("sipp") {
        return;
    }
    let state = TestDir::new("cc-state");
    let db_dir = state.path().display().to_string();
    let conf_text = callback_conf("Available");
    let files = [("modules/mod_callcenter.toml", conf_text.as_str())];
    let sets = [("lua.db_dir", db_dir.as_str())];
    let mut sw = Switch::start_with_conf(&files, &sets);
    // Changes made at run time: 1001 goes On Break, gets skills; a customer waits for a
    // callback.
    for cmd in [
        "callcenter_config agent set status 1001 'On Break'",
        "callcenter_config agent set skills 1001 english=5,billing=2",
    ] {
        let r = sw.api(cmd);
        assert!(r.starts_with("+OK"), "{cmd}: {r}");
    }
    ask_for_callback(&sw);
    assert_eq!(
        sw.api("callcenter_config queue count callbacks sales")
            .trim(),
        "1"
    );
    sw.stop();

    let sw = Switch::start_with_conf(&files, &sets);
    let row = agent_row(&sw, "1001").expect("agent 1001 after the restart");
    assert_eq!(
        row.0, "On Break",
        "the status set at run time wins over the file"
    );
    let skills = sw.api("callcenter_config agent get skills 1001");
    assert!(skills.contains("billing=2"), "skills kept: {skills}");
    assert_eq!(
        sw.api("callcenter_config queue count callbacks sales")
            .trim(),
        "1",
        "the waiting callback was kept"
    );
    // And it is still called back once an agent is free.
    let to_customer = RtpSink::bind();
    let customer = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1002")
        .key("sinkport", to_customer.port())
        .spawn();
    let to_agent = RtpSink::bind();
    let agent = Sipp::registered_uas("uas_answer_bye.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_agent.port())
        .duration_ms(2000)
        .spawn();
    let r = sw.api("callcenter_config agent set status 1001 Available");
    assert!(r.starts_with("+OK"), "{r}");
    agent.wait().assert_passed();
    customer.wait().assert_passed();
}

/// The exit reason of the queue's only call, once it is recorded.
fn only_exit_reason(sw: &Switch) -> String {
    let mut reason = String::new();
    wait_until(
        "the queue call's record",
        Duration::from_secs(8),
        || match cc_calls(sw).as_slice() {
            [(_, r)] => {
                reason = r.clone();
                true
            }
            _ => false,
        },
    );
    reason
}

#[test]
fn the_exit_key_sends_the_caller_to_its_destination() {
    if !peer_available("sipp") {
        return;
    }
    // No agent logged in; 0 leaves the queue for the echo test (9196).
    let cc = conf(
        "longest-idle-agent",
        "exit_keys = \"0\"\nexit_key_destination = \"9196\"\n",
        &[("1001", "status = \"Logged Out\"\n")],
    )
    .replace("status = \"Available\"\nstatus", "status");
    let sw = Switch::start_with_conf(&[("modules/mod_callcenter.toml", &cc)], &[]);
    let sink = RtpSink::bind();
    lua::caller_with_digits(&sw, "7001", &[('0', 2000)], 7000, Ends::CallerHangsUp)
        .key("sinkport", sink.port())
        .duration_ms(7000)
        .run()
        .assert_passed();
    assert_eq!(only_exit_reason(&sw), "exit_with_key");
    assert!(
        sw.wait_log(&["uuid_transfer", "9196"], Duration::from_secs(2))
            .or_else(|| sw.wait_log(&["transfer", "9196"], Duration::from_secs(1)))
            .is_some(),
        "no transfer to 9196 in the log"
    );
    // The echo test sent the caller's own audio back (its telephone-events among them).
    let s = sink.wait_for_packets(100, Duration::from_secs(3));
    assert!(s.packets >= 100, "too little came back: {s:?}");
}

#[test]
fn max_wait_time_sends_the_caller_to_the_timeout_destination_with_announcements_before() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "longest-idle-agent",
        "max_wait_time = 5\ntimeout_destination = \"9196\"\nannounce_frequency = 2\nannounce_sound = \"ivr/ivr-your_call_is_important.wav\"\n",
        &[("1001", "")],
    );
    // 1001 is Available but not registered: nobody answers; the caller waits.
    let sw = Switch::start_with_conf(&[("modules/mod_callcenter.toml", &cc)], &[]);
    let (sink, caller) = caller_1005(&sw, "uac_call.xml", "7001", 9000);
    caller.run().assert_passed();
    assert_eq!(only_exit_reason(&sw), "timeout");
    let said = sw
        .wait_log(
            &["announcement to", "ivr-you_are_caller_number"],
            Duration::from_secs(1),
        )
        .expect("an announcement of the caller's place");
    assert!(said.contains("digits/1.wav"), "first in line: {said}");
    assert!(
        sw.wait_log(&["transfer", "9196"], Duration::from_secs(1))
            .is_some(),
        "no transfer to 9196 in the log"
    );
    let s = sink.wait_for_packets(300, Duration::from_secs(3));
    assert!(s.packets >= 300, "the caller heard too little: {s:?}");
}

#[test]
fn extension_7000_picks_the_queue_with_the_shortest_predicted_wait() {
    if !peer_available("sipp") {
        return;
    }
    // sales has nobody logged in (no prediction); support has an agent.
    let cc = "[settings]\ndb = \"callcenter.db\"\n\n[queues.sales]\n[queues.support]\n\n\
        [agents.\"1001\"]\ncontact = \"user/1001\"\nstatus = \"Logged Out\"\n\n\
        [agents.\"1003\"]\ncontact = \"user/1003\"\nstatus = \"Available\"\n\n\
        [[tiers]]\nqueue = \"sales\"\nagent = \"1001\"\n\n\
        [[tiers]]\nqueue = \"support\"\nagent = \"1003\"\n";
    let sw = Switch::start_with_conf(&[("modules/mod_callcenter.toml", cc)], &[]);
    let predict = sw.api("callcenter_config queue predict sales support");
    assert!(
        predict
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("support|")),
        "support first: {predict}"
    );
    let to_agent = RtpSink::bind();
    let agent = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1003")
        .key("sinkport", to_agent.port())
        .spawn();
    let (_sink, caller) = caller_1005(&sw, "uac_call.xml", "7000", 3000);
    caller.run().assert_passed();
    agent.wait().assert_passed();
    assert!(
        sw.wait_log(&["app=callcenter", "args=support"], Duration::from_secs(1))
            .is_some(),
        "7000 did not queue in support"
    );
}

#[test]
fn cc_export_vars_reach_the_agent_offering_event_and_the_agent_leg() {
    if !peer_available("sipp") {
        return;
    }
    // A dialplan tagging the caller with its CRM id before it queues.
    let scripts = TestDir::new("cc-scripts");
    std::fs::write(
        scripts.join("default.lua"),
        "session:setVariable('crm_id', 'C-42')\n\
         session:setVariable('cc_export_vars', 'crm_id')\n\
         ACTIONS = { { 'callcenter', 'sales' } }\n",
    )
    .expect("write default.lua");
    let dir = scripts.path().display().to_string();
    let cc = conf("longest-idle-agent", "", &[("1001", "")]);
    let sw = Switch::start_with_conf(
        &[("modules/mod_callcenter.toml", &cc)],
        &[("lua.scripts", dir.as_str())],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.command("event plain CUSTOM callcenter::info");
    let (_to_agent, agent) = agent(&sw, "1001");
    let (_to_caller, caller) = caller_1005(&sw, "uac_call.xml", "7001", 4000);
    let caller = caller.spawn();
    let offering = esl
        .wait_event(Duration::from_secs(5), |e| {
            e.header("CC-Action") == Some("agent-offering")
        })
        .expect("an agent-offering event");
    assert_eq!(
        offering.header("variable_crm_id"),
        Some("C-42"),
        "{offering:?}"
    );
    assert_eq!(offering.header("CC-Agent"), Some("1001"));
    let leg = offering
        .header("CC-Agent-UUID")
        .expect("CC-Agent-UUID")
        .to_string();
    let mut seen = String::new();
    wait_until("crm_id on the agent's leg", Duration::from_secs(3), || {
        seen = sw.api(&format!("uuid_getvar {leg} crm_id"));
        seen.trim() == "C-42"
    });
    caller.wait().assert_passed();
    agent.wait().assert_passed();
}

#[test]
fn a_supervisor_dialling_88_and_the_agent_hears_the_agents_queue_call() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf("longest-idle-agent", "", &[("1001", "")]);
    let sw = Switch::start_with_conf(&[("modules/mod_callcenter.toml", &cc)], &[]);
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.command("event plain CUSTOM callcenter::info");
    // The agent talks (its pcap); the caller is silent.
    let (_to_agent, agent) = agent(&sw, "1001");
    let (to_caller, caller) = caller_1005(&sw, "uac_call_nomedia.xml", "7001", 7000);
    let caller = caller.spawn();
    esl.wait_event(Duration::from_secs(10), |e| {
        e.header("CC-Action") == Some("bridge-agent-start")
    })
    .expect("the agent was bridged");
    // The supervisor dials 88 + the agent's extension: the agent's leg, joined into the
    // caller's call by the ACD.
    let to_supervisor = RtpSink::bind();
    let supervisor = Sipp::caller("uac_call_nomedia.xml", sw.sip_addr(), "1003", "881001")
        .key("sinkport", to_supervisor.port())
        .duration_ms(3000)
        .spawn();
    let heard = to_supervisor.wait_for_packets(100, Duration::from_secs(8));
    assert!(
        heard.loud >= 30,
        "the supervisor hears the agent: {heard:?}"
    );
    supervisor.wait().assert_passed();

    caller.wait().assert_passed();
    agent.wait().assert_passed();
    let caller_heard = to_caller.stats();
    assert!(
        caller_heard.loud >= 30,
        "the caller heard the agent: {caller_heard:?}"
    );
}
