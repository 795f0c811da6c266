//! A small blocking event-socket client: connect, authenticate, send commands, read frames.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use switch_core::esl::parser::{Frame, Mode, Parser};

/// How long to wait for the switch to answer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The reading side of a connection.
pub struct FrameReader {
    stream: TcpStream,
    parser: Parser,
    buf: Vec<u8>,
}

impl FrameReader {
    /// The next frame; an error names what went wrong (closed, timed out, unreadable).
    pub fn next(&mut self) -> Result<Frame, String> {
        loop {
            match self.parser.next_frame() {
                Some(Ok(f)) => return Ok(f),
                Some(Err(e)) => return Err(format!("unreadable reply from the switch: {e}")),
                None => {}
            }
            let n = self
                .stream
                .read(&mut self.buf)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                        "the switch did not answer in time".to_string()
                    }
                    _ => format!("connection lost: {e}"),
                })?;
            if n == 0 {
                return Err("the switch closed the connection".into());
            }
            self.parser.feed(&self.buf[..n]);
        }
    }

    /// Waits without a timeout from now on (the interactive console's reader).
    pub fn no_timeout(&self) {
        let _ = self.stream.set_read_timeout(None);
    }
}

/// The writing side.
pub struct Connection {
    stream: TcpStream,
}

impl Connection {
    /// Connects to `host:port` and authenticates; returns the writer and the reader.
    pub fn open(
        host: &str,
        port: u16,
        password: &str,
    ) -> Result<(Connection, FrameReader), String> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
            .collect();
        let mut last = format!("no address for {host}:{port}");
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {a}: {e}"),
            }
        }
        let stream = stream.ok_or(last)?;
        let _ = stream.set_read_timeout(Some(REPLY_TIMEOUT));
        let read = stream
            .try_clone()
            .map_err(|e| format!("cannot use the connection: {e}"))?;
        let mut reader = FrameReader {
            stream: read,
            parser: Parser::new(Mode::Messages),
            buf: vec![0; 16 * 1024],
        };
        let mut conn = Connection { stream };
        let hello = reader.next()?;
        match hello.header("Content-Type") {
            Some("auth/request") => {}
            Some("text/rude-rejection") => {
                return Err(format!(
                    "the switch refused this address: {}",
                    hello.body_text().trim()
                ))
            }
            other => return Err(format!("unexpected greeting {other:?}")),
        }
        conn.send(&format!("auth {password}"))?;
        let reply = reader.next()?;
        match reply.header("Reply-Text") {
            Some(t) if t.starts_with("+OK") => Ok((conn, reader)),
            Some(t) => Err(format!("authentication failed: {t}")),
            None => Err("authentication failed: no reply".into()),
        }
    }

    /// Sends one command (the blank line is added).
    pub fn send(&mut self, command: &str) -> Result<(), String> {
        let line = command.replace(['\r', '\n'], " ");
        self.stream
            .write_all(format!("{}\n\n", line.trim()).as_bytes())
            .map_err(|e| format!("connection lost: {e}"))
    }
}

/// The reply text of a frame: the body of an api/response, else its Reply-Text.
pub fn reply_text(f: &Frame) -> String {
    match f.header("Content-Type") {
        Some("api/response") => f.body_text(),
        _ => f
            .header("Reply-Text")
            .map(|t| format!("{t}\n"))
            .unwrap_or_else(|| f.body_text()),
    }
}

/// Whether a reply reports failure.
pub fn is_error(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("-ERR") || t.starts_with("-USAGE")
}
