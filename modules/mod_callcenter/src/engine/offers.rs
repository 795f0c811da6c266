//! Offers and bridges: ringing agents, their outcomes, the bridge and its end (wrap-up).

use crate::action::{Action, Bridge, CancelOffer, Offer, OfferId, OfferResult, PersistOp};
use crate::error::Error;
use crate::model::member::Leg;
use crate::model::{AgentState, AgentStatus, AgentType, MemberState, TierState};
use crate::stats::Outcome;
use crate::time::Timestamp;

use super::events::LegTimes;
use super::strategy::Cand;
use super::timers::Timer;
use super::{Engine, OfferRt};

impl Engine {
    /// Reports how an offer ended. `Answered` bridges the caller (and cancels the other
    /// agents of a ring-all); any other result frees the agent after its delay. A result for
    /// an offer the engine already canceled is refused with [`Error::UnknownOffer`] (the host
    /// hangs that leg up anyway, as the CancelOffer asked).
    pub fn handle_offer_result(
        &mut self,
        now: Timestamp,
        offer: OfferId,
        result: OfferResult,
    ) -> Result<(), Error> {
        let now = self.advance(now);
        let Some(off) = self.offers.remove(&offer) else {
            return Err(Error::UnknownOffer(offer));
        };
        self.timers.cancel(&Timer::OfferGuard(offer));
        match result {
            OfferResult::Answered => self.offer_answered(offer, off, now),
            other => self.offer_failed(offer, off, other, now),
        }
        self.dispatch();
        Ok(())
    }

    /// The agent's call ended (its leg hung up, or the caller's): the call is recorded and
    /// the agent starts its wrap-up. An agent still ringing counts as having rejected the
    /// offer. An idle agent is a no-op.
    pub fn handle_agent_hangup(&mut self, now: Timestamp, agent: &str) -> Result<(), Error> {
        let now = self.advance(now);
        let id = *self
            .agent_ids
            .get(agent)
            .ok_or_else(|| Error::UnknownAgent(agent.to_string()))?;
        let (call, offer) = match self.slot(id) {
            Some(s) => (s.call.clone(), s.offer),
            None => return Err(Error::UnknownAgent(agent.to_string())),
        };
        if let Some(member) = call {
            self.end_bridge(&member, now);
        } else if let Some(offer) = offer {
            if let Some(off) = self.offers.remove(&offer) {
                self.timers.cancel(&Timer::OfferGuard(offer));
                self.offer_failed(offer, off, OfferResult::Rejected, now);
            }
        }
        self.dispatch();
        Ok(())
    }

    /// The Bridge the engine asked for failed (one side vanished before it joined): the agent
    /// is freed without penalty and the caller goes back to its place in line. If the caller
    /// is gone too, the host follows with `handle_member_leave`.
    pub fn handle_bridge_failed(&mut self, now: Timestamp, member: &str) -> Result<(), Error> {
        let now = self.advance(now);
        let m = self
            .members
            .get_mut(member)
            .ok_or_else(|| Error::UnknownMember(member.to_string()))?;
        if m.state != MemberState::Answered {
            return Err(Error::NotAllowed(format!("member {member} is not bridged")));
        }
        let leg = m.leg.take();
        m.state = MemberState::Waiting;
        m.bridged = Timestamp::ZERO;
        m.serving_agent = None;
        m.record.answered_by = None;
        m.record.answered_at = Timestamp::ZERO;
        let (order, queue) = (m.order, m.queue.clone());
        let snapshot = m.clone();
        if let Some(q) = self.queues.get_mut(&queue) {
            q.line_insert(order, member, &snapshot.skills);
            q.calls_answered = q.calls_answered.saturating_sub(1);
        }
        if let Some(leg) = leg {
            if let Some(&id) = self.agent_ids.get(&leg.agent) {
                self.release_agent(id, &queue, None, now);
                self.ev_bridge_fail(&snapshot, &leg.agent, "ORIGINATOR_CANCEL", leg.called, now);
            }
        }
        self.arm_member_timers(member, now);
        self.hold(member);
        self.mark_member(member);
        self.ev_members_count(&queue);
        self.dispatch();
        Ok(())
    }

