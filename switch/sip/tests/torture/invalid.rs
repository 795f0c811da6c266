//! RFC 4475 section 3.1.2: invalid messages. A request is rejected with the status the RFC
//! asks for and keeps enough of itself (`partial`) for the switch to send that answer; a
//! response is rejected and dropped (nobody answers a response).

use super::{answer, good_answer, load, rejected, request};
use switch_sip::message::{parse, Method, Scheme, Uri};

/// Rejected as a response: nothing to answer.
fn dropped(name: &str) {
    let e = parse(&load(name)).expect_err(name);
    assert!(e.partial.is_none(), "{name}: a response is never answered");
}

/// 3.1.2.1: empty Via and Contact elements and parameters. 400; the answer copies the
/// Via field as it came, since RFC 3261 8.2.6.2 wants the Vias of the request.
#[test]
fn badinv01_empty_list_elements_and_parameters_get_400() {
    let e = rejected("badinv01", 400);
    let resp = answer("badinv01", &e);
    assert_eq!(
        resp.headers.get("Via"),
        Some("SIP/2.0/UDP 192.0.2.15;;,;,,")
    );
    assert_eq!(resp.to().unwrap().tag(), Some("torture"));
}

/// 3.1.2.2: Content-Length larger than the datagram: 400 over UDP (a stream would wait
/// for more; see the framing property in torture.rs).
#[test]
fn clerr_content_length_beyond_the_datagram_gets_400() {
    let e = rejected("clerr", 400);
    assert!(e.reason.contains("Content-Length"), "{}", e.reason);
    good_answer("clerr", &e);
}

/// 3.1.2.3: negative Content-Length: an error, and never a number to index with.
#[test]
fn ncl_negative_content_length_gets_400() {
    let e = rejected("ncl", 400);
    assert!(e.reason.contains("-999"), "{}", e.reason);
    good_answer("ncl", &e);
    // "Content-Length: five" is the same fault.
    let five = String::from_utf8(load("ncl"))
        .unwrap()
        .replace("-999", "five");
    assert_eq!(parse(five.as_bytes()).unwrap_err().status, 400);
}

/// 3.1.2.4: CSeq, Max-Forwards, Expires and a Contact expires out of range. 400 for the
/// CSeq (we also refuse the others rather than guess).
#[test]
fn scalar02_out_of_range_cseq_gets_400() {
    let e = rejected("scalar02", 400);
    assert!(e.reason.contains("CSeq"), "{}", e.reason);
    let partial = e.partial.as_deref().unwrap();
    assert_eq!(partial.method, Method::Register);
    answer("scalar02", &e);
}

/// 3.1.2.5: a response with scalars out of range is discarded.
#[test]
fn scalarlg_response_with_out_of_range_cseq_is_dropped() {
    dropped("scalarlg");
}

/// 3.1.2.6: unterminated quoted display name: 400, no guessing where the quote ends.
#[test]
fn quotbal_unterminated_quote_gets_400() {
    let e = rejected("quotbal", 400);
    assert!(e.reason.contains("To"), "{}", e.reason);
    answer("quotbal", &e);
}

/// 3.1.2.7: Request-URI in `<>`: 400. The request is still read (brackets dropped) so
/// the 400 can be sent.
#[test]
fn ltgtruri_bracketed_request_uri_gets_400() {
    let e = rejected("ltgtruri", 400);
    let partial = e.partial.as_deref().unwrap();
    assert_eq!(partial.uri, Uri::sip(Some("user"), "example.com", None));
    good_answer("ltgtruri", &e);
}

/// 3.1.2.8: LWS inside the Request-URI: 400, answerable.
#[test]
fn lwsruri_whitespace_in_request_uri_gets_400() {
    let e = rejected("lwsruri", 400);
    let partial = e.partial.as_deref().unwrap();
    assert_eq!(partial.uri.params.get("lr"), Some(None));
    good_answer("lwsruri", &e);
}

