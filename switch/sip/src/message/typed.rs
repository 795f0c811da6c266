//! Typed views of the headers a switch relies on: Via, From/To/Contact (name-addr), CSeq,
//! and the `;name=value` parameter lists they carry.

use super::uri::{split_host_port, Host, Uri, UriRef};
use super::Method;
use std::borrow::Cow;
use std::fmt;

/// An ordered `;name[=value]` parameter list. Names compare case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

impl Params {
    /// Parses `;a=b;c;d="x y"` (leading `;` optional, LWS around separators tolerated).
    pub fn parse_list(s: &str) -> Result<Params, String> {
        let mut out = Vec::new();
        for_each_param(s, |name, value| {
            out.push((name.to_string(), value.map(str::to_string)))
        })?;
        Ok(Params(out))
    }

    /// Checks a parameter list as [`Params::parse_list`] does, without building it.
    pub(crate) fn check_list(s: &str) -> Result<(), String> {
        for_each_param(s, |_, _| {})
    }

    /// The list of a text [`Params::check_list`] accepted.
    pub(crate) fn from_checked(s: &str) -> Params {
        // Cannot fail on checked text; should it ever, what was read so far is kept.
        let mut out = Vec::new();
        let _ = for_each_param(s, |name, value| {
            out.push((name.to_string(), value.map(str::to_string)))
        });
        Params(out)
    }

    /// `Some(value)` when the parameter is present (`Some(None)` when it has no value).
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// True when the parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets (or adds) a parameter.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// Removes a parameter.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

/// Checks `;a=b;c;d="x y"` and calls `each` with every name and value, as written.
fn for_each_param<'a>(
    s: &'a str,
    mut each: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(), String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(());
    }
    let s = s.strip_prefix(';').unwrap_or(s);
    for_each_split(s, b';', |part| {
        let part = part.trim();
        if part.is_empty() {
            return Err("empty parameter".into());
        }
        let (name, value) = match part.find('=') {
            Some(i) => (part[..i].trim(), Some(part[i + 1..].trim())),
            None => (part, None),
        };
        if name.is_empty() || !name.bytes().all(param_name_byte) {
            return Err(format!("bad parameter name {name:?}"));
        }
        match value {
            Some(v) if v.starts_with('"') && (v.len() < 2 || !v.ends_with('"')) => {
                return Err(format!("unterminated quoted value in {part:?}"));
            }
            Some(v)
                if !v.starts_with('"')
                    && (v.is_empty() || v.bytes().any(|b| b <= b' ' || b == b'"')) =>
            {
                return Err(format!("bad parameter value in {part:?}"));
            }
            _ => {}
        }
        each(name, value);
        Ok(())
    })
}

fn param_name_byte(b: u8) -> bool {
    super::is_token_byte(b) || b"[]/:&+$".contains(&b)
}

/// Splits on `sep` outside double quotes and angle brackets.
pub(crate) fn split_outside_quotes(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::with_capacity(4);
    let _ = for_each_split(s, sep, |p| {
        parts.push(p);
        Ok::<(), std::convert::Infallible>(())
    });
    parts
}

/// Calls `each` with every part of `s` split on `sep` outside double quotes and angle
/// brackets, stopping at its first error.
fn for_each_split<'a, E>(
    s: &'a str,
    sep: u8,
    mut each: impl FnMut(&'a str) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = s.as_bytes();
    // Most values (a Via, a URI's parameters) have no quote, angle bracket or escape: then
    // every `sep` splits, and memchr finds them without looking at each byte.
    if memchr::memchr3(b'"', b'<', b'\\', bytes).is_none() {
        let mut start = 0;
        for i in memchr::memchr_iter(sep, bytes) {
            each(&s[start..i])?;
            start = i + 1;
        }
        return each(&s[start..]);
    }
    let (mut start, mut quoted, mut angle, mut escaped) = (0, false, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            _ if b == sep && !quoted && !angle => {
                each(&s[start..i])?;
                start = i + 1;
            }
            _ => {}
        }
    }
    each(&s[start..])
}

