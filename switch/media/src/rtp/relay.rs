//! One call's relay decisions: two sides, each with an RTP and an RTCP socket.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::inactivity::Inactivity;
use super::latch::{Latch, LatchMode, Verdict};
use super::packet::{classify, Packet};

/// One leg of a call, as seen by its relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first leg (usually the inbound caller).
    A,
    /// The second leg (usually the bridged callee).
    B,
}

impl Side {
    /// 0 for A, 1 for B: an index into per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    /// The other leg.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// Which of a side's two sockets (the ICE "component"): RTP on the even port, RTCP on port+1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// The RTP socket (also carries RTCP when the peer uses rtcp-mux).
    Rtp,
    /// The RTCP socket.
    Rtcp,
}

/// Where a side's incoming media goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelayMode {
    /// Drop everything (not yet bridged). No inactivity timing.
    #[default]
    Idle,
    /// A's media goes back to A (extension 9196); B is ignored. A is timed.
    Echo,
    /// Early media: B's media goes to A, A's is dropped. No inactivity timing (A may not send
    /// before answer, B may only ring).
    Early,
    /// A and B's media cross over. Both attached sides are timed.
    Bridge,
}

/// Where a side wants its RTCP, from its SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtcpRemote {
    /// The RTP port plus one (RFC 3550 default).
    #[default]
    NextPort,
    /// On the RTP address (`a=rtcp-mux`, RFC 5761).
    Mux,
    /// At an explicit address (`a=rtcp:`, RFC 3605).
    At(SocketAddr),
}

/// Send the datagram just handled, unchanged, from `side`'s `component` socket to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Whose socket sends it.
    pub side: Side,
    /// Which of that side's sockets.
    pub component: Component,
    /// The destination.
    pub to: SocketAddr,
    from: Side,
    rtcp: bool,
}

/// Counters for one side. "In" is what the side sent us and we accepted, "out" what we sent it.
/// Byte counts are whole datagrams, headers included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideStats {
    /// Accepted RTP packets.
    pub packets_in: u64,
    /// Bytes of accepted RTP packets.
    pub bytes_in: u64,
    /// Accepted RTCP packets (either socket).
    pub rtcp_in: u64,
    /// RTP packets sent to this side.
    pub packets_out: u64,
    /// Bytes of RTP packets sent to this side.
    pub bytes_out: u64,
    /// RTCP packets sent to this side.
    pub rtcp_out: u64,
    /// Datagrams that were not valid RTP/RTCP (too short, wrong version, bad lengths).
    pub malformed: u64,
    /// Valid packets refused: from a source other than the latched one, or RTP on the RTCP port.
    pub rejected: u64,
    /// Accepted packets with nowhere to go (idle, other side absent or address unknown, send
    /// failed).
    pub unrouted: u64,
    /// The RTP source latched to, if any.
    pub latched: Option<SocketAddr>,
}

/// The sans-IO state of one call's relay: latches, inactivity, mode and counters.
#[derive(Debug, Clone)]
pub struct RelayState {
    mode: RelayMode,
    sides: [SideState; 2],
    inactivity: Inactivity,
}

#[derive(Debug, Clone)]
struct SideState {
    attached: bool,
    behind_nat: bool,
    rtp: Latch,
    rtcp: Latch,
    rtcp_remote: RtcpRemote,
    stats: SideStats,
    /// Overrides the mode's inactivity timing when set.
    timed: Option<bool>,
}

impl RelayState {
    /// A relay with no side attached, in [`RelayMode::Idle`]. `timeout` is the silence after
    /// which a side is reported by [`handle_timeout`](Self::handle_timeout); `None` disables it.
    pub fn new(latch: LatchMode, timeout: Option<Duration>) -> Self {
        let side = SideState {
            attached: false,
            behind_nat: false,
            rtp: Latch::new(latch),
            rtcp: Latch::new(latch),
            rtcp_remote: RtcpRemote::NextPort,
            stats: SideStats::default(),
            timed: None,
        };
        Self {
            mode: RelayMode::Idle,
            sides: [side.clone(), side],
            inactivity: Inactivity::new(timeout),
        }
    }

    /// Records that `side` now has sockets; its media can be received and sent.
    pub fn attach(&mut self, side: Side, now: Instant) {
        self.sides[side.index()].attached = true;
        self.rewatch(now);
    }

