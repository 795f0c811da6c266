//! The timer table: every armed timer of every transaction in one binary heap.
//!
//! Disarming is lazy: a transaction keeps, per timer, the sequence number of the entry it
//! armed last ([`Slots`]); a popped entry whose number is not the one its transaction holds
//! (or whose transaction is gone) is simply dropped. Arming costs one heap entry, nothing else.

use super::TxId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// The RFC 3261 section 17 and RFC 6026 transaction timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// A: client INVITE retransmits its request (UDP only), T1 then doubling.
    A,
    /// B: client INVITE gives up waiting for a response in Calling, 64*T1.
    B,
    /// D: client INVITE absorbs retransmitted non-2xx finals in Completed, 32 s UDP / 0 TCP.
    D,
    /// E: client non-INVITE retransmits its request (UDP only), T1 doubling up to T2.
    E,
    /// F: client non-INVITE gives up waiting for a final response, 64*T1.
    F,
    /// G: server INVITE retransmits its final response, T1 doubling up to T2 (non-2xx: UDP only).
    G,
    /// H: server INVITE gives up waiting for the ACK of its non-2xx, 64*T1.
    H,
    /// I: server INVITE absorbs ACK retransmissions in Confirmed, T4 UDP / 0 TCP.
    I,
    /// J: server non-INVITE absorbs request retransmissions in Completed, 64*T1 UDP / 0 TCP.
    J,
    /// K: client non-INVITE absorbs response retransmissions in Completed, T4 UDP / 0 TCP.
    K,
    /// L: server INVITE leaves Accepted (RFC 6026), 64*T1; NoAck if no ACK came.
    L,
    /// M: client INVITE leaves Accepted (RFC 6026), 64*T1.
    M,
}

impl Timer {
    const COUNT: usize = 12;

    fn slot(self) -> usize {
        self as usize
    }
}

/// Per transaction: the sequence number of each armed timer's live entry, 0 when disarmed.
#[derive(Clone, Debug, Default)]
pub(super) struct Slots([u64; Timer::COUNT]);

impl Slots {
    /// The live entry's sequence number, 0 when the timer is not armed.
    pub fn seq(&self, timer: Timer) -> u64 {
        self.0[timer.slot()]
    }

    /// Forgets a timer; its heap entry becomes stale.
    pub fn disarm(&mut self, timer: Timer) {
        self.0[timer.slot()] = 0;
    }

    /// True when the timer is armed.
    #[cfg(test)]
    pub fn armed(&self, timer: Timer) -> bool {
        self.seq(timer) != 0
    }
}

/// One armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub at: Instant,
    pub seq: u64,
    pub tx: TxId,
    pub timer: Timer,
}

/// Every transaction's timers, earliest first.
#[derive(Debug)]
pub(super) struct TimerTable {
    heap: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
}

impl Default for TimerTable {
    fn default() -> Self {
        TimerTable {
            heap: BinaryHeap::new(),
            next_seq: 1,
        }
    }
}

impl TimerTable {
    /// Arms (or re-arms) `timer` of `tx` for `at`; `None` (an instant past the clock's
    /// range) leaves it disarmed, so it never fires.
    pub fn arm(&mut self, slots: &mut Slots, tx: TxId, timer: Timer, at: Option<Instant>) {
        let Some(at) = at else {
            slots.disarm(timer);
            return;
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        slots.0[timer.slot()] = seq;
        self.heap.push(Reverse(Entry { at, seq, tx, timer }));
    }

    /// The sequence number the next armed timer will get: entries from before a call have
    /// lower numbers, which lets `handle_timeout` leave timers it arms itself for later.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Puts back an entry taken by [`TimerTable::pop_due`].
    pub fn restore(&mut self, entry: Entry) {
        self.heap.push(Reverse(entry));
    }

    /// The earliest entry's deadline (exact once [`TimerTable::prune`] has run).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Drops stale entries from the top so that the top is live, and rebuilds the heap
    /// when stale entries outnumber live ones by far (transactions that ended early leave
    /// their Timer B/F/H entries behind). `live_txs` bounds the live entries: at most three
    /// timers are armed per transaction.
    pub fn prune(&mut self, live_txs: usize, is_live: impl Fn(&Entry) -> bool) {
        if self.heap.len() > 1024 && self.heap.len() > 8 * live_txs {
            self.heap.retain(|Reverse(e)| is_live(e));
        }
        while let Some(Reverse(e)) = self.heap.peek() {
            if is_live(e) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Heap entries, stale ones included (for tests of the compaction).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_pop_in_deadline_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        let mut slots = Slots::default();
        table.arm(
            &mut slots,
            TxId(1),
            Timer::B,
            Some(t0 + Duration::from_secs(32)),
        );
        table.arm(
            &mut slots,
            TxId(1),
            Timer::A,
            Some(t0 + Duration::from_millis(500)),
        );
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_millis(500)));
        assert!(table.pop_due(t0).is_none());
        let e = table.pop_due(t0 + Duration::from_secs(40)).unwrap();
        assert_eq!(e.timer, Timer::A);
        assert_eq!(
            table.pop_due(t0 + Duration::from_secs(40)).unwrap().timer,
            Timer::B
        );
    }

    #[test]
    fn rearming_makes_the_old_entry_stale() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        let mut slots = Slots::default();
        table.arm(
            &mut slots,
            TxId(1),
            Timer::E,
            Some(t0 + Duration::from_millis(500)),
        );
        table.arm(
            &mut slots,
            TxId(1),
            Timer::E,
            Some(t0 + Duration::from_secs(1)),
        );
        table.prune(1, |e| slots.seq(e.timer) == e.seq);
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(1)));
        slots.disarm(Timer::E);
        table.prune(1, |e| slots.seq(e.timer) == e.seq);
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn an_unrepresentable_deadline_leaves_the_timer_disarmed() {
        let mut table = TimerTable::default();
        let mut slots = Slots::default();
        table.arm(&mut slots, TxId(1), Timer::F, None);
        assert!(!slots.armed(Timer::F));
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn many_stale_entries_are_compacted() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        let mut slots = Slots::default();
        for i in 0..5000u64 {
            table.arm(
                &mut slots,
                TxId(i),
                Timer::B,
                Some(t0 + Duration::from_secs(1)),
            );
        }
        // Only the last one is live.
        table.prune(1, |e| slots.seq(e.timer) == e.seq);
        assert_eq!(table.len(), 1);
    }
}
