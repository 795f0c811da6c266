//! The event socket's framing, sans-IO: a frame is lines up to a blank line (LF or CRLF),
//! then a body of exactly `Content-Length` bytes when that header is present.
//!
//! Clients send commands (the first line is the command, e.g. `sendmsg <uuid>`, then
//! headers); the switch sends messages (every line a header). One [`Parser`] reads either:
//! feed it bytes with [`Parser::feed`], take frames with [`Parser::next_frame`]. It never
//! panics and bounds what it buffers; after an error it yields nothing more.

/// Largest header block accepted (the lines before the blank line).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body accepted.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// One frame. For commands `command` is the first line; for messages it is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub command: String,
    /// `Name: value` lines in order (lines without a colon are skipped, as FreeSWITCH does).
    pub headers: Vec<(String, String)>,
    /// The body, when a `Content-Length` header announced one.
    pub body: Option<Vec<u8>>,
}

impl Frame {
    /// The first value of a header (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        self.body
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }
}

/// Why the input cannot be framed; the connection should be closed after saying so.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("headers longer than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("Content-Length {0} is larger than {MAX_BODY} bytes")]
    BodyTooLarge(usize),
    #[error("invalid Content-Length {0:?}")]
    BadLength(String),
}

/// Whether the first line is a command (client to switch) or a header (switch to client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Commands,
    Messages,
}

/// An incremental frame parser.
#[derive(Debug)]
pub struct Parser {
    mode: Mode,
    buf: Vec<u8>,
    /// How far `buf` was searched for the blank line.
    scanned: usize,
    /// A parsed head waiting for its body of this many bytes.
    waiting: Option<(Frame, usize)>,
    failed: bool,
}

impl Parser {
    /// A parser for frames of `mode`.
    pub fn new(mode: Mode) -> Parser {
        Parser {
            mode,
            buf: Vec::new(),
            scanned: 0,
            waiting: None,
            failed: false,
        }
    }

    /// Adds received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(data);
        }
    }

    /// Whether part of a frame is buffered (a client that stops mid-frame can be timed out).
    pub fn pending(&self) -> bool {
        !self.failed && (self.waiting.is_some() || self.buf.iter().any(|b| !is_eol(*b)))
    }

    /// The next complete frame, an error (after which the parser yields nothing), or
    /// `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, ParseError>> {
        if self.failed {
            return None;
        }
        if self.waiting.is_none() {
            // Blank lines between frames are ignored.
            let lead = self.buf.iter().take_while(|b| is_eol(**b)).count();
            if lead > 0 {
                self.buf.drain(..lead);
                self.scanned = 0;
            }
            let Some(end) = self.head_end() else {
                if self.buf.len() > MAX_HEAD {
                    return self.fail(ParseError::HeadTooLarge);
                }
                return None;
            };
            if end.0 > MAX_HEAD {
                return self.fail(ParseError::HeadTooLarge);
            }
            let head: Vec<u8> = self.buf.drain(..end.1).collect();
            self.scanned = 0;
            let frame = self.parse_head(&head[..end.0]);
            let length = match frame.header("Content-Length").map(str::trim) {
                None => 0,
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if n > MAX_BODY => return self.fail(ParseError::BodyTooLarge(n)),
                    Ok(n) => n,
                    Err(_) => return self.fail(ParseError::BadLength(v.to_string())),
                },
            };
            if length == 0 {
                return Some(Ok(frame));
            }
            self.waiting = Some((frame, length));
        }
        let need = self.waiting.as_ref().map_or(0, |(_, n)| *n);
        if self.buf.len() < need {
            return None;
        }
        let (mut frame, n) = self.waiting.take()?;
        frame.body = Some(self.buf.drain(..n).collect());
        Some(Ok(frame))
    }

    fn fail(&mut self, e: ParseError) -> Option<Result<Frame, ParseError>> {
        self.failed = true;
        self.buf = Vec::new();
        self.waiting = None;
        Some(Err(e))
    }

    /// (end of the head's text, end of the blank line) when a blank line is buffered.
    fn head_end(&mut self) -> Option<(usize, usize)> {
        let b = &self.buf;
        for i in self.scanned..b.len() {
            if b[i] != b'\n' {
                continue;
            }
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(b'\n'), _) => return Some((i, i + 2)),
                (Some(b'\r'), Some(b'\n')) => return Some((i, i + 3)),
                _ => {}
            }
        }
        // A terminator may be arriving in pieces: look at the last two bytes again.
        self.scanned = b.len().saturating_sub(2);
        None
    }

    fn parse_head(&self, head: &[u8]) -> Frame {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let mut frame = Frame::default();
        if self.mode == Mode::Commands {
            frame.command = lines.next().unwrap_or("").trim().to_string();
        }
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim();
                if !name.is_empty() {
                    frame
                        .headers
                        .push((name.to_string(), value.trim_start().to_string()));
                }
            }
        }
        frame
    }
}

