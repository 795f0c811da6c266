//! One call's media, sans-IO: two sides (A and B) that are relayed packet for packet when
//! they speak the same codec, and decoded, mixed with what the switch plays, and encoded
//! again when they do not (transcoding, playback, tones, DTMF in another mode, recording
//! taps).
//!
//! What it does: latching, inactivity and counters as [`RelayState`]; for sides with a
//! known codec ([`MediaSession::set_codec`]) a jitter buffer and decoder, in-band and RFC 4733
//! DTMF detection, an encoder with its own RTP numbering, a playlist player
//! ([`MediaSession::play`]), DTMF out in the side's mode ([`MediaSession::send_dtmf`]) and taps
//! that see every 20 ms of what a side sent and heard ([`Tap`]). A packet goes straight through
//! (its payload type renumbered if the sides differ) whenever nothing needs its audio, so a
//! plain bridge keeps the relay's cost and delay.
//!
//! What it does not do: I/O or reading a clock. The driver owns the sockets and a 20 ms
//! timer.
//!
//! Drive loop: hand each received datagram to [`MediaSession::handle_datagram`] (send the
//! returned [`Forward`] with the same, possibly renumbered, bytes); while
//! [`MediaSession::needs_ticks`] call [`MediaSession::handle_tick`] every 20 ms; after either,
//! drain [`MediaSession::poll_transmit`] and [`MediaSession::poll_event`]; sleep until
//! [`MediaSession::poll_timeout`] and call [`MediaSession::handle_timeout`].

mod leg;
mod player;
mod rtcp;
#[cfg(test)]
mod tests;

pub use leg::{DtmfOut, LegCodec, MAX_RTP};
pub use player::{AudioStream, Play, PlayControl, PlayItem, Sound};
pub use rtcp::RtcpFigures;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::dtmf::{Digit, DtmfEvent};
use crate::frame::Frame;
use crate::jitter::JitterStats;
use crate::rtp::{
    Component, LatchMode, Packet, RelayMode, RelayState, RtcpRemote, Side, SideStats,
};
use leg::Leg;
use player::Player;
use rtcp::{SideRtcp, WallClock};

/// Sees 20 ms of a side at a time: what it sent (`read`) and what it heard (`write`), both
/// at the side's rate (silence where there was none). Recording and media bugs are taps.
pub trait Tap: Send {
    /// One tick's audio. Return `false` to be removed (then [`Tap::close`] follows).
    fn on_frame(&mut self, read: &Frame, write: &Frame) -> bool;

    /// The tap is removed or the session ends.
    fn close(&mut self) {}
}

/// Why a session refused a request (the caller's fault or a codec that would not start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The side has no codec set, so the session cannot make audio for it.
    #[error("side {0:?} has no negotiated codec")]
    NoCodec(Side),
    /// A sample rate the switch does not run.
    #[error("sample rate {0} Hz is not supported")]
    Rate(u32),
    /// A decoder, encoder or jitter buffer could not be made.
    #[error("media setup failed: {0}")]
    Setup(String),
    /// Digits that cannot be sent.
    #[error("DTMF: {0}")]
    Dtmf(String),
}

/// How DTMF reached the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfSource {
    /// RFC 4733 telephone-event packets.
    Rfc4733,
    /// Tones in the audio.
    Inband,
}

/// Why a playback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayEnd {
    /// Played to the end.
    Finished,
    /// Replaced or stopped by a request.
    Stopped,
    /// Stopped by a digit the side sent.
    Digit(char),
}

/// What the session tells its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A digit was pressed on `side` (reported once, when it ends).
    Dtmf {
        /// The side that sent it.
        side: Side,
        /// The key.
        digit: char,
        /// How long it was held.
        duration_ms: u32,
        /// How it came.
        source: DtmfSource,
    },
    /// A playback on `side` ended.
    PlayDone {
        /// The side that heard it.
        side: Side,
        /// The request's id.
        id: u64,
        /// Why.
        end: PlayEnd,
        /// How much of it played.
        played_ms: u64,
    },
    /// `side` sent no RTP for the timeout.
    Timeout {
        /// The silent side.
        side: Side,
    },
    /// A digit is to go to `side` by SIP INFO (its DTMF mode is signalling).
    DtmfToSignalling {
        /// The side to send it to.
        side: Side,
        /// The key.
        digit: char,
        /// Its duration.
        duration_ms: u32,
    },
}

