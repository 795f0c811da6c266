//! The table of live channels (one per leg) for `show channels` / `show calls` and the
//! `uuid_*` commands, and the channel headers every `CHANNEL_*` event carries.
//!
//! The table is for lookup: a call task writes its own legs' rows at creation, answer,
//! bridge and end; everything else only reads. A call is changed by messages, not here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::Event;

/// FreeSWITCH's channel states (`Channel-State`), in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    New,
    Init,
    Routing,
    Execute,
    ExchangeMedia,
    Hangup,
    Reporting,
    Destroy,
}

impl ChannelState {
    /// `CS_NEW`, `CS_EXECUTE`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::New => "CS_NEW",
            ChannelState::Init => "CS_INIT",
            ChannelState::Routing => "CS_ROUTING",
            ChannelState::Execute => "CS_EXECUTE",
            ChannelState::ExchangeMedia => "CS_EXCHANGE_MEDIA",
            ChannelState::Hangup => "CS_HANGUP",
            ChannelState::Reporting => "CS_REPORTING",
            ChannelState::Destroy => "CS_DESTROY",
        }
    }

    /// `Channel-State-Number`, as FreeSWITCH numbers them.
    pub fn number(self) -> u8 {
        match self {
            ChannelState::New => 0,
            ChannelState::Init => 1,
            ChannelState::Routing => 2,
            ChannelState::Execute => 4,
            ChannelState::ExchangeMedia => 5,
            ChannelState::Hangup => 10,
            ChannelState::Reporting => 11,
            ChannelState::Destroy => 12,
        }
    }
}

/// `Channel-Call-State` and `Answer-State` of a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    Down,
    Ringing,
    Early,
    Active,
    Hangup,
}

impl CallState {
    /// `DOWN`, `RINGING`, `EARLY`, `ACTIVE`, `HANGUP`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Down => "DOWN",
            CallState::Ringing => "RINGING",
            CallState::Early => "EARLY",
            CallState::Active => "ACTIVE",
            CallState::Hangup => "HANGUP",
        }
    }

    /// `Answer-State`: `ringing`, `early`, `answered`, `hangup`.
    pub fn answer_state(self) -> &'static str {
        match self {
            CallState::Down | CallState::Ringing => "ringing",
            CallState::Early => "early",
            CallState::Active => "answered",
            CallState::Hangup => "hangup",
        }
    }
}

/// One live leg.
#[derive(Clone, Debug)]
pub struct ChannelInfo {
    pub uuid: String,
    /// The A leg's uuid: every leg of a call shares it (`call_uuid` in CDRs).
    pub call_uuid: String,
    /// `inbound` (the caller's leg) or `outbound` (a leg the switch rang).
    pub direction: &'static str,
    /// `sofia/internal/1002@127.0.0.1`.
    pub name: String,
    pub state: ChannelState,
    pub callstate: CallState,
    pub cid_name: String,
    pub cid_num: String,
    pub dest: String,
    pub context: String,
    /// The peer's signalling address.
    pub ip_addr: String,
    pub created: SystemTime,
    pub answered: Option<SystemTime>,
    /// The uuid of the leg it is bridged to.
    pub bridged_to: Option<String>,
}

impl ChannelInfo {
    /// Adds the headers ESL clients read from `CHANNEL_*` events: `Channel-State`,
    /// `Unique-ID`, `Call-Direction`, `Answer-State`, `Caller-*`, `Other-Leg-Unique-ID`.
    pub fn add_headers(&self, e: &mut Event) {
        let micros = |t: Option<SystemTime>| {
            t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_micros())
                .to_string()
        };
        e.add("Channel-State", self.state.as_str());
        e.add("Channel-Call-State", self.callstate.as_str());
        e.add("Channel-State-Number", self.state.number().to_string());
        e.add("Channel-Name", self.name.as_str());
        e.add("Unique-ID", self.uuid.as_str());
        e.add("Call-Direction", self.direction);
        e.add("Presence-Call-Direction", self.direction);
        e.add("Answer-State", self.callstate.answer_state());
        e.add("Caller-Direction", self.direction);
        e.add("Caller-Username", self.cid_num.as_str());
        e.add("Caller-Dialplan", "XML");
        e.add("Caller-Caller-ID-Name", self.cid_name.as_str());
        e.add("Caller-Caller-ID-Number", self.cid_num.as_str());
        e.add("Caller-Orig-Caller-ID-Name", self.cid_name.as_str());
        e.add("Caller-Orig-Caller-ID-Number", self.cid_num.as_str());
        e.add("Caller-Network-Addr", self.ip_addr.as_str());
        e.add("Caller-ANI", self.cid_num.as_str());
        e.add("Caller-Destination-Number", self.dest.as_str());
        e.add("Caller-Unique-ID", self.uuid.as_str());
        e.add("Caller-Source", "mod_sofia");
        e.add("Caller-Context", self.context.as_str());
        e.add("Caller-Channel-Name", self.name.as_str());
        e.add("Caller-Profile-Index", "1");
        e.add("Caller-Profile-Created-Time", micros(Some(self.created)));
        e.add("Caller-Channel-Created-Time", micros(Some(self.created)));
        e.add("Caller-Channel-Answered-Time", micros(self.answered));
        if let Some(other) = &self.bridged_to {
            e.add("Other-Type", other_type(self.direction));
            e.add("Other-Leg-Unique-ID", other.as_str());
        }
    }
}

