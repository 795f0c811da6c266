//! One event-socket connection: a reader task feeding the sans-IO parser, a writer task
//! draining a bounded outbound queue, and this task in between, which runs commands and
//! forwards events and log lines.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::command::Request;
use super::parser::{Frame, Mode, ParseError, Parser};
use super::wire::{self, api_response, command_reply};
use super::Throttle;
use crate::context::Context;
use crate::event::{Event, EventFormat, Interest, Subscription, MYEVENTS};
use crate::log::{hub, parse_fs_level, LogSubscription};

/// Frames waiting for the socket; past this the client is not reading and is dropped.
const OUT_QUEUE: usize = 512;
/// Room kept in the outbound queue for replies: events wait while less is free.
const REPLY_ROOM: usize = 32;
/// Writes of events to one client are at most this often: events that come within it wait
/// and go out together, one syscall for many frames under load. An idle connection's first
/// event, and every reply, is written at once.
const EVENT_COALESCE: Duration = Duration::from_millis(5);
/// What one write gathers at most.
const BATCH_BYTES: usize = 256 * 1024;
/// Frames in one write at most: two slices each, under the kernel's IOV_MAX of 1024.
const BATCH_FRAMES: usize = 500;
/// A write that makes no progress for this long disconnects the client.
const WRITE_STALL: Duration = Duration::from_secs(10);
/// A frame started but not finished within this long disconnects the client.
const PARTIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that has not authenticated within this long is disconnected.
const AUTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Delay before answering a wrong password (slows guessing).
const AUTH_FAIL_DELAY: Duration = Duration::from_millis(500);
/// Log lines queued per client.
const LOG_QUEUE: usize = 2000;

/// What the writer task writes: a reply (written at once) or an event, whose frame the
/// event serialized once for every subscriber.
enum Out {
    Text(String),
    Event(Arc<Event>, EventFormat),
}

impl Out {
    fn len(&self) -> usize {
        match self {
            Out::Text(t) => t.len(),
            Out::Event(e, format) => e.frame(*format).len(),
        }
    }

    fn push_slices<'a>(&'a self, slices: &mut Vec<IoSlice<'a>>) {
        match self {
            Out::Text(t) => slices.push(IoSlice::new(t.as_bytes())),
            Out::Event(e, format) => {
                for part in e.frame(*format).parts() {
                    slices.push(IoSlice::new(part.as_bytes()));
                }
            }
        }
    }
}

