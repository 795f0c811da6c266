//! The wire parser: one datagram (or one framed stream message) in, a checked message out.

use super::headers::canonical_name;
use super::typed::{split_outside_quotes, CSeq, Contact, NameAddr, Via};
use super::{Header, Headers, Message, Method, Request, Response, Scheme, Uri};
use std::fmt;

/// Why a message was rejected, and what we can answer with.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// What was wrong, for the log and a Warning header.
    pub reason: String,
    /// The status to answer with when the request can be answered: 400; 501 for an
    /// unknown method whose CSeq names another (RFC 4475 mismatch02); 505 for a wrong
    /// SIP version.
    pub status: u16,
    /// The request as far as it was read, when its method and Request-URI could be made
    /// out (a URI that broke only the spacing or bracket rules is kept as it was meant);
    /// a 4xx can be built from it if it has the headers a response copies.
    pub partial: Option<Box<Request>>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ParseError {}

fn err(reason: impl Into<String>) -> ParseError {
    ParseError {
        reason: reason.into(),
        status: 400,
        partial: None,
    }
}

/// How a stream transport (TCP) should cut its buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// More bytes are needed.
    Incomplete,
    /// The buffer starts with `n` bytes of CRLF keep-alives to discard.
    KeepAlive(usize),
    /// The buffer starts with a whole message of this many bytes.
    Complete(usize),
    /// The stream cannot be framed (oversized or no usable Content-Length): close it.
    Invalid(String),
}

/// Finds the first message in a stream buffer, framed by Content-Length (RFC 3261 18.3).
pub fn frame(buf: &[u8], max_size: usize) -> Framing {
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    if lead > 0 {
        return Framing::KeepAlive(lead);
    }
    let Some((head_len, body_start)) = header_end(buf) else {
        return if buf.len() > max_size {
            Framing::Invalid(format!("no end of headers within {max_size} bytes"))
        } else {
            Framing::Incomplete
        };
    };
    let head = String::from_utf8_lossy(&buf[..head_len]);
    let mut content_length = None;
    for line in unfold(&head).iter().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            if content_length.is_some() {
                // RFC 4475 mcl01: no way to know where the message ends.
                return Framing::Invalid("more than one Content-Length".into());
            }
            let value = value.trim();
            let n = value
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| value.parse::<usize>().ok())
                .flatten();
            match n {
                Some(n) => content_length = Some(n),
                None => return Framing::Invalid(format!("bad Content-Length {value:?}")),
            }
        }
    }
    let content_length = content_length.unwrap_or(0);
    let total = body_start.saturating_add(content_length);
    if total > max_size {
        return Framing::Invalid(format!("message of {total} bytes exceeds {max_size}"));
    }
    if buf.len() >= total {
        Framing::Complete(total)
    } else {
        Framing::Incomplete
    }
}

/// Returns (end of the header section, start of the body).
fn header_end(buf: &[u8]) -> Option<(usize, usize)> {
    // memchr jumps from one line end to the next instead of testing every byte.
    for i in memchr::memchr_iter(b'\n', buf) {
        if buf.get(i + 1) == Some(&b'\n') {
            return Some((i, i + 2));
        }
        if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
            return Some((i, i + 3));
        }
    }
    None
}

