//! The transaction layer: the public API, the indexes and the timer loop. What comes in
//! from the network is handled in `inbound.rs`.

use super::build;
use super::key::{AckKey, ClientKey, ServerKey};
use super::timer::{Timer, TimerTable};
use super::tx::{Ctx, Outbox, Role, State, Step, Tx, TxKey};
use super::{Peer, Transmit, TxConfig, TxError, TxEvent, TxId};
use crate::message::{Method, Request, Response};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Every client and server transaction of one endpoint. See the module docs for the
/// drive loop.
pub struct TransactionLayer {
    pub(super) config: TxConfig,
    pub(super) txs: HashMap<TxId, Tx>,
    pub(super) servers: HashMap<ServerKey, TxId>,
    pub(super) clients: HashMap<ClientKey, TxId>,
    /// Server INVITE transactions in Accepted, by what the ACK of their 2xx carries.
    pub(super) acks: HashMap<AckKey, TxId>,
    /// Client transactions by the peer they talk to, for transport errors.
    pub(super) by_peer: BTreeSet<(Peer, TxId)>,
    pub(super) timers: TimerTable,
    pub(super) out: Outbox,
    next_id: u64,
    pub(super) rng: StdRng,
}

impl std::fmt::Debug for TransactionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionLayer")
            .field("transactions", &self.txs.len())
            .field("next_timeout", &self.timers.next_deadline())
            .finish_non_exhaustive()
    }
}

impl TransactionLayer {
    /// A layer with no transactions; branches and tags come from a randomly seeded generator.
    pub fn new(config: TxConfig) -> Self {
        Self::with_rng(config, StdRng::from_entropy())
    }

    /// A layer whose branches and tags follow from `seed`: for reproducible tests and fuzzing.
    pub fn with_seed(config: TxConfig, seed: u64) -> Self {
        Self::with_rng(config, StdRng::seed_from_u64(seed))
    }

    fn with_rng(config: TxConfig, rng: StdRng) -> Self {
        TransactionLayer {
            config,
            txs: HashMap::new(),
            servers: HashMap::new(),
            clients: HashMap::new(),
            acks: HashMap::new(),
            by_peer: BTreeSet::new(),
            timers: TimerTable::default(),
            out: Outbox::default(),
            next_id: 0,
            rng,
        }
    }

    /// A UDP datagram, or one message a stream transport has already framed.
    pub fn handle_datagram(&mut self, now: Instant, data: &[u8], source: Peer) {
        self.receive(now, data, source);
        self.prune();
    }

    /// Starts a client transaction for an INVITE or non-INVITE request and sends it.
    ///
    /// The layer pushes a new top Via (`SIP/2.0/<UDP|TCP> <sent-by>;branch=z9hG4bK<random>;rport`)
    /// and adds Max-Forwards 70 and User-Agent unless present. An ACK is not a transaction:
    /// it is sent as by [`TransactionLayer::send_ack`] and the returned id never matches
    /// anything.
    pub fn send_request(&mut self, now: Instant, mut request: Request, dest: Peer) -> TxId {
        if request.method == Method::Ack {
            self.send_ack(request, dest);
            return self.alloc_id();
        }
        let branch = self.new_branch(&request.method);
        build::stamp_request(
            &mut request,
            &build::our_via(&self.config, dest, &branch),
            &self.config,
        );
        let role = if request.method == Method::Invite {
            Role::ClientInvite
        } else {
            Role::Client
        };
        let key = ClientKey {
            branch,
            method: request.method.clone(),
        };
        let id = self.alloc_id();
        let mut tx = Tx::new(role, State::Held, dest, request, TxKey::Client(key.clone()));
        tx.wire = tx.request.to_bytes();
        tx.start_client(id, &mut self.ctx(now));
        self.clients.insert(key, id);
        self.by_peer.insert((dest, id));
        self.txs.insert(id, tx);
        self.prune();
        id
    }

    /// Sends the ACK of a 2xx: a request of its own with a new branch and no transaction.
    /// Via, Max-Forwards and User-Agent are added as for [`TransactionLayer::send_request`].
    pub fn send_ack(&mut self, mut request: Request, dest: Peer) {
        let branch = format!("z9hG4bK{}", build::token(&mut self.rng));
        build::stamp_request(
            &mut request,
            &build::our_via(&self.config, dest, &branch),
            &self.config,
        );
        self.out.send(dest, request.to_bytes());
    }

