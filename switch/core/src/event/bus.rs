//! The one event bus of a switch: `fire` never blocks; each subscriber has a bounded queue.
//!
//! When a subscriber's queue is full the event is dropped for that subscriber only and its
//! drop counter grows. The next time an event fits, a `TRAP` event with `info: lost N events`
//! (and `Lost-Events: N`) goes first, so the subscriber learns what it missed, as
//! FreeSWITCH's event socket does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use tokio::sync::mpsc;

use super::{Event, Interest};

/// Queue length of a subscriber unless it asks for another.
pub const DEFAULT_QUEUE: usize = 10_000;

/// Who fires the events: the headers every event carries.
#[derive(Clone, Debug)]
pub struct Identity {
    /// `Core-UUID`: new at every start.
    pub core_uuid: String,
    /// `FreeSWITCH-Hostname`.
    pub hostname: String,
    /// `FreeSWITCH-Switchname`.
    pub switchname: String,
    /// `FreeSWITCH-IPv4`.
    pub ipv4: String,
    /// `FreeSWITCH-IPv6`.
    pub ipv6: String,
}

impl Identity {
    /// A fresh Core-UUID, the machine's host name and the given addresses.
    pub fn new(ipv4: &str, ipv6: &str) -> Identity {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        Identity {
            core_uuid: crate::call::new_uuid(),
            switchname: hostname.clone(),
            hostname,
            ipv4: ipv4.to_string(),
            ipv6: ipv6.to_string(),
        }
    }
}

/// Counters of the bus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Live subscribers.
    pub subscribers: usize,
    /// Events fired since start.
    pub fired: u64,
    /// Deliveries dropped because a subscriber's queue was full.
    pub dropped: u64,
}

/// A cheap handle to the bus.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    identity: Identity,
    seq: AtomicU64,
    next_id: AtomicU64,
    fired: AtomicU64,
    dropped: AtomicU64,
    subs: RwLock<Vec<Arc<Shared>>>,
}

struct Shared {
    id: u64,
    label: String,
    interest: RwLock<Interest>,
    tx: mpsc::Sender<Arc<Event>>,
    /// Drops not yet reported to the subscriber.
    pending: AtomicU64,
    total: AtomicU64,
}

/// One subscriber's end: events come out of [`Subscription::recv`]; dropping it
/// unsubscribes.
pub struct Subscription {
    rx: mpsc::Receiver<Arc<Event>>,
    shared: Arc<Shared>,
    bus: Weak<Inner>,
}

impl EventBus {
    /// A bus whose events carry `identity`.
    pub fn new(identity: Identity) -> EventBus {
        EventBus {
            inner: Arc::new(Inner {
                identity,
                seq: AtomicU64::new(0),
                next_id: AtomicU64::new(1),
                fired: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                subs: RwLock::new(Vec::new()),
            }),
        }
    }

    /// The identity stamped on events.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// A new subscriber with `interest` and a queue of `queue` events (at least 1).
    /// `label` names it in logs (e.g. `esl 127.0.0.1:40112`).
    pub fn subscribe(&self, label: &str, interest: Interest, queue: usize) -> Subscription {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let shared = Arc::new(Shared {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            label: label.to_string(),
            interest: RwLock::new(interest),
            tx,
            pending: AtomicU64::new(0),
            total: AtomicU64::new(0),
        });
        self.inner
            .subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(shared.clone());
        Subscription {
            rx,
            shared,
            bus: Arc::downgrade(&self.inner),
        }
    }

    /// Whether some subscriber may want events named `name` (before its filters): callers
    /// skip building events no one subscribed to by name, e.g. every CHANNEL_* event of a
    /// call when the only subscriber is a module listening for CHANNEL_HANGUP.
    pub fn wants(&self, name: &str) -> bool {
        let subs = self.inner.subs.read().unwrap_or_else(|e| e.into_inner());
        subs.iter()
            .any(|s| s.interest.read().map(|i| i.may_want(name)).unwrap_or(false))
    }

    /// Stamps the standard headers and the next `Event-Sequence` on `event` and queues it
    /// for every interested subscriber. Never waits.
    pub fn fire(&self, mut event: Event) {
        let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
        event.prepare(&self.inner.identity, seq);
        self.inner.fired.fetch_add(1, Ordering::Relaxed);
        let event = Arc::new(event);
        let subs = self.inner.subs.read().unwrap_or_else(|e| e.into_inner());
        for s in subs.iter() {
            let wanted = s
                .interest
                .read()
                .map(|i| i.matches(&event))
                .unwrap_or(false);
            if wanted {
                self.deliver(s, event.clone());
            }
        }
    }

    fn deliver(&self, s: &Shared, event: Arc<Event>) {
        let pending = s.pending.load(Ordering::Relaxed);
        if pending > 0 {
            let mut notice = Event::new("TRAP")
                .with("info", format!("lost {pending} events"))
                .with("Lost-Events", pending.to_string());
            let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
            notice.prepare(&self.inner.identity, seq);
            if s.tx.try_send(Arc::new(notice)).is_ok() {
                s.pending.fetch_sub(pending, Ordering::Relaxed);
                tracing::warn!(subscriber = %s.label, lost = pending, "event subscriber caught up after losing events");
            }
        }
        match s.tx.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if s.pending.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(subscriber = %s.label, "event queue full: dropping events for this subscriber");
                }
                s.total.fetch_add(1, Ordering::Relaxed);
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // Its Subscription is being dropped and unsubscribes itself.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Counters.
    pub fn stats(&self) -> BusStats {
        BusStats {
            subscribers: self.inner.subs.read().map(|s| s.len()).unwrap_or(0),
            fired: self.inner.fired.load(Ordering::Relaxed),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
        }
    }
}

/// A handle that changes a subscription's interest from elsewhere (while its owner waits
/// in [`Subscription::recv`]).
#[derive(Clone)]
pub struct InterestHandle {
    shared: Arc<Shared>,
}

impl InterestHandle {
    /// Changes what the subscriber receives; returns what `f` returns.
    pub fn update<R>(&self, f: impl FnOnce(&mut Interest) -> R) -> R {
        let mut i = self
            .shared
            .interest
            .write()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut i)
    }
}

impl Subscription {
    /// A handle to change this subscription's interest.
    pub fn interest_handle(&self) -> InterestHandle {
        InterestHandle {
            shared: self.shared.clone(),
        }
    }

    /// The next event; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Arc<Event>> {
        self.rx.try_recv().ok()
    }

    /// Changes what this subscriber receives; returns what `f` returns.
    pub fn update<R>(&self, f: impl FnOnce(&mut Interest) -> R) -> R {
        let mut i = self
            .shared
            .interest
            .write()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut i)
    }

    /// A copy of the current interest.
    pub fn interest(&self) -> Interest {
        self.shared
            .interest
            .read()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    /// Throws away what is queued (`noevents`).
    pub fn drain(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Events dropped for this subscriber since it subscribed.
    pub fn dropped(&self) -> u64 {
        self.shared.total.load(Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(bus) = self.bus.upgrade() {
            let mut subs = bus.subs.write().unwrap_or_else(|e| e.into_inner());
            subs.retain(|s| s.id != self.shared.id);
        }
    }
}
