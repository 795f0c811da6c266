//! The SIP task: owns the UDP socket, the TCP connections and the transaction layer, and
//! routes what the layer reports to the registrar or to the call that owns it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use switch_sip::message::{Method, Request, Response, Scheme};
use switch_sip::transaction::{Peer, TransactionLayer, Transport, TxEvent, TxId};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::tcp::{self, TcpIn};
use crate::auth::{Authenticator, Verdict};
use crate::call::{self, CallEvent, CallSender};
use crate::context::Context;

/// What call tasks ask of the SIP task.
#[derive(Debug)]
pub enum SipCommand {
    /// Answer a server transaction.
    Respond { tx: TxId, response: Response },
    /// Start a client transaction; its events go to `owner`.
    Request {
        request: Request,
        dest: Peer,
        owner: CallSender,
        reply: oneshot::Sender<TxId>,
    },
    /// Send the ACK for a 2xx.
    Ack { request: Request, dest: Peer },
    /// Cancel a client INVITE transaction.
    Cancel { tx: TxId },
    /// Route in-dialog requests for (Call-ID, our tag) to `owner`.
    Dialog {
        call_id: String,
        tag: String,
        owner: CallSender,
    },
    /// The dialog is over.
    DialogGone { call_id: String, tag: String },
}

/// A cheap handle to the SIP task.
#[derive(Clone, Debug)]
pub struct SipHandle {
    tx: mpsc::UnboundedSender<SipCommand>,
    /// Our UDP address, when UDP is on.
    pub udp: Option<SocketAddr>,
    /// Our TCP address, when TCP is on.
    pub tcp: Option<SocketAddr>,
}

impl SipHandle {
    /// Sends a command; if the SIP task is gone the switch is stopping and it is dropped.
    pub fn send(&self, cmd: SipCommand) {
        let _ = self.tx.send(cmd);
    }

    /// Starts a client transaction and returns its id.
    pub async fn request(&self, request: Request, dest: Peer, owner: CallSender) -> Option<TxId> {
        let (reply, rx) = oneshot::channel();
        self.send(SipCommand::Request {
            request,
            dest,
            owner,
            reply,
        });
        rx.await.ok()
    }

    /// Our address for a transport (falls back to the other one).
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp.or(self.tcp),
            Transport::Tcp => self.tcp.or(self.udp),
        }
    }
}

