//! The relay task against real UDP sockets on 127.0.0.1. Each test uses its own port range.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::*;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(3);

fn rtp(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x08];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

async fn peer() -> UdpSocket {
    UdpSocket::bind((LOCAL, 0)).await.unwrap()
}

async fn recv(sock: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 4096];
    let (n, from) = timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("no datagram within 3 s")
        .unwrap();
    (buf[..n].to_vec(), from)
}

async fn assert_silent(sock: &UdpSocket, how_long: Duration) {
    let mut buf = [0u8; 4096];
    let got = timeout(how_long, sock.recv_from(&mut buf)).await;
    assert!(got.is_err(), "unexpected datagram: {got:?}");
}

/// A relay with both legs attached and their SDP addresses set, not yet bridged.
struct Call {
    pool: PortPool,
    relay: Relay,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    /// Our sockets for A and B.
    a: SocketAddr,
    b: SocketAddr,
    /// The phones' sockets.
    pa: UdpSocket,
    pb: UdpSocket,
}

async fn call(range: RangeInclusive<u16>, cfg: RelayConfig) -> Call {
    let pool = PortPool::new(LOCAL, range);
    let port_a = pool.allocate().await.unwrap();
    let port_b = pool.allocate().await.unwrap();
    let a = SocketAddr::new(port_a.ip(), port_a.port());
    let b = SocketAddr::new(port_b.ip(), port_b.port());
    let (tx, events) = mpsc::unbounded_channel();
    let relay = spawn_relay(port_a, cfg, tx, 42);
    relay.attach_b(port_b);
    let (pa, pb) = (peer().await, peer().await);
    relay.set_remote(Side::A, pa.local_addr().unwrap(), false);
    relay.set_remote(Side::B, pb.local_addr().unwrap(), false);
    Call {
        pool,
        relay,
        events,
        a,
        b,
        pa,
        pb,
    }
}

fn cfg(latch: LatchMode) -> RelayConfig {
    RelayConfig {
        timeout: None,
        latch,
        jitter_ms: (20, 200),
    }
}

/// Waits until every command sent so far has been applied.
async fn settle(relay: &Relay) -> RelayStats {
    relay.stats().await.expect("relay running")
}

