//! SQLite persistence: agents, tiers, queue overrides, tombstones and waiting callbacks
//! (what [`crate::engine::Snapshot`] holds), and `cc_calls`, one row per queue call.
//!
//! The engine never touches the store. The host either applies every
//! [`PersistOp`] the engine emits ([`Store::apply`], cheap
//! upserts) or saves a whole snapshot now and then ([`Store::save`]); at start-up it loads
//! the snapshot ([`Store::load`]) and hands it to `Engine::restore`. On a first start
//! ([`Store::is_empty`]) the host saves `engine.snapshot()` once, so the store holds every
//! agent from then on. Times are stored as milliseconds since the epoch.

mod calls;
mod schema;

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::action::PersistOp;
use crate::engine::{CallbackRecord, Snapshot};
use crate::error::Error;
use crate::model::{Agent, QueueConfig, Tier};
use crate::time::Timestamp;

/// The callcenter database.
pub struct Store {
    conn: Connection,
}

fn ms(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

fn ts(v: i64) -> Timestamp {
    Timestamp::from_millis(u64::try_from(v).unwrap_or(0))
}

fn parse<T: std::str::FromStr>(table: &str, key: &str, col: &str, v: &str) -> Result<T, Error>
where
    T::Err: std::fmt::Display,
{
    v.parse()
        .map_err(|e| Error::Store(format!("{table} row {key}: bad {col} '{v}': {e}")))
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let conn =
            Connection::open(path).map_err(|e| Error::Store(format!("{}: {e}", path.display())))?;
        Store::init(conn)
    }

    /// A private in-memory database (tests, or no persistence).
    pub fn open_in_memory() -> Result<Store, Error> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, Error> {
        conn.execute_batch(schema::SCHEMA)?;
        Ok(Store { conn })
    }

    /// Applies one change the engine emitted.
    pub fn apply(&mut self, op: &PersistOp) -> Result<(), Error> {
        apply_on(&self.conn, op)
    }

    /// Applies many changes in one transaction.
    pub fn apply_all<'a>(
        &mut self,
        ops: impl IntoIterator<Item = &'a PersistOp>,
    ) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        for op in ops {
            apply_on(&tx, op)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces the stored agents, tiers, queue overrides, tombstones and callbacks with
    /// `snap` (cc_calls is kept).
    pub fn save(&mut self, snap: &Snapshot) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM agents; DELETE FROM tiers; DELETE FROM queues; DELETE FROM callbacks;",
        )?;
        for a in &snap.agents {
            save_agent(&tx, a)?;
        }
        for n in &snap.deleted_agents {
            apply_on(&tx, &PersistOp::DeleteAgent(n.clone()))?;
        }
        for t in &snap.tiers {
            save_tier(&tx, t)?;
        }
        for (queue, agent) in &snap.deleted_tiers {
            let op = PersistOp::DeleteTier {
                queue: queue.clone(),
                agent: agent.clone(),
            };
            apply_on(&tx, &op)?;
        }
        for q in &snap.queues {
            save_queue(&tx, q)?;
        }
        for n in &snap.deleted_queues {
            apply_on(&tx, &PersistOp::DeleteQueue(n.clone()))?;
        }
        for c in &snap.callbacks {
            save_callback(&tx, c)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Reads everything back as a snapshot.
    pub fn load(&self) -> Result<Snapshot, Error> {
        let mut snap = Snapshot::default();
        let mut st = self.conn.prepare(
            "SELECT name, deleted, type, contact, uuid, status, break_reason, state,
                    max_no_answer, wrap_up_time, reject_delay_time, busy_delay_time,
                    no_answer_delay_time, skills, last_bridge_start, last_bridge_end,
                    last_offered_call, last_status_change, no_answer_count, calls_answered,
                    talk_time, ready_time, unreachable_count
             FROM agents ORDER BY name",
        )?;
        let rows = st.query_map([], AgentRow::read)?;
        for row in rows {
            let row = row?;
            if row.deleted {
                snap.deleted_agents.push(row.name);
            } else {
                snap.agents.push(row.into_agent()?);
            }
        }
        let mut st = self.conn.prepare(
            "SELECT queue, agent, deleted, state, level, position FROM tiers
             ORDER BY level, position, queue, agent",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        for row in rows {
            let (queue, agent, deleted, state, level, position) = row?;
            if deleted {
                snap.deleted_tiers.push((queue, agent));
            } else {
                let key = format!("{queue}/{agent}");
                snap.tiers.push(Tier {
                    state: parse("tiers", &key, "state", &state)?,
                    queue,
                    agent,
                    level,
                    position,
                });
            }
        }
        let mut st = self
            .conn
            .prepare("SELECT name, deleted, config FROM queues ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (name, deleted, config) = row?;
            if deleted {
                snap.deleted_queues.push(name);
                continue;
            }
            let text = config.unwrap_or_default();
            let mut q: QueueConfig = serde_json::from_str(&text)
                .map_err(|e| Error::Store(format!("queues row {name}: bad config: {e}")))?;
            q.name = name;
            snap.queues.push(q);
        }
        snap.callbacks = self.load_callbacks()?;
        Ok(snap)
    }

    fn load_callbacks(&self) -> Result<Vec<CallbackRecord>, Error> {
        let mut st = self.conn.prepare(
            "SELECT uuid, queue, number, cid_number, cid_name, priority, base_score, skills,
                    system_epoch, joined, requested, attempts
             FROM callbacks ORDER BY joined, uuid",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                CallbackRecord {
                    uuid: r.get(0)?,
                    queue: r.get(1)?,
                    number: r.get(2)?,
                    cid_number: r.get(3)?,
                    cid_name: r.get(4)?,
                    priority: r.get(5)?,
                    base_score: r.get(6)?,
                    skills: Default::default(),
                    system_epoch: ts(r.get(8)?),
                    joined: ts(r.get(9)?),
                    requested: ts(r.get(10)?),
                    attempts: r.get(11)?,
                },
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut c, skills) = row?;
            c.skills = parse("callbacks", &c.uuid, "skills", &skills)?;
            out.push(c);
        }
        Ok(out)
    }

    /// Whether the database holds anything yet (a first start has nothing to restore).
    pub fn is_empty(&self) -> Result<bool, Error> {
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM agents) + (SELECT count(*) FROM tiers)
                      + (SELECT count(*) FROM queues) + (SELECT count(*) FROM callbacks)",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.unwrap_or(0) == 0)
    }
}

