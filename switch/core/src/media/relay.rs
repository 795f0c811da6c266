//! The per-call media task: drives `switch_media::session::MediaSession` with real sockets
//! and a 20 ms clock (only while the session has audio to make).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use switch_media::rtp::{Component, LatchMode, RelayMode, RtcpRemote, Side, SideStats};
use switch_media::session::{
    AudioStream, LegCodec, LegStats, MediaSession, Play, PlayControl, SessionConfig, SessionError,
    SessionEvent, Tap,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Sleep;

use super::ports::MediaPort;

/// Largest datagram relayed; a datagram filling the whole buffer may have been cut short and
/// is counted as malformed.
const MAX_DATAGRAM: usize = 2048;

/// How a relay latches and when it gives up on a silent side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// Silence after which [`MediaEvent::Timeout`] is sent; `None` never times out.
    pub timeout: Option<Duration>,
    /// Symmetric RTP policy.
    pub latch: LatchMode,
    /// Jitter buffer delay bounds for decoded legs, ms.
    pub jitter_ms: (u32, u32),
}

impl Default for RelayConfig {
    /// 60 s timeout, [`LatchMode::Auto`].
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(60)),
            latch: LatchMode::Auto,
            jitter_ms: (20, 200),
        }
    }
}

/// Both sides' counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RelayStats {
    /// Side A.
    pub a: SideStats,
    /// Side B (zeros until attached).
    pub b: SideStats,
    /// The media engine's view of each side (jitter, DTMF, bad payload types), A then B.
    pub legs: [LegStats; 2],
}

impl RelayStats {
    /// One side's counters.
    pub fn side(&self, side: Side) -> &SideStats {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }
}

/// What a relay reports to its call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// `side` sent no RTP for the configured time while timed: hang up with MEDIA_TIMEOUT.
    /// Sent once per silence; the relay keeps running until stopped.
    Timeout {
        /// The call's tag given to [`spawn_relay`].
        tag: u64,
        /// The silent side.
        side: Side,
    },
    /// The relay ended (stopped, or every handle dropped); its ports are already free.
    Stopped {
        /// The call's tag given to [`spawn_relay`].
        tag: u64,
        /// Final counters, e.g. for the CDR (boxed: the common event stays small).
        stats: Box<RelayStats>,
    },
    /// Anything else the media engine reports: digits, playback ends, INFO to send.
    Session {
        /// The call's tag given to [`spawn_relay`].
        tag: u64,
        /// What happened.
        event: SessionEvent,
    },
}

/// Handle to one call's relay task. Cheap to clone; commands are applied in order.
/// The task stops on [`stop`](Self::stop) or when every handle is dropped.
#[derive(Debug, Clone)]
pub struct Relay {
    commands: mpsc::UnboundedSender<Command>,
}

enum Command {
    AttachB(MediaPort),
    Remote(Side, SocketAddr, bool),
    Rtcp(Side, RtcpRemote),
    Mode(RelayMode),
    Hold(Side, bool),
    Timed(Side, Option<bool>),
    Codec(
        Side,
        Option<LegCodec>,
        oneshot::Sender<Result<(), SessionError>>,
    ),
    Play(Side, Play, oneshot::Sender<Result<(), SessionError>>),
    StopPlay(Side),
    PlayControl(Side, PlayControl),
    AddTap(
        Side,
        u64,
        Box<dyn Tap>,
        oneshot::Sender<Result<(), SessionError>>,
    ),
    RemoveTap(Side, u64, oneshot::Sender<bool>),
    MixIn(Side, Option<AudioStream>),
    SendDtmf(Side, String, u32),
    SignalledDtmf(Side, char, u32),
    Stats(oneshot::Sender<RelayStats>),
    Release(oneshot::Sender<MediaPort>),
    Stop,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Taps and sounds are not Debug; the variant is what matters in logs.
        let name = match self {
            Command::AttachB(_) => "AttachB",
            Command::Remote(..) => "Remote",
            Command::Rtcp(..) => "Rtcp",
            Command::Mode(_) => "Mode",
            Command::Hold(..) => "Hold",
            Command::Timed(..) => "Timed",
            Command::Codec(..) => "Codec",
            Command::Play(..) => "Play",
            Command::StopPlay(_) => "StopPlay",
            Command::PlayControl(..) => "PlayControl",
            Command::AddTap(..) => "AddTap",
            Command::RemoveTap(..) => "RemoveTap",
            Command::MixIn(..) => "MixIn",
            Command::SendDtmf(..) => "SendDtmf",
            Command::SignalledDtmf(..) => "SignalledDtmf",
            Command::Stats(_) => "Stats",
            Command::Release(_) => "Release",
            Command::Stop => "Stop",
        };
        f.write_str(name)
    }
}