/// Polls the counters until `done` holds (packets and commands race inside the task).
async fn wait_for(relay: &Relay, done: impl Fn(&RelayStats) -> bool) -> RelayStats {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stats = settle(relay).await;
        if done(&stats) {
            return stats;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up: {stats:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn bridge_relays_both_ways_with_payload_intact() {
    let c = call(31300..=31309, cfg(LatchMode::Never)).await;
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;

    let to_b = rtp(0x1111, 1, &[0xd5; 160]);
    c.pa.send_to(&to_b, c.a).await.unwrap();
    let (got, from) = recv(&c.pb).await;
    assert_eq!(got, to_b);
    assert_eq!(from, c.b, "B hears the relay from B's own port");

    let to_a = rtp(0x2222, 9, &[0x2a; 80]);
    c.pb.send_to(&to_a, c.b).await.unwrap();
    let (got, from) = recv(&c.pa).await;
    assert_eq!(got, to_a);
    assert_eq!(from, c.a);

    let stats = settle(&c.relay).await;
    assert_eq!((stats.a.packets_in, stats.a.packets_out), (1, 1));
    assert_eq!(
        (stats.b.packets_in, stats.b.bytes_out),
        (1, to_b.len() as u64)
    );
}

#[tokio::test]
async fn rtcp_is_relayed_between_the_rtcp_ports() {
    let c = call(31310..=31319, cfg(LatchMode::Never)).await;
    let rtcp_b = peer().await;
    c.relay
        .set_rtcp(Side::B, RtcpRemote::At(rtcp_b.local_addr().unwrap()));
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;

    let rr = [0x80, 201, 0, 1, 0, 0, 0x11, 0x11];
    let a_rtcp = SocketAddr::new(c.a.ip(), c.a.port() + 1);
    c.pa.send_to(&rr, a_rtcp).await.unwrap();
    let (got, from) = recv(&rtcp_b).await;
    assert_eq!(got, rr);
    assert_eq!(from.port(), c.b.port() + 1);
    let stats = settle(&c.relay).await;
    assert_eq!(
        (stats.a.rtcp_in, stats.b.rtcp_out, stats.a.packets_in),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn early_media_reaches_a_before_answer() {
    let c = call(31320..=31329, cfg(LatchMode::Never)).await;
    c.relay.set_mode(RelayMode::Early);
    settle(&c.relay).await;
    let ringback = rtp(0x3333, 1, &[0x55; 160]);
    c.pb.send_to(&ringback, c.b).await.unwrap();
    assert_eq!(recv(&c.pa).await.0, ringback);
    c.pa.send_to(&rtp(0x4444, 1, &[0; 160]), c.a).await.unwrap();
    assert_silent(&c.pb, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn echo_returns_packets_to_the_sender() {
    let pool = PortPool::new(LOCAL, 31330..=31339);
    let port = pool.allocate().await.unwrap();
    let ours = SocketAddr::new(port.ip(), port.port());
    let (tx, _events) = mpsc::unbounded_channel();
    let relay = spawn_relay(port, cfg(LatchMode::Always), tx, 9196);
    relay.set_mode(RelayMode::Echo);
    settle(&relay).await;

    // No SDP address needed: Always latches to the sender.
    let phone = peer().await;
    for seq in 0..5u16 {
        let pkt = rtp(0x9196, seq, &[seq as u8; 160]);
        phone.send_to(&pkt, ours).await.unwrap();
        let (got, from) = recv(&phone).await;
        assert_eq!(got, pkt);
        assert_eq!(from, ours);
    }
    let stats = settle(&relay).await;
    assert_eq!((stats.a.packets_in, stats.a.packets_out), (5, 5));
    assert_eq!(stats.a.latched, Some(phone.local_addr().unwrap()));
}

#[tokio::test]
async fn always_latch_sends_to_the_packet_source_not_the_sdp_address() {
    let c = call(31340..=31349, cfg(LatchMode::Always)).await;
    // A's SDP names a decoy; A's real media comes from pa (as behind a NAT).
    let decoy = peer().await;
    c.relay
        .set_remote(Side::A, decoy.local_addr().unwrap(), false);
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;

    c.pa.send_to(&rtp(1, 1, &[1; 160]), c.a).await.unwrap();
    recv(&c.pb).await;
    let reply = rtp(2, 1, &[2; 160]);
    c.pb.send_to(&reply, c.b).await.unwrap();
    assert_eq!(recv(&c.pa).await.0, reply);
    assert_silent(&decoy, Duration::from_millis(200)).await;
    let stats = settle(&c.relay).await;
    assert_eq!(stats.a.latched, Some(c.pa.local_addr().unwrap()));
}

#[tokio::test]
async fn silent_leg_times_out() {
    let mut c = call(
        31350..=31359,
        RelayConfig {
            timeout: Some(Duration::from_millis(300)),
            latch: LatchMode::Auto,
            jitter_ms: (20, 200),
        },
    )
    .await;
    c.relay.set_mode(RelayMode::Bridge);
    let event = timeout(WAIT, c.events.recv()).await.unwrap().unwrap();
    assert!(
        matches!(event, MediaEvent::Timeout { tag: 42, .. }),
        "{event:?}"
    );
}

#[tokio::test]
async fn talking_leg_does_not_time_out_while_the_silent_one_does() {
    let mut c = call(
        31360..=31369,
        RelayConfig {
            timeout: Some(Duration::from_millis(300)),
            latch: LatchMode::Auto,
            jitter_ms: (20, 200),
        },
    )
    .await;
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;
    // A talks every 50 ms for 600 ms; B says nothing.
    let mut events = Vec::new();
    for seq in 0..12u16 {
        c.pa.send_to(&rtp(7, seq, &[0; 160]), c.a).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        while let Ok(e) = c.events.try_recv() {
            events.push(e);
        }
    }
    assert!(events.contains(&MediaEvent::Timeout {
        tag: 42,
        side: Side::B
    }));
    assert!(!events.contains(&MediaEvent::Timeout {
        tag: 42,
        side: Side::A
    }));
}

#[tokio::test]
async fn held_legs_do_not_time_out() {
    let mut c = call(
        31370..=31379,
        RelayConfig {
            timeout: Some(Duration::from_millis(200)),
            latch: LatchMode::Auto,
            jitter_ms: (20, 200),
        },
    )
    .await;
    c.relay.set_hold(Side::A, true);
    c.relay.set_hold(Side::B, true);
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;
    let got = timeout(Duration::from_millis(700), c.events.recv()).await;
    assert!(got.is_err(), "unexpected event: {got:?}");
}

#[tokio::test]
async fn ports_are_freed_after_stop() {
    let mut c = call(31380..=31383, cfg(LatchMode::Auto)).await;
    assert_eq!(c.pool.in_use(), 2);
    assert!(
        c.pool.allocate().await.is_err(),
        "range of two pairs is full"
    );
    c.pa.send_to(&rtp(1, 1, &[0; 160]), c.a).await.unwrap();
    wait_for(&c.relay, |s| s.a.packets_in == 1).await;
    c.relay.stop();
    let event = timeout(WAIT, c.events.recv()).await.unwrap().unwrap();
    let MediaEvent::Stopped { tag: 42, stats } = event else {
        panic!("{event:?}");
    };
    assert_eq!(stats.a.packets_in, 1, "final counters come with the event");
    assert_eq!(c.pool.in_use(), 0);
    // The pairs are the pool's again: with the range full of resting pairs, new calls get them.
    let again = [
        c.pool.allocate().await.unwrap(),
        c.pool.allocate().await.unwrap(),
    ];
    let mut ports: Vec<u16> = again.iter().map(|p| p.port()).collect();
    ports.sort_unstable();
    let mut old = vec![c.a.port(), c.b.port()];
    old.sort_unstable();
    assert_eq!(ports, old);
    assert!(c.relay.stats().await.is_none());
    assert!(c.relay.is_stopped());
}

#[tokio::test]
async fn dropping_every_handle_stops_the_relay() {
    let pool = PortPool::new(LOCAL, 31390..=31393);
    let port = pool.allocate().await.unwrap();
    let (tx, mut events) = mpsc::unbounded_channel();
    let relay = spawn_relay(port, RelayConfig::default(), tx, 5);
    let clone = relay.clone();
    drop(relay);
    drop(clone);
    let event = timeout(WAIT, events.recv()).await.unwrap().unwrap();
    assert!(matches!(event, MediaEvent::Stopped { tag: 5, .. }));
    assert_eq!(pool.in_use(), 0);
}

#[tokio::test]
async fn garbage_is_dropped_and_counted() {
    let c = call(31400..=31409, cfg(LatchMode::Always)).await;
    c.relay.set_mode(RelayMode::Bridge);
    settle(&c.relay).await;
    let junk: [&[u8]; 4] = [b"hello", &[0x40; 40], &[0x80, 0x00], &[0x8f; 20]];
    for j in junk {
        c.pa.send_to(j, c.a).await.unwrap();
    }
    let good = rtp(0xabcd, 3, &[3; 160]);
    c.pa.send_to(&good, c.a).await.unwrap();
    // Only the valid packet comes through, and garbage did not latch A.
    assert_eq!(recv(&c.pb).await.0, good);
    let stats = settle(&c.relay).await;
    assert_eq!(stats.a.malformed, 4);
    assert_eq!(stats.a.packets_in, 1);
    assert_eq!(stats.a.latched, Some(c.pa.local_addr().unwrap()));
    assert_silent(&c.pb, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn idle_relay_forwards_nothing() {
    let c = call(31410..=31419, cfg(LatchMode::Never)).await;
    settle(&c.relay).await;
    c.pa.send_to(&rtp(1, 1, &[0; 160]), c.a).await.unwrap();
    assert_silent(&c.pb, Duration::from_millis(200)).await;
    wait_for(&c.relay, |s| s.a.unrouted == 1).await;
}

/// Load sanity check: 50 bridged calls, 50 packets each way per call, sent as fast as the
/// loop allows. Run with `cargo test -p switch-core --release -- --ignored relay_load`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn relay_load_sanity() {
    const CALLS: u16 = 50;
    const PACKETS: u16 = 50;
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let base = 32000 + i * 10;
        let c = call(base..=base + 9, cfg(LatchMode::Always)).await;
        c.relay.set_mode(RelayMode::Bridge);
        settle(&c.relay).await;
        calls.push(c);
    }
    let started = std::time::Instant::now();
    for seq in 0..PACKETS {
        for c in &calls {
            c.pa.send_to(&rtp(1, seq, &[0; 160]), c.a).await.unwrap();
            c.pb.send_to(&rtp(2, seq, &[0; 160]), c.b).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    // Let the relays drain their sockets.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut relayed = 0;
    for c in &calls {
        let s = settle(&c.relay).await;
        relayed += s.a.packets_out + s.b.packets_out;
    }
    let total = u64::from(CALLS) * u64::from(PACKETS) * 2;
    eprintln!("relayed {relayed}/{total}; sending took {elapsed:?}");
    assert!(relayed * 100 >= total * 99, "lost more than 1%");
}
