//! Behaviour tests of the transaction layer on a fake clock: a base `Instant` plus
//! milliseconds. The layer is "us" at 192.0.2.1:5060; the remote UA is 192.0.2.10:5060.

mod cancel;
mod client_invite;
mod client_non_invite;
mod fuzz_smoke;
mod inbound;
mod server_invite;
mod server_non_invite;
mod tcp;

use super::{Peer, TransactionLayer, Transmit, Transport, TxConfig, TxEvent, TxId};
use crate::message::{parse, Message, Method, Request, Response, Uri};
use std::time::{Duration, Instant};

pub const US: &str = "192.0.2.1:5060";

pub fn ua(transport: Transport) -> Peer {
    Peer {
        transport,
        addr: "192.0.2.10:5060".parse().unwrap(),
    }
}

pub fn config() -> TxConfig {
    TxConfig {
        udp_sent_by: Some(US.parse().unwrap()),
        tcp_sent_by: Some(US.parse().unwrap()),
        user_agent: "test-switch".into(),
        ..TxConfig::default()
    }
}

/// The layer under test and its fake clock.
pub struct Net {
    pub layer: TransactionLayer,
    pub t0: Instant,
}

impl Net {
    pub fn new() -> Net {
        Net {
            layer: TransactionLayer::with_seed(config(), 7),
            t0: Instant::now(),
        }
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Milliseconds since t0.
    pub fn ms(&self, t: Instant) -> u64 {
        (t - self.t0).as_millis() as u64
    }

    /// Fires the timers due at `ms`.
    pub fn tick(&mut self, ms: u64) {
        self.layer.handle_timeout(self.at(ms));
    }

    /// Delivers a message written with `\n` line ends.
    pub fn recv(&mut self, ms: u64, text: &str, from: Peer) {
        let data = text.replace("\r\n", "\n").replace('\n', "\r\n");
        self.layer
            .handle_datagram(self.at(ms), data.as_bytes(), from);
    }

    /// Delivers a message as built.
    pub fn recv_msg(&mut self, ms: u64, msg: &Message, from: Peer) {
        self.layer
            .handle_datagram(self.at(ms), &msg.to_bytes(), from);
    }

    pub fn sent(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.layer.poll_transmit()).collect()
    }

    /// What was sent, parsed.
    pub fn sent_msgs(&mut self) -> Vec<Message> {
        self.sent()
            .into_iter()
            .map(|t| parse(&t.data).expect("the layer sends what it can parse"))
            .collect()
    }

    pub fn events(&mut self) -> Vec<TxEvent> {
        std::iter::from_fn(|| self.layer.poll_event()).collect()
    }

    /// Runs the clock by `poll_timeout` up to `until_ms`, returning the time (ms) of every
    /// message sent on the way. Events are left queued.
    pub fn transmit_times(&mut self, until_ms: u64) -> Vec<u64> {
        let mut times = Vec::new();
        while let Some(t) = self.layer.poll_timeout() {
            if t > self.at(until_ms) {
                break;
            }
            self.layer.handle_timeout(t);
            let ms = self.ms(t);
            times.extend(self.sent().iter().map(|_| ms));
        }
        times
    }

    /// Runs the clock by `poll_timeout` up to `until_ms` and returns the events on the way
    /// with the time (ms) they came at.
    pub fn run_events(&mut self, until_ms: u64) -> Vec<(u64, TxEvent)> {
        let mut out = Vec::new();
        while let Some(t) = self.layer.poll_timeout() {
            if t > self.at(until_ms) {
                break;
            }
            self.layer.handle_timeout(t);
            let ms = self.ms(t);
            out.extend(self.events().into_iter().map(|e| (ms, e)));
        }
        out
    }

    /// The TU sends a request built by [`tu_request`]; its first transmission is drained.
    pub fn send(&mut self, ms: u64, method: Method, to: Peer) -> (TxId, Request) {
        let id = self.layer.send_request(self.at(ms), tu_request(method), to);
        let sent = self.sent_msgs();
        assert_eq!(sent.len(), 1, "one transmission at start");
        match sent.into_iter().next() {
            Some(Message::Request(r)) => (id, r),
            other => panic!("sent {other:?}"),
        }
    }

    /// The remote UA answers a request we sent.
    pub fn answer(&mut self, ms: u64, request: &Request, status: u16, from: Peer) {
        let r = request.response(status, Some("remote-tag"));
        self.recv_msg(ms, &Message::Response(r), from);
    }
}

/// A request as the TU hands it to the layer (no Via).
pub fn tu_request(method: Method) -> Request {
    let mut r = Request::new(method.clone(), Uri::parse("sip:bob@192.0.2.10").unwrap());
    r.headers.push("Route", "<sip:192.0.2.10;lr>");
    r.headers.push("From", "<sip:1000@192.0.2.1>;tag=ours");
    r.headers.push("To", "<sip:bob@192.0.2.10>");
    r.headers.push("Call-ID", "out-call@192.0.2.1");
    r.headers.push("CSeq", &format!("5 {method}"));
    r.headers.push("Contact", "<sip:1000@192.0.2.1:5060>");
    r
}

/// A request from the remote UA, as text.
pub fn remote(method: &str, branch: &str, transport: &str) -> String {
    format!(
        "{method} sip:1000@192.0.2.1 SIP/2.0
Via: SIP/2.0/{transport} 192.0.2.10:5060;branch={branch}
Max-Forwards: 70
From: <sip:alice@192.0.2.10>;tag=a1
To: <sip:1000@192.0.2.1>
Call-ID: in-call@192.0.2.10
CSeq: 1 {method}
Contact: <sip:alice@192.0.2.10:5060>
Content-Length: 0

"
    )
}

/// A request as parsed back from the wire, less the Content-Length the printer added.
pub fn unprinted(r: &Request) -> Request {
    let mut r = r.clone();
    r.headers.remove("Content-Length");
    r
}

/// The one new server transaction a request made.
pub fn new_tx(events: &[TxEvent]) -> TxId {
    match events {
        [TxEvent::Request { tx, .. }] => *tx,
        other => panic!("expected one Request event, got {other:?}"),
    }
}

pub fn response(msg: &Message) -> &Response {
    match msg {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {}", r.method),
    }
}

pub fn request(msg: &Message) -> &Request {
    match msg {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got {}", r.status),
    }
}