/// A Via header value (RFC 3261 section 20.42).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS.
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    /// Parses one Via value such as `SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport`.
    pub fn parse(s: &str) -> Result<Via, String> {
        Via::read(s, |transport, host, port, params| Via {
            transport: transport.to_ascii_uppercase(),
            host: Host(host.to_string()),
            port,
            params: Params::from_checked(params),
        })
    }

    /// Checks a Via value as [`Via::parse`] does, without building it.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        Via::read(s, |_, _, _, _| ())
    }

    /// Checks `s` and gives its transport, host, port and (checked) parameters to `build`.
    fn read<T>(
        s: &str,
        build: impl FnOnce(&str, &str, Option<u16>, &str) -> T,
    ) -> Result<T, String> {
        let mut rest = s.trim();
        let mut proto = [""; 3];
        for (i, slot) in proto.iter_mut().enumerate() {
            if i < 2 {
                let slash = rest.find('/').ok_or("Via: missing '/'")?;
                *slot = rest[..slash].trim();
                rest = rest[slash + 1..].trim_start();
            } else {
                let end = rest.find([' ', '\t']).ok_or("Via: missing sent-by")?;
                *slot = &rest[..end];
                rest = rest[end..].trim_start();
            }
        }
        if !proto[0].eq_ignore_ascii_case("SIP") || proto[1] != "2.0" {
            return Err(format!(
                "Via: unsupported protocol {}/{}",
                proto[0], proto[1]
            ));
        }
        if proto[2].is_empty() || !proto[2].bytes().all(super::is_token_byte) {
            return Err("Via: bad transport".into());
        }
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        // LWS is allowed around the ':' of sent-by.
        let sent_by: Cow<'_, str> = if sent_by.contains(char::is_whitespace) {
            Cow::Owned(sent_by.chars().filter(|c| !c.is_whitespace()).collect())
        } else {
            Cow::Borrowed(sent_by)
        };
        let (host, port) = split_host_port(&sent_by).map_err(|e| format!("Via: {}", e.0))?;
        Params::check_list(params).map_err(|e| format!("Via: {e}"))?;
        Ok(build(proto[2], host, port, params))
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// True when the branch is an RFC 3261 transaction id: the magic cookie `z9hG4bK`
    /// followed by at least one character. A bare cookie (RFC 4475 badbranch) identifies
    /// nothing, so such a request is matched the RFC 2543 way (RFC 3261 17.2.3).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .and_then(|b| b.strip_prefix("z9hG4bK"))
            .is_some_and(|id| !id.is_empty())
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host.0)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// A name-addr or addr-spec with header parameters: the value of From, To, Contact,
/// Route and Record-Route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name as written (quotes kept when it was quoted).
    pub display: Option<String>,
    pub uri: Uri,
    pub params: Params,
}

impl NameAddr {
    /// A name-addr for `uri` with no display name and no parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Params::default(),
        }
    }

    /// Parses a From/To/Contact style value.
    pub fn parse(s: &str) -> Result<NameAddr, String> {
        NameAddrRef::parse(s).map(|n| NameAddr {
            display: n.display.map(str::to_string),
            uri: n.uri.to_owned(),
            params: Params::from_checked(n.params),
        })
    }

    /// Checks a From/To/Contact style value as [`NameAddr::parse`] does, without building
    /// it.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        NameAddrRef::parse(s).map(|_| ())
    }

    /// The tag parameter.
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }

    /// The display name as text: a quoted string loses its quotes and its quoted-pairs
    /// (`\"` becomes `"`), a run of tokens is returned as written.
    pub fn display_unquoted(&self) -> Option<Cow<'_, str>> {
        let d = self.display.as_deref()?;
        let Some(inner) = d.strip_prefix('"').and_then(|d| d.strip_suffix('"')) else {
            return Some(Cow::Borrowed(d));
        };
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        Some(Cow::Owned(out))
    }
}

/// A name-addr checked against the grammar, its parts borrowed from the text.
struct NameAddrRef<'a> {
    display: Option<&'a str>,
    uri: UriRef<'a>,
    /// The header parameters, already checked.
    params: &'a str,
}

