//! The `bridge` application: ring B legs (every registered contact at once), relay their
//! progress to the caller, connect the first to answer, then pass in-dialog requests
//! (re-INVITE, UPDATE, INFO) across until one side hangs up.

use std::time::{Duration, Instant, SystemTime};

use switch_sip::message::{Method, NameAddr, Request, Response, Uri};
use switch_sip::sdp::SessionDescription;
use switch_sip::transaction::{Peer, Transport, TxId};

use super::leg::{Dialog, LegState, OutLeg};
use super::media::{leg_codec, sdp_codec};
use super::{cause, learn_sdp, new_tag, new_uuid, Call, CallEvent, End, ALLOW};
use crate::media::{RelayMode, Side};
use crate::runtime::sip::SipCommand;

/// How a bridge attempt ended.
pub(crate) enum Outcome {
    /// The call was bridged and is now over, with this cause.
    Done(String),
    /// No B leg answered; the dialplan may go on.
    Failed(String),
}

/// An in-dialog request passed from one leg to the other, waiting for its answer.
pub(crate) struct Forward {
    server_tx: TxId,
    from_a: bool,
    request: Request,
}

impl Call {
    pub(crate) async fn bridge(&mut self, dialstring: &str) -> Result<Outcome, End> {
        let targets = self.resolve(dialstring);
        if targets.is_empty() {
            tracing::info!(uuid = %self.uuid, %dialstring, "bridge: nobody to ring");
            return Ok(Outcome::Failed("USER_NOT_REGISTERED".into()));
        }
        if self.b_port.is_none() {
            match self.ctx.ports.allocate().await {
                Ok(p) => {
                    self.b_port = Some(p.port());
                    if let Some(r) = &self.relay {
                        r.attach_b(p);
                    }
                }
                Err(e) => {
                    tracing::error!(uuid = %self.uuid, error = %e, "no RTP port for B leg");
                    return Ok(Outcome::Failed("NORMAL_TEMPORARY_FAILURE".into()));
                }
            }
        }
        let first_fork = self.forks.len();
        for (dest, uri, peer) in targets {
            self.ring(dest, uri, peer).await;
        }
        let ring_secs = self
            .vars
            .get("call_timeout")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(self.ctx.config.sip.ring_timeout);
        let deadline = Instant::now() + ring_secs;
        loop {
            let Some(ev) = self.next_event(Some(deadline)).await? else {
                tracing::info!(uuid = %self.uuid, "bridge: ring timeout");
                self.end_forks("NO_ANSWER").await;
                return Ok(Outcome::Failed("NO_ANSWER".into()));
            };
            match ev {
                CallEvent::Response { tx, response } => {
                    let Some(i) = self.fork_of(tx) else { continue };
                    if let Some(done) = self.fork_response(i, response).await {
                        match done {
                            Ok(()) => break,
                            Err(cause) => return Ok(Outcome::Failed(cause)),
                        }
                    }
                }
                CallEvent::Timeout { tx } => {
                    if let Some(i) = self.fork_of(tx) {
                        self.forks[i].state = LegState::Ended;
                        self.forks[i].final_status = Some(408);
                        self.on_b_ended(i, "RECOVERY_ON_TIMER_EXPIRE");
                        if let Some(cause) = self.all_failed(first_fork) {
                            return Ok(Outcome::Failed(cause));
                        }
                    }
                }
                other => self.background(other)?,
            }
        }
        self.bridged().await
    }

