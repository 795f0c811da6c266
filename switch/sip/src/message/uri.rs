//! SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966); other schemes kept opaque.

use super::typed::Params;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// A URI scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    /// Any other absolute URI scheme, lower-cased (e.g. `http`, `urn`).
    Other(String),
}

/// The host part of a SIP URI: a name, an IPv4 address or a bracketed IPv6 reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host(pub String);

impl Host {
    /// The host as an IP address, when it is one (brackets removed for IPv6).
    pub fn ip(&self) -> Option<IpAddr> {
        let s = self.0.trim_start_matches('[').trim_end_matches(']');
        s.parse().ok()
    }
}

/// A parsed URI. For `tel:` the number is in `user` and `host` is empty; for other schemes
/// everything after the colon is kept in `opaque`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// The `?` headers part, raw.
    pub headers: Option<String>,
    /// The scheme-specific part of a non-SIP, non-tel URI.
    pub opaque: Option<String>,
}

/// Why a URI did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriError(pub String);

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad URI: {}", self.0)
    }
}

impl std::error::Error for UriError {}

impl Uri {
    /// A `sip:` URI for `user@host:port`.
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        Uri {
            scheme: Scheme::Sip,
            user: user.map(str::to_string),
            password: None,
            host: Host(host.to_string()),
            port,
            params: Params::default(),
            headers: None,
            opaque: None,
        }
    }

    /// Parses an absolute URI.
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        let s = s.trim();
        if s.bytes()
            .any(|b| b <= b' ' || b == b'<' || b == b'>' || b == b'"')
        {
            return Err(UriError(format!("illegal character in {s:?}")));
        }
        let colon = s
            .find(':')
            .ok_or_else(|| UriError(format!("no scheme in {s:?}")))?;
        let scheme_str = &s[..colon];
        if scheme_str.is_empty()
            || !scheme_str.as_bytes()[0].is_ascii_alphabetic()
            || !scheme_str
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(UriError(format!("bad scheme in {s:?}")));
        }
        let rest = &s[colon + 1..];
        let scheme = match scheme_str.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            "tel" => Scheme::Tel,
            other => Scheme::Other(other.to_string()),
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(scheme, rest),
            Scheme::Tel => {
                let (number, params) = split_params(rest);
                if number.is_empty() {
                    return Err(UriError("empty tel number".into()));
                }
                Ok(Uri {
                    scheme,
                    user: Some(number.to_string()),
                    password: None,
                    host: Host(String::new()),
                    port: None,
                    params: Params::parse_list(params)
                        .map_err(|e| UriError(format!("tel params: {e}")))?,
                    headers: None,
                    opaque: None,
                })
            }
            Scheme::Other(_) => {
                if rest.is_empty() {
                    return Err(UriError(format!("empty URI {s:?}")));
                }
                Ok(Uri {
                    scheme,
                    user: None,
                    password: None,
                    host: Host(String::new()),
                    port: None,
                    params: Params::default(),
                    headers: None,
                    opaque: Some(rest.to_string()),
                })
            }
        }
    }

    /// `host:port` or `host` for building Vias and destinations.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host.0),
            None => self.host.0.clone(),
        }
    }

    /// The user part with `%HH` escapes undone (RFC 3261 19.1.4 compares users this way).
    /// Bytes, not a string: an escaped NUL is a legal, significant part of a user
    /// (RFC 4475 escnull), and the result need not be UTF-8.
    pub fn user_unescaped(&self) -> Option<Cow<'_, [u8]>> {
        self.user.as_deref().map(unescape)
    }

    /// The URI's transport parameter, lower-cased.
    pub fn transport(&self) -> Option<String> {
        self.params
            .get("transport")
            .flatten()
            .map(|t| t.to_ascii_lowercase())
    }
}

fn parse_sip(scheme: Scheme, rest: &str) -> Result<Uri, UriError> {
    // '@' cannot appear unescaped in params or headers, so the first one ends the userinfo.
    let (userinfo, hostpart) = match rest.find('@') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        Some(ui) => {
            if ui.is_empty() {
                return Err(UriError("empty user before '@'".into()));
            }
            match ui.find(':') {
                Some(i) => (Some(ui[..i].to_string()), Some(ui[i + 1..].to_string())),
                None => (Some(ui.to_string()), None),
            }
        }
        None => (None, None),
    };
    let (hostpart, headers) = match hostpart.find('?') {
        Some(i) => (&hostpart[..i], Some(hostpart[i + 1..].to_string())),
        None => (hostpart, None),
    };
    let (hostport, params) = split_params(hostpart);
    let (host, port) = split_host_port(hostport)?;
    Ok(Uri {
        scheme,
        user,
        password,
        host,
        port,
        params: Params::parse_list(params).map_err(|e| UriError(format!("params: {e}")))?,
        headers,
        opaque: None,
    })
}

/// Undoes `%HH` escapes once (never recursively: `%2541` gives `%41`, RFC 4475 esc01).
/// A `%` not followed by two hex digits is kept as it is. Borrows when there is no `%`.
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    let bytes = s.as_bytes();
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Splits `x;a=b;c` into `x` and `;a=b;c`.
fn split_params(s: &str) -> (&str, &str) {
    match s.find(';') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// Parses `host[:port]`, with IPv6 references in brackets.
pub(crate) fn split_host_port(s: &str) -> Result<(Host, Option<u16>), UriError> {
    let (host, port) = if let Some(stripped) = s.strip_prefix('[') {
        let end = stripped
            .find(']')
            .ok_or_else(|| UriError(format!("unterminated IPv6 reference {s:?}")))?;
        let addr = &stripped[..end];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UriError(format!("bad IPv6 address {addr:?}")));
        }
        let after = &stripped[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UriError(format!("junk after IPv6 reference {s:?}"))),
        };
        (format!("[{addr}]"), port)
    } else {
        match s.rfind(':') {
            Some(i) => (s[..i].to_string(), Some(&s[i + 1..])),
            None => (s.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(UriError("empty host".into()));
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(UriError(format!("bad host {host:?}")));
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| UriError(format!("bad port {p:?}")))?,
        ),
        None => None,
    };
    Ok((Host(host), port))
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scheme {
            Scheme::Sip => f.write_str("sip:")?,
            Scheme::Sips => f.write_str("sips:")?,
            Scheme::Tel => {
                f.write_str("tel:")?;
                f.write_str(self.user.as_deref().unwrap_or(""))?;
                return write!(f, "{}", self.params);
            }
            Scheme::Other(s) => {
                return write!(f, "{s}:{}", self.opaque.as_deref().unwrap_or(""));
            }
        }
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host.0)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}
