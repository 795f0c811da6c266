//! Queue-call records and statistics.
//!
//! Every queue call produces one [`CallRecord`] (written to `cc_calls` by the store when the
//! call is over). Live figures come from a rolling in-memory history the engine keeps per
//! queue; the store computes the same [`WindowStats`] from `cc_calls` for reports.
//!
//! Definitions, over the calls that *left the waiting line* (answered, abandoned or sent out)
//! inside the window:
//! - offered = answered + abandoned + exited;
//! - service level = answered within `service_level_threshold` seconds / offered (no
//!   exclusion of short abandons);
//! - ASA (average speed of answer) = mean wait of the answered calls;
//! - AHT (average handle time) = mean talk + wrap-up of calls whose talk ended in the window;
//! - abandon rate = abandoned / offered.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// How a queue call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Still in the queue (a record in progress).
    InQueue,
    /// Answered by an agent.
    Answered,
    /// The caller hung up before an answer.
    Abandoned,
    /// max_wait_time.
    Timeout,
    /// max_wait_time_with_no_agent.
    NoAgentTimeout,
    /// An exit key.
    ExitWithKey,
    /// Taken out by the host (transfer, break).
    BreakOut,
    /// Every callback attempt failed.
    CallbackFailed,
    /// The queue was removed.
    QueueRemoved,
}

impl Outcome {
    /// The `cc_calls.exit_reason` text.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InQueue => "in_queue",
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Timeout => "timeout",
            Outcome::NoAgentTimeout => "no_agent_timeout",
            Outcome::ExitWithKey => "exit_with_key",
            Outcome::BreakOut => "break_out",
            Outcome::CallbackFailed => "callback_failed",
            Outcome::QueueRemoved => "queue_removed",
        }
    }

    /// Parses [`Outcome::as_str`] back.
    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::InQueue,
            Outcome::Answered,
            Outcome::Abandoned,
            Outcome::Timeout,
            Outcome::NoAgentTimeout,
            Outcome::ExitWithKey,
            Outcome::BreakOut,
            Outcome::CallbackFailed,
            Outcome::QueueRemoved,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One queue call, from entering the queue to the end of its talk (or its exit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Unique id: member uuid and entry time.
    pub id: String,
    /// The queue.
    pub queue: String,
    /// The member uuid.
    pub member_uuid: String,
    /// The caller's channel at entry.
    pub session_uuid: String,
    /// Caller id number.
    pub cid_number: String,
    /// Caller id name.
    pub cid_name: String,
    /// Priority steps.
    pub priority: u32,
    /// When this call entered (joined, or resumed its place).
    pub entered: Timestamp,
    /// Agents offered the call, in order (repeats included).
    pub offered_agents: Vec<String>,
    /// The agent who answered.
    pub answered_by: Option<String>,
    /// When an agent answered (zero: never).
    pub answered_at: Timestamp,
    /// When the call left the waiting line (answer or exit).
    pub left_at: Timestamp,
    /// When the call was over (talk ended, or = left_at).
    pub ended_at: Timestamp,
    /// How it ended.
    pub outcome: Outcome,
    /// Milliseconds waited (entered to left_at).
    pub wait_ms: u64,
    /// Milliseconds talked.
    pub talk_ms: u64,
    /// The answering agent's wrap-up, milliseconds.
    pub wrap_up_ms: u64,
    /// Whether the caller took a callback (virtual hold).
    pub callback: bool,
}

impl CallRecord {
    /// A record for a call entering `queue` at `entered`.
    pub fn start(queue: &str, member_uuid: &str, entered: Timestamp) -> CallRecord {
        CallRecord {
            id: format!("{member_uuid}-{}", entered.as_millis()),
            queue: queue.to_string(),
            member_uuid: member_uuid.to_string(),
            session_uuid: String::new(),
            cid_number: String::new(),
            cid_name: String::new(),
            priority: 0,
            entered,
            offered_agents: Vec::new(),
            answered_by: None,
            answered_at: Timestamp::ZERO,
            left_at: Timestamp::ZERO,
            ended_at: Timestamp::ZERO,
            outcome: Outcome::InQueue,
            wait_ms: 0,
            talk_ms: 0,
            wrap_up_ms: 0,
            callback: false,
        }
    }
}