/// Writes every frame of `batch` with vectored writes straight from where each lives (the
/// event's shared frame), instead of copying them into one buffer per client first.
async fn write_batch(write: &mut OwnedWriteHalf, batch: &[Out]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(2 * batch.len());
    for o in batch {
        o.push_slices(&mut slices);
    }
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = write.write_vectored(rest).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

/// What the reader task reports.
enum Input {
    Frame(Frame),
    Bad(String),
}

struct Conn {
    ctx: Arc<Context>,
    peer: SocketAddr,
    out: mpsc::Sender<Out>,
    authed: bool,
    events: Option<Subscription>,
    format: EventFormat,
    logs: Option<LogSubscription>,
    /// The client stopped reading: drop it without flushing.
    dead: bool,
    /// Outbound mode: the channel this connection controls (its default for `sendmsg` and
    /// `myevents`).
    channel: Option<String>,
}

/// Serves one client until it leaves, misbehaves or stops reading.
pub(super) async fn serve(
    ctx: Arc<Context>,
    stream: TcpStream,
    peer: SocketAddr,
    throttle: Arc<Throttle>,
) {
    run(ctx, stream, peer, throttle, None).await;
}

/// Outbound mode (the `socket` application): the switch connected to a controller for the
/// channel `uuid`; no password, and `connect` answers with the channel's data. Returns when
/// the controller leaves.
pub async fn serve_outbound(ctx: Arc<Context>, stream: TcpStream, uuid: String) {
    let peer = match stream.peer_addr() {
        Ok(p) => p,
        Err(_) => return,
    };
    let throttle = Arc::new(Throttle::default());
    run(ctx, stream, peer, throttle, Some(uuid)).await;
}

async fn run(
    ctx: Arc<Context>,
    stream: TcpStream,
    peer: SocketAddr,
    throttle: Arc<Throttle>,
    channel: Option<String>,
) {
    let (read, write) = stream.into_split();
    let (out, out_rx) = mpsc::channel(OUT_QUEUE);
    let writer = tokio::spawn(write_loop(write, out_rx, peer));
    let (in_tx, mut in_rx) = mpsc::channel(8);
    let reader = tokio::spawn(read_loop(read, in_tx));
    let outbound = channel.is_some();
    let mut c = Conn {
        ctx,
        peer,
        out,
        authed: outbound,
        events: None,
        format: EventFormat::Plain,
        logs: None,
        dead: false,
        channel,
    };
    if !outbound {
        c.send(wire::AUTH_REQUEST.to_string());
    }
    let auth_deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
    loop {
        let room = c.out.capacity() > REPLY_ROOM;
        let waiter = (!room).then(|| c.out.clone());
        let authed = c.authed;
        tokio::select! {
            input = in_rx.recv() => match input {
                Some(Input::Frame(frame)) => {
                    if !c.handle(frame, &throttle).await {
                        break;
                    }
                }
                Some(Input::Bad(reason)) => {
                    tracing::warn!(source = %peer, %reason, "event socket: bad input, disconnecting");
                    c.send(command_reply(&format!("-ERR {reason}")));
                    c.send(wire::DISCONNECT_NOTICE.to_string());
                    break;
                }
                None => break,
            },
            Some(ev) = recv_event(&mut c.events), if room => {
                c.send_event(ev);
                // Take what else is queued in the same wake-up.
                while c.out.capacity() > REPLY_ROOM {
                    match c.events.as_mut().and_then(Subscription::try_recv) {
                        Some(ev) => c.send_event(ev),
                        None => break,
                    }
                }
            }
            Some(line) = recv_log(&mut c.logs), if room => {
                c.send(line.frame());
            }
            _ = tokio::time::sleep_until(auth_deadline), if !authed => {
                tracing::info!(source = %peer, "event socket: no auth in time, disconnecting");
                c.send(wire::DISCONNECT_NOTICE.to_string());
                break;
            }
            // The queue was nearly full: wake when the writer has made room again (the
            // permits are given back at once), so events flow again after a slow patch.
            _ = room_again(&waiter) => {}
            _ = c.out.closed() => break,
        }
        if c.dead || c.out.is_closed() {
            break;
        }
    }
    reader.abort();
    if c.dead {
        writer.abort();
    } else {
        // Dropping the sender lets the writer flush what is queued (the goodbye), then close.
        drop(c);
        let _ = writer.await;
    }
    tracing::debug!(source = %peer, "event socket: connection closed");
}

/// Returns once the outbound queue has room for events again; never without a sender.
async fn room_again(out: &Option<mpsc::Sender<Out>>) {
    match out {
        Some(out) => {
            let _ = out.reserve_many(REPLY_ROOM + 1).await;
        }
        None => std::future::pending().await,
    }
}

async fn recv_event(s: &mut Option<Subscription>) -> Option<Arc<Event>> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_log(s: &mut Option<LogSubscription>) -> Option<Arc<crate::log::LogLine>> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn read_loop(mut read: OwnedReadHalf, tx: mpsc::Sender<Input>) {
    let mut parser = Parser::new(Mode::Commands);
    let mut buf = vec![0u8; 16 * 1024];
    let mut partial_since: Option<Instant> = None;
    loop {
        let wait = match partial_since {
            Some(t) => PARTIAL_TIMEOUT.saturating_sub(t.elapsed()),
            None => Duration::from_secs(24 * 3600),
        };
        let n = match tokio::time::timeout(wait, read.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => n,
            Err(_) => {
                let why = format!("incomplete command for {}s", PARTIAL_TIMEOUT.as_secs());
                let _ = tx.send(Input::Bad(why)).await;
                return;
            }
        };
        parser.feed(&buf[..n]);
        while let Some(r) = parser.next_frame() {
            let input = match r {
                Ok(f) => Input::Frame(f),
                Err(e @ (ParseError::HeadTooLarge | ParseError::BodyTooLarge(_))) => {
                    Input::Bad(e.to_string())
                }
                Err(e) => Input::Bad(e.to_string()),
            };
            let stop = matches!(input, Input::Bad(_));
            if tx.send(input).await.is_err() || stop {
                return;
            }
        }
        partial_since = match (parser.pending(), partial_since) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(Instant::now()),
            (false, _) => None,
        };
    }
}