/// Starts the relay task for a call whose A leg has port `a`, in [`RelayMode::Idle`].
/// Events go to `events`, marked with `tag` (the call id).
///
/// # Panics
/// Outside a tokio runtime (as `tokio::spawn` does).
pub fn spawn_relay(
    a: MediaPort,
    cfg: RelayConfig,
    events: mpsc::UnboundedSender<MediaEvent>,
    tag: u64,
) -> Relay {
    let (commands, rx) = mpsc::unbounded_channel();
    tokio::spawn(Box::pin(run(a, cfg, rx, events, tag)));
    Relay { commands }
}

impl Relay {
    /// Gives the relay the B leg's port (allocated once the B leg exists). A second call
    /// replaces the first port, which is freed.
    pub fn attach_b(&self, b: MediaPort) {
        self.send(Command::AttachB(b));
    }

    /// Sets `side`'s RTP address from its SDP, RTCP at port+1, and whether it is behind NAT
    /// (signalling came from another address than the SDP's; matters in
    /// [`LatchMode::Auto`]). Forgets latched sources: call it for every new SDP.
    pub fn set_remote(&self, side: Side, addr: SocketAddr, behind_nat: bool) {
        self.send(Command::Remote(side, addr, behind_nat));
    }

    /// Overrides where `side` wants RTCP (`a=rtcp-mux`, `a=rtcp:`); call after
    /// [`set_remote`](Self::set_remote).
    pub fn set_rtcp(&self, side: Side, rtcp: RtcpRemote) {
        self.send(Command::Rtcp(side, rtcp));
    }

    /// Switches between idle, echo, early media and bridge.
    pub fn set_mode(&self, mode: RelayMode) {
        self.send(Command::Mode(mode));
    }

    /// Suspends (`held`) or resumes `side`'s inactivity timer.
    pub fn set_hold(&self, side: Side, held: bool) {
        self.send(Command::Hold(side, held));
    }

    /// Times `side` for inactivity whatever the mode (`Some(true)`: an answered leg the
    /// switch talks to itself), never (`Some(false)`), or as the mode says (`None`).
    pub fn set_timed(&self, side: Side, timed: Option<bool>) {
        self.send(Command::Timed(side, timed));
    }

