//! One call leg's dialog state (RFC 3261 section 12) and the in-dialog requests built from it.

use switch_sip::message::{CSeq, Headers, Method, NameAddr, Request, Response, Uri};
use switch_sip::transaction::{Peer, TxId};

/// The dialog of one leg: who we are, who they are, and how to reach them.
#[derive(Clone, Debug)]
pub struct Dialog {
    pub call_id: String,
    /// Our side: the To of an inbound INVITE (with our tag) or the From of an outbound one.
    pub local: NameAddr,
    /// Their side, with their tag once known.
    pub remote: NameAddr,
    /// Where in-dialog requests go: the peer's Contact.
    pub remote_target: Uri,
    /// Route headers for in-dialog requests, in the order to send them.
    pub route_set: Vec<String>,
    pub local_cseq: u32,
    /// Where requests are sent on the wire (the signalling source: NAT friendly).
    pub peer: Peer,
    /// Our Contact header value.
    pub contact: String,
}

impl Dialog {
    /// The dialog an inbound INVITE creates, with `local_tag` as our To tag.
    pub fn from_inbound(invite: &Request, local_tag: &str, peer: Peer, contact: String) -> Dialog {
        let mut local = invite
            .to()
            .unwrap_or_else(|| NameAddr::new(invite.uri.clone()));
        local.params.set("tag", Some(local_tag));
        let remote = invite
            .from()
            .unwrap_or_else(|| NameAddr::new(invite.uri.clone()));
        let remote_target = invite
            .headers
            .get("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|na| na.uri)
            .unwrap_or_else(|| remote.uri.clone());
        Dialog {
            call_id: invite.call_id().unwrap_or_default().to_string(),
            local,
            remote,
            remote_target,
            route_set: invite
                .headers
                .get_all("Record-Route")
                .map(str::to_string)
                .collect(),
            local_cseq: 0,
            peer,
            contact,
        }
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        self.local.tag().unwrap_or_default()
    }

    /// Takes the remote tag, target and route set from a response to our INVITE.
    pub fn update_from_response(&mut self, resp: &Response) {
        if let Some(tag) = resp.to_tag().map(str::to_string) {
            self.remote.params.set("tag", Some(&tag));
        }
        if let Some(target) = resp
            .headers
            .get("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
        {
            self.remote_target = target.uri;
        }
        let rr: Vec<String> = resp
            .headers
            .get_all("Record-Route")
            .map(str::to_string)
            .collect();
        if !rr.is_empty() {
            self.route_set = rr.into_iter().rev().collect();
        }
    }

    /// A new in-dialog request with the next CSeq.
    pub fn request(&mut self, method: Method) -> Request {
        self.local_cseq += 1;
        let seq = self.local_cseq;
        self.request_with_cseq(method, seq)
    }

    /// An in-dialog request with a given CSeq number (ACK reuses the INVITE's).
    pub fn request_with_cseq(&self, method: Method, seq: u32) -> Request {
        let mut headers = Headers::default();
        headers.push("From", &self.local.to_string());
        headers.push("To", &self.remote.to_string());
        headers.push("Call-ID", &self.call_id);
        headers.push(
            "CSeq",
            &CSeq {
                seq,
                method: method.clone(),
            }
            .to_string(),
        );
        for r in &self.route_set {
            headers.push("Route", r);
        }
        if matches!(method, Method::Invite | Method::Update) {
            headers.push("Contact", &self.contact);
        }
        Request {
            method,
            uri: self.remote_target.clone(),
            headers,
            body: Vec::new(),
        }
    }
}

/// Where a leg stands in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegState {
    /// Inbound: INVITE received, no final response yet. Outbound: INVITE sent.
    Early,
    /// 2xx sent (inbound) or received (outbound).
    Answered,
    /// Failed, cancelled or hung up.
    Ended,
}

/// A B leg being rung, or answered.
#[derive(Debug)]
pub struct OutLeg {
    pub uuid: String,
    pub dialog: Dialog,
    pub invite_tx: TxId,
    pub invite_cseq: u32,
    pub state: LegState,
    pub final_status: Option<u16>,
    pub start: std::time::SystemTime,
    pub answer: Option<std::time::SystemTime>,
    pub destination: String,
    pub sent_cancel: bool,
    /// An adopted leg's own channel variables (what its call had when it was handed over);
    /// `None` for a leg this call rang, which shares the call's.
    pub vars: Option<std::collections::HashMap<String, String>>,
}