async fn write_loop(mut write: OwnedWriteHalf, mut rx: mpsc::Receiver<Out>, peer: SocketAddr) {
    let mut batch: Vec<Out> = Vec::new();
    // When the last write was: a write of events only waits until EVENT_COALESCE after it.
    let mut last_write: Option<tokio::time::Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut urgent = matches!(first, Out::Text(_));
        let mut bytes = first.len();
        batch.push(first);
        loop {
            // Whatever else is queued goes out in the same write.
            while bytes < BATCH_BYTES && batch.len() < BATCH_FRAMES {
                match rx.try_recv() {
                    Ok(out) => {
                        urgent |= matches!(out, Out::Text(_));
                        bytes += out.len();
                        batch.push(out);
                    }
                    Err(_) => break,
                }
            }
            // A full batch means the client is behind: no waiting then.
            if urgent || bytes >= BATCH_BYTES || batch.len() >= BATCH_FRAMES {
                break;
            }
            match last_write.map(|t| t + EVENT_COALESCE) {
                // Events only, and the last write was just now: let more gather. Frames
                // queued meanwhile do not wake this task; they are taken after the sleep.
                Some(due) if tokio::time::Instant::now() < due => {
                    tokio::time::sleep_until(due).await;
                    urgent = true; // the wait is over: write what is there
                }
                _ => break,
            }
        }
        match tokio::time::timeout(WRITE_STALL, write_batch(&mut write, &batch)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break,
            Err(_) => {
                tracing::warn!(source = %peer, "event socket: client stopped reading, disconnecting");
                break;
            }
        }
        last_write = Some(tokio::time::Instant::now());
        // Let go of the written events now, not when the next frame comes.
        batch.clear();
    }
    let _ = write.shutdown().await;
}

impl Conn {
    /// Queues a frame; a full queue means the client is not reading: it is dropped.
    fn send(&mut self, frame: String) {
        self.queue(Out::Text(frame));
    }

    /// Queues an event in the connection's format.
    fn send_event(&mut self, ev: Arc<Event>) {
        self.queue(Out::Event(ev, self.format));
    }

