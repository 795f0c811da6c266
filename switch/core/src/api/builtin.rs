//! The built-in API commands.

use std::sync::Arc;
use std::time::Duration;

use super::{show, usage_reply, ApiRegistry};
use crate::config::Config;
use crate::context::{Context, Live};
use crate::event::Event;

/// Adds every built-in command to `r`.
pub(super) fn register(r: &ApiRegistry) {
    r.register(
        "help",
        "",
        "every command with its usage",
        |ctx, _| async move { help(&ctx) },
    );
    r.register(
        "status",
        "",
        "uptime, sessions and version",
        |ctx, _| async move { status(&ctx) },
    );
    r.register("version", "", "the version", |_, _| async move {
        format!("ferroswitch Version {}\n", env!("CARGO_PKG_VERSION"))
    });
    r.register(
        "uptime",
        "[us|ms|s|m|h|d]",
        "time since start, in seconds unless another unit is given",
        |ctx, args| async move { uptime(&ctx, &args) },
    );
    r.register(
        "show",
        "channels|calls|registrations|api|modules [as json]",
        "list live channels, calls, registrations, commands or modules",
        |ctx, args| async move { show_cmd(&ctx, &args) },
    );
    r.register(
        "loglevel",
        "[error|warn|info|debug|trace]",
        "show or change the console's log level",
        |_, args| async move { loglevel(&args) },
    );
    r.register(
        "reload",
        "[<module> [force]]",
        "validate the config folder again and apply its directory and dialplan; with a module: unload and load it again",
        |ctx, args| async move {
            if args.trim().is_empty() {
                reload(&ctx).await
            } else {
                crate::loader::commands_reload(&ctx, &args).await
            }
        },
    );
    r.register(
        "reloadxml",
        "",
        "the same as reload (FreeSWITCH's name)",
        |ctx, _| async move { reload(&ctx).await },
    );
    r.register(
        "hupall",
        "[cause]",
        "hang up every call (default cause MANAGER_REQUEST)",
        |ctx, args| async move { hupall(&ctx, &args).await },
    );
    super::uuid::register(r);
    crate::loader::register_commands(r);
}

fn help(ctx: &Context) -> String {
    // One column for the syntax, capped so one long usage (originate's) does not push every
    // description off an 80-column console; a longer syntax gets its description below it.
    const MAX_WIDTH: usize = 44;
    let cmds = ctx.api.list();
    let syntaxes: Vec<String> = cmds
        .iter()
        .map(|c| format!("{} {}", c.name, c.usage).trim_end().to_string())
        .collect();
    let width = syntaxes
        .iter()
        .map(String::len)
        .filter(|&l| l <= MAX_WIDTH)
        .max()
        .unwrap_or(0);
    let mut out = String::from("Commands:\n");
    for (c, syntax) in cmds.iter().zip(&syntaxes) {
        if syntax.len() > width {
            out.push_str(&format!("  {syntax}\n  {:width$}  {}\n", "", c.description));
        } else {
            out.push_str(&format!("  {syntax:width$}  {}\n", c.description));
        }
    }
    out
}

/// `0 years, 0 days, 1 hours, 2 minutes, 3 seconds, 4 milliseconds, 5 microseconds`.
pub fn uptime_text(d: Duration) -> String {
    let us = d.as_micros();
    let s = d.as_secs();
    format!(
        "{} years, {} days, {} hours, {} minutes, {} seconds, {} milliseconds, {} microseconds",
        s / (365 * 86400),
        s % (365 * 86400) / 86400,
        s % 86400 / 3600,
        s % 3600 / 60,
        s % 60,
        us / 1000 % 1000,
        us % 1000
    )
}

fn status(ctx: &Context) -> String {
    let bus = ctx.events.stats();
    format!(
        "UP {}\nferroswitch (Version {}) is ready\n{} session(s) since startup\n{} session(s) - peak {}\n{} call(s)\n{} registration(s)\n{} event subscriber(s), {} event(s) fired, {} dropped\n",
        uptime_text(ctx.started.elapsed()),
        env!("CARGO_PKG_VERSION"),
        ctx.channels.created_total(),
        ctx.channels.count(),
        ctx.channels.peak(),
        ctx.call_count(),
        ctx.registrations.all().len(),
        bus.subscribers,
        bus.fired,
        bus.dropped,
    )
}

