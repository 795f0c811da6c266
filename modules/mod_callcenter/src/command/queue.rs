//! `callcenter_config queue ...`.

use crate::engine::Engine;
use crate::error::Error;
use crate::model::{
    Agent, AgentState, AgentStatus, CallbackState, QueueConfig, Strategy, UnknownName,
};
use crate::stats::WindowStats;
use crate::time::Timestamp;

use super::table::{
    agent_row, member_row, queue_row, table, tier_row, AGENT_COLUMNS, CALLBACK_COLUMNS,
    MEMBER_COLUMNS, QUEUE_COLUMNS, TIER_COLUMNS,
};
use super::{err, invalid, reply};

/// Columns of `queue stats` (ferroswitch): one row for the last 15 minutes, one for today.
pub const STATS_COLUMNS: &str = "window|calls_waiting|callbacks_waiting|longest_wait|agents_logged_out|agents_available|agents_on_demand|agents_on_break|agents_free|agents_in_call|offered|answered|abandoned|exited|service_level|service_level_threshold|asa|aht|abandon_rate|predicted_wait";

pub(super) fn run(e: &mut Engine, now: Timestamp, action: &str, args: &[&str]) -> String {
    let name = args.first().copied();
    match action {
        "load" => match name {
            Some(q) => reply(e.load_queue(now, q)),
            None => invalid("queue load <queue>"),
        },
        "unload" => match name {
            Some(q) => reply(e.unload_queue(now, q)),
            None => invalid("queue unload <queue>"),
        },
        "reload" => match name {
            Some(q) => reply(e.reload_queue(now, q)),
            None => invalid("queue reload <queue>"),
        },
        "del" => match name {
            Some(q) => reply(e.del_queue(now, q)),
            None => invalid("queue del <queue>"),
        },
        "add" => {
            let Some(q) = name else {
                return invalid("queue add <queue> [<strategy>]");
            };
            let mut c = QueueConfig::new(q);
            if let Some(s) = args.get(1) {
                match s.parse::<Strategy>() {
                    Ok(s) => c.strategy = s,
                    Err(UnknownName { expected, .. }) => {
                        return err(&Error::value("strategy", s, expected))
                    }
                }
            }
            reply(e.add_queue(now, c))
        }
        "set" => {
            let [key, queue, value, ..] = args else {
                return invalid("queue set <key> <queue> <value>");
            };
            reply(e.set_queue(now, queue, key, value))
        }
        "get" => {
            let [key, queue, ..] = args else {
                return invalid("queue get <key> <queue>");
            };
            match e.queue(queue) {
                None => err(&Error::UnknownQueue(queue.to_string())),
                Some(c) => match c.get(key) {
                    Some(v) => v,
                    None => err(&Error::InvalidKey {
                        target: "Queue",
                        key: key.to_string(),
                    }),
                },
            }
        }
        "list" => list(e, now, args),
        "count" => count(e, args),
        "stats" => match name {
            Some(q) => stats(e, now, q),
            None => invalid("queue stats <queue>"),
        },
        "predict" => {
            if args.is_empty() {
                return invalid("queue predict <queue> [<queue> ...]");
            }
            predict(e, now, args)
        }
        other => format!(
            "-ERR Invalid! unknown queue action '{other}' (expected load, unload, reload, add, del, set, get, list, count, stats or predict)\n"
        ),
    }
}

/// The tier agents of `queue` matching an optional status and state filter.
fn queue_agents<'a>(e: &'a Engine, queue: &str, filter: &[&str]) -> Result<Vec<&'a Agent>, String> {
    if e.queue(queue).is_none() {
        return Err(err(&Error::UnknownQueue(queue.to_string())));
    }
    let status = match filter.first() {
        Some(s) => Some(
            s.parse::<AgentStatus>()
                .map_err(|x| err(&Error::value("Agent Status", s, x.expected)))?,
        ),
        None => None,
    };
    let state = match filter.get(1) {
        Some(s) => Some(
            s.parse::<AgentState>()
                .map_err(|x| err(&Error::value("Agent State", s, x.expected)))?,
        ),
        None => None,
    };
    Ok(e.tiers(queue)
        .into_iter()
        .filter_map(|t| e.agent(&t.agent))
        .filter(|a| status.is_none_or(|s| a.status == s))
        .filter(|a| state.is_none_or(|s| a.state == s))
        .collect())
}

