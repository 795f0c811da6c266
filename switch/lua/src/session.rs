//! The `session` object: FreeSWITCH's `CoreSession` methods with their names, argument
//! orders and return values (`answer()` gives 1, `streamFile()` 1 when played to the end,
//! `getVariable()` nil when unset...). A session whose call went down answers like
//! FreeSWITCH's: `ready()` false, playing and collecting return at once.
//!
//! The media methods (`streamFile`, digits, `say`, `recordFile`) are in [`crate::input`]
//! and [`crate::say`].

use std::cell::Cell;

use mlua::{AnyUserData, Lua, UserData, UserDataMethods, UserDataRef, Value};
use switch_core::config::hangup_cause_code;
use switch_core::script::SessionHandle;

use crate::error::located;
use crate::run::{run_of, Callback};

/// A `session`: the call's handle, or none for `freeswitch.Session()` legs the switch
/// cannot make yet.
pub(crate) struct LuaSession {
    pub handle: Option<SessionHandle>,
    /// Why there is no call (a stub leg).
    pub why: Option<String>,
    destroyed: Cell<bool>,
}

impl LuaSession {
    /// The session of a call.
    pub fn new(handle: SessionHandle) -> LuaSession {
        LuaSession {
            handle: Some(handle),
            why: None,
            destroyed: Cell::new(false),
        }
    }

    /// A leg that never came up, for `why`.
    pub fn stub(why: String) -> LuaSession {
        LuaSession {
            handle: None,
            why: Some(why),
            destroyed: Cell::new(false),
        }
    }

    /// The handle while the object is usable (not destroyed, not a stub).
    pub fn live(&self) -> Option<&SessionHandle> {
        if self.destroyed.get() {
            return None;
        }
        self.handle.as_ref()
    }

    /// The handle while the call is up.
    pub fn up(&self) -> Option<&SessionHandle> {
        self.live().filter(|h| h.ready())
    }

    fn uuid(&self) -> String {
        match &self.handle {
            Some(h) => h.uuid().to_string(),
            None => "uninitialized".into(),
        }
    }
}

/// The session behind a method's `self` argument.
pub(crate) fn this(ud: &AnyUserData) -> mlua::Result<UserDataRef<LuaSession>> {
    ud.borrow::<LuaSession>()
}

/// FreeSWITCH's int returns: 1 for success, 0 otherwise.
pub(crate) fn status(ok: bool) -> i64 {
    i64::from(ok)
}

/// A Q.850 cause name as given (any case); unknown names become NORMAL_CLEARING, logged.
pub(crate) fn cause_name(lua: &Lua, given: Option<String>) -> String {
    let Some(c) = given
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
    else {
        return "NORMAL_CLEARING".into();
    };
    if hangup_cause_code(&c).is_some() {
        return c;
    }
    tracing::warn!(
        "{}unknown hangup cause {c:?}; hanging up with NORMAL_CLEARING",
        crate::error::location(lua)
    );
    "NORMAL_CLEARING".into()
}

/// `session.uuid` is a field, but a field getter on a userdata type makes mlua compile a Lua
/// `__index` generator from source in every new state (a state per call: about 4% of a call's
/// CPU). The methods table is wrapped instead by a lookup compiled once per process.
const INDEX_WITH_UUID: &str = r#"
local methods, uuid = ...
return function(self, key)
  local m = methods[key]
  if m ~= nil then return m end
  if key == "uuid" then return uuid(self) end
  return nil
end
"#;

