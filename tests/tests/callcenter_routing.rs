//! mod_callcenter routing end to end: SIPp agents registered as users 1001-1004, SIPp
//! callers (1010-1013) dialling the queue. Each test checks the ACD's choice where it shows:
//! which agent's SIPp got the INVITE (and the caller id on it), answered or was cancelled,
//! the `callcenter::info` events (CC-Agent), the `cc_calls` rows and `agent list`.
//!
//! The dialplan (TOML rules, no Lua): 7001 -> `callcenter sales`; 7005 sets cc_priority=5
//! (VIP) first; 7006 sets cc_skills=billing=2 first.

use std::time::{Duration, Instant};

use ferroswitch_tests::sipp::SippProcess;
use ferroswitch_tests::{peer_available, ports, wait_until, EslClient, Sipp, Switch};

const DIALPLAN: &str = r#"
[[rule]]
name = "queue"
destination = '^7001$'
actions = ["callcenter sales"]

[[rule]]
name = "vip queue"
destination = '^7005$'
actions = ["set cc_priority=5", "callcenter sales"]

[[rule]]
name = "billing queue"
destination = '^7006$'
actions = ["set cc_skills=billing=2", "callcenter sales"]
"#;

/// A callcenter config: queue `sales` of `strategy` (plus `queue_extra` lines) and `agents`
/// (name, tier level, extra agent TOML lines), tier positions in the order given.
fn conf(strategy: &str, queue_extra: &str, agents: &[(&str, u32, &str)]) -> String {
    let mut s = format!(
        "[settings]\ndb = \"callcenter.db\"\nunreachable_delay_time = 1\n\n\
         [queues.sales]\nstrategy = \"{strategy}\"\nmoh_sound = \"local_stream://moh\"\n{queue_extra}\n\n"
    );
    for (a, _, extra) in agents {
        let status = if extra.contains("status") {
            String::new()
        } else {
            "status = \"Available\"\n".to_string()
        };
        s.push_str(&format!(
            "[agents.\"{a}\"]\ncontact = \"user/{a}\"\n{status}{extra}\n\n"
        ));
    }
    for (i, (a, level, _)) in agents.iter().enumerate() {
        s.push_str(&format!(
            "[[tiers]]\nqueue = \"sales\"\nagent = \"{a}\"\nlevel = {level}\nposition = {}\n\n",
            i + 1
        ));
    }
    s
}

/// A switch with [`DIALPLAN`] and the callcenter config `cc`, and an event socket client
/// subscribed to `callcenter::info`.
fn start(cc: &str) -> (Switch, Events) {
    let sw = Switch::start_with_conf(
        &[
            ("dialplan.toml", DIALPLAN),
            ("modules/mod_callcenter.toml", cc),
        ],
        &[],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.command("event plain CUSTOM callcenter::info");
    (
        sw,
        Events {
            esl,
            seen: Vec::new(),
        },
    )
}

// --- peers -------------------------------------------------------------------------------

/// Agent `user` registered, answering each of `calls` calls after `ring_ms` and hanging up
/// `talk_ms` later.
fn agent_answers(sw: &Switch, user: &str, ring_ms: u64, talk_ms: u64, calls: u32) -> SippProcess {
    Sipp::registered_uas("cc_agent_answer_bye.xml", sw.sip_addr(), user)
        .key("ringms", ring_ms)
        .key("talkms", talk_ms)
        .calls(calls)
        .timeout(Duration::from_secs(25))
        .spawn()
}

/// Agent `user` registered, ringing on each of `calls` calls until it is cancelled.
fn agent_rings(sw: &Switch, user: &str, calls: u32, timeout: Duration) -> SippProcess {
    Sipp::registered_uas("uas_noanswer.xml", sw.sip_addr(), user)
        .calls(calls)
        .timeout(timeout)
        .spawn()
}

/// Caller `user` dialling `dest`, in the background: answered by the queue, it waits for
/// the BYE that ends its call (the agent hangs up).
fn caller_waits(sw: &Switch, user: &str, dest: &str) -> SippProcess {
    let media = ports::reserve(4);
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), user, dest)
        .media_port(media)
        .key("sinkport", media)
        .timeout(Duration::from_secs(25))
        .spawn()
}

