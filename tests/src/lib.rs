//! End-to-end test harness (see tests/tests/*.rs and tests/README.md).
//!
//! Each test starts its own `ferroswitch` on loopback ports nobody else uses ([`Switch`]),
//! drives it with real peers ([`Sipp`] scenarios from `tests/sipp/`, [`Baresip`]) or raw
//! datagrams ([`SipUdp`]), watches media at test-owned UDP ports ([`RtpSink`]) and reads the
//! CDRs the switch wrote ([`cdr`]). Everything a test starts is stopped by PID when its
//! handle drops; a failing test prints the logs of what it started and keeps its scratch
//! folder. Nothing waits on the clock alone: waits poll a condition up to a deadline.

pub mod baresip;
pub mod cdr;
pub mod esl;
pub mod lua;
pub mod pcap;
pub mod ports;
pub mod process;
pub mod rtp;
pub mod sip_udp;
pub mod sipp;
pub mod switch;
pub mod wav;

pub use baresip::Baresip;
pub use cdr::CdrRow;
pub use esl::{EslClient, EslMessage};
pub use process::{peer_available, wait_until, TestDir};
pub use rtp::{RtpSink, RtpSource, RtpStats, G711};
pub use sip_udp::{SipResponse, SipUdp};
pub use sipp::{Sipp, SippResult};
pub use switch::Switch;
