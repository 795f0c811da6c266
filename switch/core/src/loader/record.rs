//! The host's record of one loaded module: its library, its host table, what it registered,
//! its state, and the count of callbacks in flight that unload waits for.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use libloading::Library;
use switch_abi::{HostApi, Status};
use tokio::runtime::Handle;

use super::library::{ModuleInfo, Opened};
use crate::context::Context;
use crate::media::{Relay, Side};

/// The cause a call is hung up with when a module crashed on it.
pub const CRASH_CAUSE: &str = "NORMAL_TEMPORARY_FAILURE";

pub(super) const ACTIVE: u8 = 0;
pub(super) const FAILED: u8 = 1;
pub(super) const UNLOADING: u8 = 2;

/// A module's tap on a call.
pub(super) struct TapReg {
    pub uuid: String,
    pub relay: Relay,
    pub side: Side,
}

/// A subscription's thread and how to stop it.
pub(super) struct SubReg {
    pub spec: String,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

/// What a module registered.
#[derive(Default)]
pub(super) struct Regs {
    pub apps: Vec<String>,
    pub apis: Vec<String>,
    /// Text-to-speech engines.
    pub tts: Vec<String>,
    pub subs: HashMap<u64, SubReg>,
    pub taps: HashMap<u64, TapReg>,
    pub timers: HashMap<u64, tokio::task::JoinHandle<()>>,
    /// Calls running one of its applications: uuid and how many.
    pub running: HashMap<String, usize>,
}

/// One loaded module.
pub(crate) struct ModuleRecord {
    pub info: ModuleInfo,
    pub path: PathBuf,
    /// `conf/modules/<name>.toml`.
    pub config_file: PathBuf,
    state: AtomicU8,
    failure: Mutex<Option<String>>,
    inflight: AtomicUsize,
    /// The table handed to the module (boxed: its address must not move).
    pub api: Box<HostApi>,
    pub shutdown: unsafe extern "C" fn() -> Status,
    pub init: unsafe extern "C" fn(*const HostApi, switch_abi::StrSink) -> Status,
    pub regs: Mutex<Regs>,
    pub ctx: Weak<Context>,
    pub rt: Handle,
    me: Weak<ModuleRecord>,
    /// Closed when the record drops: after everything holding module code is gone. Last
    /// field, so it drops last.
    _lib: Library,
}

/// A callback into the module in flight; unload waits for none to be left.
pub(super) struct Inflight<'a>(&'a ModuleRecord);

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ModuleRecord {
    /// A record for `opened`, in the active state, with its host table.
    pub(super) fn new(
        ctx: &Arc<Context>,
        opened: Opened,
        path: PathBuf,
        rt: Handle,
    ) -> Arc<ModuleRecord> {
        let config_file = ctx
            .config
            .dir
            .join(crate::config::MODULES_DIR)
            .join(format!("{}.toml", opened.info.name));
        Arc::new_cyclic(|me: &Weak<ModuleRecord>| ModuleRecord {
            api: Box::new(super::host::table(me.as_ptr() as *mut c_void)),
            info: opened.info,
            path,
            config_file,
            state: AtomicU8::new(ACTIVE),
            failure: Mutex::new(None),
            inflight: AtomicUsize::new(0),
            shutdown: opened.shutdown,
            init: opened.init,
            regs: Mutex::new(Regs::default()),
            ctx: Arc::downgrade(ctx),
            rt,
            me: me.clone(),
            _lib: opened.lib,
        })
    }

    /// A record with no switch behind it (benchmarks drive its taps by hand).
    pub(super) fn detached(opened: Opened, path: PathBuf, rt: Handle) -> Arc<ModuleRecord> {
        Arc::new_cyclic(|me: &Weak<ModuleRecord>| ModuleRecord {
            api: Box::new(super::host::table(me.as_ptr() as *mut c_void)),
            info: opened.info,
            path,
            config_file: PathBuf::new(),
            state: AtomicU8::new(ACTIVE),
            failure: Mutex::new(None),
            inflight: AtomicUsize::new(0),
            shutdown: opened.shutdown,
            init: opened.init,
            regs: Mutex::new(Regs::default()),
            ctx: Weak::new(),
            rt,
            me: me.clone(),
            _lib: opened.lib,
        })
    }

    /// The module's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// A strong reference to this record (it is alive: we are in one of its calls).
    pub(super) fn arc(&self) -> Option<Arc<ModuleRecord>> {
        self.me.upgrade()
    }

    /// Starts a callback into the module, unless it failed or unloads.
    pub(super) fn enter(&self) -> Option<Inflight<'_>> {
        self.inflight.fetch_add(1, Ordering::SeqCst);
        if self.state.load(Ordering::SeqCst) != ACTIVE {
            self.inflight.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Inflight(self))
    }

    /// `active`, `failed: <why>` or `unloading`.
    pub fn state_text(&self) -> String {
        match self.state.load(Ordering::SeqCst) {
            ACTIVE => "active".into(),
            FAILED => format!(
                "failed: {}",
                self.failure
                    .lock()
                    .ok()
                    .and_then(|f| f.clone())
                    .unwrap_or_default()
            ),
            _ => "unloading".into(),
        }
    }

    /// Stops taking callbacks (unload).
    pub(super) fn set_unloading(&self) {
        self.state.store(UNLOADING, Ordering::SeqCst);
    }

    /// The module crashed (`what`): it is marked failed, its callbacks are no longer called,
    /// and the call of channel `uuid`, if given, is hung up saying so.
    pub(super) fn fail(&self, what: &str, uuid: Option<&str>) {
        let first = self
            .state
            .compare_exchange(ACTIVE, FAILED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first {
            if let Ok(mut f) = self.failure.lock() {
                *f = Some(what.to_string());
            }
            tracing::error!(module = %self.name(), "module {} failed: {what}; its callbacks are no longer called (unload or reload it)", self.name());
        }
        if let (Some(uuid), Some(ctx)) = (uuid, self.ctx.upgrade()) {
            let detail = format!("module {} {what}", self.name());
            tracing::warn!(%uuid, module = %self.name(), cause = CRASH_CAUSE, "hanging up: {detail}");
            super::channel::hang_up(&ctx, uuid, CRASH_CAUSE, Some(&detail));
        }
    }

    /// What it registered, locked.
    pub(super) fn regs(&self) -> MutexGuard<'_, Regs> {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no callback is in flight and nothing else holds the record (`held` is
    /// how many references the caller holds itself); false after `timeout`.
    pub(super) fn wait_idle(me: &Arc<ModuleRecord>, held: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let idle = me.inflight.load(Ordering::SeqCst) == 0 && Arc::strong_count(me) <= held;
            if idle {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
