//! How events are written on the event socket, as FreeSWITCH writes them:
//!
//! - plain: `Name: url-encoded value` lines, then `Content-Length: N`, a blank line and the
//!   body when there is one, else one blank line;
//! - json: one flat object of header strings, the body under `_body`;
//! - xml: `<event><headers><Name>value</Name>...</headers><body>...</body></event>`.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Event;

/// The three encodings an ESL client can ask for (`event plain|json|xml ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EventFormat {
    #[default]
    Plain,
    Json,
    Xml,
}

impl EventFormat {
    /// `plain`, `json` or `xml` (any case).
    pub fn parse(s: &str) -> Option<EventFormat> {
        match s.to_ascii_lowercase().as_str() {
            "plain" => Some(EventFormat::Plain),
            "json" => Some(EventFormat::Json),
            "xml" => Some(EventFormat::Xml),
            _ => None,
        }
    }

    /// The word used in replies and in `Content-Type: text/event-<word>`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Plain => "plain",
            EventFormat::Json => "json",
            EventFormat::Xml => "xml",
        }
    }
}

/// Bytes FreeSWITCH's `switch_url_encode` escapes besides controls and non-ASCII.
const UNSAFE: &[u8] = b"\r\n \"#%&+:;<=>?@[\\]^`{|}";

/// Percent-encodes a header value the way FreeSWITCH does for plain events: controls,
/// bytes above `~` and ` "#%&+:;<=>?@[\]^`{|}` become `%XX` (upper-case hex).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    url_encode_into(&mut out, value);
    out
}

/// Which bytes [`url_encode`] escapes, as a table: events carry many headers, and a
/// lookup per byte is much cheaper than searching `UNSAFE` for each.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b > 0x7e;
        b += 1;
    }
    let mut i = 0;
    while i < UNSAFE.len() {
        t[UNSAFE[i] as usize] = true;
        i += 1;
    }
    t
};

/// [`url_encode`] appending to `out`; runs of bytes that need no escape are copied whole.
fn url_encode_into(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if ESCAPED[usize::from(b)] {
            // Every byte >= 0x80 is escaped, so a non-empty run `start..i` is ASCII and
            // both its ends are character boundaries (an empty one may not be: skip it).
            if start < i {
                out.push_str(&value[start..i]);
            }
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
            start = i + 1;
        }
    }
    out.push_str(&value[start..]);
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes `%XX` escapes (and `+` as a space is left alone, as FreeSWITCH does); a broken
/// escape is kept as written. Invalid UTF-8 is replaced.
pub fn url_decode(value: &str) -> String {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hi = (b[i + 1] as char).to_digit(16);
            let lo = (b[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn plain(e: &Event) -> String {
    let mut out = String::with_capacity(64 * e.headers.len());
    for (n, v) in e.headers.iter() {
        out.push_str(n);
        out.push_str(": ");
        url_encode_into(&mut out, v);
        out.push('\n');
    }
    match e.body.as_deref() {
        Some(body) if !body.is_empty() => {
            out.push_str(&format!("Content-Length: {}\n\n", body.len()));
            out.push_str(body);
        }
        _ => out.push('\n'),
    }
    out
}

pub(super) fn json(e: &Event) -> String {
    let mut map = serde_json::Map::new();
    for (n, v) in e.headers.iter() {
        match map.get_mut(n) {
            // A repeated header becomes an array, as in FreeSWITCH.
            Some(serde_json::Value::Array(a)) => a.push(v.into()),
            Some(old) => {
                let first = old.take();
                *old = serde_json::Value::Array(vec![first, v.into()]);
            }
            None => {
                map.insert(n.to_string(), v.into());
            }
        }
    }
    if let Some(body) = e.body.as_deref() {
        map.insert("Content-Length".into(), body.len().to_string().into());
        map.insert("_body".into(), body.into());
    }
    serde_json::Value::Object(map).to_string()
}

pub(super) fn xml(e: &Event) -> String {
    let mut out = String::from("<event>\n  <headers>\n");
    for (n, v) in e.headers.iter() {
        let tag = xml_name(n);
        out.push_str(&format!("    <{tag}>{}</{tag}>\n", xml_escape(v)));
    }
    out.push_str("  </headers>\n");
    if let Some(body) = e.body.as_deref() {
        out.push_str(&format!(
            "  <Content-Length>{}</Content-Length>\n  <body>{}</body>\n",
            body.len(),
            xml_escape(body)
        ));
    }
    out.push_str("</event>\n");
    out
}

/// A header name usable as an XML element name (anything odd becomes `_`).
fn xml_name(n: &str) -> String {
    let s: String = n
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.chars().next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => s,
        _ => format!("_{s}"),
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// `Event-Date-Local` (`2026-12-01 07:41:21`), `Event-Date-GMT`
/// (`Tue, 01 Dec 2026 07:41:21 GMT`) and `Event-Date-Timestamp` (µs since the epoch).
pub(super) fn dates(t: SystemTime) -> (String, String, u128) {
    let micros = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let secs = (micros / 1_000_000) as u64;
    // Formatting dates is most of the cost of an event; they change once a second.
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, String, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    let (local, gmt) = LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some((s, l, g)) if *s == secs => (l.clone(), g.clone()),
            _ => {
                let utc: chrono::DateTime<chrono::Utc> = t.into();
                let local: chrono::DateTime<chrono::Local> = t.into();
                let l = local.format("%Y-%m-%d %H:%M:%S").to_string();
                let g = utc.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                *last = Some((secs, l.clone(), g.clone()));
                (l, g)
            }
        }
    });
    (local, gmt, micros)
}
