//! ferroswitch's Lua host: scripts that route and drive calls with FreeSWITCH's mod_lua API.
//!
//! [`LuaHost`] implements core's [`ScriptHost`]: core calls it on a thread of its own when a
//! dialplan context names a script (or the `lua` application runs one), and the script
//! drives the call through the `session` global (see [`switch_core::script::SessionHandle`]).
//! Each run gets a fresh sandboxed Lua 5.4 state ([`sandbox`]): no `io`, no `debug`, `os`
//! reduced to `time`/`date`/`clock`, text-only `load`, `require` inside the scripts folder, a
//! memory limit, and a CPU budget ([`budget`]) that stops runaway code with the script and
//! line. Scripts are read per call through a cache keyed by modification time ([`cache`]).
//!
//! [`install`] wires a host into a running switch: it becomes the context's script host and
//! registers the `luarun` and `lua` API commands.

mod budget;
mod cache;
mod dbh;
mod error;
mod event;
mod freeswitch;
mod globals;
mod input;
mod ivr;
mod lazy;
pub mod pattern;
mod run;
mod sandbox;
mod say;
mod session;
mod strlib;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use switch_core::config::{Config, LuaConfig};
use switch_core::context::Context;
use switch_core::script::{ScriptHost, ScriptResult, SessionHandle};
use tokio::runtime::Handle;

pub use run::RunOutcome;

/// What the host needs from the configuration.
#[derive(Debug, Clone)]
pub struct LuaSettings {
    /// `lua.scripts`.
    pub scripts: PathBuf,
    /// `lua.memory_limit`, bytes.
    pub memory_limit: usize,
    /// `lua.max_cpu_ms`.
    pub max_cpu: Duration,
    /// `lua.fallback`.
    pub fallback: Option<String>,
    /// `lua.db_dir`.
    pub db_dir: PathBuf,
    /// The phrases of `sayPhrase` (`<conf>/phrases.toml`).
    pub phrases: PathBuf,
    /// What `freeswitch.getGlobalVariable` answers: `[vars]`, then the built-in ones.
    pub vars: BTreeMap<String, String>,
}

impl LuaSettings {
    /// Defaults (`[lua]`'s) with scripts from `scripts`.
    pub fn new(scripts: impl Into<PathBuf>) -> LuaSettings {
        let d = LuaConfig::default();
        LuaSettings {
            scripts: scripts.into(),
            memory_limit: d.memory_limit,
            max_cpu: d.max_cpu,
            fallback: d.fallback,
            db_dir: d.db_dir,
            phrases: PathBuf::from("conf/phrases.toml"),
            vars: BTreeMap::new(),
        }
    }

