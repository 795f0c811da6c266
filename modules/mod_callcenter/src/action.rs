//! What the engine asks the host to do ([`Action`]) and what the host reports back
//! ([`OfferResult`], [`LeaveReason`], [`CallbackResult`]).
//!
//! Every action is plain data and serializes (serde) for logs, ESL or a test transcript.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::engine::CallbackRecord;
use crate::model::{Agent, AgentType, CancelReason, QueueConfig, Tier};
use crate::stats::CallRecord;

/// One offer of one caller to one agent (one agent leg).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfferId(pub u64);

impl fmt::Display for OfferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How an offer ended, as the host saw the agent leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OfferResult {
    /// The agent answered: the engine bridges (or cancels if the caller is gone).
    Answered,
    /// No answer before the timeout (counts toward max_no_answer).
    NoAnswer,
    /// The agent's phone was busy (USER_BUSY, congestion).
    Busy,
    /// The agent rejected the call (CALL_REJECTED).
    Rejected,
    /// The agent's phone could not be reached (not registered, no route): skipped and counted.
    Unreachable,
}

impl OfferResult {
    /// The hangup cause FreeSWITCH would report (`CC-Hangup-Cause`).
    pub fn cause(self) -> &'static str {
        match self {
            OfferResult::Answered => "NORMAL_CLEARING",
            OfferResult::NoAnswer => "NO_ANSWER",
            OfferResult::Busy => "USER_BUSY",
            OfferResult::Rejected => "CALL_REJECTED",
            OfferResult::Unreachable => "USER_NOT_REGISTERED",
        }
    }
}

/// Why a caller left the queue on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaveReason {
    /// The caller hung up (an abandon if not yet answered).
    Hangup,
    /// The host took the call out of the queue (transfer, `callcenter_break`).
    BreakOut,
}

/// How a callback attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackResult {
    /// The customer answered; this is the new call's channel.
    Answered {
        /// The callback leg's uuid (becomes the member's session).
        session_uuid: String,
    },
    /// No answer, busy or unreachable: retried after callback_retry_delay, up to
    /// callback_retries attempts.
    Failed,
}

/// Why the engine sends a caller out of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitReason {
    /// max_wait_time reached.
    Timeout,
    /// No agent logged in for max_wait_time_with_no_agent.
    NoAgentTimeout,
    /// The caller pressed this exit key.
    ExitWithKey(char),
    /// The caller asked for a callback: release the call (it keeps its place).
    CallbackRequested,
    /// The queue was unloaded or deleted.
    QueueRemoved,
}

impl ExitReason {
    /// The matching `CC-Cancel-Reason`.
    pub fn cancel_reason(self) -> CancelReason {
        match self {
            ExitReason::Timeout => CancelReason::Timeout,
            ExitReason::NoAgentTimeout => CancelReason::NoAgentTimeout,
            ExitReason::ExitWithKey(_) => CancelReason::ExitWithKey,
            ExitReason::CallbackRequested => CancelReason::None,
            ExitReason::QueueRemoved => CancelReason::QueueRemoved,
        }
    }
}

/// Ring an agent for a caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Report the outcome with this id (`handle_offer_result`).
    pub offer_id: OfferId,
    /// The queue.
    pub queue: String,
    /// The caller's member uuid (cc_member_uuid).
    pub member_uuid: String,
    /// The caller's channel (cc_member_session_uuid).
    pub member_session_uuid: String,
    /// Caller id number to present to the agent.
    pub cid_number: String,
    /// Caller id name to present to the agent.
    pub cid_name: String,
    /// The agent.
    pub agent: String,
    /// How to reach it.
    pub agent_type: AgentType,
    /// Dial string (callback agents).
    pub contact: String,
    /// The agent leg's uuid: originate with it (origination_uuid); the parked call's uuid for
    /// uuid-standby agents. Events carry it as CC-Agent-UUID.
    pub agent_uuid: String,
    /// Seconds to ring before reporting NoAnswer.
    pub timeout_secs: u32,
}

/// Hang up an agent leg that is no longer wanted, whatever its state (ringing or answered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelOffer {
    /// The offer.
    pub offer_id: OfferId,
    /// The agent.
    pub agent: String,
    /// The agent leg's uuid.
    pub agent_uuid: String,
    /// ORIGINATOR_CANCEL (caller gone, agent logged off) or LOSE_RACE (another agent won).
    pub cause: String,
}

