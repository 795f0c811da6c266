//! A stable-Rust stand-in for the cargo-fuzz target: thousands of pseudo-random mutations
//! of valid messages (fixed seed), TU calls and clock jumps driven through one layer. It
//! asserts no panic, consistent indexes, one Terminated per transaction, and that
//! nothing but a transaction waiting on its TU or peer outlives the timers.

use super::super::tx::{Role, State, TxKey};
use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

const STEPS: usize = 4_000;

const SEEDS: &[&str] = &[
    "INVITE sip:1000@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKs1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:a@192.0.2.10>;tag=a1\r\nTo: <sip:1000@192.0.2.1>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.10>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
    "ACK sip:1000@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKs1\r\nMax-Forwards: 70\r\nFrom: <sip:a@192.0.2.10>;tag=a1\r\nTo: <sip:1000@192.0.2.1>;tag=t\r\nCall-ID: c1@x\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
    "CANCEL sip:1000@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKs1\r\nMax-Forwards: 70\r\nFrom: <sip:a@192.0.2.10>;tag=a1\r\nTo: <sip:1000@192.0.2.1>\r\nCall-ID: c1@x\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
    "BYE sip:1000@192.0.2.1 SIP/2.0\r\nv: SIP/2.0/TCP 192.0.2.10;branch=oldstyle\r\nf: <sip:a@192.0.2.10>;tag=a1\r\nt: <sip:1000@192.0.2.1>;tag=t\r\ni: c1@x\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n",
    "OPTIONS sip:1000@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKs5;rport\r\nFrom: <sip:a@192.0.2.10>;tag=a1\r\nTo: <sip:1000@192.0.2.1>\r\nCall-ID: c5@x\r\nCSeq: 9 OPTIONS\r\n\r\n",
    "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs6;rport=5060\r\nFrom: <sip:1000@192.0.2.1>;tag=ours\r\nTo: <sip:bob@192.0.2.10>;tag=r\r\nCall-ID: out@x\r\nCSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n",
];

const SNIPPETS: &[&[u8]] = &[
    b"\r\n",
    b"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKs1\r\n",
    b"CSeq: 4294967296 INVITE\r\n",
    b"Content-Length: 99999\r\n",
    b"To: <sip:1000@192.0.2.1>;tag=t\r\n",
    b";rport",
    b";received=",
    b"z9hG4bK",
    b" ",
    b"\"",
    b"<",
    b"\xff\xfe",
];

fn mutate(rng: &mut StdRng, data: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(0..5) {
        let len = data.len();
        match rng.gen_range(0..6) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                let end = (i + rng.gen_range(1..40)).min(len);
                data.drain(i..end);
            }
            2 => {
                let i = rng.gen_range(0..=len);
                let s = SNIPPETS[rng.gen_range(0..SNIPPETS.len())];
                data.splice(i..i, s.iter().copied());
            }
            3 if len > 0 => data.truncate(rng.gen_range(0..len)),
            4 if len > 0 => {
                let i = rng.gen_range(0..len);
                let end = (i + rng.gen_range(1..60)).min(len);
                let copy = data[i..end].to_vec();
                data.splice(i..i, copy);
            }
            _ => {}
        }
    }
}

fn peer(rng: &mut StdRng) -> Peer {
    let transport = if rng.gen_bool(0.7) {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let addr = [
        "192.0.2.10:5060",
        "198.51.100.7:40000",
        "[2001:db8::1]:5070",
    ][rng.gen_range(0..3)]
    .parse()
    .unwrap();
    Peer { transport, addr }
}

/// Every index entry points at a live transaction that is indexed under it.
fn check_indexes(layer: &TransactionLayer) {
    for (k, id) in &layer.servers {
        let tx = &layer.txs[id];
        assert!(matches!(&tx.key, TxKey::Server(s) if s == k));
    }
    for (k, id) in &layer.clients {
        let tx = &layer.txs[id];
        assert!(matches!(&tx.key, TxKey::Client(c) if c == k));
    }
    for id in layer.acks.values() {
        assert_eq!(layer.txs[id].role, Role::ServerInvite);
    }
    for (p, id) in &layer.by_peer {
        assert_eq!(layer.txs[id].peer, *p);
    }
    assert_eq!(
        layer.servers.len() + layer.clients.len(),
        layer.txs.len(),
        "every transaction indexed once"
    );
}

#[test]
fn mutated_messages_timeouts_and_tu_calls_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed_f022);
    for seed in 0..3 {
        let cfg = TxConfig {
            // Small timers so that every state is left many times within the run.
            t1: Duration::from_millis(rng.gen_range(10..100)),
            t2: Duration::from_millis(rng.gen_range(0..400)),
            t4: Duration::from_millis(rng.gen_range(0..500)),
            max_message_size: 1_500,
            ..config()
        };
        run(seed, cfg, true);
    }
}

#[test]
fn zero_length_timers_do_not_spin() {
    run(
        9,
        TxConfig {
            t1: Duration::ZERO,
            t2: Duration::ZERO,
            t4: Duration::ZERO,
            ..config()
        },
        // Transactions end as soon as the clock moves: few get a response.
        false,
    );
}