    /// From the switch's configuration: `[lua]`, `[vars]`, and the built-in globals
    /// (`base_dir`, `conf_dir`, `script_dir`, `sounds_dir`, `recordings_dir`, `db_dir`,
    /// `domain`, `local_ip_v4`, `hostname`).
    pub fn from_config(c: &Config) -> LuaSettings {
        let l = &c.lua;
        let mut vars = BTreeMap::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut put = |k: &str, v: String| {
            vars.insert(k.to_string(), v);
        };
        put("base_dir", cwd.display().to_string());
        put("conf_dir", c.dir.display().to_string());
        put("script_dir", l.scripts.display().to_string());
        put("sounds_dir", c.media.sounds.display().to_string());
        put("recordings_dir", c.media.recordings.display().to_string());
        put("db_dir", l.db_dir.display().to_string());
        put("domain", c.sip.domain.clone());
        put("local_ip_v4", c.rtp.ip.to_string());
        put("hostname", hostname());
        for (k, v) in &c.vars {
            vars.insert(k.clone(), v.clone());
        }
        LuaSettings {
            scripts: l.scripts.clone(),
            memory_limit: l.memory_limit,
            max_cpu: l.max_cpu,
            fallback: l.fallback.clone(),
            db_dir: l.db_dir.clone(),
            phrases: c.dir.join("phrases.toml"),
            vars,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// What every run of one host shares.
pub(crate) struct Shared {
    pub settings: LuaSettings,
    pub cache: Arc<cache::ScriptCache>,
    pub watchdog: Arc<budget::Watchdog>,
    pub phrases: say::PhraseBook,
    core: Option<(Weak<Context>, Handle)>,
}

impl Shared {
    /// The running switch, if the host is installed in one.
    pub fn context(&self) -> Option<Arc<Context>> {
        self.core.as_ref().and_then(|(c, _)| c.upgrade())
    }

    /// The switch and a handle on its runtime (for API commands).
    pub fn core(&self) -> Option<(Arc<Context>, Handle)> {
        let (c, h) = self.core.as_ref()?;
        Some((c.upgrade()?, h.clone()))
    }

    /// A global variable (`freeswitch.getGlobalVariable`).
    pub fn global(&self, name: &str) -> Option<String> {
        if let Some(v) = self.settings.vars.get(name) {
            return Some(v.clone());
        }
        match name {
            "core_uuid" => self
                .context()
                .map(|c| c.events.identity().core_uuid.clone()),
            _ => None,
        }
    }
}

/// The Lua script host.
#[derive(Clone)]
pub struct LuaHost {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LuaHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LuaHost")
            .field("scripts", &self.shared.settings.scripts)
            .finish_non_exhaustive()
    }
}

impl LuaHost {
    /// A host outside a switch (benchmarks, tests): no API commands, no event bus.
    pub fn new(settings: LuaSettings) -> LuaHost {
        LuaHost::build(settings, None)
    }

    /// A host for the running switch `ctx`, whose runtime `rt` serves `freeswitch.API`.
    pub fn with_context(settings: LuaSettings, ctx: &Arc<Context>, rt: Handle) -> LuaHost {
        LuaHost::build(settings, Some((Arc::downgrade(ctx), rt)))
    }

    fn build(settings: LuaSettings, core: Option<(Weak<Context>, Handle)>) -> LuaHost {
        LuaHost {
            shared: Arc::new(Shared {
                cache: Arc::new(cache::ScriptCache::new(&settings.scripts)),
                watchdog: Arc::new(budget::Watchdog::default()),
                phrases: say::PhraseBook::new(&settings.phrases),
                settings,
                core,
            }),
        }
    }

    /// Runs `script` to its end (with `session` for a call); blocking.
    pub fn run_script(
        &self,
        script: &str,
        argv: &[String],
        session: Option<SessionHandle>,
    ) -> RunOutcome {
        run::execute(&self.shared, script, argv, session)
    }

    /// Compiles `script` (into the cache): `Err("file:line: reason")` if it does not.
    pub fn check(&self, script: &str) -> Result<(), String> {
        let lua = mlua::Lua::new();
        self.shared.cache.load(&lua, script).map(|_| ())
    }
}

impl ScriptHost for LuaHost {
    fn run_call(&self, script: &str, argv: &[String], session: SessionHandle) -> ScriptResult {
        let out = run::execute(&self.shared, script, argv, Some(session.clone()));
        if let (Some(err), Some(dest)) = (&out.error, &self.shared.settings.fallback) {
            // Once per call: a fallback whose script fails too hangs up.
            if session.ready() && session.get_variable("lua_fallback_from").is_none() {
                tracing::error!(
                    uuid = %session.uuid(),
                    %script,
                    "script failed: {err}; transferring to lua.fallback {dest}"
                );
                session.set_variable("lua_fallback_from", Some(script));
                if session.transfer(dest).is_ok() {
                    return ScriptResult {
                        actions: Vec::new(),
                        error: None,
                        auto_hangup: true,
                    };
                }
            }
        }
        ScriptResult {
            actions: out.actions,
            error: out.error,
            auto_hangup: out.auto_hangup,
        }
    }

    fn run(&self, script: &str, argv: &[String]) -> Result<String, String> {
        let out = run::execute(&self.shared, script, argv, None);
        match out.error {
            Some(e) => Err(e),
            None => Ok(out.output),
        }
    }
}

/// Installs a host built from `ctx`'s configuration into the running switch: the script
/// engine of its contexts, and the API commands `luarun <script> [args]` (in the background,
/// `+OK` at once) and `lua <script> [args]` (waits, replies with what the script printed).
/// The context scripts are compiled once now, so that a broken one shows at start.
pub fn install(ctx: &Arc<Context>, rt: Handle) -> Arc<LuaHost> {
    let host = Arc::new(LuaHost::with_context(
        LuaSettings::from_config(&ctx.config),
        ctx,
        rt,
    ));
    ctx.set_script_host(host.clone());
    let h = host.clone();
    ctx.api.register(
        "luarun",
        "<script> [<args>]",
        "runs a Lua script from the scripts folder in the background, with no call",
        move |_, args| {
            let h = h.clone();
            async move {
                let Some((script, argv)) = script_args(&args) else {
                    return switch_core::api::usage_reply("luarun", "<script> [<args>]");
                };
                let spawned = std::thread::Builder::new()
                    .name("luarun".into())
                    .stack_size(4 << 20)
                    .spawn(move || match h.run(&script, &argv) {
                        Ok(_) => tracing::info!(%script, "luarun: done"),
                        Err(e) => tracing::error!(%script, "luarun: {e}"),
                    });
                match spawned {
                    Ok(_) => "+OK\n".to_string(),
                    Err(e) => format!("-ERR cannot start a thread: {e}\n"),
                }
            }
        },
    );
    let h = host.clone();
    ctx.api.register(
        "lua",
        "<script> [<args>]",
        "runs a Lua script with no call and replies with what it printed",
        move |_, args| {
            let h = h.clone();
            async move {
                let Some((script, argv)) = script_args(&args) else {
                    return switch_core::api::usage_reply("lua", "<script> [<args>]");
                };
                let (tx, rx) = tokio::sync::oneshot::channel();
                let spawned = std::thread::Builder::new()
                    .name("lua-api".into())
                    .stack_size(4 << 20)
                    .spawn(move || {
                        let _ = tx.send(h.run(&script, &argv));
                    });
                if let Err(e) = spawned {
                    return format!("-ERR cannot start a thread: {e}\n");
                }
                match rx.await {
                    Ok(Ok(out)) => out,
                    Ok(Err(e)) => format!("-ERR {e}\n"),
                    Err(_) => "-ERR the script thread ended without a result\n".to_string(),
                }
            }
        },
    );
    for (context, script) in &ctx.live().dialplan.contexts {
        match host.check(script) {
            Ok(()) => tracing::info!(%context, %script, "context routed by a Lua script"),
            Err(e) => tracing::error!(%context, %script, "{e}"),
        }
    }
    host
}

fn script_args(args: &str) -> Option<(String, Vec<String>)> {
    let mut it = args.split_whitespace().map(str::to_string);
    let script = it.next()?;
    Some((script, it.collect()))
}
