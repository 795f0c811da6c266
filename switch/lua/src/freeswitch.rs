//! The `freeswitch` global: `consoleLog`, `consoleCleanLog`, `API`, `Session`, `Event`,
//! `getGlobalVariable`, `msleep`, `IVRMenu`, `Dbh`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

use crate::error::location;
use crate::ivr::{self, LuaMenu, MenuSpec};
use crate::run::run_of;
use crate::session::{session_userdata, LuaSession};

/// Logs `msg` at a FreeSWITCH level name (`debug`, `info`, `notice`, `warning`, `err`,
/// `crit`, `alert`, `console`); unknown names log at info.
pub(crate) fn console_log(lua: &Lua, level: Option<&str>, msg: &str, uuid: Option<&str>) {
    let script = run_of(lua).map(|r| r.script.clone()).unwrap_or_default();
    let msg = msg.trim_end_matches(['\r', '\n']);
    let uuid = uuid.unwrap_or("");
    match level.unwrap_or("info").trim().to_ascii_lowercase().as_str() {
        "debug" | "debug1" | "debug2" | "debug3" | "debug4" | "debug5" | "debug6" | "debug7"
        | "debug8" | "debug9" | "debug10" => tracing::debug!(%script, uuid, "{msg}"),
        "warning" | "warn" => tracing::warn!(%script, uuid, "{msg}"),
        "err" | "error" | "crit" | "alert" => tracing::error!(%script, uuid, "{msg}"),
        _ => tracing::info!(%script, uuid, "{msg}"),
    }
}

/// The `freeswitch` table (built on a script's first read of it, see `crate::lazy`: most
/// dialplan scripts never touch it, and its functions are a good part of a state's set-up).
pub(crate) fn table(lua: &Lua) -> mlua::Result<Table> {
    let fs = lua.create_table_with_capacity(0, 10)?;
    fill(lua, &fs)?;
    Ok(fs)
}

/// Puts the functions into the `freeswitch` table.
fn fill(lua: &Lua, fs: &Table) -> mlua::Result<()> {
    fs.raw_set(
        "consoleLog",
        lua.create_function(|lua, (level, msg): (Option<String>, Option<String>)| {
            console_log(lua, level.as_deref(), msg.as_deref().unwrap_or(""), None);
            Ok(())
        })?,
    )?;
    fs.raw_set(
        "consoleCleanLog",
        lua.create_function(|lua, msg: Option<String>| {
            console_log(lua, Some("info"), msg.as_deref().unwrap_or(""), None);
            Ok(())
        })?,
    )?;
    fs.raw_set(
        "API",
        lua.create_function(|_, _: mlua::MultiValue| Ok(LuaApi))?,
    )?;
    fs.raw_set(
        "Session",
        lua.create_function(|lua, (dial, _a_leg): (Option<String>, Value)| {
            let dial = dial.unwrap_or_default();
            let run = run_of(lua)?;
            let Some((ctx, rt)) = run.shared.core() else {
                let why = format!("freeswitch.Session({dial:?}): no switch to call from");
                tracing::warn!("{}{why}", location(lua));
                return session_userdata(lua, LuaSession::stub(why));
            };
            // FreeSWITCH's dial string, `{var=value,...}` prefix included; the call rings
            // until answered (or fails), and the script then drives the new leg.
            let mut req =
                match switch_core::call::originate::parse_api_args(&format!("{dial} &park")) {
                    Ok(r) => r,
                    Err(e) => {
                        let why = format!("freeswitch.Session({dial:?}): {e}");
                        tracing::warn!("{}{why}", location(lua));
                        return session_userdata(lua, LuaSession::stub(why));
                    }
                };
            req.then = switch_core::call::originate::Then::Driven;
            let outcome =
                run.wait(|| rt.block_on(switch_core::call::originate::originate(ctx, req)));
            match outcome {
                Ok(o) => match o.session {
                    Some(handle) => session_userdata(lua, LuaSession::new(handle)),
                    None => {
                        session_userdata(lua, LuaSession::stub("no session handed back".into()))
                    }
                },
                Err(cause) => {
                    let why = format!("freeswitch.Session({dial:?}): {cause}");
                    tracing::info!("{}{why}", location(lua));
                    session_userdata(lua, LuaSession::stub(why))
                }
            }
        })?,
    )?;
    fs.raw_set(
        "Event",
        lua.create_function(|lua, (name, sub): (String, Option<String>)| {
            crate::event::create(lua, &name, sub.as_deref())
        })?,
    )?;
    fs.raw_set(
        "getGlobalVariable",
        lua.create_function(|lua, name: String| Ok(run_of(lua)?.shared.global(&name)))?,
    )?;
    fs.raw_set(
        "msleep",
        lua.create_function(|lua, ms: i64| {
            let run = run_of(lua)?;
            run.wait(|| std::thread::sleep(Duration::from_millis(ms.max(0) as u64)));
            Ok(())
        })?,
    )?;
    fs.raw_set("IVRMenu", lua.create_function(new_menu)?)?;
    fs.raw_set(
        "Dbh",
        lua.create_function(
            |lua, (dsn, _user, _pass): (String, Option<String>, Option<String>)| {
                let run = run_of(lua)?;
                Ok(crate::dbh::open(
                    lua,
                    &run.shared.settings.db_dir,
                    &dsn,
                    &run.budget,
                ))
            },
        )?,
    )?;
    Ok(())
}

