//! Server INVITE transactions: 100 Trying, retransmissions, Timers G, H, I, L, the ACK of
//! a non-2xx absorbed and the ACK of a 2xx passed up.

use super::super::TxError;
use super::*;

fn invite(net: &mut Net, branch: &str) -> (TxId, Request) {
    net.recv(0, &remote("INVITE", branch, "UDP"), ua(Transport::Udp));
    let events = net.events();
    let id = new_tx(&events);
    match events.into_iter().next() {
        Some(TxEvent::Request {
            request, source, ..
        }) => {
            assert_eq!(source, ua(Transport::Udp));
            (id, request)
        }
        _ => unreachable!(),
    }
}

#[test]
fn a_new_invite_is_answered_100_trying_at_once_without_to_tag() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv1");
    let sent = net.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].peer, ua(Transport::Udp));
    let msg = parse(&sent[0].data).unwrap();
    let trying = response(&msg);
    assert_eq!(trying.status, 100);
    assert_eq!(trying.to().unwrap().tag(), None);
    assert_eq!(trying.headers.get("Via"), req.headers.get("Via"));
    assert_eq!(net.layer.request_of(id), Some(&req));
}

#[test]
fn a_retransmitted_invite_is_absorbed_and_gets_the_last_response_again() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv2");
    net.sent();
    net.recv(
        300,
        &remote("INVITE", "z9hG4bKinv2", "UDP"),
        ua(Transport::Udp),
    );
    assert!(net.events().is_empty(), "no second Request event");
    assert_eq!(response(&net.sent_msgs()[0]).status, 100);
    net.layer
        .send_response(net.at(400), id, req.response(180, Some("t1")))
        .unwrap();
    let ringing = net.sent();
    net.recv(
        500,
        &remote("INVITE", "z9hG4bKinv2", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(net.sent(), ringing);
    assert!(net.events().is_empty());
    assert_eq!(net.layer.len(), 1);
}

#[test]
fn responses_get_a_server_header() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKsrv");
    net.sent();
    net.layer
        .send_response(net.at(10), id, req.response(180, Some("t")))
        .unwrap();
    let msgs = net.sent_msgs();
    assert_eq!(
        response(&msgs[0]).headers.get("Server"),
        Some("test-switch")
    );
}

#[test]
fn timer_g_retransmits_a_non_2xx_doubling_to_t2_until_timer_h() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv3");
    net.sent();
    net.layer
        .send_response(net.at(0), id, req.response(486, Some("t1")))
        .unwrap();
    assert_eq!(net.sent().len(), 1);
    let times = net.transmit_times(40_000);
    assert_eq!(
        times,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    // Timer H: no ACK within 64*T1; the transaction just ends.
    assert_eq!(net.events(), [TxEvent::Terminated { tx: id }]);
}

#[test]
fn the_ack_of_a_non_2xx_is_absorbed_and_timer_i_ends_confirmed_after_t4() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv4");
    net.layer
        .send_response(net.at(0), id, req.response(404, Some("t1")))
        .unwrap();
    net.sent();
    let ack = remote("ACK", "z9hG4bKinv4", "UDP").replace(
        "To: <sip:1000@192.0.2.1>",
        "To: <sip:1000@192.0.2.1>;tag=t1",
    );
    net.recv(200, &ack, ua(Transport::Udp));
    assert!(
        net.events().is_empty(),
        "the ACK of a non-2xx is not passed up"
    );
    // Retransmitted ACK and INVITE in Confirmed: absorbed, nothing sent.
    net.recv(300, &ack, ua(Transport::Udp));
    net.recv(
        300,
        &remote("INVITE", "z9hG4bKinv4", "UDP"),
        ua(Transport::Udp),
    );
    assert!(net.events().is_empty());
    assert!(net.sent().is_empty());
    assert!(net.transmit_times(100_000).is_empty(), "Timer G stopped");
    assert_eq!(net.events(), [TxEvent::Terminated { tx: id }]);
    // Timer I fired at 200 + T4.
    let mut net2 = Net::new();
    let (id2, req2) = invite(&mut net2, "z9hG4bKinv4");
    net2.layer
        .send_response(net2.at(0), id2, req2.response(404, Some("t1")))
        .unwrap();
    net2.recv(200, &ack, ua(Transport::Udp));
    assert_eq!(
        net2.run_events(100_000),
        [(5_200, TxEvent::Terminated { tx: id2 })]
    );
}