/// 3.1.2.9: several SPs between the start-line elements: rejecting is acceptable, and we
/// do (a forwarded copy must not keep them, and we never forward this one). Answerable.
#[test]
fn lwsstart_extra_spaces_in_request_line_get_400() {
    let e = rejected("lwsstart", 400);
    assert_eq!(e.partial.as_deref().unwrap().method, Method::Invite);
    good_answer("lwsstart", &e);
}

/// 3.1.2.10: SPs after the SIP-Version: rejected as malformed, answerable.
#[test]
fn trws_trailing_spaces_after_version_get_400() {
    let e = rejected("trws", 400);
    assert_eq!(
        e.partial.as_deref().unwrap().uri,
        Uri::sip(Some("remote-target"), "example.com", None)
    );
    good_answer("trws", &e);
}

/// 3.1.2.11: escaped headers in a SIP Request-URI: 400 (RFC 3261 19.1.1 allows no
/// headers there), so they can never turn into real headers downstream.
#[test]
fn escruri_headers_in_request_uri_get_400() {
    let e = rejected("escruri", 400);
    let partial = e.partial.as_deref().unwrap();
    assert_eq!(
        partial.uri.headers.as_deref(),
        Some("Route=%3Csip:example.com%3E")
    );
    good_answer("escruri", &e);
}

/// 3.1.2.12: a non-GMT Date. The RFC asks elements not to reject this unless Date matters
/// to them; the switch never reads Date, so the request is accepted and Date kept as is.
#[test]
fn baddate_non_gmt_date_is_ignored_because_date_is_unused() {
    let r = request("baddate");
    assert_eq!(r.headers.get("Date"), Some("Fri, 01 Jan 2010 16:00:00 EST"));
    assert_eq!(r.method, Method::Invite);
}

/// 3.1.2.13: a Contact addr-spec with escaped headers must be in `<>`: 400.
#[test]
fn regbadct_contact_with_headers_outside_brackets_gets_400() {
    let e = rejected("regbadct", 400);
    assert!(e.reason.contains("Contact"), "{}", e.reason);
    good_answer("regbadct", &e);
}

/// 3.1.2.14: spaces inside `<>` of the To: 400 (RAQUOT/LAQUOT allow them only outside).
#[test]
fn badaspec_spaces_inside_angle_brackets_get_400() {
    let e = rejected("badaspec", 400);
    assert!(e.reason.contains("To"), "{}", e.reason);
    answer("badaspec", &e);
}

/// 3.1.2.15: unquoted display names with non-token characters: 400, no inferred quotes.
#[test]
fn baddn_unquoted_display_name_with_comma_gets_400() {
    let e = rejected("baddn", 400);
    assert!(e.reason.contains("must be quoted"), "{}", e.reason);
    answer("baddn", &e);
}

/// 3.1.2.16: SIP/7.0: 505 Version Not Supported.
#[test]
fn badvers_unknown_sip_version_gets_505() {
    let e = rejected("badvers", 505);
    assert_eq!(e.partial.as_deref().unwrap().method, Method::Options);
    let resp = answer("badvers", &e);
    assert_eq!(resp.reason, "Version Not Supported");
}

/// 3.1.2.17: CSeq method differs from the request method: 400.
#[test]
fn mismatch01_cseq_method_mismatch_gets_400() {
    let e = rejected("mismatch01", 400);
    good_answer("mismatch01", &e);
}

/// 3.1.2.18: unknown method with a CSeq naming another: 501 (the RFC prefers it to 400).
#[test]
fn mismatch02_unknown_method_with_other_cseq_gets_501() {
    let e = rejected("mismatch02", 501);
    let partial = e.partial.as_deref().unwrap();
    assert_eq!(partial.method, Method::Extension("NEWMETHOD".into()));
    assert_eq!(partial.uri.scheme, Scheme::Sip);
    good_answer("mismatch02", &e);
}

/// 3.1.2.19: a status code above 699: the response is dropped, and nothing breaks.
#[test]
fn bigcode_overlarge_status_code_is_dropped() {
    dropped("bigcode");
}