    /// Sets (or forgets) `side`'s negotiated codec, so the relay can decode, play to and
    /// transcode for it.
    pub async fn set_codec(&self, side: Side, codec: Option<LegCodec>) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Codec(side, codec, tx));
        rx.await.unwrap_or(Ok(()))
    }

    /// Plays to `side`; a [`SessionEvent::PlayDone`] with `play.id` follows.
    pub async fn play(&self, side: Side, play: Play) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Play(side, play, tx));
        rx.await.unwrap_or(Ok(()))
    }

    /// Stops what `side` hears from a playback.
    pub fn stop_play(&self, side: Side) {
        self.send(Command::StopPlay(side));
    }

    /// Pauses, seeks or changes the volume of `side`'s playback.
    pub fn control_play(&self, side: Side, control: PlayControl) {
        self.send(Command::PlayControl(side, control));
    }

    /// Adds a tap on `side` (recording, media bugs).
    pub async fn add_tap(
        &self,
        side: Side,
        id: u64,
        tap: Box<dyn Tap>,
    ) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::AddTap(side, id, tap, tx));
        rx.await.unwrap_or(Ok(()))
    }

    /// Removes tap `id` from `side`; `false` when there was none.
    pub async fn remove_tap(&self, side: Side, id: u64) -> bool {
        let (tx, rx) = oneshot::channel();
        self.send(Command::RemoveTap(side, id, tx));
        rx.await.unwrap_or(false)
    }

    /// Adds `stream`'s audio to what `side` hears, or (`None`) stops.
    pub fn mix_in(&self, side: Side, stream: Option<AudioStream>) {
        self.send(Command::MixIn(side, stream));
    }

    /// Sends digits to `side` in its DTMF mode.
    pub fn send_dtmf(&self, side: Side, digits: &str, duration_ms: u32) {
        self.send(Command::SendDtmf(side, digits.to_string(), duration_ms));
    }

    /// A digit came from `side` by signalling (SIP INFO): report and relay it like the others.
    pub fn signalled_dtmf(&self, side: Side, digit: char, duration_ms: u32) {
        self.send(Command::SignalledDtmf(side, digit, duration_ms));
    }

    /// Current counters, after every command sent before this one has been applied;
    /// `None` once the relay has stopped (the final ones came with [`MediaEvent::Stopped`]).
    pub async fn stats(&self) -> Option<RelayStats> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stats(tx));
        rx.await.ok()
    }

    /// Ends the task and hands side A's port back instead of freeing it (a leg moving to
    /// another call's relay); side B's port is freed. `None` when the task is gone.
    pub async fn release(&self) -> Option<MediaPort> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Release(tx));
        rx.await.ok()
    }

    /// Ends the task; the ports are freed and [`MediaEvent::Stopped`] follows.
    pub fn stop(&self) {
        self.send(Command::Stop);
    }

    /// Whether the task has ended.
    pub fn is_stopped(&self) -> bool {
        self.commands.is_closed()
    }

    fn send(&self, command: Command) {
        // A stopped relay ignores commands; the call learns of the stop from its event.
        let _ = self.commands.send(command);
    }
}

/// The receive buffer (every socket is drained into it once readable) and the one the
/// engine's own packets are written to; allocated once per call.
struct Buffers {
    rx: [u8; MAX_DATAGRAM],
    out: [u8; MAX_DATAGRAM],
}

struct Task {
    session: MediaSession,
    a: MediaPort,
    b: Option<MediaPort>,
    events: mpsc::UnboundedSender<MediaEvent>,
    tag: u64,
}