/// Bridge the caller to the agent leg that answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    /// The answered offer.
    pub offer_id: OfferId,
    /// The queue.
    pub queue: String,
    /// The caller's member uuid.
    pub member_uuid: String,
    /// The caller's channel.
    pub member_session_uuid: String,
    /// The agent.
    pub agent: String,
    /// The agent leg.
    pub agent_uuid: String,
    /// Record the call to this template, if the queue records.
    pub record_template: Option<String>,
}

/// Play the periodic announcement to a waiting caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    /// The queue.
    pub queue: String,
    /// The caller.
    pub member_uuid: String,
    /// The caller's channel.
    pub session_uuid: String,
    /// The queue's announce_sound, if any.
    pub sound: Option<String>,
    /// 1-based place in the queue (if announce_position).
    pub position: Option<u32>,
    /// Estimated seconds until answered (if announce_position and an agent is logged in).
    pub estimated_wait_secs: Option<u64>,
}

/// Take a caller out of the queue to a destination (or back to the dialplan if none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The queue.
    pub queue: String,
    /// The caller.
    pub member_uuid: String,
    /// The caller's channel.
    pub session_uuid: String,
    /// Where to send the call (host-defined form, e.g. `5000 XML default`); none: the
    /// application returns and the dialplan continues.
    pub destination: Option<String>,
    /// Why.
    pub reason: ExitReason,
}

/// Call a virtual-hold customer back: their turn has come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackCall {
    /// The queue.
    pub queue: String,
    /// The member (report with `handle_callback_result`).
    pub member_uuid: String,
    /// The number to call.
    pub number: String,
    /// Caller id name of the original call.
    pub cid_name: String,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// Play music on hold (or ringback if no sound) to a caller who waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The queue.
    pub queue: String,
    /// The caller.
    pub member_uuid: String,
    /// The caller's channel.
    pub session_uuid: String,
    /// The queue's moh_sound; none: ringback.
    pub sound: Option<String>,
}

/// A CUSTOM `callcenter::info` event: FreeSWITCH's headers, in its order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Header names and values (`CC-Action`, `CC-Queue`, ...).
    pub headers: Vec<(String, String)>,
}

impl Event {
    /// The event subclass.
    pub const SUBCLASS: &'static str = "callcenter::info";

    pub(crate) fn new() -> Event {
        Event {
            headers: Vec::with_capacity(12),
        }
    }

    pub(crate) fn h(mut self, name: &str, value: impl ToString) -> Event {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The `CC-Action` header.
    pub fn action(&self) -> &str {
        self.header("CC-Action").unwrap_or("")
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A change the store must keep (see [`crate::store::Store::apply`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PersistOp {
    /// Insert or replace an agent (configuration, status and counters).
    SaveAgent(Agent),
    /// Delete an agent (a tombstone, so the file does not bring it back).
    DeleteAgent(String),
    /// Insert or replace a tier.
    SaveTier(Tier),
    /// Delete a tier (tombstone).
    DeleteTier {
        /// The queue.
        queue: String,
        /// The agent.
        agent: String,
    },
    /// A queue's configuration changed at run time (an override of the file).
    SaveQueue(QueueConfig),
    /// A queue was deleted at run time (tombstone).
    DeleteQueue(String),
    /// A queue is back to its file configuration: forget its override or tombstone.
    ResetQueue(String),
    /// A waiting callback (virtual hold) to keep across restarts.
    SaveCallback(CallbackRecord),
    /// The callback is done (answered, failed or canceled).
    DeleteCallback(String),
    /// One finished queue call, for `cc_calls`.
    RecordCall(CallRecord),
}

/// What the engine asks of the host. Drain with `Engine::poll_action` after every input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Play hold music to a caller (on join, and when it returns to waiting).
    Hold(Hold),
    /// Ring an agent.
    Offer(Offer),
    /// Hang up an agent leg at once.
    CancelOffer(CancelOffer),
    /// Bridge caller and agent.
    Bridge(Bridge),
    /// Play the periodic announcement.
    Announce(Announce),
    /// Take the caller out of the queue.
    Exit(Exit),
    /// Originate a callback to a virtual-hold customer.
    Callback(CallbackCall),
    /// Fire a CUSTOM callcenter::info event.
    Event(Event),
    /// Write to the store.
    Persist(PersistOp),
}
