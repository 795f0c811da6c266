//! Running a script for a call: the script runs on a thread of its own and asks through a
//! [`SessionHandle`]; the call task serves its requests here while it goes on handling SIP
//! and media. Operations that take time (playback, collecting digits, sleeping, recording)
//! are pending states with deadlines, so nothing blocks the call task.

use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::leg::LegState;
use super::{Call, CallEvent, End};
use crate::config::Action;
use crate::media::record::{Channels, Recorder, SilenceWatch};
use crate::media::{PlayEnd, Side};
use crate::script::{
    Digits, PlayEvent, Recorded, Reply, ScriptError, ScriptRequest, ScriptResult, SessionHandle,
    Shared,
};

/// How long a script may go on after its call hung up (hangup hooks) before the call's
/// record is written without waiting for it.
const AFTER_HANGUP: Duration = Duration::from_secs(10);

/// How a script run ended, for the dialplan.
pub(crate) enum ScriptEnd {
    /// Go on with the actions after the script (auto hangup off) or the ones it returned.
    Continue(Vec<Action>),
    /// Route the call again to this destination.
    Transfer(String),
    /// The script is done and the call is to be hung up normally.
    Hangup,
}

struct Collect {
    max: usize,
    terminators: String,
    first: Instant,
    inter: Duration,
    last: Option<Instant>,
    got: String,
    reply: Reply<Digits>,
}

struct Recording {
    tap: u64,
    started: Instant,
    until: Instant,
    reply: Reply<Result<Recorded, ScriptError>>,
}

/// What the call is doing for its script right now.
#[derive(Default)]
pub(crate) struct Pending {
    play: Option<(u64, std_mpsc::Sender<PlayEvent>, bool)>,
    collect: Option<Collect>,
    sleep: Option<(Instant, Reply<()>)>,
    record: Option<Recording>,
    transfer: Option<String>,
    /// The recording tap that heard enough silence.
    silent_tap: Option<u64>,
}

