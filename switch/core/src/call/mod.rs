//! A call: one task that owns an inbound leg (A), the outbound legs it rings (B) and the
//! media relay between them. The SIP task routes every SIP event of the call's transactions
//! and dialogs into its mailbox; the call answers through [`SipHandle`] commands.

mod app;
mod bridge;
pub mod cause;
mod eavesdrop;
mod events;
mod join;
pub mod leg;
mod media;
pub mod originate;
mod script;

pub use events::Control;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use rand::Rng;
use switch_sip::message::{Method, Request, Response};
use switch_sip::sdp::SessionDescription;
use switch_sip::transaction::{Peer, TxId};
use tokio::sync::mpsc;

use crate::cdr::{CdrRecord, Direction, Leg as CdrLeg, MediaQuality};
use crate::context::Context;
use crate::media::{LegCodec, MediaEvent, PlayEnd, Relay, RelayMode, SessionEvent, Side};
use crate::runtime::sip::SipCommand;
use leg::{Dialog, LegState, OutLeg};

/// The methods we accept, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REGISTER";

/// Where the SIP task sends a call's events.
pub type CallSender = mpsc::UnboundedSender<CallEvent>;

/// What reaches a call's mailbox.
#[derive(Debug)]
pub enum CallEvent {
    /// An in-dialog request (for either leg).
    Request {
        tx: TxId,
        request: Request,
        source: Peer,
    },
    /// An ACK for a 2xx we sent.
    Ack { request: Request },
    /// The caller cancelled its INVITE.
    Cancel { tx: TxId },
    /// A response to one of our requests.
    Response { tx: TxId, response: Response },
    /// A 2xx retransmission after our transaction ended: re-send the ACK.
    StrayResponse { response: Response },
    /// One of our requests got no answer.
    Timeout { tx: TxId },
    /// Our 2xx to the caller was never acknowledged.
    NoAck { tx: TxId },
    /// Hang up now (console, shutdown).
    Hangup { cause: String },
    /// A request from the API layer (uuid_getvar, uuid_setvar).
    Control(Control),
    /// A recording for a script heard enough silence.
    RecordSilence { tap: u64 },
}

/// How one application went, for the dialplan running it.
pub(crate) enum AppOutcome {
    /// Go on with the next action.
    Continue,
    /// It failed with this cause (e.g. a bridge nobody answered); the next action runs.
    Failed(String),
}

/// How often a call may be transferred (re-routed) before it is refused, against loops.
const MAX_TRANSFERS: u32 = 16;

/// A new call handed over by the SIP task.
pub struct Inbound {
    pub ctx: Arc<Context>,
    pub invite: Request,
    pub tx: TxId,
    pub source: Peer,
    /// The authenticated directory user, `None` for trusted sources.
    pub user: Option<String>,
    pub local_tag: String,
    pub owner: CallSender,
    pub inbox: mpsc::UnboundedReceiver<CallEvent>,
}

/// A random tag or branch-like token.
pub fn new_tag() -> String {
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

/// A new UUID in the usual text form: version 7 (RFC 9562), i.e. the Unix time in
/// milliseconds followed by 74 random bits. Clients treat it as opaque, as FreeSWITCH's; the
/// time prefix makes the CDR indexes on uuid and call_uuid grow at their end instead of
/// touching a random page per insert.
pub fn new_uuid() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[usize::from(x >> 4)] as char);
        s.push(HEX[usize::from(x & 0x0f)] as char);
    }
    s
}

/// Why a call ends, with the Q.850 name.
#[derive(Debug)]
pub(crate) struct End {
    pub cause: String,
    /// Not an end but `uuid_transfer`: what the call is routed to instead.
    pub transfer: Option<String>,
    /// Not an end but a join with another call (`uuid_bridge`).
    pub join: Option<Join>,
}

/// How a call takes part in joining two calls.
#[derive(Debug)]
pub(crate) enum Join {
    /// Give this call's leg away, answering here.
    HandOver(tokio::sync::oneshot::Sender<Result<join::HandedLeg, String>>),
    /// Bridge to this leg of another call.
    Adopt(Box<join::HandedLeg>),
    /// Run this application now, then park again (`sendmsg` execute on a parked channel,
    /// the outbound event socket).
    Execute(String, String),
    /// The leg was handed over: this call ends without touching it.
    Gone,
}

impl End {
    fn new(cause: &str) -> End {
        End {
            cause: cause.to_string(),
            transfer: None,
            join: None,
        }
    }

    /// Stops what the call is doing so it can be routed to `dest`.
    fn transfer(dest: &str) -> End {
        End {
            transfer: Some(dest.to_string()),
            ..End::new("NORMAL_CLEARING")
        }
    }

