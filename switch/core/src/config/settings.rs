//! The sections of `ferroswitch.toml`: typed settings, their defaults and their validation.
//!
//! Each section is read into a `Raw*` struct (plain TOML types, `deny_unknown_fields`, every
//! field defaulted) and then checked and converted, so that each error names its key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cidr::Cidr;
use super::error::{ConfigError, ConfigErrorKind};
use super::source::Source;

/// `[sip]`: signaling listeners, realm and SIP timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipConfig {
    /// UDP listener (`sip.udp`); `None` when set to `""` or `"off"`.
    pub udp: Option<SocketAddr>,
    /// TCP listener (`sip.tcp`); `None` when set to `""` or `"off"`.
    pub tcp: Option<SocketAddr>,
    /// Digest realm and the domain of local users.
    pub domain: String,
    /// `User-Agent` / `Server` header value.
    pub user_agent: String,
    /// How long a digest nonce stays valid.
    pub nonce_ttl: Duration,
    /// How long an outgoing leg may ring before it is cancelled.
    pub ring_timeout: Duration,
    /// `Max-Forwards` put on requests the switch originates.
    pub max_forwards: u32,
    /// Registrar limits.
    pub register: RegisterConfig,
    /// Brute-force protection for digest authentication.
    pub throttle: ThrottleConfig,
    /// Digest algorithms offered, in order of preference (`SHA-256`, `MD5`).
    pub auth_algorithms: Vec<String>,
    /// Largest SIP message accepted, in bytes.
    pub max_message_size: usize,
}

/// `[sip.register]`: bounds on the expiry of registrations, in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterConfig {
    /// Shorter requested expiries are answered with 423 Interval Too Brief.
    pub min_expires: u32,
    /// Longer requested expiries are shortened to this.
    pub max_expires: u32,
    /// Used when the REGISTER names no expiry.
    pub default_expires: u32,
}

/// `[sip.throttle]`: block a source address after repeated authentication failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures within `window` that trigger a block; 0 disables throttling.
    pub max_failures: u32,
    /// The window in which failures are counted.
    pub window: Duration,
    /// How long a source stays blocked.
    pub block: Duration,
}

/// `[rtp]`: media address, ports and timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpConfig {
    /// Address RTP sockets bind to and that SDP advertises.
    pub ip: IpAddr,
    /// Port range for RTP (RTCP uses the odd port above each even RTP port).
    pub ports: RangeInclusive<u16>,
    /// Hang up a call after this long without received RTP; `None` (0 in the file) disables.
    pub timeout: Option<Duration>,
    /// Whether to send RTP to where it comes from rather than where SDP says.
    pub latch: LatchMode,
}

/// When to latch onto the source address of received RTP (symmetric RTP, for NAT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LatchMode {
    /// Latch when the peer looks NATed (its SDP address differs from its signaling source).
    Auto,
    /// Always latch.
    Always,
    /// Never latch; trust the SDP.
    Never,
}

/// `[acl]`: address-based trust.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AclConfig {
    /// Sources trusted without digest authentication.
    pub trusted: Vec<Cidr>,
}

impl AclConfig {
    /// True if `ip` is in one of the trusted blocks.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }
}

/// `[cdr]`: where call detail records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdrConfig {
    /// SQLite database file; a relative path is relative to the process's current directory.
    pub path: PathBuf,
}

/// `[log]`: logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// One of `error`, `warn`, `info`, `debug`, `trace` (stored in lower case).
    pub level: String,
}

/// The log levels `log.level` accepts.
pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// The digest algorithms `sip.auth_algorithms` accepts.
pub const AUTH_ALGORITHMS: &[&str] = &["SHA-256", "MD5"];

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            udp: Some(SocketAddr::new(LOCALHOST, 5060)),
            tcp: Some(SocketAddr::new(LOCALHOST, 5060)),
            domain: "127.0.0.1".into(),
            user_agent: "ferroswitch".into(),
            nonce_ttl: Duration::from_secs(300),
            ring_timeout: Duration::from_secs(60),
            max_forwards: 70,
            register: RegisterConfig {
                min_expires: 60,
                max_expires: 3600,
                default_expires: 3600,
            },
            throttle: ThrottleConfig {
                max_failures: 5,
                window: Duration::from_secs(60),
                block: Duration::from_secs(60),
            },
            auth_algorithms: AUTH_ALGORITHMS.iter().map(|s| s.to_string()).collect(),
            max_message_size: 65535,
        }
    }
}

