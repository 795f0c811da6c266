//! CDR store: one row per call leg in an SQLite table `cdr`.
//!
//! [`CdrWriter::write`] only queues the record on a channel; a dedicated thread (`cdr-writer`)
//! does the SQLite work in small transactions, so a slow disk never stalls a call. Failures are
//! logged with `tracing` (with the whole record, so it can be recovered), never panics.
//!
//! Times are stored twice: ISO-8601 UTC text (`start_stamp`, `2026-11-22T10:11:12.123456Z`) for
//! people, epoch microseconds (`start_epoch_us`) for arithmetic. `duration` (end - start) and
//! `billsec` (end - answer, or 0) are whole seconds, rounded down.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};

/// Which leg of a call a record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The leg that came in and started the call.
    A,
    /// A leg the switch originated for it (e.g. by `bridge`).
    B,
}

/// The direction of a leg, as seen from the switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The peer called the switch.
    Inbound,
    /// The switch called the peer.
    Outbound,
}

impl Leg {
    /// `"A"` or `"B"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Leg::A => "A",
            Leg::B => "B",
        }
    }
}

impl Direction {
    /// `"inbound"` or `"outbound"`, as stored (FreeSWITCH's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The record of one finished call leg.
#[derive(Clone, Debug, PartialEq)]
pub struct CdrRecord {
    /// This leg's uuid.
    pub uuid: String,
    /// Links the legs of one call: the A leg's uuid.
    pub call_uuid: String,
    /// A or B leg.
    pub leg: Leg,
    /// Inbound or outbound.
    pub direction: Direction,
    /// SIP Call-ID of this leg's dialog.
    pub sip_call_id: String,
    /// Caller ID name.
    pub caller_id_name: String,
    /// Caller ID number.
    pub caller_id_number: String,
    /// The number dialled.
    pub destination_number: String,
    /// Dialplan context.
    pub context: String,
    /// When the leg was created.
    pub start: SystemTime,
    /// When it was answered, if it was.
    pub answer: Option<SystemTime>,
    /// When it ended.
    pub end: SystemTime,
    /// Hangup cause name, e.g. `NORMAL_CLEARING`.
    pub hangup_cause: String,
    /// The peer's signaling address (`ip:port`).
    pub remote_addr: String,
    /// RTP packets received.
    pub rtp_packets_in: u64,
    /// RTP packets sent.
    pub rtp_packets_out: u64,
    /// RTP payload bytes received.
    pub rtp_bytes_in: u64,
    /// RTP payload bytes sent.
    pub rtp_bytes_out: u64,
    /// The leg's media quality, when the leg had media.
    pub media: MediaQuality,
}

/// What the media engine measured on one leg.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaQuality {
    /// The codec the leg spoke (SDP name), empty when none was negotiated.
    pub codec: String,
    /// Packets of the leg's stream that never arrived (RTCP cumulative loss, or the jitter
    /// buffer's count).
    pub lost: i64,
    /// Packets that arrived too late to play.
    pub late: u64,
    /// Interarrival jitter of the leg's stream, ms (RFC 3550).
    pub jitter_ms: f64,
    /// Round trip from RTCP, ms.
    pub rtt_ms: Option<f64>,
    /// Digits received from the leg.
    pub dtmf_in: u64,
}

impl CdrRecord {
    /// Whole seconds from start to end (0 if the clock went backwards).
    pub fn duration_secs(&self) -> i64 {
        whole_secs(epoch_us(self.end) - epoch_us(self.start))
    }

    /// Whole seconds from answer to end, or 0 for an unanswered leg.
    pub fn billsec(&self) -> i64 {
        self.answer
            .map_or(0, |a| whole_secs(epoch_us(self.end) - epoch_us(a)))
    }
}

/// Why the CDR store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdrError {
    /// The database's folder could not be created, or the writer thread not started.
    #[error("CDR store {path}: cannot {what}: {source}", path = .path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// What failed: "create its folder" or "start the writer thread".
        what: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// SQLite refused to open the file or create the table.
    #[error("CDR store {path}: {source}", path = .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
}

