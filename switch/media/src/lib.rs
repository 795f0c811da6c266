//! Sans-IO media for ferroswitch.
//!
//! What it does: RTP packet checks and the relay's latching and inactivity decisions
//! (later: codecs, jitter buffer, DTMF, tones, WAV). What it does not do: I/O. No sockets,
//! no tokio, no clock of its own: time is passed in as `now`.

pub mod rtp;
