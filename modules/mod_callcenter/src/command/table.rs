//! The `|`-separated tables `callcenter_config` prints: a header line, one line per row,
//! then `+OK`; an empty result is only `+OK` (as FreeSWITCH, which prints the header with
//! the first row).

use crate::engine::Engine;
use crate::model::{Agent, Member, QueueConfig, Tier};
use crate::time::Timestamp;

/// Columns of `agent list` and `queue list agents` (FreeSWITCH's agents table).
pub const AGENT_COLUMNS: &str = "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time|external_calls_count";

/// Columns of `queue list members`.
pub const MEMBER_COLUMNS: &str = "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|serving_system|state|score";

/// Columns of `tier list` and `queue list tiers`.
pub const TIER_COLUMNS: &str = "queue|agent|state|level|position";

/// Columns of `queue list`.
pub const QUEUE_COLUMNS: &str = "name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|max_wait_time_with_no_agent_time_reached|record_template|calls_answered|calls_abandoned|ring_progressively_delay|skip_agents_with_external_calls|agent_no_answer_status";

/// Columns of `queue list callbacks` (ferroswitch).
pub const CALLBACK_COLUMNS: &str =
    "queue|uuid|number|cid_number|cid_name|joined_epoch|requested_epoch|attempts|state|position";

fn epoch(t: Timestamp) -> String {
    t.as_secs().to_string()
}

/// A table of `rows` under `header`, then `+OK`.
pub fn table(header: &str, rows: Vec<String>) -> String {
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(header);
        out.push('\n');
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out.push_str("+OK\n");
    out
}

/// One `agent list` row.
pub fn agent_row(a: &Agent) -> String {
    [
        a.name.clone(),
        "single_box".into(),
        a.uuid.clone(),
        a.agent_type.to_string(),
        a.contact.clone(),
        a.status.to_string(),
        a.state.to_string(),
        a.max_no_answer.to_string(),
        a.wrap_up_time.to_string(),
        a.reject_delay_time.to_string(),
        a.busy_delay_time.to_string(),
        a.no_answer_delay_time.to_string(),
        epoch(a.last_bridge_start),
        epoch(a.last_bridge_end),
        epoch(a.last_offered_call),
        epoch(a.last_status_change),
        a.no_answer_count.to_string(),
        a.calls_answered.to_string(),
        a.talk_time.to_string(),
        epoch(a.ready_time),
        "0".into(),
    ]
    .join("|")
}

/// One `tier list` row.
pub fn tier_row(t: &Tier) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        t.queue, t.agent, t.state, t.level, t.position
    )
}

/// One `queue list members` row; the score is the member's at `now`.
pub fn member_row(e: &Engine, m: &Member, now: Timestamp) -> String {
    let score = e.score(&m.uuid, now).unwrap_or(0);
    let waited = i64::try_from(now.since(m.joined).as_secs()).unwrap_or(i64::MAX);
    let serving = m.serving_agent.clone().unwrap_or_default();
    let system = if serving.is_empty() { "" } else { "single_box" };
    [
        m.queue.clone(),
        "single_box".into(),
        m.uuid.clone(),
        m.session_uuid.clone().unwrap_or_default(),
        m.cid_number.clone(),
        m.cid_name.clone(),
        epoch(m.system_epoch),
        epoch(m.joined),
        epoch(m.rejoined),
        epoch(m.bridged),
        epoch(m.abandoned),
        score.saturating_sub(waited).to_string(),
        "0".into(),
        serving,
        system.into(),
        m.state.to_string(),
        score.to_string(),
    ]
    .join("|")
}

/// One `queue list` row.
pub fn queue_row(q: &QueueConfig, answered: u32, abandoned: u32) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        q.name.clone(),
        q.strategy.to_string(),
        o(&q.moh_sound),
        q.time_base_score.to_string(),
        q.tier_rules_apply.to_string(),
        q.tier_rule_wait_second.to_string(),
        q.tier_rule_wait_multiply_level.to_string(),
        q.tier_rule_no_agent_no_wait.to_string(),
        q.discard_abandoned_after.to_string(),
        q.abandoned_resume_allowed.to_string(),
        q.max_wait_time.to_string(),
        q.max_wait_time_with_no_agent.to_string(),
        q.max_wait_time_with_no_agent_time_reached.to_string(),
        o(&q.record_template),
        answered.to_string(),
        abandoned.to_string(),
        q.ring_progressively_delay.to_string(),
        "true".into(),
        q.agent_no_answer_status.to_string(),
    ]
    .join("|")
}