#[test]
fn a_2xx_is_retransmitted_until_its_ack_which_is_passed_up() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv5");
    net.sent();
    net.layer
        .send_response(net.at(0), id, req.response(200, Some("dlg")))
        .unwrap();
    net.sent();
    assert_eq!(net.transmit_times(3_600), [500, 1_500, 3_500]);
    // The ACK of a 2xx has a new branch; it matches by Call-ID, CSeq and To tag.
    let ack = remote("ACK", "z9hG4bKack5", "UDP").replace(
        "To: <sip:1000@192.0.2.1>",
        "To: <sip:1000@192.0.2.1>;tag=dlg",
    );
    net.recv(3_600, &ack, ua(Transport::Udp));
    match &net.events()[..] {
        [TxEvent::Ack { request, source }] => {
            assert_eq!(request.method, Method::Ack);
            assert_eq!(*source, ua(Transport::Udp));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        net.transmit_times(31_999).is_empty(),
        "the 2xx is no longer retransmitted"
    );
    // Timer L ends Accepted without NoAck; a later INVITE retransmission was absorbed.
    assert_eq!(
        net.run_events(100_000),
        [(32_000, TxEvent::Terminated { tx: id })]
    );
}

#[test]
fn the_2xx_retransmission_interval_is_capped_at_t2() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv6");
    net.layer
        .send_response(net.at(0), id, req.response(200, Some("dlg")))
        .unwrap();
    net.sent();
    let times = net.transmit_times(20_000);
    assert_eq!(times, [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500]);
}

#[test]
fn timer_l_reports_no_ack_when_the_2xx_was_never_acked() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv7");
    net.layer
        .send_response(net.at(0), id, req.response(200, Some("dlg")))
        .unwrap();
    let events = net.run_events(100_000);
    assert_eq!(
        events,
        [
            (32_000, TxEvent::NoAck { tx: id }),
            (32_000, TxEvent::Terminated { tx: id })
        ]
    );
}

#[test]
fn an_ack_matching_nothing_is_passed_up_for_the_dialog() {
    let mut net = Net::new();
    net.recv(0, &remote("ACK", "z9hG4bKlone", "UDP"), ua(Transport::Udp));
    assert!(matches!(&net.events()[..], [TxEvent::Ack { .. }]));
    assert!(net.sent().is_empty(), "an ACK is never answered");
    assert_eq!(net.layer.len(), 0);
}

#[test]
fn responses_after_the_final_are_refused() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKinv8");
    net.layer
        .send_response(net.at(0), id, req.response(603, Some("t")))
        .unwrap();
    assert_eq!(
        net.layer
            .send_response(net.at(1), id, req.response(200, Some("t"))),
        Err(TxError::AlreadyFinal)
    );
    assert_eq!(
        net.layer
            .send_response(net.at(1), id, req.response(180, Some("t"))),
        Err(TxError::AlreadyFinal)
    );
    assert_eq!(
        net.layer
            .send_response(net.at(1), TxId(999), req.response(180, None)),
        Err(TxError::UnknownTransaction)
    );
}

#[test]
fn a_lingering_transaction_keeps_only_the_identifying_headers_and_still_answers() {
    let mut net = Net::new();
    let (id, req) = invite(&mut net, "z9hG4bKsettle");
    assert!(
        !req.body.is_empty() || req.headers.0.len() > 5,
        "the INVITE carries more"
    );
    net.sent();
    net.layer
        .send_response(net.at(100), id, req.response(486, Some("t1")))
        .unwrap();
    let busy = net.sent();
    // Completed: the request kept is cut down to what identifies it...
    let kept = net.layer.request_of(id).expect("still lingering");
    assert!(kept.body.is_empty());
    let names: Vec<&str> = kept.headers.0.iter().map(|h| h.name.as_str()).collect();
    assert!(
        names
            .iter()
            .all(|n| ["Via", "From", "To", "Call-ID", "CSeq"].contains(n)),
        "{names:?}"
    );
    // ...and a retransmitted INVITE still gets the 486 again.
    net.recv(
        300,
        &remote("INVITE", "z9hG4bKsettle", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(net.sent(), busy);
    assert!(net.events().is_empty());
}