/// Makes the userdata of `session`, its type's `__index` taught `uuid` the first time.
pub(crate) fn session_userdata(lua: &Lua, session: LuaSession) -> mlua::Result<AnyUserData> {
    static BYTECODE: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    let ud = lua.create_userdata(session)?;
    let Value::Table(methods) = ud.metatable()?.get::<Value>("__index")? else {
        return Ok(ud); // already taught
    };
    let code = BYTECODE.get_or_init(|| {
        Lua::new()
            .load(INDEX_WITH_UUID)
            .set_name("=session")
            .into_function()
            .map(|f| f.dump(true))
            .map_err(|e| e.to_string())
    });
    let code = code
        .as_ref()
        .map_err(|e| mlua::Error::RuntimeError(e.clone()))?;
    let uuid = lua.create_function(|_, s: UserDataRef<LuaSession>| Ok(s.uuid()))?;
    let index: mlua::Function = lua
        .load(&code[..])
        .set_name("=session")
        .set_mode(mlua::ChunkMode::Binary)
        .call((methods, uuid))?;
    // mlua's metatable API refuses `__index`, so it is set on the Lua stack directly.
    // SAFETY: exec_raw pushes (ud, index) and runs the closure in protected mode (a Lua
    // error is returned, not thrown through Rust); lua_getmetatable pushes the userdata's
    // metatable (nothing when it has none), lua_setfield pops the copied function, and
    // the stack is left as it was found.
    unsafe {
        lua.exec_raw::<()>((ud.clone(), index), |state| {
            if mlua::ffi::lua_getmetatable(state, -2) != 0 {
                mlua::ffi::lua_pushvalue(state, -2);
                mlua::ffi::lua_setfield(state, -2, c"__index".as_ptr());
                mlua::ffi::lua_pop(state, 1);
            }
            mlua::ffi::lua_pop(state, 2);
        })?;
    }
    Ok(ud)
}

impl UserData for LuaSession {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("answer", |_, s, ()| {
            Ok(status(s.up().is_some_and(|h| h.answer().is_ok())))
        });
        m.add_method("preAnswer", |_, s, ()| {
            Ok(status(s.up().is_some_and(|h| h.pre_answer().is_ok())))
        });
        // As in FreeSWITCH, asking runs the hangup hook once the call is down.
        m.add_function("ready", |lua, ud: AnyUserData| {
            let (up, stub) = {
                let s = this(&ud)?;
                (
                    s.up().is_some(),
                    s.handle.is_none().then(|| s.why.clone()).flatten(),
                )
            };
            if let Some(why) = stub {
                tracing::debug!("{}session not ready: {why}", crate::error::location(lua));
            }
            if !up {
                run_of(lua)?.after_wait(lua, &ud)?;
            }
            Ok(up)
        });
        m.add_method("answered", |_, s, ()| Ok(answer_state(s) == "answered"));
        m.add_method("mediaReady", |_, s, ()| {
            Ok(matches!(answer_state(s).as_str(), "answered" | "early"))
        });
        m.add_method("bridged", |_, s, ()| {
            Ok(s.up().is_some_and(|h| h.state() == "CS_EXCHANGE_MEDIA"))
        });
        m.add_method("hangup", |lua, s, cause: Option<String>| {
            if let Some(h) = s.up() {
                h.hangup(&cause_name(lua, cause));
            }
            Ok(())
        });
        m.add_method("hangupState", |_, _, ()| Ok(()));
        m.add_method("hangupCause", |_, s, ()| {
            Ok(s.handle
                .as_ref()
                .and_then(|h| h.hangup_cause())
                .unwrap_or_else(|| "NONE".into()))
        });
        m.add_method("getVariable", |_, s, name: String| {
            Ok(s.live().and_then(|h| h.get_variable(&name)))
        });
        m.add_method(
            "setVariable",
            |_, s, (name, value): (String, Option<String>)| {
                if let Some(h) = s.live() {
                    h.set_variable(&name, value.as_deref());
                }
                Ok(())
            },
        );
        m.add_method("getState", |_, s, ()| {
            Ok(match s.live() {
                Some(h) => h.state(),
                None => "ERROR".into(),
            })
        });
        m.add_method("getUuid", |_, s, ()| Ok(s.uuid()));
        m.add_method("get_uuid", |_, s, ()| Ok(s.uuid()));
        m.add_method("destroy", |lua, s, err: Option<String>| {
            s.destroyed.set(true);
            match err.filter(|e| !e.is_empty()) {
                Some(e) => Err(located(lua, e)),
                None => Ok(()),
            }
        });
        m.add_method("setAutoHangup", |lua, _, on: bool| {
            run_of(lua)?.auto_hangup.set(on);
            Ok(0)
        });
        m.add_method("transfer", |lua, s, (dest, dialplan, context): (String, Option<String>, Option<String>)| {
            let Some(h) = s.up() else { return Ok(0) };
            if dialplan.as_deref().is_some_and(|d| !d.is_empty() && d != "XML")
                || context.as_deref().is_some_and(|c| !c.is_empty())
            {
                tracing::debug!(
                    "{}transfer {dest}: the dialplan and context arguments are ignored (the call keeps its context)",
                    crate::error::location(lua)
                );
            }
            Ok(status(h.transfer(dest.trim()).is_ok()))
        });
        m.add_function(
            "execute",
            |lua, (ud, app, args): (AnyUserData, String, Option<String>)| {
                execute(lua, &ud, &app, args.as_deref().unwrap_or(""))
            },
        );
        m.add_function(
            "setInputCallback",
            |lua, (_, func, arg): (AnyUserData, Value, Value)| {
                let run = run_of(lua)?;
                *run.input.borrow_mut() = match func {
                    Value::Nil => None,
                    func => Some(Callback { func, arg }),
                };
                Ok(())
            },
        );
        m.add_function("unsetInputCallback", |lua, _: AnyUserData| {
            *run_of(lua)?.input.borrow_mut() = None;
            Ok(())
        });
        m.add_function(
            "setHangupHook",
            |lua, (_, func, arg): (AnyUserData, Value, Value)| {
                let run = run_of(lua)?;
                *run.hangup_hook.borrow_mut() = match func {
                    Value::Nil => None,
                    func => Some(Callback { func, arg }),
                };
                run.hook_done.set(false);
                Ok(())
            },
        );
        m.add_method("flushDigits", |lua, s, ()| {
            run_of(lua)?.pending.borrow_mut().clear();
            if let Some(h) = s.live() {
                h.flush_digits();
            }
            Ok(0)
        });
        m.add_method("flushEvents", |_, _, ()| Ok(0));
        for name in ["set_tts_params", "set_tts_parms"] {
            m.add_method(
                name,
                |lua, _, (engine, voice): (Option<String>, Option<String>)| {
                    *run_of(lua)?.tts.borrow_mut() =
                        Some((engine.unwrap_or_default(), voice.unwrap_or_default()));
                    Ok(())
                },
            );
        }
        m.add_method(
            "consoleLog",
            |lua, s, (level, msg): (Option<String>, Option<String>)| {
                crate::freeswitch::console_log(
                    lua,
                    level.as_deref(),
                    msg.as_deref().unwrap_or(""),
                    s.handle.as_ref().map(|h| h.uuid()),
                );
                Ok(())
            },
        );
        m.add_method("originate", |lua, _, _args: mlua::MultiValue| {
            tracing::warn!(
                "{}session:originate: the switch cannot originate calls yet",
                crate::error::location(lua)
            );
            Ok(false)
        });
        crate::input::add_methods(m);
        crate::say::add_methods(m);
    }
}

