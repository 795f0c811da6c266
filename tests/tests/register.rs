//! REGISTER with digest auth: the right password registers, a wrong one gets 403 after the
//! challenge, and a user who unregistered can no longer be called.

use std::time::Duration;

use ferroswitch_tests::{cdr, peer_available, RtpSink, Sipp, Switch};

#[test]
fn good_password_registers_with_200() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    Sipp::new("register.xml")
        .target(sw.sip_addr())
        .user("1001", "1234")
        .key("expires", 3600)
        .run()
        .assert_passed();
}

#[test]
fn wrong_password_gets_403_after_the_challenge() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    Sipp::new("register_badpass.xml")
        .target(sw.sip_addr())
        .user("1001", "not-the-password")
        .run()
        .assert_passed();
}

#[test]
fn unregistered_user_is_unavailable() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let port = Sipp::register(sw.sip_addr(), "1001");
    Sipp::new("register.xml")
        .target(sw.sip_addr())
        .local_port(port)
        .user("1001", "1234")
        .key("expires", 0)
        .run()
        .assert_passed();

    let sink = RtpSink::bind();
    Sipp::caller("uac_expect_480.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();

    let rows = sw.wait_cdrs(1, Duration::from_secs(10));
    let a = cdr::leg(&rows, "A").unwrap_or_else(|| panic!("one A leg: {rows:#?}"));
    assert_eq!(a.destination_number, "1001");
    assert_eq!(a.answer_stamp, None);
    assert_eq!(a.hangup_cause, "USER_NOT_REGISTERED", "{rows:#?}");
}
