//! Virtual hold: a caller asks to be called back, keeps its place, is called back when its
//! turn comes and is then offered to an agent like any caller on the line.

use crate::action::{Action, CallbackCall, CallbackResult, Exit, ExitReason, PersistOp};
use crate::error::Error;
use crate::model::{Callback, CallbackState, CancelReason, MemberState};
use crate::stats::Outcome;
use crate::time::Timestamp;

use super::timers::Timer;
use super::Engine;

/// How long the engine waits for a callback attempt's result before counting it failed.
const CALLBACK_GUARD_SECS: u64 = 300;

impl Engine {
    /// The caller asks to be called back (virtual hold): it leaves the line (an Exit with
    /// reason CallbackRequested releases the call) but keeps its place; when its turn comes
    /// the engine asks for a callback, then offers the answered callback to an agent.
    pub fn handle_callback_request(
        &mut self,
        now: Timestamp,
        uuid: &str,
        number: Option<&str>,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let m = self
            .members
            .get(uuid)
            .ok_or_else(|| Error::UnknownMember(uuid.to_string()))?;
        let q = self
            .queues
            .get(&m.queue)
            .ok_or_else(|| Error::UnknownQueue(m.queue.clone()))?;
        if !q.config.callback_allowed() {
            return Err(Error::NotAllowed(format!(
                "queue {} does not offer callbacks (callback_key is empty)",
                m.queue
            )));
        }
        if !m.is_waiting() || !m.is_live() {
            return Err(Error::NotAllowed(format!(
                "member {uuid} is not waiting on the line"
            )));
        }
        let number = number
            .map(str::to_string)
            .or_else(|| m.callback_number.clone())
            .unwrap_or_else(|| m.cid_number.clone());
        if number.trim().is_empty() {
            return Err(Error::value("callback number", "", "a number to call back"));
        }
        let destination = q.config.callback_destination.clone();
        let (queue, session) = (m.queue.clone(), m.session_uuid.clone().unwrap_or_default());
        for o in m.offers.clone() {
            self.cancel_offer(o, "ORIGINATOR_CANCEL", now);
        }
        self.timers.cancel_member(uuid);
        let Some(m) = self.members.get_mut(uuid) else {
            return Ok(());
        };
        m.state = MemberState::Waiting;
        m.session_uuid = None;
        m.exit_pending = None;
        m.record.callback = true;
        m.callback = Some(Callback {
            number: number.clone(),
            requested: now,
            attempts: 0,
            state: CallbackState::Pending,
        });
        let snapshot = m.clone();
        self.push(Action::Exit(Exit {
            queue,
            member_uuid: uuid.to_string(),
            session_uuid: session,
            destination,
            reason: ExitReason::CallbackRequested,
        }));
        self.ev_callback(&snapshot, "member-callback-start", &number, 0);
        self.arm_member_timers(uuid, now);
        self.persist_callback(uuid);
        self.dispatch();
        Ok(())
    }

    /// How the callback the engine asked for ended. Answered: the customer is back on the
    /// line at its place and is offered to the next free agent. Failed: retried after
    /// callback_retry_delay until callback_retries attempts, then the member is dropped.
    pub fn handle_callback_result(
        &mut self,
        now: Timestamp,
        uuid: &str,
        result: CallbackResult,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let m = self
            .members
            .get(uuid)
            .ok_or_else(|| Error::UnknownMember(uuid.to_string()))?;
        let dialing = m
            .callback
            .as_ref()
            .is_some_and(|c| c.state == CallbackState::Dialing);
        if !dialing {
            return Err(Error::NotAllowed(format!(
                "no callback is being dialed for member {uuid}"
            )));
        }
        match result {
            CallbackResult::Answered { session_uuid } => {
                let Some(m) = self.members.get_mut(uuid) else {
                    return Ok(());
                };
                m.session_uuid = Some(session_uuid);
                let attempt = m.callback.as_ref().map_or(0, |c| c.attempts);
                let number = m
                    .callback
                    .as_ref()
                    .map(|c| c.number.clone())
                    .unwrap_or_default();
                if let Some(c) = m.callback.as_mut() {
                    c.state = CallbackState::Connected;
                }
                let snapshot = m.clone();
                self.timers.cancel(&Timer::CallbackRetry(uuid.to_string()));
                self.ev_callback(&snapshot, "member-callback-answered", &number, attempt);
                self.arm_member_timers(uuid, now);
                self.hold(uuid);
                self.mark_member(uuid);
            }
            CallbackResult::Failed => self.callback_failed(uuid, now),
        }
        self.dispatch();
        Ok(())
    }

    fn callback_failed(&mut self, uuid: &str, now: Timestamp) {
        let (retries, delay) = match self
            .members
            .get(uuid)
            .and_then(|m| self.queues.get(&m.queue))
        {
            Some(q) => (q.config.callback_retries, q.config.callback_retry_delay),
            None => (1, 0),
        };
        let Some(m) = self.members.get_mut(uuid) else {
            return;
        };
        let Some(c) = m.callback.as_mut() else {
            return;
        };
        let (attempt, number) = (c.attempts, c.number.clone());
        if attempt >= retries {
            self.remove_member(
                uuid,
                Outcome::CallbackFailed,
                CancelReason::CallbackFailed,
                now,
            );
            return;
        }
        let at = now.plus_secs(u64::from(delay));
        c.state = CallbackState::RetryAt(at);
        let snapshot = m.clone();
        self.timers.set(Timer::CallbackRetry(uuid.to_string()), at);
        self.ev_callback(&snapshot, "member-callback-failed", &number, attempt);
        self.persist_callback(uuid);
    }

    /// Its turn came: ask the host to call the customer back.
    pub(crate) fn start_callback(&mut self, uuid: &str, now: Timestamp) {
        let Some(m) = self.members.get_mut(uuid) else {
            return;
        };
        let Some(c) = m.callback.as_mut() else {
            return;
        };
        c.state = CallbackState::Dialing;
        c.attempts += 1;
        let call = CallbackCall {
            queue: m.queue.clone(),
            member_uuid: uuid.to_string(),
            number: c.number.clone(),
            cid_name: m.cid_name.clone(),
            attempt: c.attempts,
        };
        let snapshot = m.clone();
        self.timers.set(
            Timer::CallbackRetry(uuid.to_string()),
            now.plus_secs(CALLBACK_GUARD_SECS),
        );
        self.ev_callback(
            &snapshot,
            "member-callback-dialing",
            &call.number,
            call.attempt,
        );
        self.push(Action::Callback(call));
        self.persist_callback(uuid);
    }

    pub(crate) fn on_callback_retry(&mut self, uuid: &str, now: Timestamp) {
        let dialing = self
            .members
            .get(uuid)
            .and_then(|m| m.callback.as_ref())
            .is_some_and(|c| c.state == CallbackState::Dialing);
        if dialing {
            // The host never reported the attempt: count it as failed.
            self.callback_failed(uuid, now);
        } else {
            self.mark_member(uuid);
        }
    }

    /// Emits the callback's record for the store.
    pub(crate) fn persist_callback(&mut self, uuid: &str) {
        if let Some(r) = self
            .members
            .get(uuid)
            .and_then(super::snapshot::callback_record)
        {
            self.push(Action::Persist(PersistOp::SaveCallback(r)));
        }
    }
}
