//! Calls the switch places itself (FreeSWITCH's `originate`): the dial string is rung (every
//! contact at once), the first to answer becomes the call's own leg, and then an
//! application, an extension of the dialplan, or a script holding a [`SessionHandle`] runs
//! on it, exactly as on a caller's leg.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use switch_sip::message::{Headers, Method, Request, Uri};
use switch_sip::sdp::{Direction as SdpDirection, LocalMedia, SessionDescription};
use switch_sip::transaction::{Peer, Transport};
use tokio::sync::{mpsc, oneshot};

use super::leg::{Dialog, LegState};
use super::media::{leg_codec, our_formats, our_telephone_event, sdp_codec};
use super::{learn_sdp, new_uuid, Call, CallEvent, End};
use crate::context::Context;
use crate::media::Side;
use crate::script::{SessionHandle, Shared};

/// What runs on the leg once it answered.
pub enum Then {
    /// A dialplan application (`&echo`, `&park`, `&playback(file)`).
    App(String, String),
    /// An extension of the dialplan, routed as if the leg had dialled it.
    Extension(String),
    /// The requests of a [`SessionHandle`] given back to the caller of [`originate`]
    /// (Lua's `freeswitch.Session`): the leg lives until the handle is dropped.
    Driven,
}

/// A call to place.
pub struct Originate {
    /// `user/1001`, `sip:1001@127.0.0.1:5070`, several joined by commas.
    pub dial: String,
    /// What to run once answered.
    pub then: Then,
    /// Channel variables of the new leg (`origination_caller_id_number`...).
    pub vars: HashMap<String, String>,
    /// The caller id it presents.
    pub caller_id_name: String,
    /// See `caller_id_name`.
    pub caller_id_number: String,
    /// How long it may ring.
    pub timeout: Duration,
}

/// An answered origination: the new leg's uuid and, for [`Then::Driven`], its handle.
pub struct Originated {
    /// The leg's uuid.
    pub uuid: String,
    /// The session to drive it with ([`Then::Driven`] only).
    pub session: Option<SessionHandle>,
}

/// Rings `req.dial` and returns once it answered (Ok) or failed (Err with the Q.850 cause).
/// The call goes on in a task of its own.
pub async fn originate(ctx: Arc<Context>, req: Originate) -> Result<Originated, String> {
    // `origination_uuid` names the leg before it rings, so it can be hung up (uuid_kill)
    // or followed in events while it rings, as the ACD does with its agent legs.
    if let Some(u) = req.vars.get("origination_uuid") {
        let ok = !u.is_empty()
            && u.len() <= 64
            && u.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!("INVALID_UUID origination_uuid {u:?}"));
        }
    }
    let (answered_tx, answered_rx) = oneshot::channel();
    tokio::spawn(run(ctx, req, answered_tx));
    answered_rx
        .await
        .unwrap_or_else(|_| Err("NORMAL_TEMPORARY_FAILURE".into()))
}

async fn run(
    ctx: Arc<Context>,
    mut req: Originate,
    answered: oneshot::Sender<Result<Originated, String>>,
) {
    let (owner, inbox) = mpsc::unbounded_channel();
    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let uuid = match req.vars.remove("origination_uuid") {
        Some(u) => u,
        None => new_uuid(),
    };
    let domain = ctx.config.sip.domain.clone();
    // The leg's own dialog comes from the INVITE that wins; until then a stand-in.
    let peer = Peer {
        transport: Transport::Udp,
        addr: ([127, 0, 0, 1], 0).into(),
    };
    let placeholder = Dialog {
        call_id: format!("{uuid}@{domain}"),
        local: switch_sip::message::NameAddr::new(Uri::sip(None, &domain, None)),
        remote: switch_sip::message::NameAddr::new(Uri::sip(None, &domain, None)),
        remote_target: Uri::sip(None, &domain, None),
        route_set: Vec::new(),
        local_cseq: 0,
        peer,
        contact: String::new(),
    };
    let destination = req.dial.clone();
    let invite = Request {
        method: Method::Invite,
        uri: Uri::sip(None, &domain, None),
        headers: Headers::default(),
        body: Vec::new(),
    };
    let mut call = Call {
        destination,
        ctx: ctx.clone(),
        uuid: uuid.clone(),
        owner: owner.clone(),
        inbox,
        media_rx,
        media_tx,
        a: placeholder,
        a_tx: switch_sip::transaction::TxId::NONE,
        a_invite: invite,
        a_state: LegState::Early,
        a_ringing_sent: true,
        a_early_sdp_sent: true,
        a_sdp: None,
        a_sdp_version: 1,
        a_sess_id: rand::thread_rng().gen_range(1..1u64 << 40),
        relay: None,
        a_port: 0,
        b_port: None,
        b_sdp_version: 1,
        b_sess_id: rand::thread_rng().gen_range(1..1u64 << 40),
        forks: Vec::new(),
        winner: None,
        forwards: HashMap::new(),
        vars: req.vars,
        start: SystemTime::now(),
        answer: None,
        caller_id_name: req.caller_id_name,
        caller_id_number: req.caller_id_number,
        context: "default".to_string(),
        a_answer: None,
        a_codec: None,
        b_codec: None,
        next_play_id: 0,
        play_done: Vec::new(),
        digits: VecDeque::new(),
        session_events: VecDeque::new(),
        next_tap_id: 0,
        play_ms: HashMap::new(),
        transfers: 0,
        a_outbound: true,
        held: Vec::new(),
        parked: false,
    };
    {
        let mut calls = ctx.calls.lock().unwrap_or_else(|e| e.into_inner());
        if calls.contains_key(&uuid) || ctx.channels.get(&uuid).is_some() {
            drop(calls);
            let _ = answered.send(Err(format!(
                "DUPLICATE_UUID origination_uuid {uuid} is in use"
            )));
            return;
        }
        calls.insert(uuid.clone(), owner);
    }
    let end = match call.setup_media().await {
        Err(e) => {
            call.a_state = LegState::Ended;
            let _ = answered.send(Err(e.cause.clone()));
            e
        }
        Ok(()) => match call.ring_out(req.timeout).await {
            Err(cause) => {
                // There is no caller to answer: the leg that never came up just ends.
                call.a_state = LegState::Ended;
                let _ = answered.send(Err(cause.clone()));
                End::new(&cause)
            }
            Ok(()) => {
                call.on_created();
                call.on_answered();
                call.go_on(req.then, answered).await
            }
        },
    };
    call.finish(end).await;
}