    /// Stops what the call is doing for a join.
    fn join(join: Join) -> End {
        End {
            join: Some(join),
            ..End::new("NORMAL_CLEARING")
        }
    }

    /// Whether the call must stop what it does but not end: a transfer or a join.
    pub(crate) fn redirects(&self) -> bool {
        self.transfer.is_some() || self.join.is_some()
    }
}

pub(crate) struct Call {
    ctx: Arc<Context>,
    uuid: String,
    owner: CallSender,
    inbox: mpsc::UnboundedReceiver<CallEvent>,
    media_rx: mpsc::UnboundedReceiver<MediaEvent>,
    media_tx: mpsc::UnboundedSender<MediaEvent>,
    a: Dialog,
    a_invite: Request,
    a_tx: TxId,
    a_state: LegState,
    a_ringing_sent: bool,
    a_early_sdp_sent: bool,
    a_sdp: Option<SessionDescription>,
    a_sdp_version: u64,
    a_sess_id: u64,
    relay: Option<Relay>,
    a_port: u16,
    b_port: Option<u16>,
    b_sdp_version: u64,
    b_sess_id: u64,
    forks: Vec<OutLeg>,
    winner: Option<usize>,
    forwards: HashMap<TxId, bridge::Forward>,
    vars: HashMap<String, String>,
    start: SystemTime,
    answer: Option<SystemTime>,
    caller_id_name: String,
    caller_id_number: String,
    destination: String,
    context: String,
    /// The SDP answer the caller got (or will get) from the switch, once fixed.
    a_answer: Option<Vec<u8>>,
    a_codec: Option<LegCodec>,
    b_codec: Option<LegCodec>,
    next_play_id: u64,
    play_done: Vec<(u64, PlayEnd)>,
    /// Digits the caller pressed that nothing has read yet.
    digits: VecDeque<char>,
    /// Events queued to the channel (sendevent with its Unique-ID), for input callbacks.
    session_events: VecDeque<crate::event::Event>,
    next_tap_id: u64,
    /// How long each finished playback played, by id, until someone reads it.
    play_ms: HashMap<u64, u64>,
    transfers: u32,
    /// The call's own leg was placed by the switch (originate), not received.
    a_outbound: bool,
    /// Sides on hold (hearing music on hold), by `uuid_hold`.
    held: Vec<Side>,
    /// In `park`: applications sent by `sendmsg` run at once.
    parked: bool,
}

/// Runs a call from its first INVITE to its CDR.
pub async fn run(inb: Inbound) {
    let ctx = inb.ctx.clone();
    let uuid = new_uuid();
    let contact = contact_for(&ctx, inb.source);
    let a = Dialog::from_inbound(&inb.invite, &inb.local_tag, inb.source, contact);
    let live = ctx.live();
    let dir_user = inb.user.as_deref().and_then(|u| live.directory.user(u));
    let from = inb.invite.from();
    let (caller_id_name, caller_id_number) = match dir_user {
        Some(u) => (u.caller_id_name.clone(), u.caller_id_number.clone()),
        None => (
            from.as_ref()
                .and_then(|f| f.display.clone())
                .map(|d| d.trim_matches('"').to_string())
                .unwrap_or_default(),
            from.as_ref()
                .and_then(|f| f.uri.user.clone())
                .unwrap_or_default(),
        ),
    };
    let mut vars = HashMap::new();
    if let Some(u) = dir_user {
        for (k, v) in &u.variables {
            vars.insert(k.clone(), v.clone());
        }
    }
    let context = dir_user
        .map(|u| u.context.clone())
        .unwrap_or_else(|| "public".to_string());
    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let mut call = Call {
        destination: inb.invite.uri.user.clone().unwrap_or_default(),
        ctx: ctx.clone(),
        uuid: uuid.clone(),
        owner: inb.owner.clone(),
        inbox: inb.inbox,
        media_rx,
        media_tx,
        a,
        a_tx: inb.tx,
        a_invite: inb.invite,
        a_state: LegState::Early,
        a_ringing_sent: false,
        a_early_sdp_sent: false,
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
        vars,
        start: SystemTime::now(),
        answer: None,
        caller_id_name,
        caller_id_number,
        context,
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
        a_outbound: false,
        held: Vec::new(),
        parked: false,
    };
    ctx.calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(uuid.clone(), inb.owner);
    call.on_created();
    tracing::info!(
        %uuid,
        caller = %call.caller_id_number,
        destination = %call.destination,
        source = %inb.source.addr,
        "new call"
    );
    let end = match call.setup_media().await {
        Ok(()) => call.route().await,
        Err(e) => e,
    };
    call.finish(end).await;
}