    /// Offers a caller to one candidate agent. False if the agent is no longer free.
    pub(crate) fn make_offer(&mut self, uuid: &str, c: Cand, queue: &str, now: Timestamp) -> bool {
        let id = OfferId(self.next_offer);
        let (timeout, ring_delay) = match self.queues.get(queue) {
            Some(q) => (q.config.offer_timeout, q.config.ring_progressively_delay),
            None => return false,
        };
        let fresh_uuid = self.rng.uuid();
        let Some(slot) = self.slots.get_mut(c.slot).and_then(|s| s.as_mut()) else {
            return false;
        };
        if slot.offer.is_some() || slot.call.is_some() {
            return false;
        }
        self.next_offer += 1;
        slot.offer = Some(id);
        let a = &mut slot.agent;
        a.state = AgentState::Receiving;
        a.last_offered_call = now;
        let agent_uuid = if a.agent_type == AgentType::UuidStandby && !a.uuid.is_empty() {
            a.uuid.clone()
        } else {
            fresh_uuid
        };
        let (name, agent_type, contact) = (a.name.clone(), a.agent_type, a.contact.clone());
        self.set_tier_states(c.slot, queue, Some(TierState::Offering), |s| {
            if s == TierState::Ready {
                TierState::Standby
            } else {
                s
            }
        });
        let Some(m) = self.members.get_mut(uuid) else {
            return false;
        };
        m.state = MemberState::Trying;
        m.offers.push(id);
        m.serving_agent = Some(name.clone());
        m.last_ring = now;
        m.last_tier = Some((c.level, c.position));
        m.record.offered_agents.push(name.clone());
        let offer = Offer {
            offer_id: id,
            queue: queue.to_string(),
            member_uuid: uuid.to_string(),
            member_session_uuid: m.session_uuid.clone().unwrap_or_default(),
            cid_number: m.cid_number.clone(),
            cid_name: m.cid_name.clone(),
            agent: name.clone(),
            agent_type,
            contact,
            agent_uuid: agent_uuid.clone(),
            timeout_secs: timeout,
        };
        let snapshot = m.clone();
        if let Some(q) = self.queues.get_mut(queue) {
            q.rr_cursor = Some((c.level, c.position));
        }
        self.offers.insert(
            id,
            OfferRt {
                member: uuid.to_string(),
                agent: c.slot,
                queue: queue.to_string(),
                agent_uuid,
                created: now,
            },
        );
        let guard = u64::from(timeout) + u64::from(self.settings.offer_guard_secs);
        self.timers.set(Timer::OfferGuard(id), now.plus_secs(guard));
        if self.queues.get(queue).map(|q| q.config.strategy)
            == Some(crate::model::Strategy::RingProgressively)
        {
            self.timers.set(
                Timer::RingNext(uuid.to_string()),
                now.plus_secs(u64::from(ring_delay)),
            );
        }
        self.ev_agent_state(&name, AgentState::Receiving);
        self.ev_agent_offering(&snapshot, &name, id, &offer.agent_uuid);
        self.push(Action::Offer(offer));
        true
    }

    fn offer_answered(&mut self, id: OfferId, off: OfferRt, now: Timestamp) {
        let Some(m) = self.members.get(&off.member) else {
            // Cannot happen: a leaving member cancels its offers first.
            self.release_agent(off.agent, &off.queue, None, now);
            return;
        };
        let others: Vec<OfferId> = m.offers.iter().copied().filter(|o| *o != id).collect();
        for o in others {
            self.cancel_offer(o, "LOSE_RACE", now);
        }
        let Some(slot) = self.slot_mut(off.agent) else {
            return;
        };
        slot.offer = None;
        slot.call = Some(off.member.clone());
        let a = &mut slot.agent;
        a.state = AgentState::InAQueueCall;
        a.last_bridge_start = now;
        a.calls_answered += 1;
        a.no_answer_count = 0;
        let agent = a.name.clone();
        self.set_tier_states(off.agent, &off.queue, Some(TierState::ActiveInbound), |s| s);
        let Some(m) = self.members.get_mut(&off.member) else {
            return;
        };
        m.offers.clear();
        m.exit_pending = None;
        m.state = MemberState::Answered;
        m.bridged = now;
        m.serving_agent = Some(agent.clone());
        m.leg = Some(Leg {
            agent: agent.clone(),
            agent_uuid: off.agent_uuid.clone(),
            called: off.created,
            answered: now,
        });
        let wait_ms = now.since(m.record.entered).as_millis() as u64;
        m.record.answered_by = Some(agent.clone());
        m.record.answered_at = now;
        m.record.left_at = now;
        m.record.wait_ms = wait_ms;
        let had_callback = m.callback.is_some();
        let snapshot = m.clone();
        self.timers.cancel_member(&off.member);
        let record_template = match self.queues.get_mut(&off.queue) {
            Some(q) => {
                q.line_remove(&snapshot.order, &snapshot.skills);
                q.calls_answered += 1;
                q.history.left(now, Outcome::Answered, wait_ms);
                q.config.record_template.clone()
            }
            None => None,
        };
        if had_callback {
            self.push(Action::Persist(PersistOp::DeleteCallback(
                off.member.clone(),
            )));
        }
        self.push(Action::Bridge(Bridge {
            offer_id: id,
            queue: off.queue.clone(),
            member_uuid: off.member.clone(),
            member_session_uuid: snapshot.session_uuid.clone().unwrap_or_default(),
            agent: agent.clone(),
            agent_uuid: off.agent_uuid.clone(),
            record_template,
        }));
        let leg = LegTimes {
            called: off.created,
            answered: now,
        };
        self.ev_bridge_start(&snapshot, &agent, &off.agent_uuid, &leg);
        self.ev_agent_state(&agent, AgentState::InAQueueCall);
        self.ev_members_count(&off.queue);
    }