    /// Whether `side` has sockets.
    pub fn is_attached(&self, side: Side) -> bool {
        self.sides[side.index()].attached
    }

    /// Takes `side`'s RTP address from its SDP (RTCP goes to port+1 until
    /// [`set_rtcp`](Self::set_rtcp) says otherwise) and whether it is behind NAT. Forgets
    /// latched sources: a re-INVITE may have moved the media.
    pub fn set_remote(&mut self, side: Side, rtp: SocketAddr, behind_nat: bool) {
        let s = &mut self.sides[side.index()];
        s.behind_nat = behind_nat;
        s.rtp.set_remote(Some(rtp), behind_nat);
        s.rtcp_remote = RtcpRemote::NextPort;
        s.rtcp.set_remote(next_port(rtp), behind_nat);
    }

    /// Overrides where `side` wants RTCP. Call after [`set_remote`](Self::set_remote).
    pub fn set_rtcp(&mut self, side: Side, rtcp: RtcpRemote) {
        let s = &mut self.sides[side.index()];
        let addr = match rtcp {
            RtcpRemote::NextPort => s.rtp.sdp().and_then(next_port),
            RtcpRemote::Mux => None,
            RtcpRemote::At(addr) => Some(addr),
        };
        s.rtcp_remote = rtcp;
        s.rtcp.set_remote(addr, s.behind_nat);
    }

    /// Changes where media goes and which sides are timed.
    pub fn set_mode(&mut self, mode: RelayMode, now: Instant) {
        self.mode = mode;
        self.rewatch(now);
    }

    /// The current mode.
    pub fn mode(&self) -> RelayMode {
        self.mode
    }

    /// Suspends (`held`) or resumes `side`'s inactivity timing; media still flows.
    pub fn set_hold(&mut self, side: Side, held: bool, now: Instant) {
        self.inactivity.set_hold(side, held, now);
    }