impl Default for RtpConfig {
    fn default() -> Self {
        RtpConfig {
            ip: LOCALHOST,
            ports: 16384..=32767,
            timeout: Some(Duration::from_secs(60)),
            latch: LatchMode::Auto,
        }
    }
}

impl Default for CdrConfig {
    fn default() -> Self {
        CdrConfig {
            path: PathBuf::from("var/cdr.sqlite"),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// The whole of `ferroswitch.toml` as plain TOML types.
#[derive(Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawMain {
    sip: RawSip,
    rtp: RawRtp,
    acl: RawAcl,
    cdr: RawCdr,
    log: RawLog,
    media: super::media::RawMedia,
    esl: super::esl::RawEsl,
    lua: super::lua::RawLua,
    vars: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawSip {
    udp: String,
    tcp: String,
    domain: String,
    user_agent: String,
    nonce_ttl: u64,
    ring_timeout: u64,
    max_forwards: u32,
    auth_algorithms: Vec<String>,
    max_message_size: usize,
    register: RawRegister,
    throttle: RawThrottle,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawRegister {
    min_expires: u32,
    max_expires: u32,
    default_expires: u32,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawThrottle {
    max_failures: u32,
    window: u64,
    block: u64,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawRtp {
    ip: String,
    ports: String,
    timeout: u64,
    latch: LatchMode,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawAcl {
    trusted: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawCdr {
    path: String,
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    level: String,
}

// The raw defaults are the typed defaults written as TOML would write them, so the two
// cannot drift apart (a test checks that they convert back).
impl Default for RawSip {
    fn default() -> Self {
        let d = SipConfig::default();
        let addr = |a: Option<SocketAddr>| a.map_or_else(|| "off".to_string(), |a| a.to_string());
        RawSip {
            udp: addr(d.udp),
            tcp: addr(d.tcp),
            domain: d.domain,
            user_agent: d.user_agent,
            nonce_ttl: d.nonce_ttl.as_secs(),
            ring_timeout: d.ring_timeout.as_secs(),
            max_forwards: d.max_forwards,
            auth_algorithms: d.auth_algorithms,
            max_message_size: d.max_message_size,
            register: RawRegister::default(),
            throttle: RawThrottle::default(),
        }
    }
}

impl Default for RawRegister {
    fn default() -> Self {
        let d = SipConfig::default().register;
        RawRegister {
            min_expires: d.min_expires,
            max_expires: d.max_expires,
            default_expires: d.default_expires,
        }
    }
}

impl Default for RawThrottle {
    fn default() -> Self {
        let d = SipConfig::default().throttle;
        RawThrottle {
            max_failures: d.max_failures,
            window: d.window.as_secs(),
            block: d.block.as_secs(),
        }
    }
}

impl Default for RawRtp {
    fn default() -> Self {
        let d = RtpConfig::default();
        RawRtp {
            ip: d.ip.to_string(),
            ports: format!("{}-{}", d.ports.start(), d.ports.end()),
            timeout: d.timeout.map_or(0, |t| t.as_secs()),
            latch: d.latch,
        }
    }
}

impl Default for RawCdr {
    fn default() -> Self {
        RawCdr {
            path: CdrConfig::default().path.to_string_lossy().into_owned(),
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: LogConfig::default().level,
        }
    }
}

/// The validated sections of `ferroswitch.toml`.
pub(crate) struct MainSettings {
    pub sip: SipConfig,
    pub rtp: RtpConfig,
    pub acl: AclConfig,
    pub cdr: CdrConfig,
    pub log: LogConfig,
    pub media: super::media::MediaConfig,
    pub esl: super::esl::EslConfig,
    pub lua: super::lua::LuaConfig,
    pub vars: std::collections::BTreeMap<String, String>,
}

impl RawMain {
    /// Checks every value and converts to typed settings; errors name their key in `src`.
    pub(crate) fn validate(self, src: &Source) -> Result<MainSettings, ConfigError> {
        let bad = |key: &str, msg: String| src.error(key, ConfigErrorKind::InvalidValue, msg);
        Ok(MainSettings {
            sip: self.sip.validate(&bad)?,
            rtp: self.rtp.validate(&bad)?,
            media: self.media.validate(&bad)?,
            acl: AclConfig {
                trusted: (self.acl.trusted.iter().enumerate())
                    .map(|(i, s)| {
                        s.parse()
                            .map_err(|e| bad(&format!("acl.trusted[{i}]"), format!("{e}")))
                    })
                    .collect::<Result<_, _>>()?,
            },
            cdr: match self.cdr.path.trim() {
                "" => return Err(bad("cdr.path", "must not be empty".into())),
                path => CdrConfig {
                    path: PathBuf::from(path),
                },
            },
            esl: self.esl.validate(&bad)?,
            lua: self.lua.validate(&bad)?,
            vars: global_vars(self.vars, &bad)?,
            log: match self.log.level.to_ascii_lowercase() {
                level if LOG_LEVELS.contains(&level.as_str()) => LogConfig { level },
                _ => {
                    let msg = format!(
                        "unknown log level {:?}; expected one of {}",
                        self.log.level,
                        LOG_LEVELS.join(", ")
                    );
                    return Err(bad("log.level", msg));
                }
            },
        })
    }
}

type Bad<'a> = dyn Fn(&str, String) -> ConfigError + 'a;

/// `[vars]`: global variables (FreeSWITCH's vars.xml), each a string, number or boolean.
fn global_vars(
    raw: std::collections::BTreeMap<String, toml::Value>,
    bad: &Bad,
) -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
    raw.into_iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(bad(
                        &format!("vars.{k}"),
                        format!(
                            "must be a string, number or boolean, not a {}",
                            other.type_str()
                        ),
                    ))
                }
            };
            Ok((k, text))
        })
        .collect()
}

impl RawSip {
    fn validate(self, bad: &Bad) -> Result<SipConfig, ConfigError> {
        let listener = |key: &str, value: &str| match value.trim() {
            "" | "off" => Ok(None),
            v => v.parse().map(Some).map_err(|_| {
                bad(
                    key,
                    format!("invalid socket address {value:?}: expected IP:PORT, \"off\" or \"\""),
                )
            }),
        };
        if self.domain.trim().is_empty() {
            return Err(bad("sip.domain", "must not be empty".into()));
        }
        if self.user_agent.contains(['\r', '\n']) {
            return Err(bad("sip.user_agent", "must not contain line breaks".into()));
        }
        positive(bad, "sip.nonce_ttl", self.nonce_ttl)?;
        positive(bad, "sip.ring_timeout", self.ring_timeout)?;
        if !(1..=255).contains(&self.max_forwards) {
            return Err(bad(
                "sip.max_forwards",
                format!("{} is outside 1..=255", self.max_forwards),
            ));
        }
        if !(1024..=1 << 20).contains(&self.max_message_size) {
            let msg = format!("{} is outside 1024..=1048576 bytes", self.max_message_size);
            return Err(bad("sip.max_message_size", msg));
        }
        if self.auth_algorithms.is_empty() {
            return Err(bad(
                "sip.auth_algorithms",
                "needs at least one algorithm (SHA-256, MD5)".into(),
            ));
        }
        for (i, alg) in self.auth_algorithms.iter().enumerate() {
            let key = format!("sip.auth_algorithms[{i}]");
            if !AUTH_ALGORITHMS.contains(&alg.as_str()) {
                return Err(bad(
                    &key,
                    format!("unknown digest algorithm {alg:?}; expected SHA-256 or MD5"),
                ));
            }
            if self.auth_algorithms[..i].contains(alg) {
                return Err(bad(&key, format!("{alg} is listed twice")));
            }
        }
        let r = &self.register;
        if r.min_expires == 0 {
            return Err(bad("sip.register.min_expires", "must be at least 1".into()));
        }
        if r.max_expires < r.min_expires {
            let msg = format!("{} is below min_expires ({})", r.max_expires, r.min_expires);
            return Err(bad("sip.register.max_expires", msg));
        }
        if !(r.min_expires..=r.max_expires).contains(&r.default_expires) {
            let msg = format!(
                "{} is outside min_expires..=max_expires ({}..={})",
                r.default_expires, r.min_expires, r.max_expires
            );
            return Err(bad("sip.register.default_expires", msg));
        }
        let t = &self.throttle;
        if t.max_failures > 0 {
            positive(bad, "sip.throttle.window", t.window)?;
            positive(bad, "sip.throttle.block", t.block)?;
        }
        Ok(SipConfig {
            udp: listener("sip.udp", &self.udp)?,
            tcp: listener("sip.tcp", &self.tcp)?,
            domain: self.domain.trim().to_string(),
            user_agent: self.user_agent,
            nonce_ttl: Duration::from_secs(self.nonce_ttl),
            ring_timeout: Duration::from_secs(self.ring_timeout),
            max_forwards: self.max_forwards,
            register: RegisterConfig {
                min_expires: r.min_expires,
                max_expires: r.max_expires,
                default_expires: r.default_expires,
            },
            throttle: ThrottleConfig {
                max_failures: t.max_failures,
                window: Duration::from_secs(t.window),
                block: Duration::from_secs(t.block),
            },
            auth_algorithms: self.auth_algorithms,
            max_message_size: self.max_message_size,
        })
    }
}

fn positive(bad: &Bad, key: &str, secs: u64) -> Result<(), ConfigError> {
    match secs {
        0 => Err(bad(key, "must be at least 1 second".into())),
        _ => Ok(()),
    }
}

impl RawRtp {
    fn validate(self, bad: &Bad) -> Result<RtpConfig, ConfigError> {
        let ip: IpAddr = (self.ip.trim().parse())
            .map_err(|_| bad("rtp.ip", format!("invalid IP address {:?}", self.ip)))?;
        if ip.is_unspecified() {
            return Err(bad(
                "rtp.ip",
                format!("{ip} cannot be advertised in SDP; name the address to use"),
            ));
        }
        Ok(RtpConfig {
            ip,
            ports: port_range(&self.ports).map_err(|msg| bad("rtp.ports", msg))?,
            timeout: (self.timeout > 0).then(|| Duration::from_secs(self.timeout)),
            latch: self.latch,
        })
    }
}

/// Parses `START-END` with an even START above 1024 and START < END.
fn port_range(s: &str) -> Result<RangeInclusive<u16>, String> {
    let parse = |p: &str| p.trim().parse::<u16>().ok();
    let (start, end) = s
        .split_once('-')
        .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
        .ok_or_else(|| {
            format!("invalid port range {s:?}: expected START-END, e.g. \"16384-32767\"")
        })?;
    if start <= 1024 {
        return Err(format!("port range {s:?} must start above 1024"));
    }
    if start % 2 != 0 {
        return Err(format!(
            "port range {s:?} must start on an even port (RTP even, RTCP odd)"
        ));
    }
    if start >= end {
        return Err(format!(
            "port range {s:?} is empty: START must be below END"
        ));
    }
    Ok(start..=end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_defaults_convert_to_the_typed_defaults() {
        let src = Source::parse(std::path::Path::new("t.toml"), String::new()).unwrap();
        let s = RawMain::default().validate(&src).unwrap();
        assert_eq!(s.sip, SipConfig::default());
        assert_eq!(s.rtp, RtpConfig::default());
        assert_eq!(s.acl, AclConfig::default());
        assert_eq!(s.cdr, CdrConfig::default());
        assert_eq!(s.log, LogConfig::default());
        assert_eq!(s.esl, super::super::esl::EslConfig::default());
        assert_eq!(s.lua, super::super::lua::LuaConfig::default());
        assert!(s.vars.is_empty());
    }

    #[test]
    fn port_range_rules() {
        assert_eq!(port_range("20000-20999"), Ok(20000..=20999));
        assert_eq!(port_range(" 1026 - 1100 "), Ok(1026..=1100));
        for bad in [
            "",
            "20000",
            "20000-",
            "a-b",
            "1024-2000",
            "20001-20999",
            "20000-20000",
            "30000-20000",
            "2-70000",
        ] {
            assert!(port_range(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn acl_trusts_only_listed_blocks() {
        let acl = AclConfig {
            trusted: vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()],
        };
        assert!(acl.is_trusted("10.9.8.7".parse().unwrap()));
        assert!(acl.is_trusted("::1".parse().unwrap()));
        assert!(!acl.is_trusted("192.168.0.1".parse().unwrap()));
        assert!(!AclConfig::default().is_trusted("127.0.0.1".parse().unwrap()));
    }
}