/// A handle to the CDR writer thread; clones share the thread.
#[derive(Clone)]
pub struct CdrWriter {
    tx: Sender<Msg>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for CdrWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdrWriter").finish_non_exhaustive()
    }
}

enum Msg {
    Record(Box<CdrRecord>),
    Flush(SyncSender<()>),
    Close(SyncSender<()>),
}

/// Records per transaction: small enough to keep a commit short, large enough to amortize it.
const BATCH: usize = 512;

impl CdrWriter {
    /// Opens (creating if needed) the database at `path` and its parent folders, creates the
    /// `cdr` table and indexes, switches to WAL mode and starts the writer thread.
    pub fn open(path: &Path) -> Result<CdrWriter, CdrError> {
        let path_buf = || path.to_path_buf();
        let sqlite = |source| CdrError::Sqlite {
            path: path_buf(),
            source,
        };
        let io = |what| {
            move |source| CdrError::Io {
                path: path_buf(),
                what,
                source,
            }
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io("create its folder"))?;
        }
        let conn = Connection::open(path).map_err(sqlite)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sqlite)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "CDR store: WAL mode unavailable");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite)?;
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        migrate(&conn).map_err(sqlite)?;

        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cdr-writer".into())
            .spawn(move || run(conn, rx))
            .map_err(io("start the writer thread"))?;
        Ok(CdrWriter {
            tx,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Queues `rec` for writing; never blocks. A record written after [`close`](Self::close)
    /// is logged as lost.
    pub fn write(&self, rec: CdrRecord) {
        if let Err(mpsc::SendError(Msg::Record(rec))) = self.tx.send(Msg::Record(Box::new(rec))) {
            tracing::error!(uuid = %rec.uuid, record = ?rec, "CDR writer is closed; record not written");
        }
    }

    /// Blocks until every record queued so far is committed (or its failure logged).
    /// Blocking: from async code call it via `spawn_blocking`.
    pub fn flush(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            // An error means the thread is gone, and so is anything left to wait for.
            let _ = done.recv();
        }
    }

    /// Commits everything queued and stops the writer thread, waiting for it. Other clones'
    /// later writes are logged as lost.
    pub fn close(self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Close(ack)).is_ok() {
            let _ = done.recv();
        }
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("CDR writer thread panicked");
            }
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cdr (
    id                 INTEGER PRIMARY KEY,
    uuid               TEXT NOT NULL UNIQUE,
    call_uuid          TEXT NOT NULL,
    leg                TEXT NOT NULL,
    direction          TEXT NOT NULL,
    sip_call_id        TEXT NOT NULL,
    caller_id_name     TEXT NOT NULL,
    caller_id_number   TEXT NOT NULL,
    destination_number TEXT NOT NULL,
    context            TEXT NOT NULL,
    start_stamp        TEXT NOT NULL,
    answer_stamp       TEXT,
    end_stamp          TEXT NOT NULL,
    start_epoch_us     INTEGER NOT NULL,
    answer_epoch_us    INTEGER,
    end_epoch_us       INTEGER NOT NULL,
    duration           INTEGER NOT NULL,
    billsec            INTEGER NOT NULL,
    hangup_cause       TEXT NOT NULL,
    remote_addr        TEXT NOT NULL,
    rtp_packets_in     INTEGER NOT NULL,
    rtp_packets_out    INTEGER NOT NULL,
    rtp_bytes_in       INTEGER NOT NULL,
    rtp_bytes_out      INTEGER NOT NULL,
    codec              TEXT NOT NULL DEFAULT '',
    rtp_lost           INTEGER NOT NULL DEFAULT 0,
    rtp_late           INTEGER NOT NULL DEFAULT 0,
    jitter_ms          REAL NOT NULL DEFAULT 0,
    rtt_ms             REAL,
    dtmf_in            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cdr_call_uuid ON cdr (call_uuid);
CREATE INDEX IF NOT EXISTS cdr_sip_call_id ON cdr (sip_call_id);
";

const INSERT: &str = "INSERT INTO cdr (
    uuid, call_uuid, leg, direction, sip_call_id, caller_id_name, caller_id_number,
    destination_number, context, start_stamp, answer_stamp, end_stamp, start_epoch_us,
    answer_epoch_us, end_epoch_us, duration, billsec, hangup_cause, remote_addr,
    rtp_packets_in, rtp_packets_out, rtp_bytes_in, rtp_bytes_out, codec, rtp_lost, rtp_late,
    jitter_ms, rtt_ms, dtmf_in
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
    ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)";