impl Call {
    /// Runs `script` for this call until it ends; see [`ScriptEnd`].
    pub(crate) async fn run_script(
        &mut self,
        script: &str,
        argv: Vec<String>,
    ) -> Result<ScriptEnd, End> {
        let Some(host) = self.ctx.script_host() else {
            tracing::error!(uuid = %self.uuid, %script, "no script engine is loaded");
            return Err(End::new("DESTINATION_OUT_OF_ORDER"));
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let handle = SessionHandle::new(self.uuid.clone(), tx, shared.clone());
        let (done_tx, mut done_rx) = oneshot::channel::<ScriptResult>();
        let name = script.to_string();
        // The blocking pool reuses threads, so a call does not pay for a
        // thread's creation (and its stack's page faults) each time; the
        // runtime sizes the pool and its stacks (see the binary's main).
        let _script_thread = tokio::task::spawn_blocking(move || {
            let r = host.run_call(&name, &argv, handle);
            let _ = done_tx.send(r);
        });
        tracing::info!(uuid = %self.uuid, %script, "script started");
        let (result, mut pending, ended) = self
            .serve_loop(&mut rx, &shared, Some(&mut done_rx), script)
            .await;
        if let Some(err) = &result.error {
            tracing::error!(uuid = %self.uuid, %script, error = %err, "script failed");
            if ended.is_none() {
                self.script_hung_up(&shared, &mut pending, &End::new("NORMAL_TEMPORARY_FAILURE"))
                    .await;
                return Err(End::new("NORMAL_TEMPORARY_FAILURE"));
            }
        }
        self.stop_pending(&mut pending).await;
        tracing::info!(uuid = %self.uuid, %script, "script ended");
        if let Some(e) = ended {
            return Err(e);
        }
        if let Some(dest) = pending.transfer.take() {
            return Ok(ScriptEnd::Transfer(dest));
        }
        if !result.actions.is_empty() {
            return Ok(ScriptEnd::Continue(
                result
                    .actions
                    .into_iter()
                    .map(|(app, args)| Action { app, args })
                    .collect(),
            ));
        }
        if result.auto_hangup {
            Ok(ScriptEnd::Hangup)
        } else {
            Ok(ScriptEnd::Continue(Vec::new()))
        }
    }

    /// Serves a script's requests while handling the call's events, until the script
    /// ends (`done`) or, without `done`, its handle is dropped. Returns what it left, the
    /// operations still pending, and how the call ended if it did.
    pub(super) async fn serve_loop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<ScriptRequest>,
        shared: &Shared,
        mut done: Option<&mut oneshot::Receiver<ScriptResult>>,
        script: &str,
    ) -> (ScriptResult, Pending, Option<End>) {
        let mut pending = Pending::default();
        let mut ended: Option<End> = None;
        let mut gave_up_at: Option<Instant> = None;
        let driven = done.is_none();
        let result = loop {
            self.progress(&mut pending, Instant::now());
            let deadline = match (&ended, gave_up_at) {
                (Some(_), Some(t)) => Some(t),
                _ => pending.deadline(),
            };
            // One value per wake-up, moved at once: its size does not matter.
            #[allow(clippy::large_enum_variant)]
            enum Wake {
                Done(ScriptResult),
                Req(Option<ScriptRequest>),
                Ev(Result<Option<CallEvent>, End>),
            }
            let wake = tokio::select! {
                r = async {
                    match done.as_mut() {
                        Some(d) => d.await.unwrap_or_default(),
                        None => std::future::pending().await,
                    }
                } => Wake::Done(r),
                req = rx.recv() => Wake::Req(req),
                ev = self.next_event(deadline) => Wake::Ev(ev),
            };
            let failed = match wake {
                Wake::Done(r) => {
                    // select! may see the end before requests the script sent just before
                    // it ended (a setVariable, then ACTIONS): serve those first, in order.
                    let mut last = None;
                    while let Ok(req) = rx.try_recv() {
                        if let Err(e) = self.serve(req, &mut pending, shared).await {
                            last = Some(e);
                            break;
                        }
                    }
                    match last {
                        None => break r,
                        Some(e) if e.redirects() => {
                            shared.hung_up("NORMAL_CLEARING");
                            self.stop_pending(&mut pending).await;
                            ended = Some(e);
                            break ScriptResult::default();
                        }
                        Some(e) => {
                            if ended.is_none() {
                                self.script_hung_up(shared, &mut pending, &e).await;
                                ended = Some(e);
                            }
                            break r;
                        }
                    }
                }
                // The driving handle is gone: the leg has nothing more to do.
                Wake::Req(None) if driven => {
                    break ScriptResult {
                        auto_hangup: true,
                        ..ScriptResult::default()
                    }
                }
                Wake::Req(None) => None,
                Wake::Req(Some(req)) => self.serve(req, &mut pending, shared).await.err(),
                Wake::Ev(Ok(Some(CallEvent::RecordSilence { tap }))) => {
                    pending.silent_tap = Some(tap);
                    None
                }
                Wake::Ev(Ok(Some(ev))) => self.background(ev).err(),
                Wake::Ev(Ok(None)) => None,
                Wake::Ev(Err(e)) => Some(e),
            };
            if let Some(e) = failed {
                if e.redirects() {
                    // uuid_transfer or uuid_bridge: the script loses its session, the call
                    // goes on elsewhere.
                    shared.hung_up("NORMAL_CLEARING");
                    self.stop_pending(&mut pending).await;
                    ended = Some(e);
                    break ScriptResult::default();
                }
                if ended.is_none() {
                    self.script_hung_up(shared, &mut pending, &e).await;
                    gave_up_at = Some(Instant::now() + AFTER_HANGUP);
                    ended = Some(e);
                }
                if driven {
                    break ScriptResult::default();
                }
            }
            if gave_up_at.is_some_and(|t| Instant::now() >= t) {
                tracing::warn!(uuid = %self.uuid, %script, "script still running 10 s after hangup; not waiting");
                break ScriptResult::default();
            }
        };
        (result, pending, ended)
    }

