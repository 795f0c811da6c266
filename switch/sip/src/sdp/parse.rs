//! Reading an SDP body line by line (RFC 4566 5).

use super::{Attribute, Connection, Line, MediaDescription, Origin, SdpError, SessionDescription};

/// See [`SessionDescription::parse`].
pub(super) fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        // Blank lines (a trailing CRLF, padding some phones add) carry nothing.
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| split_line(n, l));

    let (_, kind, value) = lines.next().ok_or(SdpError::Empty)??;
    if kind != 'v' {
        return Err(SdpError::Missing('v'));
    }
    if value.trim() != "0" {
        return Err(SdpError::UnsupportedVersion(
            value.chars().take(16).collect(),
        ));
    }
    let mut origin = None;
    let mut session_name = None;
    let mut session = Session::default();
    let mut media: Vec<MediaDescription> = Vec::new();

    for line in lines {
        let (n, kind, value) = line?;
        match (kind, media.last_mut()) {
            ('m', _) => media.push(media_line(n, value)?),
            ('v', _) => return Err(malformed(n, "repeated v= line")),
            ('o', None) if origin.is_none() => origin = Some(origin_line(n, value)?),
            ('s', None) if session_name.is_none() => session_name = Some(value.to_string()),
            ('o' | 's', None) => return Err(malformed(n, "repeated o= or s= line")),
            ('o' | 's', Some(_)) => return Err(malformed(n, "o= or s= inside a media section")),
            (_, Some(m)) => Section {
                connection: &mut m.connection,
                lines: &mut m.lines,
                attributes: &mut m.attributes,
            }
            .add(n, kind, value)?,
            (_, None) => Section {
                connection: &mut session.connection,
                lines: &mut session.lines,
                attributes: &mut session.attributes,
            }
            .add(n, kind, value)?,
        }
    }

    Ok(SessionDescription {
        version: 0,
        origin: origin.ok_or(SdpError::Missing('o'))?,
        session_name: session_name.unwrap_or_else(|| "-".to_string()),
        connection: session.connection,
        lines: session.lines,
        attributes: session.attributes,
        media,
    })
}

/// The session-level lines collected so far.
#[derive(Default)]
struct Session {
    connection: Option<Connection>,
    lines: Vec<Line>,
    attributes: Vec<Attribute>,
}

/// Where the lines of one level (session or media) other than its first go.
struct Section<'a> {
    connection: &'a mut Option<Connection>,
    lines: &'a mut Vec<Line>,
    attributes: &'a mut Vec<Attribute>,
}

impl Section<'_> {
    fn add(&mut self, n: usize, kind: char, value: &str) -> Result<(), SdpError> {
        match kind {
            'a' => self.attributes.push(match value.split_once(':') {
                Some((name, v)) => Attribute::new(name, Some(v)),
                None => Attribute::new(value, None),
            }),
            // A second c= (multicast layering) is kept raw; only the first is used.
            'c' if self.connection.is_none() => *self.connection = Some(connection(n, value)?),
            _ => self.lines.push(Line {
                kind,
                value: value.to_string(),
            }),
        }
        Ok(())
    }
}

fn split_line(n: usize, line: &str) -> Result<(usize, char, &str), SdpError> {
    match line.as_bytes() {
        [kind, b'=', ..] if kind.is_ascii_alphabetic() => Ok((n, char::from(*kind), &line[2..])),
        _ => Err(malformed(n, "not a <letter>=<value> line")),
    }
}

fn malformed(line: usize, reason: &'static str) -> SdpError {
    SdpError::Malformed { line, reason }
}

fn origin_line(n: usize, value: &str) -> Result<Origin, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    // Some phones put spaces in the user name: the last five fields are the fixed ones.
    let Some(split) = fields.len().checked_sub(5).filter(|&s| s >= 1) else {
        return Err(malformed(n, "o= needs 6 fields"));
    };
    let [sess_id, sess_version, nettype, addrtype, address] = fields[split..] else {
        return Err(malformed(n, "o= needs 6 fields"));
    };
    Ok(Origin {
        username: fields[..split].join(" "),
        sess_id: sess_id.to_string(),
        sess_version: sess_version.to_string(),
        nettype: nettype.to_string(),
        addrtype: addrtype.to_string(),
        address: address.to_string(),
    })
}

fn connection(n: usize, value: &str) -> Result<Connection, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [nettype, addrtype, address] = fields[..] else {
        return Err(malformed(n, "c= needs 3 fields"));
    };
    Ok(Connection {
        nettype: nettype.to_string(),
        addrtype: addrtype.to_string(),
        address: address.to_string(),
    })
}

fn media_line(n: usize, value: &str) -> Result<MediaDescription, SdpError> {
    let mut fields = value.split_whitespace();
    let (Some(kind), Some(ports), Some(proto)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed(n, "m= needs media, port and proto"));
    };
    let (port, port_count) = match ports.split_once('/') {
        Some((port, count)) => (port, Some(count)),
        None => (ports, None),
    };
    let port = number(port).ok_or(malformed(n, "m= port is not a number"))?;
    let port_count = match port_count {
        Some(c) => Some(number(c).ok_or(malformed(n, "m= port count is not a number"))?),
        None => None,
    };
    Ok(MediaDescription {
        kind: kind.to_string(),
        port,
        port_count,
        proto: proto.to_string(),
        formats: fields.map(str::to_string).collect(),
        connection: None,
        lines: Vec::new(),
        attributes: Vec::new(),
    })
}

/// Digits only: `u16::from_str` would also take `+5`, which prints back as `5`.
fn number(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
