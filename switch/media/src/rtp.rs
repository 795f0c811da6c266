//! RTP and RTCP for an anchored media relay, sans-IO.
//!
//! What it does: checks datagrams without allocating ([`classify`]), decides which source a
//! side's media is accepted from and where return traffic goes ([`Latch`]), notices a side that
//! stopped sending ([`Inactivity`]), and ties these together for one call's two legs
//! ([`RelayState`]), counting everything per side ([`SideStats`]).
//!
//! What it does not do: I/O. The driver owns the sockets and the clock and loops:
//! receive a datagram, call [`RelayState::handle_datagram`] with `now`, send the same bytes
//! as the returned [`Transmit`] says and report it with [`RelayState::record_sent`]; sleep
//! until [`RelayState::poll_timeout`] and then call [`RelayState::handle_timeout`] until it
//! returns `None`.

mod inactivity;
mod latch;
mod packet;
mod relay;

pub use inactivity::Inactivity;
pub use latch::{Latch, LatchMode, Verdict};
pub use packet::{classify, Packet, PacketError, RtcpHeader, RtpHeader, Ssrc};
pub use relay::{Component, RelayMode, RelayState, RtcpRemote, Side, SideStats, Transmit};