    /// Serves the [`SessionHandle`] an origination handed out until it is dropped.
    pub(crate) async fn serve_driven(
        &mut self,
        mut rx: mpsc::UnboundedReceiver<ScriptRequest>,
        shared: Arc<Shared>,
    ) -> Result<(), End> {
        let (_, mut pending, ended) = self.serve_loop(&mut rx, &shared, None, "session").await;
        self.stop_pending(&mut pending).await;
        match ended {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Serves one request; Err when the call ended doing it. A call that ended is marked so
    /// in `shared` before the script gets its reply: the script's next `ready()` is false.
    async fn serve(
        &mut self,
        req: ScriptRequest,
        p: &mut Pending,
        shared: &Shared,
    ) -> Result<(), End> {
        match req {
            ScriptRequest::Answer(r) => {
                let res = self.answer().await;
                if let Err(e) = &res {
                    shared.hung_up(&e.cause);
                }
                let _ = r.send(res.as_ref().map(|_| ()).map_err(|e| refused(&e.cause)));
                res?;
            }
            ScriptRequest::PreAnswer(r) => {
                let res = self.pre_answer().await;
                if let Err(e) = &res {
                    shared.hung_up(&e.cause);
                }
                let _ = r.send(res.as_ref().map(|_| ()).map_err(|e| refused(&e.cause)));
                res?;
            }
            ScriptRequest::Hangup(cause) => {
                let cause = if cause.trim().is_empty() {
                    "NORMAL_CLEARING".to_string()
                } else {
                    cause.trim().to_string()
                };
                return Err(End::new(&cause));
            }
            ScriptRequest::GetVar(name, r) => {
                let _ = r.send(self.variable(&name));
            }
            ScriptRequest::SetVar(name, value) => match value {
                Some(v) => {
                    self.vars.insert(name, v);
                }
                None => {
                    self.vars.remove(&name);
                }
            },
            ScriptRequest::Play {
                what,
                stop_on,
                events,
                started,
            } => {
                self.stop_play_pending(p).await;
                let id = match self.start_playback(&what, &stop_on).await {
                    Ok(id) => id,
                    Err(e) => {
                        shared.hung_up(&e.cause);
                        return Err(e);
                    }
                };
                match id {
                    Some(id) => {
                        // With no digits that stop it, the script's input callback gets them.
                        p.play = Some((id, events, true));
                        let _ = started.send(Ok(id));
                    }
                    None => {
                        let _ = events.send(PlayEvent::Done {
                            end: PlayEnd::Finished,
                            played_ms: 0,
                        });
                        let _ = started.send(Ok(0));
                    }
                }
            }
            ScriptRequest::PlayControl(c) => {
                if let Some(r) = &self.relay {
                    r.control_play(Side::A, c);
                }
            }
            ScriptRequest::StopPlay => {
                if let Some(r) = &self.relay {
                    r.stop_play(Side::A);
                }
            }
            ScriptRequest::Collect {
                max,
                terminators,
                first,
                inter,
                reply,
            } => {
                let now = Instant::now();
                p.collect = Some(Collect {
                    max: max.max(1),
                    terminators,
                    first: now + first,
                    inter,
                    last: None,
                    got: String::new(),
                    reply,
                });
            }
            ScriptRequest::FlushDigits => self.digits.clear(),
            ScriptRequest::Sleep(d, r) => p.sleep = Some((Instant::now() + d, r)),
            ScriptRequest::Execute(app, args, r) => {
                let res = Box::pin(self.run_app(&app, &args)).await;
                match res {
                    Ok(super::AppOutcome::Continue) => {
                        let _ = r.send(Ok(()));
                    }
                    Ok(super::AppOutcome::Failed(cause)) => {
                        self.vars
                            .insert("originate_disposition".into(), cause.clone());
                        let _ = r.send(Err(ScriptError::Refused(cause)));
                    }
                    Err(e) => {
                        shared.hung_up(&e.cause);
                        let _ = r.send(Ok(()));
                        return Err(e);
                    }
                }
            }
            ScriptRequest::Record {
                path,
                max,
                silence_threshold,
                silence,
                reply,
            } => {
                self.start_record_file(p, &path, max, silence_threshold, silence, reply)
                    .await
            }
            ScriptRequest::SendDtmf(d) => self.send_dtmf(&d),
            ScriptRequest::State(r) => {
                let _ = r.send(
                    match self.a_state {
                        LegState::Ended => "CS_HANGUP",
                        _ if self.winner.is_some() => "CS_EXCHANGE_MEDIA",
                        _ => "CS_EXECUTE",
                    }
                    .to_string(),
                );
            }
            ScriptRequest::Transfer(dest, r) => {
                p.transfer = Some(dest);
                let _ = r.send(Ok(()));
            }
        }
        Ok(())
    }

    /// A variable, with the built-in ones FreeSWITCH scripts read.
    pub(crate) fn variable(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        Some(match name {
            "uuid" => self.uuid.clone(),
            "destination_number" => self.destination.clone(),
            "caller_id_number" => self.caller_id_number.clone(),
            "caller_id_name" => self.caller_id_name.clone(),
            "context" => self.context.clone(),
            "sip_call_id" => self.a.call_id.clone(),
            "network_addr" => self.a.peer.addr.ip().to_string(),
            // FreeSWITCH's Answer-State: what `session:answered()` and `mediaReady()` read.
            "answer_state" => match self.a_state {
                LegState::Early if self.a_early_sdp_sent => "early".to_string(),
                LegState::Early => "ringing".to_string(),
                LegState::Answered => "answered".to_string(),
                LegState::Ended => "hangup".to_string(),
            },
            _ => return None,
        })
    }

    /// Starts a playback for the script and returns its id (`None`: nothing to play).
    async fn start_playback(&mut self, what: &str, stop_on: &str) -> Result<Option<u64>, End> {
        if self.a_state == LegState::Early {
            self.pre_answer().await?;
        }
        let before = self.next_play_id;
        self.begin_playback(what, stop_on).await?;
        Ok((self.next_play_id != before).then_some(self.next_play_id))
    }

    /// Moves pending operations on: playback events, digits, deadlines.
    fn progress(&mut self, p: &mut Pending, now: Instant) {
        if let Some((id, events, callback)) = &p.play {
            if *callback {
                while let Some(d) = self.digits.pop_front() {
                    let _ = events.send(PlayEvent::Digit {
                        digit: d,
                        duration_ms: 100,
                    });
                }
                while let Some(e) = self.session_events.pop_front() {
                    let _ = events.send(PlayEvent::Event(Box::new(e)));
                }
            }
            if let Some(i) = self.play_done.iter().position(|(pid, _)| pid == id) {
                let (_, end) = self.play_done.remove(i);
                let played_ms = self.play_ms.remove(id).unwrap_or(0);
                let _ = events.send(PlayEvent::Done { end, played_ms });
                p.play = None;
            }
        }
        if let Some(c) = p.collect.as_mut() {
            let mut done = false;
            let mut terminator = None;
            while let Some(d) = self.digits.pop_front() {
                c.last = Some(now);
                if c.terminators.contains(d) {
                    terminator = Some(d);
                    done = true;
                    break;
                }
                c.got.push(d);
                if c.got.len() >= c.max {
                    done = true;
                    break;
                }
            }
            let timed_out = match c.last {
                None => now >= c.first,
                Some(t) => now >= t + c.inter,
            };
            if done || timed_out {
                if let Some(c) = p.collect.take() {
                    let _ = c.reply.send(Digits {
                        digits: c.got,
                        terminator,
                    });
                }
            }
        }
        if p.sleep.as_ref().is_some_and(|(t, _)| now >= *t) {
            if let Some((_, r)) = p.sleep.take() {
                let _ = r.send(());
            }
        }
        if let Some(rec) = &p.record {
            let digit = self.digits.pop_front();
            let silent = p.silent_tap == Some(rec.tap);
            if digit.is_some() || silent || now >= rec.until {
                if let Some(rec) = p.record.take() {
                    p.silent_tap = None;
                    if let Some(relay) = self.relay.clone() {
                        let tap = rec.tap;
                        tokio::spawn(async move { relay.remove_tap(Side::A, tap).await });
                    }
                    let ms = now.duration_since(rec.started).as_millis() as u64;
                    let _ = rec.reply.send(Ok(Recorded {
                        ms,
                        terminator: digit,
                    }));
                }
            }
        }
    }

    async fn start_record_file(
        &mut self,
        p: &mut Pending,
        path: &str,
        max: Duration,
        threshold: u32,
        silence: Duration,
        reply: Reply<Result<Recorded, ScriptError>>,
    ) {
        let Some(codec) = self.a_codec.clone() else {
            let _ = reply.send(Err(refused("the caller has no decodable codec")));
            return;
        };
        let path = self.recording_path(path);
        let mut rec = match Recorder::start(&path, codec.rate(), Channels::Read) {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(refused(&e.to_string())));
                return;
            }
        };
        self.next_tap_id += 1;
        let tap = self.next_tap_id;
        if threshold > 0 && !silence.is_zero() {
            let owner = self.owner.clone();
            rec = rec.with_silence(SilenceWatch {
                threshold,
                frames: (silence.as_millis() / 20).max(1) as u32,
                notify: Box::new(move || {
                    let _ = owner.send(CallEvent::RecordSilence { tap });
                }),
            });
        }
        if let Some(relay) = &self.relay {
            if let Err(e) = relay.add_tap(Side::A, tap, Box::new(rec)).await {
                let _ = reply.send(Err(refused(&e.to_string())));
                return;
            }
        }
        let now = Instant::now();
        let max = if max.is_zero() {
            Duration::from_secs(3600)
        } else {
            max
        };
        p.record = Some(Recording {
            tap,
            started: now,
            until: now + max,
            reply,
        });
    }

