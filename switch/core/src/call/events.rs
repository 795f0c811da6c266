//! What a call tells the rest of the switch: its legs' rows in the channel table and the
//! `CHANNEL_*` events, fired at the natural points of the call (one `on_*` call each), and
//! its answers to control requests (`uuid_getvar`, `uuid_setvar`).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use super::Call;
use crate::channel::{CallState, ChannelInfo, ChannelState};
use crate::event::Event;

/// A request from the API layer to a call (see [`crate::api::CallControl`]).
#[derive(Debug)]
pub enum Control {
    /// The value of a channel variable of leg `leg`.
    GetVar {
        leg: String,
        name: String,
        reply: oneshot::Sender<Option<String>>,
    },
    /// Sets (or with `None` unsets) a channel variable of leg `leg`.
    SetVar {
        leg: String,
        name: String,
        value: Option<String>,
        reply: oneshot::Sender<()>,
    },
    /// Routes the call to another extension (`uuid_transfer`).
    Transfer {
        dest: String,
        reply: oneshot::Sender<()>,
    },
    /// Puts leg `leg` on hold (it hears music on hold instead of its peer), takes it off,
    /// or toggles (`uuid_hold`).
    Hold {
        leg: String,
        mode: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Gives the call's own leg to another call (`uuid_bridge`, the ACD).
    HandOver {
        reply: oneshot::Sender<Result<super::join::HandedLeg, String>>,
    },
    /// Bridges to a leg handed over by another call.
    Adopt { leg: Box<super::join::HandedLeg> },
    /// Runs an application on a parked channel (`sendmsg` with `call-command: execute`).
    Execute {
        app: String,
        args: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Stops leg `leg`'s playback (`uuid_break`); Err when it has no media here.
    Break {
        leg: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// An event for the channel's own queue (`sendevent` with its Unique-ID): what a
    /// script's input callback gets as `(session, "event", event, arg)`.
    QueueEvent { event: Box<crate::event::Event> },
    /// The call's relay and the side leg `leg` is on (a module's media tap or injected
    /// audio); `None` when the leg has no media here.
    Media {
        leg: String,
        reply: oneshot::Sender<Option<(crate::media::Relay, crate::media::Side)>>,
    },
}

fn epoch(t: Option<SystemTime>) -> u64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

impl Call {
    /// The A leg was created: its row and CHANNEL_CREATE.
    pub(super) fn on_created(&self) {
        let from = self.a_invite.from();
        let host = from
            .as_ref()
            .map(|f| f.uri.host.0.clone())
            .unwrap_or_else(|| self.a.peer.addr.ip().to_string());
        let user = from
            .as_ref()
            .and_then(|f| f.uri.user.clone())
            .unwrap_or_else(|| self.caller_id_number.clone());
        let info = ChannelInfo {
            uuid: self.uuid.clone(),
            call_uuid: self.uuid.clone(),
            // An originated call's A leg is the one the switch dialled out.
            direction: if self.a_outbound {
                "outbound"
            } else {
                "inbound"
            },
            // The leg the switch dialled is named after whom it dialled, as its B legs are
            // (FreeSWITCH's `sofia/internal/1001@host` for `originate user/1001`).
            name: if self.a_outbound {
                format!("sofia/internal/{}@{}", self.destination, self.a.peer.addr)
            } else {
                format!("sofia/internal/{user}@{host}")
            },
            state: ChannelState::Init,
            callstate: CallState::Ringing,
            cid_name: self.caller_id_name.clone(),
            cid_num: self.caller_id_number.clone(),
            dest: self.destination.clone(),
            context: self.context.clone(),
            ip_addr: self.a.peer.addr.ip().to_string(),
            created: self.start,
            answered: None,
            bridged_to: None,
        };
        self.insert_and_fire(info);
        self.ctx
            .channels
            .modify(&self.uuid, |c| c.state = ChannelState::Execute);
    }

    /// The caller was told it rings (180) or given early media (183).
    pub(super) fn on_progress(&self, media: bool) {
        let state = if media {
            CallState::Early
        } else {
            CallState::Ringing
        };
        let name = if media {
            "CHANNEL_PROGRESS_MEDIA"
        } else {
            "CHANNEL_PROGRESS"
        };
        self.update_and_fire(&self.uuid, name, &[], |c| c.callstate = state);
    }

    /// The A leg was answered.
    pub(super) fn on_answered(&self) {
        let update = |c: &mut ChannelInfo| {
            c.callstate = CallState::Active;
            c.answered = self.answer;
        };
        self.update_and_fire(&self.uuid, "CHANNEL_ANSWER", &[], update);
    }

    /// An application starts (`complete` false) or ends on the call's own leg:
    /// CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE, which outbound-socket clients wait for.
    pub(super) fn on_execute(&self, app: &str, args: &str, complete: bool) {
        let name = if complete {
            "CHANNEL_EXECUTE_COMPLETE"
        } else {
            "CHANNEL_EXECUTE"
        };
        if !self.ctx.events.wants(name) {
            return;
        }
        let Some(info) = self.ctx.channels.get(&self.uuid) else {
            return;
        };
        let mut extra = vec![
            ("Application", app.to_string()),
            ("Application-Data", args.to_string()),
            ("variable_current_application", app.to_string()),
            ("variable_current_application_data", args.to_string()),
        ];
        if complete {
            extra.push(("Application-Response", "_none_".to_string()));
        }
        self.fire(name, &info, &extra);
    }

    /// The newest B leg was sent its INVITE: its row and CHANNEL_CREATE.
    pub(super) fn on_b_created(&self) {
        let Some(f) = self.forks.last() else { return };
        let info = ChannelInfo {
            uuid: f.uuid.clone(),
            call_uuid: self.uuid.clone(),
            direction: "outbound",
            name: format!("sofia/internal/{}@{}", f.destination, f.dialog.peer.addr),
            state: ChannelState::Init,
            callstate: CallState::Down,
            cid_name: self.caller_id_name.clone(),
            cid_num: self.caller_id_number.clone(),
            dest: f.destination.clone(),
            context: self.context.clone(),
            ip_addr: f.dialog.peer.addr.ip().to_string(),
            created: f.start,
            answered: None,
            bridged_to: None,
        };
        self.insert_and_fire(info);
        self.ctx.channels.modify(&f.uuid, |c| {
            c.state = ChannelState::Routing;
            c.callstate = CallState::Ringing;
        });
    }

    /// B leg `i` answered.
    pub(super) fn on_b_answered(&self, i: usize) {
        let Some(f) = self.forks.get(i) else { return };
        let update = |c: &mut ChannelInfo| {
            c.callstate = CallState::Active;
            c.state = ChannelState::ExchangeMedia;
            c.answered = f.answer;
        };
        self.update_and_fire(&f.uuid, "CHANNEL_ANSWER", &[], update);
    }

    /// The caller and B leg `i` are bridged: CHANNEL_BRIDGE on the A leg.
    pub(super) fn on_bridged(&self, i: usize) {
        let Some(f) = self.forks.get(i) else { return };
        let b = f.uuid.clone();
        self.ctx
            .channels
            .modify(&b, |c| c.bridged_to = Some(self.uuid.clone()));
        let extra = [
            ("Bridge-A-Unique-ID", self.uuid.clone()),
            ("Bridge-B-Unique-ID", b.clone()),
        ];
        self.update_and_fire(&self.uuid, "CHANNEL_BRIDGE", &extra, |c| {
            c.bridged_to = Some(b)
        });
    }

    /// B leg `i` ended with `cause` (failed, cancelled or hung up); a bridge with it ends.
    pub(super) fn on_b_ended(&self, i: usize, cause: &str) {
        let Some(f) = self.forks.get(i) else { return };
        let bridged = self
            .ctx
            .channels
            .get(&self.uuid)
            .and_then(|a| a.bridged_to)
            .is_some_and(|b| b == f.uuid);
        if bridged {
            self.unbridge();
        }
        self.end_leg(&f.uuid, cause, f.start, f.answer);
    }

    /// The call is over: the A leg (and any B leg still listed) ends with `cause`.
    pub(super) fn on_ended(&self, cause: &str) {
        for i in 0..self.forks.len() {
            self.on_b_ended(i, cause);
        }
        self.end_leg(&self.uuid, cause, self.start, self.answer);
    }

    fn unbridge(&self) {
        let Some(a) = self.ctx.channels.get(&self.uuid) else {
            return;
        };
        let Some(b) = a.bridged_to.clone() else {
            return;
        };
        let extra = [
            ("Bridge-A-Unique-ID", self.uuid.clone()),
            ("Bridge-B-Unique-ID", b),
        ];
        self.fire("CHANNEL_UNBRIDGE", &a, &extra);
        self.ctx
            .channels
            .modify(&self.uuid, |c| c.bridged_to = None);
    }

    /// CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE and CHANNEL_DESTROY for one leg, once.
    fn end_leg(&self, uuid: &str, cause: &str, start: SystemTime, answer: Option<SystemTime>) {
        let Some(mut info) = self.ctx.channels.remove(uuid) else {
            return;
        };
        // Modules' data of this channel is freed with it.
        self.ctx.modules.channel_gone(uuid);
        let end = SystemTime::now();
        let secs = |from: SystemTime| end.duration_since(from).map_or(0, |d| d.as_secs());
        let code = crate::config::hangup_cause_code(cause).unwrap_or(0);
        let hangup = [
            ("Hangup-Cause", cause.to_string()),
            ("variable_hangup_cause", cause.to_string()),
            ("variable_hangup_cause_q850", code.to_string()),
        ];
        info.callstate = CallState::Hangup;
        info.state = ChannelState::Hangup;
        self.fire("CHANNEL_HANGUP", &info, &hangup);
        info.state = ChannelState::Reporting;
        let mut complete = hangup.to_vec();
        complete.extend([
            ("variable_start_epoch", epoch(Some(start)).to_string()),
            ("variable_answer_epoch", epoch(answer).to_string()),
            ("variable_end_epoch", epoch(Some(end)).to_string()),
            ("variable_duration", secs(start).to_string()),
            ("variable_billsec", answer.map_or(0, secs).to_string()),
        ]);
        self.fire("CHANNEL_HANGUP_COMPLETE", &info, &complete);
        info.state = ChannelState::Destroy;
        self.fire("CHANNEL_DESTROY", &info, &hangup);
    }

    /// A digit from `side`: FreeSWITCH's `DTMF` event on that leg (duration in 8 kHz samples,
    /// as FreeSWITCH gives it).
    pub(super) fn on_dtmf(
        &self,
        side: crate::media::Side,
        digit: char,
        duration_ms: u32,
        source: switch_media::session::DtmfSource,
    ) {
        let uuid = match side {
            crate::media::Side::A => Some(self.uuid.clone()),
            crate::media::Side::B => self.winner.map(|w| self.forks[w].uuid.clone()),
        };
        let Some(info) = uuid.and_then(|u| self.ctx.channels.get(&u)) else {
            return;
        };
        let source = match source {
            switch_media::session::DtmfSource::Rfc4733 => "RTP",
            switch_media::session::DtmfSource::Inband => "INBAND_AUDIO",
        };
        let extra = [
            ("DTMF-Digit", digit.to_string()),
            ("DTMF-Duration", (duration_ms * 8).to_string()),
            ("DTMF-Source", source.to_string()),
        ];
        self.fire("DTMF", &info, &extra);
    }

    /// Lists a new leg, then fires its CHANNEL_CREATE (the row is listed first, so whoever
    /// reacts to the event finds it).
    fn insert_and_fire(&self, info: ChannelInfo) {
        if self.ctx.events.wants("CHANNEL_CREATE") {
            self.ctx.channels.insert(info.clone());
            self.fire("CHANNEL_CREATE", &info, &[]);
        } else {
            self.ctx.channels.insert(info);
        }
    }

    /// Applies `f` to leg `uuid`'s row, then fires `name` with the new row; the row is copied
    /// out only when someone wants the event.
    fn update_and_fire(
        &self,
        uuid: &str,
        name: &str,
        extra: &[(&str, String)],
        f: impl FnOnce(&mut ChannelInfo),
    ) {
        if !self.ctx.events.wants(name) {
            self.ctx.channels.modify(uuid, f);
        } else if let Some(info) = self.ctx.channels.update(uuid, f) {
            self.fire(name, &info, extra);
        }
    }

    /// Fires `name` with the channel headers of `info`, `extra`, and the variables.
    fn fire(&self, name: &str, info: &ChannelInfo, extra: &[(&str, String)]) {
        // Dozens of headers per event, several events per leg: only for someone listening.
        if !self.ctx.events.wants(name) {
            return;
        }
        let mut e = Event::new(name);
        info.add_headers(&mut e);
        for (n, v) in extra {
            e.add(n, v.as_str());
        }
        self.each_builtin_var(info, |n, v| {
            e.add_var(n, v);
        });
        let mut vars: Vec<_> = self.vars_of(&info.uuid).iter().collect();
        vars.sort_unstable();
        for (n, v) in vars {
            e.add_var(n, v);
        }
        self.ctx.events.fire(e);
    }

    /// Leg `uuid`'s channel variables: an adopted leg's own (uuid_bridge, the ACD's agent),
    /// else the call's, which the legs it rang share.
    fn vars_of(&self, uuid: &str) -> &HashMap<String, String> {
        (self.forks.iter())
            .find(|fk| fk.uuid == uuid)
            .and_then(|fk| fk.vars.as_ref())
            .unwrap_or(&self.vars)
    }

    /// [`Call::vars_of`], to change.
    fn vars_of_mut(&mut self, uuid: &str) -> &mut HashMap<String, String> {
        let own = (self.forks.iter_mut())
            .find(|fk| fk.uuid == uuid)
            .and_then(|fk| fk.vars.as_mut());
        match own {
            Some(vars) => vars,
            None => &mut self.vars,
        }
    }

    /// The variables every leg has, each handed to `f` (borrowed: events copy them once, into
    /// their buffer).
    fn each_builtin_var(&self, info: &ChannelInfo, mut f: impl FnMut(&'static str, &str)) {
        let call_id = if info.uuid == self.uuid {
            self.a.call_id.as_str()
        } else {
            (self.forks.iter())
                .find(|fk| fk.uuid == info.uuid)
                .map_or("", |fk| fk.dialog.call_id.as_str())
        };
        f("uuid", &info.uuid);
        f("call_uuid", &info.call_uuid);
        f("direction", info.direction);
        f("channel_name", &info.name);
        f("sip_call_id", call_id);
        f("caller_id_name", &info.cid_name);
        f("caller_id_number", &info.cid_num);
        f("destination_number", &info.dest);
        f("context", &info.context);
    }

    /// Which side of the relay leg `leg` (the call's own, or its bridged B leg) is on.
    fn side_of(&self, leg: &str) -> Option<crate::media::Side> {
        if leg == self.uuid {
            Some(crate::media::Side::A)
        } else if self.winner.is_some_and(|w| self.forks[w].uuid == leg) {
            Some(crate::media::Side::B)
        } else {
            None
        }
    }

    /// Answers a control request.
    pub(super) fn control(&mut self, c: Control) -> Result<(), super::End> {
        match c {
            Control::GetVar { leg, name, reply } => {
                let value = self.vars_of(&leg).get(&name).cloned().or_else(|| {
                    let info = self.ctx.channels.get(&leg)?;
                    let mut found = None;
                    self.each_builtin_var(&info, |n, v| {
                        if n == name && found.is_none() {
                            found = Some(v.to_string());
                        }
                    });
                    found
                });
                let _ = reply.send(value);
            }
            Control::SetVar {
                leg,
                name,
                value,
                reply,
            } => {
                let vars = self.vars_of_mut(&leg);
                match value {
                    Some(v) => vars.insert(name, v),
                    None => vars.remove(&name),
                };
                let _ = reply.send(());
            }
            Control::Transfer { dest, reply } => {
                let _ = reply.send(());
                return Err(super::End::transfer(&dest));
            }
            Control::HandOver { reply } => {
                let busy = self
                    .forks
                    .iter()
                    .any(|f| f.state != super::leg::LegState::Ended);
                if busy {
                    let _ = reply.send(Err("the channel is bridged or ringing".into()));
                } else {
                    return Err(super::End::join(super::Join::HandOver(reply)));
                }
            }
            Control::Adopt { leg } => return Err(super::End::join(super::Join::Adopt(leg))),
            Control::Execute { app, args, reply } => {
                if self.parked {
                    let _ = reply.send(Ok(()));
                    return Err(super::End::join(super::Join::Execute(app, args)));
                }
                let _ = reply.send(Err("the channel is not parked".into()));
            }
            Control::Hold { leg, mode, reply } => {
                let _ = reply.send(self.hold_control(&leg, &mode));
            }
            Control::Media { leg, reply } => {
                let side = self.side_of(&leg);
                let _ = reply.send(side.and_then(|s| self.relay.clone().map(|r| (r, s))));
            }
            Control::QueueEvent { event } => {
                self.session_events.push_back(*event);
                // Nobody reading them must not grow memory.
                while self.session_events.len() > 64 {
                    self.session_events.pop_front();
                }
            }
            Control::Break { leg, reply } => {
                let r = match (self.side_of(&leg), &self.relay) {
                    (Some(side), Some(relay)) => {
                        // The player reports the stop like any other end: whoever waits on
                        // the playback (an application, a script) goes on.
                        relay.stop_play(side);
                        Ok(())
                    }
                    _ => Err("the channel has no media here".to_string()),
                };
                let _ = reply.send(r);
            }
        }
        Ok(())
    }
}
