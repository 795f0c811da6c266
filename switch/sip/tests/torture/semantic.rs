//! RFC 4475 sections 3.2 to 3.4: messages whose trouble is in their meaning, not their
//! syntax. The parser's part is to read them faithfully (or, where a header a transaction
//! needs is missing or ambiguous, to reject them with 400); each test says which answer the
//! switch gives above the parser and asserts the value that answer is decided on.

use super::{answer, good_answer, rejected, request, response, vias};
use switch_sip::message::{parse, Contact, Method, NameAddr, Scheme};

fn contact(r: &switch_sip::message::Request) -> NameAddr {
    match Contact::parse(r.headers.get("Contact").unwrap()) {
        Ok(Contact::Addr(na)) => *na,
        other => panic!("{other:?}"),
    }
}

/// 3.2.1: `branch=z9hG4bK` with nothing after the cookie. The parser must not break; the
/// transaction layer must not take the bare cookie as a transaction id, and falls back to
/// RFC 2543 matching (the alternative the RFC offers to a stateless 400).
#[test]
fn badbranch_bare_magic_cookie_is_not_an_rfc3261_branch() {
    let r = request("badbranch");
    let via = r.top_via().unwrap();
    assert_eq!(via.branch(), Some("z9hG4bK"));
    assert!(!via.has_rfc3261_branch());
}

/// 3.3.1: no Call-ID, From or To: 400, and the switch must not break over it.
#[test]
fn insuf_missing_required_headers_get_400() {
    let e = rejected("insuf", 400);
    assert!(e.reason.contains("missing"), "{}", e.reason);
    let resp = answer("insuf", &e);
    assert_eq!(resp.headers.get("CSeq"), Some("193942 INVITE"));
}

/// 3.3.2: unknown Request-URI scheme: a well-formed request the switch answers with 416
/// Unsupported URI Scheme. It must not route on the To header instead.
#[test]
fn unkscm_unknown_request_uri_scheme_parses_for_a_416() {
    let r = request("unkscm");
    assert_eq!(r.uri.scheme, Scheme::Other("nobodyknowsthisscheme".into()));
    assert_eq!(r.uri.opaque.as_deref(), Some("totallyopaquecontent"));
    assert_eq!(r.to().unwrap().uri.scheme, Scheme::Sip);
}

/// 3.3.3: a registered scheme never used for SIP requests: treated like an unknown one,
/// so 416 as well.
#[test]
fn novelsc_atypical_request_uri_scheme_parses_for_a_416() {
    let r = request("novelsc");
    assert_eq!(r.uri.scheme, Scheme::Other("soap.beep".into()));
    assert_eq!(r.uri.opaque.as_deref(), Some("//192.0.2.103:3002"));
}

/// 3.3.4: non-SIP schemes in To, From and Contact are syntactically fine. The registrar
/// answers 400 because the To of a REGISTER must be a SIP or SIPS address of record.
#[test]
fn unksm2_other_schemes_in_to_from_contact_parse_for_the_registrar_to_refuse() {
    let r = request("unksm2");
    assert_eq!(r.method, Method::Register);
    let to = r.to().unwrap();
    assert_eq!(to.uri.scheme, Scheme::Other("isbn".into()));
    assert_eq!(to.uri.opaque.as_deref(), Some("2983792873"));
    let from = r.from().unwrap();
    assert_eq!(from.uri.scheme, Scheme::Other("http".into()));
    assert_eq!(from.tag(), Some("3234233"));
    assert_eq!(contact(&r).uri.scheme, Scheme::Other("name".into()));
    assert!(!matches!(to.uri.scheme, Scheme::Sip | Scheme::Sips));
}

/// 3.3.5: Require and Proxy-Require with extensions nobody supports. The switch answers as
/// a UAS: 420 Bad Extension with Unsupported listing the Require tags.
#[test]
fn bext01_unknown_required_extensions_are_listed_for_a_420() {
    let r = request("bext01");
    let require: Vec<&str> = r.headers.items("Require").collect();
    assert_eq!(
        require,
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    let proxy_require: Vec<&str> = r.headers.items("Proxy-Require").collect();
    assert_eq!(
        proxy_require,
        ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]
    );
    assert_eq!(r.top_via().unwrap().transport, "TLS");
}

/// 3.3.6: a body of unknown type. An endpoint answers 415 Unsupported Media Type.
#[test]
fn invut_unknown_content_type_parses_for_a_415() {
    let r = request("invut");
    assert_eq!(
        r.headers.get("Content-Type"),
        Some("application/unknownformat")
    );
    assert_eq!(r.body, b"<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n");
}

/// 3.3.7: an Authorization with an unknown scheme. A registrar that authenticates ignores
/// it and answers 401 with a challenge it understands; the header is kept untouched.
#[test]
fn regaut01_unknown_authorization_scheme_is_kept_for_a_401() {
    let r = request("regaut01");
    assert_eq!(
        r.headers.get("Authorization"),
        Some("NoOneKnowsThisScheme opaque-data=here")
    );
    assert!(r.body.is_empty());
}