/// An agents row as read, before its names are parsed.
struct AgentRow {
    name: String,
    deleted: bool,
    /// type, contact, uuid, status, break_reason, state, skills
    text: [String; 7],
    /// max_no_answer .. no_answer_delay_time (5), then last_bridge_start .. ready_time (8),
    /// then unreachable_count.
    nums: [i64; 14],
}

impl AgentRow {
    fn read(r: &Row) -> rusqlite::Result<AgentRow> {
        let s = |i: usize| -> rusqlite::Result<String> {
            Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
        };
        let n =
            |i: usize| -> rusqlite::Result<i64> { Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0)) };
        let mut nums = [0i64; 14];
        for (k, col) in (8..=12).chain(14..=22).enumerate() {
            nums[k] = n(col)?;
        }
        Ok(AgentRow {
            name: r.get(0)?,
            deleted: r.get(1)?,
            text: [s(2)?, s(3)?, s(4)?, s(5)?, s(6)?, s(7)?, s(13)?],
            nums,
        })
    }

    fn into_agent(self) -> Result<Agent, Error> {
        let k = &self.name;
        let [agent_type, contact, uuid, status, break_reason, state, skills] = &self.text;
        let u = |v: i64| u32::try_from(v).unwrap_or(0);
        let n = &self.nums;
        Ok(Agent {
            name: self.name.clone(),
            agent_type: parse("agents", k, "type", agent_type)?,
            contact: contact.clone(),
            uuid: uuid.clone(),
            status: parse("agents", k, "status", status)?,
            break_reason: (!break_reason.is_empty()).then(|| break_reason.clone()),
            state: parse("agents", k, "state", state)?,
            max_no_answer: u(n[0]),
            wrap_up_time: u(n[1]),
            reject_delay_time: u(n[2]),
            busy_delay_time: u(n[3]),
            no_answer_delay_time: u(n[4]),
            skills: parse("agents", k, "skills", skills)?,
            last_bridge_start: ts(n[5]),
            last_bridge_end: ts(n[6]),
            last_offered_call: ts(n[7]),
            last_status_change: ts(n[8]),
            no_answer_count: u(n[9]),
            calls_answered: u(n[10]),
            talk_time: u64::try_from(n[11]).unwrap_or(0),
            ready_time: ts(n[12]),
            unreachable_count: u(n[13]),
        })
    }
}

