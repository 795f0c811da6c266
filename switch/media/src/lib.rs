//! Sans-IO media for ferroswitch.
//!
//! What it does: RTP packet checks and the relay's latching and inactivity decisions
//! ([`rtp`]); 20 ms frames of linear audio ([`frame`]); codecs ([`codec`]) and resampling
//! ([`resample`]); the jitter buffer ([`jitter`]); DTMF ([`dtmf`]); tones ([`tone`]); WAV
//! files ([`wav`]); RTCP reports ([`rtcp`]); and one call's media put together
//! ([`session`]). What it does not do: I/O. No sockets, no tokio, no clock of its own: time
//! is passed in as `now`.

pub mod codec;
pub mod dtmf;
pub mod frame;
pub mod jitter;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod tone;
pub mod wav;

pub use frame::{samples_per_frame, Frame, FRAME_MS, MAX_SAMPLES, RATES};