/// `answer_state` as the call reports it (`hangup` once down, `none` for a stub).
fn answer_state(s: &LuaSession) -> String {
    match s.live() {
        Some(h) if !h.ready() => "hangup".into(),
        Some(h) => h
            .get_variable("answer_state")
            .unwrap_or_else(|| "ringing".into()),
        None => "none".into(),
    }
}

/// `session:execute(app, args)`: any dialplan application; a `transfer` takes effect when
/// the script ends, as after `session:transfer()`.
fn execute(lua: &Lua, ud: &AnyUserData, app: &str, args: &str) -> mlua::Result<()> {
    let run = run_of(lua)?;
    let handle = this(ud)?.up().cloned();
    let Some(h) = handle else { return Ok(()) };
    let app = app.trim();
    if app.is_empty() {
        tracing::error!(
            "{}session:execute: no application specified",
            crate::error::location(lua)
        );
        return Ok(());
    }
    if app == "transfer" {
        let dest = args.split_whitespace().next().unwrap_or("");
        if h.transfer(dest).is_err() {
            tracing::warn!("{}transfer {dest:?} refused", crate::error::location(lua));
        }
        return Ok(());
    }
    let r = run.wait(|| h.execute(app, args));
    if let Err(e) = r {
        tracing::info!(
            uuid = %h.uuid(),
            "{}session:execute({app}, {args:?}): {e}",
            crate::error::location(lua)
        );
    }
    run.after_wait(lua, ud)
}