fn uptime(ctx: &Context, args: &str) -> String {
    let d = ctx.started.elapsed();
    let v = match args.trim() {
        "" | "s" => d.as_secs() as u128,
        "us" => d.as_micros(),
        "ms" => d.as_millis(),
        "m" => (d.as_secs() / 60) as u128,
        "h" => (d.as_secs() / 3600) as u128,
        "d" => (d.as_secs() / 86400) as u128,
        _ => return usage_reply("uptime", "[us|ms|s|m|h|d]"),
    };
    format!("{v}\n")
}

fn show_cmd(ctx: &Context, args: &str) -> String {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (what, json) = match words.as_slice() {
        [what] => (*what, false),
        [what, as_, fmt] if as_.eq_ignore_ascii_case("as") => {
            if !fmt.eq_ignore_ascii_case("json") {
                return format!("-ERR unknown format {fmt:?}: only \"as json\"\n");
            }
            (*what, true)
        }
        _ => return usage_reply("show", "channels|calls|registrations|api|modules [as json]"),
    };
    let calls = ctx.api.call_control();
    let table = match what.to_ascii_lowercase().as_str() {
        "channels" => show::channels(ctx, &calls.channels(ctx)),
        "calls" => show::calls(ctx, &calls.channels(ctx)),
        "registrations" => show::registrations(ctx),
        "api" => show::api(ctx),
        "modules" => show::modules(ctx),
        _ => return usage_reply("show", "channels|calls|registrations|api|modules [as json]"),
    };
    if json {
        table.to_json()
    } else {
        table.to_text()
    }
}

fn loglevel(args: &str) -> String {
    let level = args.trim().to_ascii_lowercase();
    if level.is_empty() {
        return match crate::log::console_level() {
            Some(l) => format!("+OK console log level is {l}\n"),
            None => "-ERR the logger is not under the switch's control\n".into(),
        };
    }
    if !crate::config::LOG_LEVELS.contains(&level.as_str()) {
        return usage_reply("loglevel", "[error|warn|info|debug|trace]");
    }
    match crate::log::set_console_level(&level) {
        Ok(()) => {
            tracing::info!(level = %level, "console log level changed");
            format!("+OK console log level {level}\n")
        }
        Err(e) => format!("-ERR {e}\n"),
    }
}

async fn reload(ctx: &Arc<Context>) -> String {
    let dir = ctx.config.dir.clone();
    let overrides = ctx.config.overrides.clone();
    let loaded = tokio::task::spawn_blocking(move || Config::load(&dir, &overrides)).await;
    match loaded {
        Ok(Ok(cfg)) => {
            let (users, rules) = (cfg.directory.users.len(), cfg.dialplan.rules.len());
            ctx.set_live(Live {
                directory: cfg.directory,
                dialplan: cfg.dialplan,
            });
            tracing::info!(users, rules, "configuration reloaded");
            crate::loader::check_dialplan(ctx);
            ctx.events.fire(
                Event::new("RELOADXML")
                    .with("Reload-Users", users.to_string())
                    .with("Reload-Dialplan-Rules", rules.to_string()),
            );
            format!("+OK reloaded: {users} directory user(s), {rules} dialplan rule(s); other settings apply at restart\n")
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reload refused: keeping the running configuration");
            format!("-ERR {e} (kept the running configuration)\n")
        }
        Err(e) => format!("-ERR reload failed: {e}\n"),
    }
}

async fn hupall(ctx: &Context, args: &str) -> String {
    let cause = match args.split_whitespace().next() {
        Some(c) => c.to_ascii_uppercase(),
        None => "MANAGER_REQUEST".to_string(),
    };
    let calls = ctx.api.call_control();
    let mut n = 0;
    for c in calls.channels(ctx) {
        if c.uuid == c.call_uuid && calls.kill(ctx, &c.uuid, &cause).await.is_ok() {
            n += 1;
        }
    }
    format!("+OK hung up {n} call(s)\n")
}
