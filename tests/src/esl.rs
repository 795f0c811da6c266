//! A raw event-socket client for tests, written apart from the switch's own parser: frames
//! are header lines up to a blank line, then `Content-Length` bytes of body.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One frame from the switch, or one event parsed out of a `text/event-*` frame.
#[derive(Clone, Debug, Default)]
pub struct EslMessage {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl EslMessage {
    /// The first value of a header (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.header("Content-Type").unwrap_or("")
    }

    /// `Reply-Text`.
    pub fn reply_text(&self) -> &str {
        self.header("Reply-Text").unwrap_or("")
    }

    /// The event carried by a `text/event-plain` frame: headers with values url-decoded.
    pub fn plain_event(&self) -> EslMessage {
        let (head, body) = self.body.split_once("\n\n").unwrap_or((&self.body, ""));
        let headers = head
            .lines()
            .filter_map(|l| l.split_once(": ").or_else(|| l.split_once(':')))
            .map(|(n, v)| (n.to_string(), percent_decode(v)))
            .collect();
        EslMessage {
            headers,
            body: body.to_string(),
        }
    }
}

/// `%XX` decoding, as FreeSWITCH encodes plain event values.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A connection to the event socket.
pub struct EslClient {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Frames read while waiting for something else (events while waiting for a reply).
    queued: VecDeque<EslMessage>,
}

impl EslClient {
    /// Connects (no auth yet).
    pub fn connect(addr: SocketAddr) -> EslClient {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("cannot connect to the event socket at {addr}: {e}"));
        EslClient {
            stream,
            buf: Vec::new(),
            queued: VecDeque::new(),
        }
    }

    /// Connects, checks the greeting, authenticates with `password` and asserts `+OK accepted`.
    pub fn login(addr: SocketAddr, password: &str) -> EslClient {
        let mut c = EslClient::connect(addr);
        let hello = c.read(Duration::from_secs(5)).expect("a greeting");
        assert_eq!(hello.content_type(), "auth/request", "{hello:?}");
        c.send(&format!("auth {password}"));
        let r = c.reply(Duration::from_secs(5));
        assert_eq!(r.reply_text(), "+OK accepted", "{r:?}");
        c
    }

    /// Sends one command and the blank line.
    pub fn send(&mut self, command: &str) {
        self.send_raw(format!("{command}\n\n").as_bytes());
    }

    /// Sends bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("event socket write: {e}"));
    }

    /// The next frame within `timeout`; `None` on timeout or when the switch closed.
    pub fn read(&mut self, timeout: Duration) -> Option<EslMessage> {
        if let Some(m) = self.queued.pop_front() {
            return Some(m);
        }
        self.read_wire(timeout)
    }

    fn read_wire(&mut self, timeout: Duration) -> Option<EslMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.take_frame() {
                return Some(m);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = self
                .stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let mut chunk = [0u8; 16384];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return None
                }
                Err(_) => return None,
            }
        }
    }

    fn take_frame(&mut self) -> Option<EslMessage> {
        let lead = self.buf.iter().take_while(|b| **b == b'\n').count();
        self.buf.drain(..lead);
        let end = self.buf.windows(2).position(|w| w == b"\n\n")?;
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        let headers: Vec<(String, String)> = head
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        if self.buf.len() < end + 2 + len {
            return None;
        }
        let body = String::from_utf8_lossy(&self.buf[end + 2..end + 2 + len]).into_owned();
        self.buf.drain(..end + 2 + len);
        Some(EslMessage { headers, body })
    }

    /// The next `command/reply` or `api/response`, queueing events met on the way.
    pub fn reply(&mut self, timeout: Duration) -> EslMessage {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self
                .read_wire(left)
                .unwrap_or_else(|| panic!("no reply within {timeout:?}"));
            match m.content_type() {
                "command/reply" | "api/response" => return m,
                _ => self.queued.push_back(m),
            }
        }
    }

    /// Sends a command and returns its `Reply-Text`.
    pub fn command(&mut self, command: &str) -> String {
        self.send(command);
        self.reply(Duration::from_secs(10)).reply_text().to_string()
    }

    /// `api <command>` and the body of the reply.
    pub fn api(&mut self, command: &str) -> String {
        self.send(&format!("api {command}"));
        let r = self.reply(Duration::from_secs(10));
        assert_eq!(r.content_type(), "api/response", "{r:?}");
        r.body
    }

    /// Waits for an event frame whose parsed plain event satisfies `want`.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&EslMessage) -> bool,
    ) -> Option<EslMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let m = self.read(left)?;
            if m.content_type() == "text/event-plain" {
                let e = m.plain_event();
                if want(&e) {
                    return Some(e);
                }
            }
        }
    }

    /// Every frame that arrives within `timeout`.
    pub fn drain(&mut self, timeout: Duration) -> Vec<EslMessage> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.read(left) {
                Some(m) => out.push(m),
                None => break,
            }
        }
        out
    }

    /// Whether the switch has closed the connection (reads EOF within `timeout`).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            let _ = self
                .stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false
                }
                Err(_) => return true,
            }
        }
    }
}
