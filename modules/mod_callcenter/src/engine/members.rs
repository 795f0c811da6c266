//! Callers: joining, leaving, exit keys, timeouts, announcements and virtual-hold callbacks.

use crate::action::{Action, Announce, Exit, ExitReason, Hold, LeaveReason, PersistOp};
use crate::error::Error;
use crate::model::{CancelReason, Member, MemberJoin, MemberState, TimeBaseScore};
use crate::score::order_key;
use crate::stats::{CallRecord, Outcome};
use crate::time::Timestamp;

use super::timers::Timer;
use super::Engine;

impl Engine {
    /// A call enters `queue` (the `callcenter <queue>` application). With
    /// abandoned_resume_allowed, a caller who abandoned this queue less than
    /// discard_abandoned_after seconds ago (same caller id number) resumes its place.
    pub fn handle_member_join(
        &mut self,
        now: Timestamp,
        queue: &str,
        join: MemberJoin,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_string()))?;
        let resume_allowed = q.config.abandoned_resume_allowed;
        if let Some(m) = self.members.get(&join.uuid) {
            if m.state != MemberState::Abandoned {
                return Err(Error::MemberExists {
                    uuid: join.uuid.clone(),
                    queue: m.queue.clone(),
                });
            }
            self.members.remove(&join.uuid);
        }
        let resumed = if resume_allowed && !join.cid_number.is_empty() {
            self.members
                .values()
                .find(|m| {
                    m.state == MemberState::Abandoned
                        && m.queue == queue
                        && m.cid_number == join.cid_number
                })
                .map(|m| m.uuid.clone())
        } else {
            None
        };
        let member = match resumed.and_then(|u| self.members.remove(&u)) {
            Some(old) => self.resume(old, join, now),
            None => self.new_member(queue, join, now)?,
        };
        let uuid = member.uuid.clone();
        let resume = !member.rejoined.is_zero();
        if let Some(q) = self.queues.get_mut(queue) {
            q.line_insert(member.order, &uuid, &member.skills);
            q.history.arrived(now);
        }
        self.members.insert(uuid.clone(), member);
        self.arm_member_timers(&uuid, now);
        if let Some(m) = self.members.get(&uuid).cloned() {
            self.ev_member_start(&m, resume);
        }
        self.ev_members_count(queue);
        self.hold(&uuid);
        self.mark_member(&uuid);
        self.dispatch();
        Ok(())
    }

    /// The caller hung up (or the host took the call away). Offers being rung are canceled
    /// at once; a bridged call ends (the agent goes to wrap-up). A waiting callback is
    /// canceled.
    pub fn handle_member_leave(
        &mut self,
        now: Timestamp,
        uuid: &str,
        reason: LeaveReason,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let state = self
            .members
            .get(uuid)
            .map(|m| m.state)
            .ok_or_else(|| Error::UnknownMember(uuid.to_string()))?;
        match state {
            MemberState::Answered => self.end_bridge(uuid, now),
            MemberState::Abandoned => {}
            MemberState::Waiting | MemberState::Trying => {
                let outcome = match reason {
                    LeaveReason::Hangup => Outcome::Abandoned,
                    LeaveReason::BreakOut => Outcome::BreakOut,
                };
                self.remove_member(uuid, outcome, CancelReason::BreakOut, now);
            }
        }
        self.dispatch();
        Ok(())
    }

    /// A DTMF digit from a waiting caller: an exit key sends it to exit_key_destination, the
    /// callback key starts a virtual hold. Returns whether the digit was used.
    pub fn handle_member_dtmf(
        &mut self,
        now: Timestamp,
        uuid: &str,
        digit: char,
    ) -> Result<bool, Error> {
        let now = self.advance(now);
        let m = self
            .members
            .get(uuid)
            .ok_or_else(|| Error::UnknownMember(uuid.to_string()))?;
        if !m.is_waiting() || !m.is_live() {
            return Ok(false);
        }
        let Some(q) = self.queues.get(&m.queue) else {
            return Ok(false);
        };
        if q.config.exit_keys.contains(digit) {
            self.exit_member(uuid, ExitReason::ExitWithKey(digit), now);
            self.dispatch();
            return Ok(true);
        }
        if q.config.callback_key.starts_with(digit) {
            self.handle_callback_request(now, uuid, None)?;
            return Ok(true);
        }
        Ok(false)
    }

    fn new_member(
        &mut self,
        queue: &str,
        join: MemberJoin,
        now: Timestamp,
    ) -> Result<Member, Error> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_string()))?;
        let system_epoch = join.system_epoch.unwrap_or(now).min(now);
        let origin = match q.config.time_base_score {
            TimeBaseScore::Queue => now,
            TimeBaseScore::System => system_epoch,
        };
        let key = order_key(
            q.weights(),
            join.base_score,
            join.priority,
            origin.as_millis(),
        );
        let seq = self.next_seq();
        let mut record = CallRecord::start(queue, &join.uuid, now);
        record.session_uuid = join.session_uuid.clone();
        record.cid_number = join.cid_number.clone();
        record.cid_name = join.cid_name.clone();
        record.priority = join.priority;
        Ok(Member {
            uuid: join.uuid,
            session_uuid: Some(join.session_uuid),
            queue: queue.to_string(),
            cid_number: join.cid_number,
            cid_name: join.cid_name,
            system_epoch,
            joined: now,
            rejoined: Timestamp::ZERO,
            bridged: Timestamp::ZERO,
            abandoned: Timestamp::ZERO,
            priority: join.priority,
            base_score: join.base_score,
            skills: join.skills,
            state: MemberState::Waiting,
            serving_agent: None,
            callback: None,
            callback_number: join.callback_number,
            offers: Vec::new(),
            order: (key.saturating_neg(), seq),
            last_tier: None,
            last_ring: Timestamp::ZERO,
            exit_pending: None,
            record,
            leg: None,
        })
    }

    fn resume(&mut self, mut old: Member, join: MemberJoin, now: Timestamp) -> Member {
        self.timers.cancel_member(&old.uuid);
        old.session_uuid = Some(join.session_uuid.clone());
        old.state = MemberState::Waiting;
        old.rejoined = now;
        old.abandoned = Timestamp::ZERO;
        old.serving_agent = None;
        old.exit_pending = None;
        let mut record = CallRecord::start(&old.queue, &old.uuid, now);
        record.session_uuid = join.session_uuid;
        record.cid_number = old.cid_number.clone();
        record.cid_name = old.cid_name.clone();
        record.priority = old.priority;
        old.record = record;
        old
    }

    /// Takes a member out of its queue for good (or keeps an abandoned one for a resume).
    pub(crate) fn remove_member(
        &mut self,
        uuid: &str,
        outcome: Outcome,
        reason: CancelReason,
        now: Timestamp,
    ) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        for o in m.offers.clone() {
            self.cancel_offer(o, "ORIGINATOR_CANCEL", now);
        }
        self.timers.cancel_member(uuid);
        let Some(mut m) = self.members.remove(uuid) else {
            return;
        };
        let wait_ms = now.since(m.record.entered).as_millis() as u64;
        m.record.left_at = now;
        m.record.ended_at = now;
        m.record.outcome = outcome;
        m.record.wait_ms = wait_ms;
        let mut keep = false;
        if let Some(q) = self.queues.get_mut(&m.queue) {
            q.line_remove(&m.order, &m.skills);
            q.history.left(now, outcome, wait_ms);
            if outcome == Outcome::Abandoned {
                q.calls_abandoned += 1;
                keep = q.config.abandoned_resume_allowed && m.callback.is_none();
            }
        }
        self.ev_member_cancel(&m, reason, now);
        self.ev_members_count(&m.queue.clone());
        if m.callback.is_some() {
            self.push(Action::Persist(PersistOp::DeleteCallback(uuid.to_string())));
        }
        self.push(Action::Persist(PersistOp::RecordCall(m.record.clone())));
        if keep {
            let discard = self
                .queues
                .get(&m.queue)
                .map_or(0, |q| q.config.discard_abandoned_after);
            m.state = MemberState::Abandoned;
            m.abandoned = now;
            m.session_uuid = None;
            m.offers.clear();
            self.timers.set(
                Timer::Discard(uuid.to_string()),
                now.plus_secs(u64::from(discard)),
            );
            self.members.insert(uuid.to_string(), m);
        }
    }

    /// Sends a caller out of the queue. A timeout while agents ring waits for the offers to
    /// end (the caller gets that last chance, as in FreeSWITCH).
    pub(crate) fn exit_member(&mut self, uuid: &str, reason: ExitReason, now: Timestamp) {
        let Some(m) = self.members.get_mut(uuid) else {
            return;
        };
        if !m.is_waiting() {
            return;
        }
        let deferrable = matches!(reason, ExitReason::Timeout | ExitReason::NoAgentTimeout);
        if deferrable && !m.offers.is_empty() {
            m.exit_pending = Some(reason);
            return;
        }
        let destination = self.queues.get(&m.queue).and_then(|q| match reason {
            ExitReason::Timeout => q.config.timeout_destination.clone(),
            ExitReason::NoAgentTimeout => q.config.no_agent_destination.clone(),
            ExitReason::ExitWithKey(_) => q.config.exit_key_destination.clone(),
            ExitReason::CallbackRequested => q.config.callback_destination.clone(),
            ExitReason::QueueRemoved => None,
        });
        if let Some(session) = m.session_uuid.clone() {
            let exit = Exit {
                queue: m.queue.clone(),
                member_uuid: uuid.to_string(),
                session_uuid: session,
                destination,
                reason,
            };
            self.push(Action::Exit(exit));
        }
        let outcome = match reason {
            ExitReason::Timeout => Outcome::Timeout,
            ExitReason::NoAgentTimeout => Outcome::NoAgentTimeout,
            ExitReason::ExitWithKey(_) => Outcome::ExitWithKey,
            ExitReason::QueueRemoved => Outcome::QueueRemoved,
            ExitReason::CallbackRequested => Outcome::BreakOut,
        };
        self.remove_member(uuid, outcome, reason.cancel_reason(), now);
    }

    /// Arms a waiting caller's timers: the next tier level opening (callbacks included), and
    /// for callers on the line max wait, no agent and announcements.
    pub(crate) fn arm_member_timers(&mut self, uuid: &str, now: Timestamp) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        let queue = m.queue.clone();
        let Some(q) = self.queues.get(&queue) else {
            return;
        };
        let u = uuid.to_string();
        if q.config.tier_rules_apply {
            let levels = self.tier_levels(&queue);
            if let (_, Some(at)) = super::dispatch::open_level(&q.config, &levels, m.joined, now) {
                self.timers.set(Timer::TierOpen(u.clone()), at);
            }
        }
        if !m.is_live() {
            return;
        }
        let c = &q.config;
        let entered = m.record.entered;
        let (max_wait, freq) = (c.max_wait_time, c.announce_frequency);
        let no_agent_at = q.no_agent_since.and_then(|since| {
            (c.max_wait_time_with_no_agent > 0).then(|| {
                since
                    .plus_secs(u64::from(c.max_wait_time_with_no_agent))
                    .max(entered.plus_secs(u64::from(c.max_wait_time_with_no_agent_time_reached)))
            })
        });
        if max_wait > 0 {
            self.timers.set(
                Timer::MaxWait(u.clone()),
                entered.plus_secs(u64::from(max_wait)),
            );
        }
        if let Some(at) = no_agent_at {
            self.timers.set(Timer::NoAgent(u.clone()), at);
        }
        if freq > 0 {
            self.timers
                .set(Timer::Announce(u), now.plus_secs(u64::from(freq)));
        }
    }

    /// Music on hold for a caller on the line.
    pub(crate) fn hold(&mut self, uuid: &str) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        let Some(session) = m.session_uuid.clone() else {
            return;
        };
        let sound = self
            .queues
            .get(&m.queue)
            .and_then(|q| q.config.moh_sound.clone());
        let hold = Hold {
            queue: m.queue.clone(),
            member_uuid: uuid.to_string(),
            session_uuid: session,
            sound,
        };
        self.push(Action::Hold(hold));
    }

    pub(crate) fn on_max_wait(&mut self, uuid: &str, now: Timestamp) {
        let due = match self.members.get(uuid) {
            Some(m) if m.is_waiting() && m.is_live() => self
                .queues
                .get(&m.queue)
                .map(|q| q.config.max_wait_time)
                .filter(|max| *max > 0)
                .is_some_and(|max| now >= m.record.entered.plus_secs(u64::from(max))),
            _ => false,
        };
        if due {
            self.exit_member(uuid, ExitReason::Timeout, now);
        }
    }

    pub(crate) fn on_no_agent(&mut self, uuid: &str, now: Timestamp) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        if !m.is_waiting() || !m.is_live() {
            return;
        }
        let Some(q) = self.queues.get(&m.queue) else {
            return;
        };
        let c = &q.config;
        let Some(since) = q.no_agent_since else {
            return;
        };
        if c.max_wait_time_with_no_agent == 0 {
            return;
        }
        let at = since
            .plus_secs(u64::from(c.max_wait_time_with_no_agent))
            .max(
                m.record
                    .entered
                    .plus_secs(u64::from(c.max_wait_time_with_no_agent_time_reached)),
            );
        if now >= at {
            self.exit_member(uuid, ExitReason::NoAgentTimeout, now);
        } else {
            self.timers.set(Timer::NoAgent(uuid.to_string()), at);
        }
    }

    pub(crate) fn on_announce(&mut self, uuid: &str, now: Timestamp) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        if !m.is_waiting() || !m.is_live() {
            return;
        }
        let Some(q) = self.queues.get(&m.queue) else {
            return;
        };
        let c = &q.config;
        let (freq, sound, with_position) = (
            c.announce_frequency,
            c.announce_sound.clone(),
            c.announce_position,
        );
        let queue = m.queue.clone();
        let session = m.session_uuid.clone().unwrap_or_default();
        let (position, wait) = if with_position {
            let p = self.position(uuid);
            let w = p.and_then(|p| self.estimated_wait_ms(&queue, p, now));
            (p, w.map(|ms| ms.div_ceil(1000)))
        } else {
            (None, None)
        };
        self.push(Action::Announce(Announce {
            queue,
            member_uuid: uuid.to_string(),
            session_uuid: session,
            sound,
            position,
            estimated_wait_secs: wait,
        }));
        if freq > 0 {
            self.timers.set(
                Timer::Announce(uuid.to_string()),
                now.plus_secs(u64::from(freq)),
            );
        }
    }

    pub(crate) fn on_discard(&mut self, uuid: &str) {
        if self
            .members
            .get(uuid)
            .is_some_and(|m| m.state == MemberState::Abandoned)
        {
            self.members.remove(uuid);
        }
    }

    /// Re-checks whether `queue` has an agent logged in; when the last one leaves, the
    /// no-agent clock starts and every live caller gets its max_wait_time_with_no_agent timer.
    pub(crate) fn refresh_no_agent(&mut self, queue: &str, now: Timestamp) {
        let Some(q) = self.queues.get(queue) else {
            return;
        };
        let logged_in = q
            .tiers
            .iter()
            .any(|t| self.slot(t.agent).is_some_and(|s| s.agent.is_logged_in()));
        let was = q.no_agent_since;
        let members: Vec<String> = q.order.values().cloned().collect();
        if let Some(q) = self.queues.get_mut(queue) {
            if logged_in {
                q.no_agent_since = None;
                return;
            }
            if was.is_some() {
                return;
            }
            q.no_agent_since = Some(now);
        }
        for u in members {
            self.arm_member_timers_no_agent(&u);
        }
    }

    fn arm_member_timers_no_agent(&mut self, uuid: &str) {
        let Some(m) = self.members.get(uuid) else {
            return;
        };
        let Some(q) = self.queues.get(&m.queue) else {
            return;
        };
        let c = &q.config;
        if !m.is_live() || c.max_wait_time_with_no_agent == 0 {
            return;
        }
        if let Some(since) = q.no_agent_since {
            let at = since
                .plus_secs(u64::from(c.max_wait_time_with_no_agent))
                .max(
                    m.record
                        .entered
                        .plus_secs(u64::from(c.max_wait_time_with_no_agent_time_reached)),
                );
            self.timers.set(Timer::NoAgent(uuid.to_string()), at);
        }
    }
}
