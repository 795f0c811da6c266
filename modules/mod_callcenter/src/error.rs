//! The crate's errors, sorted by fault: the caller's input first (unknown names, bad
//! values), then the store.

use crate::action::OfferId;

/// An engine, command or store error. Each names what and where.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- input: names that do not exist or already exist ---
    /// No queue of that name.
    #[error("Queue not found: {0}")]
    UnknownQueue(String),
    /// No agent of that name.
    #[error("Agent not found: {0}")]
    UnknownAgent(String),
    /// No tier for that queue and agent.
    #[error("Tier not found: queue {queue}, agent {agent}")]
    UnknownTier {
        /// The queue.
        queue: String,
        /// The agent.
        agent: String,
    },
    /// No member with that uuid.
    #[error("Member not found: {0}")]
    UnknownMember(String),
    /// No pending offer with that id (already resolved or canceled).
    #[error("Offer not found: {0}")]
    UnknownOffer(OfferId),
    /// A queue of that name exists.
    #[error("Queue already exist: {0}")]
    QueueExists(String),
    /// An agent of that name exists.
    #[error("Agent already exist: {0}")]
    AgentExists(String),
    /// The agent already has a tier in that queue.
    #[error("Tier already exist: queue {queue}, agent {agent}")]
    TierExists {
        /// The queue.
        queue: String,
        /// The agent.
        agent: String,
    },
    /// A member with that uuid is already in a queue.
    #[error("Member already in queue {queue}: {uuid}")]
    MemberExists {
        /// The member.
        uuid: String,
        /// Its queue.
        queue: String,
    },

    // --- input: bad values ---
    /// A key that the target does not have.
    #[error("Invalid {target} key: {key}")]
    InvalidKey {
        /// "Agent", "Tier" or "Queue".
        target: &'static str,
        /// The key given.
        key: String,
    },
    /// A value that does not fit its key.
    #[error("Invalid {key}: '{value}' (expected {expected})")]
    InvalidValue {
        /// The key or argument.
        key: String,
        /// The value given.
        value: String,
        /// What fits.
        expected: String,
    },
    /// The operation does not apply in the current state (e.g. a callback in a queue that
    /// does not allow them).
    #[error("{0}")]
    NotAllowed(String),

    // --- the store ---
    /// SQLite failed.
    #[error("store: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Store(e.to_string())
    }
}

impl Error {
    pub(crate) fn value(key: &str, value: &str, expected: impl Into<String>) -> Error {
        Error::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