/// Caller `user` dialling `dest`, in the background, hanging up `after_ms` after the queue
/// answered.
fn caller_hangs_up(sw: &Switch, user: &str, dest: &str, after_ms: u64) -> SippProcess {
    let media = ports::reserve(4);
    Sipp::caller("uac_call.xml", sw.sip_addr(), user, dest)
        .media_port(media)
        .key("sinkport", media)
        .duration_ms(after_ms)
        .timeout(Duration::from_secs(20))
        .spawn()
}

/// The requests a SIPp received, in order: (method, user part of the From header).
fn received(messages: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in messages.split("message received") {
        let mut lines = chunk
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty());
        let Some(start) = lines.next() else { continue };
        if start.starts_with("SIP/") {
            continue;
        }
        let method = start.split_whitespace().next().unwrap_or("").to_string();
        let from = lines
            .take_while(|l| !l.starts_with("----"))
            .find(|l| l.to_ascii_lowercase().starts_with("from:"))
            .and_then(|l| l.split("sip:").nth(1))
            .map(|u| u.split(['@', '>', ';']).next().unwrap_or("").to_string())
            .unwrap_or_default();
        out.push((method, from));
    }
    out
}

/// The callers (From users) of the INVITEs a SIPp received, in order.
fn invites_from(messages: &str) -> Vec<String> {
    received(messages)
        .into_iter()
        .filter(|(m, _)| m == "INVITE")
        .map(|(_, f)| f)
        .collect()
}

fn count(messages: &str, method: &str) -> usize {
    received(messages)
        .iter()
        .filter(|(m, _)| m == method)
        .count()
}

// --- what the switch says --------------------------------------------------------------

/// One `callcenter::info` event.
#[derive(Clone, Debug)]
struct CcEvent {
    action: String,
    agent: String,
    /// CC-Member-CID-Number: the caller.
    caller: String,
    cause: String,
    cancel_reason: String,
    /// CC-Member-Skills: what the caller requires.
    skills: String,
}

/// The `callcenter::info` events seen so far on one event socket connection.
struct Events {
    esl: EslClient,
    seen: Vec<CcEvent>,
}

impl Events {
    /// Reads what has arrived within `t`.
    fn pump(&mut self, t: Duration) {
        for m in self.esl.drain(t) {
            if m.content_type() != "text/event-plain" {
                continue;
            }
            let e = m.plain_event();
            if e.header("Event-Subclass") != Some("callcenter::info") {
                continue;
            }
            let h = |n: &str| e.header(n).unwrap_or("").to_string();
            self.seen.push(CcEvent {
                action: h("CC-Action"),
                agent: h("CC-Agent"),
                caller: h("CC-Member-CID-Number"),
                cause: h("CC-Cause"),
                cancel_reason: h("CC-Cancel-Reason"),
                skills: h("CC-Member-Skills"),
            });
        }
    }

    /// Waits until an event `want` has been seen (now or before); returns it.
    fn wait(&mut self, what: &str, timeout: Duration, want: impl Fn(&CcEvent) -> bool) -> CcEvent {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.seen.iter().find(|e| want(e)) {
                return e.clone();
            }
            if Instant::now() >= deadline {
                panic!("no event {what} within {timeout:?}; seen: {:#?}", self.seen);
            }
            self.pump(Duration::from_millis(100));
        }
    }

    /// Waits for `action` naming `agent` and `caller` (empty: any).
    fn wait_for(&mut self, action: &str, agent: &str, caller: &str) -> CcEvent {
        self.wait(
            &format!("{action} agent={agent} caller={caller}"),
            Duration::from_secs(15),
            |e| {
                e.action == action
                    && (agent.is_empty() || e.agent == agent)
                    && (caller.is_empty() || e.caller == caller)
            },
        )
    }

    /// The agents named by `action` events so far, in order.
    fn agents(&self, action: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter(|e| e.action == action)
            .map(|e| e.agent.clone())
            .collect()
    }

    /// (agent, caller) of the `action` events so far, in order.
    fn pairs(&self, action: &str) -> Vec<(String, String)> {
        self.seen
            .iter()
            .filter(|e| e.action == action)
            .map(|e| (e.agent.clone(), e.caller.clone()))
            .collect()
    }
}