/// Send the datagram just handled, as it now is in the buffer, from `side`'s `component`
/// socket to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// Whose socket sends it.
    pub side: Side,
    /// Which socket.
    pub component: Component,
    /// Where.
    pub to: SocketAddr,
    inner: crate::rtp::Transmit,
}

/// A packet the session made: `len` bytes at the start of the buffer given to
/// [`MediaSession::poll_transmit`], to send from `side`'s `component` socket to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Whose socket sends it.
    pub side: Side,
    /// Which socket.
    pub component: Component,
    /// Where.
    pub to: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// Counters of one side.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LegStats {
    /// The relay's counters (packets and bytes in and out, malformed, rejected...).
    pub relay: SideStats,
    /// The jitter buffer's, when the side was ever decoded.
    pub jitter: Option<JitterStats>,
    /// RTP packets with a payload type the side did not negotiate.
    pub wrong_payload_type: u64,
    /// Payloads the decoder refused.
    pub decode_errors: u64,
    /// Digits received.
    pub dtmf_in: u64,
    /// RTCP: loss and jitter of what the side sent, round trip, the peer's own figures.
    pub rtcp: RtcpFigures,
}

/// Settings of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Symmetric RTP policy.
    pub latch: LatchMode,
    /// Hang up after this much silence from a timed side.
    pub timeout: Option<Duration>,
    /// Jitter buffer delay bounds, ms.
    pub jitter_ms: (u32, u32),
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            latch: LatchMode::Auto,
            timeout: Some(Duration::from_secs(60)),
            jitter_ms: (20, 200),
        }
    }
}

/// One generated packet waiting in the session.
struct Queued {
    side: Side,
    rtcp: bool,
    len: usize,
    data: [u8; MAX_RTP],
}

/// The media of one call. See the module docs.
pub struct MediaSession {
    cfg: SessionConfig,
    relay: RelayState,
    // Boxed: a leg with its frames is kilobytes, and the session lives in every call's task.
    legs: [Option<Box<Leg>>; 2],
    /// Per side: a codec was set (distinct from `legs`, which may be absent while unknown).
    mode: RelayMode,
    out: VecDeque<Queued>,
    events: VecDeque<SessionEvent>,
    dtmf_in: [u64; 2],
    ssrc_seed: u32,
    rtcp: [SideRtcp; 2],
    clock: WallClock,
    rtcp_buf: Vec<u8>,
}

impl MediaSession {
    /// A session with no side attached, in [`RelayMode::Idle`]. `ssrc_seed` makes the
    /// session's own SSRCs (pass something random).
    pub fn new(cfg: SessionConfig, ssrc_seed: u32) -> MediaSession {
        MediaSession {
            cfg,
            relay: RelayState::new(cfg.latch, cfg.timeout),
            legs: [None, None],
            mode: RelayMode::Idle,
            out: VecDeque::new(),
            events: VecDeque::new(),
            dtmf_in: [0; 2],
            ssrc_seed,
            rtcp: [
                SideRtcp::new(u64::from(ssrc_seed)),
                SideRtcp::new(u64::from(ssrc_seed).rotate_left(17)),
            ],
            clock: WallClock::new(Instant::now(), SystemTime::UNIX_EPOCH),
            rtcp_buf: Vec::new(),
        }
    }

    /// The wall-clock time at `now`, for the NTP timestamps of sender reports (without it
    /// they count from 1970 at the session's start, which still gives true round trips).
    pub fn set_wall_clock(&mut self, now: Instant, wall: SystemTime) {
        self.clock = WallClock::new(now, wall);
    }

    /// `side` has sockets now.
    pub fn attach(&mut self, side: Side, now: Instant) {
        self.relay.attach(side, now);
    }

    /// Where `side` wants its media (from SDP) and whether it looks NATed.
    pub fn set_remote(&mut self, side: Side, addr: SocketAddr, behind_nat: bool) {
        self.relay.set_remote(side, addr, behind_nat);
    }

