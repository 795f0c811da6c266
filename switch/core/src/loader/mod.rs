//! Loading modules: shared libraries built with `switch-sdk`, speaking the `switch-abi`
//! boundary. `conf/modules.toml` lists those loaded at start; `load`, `unload`, `reload`
//! and `show modules` manage them at run time.
//!
//! Load: open the library, check its descriptor (symbol, magic, ABI major), make its
//! [`ModuleRecord`] and host table, call its `init` (it registers applications, commands,
//! handlers). Unload: refuse while its applications run on calls or its taps are on calls
//! (unless forced: those calls are hung up, the taps removed), stop taking callbacks,
//! unregister everything, wait for the callbacks in flight and for every object the host
//! holds of it to be dropped, call its `shutdown` (which joins its threads), then close the
//! library. A module whose callback panicked is marked failed: nothing of it is called any
//! more (its objects are still freed), until it is unloaded or reloaded.

pub mod bench;
mod channel;
mod commands;
mod host;
mod library;
mod record;
mod session;
mod work;

pub use commands::{register as register_commands, reload_command as commands_reload};
pub use library::{LoadError, ModuleInfo};
pub use record::CRASH_CAUSE;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use channel::PrivateEntry;
use record::ModuleRecord;

use crate::context::Context;

/// How long unload waits for callbacks in flight and the module's objects to be dropped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The loaded modules, and the per-channel data they hold.
pub struct Modules {
    loaded: Mutex<BTreeMap<String, Arc<ModuleRecord>>>,
    /// Channel uuid to the private data modules attached to it.
    privates: Mutex<HashMap<String, Vec<PrivateEntry>>>,
    next_id: AtomicU64,
}

impl Default for Modules {
    fn default() -> Self {
        Modules {
            loaded: Mutex::default(),
            privates: Mutex::default(),
            // Tap and playback ids of modules stay clear of the calls' own small ones.
            next_id: AtomicU64::new(1 << 40),
        }
    }
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules")
            .field("loaded", &self.names())
            .finish_non_exhaustive()
    }
}

/// One row of `show modules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleRow {
    /// Who it is.
    pub info: ModuleInfo,
    /// Its library.
    pub path: PathBuf,
    /// `active`, `failed: ...`, `unloading`.
    pub state: String,
    /// Applications it registered.
    pub apps: Vec<String>,
    /// API commands it registered.
    pub apis: Vec<String>,
    /// Event subscriptions (what each asks for).
    pub events: Vec<String>,
    /// Media taps on calls now.
    pub taps: usize,
    /// Calls running one of its applications now.
    pub calls: usize,
}

impl Modules {
    /// The names of the loaded modules.
    pub fn names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// What each loaded module is and registered.
    pub fn rows(&self) -> Vec<ModuleRow> {
        let recs: Vec<_> = self.lock().values().cloned().collect();
        recs.iter()
            .map(|r| {
                let regs = r.regs();
                ModuleRow {
                    info: r.info.clone(),
                    path: r.path.clone(),
                    state: r.state_text(),
                    apps: regs.apps.clone(),
                    apis: regs.apis.clone(),
                    events: regs.subs.values().map(|s| s.spec.clone()).collect(),
                    taps: regs.taps.len(),
                    calls: regs.running.len(),
                }
            })
            .collect()
    }

