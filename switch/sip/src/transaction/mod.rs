//! The SIP transaction layer (RFC 3261 section 17, RFC 6026, RFC 3581), sans-IO.
//!
//! One [`TransactionLayer`] holds every client and server transaction of an endpoint. It
//! matches incoming messages to transactions, absorbs retransmissions, retransmits on its
//! own timers, answers what a transaction layer answers by itself (100 Trying, the ACK of a
//! non-2xx, the 200 or 481 to a CANCEL, 400 to a malformed request) and tells the
//! transaction user (TU) the rest through [`TxEvent`]s.
//!
//! Drive loop: call `handle_datagram` / `send_*` / `cancel` / `handle_timeout` with the
//! current `now`, then drain [`TransactionLayer::poll_transmit`] and
//! [`TransactionLayer::poll_event`], then sleep until [`TransactionLayer::poll_timeout`].
//! Time is only ever the `now` passed in.
//!
//! Beyond RFC 3261's transaction layer, a server INVITE transaction in the RFC 6026
//! Accepted state retransmits the TU's 2xx itself (RFC 3261 13.3.1.4, on every transport,
//! as that section asks) until the ACK arrives, and reports [`TxEvent::NoAck`] when none
//! does.

mod build;
mod client;
mod inbound;
mod key;
mod layer;
mod server;
mod timer;
mod tx;

#[cfg(test)]
mod tests;

pub use layer::TransactionLayer;
pub use timer::Timer;

use crate::message::{Request, Response};
use std::net::SocketAddr;
use std::time::Duration;

/// The transport a message came in on or goes out on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Unreliable: the layer retransmits (Timers A, E, G) and lingers (Timers D, I, J, K).
    Udp,
    /// Reliable: no retransmissions by the layer and no lingering after a final response.
    Tcp,
}

/// The far end of a message: transport and address. For TCP the driver maps it to the
/// connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// The transport of the message.
    pub transport: Transport,
    /// The far end's address: the source of what came in, the destination of what goes out.
    pub addr: SocketAddr,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub peer: Peer,
    /// One whole message, ready for the wire.
    pub data: Vec<u8>,
}

/// A transaction's identity, unique for the life of a [`TransactionLayer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(u64);

impl TxId {
    /// An id no transaction ever has (the layer counts up from 0), for a leg whose
    /// transaction is not known yet.
    pub const NONE: TxId = TxId(u64::MAX);
}

/// Settings of a [`TransactionLayer`].
#[derive(Clone, Debug)]
pub struct TxConfig {
    /// RTT estimate: first retransmission interval (RFC 3261 default 500 ms).
    pub t1: Duration,
    /// Cap on the retransmission interval of non-INVITE requests and of final responses (4 s).
    pub t2: Duration,
    /// How long the network may keep a message (5 s): Timers I and K on UDP.
    pub t4: Duration,
    /// `host:port` written in our Vias for UDP; when `None`, `tcp_sent_by` or else
    /// `ferroswitch.invalid` is written (peers then answer by rport/received alone).
    pub udp_sent_by: Option<SocketAddr>,
    /// `host:port` written in our Vias for TCP; when `None`, `udp_sent_by` is used.
    pub tcp_sent_by: Option<SocketAddr>,
    /// Added as User-Agent to requests and as Server to responses that lack one; empty for none.
    pub user_agent: String,
    /// Larger messages are answered 513 when they can be, and dropped otherwise.
    pub max_message_size: usize,
}

impl Default for TxConfig {
    fn default() -> Self {
        TxConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            udp_sent_by: None,
            tcp_sent_by: None,
            user_agent: concat!("ferroswitch/", env!("CARGO_PKG_VERSION")).to_string(),
            max_message_size: 65_535,
        }
    }
}

/// What the transaction layer tells its user.
#[derive(Clone, Debug, PartialEq)]
pub enum TxEvent {
    /// A new request (never a retransmission). For INVITE the layer has already sent
    /// "100 Trying". The top Via carries `received`/`rport` as RFC 3261 18.2.1 and RFC
    /// 3581 ask, so responses built from it route back.
    Request {
        tx: TxId,
        request: Request,
        source: Peer,
    },
    /// An ACK that is not for a non-2xx response of ours: the ACK of a 2xx, for the dialog.
    /// If it matched a server INVITE transaction in Accepted, that transaction has stopped
    /// retransmitting its 2xx.
    Ack { request: Request, source: Peer },
    /// A CANCEL matched a server INVITE transaction that has sent no final response yet;
    /// the layer has answered the CANCEL with 200. The TU answers the INVITE with 487.
    /// (A CANCEL after the final response gets 200 and no event; one that matches nothing
    /// gets 481 and no event.)
    Cancel { invite_tx: TxId, request: Request },
    /// A response to a client transaction, provisional or final. For INVITE every 2xx,
    /// retransmissions and other forks included, is passed on while the transaction lives
    /// (RFC 6026 Accepted); a retransmitted non-2xx final is not.
    Response { tx: TxId, response: Response },
    /// A response that matches no transaction but carries our sent-by (a late 2xx
    /// retransmission, say: the TU re-sends its ACK).
    StrayResponse { response: Response, source: Peer },
    /// A client transaction got no final response: Timer B or F fired, a CANCELled INVITE
    /// got no final response 64*T1 after the CANCEL (RFC 3261 9.1), or a transport error
    /// was reported. The TU treats it as 408.
    Timeout { tx: TxId },
    /// A server INVITE transaction sent a 2xx and got no ACK within 64*T1 (Timer L): the
    /// TU should send BYE.
    NoAck { tx: TxId },
    /// A message that could not be parsed, for the log; the layer already answered
    /// 400/505/513 when it could.
    Malformed { source: Peer, reason: String },
    /// A transaction ended and was freed; the TU may drop its state for it. Every
    /// transaction ends with exactly one of these, including those the layer made for
    /// CANCELs it answered itself.
    Terminated { tx: TxId },
}

/// Misuse of the transaction layer's API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// No live transaction has this id (it never existed or has ended).
    #[error("no such transaction")]
    UnknownTransaction,
    /// Responses go to server transactions only.
    #[error("not a server transaction")]
    NotServerTransaction,
    /// The transaction has already sent its final response (or, for a 1xx, any final).
    #[error("the transaction already has a final response")]
    AlreadyFinal,
    /// The status is not in 100..=699.
    #[error("status {0} is not a SIP status code")]
    InvalidStatus(u16),
}
