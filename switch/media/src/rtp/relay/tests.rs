use super::*;

const A_SDP: &str = "192.0.2.10:4000";
const B_SDP: &str = "192.0.2.20:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rtp(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0, 0, 1, 0, 0, 0, 160];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0xff; 160]);
    p
}

fn rtcp_rr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

/// A bridged relay, both sides attached with SDP addresses, in `latch` mode.
fn bridged(latch: LatchMode, now: Instant) -> RelayState {
    let mut r = RelayState::new(latch, Some(Duration::from_secs(60)));
    r.attach(Side::A, now);
    r.attach(Side::B, now);
    r.set_remote(Side::A, addr(A_SDP), false);
    r.set_remote(Side::B, addr(B_SDP), false);
    r.set_mode(RelayMode::Bridge, now);
    r
}

fn route(tx: Option<Transmit>) -> Option<(Side, Component, SocketAddr)> {
    tx.map(|t| (t.side, t.component, t.to))
}

#[test]
fn bridge_crosses_rtp_to_the_other_sides_sdp_address() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    let pkt = rtp(1);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &pkt);
    assert_eq!(route(tx), Some((Side::B, Component::Rtp, addr(B_SDP))));
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &pkt);
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, addr(A_SDP))));
}

#[test]
fn rtcp_goes_to_the_next_port_from_the_rtcp_socket() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtcp, addr(A_SDP), &rtcp_rr(1));
    assert_eq!(
        route(tx),
        Some((Side::B, Component::Rtcp, addr("192.0.2.20:6001")))
    );
    let s = r.stats(Side::A);
    assert_eq!((s.rtcp_in, s.packets_in), (1, 0));
}

#[test]
fn rtcp_mux_and_explicit_rtcp_addresses_are_honoured() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_rtcp(Side::B, RtcpRemote::Mux);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtcp, addr(A_SDP), &rtcp_rr(1));
    assert_eq!(route(tx), Some((Side::B, Component::Rtp, addr(B_SDP))));
    r.set_rtcp(Side::A, RtcpRemote::At(addr("192.0.2.11:7777")));
    // RTCP muxed on B's RTP port goes to A's explicit RTCP address.
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtcp_rr(2));
    assert_eq!(
        route(tx),
        Some((Side::A, Component::Rtcp, addr("192.0.2.11:7777")))
    );
    r.set_rtcp(Side::A, RtcpRemote::NextPort);
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtcp_rr(2));
    assert_eq!(
        route(tx),
        Some((Side::A, Component::Rtcp, addr("192.0.2.10:4001")))
    );
}

#[test]
fn echo_returns_a_to_a_and_ignores_b() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_mode(RelayMode::Echo, t0);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtp(1));
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, addr(A_SDP))));
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtp(2));
    assert_eq!(tx, None);
    assert_eq!(r.stats(Side::B).unrouted, 1);
}

#[test]
fn echo_works_with_only_a_attached() {
    let t0 = Instant::now();
    let mut r = RelayState::new(LatchMode::Always, None);
    r.attach(Side::A, t0);
    r.set_mode(RelayMode::Echo, t0);
    let from = addr("198.51.100.7:3456");
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, from, &rtp(1));
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, from)));
}

#[test]
fn idle_drops_and_counts_unrouted() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_mode(RelayMode::Idle, t0);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtp(1));
    assert_eq!(tx, None);
    let s = r.stats(Side::A);
    assert_eq!((s.packets_in, s.unrouted), (1, 1));
}

#[test]
fn early_media_flows_b_to_a_only() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_mode(RelayMode::Early, t0);
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtp(2));
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, addr(A_SDP))));
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtp(1));
    assert_eq!(tx, None);
    assert_eq!(r.poll_timeout(), None, "early media is not timed");
}

#[test]
fn bridge_before_b_attached_has_no_route() {
    let t0 = Instant::now();
    let mut r = RelayState::new(LatchMode::Never, None);
    r.attach(Side::A, t0);
    r.set_remote(Side::A, addr(A_SDP), false);
    r.set_mode(RelayMode::Bridge, t0);
    assert_eq!(
        r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtp(1)),
        None
    );
    assert_eq!(r.stats(Side::A).unrouted, 1);
}

#[test]
fn always_latch_sends_to_the_packet_source_not_the_sdp() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Always, t0);
    let nat_a = addr("203.0.113.5:40000");
    r.handle_datagram(t0, Side::A, Component::Rtp, nat_a, &rtp(1));
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtp(2));
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, nat_a)));
    assert_eq!(r.stats(Side::A).latched, Some(nat_a));
    // A stray copy of A's stream from elsewhere is refused.
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtp(1));
    assert_eq!(tx, None);
    assert_eq!(r.stats(Side::A).rejected, 1);
}

#[test]
fn auto_latches_the_side_behind_nat_only() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Auto, t0);
    r.set_remote(Side::A, addr("10.1.1.1:4000"), true);
    let nat_a = addr("203.0.113.5:40000");
    r.handle_datagram(t0, Side::A, Component::Rtp, nat_a, &rtp(1));
    let other_b = addr("198.51.100.99:9");
    r.handle_datagram(t0, Side::B, Component::Rtp, other_b, &rtp(2));
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &rtp(2));
    assert_eq!(route(tx), Some((Side::A, Component::Rtp, nat_a)));
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, nat_a, &rtp(1));
    assert_eq!(route(tx), Some((Side::B, Component::Rtp, addr(B_SDP))));
    assert_eq!(r.stats(Side::B).latched, None);
}

