//! `callcenter_config`: FreeSWITCH's syntax and output formats, plus skills, stats, queue
//! settings; clear errors for unknown names and bad syntax.

mod common;

use common::{one_queue, queue, Harness};
use mod_callcenter::command::{AGENT_COLUMNS, MEMBER_COLUMNS, QUEUE_COLUMNS, TIER_COLUMNS};
use mod_callcenter::{OfferResult, Strategy};

fn h() -> Harness {
    Harness::new(one_queue(
        queue("sales", Strategy::LongestIdleAgent),
        &["1000", "1001"],
    ))
}

#[test]
fn usage_and_syntax_errors() {
    let mut h = h();
    assert!(h
        .cc("")
        .starts_with("-USAGE: \ncallcenter_config <target> <args>,\n"));
    assert!(h.cc("callcenter_config").starts_with("-USAGE:"));
    assert_eq!(
        h.cc("agent"),
        "-ERR Invalid! usage: callcenter_config agent <action> ...\n"
    );
    assert_eq!(
        h.cc("agent set status 1000"),
        "-ERR Invalid! usage: callcenter_config agent set <key> <agent> <value>\n"
    );
    assert_eq!(
        h.cc("frob list"),
        "-ERR Invalid! unknown target 'frob' (expected agent, tier or queue)\n"
    );
    assert!(h
        .cc("queue frob")
        .starts_with("-ERR Invalid! unknown queue action 'frob'"));
}

#[test]
fn agents_add_set_get_list_del() {
    let mut h = h();
    assert_eq!(h.cc("agent add 2000 callback"), "+OK\n");
    assert_eq!(
        h.cc("agent add 2000 callback"),
        "-ERR Agent already exist: 2000\n"
    );
    assert_eq!(
        h.cc("agent add 2001 phone"),
        "-ERR Invalid agent type: 'phone' (expected callback, uuid-standby)\n"
    );
    assert_eq!(
        h.cc("agent add 2002 Callback"),
        "+OK\n",
        "case-insensitive, as FreeSWITCH"
    );
    assert_eq!(
        h.cc("agent set contact 2000 '{call_timeout=15}user/2000'"),
        "+OK\n"
    );
    assert_eq!(h.cc("agent get contact 2000"), "{call_timeout=15}user/2000");
    assert_eq!(h.cc("agent set status 2000 'On Break' lunch"), "+OK\n");
    assert_eq!(h.cc("agent get status 2000"), "On Break");
    assert_eq!(h.cc("agent get break_reason 2000"), "lunch");
    assert_eq!(
        h.cc("agent set status 2000 Lunch"),
        "-ERR Invalid Agent Status: 'Lunch' (expected Logged Out, Available, Available (On Demand), On Break)\n"
    );
    assert_eq!(
        h.cc("agent set status nobody Available"),
        "-ERR Agent not found: nobody\n"
    );
    assert!(h
        .cc("agent set colour 2000 red")
        .starts_with("-ERR Invalid Agent Update key: colour (keys: status, state, contact"));
    assert_eq!(
        h.cc("agent set wrap_up_time 2000 soon"),
        "-ERR Invalid wrap_up_time: 'soon' (expected a whole number)\n"
    );
    assert_eq!(
        h.cc("agent set skills 2000 'english=5, billing=3'"),
        "+OK\n"
    );
    assert_eq!(h.cc("agent get skills 2000"), "billing=3,english=5");
    assert!(h
        .cc("agent set skills 2000 english=high")
        .starts_with("-ERR Invalid skills: 'english=high'"));
    assert_eq!(h.cc("agent set state 2000 Idle"), "+OK\n");
    assert_eq!(h.cc("agent get state 2000"), "Idle");
    assert_eq!(
        h.cc("agent set state 2000 Receiving"),
        "-ERR state 'Receiving' is set by the engine (agent 2000)\n"
    );

    let out = h.cc("agent list 2000");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], AGENT_COLUMNS);
    assert_eq!(lines.len(), 3);
    let cols: Vec<&str> = lines[1].split('|').collect();
    assert_eq!(cols.len(), AGENT_COLUMNS.split('|').count());
    assert_eq!(
        &cols[..7],
        [
            "2000",
            "single_box",
            "",
            "callback",
            "{call_timeout=15}user/2000",
            "On Break",
            "Idle"
        ]
    );
    assert_eq!(lines[2], "+OK");
    assert_eq!(h.cc("agent list").lines().count(), 1 + 4 + 1);
    assert_eq!(h.cc("agent del 2002"), "+OK\n");
    assert_eq!(h.cc("agent del 2002"), "-ERR Agent not found: 2002\n");
}

#[test]
fn tiers_add_set_list_del() {
    let mut h = h();
    h.cc("agent add 2000 callback");
    assert_eq!(h.cc("tier add sales 2000 2 5"), "+OK\n");
    assert_eq!(
        h.cc("tier add sales 2000"),
        "-ERR Tier already exist: queue sales, agent 2000\n"
    );
    assert_eq!(h.cc("tier add nope 2000"), "-ERR Queue not found: nope\n");
    assert_eq!(
        h.cc("tier add sales nobody"),
        "-ERR Agent not found: nobody\n"
    );
    assert_eq!(
        h.cc("tier add sales 1000 x"),
        "-ERR Invalid level: 'x' (expected a whole number)\n"
    );
    assert_eq!(h.cc("tier set level sales 2000 3"), "+OK\n");
    assert_eq!(h.cc("tier set state sales 2000 Standby"), "+OK\n");
    assert_eq!(
        h.cc("tier set state sales 2000 Busy"),
        "-ERR Invalid state: 'Busy' (expected No Answer, Ready, Offering, Active Inbound, Standby)\n"
    );
    assert_eq!(
        h.cc("tier set color sales 2000 3"),
        "-ERR Invalid Tier key: color\n"
    );
    assert_eq!(
        h.cc("tier list"),
        format!(
            "{TIER_COLUMNS}\nsales|1000|Ready|1|1\nsales|1001|Ready|1|2\nsales|2000|Standby|3|5\n+OK\n"
        )
    );
    assert_eq!(h.cc("queue list tiers sales").lines().count(), 5);
    assert_eq!(h.cc("queue count tiers sales"), "3\n");
    assert_eq!(h.cc("tier del sales 2000"), "+OK\n");
    assert_eq!(
        h.cc("tier del sales 2000"),
        "-ERR Tier not found: queue sales, agent 2000\n"
    );
}

