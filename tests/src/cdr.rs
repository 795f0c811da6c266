//! Reading the switch's SQLite CDRs (table `cdr`, one row per leg) while it runs.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// One CDR row: the columns the tests assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrRow {
    /// This leg's uuid.
    pub uuid: String,
    /// The A leg's uuid, shared by every leg of the call.
    pub call_uuid: String,
    /// "A" or "B".
    pub leg: String,
    /// Caller number.
    pub caller_id_number: String,
    /// Dialled number.
    pub destination_number: String,
    /// When the leg was answered, if it was.
    pub answer_stamp: Option<String>,
    /// Seconds from start to end.
    pub duration: i64,
    /// Seconds from answer to end.
    pub billsec: i64,
    /// Q.850 cause name, e.g. NORMAL_CLEARING.
    pub hangup_cause: String,
    /// RTP packets received on this leg.
    pub rtp_packets_in: i64,
    /// RTP packets sent on this leg.
    pub rtp_packets_out: i64,
    /// Answer time, epoch microseconds.
    pub answer_epoch_us: Option<i64>,
    /// End time, epoch microseconds.
    pub end_epoch_us: i64,
    /// The leg's codec (SDP name), empty without one.
    pub codec: String,
    /// Packets of the leg's stream that never arrived.
    pub rtp_lost: i64,
}

/// Every row, oldest first. A database or table that does not exist yet reads as no rows.
pub fn read(path: &Path) -> Result<Vec<CdrRow>, rusqlite::Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(2))?;
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cdr'",
        [],
        |r| r.get(0),
    )?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT uuid, call_uuid, leg, caller_id_number, destination_number, answer_stamp,
                duration, billsec, hangup_cause, rtp_packets_in, rtp_packets_out,
                answer_epoch_us, end_epoch_us, codec, rtp_lost
         FROM cdr ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CdrRow {
            uuid: r.get(0)?,
            call_uuid: r.get(1)?,
            leg: r.get(2)?,
            caller_id_number: r.get(3)?,
            destination_number: r.get(4)?,
            answer_stamp: r.get(5)?,
            duration: r.get(6)?,
            billsec: r.get(7)?,
            hangup_cause: r.get(8)?,
            rtp_packets_in: r.get(9)?,
            rtp_packets_out: r.get(10)?,
            answer_epoch_us: r.get(11)?,
            end_epoch_us: r.get(12)?,
            codec: r.get(13)?,
            rtp_lost: r.get(14)?,
        })
    })?;
    rows.collect()
}

/// Polls `path` until `done(rows)` holds or `timeout` passes, and returns the last rows read
/// (the caller asserts on them, so a timeout shows what was there).
pub fn wait_for(path: &Path, timeout: Duration, done: impl Fn(&[CdrRow]) -> bool) -> Vec<CdrRow> {
    let deadline = Instant::now() + timeout;
    loop {
        // A read can fail while the writer creates the schema; the next poll sees it whole.
        let rows = read(path).unwrap_or_default();
        if done(&rows) || Instant::now() >= deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The row of leg `leg` ("A" or "B"), if there is exactly one.
pub fn leg<'a>(rows: &'a [CdrRow], leg: &str) -> Option<&'a CdrRow> {
    let mut it = rows.iter().filter(|r| r.leg == leg);
    let first = it.next();
    if it.next().is_some() {
        return None;
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_database_reads_as_no_rows() {
        let p = std::env::temp_dir().join("fst-no-such-cdr.sqlite");
        assert!(read(&p).unwrap().is_empty());
    }

    #[test]
    fn reads_rows_in_insertion_order() {
        let dir = std::env::temp_dir().join(format!("fst-cdr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cdr.sqlite");
        let _ = std::fs::remove_file(&p);
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "CREATE TABLE cdr (id INTEGER PRIMARY KEY, uuid TEXT, call_uuid TEXT, leg TEXT,
               caller_id_number TEXT, destination_number TEXT, answer_stamp TEXT,
               duration INTEGER, billsec INTEGER, hangup_cause TEXT,
               rtp_packets_in INTEGER, rtp_packets_out INTEGER, answer_epoch_us INTEGER,
               end_epoch_us INTEGER, codec TEXT, rtp_lost INTEGER);
             INSERT INTO cdr VALUES (1,'a','a','A','1002','1001','2026',3,2,'NORMAL_CLEARING',10,11,5,9,'PCMA',0);
             INSERT INTO cdr VALUES (2,'b','a','B','1002','1001',NULL,0,0,'ORIGINATOR_CANCEL',0,0,NULL,9,'',0);",
        )
        .unwrap();
        let rows = wait_for(&p, Duration::from_secs(1), |r| r.len() == 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(leg(&rows, "A").unwrap().hangup_cause, "NORMAL_CLEARING");
        assert_eq!(leg(&rows, "B").unwrap().answer_stamp, None);
        assert!(leg(&rows, "C").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
