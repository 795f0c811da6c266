//! Builders for the CUSTOM `callcenter::info` events, with FreeSWITCH's header names and
//! order (times in epoch seconds). Headers FreeSWITCH lacks are added after its own:
//! `CC-Offer-ID`, `CC-Member-Priority`, `CC-Member-Skills`, `CC-Agent-Break-Reason`, and
//! the `member-callback-*` actions.

use crate::action::{Action, Event, OfferId};
use crate::model::{AgentState, AgentStatus, CancelReason, Member};
use crate::time::Timestamp;

use super::Engine;

/// FreeSWITCH's CC-Agent-System for a single switch.
const SYSTEM: &str = "single_box";

fn member_headers(e: Event, m: &Member) -> Event {
    e.h("CC-Member-UUID", &m.uuid)
        .h(
            "CC-Member-Session-UUID",
            m.session_uuid.as_deref().unwrap_or(""),
        )
        .h("CC-Member-CID-Name", &m.cid_name)
        .h("CC-Member-CID-Number", &m.cid_number)
}

/// Times of an agent leg for the bridge events.
pub(crate) struct LegTimes {
    pub called: Timestamp,
    pub answered: Timestamp,
}

impl Engine {
    fn emit(&mut self, e: Event) {
        self.push(Action::Event(e));
    }

    pub(crate) fn ev_members_count(&mut self, queue: &str) {
        let count = self.waiting_count(queue);
        self.emit(
            Event::new()
                .h("CC-Queue", queue)
                .h("CC-Action", "members-count")
                .h("CC-Count", count)
                .h("CC-Selection", "Single-Queue"),
        );
    }

    pub(crate) fn ev_member_start(&mut self, m: &Member, resume: bool) {
        let action = if resume {
            "member-queue-resume"
        } else {
            "member-queue-start"
        };
        let mut e = member_headers(
            Event::new().h("CC-Queue", &m.queue).h("CC-Action", action),
            m,
        )
        .h("CC-Member-Joined-Time", m.joined)
        .h("CC-Member-Priority", m.priority);
        if !m.skills.is_empty() {
            e = e.h("CC-Member-Skills", &m.skills);
        }
        self.emit(e);
    }

