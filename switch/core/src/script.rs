//! The boundary between calls and a script engine (the Lua host): core calls a
//! [`ScriptHost`] when the dialplan routes a call to a script, and the script drives the
//! call through a [`SessionHandle`], FreeSWITCH's `session` object in Rust.
//!
//! The host runs each script on a thread of its own, never on the async runtime: every
//! [`SessionHandle`] method blocks that thread until the call task has done the work, while
//! the call task keeps handling SIP and media. A call that hangs up meanwhile makes the
//! pending and later methods return at once ([`SessionHandle::ready`] turns false).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::media::{PlayControl, PlayEnd};

/// Runs scripts. The binary installs one (the Lua host) with [`crate::context::Context`].
pub trait ScriptHost: Send + Sync + 'static {
    /// Runs `script` (a path under the scripts folder, with its arguments) for a call and
    /// returns when it ends. Blocking: called on a thread of its own.
    fn run_call(&self, script: &str, argv: &[String], session: SessionHandle) -> ScriptResult;

    /// Runs `script` with no call (`luarun` from the console); its printed output or error.
    fn run(&self, script: &str, argv: &[String]) -> Result<String, String>;
}

/// What a script left when it ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScriptResult {
    /// A dialplan script's `ACTIONS` table: applications to run after it, in order.
    pub actions: Vec<(String, String)>,
    /// Why it failed (file and line), if it did.
    pub error: Option<String>,
    /// Hang up when the script ends (FreeSWITCH's `setAutoHangup`, default true).
    pub auto_hangup: bool,
}

/// Why a session method could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The call is over.
    #[error("the session is hung up")]
    HungUp,
    /// The request was refused, with the reason.
    #[error("{0}")]
    Refused(String),
}

/// How a playback went, for the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayEvent {
    /// A digit was pressed while playing (for the input callback).
    Digit {
        /// The key.
        digit: char,
        /// How long it was held, ms.
        duration_ms: u32,
    },
    /// An event queued to the channel (`sendevent` with its Unique-ID), for the input
    /// callback.
    Event(Box<crate::event::Event>),
    /// The playback ended.
    Done {
        /// Why.
        end: PlayEnd,
        /// How much played, ms.
        played_ms: u64,
    },
}

/// Digits collected by [`SessionHandle::collect_digits`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digits {
    /// The digits, terminator excluded.
    pub digits: String,
    /// The terminator that ended the input, if one did.
    pub terminator: Option<char>,
}

/// What a recording made by [`SessionHandle::record_file`] holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Length in ms.
    pub ms: u64,
    /// The digit that ended it, if one did.
    pub terminator: Option<char>,
}

pub(crate) type Reply<T> = oneshot::Sender<T>;

/// What a script asks of its call.
pub(crate) enum ScriptRequest {
    Answer(Reply<Result<(), ScriptError>>),
    PreAnswer(Reply<Result<(), ScriptError>>),
    Hangup(String),
    GetVar(String, Reply<Option<String>>),
    SetVar(String, Option<String>),
    Play {
        what: String,
        stop_on: String,
        events: std_mpsc::Sender<PlayEvent>,
        started: Reply<Result<u64, ScriptError>>,
    },
    PlayControl(PlayControl),
    StopPlay,
    Collect {
        max: usize,
        terminators: String,
        first: Duration,
        inter: Duration,
        reply: Reply<Digits>,
    },
    FlushDigits,
    Sleep(Duration, Reply<()>),
    Execute(String, String, Reply<Result<(), ScriptError>>),
    Record {
        path: String,
        max: Duration,
        silence_threshold: u32,
        silence: Duration,
        reply: Reply<Result<Recorded, ScriptError>>,
    },
    SendDtmf(String),
    State(Reply<String>),
    Transfer(String, Reply<Result<(), ScriptError>>),
}

/// The call as a script sees it: FreeSWITCH's `session` methods, blocking.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    uuid: String,
    tx: mpsc::UnboundedSender<ScriptRequest>,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    hung_up: AtomicBool,
    cause: Mutex<Option<String>>,
}

impl Shared {
    /// The call is over with `cause`.
    pub(crate) fn hung_up(&self, cause: &str) {
        if let Ok(mut c) = self.cause.lock() {
            c.get_or_insert_with(|| cause.to_string());
        }
        self.hung_up.store(true, Ordering::SeqCst);
    }
}

impl SessionHandle {
    pub(crate) fn new(
        uuid: String,
        tx: mpsc::UnboundedSender<ScriptRequest>,
        shared: Arc<Shared>,
    ) -> SessionHandle {
        SessionHandle { uuid, tx, shared }
    }

    /// The channel's uuid.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Whether the call is still up.
    pub fn ready(&self) -> bool {
        !self.shared.hung_up.load(Ordering::SeqCst)
    }