async fn run(
    a: MediaPort,
    cfg: RelayConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
    tag: u64,
) {
    let session_cfg = SessionConfig {
        latch: cfg.latch,
        timeout: cfg.timeout,
        jitter_ms: cfg.jitter_ms,
    };
    let mut t = Task {
        session: MediaSession::new(session_cfg, rand::random()),
        a,
        b: None,
        events,
        tag,
    };
    t.session
        .set_wall_clock(now(), std::time::SystemTime::now());
    t.session.attach(Side::A, now());
    let mut bufs = Box::new(Buffers {
        rx: [0; MAX_DATAGRAM],
        out: [0; MAX_DATAGRAM],
    });
    let mut timer = Timer::new();
    // The 20 ms media clock runs only while the engine has audio to make.
    let mut ticker: Option<tokio::time::Interval> = None;

    loop {
        timer.arm(t.session.poll_timeout());
        if t.session.needs_ticks() {
            if ticker.is_none() {
                let mut i = tokio::time::interval(Duration::from_millis(20));
                // A late tick is made up at once: recordings keep call time.
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                ticker = Some(i);
            }
        } else {
            ticker = None;
        }
        let Buffers { rx, out } = &mut *bufs;
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Stop) => break,
                Some(Command::Release(reply)) => {
                    t.session.close();
                    let Task { a, .. } = t;
                    let _ = reply.send(a);
                    return;
                }
                Some(command) => t.apply(command),
            },
            r = t.a.rtp().readable() => t.drain(r, (Side::A, Component::Rtp), rx),
            r = t.a.rtcp().readable() => t.drain(r, (Side::A, Component::Rtcp), rx),
            r = readable(t.b.as_ref().map(|p| p.rtp())) => t.drain(r, (Side::B, Component::Rtp), rx),
            r = readable(t.b.as_ref().map(|p| p.rtcp())) => t.drain(r, (Side::B, Component::Rtcp), rx),
            _ = tick(ticker.as_mut()) => t.session.handle_tick(now()),
            () = timer.wait(), if timer.is_armed() => {
                timer.fired();
                t.session.handle_timeout(now());
            }
        }
        t.flush(out);
    }

    t.session.close();
    let stats = t.stats();
    // Free the ports before saying so.
    let Task { events, .. } = t;
    let _ = events.send(MediaEvent::Stopped {
        tag,
        stats: Box::new(stats),
    });
}

impl Task {
    fn apply(&mut self, command: Command) {
        let s = &mut self.session;
        match command {
            Command::AttachB(port) => {
                self.b = Some(port);
                s.attach(Side::B, now());
            }
            Command::Remote(side, addr, behind_nat) => s.set_remote(side, addr, behind_nat),
            Command::Rtcp(side, rtcp) => s.set_rtcp(side, rtcp),
            Command::Mode(mode) => s.set_mode(mode, now()),
            Command::Hold(side, held) => s.set_hold(side, held, now()),
            Command::Timed(side, timed) => s.set_timed(side, timed, now()),
            Command::Codec(side, codec, reply) => {
                let _ = reply.send(s.set_codec(side, codec));
            }
            Command::Play(side, play, reply) => {
                let _ = reply.send(s.play(side, play));
            }
            Command::StopPlay(side) => s.stop_play(side),
            Command::PlayControl(side, c) => s.control_play(side, c),
            Command::AddTap(side, id, tap, reply) => {
                let _ = reply.send(s.add_tap(side, id, tap));
            }
            Command::RemoveTap(side, id, reply) => {
                let _ = reply.send(s.remove_tap(side, id));
            }
            Command::MixIn(side, stream) => {
                if let Err(e) = s.mix_in(side, stream) {
                    tracing::info!(tag = self.tag, ?side, error = %e, "mix-in refused");
                }
            }
            Command::SendDtmf(side, digits, ms) => {
                if let Err(e) = s.send_dtmf(side, &digits, ms) {
                    tracing::info!(tag = self.tag, ?side, error = %e, "DTMF not sent");
                }
            }
            Command::SignalledDtmf(side, digit, ms) => s.handle_signalled_dtmf(side, digit, ms),
            Command::Stats(reply) => {
                let _ = reply.send(self.stats());
            }
            // Handled by the loop.
            Command::Stop | Command::Release(_) => {}
        }
    }

    fn stats(&self) -> RelayStats {
        let (a, b) = (self.session.stats(Side::A), self.session.stats(Side::B));
        RelayStats {
            a: a.relay,
            b: b.relay,
            legs: [a, b],
        }
    }

    /// Takes every datagram waiting on `side`'s `component` socket (readiness said there is
    /// one): one wake-up for a burst, one buffer for all sockets.
    fn drain(
        &mut self,
        ready: io::Result<()>,
        (side, component): (Side, Component),
        buf: &mut [u8; MAX_DATAGRAM],
    ) {
        if ready.is_err() {
            return;
        }
        // Bounded, so one flooded socket cannot starve the others or the commands.
        for _ in 0..64 {
            let received = match self.socket(side, component) {
                Some(s) => s.try_recv_from(&mut buf[..]),
                None => return,
            };
            match received {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                r => self.datagram((side, component), r, buf),
            }
        }
    }