fn is_eol(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mode: Mode, input: &[u8]) -> Vec<Result<Frame, ParseError>> {
        let mut p = Parser::new(mode);
        p.feed(input);
        std::iter::from_fn(|| p.next_frame()).collect()
    }

    #[test]
    fn commands_with_lf_and_crlf() {
        let got = all(
            Mode::Commands,
            b"auth ClueCon\n\napi status\r\n\r\n\n\nexit\n\n",
        );
        let cmds: Vec<String> = got.into_iter().map(|f| f.unwrap().command).collect();
        assert_eq!(cmds, ["auth ClueCon", "api status", "exit"]);
    }

    #[test]
    fn sendmsg_headers_and_body() {
        let input = b"sendmsg 1234\ncall-command: execute\nexecute-app-name: playback\nContent-Length: 5\n\nhello";
        let f = all(Mode::Commands, input).remove(0).unwrap();
        assert_eq!(f.command, "sendmsg 1234");
        assert_eq!(f.header("CALL-COMMAND"), Some("execute"));
        assert_eq!(f.body.as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn byte_by_byte_is_the_same_as_all_at_once() {
        let input: &[u8] =
            b"Content-Type: api/response\nContent-Length: 3\n\n+OK\nContent-Type: auth/request\n\n";
        let mut p = Parser::new(Mode::Messages);
        let mut got = Vec::new();
        for b in input {
            p.feed(&[*b]);
            while let Some(f) = p.next_frame() {
                got.push(f.unwrap());
            }
        }
        assert_eq!(
            got,
            all(Mode::Messages, input)
                .into_iter()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].body_text(), "+OK");
        assert_eq!(got[1].header("Content-Type"), Some("auth/request"));
        assert!(!p.pending());
    }

    #[test]
    fn pending_until_the_blank_line() {
        let mut p = Parser::new(Mode::Commands);
        p.feed(b"api sta");
        assert!(p.next_frame().is_none());
        assert!(p.pending());
        p.feed(b"tus\n");
        assert!(p.next_frame().is_none());
        p.feed(b"\n");
        assert_eq!(p.next_frame().unwrap().unwrap().command, "api status");
    }

    #[test]
    fn oversize_and_bad_lengths_are_errors_then_silence() {
        let mut p = Parser::new(Mode::Commands);
        p.feed(&vec![b'a'; MAX_HEAD + 2]);
        assert_eq!(p.next_frame(), Some(Err(ParseError::HeadTooLarge)));
        p.feed(b"api status\n\n");
        assert_eq!(p.next_frame(), None);
        let big = format!("sendevent CUSTOM\nContent-Length: {}\n\n", MAX_BODY + 1);
        assert!(matches!(
            all(Mode::Commands, big.as_bytes())[0],
            Err(ParseError::BodyTooLarge(_))
        ));
        assert!(matches!(
            all(Mode::Commands, b"x\nContent-Length: -1\n\n")[0],
            Err(ParseError::BadLength(_))
        ));
    }

    #[test]
    fn how_bytes_arrive_does_not_change_the_frames() {
        let input: &[u8] = b"auth x\n\n\r\napi status\r\n\r\nsendmsg u\ncall-command: hangup\nContent-Length: 4\n\n\n\n\n\nevent plain ALL\n\n";
        let whole = all(Mode::Commands, input);
        assert_eq!(whole.len(), 4);
        for cut in 0..=input.len() {
            let mut p = Parser::new(Mode::Commands);
            p.feed(&input[..cut]);
            let mut got: Vec<_> = std::iter::from_fn(|| p.next_frame()).collect();
            p.feed(&input[cut..]);
            got.extend(std::iter::from_fn(|| p.next_frame()));
            assert_eq!(got, whole, "split at {cut}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x1234_5678_u32;
        for _ in 0..2000 {
            let mut p = Parser::new(Mode::Commands);
            let n = (seed % 64) as usize;
            let chunk: Vec<u8> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    [b'\n', b'\r', b':', b'a', b' ', b'C', 0xff, b'9'][(seed >> 16) as usize % 8]
                })
                .collect();
            p.feed(&chunk);
            p.feed(b"Content-Length: 2\n\nab");
            while p.next_frame().is_some() {}
        }
    }
}