fn run(seed: u64, cfg: TxConfig, expect_depth: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut layer = TransactionLayer::with_seed(cfg, 3);
    let t0 = Instant::now();
    let mut now = t0;
    let mut server_txs: Vec<TxId> = Vec::new();
    let mut client_txs: Vec<TxId> = Vec::new();
    let mut last_sent: Vec<Transmit> = Vec::new();
    let mut terminated: HashSet<TxId> = HashSet::new();
    let mut stats = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..STEPS {
        match rng.gen_range(0..100) {
            0..=44 => {
                let mut data = SEEDS[rng.gen_range(0..SEEDS.len())].as_bytes().to_vec();
                if rng.gen_bool(0.6) {
                    mutate(&mut rng, &mut data);
                }
                layer.handle_datagram(now, &data, peer(&mut rng));
            }
            45..=59 if !last_sent.is_empty() => {
                // Answer (or echo) a request we sent.
                let t = &last_sent[rng.gen_range(0..last_sent.len())];
                let mut data = match parse(&t.data) {
                    Ok(Message::Request(r)) if rng.gen_bool(0.8) => {
                        let status = [100, 180, 183, 200, 202, 302, 404, 487, 503, 603]
                            [rng.gen_range(0..10)];
                        r.response(status, Some("fz")).to_bytes()
                    }
                    _ => t.data.clone(),
                };
                if rng.gen_bool(0.3) {
                    mutate(&mut rng, &mut data);
                }
                layer.handle_datagram(now, &data, t.peer);
            }
            60..=71 => {
                let max_ms = if rng.gen_bool(0.8) { 100 } else { 5_000 };
                now += Duration::from_millis(rng.gen_range(0..max_ms));
                layer.handle_timeout(now);
            }
            72..=76 => {
                if let Some(t) = layer.poll_timeout() {
                    now = now.max(t);
                    layer.handle_timeout(now);
                }
            }
            77..=84 => {
                let method = [Method::Invite, Method::Options, Method::Bye, Method::Ack]
                    [rng.gen_range(0..4)]
                .clone();
                let p = peer(&mut rng);
                client_txs.push(layer.send_request(now, tu_request(method), p));
            }
            85..=92 if !server_txs.is_empty() => {
                let id = server_txs[rng.gen_range(0..server_txs.len())];
                let status = rng.gen_range(0..800);
                if let Some(r) = layer.request_of(id).map(|r| r.response(status, Some("tu"))) {
                    let _ = layer.send_response(now, id, r);
                }
            }
            93..=96 if !client_txs.is_empty() => {
                let id = client_txs[rng.gen_range(0..client_txs.len())];
                if let Some(c) = layer.cancel(now, id) {
                    client_txs.push(c);
                }
            }
            97 => layer.handle_transport_error(now, peer(&mut rng)),
            98 => layer.send_ack(tu_request(Method::Ack), peer(&mut rng)),
            _ => {
                let r = tu_request(Method::Options).response(400, None);
                layer.send_stateless_response(r, peer(&mut rng));
            }
        }
        while let Some(t) = layer.poll_transmit() {
            // Keep recent requests: answering them reaches the client states.
            if !t.data.starts_with(b"SIP/") {
                if last_sent.len() == 16 {
                    last_sent.remove(0);
                }
                last_sent.push(t);
            }
        }
        while let Some(e) = layer.poll_event() {
            match e {
                TxEvent::Request { tx, .. } => server_txs.push(tx),
                TxEvent::Terminated { tx } => {
                    assert!(terminated.insert(tx), "{tx:?} terminated twice");
                }
                other => {
                    let name = format!("{other:?}");
                    let name = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
                    *stats.entry(name).or_insert(0) += 1;
                }
            }
        }
        if let Some(t) = layer.poll_timeout() {
            assert!(t >= t0);
        }
        check_indexes(&layer);
    }
    // Far in the future only transactions waiting on their TU or peer are left.
    for _ in 0..10_000 {
        match layer.poll_timeout() {
            Some(t) => layer.handle_timeout(t),
            None => break,
        }
    }
    assert_eq!(layer.poll_timeout(), None);
    for tx in layer.txs.values() {
        let waiting = match tx.role {
            Role::Server | Role::ServerInvite => {
                matches!(tx.state, State::Trying | State::Proceeding)
            }
            Role::ClientInvite => tx.state == State::Proceeding,
            // A held CANCEL leaves with its INVITE's first response or its end.
            Role::Client => false,
        };
        assert!(waiting, "{:?} {:?} outlived its timers", tx.role, tx.state);
    }
    if !expect_depth {
        return;
    }
    // The run must have reached deep states, not only the parser's error path.
    for kind in ["Response", "Ack", "Cancel", "Timeout", "Malformed"] {
        assert!(
            stats.get(kind).copied().unwrap_or(0) > 10,
            "few {kind}: {stats:?}"
        );
    }
    assert!(terminated.len() > 100, "few transactions ended: {stats:?}");
}
