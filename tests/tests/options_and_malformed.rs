//! Raw SIP over UDP: OPTIONS is answered, a malformed request that still has a usable Via
//! gets 400, and garbage is dropped without hurting the switch.

use std::time::Duration;

use ferroswitch_tests::sip_udp::unique_call_id;
use ferroswitch_tests::{SipUdp, Switch};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn options_is_answered_200() {
    let sw = Switch::start(&[]);
    let c = SipUdp::bind();
    let r = c
        .options(sw.sip_addr(), WAIT)
        .expect("an answer to OPTIONS");
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn malformed_request_with_a_valid_via_gets_400() {
    let sw = Switch::start(&[]);
    let c = SipUdp::bind();
    let call_id = unique_call_id();
    let text = c.request(
        "OPTIONS",
        sw.sip_addr(),
        &call_id,
        &["this header line has no colon"],
    );
    c.send(sw.sip_addr(), &text);
    let got = c.recv_for_call(&call_id, WAIT);
    let r = got.last().expect("an answer to the malformed request");
    assert_eq!(r.header("Call-ID"), Some(call_id.as_str()), "{}", r.text);
    assert_eq!(r.status, 400, "{}", r.text);
}

#[test]
fn garbage_is_dropped_and_options_still_answered() {
    let sw = Switch::start(&[]);
    let c = SipUdp::bind();
    let big = vec![b'A'; 60_000];
    let garbage: [&[u8]; 7] = [
        b"",
        b"\x00\x01\x02\x03\xff\xfe",
        b"hello world\r\n\r\n",
        b"INVITE\r\n\r\n",
        // A response that belongs to no transaction of the switch's.
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnone\r\n\r\n",
        // No Via at all: nowhere to send a 400.
        b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n",
        &big,
    ];
    for g in garbage {
        c.send_bytes(sw.sip_addr(), g);
    }
    let call_id = unique_call_id();
    c.send(
        sw.sip_addr(),
        &c.request("OPTIONS", sw.sip_addr(), &call_id, &[]),
    );
    let got = c.recv_for_call(&call_id, WAIT);
    let last = got.last().expect("an answer to OPTIONS after the garbage");
    assert_eq!(last.header("Call-ID"), Some(call_id.as_str()));
    assert_eq!(last.status, 200, "{}", last.text);
    assert_eq!(
        got.len(),
        1,
        "the garbage was answered: {:#?}",
        &got[..got.len() - 1]
    );
}
