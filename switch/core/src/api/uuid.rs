//! The commands that act on calls, through [`super::CallControl`].

use std::sync::Arc;

use super::{usage_reply, ApiRegistry};
use crate::context::Context;

const KILL: &str = "<uuid> [cause]";
const GETVAR: &str = "<uuid> <var>";
const SETVAR: &str = "<uuid> <var> [value]";
const BRIDGE: &str = "<uuid> <other_uuid>";
const TRANSFER: &str = "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]";
const HOLD: &str = "[off|toggle] <uuid>";
const BREAK: &str = "<uuid> [all]";
const ORIGINATE: &str = "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]";

/// `+OK text` or `-ERR reason`, newline-terminated.
fn reply(r: Result<String, String>) -> String {
    match r {
        Ok(text) if text.is_empty() => "+OK\n".into(),
        Ok(text) => format!("+OK {}\n", text.trim_end()),
        Err(reason) => format!("-ERR {}\n", reason.trim_end()),
    }
}

/// Splits off the first word (the uuid); `None` when there is none.
fn first(args: &str) -> Option<(&str, &str)> {
    let args = args.trim();
    if args.is_empty() {
        return None;
    }
    Some(match args.split_once(char::is_whitespace) {
        Some((a, rest)) => (a, rest.trim()),
        None => (args, ""),
    })
}

pub(super) fn register(r: &ApiRegistry) {
    r.register(
        "uuid_kill",
        KILL,
        "hang up a channel's call with a Q.850 cause (default NORMAL_CLEARING)",
        |ctx, args| async move { kill(&ctx, &args).await },
    );
    r.register(
        "uuid_getvar",
        GETVAR,
        "a channel variable (_undef_ when unset)",
        |ctx, args| async move { getvar(&ctx, &args).await },
    );
    r.register(
        "uuid_setvar",
        SETVAR,
        "set a channel variable (unset without a value)",
        |ctx, args| async move { setvar(&ctx, &args).await },
    );
    r.register(
        "uuid_bridge",
        BRIDGE,
        "bridge two channels",
        |ctx, args| async move {
            let calls = ctx.api.call_control();
            match args.split_whitespace().collect::<Vec<_>>().as_slice() {
                [a, b] => reply(calls.bridge(&ctx, a, b).await),
                _ => usage_reply("uuid_bridge", BRIDGE),
            }
        },
    );
    r.register(
        "uuid_transfer",
        TRANSFER,
        "send a channel to another extension",
        |ctx, args| async move {
            let calls = ctx.api.call_control();
            match first(&args) {
                Some((uuid, rest)) if !rest.is_empty() => {
                    reply(calls.transfer(&ctx, uuid, rest).await)
                }
                _ => usage_reply("uuid_transfer", TRANSFER),
            }
        },
    );
    r.register(
        "uuid_hold",
        HOLD,
        "put a channel on hold, take it off, or toggle",
        |ctx, args| async move {
            let calls = ctx.api.call_control();
            match args.split_whitespace().collect::<Vec<_>>().as_slice() {
                [uuid] => reply(calls.hold(&ctx, uuid, "on").await),
                [mode, uuid] if matches!(*mode, "off" | "toggle") => {
                    reply(calls.hold(&ctx, uuid, mode).await)
                }
                _ => usage_reply("uuid_hold", HOLD),
            }
        },
    );
    r.register(
        "uuid_break",
        BREAK,
        "stop what a channel is playing (the application waiting on it goes on)",
        |ctx, args| async move {
            let calls = ctx.api.call_control();
            match args.split_whitespace().collect::<Vec<_>>().as_slice() {
                [uuid] | [uuid, "all"] => reply(calls.break_play(&ctx, uuid).await),
                _ => usage_reply("uuid_break", BREAK),
            }
        },
    );
    r.register(
        "originate",
        ORIGINATE,
        "call a dial string and connect it to an extension or application",
        |ctx, args| async move {
            let calls = ctx.api.call_control();
            if args.split_whitespace().count() < 2 {
                return usage_reply("originate", ORIGINATE);
            }
            reply(calls.originate(&ctx, &args).await)
        },
    );
}

async fn kill(ctx: &Arc<Context>, args: &str) -> String {
    let Some((uuid, rest)) = first(args) else {
        return usage_reply("uuid_kill", KILL);
    };
    let cause = match rest.split_whitespace().next() {
        Some(c) => c.to_ascii_uppercase(),
        None => "NORMAL_CLEARING".into(),
    };
    if crate::config::hangup_cause_code(&cause).is_none() {
        return format!("-ERR unknown hangup cause {cause}\n");
    }
    reply(ctx.api.call_control().kill(ctx, uuid, &cause).await)
}

async fn getvar(ctx: &Arc<Context>, args: &str) -> String {
    let words: Vec<&str> = args.split_whitespace().collect();
    let [uuid, var] = words.as_slice() else {
        return usage_reply("uuid_getvar", GETVAR);
    };
    match ctx.api.call_control().getvar(ctx, uuid, var).await {
        Ok(Some(v)) => v,
        Ok(None) => "_undef_".into(),
        Err(e) => format!("-ERR {e}\n"),
    }
}

async fn setvar(ctx: &Arc<Context>, args: &str) -> String {
    let Some((uuid, rest)) = first(args) else {
        return usage_reply("uuid_setvar", SETVAR);
    };
    let Some((var, value)) = first(rest) else {
        return usage_reply("uuid_setvar", SETVAR);
    };
    let value = (!value.is_empty()).then_some(value);
    reply(ctx.api.call_control().setvar(ctx, uuid, var, value).await)
}