    pub(crate) fn ev_member_cancel(&mut self, m: &Member, reason: CancelReason, now: Timestamp) {
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "member-queue-end")
            .h("CC-Member-Leaving-Time", now)
            .h("CC-Member-Joined-Time", m.joined)
            .h("CC-Cause", "Cancel")
            .h("CC-Cancel-Reason", reason);
        self.emit(member_headers(e, m));
    }

    pub(crate) fn ev_member_terminated(
        &mut self,
        m: &Member,
        agent: &str,
        agent_uuid: &str,
        leg: &LegTimes,
        now: Timestamp,
    ) {
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "member-queue-end")
            .h("CC-Hangup-Cause", "NORMAL_CLEARING")
            .h("CC-Cause", "Terminated")
            .h("CC-Agent", agent)
            .h("CC-Agent-System", SYSTEM)
            .h("CC-Agent-UUID", agent_uuid)
            .h("CC-Agent-Called-Time", leg.called)
            .h("CC-Agent-Answered-Time", leg.answered)
            .h("CC-Member-Leaving-Time", now)
            .h("CC-Member-Joined-Time", m.joined);
        self.emit(member_headers(e, m));
    }

    pub(crate) fn ev_agent_offering(
        &mut self,
        m: &Member,
        agent: &str,
        id: OfferId,
        agent_uuid: &str,
    ) {
        let agent_type = self
            .agent(agent)
            .map(|a| a.agent_type.as_str())
            .unwrap_or("callback");
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "agent-offering")
            .h("CC-Agent", agent)
            .h("CC-Agent-Type", agent_type)
            .h("CC-Agent-System", SYSTEM);
        // The agent leg's uuid too, so a desktop can match the call that rings.
        let e = member_headers(e, m)
            .h("CC-Offer-ID", id)
            .h("CC-Agent-UUID", agent_uuid);
        self.emit(e);
    }

    pub(crate) fn ev_bridge_start(
        &mut self,
        m: &Member,
        agent: &str,
        agent_uuid: &str,
        leg: &LegTimes,
    ) {
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "bridge-agent-start")
            .h("CC-Agent", agent)
            .h("CC-Agent-System", SYSTEM)
            .h("CC-Agent-UUID", agent_uuid)
            .h("CC-Agent-Called-Time", leg.called)
            .h("CC-Agent-Answered-Time", leg.answered)
            .h("CC-Member-Joined-Time", m.joined);
        self.emit(member_headers(e, m));
    }

    pub(crate) fn ev_bridge_end(
        &mut self,
        m: &Member,
        agent: &str,
        agent_uuid: &str,
        leg: &LegTimes,
        now: Timestamp,
    ) {
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "bridge-agent-end")
            .h("CC-Hangup-Cause", "NORMAL_CLEARING")
            .h("CC-Agent", agent)
            .h("CC-Agent-System", SYSTEM)
            .h("CC-Agent-UUID", agent_uuid)
            .h("CC-Agent-Bridged", "true")
            .h("CC-Agent-Called-Time", leg.called)
            .h("CC-Agent-Answered-Time", leg.answered)
            .h("CC-Member-Joined-Time", m.joined)
            .h("CC-Bridge-Terminated-Time", now);
        self.emit(member_headers(e, m));
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ev_bridge_fail(
        &mut self,
        m: &Member,
        agent: &str,
        cause: &str,
        called: Timestamp,
        now: Timestamp,
    ) {
        let e = Event::new()
            .h("CC-Queue", &m.queue)
            .h("CC-Action", "bridge-agent-fail")
            .h("CC-Hangup-Cause", cause)
            .h("CC-Agent", agent)
            .h("CC-Agent-System", SYSTEM)
            .h("CC-Agent-Called-Time", called)
            .h("CC-Agent-Aborted-Time", now);
        let e = member_headers(e, m).h("CC-Member-Joined-Time", m.joined);
        self.emit(e);
    }

    pub(crate) fn ev_agent_status(
        &mut self,
        agent: &str,
        status: AgentStatus,
        reason: Option<&str>,
    ) {
        let mut e = Event::new()
            .h("CC-Agent", agent)
            .h("CC-Action", "agent-status-change")
            .h("CC-Agent-Status", status);
        if let Some(r) = reason {
            e = e.h("CC-Agent-Break-Reason", r);
        }
        self.emit(e);
    }

    pub(crate) fn ev_agent_state(&mut self, agent: &str, state: AgentState) {
        self.emit(
            Event::new()
                .h("CC-Agent", agent)
                .h("CC-Action", "agent-state-change")
                .h("CC-Agent-State", state),
        );
    }

    pub(crate) fn ev_agent_max_no_answer(
        &mut self,
        agent: &str,
        count: u32,
        status: AgentStatus,
        m: &Member,
    ) {
        let session = m.session_uuid.clone().unwrap_or_default();
        self.emit(
            Event::new()
                .h("CC-Agent", agent)
                .h("CC-Action", "agent-max-no-answer")
                .h("CC-Agent-No-Answer-Count", count)
                .h("CC-Agent-No-Answer-Status", status)
                .h("CC-Member-UUID", &m.uuid)
                .h("CC-Member-Session-UUID", session),
        );
    }

    pub(crate) fn ev_agent_simple(
        &mut self,
        agent: &str,
        action: &str,
        header: Option<(&str, &str)>,
    ) {
        let mut e = Event::new().h("CC-Agent", agent).h("CC-Action", action);
        if let Some((k, v)) = header {
            e = e.h(k, v);
        }
        self.emit(e);
    }

    /// `member-callback-start` (asked), `-dialing`, `-answered`, `-failed` (an attempt).
    pub(crate) fn ev_callback(&mut self, m: &Member, action: &str, number: &str, attempt: u32) {
        let e = Event::new().h("CC-Queue", &m.queue).h("CC-Action", action);
        let e = member_headers(e, m)
            .h("CC-Member-Joined-Time", m.joined)
            .h("CC-Callback-Number", number)
            .h("CC-Callback-Attempt", attempt);
        self.emit(e);
    }
}
