//! The globals a run starts with: `argv` (`argv[0]` the script, `argv[1]` the destination of
//! a context script), `session` (the call, nil without one), `freeswitch`, and `stream`
//! (runs with no call).

use mlua::{AnyUserData, Lua};
use switch_core::script::SessionHandle;

use crate::freeswitch::LuaStream;
use crate::session::LuaSession;

/// Sets the globals; the `session` object when there is a call.
pub(crate) fn install(
    lua: &Lua,
    script: &str,
    argv: &[String],
    session: Option<SessionHandle>,
) -> mlua::Result<Option<AnyUserData>> {
    let g = lua.globals();
    let args = lua.create_table_with_capacity(argv.len(), 1)?;
    args.raw_set(0, script)?;
    for (i, a) in argv.iter().enumerate() {
        args.raw_set(i + 1, a.as_str())?;
    }
    g.raw_set("argv", args)?;
    g.raw_set("freeswitch", crate::freeswitch::lazy_table(lua)?)?;
    match session {
        Some(h) => {
            let ud = crate::session::session_userdata(lua, LuaSession::new(h))?;
            g.raw_set("session", ud.clone())?;
            Ok(Some(ud))
        }
        None => {
            g.raw_set("stream", LuaStream)?;
            Ok(None)
        }
    }
}
