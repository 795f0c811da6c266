//! The engine's host: feeds it inputs under one lock, performs the actions it asks for
//! (rings agents, bridges, interrupts hold music, places callbacks), keeps the store and
//! fires the events, and wakes it at its deadlines.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use switch_sdk::{Event as SwitchEvent, EventView, Host};

use crate::action::{
    Action, Announce, Bridge, CallbackCall, CallbackResult, CancelOffer, Exit, Offer, OfferResult,
    PersistOp,
};
use crate::engine::Engine;
use crate::model::AgentType;
use crate::store::Store;
use crate::time::Timestamp;

use super::mailbox::{Command, Mailbox};

/// Locks, shrugging off a poisoned lock (a panic elsewhere must not stop the ACD).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The wall clock as the engine takes it.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

/// An agent leg the module placed or bridged.
#[derive(Clone, Debug, Default)]
struct Leg {
    agent: String,
    /// The engine no longer wants it (CancelOffer): hang it up whatever happens.
    canceled: bool,
    /// Answered and being bridged (`ring` feeding the result, `bridge` joining it): a
    /// hangup now is reported after the bridge, as a failed bridge or an agent hangup.
    bridging: bool,
    /// Its CHANNEL_HANGUP came while `bridging`.
    hung_up: bool,
}

/// The module's state, shared by the application threads, the offer threads, the event
/// handler, the timer thread and the API command.
pub(crate) struct Cc {
    pub host: Host,
    engine: Mutex<Engine>,
    store: Mutex<Option<Store>>,
    store_path: Option<PathBuf>,
    /// Waiting callers (and answered callbacks) by member uuid.
    members: Mutex<HashMap<String, Arc<Mailbox>>>,
    /// Agent legs by uuid.
    legs: Mutex<HashMap<String, Leg>>,
    /// Callers' exported variables (`cc_export_vars`) by member uuid.
    exports: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// The next engine deadline, and the timer thread's wake-up.
    deadline: Mutex<Option<Timestamp>>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Cc {
    pub fn new(
        host: Host,
        engine: Engine,
        store: Option<Store>,
        store_path: Option<PathBuf>,
    ) -> Cc {
        let deadline = engine.poll_timeout();
        Cc {
            host,
            engine: Mutex::new(engine),
            store: Mutex::new(store),
            store_path,
            members: Mutex::default(),
            legs: Mutex::default(),
            exports: Mutex::default(),
            deadline: Mutex::new(deadline),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }

    /// Feeds the engine one input at the current time, then performs what it asks. Store
    /// writes and events happen under the lock, in the engine's order; calls the switch
    /// must place happen after it (they may take long, or feed the engine themselves).
    pub fn feed<R>(self: &Arc<Self>, f: impl FnOnce(&mut Engine, Timestamp) -> R) -> R {
        let mut later = Vec::new();
        let (r, deadline) = {
            let mut e = lock(&self.engine);
            let r = f(&mut e, now());
            let mut persist = Vec::new();
            while let Some(a) = e.poll_action() {
                match a {
                    Action::Persist(op) => persist.push(op),
                    Action::Event(ev) => {
                        self.store_ops(&mut persist);
                        self.fire(ev);
                    }
                    other => later.push(other),
                }
            }
            self.store_ops(&mut persist);
            (r, e.poll_timeout())
        };
        self.rearm(deadline);
        for a in later {
            self.perform(a);
        }
        r
    }

    /// Reads the engine without feeding it.
    pub fn read<R>(&self, f: impl FnOnce(&Engine) -> R) -> R {
        f(&lock(&self.engine))
    }

    fn store_ops(&self, ops: &mut Vec<PersistOp>) {
        if ops.is_empty() {
            return;
        }
        let mut s = lock(&self.store);
        if let Some(store) = s.as_mut() {
            if let Err(e) = store.apply_all(ops.iter()) {
                let at = self
                    .store_path
                    .as_ref()
                    .map_or_else(String::new, |p| format!(" ({})", p.display()));
                switch_sdk::error!("callcenter store{at}: {e}");
            }
        }
        ops.clear();
    }

    fn fire(&self, ev: crate::action::Event) {
        let extra = match (ev.action(), ev.header("CC-Member-UUID")) {
            ("agent-offering", Some(m)) => self.exported(m),
            _ => Vec::new(),
        };
        let mut out = SwitchEvent::custom(crate::action::Event::SUBCLASS);
        for (k, v) in ev.headers {
            out = out.with(&k, v);
        }
        for (k, v) in extra {
            out = out.with(&format!("variable_{k}"), v);
        }
        if let Err(e) = self.host.fire(&out) {
            switch_sdk::warn!("callcenter event: {e}");
        }
    }

    fn rearm(&self, deadline: Option<Timestamp>) {
        let mut d = lock(&self.deadline);
        if *d != deadline {
            *d = deadline;
            self.wake.notify_all();
        }
    }

    /// The timer thread: fires the engine's deadlines until the module stops.
    pub fn run_timers(self: &Arc<Self>) {
        let mut d = lock(&self.deadline);
        while !self.stop.load(Ordering::SeqCst) {
            let t = now();
            match *d {
                Some(at) if at <= t => {
                    drop(d);
                    self.feed(|e, now| e.handle_timeout(now));
                    d = lock(&self.deadline);
                    // The engine moved its deadline on; if not (nothing due after all), a
                    // short pause keeps this from spinning.
                    if d.is_some_and(|at| at <= now()) {
                        d = self
                            .wake
                            .wait_timeout(d, Duration::from_millis(20))
                            .map(|(g, _)| g)
                            .unwrap_or_else(|e| e.into_inner().0);
                    }
                }
                Some(at) => {
                    let ms = (at.as_millis() - t.as_millis()).min(1000);
                    d = self
                        .wake
                        .wait_timeout(d, Duration::from_millis(ms))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                None => {
                    d = self
                        .wake
                        .wait_timeout(d, Duration::from_millis(1000))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
    }

    /// Stops the timer thread.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _g = lock(&self.deadline);
        self.wake.notify_all();
    }

    // --- waiting callers ---------------------------------------------------------------

    /// The mailbox of a member, made on first use.
    pub fn mailbox(&self, member: &str) -> Arc<Mailbox> {
        lock(&self.members)
            .entry(member.to_string())
            .or_insert_with(|| Arc::new(Mailbox::default()))
            .clone()
    }

    /// Forgets a member's mailbox (its application ended).
    pub fn forget(&self, member: &str, mailbox: &Arc<Mailbox>) {
        let mut m = lock(&self.members);
        if m.get(member).is_some_and(|b| Arc::ptr_eq(b, mailbox)) {
            m.remove(member);
            lock(&self.exports).remove(member);
        }
    }

    fn existing_mailbox(&self, member: &str) -> Option<Arc<Mailbox>> {
        lock(&self.members).get(member).cloned()
    }

    /// Interrupts what a channel is playing (hold music) so its application reads its
    /// mailbox.
    fn interrupt(&self, session: &str) {
        if let Err(e) = self.host.api("uuid_break", session) {
            switch_sdk::debug!("uuid_break {session}: {e}");
        }
    }

    /// Keeps what a caller exports (its `cc_export_vars`, read by its application).
    pub fn set_exports(&self, member: &str, vars: Vec<(String, String)>) {
        if !vars.is_empty() {
            lock(&self.exports).insert(member.to_string(), vars);
        }
    }

    /// What the agent's leg and the agent-offering event carry for screen-pop.
    fn exported(&self, member: &str) -> Vec<(String, String)> {
        lock(&self.exports).get(member).cloned().unwrap_or_default()
    }

    // --- actions -----------------------------------------------------------------------

    fn perform(self: &Arc<Self>, a: Action) {
        match a {
            Action::Hold(h) => {
                if let Some(b) = self.existing_mailbox(&h.member_uuid) {
                    b.set_hold(h.sound);
                }
            }
            Action::Announce(a) => self.announce(a),
            Action::Exit(x) => self.exit(x),
            Action::Offer(o) => self.offer(o),
            Action::CancelOffer(c) => self.cancel(c),
            Action::Bridge(b) => self.bridge(b),
            Action::Callback(c) => self.callback(c),
            Action::Event(mut ev) => {
                let session = ev
                    .header("CC-Member-Session-UUID")
                    .unwrap_or("")
                    .to_string();
                for (k, v) in self.exported(&session) {
                    ev.headers.push((format!("variable_{k}"), v));
                }
                self.fire(ev);
            }
            Action::Persist(_) => {}
        }
    }

    fn announce(&self, a: Announce) {
        if let Some(b) = self.existing_mailbox(&a.member_uuid) {
            b.push(Command::Announce {
                sound: a.sound,
                position: a.position,
                wait_secs: a.estimated_wait_secs,
            });
            self.interrupt(&a.session_uuid);
        }
    }

    fn exit(&self, x: Exit) {
        match self.existing_mailbox(&x.member_uuid) {
            Some(b) => {
                b.push(Command::Exit {
                    destination: x.destination,
                    reason: x.reason,
                });
                self.interrupt(&x.session_uuid);
            }
            // A caller with no application of ours (an answered callback whose leg ended):
            // hang the channel up if it is still there.
            None if !x.session_uuid.is_empty() => {
                let _ = self.host.hangup(&x.session_uuid, "NORMAL_CLEARING");
            }
            None => {}
        }
    }

    fn offer(self: &Arc<Self>, o: Offer) {
        lock(&self.legs).insert(
            o.agent_uuid.clone(),
            Leg {
                agent: o.agent.clone(),
                ..Leg::default()
            },
        );
        if o.agent_type == AgentType::UuidStandby {
            // The agent waits on a parked call of its own: offering is checking it is there.
            let here = self.host.channel_exists(&o.agent_uuid);
            let r = if here {
                OfferResult::Answered
            } else {
                OfferResult::Unreachable
            };
            let id = o.offer_id;
            let cc = self.clone();
            let _ = self.host.post(move || {
                let _ = cc.feed(|e, now| e.handle_offer_result(now, id, r));
            });
            return;
        }
        let cc = self.clone();
        let name = format!("cc-offer-{}", o.offer_id);
        if let Err(e) = switch_sdk::spawn_thread(&name, move || cc.ring(o)) {
            switch_sdk::error!("callcenter: cannot start an offer thread: {e}");
        }
    }

    /// Rings an agent (blocks until it answers or fails) and reports the outcome.
    fn ring(self: &Arc<Self>, o: Offer) {
        let vars = [
            ("origination_uuid", o.agent_uuid.as_str()),
            ("originate_timeout", &o.timeout_secs.max(1).to_string()),
            ("origination_caller_id_name", o.cid_name.as_str()),
            ("origination_caller_id_number", o.cid_number.as_str()),
            ("cc_queue", o.queue.as_str()),
            ("cc_member_uuid", o.member_uuid.as_str()),
            ("cc_member_session_uuid", o.member_session_uuid.as_str()),
            ("cc_agent", o.agent.as_str()),
            ("cc_side", "agent"),
        ];
        let exported = self.exported(&o.member_uuid);
        let mut vars: Vec<(&str, &str)> = vars.to_vec();
        for (k, v) in &exported {
            if !k.starts_with("origination") && !vars.iter().any(|(n, _)| n == k) {
                vars.push((k, v));
            }
        }
        let dial = format!("{}{} &park", dial_vars(&vars), o.contact);
        let reply = self
            .host
            .api("originate", &dial)
            .unwrap_or_else(|e| format!("-ERR {e}"));
        let reply = reply.trim();
        let canceled = lock(&self.legs)
            .get(&o.agent_uuid)
            .is_some_and(|l| l.canceled);
        let result = match reply.strip_prefix("+OK") {
            Some(_) => OfferResult::Answered,
            None => offer_result(reply),
        };
        if canceled {
            if result == OfferResult::Answered {
                let _ = self
                    .host
                    .api("uuid_kill", &format!("{} LOSE_RACE", o.agent_uuid));
            }
            lock(&self.legs).remove(&o.agent_uuid);
            return;
        }
        if result != OfferResult::Answered {
            lock(&self.legs).remove(&o.agent_uuid);
            switch_sdk::info!(
                "callcenter: agent {} did not take the call of {} ({reply})",
                o.agent,
                o.member_uuid
            );
        }
        if result == OfferResult::Answered {
            if let Some(l) = lock(&self.legs).get_mut(&o.agent_uuid) {
                l.bridging = true;
            }
        }
        let id = o.offer_id;
        // An answered offer's Bridge is performed inside this feed.
        let taken = self.feed(|e, now| e.handle_offer_result(now, id, result));
        let hung_up = {
            let mut legs = lock(&self.legs);
            match legs.get_mut(&o.agent_uuid) {
                Some(l) if l.hung_up => legs.remove(&o.agent_uuid).is_some(),
                Some(l) => {
                    l.bridging = false;
                    false
                }
                None => false,
            }
        };
        if hung_up && taken.is_ok() {
            // The agent hung up while it was being bridged, and the bridge held.
            self.agent_gone(&o.agent_uuid, &o.agent);
            return;
        }
        if taken.is_err() && result == OfferResult::Answered {
            // The engine gave up on this offer meanwhile: the leg is not wanted.
            let _ = self
                .host
                .api("uuid_kill", &format!("{} LOSE_RACE", o.agent_uuid));
            lock(&self.legs).remove(&o.agent_uuid);
        }
    }

    fn cancel(&self, c: CancelOffer) {
        if let Some(l) = lock(&self.legs).get_mut(&c.agent_uuid) {
            l.canceled = true;
        }
        if let Err(e) = self
            .host
            .api("uuid_kill", &format!("{} {}", c.agent_uuid, c.cause))
        {
            switch_sdk::debug!("uuid_kill {}: {e}", c.agent_uuid);
        }
    }

    fn bridge(self: &Arc<Self>, b: Bridge) {
        let mailbox = self.existing_mailbox(&b.member_uuid);
        if let Some(m) = &mailbox {
            m.set_bridged(true);
        }
        for (k, v) in [
            ("cc_agent", b.agent.as_str()),
            ("cc_agent_uuid", b.agent_uuid.as_str()),
            ("cc_queue", b.queue.as_str()),
        ] {
            let _ = self
                .host
                .set_channel_variable(&b.member_session_uuid, k, Some(v));
        }
        let r = self.host.api(
            "uuid_bridge",
            &format!("{} {}", b.member_session_uuid, b.agent_uuid),
        );
        let ok = matches!(&r, Ok(t) if !t.trim_start().starts_with("-ERR"));
        if !ok {
            switch_sdk::warn!(
                "callcenter: bridging {} to agent {} failed: {}",
                b.member_uuid,
                b.agent,
                match &r {
                    Ok(t) => t.trim().to_string(),
                    Err(e) => e.to_string(),
                }
            );
            if let Some(m) = &mailbox {
                m.set_bridged(false);
            }
            let _ = self
                .host
                .api("uuid_kill", &format!("{} NORMAL_CLEARING", b.agent_uuid));
            lock(&self.legs).remove(&b.agent_uuid);
            let member = b.member_uuid.clone();
            let _ = self.feed(|e, now| e.handle_bridge_failed(now, &member));
            return;
        }
        if let Some(t) = &b.record_template {
            let path = expand_template(t, &b);
            if let Err(e) = self.host.api(
                "uuid_record",
                &format!("{} start {path}", b.member_session_uuid),
            ) {
                switch_sdk::warn!("callcenter: recording {path}: {e}");
            }
        }
    }

    fn callback(self: &Arc<Self>, c: CallbackCall) {
        let cc = self.clone();
        let name = format!("cc-callback-{}", c.attempt);
        if let Err(e) = switch_sdk::spawn_thread(&name, move || cc.call_back(c)) {
            switch_sdk::error!("callcenter: cannot start a callback thread: {e}");
        }
    }

    /// Calls a virtual-hold customer back; on answer its leg waits (hold music) in our
    /// `callcenter_callback` application until an agent is bridged.
    fn call_back(self: &Arc<Self>, c: CallbackCall) {
        let leg = format!("{}-cb{}", c.member_uuid, c.attempt);
        let leg = if leg.len() > 64 {
            leg[leg.len() - 64..].to_string()
        } else {
            leg
        };
        let vars = [
            ("origination_uuid", leg.as_str()),
            ("originate_timeout", "30"),
            ("origination_caller_id_name", c.cid_name.as_str()),
            ("origination_caller_id_number", c.queue.as_str()),
            ("cc_queue", c.queue.as_str()),
            ("cc_member_uuid", c.member_uuid.as_str()),
            ("cc_side", "member"),
        ];
        let dial = format!(
            "{}{} &callcenter_callback({})",
            dial_vars(&vars),
            dial_string(&c.number),
            c.member_uuid
        );
        let reply = self
            .host
            .api("originate", &dial)
            .unwrap_or_else(|e| format!("-ERR {e}"));
        let result = match reply.trim().strip_prefix("+OK") {
            Some(_) => CallbackResult::Answered {
                session_uuid: leg.clone(),
            },
            None => {
                switch_sdk::info!(
                    "callcenter: callback {} to {} failed: {}",
                    c.member_uuid,
                    c.number,
                    reply.trim()
                );
                CallbackResult::Failed
            }
        };
        let answered = matches!(result, CallbackResult::Answered { .. });
        let member = c.member_uuid.clone();
        if self
            .feed(|e, now| e.handle_callback_result(now, &member, result))
            .is_err()
            && answered
        {
            let _ = self.host.hangup(&leg, "NORMAL_CLEARING");
        }
    }

    // --- channel events ----------------------------------------------------------------

    /// CHANNEL_HANGUP of any channel: an agent leg of ours ends its queue call (wrap-up).
    pub fn on_hangup(self: &Arc<Self>, ev: &EventView<'_>) {
        let Some(uuid) = ev.header("Unique-ID") else {
            return;
        };
        let leg = {
            let mut legs = lock(&self.legs);
            match legs.get_mut(uuid) {
                None => return,
                // Being bridged: `ring` reports it once the bridge is done or has failed
                // (feeding the hangup first would close the call with the caller unbridged).
                Some(l) if l.bridging => {
                    l.hung_up = true;
                    return;
                }
                Some(_) => match legs.remove(uuid) {
                    Some(l) => l,
                    None => return,
                },
            }
        };
        if leg.canceled {
            return;
        }
        self.agent_gone(uuid, &leg.agent);
    }

    /// An agent's leg `uuid` ended: its queue call is over (wrap-up).
    fn agent_gone(self: &Arc<Self>, uuid: &str, agent: &str) {
        // Only if the agent is still on this leg: a late event must not touch its next call.
        let current = self.read(|e| e.agent_leg(agent) == Some(uuid));
        if current {
            let _ = self.feed(|e, now| e.handle_agent_hangup(now, agent));
        }
    }
}

/// `{k=v,...}` for a dial string, values quoted when they hold what would split them.
pub(crate) fn dial_vars(vars: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in vars.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let v: String = v
            .chars()
            .map(|c| {
                if matches!(c, '\'' | '{' | '}') || c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        out.push_str(k);
        out.push('=');
        if v.contains([' ', ',']) {
            out.push('\'');
            out.push_str(&v);
            out.push('\'');
        } else {
            out.push_str(&v);
        }
    }
    out.push('}');
    out
}

/// A callback number as a dial string: a number alone is a user of this switch.
pub(crate) fn dial_string(number: &str) -> String {
    if number.contains('/') || number.contains('@') || number.starts_with("sip:") {
        number.to_string()
    } else {
        format!("user/{number}")
    }
}

/// How an agent leg that did not answer failed, from originate's `-ERR <CAUSE>`.
pub(crate) fn offer_result(reply: &str) -> OfferResult {
    let cause = reply
        .trim()
        .trim_start_matches("-ERR")
        .split_whitespace()
        .next()
        .unwrap_or("");
    match cause {
        "NO_ANSWER"
        | "NO_USER_RESPONSE"
        | "ALLOTTED_TIMEOUT"
        | "RECOVERY_ON_TIMER_EXPIRE"
        | "ORIGINATOR_CANCEL" => OfferResult::NoAnswer,
        "USER_BUSY" | "NORMAL_CIRCUIT_CONGESTION" | "SWITCH_CONGESTION" => OfferResult::Busy,
        "CALL_REJECTED" => OfferResult::Rejected,
        _ => OfferResult::Unreachable,
    }
}

/// `${...}` of a record template: the call's uuids, queue and agent, and the date.
fn expand_template(t: &str, b: &Bridge) -> String {
    let secs = now().as_secs();
    t.replace("${uuid}", &b.member_session_uuid)
        .replace("${cc_member_uuid}", &b.member_uuid)
        .replace("${cc_member_session_uuid}", &b.member_session_uuid)
        .replace("${cc_queue}", &b.queue)
        .replace("${cc_agent}", &b.agent)
        .replace("${cc_agent_uuid}", &b.agent_uuid)
        .replace("${strepoch}", &secs.to_string())
}
