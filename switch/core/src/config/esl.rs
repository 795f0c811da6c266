//! `[esl]`: the event socket (FreeSWITCH's mod_event_socket, inbound mode).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cidr::Cidr;
use super::error::ConfigError;

/// The password FreeSWITCH ships with; the switch warns at start while it is unchanged.
pub const DEFAULT_ESL_PASSWORD: &str = "ClueCon";

/// `[esl]`: where the event socket listens, who may connect and with what password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EslConfig {
    /// `esl.listen`; `None` when `"off"` or `""`.
    pub listen: Option<SocketAddr>,
    /// `esl.password`: what `auth <password>` must say.
    pub password: String,
    /// `esl.acl`: source blocks allowed to connect (others get `rude/rejection`).
    pub acl: Vec<Cidr>,
    /// `esl.heartbeat`: period of the HEARTBEAT event; `None` (0 in the file) disables it.
    pub heartbeat: Option<Duration>,
    /// `esl.event_queue`: events queued for one client before it loses them (counted,
    /// and told with a TRAP event once it catches up).
    pub event_queue: usize,
}

impl EslConfig {
    /// Whether `ip` may connect.
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        self.acl.iter().any(|c| c.contains(ip))
    }
}

impl Default for EslConfig {
    fn default() -> Self {
        EslConfig {
            listen: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 8021))),
            password: DEFAULT_ESL_PASSWORD.into(),
            acl: vec![
                "127.0.0.0/8".parse().unwrap_or_else(|_| unreachable!()),
                "::1/128".parse().unwrap_or_else(|_| unreachable!()),
            ],
            heartbeat: Some(Duration::from_secs(20)),
            event_queue: crate::event::DEFAULT_QUEUE,
        }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawEsl {
    listen: String,
    password: String,
    acl: Vec<String>,
    heartbeat: u64,
    event_queue: usize,
}

impl Default for RawEsl {
    fn default() -> Self {
        let d = EslConfig::default();
        RawEsl {
            listen: d.listen.map_or_else(|| "off".into(), |a| a.to_string()),
            password: d.password,
            acl: d.acl.iter().map(|c| c.to_string()).collect(),
            heartbeat: d.heartbeat.map_or(0, |h| h.as_secs()),
            event_queue: d.event_queue,
        }
    }
}

impl RawEsl {
    pub(crate) fn validate(
        self,
        bad: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<EslConfig, ConfigError> {
        let listen = match self.listen.trim() {
            "" | "off" => None,
            v => Some(v.parse().map_err(|_| {
                bad(
                    "esl.listen",
                    format!(
                        "invalid socket address {:?}: expected IP:PORT, \"off\" or \"\"",
                        self.listen
                    ),
                )
            })?),
        };
        if self.password.is_empty() {
            return Err(bad("esl.password", "must not be empty".into()));
        }
        if self.password.contains(['\r', '\n']) {
            return Err(bad("esl.password", "must not contain line breaks".into()));
        }
        let acl = (self.acl.iter().enumerate())
            .map(|(i, s)| {
                s.parse()
                    .map_err(|e| bad(&format!("esl.acl[{i}]"), format!("{e}")))
            })
            .collect::<Result<_, _>>()?;
        if !(1..=1_000_000).contains(&self.event_queue) {
            return Err(bad(
                "esl.event_queue",
                format!("{} is out of range 1-1000000", self.event_queue),
            ));
        }
        Ok(EslConfig {
            listen,
            password: self.password,
            acl,
            heartbeat: (self.heartbeat > 0).then(|| Duration::from_secs(self.heartbeat)),
            event_queue: self.event_queue,
        })
    }
}
