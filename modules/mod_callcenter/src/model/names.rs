//! The named values users type and read: strategies, agent statuses and states, tier and
//! member states, agent types. Each prints and parses (case-insensitively) with
//! FreeSWITCH's mod_callcenter spelling, so `callcenter_config` scripts keep working.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name that is not one of the accepted values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being parsed ("strategy", "agent status", ...).
    pub kind: &'static str,
    /// The text given.
    pub value: String,
    /// The accepted names, comma-separated.
    pub expected: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} '{}' (expected one of: {})",
            self.kind, self.value, self.expected
        )
    }
}

impl std::error::Error for UnknownName {}

macro_rules! named {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $var:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $var ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The name as FreeSWITCH spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$var => $text ),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<$name, UnknownName> {
                let t = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(t))
                    .ok_or_else(|| UnknownName {
                        kind: $kind,
                        value: s.to_string(),
                        expected: $name::ALL
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named! {
    /// How a queue picks the agent(s) to offer a caller to.
    Strategy, "strategy" {
        /// Ring every available agent at once; the first to answer wins.
        RingAll => "ring-all",
        /// The agent whose last queue call ended longest ago.
        LongestIdleAgent => "longest-idle-agent",
        /// The next agent after the one last offered a call of this queue, by tier position.
        RoundRobin => "round-robin",
        /// From the top of the tiers, each caller going down from the last agent it tried.
        TopDown => "top-down",
        /// The agent with the least talk time since logging in.
        AgentWithLeastTalkTime => "agent-with-least-talk-time",
        /// The agent who answered the fewest calls since logging in.
        AgentWithFewestCalls => "agent-with-fewest-calls",
        /// Always from the top of the tiers (level, position).
        SequentiallyByAgentOrder => "sequentially-by-agent-order",
        /// Any available agent of the lowest open level, at random.
        Random => "random",
        /// One more agent every ring_progressively_delay, earlier ones still ringing.
        RingProgressively => "ring-progressively",
        /// The agent whose skills best match the caller's required skills, ties by longest idle.
        SkillsBased => "skills-based",
    }
}

named! {
    /// An agent's personal status, set by the agent or a supervisor.
    AgentStatus, "agent status" {
        /// Not working: never offered calls.
        LoggedOut => "Logged Out",
        /// Ready for calls; back to Waiting after each call.
        Available => "Available",
        /// Ready for one call; Idle after it until set to Waiting again.
        AvailableOnDemand => "Available (On Demand)",
        /// Logged in but not taking calls (with an optional reason code).
        OnBreak => "On Break",
    }
}

impl AgentStatus {
    /// Any status but Logged Out.
    pub fn is_logged_in(self) -> bool {
        self != AgentStatus::LoggedOut
    }
}

named! {
    /// What an agent is doing, maintained by the engine.
    AgentState, "agent state" {
        /// Not waiting for calls (after an on-demand call, or set by hand).
        Idle => "Idle",
        /// Ready to be offered a call (after any wrap-up time).
        Waiting => "Waiting",
        /// Being offered a call (its phone rings).
        Receiving => "Receiving",
        /// Talking to a queue caller.
        InAQueueCall => "In a queue call",
    }
}

named! {
    /// An agent's state in one queue's tier.
    TierState, "tier state" {
        /// The agent did not answer this queue's last offer (still offered again).
        NoAnswer => "No Answer",
        /// Can be offered this queue's calls.
        Ready => "Ready",
        /// Being offered a call from this queue.
        Offering => "Offering",
        /// In a call from this queue.
        ActiveInbound => "Active Inbound",
        /// Busy with another queue's call (or parked by hand): not offered.
        Standby => "Standby",
    }
}

named! {
    /// A waiting caller's state.
    MemberState, "member state" {
        /// In the queue, no agent being tried.
        Waiting => "Waiting",
        /// One or more agents are being offered the call.
        Trying => "Trying",
        /// Bridged to an agent.
        Answered => "Answered",
        /// Left before being answered (kept while it may resume its place).
        Abandoned => "Abandoned",
    }
}

named! {
    /// How an agent is reached.
    AgentType, "agent type" {
        /// Called at its contact (dial string) for each offer.
        Callback => "callback",
        /// Already on a parked call (its uuid); bridged to directly.
        UuidStandby => "uuid-standby",
    }
}

named! {
    /// Whether a caller's score counts time spent before this queue (`system`) or only in it.
    TimeBaseScore, "time-base-score" {
        /// Only the time in this queue counts.
        Queue => "queue",
        /// The whole call's age counts (from when the channel was created).
        System => "system",
    }
}

named! {
    /// Why a caller left the queue, as the `CC-Cancel-Reason` of `member-queue-end`, plus
    /// what FreeSWITCH lacks (callback outcomes, a queue removed under the caller).
    CancelReason, "cancel reason" {
        /// Answered by an agent (no cancel).
        None => "NONE",
        /// max_wait_time reached.
        Timeout => "TIMEOUT",
        /// No agent logged in for max_wait_time_with_no_agent.
        NoAgentTimeout => "NO_AGENT_TIMEOUT",
        /// The caller hung up, or the host took the call away.
        BreakOut => "BREAK_OUT",
        /// The caller pressed an exit key.
        ExitWithKey => "EXIT_WITH_KEY",
        /// Every callback attempt failed.
        CallbackFailed => "CALLBACK_FAILED",
        /// The queue was unloaded or deleted.
        QueueRemoved => "QUEUE_REMOVED",
    }
}

/// Parses a FreeSWITCH-style boolean: true/false, yes/no, on/off, 1/0.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "enabled" => Some(true),
        "false" | "no" | "off" | "0" | "disabled" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for s in Strategy::ALL {
            assert_eq!(s.as_str().parse::<Strategy>(), Ok(*s));
        }
        assert_eq!("on break".parse(), Ok(AgentStatus::OnBreak));
        assert_eq!(
            "available (on demand)".parse(),
            Ok(AgentStatus::AvailableOnDemand)
        );
        assert_eq!("in a queue call".parse(), Ok(AgentState::InAQueueCall));
        assert_eq!("Callback".parse(), Ok(AgentType::Callback));
        let e = "lunch".parse::<AgentStatus>().unwrap_err();
        assert!(e.to_string().contains("Logged Out, Available"));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