#[test]
fn rtcp_latches_separately_from_rtp() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Always, t0);
    let nat_rtcp = addr("203.0.113.5:40007");
    r.handle_datagram(t0, Side::A, Component::Rtcp, nat_rtcp, &rtcp_rr(1));
    let tx = r.handle_datagram(t0, Side::B, Component::Rtcp, addr(B_SDP), &rtcp_rr(2));
    assert_eq!(route(tx), Some((Side::A, Component::Rtcp, nat_rtcp)));
}

#[test]
fn muxed_rtcp_from_a_foreign_source_is_rejected_once_latched() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Always, t0);
    r.handle_datagram(
        t0,
        Side::A,
        Component::Rtp,
        addr("203.0.113.5:40000"),
        &rtp(1),
    );
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &rtcp_rr(1));
    assert_eq!(tx, None);
    assert_eq!(r.stats(Side::A).rejected, 1);
    assert_eq!(r.stats(Side::A).latched, Some(addr("203.0.113.5:40000")));
}

#[test]
fn garbage_is_counted_as_malformed_and_dropped() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Always, t0);
    let from = addr("203.0.113.5:40000");
    for junk in [&b""[..], b"hello", &[0x40; 20], &[0x80, 0, 0]] {
        assert_eq!(
            r.handle_datagram(t0, Side::A, Component::Rtp, from, junk),
            None
        );
    }
    let s = r.stats(Side::A);
    assert_eq!((s.malformed, s.packets_in, s.latched), (4, 0, None));
}

#[test]
fn rtp_on_the_rtcp_port_is_rejected() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    let tx = r.handle_datagram(t0, Side::A, Component::Rtcp, addr(A_SDP), &rtp(1));
    assert_eq!(tx, None);
    assert_eq!(r.stats(Side::A).rejected, 1);
}

#[test]
fn counters_track_packets_and_bytes_both_ways() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    let pkt = rtp(1);
    for _ in 0..3 {
        let tx = r.handle_datagram(t0, Side::A, Component::Rtp, addr(A_SDP), &pkt);
        let tx = tx.unwrap();
        r.record_sent(&tx, pkt.len());
    }
    let tx = r.handle_datagram(t0, Side::B, Component::Rtcp, addr(B_SDP), &rtcp_rr(2));
    r.record_sent(&tx.unwrap(), 8);
    let tx = r.handle_datagram(t0, Side::B, Component::Rtp, addr(B_SDP), &pkt);
    r.record_failed(&tx.unwrap());
    let (a, b) = (r.stats(Side::A), r.stats(Side::B));
    assert_eq!((a.packets_in, a.bytes_in, a.rtcp_out), (3, 3 * 172, 1));
    assert_eq!((b.packets_out, b.bytes_out, b.rtcp_in), (3, 3 * 172, 1));
    assert_eq!((b.packets_in, b.unrouted, a.packets_out), (1, 1, 0));
}

#[test]
fn silent_side_times_out_only_in_bridge_or_echo() {
    let t0 = Instant::now();
    let sixty = Duration::from_secs(60);
    let mut r = bridged(LatchMode::Never, t0);
    r.set_mode(RelayMode::Idle, t0);
    assert_eq!(r.poll_timeout(), None);
    r.set_mode(RelayMode::Bridge, t0 + Duration::from_secs(5));
    r.handle_datagram(t0 + sixty, Side::A, Component::Rtp, addr(A_SDP), &rtp(1));
    assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(65)));
    assert_eq!(
        r.handle_timeout(t0 + Duration::from_secs(65)),
        Some(Side::B)
    );
    assert_eq!(r.handle_timeout(t0 + Duration::from_secs(65)), None);
}

#[test]
fn rtcp_alone_does_not_keep_a_side_alive() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_hold(Side::B, true, t0);
    let later = t0 + Duration::from_secs(30);
    r.handle_datagram(later, Side::A, Component::Rtcp, addr(A_SDP), &rtcp_rr(1));
    assert_eq!(
        r.handle_timeout(t0 + Duration::from_secs(60)),
        Some(Side::A)
    );
}

#[test]
fn held_side_is_not_timed() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Never, t0);
    r.set_hold(Side::A, true, t0);
    r.set_hold(Side::B, true, t0);
    assert_eq!(r.poll_timeout(), None);
    r.set_hold(Side::B, false, t0 + Duration::from_secs(100));
    assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(160)));
}

#[test]
fn new_sdp_after_a_reinvite_relatches() {
    let t0 = Instant::now();
    let mut r = bridged(LatchMode::Always, t0);
    r.handle_datagram(
        t0,
        Side::A,
        Component::Rtp,
        addr("203.0.113.5:40000"),
        &rtp(1),
    );
    r.set_remote(Side::A, addr(A_SDP), false);
    let moved = addr("203.0.113.5:40100");
    let tx = r.handle_datagram(t0, Side::A, Component::Rtp, moved, &rtp(1));
    assert!(tx.is_some());
    assert_eq!(r.stats(Side::A).latched, Some(moved));
}