    fn offer_failed(&mut self, _id: OfferId, off: OfferRt, result: OfferResult, now: Timestamp) {
        let unreachable_delay = self.settings.unreachable_delay_time;
        let no_answer_status = self
            .queues
            .get(&off.queue)
            .map_or(AgentStatus::OnBreak, |q| q.config.agent_no_answer_status);
        let mut max_reached = None;
        let mut agent = String::new();
        if let Some(slot) = self.slot_mut(off.agent) {
            slot.offer = None;
            let a = &mut slot.agent;
            agent = a.name.clone();
            let delay = match result {
                OfferResult::NoAnswer => {
                    a.no_answer_count += 1;
                    if a.max_no_answer > 0 && a.no_answer_count >= a.max_no_answer {
                        max_reached = Some(a.no_answer_count);
                    }
                    a.no_answer_delay_time
                }
                OfferResult::Busy => a.busy_delay_time,
                OfferResult::Rejected => a.reject_delay_time,
                OfferResult::Unreachable => {
                    a.unreachable_count += 1;
                    unreachable_delay
                }
                OfferResult::Answered => 0,
            };
            if delay > 0 {
                a.ready_time = now.plus_secs(u64::from(delay));
            }
        }
        let this = if result == OfferResult::NoAnswer {
            TierState::NoAnswer
        } else {
            TierState::Ready
        };
        self.release_agent(off.agent, &off.queue, Some(this), now);
        let snapshot = self.detach_offer(&off.member, _id);
        if let Some(m) = &snapshot {
            self.ev_bridge_fail(m, &agent, result.cause(), off.created, now);
        }
        if let (Some(count), Some(m)) = (max_reached, &snapshot) {
            self.ev_agent_max_no_answer(&agent, count, no_answer_status, m);
            self.apply_status(off.agent, no_answer_status, None, now);
        }
        self.persist_agent(off.agent);
        self.after_offer_detached(&off.member, now);
    }

    /// Cancels a pending offer (caller gone, agent logged off, another agent won).
    pub(crate) fn cancel_offer(&mut self, id: OfferId, cause: &str, now: Timestamp) {
        let Some(off) = self.offers.remove(&id) else {
            return;
        };
        self.timers.cancel(&Timer::OfferGuard(id));
        let agent = self
            .slot(off.agent)
            .map(|s| s.agent.name.clone())
            .unwrap_or_default();
        if let Some(s) = self.slot_mut(off.agent) {
            s.offer = None;
        }
        self.release_agent(off.agent, &off.queue, Some(TierState::Ready), now);
        self.push(Action::CancelOffer(CancelOffer {
            offer_id: id,
            agent: agent.clone(),
            agent_uuid: off.agent_uuid.clone(),
            cause: cause.to_string(),
        }));
        if let Some(m) = self.detach_offer(&off.member, id) {
            self.ev_bridge_fail(&m, &agent, cause, off.created, now);
        }
    }

    /// Removes an offer from its member; back to Waiting when none is left.
    fn detach_offer(&mut self, member: &str, id: OfferId) -> Option<crate::model::Member> {
        let m = self.members.get_mut(member)?;
        m.offers.retain(|o| *o != id);
        let back = m.offers.is_empty() && m.state == MemberState::Trying;
        if back {
            m.state = MemberState::Waiting;
        }
        let snapshot = m.clone();
        if back {
            self.mark_member(member);
        }
        Some(snapshot)
    }

    /// After an offer ended without an answer: a deferred exit happens now.
    pub(crate) fn after_offer_detached(&mut self, member: &str, now: Timestamp) {
        let pending = match self.members.get(member) {
            Some(m) if m.offers.is_empty() && m.state == MemberState::Waiting => m.exit_pending,
            _ => None,
        };
        if let Some(reason) = pending {
            self.exit_member(member, reason, now);
        }
    }