    /// Where `side` wants RTCP; after [`set_remote`](Self::set_remote).
    pub fn set_rtcp(&mut self, side: Side, rtcp: RtcpRemote) {
        self.relay.set_rtcp(side, rtcp);
    }

    /// Suspends or resumes `side`'s inactivity timer (hold).
    pub fn set_hold(&mut self, side: Side, held: bool, now: Instant) {
        self.relay.set_hold(side, held, now);
    }

    /// Times `side` for inactivity regardless of the mode (an answered leg the switch
    /// terminates), or as the mode says (`None`).
    pub fn set_timed(&mut self, side: Side, timed: Option<bool>, now: Instant) {
        self.relay.set_timed(side, timed, now);
    }

    /// Who hears whom: idle, echo (A hears itself), early (A hears B) or bridge.
    pub fn set_mode(&mut self, mode: RelayMode, now: Instant) {
        self.mode = mode;
        self.relay.set_mode(mode, now);
        self.refresh_rx();
    }

    /// The current mode.
    pub fn mode(&self) -> RelayMode {
        self.mode
    }

    /// Sets (or with `None` forgets) `side`'s negotiated codec. A side without one is only
    /// ever relayed. Keeps the side's player and taps when the codec changes.
    pub fn set_codec(&mut self, side: Side, codec: Option<LegCodec>) -> Result<(), SessionError> {
        let ssrc = self.own_ssrc(side);
        let slot = &mut self.legs[side.index()];
        match codec {
            None => {
                if let Some(mut old) = slot.take() {
                    close_taps(&mut old);
                }
            }
            Some(c) => {
                if !crate::RATES.contains(&c.rate()) {
                    return Err(SessionError::Rate(c.rate()));
                }
                if slot.as_ref().is_some_and(|l| l.codec == c) {
                    return Ok(());
                }
                self.rtcp[side.index()].set_clock_rate(c.desc.clock_rate());
                let mut new = Leg::new(c, ssrc, self.cfg.jitter_ms);
                if let Some(old) = slot.take() {
                    new.taps = old.taps;
                    new.player = old.player.map(|mut p| {
                        p.retarget(new.codec.rate());
                        p
                    });
                }
                *slot = Some(Box::new(new));
            }
        }
        self.refresh_rx();
        Ok(())
    }

    /// The codec set for `side`.
    pub fn codec(&self, side: Side) -> Option<&LegCodec> {
        self.legs[side.index()].as_ref().map(|l| &l.codec)
    }

    /// Plays `play` to `side` (in place of what it hears). A playback already running there
    /// ends with [`PlayEnd::Stopped`].
    pub fn play(&mut self, side: Side, play: Play) -> Result<(), SessionError> {
        let leg = self.legs[side.index()]
            .as_mut()
            .ok_or(SessionError::NoCodec(side))?;
        let player = Player::new(play, leg.codec.rate());
        if let Some(old) = leg.player.replace(player) {
            self.events.push_back(SessionEvent::PlayDone {
                side,
                id: old.id(),
                end: PlayEnd::Stopped,
                played_ms: old.played_ms,
            });
        }
        self.refresh_rx();
        Ok(())
    }

    /// Stops `side`'s playback, if any (a [`SessionEvent::PlayDone`] follows).
    pub fn stop_play(&mut self, side: Side) {
        if let Some(p) = self.legs[side.index()]
            .as_mut()
            .and_then(|l| l.player.take())
        {
            self.events.push_back(SessionEvent::PlayDone {
                side,
                id: p.id(),
                end: PlayEnd::Stopped,
                played_ms: p.played_ms,
            });
        }
        self.refresh_rx();
    }

    /// Steers `side`'s playback (pause, seek, volume); nothing when none is running.
    pub fn control_play(&mut self, side: Side, control: PlayControl) {
        if let Some(p) = self.legs[side.index()]
            .as_mut()
            .and_then(|l| l.player.as_mut())
        {
            p.control(control);
        }
    }

    /// Whether `side` is playing something.
    pub fn is_playing(&self, side: Side) -> bool {
        self.legs[side.index()]
            .as_ref()
            .is_some_and(|l| l.player.is_some())
    }