impl Call {
    /// Rings the dial string from the call's own port and makes the first leg to answer the
    /// call's own. Err with the cause when none did.
    async fn ring_out(&mut self, timeout: Duration) -> Result<(), String> {
        let targets = self.resolve(&self.destination.clone());
        if targets.is_empty() {
            return Err("USER_NOT_REGISTERED".into());
        }
        let cfg = self.ctx.config.media.clone();
        let mut formats = our_formats(&cfg);
        formats.push(our_telephone_event(&cfg));
        let local = LocalMedia {
            ip: self.ctx.config.rtp.ip,
            port: self.a_port,
            session: (self.a_sess_id, self.a_sdp_version),
            ptime: Some(20),
            direction: SdpDirection::SendRecv,
            rtcp_mux: false,
        };
        let offer = SessionDescription::local_offer(&local, &formats).to_bytes();
        for (dest, uri, peer) in targets {
            self.ring_with(dest, uri, peer, Some(offer.clone())).await;
        }
        if self.forks.is_empty() {
            return Err("NORMAL_TEMPORARY_FAILURE".into());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let ev = match self.next_event(Some(deadline)).await {
                Ok(ev) => ev,
                Err(e) => {
                    self.end_forks(&e.cause).await;
                    return Err(e.cause);
                }
            };
            let Some(ev) = ev else {
                if Instant::now() >= deadline {
                    self.end_forks("NO_ANSWER").await;
                    return Err("NO_ANSWER".into());
                }
                continue;
            };
            match ev {
                CallEvent::Response { tx, response } => {
                    let Some(i) = self.fork_of(tx) else { continue };
                    let status = response.status;
                    if self.forks[i].state == LegState::Ended {
                        if (200..300).contains(&status) {
                            self.ack_fork(i, &response);
                            self.bye_fork(i).await;
                        }
                        continue;
                    }
                    self.forks[i].dialog.update_from_response(&response);
                    match status {
                        100..=199 => {}
                        200..=299 => {
                            self.ack_fork(i, &response);
                            for j in 0..self.forks.len() {
                                if j != i {
                                    self.cancel_fork(j, "LOSE_RACE");
                                }
                            }
                            self.take_answered_fork(i, &response.body).await;
                            return Ok(());
                        }
                        _ => {
                            self.forks[i].state = LegState::Ended;
                            self.forks[i].final_status = Some(status);
                            if let Some(cause) = self.all_failed(0) {
                                return Err(cause);
                            }
                        }
                    }
                }
                CallEvent::Timeout { tx } => {
                    if let Some(i) = self.fork_of(tx) {
                        self.forks[i].state = LegState::Ended;
                        self.forks[i].final_status = Some(408);
                        if let Some(cause) = self.all_failed(0) {
                            return Err(cause);
                        }
                    }
                }
                CallEvent::Hangup { cause } => {
                    self.end_forks(&cause).await;
                    return Err(cause);
                }
                _ => {}
            }
        }
    }

    /// The answered fork becomes the call's own leg: its dialog, its SDP, its codec.
    async fn take_answered_fork(&mut self, i: usize, body: &[u8]) {
        let fork = self.forks.remove(i);
        self.ctx.channels.remove(&fork.uuid);
        self.a = fork.dialog;
        self.a_tx = fork.invite_tx;
        self.a_state = LegState::Answered;
        self.answer = Some(SystemTime::now());
        self.destination = fork.destination;
        if let Ok(sdp) = SessionDescription::parse(body) {
            if let Some(relay) = &self.relay {
                learn_sdp(relay, Side::A, &sdp, self.a.peer.addr.ip());
                relay.set_timed(Side::A, Some(true));
            }
            let cfg = self.ctx.config.media.clone();
            let codec = sdp_codec(&sdp).and_then(|(f, te)| {
                leg_codec(&cfg, &f, te.as_ref(), sdp.audio().and_then(|a| a.ptime()))
            });
            self.a_sdp = Some(sdp);
            self.set_codec(Side::A, codec).await;
        }
        tracing::info!(uuid = %self.uuid, to = %self.destination, "originated leg answered");
    }