    /// Answers a server transaction and adds a Server header unless present.
    ///
    /// A 2xx to an INVITE moves it to Accepted (RFC 6026): the layer retransmits the 2xx
    /// at T1, 2*T1, .. up to T2 until the ACK arrives (matched by Call-ID, CSeq number and
    /// the To tag of this 2xx) or Timer L fires ([`TxEvent::NoAck`]). A 300-699 to an
    /// INVITE moves it to Completed: retransmitted on UDP by Timer G until the ACK.
    pub fn send_response(
        &mut self,
        now: Instant,
        tx: TxId,
        mut response: Response,
    ) -> Result<(), TxError> {
        let role = self.txs.get(&tx).ok_or(TxError::UnknownTransaction)?.role;
        if !matches!(role, Role::Server | Role::ServerInvite) {
            return Err(TxError::NotServerTransaction);
        }
        if !(100..=699).contains(&response.status) {
            return Err(TxError::InvalidStatus(response.status));
        }
        build::stamp_response(&mut response, &self.config);
        let bytes = response.to_bytes();
        let (txs, mut ctx) = self.parts(now);
        let step = match txs.get_mut(&tx) {
            Some(t) => t.respond(tx, &response, bytes, &mut ctx)?,
            None => return Err(TxError::UnknownTransaction),
        };
        if role == Role::ServerInvite {
            self.note_invite_response(tx, &response);
        }
        if step == Step::End {
            self.terminate(tx);
        }
        self.prune();
        Ok(())
    }

    /// Sends a response outside any transaction (400 to a request that could not make
    /// one, say), adding a Server header unless present.
    pub fn send_stateless_response(&mut self, mut response: Response, dest: Peer) {
        build::stamp_response(&mut response, &self.config);
        self.out.send(dest, response.to_bytes());
    }

    /// Cancels a client INVITE (RFC 3261 9.1): builds the CANCEL (same Request-URI,
    /// Call-ID, From, To, CSeq number and top Via as the INVITE, its Route headers) and
    /// runs it as a client non-INVITE transaction. Before any provisional response the
    /// CANCEL is held and sent with the first 1xx; a final response first means it is
    /// never sent (it then ends with [`TxEvent::Terminated`] alone). Once the CANCEL is
    /// out, the INVITE is given 64*T1 for its final response and then times out.
    ///
    /// Returns the CANCEL's id; the same id again for an INVITE already cancelled; `None`
    /// when the INVITE transaction is unknown or already has its final response.
    pub fn cancel(&mut self, now: Instant, invite_tx: TxId) -> Option<TxId> {
        let invite = self.txs.get(&invite_tx)?;
        if invite.role != Role::ClientInvite {
            return None;
        }
        if invite.cancel.is_some() {
            return invite.cancel;
        }
        let held = match invite.state {
            State::Calling => true,
            State::Proceeding => false,
            _ => return None,
        };
        let TxKey::Client(invite_key) = &invite.key else {
            return None;
        };
        let key = ClientKey {
            branch: invite_key.branch.clone(),
            method: Method::Cancel,
        };
        let peer = invite.peer;
        let mut tx = Tx::new(
            Role::Client,
            State::Held,
            peer,
            build::cancel_for(&invite.request),
            TxKey::Client(key.clone()),
        );
        tx.wire = tx.request.to_bytes();
        let id = self.alloc_id();
        if !held {
            tx.start_client(id, &mut self.ctx(now));
        }
        self.clients.insert(key, id);
        self.by_peer.insert((peer, id));
        self.txs.insert(id, tx);
        let (txs, mut ctx) = self.parts(now);
        if let Some(invite) = txs.get_mut(&invite_tx) {
            invite.cancel = Some(id);
            if !held {
                invite.arm(invite_tx, Timer::B, ctx.t1x64(), &mut ctx);
            }
        }
        self.prune();
        Some(id)
    }

    /// The transport toward `peer` failed (a TCP connection could not be made or broke,
    /// an ICMP error): its client transactions still waiting for a final response end
    /// with [`TxEvent::Timeout`].
    pub fn handle_transport_error(&mut self, now: Instant, peer: Peer) {
        let _ = now;
        let ids: Vec<TxId> = self
            .by_peer
            .range((peer, TxId(0))..=(peer, TxId(u64::MAX)))
            .map(|&(_, id)| id)
            .collect();
        for id in ids {
            let waiting = self.txs.get(&id).is_some_and(|tx| {
                matches!(tx.state, State::Calling | State::Trying | State::Proceeding)
            });
            if waiting {
                self.out.event(TxEvent::Timeout { tx: id });
                self.terminate(id);
            }
        }
        self.prune();
    }

