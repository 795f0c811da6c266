//! `load`, `unload` and `reload <module>` (the work itself, on a blocking thread) and the
//! API commands that run them.

use std::path::PathBuf;
use std::sync::Arc;

use super::host::sink;
use super::record::ModuleRecord;
use super::{library, DRAIN_TIMEOUT};
use crate::api::{usage_reply, ApiRegistry};
use crate::context::Context;

/// Registers `load` and `unload` (`reload <module>` is the built-in `reload` with an
/// argument).
pub fn register(r: &ApiRegistry) {
    r.register(
        "load",
        "<module>|<path>",
        "load a module (by name from modules.toml or the modules folder, or by path)",
        |ctx, args| async move {
            if args.trim().is_empty() {
                return usage_reply("load", "<module>|<path>");
            }
            reply(super::load(&ctx, &args).await)
        },
    );
    r.register(
        "unload",
        "[-f] <module> [force]",
        "unload a module; refused while it is in use unless forced (its calls are hung up)",
        |ctx, args| async move {
            match parse_force(&args) {
                Some((name, force)) => reply(super::unload(&ctx, &name, force).await),
                None => usage_reply("unload", "[-f] <module> [force]"),
            }
        },
    );
}

/// `reload <module> [force]`, for the built-in `reload` given an argument.
pub async fn reload_command(ctx: &Arc<Context>, args: &str) -> String {
    match parse_force(args) {
        Some((name, force)) => reply(super::reload(ctx, &name, force).await),
        None => usage_reply("reload", "[<module> [force]]"),
    }
}

/// `mod_x`, `mod_x force`, `-f mod_x`.
fn parse_force(args: &str) -> Option<(String, bool)> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [name] => Some((name.to_string(), false)),
        ["-f", name] | [name, "force" | "-f"] => Some((name.to_string(), true)),
        _ => None,
    }
}

fn reply(r: Result<String, String>) -> String {
    match r {
        Ok(s) => s,
        Err(e) => format!("-ERR {e}\n"),
    }
}

/// A name or a path: `(expected name, library)`.
fn resolve(ctx: &Context, what: &str) -> (Option<String>, PathBuf) {
    let looks_like_path = what.contains('/') || what.ends_with(std::env::consts::DLL_SUFFIX);
    if looks_like_path {
        return (None, PathBuf::from(what));
    }
    (Some(what.to_string()), ctx.config.modules.library_of(what))
}

/// What a module registered, for replies: `apps a, b; api c; events 1`.
fn summary(rec: &ModuleRecord) -> String {
    let regs = rec.regs();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    let tts = if regs.tts.is_empty() {
        String::new()
    } else {
        format!("; tts {}", regs.tts.join(", "))
    };
    format!(
        "applications {}; api {}; event subscriptions {}{tts}",
        list(&regs.apps),
        list(&regs.apis),
        regs.subs.len()
    )
}

pub(super) fn load_blocking(ctx: &Arc<Context>, what: &str) -> Result<String, String> {
    let (expected, path) = resolve(ctx, what);
    let opened = library::open(&path).map_err(|e| match &expected {
        Some(name) => format!("module {name} ({}) not loaded: {e}", path.display()),
        None => format!("module {} not loaded: {e}", path.display()),
    })?;
    let name = opened.info.name.clone();
    if let Some(want) = expected.filter(|w| *w != name) {
        return Err(format!(
            "module {want} not loaded: {} is module {name}",
            path.display()
        ));
    }
    let rt = tokio::runtime::Handle::current();
    let rec = ModuleRecord::new(ctx, opened, path, rt);
    {
        let mut loaded = ctx.modules.lock();
        if loaded.contains_key(&name) {
            return Err(format!("module {name} is already loaded"));
        }
        loaded.insert(name.clone(), rec.clone());
    }
    let mut err = Vec::new();
    // SAFETY: the module's init with its host table, which lives in the record (boxed, so at
    // a fixed address) until after shutdown; the sink's buffer outlives the call.
    let st = unsafe { (rec.init)(&*rec.api, sink(&mut err)) };
    if !st.is_ok() {
        let why = String::from_utf8_lossy(&err).trim().to_string();
        ctx.modules.lock().remove(&name);
        teardown(ctx, rec, &[]);
        return Err(format!(
            "module {name} not loaded: its init failed ({st}): {why}"
        ));
    }
    let info = &rec.info;
    tracing::info!(module = %name, version = %info.version, abi = ?info.abi, compiler = %info.compiler, path = %rec.path.display(), "module loaded");
    let text = format!(
        "+OK module {name} {} loaded (ABI {}.{}): {}\n",
        info.version,
        info.abi.0,
        info.abi.1,
        summary(&rec)
    );
    Ok(text)
}