/// Figures for one window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Calls that left the line in the window.
    pub offered: u64,
    /// Of which answered.
    pub answered: u64,
    /// Of which abandoned by the caller.
    pub abandoned: u64,
    /// Of which sent out (timeouts, exit keys, failed callbacks, break-outs).
    pub exited: u64,
    /// Answered within the service-level threshold.
    pub answered_within_threshold: u64,
    /// Sum of the answered calls' waits, milliseconds.
    pub answered_wait_ms: u64,
    /// Calls whose talk ended in the window.
    pub handled: u64,
    /// Sum of their talk plus wrap-up, milliseconds.
    pub handle_ms: u64,
}

impl WindowStats {
    /// Counts one call that left the line with `outcome` after waiting `wait_ms`.
    pub fn add_left(&mut self, outcome: Outcome, wait_ms: u64, threshold_secs: u32) {
        self.offered += 1;
        match outcome {
            Outcome::Answered => {
                self.answered += 1;
                self.answered_wait_ms += wait_ms;
                if wait_ms <= u64::from(threshold_secs) * 1000 {
                    self.answered_within_threshold += 1;
                }
            }
            Outcome::Abandoned => self.abandoned += 1,
            Outcome::InQueue => self.offered -= 1,
            _ => self.exited += 1,
        }
    }

    /// Counts one call whose talk ended.
    pub fn add_handled(&mut self, handle_ms: u64) {
        self.handled += 1;
        self.handle_ms += handle_ms;
    }

    /// Answered within the threshold / offered, 0..1.
    pub fn service_level(&self) -> Option<f64> {
        (self.offered > 0).then(|| self.answered_within_threshold as f64 / self.offered as f64)
    }

    /// Average speed of answer, seconds.
    pub fn asa_secs(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.answered_wait_ms as f64 / 1000.0 / self.answered as f64)
    }

    /// Average handle time, seconds.
    pub fn aht_secs(&self) -> Option<f64> {
        (self.handled > 0).then(|| self.handle_ms as f64 / 1000.0 / self.handled as f64)
    }

    /// Abandoned / offered, 0..1.
    pub fn abandon_rate(&self) -> Option<f64> {
        (self.offered > 0).then(|| self.abandoned as f64 / self.offered as f64)
    }
}

/// Live figures for one queue (`callcenter_config queue stats <queue>`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Callers waiting on the line.
    pub calls_waiting: u32,
    /// Callers waiting offline for a callback.
    pub callbacks_waiting: u32,
    /// Seconds the longest-waiting caller has waited.
    pub longest_wait_secs: u64,
    /// Tier agents Logged Out.
    pub agents_logged_out: u32,
    /// Tier agents Available.
    pub agents_available: u32,
    /// Tier agents Available (On Demand).
    pub agents_on_demand: u32,
    /// Tier agents On Break.
    pub agents_on_break: u32,
    /// Tier agents free for an offer now.
    pub agents_free: u32,
    /// Tier agents in a queue call.
    pub agents_in_call: u32,
    /// The service-level threshold, seconds.
    pub service_level_threshold: u32,
    /// Predicted wait for a caller joining now, seconds (none: no agent logged in).
    pub predicted_wait_secs: Option<u64>,
    /// The last 15 minutes.
    pub last_15_min: WindowStats,
    /// Since local midnight.
    pub today: WindowStats,
}

/// The start of the local day containing `now`, for a zone `utc_offset_minutes` east of UTC.
pub fn day_start(now: Timestamp, utc_offset_minutes: i32) -> Timestamp {
    const DAY: i64 = 86_400_000;
    let off = i64::from(utc_offset_minutes) * 60_000;
    let local = now.as_millis() as i64 + off;
    let start = local.div_euclid(DAY) * DAY - off;
    Timestamp::from_millis(start.max(0) as u64)
}

#[derive(Clone, Copy, Debug)]
struct LeftSample {
    at: Timestamp,
    outcome: Outcome,
    wait_ms: u64,
}

/// A queue's rolling history: calls that left the line, handle times, arrivals.
#[derive(Clone, Debug, Default)]
pub(crate) struct History {
    left: VecDeque<LeftSample>,
    handled: VecDeque<(Timestamp, u64)>,
    recent_handle: VecDeque<u64>,
    arrivals: VecDeque<Timestamp>,
}