impl<'a> NameAddrRef<'a> {
    fn parse(s: &'a str) -> Result<NameAddrRef<'a>, String> {
        let s = s.trim();
        let (display, after_display) = if s.starts_with('"') {
            let end = closing_quote(s).ok_or("unterminated quoted display name")?;
            (Some(&s[..=end]), s[end + 1..].trim_start())
        } else if let Some(lt) = s.find('<') {
            let name = s[..lt].trim();
            // An unquoted display name is tokens separated by LWS.
            if !name
                .bytes()
                .all(|b| super::is_token_byte(b) || b == b' ' || b == b'\t')
            {
                return Err(format!("display name {name:?} must be quoted"));
            }
            ((!name.is_empty()).then_some(name), &s[lt..])
        } else {
            (None, s)
        };
        if let Some(inner) = after_display.strip_prefix('<') {
            let gt = inner.find('>').ok_or("missing '>'")?;
            let addr = &inner[..gt];
            // LAQUOT/RAQUOT allow whitespace outside the brackets only (RFC 4475 badaspec).
            if addr.trim() != addr {
                return Err(format!("whitespace inside '<{addr}>'"));
            }
            let uri = UriRef::parse(addr).map_err(|e| e.to_string())?;
            let rest = inner[gt + 1..].trim_start();
            if !rest.is_empty() && !rest.starts_with(';') {
                return Err(format!("junk after '>': {rest:?}"));
            }
            Params::check_list(rest)?;
            Ok(NameAddrRef {
                display,
                uri,
                params: rest,
            })
        } else if display.is_some() {
            Err("display name without '<uri>'".into())
        } else {
            // addr-spec: parameters after the URI belong to the header, and the URI may
            // carry no ';', '?' or ',' (RFC 3261 section 20).
            let (uri_s, params) = match s.find(';') {
                Some(i) => (&s[..i], &s[i..]),
                None => (s, ""),
            };
            if uri_s.contains('?') || uri_s.contains(',') {
                return Err("an addr-spec with '?' or ',' must be in '<>'".into());
            }
            let uri = UriRef::parse(uri_s).map_err(|e| e.to_string())?;
            Params::check_list(params)?;
            Ok(NameAddrRef {
                display: None,
                uri,
                params,
            })
        }
    }
}

/// The `tag` parameter of a From/To value, found without parsing the URI: what
/// `NameAddr::parse(s).tag()` gives for any value that parses (messages are checked at
/// parse time), at a fraction of the cost, for the transaction and dialog lookups that
/// run on every message.
pub fn tag_param(s: &str) -> Option<&str> {
    let s = s.trim();
    let rest = if s.starts_with('"') {
        &s[closing_quote(s)? + 1..]
    } else {
        s
    };
    let params = match rest.find('<') {
        Some(lt) => {
            let inner = &rest[lt + 1..];
            &inner[inner.find('>')? + 1..]
        }
        None => &rest[rest.find(';')?..],
    };
    let params = params.trim_start().strip_prefix(';')?;
    split_outside_quotes(params, b';')
        .into_iter()
        .find_map(|part| {
            let (name, value) = part.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("tag")
                .then(|| value.trim())
        })
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            return Some(i);
        }
    }
    None
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{d} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// A Contact value: `*` (only in a REGISTER that removes every binding) or an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contact {
    Star,
    Addr(Box<NameAddr>),
}

impl Contact {
    /// Parses one Contact value.
    pub fn parse(s: &str) -> Result<Contact, String> {
        if s.trim() == "*" {
            Ok(Contact::Star)
        } else {
            NameAddr::parse(s).map(|n| Contact::Addr(Box::new(n)))
        }
    }

    /// Checks one Contact value as [`Contact::parse`] does, without building it.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        if s.trim() == "*" {
            Ok(())
        } else {
            NameAddr::check(s)
        }
    }
}

/// The CSeq header: a sequence number below 2^31 and a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    /// Parses `4711 INVITE`.
    pub fn parse(s: &str) -> Result<CSeq, String> {
        let mut it = s.split_whitespace();
        let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
            return Err(format!("CSeq {s:?} is not 'number method'"));
        };
        let seq: u32 = n
            .parse()
            .ok()
            .filter(|v| *v < 1 << 31)
            .ok_or_else(|| format!("CSeq number {n:?} out of range"))?;
        let method = Method::from_token(m).ok_or_else(|| format!("CSeq method {m:?}"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}