    /// Runs what comes after the answer and returns how the call ended.
    async fn go_on(
        &mut self,
        then: Then,
        answered: oneshot::Sender<Result<Originated, String>>,
    ) -> End {
        let mut session = None;
        let mut rx = None;
        let mut shared = None;
        if matches!(then, Then::Driven) {
            let (tx, r) = mpsc::unbounded_channel();
            let sh = Arc::new(Shared::default());
            session = Some(SessionHandle::new(self.uuid.clone(), tx, sh.clone()));
            rx = Some(r);
            shared = Some(sh);
        }
        let _ = answered.send(Ok(Originated {
            uuid: self.uuid.clone(),
            session,
        }));
        let first = match then {
            Then::App(app, args) => self.run_app(&app, &args).await.map(|_| ()),
            Then::Extension(ext) => {
                self.destination = ext;
                self.execute().await
            }
            Then::Driven => match (rx, shared) {
                (Some(rx), Some(sh)) => self.serve_driven(rx, sh).await,
                _ => Ok(()),
            },
        };
        self.route_from(first).await
    }
}

/// Parses the API's `originate <dial> <exten>|&<app>(<args>) [dialplan] [context]
/// [cid_name] [cid_num] [timeout]`.
pub fn parse_api_args(args: &str) -> Result<Originate, String> {
    let args = args.trim_start();
    // The dial string may start with {var=value,...}, whose values may hold spaces (a caller
    // id name) when quoted with single quotes: split the braces off before the words.
    let (vars, rest) = match args.strip_prefix('{') {
        Some(inner) => {
            let (vars, after) = split_vars(inner)?;
            (vars, after)
        }
        None => (HashMap::new(), args),
    };
    let mut parts = rest.split_whitespace();
    let dial = parts.next().ok_or("no dial string")?.to_string();
    let what = parts
        .next()
        .ok_or("no extension or application")?
        .to_string();
    let rest: Vec<&str> = parts.collect();
    let then = match what.strip_prefix('&') {
        Some(app) => {
            let (name, args) = match app.split_once('(') {
                Some((n, a)) => (n, a.strip_suffix(')').unwrap_or(a)),
                None => (app, ""),
            };
            Then::App(name.to_string(), args.to_string())
        }
        None => Then::Extension(what),
    };
    let cid_name = rest.get(2).map(|s| s.to_string());
    let cid_num = rest.get(3).map(|s| s.to_string());
    let timeout = rest
        .get(4)
        .and_then(|t| t.parse::<u64>().ok())
        .or_else(|| vars.get("originate_timeout").and_then(|t| t.parse().ok()))
        .unwrap_or(60);
    Ok(Originate {
        caller_id_name: cid_name
            .or_else(|| vars.get("origination_caller_id_name").cloned())
            .unwrap_or_else(|| "ferroswitch".into()),
        caller_id_number: cid_num
            .or_else(|| vars.get("origination_caller_id_number").cloned())
            .unwrap_or_else(|| "0000000000".into()),
        dial,
        then,
        vars,
        timeout: Duration::from_secs(timeout.clamp(1, 3600)),
    })
}

/// `a=1,b='x, y'}rest`: the variables up to the closing brace (commas inside single quotes
/// belong to the value) and what follows it.
fn split_vars(s: &str) -> Result<(HashMap<String, String>, &str), String> {
    let mut vars = HashMap::new();
    let mut item = String::new();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' | '}' if !quoted => {
                if let Some((k, v)) = item.split_once('=') {
                    let k = k.trim();
                    if !k.is_empty() {
                        vars.insert(k.to_string(), v.trim().to_string());
                    }
                }
                item.clear();
                if c == '}' {
                    return Ok((vars, &s[i + 1..]));
                }
            }
            _ => item.push(c),
        }
    }
    Err("unterminated {variables} in the dial string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_may_hold_quoted_spaces_and_commas() {
        let o = parse_api_args(
            "{origination_uuid=ab-1,origination_caller_id_name='Smith, John Q',originate_timeout=7}user/1001 &park",
        )
        .expect("parses");
        assert_eq!(o.dial, "user/1001");
        assert_eq!(o.caller_id_name, "Smith, John Q");
        assert_eq!(o.timeout, Duration::from_secs(7));
        assert_eq!(
            o.vars.get("origination_uuid").map(String::as_str),
            Some("ab-1")
        );
        assert!(matches!(o.then, Then::App(ref a, _) if a == "park"));
        assert!(parse_api_args("{a=1 user/1001 &park").is_err());
        let plain = parse_api_args("user/1002 7001").expect("parses");
        assert!(plain.vars.is_empty());
        assert!(matches!(plain.then, Then::Extension(ref e) if e == "7001"));
    }
}
