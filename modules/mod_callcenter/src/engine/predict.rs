//! Wait estimates and live statistics.
//!
//! The estimated wait of the caller at place `p` (1-based) in a queue is
//!
//! ```text
//! EWT(p) = max(0, p − free) × AHT / staffed
//! ```
//! where `staffed` is the number of tier agents whose status takes calls (Available or
//! Available (On Demand), busy or not), `free` those that could take an offer right now,
//! and AHT the mean handle time (talk + wrap-up) of the queue's last 50 calls, or its
//! default_handle_time before it has any. With exponential handle times an agent frees up
//! every AHT / staffed seconds on average, whatever was already talked, so each caller ahead
//! costs that much. No agent staffed: no estimate. `predict_wait` is EWT for a caller joining
//! now (behind everyone waiting), the figure to route by shortest predicted wait.

use std::time::Duration;

use crate::error::Error;
use crate::model::AgentStatus;
use crate::stats::QueueStats;
use crate::time::Timestamp;

use super::Engine;

impl Engine {
    /// Estimated milliseconds until the caller at `position` is answered.
    pub(crate) fn estimated_wait_ms(
        &self,
        queue: &str,
        position: u32,
        now: Timestamp,
    ) -> Option<u64> {
        let q = self.queues.get(queue)?;
        let mut staffed = 0u64;
        let mut free = 0u64;
        for t in &q.tiers {
            let Some(s) = self.slot(t.agent) else {
                continue;
            };
            if s.agent.is_available() {
                staffed += 1;
                if t.tier.accepts_offers()
                    && s.offer.is_none()
                    && s.call.is_none()
                    && s.agent.offerable(now)
                {
                    free += 1;
                }
            }
        }
        if staffed == 0 {
            return None;
        }
        let aht = q
            .history
            .mean_handle_ms()
            .unwrap_or(f64::from(q.config.default_handle_time) * 1000.0);
        let ahead = u64::from(position).saturating_sub(free);
        Some((ahead as f64 * aht / staffed as f64).round() as u64)
    }

    /// The predicted wait for a caller joining `queue` now; `Ok(None)` when no agent of the
    /// queue is staffed (the wait is unbounded).
    pub fn predict_wait(&self, queue: &str, now: Timestamp) -> Result<Option<Duration>, Error> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_string()))?;
        let live = q
            .order
            .values()
            .filter(|u| self.members.get(*u).is_some_and(|m| m.is_live()))
            .count();
        let position = u32::try_from(live + 1).unwrap_or(u32::MAX);
        Ok(self
            .estimated_wait_ms(queue, position, now)
            .map(Duration::from_millis))
    }

    /// Of `queues`, the one with the shortest predicted wait (unknown queues and queues with
    /// no agent staffed are skipped; ties go to the first listed).
    pub fn shortest_predicted_wait<'a>(
        &self,
        queues: &[&'a str],
        now: Timestamp,
    ) -> Option<(&'a str, Duration)> {
        let mut best: Option<(&'a str, Duration)> = None;
        for q in queues {
            if let Ok(Some(w)) = self.predict_wait(q, now) {
                if best.is_none_or(|(_, b)| w < b) {
                    best = Some((q, w));
                }
            }
        }
        best
    }

    /// Live figures for a queue: waiting calls, agents by status, the last 15 minutes and
    /// today (see [`crate::stats`] for the definitions).
    pub fn queue_stats(&self, queue: &str, now: Timestamp) -> Result<QueueStats, Error> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_string()))?;
        let mut s = QueueStats {
            service_level_threshold: q.config.service_level_threshold,
            ..QueueStats::default()
        };
        for u in q.order.values() {
            let Some(m) = self.members.get(u) else {
                continue;
            };
            if m.is_live() {
                s.calls_waiting += 1;
                let waited = now.since(m.record.entered).as_secs();
                s.longest_wait_secs = s.longest_wait_secs.max(waited);
            } else {
                s.callbacks_waiting += 1;
            }
        }
        for t in &q.tiers {
            let Some(slot) = self.slot(t.agent) else {
                continue;
            };
            match slot.agent.status {
                AgentStatus::LoggedOut => s.agents_logged_out += 1,
                AgentStatus::Available => s.agents_available += 1,
                AgentStatus::AvailableOnDemand => s.agents_on_demand += 1,
                AgentStatus::OnBreak => s.agents_on_break += 1,
            }
            if slot.call.is_some() {
                s.agents_in_call += 1;
            } else if t.tier.accepts_offers() && slot.offer.is_none() && slot.agent.offerable(now) {
                s.agents_free += 1;
            }
        }
        s.predicted_wait_secs = self
            .predict_wait(queue, now)
            .ok()
            .flatten()
            .map(|d| d.as_secs());
        let (m15, today) = q.history.windows(
            now,
            q.config.service_level_threshold,
            self.settings.utc_offset_minutes,
        );
        s.last_15_min = m15;
        s.today = today;
        Ok(s)
    }

    /// Calls per second that entered `queue` over the last 15 minutes.
    pub fn arrival_rate(&self, queue: &str, now: Timestamp) -> Option<f64> {
        self.queues.get(queue).map(|q| q.history.arrival_rate(now))
    }
}
