//! Messages the transaction layer writes itself: our Via on outgoing requests, the ACK of
//! a non-2xx, CANCEL, 100 Trying and stateless error responses.

use super::key::{our_sent_by, PLACEHOLDER_SENT_BY};
use super::{Peer, Transport, TxConfig};
use crate::message::{CSeq, Method, Request, Response, Via};
use std::fmt::Write;

/// The Via we push on a request we send: `SIP/2.0/<transport> <sent-by>;branch=..;rport`.
pub(super) fn our_via(config: &TxConfig, dest: Peer, branch: &str) -> String {
    let tcp = dest.transport == Transport::Tcp;
    let proto = if tcp { "TCP" } else { "UDP" };
    match our_sent_by(config, tcp) {
        Some(addr) => format!("SIP/2.0/{proto} {addr};branch={branch};rport"),
        None => format!("SIP/2.0/{proto} {PLACEHOLDER_SENT_BY};branch={branch};rport"),
    }
}

/// Readies a request of the TU for the wire: a new top Via, Max-Forwards 70 and
/// User-Agent unless present.
pub(super) fn stamp_request(request: &mut Request, via: &str, config: &TxConfig) {
    request.headers.push_front("Via", via);
    if request.headers.get("Max-Forwards").is_none() {
        request.headers.push("Max-Forwards", "70");
    }
    if !config.user_agent.is_empty() && request.headers.get("User-Agent").is_none() {
        request.headers.push("User-Agent", &config.user_agent);
    }
}

/// Adds our Server header to a response unless it has one.
pub(super) fn stamp_response(response: &mut Response, config: &TxConfig) {
    if !config.user_agent.is_empty() && response.headers.get("Server").is_none() {
        response.headers.push("Server", &config.user_agent);
    }
}

/// The ACK a client INVITE transaction sends for a 300-699 (RFC 3261 17.1.1.3): same
/// Request-URI, top Via (so the same branch), Call-ID, From and CSeq number as the INVITE,
/// To from the response (with its tag), the INVITE's Route headers.
pub(super) fn ack_for_non_2xx(invite: &Request, response: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, invite.uri.clone());
    copy_dialog_headers(invite, &mut ack, Method::Ack);
    if let Some(to) = response.headers.get("To") {
        ack.headers.set("To", to);
    }
    ack
}

/// The CANCEL of a client INVITE (RFC 3261 9.1): same Request-URI, top Via, Call-ID, From,
/// To and CSeq number, the INVITE's Route headers, CSeq method CANCEL.
pub(super) fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    copy_dialog_headers(invite, &mut cancel, Method::Cancel);
    cancel
}

/// The headers an ACK and a CANCEL take from the INVITE, in the usual order.
fn copy_dialog_headers(invite: &Request, out: &mut Request, method: Method) {
    let h = &invite.headers;
    if let Some(via) = h.get("Via") {
        out.headers.push("Via", via);
    }
    for name in ["From", "To", "Call-ID"] {
        if let Some(v) = h.get(name) {
            out.headers.push(name, v);
        }
    }
    let seq = invite.cseq().map_or(1, |c| c.seq);
    out.headers.push("CSeq", &CSeq { seq, method }.to_string());
    for route in h.get_all("Route") {
        out.headers.push("Route", route);
    }
    out.headers.push("Max-Forwards", "70");
    if let Some(ua) = h.get("User-Agent") {
        out.headers.push("User-Agent", ua);
    }
}

/// "100 Trying" for a new INVITE: no To tag, Timestamp echoed (RFC 3261 8.2.6.1).
pub(super) fn trying(invite: &Request) -> Response {
    let mut r = invite.response(100, None);
    if let Some(ts) = invite.headers.get("Timestamp") {
        r.headers.push("Timestamp", ts);
    }
    r
}

/// A response the layer sends by itself (481 to a stray CANCEL, 400 to a malformed
/// request), with a To tag and, when given, a Warning saying why.
pub(super) fn layer_response(
    request: &Request,
    status: u16,
    to_tag: &str,
    warning: Option<&str>,
    config: &TxConfig,
) -> Response {
    let mut r = request.response(status, Some(to_tag));
    if let Some(w) = warning {
        r.headers.push("Warning", &warning_value(w));
    }
    stamp_response(&mut r, config);
    r
}