/// One `cc_calls` row.
#[derive(Clone, Debug)]
#[allow(dead_code)] // Debug shows every field in failures.
struct CcCall {
    cid_number: String,
    priority: i64,
    entered: i64,
    offered_agents: String,
    offers: i64,
    answered_by: Option<String>,
    answered_at: i64,
    ended_at: i64,
    exit_reason: String,
    wait_ms: i64,
}

/// The queue calls recorded in the switch's callcenter database, oldest first.
fn cc_calls(sw: &Switch) -> Vec<CcCall> {
    let db = sw.dir().join("var").join("callcenter.db");
    let Ok(conn) = rusqlite::Connection::open(&db) else {
        return Vec::new();
    };
    let Ok(mut st) = conn.prepare(
        "SELECT cid_number, priority, entered, offered_agents, offers, answered_by, answered_at,
                ended_at, exit_reason, wait_ms
         FROM cc_calls ORDER BY entered",
    ) else {
        return Vec::new();
    };
    st.query_map([], |r| {
        Ok(CcCall {
            cid_number: r.get(0)?,
            priority: r.get(1)?,
            entered: r.get(2)?,
            offered_agents: r.get(3)?,
            offers: r.get(4)?,
            answered_by: r.get(5)?,
            answered_at: r.get(6)?,
            ended_at: r.get(7)?,
            exit_reason: r.get(8)?,
            wait_ms: r.get(9)?,
        })
    })
    .map(|rows| rows.flatten().collect())
    .unwrap_or_default()
}

/// Waits until `n` queue calls are over (their rows no longer `in_queue`, ended); returns
/// all rows.
fn wait_calls_done(sw: &Switch, n: usize) -> Vec<CcCall> {
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        rows = cc_calls(sw);
        let done = rows
            .iter()
            .filter(|r| r.exit_reason != "in_queue" && r.ended_at > 0)
            .count();
        if done >= n {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{n} finished queue calls expected, cc_calls has {rows:#?}");
}

/// The row of caller `cid`.
fn row<'a>(rows: &'a [CcCall], cid: &str) -> &'a CcCall {
    rows.iter()
        .find(|r| r.cid_number == cid)
        .unwrap_or_else(|| panic!("no cc_calls row of {cid} in {rows:#?}"))
}

/// `callcenter_config agent list` row of `agent`: (status, state, no_answer_count,
/// calls_answered).
fn agent_row(sw: &Switch, agent: &str) -> (String, String, String, String) {
    let list = sw.api("callcenter_config agent list");
    list.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.first() == Some(&agent) && f.len() > 17).then(|| {
                (
                    f[5].to_string(),
                    f[6].to_string(),
                    f[16].to_string(),
                    f[17].to_string(),
                )
            })
        })
        .unwrap_or_else(|| panic!("no agent {agent} in:\n{list}"))
}

/// Runs caller `user` to `dest` to the end of its call (the agent hangs up) and checks it
/// went through.
fn call_through(sw: &Switch, user: &str, dest: &str) {
    caller_waits(sw, user, dest).wait().assert_passed();
}

// --- strategies --------------------------------------------------------------------------

