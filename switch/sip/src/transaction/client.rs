//! Client transactions: INVITE (RFC 3261 17.1.1 with RFC 6026's Accepted) and non-INVITE
//! (17.1.2).

use super::build;
use super::timer::Timer;
use super::tx::{Ctx, Role, State, Step, Tx};
use super::{TxEvent, TxId};
use crate::message::{Message, Response};
use std::time::Duration;

/// Timer D on UDP: long enough for every retransmission of the final (RFC 3261 17.1.1.2).
const TIMER_D_UDP: Duration = Duration::from_secs(32);

impl Tx {
    /// Sends the request for the first time and arms the retransmission and timeout timers.
    pub fn start_client(&mut self, id: TxId, ctx: &mut Ctx<'_>) {
        let invite = self.role == Role::ClientInvite;
        self.state = if invite {
            State::Calling
        } else {
            State::Trying
        };
        self.resend(ctx);
        self.interval = ctx.config.t1;
        if self.unreliable() {
            let retransmit = if invite { Timer::A } else { Timer::E };
            self.arm(id, retransmit, ctx.config.t1, ctx);
        }
        let give_up = if invite { Timer::B } else { Timer::F };
        self.arm(id, give_up, ctx.t1x64(), ctx);
    }

    /// A response matched this client transaction.
    pub fn on_response(&mut self, id: TxId, response: Response, ctx: &mut Ctx<'_>) -> Step {
        match self.role {
            Role::ClientInvite => self.invite_response(id, response, ctx),
            _ => self.non_invite_response(id, response, ctx),
        }
    }

    fn invite_response(&mut self, id: TxId, response: Response, ctx: &mut Ctx<'_>) -> Step {
        let status = response.status;
        match self.state {
            State::Calling | State::Proceeding if status < 200 => {
                if self.state == State::Calling {
                    self.slots.disarm(Timer::A);
                    self.slots.disarm(Timer::B);
                    self.state = State::Proceeding;
                }
                ctx.out.event(TxEvent::Response { tx: id, response });
                Step::Keep
            }
            State::Calling | State::Proceeding if status < 300 => {
                self.slots.disarm(Timer::A);
                self.slots.disarm(Timer::B);
                self.state = State::Accepted;
                self.settle();
                self.arm(id, Timer::M, ctx.t1x64(), ctx);
                ctx.out.event(TxEvent::Response { tx: id, response });
                Step::Keep
            }
            State::Calling | State::Proceeding => {
                self.slots.disarm(Timer::A);
                self.slots.disarm(Timer::B);
                self.ack =
                    Message::Request(build::ack_for_non_2xx(&self.request, &response)).to_bytes();
                ctx.out.send(self.peer, self.ack.clone());
                ctx.out.event(TxEvent::Response { tx: id, response });
                self.state = State::Completed;
                if !self.unreliable() {
                    return Step::End;
                }
                self.settle();
                self.arm(id, Timer::D, TIMER_D_UDP, ctx);
                Step::Keep
            }
            State::Accepted if (200..300).contains(&status) => {
                ctx.out.event(TxEvent::Response { tx: id, response });
                Step::Keep
            }
            State::Completed if status >= 300 => {
                ctx.out.send(self.peer, self.ack.clone());
                Step::Keep
            }
            _ => Step::Keep,
        }
    }

    fn non_invite_response(&mut self, id: TxId, response: Response, ctx: &mut Ctx<'_>) -> Step {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            // Held has sent nothing to answer; Completed absorbs retransmissions.
            return Step::Keep;
        }
        let final_ = response.status >= 200;
        ctx.out.event(TxEvent::Response { tx: id, response });
        if !final_ {
            self.state = State::Proceeding;
            return Step::Keep;
        }
        self.slots.disarm(Timer::E);
        self.slots.disarm(Timer::F);
        self.state = State::Completed;
        if !self.unreliable() {
            return Step::End;
        }
        self.settle();
        self.arm(id, Timer::K, ctx.config.t4, ctx);
        Step::Keep
    }

    /// A client transaction's timer fired.
    pub fn on_client_timer(&mut self, id: TxId, timer: Timer, ctx: &mut Ctx<'_>) -> Step {
        match (timer, self.state) {
            (Timer::A, State::Calling) => {
                self.resend(ctx);
                self.interval = self.interval.saturating_mul(2);
                self.arm(id, Timer::A, self.interval, ctx);
                Step::Keep
            }
            (Timer::E, State::Trying | State::Proceeding) => {
                self.resend(ctx);
                self.interval = if self.state == State::Proceeding {
                    ctx.config.t2
                } else {
                    ctx.backoff(self.interval)
                };
                self.arm(id, Timer::E, self.interval, ctx);
                Step::Keep
            }
            // B also guards a CANCELled INVITE in Proceeding (RFC 3261 9.1).
            (Timer::B, State::Calling | State::Proceeding)
            | (Timer::F, State::Trying | State::Proceeding) => {
                ctx.out.event(TxEvent::Timeout { tx: id });
                Step::End
            }
            (Timer::D | Timer::K | Timer::M, _) => Step::End,
            _ => Step::Keep,
        }
    }
}