/// Parses one whole message (a UDP datagram, or a message cut by [`frame`]) and checks the
/// headers every transaction needs (Via, From, To, Call-ID, CSeq) and Content-Length.
///
/// A rejected request keeps as much of itself as could be read in
/// [`ParseError::partial`], so that the caller can answer it (RFC 4475 asks for a 400 to
/// most malformed requests); a rejected response is simply dropped.
pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
    let lead = data
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let data = &data[lead..];
    if data.is_empty() {
        return Err(err("empty message"));
    }
    let (head, body) = match header_end(data) {
        Some((h, b)) => (&data[..h], &data[b..]),
        None => (data, &data[data.len()..]),
    };
    let head = std::str::from_utf8(head).map_err(|_| err("header section is not UTF-8"))?;
    let mut lines = unfold(head).into_iter();
    let start = lines.next().ok_or_else(|| err("no start line"))?;
    // Read every header line even after a bad one: the rest may be what a 400 copies.
    let mut problem: Option<ParseError> = None;
    let mut headers = Headers::default();
    for line in lines {
        if let Err(e) = parse_header_line(&line, &mut headers) {
            problem.get_or_insert(e);
        }
    }
    let body = match body_by_length(&headers, body) {
        Ok(b) => b,
        Err(e) => {
            problem.get_or_insert(e);
            Vec::new()
        }
    };
    if start.starts_with("SIP/") {
        if let Some(e) = problem {
            return Err(e);
        }
        let (status, reason) = parse_status_line(&start)?;
        let resp = Response {
            status,
            reason,
            headers,
            body,
        };
        check_common(&resp.headers)?;
        return Ok(Message::Response(resp));
    }
    let (method, uri, problem) = match parse_request_line(&start) {
        Ok((method, uri, true)) => (method, uri, problem),
        Ok((method, uri, false)) => (method, uri, Some(version_error())),
        Err(e) => match salvage_request_line(&start) {
            Some((method, uri)) => (method, uri, Some(e)),
            None => return Err(e),
        },
    };
    let req = Request {
        method,
        uri,
        headers,
        body,
    };
    let problem = problem.or_else(|| {
        check_common(&req.headers)
            .and_then(|_| check_request(&req))
            .err()
    });
    match problem {
        None => Ok(Message::Request(req)),
        Some(mut e) => {
            e.partial = Some(Box::new(req));
            Err(e)
        }
    }
}

fn version_error() -> ParseError {
    ParseError {
        reason: "SIP version not supported".into(),
        status: 505,
        partial: None,
    }
}

/// Reads a request line that broke the grammar only in its spacing or its Request-URI
/// (RFC 4475 ltgtruri, lwsruri, lwsstart, trws), so that the request can still be
/// answered with a 400. `None` when even the method or the URI cannot be made out.
fn salvage_request_line(line: &str) -> Option<(Method, Uri)> {
    let mut words = line.split_whitespace();
    let method = Method::from_token(words.next()?)?;
    let mut rest: Vec<&str> = words.collect();
    if !rest.pop()?.starts_with("SIP/") || rest.is_empty() {
        return None;
    }
    let joined = rest.concat();
    let inner = joined
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(&joined);
    Some((method, Uri::parse(inner).ok()?))
}

/// Splits the header section into logical lines, joining folded continuation lines. A line
/// is borrowed from `head` unless a continuation had to be joined to it.
fn unfold(head: &str) -> Vec<std::borrow::Cow<'_, str>> {
    let mut out: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(16);
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                let joined = last.to_mut();
                joined.push(' ');
                joined.push_str(line.trim_start());
                continue;
            }
        }
        out.push(std::borrow::Cow::Borrowed(line));
    }
    out
}

/// Headers whose comma-separated values are separate fields (RFC 3261 section 7.3.1).
const LIST_HEADERS: &[&str] = &["Via", "Route", "Record-Route", "Contact"];

fn parse_header_line(line: &str, headers: &mut Headers) -> Result<(), ParseError> {
    let colon = line
        .find(':')
        .ok_or_else(|| err(format!("header line without ':': {line:?}")))?;
    let name = line[..colon].trim_end_matches([' ', '\t']);
    if name.is_empty() || !name.bytes().all(super::is_token_byte) {
        return Err(err(format!("bad header name {name:?}")));
    }
    let name = canonical_name(name);
    let value = line[colon + 1..].trim();
    if LIST_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(&name)) && value != "*" {
        let parts = split_outside_quotes(value, b',');
        if parts.iter().any(|p| p.trim().is_empty()) {
            // Kept whole, as received, so that a 400 can still copy it (RFC 4475 badinv01).
            headers.0.push(Header {
                name: name.clone(),
                value: value.to_string(),
            });
            return Err(err(format!("empty element in {name}")));
        }
        for part in parts {
            headers.0.push(Header {
                name: name.clone(),
                value: part.trim().to_string(),
            });
        }
    } else {
        headers.0.push(Header {
            name,
            value: value.to_string(),
        });
    }
    Ok(())
}

fn body_by_length(headers: &Headers, rest: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut lengths = headers.get_all("Content-Length");
    let Some(cl) = lengths.next() else {
        // UDP without Content-Length: the body runs to the end of the datagram.
        return Ok(rest.to_vec());
    };
    if lengths.next().is_some() {
        return Err(err("more than one Content-Length"));
    }
    if cl.is_empty() || !cl.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!("bad Content-Length {cl:?}")));
    }
    let n: usize = cl
        .parse()
        .map_err(|_| err(format!("Content-Length {cl:?} out of range")))?;
    if n > rest.len() {
        return Err(err(format!(
            "Content-Length {n} larger than the {} body bytes received",
            rest.len()
        )));
    }
    // Bytes past Content-Length in a datagram are discarded (RFC 3261 18.3).
    Ok(rest[..n].to_vec())
}

