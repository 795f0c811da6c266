//! What every task of a running switch shares: config, registrations, RTP ports, CDR
//! writer, the live calls and the SIP task's handle, the event bus, the channel table and
//! the API commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::api::ApiRegistry;
use crate::call::CallSender;
use crate::cdr::CdrWriter;

use crate::channel::ChannelTable;
use crate::config::{Config, Dialplan, Directory, LatchMode};
use crate::event::EventBus;
use crate::media::sounds::{Sounds, DEFAULT_PREFIX};
use crate::media::PortPool;
use crate::registrar::Registrations;
use crate::runtime::sip::SipHandle;

/// Shared state of a running switch. Maps are for lookup; a call is changed only by
/// sending its task a message.
pub struct Context {
    /// The configuration as loaded at start. Its `directory` and `dialplan` are the start-up
    /// copies: read the current ones through [`Context::live`], which `reload` replaces.
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
    /// The event bus (`CHANNEL_*`, `HEARTBEAT`, `BACKGROUND_JOB`, modules' `CUSTOM`).
    pub events: EventBus,
    /// Live legs by uuid, for `show channels` and the `uuid_*` commands.
    pub channels: ChannelTable,
    /// API commands shared by the console, the event socket and scripts.
    pub api: ApiRegistry,
    /// Applications registered at run time (by modules), beside the built-in ones.
    pub apps: crate::app::AppRegistry,
    /// Text-to-speech engines modules registered.
    pub tts: crate::tts::TtsRegistry,
    /// The loaded modules.
    pub modules: crate::loader::Modules,
    /// The reloadable part of the configuration.
    live: RwLock<Arc<Live>>,
    /// The script engine, installed by the binary.
    scripts: std::sync::OnceLock<Arc<dyn crate::script::ScriptHost>>,
}

/// What `reload` can change without a restart.
#[derive(Debug)]
pub struct Live {
    pub directory: Directory,
    pub dialplan: Dialplan,
}

impl Context {
    /// A context for `config` and the handles built from it at start.
    pub fn new(
        config: Config,
        registrations: Registrations,
        ports: PortPool,
        cdr: CdrWriter,
        sip: SipHandle,
        events: EventBus,
    ) -> Context {
        let live = Live {
            directory: config.directory.clone(),
            dialplan: config.dialplan.clone(),
        };
        let sounds = Sounds::new(&config.media.sounds, DEFAULT_PREFIX);
        Context {
            config,
            sounds,
            registrations,
            ports,
            cdr,
            calls: Default::default(),
            sip,
            started: Instant::now(),
            events,
            channels: ChannelTable::default(),
            api: ApiRegistry::with_builtins(),
            apps: Default::default(),
            tts: Default::default(),
            modules: Default::default(),
            live: RwLock::new(Arc::new(live)),
            scripts: std::sync::OnceLock::new(),
        }
    }

    /// Installs the script engine (once; later calls are ignored).
    pub fn set_script_host(&self, host: Arc<dyn crate::script::ScriptHost>) {
        let _ = self.scripts.set(host);
    }

    /// The script engine, if one is installed.
    pub fn script_host(&self) -> Option<Arc<dyn crate::script::ScriptHost>> {
        self.scripts.get().cloned()
    }

    /// The current directory and dialplan (hold the `Arc` only briefly).
    pub fn live(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the directory and dialplan (after `reload` validated them).
    pub fn set_live(&self, live: Live) {
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(live);
    }
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