#[test]
fn top_down_rings_agents_in_position_order() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "top-down",
        "offer_timeout = 2",
        &[("1001", 1, ""), ("1002", 1, ""), ("1003", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    let first = agent_rings(&sw, "1001", 1, Duration::from_secs(15));
    let second = agent_answers(&sw, "1002", 300, 1000, 1);
    let third = agent_answers(&sw, "1003", 300, 1000, 1);
    call_through(&sw, "1010", "7001");
    // 1001 rang first and was cancelled at offer_timeout, then 1002 took the call.
    let r = first.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010"], "{}", r.messages);
    second.wait().assert_passed();
    let r = third.stop();
    assert_eq!(
        count(&r.messages, "INVITE"),
        0,
        "1003 was rung:\n{}",
        r.messages
    );
    ev.wait_for("bridge-agent-end", "1002", "1010");
    assert_eq!(
        ev.agents("agent-offering"),
        ["1001", "1002"],
        "{:#?}",
        ev.seen
    );
    let rows = wait_calls_done(&sw, 1);
    let c = row(&rows, "1010");
    assert_eq!(c.answered_by.as_deref(), Some("1002"), "{c:?}");
    assert_eq!(c.offered_agents, "1001,1002", "{c:?}");
    assert_eq!(c.exit_reason, "answered", "{c:?}");
    // Not answering once (max_no_answer 0) does not take 1001 out.
    assert_eq!(agent_row(&sw, "1001").0, "Available");
}

#[test]
fn round_robin_hands_successive_calls_to_the_next_agent() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "round-robin",
        "",
        &[("1001", 1, ""), ("1002", 1, ""), ("1003", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    let agents: Vec<SippProcess> = ["1001", "1002", "1003"]
        .iter()
        .map(|a| agent_answers(&sw, a, 200, 700, 1))
        .collect();
    // One call after the other: each time every agent is free, the next in line gets it.
    for caller in ["1010", "1011", "1012"] {
        call_through(&sw, caller, "7001");
        ev.wait_for("bridge-agent-end", "", caller);
    }
    assert_eq!(
        ev.pairs("bridge-agent-start"),
        [
            ("1001".to_string(), "1010".to_string()),
            ("1002".to_string(), "1011".to_string()),
            ("1003".to_string(), "1012".to_string())
        ],
        "{:#?}",
        ev.seen
    );
    for (agent, (sipp, caller)) in ["1001", "1002", "1003"]
        .iter()
        .zip(agents.into_iter().zip(["1010", "1011", "1012"]))
    {
        let r = sipp.wait();
        r.assert_passed();
        assert_eq!(invites_from(&r.messages), [caller], "agent {agent}");
    }
    let rows = wait_calls_done(&sw, 3);
    for (caller, agent) in [("1010", "1001"), ("1011", "1002"), ("1012", "1003")] {
        assert_eq!(row(&rows, caller).answered_by.as_deref(), Some(agent));
    }
}

#[test]
fn ring_all_rings_every_agent_and_the_first_to_answer_wins() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "ring-all",
        "offer_timeout = 15",
        &[("1001", 1, ""), ("1002", 1, ""), ("1003", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    // Only 1002 answers (after 1.5 s); the others ring until they are cancelled, which
    // must be when 1002 answers, not at offer_timeout: their SIPps give up after 10 s.
    let one = agent_rings(&sw, "1001", 1, Duration::from_secs(10));
    let two = agent_answers(&sw, "1002", 1500, 1500, 1);
    let three = agent_rings(&sw, "1003", 1, Duration::from_secs(10));
    let caller = caller_waits(&sw, "1010", "7001");
    ev.wait_for("bridge-agent-start", "1002", "1010");
    let answered = Instant::now();
    for (name, p) in [("1001", one), ("1003", three)] {
        let r = p.wait();
        r.assert_passed();
        assert_eq!(invites_from(&r.messages), ["1010"], "{name}");
        assert_eq!(count(&r.messages, "CANCEL"), 1, "{name}:\n{}", r.messages);
    }
    assert!(
        answered.elapsed() < Duration::from_secs(6),
        "the losers were cancelled {:?} after the answer",
        answered.elapsed()
    );
    caller.wait().assert_passed();
    two.wait().assert_passed();
    let mut offered = ev.agents("agent-offering");
    offered.sort();
    assert_eq!(offered, ["1001", "1002", "1003"], "{:#?}", ev.seen);
    assert_eq!(ev.agents("bridge-agent-start"), ["1002"], "{:#?}", ev.seen);
    let rows = wait_calls_done(&sw, 1);
    assert_eq!(row(&rows, "1010").answered_by.as_deref(), Some("1002"));
    // Losing the race is not a missed call.
    for a in ["1001", "1003"] {
        let (status, _, no_answer, _) = agent_row(&sw, a);
        assert_eq!(
            (status.as_str(), no_answer.as_str()),
            ("Available", "0"),
            "{a}"
        );
    }
}

#[test]
fn agent_with_fewest_calls_prefers_who_answered_least() {
    if !peer_available("sipp") {
        return;
    }
    // 1002 (second in position) starts on break, so 1001 takes the first two calls.
    let cc = conf(
        "agent-with-fewest-calls",
        "",
        &[("1001", 1, ""), ("1002", 1, "status = \"On Break\"")],
    );
    let (sw, mut ev) = start(&cc);
    let one = agent_answers(&sw, "1001", 200, 500, 2);
    let two = agent_answers(&sw, "1002", 200, 500, 2);
    call_through(&sw, "1010", "7001");
    call_through(&sw, "1011", "7001");
    let r = sw.api("callcenter_config agent set status 1002 Available");
    assert!(r.starts_with("+OK"), "{r}");
    // 1002 has answered 0 (then 1) calls against 1001's 2: it gets both. Longest idle,
    // round robin or top-down would give the fourth to 1001.
    call_through(&sw, "1012", "7001");
    ev.wait_for("bridge-agent-end", "1002", "1012");
    call_through(&sw, "1013", "7001");
    ev.wait_for("bridge-agent-end", "", "1013");
    let r1 = one.wait();
    r1.assert_passed();
    assert_eq!(invites_from(&r1.messages), ["1010", "1011"]);
    let r2 = two.wait();
    r2.assert_passed();
    assert_eq!(invites_from(&r2.messages), ["1012", "1013"]);
    let rows = wait_calls_done(&sw, 4);
    for (caller, agent) in [
        ("1010", "1001"),
        ("1011", "1001"),
        ("1012", "1002"),
        ("1013", "1002"),
    ] {
        assert_eq!(row(&rows, caller).answered_by.as_deref(), Some(agent));
    }
    assert_eq!(agent_row(&sw, "1001").3, "2");
    assert_eq!(agent_row(&sw, "1002").3, "2");
}

#[test]
fn skills_based_routes_a_caller_to_the_agent_with_the_skill() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "skills-based",
        "",
        &[
            ("1001", 1, "skills = \"english=5\""),
            ("1002", 1, "skills = \"english=3,billing=3\""),
            // Has the skill, but below the level the caller needs.
            ("1003", 1, "skills = \"billing=1\""),
        ],
    );
    let (sw, mut ev) = start(&cc);
    let one = agent_answers(&sw, "1001", 200, 600, 1);
    let two = agent_answers(&sw, "1002", 200, 600, 1);
    let three = agent_answers(&sw, "1003", 200, 600, 1);
    // 7006: `set cc_skills=billing=2` before `callcenter sales`.
    call_through(&sw, "1010", "7006");
    let e = ev.wait_for("member-queue-start", "", "1010");
    assert!(e.skills.contains("billing"), "{e:?}");
    ev.wait_for("bridge-agent-end", "1002", "1010");
    // A caller without skills is served by anyone: the first in line, 1001.
    call_through(&sw, "1011", "7001");
    ev.wait_for("bridge-agent-end", "1001", "1011");
    let r = two.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010"]);
    let r = one.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1011"]);
    let r = three.stop();
    assert_eq!(
        count(&r.messages, "INVITE"),
        0,
        "1003 was rung:\n{}",
        r.messages
    );
    assert_eq!(
        ev.pairs("agent-offering"),
        [
            ("1002".to_string(), "1010".to_string()),
            ("1001".to_string(), "1011".to_string())
        ],
        "{:#?}",
        ev.seen
    );
    let rows = wait_calls_done(&sw, 2);
    assert_eq!(row(&rows, "1010").answered_by.as_deref(), Some("1002"));
}

// --- tiers, priority, wrap-up -----------------------------------------------------------

#[test]
fn tier_rules_open_level_two_only_after_the_wait() {
    if !peer_available("sipp") {
        return;
    }
    // Level 1 has its agent logged in but on break; level 2 opens after 4 s of waiting.
    let cc = conf(
        "longest-idle-agent",
        "tier_rules_apply = true\ntier_rule_wait_second = 4",
        &[("1001", 1, "status = \"On Break\""), ("1002", 2, "")],
    );
    let (sw, mut ev) = start(&cc);
    let one = agent_answers(&sw, "1001", 200, 600, 1);
    let two = agent_answers(&sw, "1002", 200, 800, 1);
    let caller = caller_waits(&sw, "1010", "7001");
    ev.wait_for("member-queue-start", "", "1010");
    let joined = Instant::now();
    // Nothing is offered during the first seconds of the wait (the event may reach us
    // late: the exact bound is the engine's wait_ms below).
    ev.pump(Duration::from_millis(1500));
    assert!(
        ev.agents("agent-offering").is_empty(),
        "offered before the tier wait: {:#?}",
        ev.seen
    );
    assert_eq!(count(&two.messages(), "INVITE"), 0, "1002 rung early");
    ev.wait_for("agent-offering", "1002", "1010");
    assert!(
        joined.elapsed() >= Duration::from_millis(2000),
        "level 2 offered {:?} after the caller joined",
        joined.elapsed()
    );
    caller.wait().assert_passed();
    two.wait().assert_passed();
    let r = one.stop();
    assert_eq!(count(&r.messages, "INVITE"), 0, "1001 (on break) was rung");
    let rows = wait_calls_done(&sw, 1);
    let c = row(&rows, "1010");
    assert_eq!(c.answered_by.as_deref(), Some("1002"), "{c:?}");
    assert!(
        (4000..12_000).contains(&c.wait_ms),
        "answered after {} ms",
        c.wait_ms
    );
}

#[test]
fn a_vip_caller_overtakes_a_normal_caller_when_the_agent_frees_up() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf("longest-idle-agent", "", &[("1001", 1, "")]);
    let (sw, mut ev) = start(&cc);
    let agent = agent_answers(&sw, "1001", 200, 3000, 3);
    // 1010 keeps the only agent busy while 1011 (normal) and then 1012 (VIP, priority 5)
    // queue up.
    let first = caller_waits(&sw, "1010", "7001");
    ev.wait_for("bridge-agent-start", "1001", "1010");
    let normal = caller_waits(&sw, "1011", "7001");
    ev.wait_for("member-queue-start", "", "1011");
    std::thread::sleep(Duration::from_millis(300));
    let vip = caller_waits(&sw, "1012", "7005");
    ev.wait_for("member-queue-start", "", "1012");
    first.wait().assert_passed();
    // The agent is free: the VIP goes first, then the normal caller.
    ev.wait_for("bridge-agent-start", "1001", "1012");
    vip.wait().assert_passed();
    ev.wait_for("bridge-agent-start", "1001", "1011");
    normal.wait().assert_passed();
    let r = agent.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010", "1012", "1011"]);
    assert_eq!(
        ev.pairs("agent-offering"),
        [
            ("1001".to_string(), "1010".to_string()),
            ("1001".to_string(), "1012".to_string()),
            ("1001".to_string(), "1011".to_string())
        ],
        "{:#?}",
        ev.seen
    );
    let rows = wait_calls_done(&sw, 3);
    let (n, v) = (row(&rows, "1011"), row(&rows, "1012"));
    assert_eq!(v.priority, 5, "{v:?}");
    assert_eq!(n.priority, 0, "{n:?}");
    assert!(n.entered < v.entered, "{n:?} {v:?}");
    assert!(v.answered_at < n.answered_at, "{n:?} {v:?}");
}

