//! Tiers: which agents serve which queue, at which level (lower first) and position.

use serde::{Deserialize, Serialize};

use super::names::TierState;

/// An agent's membership of a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The queue.
    pub queue: String,
    /// The agent.
    pub agent: String,
    /// Level: lower levels are tried first (and, with tier rules, before higher ones open).
    #[serde(default = "one")]
    pub level: u32,
    /// Position within the level: lower first for the order-based strategies.
    #[serde(default = "one")]
    pub position: u32,
    /// The agent's state in this queue.
    #[serde(default = "ready")]
    pub state: TierState,
}

fn one() -> u32 {
    1
}

fn ready() -> TierState {
    TierState::Ready
}

impl Tier {
    /// A Ready tier.
    pub fn new(queue: &str, agent: &str, level: u32, position: u32) -> Tier {
        Tier {
            queue: queue.to_string(),
            agent: agent.to_string(),
            level,
            position,
            state: TierState::Ready,
        }
    }

    /// Whether the agent may be offered this queue's calls by tier state (Ready or No Answer).
    pub fn accepts_offers(&self) -> bool {
        matches!(self.state, TierState::Ready | TierState::NoAnswer)
    }
}