/// Binds the SIP sockets; returns the handle and the task to run.
pub async fn bind(ctx_cfg: &crate::config::Config) -> std::io::Result<(SipHandle, SipSockets)> {
    let udp = match ctx_cfg.sip.udp {
        Some(addr) => Some(Arc::new(bind_udp(addr)?)),
        None => None,
    };
    let tcp = match ctx_cfg.sip.tcp {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = SipHandle {
        tx,
        udp: udp.as_ref().and_then(|s| s.local_addr().ok()),
        tcp: tcp.as_ref().and_then(|s| s.local_addr().ok()),
    };
    Ok((handle, SipSockets { udp, tcp, rx }))
}

/// Socket buffers of the SIP UDP socket: a burst of requests waits in the kernel instead of
/// being dropped (and retransmitted by the peers) while the SIP task is busy.
const SIP_SOCKET_BUFFER: usize = 4 << 20;

fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    // The kernel caps these at net.core.rmem_max / wmem_max; asking is harmless.
    let _ = socket.set_recv_buffer_size(SIP_SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SIP_SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// The bound sockets, waiting for [`run`].
pub struct SipSockets {
    udp: Option<Arc<UdpSocket>>,
    tcp: Option<tokio::net::TcpListener>,
    rx: mpsc::UnboundedReceiver<SipCommand>,
}

struct Driver {
    ctx: Arc<Context>,
    layer: TransactionLayer,
    udp: Option<Arc<UdpSocket>>,
    tcp_conns: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>,
    tcp_tx: mpsc::UnboundedSender<TcpIn>,
    tx_owner: HashMap<TxId, CallSender>,
    dialogs: HashMap<(String, String), CallSender>,
    auth: Authenticator,
}

/// Runs the SIP task until the command channel closes.
pub async fn run(ctx: Arc<Context>, sockets: SipSockets) {
    let SipSockets { udp, tcp, mut rx } = sockets;
    let cfg = &ctx.config;
    let layer = TransactionLayer::new(switch_sip::transaction::TxConfig {
        udp_sent_by: ctx.sip.udp,
        tcp_sent_by: ctx.sip.tcp,
        user_agent: cfg.sip.user_agent.clone(),
        max_message_size: cfg.sip.max_message_size,
        ..Default::default()
    });
    let (tcp_tx, mut tcp_rx) = mpsc::unbounded_channel();
    if let Some(listener) = tcp {
        tokio::spawn(tcp::accept_loop(
            listener,
            tcp_tx.clone(),
            cfg.sip.max_message_size,
        ));
    }
    let mut d = Driver {
        auth: Authenticator::new(&cfg.sip),
        ctx: ctx.clone(),
        layer,
        udp: udp.clone(),
        tcp_conns: HashMap::new(),
        tcp_tx,
        tx_owner: HashMap::new(),
        dialogs: HashMap::new(),
    };
    let mut buf = vec![0u8; 65536];
    let mut sweep = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        let deadline = d.layer.poll_timeout();
        let sleep = async {
            match deadline {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = recv(udp.as_deref(), &mut buf) => {
                if let Some((n, from)) = r {
                    let now = Instant::now();
                    d.layer.handle_datagram(now, &buf[..n], Peer { transport: Transport::Udp, addr: from });
                    // Drain what else is queued without another wake-up.
                    if let Some(sock) = udp.as_deref() {
                        for _ in 0..64 {
                            match sock.try_recv_from(&mut buf) {
                                Ok((n, from)) => d.layer.handle_datagram(now, &buf[..n], Peer { transport: Transport::Udp, addr: from }),
                                Err(_) => break,
                            }
                        }
                    }
                }
            }
            Some(ev) = tcp_rx.recv() => d.tcp_event(ev),
            cmd = rx.recv() => match cmd {
                Some(cmd) => {
                    d.command(cmd);
                    for _ in 0..64 {
                        match rx.try_recv() {
                            Ok(cmd) => d.command(cmd),
                            Err(_) => break,
                        }
                    }
                }
                None => break,
            },
            _ = sleep => d.layer.handle_timeout(Instant::now()),
            _ = sweep.tick() => {
                let now = Instant::now();
                let gone = d.ctx.registrations.sweep(now);
                if gone > 0 {
                    tracing::info!(expired = gone, "registrations expired");
                }
                d.auth.sweep(now);
                // Ended calls: their transactions linger 32 s, and the sender kept for
                // them would keep the call's queue (and its memory) alive with them.
                d.tx_owner.retain(|_, owner| !owner.is_closed());
                d.dialogs.retain(|_, owner| !owner.is_closed());
            }
        }
        d.flush();
    }
    d.flush();
}

async fn recv(sock: Option<&UdpSocket>, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    match sock {
        Some(s) => match s.recv_from(buf).await {
            Ok(r) => Some(r),
            Err(e) => {
                // ICMP errors surface here on some systems; they are not fatal.
                tracing::debug!(error = %e, "udp recv");
                None
            }
        },
        None => std::future::pending().await,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Driver {
    fn tcp_event(&mut self, ev: TcpIn) {
        match ev {
            TcpIn::Opened { peer, writer } => {
                self.tcp_conns.insert(peer, writer);
            }
            TcpIn::Data { peer, data } => {
                let p = Peer {
                    transport: Transport::Tcp,
                    addr: peer,
                };
                self.layer.handle_datagram(Instant::now(), &data, p);
            }
            TcpIn::Invalid { peer, reason } => {
                tracing::warn!(source = %peer, %reason, "closing TCP connection: cannot frame");
            }
            TcpIn::Closed { peer } => {
                self.tcp_conns.remove(&peer);
                self.layer.handle_transport_error(
                    Instant::now(),
                    Peer {
                        transport: Transport::Tcp,
                        addr: peer,
                    },
                );
            }
        }
    }

    fn command(&mut self, cmd: SipCommand) {
        let now = Instant::now();
        match cmd {
            SipCommand::Respond { tx, response } => {
                if let Err(e) = self.layer.send_response(now, tx, response) {
                    tracing::debug!(?tx, error = %e, "response not sent");
                }
            }
            SipCommand::Request {
                request,
                dest,
                owner,
                reply,
            } => {
                let tx = self.layer.send_request(now, request, dest);
                self.tx_owner.insert(tx, owner);
                let _ = reply.send(tx);
            }
            SipCommand::Ack { request, dest } => self.layer.send_ack(request, dest),
            SipCommand::Cancel { tx } => {
                if let Some(cancel_tx) = self.layer.cancel(now, tx) {
                    if let Some(owner) = self.tx_owner.get(&tx).cloned() {
                        self.tx_owner.insert(cancel_tx, owner);
                    }
                }
            }
            SipCommand::Dialog {
                call_id,
                tag,
                owner,
            } => {
                self.dialogs.insert((call_id, tag), owner);
            }
            SipCommand::DialogGone { call_id, tag } => {
                self.dialogs.remove(&(call_id, tag));
            }
        }
    }

    /// Sends what the layer queued and dispatches its events.
    fn flush(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.layer.poll_transmit() {
                progressed = true;
                self.transmit(t.peer, t.data);
            }
            while let Some(ev) = self.layer.poll_event() {
                progressed = true;
                self.event(ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn transmit(&mut self, peer: Peer, data: Vec<u8>) {
        match peer.transport {
            Transport::Udp => {
                if let Some(sock) = &self.udp {
                    if let Err(e) = sock.try_send_to(&data, peer.addr) {
                        tracing::debug!(dest = %peer.addr, error = %e, "udp send failed");
                    }
                }
            }
            Transport::Tcp => match self.tcp_conns.get(&peer.addr) {
                Some(w) if w.send(data.clone()).is_ok() => {}
                _ => {
                    self.tcp_conns.remove(&peer.addr);
                    tokio::spawn(tcp::connect(
                        peer.addr,
                        data,
                        self.tcp_tx.clone(),
                        self.ctx.config.sip.max_message_size,
                    ));
                }
            },
        }
    }

    fn respond(&mut self, tx: TxId, resp: Response) {
        if let Err(e) = self.layer.send_response(Instant::now(), tx, resp) {
            tracing::debug!(?tx, error = %e, "response not sent");
        }
    }

    fn event(&mut self, ev: TxEvent) {
        match ev {
            TxEvent::Request {
                tx,
                request,
                source,
            } => self.request(tx, request, source),
            TxEvent::Ack { request, .. } => {
                if let Some(owner) = self.dialog_of(&request) {
                    let _ = owner.send(CallEvent::Ack { request });
                }
            }
            TxEvent::Cancel { invite_tx, .. } => {
                if let Some(owner) = self.tx_owner.get(&invite_tx) {
                    let _ = owner.send(CallEvent::Cancel { tx: invite_tx });
                }
            }
            TxEvent::Response { tx, response } => {
                if let Some(owner) = self.tx_owner.get(&tx) {
                    let _ = owner.send(CallEvent::Response { tx, response });
                }
            }
            TxEvent::StrayResponse { response, .. } => {
                // A late 2xx retransmission: its dialog re-sends the ACK.
                let key = (
                    response.call_id().unwrap_or_default().to_string(),
                    response
                        .from()
                        .and_then(|f| f.tag().map(str::to_string))
                        .unwrap_or_default(),
                );
                if let Some(owner) = self.dialogs.get(&key) {
                    let _ = owner.send(CallEvent::StrayResponse { response });
                }
            }
            TxEvent::Timeout { tx } => {
                if let Some(owner) = self.tx_owner.get(&tx) {
                    let _ = owner.send(CallEvent::Timeout { tx });
                }
            }
            TxEvent::NoAck { tx } => {
                if let Some(owner) = self.tx_owner.get(&tx) {
                    let _ = owner.send(CallEvent::NoAck { tx });
                }
            }
            TxEvent::Malformed { source, reason } => {
                tracing::warn!(source = %source.addr, transport = ?source.transport, %reason, "malformed SIP message");
            }
            TxEvent::Terminated { tx } => {
                self.tx_owner.remove(&tx);
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    /// The call that owns the dialog a request belongs to (by Call-ID and our To tag).
    fn dialog_of(&self, req: &Request) -> Option<&CallSender> {
        let tag = req.to_tag()?.to_string();
        self.dialogs
            .get(&(req.call_id().unwrap_or_default().to_string(), tag))
    }

    fn request(&mut self, tx: TxId, req: Request, source: Peer) {
        let in_dialog = req.to_tag().is_some();
        if in_dialog {
            match self.dialog_of(&req).cloned() {
                Some(owner) => {
                    self.tx_owner.insert(tx, owner.clone());
                    let _ = owner.send(CallEvent::Request {
                        tx,
                        request: req,
                        source,
                    });
                }
                None => {
                    let r = req.response(481, None);
                    self.respond(tx, r);
                }
            }
            return;
        }
        if matches!(req.uri.scheme, Scheme::Other(_)) {
            let mut r = req.response(416, None);
            r.headers.push("Accept", "application/sdp");
            self.respond(tx, r);
            return;
        }
        match req.method {
            Method::Options => {
                let mut r = req.response(200, Some(&call::new_tag()));
                r.headers.push("Allow", call::ALLOW);
                r.headers.push("Accept", "application/sdp");
                self.respond(tx, r);
            }
            Method::Register => self.register(tx, req, source),
            Method::Invite => self.invite(tx, req, source),
            Method::Bye | Method::Cancel | Method::Info | Method::Update | Method::Prack => {
                let r = req.response(481, None);
                self.respond(tx, r);
            }
            _ => {
                let mut r = req.response(405, None);
                r.headers.push("Allow", call::ALLOW);
                self.respond(tx, r);
            }
        }
    }

    fn authenticate(
        &mut self,
        tx: TxId,
        req: &Request,
        source: Peer,
        proxy: bool,
    ) -> Option<String> {
        let now = Instant::now();
        let unix = unix_now();
        let live = self.ctx.live();
        let verdict = self
            .auth
            .check(req, proxy, &live.directory, source.addr.ip(), now, unix);
        match verdict {
            Verdict::Authorized(user) => return Some(user),
            Verdict::Challenge { stale } => {
                let (status, header) = if proxy {
                    (407, "Proxy-Authenticate")
                } else {
                    (401, "WWW-Authenticate")
                };
                let mut r = req.response(status, Some(&call::new_tag()));
                for c in self.auth.challenges(stale, unix) {
                    r.headers.push(header, &c);
                }
                self.respond(tx, r);
            }
            Verdict::Forbidden(why) => {
                tracing::warn!(source = %source.addr, method = %req.method, reason = %why, "authentication failed");
                let r = req.response(403, Some(&call::new_tag()));
                self.respond(tx, r);
            }
            Verdict::Throttled => {
                tracing::warn!(source = %source.addr, method = %req.method, "request from a throttled source refused");
                let mut r = req.response(403, Some(&call::new_tag()));
                r.reason = "Forbidden (too many failures)".into();
                self.respond(tx, r);
            }
        }
        None
    }

    fn register(&mut self, tx: TxId, req: Request, source: Peer) {
        let Some(user) = self.authenticate(tx, &req, source, false) else {
            return;
        };
        // The authenticated user may only register its own address-of-record.
        let aor_user = req
            .to()
            .and_then(|t| t.uri.user.clone())
            .unwrap_or_default();
        if aor_user != user {
            tracing::warn!(source = %source.addr, %user, aor = %aor_user, "REGISTER for another user refused");
            let r = req.response(403, Some(&call::new_tag()));
            self.respond(tx, r);
            return;
        }
        let mut r = self.ctx.registrations.register(
            &req,
            &user,
            source,
            &self.ctx.config.sip.register,
            Instant::now(),
        );
        if r.to_tag().is_none() {
            r = retag(r);
        }
        tracing::info!(%user, source = %source.addr, status = r.status, "REGISTER");
        self.respond(tx, r);
    }

    fn invite(&mut self, tx: TxId, req: Request, source: Peer) {
        if req.max_forwards() == Some(0) {
            let r = req.response(483, Some(&call::new_tag()));
            self.respond(tx, r);
            return;
        }
        let trusted = self.ctx.config.acl.is_trusted(source.addr.ip());
        let user = if trusted {
            None
        } else {
            match self.authenticate(tx, &req, source, true) {
                Some(u) => Some(u),
                None => return,
            }
        };
        let tag = call::new_tag();
        let (owner, inbox) = mpsc::unbounded_channel();
        self.dialogs.insert(
            (req.call_id().unwrap_or_default().to_string(), tag.clone()),
            owner.clone(),
        );
        self.tx_owner.insert(tx, owner.clone());
        let ctx = self.ctx.clone();
        let fut = call::run(call::Inbound {
            ctx,
            invite: req,
            tx,
            source,
            user,
            local_tag: tag,
            owner,
            inbox,
        });
        // Boxed: the call's future is large (~10 KB), and a boxed one is moved by pointer
        // instead of copied each time the runtime moves the task.
        tokio::spawn(Box::pin(fut));
    }
}

/// Adds a To tag to a response that has none.
fn retag(mut r: Response) -> Response {
    if let Some(mut to) = r.to() {
        to.params.set("tag", Some(&call::new_tag()));
        r.headers.set("To", &to.to_string());
    }
    r
}
