//! Symmetric RTP ("latching"): where a side's media is accepted from and where it is sent.

use std::net::SocketAddr;

use super::packet::Ssrc;

/// When to learn a side's media address from the packets it sends rather than from its SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LatchMode {
    /// Latch only when the side is behind NAT, i.e. its signalling came from an address other
    /// than the one in its SDP (the core decides and passes `behind_nat`).
    #[default]
    Auto,
    /// Always latch to the source of the first valid packet.
    Always,
    /// Never latch: send to the SDP address and accept packets from any source.
    Never,
}

/// What to do with a packet offered to [`Latch::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Accept it; the destination is unchanged.
    Accept,
    /// Accept it; its source is now where this side's media is sent.
    Latched,
    /// Drop it: it comes from a source other than the latched one with the same SSRC.
    Reject,
}

/// One socket's latching state: the SDP address, and the learned source and SSRC.
#[derive(Debug, Clone)]
pub struct Latch {
    mode: LatchMode,
    sdp: Option<SocketAddr>,
    behind_nat: bool,
    current: Option<(SocketAddr, Ssrc)>,
}

impl Latch {
    /// A latch with no SDP address yet.
    pub fn new(mode: LatchMode) -> Self {
        Self {
            mode,
            sdp: None,
            behind_nat: false,
            current: None,
        }
    }

    /// Takes the address from the side's (new) SDP and forgets any latched source, so the
    /// next packet latches afresh (a re-INVITE may move the media).
    ///
    /// An unspecified IP (`0.0.0.0`, the old hold style) or port 0 (a refused stream) gives no
    /// destination: sending there would reach this host.
    pub fn set_remote(&mut self, sdp: Option<SocketAddr>, behind_nat: bool) {
        self.sdp = sdp.filter(|a| !a.ip().is_unspecified() && a.port() != 0);
        self.behind_nat = behind_nat;
        self.current = None;
    }

    /// Forgets the latched source; the next valid packet latches again.
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// Whether this latch learns addresses from packets in its mode and NAT state.
    pub fn is_latching(&self) -> bool {
        match self.mode {
            LatchMode::Always => true,
            LatchMode::Never => false,
            LatchMode::Auto => self.behind_nat,
        }
    }

    /// Decides on a valid packet from `from` carrying `ssrc`, latching when due.
    ///
    /// Once latched, a packet from another source is accepted (and re-latched to) only if
    /// its SSRC differs from the latched one: a new stream, not a stray copy of the old one.
    pub fn admit(&mut self, from: SocketAddr, ssrc: Ssrc) -> Verdict {
        if !self.is_latching() {
            return Verdict::Accept;
        }
        match self.current {
            Some((addr, _)) if addr == from => {
                // The same source may restart its stream with a new SSRC.
                self.current = Some((addr, ssrc));
                Verdict::Accept
            }
            Some((_, latched)) if latched == ssrc => Verdict::Reject,
            _ => {
                self.current = Some((from, ssrc));
                Verdict::Latched
            }
        }
    }

    /// Whether a packet from `from` that must not move the latch (RTCP on a muxed RTP port)
    /// is accepted: yes unless latched to another source.
    pub fn allows(&self, from: SocketAddr) -> bool {
        match self.current {
            Some((addr, _)) if self.is_latching() => addr == from,
            _ => true,
        }
    }

    /// Where this side's media goes: the latched source if any, else the SDP address.
    pub fn destination(&self) -> Option<SocketAddr> {
        match self.current {
            Some((addr, _)) if self.is_latching() => Some(addr),
            _ => self.sdp,
        }
    }

    /// The usable address from the SDP, if any.
    pub fn sdp(&self) -> Option<SocketAddr> {
        self.sdp
    }

