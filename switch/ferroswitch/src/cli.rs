//! `ferroswitch cli`: the console as a client of the event socket, like fs_cli.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;

use switch_core::config::{Config, DEFAULT_ESL_PASSWORD};
use switch_core::esl::parser::Frame;
use switch_core::event::url_decode;

use crate::client::{is_error, reply_text, Connection, FrameReader, REPLY_TIMEOUT};
use crate::console::{self, level_colour, use_colour, Backend};

const USAGE: &str = "\
usage: ferroswitch cli [-H HOST] [-P PORT] [-p PASSWORD] [-x COMMAND]... [--conf DIR]

  -H, --host HOST          event socket host (default: esl.listen of the config, else 127.0.0.1)
  -P, --port PORT          event socket port (default: esl.listen of the config, else 8021)
  -p, --password PASSWORD  event socket password (default: esl.password, else ClueCon)
  -x, --execute COMMAND    run one API command, print the reply and exit (non-zero on -ERR)
  -l, --log-level LEVEL    log lines to show in the console (default: info; none to show none)
  --conf DIR               config folder for the defaults (default: ./conf when present)";

struct Args {
    host: Option<String>,
    port: Option<u16>,
    password: Option<String>,
    execute: Vec<String>,
    log_level: String,
    conf: PathBuf,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        host: None,
        port: None,
        password: None,
        execute: Vec::new(),
        log_level: "info".into(),
        conf: PathBuf::from("conf"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "-H" | "--host" => a.host = Some(value(arg)?),
            "-P" | "--port" => {
                let v = value(arg)?;
                a.port = Some(v.parse().map_err(|_| format!("bad port {v:?}"))?);
            }
            "-p" | "--password" => a.password = Some(value(arg)?),
            "-x" | "--execute" => a.execute.push(value(arg)?),
            "-l" | "--log-level" => a.log_level = value(arg)?,
            "--conf" => a.conf = value(arg)?.into(),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Some(a))
}

/// Host, port and password: flags first, then the config folder's `[esl]`, then defaults.
fn target(a: &Args) -> (String, u16, String) {
    let esl = Config::load(&a.conf, &[]).ok().map(|c| c.esl);
    let listen = esl.as_ref().and_then(|e| e.listen);
    let host = a.host.clone().unwrap_or_else(|| match listen {
        Some(l) if !l.ip().is_unspecified() => l.ip().to_string(),
        _ => "127.0.0.1".into(),
    });
    let port = a.port.or(listen.map(|l| l.port())).unwrap_or(8021);
    let password = (a.password.clone())
        .or(esl.map(|e| e.password))
        .unwrap_or_else(|| DEFAULT_ESL_PASSWORD.into());
    (host, port, password)
}

/// Runs `ferroswitch cli ARGS...`.
pub fn main(args: &[String]) -> ExitCode {
    let a = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferroswitch cli: {e}");
            return ExitCode::from(2);
        }
    };
    let (host, port, password) = target(&a);
    let (conn, reader) = match Connection::open(&host, port, &password) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferroswitch cli: {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut backend = SocketBackend {
        conn,
        reader: Some(reader),
        replies: None,
        colour: use_colour(),
    };
    if !a.execute.is_empty() {
        let mut failed = false;
        for cmd in &a.execute {
            match backend.api(cmd) {
                Ok(text) => {
                    print!("{text}");
                    if !text.ends_with('\n') {
                        println!();
                    }
                    failed |= is_error(&text);
                }
                Err(e) => {
                    eprintln!("ferroswitch cli: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let _ = backend.conn.send("exit");
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let names = backend
        .api("help")
        .map(|h| console::names_from_help(&h))
        .unwrap_or_default();
    if a.log_level != "none" {
        match backend.socket(&format!("log {}", a.log_level)) {
            Ok(t) if is_error(&t) => eprint!("{t}"),
            Ok(_) => {}
            Err(e) => eprintln!("{e}"),
        }
    }
    let prompt = format!("ferroswitch@{host}:{port}> ");
    match console::run(&mut backend, names, &prompt) {
        Ok(()) => {
            let _ = backend.conn.send("exit");
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::FAILURE,
    }
}

/// The console over the event socket.
struct SocketBackend {
    conn: Connection,
    /// Read directly until the output thread takes it.
    reader: Option<FrameReader>,
    replies: Option<mpsc::Receiver<Frame>>,
    colour: bool,
}

impl SocketBackend {
    /// The next reply frame (api/response or command/reply), skipping events and logs.
    fn reply(&mut self) -> Result<Frame, String> {
        if let Some(rx) = &self.replies {
            return match rx.recv_timeout(REPLY_TIMEOUT) {
                Ok(f) => Ok(f),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    Err("the switch did not answer in time".into())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Err("the switch closed the connection".into())
                }
            };
        }
        let reader = self.reader.as_mut().ok_or("no connection")?;
        loop {
            let f = reader.next()?;
            match f.header("Content-Type") {
                Some("api/response" | "command/reply") => return Ok(f),
                Some("text/disconnect-notice") => {
                    return Err("the switch closed the connection".into())
                }
                _ => {}
            }
        }
    }
}

impl Backend for SocketBackend {
    fn api(&mut self, line: &str) -> Result<String, String> {
        self.conn.send(&format!("api {line}"))?;
        Ok(reply_text(&self.reply()?))
    }

    fn socket(&mut self, command: &str) -> Result<String, String> {
        self.conn.send(command)?;
        Ok(reply_text(&self.reply()?))
    }

    fn start_output(&mut self, mut print: Box<dyn FnMut(String) + Send>) {
        let Some(mut reader) = self.reader.take() else {
            return;
        };
        reader.no_timeout();
        let (tx, rx) = mpsc::channel();
        self.replies = Some(rx);
        let colour = self.colour;
        std::thread::spawn(move || loop {
            let f = match reader.next() {
                Ok(f) => f,
                Err(e) => {
                    print(format!("{e}\n"));
                    return;
                }
            };
            let content_type = f.header("Content-Type").unwrap_or("").to_string();
            match content_type.as_str() {
                "api/response" | "command/reply" => match tx.send(f) {
                    Ok(()) => {}
                    Err(_) => return,
                },
                "log/data" => {
                    let level = f
                        .header("Log-Level")
                        .and_then(|l| l.parse().ok())
                        .unwrap_or(7);
                    print(paint(colour, level_colour(level), &f.body_text()));
                }
                t if t.starts_with("text/event-") => print(show_event(colour, t, &f)),
                "text/disconnect-notice" => {
                    print(f.body_text());
                    return;
                }
                _ => {}
            }
        });
    }
}

fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("{code}{}\x1b[0m\n", text.trim_end())
    } else {
        format!("{}\n", text.trim_end())
    }
}

/// An event for the console: plain events with their values decoded.
fn show_event(colour: bool, content_type: &str, f: &Frame) -> String {
    let body = f.body_text();
    let text = if content_type == "text/event-plain" {
        let mut out = String::new();
        let (head, rest) = body.split_once("\n\n").unwrap_or((body.as_str(), ""));
        for line in head.lines() {
            match line.split_once(": ") {
                Some((n, v)) => out.push_str(&format!("{n}: {}\n", url_decode(v))),
                None => out.push_str(&format!("{line}\n")),
            }
        }
        if !rest.is_empty() {
            out.push('\n');
            out.push_str(rest);
        }
        out
    } else {
        body
    };
    format!(
        "{}{}\n",
        paint(colour, "\x1b[1;34m", "RECV EVENT"),
        text.trim_end()
    )
}