    /// Fires every timer due at `now`. Timers armed while doing so wait for the next call,
    /// even when already due, so that a zero T1 cannot spin.
    pub fn handle_timeout(&mut self, now: Instant) {
        let limit = self.timers.next_seq();
        let mut later = Vec::new();
        while let Some(e) = self.timers.pop_due(now) {
            if e.seq >= limit {
                later.push(e);
                continue;
            }
            let (txs, mut ctx) = self.parts(now);
            let Some(tx) = txs.get_mut(&e.tx) else {
                continue;
            };
            if tx.slots.seq(e.timer) != e.seq {
                continue;
            }
            tx.slots.disarm(e.timer);
            let step = match tx.role {
                Role::ClientInvite | Role::Client => tx.on_client_timer(e.tx, e.timer, &mut ctx),
                Role::ServerInvite | Role::Server => tx.on_server_timer(e.tx, e.timer, &mut ctx),
            };
            if step == Step::End {
                self.terminate(e.tx);
            }
        }
        for e in later {
            self.timers.restore(e);
        }
        self.prune();
    }

    /// When [`TransactionLayer::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.out.events.pop_front()
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The request a live transaction carries: as sent (client, with our Via) or as
    /// received (server, with `received`/`rport` stamped).
    pub fn request_of(&self, tx: TxId) -> Option<&Request> {
        self.txs.get(&tx).map(|t| &t.request)
    }

    // ---- internals shared with inbound.rs ----

    pub(super) fn alloc_id(&mut self) -> TxId {
        self.next_id += 1;
        TxId(self.next_id)
    }

    /// The transactions and a context for their state machines, borrowed apart.
    pub(super) fn parts(&mut self, now: Instant) -> (&mut HashMap<TxId, Tx>, Ctx<'_>) {
        (
            &mut self.txs,
            Ctx {
                now,
                config: &self.config,
                timers: &mut self.timers,
                out: &mut self.out,
            },
        )
    }

    pub(super) fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        self.parts(now).1
    }

    /// Ends a transaction: unindexes it, reports it, and drops a CANCEL it still held.
    pub(super) fn terminate(&mut self, id: TxId) {
        let Some(tx) = self.txs.remove(&id) else {
            return;
        };
        match &tx.key {
            TxKey::Client(k) => {
                if self.clients.get(k) == Some(&id) {
                    self.clients.remove(k);
                }
                self.by_peer.remove(&(tx.peer, id));
            }
            TxKey::Server(k) => {
                if self.servers.get(k) == Some(&id) {
                    self.servers.remove(k);
                }
            }
        }
        if let Some(k) = &tx.ack_key {
            if self.acks.get(k) == Some(&id) {
                self.acks.remove(k);
            }
        }
        self.out.event(TxEvent::Terminated { tx: id });
        if let Some(cancel) = tx.cancel {
            if self
                .txs
                .get(&cancel)
                .is_some_and(|c| c.state == State::Held)
            {
                self.terminate(cancel);
            }
        }
    }

    /// Keeps the timer table's top live so that `poll_timeout` is exact.
    pub(super) fn prune(&mut self) {
        let txs = &self.txs;
        self.timers.prune(txs.len(), |e| {
            txs.get(&e.tx)
                .is_some_and(|t| t.slots.seq(e.timer) == e.seq)
        });
    }

    /// Records the To tag of a response to a server INVITE and, for a 2xx, indexes the
    /// transaction by what the 2xx's ACK will carry.
    fn note_invite_response(&mut self, id: TxId, response: &Response) {
        let tag = response.to_tag();
        let ack_key = (200..300)
            .contains(&response.status)
            .then(|| AckKey::of(response.call_id(), response.cseq().map(|c| c.seq), tag))
            .flatten();
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        if let Some(tag) = tag {
            tx.to_tag = Some(tag.to_string());
        }
        if let Some(key) = ack_key {
            if let Some(old) = tx.ack_key.replace(key.clone()) {
                if self.acks.get(&old) == Some(&id) {
                    self.acks.remove(&old);
                }
            }
            self.acks.insert(key, id);
        }
    }

    /// A branch no live client transaction of this method uses.
    fn new_branch(&mut self, method: &Method) -> String {
        loop {
            let branch = format!("z9hG4bK{}", build::token(&mut self.rng));
            let key = ClientKey {
                branch,
                method: method.clone(),
            };
            if !self.clients.contains_key(&key) {
                return key.branch;
            }
        }
    }
}
