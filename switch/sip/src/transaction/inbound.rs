//! What comes in from the network: requests find or make their server transaction,
//! responses find their client transaction, and what cannot be parsed is answered when
//! it can be.

use super::build;
use super::key::{is_ours, AckKey, ClientKey, ServerKey};
use super::layer::TransactionLayer;
use super::server::{answer_trying, AckOutcome};
use super::tx::{Role, State, Step, Tx, TxKey};
use super::{Peer, TxEvent, TxId};
use crate::message::{parse, Message, Method, ParseError, Request, Response};
use std::time::Instant;

impl TransactionLayer {
    /// Parses one message and routes it.
    pub(super) fn receive(&mut self, now: Instant, data: &[u8], source: Peer) {
        // CRLF keep-alives (RFC 5626 3.5.1) are neither messages nor errors.
        if data.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if data.len() > self.config.max_message_size {
            self.oversized(data, source);
            return;
        }
        match parse(data) {
            Ok(Message::Request(r)) => self.on_request(now, r, source),
            Ok(Message::Response(r)) => self.on_response(now, r, source),
            Err(e) => self.malformed(e, source),
        }
    }

    /// Too large: 513 when the request can be answered, dropped otherwise.
    fn oversized(&mut self, data: &[u8], source: Peer) {
        let reason = format!(
            "message of {} bytes exceeds the limit of {}",
            data.len(),
            self.config.max_message_size
        );
        let request = match parse(data) {
            Ok(Message::Request(r)) => Some(r),
            Ok(Message::Response(_)) => None,
            Err(e) => e.partial.map(|r| *r),
        };
        if let Some(r) = request.filter(build::answerable) {
            self.answer_statelessly(&r, 513, &reason, source);
        }
        self.out.event(TxEvent::Malformed { source, reason });
    }

    /// Answers a malformed request with the parser's status (400, 501 or 505) and a
    /// Warning when it has the headers a response copies; never an ACK.
    fn malformed(&mut self, e: ParseError, source: Peer) {
        if let Some(r) = e.partial.as_deref().filter(|r| build::answerable(r)) {
            self.answer_statelessly(r, e.status, &e.reason, source);
        }
        self.out.event(TxEvent::Malformed {
            source,
            reason: e.reason,
        });
    }

    fn answer_statelessly(&mut self, request: &Request, status: u16, why: &str, to: Peer) {
        let tag = build::token(&mut self.rng);
        let r = build::layer_response(request, status, &tag, Some(why), &self.config);
        self.out.send(to, r.to_bytes());
    }

    fn on_request(&mut self, now: Instant, mut request: Request, source: Peer) {
        // parse() has checked that every Via parses and that CSeq is there.
        let Some(via) = request.top_via() else {
            return;
        };
        let Some(key) = ServerKey::of(&request, &via) else {
            return;
        };
        build::stamp_received(&mut request, via, source);
        match request.method {
            Method::Ack => self.on_ack(now, request, key, source),
            Method::Cancel => self.on_cancel(now, request, key, source),
            _ => self.on_server_request(now, request, key, source),
        }
    }

    /// The peer sent the request again: repeat our last response, if any. True when the
    /// key belongs to a live transaction.
    fn retransmitted(&mut self, now: Instant, key: &ServerKey) -> bool {
        let Some(&id) = self.servers.get(key) else {
            return false;
        };
        let (txs, mut ctx) = self.parts(now);
        if let Some(tx) = txs.get_mut(&id) {
            tx.on_retransmission(&mut ctx);
        }
        true
    }

    fn on_server_request(&mut self, now: Instant, request: Request, key: ServerKey, source: Peer) {
        if self.retransmitted(now, &key) {
            return;
        }
        let (role, state) = if request.method == Method::Invite {
            (Role::ServerInvite, State::Proceeding)
        } else {
            (Role::Server, State::Trying)
        };
        let id = self.alloc_id();
        let mut tx = Tx::new(
            role,
            state,
            source,
            request.clone(),
            TxKey::Server(key.clone()),
        );
        answer_trying(&mut tx, &mut self.ctx(now));
        self.servers.insert(key, id);
        self.txs.insert(id, tx);
        self.out.event(TxEvent::Request {
            tx: id,
            request,
            source,
        });
    }

