//! RFC 4475 section 3.1.1: valid messages. Every one parses, and the typed views read the
//! values the RFC means.

use super::{load, request, response, vias};
use switch_sip::message::{
    frame, parse, CSeq, Contact, Framing, Message, Method, NameAddr, Scheme, Uri,
};

fn contacts(r: &switch_sip::message::Request) -> Vec<NameAddr> {
    r.headers
        .get_all("Contact")
        .map(|c| match Contact::parse(c) {
            Ok(Contact::Addr(na)) => *na,
            other => panic!("Contact {c:?}: {other:?}"),
        })
        .collect()
}

fn sdp_body(body: &[u8], len: usize) {
    assert_eq!(body.len(), len);
    assert!(body.starts_with(b"v=0\r\n"));
    assert!(body.ends_with(b"a=rtpmap:31 LPC\r\n"));
}

/// 3.1.1.1: folding, LWS around every separator, compact and long names mixed, odd case,
/// unknown headers and parameters, leading zeros.
#[test]
fn wsinv_short_tortuous_invite_reads_through_folding_and_whitespace() {
    let r = request("wsinv");
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user.as_deref(), Some("vivekg"));
    assert_eq!(r.uri.host.0, "chair-dnrc.example.com");
    assert_eq!(r.uri.params.get("unknownparam"), Some(None));

    let to = r.to().unwrap();
    assert_eq!(to.display, None);
    assert_eq!(
        to.uri,
        Uri::sip(Some("vivekg"), "chair-dnrc.example.com", None)
    );
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = r.from().unwrap();
    assert_eq!(from.display.as_deref(), Some(r#""J Rosenberg \\\"""#));
    assert_eq!(
        from.display_unquoted().as_deref(),
        Some(r#"J Rosenberg \""#)
    );
    assert_eq!(from.uri, Uri::sip(Some("jdrosen"), "example.com", None));
    assert_eq!(from.tag(), Some("98asjd8"));

    assert_eq!(r.max_forwards(), Some(68));
    assert_eq!(r.call_id(), Some("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(
        r.cseq(),
        Some(CSeq {
            seq: 9,
            method: Method::Invite
        })
    );

    // One Via line plus a folded, comma-separated pair in compact form.
    let v = vias(&r.headers);
    let sent: Vec<(&str, &str, Option<&str>)> = v
        .iter()
        .map(|v| (v.transport.as_str(), v.host.0.as_str(), v.branch()))
        .collect();
    assert_eq!(
        sent,
        [
            ("UDP", "192.0.2.2", Some("390skdjuw")),
            ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8")),
            ("UDP", "192.168.255.111", Some("z9hG4bK30239")),
        ]
    );
    assert!(v.iter().all(|v| v.port.is_none()));

    assert_eq!(r.headers.get("Subject"), Some(""));
    assert_eq!(
        r.headers.get("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    // Unknown syntax: one opaque value, not a list of empty parameters.
    assert_eq!(r.headers.count("UnknownHeaderWithUnusualValue"), 1);
    assert_eq!(
        r.headers.get("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    assert_eq!(r.headers.get("Content-Type"), Some("application/sdp"));

    let route = NameAddr::parse(r.headers.get("Route").unwrap()).unwrap();
    assert_eq!(route.uri.host.0, "services.example.com");
    assert_eq!(route.uri.params.get("lr"), Some(None));
    assert_eq!(route.uri.params.get("unknownwith"), Some(Some("value")));
    assert_eq!(route.uri.params.get("unknown-no-value"), Some(None));

    let c = contacts(&r);
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].display_unquoted().as_deref(),
        Some(r#"Quoted string """#)
    );
    assert_eq!(c[0].uri, Uri::sip(Some("jdrosen"), "example.com", None));
    assert_eq!(c[0].params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(c[0].params.get("secondparam"), Some(None));
    assert_eq!(c[0].params.get("q"), Some(Some("0.33")));
    sdp_body(&r.body, 150);
}

/// 3.1.1.2: every token character in a method, URI, branch, tag and header name; quoted
/// control characters; UTF-8 in a parameter and a header value.
#[test]
fn intmeth_unusual_but_legal_characters_are_kept_exactly() {
    const METHOD: &str = "!interesting-Method0123456789_*+`.%indeed'~";
    const USER: &str = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*";
    let r = request("intmeth");
    assert_eq!(r.method, Method::Extension(METHOD.into()));
    assert_eq!(r.uri.user.as_deref(), Some(USER));
    assert_eq!(
        r.uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(r.uri.host.0, "example.com");
    assert!(r.uri.params.0.is_empty() && r.uri.headers.is_none());

    // % is no escape in a branch: this is not z9hG4bK-.!f*...
    assert_eq!(r.branch().as_deref(), Some("z9hG4bK-.!%66*_+`'~"));
    let to = r.to().unwrap();
    assert_eq!(
        to.display_unquoted().as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    assert_eq!(to.uri.user.as_deref(), Some(USER));
    let from = r.from().unwrap();
    assert_eq!(
        from.display.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(from.uri, Uri::sip(Some("mundane"), "example.com", None));
    assert_eq!(
        from.params.get("fromParam''~+*_!.-%"),
        Some(Some("\"работающий\""))
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        r.call_id(),
        Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
    assert_eq!(
        r.cseq(),
        Some(CSeq {
            seq: 139_122_385,
            method: Method::Extension(METHOD.into())
        })
    );
    assert_eq!(r.max_forwards(), Some(255));
    assert_eq!(
        r.headers.get("extensionHeader-!.%*+_`'~"),
        Some("\u{feff}大停電")
    );
    assert!(r.body.is_empty());
}

/// 3.1.1.3: %HH escapes are expanded once, and only where the grammar has "escaped".
#[test]
fn esc01_escapes_in_uris_expand_once() {
    let r = request("esc01");
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(
        r.uri.user_unescaped().as_deref(),
        Some(&b"sips:user@example.com"[..])
    );
    assert_eq!(r.uri.host.0, "example.net");
    let to = r.to().unwrap();
    assert_eq!(to.uri.user_unescaped().as_deref(), Some(&b"user"[..]));
    assert_eq!(to.uri.host.0, "example.com");
    let from = r.from().unwrap();
    assert_eq!(
        from.uri.user_unescaped().as_deref(),
        Some(&b"I have spaces"[..])
    );
    assert_eq!(from.tag(), Some("938"));
    assert_eq!(r.call_id(), Some("esc01.239409asdfakjkn23onasd0-3234"));
    assert_eq!(r.headers.get("Content-Type"), Some("application/sdp"));

    let c = contacts(&r);
    assert_eq!(c[0].uri.user_unescaped().as_deref(), Some(&b"caller"[..]));
    let params: Vec<(Vec<u8>, Option<Vec<u8>>)> = c[0]
        .uri
        .params
        .0
        .iter()
        .map(|(n, v)| {
            (
                switch_sip::message::unescape(n).into_owned(),
                v.as_deref()
                    .map(|v| switch_sip::message::unescape(v).into_owned()),
            )
        })
        .collect();
    // "value%41" and not "valueA": unescaping is never recursive.
    assert_eq!(
        params,
        [
            (b"lr".to_vec(), None),
            (b"name".to_vec(), Some(b"value%41".to_vec()))
        ]
    );
    sdp_body(&r.body, 150);
}

/// 3.1.1.4: escaped NULs in users must not cut the user short; two distinct bindings.
#[test]
fn escnull_escaped_nuls_keep_the_whole_user() {
    let r = request("escnull");
    assert_eq!(r.method, Method::Register);
    let to = r.to().unwrap();
    assert_eq!(
        to.uri.user_unescaped().as_deref(),
        Some(&b"null-\0-null"[..])
    );
    let from = r.from().unwrap();
    assert_eq!(from.uri, to.uri);
    assert_eq!(from.tag(), Some("839923423"));
    let users: Vec<Vec<u8>> = contacts(&r)
        .iter()
        .map(|c| c.uri.user_unescaped().unwrap().into_owned())
        .collect();
    assert_eq!(users, [vec![0u8], vec![0u8, 0u8]]);
    assert!(r.body.is_empty());
}

/// 3.1.1.5: % is no escape in a method, a display name or a header name.
#[test]
fn esc02_percent_outside_uris_is_literal() {
    let r = request("esc02");
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    assert_ne!(r.method, Method::Register);
    assert_eq!(r.uri.host.0, "registrar.example.com");
    for na in [r.to().unwrap(), r.from().unwrap()] {
        assert_eq!(na.display_unquoted().as_deref(), Some("%Z%45"));
        assert_eq!(na.uri, Uri::sip(Some("resource"), "example.com", None));
    }
    assert_eq!(r.branch().as_deref(), Some("z9hG4bK209%fzsnel234"));
    assert_eq!(r.cseq().unwrap().method, r.method);
    let hosts: Vec<String> = contacts(&r).iter().map(|c| c.uri.host.0.clone()).collect();
    assert_eq!(hosts, ["host1.example.com", "host3.example.com"]);
    assert_eq!(
        r.headers.get("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
}

/// 3.1.1.6: no LWS between a display-name token and `<` (an RFC 3261 grammar bug).
#[test]
fn lwsdisp_display_name_glued_to_the_bracket_is_accepted() {
    let r = request("lwsdisp");
    let from = r.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("caller"));
    assert_eq!(from.uri, Uri::sip(Some("caller"), "example.com", None));
    assert_eq!(from.tag(), Some("323"));
    assert_eq!(r.method, Method::Options);
}

/// 3.1.1.7: very long values and 34 Vias under every spelling of the name.
#[test]
fn longreq_long_values_and_many_vias_are_read_whole() {
    let r = request("longreq");
    let to = r.to().unwrap();
    let extreme = "extreme".repeat(10);
    assert_eq!(
        to.display_unquoted().as_deref(),
        Some(format!("I have a user name of {extreme} proportion").as_str())
    );
    assert_eq!(to.uri.port, Some(6000));
    let long = |n| "long".repeat(n);
    assert_eq!(
        to.uri.params.get("unknownparam1"),
        Some(Some(format!("very{}value", long(20)).as_str()))
    );
    assert_eq!(
        to.uri
            .params
            .get(&format!("longparam{}", "name".repeat(25))),
        Some(Some("shortvalue"))
    );
    assert_eq!(
        to.uri
            .params
            .get(&format!("very{}ParameterNameWithNoValue", long(25))),
        Some(None)
    );

    let from = r.from().unwrap();
    let caller = "amazinglylongcallername".repeat(5);
    assert_eq!(from.uri, Uri::sip(Some(&caller), "example.net", None));
    assert_eq!(
        from.tag(),
        Some(format!("12{}424", "982".repeat(50)).as_str())
    );
    assert_eq!(
        from.params
            .get(&format!("unknownheaderparam{}", "name".repeat(20))),
        Some(Some(
            format!("unknowheaderparam{}", "value".repeat(15)).as_str()
        ))
    );
    assert_eq!(
        from.params
            .get(&format!("unknownValueless{}", "paramname".repeat(10))),
        Some(None)
    );
    assert_eq!(
        r.call_id(),
        Some(format!("longreq.one{}longcallid", "really".repeat(20)).as_str())
    );
    let unknown = format!("Unknown-{}-Name", "Long".repeat(20));
    assert!(r.headers.get(&unknown).unwrap().starts_with("unknown-long"));

    let v = vias(&r.headers);
    assert_eq!(v.len(), 34);
    for (i, via) in v.iter().take(33).enumerate() {
        assert_eq!(via.host.0, format!("sip{}.example.com", 33 - i));
        assert_eq!(via.transport, "TCP");
    }
    assert_eq!(v[33].host.0, "host.example.com");
    assert_eq!(v[33].params.get("received"), Some(Some("192.0.2.5")));
    assert_eq!(
        v[33].branch(),
        Some(format!("very{}branchvalue", long(50)).as_str())
    );
    assert_eq!(r.max_forwards(), Some(70));
    assert_eq!(contacts(&r)[0].uri.user.as_deref(), Some(caller.as_str()));
    sdp_body(&r.body, 150);
}

/// 3.1.1.8: bytes after Content-Length in a datagram are noise, even when they look like
/// a second request (RFC 3261 18.3); on a stream they are the next message.
#[test]
fn dblreq_trailing_request_in_a_datagram_is_ignored() {
    let data = load("dblreq");
    let r = request("dblreq");
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
    assert_eq!(r.call_id(), Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert_eq!(
        contacts(&r)[0].uri,
        Uri::sip(Some("j.user"), "host.example.com", None)
    );
    let printed = r.to_bytes();
    assert!(!printed.windows(6).any(|w| w == b"INVITE"));

    let Framing::Complete(n) = frame(&data, 65_535) else {
        panic!("the REGISTER frames on a stream");
    };
    assert_eq!(
        n,
        data.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4
    );
    assert_eq!(frame(&data[n..], 65_535), Framing::KeepAlive(2));
    match parse(&data[n + 2..]) {
        Ok(Message::Request(invite)) => assert_eq!(invite.method, Method::Invite),
        other => panic!("{other:?}"),
    }
}

/// 3.1.1.9: a `;` in the user part belongs to the user, not to the URI parameters.
#[test]
fn semiuri_semicolon_in_the_user_part_stays_in_the_user() {
    let r = request("semiuri");
    assert_eq!(r.uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(
        r.uri.user_unescaped().as_deref(),
        Some(&b"user;par=u@example.net"[..])
    );
    assert_eq!(r.uri.host.0, "example.com");
    assert!(r.uri.params.0.is_empty());
    let accept: Vec<&str> = r.headers.items("Accept").collect();
    assert_eq!(
        accept,
        [
            "application/sdp",
            "application/pkcs7-mime",
            "multipart/mixed",
            "multipart/signed",
            "message/sip",
            "message/sipfrag"
        ]
    );
}

/// 3.1.1.10: every transport, including one nobody knows.
#[test]
fn transports_every_via_transport_including_unknown_is_read() {
    let r = request("transports");
    let t: Vec<String> = vias(&r.headers).into_iter().map(|v| v.transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(r.call_id(), Some("transports.kijh4akdnaqjkwendsasfdj"));
}

/// 3.1.1.11: a multipart body whose second part is binary with NULs is framed by
/// Content-Length alone.
#[test]
fn mpart01_binary_multipart_body_is_framed_by_content_length() {
    let r = request("mpart01");
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.body.len(), 553);
    assert!(r.body.contains(&0));
    assert!(r.body.starts_with(b"--7a9cbec02ceef655\r\n"));
    assert!(r.body.ends_with(b"\r\n--7a9cbec02ceef655--\r\n"));
    assert_eq!(
        r.headers.get("Content-Type"),
        Some("multipart/mixed;boundary=7a9cbec02ceef655")
    );
    let via = &vias(&r.headers)[0];
    assert_eq!(via.port, Some(5070));
    assert_eq!(via.params.get("rport"), Some(None));
    let route = NameAddr::parse(r.headers.get("Route").unwrap()).unwrap();
    assert_eq!(route.uri, Uri::sip(None, "127.0.0.1", Some(5080)));
    assert_eq!(r.uri.scheme, Scheme::Sip);
}

/// 3.1.1.12: a reason phrase with UTF-8 and reserved characters.
#[test]
fn unreason_utf8_reason_phrase_is_kept() {
    let r = response("unreason");
    assert_eq!(r.status, 200);
    assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    assert_eq!(r.to().unwrap().tag(), Some("2229"));
    assert_eq!(r.cseq().unwrap().method, Method::Invite);
    sdp_body(&r.body, 154);
}

/// 3.1.1.13: no reason phrase at all (the space after the code is there).
#[test]
fn noreason_empty_reason_phrase_is_accepted() {
    let r = response("noreason");
    assert_eq!(r.status, 100);
    assert_eq!(r.reason, "");
    assert!(r.is_provisional());
    assert_eq!(r.branch().as_deref(), Some("z9hG4bK2398ndaoe"));
    // The liberal reading: without the space the line is still understood.
    let mut data = load("noreason");
    data.remove(11);
    assert!(matches!(parse(&data), Ok(Message::Response(r)) if r.status == 100));
}