    /// The call ended while the script ran: hang the caller up now, answer what is pending,
    /// and let the script see `ready() == false`.
    pub(super) async fn script_hung_up(&mut self, shared: &Shared, p: &mut Pending, end: &End) {
        shared.hung_up(&end.cause);
        self.hangup_a(&end.cause).await;
        self.end_forks(&end.cause).await;
        self.stop_pending(p).await;
    }

    async fn stop_play_pending(&mut self, p: &mut Pending) {
        if let Some((_, events, _)) = p.play.take() {
            if let Some(r) = &self.relay {
                r.stop_play(Side::A);
            }
            let _ = events.send(PlayEvent::Done {
                end: PlayEnd::Stopped,
                played_ms: 0,
            });
        }
    }

    pub(super) async fn stop_pending(&mut self, p: &mut Pending) {
        self.stop_play_pending(p).await;
        if let Some(c) = p.collect.take() {
            let _ = c.reply.send(Digits {
                digits: c.got,
                terminator: None,
            });
        }
        if let Some((_, r)) = p.sleep.take() {
            let _ = r.send(());
        }
        if let Some(rec) = p.record.take() {
            if let Some(relay) = &self.relay {
                relay.remove_tap(Side::A, rec.tap).await;
            }
            let _ = rec.reply.send(Ok(Recorded {
                ms: rec.started.elapsed().as_millis() as u64,
                terminator: None,
            }));
        }
    }
}

impl Pending {
    /// The earliest moment a pending operation must be looked at.
    fn deadline(&self) -> Option<Instant> {
        let collect = self.collect.as_ref().map(|c| match c.last {
            None => c.first,
            Some(t) => t + c.inter,
        });
        [
            collect,
            self.sleep.as_ref().map(|(t, _)| *t),
            self.record.as_ref().map(|r| r.until),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn refused(why: &str) -> ScriptError {
    ScriptError::Refused(why.to_string())
}
