//! SDP (RFC 4566) as data, with the few offer/answer (RFC 3264) helpers a media-anchoring
//! B2BUA needs.
//!
//! [`SessionDescription::parse`] keeps every line, so printing a parsed body gives back the
//! same lines (with CRLF endings) unless the body broke RFC 4566's line order. Lines this
//! module does not model (`i=`, `b=`, `t=`, `k=`, unknown types...) are kept raw in order.
//! [`SessionDescription::rewrite_for_relay`] turns a peer's offer or answer into the one the
//! switch sends on, with itself as the media address.

mod negotiate;
mod parse;
mod relay;
mod rtpmap;

pub use negotiate::{negotiate, Format, LocalMedia, Negotiated, Preference};
pub use relay::Direction;
pub use rtpmap::{static_payload_type, RtpMap};

use std::fmt::{self, Write};

/// A whole SDP body.
///
/// Invariant kept by parsing (and expected when building one by hand, for printing to read
/// back the same): `lines` hold no `v`, `o`, `s`, `m` or `a` lines, and a `c` line only when
/// `connection` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=`, always 0.
    pub version: u32,
    /// `o=`.
    pub origin: Origin,
    /// `s=`; `-` when the body had none.
    pub session_name: String,
    /// The session-level `c=`.
    pub connection: Option<Connection>,
    /// The other session-level lines (`i u e p b t r z k`, unknown), in order.
    pub lines: Vec<Line>,
    /// The session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// The `m=` sections, in order.
    pub media: Vec<MediaDescription>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The user name, `-` for none.
    pub username: String,
    /// The session id, a decimal number kept as text (some exceed 64 bits).
    pub sess_id: String,
    /// The session version, raised by the author at each change; kept as text.
    pub sess_version: String,
    /// `IN`.
    pub nettype: String,
    /// `IP4` or `IP6`.
    pub addrtype: String,
    /// The author's address.
    pub address: String,
}

/// `c=<nettype> <addrtype> <connection-address>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// `IN`.
    pub nettype: String,
    /// `IP4` or `IP6`.
    pub addrtype: String,
    /// The address, with any multicast `/ttl/count` suffix as written.
    pub address: String,
}

/// One `m=` section.
///
/// Same invariant as [`SessionDescription`]: `lines` hold no `a` lines, and a `c` line only
/// when `connection` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `application`, `image`...
    pub kind: String,
    /// The transport port; 0 for a rejected or disabled stream.
    pub port: u16,
    /// The `/<number of ports>` after the port, if written.
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `udptl`...
    pub proto: String,
    /// The formats: RTP payload type numbers for RTP profiles.
    pub formats: Vec<String>,
    /// The media-level `c=`, which overrides the session's.
    pub connection: Option<Connection>,
    /// The other media-level lines (`i b k`, more `c`, unknown), in order.
    pub lines: Vec<Line>,
    /// The media-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

/// `a=<name>` or `a=<name>:<value>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The name before the first `:`.
    pub name: String,
    /// Everything after the first `:`, if there is one.
    pub value: Option<String>,
}

/// A line kept as written: `<kind>=<value>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The type letter.
    pub kind: char,
    /// The text after `=`.
    pub value: String,
}

/// Why an SDP body was refused. The peer's fault: the switch answers 488 (or 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body has no lines at all.
    #[error("SDP body is empty")]
    Empty,
    /// A required line is absent.
    #[error("SDP has no {0}= line")]
    Missing(char),
    /// `v=` is not 0.
    #[error("SDP version {0:?} is not supported (only v=0)")]
    UnsupportedVersion(String),
    /// A line does not follow the grammar; `line` counts from 1.
    #[error("SDP line {line}: {reason}")]
    Malformed {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl SessionDescription {
    /// Parses an SDP body with CRLF or LF line ends. Unknown line types and attributes are
    /// kept; a missing `v=` or `o=`, a malformed `o=`, `c=` or `m=` (port not a number...)
    /// is an error. Bytes that are not UTF-8 are replaced with U+FFFD rather than refused.
    pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
        parse::parse(body)
    }

    /// The body as bytes with CRLF line ends, for a SIP message.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The first `a=<name>` at session level: `Some(None)` for a flag, `Some(Some(value))`.
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        find_attribute(&self.attributes, name)
    }
}

impl MediaDescription {
    /// The first `a=<name>` of this section: `Some(None)` for a flag, `Some(Some(value))`.
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        find_attribute(&self.attributes, name)
    }
}

impl Attribute {
    /// The attribute `a=name` (no value) or `a=name:value`.
    pub fn new(name: &str, value: Option<&str>) -> Attribute {
        Attribute {
            name: name.to_string(),
            value: value.map(str::to_string),
        }
    }
}

fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<Option<&'a str>> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_deref())
}

/// Types that RFC 4566 puts before `c=` in their section: printing puts `c=` just before the
/// first kept line of another type, which is where it was in a well-ordered body.
const SESSION_BEFORE_C: &[char] = &['i', 'u', 'e', 'p'];
const MEDIA_BEFORE_C: &[char] = &['i'];

impl fmt::Display for SessionDescription {
    /// Prints the body with CRLF line ends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v={}\r\n", self.version)?;
        let o = &self.origin;
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            o.username, o.sess_id, o.sess_version, o.nettype, o.addrtype, o.address
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        write_section(
            f,
            self.connection.as_ref(),
            &self.lines,
            &self.attributes,
            SESSION_BEFORE_C,
        )?;
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for MediaDescription {
    /// Prints the `m=` line and the section's lines, CRLF-ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        write_section(
            f,
            self.connection.as_ref(),
            &self.lines,
            &self.attributes,
            MEDIA_BEFORE_C,
        )
    }
}

impl fmt::Display for Connection {
    /// `IN IP4 192.0.2.1`, without `c=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)
    }
}

impl fmt::Display for Attribute {
    /// `name` or `name:value`, without `a=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(value) = &self.value {
            f.write_char(':')?;
            f.write_str(value)?;
        }
        Ok(())
    }
}

fn write_section(
    f: &mut fmt::Formatter<'_>,
    connection: Option<&Connection>,
    lines: &[Line],
    attributes: &[Attribute],
    before_c: &[char],
) -> fmt::Result {
    let split = lines
        .iter()
        .position(|l| !before_c.contains(&l.kind))
        .unwrap_or(lines.len());
    for line in &lines[..split] {
        write!(f, "{}={}\r\n", line.kind, line.value)?;
    }
    if let Some(c) = connection {
        write!(f, "c={c}\r\n")?;
    }
    for line in &lines[split..] {
        write!(f, "{}={}\r\n", line.kind, line.value)?;
    }
    for a in attributes {
        write!(f, "a={a}\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