/// Handle times kept for the wait estimate.
const RECENT_HANDLES: usize = 50;
const FIFTEEN_MIN_MS: u64 = 15 * 60 * 1000;

impl History {
    pub fn arrived(&mut self, at: Timestamp) {
        self.arrivals.push_back(at);
    }

    pub fn left(&mut self, at: Timestamp, outcome: Outcome, wait_ms: u64) {
        self.left.push_back(LeftSample {
            at,
            outcome,
            wait_ms,
        });
    }

    pub fn handled(&mut self, at: Timestamp, handle_ms: u64) {
        self.handled.push_back((at, handle_ms));
        self.recent_handle.push_back(handle_ms);
        if self.recent_handle.len() > RECENT_HANDLES {
            self.recent_handle.pop_front();
        }
    }

    /// Drops what is older than both the day start and 15 minutes ago.
    pub fn trim(&mut self, now: Timestamp, utc_offset_minutes: i32) {
        let keep = day_start(now, utc_offset_minutes).min(Timestamp::from_millis(
            now.as_millis().saturating_sub(FIFTEEN_MIN_MS),
        ));
        while self.left.front().is_some_and(|s| s.at < keep) {
            self.left.pop_front();
        }
        while self.handled.front().is_some_and(|s| s.0 < keep) {
            self.handled.pop_front();
        }
        while self.arrivals.front().is_some_and(|t| *t < keep) {
            self.arrivals.pop_front();
        }
    }

    /// Mean of the recent handle times, milliseconds.
    pub fn mean_handle_ms(&self) -> Option<f64> {
        let n = self.recent_handle.len();
        (n > 0).then(|| self.recent_handle.iter().sum::<u64>() as f64 / n as f64)
    }

    /// Arrivals per second over the last 15 minutes.
    pub fn arrival_rate(&self, now: Timestamp) -> f64 {
        let since = Timestamp::from_millis(now.as_millis().saturating_sub(FIFTEEN_MIN_MS));
        let n = self.arrivals.iter().filter(|t| **t >= since).count();
        n as f64 / (FIFTEEN_MIN_MS as f64 / 1000.0)
    }

    /// The figures since `since`.
    pub fn window(&self, since: Timestamp, threshold_secs: u32) -> WindowStats {
        let mut w = WindowStats::default();
        for s in self.left.iter().filter(|s| s.at >= since) {
            w.add_left(s.outcome, s.wait_ms, threshold_secs);
        }
        for (_, ms) in self.handled.iter().filter(|s| s.0 >= since) {
            w.add_handled(*ms);
        }
        w
    }

    /// The last 15 minutes and today.
    pub fn windows(
        &self,
        now: Timestamp,
        threshold_secs: u32,
        utc_offset_minutes: i32,
    ) -> (WindowStats, WindowStats) {
        let since = Timestamp::from_millis(now.as_millis().saturating_sub(FIFTEEN_MIN_MS));
        (
            self.window(since, threshold_secs),
            self.window(day_start(now, utc_offset_minutes), threshold_secs),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_day_start() {
        let day = 86_400_000u64;
        let now = Timestamp::from_millis(10 * day + 3_600_000);
        assert_eq!(day_start(now, 0), Timestamp::from_millis(10 * day));
        assert_eq!(
            day_start(now, 120),
            Timestamp::from_millis(10 * day - 7_200_000)
        );
        let mut h = History::default();
        h.left(
            Timestamp::from_millis(10 * day + 60_000),
            Outcome::Answered,
            5_000,
        );
        h.left(now, Outcome::Answered, 30_000);
        h.left(now, Outcome::Abandoned, 40_000);
        h.handled(now, 120_000);
        let (m15, today) = h.windows(now, 20, 0);
        assert_eq!(m15.offered, 2);
        assert_eq!(today.offered, 3);
        assert_eq!(today.service_level(), Some(1.0 / 3.0));
        assert_eq!(today.asa_secs(), Some(17.5));
        assert_eq!(m15.aht_secs(), Some(120.0));
        assert_eq!(m15.abandon_rate(), Some(0.5));
        assert_eq!(
            Outcome::parse("no_agent_timeout"),
            Some(Outcome::NoAgentTimeout)
        );
    }
}
