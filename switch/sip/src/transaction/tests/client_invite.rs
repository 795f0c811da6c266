//! Client INVITE transactions: Timers A, B, D, M, the ACK of a non-2xx, RFC 6026 Accepted.

use super::*;

#[test]
fn our_via_max_forwards_and_user_agent_are_added() {
    let mut net = Net::new();
    let (id, sent) = net.send(0, Method::Invite, ua(Transport::Udp));
    let via = sent.top_via().unwrap();
    assert_eq!(via.transport, "UDP");
    assert_eq!(format!("{}:{}", via.host.0, via.port.unwrap()), US);
    assert!(via.has_rfc3261_branch());
    assert_eq!(via.params.get("rport"), Some(None));
    assert_eq!(sent.headers.get("Max-Forwards"), Some("70"));
    assert_eq!(sent.headers.get("User-Agent"), Some("test-switch"));
    assert_eq!(net.layer.request_of(id), Some(&unprinted(&sent)));
    assert_eq!(net.layer.len(), 1);
}

#[test]
fn timer_a_doubles_until_timer_b_times_out_at_32_s() {
    let mut net = Net::new();
    let (id, _) = net.send(0, Method::Invite, ua(Transport::Udp));
    assert_eq!(net.layer.poll_timeout(), Some(net.at(500)));
    let times = net.transmit_times(40_000);
    assert_eq!(times, [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    assert_eq!(
        net.events(),
        [TxEvent::Timeout { tx: id }, TxEvent::Terminated { tx: id }]
    );
    assert_eq!(net.layer.len(), 0);
    assert_eq!(net.layer.poll_timeout(), None);
}

#[test]
fn timer_b_fires_at_64_t1() {
    let mut net = Net::new();
    let (id, _) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.tick(31_999);
    net.events();
    assert_eq!(net.layer.len(), 1);
    net.tick(32_000);
    assert_eq!(net.events()[0], TxEvent::Timeout { tx: id });
}

#[test]
fn a_provisional_response_stops_retransmissions_and_timer_b() {
    let mut net = Net::new();
    let (id, sent) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &sent, 180, ua(Transport::Udp));
    match &net.events()[..] {
        [TxEvent::Response { tx, response }] => {
            assert_eq!(*tx, id);
            assert_eq!(response.status, 180);
        }
        other => panic!("{other:?}"),
    }
    assert!(net.transmit_times(100_000).is_empty());
    assert!(net.events().is_empty());
    assert_eq!(net.layer.len(), 1);
}

#[test]
fn a_non_2xx_is_acked_by_the_layer_as_rfc3261_17_1_1_3_says() {
    let mut net = Net::new();
    let (id, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 486, ua(Transport::Udp));
    let sent = net.sent_msgs();
    assert_eq!(sent.len(), 1);
    let ack = request(&sent[0]);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.headers.get("Via"), invite.headers.get("Via"));
    assert_eq!(ack.headers.count("Via"), 1);
    assert_eq!(ack.headers.get("From"), invite.headers.get("From"));
    assert_eq!(ack.headers.get("Call-ID"), invite.headers.get("Call-ID"));
    assert_eq!(ack.headers.get("CSeq"), Some("5 ACK"));
    assert_eq!(ack.to().unwrap().tag(), Some("remote-tag"));
    assert_eq!(ack.headers.get("Route"), Some("<sip:192.0.2.10;lr>"));
    assert!(ack.body.is_empty());
    assert!(matches!(
        &net.events()[..],
        [TxEvent::Response { tx, response }] if *tx == id && response.status == 486
    ));
}

#[test]
fn a_retransmitted_final_gets_the_ack_again_and_is_not_passed_up() {
    let mut net = Net::new();
    let (_, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 503, ua(Transport::Udp));
    let first_ack = net.sent();
    net.events();
    net.answer(600, &invite, 503, ua(Transport::Udp));
    assert_eq!(net.sent(), first_ack);
    assert!(net.events().is_empty());
}

#[test]
fn timer_d_ends_the_completed_transaction_after_32_s() {
    let mut net = Net::new();
    let (id, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 404, ua(Transport::Udp));
    net.events();
    net.sent();
    assert_eq!(
        net.run_events(100_000),
        [(32_100, TxEvent::Terminated { tx: id })]
    );
}

#[test]
fn every_2xx_is_passed_up_in_accepted_and_none_is_acked_by_the_layer() {
    let mut net = Net::new();
    let (id, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 200, ua(Transport::Udp));
    net.answer(600, &invite, 200, ua(Transport::Udp));
    let mut fork = invite.response(200, Some("other-fork"));
    fork.headers.push("Contact", "<sip:fork@192.0.2.11>");
    net.recv_msg(700, &Message::Response(fork), ua(Transport::Udp));
    let events = net.events();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(
        |e| matches!(e, TxEvent::Response { tx, response } if *tx == id && response.status == 200)
    ));
    assert!(net.sent().is_empty(), "the TU ACKs a 2xx");
    // A 1xx after the 2xx means nothing.
    net.answer(800, &invite, 180, ua(Transport::Udp));
    assert!(net.events().is_empty());
}

#[test]
fn timer_m_ends_accepted_and_a_later_2xx_is_stray() {
    let mut net = Net::new();
    let (id, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 200, ua(Transport::Udp));
    net.events();
    assert_eq!(
        net.run_events(100_000),
        [(32_100, TxEvent::Terminated { tx: id })]
    );
    net.answer(40_000, &invite, 200, ua(Transport::Udp));
    assert!(matches!(
        &net.events()[..],
        [TxEvent::StrayResponse { response, .. }] if response.status == 200
    ));
}

#[test]
fn the_2xx_ack_goes_out_with_a_branch_of_its_own() {
    let mut net = Net::new();
    let (_, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    let mut ack = tu_request(Method::Ack);
    ack.headers.set("CSeq", "5 ACK");
    net.layer.send_ack(ack, ua(Transport::Udp));
    let sent = net.sent_msgs();
    let ack = request(&sent[0]);
    assert_eq!(ack.method, Method::Ack);
    assert!(ack.top_via().unwrap().has_rfc3261_branch());
    assert_ne!(ack.branch(), invite.branch());
    assert_eq!(net.layer.len(), 1, "an ACK makes no transaction");
}
