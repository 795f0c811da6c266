//! The ACD's data model: queues, agents, tiers, members and their named values.

pub mod agent;
pub mod member;
pub mod names;
pub mod queue;
pub mod skills;
pub mod tier;

pub use agent::{Agent, AgentConfig};
pub use member::{Callback, CallbackState, Member, MemberJoin};
pub use names::{
    parse_bool, AgentState, AgentStatus, AgentType, CancelReason, MemberState, Strategy, TierState,
    TimeBaseScore, UnknownName,
};
pub use queue::{QueueConfig, SetError, QUEUE_KEYS};
pub use skills::{BadSkills, Skills};
pub use tier::Tier;
