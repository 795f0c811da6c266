//! The ordered header list of a message.

use super::typed::split_outside_quotes;

/// One header field: canonical name and value (folding already undone, outer LWS trimmed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Headers in wire order. Names compare case-insensitively; compact forms are expanded
/// when parsing, so `get("Call-ID")` finds an `i:` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of a header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of a header, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// How many header fields carry this name.
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Appends a header.
    pub fn push(&mut self, name: &str, value: &str) {
        self.0.push(Header {
            name: canonical_name(name),
            value: value.to_string(),
        });
    }

    /// Inserts a header before every other one (a new topmost Via, say).
    pub fn push_front(&mut self, name: &str, value: &str) {
        self.0.insert(
            0,
            Header {
                name: canonical_name(name),
                value: value.to_string(),
            },
        );
    }

    /// Replaces every field of `name` with one value, placed where the first one was
    /// (or at the end).
    pub fn set(&mut self, name: &str, value: &str) {
        match self
            .0
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.0[i].value = value.to_string();
                let mut n = 0;
                self.0.retain(|h| {
                    let same = h.name.eq_ignore_ascii_case(name);
                    if same {
                        n += 1;
                    }
                    !same || n == 1
                });
            }
            None => self.push(name, value),
        }
    }

    /// Removes every field of `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    /// Removes the first field of `name` and returns its value.
    pub fn remove_first(&mut self, name: &str) -> Option<String> {
        let i = self
            .0
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))?;
        Some(self.0.remove(i).value)
    }

    /// The comma-separated items of every field of `name`, trimmed, in order (the
    /// option tags of Require, say). Commas inside quotes or `<>` do not split.
    pub fn items<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .flat_map(|v| split_outside_quotes(v, b','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Writes the header section and the blank line that ends it. Content-Length is
    /// written once, as `body_len`, where the first one stood (at the end when there was
    /// none), so that printing a parsed message keeps its header order.
    pub(crate) fn write_with_length(&self, out: &mut Vec<u8>, body_len: usize) {
        let mut length_written = false;
        for h in &self.0 {
            if h.name.eq_ignore_ascii_case("Content-Length") {
                if !length_written {
                    out.extend_from_slice(format!("Content-Length: {body_len}\r\n").as_bytes());
                    length_written = true;
                }
                continue;
            }
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !length_written {
            out.extend_from_slice(format!("Content-Length: {body_len}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// The canonical spelling of a header name: compact forms expanded (RFC 3261 section 7.3.3
/// and later RFCs), well-known names in their usual case, others kept as written.
pub fn canonical_name(name: &str) -> String {
    const COMPACT: &[(&str, &str)] = &[
        ("i", "Call-ID"),
        ("m", "Contact"),
        ("e", "Content-Encoding"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("f", "From"),
        ("s", "Subject"),
        ("k", "Supported"),
        ("t", "To"),
        ("v", "Via"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("u", "Allow-Events"),
        ("x", "Session-Expires"),
        ("a", "Accept-Contact"),
        ("j", "Reject-Contact"),
        ("d", "Request-Disposition"),
        ("y", "Identity"),
    ];
    const KNOWN: &[&str] = &[
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Authentication-Info",
        "Authorization",
        "Call-ID",
        "Call-Info",
        "Contact",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Date",
        "Error-Info",
        "Event",
        "Expires",
        "From",
        "In-Reply-To",
        "Max-Forwards",
        "MIME-Version",
        "Min-Expires",
        "Organization",
        "Priority",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Require",
        "Reason",
        "Record-Route",
        "Refer-To",
        "Referred-By",
        "Reply-To",
        "Require",
        "Retry-After",
        "Route",
        "RSeq",
        "RAck",
        "Server",
        "Session-Expires",
        "Subject",
        "Subscription-State",
        "Supported",
        "Timestamp",
        "To",
        "Unsupported",
        "User-Agent",
        "Via",
        "Warning",
        "WWW-Authenticate",
    ];
    if name.len() == 1 {
        if let Some((_, full)) = COMPACT.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)) {
            return (*full).to_string();
        }
    }
    // Most senders spell names the usual way: an exact match is a length check and a
    // memcmp per candidate, cheaper than comparing case-insensitively.
    if let Some(k) = KNOWN.iter().find(|k| **k == name) {
        return (*k).to_string();
    }
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => (*k).to_string(),
        None => name.to_string(),
    }
}