fn save_agent(c: &Connection, a: &Agent) -> Result<(), Error> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO agents (name, deleted, type, contact, uuid, status, break_reason,
            state, max_no_answer, wrap_up_time, reject_delay_time, busy_delay_time,
            no_answer_delay_time, skills, last_bridge_start, last_bridge_end, last_offered_call,
            last_status_change, no_answer_count, calls_answered, talk_time, ready_time,
            unreachable_count)
         VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22)",
    )?
    .execute(params![
        a.name,
        a.agent_type.as_str(),
        a.contact,
        a.uuid,
        a.status.as_str(),
        a.break_reason,
        a.state.as_str(),
        a.max_no_answer,
        a.wrap_up_time,
        a.reject_delay_time,
        a.busy_delay_time,
        a.no_answer_delay_time,
        a.skills.to_string(),
        ms(a.last_bridge_start),
        ms(a.last_bridge_end),
        ms(a.last_offered_call),
        ms(a.last_status_change),
        a.no_answer_count,
        a.calls_answered,
        i64::try_from(a.talk_time).unwrap_or(i64::MAX),
        ms(a.ready_time),
        a.unreachable_count,
    ])?;
    Ok(())
}

fn save_tier(c: &Connection, t: &Tier) -> Result<(), Error> {
    c.execute(
        "INSERT OR REPLACE INTO tiers (queue, agent, deleted, state, level, position)
         VALUES (?1, ?2, 0, ?3, ?4, ?5)",
        params![t.queue, t.agent, t.state.as_str(), t.level, t.position],
    )?;
    Ok(())
}

fn save_queue(c: &Connection, q: &QueueConfig) -> Result<(), Error> {
    let json = serde_json::to_string(q).map_err(|e| Error::Store(e.to_string()))?;
    c.execute(
        "INSERT OR REPLACE INTO queues (name, deleted, config) VALUES (?1, 0, ?2)",
        params![q.name, json],
    )?;
    Ok(())
}

fn save_callback(c: &Connection, r: &CallbackRecord) -> Result<(), Error> {
    c.execute(
        "INSERT OR REPLACE INTO callbacks (uuid, queue, number, cid_number, cid_name, priority,
            base_score, skills, system_epoch, joined, requested, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            r.uuid,
            r.queue,
            r.number,
            r.cid_number,
            r.cid_name,
            r.priority,
            r.base_score,
            r.skills.to_string(),
            ms(r.system_epoch),
            ms(r.joined),
            ms(r.requested),
            r.attempts,
        ],
    )?;
    Ok(())
}

fn apply_on(c: &Connection, op: &PersistOp) -> Result<(), Error> {
    match op {
        PersistOp::SaveAgent(a) => save_agent(c, a),
        PersistOp::DeleteAgent(name) => {
            c.execute(
                "INSERT OR REPLACE INTO agents (name, deleted) VALUES (?1, 1)",
                params![name],
            )?;
            c.execute(
                "DELETE FROM tiers WHERE agent = ?1 AND deleted = 0",
                params![name],
            )?;
            Ok(())
        }
        PersistOp::SaveTier(t) => save_tier(c, t),
        PersistOp::DeleteTier { queue, agent } => {
            c.execute(
                "INSERT OR REPLACE INTO tiers (queue, agent, deleted, state, level, position)
                 VALUES (?1, ?2, 1, 'Ready', 1, 1)",
                params![queue, agent],
            )?;
            Ok(())
        }
        PersistOp::SaveQueue(q) => save_queue(c, q),
        PersistOp::DeleteQueue(name) => {
            c.execute(
                "INSERT OR REPLACE INTO queues (name, deleted, config) VALUES (?1, 1, NULL)",
                params![name],
            )?;
            Ok(())
        }
        PersistOp::ResetQueue(name) => {
            c.execute("DELETE FROM queues WHERE name = ?1", params![name])?;
            Ok(())
        }
        PersistOp::SaveCallback(r) => save_callback(c, r),
        PersistOp::DeleteCallback(uuid) => {
            c.execute("DELETE FROM callbacks WHERE uuid = ?1", params![uuid])?;
            Ok(())
        }
        PersistOp::RecordCall(r) => calls::insert(c, r),
    }
}
