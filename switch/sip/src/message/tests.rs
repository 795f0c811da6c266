use super::*;

const INVITE: &str = "INVITE sip:1002@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n\
v: SIP/2.0/TCP [::1]:5080;branch=z9hG4bK-2, SIP/2.0/UDP h.example.com;branch=z9hG4bK-3\r\n\
Max-Forwards: 70\r\n\
f: \"Alice A\" <sip:1001@127.0.0.1>;tag=abc\r\n\
t: <sip:1002@127.0.0.1>\r\n\
i: call-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
m: <sip:1001@127.0.0.1:5070>\r\n\
Subject: folded\r\n  header value\r\n\
c: application/sdp\r\n\
l: 5\r\n\
\r\n\
v=0\r\n";

fn request(text: &str) -> Request {
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn compact_forms_folding_and_via_lists_are_understood() {
    let r = request(INVITE);
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.headers.count("Via"), 3);
    assert_eq!(r.call_id(), Some("call-1@127.0.0.1"));
    assert_eq!(r.headers.get("Subject"), Some("folded header value"));
    assert_eq!(r.from().unwrap().tag(), Some("abc"));
    assert_eq!(r.body, b"v=0\r\n");
    let vias: Vec<Via> = r
        .headers
        .get_all("Via")
        .map(|v| Via::parse(v).unwrap())
        .collect();
    assert_eq!(vias[1].host.0, "[::1]");
    assert_eq!(vias[1].port, Some(5080));
    assert_eq!(vias[2].branch(), Some("z9hG4bK-3"));
    assert!(vias[0].params.has("rport"));
}

#[test]
fn printing_then_parsing_gives_the_same_request() {
    let r = request(INVITE);
    let again = request(std::str::from_utf8(&r.to_bytes()).unwrap());
    assert_eq!(r, again);
}

#[test]
fn response_copies_dialog_headers_and_adds_to_tag() {
    let r = request(INVITE);
    let resp = r.response(180, Some("xyz"));
    assert_eq!(resp.headers.count("Via"), 3);
    assert_eq!(resp.to().unwrap().tag(), Some("xyz"));
    let bytes = resp.to_bytes();
    match parse(&bytes) {
        Ok(Message::Response(p)) => assert_eq!(p.status, 180),
        other => panic!("{other:?}"),
    }
}

#[test]
fn content_length_larger_than_body_is_rejected_with_partial() {
    let text = INVITE.replace("l: 5", "l: 400");
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.reason.contains("Content-Length"), "{}", e.reason);
}

#[test]
fn missing_call_id_is_rejected_but_answerable() {
    let text = INVITE.replace("i: call-1@127.0.0.1\r\n", "");
    let e = parse(text.as_bytes()).unwrap_err();
    assert!(e.reason.contains("Call-ID"));
    assert!(e.partial.is_some());
}

#[test]
fn wrong_version_asks_for_505() {
    let text = INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.status, 505);
}

#[test]
fn cseq_method_mismatch_is_rejected() {
    let text = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 ACK");
    assert!(parse(text.as_bytes()).is_err());
}

#[test]
fn stream_framing_uses_content_length() {
    let msg = INVITE.as_bytes();
    let mut buf = b"\r\n\r\n".to_vec();
    assert_eq!(frame(&buf, 65535), Framing::KeepAlive(4));
    buf.clear();
    buf.extend_from_slice(&msg[..msg.len() - 2]);
    assert_eq!(frame(&buf, 65535), Framing::Incomplete);
    buf.extend_from_slice(&msg[msg.len() - 2..]);
    buf.extend_from_slice(b"OPTIONS");
    assert_eq!(frame(&buf, 65535), Framing::Complete(msg.len()));
    assert!(matches!(frame(&buf, 100), Framing::Invalid(_)));
}

#[test]
fn every_prefix_and_byte_flip_is_handled_without_panic() {
    let msg = INVITE.as_bytes();
    for n in 0..msg.len() {
        let _ = parse(&msg[..n]);
        let _ = frame(&msg[..n], 65535);
    }
    let mut seed: u32 = 12345;
    for _ in 0..2000 {
        let mut m = msg.to_vec();
        for _ in 0..3 {
            seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
            let i = (seed as usize >> 8) % m.len();
            m[i] = (seed >> 16) as u8;
        }
        let _ = parse(&m);
    }
}

#[test]
fn tel_and_other_uris_parse() {
    let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
    assert_eq!(u.scheme, Scheme::Tel);
    assert_eq!(u.user.as_deref(), Some("+1-201-555-0123"));
    let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
    assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(u.host.0, "example.com");
    assert!(Uri::parse("sip:<bad>@x").is_err());
}

#[test]
fn unquoted_display_name_with_comma_is_rejected() {
    assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
    assert!(NameAddr::parse("\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=43").is_ok());
    assert!(NameAddr::parse("sip:user@example.com?Route=%3Csip:x%3E").is_err());
}