    /// The agent's offer or call is over: back to Waiting (Idle after an on-demand call),
    /// its tiers Ready again, a wake-up when its wrap-up or delay ends.
    pub(crate) fn release_agent(
        &mut self,
        id: usize,
        queue: &str,
        this: Option<TierState>,
        now: Timestamp,
    ) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        let a = &mut slot.agent;
        let before = a.state;
        if matches!(a.state, AgentState::Receiving | AgentState::InAQueueCall) {
            a.state = AgentState::Waiting;
        }
        let (name, state, ready) = (a.name.clone(), a.state, a.ready_at(now));
        self.set_tier_states(id, queue, this.or(Some(TierState::Ready)), |s| {
            if s == TierState::Standby {
                TierState::Ready
            } else {
                s
            }
        });
        if let Some(at) = ready {
            self.timers.set(Timer::AgentReady(name.clone()), at);
        }
        if state != before {
            self.ev_agent_state(&name, state);
        }
        self.mark_agent(id);
    }

    /// The bridged call of `member` ended.
    pub(crate) fn end_bridge(&mut self, member: &str, now: Timestamp) {
        let Some(mut m) = self.members.remove(member) else {
            return;
        };
        let Some(leg) = m.leg.take() else {
            return;
        };
        let talk_ms = now.since(m.bridged).as_millis() as u64;
        let mut wrap_ms = 0;
        let mut agent_state = None;
        if let Some(&id) = self.agent_ids.get(&leg.agent) {
            if let Some(slot) = self.slot_mut(id) {
                slot.call = None;
                let a = &mut slot.agent;
                a.last_bridge_end = now;
                a.talk_time += talk_ms / 1000;
                wrap_ms = u64::from(a.wrap_up_time) * 1000;
                if a.status == AgentStatus::AvailableOnDemand {
                    a.state = AgentState::Idle;
                } else {
                    a.state = AgentState::Waiting;
                }
                let (name, state, ready) = (a.name.clone(), a.state, a.ready_at(now));
                self.set_tier_states(id, &m.queue, Some(TierState::Ready), |s| {
                    if s == TierState::Standby {
                        TierState::Ready
                    } else {
                        s
                    }
                });
                if let Some(at) = ready {
                    self.timers.set(Timer::AgentReady(name.clone()), at);
                }
                agent_state = Some((name, state));
                self.persist_agent(id);
                self.mark_agent(id);
            }
        }
        m.record.ended_at = now;
        m.record.talk_ms = talk_ms;
        m.record.wrap_up_ms = wrap_ms;
        m.record.outcome = Outcome::Answered;
        if let Some(q) = self.queues.get_mut(&m.queue) {
            q.history.handled(now, talk_ms + wrap_ms);
        }
        let times = LegTimes {
            called: leg.called,
            answered: leg.answered,
        };
        self.ev_bridge_end(&m, &leg.agent, &leg.agent_uuid, &times, now);
        self.ev_member_terminated(&m, &leg.agent, &leg.agent_uuid, &times, now);
        if let Some((name, state)) = agent_state {
            self.ev_agent_state(&name, state);
        }
        self.push(Action::Persist(PersistOp::RecordCall(m.record.clone())));
    }

    /// The host never resolved an offer: cancel the leg and count it as not answered.
    pub(crate) fn on_offer_guard(&mut self, id: OfferId, now: Timestamp) {
        let Some(off) = self.offers.remove(&id) else {
            return;
        };
        let agent = self
            .slot(off.agent)
            .map(|s| s.agent.name.clone())
            .unwrap_or_default();
        self.push(Action::CancelOffer(CancelOffer {
            offer_id: id,
            agent,
            agent_uuid: off.agent_uuid.clone(),
            cause: "ALLOTTED_TIMEOUT".to_string(),
        }));
        self.offer_failed(id, off, OfferResult::NoAnswer, now);
    }

    /// Sets the agent's tier state in `queue` to `this` and maps its other tiers with `other`.
    pub(crate) fn set_tier_states(
        &mut self,
        slot: usize,
        queue: &str,
        this: Option<TierState>,
        other: impl Fn(TierState) -> TierState,
    ) {
        for (name, q) in self.queues.iter_mut() {
            let Some(&i) = q.tier_index.get(&slot) else {
                continue;
            };
            let t = &mut q.tiers[i].tier;
            if name == queue {
                if let Some(s) = this {
                    t.state = s;
                }
            } else {
                t.state = other(t.state);
            }
        }
    }

    /// Emits the agent's record for the store.
    pub(crate) fn persist_agent(&mut self, id: usize) {
        if let Some(s) = self.slot(id) {
            let a = s.agent.clone();
            self.push(Action::Persist(PersistOp::SaveAgent(a)));
        }
    }
}