#[test]
fn queue_list_count_members_and_settings() {
    let mut h = h();
    let out = h.cc("queue list");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], QUEUE_COLUMNS);
    assert!(lines[1].starts_with(
        "sales|longest-idle-agent||queue|false|0|false|true|60|false|0|0|5||0|0|10|true|On Break"
    ));
    assert_eq!(lines[2], "+OK");
    assert_eq!(h.cc("queue count"), "1\n");
    assert_eq!(
        h.cc("queue list members sales"),
        "+OK\n",
        "empty: no header, as FreeSWITCH"
    );
    assert_eq!(
        h.cc("queue list members nope"),
        "-ERR Queue not found: nope\n"
    );

    h.cc("agent set status 1001 'On Break'");
    h.join("sales", "c1");
    let o = h.one_offer();
    h.result(o.offer_id, OfferResult::Answered);
    h.join("sales", "c2");
    h.wait(12);
    let out = h.cc("queue list members sales");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], MEMBER_COLUMNS);
    // Waiting first (by score), then answered.
    let c2: Vec<&str> = lines[1].split('|').collect();
    assert_eq!(
        (c2[2], c2[4], c2[15], c2[16]),
        ("c2", "5c2", "Waiting", "12")
    );
    let c1: Vec<&str> = lines[2].split('|').collect();
    assert_eq!(
        (c1[2], c1[13], c1[14], c1[15]),
        ("c1", "1000", "single_box", "Answered")
    );
    assert_eq!(h.cc("queue count members sales"), "2\n");
    assert_eq!(h.cc("queue count agents sales"), "2\n");
    assert_eq!(h.cc("queue count agents sales 'On Break'"), "1\n");
    assert_eq!(
        h.cc("queue count agents sales Available 'In a queue call'"),
        "1\n"
    );
    assert!(h
        .cc("queue count agents sales Busy")
        .starts_with("-ERR Invalid Agent Status: 'Busy'"));
    assert_eq!(h.cc("queue list agents sales Available").lines().count(), 3);

    assert_eq!(h.cc("queue set max_wait_time sales 90"), "+OK\n");
    assert_eq!(h.cc("queue get max_wait_time sales"), "90");
    assert_eq!(
        h.cc("queue set max-wait-time sales 95"),
        "+OK\n",
        "FreeSWITCH's dashed names too"
    );
    assert_eq!(h.cc("queue set strategy sales fifo").lines().next().unwrap(), "-ERR Invalid strategy: 'fifo' (expected ring-all, longest-idle-agent, round-robin, top-down, agent-with-least-talk-time, agent-with-fewest-calls, sequentially-by-agent-order, random, ring-progressively, skills-based)");
    assert_eq!(
        h.cc("queue set volume sales 11"),
        "-ERR Invalid Queue key: volume\n"
    );
    assert_eq!(h.cc("queue add vip ring-all"), "+OK\n");
    assert_eq!(h.cc("queue add vip"), "-ERR Queue already exist: vip\n");
    assert_eq!(h.cc("queue count"), "2\n");
    assert_eq!(h.cc("queue unload vip"), "+OK\n");
    assert_eq!(
        h.cc("queue load vip"),
        "-ERR Queue not found: vip\n",
        "not in the file"
    );
    assert_eq!(h.cc("queue reload sales"), "+OK\n");
    assert_eq!(
        h.cc("queue get max_wait_time sales"),
        "0",
        "back to the file's value"
    );
}

#[test]
fn queue_stats_reports_both_windows() {
    let mut q = queue("sales", Strategy::LongestIdleAgent);
    q.service_level_threshold = 10;
    let mut h = Harness::new(one_queue(q, &["1000"]));
    h.join("sales", "fast");
    let o = h.one_offer();
    h.answer_and_talk(&o, 100);
    h.join("sales", "slow");
    h.join("sales", "gone");
    let o = h.one_offer();
    h.wait(15);
    h.result(o.offer_id, OfferResult::Answered);
    h.wait(1);
    h.engine
        .handle_member_leave(h.now, "gone", mod_callcenter::LeaveReason::Hangup)
        .unwrap();
    let out = h.cc("queue stats sales");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], mod_callcenter::command::STATS_COLUMNS);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3], "+OK");
    // window|waiting|callbacks|longest|out|avail|demand|break|free|in call|offered|answered|
    // abandoned|exited|SL|threshold|ASA|AHT|abandon rate|predicted
    // Predicted wait for a new caller: 1 agent staffed (busy), AHT 100 s: 100 s.
    assert_eq!(
        lines[1],
        "15min|0|0|0|0|1|0|0|0|1|3|2|1|0|33.3|10|7.5|100.0|33.3|100"
    );
    assert!(lines[2].starts_with("today|"));
    assert_eq!(h.cc("queue stats nope"), "-ERR Queue not found: nope\n");
}