fn parse_status_line(line: &str) -> Result<(u16, String), ParseError> {
    let rest = line
        .strip_prefix("SIP/2.0 ")
        .ok_or_else(|| err(format!("bad status line {line:?}")))?;
    let (code, reason) = match rest.split_once(' ') {
        Some((c, r)) => (c, r),
        None => (rest, ""),
    };
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!("bad status code {code:?}")));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| err(format!("bad status code {code:?}")))?;
    if !(100..=699).contains(&status) {
        return Err(err(format!("status code {status} out of range")));
    }
    Ok((status, reason.to_string()))
}

/// Parses `METHOD SP Request-URI SP SIP-Version`; single spaces only (RFC 3261 25.1).
fn parse_request_line(line: &str) -> Result<(Method, Uri, bool), ParseError> {
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(err(format!("bad request line {line:?}")));
    }
    let method =
        Method::from_token(parts[0]).ok_or_else(|| err(format!("bad method {:?}", parts[0])))?;
    let uri = Uri::parse(parts[1]).map_err(|e| err(e.to_string()))?;
    let version = parts[2];
    if !version.starts_with("SIP/") {
        return Err(err(format!("bad version {version:?}")));
    }
    Ok((method, uri, version.eq_ignore_ascii_case("SIP/2.0")))
}

/// Headers both requests and responses need to reach their transaction.
fn check_common(h: &Headers) -> Result<(), ParseError> {
    if h.count("Via") == 0 {
        return Err(err("missing Via"));
    }
    for v in h.get_all("Via") {
        Via::check(v).map_err(err)?;
    }
    for name in ["From", "To"] {
        let mut values = h.get_all(name);
        let v = values
            .next()
            .ok_or_else(|| err(format!("missing {name}")))?;
        if values.next().is_some() {
            return Err(err(format!("more than one {name}")));
        }
        NameAddr::check(v).map_err(|e| err(format!("{name}: {e}")))?;
    }
    let mut call_ids = h.get_all("Call-ID");
    match call_ids.next() {
        Some(c) if !c.is_empty() && !c.contains(char::is_whitespace) => {}
        Some(c) => return Err(err(format!("bad Call-ID {c:?}"))),
        None => return Err(err("missing Call-ID")),
    }
    if call_ids.next().is_some() {
        return Err(err("more than one Call-ID"));
    }
    let mut cseqs = h.get_all("CSeq");
    let c = cseqs.next().ok_or_else(|| err("missing CSeq"))?;
    CSeq::parse(c).map_err(err)?;
    if cseqs.next().is_some() {
        return Err(err("more than one CSeq"));
    }
    Ok(())
}

fn check_request(req: &Request) -> Result<(), ParseError> {
    let h = &req.headers;
    if let Some(cseq) = h.get("CSeq").and_then(|c| CSeq::parse(c).ok()) {
        if cseq.method != req.method {
            let mut e = err(format!(
                "CSeq method {} does not match {}",
                cseq.method, req.method
            ));
            // RFC 4475 3.1.2.18: 501 for a method we do not know ages better than 400.
            if matches!(req.method, Method::Extension(_)) {
                e.status = 501;
            }
            return Err(e);
        }
    }
    if matches!(req.uri.scheme, Scheme::Sip | Scheme::Sips) && req.uri.headers.is_some() {
        // RFC 3261 19.1.1: headers are not allowed in a Request-URI (RFC 4475 escruri).
        return Err(err("Request-URI carries headers"));
    }
    if let Some(mf) = h.get("Max-Forwards") {
        if mf.parse::<u8>().is_err() {
            return Err(err(format!("bad Max-Forwards {mf:?}")));
        }
    }
    if let Some(e) = h.get("Expires") {
        if e.parse::<u32>().is_err() {
            return Err(err(format!("bad Expires {e:?}")));
        }
    }
    for c in h.get_all("Contact") {
        Contact::check(c).map_err(|e| err(format!("Contact: {e}")))?;
    }
    Ok(())
}
