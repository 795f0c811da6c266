//! What a media-anchoring B2BUA reads from an SDP (where to send audio, hold) and how it
//! rewrites one to put itself in the media path.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::{Attribute, Connection, MediaDescription, SessionDescription};

/// The media direction attribute (RFC 3264 5.1, RFC 4566 6), from the SDP author's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`, the default.
    #[default]
    SendRecv,
    /// `a=sendonly`: the author sends and does not want to receive (it holds the other side).
    SendOnly,
    /// `a=recvonly`: the author receives only.
    RecvOnly,
    /// `a=inactive`: neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an attribute name stands for, if it is one (ignoring case).
    pub fn from_attribute(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }

    /// The same stream seen from the other end: the answer to a `sendonly` offer is
    /// `recvonly` and the reverse (RFC 3264 6.1).
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// This direction without the author's receiving: what `c=0.0.0.0` (RFC 2543 hold)
    /// makes of it.
    fn without_receive(self) -> Direction {
        match self {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Connection {
    /// `IN IP4 <ip>` or `IN IP6 <ip>` by the address family.
    pub fn from_ip(ip: IpAddr) -> Connection {
        Connection {
            nettype: "IN".to_string(),
            addrtype: if ip.is_ipv4() { "IP4" } else { "IP6" }.to_string(),
            address: ip.to_string(),
        }
    }

    /// The address as an IP, without any multicast `/ttl` suffix; None for a host name.
    pub fn ip(&self) -> Option<IpAddr> {
        let address = self.address.split('/').next().unwrap_or_default();
        address.parse().ok()
    }

    /// True for `0.0.0.0` or `::`, the RFC 2543 way of putting the other side on hold.
    pub fn is_hold(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

impl MediaDescription {
    /// True for an `m=audio` section.
    pub fn is_audio(&self) -> bool {
        self.kind.eq_ignore_ascii_case("audio")
    }

    /// The section's own direction attribute, if it has one.
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .find_map(|a| Direction::from_attribute(&a.name))
    }

    /// Replaces the section's direction attributes with `direction`, written explicitly.
    pub fn set_direction(&mut self, direction: Direction) {
        self.attributes
            .retain(|a| Direction::from_attribute(&a.name).is_none());
        self.attributes
            .push(Attribute::new(direction.as_str(), None));
    }
}

impl SessionDescription {
    /// The first `m=audio` section.
    pub fn audio(&self) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.is_audio())
    }

    /// The first `m=audio` section, to change.
    pub fn audio_mut(&mut self) -> Option<&mut MediaDescription> {
        self.media.iter_mut().find(|m| m.is_audio())
    }

    /// Where the author wants its audio RTP: the first audio stream's port at its `c=`
    /// address (media level, else session level).
    ///
    /// None when there is no audio, its port is 0 (stream rejected or disabled), or the
    /// address is not an IP. An address of `0.0.0.0` (or `::`) is returned as is: that is
    /// RFC 2543 hold, the author wants no media; [`SessionDescription::direction`] reports it
    /// as `sendonly`, and the caller must not send there.
    pub fn rtp_destination(&self) -> Option<SocketAddr> {
        let audio = self.audio().filter(|m| m.port != 0)?;
        let ip = audio
            .connection
            .as_ref()
            .or(self.connection.as_ref())?
            .ip()?;
        Some(SocketAddr::new(ip, audio.port))
    }

    /// Where the author wants its audio RTCP: `a=rtcp` (RFC 3605) when present, else the RTP
    /// port + 1. `a=rtcp-mux` is not considered: it only holds once both sides agreed.
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
        let rtp = self.rtp_destination()?;
        let attribute = self.audio().and_then(|m| m.attribute("rtcp")).flatten();
        let Some(value) = attribute else {
            return Some(SocketAddr::new(rtp.ip(), rtp.port().checked_add(1)?));
        };
        let mut fields = value.split_whitespace();
        let port = fields.next()?.parse().ok()?;
        let ip = match (fields.next(), fields.next(), fields.next()) {
            (Some(_), Some(_), Some(address)) => address.parse().ok()?,
            _ => rtp.ip(),
        };
        Some(SocketAddr::new(ip, port))
    }

    /// The first audio stream's direction: its attribute, else the session-level one, else
    /// `sendrecv`. A `c=` address of `0.0.0.0` (RFC 2543 hold) takes away receiving:
    /// `sendrecv` becomes `sendonly`, `recvonly` becomes `inactive`.
    pub fn direction(&self) -> Direction {
        let audio = self.audio();
        let direction = audio
            .and_then(MediaDescription::direction)
            .or_else(|| {
                self.attributes
                    .iter()
                    .find_map(|a| Direction::from_attribute(&a.name))
            })
            .unwrap_or_default();
        let connection = audio
            .and_then(|m| m.connection.as_ref())
            .or(self.connection.as_ref());
        if connection.is_some_and(Connection::is_hold) {
            direction.without_receive()
        } else {
            direction
        }
    }

    /// Rewrites the body so the switch relays the audio: for the SDP the switch sends on to
    /// the other leg.
    ///
    /// - `o=`: the address becomes `ip`; session id and version become the given ones.
    /// - every `c=` line (session and media level) becomes `IN IP4|IP6 <ip>`, except a hold
    ///   address `0.0.0.0`/`::`, which is kept so the other side still sees the hold; extra
    ///   `c=` lines are dropped, and an audio section left without any address gets one;
    /// - the first audio stream gets port `audio_port` (unless its port is 0: a disabled
    ///   stream stays disabled) and its `a=rtcp` becomes `audio_port + 1`, where the switch
    ///   listens for RTCP;
    /// - every other stream is rejected with port 0 (only audio is anchored for now);
    /// - ICE lines (`a=candidate`, `a=ice-*`, `a=remote-candidates`, `a=end-of-candidates`)
    ///   go at both levels: the switch's address is the only candidate.
    pub fn rewrite_for_relay(
        &mut self,
        ip: IpAddr,
        audio_port: u16,
        session_id_version: Option<(u64, u64)>,
    ) {
        let ours = Connection::from_ip(ip);
        self.origin.addrtype = ours.addrtype.clone();
        self.origin.address = ours.address.clone();
        if let Some((id, version)) = session_id_version {
            self.origin.sess_id = id.to_string();
            self.origin.sess_version = version.to_string();
        }
        relay_connection(&mut self.connection, &ours);
        self.lines.retain(|l| l.kind != 'c');
        self.attributes.retain(|a| !is_ice(&a.name));
        let session_has_address = self.connection.is_some();

        let anchored = self.media.iter().position(MediaDescription::is_audio);
        for (i, m) in self.media.iter_mut().enumerate() {
            relay_connection(&mut m.connection, &ours);
            m.lines.retain(|l| l.kind != 'c');
            m.attributes.retain(|a| !is_ice(&a.name));
            m.port_count = None;
            let rtcp = if Some(i) == anchored && m.port != 0 {
                m.port = audio_port;
                if m.connection.is_none() && !session_has_address {
                    m.connection = Some(ours.clone());
                }
                audio_port.checked_add(1)
            } else {
                m.port = 0;
                None
            };
            match rtcp {
                Some(port) => {
                    for a in &mut m.attributes {
                        if a.name.eq_ignore_ascii_case("rtcp") {
                            a.value = Some(port.to_string());
                        }
                    }
                }
                None => m
                    .attributes
                    .retain(|a| !a.name.eq_ignore_ascii_case("rtcp")),
            }
        }
    }
}

/// Points a `c=` at the switch, keeping a hold address.
fn relay_connection(connection: &mut Option<Connection>, ours: &Connection) {
    if let Some(c) = connection {
        if !c.is_hold() {
            *c = ours.clone();
        }
    }
}

/// ICE attributes (RFC 8839): the relay is the only address, so they would mislead.
fn is_ice(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("ice-")
        || matches!(
            name.as_str(),
            "candidate" | "remote-candidates" | "end-of-candidates"
        )
}
