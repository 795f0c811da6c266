//! Server non-INVITE transactions: retransmissions and Timer J.

use super::*;

#[test]
fn a_retransmission_before_any_response_is_absorbed_silently() {
    let mut net = Net::new();
    net.recv(
        0,
        &remote("OPTIONS", "z9hG4bKopt1", "UDP"),
        ua(Transport::Udp),
    );
    new_tx(&net.events());
    assert!(net.sent().is_empty(), "no 100 for a non-INVITE");
    net.recv(
        500,
        &remote("OPTIONS", "z9hG4bKopt1", "UDP"),
        ua(Transport::Udp),
    );
    assert!(net.events().is_empty());
    assert!(net.sent().is_empty());
}

#[test]
fn a_retransmission_gets_the_last_response_again() {
    let mut net = Net::new();
    net.recv(0, &remote("BYE", "z9hG4bKbye1", "UDP"), ua(Transport::Udp));
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(10), id, req.response(100, None))
        .unwrap();
    let trying = net.sent();
    net.recv(
        500,
        &remote("BYE", "z9hG4bKbye1", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(net.sent(), trying);
    net.layer
        .send_response(net.at(600), id, req.response(200, Some("t")))
        .unwrap();
    let ok = net.sent();
    net.recv(
        700,
        &remote("BYE", "z9hG4bKbye1", "UDP"),
        ua(Transport::Udp),
    );
    assert_eq!(net.sent(), ok);
    assert!(net.events().is_empty());
}

#[test]
fn timer_j_ends_the_completed_transaction_after_64_t1() {
    let mut net = Net::new();
    net.recv(
        0,
        &remote("REGISTER", "z9hG4bKreg1", "UDP"),
        ua(Transport::Udp),
    );
    let id = new_tx(&net.events());
    let req = net.layer.request_of(id).unwrap().clone();
    net.layer
        .send_response(net.at(100), id, req.response(200, Some("t")))
        .unwrap();
    net.sent();
    assert_eq!(
        net.run_events(100_000),
        [(32_100, TxEvent::Terminated { tx: id })]
    );
    assert!(
        net.sent().is_empty(),
        "a non-INVITE final is never retransmitted"
    );
    // The same request again is now a new transaction.
    net.recv(
        40_000,
        &remote("REGISTER", "z9hG4bKreg1", "UDP"),
        ua(Transport::Udp),
    );
    assert_ne!(new_tx(&net.events()), id);
}

#[test]
fn a_response_to_a_client_transaction_id_is_refused() {
    let mut net = Net::new();
    let (id, req) = net.send(0, Method::Options, ua(Transport::Udp));
    assert_eq!(
        net.layer
            .send_response(net.at(1), id, req.response(200, None)),
        Err(super::super::TxError::NotServerTransaction)
    );
}
