//! SIP messages (RFC 3261 section 7): requests, responses, headers, bodies.
//!
//! We parse ourselves instead of using rsip: rsip rejects folded headers, `tel:` request
//! URIs, compact header forms and IPv6 Vias (see shared/CRATES.md), which RFC 4475 demands.
//!
//! A message is kept close to the wire: headers are an ordered list of (canonical name,
//! value) pairs, and typed views ([`Via`], [`NameAddr`], [`CSeq`], [`Uri`]) are parsed on
//! demand. [`parse`] also checks the headers a transaction needs, so whatever it returns can
//! be matched to a transaction and answered.

mod headers;
mod parse;
mod typed;
mod uri;

pub use headers::{canonical_name, Header, Headers};
pub use parse::{frame, parse, Framing, ParseError};
pub use typed::{CSeq, Contact, NameAddr, Params, Via};
pub use uri::{unescape, Host, Scheme, Uri};

use std::fmt;

/// A SIP method. Extension methods keep their spelling (methods are case-sensitive).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Extension(String),
}

impl Method {
    /// The method as it is written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }

    /// Parses a method token; `None` when it is not a valid token.
    pub fn from_token(s: &str) -> Option<Method> {
        if s.is_empty() || !s.bytes().all(is_token_byte) {
            return None;
        }
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Extension(other.to_string()),
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A SIP request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// Either kind of SIP message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    /// The message's headers.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// Serialises the message; Content-Length is always set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// The default reason phrase for a status code (RFC 3261 section 21 and common extensions).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "Unknown",
    }
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request {
            method,
            uri,
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// The topmost Via, parsed.
    pub fn top_via(&self) -> Option<Via> {
        self.headers.get("Via").and_then(|v| Via::parse(v).ok())
    }

    /// The transaction's branch: the topmost Via's branch parameter.
    pub fn branch(&self) -> Option<String> {
        self.top_via().and_then(|v| v.branch().map(str::to_string))
    }

    /// The Call-ID header.
    pub fn call_id(&self) -> Option<&str> {
        self.headers.get("Call-ID")
    }

    /// The CSeq header, parsed.
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }

    /// The From header, parsed.
    pub fn from(&self) -> Option<NameAddr> {
        self.headers
            .get("From")
            .and_then(|v| NameAddr::parse(v).ok())
    }

    /// The To header, parsed.
    pub fn to(&self) -> Option<NameAddr> {
        self.headers.get("To").and_then(|v| NameAddr::parse(v).ok())
    }

    /// The To tag, without parsing the rest of the header.
    pub fn to_tag(&self) -> Option<&str> {
        self.headers.get("To").and_then(typed::tag_param)
    }

    /// The From tag, without parsing the rest of the header.
    pub fn from_tag(&self) -> Option<&str> {
        self.headers.get("From").and_then(typed::tag_param)
    }

    /// Max-Forwards, when present and numeric.
    pub fn max_forwards(&self) -> Option<u32> {
        self.headers
            .get("Max-Forwards")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Builds a response to this request (RFC 3261 section 8.2.6.2): Via, From, To, Call-ID
    /// and CSeq are copied; `to_tag` is added to To when To has no tag yet.
    pub fn response(&self, status: u16, to_tag: Option<&str>) -> Response {
        let mut headers = Headers::default();
        for v in self.headers.get_all("Via") {
            headers.push("Via", v);
        }
        if let Some(v) = self.headers.get("From") {
            headers.push("From", v);
        }
        if let Some(v) = self.headers.get("To") {
            let to = match (to_tag, NameAddr::parse(v)) {
                (Some(tag), Ok(mut na)) if na.tag().is_none() => {
                    na.params.set("tag", Some(tag));
                    na.to_string()
                }
                _ => v.to_string(),
            };
            headers.push("To", &to);
        }
        if let Some(v) = self.headers.get("Call-ID") {
            headers.push("Call-ID", v);
        }
        if let Some(v) = self.headers.get("CSeq") {
            headers.push("CSeq", v);
        }
        Response {
            status,
            reason: reason_phrase(status).to_string(),
            headers,
            body: Vec::new(),
        }
    }

    /// Serialises the request; Content-Length is always set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.uri.to_string().as_bytes());
        out.extend_from_slice(b" SIP/2.0\r\n");
        self.headers.write_with_length(&mut out, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    /// The topmost Via, parsed.
    pub fn top_via(&self) -> Option<Via> {
        self.headers.get("Via").and_then(|v| Via::parse(v).ok())
    }

    /// The branch of the topmost Via.
    pub fn branch(&self) -> Option<String> {
        self.top_via().and_then(|v| v.branch().map(str::to_string))
    }

    /// The CSeq header, parsed.
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }

    /// The Call-ID header.
    pub fn call_id(&self) -> Option<&str> {
        self.headers.get("Call-ID")
    }

    /// The From header, parsed.
    pub fn from(&self) -> Option<NameAddr> {
        self.headers
            .get("From")
            .and_then(|v| NameAddr::parse(v).ok())
    }

    /// The To header, parsed.
    pub fn to(&self) -> Option<NameAddr> {
        self.headers.get("To").and_then(|v| NameAddr::parse(v).ok())
    }

    /// The To tag, without parsing the rest of the header.
    pub fn to_tag(&self) -> Option<&str> {
        self.headers.get("To").and_then(typed::tag_param)
    }

    /// The From tag, without parsing the rest of the header.
    pub fn from_tag(&self) -> Option<&str> {
        self.headers.get("From").and_then(typed::tag_param)
    }

    /// True for 1xx.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// Serialises the response; Content-Length is always set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", self.status, self.reason).as_bytes());
        self.headers.write_with_length(&mut out, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests;