/// `IVRMenu(main, name, greeting, short_greeting, invalid, exit, confirm_macro, confirm_key,
/// tts_engine, tts_voice, confirm_attempts, inter_timeout, digit_len, timeout,
/// max_failures, max_timeouts)`.
fn new_menu(lua: &Lua, args: mlua::MultiValue) -> mlua::Result<LuaMenu> {
    let mut v: Vec<Value> = args.into_iter().collect();
    v.resize(16, Value::Nil);
    let main = match &v[0] {
        Value::UserData(ud) => Some(ud.clone()),
        _ => None,
    };
    let text = |i: usize| -> String {
        match &v[i] {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(n) => n.to_string(),
            _ => String::new(),
        }
    };
    let num = |i: usize| -> i64 {
        match &v[i] {
            Value::Integer(n) => *n,
            Value::Number(n) => *n as i64,
            Value::String(s) => s.to_string_lossy().trim().parse().unwrap_or(0),
            _ => 0,
        }
    };
    let name = text(1);
    if name.is_empty() {
        return Err(crate::error::located(
            lua,
            "freeswitch.IVRMenu: a menu needs a name",
        ));
    }
    let spec = MenuSpec {
        name,
        greeting: text(2),
        short_greeting: text(3),
        invalid: text(4),
        exit: text(5),
        confirm_macro: text(6),
        confirm_key: text(7),
        confirm_attempts: num(10),
        inter_timeout: num(11),
        digit_len: num(12),
        timeout: num(13),
        max_failures: num(14),
        max_timeouts: num(15),
    };
    let main_ref = match &main {
        Some(ud) => Some(ud.borrow::<LuaMenu>()?),
        None => None,
    };
    Ok(ivr::create(main_ref.as_deref(), spec))
}

/// `freeswitch.API()`: console commands through the switch's API table.
struct LuaApi;

impl UserData for LuaApi {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method(
            "execute",
            |lua, _, (cmd, args): (String, Option<String>)| {
                api(lua, cmd.trim(), args.as_deref().unwrap_or("").trim())
            },
        );
        m.add_method("executeString", |lua, _, line: String| {
            let (cmd, args) = switch_core::api::split_command(&line);
            api(lua, cmd, args)
        });
        m.add_method("getTime", |_, _, ()| {
            let ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            Ok(ms.to_string())
        });
    }
}

fn api(lua: &Lua, cmd: &str, args: &str) -> mlua::Result<String> {
    let run = run_of(lua)?;
    let Some((ctx, rt)) = run.shared.core() else {
        tracing::warn!("{}api {cmd}: not running in the switch", location(lua));
        return Ok(format!("-ERR {cmd} Command not found!\n"));
    };
    Ok(run.wait(|| rt.block_on(switch_core::api::execute_command(&ctx, cmd, args))))
}

/// The `stream` global of a run with no call: `stream:write()` goes to the reply of the
/// `lua` command (and the end of `luarun`'s log).
pub(crate) struct LuaStream;

impl UserData for LuaStream {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("write", |lua, _, text: Option<String>| {
            run_of(lua)?.output.write(text.as_deref().unwrap_or(""));
            Ok(())
        });
        m.add_method("get_data", |_, _, ()| Ok(String::new()));
    }
}
