//! The module the switch loads: the engine driven through the SDK.
//!
//! - application `callcenter <queue>` (alias `queue`): the caller waits in the queue;
//! - application `callcenter_callback <member>`: what an answered callback leg runs;
//! - API `callcenter_config ...`: FreeSWITCH's commands and output, plus skills and stats;
//! - CUSTOM `callcenter::info` events;
//! - agents rung with `originate {origination_uuid=...}<contact> &park`, then joined to the
//!   caller with `uuid_bridge`; the agent leg's CHANNEL_HANGUP starts its wrap-up.
//!
//! State (agents, tiers, run-time queue changes, waiting callbacks, one row per queue call)
//! lives in SQLite (`settings.db`, relative to the switch's `db.dir`), read back at start.

mod app;
mod driver;
mod mailbox;
mod say;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switch_sdk::{declare_module, EventView, Host, Module, Session};

use crate::config::Config;
use crate::engine::Engine;
use crate::store::Store;
use driver::Cc;

/// The loaded module.
pub struct CallCenter {
    cc: Arc<Cc>,
}

fn db_path(host: &Host, db: &str) -> PathBuf {
    let p = Path::new(db);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let dir = host
        .setting("db.dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("var"));
    dir.join(p)
}

/// The engine at start: the file, with what the store kept winning over it.
fn start(host: &Host) -> Result<(Engine, Option<Store>, Option<PathBuf>), String> {
    let file = host
        .setting("module.config_file")
        .unwrap_or_else(|| "mod_callcenter.toml".into());
    let text = host.config_text().unwrap_or_default();
    let config = Config::from_toml(&file, &text).map_err(|e| e.to_string())?;
    let now = driver::now();
    if config.settings.db.trim().is_empty() {
        // No database: nothing survives a restart.
        let e = Engine::new(config, now).map_err(|e| format!("{file}: {e}"))?;
        return Ok((e, None, None));
    }
    let path = db_path(host, config.settings.db.trim());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut store = Store::open(&path).map_err(|e| e.to_string())?;
    let engine = if store.is_empty().map_err(|e| e.to_string())? {
        Engine::new(config, now).map_err(|e| format!("{file}: {e}"))?
    } else {
        let snap = store.load().map_err(|e| e.to_string())?;
        Engine::restore(config, snap, now).map_err(|e| format!("{file}: {e}"))?
    };
    // What the engine holds now is the truth (file merged with the store): keep it.
    store
        .save(&engine.snapshot())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((engine, Some(store), Some(path)))
}

impl Module for CallCenter {
    fn init(host: &Host) -> Result<Self, String> {
        let (engine, store, path) = start(host)?;
        let (queues, agents) = (engine.queues().count(), engine.agents().len());
        let cc = Arc::new(Cc::new(*host, engine, store, path.clone()));
        for name in ["callcenter", "queue"] {
            let c = cc.clone();
            host.register_app(
                name,
                "callcenter <queue>: wait in an ACD queue for an agent",
                move |s: &Session<'_>, args: &str| app::member(&c, s, args),
            )
            .map_err(|e| e.to_string())?;
        }
        let c = cc.clone();
        host.register_app(
            "callcenter_callback",
            "callcenter_callback <member uuid>: an answered callback waits for its agent",
            move |s: &Session<'_>, args: &str| app::callback(&c, s, args),
        )
        .map_err(|e| e.to_string())?;
        let c = cc.clone();
        host.register_api(
            "callcenter_config",
            "agent|tier|queue <action> ...",
            "ACD queues, agents and tiers (FreeSWITCH's mod_callcenter syntax)",
            move |args: &str| Ok(c.feed(|e, now| crate::command::execute(e, now, args))),
        )
        .map_err(|e| e.to_string())?;
        let c = cc.clone();
        // Our agent legs carry cc_side=agent (bridged to a caller too): no other channel's
        // hangup wakes this module.
        host.subscribe(
            "CHANNEL_HANGUP filter variable_cc_side agent",
            move |ev: &EventView<'_>| c.on_hangup(ev),
        )
        .map_err(|e| e.to_string())?;
        let c = cc.clone();
        switch_sdk::spawn_thread("cc-timers", move || c.run_timers())
            .map_err(|e| format!("cannot start the timer thread: {e}"))?;
        switch_sdk::info!(
            "mod_callcenter: {queues} queues, {agents} agents{}",
            path.map_or_else(String::new, |p| format!(", state in {}", p.display()))
        );
        Ok(CallCenter { cc })
    }

    fn shutdown(&self) {
        self.cc.shutdown();
    }
}

declare_module! {
    name: "mod_callcenter",
    description: "the ACD: queues, agents, tiers, strategies, callbacks, statistics",
    module: CallCenter,
}