#[test]
fn unescape_expands_once_and_keeps_bad_escapes() {
    assert_eq!(unescape("a%41%2541").as_ref(), b"aA%41");
    assert_eq!(unescape("null-%00-x").as_ref(), b"null-\0-x");
    assert_eq!(unescape("%ZK%4").as_ref(), b"%ZK%4");
    assert!(matches!(unescape("plain"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn display_name_loses_quotes_and_quoted_pairs() {
    let na = NameAddr::parse(r#""A \"B\" \\ C" <sip:a@b>"#).unwrap();
    assert_eq!(na.display_unquoted().as_deref(), Some(r#"A "B" \ C"#));
    let na = NameAddr::parse("Alice Smith <sip:a@b>").unwrap();
    assert_eq!(na.display_unquoted().as_deref(), Some("Alice Smith"));
    assert_eq!(
        NameAddr::parse("<sip:a@b>").unwrap().display_unquoted(),
        None
    );
}

#[test]
fn bare_magic_cookie_is_not_an_rfc3261_branch() {
    let via = |b: &str| Via::parse(&format!("SIP/2.0/UDP h;branch={b}")).unwrap();
    assert!(via("z9hG4bK1").has_rfc3261_branch());
    assert!(!via("z9hG4bK").has_rfc3261_branch());
    assert!(!via("abc").has_rfc3261_branch());
    assert!(!Via::parse("SIP/2.0/UDP h").unwrap().has_rfc3261_branch());
}

#[test]
fn list_items_span_fields_and_respect_quotes() {
    let mut h = Headers::default();
    h.push("Require", "100rel, timer");
    h.push("Require", " replaces ,");
    h.push("Accept", "a/b;q=\"x,y\", c/d");
    assert_eq!(
        h.items("require").collect::<Vec<_>>(),
        ["100rel", "timer", "replaces"]
    );
    assert_eq!(
        h.items("Accept").collect::<Vec<_>>(),
        ["a/b;q=\"x,y\"", "c/d"]
    );
}

#[test]
fn name_addr_refuses_spaces_inside_brackets_and_junk_after_them() {
    assert!(NameAddr::parse("\"W\" < sip:t@example.org >").is_err());
    assert!(NameAddr::parse("<sip:t@example.org> junk").is_err());
    let na = NameAddr::parse("\"W\"   <sip:t@example.org>  ; tag = 1").unwrap();
    assert_eq!(na.tag(), Some("1"));
}

#[test]
fn malformed_request_line_still_yields_an_answerable_request() {
    for line in [
        "INVITE <sip:1002@127.0.0.1> SIP/2.0",
        "INVITE  sip:1002@127.0.0.1  SIP/2.0",
        "INVITE sip:1002@127.0.0.1 SIP/2.0  ",
    ] {
        let text = INVITE.replacen("INVITE sip:1002@127.0.0.1 SIP/2.0", line, 1);
        let e = parse(text.as_bytes()).unwrap_err();
        assert_eq!(e.status, 400, "{line}");
        let partial = e.partial.expect(line);
        assert_eq!(
            partial.uri,
            Uri::sip(Some("1002"), "127.0.0.1", None),
            "{line}"
        );
    }
    let text = INVITE.replacen("sip:1002@127.0.0.1 SIP/2.0", "not a request", 1);
    assert!(parse(text.as_bytes()).unwrap_err().partial.is_none());
}

#[test]
fn bad_header_keeps_the_rest_of_the_request_for_the_answer() {
    let text = INVITE.replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nno colon here\r\n",
    );
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.status, 400);
    let partial = e.partial.unwrap();
    assert_eq!(partial.call_id(), Some("call-1@127.0.0.1"));
    assert_eq!(partial.cseq().unwrap().seq, 1);
}

#[test]
fn headers_in_a_sip_request_uri_are_rejected() {
    let text = INVITE.replacen("sip:1002@127.0.0.1", "sip:1002@127.0.0.1?Route=x", 1);
    let e = parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.partial.is_some());
}

#[test]
fn unknown_method_with_other_cseq_asks_for_501() {
    let text = INVITE.replacen("INVITE sip", "FROB sip", 1);
    assert_eq!(parse(text.as_bytes()).unwrap_err().status, 501);
}

#[test]
fn printing_keeps_content_length_where_it_was() {
    let r = request(&INVITE.replace("l: 5\r\n", "").replace("c: ", "l: 5\r\nc: "));
    let text = String::from_utf8(r.to_bytes()).unwrap();
    let cl = text.find("Content-Length: 5\r\n").unwrap();
    assert!(cl < text.find("Content-Type").unwrap());
    assert_eq!(text.matches("Content-Length").count(), 1);
}

#[test]
fn stream_framing_refuses_two_or_signed_content_lengths() {
    let two = INVITE.replace("l: 5\r\n", "l: 5\r\nContent-Length: 5\r\n");
    assert!(matches!(frame(two.as_bytes(), 65535), Framing::Invalid(_)));
    let plus = INVITE.replace("l: 5", "l: +5");
    assert!(matches!(frame(plus.as_bytes(), 65535), Framing::Invalid(_)));
    let folded = INVITE.replace("l: 5", "l:\r\n 5");
    assert_eq!(
        frame(folded.as_bytes(), 65535),
        Framing::Complete(folded.len())
    );
}

#[test]
fn the_fast_tag_scan_agrees_with_the_full_parse() {
    let values = [
        "<sip:1002@127.0.0.1>;tag=abc",
        "<sip:1002@127.0.0.1;tag=not-this>",
        "<sip:1002@127.0.0.1;tag=uri>;TAG=hdr",
        "\"A <b>; tag=x\" <sip:a@b>;tag=real",
        "\"quoted \\\" tag=x\" <sip:a@b> ; foo=1 ; tag = spaced ",
        "sip:a@b;tag=plain",
        "sip:a@b",
        "Bob <sip:b@c>",
        "<sip:a@b>;foo=\"x;tag=q\";tag=t2",
        "<sip:a@b>;tagx=1",
        "<sip:a@b>;tag",
        "<sip:a@b>;lr;tag=1928301774",
        "  <sips:a@b:5061>  ;  tag=z  ",
        "<tel:+1-555>;tag=t",
    ];
    for v in values {
        let full = NameAddr::parse(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert_eq!(typed::tag_param(v), full.tag(), "{v:?}");
    }
    let req = request(INVITE);
    assert_eq!(req.from_tag(), Some("abc"));
    assert_eq!(req.to_tag(), None);
}
