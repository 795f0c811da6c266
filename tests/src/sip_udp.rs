//! A tiny raw SIP client over UDP: send exactly the bytes a test wrote, read what comes back.
//! For the readiness probe (OPTIONS) and for malformed-input tests, where a real user agent
//! would refuse to send what we want to send.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A UDP socket on 127.0.0.1 (kernel-chosen port) that sends raw SIP text.
#[derive(Debug)]
pub struct SipUdp {
    socket: UdpSocket,
}

/// A SIP response as received: status code, reason phrase and the whole text.
#[derive(Debug, Clone)]
pub struct SipResponse {
    /// Status code, e.g. 200.
    pub status: u16,
    /// Reason phrase, e.g. "OK".
    pub reason: String,
    /// The whole message as text (lossy UTF-8).
    pub text: String,
}

impl SipResponse {
    /// Parses the status line; `None` for a request or anything that is not SIP.
    pub fn parse(bytes: &[u8]) -> Option<SipResponse> {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let line = text.lines().next()?;
        let mut parts = line.splitn(3, ' ');
        if parts.next()? != "SIP/2.0" {
            return None;
        }
        let status = parts.next()?.parse().ok()?;
        let reason = parts.next().unwrap_or("").trim().to_string();
        Some(SipResponse {
            status,
            reason,
            text,
        })
    }

    /// Value of the first header called `name` (case-insensitive; compact forms not mapped).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).into_iter().next()
    }

    /// Values of every header line called `name`, in order.
    pub fn headers(&self, name: &str) -> Vec<&str> {
        self.text
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }
}

impl SipUdp {
    /// Binds 127.0.0.1 on a kernel-chosen port.
    pub fn bind() -> SipUdp {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
        SipUdp { socket }
    }

    /// The local port, for Via and Contact headers.
    pub fn local_port(&self) -> u16 {
        self.socket.local_addr().expect("local address").port()
    }

    /// Sends `bytes` as one datagram.
    pub fn send_bytes(&self, to: SocketAddr, bytes: &[u8]) {
        self.socket.send_to(bytes, to).expect("send a datagram");
    }

    /// Sends `text` with every line ending turned into CRLF (so tests can write `\n`).
    pub fn send(&self, to: SocketAddr, text: &str) {
        self.send_bytes(to, crlf(text).as_bytes());
    }

    /// Waits up to `timeout` for the next datagram that parses as a SIP response.
    pub fn recv(&self, timeout: Duration) -> Option<SipResponse> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65_536];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).ok()?;
            match self.socket.recv_from(&mut buf) {
                Ok((n, _)) => {
                    if let Some(r) = SipResponse::parse(&buf[..n]) {
                        return Some(r);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return None
                }
                // ICMP port unreachable from an earlier send: nobody listens yet; keep waiting.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Collects responses until one with Call-ID `call_id` arrives or `timeout` passes.
    /// Returns everything received in order; the last one is the match if there was one.
    pub fn recv_for_call(&self, call_id: &str, timeout: Duration) -> Vec<SipResponse> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Some(r) = self.recv(left) else { break };
            let done = r.header("Call-ID") == Some(call_id);
            got.push(r);
            if done {
                break;
            }
        }
        got
    }

    /// Sends one OPTIONS to `to` and waits up to `timeout` for its response.
    pub fn options(&self, to: SocketAddr, timeout: Duration) -> Option<SipResponse> {
        let call_id = unique_call_id();
        self.send(to, &self.request("OPTIONS", to, &call_id, &[]));
        self.recv_for_call(&call_id, timeout)
            .pop()
            .filter(|r| r.header("Call-ID") == Some(call_id.as_str()))
    }

    /// A well-formed request from this socket to `to`, with the given extra header lines.
    pub fn request(&self, method: &str, to: SocketAddr, call_id: &str, extra: &[&str]) -> String {
        let port = self.local_port();
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let mut text = format!(
            "{method} sip:{to} SIP/2.0\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-fst-{n}-{call_id};rport\n\
             Max-Forwards: 70\n\
             From: <sip:probe@127.0.0.1:{port}>;tag=fst{n}\n\
             To: <sip:{to}>\n\
             Call-ID: {call_id}\n\
             CSeq: 1 {method}\n\
             Contact: <sip:probe@127.0.0.1:{port}>\n\
             User-Agent: ferroswitch-tests\n"
        );
        for line in extra {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("Content-Length: 0\n\n");
        text
    }
}

/// A Call-ID unique within this machine's test runs.
pub fn unique_call_id() -> String {
    format!(
        "fst-{}-{}@127.0.0.1",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Turns bare `\n` line ends into CRLF (lines already ending in CRLF stay as they are).
pub fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_status_line_and_headers() {
        let r =
            SipResponse::parse(b"SIP/2.0 400 Bad Request\r\nCall-ID: x\r\ncseq: 1 OPTIONS\r\n\r\n")
                .unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(r.reason, "Bad Request");
        assert_eq!(r.header("call-id"), Some("x"));
        assert_eq!(r.header("CSeq"), Some("1 OPTIONS"));
        assert!(SipResponse::parse(b"OPTIONS sip:x SIP/2.0\r\n\r\n").is_none());
    }

    #[test]
    fn crlf_normalises_line_ends() {
        assert_eq!(crlf("a\nb\r\n\n"), "a\r\nb\r\n\r\n");
    }

    #[test]
    fn options_gets_an_answer_from_a_fake_server() {
        let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = server.local_addr().unwrap();
        let client = SipUdp::bind();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let call_id = req
                .lines()
                .find_map(|l| l.strip_prefix("Call-ID: "))
                .unwrap()
                .to_string();
            // A stray answer for another call first: options() must skip it.
            server
                .send_to(b"SIP/2.0 404 Not Found\r\nCall-ID: other\r\n\r\n", from)
                .unwrap();
            let ok = format!("SIP/2.0 200 OK\r\nCall-ID: {call_id}\r\n\r\n");
            server.send_to(ok.as_bytes(), from).unwrap();
            req
        });
        let r = client.options(addr, Duration::from_secs(5)).unwrap();
        assert_eq!(r.status, 200);
        let req = t.join().unwrap();
        assert!(req.starts_with(&format!("OPTIONS sip:{addr} SIP/2.0\r\n")));
        assert!(req.ends_with("Content-Length: 0\r\n\r\n"));
    }
}