    /// Adds a tap on `side` under `id`.
    pub fn add_tap(&mut self, side: Side, id: u64, tap: Box<dyn Tap>) -> Result<(), SessionError> {
        let leg = self.legs[side.index()]
            .as_mut()
            .ok_or(SessionError::NoCodec(side))?;
        leg.taps.push((id, tap));
        self.refresh_rx();
        Ok(())
    }

    /// Adds `stream`'s audio to what `side` hears (on top of its peer or a playback), until
    /// the stream is closed or this is called again; `None` stops it.
    pub fn mix_in(&mut self, side: Side, stream: Option<AudioStream>) -> Result<(), SessionError> {
        let leg = self.legs[side.index()]
            .as_mut()
            .ok_or(SessionError::NoCodec(side))?;
        leg.mix_in = stream.map(|s| (s, None));
        self.refresh_rx();
        Ok(())
    }

    /// Removes tap `id` from `side` (closing it); `false` if there was none.
    pub fn remove_tap(&mut self, side: Side, id: u64) -> bool {
        let Some(leg) = self.legs[side.index()].as_mut() else {
            return false;
        };
        let before = leg.taps.len();
        leg.taps.retain_mut(|(t, tap)| {
            if *t == id {
                tap.close();
                false
            } else {
                true
            }
        });
        let removed = leg.taps.len() != before;
        self.refresh_rx();
        removed
    }

    /// Sends `digits` to `side` in its DTMF mode. For a side whose mode is signalling the
    /// digits come back as [`SessionEvent::DtmfToSignalling`].
    pub fn send_dtmf(
        &mut self,
        side: Side,
        digits: &str,
        duration_ms: u32,
    ) -> Result<(), SessionError> {
        let leg = self.legs[side.index()]
            .as_mut()
            .ok_or(SessionError::NoCodec(side))?;
        if !leg.queue_dtmf(digits, duration_ms)? {
            for d in digits.chars().filter(|c| Digit::from_char(*c).is_some()) {
                self.events.push_back(SessionEvent::DtmfToSignalling {
                    side,
                    digit: d,
                    duration_ms,
                });
            }
        }
        Ok(())
    }

    /// Reports a digit that came by signalling (SIP INFO) on `side`: it is relayed to the
    /// other side when bridged, and reported like any other digit.
    pub fn handle_signalled_dtmf(&mut self, side: Side, digit: char, duration_ms: u32) {
        if let Some(d) = Digit::from_char(digit) {
            self.digit_heard(side, d, duration_ms, DtmfSource::Rfc4733, true);
        }
    }

