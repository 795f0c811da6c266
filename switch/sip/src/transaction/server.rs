//! Server transactions: INVITE (RFC 3261 17.2.1 with RFC 6026's Accepted, where the layer
//! also retransmits the 2xx as RFC 3261 13.3.1.4 asks of the UAS) and non-INVITE (17.2.2).

use super::build;
use super::timer::Timer;
use super::tx::{Ctx, Role, State, Step, Tx};
use super::{TxError, TxEvent, TxId};
use crate::message::Response;

/// What became of an ACK that matched a server INVITE transaction by its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AckOutcome {
    /// The ACK of our non-2xx (or a retransmission of it): the layer's business alone.
    Absorbed,
    /// Not for a non-2xx of ours: passed to the TU as [`TxEvent::Ack`].
    PassUp,
}

impl Tx {
    /// The peer sent the request again.
    pub fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        // Confirmed has nothing left to say; every other state repeats its last response
        // (nothing in Trying, where `wire` is still empty).
        if self.state != State::Confirmed {
            self.resend(ctx);
        }
    }

    /// An ACK with this server INVITE transaction's own key (same branch, or an RFC 2543
    /// peer's ACK of a 2xx).
    pub fn on_ack(&mut self, id: TxId, ctx: &mut Ctx<'_>) -> (Step, AckOutcome) {
        match self.state {
            State::Completed => {
                self.slots.disarm(Timer::G);
                self.slots.disarm(Timer::H);
                self.state = State::Confirmed;
                if !self.unreliable() {
                    return (Step::End, AckOutcome::Absorbed);
                }
                self.arm(id, Timer::I, ctx.config.t4, ctx);
                (Step::Keep, AckOutcome::Absorbed)
            }
            State::Confirmed => (Step::Keep, AckOutcome::Absorbed),
            State::Accepted => {
                self.ack_of_2xx();
                (Step::Keep, AckOutcome::PassUp)
            }
            _ => (Step::Keep, AckOutcome::PassUp),
        }
    }

    /// The ACK of our 2xx arrived: stop retransmitting it, and no NoAck at Timer L.
    pub fn ack_of_2xx(&mut self) {
        self.acked = true;
        self.slots.disarm(Timer::G);
    }

    /// The TU answers. `response` is already stamped and `bytes` is its wire form.
    pub fn respond(
        &mut self,
        id: TxId,
        response: &Response,
        bytes: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Step, TxError> {
        let status = response.status;
        if !(100..=699).contains(&status) {
            return Err(TxError::InvalidStatus(status));
        }
        let open = match self.role {
            Role::ServerInvite => {
                self.state == State::Proceeding
                    || (self.state == State::Accepted && (200..300).contains(&status))
            }
            _ => matches!(self.state, State::Trying | State::Proceeding),
        };
        if !open {
            return Err(TxError::AlreadyFinal);
        }
        ctx.out.send(self.peer, bytes.clone());
        self.wire = bytes;
        if self.role == Role::ServerInvite {
            Ok(self.invite_responded(id, status, ctx))
        } else {
            Ok(self.non_invite_responded(id, status, ctx))
        }
    }

    fn invite_responded(&mut self, id: TxId, status: u16, ctx: &mut Ctx<'_>) -> Step {
        if status < 200 || self.state == State::Accepted {
            return Step::Keep;
        }
        self.interval = ctx.config.t1;
        self.settle();
        if status < 300 {
            // RFC 3261 13.3.1.4: the 2xx is retransmitted even on a reliable transport,
            // since hops beyond it may be unreliable.
            self.state = State::Accepted;
            self.arm(id, Timer::G, ctx.config.t1, ctx);
            self.arm(id, Timer::L, ctx.t1x64(), ctx);
        } else {
            self.state = State::Completed;
            if self.unreliable() {
                self.arm(id, Timer::G, ctx.config.t1, ctx);
            }
            self.arm(id, Timer::H, ctx.t1x64(), ctx);
        }
        Step::Keep
    }

    fn non_invite_responded(&mut self, id: TxId, status: u16, ctx: &mut Ctx<'_>) -> Step {
        if status < 200 {
            self.state = State::Proceeding;
            return Step::Keep;
        }
        self.state = State::Completed;
        if !self.unreliable() {
            return Step::End;
        }
        self.settle();
        self.arm(id, Timer::J, ctx.t1x64(), ctx);
        Step::Keep
    }

    /// A server transaction's timer fired.
    pub fn on_server_timer(&mut self, id: TxId, timer: Timer, ctx: &mut Ctx<'_>) -> Step {
        match (timer, self.state) {
            (Timer::G, State::Completed) | (Timer::G, State::Accepted) if !self.acked => {
                self.resend(ctx);
                self.interval = ctx.backoff(self.interval);
                self.arm(id, Timer::G, self.interval, ctx);
                Step::Keep
            }
            (Timer::L, _) => {
                if !self.acked {
                    ctx.out.event(TxEvent::NoAck { tx: id });
                }
                Step::End
            }
            (Timer::H | Timer::I | Timer::J, _) => Step::End,
            _ => Step::Keep,
        }
    }
}

/// A fresh server transaction for a new request, answered "100 Trying" when it is an INVITE.
pub(super) fn answer_trying(tx: &mut Tx, ctx: &mut Ctx<'_>) {
    if tx.role == Role::ServerInvite {
        let bytes = build::trying(&tx.request).to_bytes();
        ctx.out.send(tx.peer, bytes.clone());
        tx.wire = bytes;
    }
}