fn list(e: &Engine, now: Timestamp, args: &[&str]) -> String {
    let Some(sub) = args.first() else {
        let rows = e
            .queues()
            .map(|q| {
                let (ans, abd) = e.queue_counters(&q.name).unwrap_or((0, 0));
                queue_row(q, ans, abd)
            })
            .collect::<Vec<_>>();
        let mut out = format!("{QUEUE_COLUMNS}\n");
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
        out.push_str("+OK\n");
        return out;
    };
    let sub = sub.to_ascii_lowercase();
    let Some(queue) = args.get(1).copied() else {
        return invalid(&format!("queue list {sub} <queue>"));
    };
    if e.queue(queue).is_none() {
        return err(&Error::UnknownQueue(queue.to_string()));
    }
    match sub.as_str() {
        "agents" => match queue_agents(e, queue, &args[2..]) {
            Ok(agents) => table(AGENT_COLUMNS, agents.into_iter().map(agent_row).collect()),
            Err(x) => x,
        },
        "members" => table(
            MEMBER_COLUMNS,
            e.members(queue)
                .into_iter()
                .map(|m| member_row(e, m, now))
                .collect(),
        ),
        "tiers" => table(
            TIER_COLUMNS,
            e.tiers(queue).into_iter().map(tier_row).collect(),
        ),
        "callbacks" => table(
            CALLBACK_COLUMNS,
            e.members(queue)
                .into_iter()
                .filter_map(|m| {
                    let c = m.callback.as_ref()?;
                    let state = match c.state {
                        CallbackState::Pending => "Pending".to_string(),
                        CallbackState::Dialing => "Dialing".to_string(),
                        CallbackState::RetryAt(t) => format!("Retry at {}", t.as_secs()),
                        CallbackState::Connected => "Connected".to_string(),
                    };
                    Some(format!(
                        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                        m.queue,
                        m.uuid,
                        c.number,
                        m.cid_number,
                        m.cid_name,
                        m.joined.as_secs(),
                        c.requested.as_secs(),
                        c.attempts,
                        state,
                        e.position(&m.uuid).unwrap_or(0)
                    ))
                })
                .collect(),
        ),
        other => format!(
            "-ERR Invalid! unknown list '{other}' (expected agents, members, tiers or callbacks)\n"
        ),
    }
}

fn count(e: &Engine, args: &[&str]) -> String {
    let Some(sub) = args.first() else {
        return format!("{}\n", e.queues().count());
    };
    let sub = sub.to_ascii_lowercase();
    let Some(queue) = args.get(1).copied() else {
        return invalid(&format!("queue count {sub} <queue>"));
    };
    if e.queue(queue).is_none() {
        return err(&Error::UnknownQueue(queue.to_string()));
    }
    let n = match sub.as_str() {
        "agents" => match queue_agents(e, queue, &args[2..]) {
            Ok(a) => a.len(),
            Err(x) => return x,
        },
        "members" => e.members(queue).len(),
        "tiers" => e.tiers(queue).len(),
        "callbacks" => e
            .members(queue)
            .into_iter()
            .filter(|m| m.callback.is_some())
            .count(),
        other => {
            return format!(
                "-ERR Invalid! unknown count '{other}' (expected agents, members, tiers or callbacks)\n"
            )
        }
    };
    format!("{n}\n")
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}", x * 100.0)).unwrap_or_default()
}

fn secs(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

fn stats(e: &Engine, now: Timestamp, queue: &str) -> String {
    let s = match e.queue_stats(queue, now) {
        Ok(s) => s,
        Err(x) => return err(&x),
    };
    let row = |label: &str, w: &WindowStats| {
        [
            label.to_string(),
            s.calls_waiting.to_string(),
            s.callbacks_waiting.to_string(),
            s.longest_wait_secs.to_string(),
            s.agents_logged_out.to_string(),
            s.agents_available.to_string(),
            s.agents_on_demand.to_string(),
            s.agents_on_break.to_string(),
            s.agents_free.to_string(),
            s.agents_in_call.to_string(),
            w.offered.to_string(),
            w.answered.to_string(),
            w.abandoned.to_string(),
            w.exited.to_string(),
            pct(w.service_level()),
            s.service_level_threshold.to_string(),
            secs(w.asa_secs()),
            secs(w.aht_secs()),
            pct(w.abandon_rate()),
            s.predicted_wait_secs
                .map(|p| p.to_string())
                .unwrap_or_default(),
        ]
        .join("|")
    };
    format!(
        "{STATS_COLUMNS}\n{}\n{}\n+OK\n",
        row("15min", &s.last_15_min),
        row("today", &s.today)
    )
}

fn predict(e: &Engine, now: Timestamp, queues: &[&str]) -> String {
    let mut rows: Vec<(Option<u64>, usize, String)> = Vec::new();
    for (i, q) in queues.iter().enumerate() {
        match e.predict_wait(q, now) {
            Ok(w) => {
                let secs = w.map(|d| d.as_secs());
                let shown = secs.map(|s| s.to_string()).unwrap_or_else(|| "-1".into());
                rows.push((secs, i, format!("{q}|{shown}")));
            }
            Err(x) => return err(&x),
        }
    }
    rows.sort_by_key(|(s, i, _)| (s.is_none(), s.unwrap_or(0), *i));
    table(
        "queue|predicted_wait",
        rows.into_iter().map(|r| r.2).collect(),
    )
}
