//! Digest authentication as the registrar does it, driven by a raw UDP client because the
//! peers (SIPp, baresip) only speak MD5: SHA-256 (RFC 7616) works and is offered first, an
//! expired nonce gets a new challenge with stale=true, several contacts per user are kept and
//! listed, and a source that keeps failing is blocked even with the right password.

use std::net::SocketAddr;
use std::time::Duration;

use ferroswitch_tests::sip_udp::unique_call_id;
use ferroswitch_tests::{SipResponse, SipUdp, Switch};
use switch_sip::auth::{respond, Algorithm, Challenge};

const WAIT: Duration = Duration::from_secs(5);

/// One registration dialog of `user` from a test socket, with
/// `Contact: <sip:user@127.0.0.1:contact_port>`.
struct Reg<'a> {
    c: &'a SipUdp,
    to: SocketAddr,
    user: &'a str,
    contact_port: u16,
    call_id: String,
}

impl<'a> Reg<'a> {
    fn new(c: &'a SipUdp, to: SocketAddr, user: &'a str, contact_port: u16) -> Reg<'a> {
        Reg {
            c,
            to,
            user,
            contact_port,
            call_id: unique_call_id(),
        }
    }

    /// Sends REGISTER number `cseq`, with credentials for `challenge` when given; returns
    /// the response.
    fn send(&self, password: &str, challenge: Option<&Challenge>, cseq: u32) -> SipResponse {
        let Reg {
            c,
            to,
            user,
            contact_port,
            ref call_id,
        } = *self;
        let uri = format!("sip:{to}");
        let auth = challenge.map(|ch| {
            let creds = respond(ch, "REGISTER", &uri, user, password, "0a4f113b", cseq);
            format!("Authorization: {creds}")
        });
        let port = c.local_port();
        let mut text = format!(
            "REGISTER {uri} SIP/2.0\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-da-{cseq}-{call_id};rport\n\
             Max-Forwards: 70\n\
             From: <sip:{user}@127.0.0.1>;tag=da{cseq}\n\
             To: <sip:{user}@127.0.0.1>\n\
             Call-ID: {call_id}\n\
             CSeq: {cseq} REGISTER\n\
             Contact: <sip:{user}@127.0.0.1:{contact_port}>\n\
             Expires: 600\n"
        );
        if let Some(a) = auth {
            text.push_str(&a);
            text.push('\n');
        }
        text.push_str("Content-Length: 0\n\n");
        c.send(to, &text);
        c.recv_for_call(call_id, WAIT)
            .pop()
            .unwrap_or_else(|| panic!("no answer to REGISTER cseq {cseq}"))
    }
}

/// The challenges of a 401, in the order sent.
fn challenges(r: &SipResponse) -> Vec<Challenge> {
    assert_eq!(r.status, 401, "{}", r.text);
    r.headers("WWW-Authenticate")
        .into_iter()
        .map(|v| Challenge::parse(v).unwrap_or_else(|e| panic!("bad challenge {v:?}: {e}")))
        .collect()
}

#[test]
fn sha256_is_offered_first_and_accepted() {
    let sw = Switch::start(&[("sip.auth_algorithms", r#"["SHA-256","MD5"]"#)]);
    let c = SipUdp::bind();
    let reg = Reg::new(&c, sw.sip_addr(), "1003", 5999);
    let r = reg.send("1234", None, 1);
    let chs = challenges(&r);
    assert_eq!(
        chs.iter().map(|c| c.algorithm).collect::<Vec<_>>(),
        [Algorithm::Sha256, Algorithm::Md5],
        "{}",
        r.text
    );
    let r = reg.send("1234", Some(&chs[0]), 2);
    assert_eq!(r.status, 200, "{}", r.text);
    // The wrong password with SHA-256 is refused.
    let reg = Reg::new(&c, sw.sip_addr(), "1004", 5998);
    let chs = challenges(&reg.send("wrong", None, 1));
    let r = reg.send("wrong", Some(&chs[0]), 2);
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn expired_nonce_is_challenged_again_with_stale() {
    let sw = Switch::start(&[("sip.nonce_ttl", "1")]);
    let c = SipUdp::bind();
    let reg = Reg::new(&c, sw.sip_addr(), "1005", 5997);
    let chs = challenges(&reg.send("1234", None, 1));
    assert!(!chs[0].stale);
    std::thread::sleep(Duration::from_millis(2100));
    let r = reg.send("1234", Some(&chs[0]), 2);
    let again = challenges(&r);
    assert!(again[0].stale, "stale=true expected: {}", r.text);
    let r = reg.send("1234", Some(&again[0]), 3);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn several_contacts_are_kept_and_listed() {
    let sw = Switch::start(&[]);
    let c = SipUdp::bind();
    for (i, port) in [5101u16, 5102].into_iter().enumerate() {
        let reg = Reg::new(&c, sw.sip_addr(), "1006", port);
        let chs = challenges(&reg.send("1234", None, 1));
        let r = reg.send("1234", Some(&chs[0]), 2);
        assert_eq!(r.status, 200, "{}", r.text);
        let contacts = r.headers("Contact");
        assert_eq!(contacts.len(), i + 1, "{}", r.text);
        assert!(
            contacts.iter().all(|c| c.contains(";expires=")),
            "{}",
            r.text
        );
    }
}

#[test]
fn a_source_that_keeps_failing_is_blocked() {
    let sw = Switch::start(&[("sip.throttle.max_failures", "3")]);
    let c = SipUdp::bind();
    for _ in 0..3 {
        let reg = Reg::new(&c, sw.sip_addr(), "1007", 5103);
        let chs = challenges(&reg.send("wrong", None, 1));
        let r = reg.send("wrong", Some(&chs[0]), 2);
        assert_eq!(r.status, 403, "{}", r.text);
    }
    // Now even a good password from this address is refused, without a challenge.
    let r = Reg::new(&c, sw.sip_addr(), "1007", 5103).send("1234", None, 1);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.reason.contains("too many"), "{}", r.text);
    assert!(
        sw.log_text().contains("blocking source"),
        "the block is logged"
    );
}