pub(super) fn unload_blocking(
    ctx: &Arc<Context>,
    name: &str,
    force: bool,
) -> Result<String, String> {
    let rec = ctx
        .modules
        .get(name)
        .ok_or_else(|| format!("module {name} is not loaded"))?;
    let (running, taps): (Vec<String>, usize) = {
        let regs = rec.regs();
        (regs.running.keys().cloned().collect(), regs.taps.len())
    };
    if !force && (!running.is_empty() || taps > 0) {
        return Err(format!(
            "module {name} is in use: its applications run on {} call(s){} and it has {taps} media tap(s) on calls; `unload {name} force` hangs those calls up and removes the taps",
            running.len(),
            if running.is_empty() { String::new() } else { format!(" ({})", running.join(", ")) },
        ));
    }
    rec.set_unloading();
    ctx.modules.lock().remove(name);
    Ok(teardown(ctx, rec, &running))
}

/// Removes everything `rec` registered, waits for it to be idle, shuts it down and lets the
/// library close (or keeps it open forever if the module would not stop). `hang_up`: calls
/// running its applications, hung up first.
fn teardown(ctx: &Arc<Context>, rec: Arc<ModuleRecord>, hang_up: &[String]) -> String {
    let name = rec.name().to_string();
    rec.set_unloading();
    for uuid in hang_up {
        super::channel::hang_up(
            ctx,
            uuid,
            "MANAGER_REQUEST",
            Some(&format!("module {name} unloaded")),
        );
    }
    for t in std::mem::take(&mut rec.regs().tts) {
        ctx.tts.unregister(&t);
    }
    let (apps, apis, subs, taps, timers) = {
        let mut r = rec.regs();
        (
            std::mem::take(&mut r.apps),
            std::mem::take(&mut r.apis),
            std::mem::take(&mut r.subs),
            std::mem::take(&mut r.taps),
            std::mem::take(&mut r.timers),
        )
    };
    for a in &apps {
        ctx.apps.unregister(a);
    }
    for a in &apis {
        ctx.api.unregister(a);
    }
    for (_, s) in subs {
        super::work::stop_subscription(s);
    }
    for (_, t) in timers {
        t.abort();
    }
    for (id, t) in taps {
        // The relay closes the tap (the module finishes what it was doing, e.g. a file).
        rec.rt.block_on(t.relay.remove_tap(t.side, id));
        tracing::debug!(module = %name, uuid = %t.uuid, "tap removed");
    }
    drop(ctx.modules.take_privates(&name));
    let idle = ModuleRecord::wait_idle(&rec, 1, DRAIN_TIMEOUT);
    // SAFETY: the module's shutdown, once, after everything it registered was removed; its host
    // table is still alive (in `rec`).
    let st = unsafe { (rec.shutdown)() };
    if !idle || !st.is_ok() {
        tracing::error!(module = %name, status = %st, idle, "module did not stop cleanly: its library stays open");
        // Closing a library while its code may still run would crash the switch.
        std::mem::forget(rec);
        return format!("+OK module {name} unregistered; it did not stop within {DRAIN_TIMEOUT:?} ({st}), so its library stays open\n");
    }
    drop(rec);
    tracing::info!(module = %name, "module unloaded");
    format!("+OK module {name} unloaded\n")
}
