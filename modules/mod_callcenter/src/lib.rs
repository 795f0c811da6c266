//! mod_callcenter: the ACD of ferroswitch, as a pure, sans-IO library.
//!
//! What it does: keeps queues, agents and tiers; puts waiting callers (members) in order by
//! a score that grows with waiting time plus a priority head start; picks agents with ten
//! strategies (FreeSWITCH's mod_callcenter's nine plus skills-based) under tier rules;
//! handles offers and their outcomes, wrap-up, reject/busy/no-answer delays and
//! max_no_answer, abandons, exit keys, max wait times, periodic announcements with position
//! and estimated wait, virtual-hold callbacks; fires FreeSWITCH's `callcenter::info` events;
//! answers `callcenter_config` commands in FreeSWITCH's syntax and output; keeps statistics
//! and predicts waits (and Erlang C for staffing).
//!
//! What it does not do: I/O. No sockets, no clock, no threads, no tokio. Time comes in as a
//! [`Timestamp`]; calls to place, bridges, prompts, events and store writes go out as
//! [`Action`]s. The SQLite [`store`] is a separate piece the host drives with the `Persist`
//! actions (and a snapshot at start-up).
//!
//! [`module`] is the switch's side: the engine driven through the module SDK (the
//! `callcenter` application, `callcenter_config`, events, agent legs and bridges).
//!
//! Drive loop: `handle_*(now, ..)` (or `handle_timeout(now)` at `poll_timeout()`), then
//! drain `poll_action()`; see [`engine`].

#![warn(missing_docs)]

pub mod action;
pub mod command;
pub mod config;
pub mod engine;
pub mod erlang;
pub mod error;
pub mod model;
pub mod module;
pub mod rng;
pub mod score;
pub mod stats;
pub mod store;
pub mod time;

pub use action::{
    Action, Announce, Bridge, CallbackCall, CallbackResult, CancelOffer, Event, Exit, ExitReason,
    Hold, LeaveReason, Offer, OfferId, OfferResult, PersistOp,
};
pub use command::execute;
pub use config::{Config, ConfigError, Settings};
pub use engine::{CallbackRecord, Engine, Snapshot};
pub use error::Error;
pub use model::{
    Agent, AgentConfig, AgentState, AgentStatus, AgentType, CancelReason, Member, MemberJoin,
    MemberState, QueueConfig, Skills, Strategy, Tier, TierState, TimeBaseScore,
};
pub use stats::{CallRecord, Outcome, QueueStats, WindowStats};
pub use time::Timestamp;