    /// Handles one received datagram: check, latch, count, forward or consume.
    fn datagram(
        &mut self,
        (side, component): (Side, Component),
        received: io::Result<(usize, SocketAddr)>,
        buf: &mut [u8; MAX_DATAGRAM],
    ) {
        let (len, from) = match received {
            Ok(r) => r,
            Err(e) => {
                // UDP receive errors are transient (ICMP reports on some systems); keep going.
                tracing::debug!(?side, ?component, error = %e, "RTP receive failed");
                return;
            }
        };
        if len >= MAX_DATAGRAM {
            // It may have been cut short: a datagram that fills the buffer is not trusted.
            let mut empty = [0u8; 0];
            let _ = self
                .session
                .handle_datagram(now(), side, component, from, &mut empty);
            return;
        }
        let datagram = &mut buf[..len];
        let Some(fwd) = self
            .session
            .handle_datagram(now(), side, component, from, datagram)
        else {
            return;
        };
        let socket = self.socket(fwd.side, fwd.component);
        // Never wait on a full socket buffer: a late packet is worth less than the others.
        let sent = match socket.map(|s| s.try_send_to(datagram, fwd.to)) {
            Some(Ok(n)) => Ok(n),
            _ => Err(()),
        };
        self.session.record_forwarded(&fwd, sent);
    }

    /// Sends what the engine made and passes its events on.
    fn flush(&mut self, out: &mut [u8; MAX_DATAGRAM]) {
        while let Some(o) = self.session.poll_transmit(out) {
            if let Some(sock) = self.socket(o.side, o.component) {
                let _ = sock.try_send_to(&out[..o.len], o.to);
            }
        }
        while let Some(ev) = self.session.poll_event() {
            let ev = match ev {
                SessionEvent::Timeout { side } => {
                    tracing::info!(tag = self.tag, ?side, "no RTP for the media timeout");
                    MediaEvent::Timeout {
                        tag: self.tag,
                        side,
                    }
                }
                event => MediaEvent::Session {
                    tag: self.tag,
                    event,
                },
            };
            let _ = self.events.send(ev);
        }
    }

    fn socket(&self, side: Side, component: Component) -> Option<&UdpSocket> {
        let port = match side {
            Side::A => Some(&self.a),
            Side::B => self.b.as_ref(),
        };
        port.map(|p| match component {
            Component::Rtp => p.rtp(),
            Component::Rtcp => p.rtcp(),
        })
    }
}

/// Waits for the next media tick, or forever while the clock is off.
async fn tick(ticker: Option<&mut tokio::time::Interval>) {
    match ticker {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Waits until `socket` has a datagram, or forever when the side has none yet.
async fn readable(socket: Option<&UdpSocket>) -> io::Result<()> {
    match socket {
        Some(s) => s.readable().await,
        None => std::future::pending().await,
    }
}

/// The relay clock: tokio's, so a paused test runtime drives it too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// One reusable sleep for the inactivity deadline. It is moved earlier at once but left
/// alone when the deadline moves later (every packet does that): when it fires early,
/// `handle_timeout` finds nothing due and the next loop re-arms it.
struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Timer {
    fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
        }
    }

    fn arm(&mut self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else { return };
        let earlier = match self.armed {
            Some(armed) => deadline < armed,
            None => true,
        };
        if earlier {
            self.sleep
                .as_mut()
                .reset(tokio::time::Instant::from_std(deadline));
            self.armed = Some(deadline);
        }
    }

    fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    async fn wait(&mut self) {
        self.sleep.as_mut().await;
    }

    fn fired(&mut self) {
        self.armed = None;
    }
}
