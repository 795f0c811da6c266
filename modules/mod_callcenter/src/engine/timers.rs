//! The engine's timers: a closed set, in a table whose minimum is the next deadline.
//!
//! A timer is a wake-up, never the only record of a fact: when one fires, its handler
//! re-checks the condition (a caller still waiting, an agent still in wrap-up) and does
//! nothing if the world moved on. So setting a timer again just moves it, and a stale one is
//! harmless.

use std::collections::{BTreeSet, HashMap};

use crate::action::OfferId;
use crate::time::Timestamp;

/// Every kind of deadline the engine has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A caller reaches the queue's max_wait_time.
    MaxWait(String),
    /// A caller may reach max_wait_time_with_no_agent (queue without agents).
    NoAgent(String),
    /// A caller's next periodic announcement.
    Announce(String),
    /// A higher tier level opens for a caller (tier rules).
    TierOpen(String),
    /// ring-progressively may add the next agent for a caller.
    RingNext(String),
    /// A failed callback may be tried again.
    CallbackRetry(String),
    /// An abandoned caller's place is discarded (discard_abandoned_after).
    Discard(String),
    /// An agent's wrap-up or reject/busy/no-answer delay ends.
    AgentReady(String),
    /// An offer the host never resolved: treat as not answered.
    OfferGuard(OfferId),
}

/// The timer table.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    by_time: BTreeSet<(Timestamp, Timer)>,
    at: HashMap<Timer, Timestamp>,
}

impl Timers {
    /// Sets (or moves) `timer` to `at`.
    pub fn set(&mut self, timer: Timer, at: Timestamp) {
        if let Some(old) = self.at.insert(timer.clone(), at) {
            self.by_time.remove(&(old, timer.clone()));
        }
        self.by_time.insert((at, timer));
    }

    /// Cancels `timer` if set.
    pub fn cancel(&mut self, timer: &Timer) {
        if let Some(old) = self.at.remove(timer) {
            self.by_time.remove(&(old, timer.clone()));
        }
    }

    /// Cancels every timer of a member.
    pub fn cancel_member(&mut self, uuid: &str) {
        let u = uuid.to_string();
        for t in [
            Timer::MaxWait(u.clone()),
            Timer::NoAgent(u.clone()),
            Timer::Announce(u.clone()),
            Timer::TierOpen(u.clone()),
            Timer::RingNext(u.clone()),
            Timer::CallbackRetry(u.clone()),
            Timer::Discard(u),
        ] {
            self.cancel(&t);
        }
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Timestamp> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<Timer> {
        let (at, _) = self.by_time.first()?;
        if *at > now {
            return None;
        }
        let (_, timer) = self.by_time.pop_first()?;
        self.at.remove(&timer);
        Some(timer)
    }

    /// When `timer` is due, if set.
    #[cfg(test)]
    pub fn due(&self, timer: &Timer) -> Option<Timestamp> {
        self.at.get(timer).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_moves_and_pop_returns_in_order() {
        let mut t = Timers::default();
        let s = Timestamp::from_secs;
        t.set(Timer::MaxWait("a".into()), s(10));
        t.set(Timer::AgentReady("x".into()), s(5));
        t.set(Timer::MaxWait("a".into()), s(3));
        assert_eq!(t.due(&Timer::AgentReady("x".into())), Some(s(5)));
        assert_eq!(t.next(), Some(s(3)));
        assert_eq!(t.pop_due(s(4)), Some(Timer::MaxWait("a".into())));
        assert_eq!(t.pop_due(s(4)), None);
        t.cancel_member("a");
        assert_eq!(t.pop_due(s(9)), Some(Timer::AgentReady("x".into())));
        assert_eq!(t.next(), None);
    }
}
