//! Client non-INVITE transactions: Timers E, F, K; retransmitted finals absorbed.

use super::*;

#[test]
fn timer_e_doubles_up_to_t2_until_timer_f_times_out() {
    let mut net = Net::new();
    let (id, _) = net.send(0, Method::Options, ua(Transport::Udp));
    let times = net.transmit_times(40_000);
    // 500, 1000, 2000, 4000 (capped), then every 4 s until 32 s.
    assert_eq!(
        times,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    assert_eq!(
        net.events(),
        [TxEvent::Timeout { tx: id }, TxEvent::Terminated { tx: id }]
    );
}

#[test]
fn timer_f_fires_at_64_t1() {
    let mut net = Net::new();
    let (id, _) = net.send(0, Method::Register, ua(Transport::Udp));
    net.tick(31_999);
    assert!(!net.events().contains(&TxEvent::Timeout { tx: id }));
    net.tick(32_000);
    assert!(net.events().contains(&TxEvent::Timeout { tx: id }));
}

#[test]
fn in_proceeding_timer_e_retransmits_every_t2() {
    let mut net = Net::new();
    let (id, sent) = net.send(0, Method::Bye, ua(Transport::Udp));
    net.tick(500); // first retransmission; E next at 1500
    net.answer(600, &sent, 100, ua(Transport::Udp));
    net.sent();
    assert!(matches!(
        &net.events()[..],
        [TxEvent::Response { tx, response }] if *tx == id && response.status == 100
    ));
    let times = net.transmit_times(12_000);
    assert_eq!(times, [1_500, 5_500, 9_500]);
}

#[test]
fn a_final_response_completes_and_timer_k_ends_it_after_t4() {
    let mut net = Net::new();
    let (id, sent) = net.send(0, Method::Bye, ua(Transport::Udp));
    net.answer(100, &sent, 200, ua(Transport::Udp));
    assert!(matches!(
        &net.events()[..],
        [TxEvent::Response { response, .. }] if response.status == 200
    ));
    // A retransmitted final is absorbed: no event, nothing sent.
    net.answer(2_000, &sent, 200, ua(Transport::Udp));
    assert!(net.events().is_empty());
    assert!(net.sent().is_empty());
    assert_eq!(
        net.run_events(100_000),
        [(5_100, TxEvent::Terminated { tx: id })]
    );
    assert!(net.sent().is_empty(), "no retransmission after the final");
}

#[test]
fn a_response_with_another_cseq_method_does_not_match() {
    let mut net = Net::new();
    let (_, sent) = net.send(0, Method::Info, ua(Transport::Udp));
    let mut r = sent.response(200, Some("x"));
    r.headers.set("CSeq", "5 BYE");
    net.recv_msg(100, &Message::Response(r), ua(Transport::Udp));
    assert!(matches!(&net.events()[..], [TxEvent::StrayResponse { .. }]));
}
