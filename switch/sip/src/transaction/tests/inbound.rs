//! What comes in: rport/received, malformed and oversized messages, keep-alives, stray
//! responses, RFC 2543 peers.

use super::*;

fn nat_peer() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "198.51.100.7:40000".parse().unwrap(),
    }
}

fn top_via_of_request_event(net: &mut Net) -> crate::message::Via {
    match &net.events()[..] {
        [TxEvent::Request { request, .. }] => request.top_via().unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rport_and_received_are_filled_from_the_source() {
    let mut net = Net::new();
    let text =
        remote("INVITE", "z9hG4bKn1", "UDP").replace("branch=z9hG4bKn1", "branch=z9hG4bKn1;rport");
    net.recv(0, &text, nat_peer());
    let via = top_via_of_request_event(&mut net);
    assert_eq!(via.params.get("received"), Some(Some("198.51.100.7")));
    assert_eq!(via.params.get("rport"), Some(Some("40000")));
    // The 100 Trying goes back to the source and carries the stamped Via.
    let sent = net.sent();
    assert_eq!(sent[0].peer, nat_peer());
    let msg = parse(&sent[0].data).unwrap();
    assert_eq!(response(&msg).top_via().unwrap(), via);
}

#[test]
fn received_is_added_when_the_source_differs_from_sent_by() {
    let mut net = Net::new();
    net.recv(0, &remote("OPTIONS", "z9hG4bKn2", "UDP"), nat_peer());
    let via = top_via_of_request_event(&mut net);
    assert_eq!(via.params.get("received"), Some(Some("198.51.100.7")));
    assert!(!via.params.has("rport"));
}

#[test]
fn the_via_is_left_alone_when_sent_by_is_the_source_and_rport_absent() {
    let mut net = Net::new();
    net.recv(
        0,
        &remote("OPTIONS", "z9hG4bKn3", "UDP"),
        ua(Transport::Udp),
    );
    let via = top_via_of_request_event(&mut net);
    assert!(!via.params.has("received"));
}

#[test]
fn rport_asks_for_received_even_from_the_sent_by_address() {
    let mut net = Net::new();
    let text =
        remote("OPTIONS", "z9hG4bKn4", "UDP").replace("branch=z9hG4bKn4", "rport;branch=z9hG4bKn4");
    net.recv(0, &text, ua(Transport::Udp));
    let via = top_via_of_request_event(&mut net);
    assert_eq!(via.params.get("received"), Some(Some("192.0.2.10")));
    assert_eq!(via.params.get("rport"), Some(Some("5060")));
}

#[test]
fn a_malformed_request_gets_400_with_a_warning() {
    let mut net = Net::new();
    let text =
        remote("INVITE", "z9hG4bKbad", "UDP").replace("Max-Forwards: 70", "Max-Forwards: many");
    net.recv(0, &text, nat_peer());
    let sent = net.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].peer, nat_peer());
    let msg = parse(&sent[0].data).unwrap();
    let r = response(&msg);
    assert_eq!(r.status, 400);
    let warning = r.headers.get("Warning").unwrap();
    assert!(warning.starts_with("399 ferroswitch \""), "{warning}");
    assert!(warning.contains("Max-Forwards"), "{warning}");
    assert!(r.to().unwrap().tag().is_some());
    assert_eq!(r.headers.get("Call-ID"), Some("in-call@192.0.2.10"));
    assert!(matches!(
        &net.events()[..],
        [TxEvent::Malformed { source, reason }] if *source == nat_peer() && reason.contains("Max-Forwards")
    ));
    assert_eq!(net.layer.len(), 0);
}

#[test]
fn a_wrong_sip_version_gets_505() {
    let mut net = Net::new();
    let text = remote("OPTIONS", "z9hG4bKv", "UDP").replace("SIP/2.0\n", "SIP/7.0\n");
    net.recv(0, &text, ua(Transport::Udp));
    let msgs = net.sent_msgs();
    assert_eq!(response(&msgs[0]).status, 505);
}

