//! The transaction layer driven by a script of datagrams, clock jumps and TU calls.
//!
//! Input format: a sequence of operations, each an op byte (taken modulo 8) and its
//! arguments; a script that runs out of bytes simply ends.
//!
//! | op | name           | arguments                                   |
//! |----|----------------|---------------------------------------------|
//! | 0  | datagram       | peer: u8, len: u16 LE, `len` bytes          |
//! | 1  | tick           | ms: u16 LE (the clock moves, timers fire)   |
//! | 2  | send_request   | method: u8, peer: u8                        |
//! | 3  | send_response  | server tx index: u8, status: u16 LE         |
//! | 4  | cancel         | client tx index: u8                         |
//! | 5  | answer ours    | client tx index: u8, status: u16 LE         |
//! | 6  | transport err  | peer: u8                                    |
//! | 7  | next timeout   | (none: jump to poll_timeout and fire)       |
//!
//! "answer ours" builds a response to the request of one of our client transactions and
//! feeds it back from the peer it went to, which is how a script reaches the client state
//! machines (our branches are random).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use switch_sip::message::{Method, Request, Uri};
use switch_sip::transaction::{Peer, TransactionLayer, Transport, TxConfig, TxEvent, TxId};

struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn peer(b: u8) -> Peer {
    let transport = if b & 1 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let addr = match (b >> 1) % 3 {
        0 => "192.0.2.10:5060",
        1 => "198.51.100.7:40000",
        _ => "[2001:db8::1]:5070",
    };
    Peer {
        transport,
        addr: addr.parse().expect("a literal address"),
    }
}

fn tu_request(method: Method) -> Request {
    let mut r = Request::new(
        method.clone(),
        Uri::parse("sip:bob@192.0.2.10").expect("a literal URI"),
    );
    r.headers.push("From", "<sip:1000@192.0.2.1>;tag=ours");
    r.headers.push("To", "<sip:bob@192.0.2.10>");
    r.headers.push("Call-ID", "fuzz@192.0.2.1");
    r.headers.push("CSeq", &format!("1 {method}"));
    r
}

fn pick<T: Copy>(v: &[T], i: u8) -> Option<T> {
    (!v.is_empty()).then(|| v[usize::from(i) % v.len()])
}

fuzz_target!(|data: &[u8]| {
    let config = TxConfig {
        udp_sent_by: "192.0.2.1:5060".parse().ok(),
        tcp_sent_by: "192.0.2.1:5060".parse().ok(),
        max_message_size: 4_096,
        ..TxConfig::default()
    };
    let mut layer = TransactionLayer::with_seed(config, 1);
    let t0 = Instant::now();
    let mut now = t0;
    let mut servers: Vec<TxId> = Vec::new();
    let mut clients: Vec<(TxId, Peer)> = Vec::new();
    let mut s = Script(data);
    while let Some(op) = s.u8() {
        match op % 8 {
            0 => {
                let (Some(p), Some(len)) = (s.u8(), s.u16()) else {
                    break;
                };
                let bytes = s.bytes(usize::from(len)).to_vec();
                layer.handle_datagram(now, &bytes, peer(p));
            }
            1 => {
                let Some(ms) = s.u16() else { break };
                now += Duration::from_millis(u64::from(ms));
                layer.handle_timeout(now);
            }
            2 => {
                let (Some(m), Some(p)) = (s.u8(), s.u8()) else {
                    break;
                };
                let method = match m % 4 {
                    0 => Method::Invite,
                    1 => Method::Options,
                    2 => Method::Bye,
                    _ => Method::Ack,
                };
                let to = peer(p);
                clients.push((layer.send_request(now, tu_request(method), to), to));
            }
            3 => {
                let (Some(i), Some(status)) = (s.u8(), s.u16()) else {
                    break;
                };
                if let Some(tx) = pick(&servers, i) {
                    if let Some(r) = layer.request_of(tx).map(|r| r.response(status, Some("tu"))) {
                        let _ = layer.send_response(now, tx, r);
                    }
                }
            }
            4 => {
                let Some(i) = s.u8() else { break };
                if let Some((tx, to)) = pick(&clients, i) {
                    if let Some(c) = layer.cancel(now, tx) {
                        clients.push((c, to));
                    }
                }
            }
            5 => {
                let (Some(i), Some(status)) = (s.u8(), s.u16()) else {
                    break;
                };
                if let Some((tx, to)) = pick(&clients, i) {
                    let status = 100 + status % 600;
                    if let Some(r) = layer
                        .request_of(tx)
                        .map(|r| r.response(status, Some("far")))
                    {
                        layer.handle_datagram(now, &r.to_bytes(), to);
                    }
                }
            }
            6 => {
                let Some(p) = s.u8() else { break };
                layer.handle_transport_error(now, peer(p));
            }
            _ => {
                if let Some(t) = layer.poll_timeout() {
                    now = now.max(t);
                    layer.handle_timeout(now);
                }
            }
        }
        while layer.poll_transmit().is_some() {}
        while let Some(e) = layer.poll_event() {
            if let TxEvent::Request { tx, .. } = e {
                servers.push(tx);
            }
        }
        if let Some(t) = layer.poll_timeout() {
            assert!(t >= t0, "a deadline before the first instant");
        }
    }
    // Run the clock out: every timer ends, and nothing panics on the way.
    for _ in 0..10_000 {
        match layer.poll_timeout() {
            Some(t) => layer.handle_timeout(t),
            None => break,
        }
        while layer.poll_transmit().is_some() {}
    }
    assert!(layer.poll_timeout().is_none(), "timers keep re-arming");
});