/// Columns added after the first release, for databases made before them.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("codec", "TEXT NOT NULL DEFAULT ''"),
    ("rtp_lost", "INTEGER NOT NULL DEFAULT 0"),
    ("rtp_late", "INTEGER NOT NULL DEFAULT 0"),
    ("jitter_ms", "REAL NOT NULL DEFAULT 0"),
    ("rtt_ms", "REAL"),
    ("dtmf_in", "INTEGER NOT NULL DEFAULT 0"),
];

/// Adds the columns an older database lacks.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut have = Vec::new();
    let mut stmt = conn.prepare("PRAGMA table_info(cdr)")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for n in names {
        have.push(n?);
    }
    for (col, ty) in ADDED_COLUMNS {
        if !have.iter().any(|h| h == col) {
            conn.execute_batch(&format!("ALTER TABLE cdr ADD COLUMN {col} {ty}"))?;
        }
    }
    Ok(())
}

/// How long the writer gathers records after the first of a batch before it commits them.
/// Under load a transaction per call (each with its WAL write) costs more than the insert;
/// a tenth of a second keeps CDRs visible promptly and makes one commit of many calls.
/// The writer sleeps through it rather than waiting on the queue: a sleeping receiver is
/// not woken by each record sent (two per call), which cost a wake-up of this thread and a
/// futex call in the call's task every time.
const GATHER: Duration = Duration::from_millis(100);

/// The writer thread: gathers what is queued into a batch, commits it, answers flushes.
fn run(mut conn: Connection, rx: Receiver<Msg>) {
    let mut batch: Vec<CdrRecord> = Vec::with_capacity(BATCH);
    let mut closing: Option<SyncSender<()>> = None;
    // Blocks for the first message, then takes what else came within GATHER.
    while let Ok(first) = rx.recv() {
        take(first, &mut conn, &mut batch, &mut closing);
        if !batch.is_empty() && closing.is_none() {
            std::thread::sleep(GATHER);
        }
        while let Ok(msg) = rx.try_recv() {
            take(msg, &mut conn, &mut batch, &mut closing);
        }
        commit(&mut conn, &mut batch);
        if let Some(ack) = closing.take() {
            let _ = ack.send(());
            return;
        }
    }
}

/// One message for the writer: a record joins the batch (committed when full), a flush
/// commits and answers, a close is noted for the end of this round.
fn take(
    msg: Msg,
    conn: &mut Connection,
    batch: &mut Vec<CdrRecord>,
    closing: &mut Option<SyncSender<()>>,
) {
    match msg {
        Msg::Record(rec) => {
            batch.push(*rec);
            if batch.len() >= BATCH {
                commit(conn, batch);
            }
        }
        Msg::Flush(ack) => {
            commit(conn, batch);
            let _ = ack.send(());
        }
        // Keep draining: records other clones queued before we stop are still written.
        Msg::Close(ack) => *closing = Some(ack),
    }
}

fn commit(conn: &mut Connection, batch: &mut Vec<CdrRecord>) {
    if batch.is_empty() {
        return;
    }
    let result = (|| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            for rec in batch.iter() {
                // A failed row (e.g. a duplicate uuid) rolls back only itself; the rest commit.
                if let Err(e) = insert_row(&mut insert, rec) {
                    tracing::error!(uuid = %rec.uuid, error = %e, record = ?rec, "CDR not written");
                }
            }
        }
        tx.commit()
    })();
    if let Err(e) = result {
        for rec in batch.iter() {
            tracing::error!(uuid = %rec.uuid, error = %e, record = ?rec, "CDR transaction failed; record not written");
        }
    }
    batch.clear();
}

