//! Members: the callers waiting in a queue (FreeSWITCH's name), and what a host passes when
//! a call enters a queue.

use serde::{Deserialize, Serialize};

use super::names::MemberState;
use super::skills::Skills;
use crate::action::{ExitReason, OfferId};
use crate::stats::CallRecord;
use crate::time::Timestamp;

/// A call entering a queue (the `callcenter <queue>` application's input).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberJoin {
    /// The member's id (cc_member_uuid); the host may use the channel uuid.
    pub uuid: String,
    /// The caller's live channel (cc_member_session_uuid).
    pub session_uuid: String,
    /// Caller id number (also the default callback number and the resume key).
    pub cid_number: String,
    /// Caller id name.
    pub cid_name: String,
    /// Priority steps above normal (e.g. 1 for VIP): each is worth the queue's
    /// priority_weight seconds of waiting.
    pub priority: u32,
    /// Extra score points (FreeSWITCH's cc_base_score).
    pub base_score: i64,
    /// Skills the answering agent must have, with minimum levels.
    pub skills: Skills,
    /// When the call entered the switch, for queues whose time_base_score is `system`.
    pub system_epoch: Option<Timestamp>,
    /// Where to call back if the caller asks for a callback (default: the caller id number).
    pub callback_number: Option<String>,
}

impl MemberJoin {
    /// A caller whose member uuid and channel uuid are both `uuid`.
    pub fn new(uuid: &str) -> MemberJoin {
        MemberJoin {
            uuid: uuid.to_string(),
            session_uuid: uuid.to_string(),
            cid_number: String::new(),
            cid_name: String::new(),
            priority: 0,
            base_score: 0,
            skills: Skills::new(),
            system_epoch: None,
            callback_number: None,
        }
    }

    /// Sets the caller id.
    pub fn caller(mut self, number: &str, name: &str) -> MemberJoin {
        self.cid_number = number.to_string();
        self.cid_name = name.to_string();
        self
    }

    /// Sets the priority (0 normal, higher first).
    pub fn priority(mut self, priority: u32) -> MemberJoin {
        self.priority = priority;
        self
    }

    /// Sets the required skills.
    pub fn skills(mut self, skills: Skills) -> MemberJoin {
        self.skills = skills;
        self
    }

    /// Sets the base score.
    pub fn base_score(mut self, score: i64) -> MemberJoin {
        self.base_score = score;
        self
    }
}

/// Where a virtual-hold callback stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackState {
    /// Off the line, keeping its place until its turn comes.
    Pending,
    /// Its turn came: the host is calling the customer back.
    Dialing,
    /// An attempt failed; the next one is not before this time.
    RetryAt(Timestamp),
    /// The customer answered the callback and waits for an agent on the new call.
    Connected,
}

/// A member that asked to be called back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// The number to call.
    pub number: String,
    /// When the caller asked.
    pub requested: Timestamp,
    /// Attempts made so far.
    pub attempts: u32,
    /// Where it stands.
    pub state: CallbackState,
}

/// The agent leg a member is bridged to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Leg {
    pub agent: String,
    pub agent_uuid: String,
    pub called: Timestamp,
    pub answered: Timestamp,
}

/// A caller in a queue, as the engine keeps it. Read with `Engine::member`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's id.
    pub uuid: String,
    /// The caller's live channel; none while waiting for a callback.
    pub session_uuid: Option<String>,
    /// The queue.
    pub queue: String,
    /// Caller id number.
    pub cid_number: String,
    /// Caller id name.
    pub cid_name: String,
    /// When the call entered the switch (FreeSWITCH's system_epoch).
    pub system_epoch: Timestamp,
    /// When the caller joined the queue (kept by a resume or a callback).
    pub joined: Timestamp,
    /// When the caller resumed its place after an abandon (zero: never).
    pub rejoined: Timestamp,
    /// When the caller was bridged to an agent (zero: not yet).
    pub bridged: Timestamp,
    /// When the caller abandoned (zero: not).
    pub abandoned: Timestamp,
    /// Priority steps.
    pub priority: u32,
    /// Base score points.
    pub base_score: i64,
    /// Required skills.
    pub skills: Skills,
    /// Waiting, Trying, Answered or Abandoned.
    pub state: MemberState,
    /// The agent bridged to (or last being offered the call).
    pub serving_agent: Option<String>,
    /// Virtual hold, if the caller asked for a callback.
    pub callback: Option<Callback>,
    pub(crate) callback_number: Option<String>,
    pub(crate) offers: Vec<OfferId>,
    pub(crate) order: (i64, u64),
    pub(crate) last_tier: Option<(u32, u32)>,
    pub(crate) last_ring: Timestamp,
    pub(crate) exit_pending: Option<ExitReason>,
    pub(crate) record: CallRecord,
    pub(crate) leg: Option<Leg>,
}

impl Member {
    /// Whether the caller is on the line (not waiting offline for a callback).
    pub fn is_live(&self) -> bool {
        self.session_uuid.is_some()
    }

    /// Whether the caller is still waiting for an agent (Waiting or Trying).
    pub fn is_waiting(&self) -> bool {
        matches!(self.state, MemberState::Waiting | MemberState::Trying)
    }

    /// Agents currently being offered this caller.
    pub fn offers(&self) -> &[OfferId] {
        &self.offers
    }
}