    /// Handles a datagram received on `side`'s `component` socket. `buf` may be rewritten
    /// (payload type renumbering); send it as it then is when a [`Forward`] comes back.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        side: Side,
        component: Component,
        from: SocketAddr,
        buf: &mut [u8],
    ) -> Option<Forward> {
        let packet = self.relay.admit(now, side, component, from, buf)?;
        let target = self.hearer_of(side);
        let through = target.is_some_and(|t| self.passthrough(side, t));
        let h = match packet {
            Packet::Rtcp(_) => {
                self.rtcp[side.index()].on_rtcp(now, &self.clock, buf);
                // Reports pass only where the media passes unchanged end to end.
                return if through {
                    self.forward(side, true)
                } else {
                    None
                };
            }
            Packet::Rtp(h) => h,
        };
        self.rtcp[side.index()].on_rtp(now, h.ssrc, h.sequence, h.timestamp);
        let Some(leg) = self.legs[side.index()].as_mut() else {
            return self.forward(side, false);
        };
        let pt = h.payload_type;
        if leg.codec.telephone_event.is_some_and(|(te, _)| te == pt) {
            let payload = buf
                .get(h.payload_offset..h.payload_offset + h.payload_len)
                .unwrap_or(&[]);
            let mut ended = Vec::new();
            if let Some(rx) = leg.events_in.as_mut() {
                let _ = rx.handle_packet(now, h.sequence, h.timestamp, h.marker, payload);
                while let Some(ev) = rx.poll_event() {
                    if let DtmfEvent::End { digit, duration_ms } = ev {
                        ended.push((digit, duration_ms));
                    }
                }
            }
            let forward_te = through
                && target.is_some_and(|t| {
                    self.legs[t.index()]
                        .as_ref()
                        .is_some_and(|l| l.codec.telephone_event.is_some())
                });
            for (digit, ms) in ended {
                self.digit_heard(side, digit, ms, DtmfSource::Rfc4733, !forward_te);
            }
            if forward_te {
                if let Some(t) = target {
                    let te = self.legs[t.index()]
                        .as_ref()
                        .and_then(|l| l.codec.telephone_event);
                    if let Some((te_pt, _)) = te {
                        renumber(buf, te_pt);
                    }
                }
                return self.forward(side, false);
            }
            return None;
        }
        if pt != leg.codec.pt {
            // Not the negotiated codec: never decoded. Relayed as it is where the peers'
            // media passes end to end (comfort noise, or a codec they agreed on between
            // themselves), else dropped.
            leg.wrong_pt += 1;
            return if through {
                self.forward(side, false)
            } else {
                None
            };
        }
        if leg.rx.is_some() {
            leg.push_audio(now, &h, buf);
        }
        if through {
            if let Some(t) = target {
                if let Some(tpt) = self.legs[t.index()].as_ref().map(|l| l.codec.pt) {
                    renumber(buf, tpt);
                }
            }
            return self.forward(side, false);
        }
        None
    }

    /// Counts a [`Forward`] the driver sent (`Ok(len)`) or could not send.
    pub fn record_forwarded(&mut self, fwd: &Forward, sent: Result<usize, ()>) {
        match sent {
            Ok(len) => self.relay.record_sent(&fwd.inner, len),
            Err(()) => self.relay.record_failed(&fwd.inner),
        }
    }

    /// Whether [`handle_tick`](Self::handle_tick) has work: some side is decoded, played
    /// to, tapped, transcoded or sending DTMF.
    pub fn needs_ticks(&self) -> bool {
        self.legs.iter().flatten().any(|l| {
            l.rx.is_some()
                || l.player.is_some()
                || !l.taps.is_empty()
                || l.mix_in.is_some()
                || l.dtmf_busy()
        }) || [Side::A, Side::B].iter().any(|&s| self.encodes(s))
    }

    /// One 20 ms step: decode, play, mix, tap, encode.
    pub fn handle_tick(&mut self, now: Instant) {
        self.update_reporting(now);
        let mut heard: Vec<(Side, Digit, u32)> = Vec::new();
        for side in [Side::A, Side::B] {
            if let Some(leg) = self.legs[side.index()].as_mut() {
                leg.decode_tick(now, &mut |ev| {
                    if let DtmfEvent::End { digit, duration_ms } = ev {
                        heard.push((side, digit, duration_ms));
                    }
                });
            }
        }
        for (side, digit, ms) in heard {
            self.digit_heard(side, digit, ms, DtmfSource::Inband, true);
        }
        for side in [Side::A, Side::B] {
            self.fill_write(side);
        }
        for side in [Side::A, Side::B] {
            let encode = self.encodes(side);
            let dest = self.relay.destination_of(side, false);
            let Some(leg) = self.legs[side.index()].as_mut() else {
                continue;
            };
            if !leg.taps.is_empty() {
                let f = leg::frames_in(&mut leg.frames, leg.codec.rate());
                let (read, write) = (&f.read, &f.write);
                leg.taps.retain_mut(|(_, tap)| {
                    let keep = tap.on_frame(read, write);
                    if !keep {
                        tap.close();
                    }
                    keep
                });
            }
            if !encode {
                leg.skip_tick();
                continue;
            }
            let mut q = Queued {
                side,
                rtcp: false,
                len: 0,
                data: [0; MAX_RTP],
            };
            if let Some(w) = leg.send_tick(&mut q.data) {
                q.len = w.len;
                if dest.is_some() {
                    let d = &q.data;
                    let ts = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
                    let ssrc = crate::rtp::Ssrc(u32::from_be_bytes([d[8], d[9], d[10], d[11]]));
                    self.rtcp[side.index()].on_sent(now, ssrc, ts, w.len.saturating_sub(12));
                    self.out.push_back(q);
                }
            }
        }
    }

    /// The next packet the session made, written into `buf`.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Outgoing> {
        while let Some(q) = self.out.pop_front() {
            let Some((component, to)) = self.relay.destination_of(q.side, q.rtcp) else {
                continue;
            };
            let Some(dst) = buf.get_mut(..q.len) else {
                continue;
            };
            dst.copy_from_slice(&q.data[..q.len]);
            self.relay.record_generated(q.side, q.rtcp, q.len);
            return Some(Outgoing {
                side: q.side,
                component,
                to,
                len: q.len,
            });
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let dtmf = self
            .legs
            .iter()
            .flatten()
            .filter_map(|l| l.events_in.as_ref().and_then(|r| r.poll_timeout()));
        let rtcp = self.rtcp.iter().filter_map(SideRtcp::poll_timeout);
        self.relay
            .poll_timeout()
            .into_iter()
            .chain(dtmf)
            .chain(rtcp)
            .min()
    }

    /// Media timeouts (as [`SessionEvent::Timeout`]), telephone-events whose end never came,
    /// and RTCP reports that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.update_reporting(now);
        for side in [Side::A, Side::B] {
            let ssrc = crate::rtp::Ssrc(self.own_ssrc(side));
            let mut buf = std::mem::take(&mut self.rtcp_buf);
            if self.rtcp[side.index()].due_report(now, &self.clock, ssrc, &mut buf)
                && buf.len() <= MAX_RTP
            {
                let mut q = Queued {
                    side,
                    rtcp: true,
                    len: buf.len(),
                    data: [0; MAX_RTP],
                };
                q.data[..buf.len()].copy_from_slice(&buf);
                self.out.push_back(q);
            }
            self.rtcp_buf = buf;
        }
        while let Some(side) = self.relay.handle_timeout(now) {
            self.events.push_back(SessionEvent::Timeout { side });
        }
        let mut ended = Vec::new();
        for side in [Side::A, Side::B] {
            if let Some(rx) = self.legs[side.index()]
                .as_mut()
                .and_then(|l| l.events_in.as_mut())
            {
                rx.handle_timeout(now);
                while let Some(ev) = rx.poll_event() {
                    if let DtmfEvent::End { digit, duration_ms } = ev {
                        ended.push((side, digit, duration_ms));
                    }
                }
            }
        }
        for (side, digit, ms) in ended {
            self.digit_heard(side, digit, ms, DtmfSource::Rfc4733, true);
        }
    }

    /// `side`'s counters.
    pub fn stats(&self, side: Side) -> LegStats {
        let leg = self.legs[side.index()].as_ref();
        LegStats {
            relay: self.relay.stats(side),
            jitter: leg.and_then(|l| l.jitter_stats),
            wrong_payload_type: leg.map_or(0, |l| l.wrong_pt),
            decode_errors: leg.map_or(0, |l| l.decode_errors),
            dtmf_in: self.dtmf_in[side.index()],
            rtcp: self.rtcp[side.index()].figures(),
        }
    }

    /// Closes every tap (the session is ending).
    pub fn close(&mut self) {
        for leg in self.legs.iter_mut().flatten() {
            close_taps(leg);
        }
    }

    /// The SSRC of the stream the session makes for `side`.
    fn own_ssrc(&self, side: Side) -> u32 {
        self.ssrc_seed ^ (side.index() as u32).wrapping_mul(0x9e37_79b9)
    }

    /// Sends our own RTCP to the sides whose media the session terminates both ways; a
    /// side whose packets pass through hears the far end's reports instead.
    fn update_reporting(&mut self, now: Instant) {
        for side in [Side::A, Side::B] {
            let known = self.legs[side.index()].is_some() && self.relay.is_attached(side);
            let out_through = self
                .source_of(side)
                .is_some_and(|src| self.passthrough(src, side));
            let in_through = self
                .hearer_of(side)
                .is_some_and(|h| self.passthrough(side, h));
            let on = known && !out_through && !in_through;
            self.rtcp[side.index()].set_reporting(on, now);
        }
    }

    /// The side that hears `from`'s audio in the current mode.
    fn hearer_of(&self, from: Side) -> Option<Side> {
        match (self.mode, from) {
            (RelayMode::Bridge, s) => Some(s.other()),
            (RelayMode::Echo, Side::A) => Some(Side::A),
            (RelayMode::Early, Side::B) => Some(Side::A),
            _ => None,
        }
        .filter(|t| self.relay.is_attached(*t))
    }

    /// The side `to` hears, if any.
    fn source_of(&self, to: Side) -> Option<Side> {
        [Side::A, Side::B]
            .into_iter()
            .find(|&s| self.hearer_of(s) == Some(to))
    }

    /// Whether `from`'s packets go to `to` as they are.
    fn passthrough(&self, from: Side, to: Side) -> bool {
        let (f, t) = (
            self.legs[from.index()].as_ref(),
            self.legs[to.index()].as_ref(),
        );
        match (f, t) {
            // Unknown codecs can only be relayed.
            (None, _) | (_, None) => {
                t.is_none_or(|t| t.player.is_none() && !t.dtmf_busy() && t.mix_in.is_none())
            }
            (Some(f), Some(t)) => {
                t.player.is_none()
                    && !t.dtmf_busy()
                    && t.mix_in.is_none()
                    && (from == to || f.codec.same_audio(&t.codec))
                    && (f.codec.telephone_event.is_none() || t.codec.telephone_event.is_some())
            }
        }
    }

    /// Whether the session encodes audio for `side` this tick.
    fn encodes(&self, side: Side) -> bool {
        let Some(leg) = self.legs[side.index()].as_ref() else {
            return false;
        };
        if leg.player.is_some() || leg.dtmf_busy() || leg.mix_in.is_some() {
            return true;
        }
        self.source_of(side)
            .is_some_and(|src| !self.passthrough(src, side) && self.legs[src.index()].is_some())
    }

    /// Starts or stops each side's receive path as the others' needs say.
    fn refresh_rx(&mut self) {
        for side in [Side::A, Side::B] {
            let needed = self.needs_decode(side);
            if let Some(leg) = self.legs[side.index()].as_mut() {
                if needed {
                    let _ = leg.ensure_rx();
                } else {
                    leg.drop_rx();
                }
            }
        }
    }

    fn needs_decode(&self, side: Side) -> bool {
        let Some(leg) = self.legs[side.index()].as_ref() else {
            return false;
        };
        let hearer = self.hearer_of(side);
        let hearer_taps = hearer
            .and_then(|h| self.legs[h.index()].as_ref())
            .is_some_and(|h| !h.taps.is_empty());
        leg.codec.detect_inband
            || !leg.taps.is_empty()
            || hearer_taps
            || hearer.is_some_and(|h| !self.passthrough(side, h))
            // Answered and played to: keep reading so digits interrupt and taps line up.
            || leg.player.is_some()
    }

    /// Works out what `side` hears this tick into its `write` frame: its peer or playback,
    /// plus what is mixed in.
    fn fill_write(&mut self, side: Side) {
        let Some(leg) = self.legs[side.index()].as_deref_mut() else {
            return;
        };
        if leg.mix_in.is_none() {
            self.fill_write_base(side);
            return;
        }
        // A leg with nothing else to hear (parked, or its peer silent) still hears the
        // mixed-in audio: start from silence.
        let rate = leg.codec.rate();
        leg::frames_in(&mut leg.frames, rate).write.clear(rate);
        self.fill_write_base(side);
        let Some(leg) = self.legs[side.index()].as_deref_mut() else {
            return;
        };
        let Some((stream, resampler)) = leg.mix_in.as_mut() else {
            return;
        };
        let (frame, closed) = stream.pop();
        let Some(frame) = frame else {
            if closed {
                leg.mix_in = None;
                self.refresh_rx();
            }
            return;
        };
        let write = &mut leg::frames_in(&mut leg.frames, rate).write;
        if frame.rate() == rate {
            write.mix(&frame);
            return;
        }
        let mut resampled = Frame::default();
        if crate::resample::convert(resampler, &frame, rate, &mut resampled) {
            write.mix(&resampled);
        }
    }

    /// What `side` hears from its peer, its echo or its playback.
    fn fill_write_base(&mut self, side: Side) {
        let src = self.source_of(side);
        let [a, b] = &mut self.legs;
        let (mine, other) = match side {
            Side::A => (a, b),
            Side::B => (b, a),
        };
        let Some(leg) = mine.as_deref_mut() else {
            return;
        };
        // Echo (a side hearing itself) takes its own frame; a bridge the other side's.
        let src_leg = match src {
            Some(s) if s != side => other.as_deref_mut(),
            _ => None,
        };
        let echo = src == Some(side);
        let src_codec_rate = if echo {
            Some(leg.codec.rate())
        } else {
            src_leg.as_ref().map(|l| l.codec.rate())
        };
        let rate = leg.codec.rate();
        leg.set_audio_cap(match &leg.player {
            None => src_codec_rate,
            Some(_) => None,
        });
        if let Some(p) = leg.player.as_mut() {
            let write = &mut leg::frames_in(&mut leg.frames, rate).write;
            if !p.fill(write) {
                let id = p.id();
                let played_ms = p.played_ms;
                leg.player = None;
                self.events.push_back(SessionEvent::PlayDone {
                    side,
                    id,
                    end: PlayEnd::Finished,
                    played_ms,
                });
                self.refresh_rx();
            }
            return;
        }
        let read_ok = if echo {
            leg.read_ok
        } else {
            src_leg.as_ref().is_some_and(|l| l.read_ok)
        };
        if !read_ok {
            leg.frames().write.clear(rate);
            return;
        }
        if echo {
            let f = leg.frames();
            f.write.clone_from(&f.read);
            return;
        }
        let Some(src_leg) = src_leg else { return };
        let Some(src_read) = src_leg.frames.as_deref().map(|f| &f.read) else {
            return;
        };
        let frames = leg::frames_in(&mut leg.frames, rate);
        if !crate::resample::convert(&mut leg.resampler, src_read, rate, &mut frames.write) {
            frames.write.clear(rate);
        }
    }

    /// A digit ended on `side`: count it, report it, stop a playback it interrupts, and relay
    /// it to the side that hears `side` when `relay` (packets not passed through).
    fn digit_heard(
        &mut self,
        side: Side,
        digit: Digit,
        duration_ms: u32,
        source: DtmfSource,
        relay: bool,
    ) {
        self.dtmf_in[side.index()] += 1;
        let c = digit.char();
        self.events.push_back(SessionEvent::Dtmf {
            side,
            digit: c,
            duration_ms,
            source,
        });
        if let Some(leg) = self.legs[side.index()].as_mut() {
            if leg.player.as_ref().is_some_and(|p| p.stops_on(c)) {
                if let Some(p) = leg.player.take() {
                    self.events.push_back(SessionEvent::PlayDone {
                        side,
                        id: p.id(),
                        end: PlayEnd::Digit(c),
                        played_ms: p.played_ms,
                    });
                }
                self.refresh_rx();
            }
        }
        let target = self.hearer_of(side).filter(|&t| t != side);
        if let (true, Some(t)) = (relay, target) {
            match self.legs[t.index()].as_mut() {
                Some(l) if l.codec.dtmf_out != DtmfOut::Signalling => {
                    l.queue_digit(digit, duration_ms);
                }
                _ => self.events.push_back(SessionEvent::DtmfToSignalling {
                    side: t,
                    digit: c,
                    duration_ms,
                }),
            }
        }
    }

    fn forward(&mut self, side: Side, rtcp: bool) -> Option<Forward> {
        let inner = self.relay.route(side, rtcp)?;
        Some(Forward {
            side: inner.side,
            component: inner.component,
            to: inner.to,
            inner,
        })
    }
}

/// Sets an RTP packet's payload type, keeping its marker bit.
fn renumber(buf: &mut [u8], pt: u8) {
    if let Some(b) = buf.get_mut(1) {
        *b = (*b & 0x80) | (pt & 0x7f);
    }
}

fn close_taps(leg: &mut Leg) {
    for (_, tap) in leg.taps.iter_mut() {
        tap.close();
    }
    leg.taps.clear();
}