fn other_type(direction: &str) -> &'static str {
    if direction == "inbound" {
        "originatee"
    } else {
        "originator"
    }
}

/// Every live channel by uuid, with session counters for `status` and HEARTBEAT.
#[derive(Default, Debug)]
pub struct ChannelTable {
    map: RwLock<HashMap<String, ChannelInfo>>,
    created: AtomicU64,
    peak: AtomicUsize,
}

impl ChannelTable {
    /// Adds a new leg.
    pub fn insert(&self, info: ChannelInfo) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.insert(info.uuid.clone(), info);
        self.created.fetch_add(1, Ordering::Relaxed);
        self.peak.fetch_max(map.len(), Ordering::Relaxed);
    }

    /// Changes a leg's row; returns the new row (`None` if there is none).
    pub fn update(&self, uuid: &str, f: impl FnOnce(&mut ChannelInfo)) -> Option<ChannelInfo> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.get_mut(uuid).map(|c| {
            f(c);
            c.clone()
        })
    }

    /// Changes a leg's row without copying it out; false if there is none.
    pub fn modify(&self, uuid: &str, f: impl FnOnce(&mut ChannelInfo)) -> bool {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.get_mut(uuid).map(f).is_some()
    }

    /// Removes a leg; returns its last row.
    pub fn remove(&self, uuid: &str) -> Option<ChannelInfo> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.remove(uuid)
    }

    /// One leg's row.
    pub fn get(&self, uuid: &str) -> Option<ChannelInfo> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(uuid).cloned()
    }

    /// Every leg, oldest first.
    pub fn all(&self) -> Vec<ChannelInfo> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<ChannelInfo> = map.values().cloned().collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.uuid.cmp(&b.uuid)));
        v
    }

    /// Live legs.
    pub fn count(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Legs created since start.
    pub fn created_total(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Most legs live at once since start.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(uuid: &str) -> ChannelInfo {
        ChannelInfo {
            uuid: uuid.into(),
            call_uuid: uuid.into(),
            direction: "inbound",
            name: "sofia/internal/1002@127.0.0.1".into(),
            state: ChannelState::Execute,
            callstate: CallState::Ringing,
            cid_name: "Agent".into(),
            cid_num: "1002".into(),
            dest: "9196".into(),
            context: "default".into(),
            ip_addr: "127.0.0.1".into(),
            created: SystemTime::now(),
            answered: None,
            bridged_to: None,
        }
    }

    #[test]
    fn table_counts_and_updates() {
        let t = ChannelTable::default();
        t.insert(leg("a"));
        t.insert(leg("b"));
        assert_eq!((t.count(), t.peak(), t.created_total()), (2, 2, 2));
        let row = t.update("a", |c| c.callstate = CallState::Active).unwrap();
        assert_eq!(row.callstate, CallState::Active);
        assert!(t.update("zzz", |_| {}).is_none());
        assert!(t.remove("a").is_some());
        assert_eq!((t.count(), t.peak()), (1, 2));
        assert_eq!(t.all().len(), 1);
    }

    #[test]
    fn headers_name_the_channel_and_the_other_leg() {
        let mut c = leg("a");
        c.callstate = CallState::Active;
        c.bridged_to = Some("b".into());
        let mut e = Event::new("CHANNEL_BRIDGE");
        c.add_headers(&mut e);
        assert_eq!(e.header("Unique-ID"), Some("a"));
        assert_eq!(e.header("Channel-State"), Some("CS_EXECUTE"));
        assert_eq!(e.header("Answer-State"), Some("answered"));
        assert_eq!(e.header("Caller-Destination-Number"), Some("9196"));
        assert_eq!(e.header("Other-Leg-Unique-ID"), Some("b"));
        assert_eq!(e.header("Other-Type"), Some("originatee"));
    }
}