#[test]
fn wrap_up_keeps_an_agent_out_for_its_wrap_up_time() {
    if !peer_available("sipp") {
        return;
    }
    // Top-down: a new caller always tries 1001 first, unless it is in wrap-up.
    let cc = conf(
        "top-down",
        "",
        &[("1001", 1, "wrap_up_time = 4"), ("1002", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    let one = agent_answers(&sw, "1001", 200, 800, 2);
    let two = agent_answers(&sw, "1002", 200, 6000, 1);
    call_through(&sw, "1010", "7001");
    ev.wait_for("bridge-agent-end", "1001", "1010");
    // 1001 is wrapping up: 1002 gets the next call...
    let second = caller_waits(&sw, "1011", "7001");
    ev.wait_for("bridge-agent-start", "1002", "1011");
    // ... and with 1002 busy too, the third waits for 1001's wrap-up to end.
    let third = caller_waits(&sw, "1012", "7001");
    ev.wait_for("member-queue-start", "", "1012");
    ev.wait_for("bridge-agent-start", "1001", "1012");
    third.wait().assert_passed();
    second.wait().assert_passed();
    let r = one.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010", "1012"]);
    let r = two.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1011"]);
    let rows = wait_calls_done(&sw, 3);
    let (a, c) = (row(&rows, "1010"), row(&rows, "1012"));
    assert_eq!(c.answered_by.as_deref(), Some("1001"), "{c:?}");
    // Offered no earlier than the end of the wrap-up (answered 200 ms after the offer).
    assert!(
        c.answered_at - a.ended_at >= 4000,
        "1001 took a call {} ms after its last one ended (wrap-up 4 s): {a:?} {c:?}",
        c.answered_at - a.ended_at
    );
    assert!(c.wait_ms >= 1500, "{c:?}");
}

// --- no answer, abandon -------------------------------------------------------------------

#[test]
fn an_agent_that_does_not_answer_goes_on_break_and_the_caller_reaches_another() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "longest-idle-agent",
        "offer_timeout = 2",
        &[("1001", 1, "max_no_answer = 2"), ("1002", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    let lazy = agent_rings(&sw, "1001", 2, Duration::from_secs(15));
    let good = agent_answers(&sw, "1002", 200, 1000, 1);
    call_through(&sw, "1010", "7001");
    let r = lazy.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010", "1010"]);
    good.wait().assert_passed();
    let e = ev.wait_for("agent-max-no-answer", "1001", "");
    assert_eq!(e.agent, "1001");
    assert_eq!(ev.agents("agent-offering"), ["1001", "1001", "1002"]);
    let (status, _, no_answer, _) = agent_row(&sw, "1001");
    assert_eq!(status, "On Break");
    assert_eq!(no_answer, "2");
    let rows = wait_calls_done(&sw, 1);
    let c = row(&rows, "1010");
    assert_eq!(c.answered_by.as_deref(), Some("1002"), "{c:?}");
    assert_eq!(c.offers, 3, "{c:?}");
}

#[test]
fn a_caller_who_hangs_up_before_any_offer_has_abandoned() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "longest-idle-agent",
        "",
        &[("1001", 1, "status = \"On Break\"")],
    );
    let (sw, mut ev) = start(&cc);
    let agent = agent_answers(&sw, "1001", 200, 500, 1);
    let caller = caller_hangs_up(&sw, "1010", "7001", 2000);
    ev.wait_for("member-queue-start", "", "1010");
    let members = sw.api("callcenter_config queue list members sales");
    assert!(members.contains("1010"), "{members}");
    caller.wait().assert_passed();
    let e = ev.wait_for("member-queue-end", "", "1010");
    assert_eq!(
        (e.cause.as_str(), e.cancel_reason.as_str()),
        ("Cancel", "BREAK_OUT"),
        "{e:?}"
    );
    let rows = wait_calls_done(&sw, 1);
    let c = row(&rows, "1010");
    assert_eq!(c.exit_reason, "abandoned", "{c:?}");
    assert_eq!((c.answered_by.as_deref(), c.offers), (None, 0), "{c:?}");
    assert!(c.wait_ms >= 1500, "{c:?}");
    let members = sw.api("callcenter_config queue list members sales");
    assert!(!members.contains("1010"), "{members}");
    let r = agent.stop();
    assert_eq!(
        count(&r.messages, "INVITE"),
        0,
        "the agent on break was rung"
    );
}

#[test]
fn a_caller_who_hangs_up_while_the_agent_rings_cancels_the_agent_leg() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf(
        "longest-idle-agent",
        "offer_timeout = 30",
        &[("1001", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    // The agent's SIPp gives up after 12 s, long before offer_timeout: only a CANCEL for
    // the caller's hang-up ends its call in time.
    let agent = agent_rings(&sw, "1001", 1, Duration::from_secs(12));
    let caller = caller_hangs_up(&sw, "1010", "7001", 3000);
    ev.wait_for("agent-offering", "1001", "1010");
    caller.wait().assert_passed();
    let hung_up = Instant::now();
    let r = agent.wait();
    let cancelled = hung_up.elapsed();
    r.assert_passed();
    assert_eq!(count(&r.messages, "CANCEL"), 1, "{}", r.messages);
    assert!(
        cancelled < Duration::from_secs(5),
        "the agent's CANCEL came {cancelled:?} after the caller hung up"
    );
    let e = ev.wait_for("member-queue-end", "", "1010");
    assert_eq!(e.cause, "Cancel", "{e:?}");
    let rows = wait_calls_done(&sw, 1);
    let c = row(&rows, "1010");
    assert_eq!(c.exit_reason, "abandoned", "{c:?}");
    assert_eq!(c.offered_agents, "1001", "{c:?}");
    assert_eq!(c.answered_by, None, "{c:?}");
    // The caller gave up, the agent did nothing wrong: still available, no miss counted.
    wait_until("1001 Waiting again", Duration::from_secs(5), || {
        agent_row(&sw, "1001").1 == "Waiting"
    });
    let (status, _, no_answer, _) = agent_row(&sw, "1001");
    assert_eq!((status.as_str(), no_answer.as_str()), ("Available", "0"));
}

#[test]
fn a_busy_agent_is_skipped_and_kept_out_for_its_busy_delay() {
    if !peer_available("sipp") {
        return;
    }
    // Top-down: every new caller tries 1001 first, unless it is held back.
    let cc = conf(
        "top-down",
        "",
        &[("1001", 1, "busy_delay_time = 30"), ("1002", 1, "")],
    );
    let (sw, mut ev) = start(&cc);
    let busy = Sipp::registered_uas("uas_busy.xml", sw.sip_addr(), "1001")
        .calls(2)
        .timeout(Duration::from_secs(25))
        .spawn();
    let other = agent_answers(&sw, "1002", 200, 600, 2);
    call_through(&sw, "1010", "7001");
    ev.wait_for("bridge-agent-fail", "1001", "1010");
    ev.wait_for("bridge-agent-end", "1002", "1010");
    // 1001 said busy: the next caller goes straight to 1002.
    call_through(&sw, "1011", "7001");
    ev.wait_for("bridge-agent-end", "1002", "1011");
    let r = busy.stop();
    assert_eq!(invites_from(&r.messages), ["1010"], "{}", r.messages);
    let r = other.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010", "1011"]);
    assert_eq!(ev.agents("agent-offering"), ["1001", "1002", "1002"]);
    // Busy is not a missed call: still Available, no no-answer counted.
    let (status, _, no_answer, _) = agent_row(&sw, "1001");
    assert_eq!((status.as_str(), no_answer.as_str()), ("Available", "0"));
    let rows = wait_calls_done(&sw, 2);
    assert_eq!(row(&rows, "1010").offered_agents, "1001,1002");
    assert_eq!(row(&rows, "1011").offered_agents, "1002");
}

#[test]
fn a_caller_who_hangs_up_during_the_call_frees_the_agent_for_the_next() {
    if !peer_available("sipp") {
        return;
    }
    let cc = conf("longest-idle-agent", "", &[("1001", 1, "")]);
    let (sw, mut ev) = start(&cc);
    // The agent answers and waits for the BYE: the caller ends each call.
    let sink = ports::reserve(2);
    let agent = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", sink)
        .calls(2)
        .timeout(Duration::from_secs(25))
        .spawn();
    for caller in ["1010", "1011"] {
        caller_hangs_up(&sw, caller, "7001", 2000)
            .wait()
            .assert_passed();
        ev.wait_for("bridge-agent-end", "1001", caller);
        ev.wait_for("member-queue-end", "1001", caller);
        wait_until("1001 Waiting again", Duration::from_secs(5), || {
            agent_row(&sw, "1001").1 == "Waiting"
        });
    }
    let r = agent.wait();
    r.assert_passed();
    assert_eq!(invites_from(&r.messages), ["1010", "1011"]);
    assert_eq!(count(&r.messages, "BYE"), 2, "{}", r.messages);
    assert_eq!(agent_row(&sw, "1001").3, "2");
    let rows = wait_calls_done(&sw, 2);
    for caller in ["1010", "1011"] {
        let c = row(&rows, caller);
        assert_eq!(
            (c.answered_by.as_deref(), c.exit_reason.as_str()),
            (Some("1001"), "answered"),
            "{c:?}"
        );
    }
}