/// `399 ferroswitch "<text>"` (RFC 3261 20.43) with the text made safe for a quoted
/// string: no control characters, quotes or backslashes from the input survive.
pub(super) fn warning_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 20);
    out.push_str("399 ferroswitch \"");
    for c in text.chars().take(200) {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// True when a request that failed to parse still has what a response copies: the method
/// is not ACK (never answered) and Via, From, To, Call-ID and CSeq are present. Their
/// values are copied as they are, so they need not parse.
pub(super) fn answerable(request: &Request) -> bool {
    request.method != Method::Ack
        && ["Via", "From", "To", "Call-ID", "CSeq"]
            .iter()
            .all(|h| request.headers.get(h).is_some_and(|v| !v.is_empty()))
}

/// Stamps `received` and `rport` on a request's top Via (RFC 3261 18.2.1, RFC 3581 4):
/// `received` when the source address differs from sent-by or `rport` was asked for,
/// and an empty `rport` filled with the source port. `via` is the parsed top Via.
pub(super) fn stamp_received(request: &mut Request, mut via: Via, source: Peer) {
    let ip = source.addr.ip();
    let wants_rport = matches!(via.params.get("rport"), Some(None));
    let mut changed = false;
    if wants_rport || via.host.ip() != Some(ip) {
        via.params.set("received", Some(&ip.to_string()));
        changed = true;
    }
    if wants_rport {
        via.params
            .set("rport", Some(&source.addr.port().to_string()));
        changed = true;
    }
    if !changed {
        return;
    }
    let top = request
        .headers
        .0
        .iter_mut()
        .find(|h| h.name.eq_ignore_ascii_case("Via"));
    if let Some(h) = top {
        h.value = via.to_string();
    }
}

/// A random token of 16 hex digits for branches and tags.
pub(super) fn token(rng: &mut impl rand::Rng) -> String {
    let mut s = String::with_capacity(16);
    let _ = write!(s, "{:016x}", rng.gen::<u64>());
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{parse, Message, Uri};

    fn request(text: &str) -> Request {
        match parse(text.replace('\n', "\r\n").as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("not a request"),
        }
    }

    const INVITE: &str = "INVITE sip:b@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKour;rport
Route: <sip:p1.example.com;lr>
Route: <sip:p2.example.com;lr>
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: c1
CSeq: 7 INVITE
Content-Type: application/sdp

v=0
";

    #[test]
    fn cancel_copies_what_rfc3261_9_1_names() {
        let inv = request(INVITE);
        let c = cancel_for(&inv);
        assert_eq!(c.method, Method::Cancel);
        assert_eq!(c.uri, inv.uri);
        assert_eq!(c.headers.get("Via"), inv.headers.get("Via"));
        assert_eq!(c.headers.get("CSeq"), Some("7 CANCEL"));
        assert_eq!(c.headers.get("To"), Some("<sip:b@example.com>"));
        assert_eq!(c.headers.count("Route"), 2);
        assert!(c.body.is_empty() && c.headers.get("Content-Type").is_none());
    }

    #[test]
    fn ack_takes_to_from_the_response() {
        let inv = request(INVITE);
        let mut resp = inv.response(486, Some("xyz"));
        resp.headers.push("Contact", "<sip:elsewhere@example.com>");
        let ack = ack_for_non_2xx(&inv, &resp);
        assert_eq!(ack.headers.get("To"), Some("<sip:b@example.com>;tag=xyz"));
        assert_eq!(ack.headers.get("CSeq"), Some("7 ACK"));
        assert_eq!(ack.branch().as_deref(), Some("z9hG4bKour"));
        assert_eq!(ack.uri, Uri::parse("sip:b@example.com").unwrap());
    }

    #[test]
    fn warning_text_cannot_break_out_of_its_quotes() {
        assert_eq!(
            warning_value("bad \"x\"\r\n\\"),
            "399 ferroswitch \"bad 'x'  /\""
        );
    }
}
