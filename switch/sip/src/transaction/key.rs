//! How messages find their transaction (RFC 3261 17.1.3 and 17.2.3).

use super::TxConfig;
use crate::message::{Method, Request, Via};
use std::net::SocketAddr;

/// The sent-by written in our Vias when the config names none (RFC 6761 reserves
/// `.invalid`; peers answer by `rport`/`received` alone).
pub(super) const PLACEHOLDER_SENT_BY: &str = "ferroswitch.invalid";

/// What a server transaction is found by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum ServerKey {
    /// RFC 3261: top Via branch (with the magic cookie) and sent-by, and the method with
    /// ACK counted as INVITE.
    Branch {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// RFC 2543 peers, whose branch identifies nothing: Call-ID, From tag, CSeq and the
    /// whole top Via, which a retransmission, its ACK and its CANCEL all repeat.
    Legacy {
        call_id: String,
        from_tag: String,
        cseq: u32,
        via: String,
        method: Method,
    },
}

impl ServerKey {
    /// The key of a received request, given its parsed top Via (before `received`/`rport`
    /// are stamped on it). `None` without a CSeq number.
    pub fn of(request: &Request, via: &Via) -> Option<ServerKey> {
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        if via.has_rfc3261_branch() {
            return Some(ServerKey::Branch {
                branch: via.branch()?.to_string(),
                sent_by: sent_by(via),
                method,
            });
        }
        let from_tag = request.from_tag().unwrap_or_default().to_string();
        Some(ServerKey::Legacy {
            call_id: request.call_id()?.to_string(),
            from_tag,
            cseq: request.cseq()?.seq,
            via: via.to_string(),
            method,
        })
    }

    /// The same key for another method: a CANCEL's key as INVITE finds what it cancels.
    pub fn with_method(&self, m: Method) -> ServerKey {
        let mut k = self.clone();
        match &mut k {
            ServerKey::Branch { method, .. } | ServerKey::Legacy { method, .. } => *method = m,
        }
        k
    }
}

/// What a client transaction is found by: our branch and the CSeq method (a CANCEL shares
/// its INVITE's branch).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    pub branch: String,
    pub method: Method,
}

/// What the ACK of a 2xx finds its server INVITE transaction by: it has a branch of its
/// own, so Call-ID, CSeq number and the To tag of our 2xx.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct AckKey {
    pub call_id: String,
    pub cseq: u32,
    pub to_tag: String,
}

impl AckKey {
    /// The key of a 2xx we send or of an ACK we receive: both carry the dialog's To tag.
    pub fn of(call_id: Option<&str>, cseq: Option<u32>, to_tag: Option<&str>) -> Option<AckKey> {
        Some(AckKey {
            call_id: call_id?.to_string(),
            cseq: cseq?,
            to_tag: to_tag.unwrap_or_default().to_string(),
        })
    }
}

/// sent-by as compared: host lower-cased, port as written.
fn sent_by(via: &Via) -> String {
    let host = via.host.0.to_ascii_lowercase();
    match via.port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// The sent-by we write for a transport.
pub(super) fn our_sent_by(config: &TxConfig, tcp: bool) -> Option<SocketAddr> {
    if tcp {
        config.tcp_sent_by.or(config.udp_sent_by)
    } else {
        config.udp_sent_by.or(config.tcp_sent_by)
    }
}

/// True when a response's top Via is one we could have written.
pub(super) fn is_ours(via: &Via, config: &TxConfig) -> bool {
    let configured = [config.udp_sent_by, config.tcp_sent_by];
    if configured.iter().all(Option::is_none) {
        return via.host.0.eq_ignore_ascii_case(PLACEHOLDER_SENT_BY);
    }
    let Some(ip) = via.host.ip() else {
        return false;
    };
    let port = via.port.unwrap_or(5060);
    configured
        .iter()
        .flatten()
        .any(|a| a.ip() == ip && a.port() == port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{parse, Message};

    fn request(text: &str) -> Request {
        match parse(text.replace('\n', "\r\n").as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("not a request"),
        }
    }

    const INVITE: &str = "INVITE sip:b@example.com SIP/2.0
Via: SIP/2.0/UDP Host.Example.com:5070;branch=z9hG4bKabc
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: c1
CSeq: 1 INVITE

";

    #[test]
    fn ack_and_cancel_keys_lead_to_the_invite() {
        let inv = request(INVITE);
        let ack = request(
            &INVITE
                .replace("INVITE sip", "ACK sip")
                .replace("1 INVITE", "1 ACK"),
        );
        let cancel = request(
            &INVITE
                .replace("INVITE sip", "CANCEL sip")
                .replace("1 INVITE", "1 CANCEL"),
        );
        let k = |r: &Request| ServerKey::of(r, &r.top_via().unwrap()).unwrap();
        assert_eq!(k(&inv), k(&ack));
        assert_ne!(k(&inv), k(&cancel));
        assert_eq!(k(&inv), k(&cancel).with_method(Method::Invite));
    }

    #[test]
    fn sent_by_host_compares_case_insensitively() {
        let a = request(INVITE);
        let b = request(&INVITE.replace("Host.Example.com", "host.example.COM"));
        let k = |r: &Request| ServerKey::of(r, &r.top_via().unwrap()).unwrap();
        assert_eq!(k(&a), k(&b));
    }

    #[test]
    fn a_request_without_magic_cookie_gets_a_legacy_key() {
        let r = request(&INVITE.replace("branch=z9hG4bKabc", "branch=1234"));
        let key = ServerKey::of(&r, &r.top_via().unwrap()).unwrap();
        assert!(matches!(key, ServerKey::Legacy { cseq: 1, .. }));
    }
}