/// 3.3.8: two CSeqs, Call-IDs, Froms and Tos: no way to tell which is meant, so 400.
#[test]
fn multi01_repeated_single_value_headers_get_400() {
    let e = rejected("multi01", 400);
    assert!(e.reason.contains("more than one"), "{}", e.reason);
    answer("multi01", &e);
}

/// 3.3.9: two Content-Lengths: 400 over UDP; over a stream the framing is lost and the
/// connection is closed (see the framing property in torture.rs).
#[test]
fn mcl01_two_content_lengths_get_400() {
    let e = rejected("mcl01", 400);
    assert!(e.reason.contains("Content-Length"), "{}", e.reason);
    good_answer("mcl01", &e);
}

/// 3.3.10: a 200 whose second Via is the broadcast address. It parses; the switch never
/// forwards a response along its Vias (it is a B2BUA), so it is matched to a client
/// transaction or dropped, and never sent to 255.255.255.255.
#[test]
fn bcast_response_with_broadcast_via_parses_and_is_never_relayed() {
    let r = response("bcast");
    assert_eq!(r.status, 200);
    let v = vias(&r.headers);
    assert_eq!(v.len(), 2);
    let ip = v[1].host.ip().unwrap();
    assert!(matches!(ip, std::net::IpAddr::V4(a) if a.is_broadcast()));
}

/// 3.3.11: Max-Forwards 0 on an OPTIONS. A proxy answers 483 Too Many Hops; the switch
/// is the endpoint here and answers the OPTIONS, but would refuse to relay it (483).
#[test]
fn zeromf_zero_max_forwards_is_read_as_zero() {
    let r = request("zeromf");
    assert_eq!(r.max_forwards(), Some(0));
    assert_eq!(r.method, Method::Options);
}

/// 3.3.12: `;unknownparam` after an addr-spec Contact is a contact parameter, not a URI
/// parameter, so it is not part of the binding's URI.
#[test]
fn cparam01_parameter_after_bare_contact_belongs_to_the_header() {
    let c = contact(&request("cparam01"));
    assert!(c.uri.params.0.is_empty());
    assert_eq!(c.params.get("unknownparam"), Some(None));
    assert_eq!(c.uri.user.as_deref(), Some("+19725552222"));
}

/// 3.3.13: the same parameter inside `<>` is a URI parameter and stays in the binding.
#[test]
fn cparam02_parameter_inside_brackets_belongs_to_the_uri() {
    let c = contact(&request("cparam02"));
    assert_eq!(c.uri.params.get("unknownparam"), Some(None));
    assert!(c.params.0.is_empty());
    assert_eq!(
        c.uri.to_string(),
        "sip:+19725552222@gw1.example.net;unknownparam"
    );
}

/// 3.3.14: a Contact URI with an escaped Route header: legal in `<>`, and the registrar
/// stores the binding with the header (a later fetch returns it).
#[test]
fn regescrt_escaped_header_in_contact_uri_is_kept_with_the_binding() {
    let c = contact(&request("regescrt"));
    assert_eq!(
        c.uri.headers.as_deref(),
        Some("Route=%3Csip:sip.example.com%3E")
    );
    assert_eq!(
        switch_sip::message::unescape(c.uri.headers.as_deref().unwrap()).as_ref(),
        b"Route=<sip:sip.example.com>"
    );
    assert!(c
        .uri
        .to_string()
        .ends_with("?Route=%3Csip:sip.example.com%3E"));
}

/// 3.3.15: Accept without application/sdp on an INVITE with SDP: an endpoint answers 406
/// Not Acceptable (or 400). The parser reads Accept as it is.
#[test]
fn sdp01_accept_without_sdp_parses_for_a_406() {
    let r = request("sdp01");
    assert_eq!(
        r.headers.items("Accept").collect::<Vec<_>>(),
        ["text/nobodyKnowsThis"]
    );
    assert_eq!(r.headers.get("Content-Type"), Some("application/sdp"));
    assert_eq!(r.body.len(), 150);
}

/// 3.4.1: an RFC 2543 INVITE: no branch, no Max-Forwards, no Content-Length over UDP.
/// Accepted; transactions match it the RFC 2543 way, the body runs to the datagram's end.
#[test]
fn inv2543_rfc2543_invite_is_accepted() {
    let r = request("inv2543");
    let via = r.top_via().unwrap();
    assert_eq!(via.branch(), None);
    assert!(!via.has_rfc3261_branch());
    assert_eq!(r.max_forwards(), None);
    assert!(r.body.ends_with(b"m=audio 49217 RTP/AVP 0\r\n"));
    assert_eq!(
        r.from().unwrap().uri.params.get("user"),
        Some(Some("phone"))
    );
    // An addr-spec's parameters are header parameters (RFC 3261 20).
    let to = r.to().unwrap();
    assert_eq!(to.params.get("user"), Some(Some("phone")));
    assert!(to.uri.params.0.is_empty());
    let rr = NameAddr::parse(r.headers.get("Record-Route").unwrap()).unwrap();
    assert_eq!(rr.uri.params.get("maddr"), Some(Some("ss1.example.com")));
    // Printing adds the Content-Length a stream needs; nothing else changes.
    match parse(&r.to_bytes()) {
        Ok(switch_sip::message::Message::Request(again)) => assert_eq!(again.body, r.body),
        other => panic!("{other:?}"),
    }
}