impl Call {
    /// Runs the dialplan, again after each `uuid_transfer`, and the joins `uuid_bridge`
    /// asks for, until the call ends.
    pub(crate) async fn route(&mut self) -> End {
        let first = self.execute().await;
        self.route_from(first).await
    }

    /// Goes on from how an application ended: a transfer routes again, a join hands over or
    /// bridges, anything else is the end.
    pub(crate) async fn route_from(&mut self, first: Result<(), End>) -> End {
        let mut next = first;
        loop {
            let end = match next {
                Ok(()) => return End::new("NORMAL_CLEARING"),
                Err(e) => e,
            };
            next = match (end.transfer, end.join) {
                (Some(dest), _) => match self.leave_for_transfer(&dest).await {
                    Ok(()) => self.execute().await,
                    Err(e) => return e,
                },
                (None, Some(Join::HandOver(reply))) => {
                    let r = self.hand_over().await;
                    let gone = r.is_ok();
                    let _ = reply.send(r);
                    if gone {
                        return End::join(Join::Gone);
                    }
                    // Not movable now: go back to the dialplan where it is parked.
                    self.park().await
                }
                (None, Some(Join::Adopt(leg))) => {
                    self.end_forks("NORMAL_CLEARING").await;
                    self.winner = None;
                    self.adopt(*leg).await;
                    match self.bridged().await {
                        Ok(bridge::Outcome::Done(c)) | Ok(bridge::Outcome::Failed(c)) => {
                            return End::new(&c)
                        }
                        Err(e) => Err(e),
                    }
                }
                (None, Some(Join::Execute(app, args))) => {
                    match Box::pin(self.run_app(&app, &args)).await {
                        Ok(_) => self.park().await,
                        Err(e) => Err(e),
                    }
                }
                (None, Some(Join::Gone)) => return End::join(Join::Gone),
                (None, None) => return End::new(&end.cause),
            };
        }
    }

    /// Ends the call: its legs, media and records, unless its leg moved to another call.
    pub(crate) async fn finish(self, end: End) {
        if matches!(end.join, Some(Join::Gone)) {
            tracing::info!(uuid = %self.uuid, "leg handed over to another call");
            return;
        }
        self.teardown(end).await;
    }

    /// Ends what the caller is connected to (a bridged leg, a playback) before it is routed
    /// to `dest`.
    async fn leave_for_transfer(&mut self, dest: &str) -> Result<(), End> {
        self.transfers += 1;
        if self.transfers > MAX_TRANSFERS {
            return Err(End::new("EXCHANGE_ROUTING_ERROR"));
        }
        self.end_forks("NORMAL_CLEARING").await;
        self.winner = None;
        if let Some(r) = &self.relay {
            r.stop_play(Side::A);
            r.set_mode(RelayMode::Idle);
        }
        self.set_codec(Side::B, None).await;
        tracing::info!(uuid = %self.uuid, from = %self.destination, to = %dest, "uuid_transfer");
        self.vars
            .insert("transfer_source".into(), self.destination.clone());
        self.destination = dest.to_string();
        Ok(())
    }
}

/// Our Contact for a leg reached over `peer`'s transport.
pub(crate) fn contact_for(ctx: &Context, peer: Peer) -> String {
    match ctx.sip.local_addr(peer.transport) {
        Some(addr) => match peer.transport {
            switch_sip::transaction::Transport::Udp => format!("<sip:ferroswitch@{addr}>"),
            switch_sip::transaction::Transport::Tcp => {
                format!("<sip:ferroswitch@{addr};transport=tcp>")
            }
        },
        None => "<sip:ferroswitch@127.0.0.1>".to_string(),
    }
}

