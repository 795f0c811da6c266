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
        UriRef::parse(s).map(|u| u.to_owned())
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

/// The scheme of a [`UriRef`]; `Other` as written (its owned form is lower-cased).
#[derive(Clone, Copy, Debug)]
pub(crate) enum SchemeRef<'a> {
    Sip,
    Sips,
    Tel,
    Other(&'a str),
}

/// A URI checked against the grammar, its parts borrowed from the text. It is how every
/// URI is parsed: validating a message needs no more (and so allocates nothing), and
/// [`Uri::parse`] copies the parts out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UriRef<'a> {
    pub scheme: SchemeRef<'a>,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    /// Empty for tel and opaque URIs; an IPv6 reference keeps its brackets.
    pub host: &'a str,
    pub port: Option<u16>,
    /// The `;a=b;c` parameters, already checked.
    pub params: &'a str,
    pub headers: Option<&'a str>,
    pub opaque: Option<&'a str>,
}

impl<'a> UriRef<'a> {
    pub(crate) fn parse(s: &'a str) -> Result<UriRef<'a>, UriError> {
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
        let scheme = if scheme_str.eq_ignore_ascii_case("sip") {
            SchemeRef::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            SchemeRef::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            SchemeRef::Tel
        } else {
            SchemeRef::Other(scheme_str)
        };
        let mut uri = UriRef {
            scheme,
            user: None,
            password: None,
            host: "",
            port: None,
            params: "",
            headers: None,
            opaque: None,
        };
        match scheme {
            SchemeRef::Sip | SchemeRef::Sips => uri.sip_parts(rest)?,
            SchemeRef::Tel => {
                let (number, params) = split_params(rest);
                if number.is_empty() {
                    return Err(UriError("empty tel number".into()));
                }
                Params::check_list(params).map_err(|e| UriError(format!("tel params: {e}")))?;
                uri.user = Some(number);
                uri.params = params;
            }
            SchemeRef::Other(_) => {
                if rest.is_empty() {
                    return Err(UriError(format!("empty URI {s:?}")));
                }
                uri.opaque = Some(rest);
            }
        }
        Ok(uri)
    }

    fn sip_parts(&mut self, rest: &'a str) -> Result<(), UriError> {
        // '@' cannot appear unescaped in params or headers, so the first one ends the
        // userinfo.
        let hostpart = match rest.find('@') {
            Some(i) => {
                let ui = &rest[..i];
                if ui.is_empty() {
                    return Err(UriError("empty user before '@'".into()));
                }
                match ui.find(':') {
                    Some(c) => {
                        self.user = Some(&ui[..c]);
                        self.password = Some(&ui[c + 1..]);
                    }
                    None => self.user = Some(ui),
                }
                &rest[i + 1..]
            }
            None => rest,
        };
        let hostpart = match hostpart.find('?') {
            Some(i) => {
                self.headers = Some(&hostpart[i + 1..]);
                &hostpart[..i]
            }
            None => hostpart,
        };
        let (hostport, params) = split_params(hostpart);
        (self.host, self.port) = split_host_port(hostport)?;
        Params::check_list(params).map_err(|e| UriError(format!("params: {e}")))?;
        self.params = params;
        Ok(())
    }

    /// The owned [`Uri`].
    pub(crate) fn to_owned(self) -> Uri {
        let scheme = match self.scheme {
            SchemeRef::Sip => Scheme::Sip,
            SchemeRef::Sips => Scheme::Sips,
            SchemeRef::Tel => Scheme::Tel,
            SchemeRef::Other(s) => Scheme::Other(s.to_ascii_lowercase()),
        };
        Uri {
            scheme,
            user: self.user.map(str::to_string),
            password: self.password.map(str::to_string),
            host: Host(self.host.to_string()),
            port: self.port,
            params: Params::from_checked(self.params),
            headers: self.headers.map(str::to_string),
            opaque: self.opaque.map(str::to_string),
        }
    }
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

/// Parses `host[:port]`, with IPv6 references in brackets (which the host keeps).
pub(crate) fn split_host_port(s: &str) -> Result<(&str, Option<u16>), UriError> {
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
        // `[addr]`: the brackets are the first and the (end + 2)th byte.
        (&s[..end + 2], port)
    } else {
        match s.rfind(':') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
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
    Ok((host, port))
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
