//! Reliable transport: no retransmissions by Timers A, E, G, and zero-length D, I, J, K.

use super::*;

#[test]
fn a_client_invite_over_tcp_is_never_retransmitted_and_times_out_at_b() {
    let mut net = Net::new();
    let (id, sent) = net.send(0, Method::Invite, ua(Transport::Tcp));
    assert_eq!(sent.top_via().unwrap().transport, "TCP");
    assert!(net.transmit_times(40_000).is_empty());
    assert_eq!(
        net.events(),
        [TxEvent::Timeout { tx: id }, TxEvent::Terminated { tx: id }]
    );
}

#[test]
fn a_client_non_invite_over_tcp_is_never_retransmitted_and_times_out_at_f() {
    let mut net = Net::new();
    let (id, _) = net.send(0, Method::Options, ua(Transport::Tcp));
    assert!(net.transmit_times(40_000).is_empty());
    assert!(net.events().contains(&TxEvent::Timeout { tx: id }));
}

#[test]
fn timer_d_is_zero_over_tcp() {
    let mut net = Net::new();
    let (id, invite) = net.send(0, Method::Invite, ua(Transport::Tcp));
    net.answer(100, &invite, 480, ua(Transport::Tcp));
    assert_eq!(request(&net.sent_msgs()[0]).method, Method::Ack);
    let events = net.events();
    assert_eq!(events.last(), Some(&TxEvent::Terminated { tx: id }));
    assert_eq!(net.layer.len(), 0);
}

#[test]
fn timer_k_is_zero_over_tcp() {
    let mut net = Net::new();
    let (id, bye) = net.send(0, Method::Bye, ua(Transport::Tcp));
    net.answer(100, &bye, 200, ua(Transport::Tcp));
    assert!(matches!(
        &net.events()[..],
        [TxEvent::Response { .. }, TxEvent::Terminated { tx }] if *tx == id
    ));
}

#[test]
fn timer_j_is_zero_over_tcp() {
    let mut net = Net::new();
    net.recv(0, &remote("BYE", "z9hG4bKt1", "TCP"), ua(Transport::Tcp));
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(10), id, req.response(200, Some("t")))
        .unwrap();
    let sent = net.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].peer, ua(Transport::Tcp));
    assert_eq!(net.events(), [TxEvent::Terminated { tx: id }]);
}

#[test]
fn a_non_2xx_over_tcp_is_not_retransmitted_and_timer_i_is_zero() {
    let mut net = Net::new();
    net.recv(0, &remote("INVITE", "z9hG4bKt2", "TCP"), ua(Transport::Tcp));
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(10), id, req.response(486, Some("t")))
        .unwrap();
    net.sent();
    assert!(net.transmit_times(3_000).is_empty(), "no Timer G over TCP");
    let ack = remote("ACK", "z9hG4bKt2", "TCP")
        .replace("To: <sip:1000@192.0.2.1>", "To: <sip:1000@192.0.2.1>;tag=t");
    net.recv(3_000, &ack, ua(Transport::Tcp));
    assert_eq!(net.events(), [TxEvent::Terminated { tx: id }]);
}

#[test]
fn a_non_2xx_over_tcp_without_ack_ends_at_timer_h() {
    let mut net = Net::new();
    net.recv(0, &remote("INVITE", "z9hG4bKt3", "TCP"), ua(Transport::Tcp));
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(0), id, req.response(486, Some("t")))
        .unwrap();
    assert_eq!(
        net.run_events(100_000),
        [(32_000, TxEvent::Terminated { tx: id })]
    );
}

#[test]
fn a_2xx_is_still_retransmitted_over_tcp_as_rfc3261_13_3_1_4_asks() {
    let mut net = Net::new();
    net.recv(0, &remote("INVITE", "z9hG4bKt4", "TCP"), ua(Transport::Tcp));
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(0), id, req.response(200, Some("d")))
        .unwrap();
    net.sent();
    assert_eq!(net.transmit_times(1_600), [500, 1_500]);
}

#[test]
fn a_transport_error_times_out_the_client_transactions_toward_that_peer() {
    let mut net = Net::new();
    let (a, _) = net.send(0, Method::Invite, ua(Transport::Tcp));
    let (b, _) = net.send(0, Method::Options, ua(Transport::Tcp));
    let (c, _) = net.send(0, Method::Options, ua(Transport::Udp));
    net.layer
        .handle_transport_error(net.at(50), ua(Transport::Tcp));
    let events = net.events();
    for id in [a, b] {
        assert!(events.contains(&TxEvent::Timeout { tx: id }));
        assert!(events.contains(&TxEvent::Terminated { tx: id }));
    }
    assert!(!events.contains(&TxEvent::Timeout { tx: c }));
    assert_eq!(net.layer.len(), 1);
}