    /// Frees what modules attached to channel `uuid` (it was destroyed).
    pub fn channel_gone(&self, uuid: &str) {
        let gone = {
            let mut p = self.privates.lock().unwrap_or_else(|e| e.into_inner());
            if p.is_empty() {
                return;
            }
            p.remove(uuid)
        };
        drop(gone);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<ModuleRecord>>> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, name: &str) -> Option<Arc<ModuleRecord>> {
        self.lock().get(name).cloned()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Attaches `entry` to `uuid`, returning what it replaces (to drop outside the lock).
    fn set_private(&self, uuid: &str, entry: PrivateEntry) -> Option<PrivateEntry> {
        let mut p = self.privates.lock().unwrap_or_else(|e| e.into_inner());
        let list = p.entry(uuid.to_string()).or_default();
        let same =
            |e: &PrivateEntry| e.key == entry.key && e.obj.rec.name() == entry.obj.rec.name();
        let old = list.iter().position(same).map(|i| list.swap_remove(i));
        list.push(entry);
        old
    }

    /// Calls `f` with module `module`'s data of `uuid` under `key`, under the lock.
    fn with_private(
        &self,
        uuid: &str,
        module: &str,
        key: &str,
        f: impl FnOnce(*mut std::ffi::c_void),
    ) -> bool {
        let p = self.privates.lock().unwrap_or_else(|e| e.into_inner());
        let hit = p.get(uuid).and_then(|l| {
            l.iter()
                .find(|e| e.key == key && e.obj.rec.name() == module)
        });
        match hit {
            Some(e) => {
                f(e.obj.data);
                true
            }
            None => false,
        }
    }

    /// Takes every channel's data of `module` out (it unloads).
    fn take_privates(&self, module: &str) -> Vec<PrivateEntry> {
        let mut p = self.privates.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for list in p.values_mut() {
            let mut i = 0;
            while i < list.len() {
                if list[i].obj.rec.name() == module {
                    out.push(list.swap_remove(i));
                } else {
                    i += 1;
                }
            }
        }
        p.retain(|_, l| !l.is_empty());
        out
    }
}

/// Loads the modules `modules.toml` marks for start; a failure is logged and the switch
/// goes on without that module. Then reports dialplan actions no module provides.
pub async fn start(ctx: &Arc<Context>) {
    let names: Vec<String> = (ctx.config.modules.modules.iter())
        .filter(|m| m.load)
        .map(|m| m.name.clone())
        .collect();
    for name in names {
        match load(ctx, &name).await {
            Ok(msg) => tracing::info!("{}", msg.trim_start_matches("+OK ").trim_end()),
            Err(e) => tracing::error!("{e}; starting without it"),
        }
    }
    check_dialplan(ctx);
}

/// Logs each dialplan action naming an application that is neither built in nor registered.
pub fn check_dialplan(ctx: &Context) {
    for (app, err) in &ctx.live().dialplan.module_apps {
        if ctx.apps.get(app).is_none() {
            tracing::error!("{err}");
        }
    }
}

/// Loads a module by name (from `modules.toml` or `lib<name>.so` in the modules folder) or
/// by path; the reply text on success, the reason (naming the module) on failure.
pub async fn load(ctx: &Arc<Context>, what: &str) -> Result<String, String> {
    let ctx2 = ctx.clone();
    let what = what.trim().to_string();
    tokio::task::spawn_blocking(move || commands::load_blocking(&ctx2, &what))
        .await
        .map_err(|e| format!("load failed: {e}"))?
}

/// Unloads module `name`; refused while it is in use unless `force`.
pub async fn unload(ctx: &Arc<Context>, name: &str, force: bool) -> Result<String, String> {
    let ctx2 = ctx.clone();
    let name = name.trim().to_string();
    tokio::task::spawn_blocking(move || commands::unload_blocking(&ctx2, &name, force))
        .await
        .map_err(|e| format!("unload failed: {e}"))?
}

/// Unloads module `name` and loads its library again.
pub async fn reload(ctx: &Arc<Context>, name: &str, force: bool) -> Result<String, String> {
    let path = ctx
        .modules
        .get(name.trim())
        .map(|r| r.path.clone())
        .ok_or_else(|| format!("module {} is not loaded", name.trim()))?;
    unload(ctx, name, force).await?;
    load(ctx, &path.display().to_string()).await
}

/// Unloads every module, forced (the switch stops).
pub async fn unload_all(ctx: &Arc<Context>) {
    for name in ctx.modules.names() {
        if let Err(e) = unload(ctx, &name, true).await {
            tracing::warn!("{e}");
        }
    }
}