    /// Turns a dial string (`user/1001,user/1002` or `sip:1001@127.0.0.1:5070`) into
    /// (destination, request URI, where to send) triples.
    pub(super) fn resolve(&self, dialstring: &str) -> Vec<(String, Uri, Peer)> {
        let now = Instant::now();
        let mut out = Vec::new();
        for part in dialstring
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(user) = part.strip_prefix("user/") {
                let user = user.split('@').next().unwrap_or(user);
                for b in self.ctx.registrations.lookup(user, now) {
                    out.push((user.to_string(), b.uri, b.source));
                }
            } else if part.starts_with("sip:") {
                let Ok(uri) = Uri::parse(part) else {
                    tracing::warn!(uuid = %self.uuid, target = part, "bridge: bad SIP URI");
                    continue;
                };
                let Some(ip) = uri.host.ip() else {
                    tracing::warn!(uuid = %self.uuid, target = part, "bridge: only IP hosts are supported");
                    continue;
                };
                let transport = match uri.transport().as_deref() {
                    Some("tcp") => Transport::Tcp,
                    _ => Transport::Udp,
                };
                let peer = Peer {
                    transport,
                    addr: (ip, uri.port.unwrap_or(5060)).into(),
                };
                out.push((uri.user.clone().unwrap_or_default(), uri, peer));
            } else {
                tracing::warn!(uuid = %self.uuid, target = part, "bridge: unknown endpoint type");
            }
        }
        out
    }

    /// Sends the INVITE of one B leg.
    async fn ring(&mut self, dest: String, uri: Uri, peer: Peer) {
        let body = self.b_port.map(|port| self.b_offer(port));
        self.ring_with(dest, uri, peer, body).await;
    }

    /// Sends the INVITE of one outgoing leg with `body` as its SDP offer.
    pub(super) async fn ring_with(
        &mut self,
        dest: String,
        uri: Uri,
        peer: Peer,
        body: Option<Vec<u8>>,
    ) {
        let domain = self.ctx.config.sip.domain.clone();
        let mut local = NameAddr::new(Uri::sip(Some(&self.caller_id_number), &domain, None));
        if !self.caller_id_name.is_empty() {
            local.display = Some(format!("\"{}\"", self.caller_id_name.replace('"', "")));
        }
        local.params.set("tag", Some(&new_tag()));
        let remote = NameAddr::new(Uri::sip(Some(&dest), &domain, None));
        let contact = super::contact_for(&self.ctx, peer);
        let mut dialog = Dialog {
            call_id: format!("{}@{}", new_uuid(), domain),
            local,
            remote,
            remote_target: uri,
            route_set: Vec::new(),
            local_cseq: 0,
            peer,
            contact,
        };
        let mut req = dialog.request(Method::Invite);
        let mf = self.a_invite.max_forwards().unwrap_or(70).saturating_sub(1);
        req.headers.push("Max-Forwards", &mf.to_string());
        req.headers.push("Allow", ALLOW);
        if let Some(body) = body {
            req.body = body;
            req.headers.push("Content-Type", "application/sdp");
        }
        self.ctx.sip.send(SipCommand::Dialog {
            call_id: dialog.call_id.clone(),
            tag: dialog.local_tag().to_string(),
            owner: self.owner.clone(),
        });
        let Some(tx) = self.ctx.sip.request(req, peer, self.owner.clone()).await else {
            return;
        };
        tracing::info!(uuid = %self.uuid, %dest, to = %peer.addr, "ringing B leg");
        self.forks.push(OutLeg {
            uuid: new_uuid(),
            dialog,
            invite_tx: tx,
            invite_cseq: 1,
            state: LegState::Early,
            final_status: None,
            start: SystemTime::now(),
            answer: None,
            destination: dest,
            sent_cancel: false,
            vars: None,
        });
        self.on_b_created();
    }

    /// Rewrites an SDP for the A leg (`to_a`) or the B leg, bumping that leg's version.
    fn sdp_for(&mut self, mut sdp: SessionDescription, to_a: bool, port: u16) -> Vec<u8> {
        let (id, ver) = if to_a {
            self.a_sdp_version += 1;
            (self.a_sess_id, self.a_sdp_version)
        } else {
            self.b_sdp_version += 1;
            (self.b_sess_id, self.b_sdp_version)
        };
        sdp.rewrite_for_relay(self.ctx.config.rtp.ip, port, Some((id, ver)));
        sdp.to_bytes()
    }

    pub(super) fn fork_of(&self, tx: TxId) -> Option<usize> {
        self.forks.iter().position(|f| f.invite_tx == tx)
    }

    /// The cause when every fork since `first` has failed, preferring busy.
    pub(super) fn all_failed(&self, first: usize) -> Option<String> {
        let forks = &self.forks[first..];
        if forks.iter().any(|f| f.state != LegState::Ended) {
            return None;
        }
        let statuses: Vec<u16> = forks.iter().filter_map(|f| f.final_status).collect();
        let status = if statuses.contains(&486) {
            486
        } else {
            statuses.first().copied().unwrap_or(480)
        };
        Some(cause::sip_to_cause(status).to_string())
    }

    /// Handles a response on fork `i` while ringing. `Some(Ok)` when it answered,
    /// `Some(Err(cause))` when every fork has failed.
    async fn fork_response(&mut self, i: usize, resp: Response) -> Option<Result<(), String>> {
        let status = resp.status;
        if self.forks[i].state == LegState::Ended {
            if (200..300).contains(&status) {
                // A late answer from a fork we gave up on: acknowledge and release it.
                self.ack_fork(i, &resp);
                self.bye_fork(i).await;
            }
            return None;
        }
        self.forks[i].dialog.update_from_response(&resp);
        let sdp = SessionDescription::parse(&resp.body).ok();
        if let (Some(sdp), Some(relay)) = (&sdp, &self.relay) {
            learn_sdp(relay, Side::B, sdp, self.forks[i].dialog.peer.addr.ip());
        }
        match status {
            100 => None,
            101..=199 => {
                if let Some(sdp) = sdp {
                    if self.a_state == LegState::Early {
                        // Early media flows B to A only and is not timed: a caller may be silent.
                        let body = match self.b_media(&sdp).await {
                            Ok(b) => b,
                            Err(e) => return Some(Err(e.cause)),
                        };
                        if let Some(r) = &self.relay {
                            r.stop_play(Side::A);
                            r.set_mode(RelayMode::Early);
                        }
                        if !self.a_early_sdp_sent {
                            let mut r = self.a_invite.response(183, Some(self.a.local_tag()));
                            r.headers.push("Contact", &self.a.contact);
                            if let Some(body) = body {
                                r.headers.push("Content-Type", "application/sdp");
                                r.body = body;
                            }
                            self.respond(self.a_tx, r);
                            self.a_early_sdp_sent = true;
                            self.on_progress(true);
                        }
                    }
                } else if !self.a_ringing_sent
                    && !self.a_early_sdp_sent
                    && self.a_state == LegState::Early
                {
                    match self.start_ringback().await {
                        Ok(true) => {}
                        Ok(false) => {
                            let mut r = self.a_invite.response(180, Some(self.a.local_tag()));
                            r.headers.push("Contact", &self.a.contact);
                            self.respond(self.a_tx, r);
                        }
                        Err(e) => return Some(Err(e.cause)),
                    }
                    self.a_ringing_sent = true;
                    self.on_progress(false);
                }
                None
            }
            200..=299 => {
                self.ack_fork(i, &resp);
                self.forks[i].state = LegState::Answered;
                self.forks[i].final_status = Some(status);
                self.forks[i].answer = Some(SystemTime::now());
                self.winner = Some(i);
                self.on_b_answered(i);
                let body = match &sdp {
                    Some(sdp) => match self.b_media(sdp).await {
                        Ok(b) => b,
                        Err(e) => {
                            self.bye_fork(i).await;
                            return Some(Err(e.cause));
                        }
                    },
                    None => self.a_answer.clone(),
                };
                if let Some(r) = &self.relay {
                    r.stop_play(Side::A);
                    r.set_mode(RelayMode::Bridge);
                    r.set_timed(Side::A, None);
                }
                for j in 0..self.forks.len() {
                    if j != i && self.forks[j].state == LegState::Early {
                        self.cancel_fork(j, "LOSE_RACE");
                    }
                }
                if self.a_state == LegState::Early {
                    let mut r = self.a_invite.response(200, Some(self.a.local_tag()));
                    r.headers.push("Contact", &self.a.contact);
                    r.headers.push("Allow", ALLOW);
                    if let Some(body) = body {
                        r.headers.push("Content-Type", "application/sdp");
                        r.body = body;
                    }
                    self.respond(self.a_tx, r);
                    self.a_state = LegState::Answered;
                    self.answer = Some(SystemTime::now());
                    self.on_answered();
                }
                self.on_bridged(i);
                tracing::info!(
                    uuid = %self.uuid,
                    dest = %self.forks[i].destination,
                    a = ?self.a_codec.as_ref().map(|c| c.desc.name()),
                    b = ?self.b_codec.as_ref().map(|c| c.desc.name()),
                    "bridged"
                );
                Some(Ok(()))
            }
            _ => {
                self.forks[i].state = LegState::Ended;
                self.forks[i].final_status = Some(status);
                self.on_b_ended(i, cause::sip_to_cause(status));
                tracing::info!(uuid = %self.uuid, dest = %self.forks[i].destination, status, "B leg failed");
                let first = 0;
                self.all_failed(first).map(Err)
            }
        }
    }

    /// Takes in a B leg's SDP (early or final): its codec goes to the relay, and the caller's
    /// answer is fixed if it was not yet: B's own answer passed on when the caller offered
    /// the same codec (packets then go straight through), else the switch's answer with the
    /// caller's best codec (the relay transcodes). Returns the body for the caller.
    async fn b_media(&mut self, sdp: &SessionDescription) -> Result<Option<Vec<u8>>, End> {
        let cfg = self.ctx.config.media.clone();
        let b = sdp_codec(sdp);
        let ptime = sdp.audio().and_then(|a| a.ptime());
        let b_codec = b
            .as_ref()
            .and_then(|(f, te)| leg_codec(&cfg, f, te.as_ref(), ptime));
        self.set_codec(Side::B, b_codec).await;
        if let Some(body) = &self.a_answer {
            return Ok(Some(body.clone()));
        }
        let offered = self
            .a_sdp
            .as_ref()
            .and_then(|o| o.audio())
            .map(|a| (a.offered_formats(), a.ptime()));
        let (body, a_codec) = match (offered, b) {
            (Some((formats, a_ptime)), Some((bf, bte))) => {
                match formats.iter().find(|f| f.same_encoding(&bf)) {
                    Some(af) => {
                        let ate = bte.as_ref().and_then(|t| {
                            formats
                                .iter()
                                .find(|f| f.is_telephone_event() && f.clock_rate == t.clock_rate)
                        });
                        let codec = leg_codec(&cfg, af, ate, a_ptime.or(ptime));
                        (self.sdp_for(sdp.clone(), true, self.a_port), codec)
                    }
                    None => match self.local_answer_to_a()? {
                        Some((body, codec)) => (body, Some(codec)),
                        None => (self.sdp_for(sdp.clone(), true, self.a_port), None),
                    },
                }
            }
            // No offer from the caller (or no codec in B's answer): pass B's SDP on.
            _ => (self.sdp_for(sdp.clone(), true, self.a_port), None),
        };
        self.set_codec(Side::A, a_codec).await;
        self.a_answer = Some(body.clone());
        Ok(Some(body))
    }

    pub(super) fn ack_fork(&self, i: usize, resp: &Response) {
        let f = &self.forks[i];
        let mut d = f.dialog.clone();
        d.update_from_response(resp);
        let ack = d.request_with_cseq(Method::Ack, f.invite_cseq);
        self.ctx.sip.send(SipCommand::Ack {
            request: ack,
            dest: f.dialog.peer,
        });
    }

    pub(super) async fn bye_fork(&mut self, i: usize) {
        let req = self.forks[i].dialog.request(Method::Bye);
        let dest = self.forks[i].dialog.peer;
        self.forks[i].state = LegState::Ended;
        self.on_b_ended(i, "NORMAL_CLEARING");
        let _ = self.ctx.sip.request(req, dest, self.owner.clone()).await;
    }

    pub(super) fn cancel_fork(&mut self, i: usize, why: &str) {
        let f = &mut self.forks[i];
        if f.state == LegState::Early && !f.sent_cancel {
            f.sent_cancel = true;
            f.state = LegState::Ended;
            tracing::debug!(dest = %f.destination, why, "cancelling B leg");
            self.ctx.sip.send(SipCommand::Cancel { tx: f.invite_tx });
            self.on_b_ended(i, why);
        }
    }

    /// Cancels ringing forks and hangs up answered ones.
    pub(crate) async fn end_forks(&mut self, why: &str) {
        for i in 0..self.forks.len() {
            match self.forks[i].state {
                LegState::Early => self.cancel_fork(i, why),
                LegState::Answered => self.bye_fork(i).await,
                LegState::Ended => {}
            }
        }
    }

    /// The bridged call: passes requests across until a BYE.
    pub(super) async fn bridged(&mut self) -> Result<Outcome, End> {
        let Some(w) = self.winner else {
            return Ok(Outcome::Failed("NORMAL_UNSPECIFIED".into()));
        };
        loop {
            let Some(ev) = self.next_event(None).await? else {
                continue;
            };
            match ev {
                CallEvent::Request { tx, request, .. } => {
                    let from_a = request
                        .to()
                        .and_then(|t| t.tag().map(|t| t == self.a.local_tag()))
                        .unwrap_or(false);
                    if request.method == Method::Bye {
                        let r = request.response(200, None);
                        self.respond(tx, r);
                        if from_a {
                            self.a_state = LegState::Ended;
                            self.bye_fork(w).await;
                        } else {
                            self.forks[w].state = LegState::Ended;
                            self.send_a(Method::Bye).await;
                            self.a_state = LegState::Ended;
                        }
                        return Ok(Outcome::Done("NORMAL_CLEARING".into()));
                    }
                    let side = if from_a { Side::A } else { Side::B };
                    if request.method == Method::Info && self.info_dtmf(side, &request) {
                        // The digit travels by media to the far side, in its own mode.
                        let r = request.response(200, None);
                        self.respond(tx, r);
                        continue;
                    }
                    if matches!(request.method, Method::Invite | Method::Update)
                        && !request.body.is_empty()
                        && self.transcoding()
                    {
                        self.answer_reoffer(tx, &request, side).await;
                        continue;
                    }
                    self.forward(tx, request, from_a, w).await;
                }
                CallEvent::Response { tx, response } => {
                    if let Some(fwd) = self.forwards.remove(&tx) {
                        self.relay_response(fwd, tx, response, w);
                    } else if let Some(i) = self.fork_of(tx) {
                        if (200..300).contains(&response.status) {
                            self.ack_fork(i, &response);
                            if i != w {
                                self.bye_fork(i).await;
                            }
                        }
                    }
                }
                CallEvent::StrayResponse { response } => {
                    if (200..300).contains(&response.status)
                        && response.call_id() == Some(self.forks[w].dialog.call_id.as_str())
                    {
                        self.ack_fork(w, &response);
                    }
                }
                CallEvent::Timeout { tx } => {
                    if let Some(fwd) = self.forwards.remove(&tx) {
                        let r = fwd.request.response(408, None);
                        self.respond(fwd.server_tx, r);
                    }
                }
                CallEvent::Hangup { cause } => return Err(End::new(&cause)),
                CallEvent::Control(c) => self.control(c)?,
                CallEvent::NoAck { tx } if tx == self.a_tx => {
                    return Err(End::new("RECOVERY_ON_TIMER_EXPIRE"))
                }
                CallEvent::Ack { .. }
                | CallEvent::Cancel { .. }
                | CallEvent::NoAck { .. }
                | CallEvent::RecordSilence { .. } => {}
            }
        }
    }

    /// Answers a re-offer from `side` itself while the relay transcodes: the far side keeps
    /// its codec, this side gets one it offered.
    async fn answer_reoffer(&mut self, tx: TxId, request: &Request, side: Side) {
        let Ok(sdp) = SessionDescription::parse(&request.body) else {
            let r = request.response(488, None);
            self.respond(tx, r);
            return;
        };
        let ip = match side {
            Side::A => self.a.peer.addr.ip(),
            Side::B => self.winner.map_or(self.a.peer.addr.ip(), |w| {
                self.forks[w].dialog.peer.addr.ip()
            }),
        };
        if let Some(relay) = &self.relay {
            learn_sdp(relay, side, &sdp, ip);
        }
        match self.local_answer_for(side, &sdp) {
            Ok((body, codec)) => {
                let contact = match side {
                    Side::A => self.a.contact.clone(),
                    Side::B => self
                        .winner
                        .map_or_else(String::new, |w| self.forks[w].dialog.contact.clone()),
                };
                let mut r = request.response(200, None);
                r.headers.push("Contact", &contact);
                r.headers.push("Content-Type", "application/sdp");
                r.body = body;
                self.respond(tx, r);
                if side == Side::A {
                    self.a_sdp = Some(sdp);
                }
                self.set_codec(side, Some(codec)).await;
            }
            Err(_) => {
                let r = request.response(488, None);
                self.respond(tx, r);
            }
        }
    }

    /// Passes an in-dialog request to the other leg.
    async fn forward(&mut self, tx: TxId, request: Request, from_a: bool, w: usize) {
        if request.method == Method::Invite
            && self
                .forwards
                .values()
                .any(|f| f.request.method == Method::Invite)
        {
            let r = request.response(491, None);
            self.respond(tx, r);
            return;
        }
        let mut out = if from_a {
            self.forks[w].dialog.request(request.method.clone())
        } else {
            self.a.request(request.method.clone())
        };
        if let Some(ct) = request.headers.get("Content-Type") {
            out.headers.push("Content-Type", ct);
        }
        out.body = request.body.clone();
        if let Ok(sdp) = SessionDescription::parse(&request.body) {
            let (from_side, from_ip) = if from_a {
                (Side::A, self.a.peer.addr.ip())
            } else {
                (Side::B, self.forks[w].dialog.peer.addr.ip())
            };
            if let Some(relay) = &self.relay {
                learn_sdp(relay, from_side, &sdp, from_ip);
            }
            let port = if from_a {
                self.b_port.unwrap_or(0)
            } else {
                self.a_port
            };
            out.body = self.sdp_for(sdp, !from_a, port);
        }
        let dest = if from_a {
            self.forks[w].dialog.peer
        } else {
            self.a.peer
        };
        match self.ctx.sip.request(out, dest, self.owner.clone()).await {
            Some(ctx_tx) => {
                self.forwards.insert(
                    ctx_tx,
                    Forward {
                        server_tx: tx,
                        from_a,
                        request,
                    },
                );
            }
            None => {
                let r = request.response(500, None);
                self.respond(tx, r);
            }
        }
    }

    /// After an offer/answer passed through: both sides speak the answer's codec.
    fn codecs_from_answer(&mut self, sdp: &SessionDescription) {
        let cfg = &self.ctx.config.media;
        let codec = sdp_codec(sdp).and_then(|(f, te)| {
            leg_codec(cfg, &f, te.as_ref(), sdp.audio().and_then(|a| a.ptime()))
        });
        if self.a_codec == codec && self.b_codec == codec {
            return;
        }
        self.a_codec = codec.clone();
        self.b_codec = codec.clone();
        if let Some(relay) = self.relay.clone() {
            tokio::spawn(async move {
                let _ = relay.set_codec(Side::A, codec.clone()).await;
                let _ = relay.set_codec(Side::B, codec).await;
            });
        }
    }

    /// Passes the answer to a forwarded request back to the leg that sent it.
    fn relay_response(&mut self, fwd: Forward, client_tx: TxId, resp: Response, w: usize) {
        let mut out = fwd.request.response(resp.status, None);
        out.reason = resp.reason.clone();
        if resp.status < 200 {
            // Keep waiting for the final answer.
            self.forwards.insert(
                client_tx,
                Forward {
                    server_tx: fwd.server_tx,
                    from_a: fwd.from_a,
                    request: fwd.request.clone(),
                },
            );
            if resp.status == 100 {
                return;
            }
        }
        if let Some(ct) = resp.headers.get("Content-Type") {
            out.headers.push("Content-Type", ct);
        }
        out.body = resp.body.clone();
        if let Ok(sdp) = SessionDescription::parse(&resp.body) {
            let (side, ip) = if fwd.from_a {
                (Side::B, self.forks[w].dialog.peer.addr.ip())
            } else {
                (Side::A, self.a.peer.addr.ip())
            };
            if let Some(relay) = &self.relay {
                learn_sdp(relay, side, &sdp, ip);
            }
            if (200..300).contains(&resp.status) {
                // Both sides now use what the answer names (the offer passed through).
                self.codecs_from_answer(&sdp);
            }
            let port = if fwd.from_a {
                self.a_port
            } else {
                self.b_port.unwrap_or(0)
            };
            out.body = self.sdp_for(sdp, fwd.from_a, port);
        }
        if fwd.request.method == Method::Invite {
            let contact = if fwd.from_a {
                self.a.contact.clone()
            } else {
                self.forks[w].dialog.contact.clone()
            };
            out.headers.push("Contact", &contact);
            if (200..300).contains(&resp.status) {
                // We acknowledge the far side ourselves; the near side's ACK stops with us.
                let (dialog, seq) = if fwd.from_a {
                    (
                        &self.forks[w].dialog,
                        resp.cseq().map(|c| c.seq).unwrap_or(0),
                    )
                } else {
                    (&self.a, resp.cseq().map(|c| c.seq).unwrap_or(0))
                };
                let ack = dialog.request_with_cseq(Method::Ack, seq);
                self.ctx.sip.send(SipCommand::Ack {
                    request: ack,
                    dest: dialog.peer,
                });
            }
        }
        self.respond(fwd.server_tx, out);
    }
}
