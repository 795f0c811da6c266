//! The per-call relay task: drives `switch_media::rtp::RelayState` with real sockets.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use switch_media::rtp::{Component, LatchMode, RelayMode, RelayState, RtcpRemote, Side, SideStats};
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
}

impl Default for RelayConfig {
    /// 60 s timeout, [`LatchMode::Auto`].
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(60)),
            latch: LatchMode::Auto,
        }
    }
}

/// Both sides' counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayStats {
    /// Side A.
    pub a: SideStats,
    /// Side B (zeros until attached).
    pub b: SideStats,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// Handle to one call's relay task. Cheap to clone; commands are applied in order.
/// The task stops on [`stop`](Self::stop) or when every handle is dropped.
#[derive(Debug, Clone)]
pub struct Relay {
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
enum Command {
    AttachB(MediaPort),
    Remote(Side, SocketAddr, bool),
    Rtcp(Side, RtcpRemote),
    Mode(RelayMode),
    Hold(Side, bool),
    Stats(oneshot::Sender<RelayStats>),
    Stop,
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
    tokio::spawn(run(a, cfg, rx, events, tag));
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

    /// Current counters, after every command sent before this one has been applied;
    /// `None` once the relay has stopped (the final ones came with [`MediaEvent::Stopped`]).
    pub async fn stats(&self) -> Option<RelayStats> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stats(tx));
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

/// One reusable receive buffer per socket, allocated once per call.
struct Buffers {
    a_rtp: [u8; MAX_DATAGRAM],
    a_rtcp: [u8; MAX_DATAGRAM],
    b_rtp: [u8; MAX_DATAGRAM],
    b_rtcp: [u8; MAX_DATAGRAM],
}

async fn run(
    a: MediaPort,
    cfg: RelayConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
    tag: u64,
) {
    let mut state = RelayState::new(cfg.latch, cfg.timeout);
    state.attach(Side::A, now());
    let mut b: Option<MediaPort> = None;
    let mut bufs = Box::new(Buffers {
        a_rtp: [0; MAX_DATAGRAM],
        a_rtcp: [0; MAX_DATAGRAM],
        b_rtp: [0; MAX_DATAGRAM],
        b_rtcp: [0; MAX_DATAGRAM],
    });
    let mut timer = Timer::new();

    loop {
        timer.arm(state.poll_timeout());
        let Buffers {
            a_rtp,
            a_rtcp,
            b_rtp,
            b_rtcp,
        } = &mut *bufs;
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Stop) => break,
                Some(command) => apply(command, &mut state, &mut b),
            },
            r = a.rtp.recv_from(&mut a_rtp[..]) => {
                relay(&mut state, (Side::A, Component::Rtp), r, &a_rtp[..], &a, b.as_ref());
            }
            r = a.rtcp.recv_from(&mut a_rtcp[..]) => {
                relay(&mut state, (Side::A, Component::Rtcp), r, &a_rtcp[..], &a, b.as_ref());
            }
            r = recv_from(b.as_ref().map(|p| &p.rtp), &mut b_rtp[..]) => {
                relay(&mut state, (Side::B, Component::Rtp), r, &b_rtp[..], &a, b.as_ref());
            }
            r = recv_from(b.as_ref().map(|p| &p.rtcp), &mut b_rtcp[..]) => {
                relay(&mut state, (Side::B, Component::Rtcp), r, &b_rtcp[..], &a, b.as_ref());
            }
            () = timer.wait(), if timer.is_armed() => {
                timer.fired();
                while let Some(side) = state.handle_timeout(now()) {
                    tracing::info!(tag, ?side, "no RTP for the media timeout");
                    let _ = events.send(MediaEvent::Timeout { tag, side });
                }
            }
        }
    }

    let stats = RelayStats {
        a: state.stats(Side::A),
        b: state.stats(Side::B),
    };
    // Free the ports before saying so.
    drop(b);
    drop(a);
    let _ = events.send(MediaEvent::Stopped {
        tag,
        stats: Box::new(stats),
    });
}

fn apply(command: Command, state: &mut RelayState, b: &mut Option<MediaPort>) {
    match command {
        Command::AttachB(port) => {
            *b = Some(port);
            state.attach(Side::B, now());
        }
        Command::Remote(side, addr, behind_nat) => state.set_remote(side, addr, behind_nat),
        Command::Rtcp(side, rtcp) => state.set_rtcp(side, rtcp),
        Command::Mode(mode) => state.set_mode(mode, now()),
        Command::Hold(side, held) => state.set_hold(side, held, now()),
        Command::Stats(reply) => {
            let _ = reply.send(RelayStats {
                a: state.stats(Side::A),
                b: state.stats(Side::B),
            });
        }
        // Handled by the loop.
        Command::Stop => {}
    }
}

/// Handles one received datagram: check, latch, count, and forward it unchanged.
fn relay(
    state: &mut RelayState,
    (side, component): (Side, Component),
    received: io::Result<(usize, SocketAddr)>,
    buf: &[u8],
    a: &MediaPort,
    b: Option<&MediaPort>,
) {
    let (len, from) = match received {
        Ok(r) => r,
        Err(e) => {
            // UDP receive errors are transient (ICMP reports on some systems); keep going.
            tracing::debug!(?side, ?component, error = %e, "RTP receive failed");
            return;
        }
    };
    let Some(datagram) = buf.get(..len).filter(|d| d.len() < MAX_DATAGRAM) else {
        state.record_malformed(side);
        return;
    };
    let Some(tx) = state.handle_datagram(now(), side, component, from, datagram) else {
        return;
    };
    let port = match tx.side {
        Side::A => Some(a),
        Side::B => b,
    };
    let socket = port.map(|p| match tx.component {
        Component::Rtp => &p.rtp,
        Component::Rtcp => &p.rtcp,
    });
    // Never wait on a full socket buffer: a late packet is worth less than the others.
    match socket.map(|s| s.try_send_to(datagram, tx.to)) {
        Some(Ok(sent)) => state.record_sent(&tx, sent),
        _ => state.record_failed(&tx),
    }
}

/// Receives on `socket`, or waits forever when the side has none yet.
async fn recv_from(socket: Option<&UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
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
