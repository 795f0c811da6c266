//! The registrar (RFC 3261 section 10): bindings of users to contacts, with expiry.
//!
//! Bindings live in a shared map that call tasks read to find a callee's contacts; only the
//! SIP task writes it.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};
use switch_sip::message::{Contact, Request, Response};
use switch_sip::transaction::Peer;

use crate::config::RegisterConfig;

/// One registered contact of a user.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The Contact value as registered (name-addr form).
    pub contact: String,
    /// The contact URI, where calls are sent.
    pub uri: switch_sip::message::Uri,
    /// Where the REGISTER came from: calls are sent there (NAT friendly).
    pub source: Peer,
    pub expires_at: Instant,
    pub call_id: String,
    pub cseq: u32,
    pub user_agent: String,
    pub registered_at: SystemTime,
}

/// Every user's bindings.
#[derive(Default, Debug)]
pub struct Registrations {
    map: RwLock<HashMap<String, Vec<Binding>>>,
}

impl Registrations {
    /// The live bindings of a user.
    pub fn lookup(&self, user: &str, now: Instant) -> Vec<Binding> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(user)
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default()
    }

    /// Every (user, binding), for `show registrations`.
    pub fn all(&self) -> Vec<(String, Binding)> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, Binding)> = map
            .iter()
            .flat_map(|(u, bs)| bs.iter().map(move |b| (u.clone(), b.clone())))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Drops expired bindings; returns how many went.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let mut removed = 0;
        map.retain(|_, bs| {
            let before = bs.len();
            bs.retain(|b| b.expires_at > now);
            removed += before - bs.len();
            !bs.is_empty()
        });
        removed
    }

    /// Handles an authenticated REGISTER for `user` and builds the response.
    pub fn register(
        &self,
        req: &Request,
        user: &str,
        source: Peer,
        cfg: &RegisterConfig,
        now: Instant,
    ) -> Response {
        let default_expires = req
            .headers
            .get("Expires")
            .and_then(|e| e.trim().parse::<u32>().ok())
            .unwrap_or(cfg.default_expires);
        let call_id = req.call_id().unwrap_or_default().to_string();
        let cseq = req.cseq().map(|c| c.seq).unwrap_or(0);
        let user_agent = req.headers.get("User-Agent").unwrap_or("").to_string();
        let mut contacts = Vec::new();
        for value in req.headers.get_all("Contact") {
            match Contact::parse(value) {
                Ok(c) => contacts.push(c),
                Err(e) => {
                    let mut r = req.response(400, None);
                    r.reason = format!("Bad Contact: {e}");
                    return r;
                }
            }
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let bindings = map.entry(user.to_string()).or_default();
        bindings.retain(|b| b.expires_at > now);
        if contacts.iter().any(|c| matches!(c, Contact::Star)) {
            // RFC 3261 10.3 step 6: '*' only alone and with Expires: 0.
            if contacts.len() != 1 || default_expires != 0 {
                return req.response(400, None);
            }
            bindings.clear();
        }
        for c in contacts {
            let Contact::Addr(na) = c else { continue };
            let expires = na
                .params
                .get("expires")
                .flatten()
                .and_then(|e| e.parse::<u32>().ok())
                .unwrap_or(default_expires);
            let uri_s = na.uri.to_string();
            let existing = bindings.iter().position(|b| b.uri.to_string() == uri_s);
            if let Some(i) = existing {
                // An older or repeated REGISTER of the same Call-ID must not win (10.3 step 7).
                if bindings[i].call_id == call_id && cseq <= bindings[i].cseq {
                    continue;
                }
            }
            if expires == 0 {
                if let Some(i) = existing {
                    bindings.remove(i);
                }
                continue;
            }
            if expires < cfg.min_expires {
                let mut r = req.response(423, None);
                r.headers.push("Min-Expires", &cfg.min_expires.to_string());
                return r;
            }
            let expires = expires.min(cfg.max_expires);
            let binding = Binding {
                contact: format!("<{}>", na.uri),
                uri: na.uri.clone(),
                source,
                expires_at: now + Duration::from_secs(u64::from(expires)),
                call_id: call_id.clone(),
                cseq,
                user_agent: user_agent.clone(),
                registered_at: SystemTime::now(),
            };
            match existing {
                Some(i) => bindings[i] = binding,
                None => bindings.push(binding),
            }
        }
        let mut resp = req.response(200, None);
        for b in bindings.iter() {
            let left = b.expires_at.saturating_duration_since(now).as_secs();
            resp.headers
                .push("Contact", &format!("{};expires={left}", b.contact));
        }
        if bindings.is_empty() {
            map.remove(user);
        }
        resp
    }
}