fn insert_row(
    insert: &mut rusqlite::CachedStatement<'_>,
    r: &CdrRecord,
) -> rusqlite::Result<usize> {
    let (start, end) = (epoch_us(r.start), epoch_us(r.end));
    let answer = r.answer.map(epoch_us);
    // SQLite integers are i64; counters beyond that are saturated rather than wrapped.
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    insert.execute(params![
        r.uuid,
        r.call_uuid,
        r.leg.as_str(),
        r.direction.as_str(),
        r.sip_call_id,
        r.caller_id_name,
        r.caller_id_number,
        r.destination_number,
        r.context,
        iso8601(start),
        answer.map(iso8601),
        iso8601(end),
        start,
        answer,
        end,
        r.duration_secs(),
        r.billsec(),
        r.hangup_cause,
        r.remote_addr,
        count(r.rtp_packets_in),
        count(r.rtp_packets_out),
        count(r.rtp_bytes_in),
        count(r.rtp_bytes_out),
        r.media.codec,
        r.media.lost,
        count(r.media.late),
        r.media.jitter_ms,
        r.media.rtt_ms,
        count(r.media.dtmf_in),
    ])
}

/// Microseconds since the Unix epoch, negative before it, saturating far out of range.
fn epoch_us(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |us| -us),
    }
}

