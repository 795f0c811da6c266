//! CANCEL, received (RFC 3261 9.2) and sent (9.1).

use super::*;

fn incoming_invite(net: &mut Net, branch: &str) -> (TxId, Request) {
    net.recv(0, &remote("INVITE", branch, "UDP"), ua(Transport::Udp));
    let id = new_tx(&net.events());
    net.sent();
    (id, net.layer.request_of(id).unwrap().clone())
}

#[test]
fn a_matching_cancel_is_answered_200_and_reported() {
    let mut net = Net::new();
    let (inv, req) = incoming_invite(&mut net, "z9hG4bKc1");
    net.layer
        .send_response(net.at(10), inv, req.response(180, Some("ring")))
        .unwrap();
    net.sent();
    net.recv(
        100,
        &remote("CANCEL", "z9hG4bKc1", "UDP"),
        ua(Transport::Udp),
    );
    let msgs = net.sent_msgs();
    assert_eq!(msgs.len(), 1);
    let ok = response(&msgs[0]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.cseq().unwrap().method, Method::Cancel);
    assert_eq!(
        ok.to().unwrap().tag(),
        Some("ring"),
        "same To tag as the 180"
    );
    match &net.events()[..] {
        [TxEvent::Cancel { invite_tx, request }] => {
            assert_eq!(*invite_tx, inv);
            assert_eq!(request.method, Method::Cancel);
        }
        other => panic!("{other:?}"),
    }
    // The TU answers the INVITE 487; its ACK is absorbed.
    net.layer
        .send_response(net.at(110), inv, req.response(487, Some("ring")))
        .unwrap();
    assert_eq!(response(&net.sent_msgs()[0]).status, 487);
}

#[test]
fn a_retransmitted_cancel_gets_the_200_again_and_no_second_event() {
    let mut net = Net::new();
    incoming_invite(&mut net, "z9hG4bKc2");
    net.recv(
        100,
        &remote("CANCEL", "z9hG4bKc2", "UDP"),
        ua(Transport::Udp),
    );
    let first = net.sent();
    assert_eq!(net.events().len(), 1);
    net.recv(
        600,
        &remote("CANCEL", "z9hG4bKc2", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(net.sent(), first);
    assert!(net.events().is_empty());
}

#[test]
fn a_cancel_matching_nothing_gets_481_and_no_event() {
    let mut net = Net::new();
    incoming_invite(&mut net, "z9hG4bKc3");
    net.recv(
        100,
        &remote("CANCEL", "z9hG4bKother", "UDP"),
        ua(Transport::Udp),
    );
    let msgs = net.sent_msgs();
    assert_eq!(response(&msgs[0]).status, 481);
    assert!(net.events().is_empty());
}

#[test]
fn a_cancel_after_the_final_response_gets_200_but_no_event() {
    let mut net = Net::new();
    let (inv, req) = incoming_invite(&mut net, "z9hG4bKc4");
    net.layer
        .send_response(net.at(10), inv, req.response(200, Some("dlg")))
        .unwrap();
    net.sent();
    net.recv(
        100,
        &remote("CANCEL", "z9hG4bKc4", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(response(&net.sent_msgs()[0]).status, 200);
    assert!(net.events().is_empty());
}

#[test]
fn cancel_before_any_provisional_is_held_until_the_first_1xx() {
    let mut net = Net::new();
    let (inv, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    let cancel = net.layer.cancel(net.at(100), inv).unwrap();
    assert!(
        net.sent().is_empty(),
        "RFC 3261 9.1: no CANCEL before a provisional"
    );
    assert_eq!(
        net.layer.cancel(net.at(150), inv),
        Some(cancel),
        "idempotent"
    );
    net.answer(200, &invite, 180, ua(Transport::Udp));
    let msgs = net.sent_msgs();
    assert_eq!(msgs.len(), 1);
    let c = request(&msgs[0]);
    assert_eq!(c.method, Method::Cancel);
    assert_eq!(c.uri, invite.uri);
    assert_eq!(c.headers.get("Via"), invite.headers.get("Via"));
    assert_eq!(c.headers.get("CSeq"), Some("5 CANCEL"));
    assert_eq!(c.headers.get("To"), invite.headers.get("To"));
    assert_eq!(c.headers.get("From"), invite.headers.get("From"));
    assert_eq!(c.headers.get("Call-ID"), invite.headers.get("Call-ID"));
    assert_eq!(c.headers.get("Route"), invite.headers.get("Route"));
    assert_eq!(net.layer.request_of(cancel), Some(&unprinted(c)));
    // The CANCEL is a non-INVITE client transaction of its own.
    net.answer(300, c, 200, ua(Transport::Udp));
    let events = net.events();
    assert!(events.iter().any(
        |e| matches!(e, TxEvent::Response { tx, response } if *tx == cancel && response.status == 200)
    ));
    net.answer(400, &invite, 487, ua(Transport::Udp));
    assert_eq!(request(&net.sent_msgs()[0]).method, Method::Ack);
}

#[test]
fn a_held_cancel_is_never_sent_when_a_final_comes_first() {
    let mut net = Net::new();
    let (inv, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    let cancel = net.layer.cancel(net.at(100), inv).unwrap();
    net.answer(200, &invite, 486, ua(Transport::Udp));
    let sent = net.sent_msgs();
    assert_eq!(sent.len(), 1);
    assert_eq!(request(&sent[0]).method, Method::Ack);
    let events = net.events();
    assert!(events.contains(&TxEvent::Terminated { tx: cancel }));
    assert!(net.layer.request_of(cancel).is_none());
    assert!(net.transmit_times(100_000).is_empty());
}

#[test]
fn a_held_cancel_ends_with_its_invite_timing_out() {
    let mut net = Net::new();
    let (inv, _) = net.send(0, Method::Invite, ua(Transport::Udp));
    let cancel = net.layer.cancel(net.at(100), inv).unwrap();
    let events: Vec<TxEvent> = net.run_events(40_000).into_iter().map(|(_, e)| e).collect();
    assert_eq!(
        events,
        [
            TxEvent::Timeout { tx: inv },
            TxEvent::Terminated { tx: inv },
            TxEvent::Terminated { tx: cancel }
        ]
    );
    assert_eq!(net.layer.len(), 0);
}

#[test]
fn a_cancelled_invite_without_final_times_out_64_t1_after_the_cancel() {
    let mut net = Net::new();
    let (inv, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 180, ua(Transport::Udp));
    let cancel = net.layer.cancel(net.at(1_000), inv).unwrap();
    let msgs = net.sent_msgs();
    assert_eq!(request(&msgs[0]).method, Method::Cancel);
    net.answer(1_100, request(&msgs[0]), 200, ua(Transport::Udp));
    let timeouts: Vec<(u64, TxEvent)> = net
        .run_events(100_000)
        .into_iter()
        .filter(|(_, e)| matches!(e, TxEvent::Timeout { .. }))
        .collect();
    assert_eq!(timeouts, [(33_000, TxEvent::Timeout { tx: inv })]);
    assert_ne!(cancel, inv);
}

#[test]
fn cancel_of_a_finished_invite_is_none() {
    let mut net = Net::new();
    let (inv, invite) = net.send(0, Method::Invite, ua(Transport::Udp));
    net.answer(100, &invite, 200, ua(Transport::Udp));
    assert_eq!(net.layer.cancel(net.at(200), inv), None);
    let (opt, _) = net.send(300, Method::Options, ua(Transport::Udp));
    assert_eq!(
        net.layer.cancel(net.at(400), opt),
        None,
        "only INVITEs are cancelled"
    );
}