    fn queue(&mut self, out: Out) {
        if self.dead {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.out.try_send(out) {
            tracing::warn!(source = %self.peer, "event socket: client not reading (queue full), disconnecting");
            self.dead = true;
        }
    }

    /// Runs one command; false when the connection should end.
    async fn handle(&mut self, frame: Frame, throttle: &Throttle) -> bool {
        let req = Request::parse(frame);
        if !self.authed {
            return match req {
                Request::Auth(pw) => self.auth(&pw, throttle).await,
                Request::Exit => self.exit(),
                _ => {
                    self.send(command_reply("-ERR command not found"));
                    true
                }
            };
        }
        match req {
            Request::Auth(_) => self.send(command_reply("-ERR already authenticated")),
            Request::Api { cmd, args } => {
                let mut body = crate::api::execute_command(&self.ctx, &cmd, &args).await;
                if body.is_empty() {
                    body = "-ERR no reply\n".into();
                }
                self.send(api_response(&body));
            }
            Request::BgApi {
                cmd,
                args,
                job_uuid,
            } => {
                let job = job_uuid.unwrap_or_else(crate::call::new_uuid);
                self.send(wire::job_reply(&job));
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let body = crate::api::execute_command(&ctx, &cmd, &args).await;
                    let mut e = Event::new("BACKGROUND_JOB")
                        .with("Job-UUID", job)
                        .with("Job-Command", cmd);
                    if !args.is_empty() {
                        e.add("Job-Command-Arg", args);
                    }
                    e.set_body(body);
                    ctx.events.fire(e);
                });
            }
            Request::Event { format, names } => {
                let r = self
                    .subscription()
                    .update(|i| i.subscribe(names.iter().map(String::as_str)));
                match r {
                    Ok(()) => {
                        self.format = format;
                        self.send(command_reply(&format!(
                            "+OK event listener enabled {}",
                            format.as_str()
                        )));
                    }
                    Err(e) => self.send(command_reply(&format!("-ERR {e}"))),
                }
            }
            Request::MyEvents { uuid, format } => {
                let uuid = uuid.or_else(|| self.channel.clone());
                let known = uuid
                    .as_deref()
                    .is_some_and(|u| self.ctx.channels.get(u).is_some());
                if !known {
                    self.send(command_reply("-ERR invalid uuid"));
                } else {
                    self.format = format;
                    self.subscription().update(|i| {
                        let _ = i.subscribe(MYEVENTS.iter().copied());
                        i.restrict_to(uuid);
                    });
                    self.send(command_reply("+OK Events Enabled"));
                }
            }
            Request::NixEvent(names) => {
                let r = self
                    .subscription()
                    .update(|i| i.nix(names.iter().map(String::as_str)));
                match r {
                    Ok(()) => self.send(command_reply("+OK events nixed")),
                    Err(e) => self.send(command_reply(&format!("-ERR {e}"))),
                }
            }
            Request::NoEvents => {
                let listening = self
                    .events
                    .as_ref()
                    .is_some_and(|s| s.interest().is_listening());
                if let Some(s) = self.events.as_mut() {
                    s.update(|i| i.clear_names());
                    s.drain();
                }
                if listening {
                    self.send(command_reply("+OK no longer listening for events"));
                } else {
                    self.send(command_reply("-ERR not listening for events"));
                }
            }
            Request::Filter { header, value } => {
                let r = self
                    .subscription()
                    .update(|i| i.add_filter(&header, &value).map(|_| ()));
                match r {
                    Ok(()) => self.send(command_reply(&format!(
                        "+OK filter added. [{header}]=[{value}]"
                    ))),
                    Err(e) => self.send(command_reply(&format!("-ERR {e}"))),
                }
            }
            Request::FilterDelete { header, value } => {
                let r = self
                    .subscription()
                    .update(|i| i.delete_filter(&header, value.as_deref()));
                let text = match (r, value) {
                    (Err(e), _) => format!("-ERR {e}"),
                    (Ok(()), Some(v)) => format!("+OK filter deleted. [{header}]=[{v}]"),
                    (Ok(()), None) if header.eq_ignore_ascii_case("all") => {
                        "+OK filter deleted.".to_string()
                    }
                    (Ok(()), None) => format!("+OK filter deleted. [{header}]"),
                };
                self.send(command_reply(&text));
            }
            Request::Connect => match self.channel.clone() {
                Some(uuid) => {
                    let reply = self.channel_data(&uuid).await;
                    self.send(reply);
                }
                None => self.send(command_reply("-ERR connect is for outbound sockets")),
            },
            Request::SendMsg { uuid, frame } => {
                let uuid = uuid.or_else(|| self.channel.clone());
                let text = self.sendmsg(uuid, &frame).await;
                self.send(command_reply(&text));
            }
            Request::SendEvent { name, frame } => {
                let text = self.sendevent(&name, &frame);
                self.send(command_reply(&text));
            }
            Request::Linger(None) => self.send(command_reply("+OK will linger")),
            Request::Linger(Some(n)) => {
                self.send(command_reply(&format!("+OK will linger {n} seconds")))
            }
            Request::NoLinger => self.send(command_reply("+OK will not linger")),
            Request::Log(level) => match parse_fs_level(&level) {
                Some(n) if n > 0 => {
                    match &self.logs {
                        Some(l) => l.set_level(n),
                        None => self.logs = Some(hub().subscribe(n, LOG_QUEUE)),
                    }
                    self.send(command_reply(&format!("+OK log level {level} [{n}]")));
                }
                _ => self.send(command_reply("-ERR invalid log level")),
            },
            Request::NoLog => {
                if self.logs.take().is_some() {
                    self.send(command_reply("+OK no longer logging"));
                } else {
                    self.send(command_reply("-ERR not loging"));
                }
            }
            Request::Exit => return self.exit(),
            Request::Invalid(why) => self.send(command_reply(&format!("-ERR {why}"))),
            Request::Unknown(line) => {
                tracing::debug!(source = %self.peer, command = %line, "event socket: unknown command");
                self.send(command_reply("-ERR command not found"));
            }
        }
        true
    }

    async fn auth(&mut self, password: &str, throttle: &Throttle) -> bool {
        if password == self.ctx.config.esl.password {
            self.authed = true;
            throttle.succeeded(self.peer.ip());
            tracing::info!(source = %self.peer, "event socket: client authenticated");
            self.send(command_reply("+OK accepted"));
            return true;
        }
        if throttle.failed(self.peer.ip(), Instant::now()) {
            tracing::warn!(
                source = %self.peer,
                failures = super::MAX_AUTH_FAILURES,
                "event socket: repeated wrong passwords; refusing this address for {}s",
                super::FAIL_WINDOW.as_secs()
            );
        } else {
            tracing::warn!(source = %self.peer, "event socket: wrong password");
        }
        tokio::time::sleep(AUTH_FAIL_DELAY).await;
        self.send(command_reply("-ERR invalid"));
        self.send(wire::DISCONNECT_NOTICE.to_string());
        false
    }

    fn exit(&mut self) -> bool {
        self.send(command_reply("+OK bye"));
        self.send(wire::DISCONNECT_NOTICE.to_string());
        false
    }

    /// The connection's bus subscription, made on first use.
    fn subscription(&mut self) -> &mut Subscription {
        let label = format!("esl {}", self.peer);
        let (events, queue) = (&self.ctx.events, self.ctx.config.esl.event_queue);
        self.events
            .get_or_insert_with(|| events.subscribe(&label, Interest::default(), queue))
    }

    /// The reply to `connect`: the channel's headers and variables, as FreeSWITCH sends
    /// them in outbound mode.
    async fn channel_data(&self, uuid: &str) -> String {
        let mut e = Event::new("CHANNEL_DATA");
        if let Some(info) = self.ctx.channels.get(uuid) {
            info.add_headers(&mut e);
        }
        let calls = self.ctx.api.call_control();
        e.add("variable_uuid", uuid);
        if let Some(info) = self.ctx.channels.get(uuid) {
            e.add("variable_call_uuid", info.call_uuid);
        }
        for name in [
            "destination_number",
            "caller_id_number",
            "caller_id_name",
            "context",
        ] {
            if let Ok(Some(v)) = calls.getvar(&self.ctx, uuid, name).await {
                e.add(&format!("variable_{name}"), v);
            }
        }
        let mut text = String::from(
            "Content-Type: command/reply\nReply-Text: +OK\nSocket-Mode: async\nControl: full\n",
        );
        for (name, value) in e.headers() {
            text.push_str(&format!("{name}: {}\n", crate::event::url_encode(value)));
        }
        text.push('\n');
        text
    }

    async fn sendmsg(&self, uuid: Option<String>, frame: &Frame) -> String {
        let Some(uuid) = uuid.or_else(|| frame.header("Session-ID").map(str::to_string)) else {
            return "-ERR invalid session id [none]".into();
        };
        if self.ctx.channels.get(&uuid).is_none() {
            return format!("-ERR invalid session id [{uuid}]");
        }
        let command = frame
            .header("call-command")
            .unwrap_or("")
            .to_ascii_lowercase();
        match command.as_str() {
            "hangup" => {
                let cause = frame
                    .header("hangup-cause")
                    .unwrap_or("NORMAL_CLEARING")
                    .to_ascii_uppercase();
                let calls = self.ctx.api.call_control();
                match calls.kill(&self.ctx, &uuid, &cause).await {
                    Ok(_) => "+OK".into(),
                    Err(e) => format!("-ERR {e}"),
                }
            }
            "execute" => {
                let app = frame.header("execute-app-name").unwrap_or("").trim();
                if app.is_empty() {
                    return "-ERR missing execute-app-name".into();
                }
                // The argument is a header, or the body with content-type text/plain.
                let args = match frame.header("execute-app-arg") {
                    Some(a) => a.to_string(),
                    None => frame.body_text(),
                };
                let calls = self.ctx.api.call_control();
                match calls.execute(&self.ctx, &uuid, app, args.trim()).await {
                    Ok(_) => "+OK".into(),
                    Err(e) => format!("-ERR {e}"),
                }
            }
            "" => "-ERR missing call-command".into(),
            other => format!("-ERR not supported yet: call-command {other}"),
        }
    }

    fn sendevent(&self, name: &str, frame: &Frame) -> String {
        let Some(name) = crate::event::is_event_name(name) else {
            return format!("-ERR unknown event {name}");
        };
        let mut e = match (name, frame.header("Event-Subclass")) {
            ("CUSTOM", Some(sub)) => Event::custom(sub),
            ("CUSTOM", None) => return "-ERR CUSTOM events need an Event-Subclass header".into(),
            _ => Event::new(name),
        };
        for (n, v) in &frame.headers {
            if !matches!(
                n.to_ascii_lowercase().as_str(),
                "event-name" | "event-subclass" | "content-length"
            ) {
                e.add(n, crate::event::url_decode(v));
            }
        }
        if frame.body.is_some() {
            e.set_body(frame.body_text());
        }
        // As FreeSWITCH: an event naming a live channel (Unique-ID) goes to that channel's
        // queue (a script's input callback), not to the bus.
        if let Some(uuid) = e.header("Unique-ID").map(str::to_string) {
            if crate::api::queue_event(&self.ctx, &uuid, e.clone()) {
                return "+OK".into();
            }
        }
        self.ctx.events.fire(e);
        "+OK".into()
    }
}
