//! Digest authentication of REGISTER and INVITE against the directory, with throttling of
//! sources that keep failing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use switch_sip::auth::{challenge, verify, Algorithm, Credentials, NonceSecret, NonceStatus};
use switch_sip::message::Request;

use crate::config::{Directory, SipConfig};

/// What to do with a request after looking at its credentials.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are good for this directory user.
    Authorized(String),
    /// No usable credentials: challenge (with stale=true when the nonce merely expired).
    Challenge { stale: bool },
    /// Wrong password, unknown user or a user that is not the one registered: 403.
    Forbidden(String),
    /// The source failed too often lately: 403 without looking.
    Throttled,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    window_start: Instant,
    blocked_until: Option<Instant>,
}

/// Checks digest credentials; owned by the SIP task.
pub struct Authenticator {
    secret: NonceSecret,
    realm: String,
    nonce_ttl: u64,
    algorithms: Vec<Algorithm>,
    max_failures: u32,
    window: Duration,
    block: Duration,
    failures: HashMap<IpAddr, Failures>,
}

impl Authenticator {
    /// An authenticator with a fresh nonce secret.
    pub fn new(cfg: &SipConfig) -> Authenticator {
        let algorithms = cfg
            .auth_algorithms
            .iter()
            .filter_map(|a| match a.as_str() {
                "MD5" => Some(Algorithm::Md5),
                "SHA-256" => Some(Algorithm::Sha256),
                _ => None,
            })
            .collect();
        Authenticator {
            secret: NonceSecret::new(),
            realm: cfg.domain.clone(),
            nonce_ttl: cfg.nonce_ttl.as_secs(),
            algorithms,
            max_failures: cfg.throttle.max_failures,
            window: cfg.throttle.window,
            block: cfg.throttle.block,
            failures: HashMap::new(),
        }
    }

    /// Checks the request's `Authorization` (or `Proxy-Authorization` when `proxy`).
    pub fn check(
        &mut self,
        req: &Request,
        proxy: bool,
        directory: &Directory,
        ip: IpAddr,
        now: Instant,
        unix: u64,
    ) -> Verdict {
        if let Some(f) = self.failures.get(&ip) {
            if f.blocked_until.is_some_and(|t| t > now) {
                return Verdict::Throttled;
            }
        }
        let header = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        // A request may carry credentials for several realms; use the one for ours.
        let creds = req
            .headers
            .get_all(header)
            .filter_map(|v| Credentials::parse(v).ok())
            .find(|c| c.realm == self.realm);
        let Some(creds) = creds else {
            return Verdict::Challenge { stale: false };
        };
        match self.secret.check(&creds.nonce, unix, self.nonce_ttl) {
            NonceStatus::Valid => {}
            NonceStatus::Stale => return Verdict::Challenge { stale: true },
            NonceStatus::Invalid => return Verdict::Challenge { stale: false },
        }
        let verdict = match directory.user(&creds.username) {
            None => Verdict::Forbidden(format!("unknown user {:?}", creds.username)),
            Some(user) if verify(&creds, req.method.as_str(), &user.password) => {
                Verdict::Authorized(user.id.clone())
            }
            Some(_) => Verdict::Forbidden(format!("wrong password for {:?}", creds.username)),
        };
        if matches!(verdict, Verdict::Forbidden(_)) {
            self.record_failure(ip, now);
        }
        verdict
    }

    fn record_failure(&mut self, ip: IpAddr, now: Instant) {
        let f = self.failures.entry(ip).or_insert(Failures {
            count: 0,
            window_start: now,
            blocked_until: None,
        });
        if now.duration_since(f.window_start) > self.window {
            f.count = 0;
            f.window_start = now;
        }
        f.count += 1;
        if f.count >= self.max_failures {
            f.blocked_until = Some(now + self.block);
            tracing::warn!(
                source = %ip,
                failures = f.count,
                "authentication failures: blocking source for {:?}",
                self.block
            );
        }
    }

    /// Forgets old failure records.
    pub fn sweep(&mut self, now: Instant) {
        let window = self.window;
        self.failures.retain(|_, f| {
            f.blocked_until.is_some_and(|t| t > now) || now.duration_since(f.window_start) < window
        });
    }

    /// The challenge header values, one per configured algorithm in order of preference.
    pub fn challenges(&self, stale: bool, unix: u64) -> Vec<String> {
        let nonce = self.secret.issue(unix);
        self.algorithms
            .iter()
            .map(|a| challenge(&self.realm, &nonce, *a, stale, None).to_string())
            .collect()
    }
}