#[test]
fn a_malformed_ack_is_never_answered() {
    let mut net = Net::new();
    let text = remote("ACK", "z9hG4bKa", "UDP").replace("Max-Forwards: 70", "Max-Forwards: x");
    net.recv(0, &text, ua(Transport::Udp));
    assert!(net.sent().is_empty());
    assert!(matches!(&net.events()[..], [TxEvent::Malformed { .. }]));
}

#[test]
fn a_via_less_or_garbage_datagram_is_dropped_and_reported() {
    let mut net = Net::new();
    let no_via: String = remote("INVITE", "z9hG4bKx", "UDP")
        .lines()
        .filter(|l| !l.starts_with("Via"))
        .map(|l| format!("{l}\n"))
        .collect();
    net.recv(0, &no_via, ua(Transport::Udp));
    net.layer
        .handle_datagram(net.at(1), b"\x00\x01\xffgarbage", ua(Transport::Udp));
    assert!(net.sent().is_empty());
    let events = net.events();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| matches!(e, TxEvent::Malformed { .. })));
}

#[test]
fn crlf_keep_alives_are_ignored() {
    let mut net = Net::new();
    net.layer
        .handle_datagram(net.at(0), b"\r\n\r\n", ua(Transport::Udp));
    net.layer
        .handle_datagram(net.at(0), b"", ua(Transport::Udp));
    assert!(net.sent().is_empty());
    assert!(net.events().is_empty());
}

#[test]
fn an_oversized_request_gets_513_and_oversized_garbage_is_dropped() {
    let mut net = Net::new();
    net.layer = TransactionLayer::with_seed(
        TxConfig {
            max_message_size: 200,
            ..config()
        },
        1,
    );
    net.recv(
        0,
        &remote("INVITE", "z9hG4bKbig", "UDP"),
        ua(Transport::Udp),
    );
    let msgs = net.sent_msgs();
    assert_eq!(response(&msgs[0]).status, 513);
    assert!(matches!(&net.events()[..], [TxEvent::Malformed { .. }]));
    assert_eq!(net.layer.len(), 0);
    net.layer
        .handle_datagram(net.at(1), &[b'x'; 500], ua(Transport::Udp));
    assert!(net.sent().is_empty());
    assert!(matches!(&net.events()[..], [TxEvent::Malformed { .. }]));
}

#[test]
fn a_response_for_no_transaction_is_stray_only_when_its_via_is_ours() {
    let mut net = Net::new();
    let mut ours = tu_request(Method::Invite);
    ours.headers
        .push_front("Via", &format!("SIP/2.0/UDP {US};branch=z9hG4bKgone"));
    let r = ours.response(200, Some("x"));
    net.recv_msg(0, &Message::Response(r), ua(Transport::Udp));
    assert!(
        matches!(&net.events()[..], [TxEvent::StrayResponse { response, .. }] if response.status == 200)
    );
    let mut theirs = tu_request(Method::Invite);
    theirs
        .headers
        .push_front("Via", "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKnot");
    net.recv_msg(
        1,
        &Message::Response(theirs.response(200, None)),
        ua(Transport::Udp),
    );
    assert!(net.events().is_empty());
}

#[test]
fn an_rfc2543_peer_is_matched_without_magic_cookie() {
    let mut net = Net::new();
    let inv = remote("INVITE", "old1", "UDP");
    net.recv(0, &inv, ua(Transport::Udp));
    let id = new_tx(&net.events());
    net.sent();
    net.recv(400, &inv, ua(Transport::Udp));
    assert!(net.events().is_empty(), "retransmission absorbed");
    assert_eq!(net.sent().len(), 1, "100 Trying again");
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(500), id, req.response(486, Some("t")))
        .unwrap();
    net.sent();
    let ack = remote("ACK", "old1", "UDP")
        .replace("To: <sip:1000@192.0.2.1>", "To: <sip:1000@192.0.2.1>;tag=t");
    net.recv(600, &ack, ua(Transport::Udp));
    assert!(net.events().is_empty(), "the ACK of the 486 is absorbed");
    assert!(net.transmit_times(3_000).is_empty(), "and stops Timer G");
}