impl Call {
    /// Parses the caller's offer and opens the A leg's RTP port and relay.
    async fn setup_media(&mut self) -> Result<(), End> {
        if !self.a_invite.body.is_empty() {
            match SessionDescription::parse(&self.a_invite.body) {
                Ok(sdp) if sdp.audio().is_some() => {
                    tracing::debug!(
                        uuid = %self.uuid,
                        offer = ?sdp.audio().map(|a| a.offered_formats().iter().map(|f| f.rtpmap_value()).collect::<Vec<_>>()),
                        "caller's offer"
                    );
                    self.a_sdp = Some(sdp)
                }
                Ok(_) | Err(_) => {
                    tracing::info!(uuid = %self.uuid, "offer without usable audio");
                    return Err(End::new("INCOMPATIBLE_DESTINATION"));
                }
            }
        }
        let port = match self.ctx.ports.allocate().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(uuid = %self.uuid, error = %e, "no RTP port");
                return Err(End::new("NORMAL_TEMPORARY_FAILURE"));
            }
        };
        self.a_port = port.port();
        let m = &self.ctx.config.media;
        let cfg = crate::media::RelayConfig {
            timeout: self.ctx.config.rtp.timeout,
            latch: self.ctx.latch_mode(),
            jitter_ms: (
                m.jitter_min.as_millis() as u32,
                m.jitter_max.as_millis() as u32,
            ),
        };
        let relay = crate::media::spawn_relay(port, cfg, self.media_tx.clone(), 0);
        if let Some(sdp) = &self.a_sdp {
            learn_sdp(&relay, Side::A, sdp, self.a.peer.addr.ip());
        }
        self.relay = Some(relay);
        Ok(())
    }

    /// Routes the call: the context's script when the dialplan names one, else the TOML
    /// rules for the destination.
    async fn execute(&mut self) -> Result<(), End> {
        let live = self.ctx.live();
        if let Some(script) = live.dialplan.context_script(&self.context) {
            let script = script.to_string();
            let dest = self.destination.clone();
            // A dialplan lookup, not an application: no CHANNEL_EXECUTE for it.
            return match self
                .run_app_inner("lua", &format!("{script} {dest}"))
                .await?
            {
                AppOutcome::Continue => Ok(()),
                AppOutcome::Failed(cause) => Err(End::new(&cause)),
            };
        }
        // ${uuid}, ${caller_id_number}... expand too, as in FreeSWITCH.
        let actions = live
            .dialplan
            .route(&self.destination, &|k| self.variable(k));
        let Some(actions) = actions else {
            tracing::info!(uuid = %self.uuid, destination = %self.destination, "no route");
            return Err(End::new("NO_ROUTE_DESTINATION"));
        };
        self.run_actions(actions).await
    }

    /// Runs `actions` in order; the call ends with the last failure's cause if any failed.
    async fn run_actions(&mut self, actions: Vec<crate::config::Action>) -> Result<(), End> {
        let mut last_failure: Option<String> = None;
        for action in actions {
            match self.run_app(&action.app, &action.args).await? {
                AppOutcome::Continue => {}
                AppOutcome::Failed(cause) => last_failure = Some(cause),
            }
        }
        match last_failure {
            Some(cause) => Err(End::new(&cause)),
            None => Ok(()),
        }
    }

    /// Runs one dialplan application, with its CHANNEL_EXECUTE events. Err when the call is
    /// over.
    pub(crate) async fn run_app(&mut self, app: &str, args: &str) -> Result<AppOutcome, End> {
        let args = args.trim();
        tracing::debug!(uuid = %self.uuid, %app, %args, "execute");
        self.vars
            .insert("current_application".into(), app.to_string());
        self.on_execute(app, args, false);
        let r = self.run_app_inner(app, args).await;
        self.on_execute(app, args, true);
        r
    }

    async fn run_app_inner(&mut self, app: &str, args: &str) -> Result<AppOutcome, End> {
        match app {
            "answer" => self.answer().await?,
            "pre_answer" => self.pre_answer().await?,
            "playback" => {
                self.answer().await?;
                self.playback(args, "").await?;
            }
            // FreeSWITCH's speak engine|voice|text (tts_engine / tts_voice fill what is left out).
            "speak" => {
                self.answer().await?;
                let target = match args.matches('|').count() {
                    0 => format!(
                        "{}|{}|{args}",
                        self.vars.get("tts_engine").map_or("", String::as_str),
                        self.vars.get("tts_voice").map_or("", String::as_str)
                    ),
                    _ => args.to_string(),
                };
                self.playback(&format!("tts://{target}"), "").await?;
            }
            "send_dtmf" => self.send_dtmf(args),
            "echo" => {
                self.answer().await?;
                if let Some(r) = &self.relay {
                    r.set_mode(RelayMode::Echo);
                }
                self.park().await?;
            }
            "park" => self.park().await?,
            "eavesdrop" => self.eavesdrop(args).await?,
            "hangup" => {
                return Err(End::new(if args.is_empty() {
                    "NORMAL_CLEARING"
                } else {
                    args
                }))
            }
            "sleep" => {
                let ms: u64 = args.parse().unwrap_or(0);
                let until = Instant::now() + std::time::Duration::from_millis(ms);
                self.wait_until(until, |_| false).await?;
            }
            "set" => {
                if let Some((k, v)) = args.split_once('=') {
                    self.vars.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            "unset" => {
                self.vars.remove(args);
            }
            "bridge" => match self.bridge(args).await? {
                bridge::Outcome::Done(cause) => return Err(End::new(&cause)),
                bridge::Outcome::Failed(cause) => return Ok(AppOutcome::Failed(cause)),
            },
            "transfer" => {
                let dest = args.split_whitespace().next().unwrap_or("").to_string();
                return Box::pin(self.transfer(dest)).await;
            }
            "socket" => return self.outbound_socket(args).await,
            "lua" => {
                let mut parts = args.split_whitespace().map(str::to_string);
                let Some(script) = parts.next() else {
                    tracing::warn!(uuid = %self.uuid, "lua: no script named");
                    return Ok(AppOutcome::Failed("DESTINATION_OUT_OF_ORDER".into()));
                };
                let argv: Vec<String> = parts.collect();
                match self.run_script(&script, argv).await? {
                    script::ScriptEnd::Continue(actions) => {
                        Box::pin(self.run_actions(actions)).await?;
                    }
                    script::ScriptEnd::Transfer(dest) => {
                        return Box::pin(self.transfer(dest)).await;
                    }
                    script::ScriptEnd::Hangup => return Err(End::new("NORMAL_CLEARING")),
                }
            }
            other => {
                if let Some(entry) = self.ctx.apps.get(other) {
                    return Box::pin(self.run_registered(entry, args)).await;
                }
                tracing::warn!(uuid = %self.uuid, app = other, "application not available");
                return Ok(AppOutcome::Failed("REQUESTED_CHAN_UNAVAIL".into()));
            }
        }
        Ok(AppOutcome::Continue)
    }

    /// FreeSWITCH's `socket host:port [async] [full]`: connects to an external controller
    /// that drives the call over the event-socket protocol (outbound mode) and parks until
    /// it is done; the call ends when the controller disconnects.
    async fn outbound_socket(&mut self, args: &str) -> Result<AppOutcome, End> {
        let target = args.split_whitespace().next().unwrap_or("").to_string();
        let connect = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::TcpStream::connect(target.clone()),
        )
        .await;
        let stream = match connect {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(uuid = %self.uuid, %target, error = %e, "socket: cannot connect");
                return Ok(AppOutcome::Failed("DESTINATION_OUT_OF_ORDER".into()));
            }
            Err(_) => {
                tracing::warn!(uuid = %self.uuid, %target, "socket: connect timed out");
                return Ok(AppOutcome::Failed("DESTINATION_OUT_OF_ORDER".into()));
            }
        };
        tracing::info!(uuid = %self.uuid, %target, "outbound event socket connected");
        let ctx = self.ctx.clone();
        let uuid = self.uuid.clone();
        let owner = self.owner.clone();
        tokio::spawn(async move {
            crate::esl::serve_outbound(ctx, stream, uuid).await;
            let _ = owner.send(CallEvent::Hangup {
                cause: "NORMAL_CLEARING".into(),
            });
        });
        self.park().await?;
        Ok(AppOutcome::Continue)
    }

    /// Routes the call again to `dest` (FreeSWITCH's `transfer`); the current actions stop.
    async fn transfer(&mut self, dest: String) -> Result<AppOutcome, End> {
        self.transfers += 1;
        if self.transfers > MAX_TRANSFERS || dest.is_empty() {
            tracing::warn!(uuid = %self.uuid, %dest, transfers = self.transfers, "transfer refused");
            return Err(End::new("EXCHANGE_ROUTING_ERROR"));
        }
        tracing::info!(uuid = %self.uuid, from = %self.destination, to = %dest, "transfer");
        self.vars
            .insert("transfer_source".into(), self.destination.clone());
        self.destination = dest;
        Box::pin(self.execute()).await?;
        Err(End::new("NORMAL_CLEARING"))
    }

    /// Answers the A leg with the switch's own SDP answer (the codec negotiated from the
    /// caller's offer), if not answered yet. No shared codec: 488.
    async fn answer(&mut self) -> Result<(), End> {
        if self.a_state != LegState::Early {
            return Ok(());
        }
        let body = self.ensure_a_answer().await?;
        let mut resp = self.a_invite.response(200, Some(self.a.local_tag()));
        resp.headers.push("Contact", &self.a.contact);
        resp.headers.push("Allow", ALLOW);
        if let Some(body) = body {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = body;
        }
        self.respond(self.a_tx, resp);
        self.a_state = LegState::Answered;
        self.answer = Some(SystemTime::now());
        if let Some(r) = &self.relay {
            r.set_timed(Side::A, Some(true));
        }
        self.on_answered();
        Ok(())
    }

    /// Waits until the caller hangs up (or the media times out).
    async fn park(&mut self) -> Result<(), End> {
        self.parked = true;
        let r = loop {
            if let Err(e) = self.wait(None).await {
                break Err(e);
            }
        };
        self.parked = false;
        r
    }

    /// Waits for the deadline, handling the caller's in-dialog requests meanwhile.
    /// Events that belong to B legs are ignored here (none are live outside a bridge).
    async fn wait(&mut self, until: Option<Instant>) -> Result<(), End> {
        loop {
            match self.next_event(until).await? {
                None if until.is_some_and(|u| Instant::now() >= u) => return Ok(()),
                None => {}
                Some(ev) => self.background(ev)?,
            }
        }
    }

    /// The next mailbox event, or `None` at the deadline or after a media event was taken
    /// in (digits, a playback's end): callers re-check what they wait for. Media timeouts
    /// end the call.
    async fn next_event(&mut self, until: Option<Instant>) -> Result<Option<CallEvent>, End> {
        let sleep = async {
            match until {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = self.inbox.recv() => match ev {
                Some(ev) => Ok(Some(ev)),
                None => Err(End::new("SYSTEM_SHUTDOWN")),
            },
            Some(m) = self.media_rx.recv() => match m {
                MediaEvent::Timeout { side, .. } => {
                    tracing::info!(uuid = %self.uuid, ?side, "no RTP: media timeout");
                    Err(End::new("MEDIA_TIMEOUT"))
                }
                MediaEvent::Session { event, .. } => {
                    self.media_event(event).await;
                    Ok(None)
                }
                _ => Ok(None),
            },
            _ = sleep => Ok(None),
        }
    }

    /// Takes in what the media engine reports.
    async fn media_event(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Dtmf {
                side,
                digit,
                duration_ms,
                source,
            } => {
                tracing::info!(uuid = %self.uuid, ?side, %digit, duration_ms, ?source, "DTMF");
                self.on_dtmf(side, digit, duration_ms, source);
                if side == Side::A {
                    self.digits.push_back(digit);
                    // A caller who keeps pressing keys nobody reads must not grow memory.
                    while self.digits.len() > 128 {
                        self.digits.pop_front();
                    }
                }
            }
            SessionEvent::PlayDone {
                id, end, played_ms, ..
            } => {
                self.play_done.push((id, end));
                self.play_ms.insert(id, played_ms);
                // Nobody waits for ringback and stopped playbacks: keep the lists short.
                if self.play_done.len() > 32 {
                    self.play_done.remove(0);
                }
                if self.play_ms.len() > 32 {
                    let oldest = self.play_ms.keys().min().copied();
                    if let Some(k) = oldest {
                        self.play_ms.remove(&k);
                    }
                }
            }
            SessionEvent::DtmfToSignalling {
                side,
                digit,
                duration_ms,
            } => self.send_info_dtmf(side, digit, duration_ms).await,
            SessionEvent::Timeout { .. } => {}
        }
    }

    /// Handles an event while no B leg is up: the caller's BYE, CANCEL, re-INVITE.
    fn background(&mut self, ev: CallEvent) -> Result<(), End> {
        match ev {
            CallEvent::Cancel { .. } => Err(End::new("ORIGINATOR_CANCEL")),
            CallEvent::Hangup { cause } => Err(End::new(&cause)),
            CallEvent::Control(c) => self.control(c),
            CallEvent::NoAck { tx } if tx == self.a_tx => Err(End::new("RECOVERY_ON_TIMER_EXPIRE")),
            CallEvent::Request { tx, request, .. } => {
                match request.method {
                    Method::Bye => {
                        let r = request.response(200, None);
                        self.respond(tx, r);
                        self.a_state = LegState::Ended;
                        Err(End::new("NORMAL_CLEARING"))
                    }
                    Method::Invite | Method::Update if !request.body.is_empty() => {
                        // A re-offer while we terminate the media: answer it ourselves.
                        let sdp = match SessionDescription::parse(&request.body) {
                            Ok(sdp) => sdp,
                            Err(e) => {
                                let mut r = request.response(488, None);
                                r.reason = format!("Not Acceptable Here ({e})");
                                self.respond(tx, r);
                                return Ok(());
                            }
                        };
                        if let Some(relay) = &self.relay {
                            learn_sdp(relay, Side::A, &sdp, self.a.peer.addr.ip());
                        }
                        let previous = self.a_sdp.replace(sdp);
                        match self.local_answer_to_a() {
                            Ok(Some((body, codec))) => {
                                let mut r = request.response(200, None);
                                r.headers.push("Contact", &self.a.contact);
                                r.headers.push("Content-Type", "application/sdp");
                                r.body = body.clone();
                                self.respond(tx, r);
                                self.a_answer = Some(body);
                                if self.a_codec.as_ref() != Some(&codec) {
                                    self.a_codec = Some(codec.clone());
                                    if let Some(relay) = self.relay.clone() {
                                        // Commands keep their order: no need to wait here.
                                        tokio::spawn(async move {
                                            let _ = relay.set_codec(Side::A, Some(codec)).await;
                                        });
                                    }
                                }
                            }
                            _ => {
                                self.a_sdp = previous;
                                let r = request.response(488, None);
                                self.respond(tx, r);
                            }
                        }
                        Ok(())
                    }
                    Method::Info => {
                        self.info_dtmf(Side::A, &request);
                        let r = request.response(200, None);
                        self.respond(tx, r);
                        Ok(())
                    }
                    _ => {
                        let r = request.response(200, None);
                        self.respond(tx, r);
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    /// A SIP INFO carrying a digit (`application/dtmf-relay` or `application/dtmf`) from
    /// `side`: handed to the media engine, which reports it and relays it when bridged.
    pub(crate) fn info_dtmf(&mut self, side: Side, request: &Request) -> bool {
        let ct = request.headers.get("Content-Type").unwrap_or("");
        if !switch_media::dtmf::InfoDtmf::is_dtmf_content_type(ct) {
            return false;
        }
        let body = String::from_utf8_lossy(&request.body);
        match switch_media::dtmf::InfoDtmf::parse(ct, &body) {
            Ok(d) => {
                if let Some(r) = &self.relay {
                    r.signalled_dtmf(side, d.digit.char(), d.duration_ms);
                }
                true
            }
            Err(e) => {
                tracing::info!(uuid = %self.uuid, error = %e, "bad DTMF INFO ignored");
                true
            }
        }
    }

    pub(crate) fn respond(&self, tx: TxId, response: Response) {
        self.ctx.sip.send(SipCommand::Respond { tx, response });
    }

    /// Sends an in-dialog request on the A leg without waiting for its answer.
    async fn send_a(&mut self, method: Method) {
        let req = self.a.request(method);
        let dest = self.a.peer;
        let _ = self.ctx.sip.request(req, dest, self.owner.clone()).await;
    }

    /// Ends the caller's leg in signalling: the final response while it rings, a BYE once
    /// answered. Nothing when it already ended.
    pub(crate) async fn hangup_a(&mut self, cause: &str) {
        match self.a_state {
            LegState::Early => {
                let status = cause::cause_to_sip(cause);
                let mut r = self.a_invite.response(status, Some(self.a.local_tag()));
                if status == 503 || cause == "NORMAL_TEMPORARY_FAILURE" {
                    r.headers
                        .push("Reason", &format!("Q.850;cause=41;text=\"{cause}\""));
                }
                self.respond(self.a_tx, r);
            }
            LegState::Answered => self.send_a(Method::Bye).await,
            LegState::Ended => {}
        }
        self.a_state = LegState::Ended;
    }

    /// Ends every leg that is still up, frees the media and writes the CDRs.
    async fn teardown(mut self, end: End) {
        let cause = end.cause;
        self.hangup_a(&cause).await;
        self.end_forks(&cause).await;
        let stats = match &self.relay {
            Some(r) => {
                let s = r.stats().await;
                r.stop();
                s
            }
            None => None,
        };
        let end_time = SystemTime::now();
        let (pin, pout, bin, bout) = stats
            .as_ref()
            .map(|s| (s.a.packets_in, s.a.packets_out, s.a.bytes_in, s.a.bytes_out))
            .unwrap_or_default();
        self.ctx.cdr.write(CdrRecord {
            uuid: self.uuid.clone(),
            call_uuid: self.uuid.clone(),
            leg: CdrLeg::A,
            direction: if self.a_outbound {
                Direction::Outbound
            } else {
                Direction::Inbound
            },
            sip_call_id: self.a.call_id.clone(),
            caller_id_name: self.caller_id_name.clone(),
            caller_id_number: self.caller_id_number.clone(),
            destination_number: self.destination.clone(),
            context: self.context.clone(),
            start: self.start,
            answer: self.answer,
            end: end_time,
            hangup_cause: cause.clone(),
            remote_addr: self.a.peer.addr.to_string(),
            rtp_packets_in: pin,
            rtp_packets_out: pout,
            rtp_bytes_in: bin,
            rtp_bytes_out: bout,
            media: quality(stats.as_ref().map(|s| &s.legs[0]), self.a_codec.as_ref()),
        });
        for (i, f) in self.forks.iter().enumerate() {
            let (pin, pout, bin, bout) = match (&stats, self.winner == Some(i)) {
                (Some(s), true) => (s.b.packets_in, s.b.packets_out, s.b.bytes_in, s.b.bytes_out),
                _ => (0, 0, 0, 0),
            };
            let leg_cause = match f.final_status {
                Some(s) if s >= 300 => cause::sip_to_cause(s).to_string(),
                _ => cause.clone(),
            };
            self.ctx.cdr.write(CdrRecord {
                uuid: f.uuid.clone(),
                call_uuid: self.uuid.clone(),
                leg: CdrLeg::B,
                direction: Direction::Outbound,
                sip_call_id: f.dialog.call_id.clone(),
                caller_id_name: self.caller_id_name.clone(),
                caller_id_number: self.caller_id_number.clone(),
                destination_number: f.destination.clone(),
                context: self.context.clone(),
                start: f.start,
                answer: f.answer,
                end: end_time,
                hangup_cause: leg_cause,
                remote_addr: f.dialog.peer.addr.to_string(),
                rtp_packets_in: pin,
                rtp_packets_out: pout,
                rtp_bytes_in: bin,
                rtp_bytes_out: bout,
                media: match self.winner == Some(i) {
                    true => quality(stats.as_ref().map(|s| &s.legs[1]), self.b_codec.as_ref()),
                    false => MediaQuality::default(),
                },
            });
        }
        self.ctx.sip.send(SipCommand::DialogGone {
            call_id: self.a.call_id.clone(),
            tag: self.a.local_tag().to_string(),
        });
        for f in &self.forks {
            self.ctx.sip.send(SipCommand::DialogGone {
                call_id: f.dialog.call_id.clone(),
                tag: f.dialog.local_tag().to_string(),
            });
        }
        self.ctx
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.uuid);
        self.on_ended(&cause);
        tracing::info!(uuid = %self.uuid, %cause, "call ended");
    }
}

/// The CDR's media columns from the relay's figures of one side.
fn quality(stats: Option<&crate::media::LegStats>, codec: Option<&LegCodec>) -> MediaQuality {
    let Some(s) = stats else {
        return MediaQuality::default();
    };
    let jitter = s.jitter.unwrap_or_default();
    MediaQuality {
        codec: codec.map(|c| c.desc.name().to_string()).unwrap_or_default(),
        // RTCP-style loss counts every packet of the stream; the jitter buffer only those
        // the switch decoded.
        lost: if s.rtcp.expected > 0 {
            s.rtcp.lost.max(0)
        } else {
            jitter.lost as i64
        },
        late: jitter.late,
        jitter_ms: s.rtcp.jitter_ms.max(jitter.jitter_ms),
        rtt_ms: s.rtcp.rtt_ms,
        dtmf_in: s.dtmf_in,
    }
}

/// Tells the relay where a leg wants its media, and whether it is on hold.
pub(crate) fn learn_sdp(
    relay: &Relay,
    side: Side,
    sdp: &SessionDescription,
    signalling_ip: IpAddr,
) {
    use switch_sip::sdp::Direction as D;
    if let Some(dest) = sdp.rtp_destination() {
        let behind_nat = dest.ip() != signalling_ip && !dest.ip().is_unspecified();
        if !dest.ip().is_unspecified() && dest.port() != 0 {
            relay.set_remote(side, dest, behind_nat);
            // A peer that can mux takes RTCP on its RTP port (the switch answers with mux
            // when offered it); otherwise a=rtcp or the next port.
            if sdp.audio().is_some_and(|a| a.rtcp_mux()) {
                relay.set_rtcp(side, crate::media::RtcpRemote::Mux);
            } else if let Some(rtcp) = sdp.rtcp_destination() {
                relay.set_rtcp(side, crate::media::RtcpRemote::At(rtcp));
            }
        }
    }
    // A side that only receives (or neither sends nor receives) sends no RTP to time out on.
    let held = !matches!(sdp.direction(), D::SendRecv)
        || sdp
            .rtp_destination()
            .is_some_and(|d: SocketAddr| d.ip().is_unspecified());
    relay.set_hold(side, held);
}

#[cfg(test)]
mod uuid_tests {
    use super::new_uuid;

    #[test]
    fn uuids_are_version_7_and_ordered_by_time() {
        let a = new_uuid();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_uuid();
        for u in [&a, &b] {
            let groups: Vec<&str> = u.split('-').collect();
            let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{u}");
            assert!(u
                .bytes()
                .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            assert!(groups[2].starts_with('7'), "version of {u}");
            assert!(
                matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
                "variant of {u}"
            );
        }
        // The first 48 bits are the time in milliseconds: a later UUID sorts after.
        assert!(a[..13] < b[..13], "{a} then {b}");
        let ms = u64::from_str_radix(&a[..8], 16).unwrap() << 16
            | u64::from_str_radix(&a[9..13], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now >= ms && now - ms < 5_000, "{ms} vs {now}");
        assert_ne!(new_uuid(), new_uuid());
    }
}