    /// The hangup cause once hung up.
    pub fn hangup_cause(&self) -> Option<String> {
        self.shared.cause.lock().ok().and_then(|c| c.clone())
    }

    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> ScriptRequest) -> Result<T, ScriptError> {
        if !self.ready() {
            return Err(ScriptError::HungUp);
        }
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| ScriptError::HungUp)?;
        rx.blocking_recv().map_err(|_| ScriptError::HungUp)
    }

    /// Answers the call (200 with the switch's SDP).
    pub fn answer(&self) -> Result<(), ScriptError> {
        self.ask(ScriptRequest::Answer)?
    }

    /// Early media (183 with the switch's SDP).
    pub fn pre_answer(&self) -> Result<(), ScriptError> {
        self.ask(ScriptRequest::PreAnswer)?
    }

    /// Hangs up with a Q.850 cause name.
    pub fn hangup(&self, cause: &str) {
        let _ = self.tx.send(ScriptRequest::Hangup(cause.to_string()));
        // Wait until the call task took it, so `ready()` is false on return.
        let _ = self.ask(ScriptRequest::State);
        self.shared.hung_up(cause);
    }

    /// A channel variable (`None` when unset). Works after hangup too.
    pub fn get_variable(&self, name: &str) -> Option<String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(ScriptRequest::GetVar(name.to_string(), tx))
            .ok()?;
        rx.blocking_recv().ok().flatten()
    }

    /// Sets (or with `None` unsets) a channel variable.
    pub fn set_variable(&self, name: &str, value: Option<&str>) {
        let _ = self.tx.send(ScriptRequest::SetVar(
            name.to_string(),
            value.map(str::to_string),
        ));
    }

    /// Starts playing `what` (a sound file, `a!b` for several, `tone_stream://`,
    /// `silence_stream://`, `local_stream://`); its events come from the returned handle.
    /// `stop_on` digits end it by themselves.
    pub fn play(&self, what: &str, stop_on: &str) -> Result<Playback, ScriptError> {
        let (events_tx, events) = std_mpsc::channel();
        let id = self.ask(|started| ScriptRequest::Play {
            what: what.to_string(),
            stop_on: stop_on.to_string(),
            events: events_tx,
            started,
        })??;
        Ok(Playback {
            id,
            events,
            session: self.clone(),
        })
    }

    /// Collects up to `max` digits, ending on a terminator, after `first` with none or after
    /// `inter` between two. Digits pressed before (since the last flush) count.
    pub fn collect_digits(
        &self,
        max: usize,
        terminators: &str,
        first: Duration,
        inter: Duration,
    ) -> Result<Digits, ScriptError> {
        self.ask(|reply| ScriptRequest::Collect {
            max,
            terminators: terminators.to_string(),
            first,
            inter,
            reply,
        })
    }

    /// Forgets digits pressed so far.
    pub fn flush_digits(&self) {
        let _ = self.tx.send(ScriptRequest::FlushDigits);
    }

    /// Waits `d` (digits pressed meanwhile are kept for later).
    pub fn sleep(&self, d: Duration) -> Result<(), ScriptError> {
        self.ask(|r| ScriptRequest::Sleep(d, r))
    }

    /// Runs a dialplan application (`bridge`, `playback`, `echo`, `park`, `set`...) and
    /// returns when it is done.
    pub fn execute(&self, app: &str, args: &str) -> Result<(), ScriptError> {
        self.ask(|r| ScriptRequest::Execute(app.to_string(), args.to_string(), r))?
    }

    /// Records what the caller says to `path` until `max`, a digit, or `silence` below
    /// `silence_threshold` (FreeSWITCH's energy units, 0 disables).
    pub fn record_file(
        &self,
        path: &str,
        max: Duration,
        silence_threshold: u32,
        silence: Duration,
    ) -> Result<Recorded, ScriptError> {
        self.ask(|reply| ScriptRequest::Record {
            path: path.to_string(),
            max,
            silence_threshold,
            silence,
            reply,
        })?
    }

    /// Sends digits to the caller.
    pub fn send_dtmf(&self, digits: &str) {
        let _ = self.tx.send(ScriptRequest::SendDtmf(digits.to_string()));
    }

    /// FreeSWITCH's channel state name (`CS_EXECUTE`, `CS_HANGUP`...).
    pub fn state(&self) -> String {
        if !self.ready() {
            return "CS_HANGUP".into();
        }
        self.ask(ScriptRequest::State)
            .unwrap_or_else(|_| "CS_HANGUP".into())
    }

    /// Routes the call again to `destination` once the script ends.
    pub fn transfer(&self, destination: &str) -> Result<(), ScriptError> {
        self.ask(|r| ScriptRequest::Transfer(destination.to_string(), r))?
    }
}

/// A running playback.
#[derive(Debug)]
pub struct Playback {
    id: u64,
    events: std_mpsc::Receiver<PlayEvent>,
    session: SessionHandle,
}

impl Playback {
    /// The playback's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next event; `Done` comes last (also when the call hangs up).
    pub fn next_event(&self) -> PlayEvent {
        self.events.recv().unwrap_or(PlayEvent::Done {
            end: PlayEnd::Stopped,
            played_ms: 0,
        })
    }

    /// Pauses, seeks or changes the volume.
    pub fn control(&self, control: PlayControl) {
        let _ = self.session.tx.send(ScriptRequest::PlayControl(control));
    }

    /// Stops it (a `Done` with [`PlayEnd::Stopped`] follows).
    pub fn stop(&self) {
        let _ = self.session.tx.send(ScriptRequest::StopPlay);
    }
}
