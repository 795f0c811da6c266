//! `show ...`: FreeSWITCH's tables, as comma-separated rows with a `N total.` line, or
//! `as json` as `{"row_count":N,"rows":[{...}]}`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::channel::ChannelInfo;
use crate::context::Context;

/// A table of string cells under named columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns and no rows.
    pub fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// The FreeSWITCH text form: header line, rows, a blank line, `N total.`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.rows.is_empty() {
            out.push_str(&self.columns.join(","));
            out.push('\n');
            for r in &self.rows {
                out.push_str(&r.join(","));
                out.push('\n');
            }
        }
        out.push_str(&format!("\n{} total.\n", self.rows.len()));
        out
    }

    /// The `as json` form.
    pub fn to_json(&self) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("row_count".into(), self.rows.len().into());
        if !self.rows.is_empty() {
            let rows: Vec<serde_json::Value> = self
                .rows
                .iter()
                .map(|r| {
                    let m: serde_json::Map<String, serde_json::Value> = self
                        .columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| (c.to_string(), v.clone().into()))
                        .collect();
                    serde_json::Value::Object(m)
                })
                .collect();
            obj.insert("rows".into(), rows.into());
        }
        let mut s = serde_json::Value::Object(obj).to_string();
        s.push('\n');
        s
    }
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn local_time(t: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = t.into();
    local.format("%Y-%m-%d %H:%M:%S").to_string()
}

const CHANNEL_COLUMNS: &[&str] = &[
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "dialplan",
    "context",
    "hostname",
    "callstate",
    "callee_num",
    "call_uuid",
];

fn channel_row(ctx: &Context, c: &ChannelInfo, callee: Option<&ChannelInfo>) -> Vec<String> {
    vec![
        c.uuid.clone(),
        c.direction.to_string(),
        local_time(c.created),
        epoch(c.created).to_string(),
        c.name.clone(),
        c.state.as_str().to_string(),
        c.cid_name.clone(),
        c.cid_num.clone(),
        c.ip_addr.clone(),
        c.dest.clone(),
        "XML".into(),
        c.context.clone(),
        ctx.events.identity().hostname.clone(),
        c.callstate.as_str().to_string(),
        callee.map(|b| b.dest.clone()).unwrap_or_default(),
        c.call_uuid.clone(),
    ]
}

/// `show channels`: one row per leg.
pub(super) fn channels(ctx: &Context, legs: &[ChannelInfo]) -> Table {
    let mut t = Table::new(CHANNEL_COLUMNS);
    for c in legs {
        let callee = c
            .bridged_to
            .as_deref()
            .and_then(|b| legs.iter().find(|l| l.uuid == b));
        t.rows.push(channel_row(ctx, c, callee));
    }
    t
}

/// `show calls`: one row per call (its A leg), with the bridged leg's columns as `b_*`.
pub(super) fn calls(ctx: &Context, legs: &[ChannelInfo]) -> Table {
    const B: &[&str] = &[
        "b_uuid",
        "b_direction",
        "b_created",
        "b_created_epoch",
        "b_name",
        "b_state",
        "b_cid_name",
        "b_cid_num",
        "b_ip_addr",
        "b_dest",
        "b_callstate",
    ];
    let mut t = Table::new(&[CHANNEL_COLUMNS, B].concat());
    for a in legs.iter().filter(|l| l.uuid == l.call_uuid) {
        let b = a
            .bridged_to
            .as_deref()
            .and_then(|u| legs.iter().find(|l| l.uuid == u));
        let mut row = channel_row(ctx, a, b);
        match b {
            Some(b) => row.extend([
                b.uuid.clone(),
                b.direction.to_string(),
                local_time(b.created),
                epoch(b.created).to_string(),
                b.name.clone(),
                b.state.as_str().to_string(),
                b.cid_name.clone(),
                b.cid_num.clone(),
                b.ip_addr.clone(),
                b.dest.clone(),
                b.callstate.as_str().to_string(),
            ]),
            None => row.extend(B.iter().map(|_| String::new())),
        }
        t.rows.push(row);
    }
    t
}

/// `show registrations`.
pub(super) fn registrations(ctx: &Context) -> Table {
    let mut t = Table::new(&[
        "reg_user",
        "realm",
        "token",
        "url",
        "expires",
        "network_ip",
        "network_port",
        "network_proto",
        "hostname",
        "metadata",
    ]);
    let now = Instant::now();
    let unix = epoch(SystemTime::now());
    for (user, b) in ctx.registrations.all() {
        if b.expires_at <= now {
            continue;
        }
        let left = b.expires_at.saturating_duration_since(now).as_secs();
        t.rows.push(vec![
            user,
            ctx.config.sip.domain.clone(),
            b.call_id.clone(),
            b.contact.clone(),
            (unix + left).to_string(),
            b.source.addr.ip().to_string(),
            b.source.addr.port().to_string(),
            format!("{:?}", b.source.transport).to_lowercase(),
            ctx.events.identity().hostname.clone(),
            b.user_agent.clone(),
        ]);
    }
    t
}

/// `show api`.
pub(super) fn api(ctx: &Context) -> Table {
    let mut t = Table::new(&["name", "description", "syntax", "ikey"]);
    for c in ctx.api.list() {
        t.rows.push(vec![
            c.name.clone(),
            c.description.clone(),
            format!("{} {}", c.name, c.usage).trim().to_string(),
            "mod_commands".into(),
        ]);
    }
    t
}

/// `show modules`: the core, then each loaded module with its version, ABI, state and what
/// it registered.
pub(super) fn modules(ctx: &Context) -> Table {
    let mut t = Table::new(&[
        "type",
        "name",
        "ikey",
        "filename",
        "version",
        "abi",
        "state",
        "applications",
        "api",
        "events",
        "taps",
        "calls",
        "compiler",
    ]);
    t.rows.push(vec![
        "core".into(),
        "ferroswitch".into(),
        "core".into(),
        String::new(),
        env!("CARGO_PKG_VERSION").into(),
        format!("{}.{}", switch_abi::ABI_MAJOR, switch_abi::ABI_MINOR),
        "active".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for m in ctx.modules.rows() {
        t.rows.push(vec![
            "module".into(),
            m.info.name.clone(),
            m.info.name.clone(),
            m.path.display().to_string(),
            m.info.version.clone(),
            format!("{}.{}", m.info.abi.0, m.info.abi.1),
            m.state.clone(),
            m.apps.join(" "),
            m.apis.join(" "),
            m.events.join(", "),
            m.taps.to_string(),
            m.calls.to_string(),
            m.info.compiler.clone(),
        ]);
    }
    t
}
