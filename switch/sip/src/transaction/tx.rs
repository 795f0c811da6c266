//! One transaction's state, and what its state machines may touch of the layer.

use super::key::{AckKey, ClientKey, ServerKey};
use super::timer::{Slots, Timer, TimerTable};
use super::{Peer, Transmit, Transport, TxConfig, TxEvent, TxId};
use crate::message::Request;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Which of the four RFC 3261 state machines a transaction runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    ClientInvite,
    Client,
    ServerInvite,
    Server,
}

/// RFC 3261 / RFC 6026 states (Terminated is the transaction's removal), plus `Held`: a
/// CANCEL waiting for its INVITE's first provisional response (RFC 3261 9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Held,
    Calling,
    Trying,
    Proceeding,
    Accepted,
    Completed,
    Confirmed,
}

/// How a transaction is indexed, so that it can be unindexed when it ends.
#[derive(Clone, Debug)]
pub(super) enum TxKey {
    Client(ClientKey),
    Server(ServerKey),
}

/// Whether a transaction goes on after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Keep,
    End,
}

/// A live transaction.
#[derive(Debug)]
pub(super) struct Tx {
    pub role: Role,
    pub state: State,
    /// Where requests go (client) or responses go (server).
    pub peer: Peer,
    /// The request as sent (client, with our Via) or as received (server, Via stamped).
    pub request: Request,
    pub key: TxKey,
    /// What a retransmission sends: the request (client) or the last response (server);
    /// empty while a server transaction has not answered.
    pub wire: Vec<u8>,
    /// Client INVITE in Completed: the ACK, re-sent for each retransmitted final.
    pub ack: Vec<u8>,
    /// The current retransmission interval of Timer A, E or G.
    pub interval: Duration,
    pub slots: Slots,
    /// Client INVITE: the CANCEL made for it.
    pub cancel: Option<TxId>,
    /// Server INVITE: To tag of our last response (our 200 to a CANCEL repeats it).
    pub to_tag: Option<String>,
    /// Server INVITE in Accepted: what the ACK of our 2xx is matched by.
    pub ack_key: Option<AckKey>,
    /// Server INVITE: the ACK of our 2xx arrived.
    pub acked: bool,
}

impl Tx {
    pub fn new(role: Role, state: State, peer: Peer, request: Request, key: TxKey) -> Tx {
        Tx {
            role,
            state,
            peer,
            request,
            key,
            wire: Vec::new(),
            ack: Vec::new(),
            interval: Duration::ZERO,
            slots: Slots::default(),
            cancel: None,
            to_tag: None,
            ack_key: None,
            acked: false,
        }
    }

    /// True on an unreliable transport, where the layer retransmits and lingers.
    pub fn unreliable(&self) -> bool {
        self.peer.transport == Transport::Udp
    }

    /// Arms `timer` to fire `after` from now.
    pub fn arm(&mut self, id: TxId, timer: Timer, after: Duration, ctx: &mut Ctx<'_>) {
        ctx.timers
            .arm(&mut self.slots, id, timer, ctx.now.checked_add(after));
    }

    /// The final response is in: what the transaction lingers for (absorbing and answering
    /// retransmissions, matching an ACK, a CANCEL) needs no more than the identifying
    /// headers of its request, so the rest and the body go. A client request's wire form
    /// goes too (it is never resent). A switch holds thousands of these for 32 s.
    pub fn settle(&mut self) {
        const KEEP: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];
        let headers = &mut self.request.headers.0;
        headers.retain(|h| KEEP.iter().any(|k| h.name.eq_ignore_ascii_case(k)));
        headers.shrink_to_fit();
        self.request.body = Vec::new();
        if matches!(self.role, Role::Client | Role::ClientInvite) {
            self.wire = Vec::new();
        }
    }

    /// Sends the retransmission bytes again.
    pub fn resend(&self, ctx: &mut Ctx<'_>) {
        if !self.wire.is_empty() {
            ctx.out.send(self.peer, self.wire.clone());
        }
    }
}

/// Messages and events waiting to be polled.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    pub transmits: VecDeque<Transmit>,
    pub events: VecDeque<TxEvent>,
}

impl Outbox {
    pub fn send(&mut self, peer: Peer, data: Vec<u8>) {
        self.transmits.push_back(Transmit { peer, data });
    }

    pub fn event(&mut self, e: TxEvent) {
        self.events.push_back(e);
    }
}

/// What a state machine may touch besides its own transaction.
pub(super) struct Ctx<'a> {
    pub now: Instant,
    pub config: &'a TxConfig,
    pub timers: &'a mut TimerTable,
    pub out: &'a mut Outbox,
}

impl Ctx<'_> {
    /// 64*T1: Timers B, F, H, J (UDP), L and M.
    pub fn t1x64(&self) -> Duration {
        self.config.t1.saturating_mul(64)
    }

    /// The next retransmission interval: doubled, capped at T2 (Timers E and G).
    pub fn backoff(&self, interval: Duration) -> Duration {
        interval.saturating_mul(2).min(self.config.t2)
    }
}
