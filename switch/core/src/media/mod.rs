//! Media anchoring: every call leg gets its own RTP/RTCP port pair and one task per call
//! relays packets between the legs unchanged (or back to the sender in echo mode).
//!
//! The decisions (packet checks, latching, inactivity, counters) are sans-IO in
//! `switch_media::rtp`; this module owns the sockets and the clock.
//!
//! Use: allocate a [`MediaPort`] from the [`PortPool`] for the A leg, [`spawn_relay`], tell
//! it the leg's SDP address with [`Relay::set_remote`], later [`Relay::attach_b`] the B leg's
//! port and [`Relay::set_mode`] to early media or bridge (or echo for 9196). Hang the call up
//! on [`MediaEvent::Timeout`] (cause MEDIA_TIMEOUT) and [`Relay::stop`] it at the end.

mod ports;
pub mod record;
mod relay;
pub mod sounds;

pub use ports::{MediaPort, PortPool};
pub use relay::{spawn_relay, MediaEvent, Relay, RelayConfig, RelayStats};
pub use switch_media::rtp::{LatchMode, RelayMode, RtcpRemote, Side, SideStats};
pub use switch_media::session::{
    DtmfOut, LegCodec, LegStats, Play, PlayControl, PlayEnd, PlayItem, SessionError, SessionEvent,
    Sound, Tap,
};

#[cfg(test)]
mod tests;