    /// The latched source, if latching and a packet has been seen.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.current.map(|(addr, _)| addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn never_sends_to_sdp_and_accepts_any_source() {
        let mut l = Latch::new(LatchMode::Never);
        l.set_remote(Some(addr("10.0.0.1:4000")), true);
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(1)), Verdict::Accept);
        assert_eq!(l.admit(addr("198.51.100.1:1"), Ssrc(1)), Verdict::Accept);
        assert_eq!(l.destination(), Some(addr("10.0.0.1:4000")));
        assert_eq!(l.latched(), None);
    }

    #[test]
    fn always_latches_to_the_first_source_and_rejects_others_with_the_same_ssrc() {
        let mut l = Latch::new(LatchMode::Always);
        l.set_remote(Some(addr("10.0.0.1:4000")), false);
        assert_eq!(l.destination(), Some(addr("10.0.0.1:4000")));
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(7)), Verdict::Latched);
        assert_eq!(l.destination(), Some(addr("203.0.113.9:5555")));
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(7)), Verdict::Accept);
        assert_eq!(l.admit(addr("198.51.100.1:1"), Ssrc(7)), Verdict::Reject);
        assert_eq!(l.destination(), Some(addr("203.0.113.9:5555")));
    }

    #[test]
    fn always_relatches_when_the_ssrc_changes() {
        let mut l = Latch::new(LatchMode::Always);
        l.admit(addr("203.0.113.9:5555"), Ssrc(7));
        assert_eq!(
            l.admit(addr("198.51.100.1:6000"), Ssrc(8)),
            Verdict::Latched
        );
        assert_eq!(l.latched(), Some(addr("198.51.100.1:6000")));
        // The old source with the old SSRC is now the stray one.
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(8)), Verdict::Reject);
    }

    #[test]
    fn same_source_new_ssrc_keeps_the_latch() {
        let mut l = Latch::new(LatchMode::Always);
        l.admit(addr("203.0.113.9:5555"), Ssrc(7));
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(9)), Verdict::Accept);
        // The new SSRC is the one now protected against strays.
        assert_eq!(l.admit(addr("198.51.100.1:1"), Ssrc(9)), Verdict::Reject);
    }

    #[test]
    fn new_sdp_resets_the_latch() {
        let mut l = Latch::new(LatchMode::Always);
        l.admit(addr("203.0.113.9:5555"), Ssrc(7));
        l.set_remote(Some(addr("10.0.0.2:4002")), false);
        assert_eq!(l.latched(), None);
        assert_eq!(l.destination(), Some(addr("10.0.0.2:4002")));
        assert_eq!(l.admit(addr("198.51.100.1:1"), Ssrc(7)), Verdict::Latched);
        l.reset();
        assert_eq!(l.destination(), Some(addr("10.0.0.2:4002")));
    }

    #[test]
    fn auto_latches_only_behind_nat() {
        let mut l = Latch::new(LatchMode::Auto);
        l.set_remote(Some(addr("192.168.1.10:4000")), false);
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(1)), Verdict::Accept);
        assert_eq!(l.destination(), Some(addr("192.168.1.10:4000")));
        l.set_remote(Some(addr("192.168.1.10:4000")), true);
        assert_eq!(l.admit(addr("203.0.113.9:5555"), Ssrc(1)), Verdict::Latched);
        assert_eq!(l.destination(), Some(addr("203.0.113.9:5555")));
    }

    #[test]
    fn allows_checks_the_source_without_moving_the_latch() {
        let mut l = Latch::new(LatchMode::Always);
        assert!(l.allows(addr("198.51.100.1:1")));
        l.admit(addr("203.0.113.9:5555"), Ssrc(7));
        assert!(l.allows(addr("203.0.113.9:5555")));
        assert!(!l.allows(addr("198.51.100.1:1")));
        assert_eq!(l.latched(), Some(addr("203.0.113.9:5555")));
    }

    #[test]
    fn unspecified_or_zero_port_sdp_gives_no_destination() {
        let mut l = Latch::new(LatchMode::Never);
        l.set_remote(Some(addr("0.0.0.0:4000")), false);
        assert_eq!(l.destination(), None);
        l.set_remote(Some(addr("10.0.0.1:0")), false);
        assert_eq!(l.destination(), None);
    }
}
