//! The tables. `deleted = 1` rows are tombstones: deleted at run time, so the file's entry
//! of the same name is not brought back at restart.

/// Created if missing on open.
pub(super) const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL; -- WAL: no fsync per commit (an OS crash may lose the last ones; never corrupts)
CREATE TABLE IF NOT EXISTS agents (
    name                 TEXT PRIMARY KEY,
    deleted              INTEGER NOT NULL DEFAULT 0,
    type                 TEXT,
    contact              TEXT,
    uuid                 TEXT,
    status               TEXT,
    break_reason         TEXT,
    state                TEXT,
    max_no_answer        INTEGER NOT NULL DEFAULT 0,
    wrap_up_time         INTEGER NOT NULL DEFAULT 0,
    reject_delay_time    INTEGER NOT NULL DEFAULT 0,
    busy_delay_time      INTEGER NOT NULL DEFAULT 0,
    no_answer_delay_time INTEGER NOT NULL DEFAULT 0,
    skills               TEXT,
    last_bridge_start    INTEGER NOT NULL DEFAULT 0,
    last_bridge_end      INTEGER NOT NULL DEFAULT 0,
    last_offered_call    INTEGER NOT NULL DEFAULT 0,
    last_status_change   INTEGER NOT NULL DEFAULT 0,
    no_answer_count      INTEGER NOT NULL DEFAULT 0,
    calls_answered       INTEGER NOT NULL DEFAULT 0,
    talk_time            INTEGER NOT NULL DEFAULT 0,
    ready_time           INTEGER NOT NULL DEFAULT 0,
    unreachable_count    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tiers (
    queue    TEXT NOT NULL,
    agent    TEXT NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    state    TEXT NOT NULL DEFAULT 'Ready',
    level    INTEGER NOT NULL DEFAULT 1,
    position INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (queue, agent)
);
CREATE TABLE IF NOT EXISTS queues (
    name    TEXT PRIMARY KEY,
    deleted INTEGER NOT NULL DEFAULT 0,
    config  TEXT
);
CREATE TABLE IF NOT EXISTS callbacks (
    uuid         TEXT PRIMARY KEY,
    queue        TEXT NOT NULL,
    number       TEXT NOT NULL,
    cid_number   TEXT NOT NULL DEFAULT '',
    cid_name     TEXT NOT NULL DEFAULT '',
    priority     INTEGER NOT NULL DEFAULT 0,
    base_score   INTEGER NOT NULL DEFAULT 0,
    skills       TEXT NOT NULL DEFAULT '',
    system_epoch INTEGER NOT NULL DEFAULT 0,
    joined       INTEGER NOT NULL DEFAULT 0,
    requested    INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cc_calls (
    id             TEXT PRIMARY KEY,
    queue          TEXT NOT NULL,
    member_uuid    TEXT NOT NULL,
    session_uuid   TEXT NOT NULL DEFAULT '',
    cid_number     TEXT NOT NULL DEFAULT '',
    cid_name       TEXT NOT NULL DEFAULT '',
    priority       INTEGER NOT NULL DEFAULT 0,
    entered        INTEGER NOT NULL,
    offered_agents TEXT NOT NULL DEFAULT '',
    offers         INTEGER NOT NULL DEFAULT 0,
    answered_by    TEXT,
    answered_at    INTEGER NOT NULL DEFAULT 0,
    left_at        INTEGER NOT NULL DEFAULT 0,
    ended_at       INTEGER NOT NULL DEFAULT 0,
    exit_reason    TEXT NOT NULL,
    wait_ms        INTEGER NOT NULL DEFAULT 0,
    talk_ms        INTEGER NOT NULL DEFAULT 0,
    wrap_up_ms     INTEGER NOT NULL DEFAULT 0,
    callback       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cc_calls_queue_left ON cc_calls (queue, left_at);
CREATE INDEX IF NOT EXISTS cc_calls_queue_ended ON cc_calls (queue, ended_at);
";