    fn on_ack(&mut self, now: Instant, request: Request, key: ServerKey, source: Peer) {
        if let Some(&id) = self.servers.get(&key) {
            let (txs, mut ctx) = self.parts(now);
            if let Some(tx) = txs.get_mut(&id).filter(|t| t.role == Role::ServerInvite) {
                let (step, outcome) = tx.on_ack(id, &mut ctx);
                if step == Step::End {
                    self.terminate(id);
                }
                if outcome == AckOutcome::Absorbed {
                    return;
                }
                self.out.event(TxEvent::Ack { request, source });
                return;
            }
        }
        // The ACK of a 2xx has a branch of its own (RFC 3261 17.1.1.3).
        let ack_key = AckKey::of(
            request.call_id(),
            request.cseq().map(|c| c.seq),
            request.to_tag(),
        );
        if let Some(id) = ack_key.and_then(|k| self.acks.get(&k).copied()) {
            if let Some(tx) = self.txs.get_mut(&id) {
                if tx.state == State::Accepted {
                    tx.ack_of_2xx();
                }
            }
        }
        self.out.event(TxEvent::Ack { request, source });
    }

    /// A CANCEL gets its own server transaction, answered at once: 200 when it matches a
    /// server INVITE (RFC 3261 9.2; the TU hears of it only while that INVITE has no
    /// final response), 481 otherwise.
    fn on_cancel(&mut self, now: Instant, request: Request, key: ServerKey, source: Peer) {
        if self.retransmitted(now, &key) {
            return;
        }
        let invite = self
            .servers
            .get(&key.with_method(Method::Invite))
            .copied()
            .and_then(|id| self.txs.get(&id).map(|t| (id, t)))
            .filter(|(_, t)| t.role == Role::ServerInvite);
        let (status, to_tag, pending) = match invite {
            Some((id, t)) => (
                200,
                t.to_tag.clone(),
                (t.state == State::Proceeding).then_some(id),
            ),
            None => (481, None, None),
        };
        let to_tag = to_tag.unwrap_or_else(|| build::token(&mut self.rng));
        let response = build::layer_response(&request, status, &to_tag, None, &self.config);
        let id = self.alloc_id();
        let mut tx = Tx::new(
            Role::Server,
            State::Trying,
            source,
            request.clone(),
            TxKey::Server(key.clone()),
        );
        let step = tx
            .respond(id, &response, response.to_bytes(), &mut self.ctx(now))
            .unwrap_or(Step::Keep);
        self.servers.insert(key, id);
        self.txs.insert(id, tx);
        if let Some(invite_tx) = pending {
            self.out.event(TxEvent::Cancel { invite_tx, request });
        }
        if step == Step::End {
            self.terminate(id);
        }
    }

    fn on_response(&mut self, now: Instant, response: Response, source: Peer) {
        // parse() has checked the Vias and CSeq.
        let (Some(via), Some(cseq)) = (response.top_via(), response.cseq()) else {
            return;
        };
        let id = via.branch().and_then(|branch| {
            let key = ClientKey {
                branch: branch.to_string(),
                method: cseq.method,
            };
            self.clients.get(&key).copied()
        });
        match id {
            Some(id) => self.client_response(now, id, response),
            None if is_ours(&via, &self.config) => {
                self.out.event(TxEvent::StrayResponse { response, source });
            }
            // Not our Via: nothing of ours to deliver it to (RFC 3261 18.1.2).
            None => {}
        }
    }

    fn client_response(&mut self, now: Instant, id: TxId, response: Response) {
        let status = response.status;
        let (txs, mut ctx) = self.parts(now);
        let Some(tx) = txs.get_mut(&id) else {
            return;
        };
        let open_invite =
            tx.role == Role::ClientInvite && matches!(tx.state, State::Calling | State::Proceeding);
        let cancel = tx.cancel;
        if tx.on_response(id, response, &mut ctx) == Step::End {
            self.terminate(id);
        }
        if let (true, Some(cancel)) = (open_invite, cancel) {
            self.release_held_cancel(now, id, cancel, status);
        }
    }

    /// RFC 3261 9.1: a held CANCEL goes out with the INVITE's first 1xx and is dropped
    /// when a final response comes first.
    fn release_held_cancel(&mut self, now: Instant, invite: TxId, cancel: TxId, status: u16) {
        if !self
            .txs
            .get(&cancel)
            .is_some_and(|c| c.state == State::Held)
        {
            return;
        }
        if status >= 200 {
            self.terminate(cancel);
            return;
        }
        let (txs, mut ctx) = self.parts(now);
        if let Some(c) = txs.get_mut(&cancel) {
            c.start_client(cancel, &mut ctx);
        }
        if let Some(inv) = txs.get_mut(&invite) {
            // The INVITE now has 64*T1 for its final response (RFC 3261 9.1).
            let guard = ctx.t1x64();
            inv.arm(invite, super::timer::Timer::B, guard, &mut ctx);
        }
    }
}
