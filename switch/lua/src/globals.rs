//! The globals a run starts with: `argv` (`argv[0]` the script, `argv[1]` the destination of
//! a context script), `session` (the call, nil without one), and `stream` (runs with no
//! call); `freeswitch` is one of the globals `crate::lazy` builds on first read.

use mlua::{AnyUserData, Lua};
use switch_core::script::SessionHandle;

use crate::freeswitch::LuaStream;
use crate::session::LuaSession;

/// The call's handle until a script first reads `session` (built then: making the userdata
/// and its ~60 methods is most of a state's set-up, and a dialplan returning ACTIONS often
/// never touches it).
struct PendingSession(SessionHandle);

/// The `session` object, once built.
#[derive(Clone)]
struct BuiltSession(AnyUserData);

/// Builds `session` now if it is still pending; the object either way (`None` with no call).
pub(crate) fn materialize_session(lua: &Lua) -> mlua::Result<Option<AnyUserData>> {
    if let Some(PendingSession(h)) = lua.remove_app_data::<PendingSession>() {
        let ud = crate::session::session_userdata(lua, LuaSession::new(h))?;
        let g = lua.globals();
        g.raw_set("session", ud.clone())?;
        lua.set_app_data(BuiltSession(ud.clone()));
        return Ok(Some(ud));
    }
    Ok(lua.app_data_ref::<BuiltSession>().map(|b| b.0.clone()))
}

/// The `session` object if the script built it.
pub(crate) fn built_session(lua: &Lua) -> Option<AnyUserData> {
    lua.app_data_ref::<BuiltSession>().map(|b| b.0.clone())
}

/// Sets the globals: `argv`, and `session` (built on first read) when there is a call,
/// `stream` without one.
pub(crate) fn install(
    lua: &Lua,
    script: &str,
    argv: &[String],
    session: Option<SessionHandle>,
) -> mlua::Result<()> {
    let g = lua.globals();
    let args = lua.create_table_with_capacity(argv.len(), 1)?;
    args.raw_set(0, script)?;
    for (i, a) in argv.iter().enumerate() {
        args.raw_set(i + 1, a.as_str())?;
    }
    g.raw_set("argv", args)?;
    match session {
        // Built on first read by `_G`'s lazy __index (see `crate::lazy`).
        Some(h) => {
            lua.set_app_data(PendingSession(h));
        }
        None => g.raw_set("stream", LuaStream)?,
    }
    Ok(())
}
