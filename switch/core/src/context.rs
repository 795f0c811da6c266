//! What every task of a running switch shares: config, registrations, RTP ports, CDR
//! writer, the live calls and the SIP task's handle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::call::CallSender;
use crate::cdr::CdrWriter;
use crate::config::{Config, LatchMode};
use crate::media::sounds::Sounds;
use crate::media::PortPool;
use crate::registrar::Registrations;
use crate::runtime::sip::SipHandle;

/// Shared state of a running switch. Maps are for lookup; a call is changed only by
/// sending its task a message.
pub struct Context {
    pub config: Config,
    pub registrations: Registrations,
    pub ports: PortPool,
    pub cdr: CdrWriter,
    /// Live calls by A-leg uuid.
    pub calls: Mutex<HashMap<String, CallSender>>,
    pub sip: SipHandle,
    pub started: Instant,
    /// Sound files for playback.
    pub sounds: Sounds,
}

impl Context {
    /// The relay's latching mode from the config.
    pub fn latch_mode(&self) -> switch_media::rtp::LatchMode {
        match self.config.rtp.latch {
            LatchMode::Auto => switch_media::rtp::LatchMode::Auto,
            LatchMode::Always => switch_media::rtp::LatchMode::Always,
            LatchMode::Never => switch_media::rtp::LatchMode::Never,
        }
    }

    /// How many calls are up.
    pub fn call_count(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }
}
