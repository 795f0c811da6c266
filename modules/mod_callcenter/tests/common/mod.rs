//! A fake-clock harness for behaviour tests: builds configs, feeds the engine and collects
//! its actions.
#![allow(dead_code)]

use mod_callcenter::{
    Action, AgentConfig, AgentStatus, Config, Engine, Event, Exit, MemberJoin, Offer, OfferId,
    OfferResult, QueueConfig, Strategy, Tier, Timestamp,
};

/// 2023-11-14T22:13:20Z: any fixed epoch will do.
pub const T0: u64 = 1_700_000_000;

pub struct Harness {
    pub engine: Engine,
    pub now: Timestamp,
    pub log: Vec<Action>,
    /// Every action ever emitted (never drained).
    pub all: Vec<Action>,
}

/// A queue with `strategy` and default settings.
pub fn queue(name: &str, strategy: Strategy) -> QueueConfig {
    let mut q = QueueConfig::new(name);
    q.strategy = strategy;
    q
}

/// An Available callback agent reached at user/NAME.
pub fn agent(name: &str) -> AgentConfig {
    let mut a = AgentConfig::new(name, &format!("user/{name}"));
    a.status = AgentStatus::Available;
    a
}

/// A config with one queue and agents `names` in tiers at level 1, positions 1.. in order.
pub fn one_queue(q: QueueConfig, names: &[&str]) -> Config {
    let mut c = Config::default();
    for (i, n) in names.iter().enumerate() {
        c.agents.insert(n.to_string(), agent(n));
        c.tiers.push(Tier::new(&q.name, n, 1, i as u32 + 1));
    }
    c.queues.insert(q.name.clone(), q);
    c.normalize();
    c
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        let now = Timestamp::from_secs(T0);
        Harness {
            engine: Engine::new(config, now).expect("valid config"),
            now,
            log: Vec::new(),
            all: Vec::new(),
        }
    }

    /// Seconds since T0.
    pub fn t(&self) -> u64 {
        self.now.as_secs() - T0
    }

    /// Moves the clock `secs` forward, firing timers on the way (each deadline in turn).
    pub fn wait(&mut self, secs: u64) {
        let end = self.now.plus_secs(secs);
        while let Some(at) = self.engine.poll_timeout() {
            if at > end {
                break;
            }
            self.now = at.max(self.now);
            self.engine.handle_timeout(self.now);
            self.collect();
        }
        self.now = end;
        self.engine.handle_timeout(end);
        self.collect();
    }

    /// Moves `ms` milliseconds forward.
    pub fn wait_ms(&mut self, ms: u64) {
        let end = self.now + std::time::Duration::from_millis(ms);
        while let Some(at) = self.engine.poll_timeout() {
            if at > end {
                break;
            }
            self.now = at.max(self.now);
            self.engine.handle_timeout(self.now);
            self.collect();
        }
        self.now = end;
        self.engine.handle_timeout(end);
        self.collect();
    }

    pub fn collect(&mut self) {
        while let Some(a) = self.engine.poll_action() {
            self.all.push(a.clone());
            self.log.push(a);
        }
    }

    /// Everything emitted since the last take.
    pub fn take(&mut self) -> Vec<Action> {
        self.collect();
        std::mem::take(&mut self.log)
    }

    pub fn join(&mut self, queue: &str, uuid: &str) {
        self.join_with(
            queue,
            MemberJoin::new(uuid).caller(&format!("5{uuid}"), uuid),
        );
    }

    pub fn join_with(&mut self, queue: &str, join: MemberJoin) {
        self.engine
            .handle_member_join(self.now, queue, join)
            .expect("join");
        self.collect();
    }

    /// Offers emitted since the last take (other actions are dropped).
    pub fn offers(&mut self) -> Vec<Offer> {
        self.take()
            .into_iter()
            .filter_map(|a| match a {
                Action::Offer(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    /// The single offer emitted since the last take.
    pub fn one_offer(&mut self) -> Offer {
        let mut v = self.offers();
        assert_eq!(v.len(), 1, "expected one offer, got {v:?}");
        v.remove(0)
    }

    pub fn result(&mut self, id: OfferId, r: OfferResult) {
        self.engine
            .handle_offer_result(self.now, id, r)
            .expect("offer result");
        self.collect();
    }

    /// Answers an offer and hangs up after `talk` seconds.
    pub fn answer_and_talk(&mut self, o: &Offer, talk: u64) {
        self.result(o.offer_id, OfferResult::Answered);
        self.wait(talk);
        self.engine
            .handle_agent_hangup(self.now, &o.agent)
            .expect("hangup");
        self.collect();
    }

    pub fn hangup_agent(&mut self, agent: &str) {
        self.engine
            .handle_agent_hangup(self.now, agent)
            .expect("hangup");
        self.collect();
    }

    pub fn status(&mut self, agent: &str, s: AgentStatus) {
        self.engine
            .set_agent_status(self.now, agent, s, None)
            .expect("status");
        self.collect();
    }

    pub fn cc(&mut self, line: &str) -> String {
        let out = mod_callcenter::execute(&mut self.engine, self.now, line);
        self.collect();
        out
    }
}

/// Applies every Persist action emitted since the last call (tracked by `done`).
pub fn persist_new(h: &mut Harness, store: &mut mod_callcenter::store::Store, done: &mut usize) {
    h.collect();
    for a in &h.all[*done..] {
        if let Action::Persist(op) = a {
            store.apply(op).expect("store");
        }
    }
    *done = h.all.len();
}

pub fn events(actions: &[Action]) -> Vec<&Event> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub fn exits(actions: &[Action]) -> Vec<&Exit> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Exit(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub fn has_event(actions: &[Action], action: &str) -> bool {
    events(actions).iter().any(|e| e.action() == action)
}
