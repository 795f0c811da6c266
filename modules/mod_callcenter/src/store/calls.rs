//! `cc_calls`: one row per queue call, and the statistics computed from it.

use rusqlite::{params, Connection};

use crate::error::Error;
use crate::stats::{CallRecord, Outcome, WindowStats};
use crate::time::Timestamp;

use super::{ms, ts, Store};

pub(super) fn insert(c: &Connection, r: &CallRecord) -> Result<(), Error> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO cc_calls (id, queue, member_uuid, session_uuid, cid_number,
            cid_name, priority, entered, offered_agents, offers, answered_by, answered_at,
            left_at, ended_at, exit_reason, wait_ms, talk_ms, wrap_up_ms, callback)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19)",
    )?
    .execute(params![
        r.id,
        r.queue,
        r.member_uuid,
        r.session_uuid,
        r.cid_number,
        r.cid_name,
        r.priority,
        ms(r.entered),
        r.offered_agents.join(","),
        r.offered_agents.len(),
        r.answered_by,
        ms(r.answered_at),
        ms(r.left_at),
        ms(r.ended_at),
        r.outcome.as_str(),
        i64::try_from(r.wait_ms).unwrap_or(i64::MAX),
        i64::try_from(r.talk_ms).unwrap_or(i64::MAX),
        i64::try_from(r.wrap_up_ms).unwrap_or(i64::MAX),
        r.callback,
    ])?;
    Ok(())
}

impl Store {
    /// The calls of `queue` (all queues if none) that left the line at or after `since`,
    /// oldest first.
    pub fn calls(&self, queue: Option<&str>, since: Timestamp) -> Result<Vec<CallRecord>, Error> {
        let mut st = self.conn.prepare(
            "SELECT id, queue, member_uuid, session_uuid, cid_number, cid_name, priority, entered,
                    offered_agents, answered_by, answered_at, left_at, ended_at, exit_reason,
                    wait_ms, talk_ms, wrap_up_ms, callback
             FROM cc_calls WHERE (?1 IS NULL OR queue = ?1) AND left_at >= ?2
             ORDER BY left_at, id",
        )?;
        let rows = st.query_map(params![queue, ms(since)], |r| {
            let agents: String = r.get(8)?;
            let reason: String = r.get(13)?;
            let u = |v: i64| u64::try_from(v).unwrap_or(0);
            Ok((
                CallRecord {
                    id: r.get(0)?,
                    queue: r.get(1)?,
                    member_uuid: r.get(2)?,
                    session_uuid: r.get(3)?,
                    cid_number: r.get(4)?,
                    cid_name: r.get(5)?,
                    priority: r.get(6)?,
                    entered: ts(r.get(7)?),
                    offered_agents: agents
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    answered_by: r.get(9)?,
                    answered_at: ts(r.get(10)?),
                    left_at: ts(r.get(11)?),
                    ended_at: ts(r.get(12)?),
                    outcome: Outcome::InQueue,
                    wait_ms: u(r.get(14)?),
                    talk_ms: u(r.get(15)?),
                    wrap_up_ms: u(r.get(16)?),
                    callback: r.get(17)?,
                },
                reason,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut rec, reason) = row?;
            rec.outcome = Outcome::parse(&reason).ok_or_else(|| {
                Error::Store(format!(
                    "cc_calls row {}: bad exit_reason '{reason}'",
                    rec.id
                ))
            })?;
            out.push(rec);
        }
        Ok(out)
    }

    /// The same figures as the engine's live statistics, from `cc_calls`: calls of `queue`
    /// that left the line since `since`, and handle times of calls that ended since then.
    /// (The engine counts an answered call when it is answered; `cc_calls` has it once its
    /// talk is over.)
    pub fn window_stats(
        &self,
        queue: &str,
        since: Timestamp,
        threshold_secs: u32,
    ) -> Result<WindowStats, Error> {
        let mut w = WindowStats::default();
        let mut st = self.conn.prepare(
            "SELECT exit_reason, wait_ms FROM cc_calls WHERE queue = ?1 AND left_at >= ?2",
        )?;
        let rows = st.query_map(params![queue, ms(since)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (reason, wait) = row?;
            let outcome = Outcome::parse(&reason).unwrap_or(Outcome::BreakOut);
            w.add_left(outcome, u64::try_from(wait).unwrap_or(0), threshold_secs);
        }
        let (n, total): (i64, Option<i64>) = self.conn.query_row(
            "SELECT count(*), sum(talk_ms + wrap_up_ms) FROM cc_calls
             WHERE queue = ?1 AND exit_reason = 'answered' AND ended_at >= ?2",
            params![queue, ms(since)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        w.handled = u64::try_from(n).unwrap_or(0);
        w.handle_ms = u64::try_from(total.unwrap_or(0)).unwrap_or(0);
        Ok(w)
    }
}