fn whole_secs(us: i64) -> i64 {
    us.max(0) / 1_000_000
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for epoch microseconds.
fn iso8601(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A database path in a fresh folder (removed on drop), to also exercise folder creation.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new() -> TempDb {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            TempDb(std::env::temp_dir().join(format!("ferroswitch-cdr-{}-{n}", std::process::id())))
        }

        fn path(&self) -> PathBuf {
            self.0.join("nested/cdr.sqlite")
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn at(secs: u64, ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(ms)
    }

    fn record(uuid: &str, leg: Leg) -> CdrRecord {
        CdrRecord {
            uuid: uuid.into(),
            call_uuid: "a-leg".into(),
            leg,
            direction: if leg == Leg::A {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            sip_call_id: "call-1@host".into(),
            caller_id_name: "Extension 1000".into(),
            caller_id_number: "1000".into(),
            destination_number: "1001".into(),
            context: "default".into(),
            start: at(1_800_000_000, 0),
            answer: Some(at(1_800_000_002, 500)),
            end: at(1_800_000_032, 400),
            hangup_cause: "NORMAL_CLEARING".into(),
            remote_addr: "127.0.0.1:5062".into(),
            rtp_packets_in: 1500,
            rtp_packets_out: 1499,
            rtp_bytes_in: 240_000,
            rtp_bytes_out: 239_840,
            media: MediaQuality {
                codec: "PCMU".into(),
                lost: 3,
                late: 1,
                jitter_ms: 2.5,
                rtt_ms: Some(41.0),
                dtmf_in: 4,
            },
        }
    }

    /// uuid, leg, direction, duration, billsec, answer_stamp, start_epoch_us
    type Row = (String, String, String, i64, i64, Option<String>, i64);

    fn rows(path: &Path) -> Vec<Row> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT uuid, leg, direction, duration, billsec, answer_stamp, start_epoch_us FROM cdr ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn two_legs_are_written_with_duration_and_billsec() {
        let db = TempDb::new();
        let writer = CdrWriter::open(&db.path()).unwrap();
        let mut b = record("b-leg", Leg::B);
        b.answer = None;
        writer.write(record("a-leg", Leg::A));
        writer.write(b);
        writer.flush();
        let rows = rows(&db.path());
        assert_eq!(rows.len(), 2);
        let (uuid, leg, dir, duration, billsec, answer, start_us) = &rows[0];
        assert_eq!(
            (uuid.as_str(), leg.as_str(), dir.as_str()),
            ("a-leg", "A", "inbound")
        );
        assert_eq!(
            (*duration, *billsec),
            (32, 29),
            "32.4 s long, answered 29.9 s"
        );
        assert_eq!(answer.as_deref(), Some("2027-01-15T08:00:02.500000Z"));
        assert_eq!(*start_us, 1_800_000_000_000_000);
        assert_eq!(
            (rows[1].1.as_str(), rows[1].2.as_str(), rows[1].3, rows[1].4),
            ("B", "outbound", 32, 0)
        );
        assert_eq!(rows[1].5, None);

        let conn = Connection::open(db.path()).unwrap();
        let (call_uuid, stamp, packets): (String, String, i64) = conn
            .query_row(
                "SELECT call_uuid, end_stamp, rtp_packets_out FROM cdr WHERE uuid = 'b-leg'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (call_uuid.as_str(), stamp.as_str(), packets),
            ("a-leg", "2027-01-15T08:00:32.400000Z", 1499)
        );
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let media: (String, i64, i64, f64, Option<f64>, i64) = conn
            .query_row(
                "SELECT codec, rtp_lost, rtp_late, jitter_ms, rtt_ms, dtmf_in FROM cdr WHERE uuid = 'a-leg'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        assert_eq!(media, ("PCMU".into(), 3, 1, 2.5, Some(41.0), 4));
        writer.close();
    }

    #[test]
    fn an_older_database_gets_the_new_columns() {
        let db = TempDb::new();
        std::fs::create_dir_all(db.path().parent().unwrap()).unwrap();
        let conn = Connection::open(db.path()).unwrap();
        // The first release's table, without the media columns.
        let old = SCHEMA
            .split("    codec ")
            .next()
            .unwrap()
            .trim_end()
            .trim_end_matches(',');
        conn.execute_batch(&format!("{old}\n);")).unwrap();
        drop(conn);
        let writer = CdrWriter::open(&db.path()).unwrap();
        writer.write(record("a-leg", Leg::A));
        writer.flush();
        let conn = Connection::open(db.path()).unwrap();
        let codec: String = conn
            .query_row("SELECT codec FROM cdr", [], |r| r.get(0))
            .unwrap();
        assert_eq!(codec, "PCMU");
        writer.close();
    }

    #[test]
    fn weird_strings_and_bad_rows_do_not_stop_the_writer() {
        let db = TempDb::new();
        let writer = CdrWriter::open(&db.path()).unwrap();
        let mut weird = record("weird", Leg::A);
        weird.caller_id_name = "Robert'); DROP TABLE cdr;--\0\u{0}\"\u{1F4DE}\u{202E}".into();
        weird.destination_number = "x".repeat(100_000);
        weird.rtp_bytes_in = u64::MAX;
        weird.end = at(1_799_999_990, 0); // ends before it starts
        writer.write(weird.clone());
        writer.write(record("weird", Leg::B)); // duplicate uuid: this row fails alone
        writer.write(record("after", Leg::A));
        writer.flush();

        let conn = Connection::open(db.path()).unwrap();
        let (name, dest, bytes, duration): (String, String, i64, i64) = conn
            .query_row("SELECT caller_id_name, destination_number, rtp_bytes_in, duration FROM cdr WHERE uuid = 'weird'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(
            (name, dest.len(), bytes, duration),
            (weird.caller_id_name, 100_000, i64::MAX, 0)
        );
        let uuids: Vec<String> = rows(&db.path()).into_iter().map(|r| r.0).collect();
        assert_eq!(uuids, ["weird", "after"]);
        writer.close();
    }

    #[test]
    fn clones_write_from_many_threads_and_close_commits_everything() {
        let db = TempDb::new();
        let writer = CdrWriter::open(&db.path()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let w = writer.clone();
                std::thread::spawn(move || {
                    (0..50).for_each(|i| w.write(record(&format!("{t}-{i}"), Leg::A)))
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let late = writer.clone();
        writer.close();
        assert_eq!(rows(&db.path()).len(), 200);
        late.write(record("too-late", Leg::A)); // logged, not written, no panic
        late.flush(); // returns at once: the thread is gone
        assert_eq!(rows(&db.path()).len(), 200);
    }

    #[test]
    fn open_reports_an_unusable_path() {
        let db = TempDb::new();
        std::fs::create_dir_all(db.path()).unwrap(); // a folder where the file should be
        let err = CdrWriter::open(&db.path()).err().unwrap();
        assert!(matches!(err, CdrError::Sqlite { .. }), "{err}");
        assert!(err.to_string().contains("cdr.sqlite"));
    }

    #[test]
    fn iso8601_formats_utc_with_microseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            iso8601(951_782_400_000_000 + 1),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(
            iso8601(1_800_000_000_000_000),
            "2027-01-15T08:00:00.000000Z"
        );
    }
}