    /// Handles a datagram `buf` received from `from` on `side`'s `component` socket at `now`.
    /// Returns where to send the same bytes, or `None` to drop them (counted in the stats).
    /// It is [`admit`](Self::admit) followed by [`route`](Self::route).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        side: Side,
        component: Component,
        from: SocketAddr,
        buf: &[u8],
    ) -> Option<Transmit> {
        let packet = self.admit(now, side, component, from, buf)?;
        self.route(side, matches!(packet, Packet::Rtcp(_)))
    }

    /// Checks and counts a datagram like [`handle_datagram`](Self::handle_datagram) but
    /// does not route it: returns the packet when it is valid and from the accepted source
    /// (latching on it as the mode says), `None` when it was dropped.
    pub fn admit(
        &mut self,
        now: Instant,
        side: Side,
        component: Component,
        from: SocketAddr,
        buf: &[u8],
    ) -> Option<Packet> {
        let s = &mut self.sides[side.index()];
        let packet = match classify(buf) {
            Ok(p) => p,
            Err(_) => {
                s.stats.malformed += 1;
                return None;
            }
        };
        let accepted = match (component, packet) {
            (Component::Rtp, Packet::Rtp(h)) => s.rtp.admit(from, h.ssrc) != Verdict::Reject,
            // RTCP on the RTP port (rtcp-mux) must come from the RTP source but does not latch.
            (Component::Rtp, Packet::Rtcp(_)) => s.rtp.allows(from),
            (Component::Rtcp, Packet::Rtcp(h)) => s.rtcp.admit(from, h.ssrc) != Verdict::Reject,
            (Component::Rtcp, Packet::Rtp(_)) => false,
        };
        if !accepted {
            s.stats.rejected += 1;
            return None;
        }
        if matches!(packet, Packet::Rtcp(_)) {
            s.stats.rtcp_in += 1;
        } else {
            s.stats.packets_in += 1;
            s.stats.bytes_in += buf.len() as u64;
            self.inactivity.on_packet(side, now);
        }
        Some(packet)
    }

    /// Where the mode sends an admitted packet from `side` (RTCP when `rtcp`): the other
    /// side, `side` itself in echo, or `None` (counted as unrouted).
    pub fn route(&mut self, side: Side, rtcp: bool) -> Option<Transmit> {
        let route = self
            .target(side)
            .and_then(|target| self.destination(target, rtcp));
        match route {
            Some((target, component, to)) => Some(Transmit {
                side: target,
                component,
                to,
                from: side,
                rtcp,
            }),
            None => {
                self.sides[side.index()].stats.unrouted += 1;
                None
            }
        }
    }

    /// Where `side` receives RTP (or RTCP), for packets the driver makes itself: the latched
    /// source, else the SDP address.
    pub fn destination_of(&self, side: Side, rtcp: bool) -> Option<(Component, SocketAddr)> {
        self.destination(side, rtcp).map(|(_, c, to)| (c, to))
    }

    /// Counts a packet the driver made itself and sent to `side` (`len` bytes).
    pub fn record_generated(&mut self, side: Side, rtcp: bool, len: usize) {
        let stats = &mut self.sides[side.index()].stats;
        if rtcp {
            stats.rtcp_out += 1;
        } else {
            stats.packets_out += 1;
            stats.bytes_out += len as u64;
        }
    }

    /// Times `side` for inactivity (`Some(true)`), never (`Some(false)`), or as the mode
    /// says (`None`, the default): for a leg the switch answers itself.
    pub fn set_timed(&mut self, side: Side, timed: Option<bool>, now: Instant) {
        self.sides[side.index()].timed = timed;
        self.rewatch(now);
    }

    /// Counts a [`Transmit`] the driver sent (`len` bytes).
    pub fn record_sent(&mut self, tx: &Transmit, len: usize) {
        let stats = &mut self.sides[tx.side.index()].stats;
        if tx.rtcp {
            stats.rtcp_out += 1;
        } else {
            stats.packets_out += 1;
            stats.bytes_out += len as u64;
        }
    }

    /// Counts a [`Transmit`] the driver could not send (socket busy or an error).
    pub fn record_failed(&mut self, tx: &Transmit) {
        self.sides[tx.from.index()].stats.unrouted += 1;
    }

    /// Counts a datagram the driver could not hand over whole (larger than its buffer).
    pub fn record_malformed(&mut self, side: Side) {
        self.sides[side.index()].stats.malformed += 1;
    }

    /// The next moment [`handle_timeout`](Self::handle_timeout) has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.inactivity.poll_timeout()
    }

    /// Reports a side that sent no RTP for the whole timeout, once per silence. Call until
    /// `None`. A deadline that moved later (packets arrived) simply reports nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Side> {
        self.inactivity.handle_timeout(now)
    }

    /// `side`'s counters and latched address.
    pub fn stats(&self, side: Side) -> SideStats {
        let s = &self.sides[side.index()];
        SideStats {
            latched: s.rtp.latched(),
            ..s.stats
        }
    }

    fn target(&self, from: Side) -> Option<Side> {
        let target = match (self.mode, from) {
            (RelayMode::Idle, _) | (RelayMode::Echo, Side::B) | (RelayMode::Early, Side::A) => {
                return None
            }
            (RelayMode::Echo, Side::A) => Side::A,
            (RelayMode::Early, Side::B) => Side::A,
            (RelayMode::Bridge, side) => side.other(),
        };
        Some(target).filter(|t| self.sides[t.index()].attached)
    }

    fn destination(&self, target: Side, rtcp: bool) -> Option<(Side, Component, SocketAddr)> {
        let t = &self.sides[target.index()];
        let (component, to) = match (rtcp, t.rtcp_remote) {
            (false, _) | (true, RtcpRemote::Mux) => (Component::Rtp, t.rtp.destination()),
            (true, _) => (Component::Rtcp, t.rtcp.destination()),
        };
        to.map(|to| (target, component, to))
    }

    fn rewatch(&mut self, now: Instant) {
        let (a, b) = match self.mode {
            RelayMode::Idle | RelayMode::Early => (false, false),
            RelayMode::Echo => (true, false),
            RelayMode::Bridge => (true, true),
        };
        for (side, on) in [(Side::A, a), (Side::B, b)] {
            let s = &self.sides[side.index()];
            let on = s.timed.unwrap_or(on) && s.attached;
            self.inactivity.watch(side, on, now);
        }
    }
}

fn next_port(addr: SocketAddr) -> Option<SocketAddr> {
    let port = addr.port().checked_add(1)?;
    Some(SocketAddr::new(addr.ip(), port))
}

#[cfg(test)]
mod tests;
