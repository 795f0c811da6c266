//! One script run: a fresh sandboxed state, its globals (`session`, `freeswitch`, `argv`,
//! `stream`), the chunk from the cache, and what it leaves (`ACTIONS`, auto hangup, the
//! error with `file:line`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use mlua::{AnyUserData, Function, Lua, MultiValue, Table, Value};
use switch_core::script::SessionHandle;

use crate::budget::{self, Budget};
use crate::error::{describe, is_exit};
use crate::sandbox::{self, Printer};
use crate::session::LuaSession;
use crate::Shared;

/// Most bytes of `print` / `stream:write` output kept for the `lua` command's reply.
const MAX_OUTPUT: usize = 1 << 20;

/// What a run left.
#[derive(Debug, Default, Clone)]
pub struct RunOutcome {
    /// `ACTIONS`: applications to run after the script.
    pub actions: Vec<(String, String)>,
    /// Why it failed, `file:line: reason`.
    pub error: Option<String>,
    /// `setAutoHangup` (true unless the script turned it off).
    pub auto_hangup: bool,
    /// What it printed (`print`, `stream:write`).
    pub output: String,
    /// Bytes its state held when it ended.
    pub memory: usize,
}

/// A Lua function to call back, given as a function or as the name of a global one (as
/// FreeSWITCH scripts do), with its extra argument.
pub(crate) struct Callback {
    pub func: Value,
    pub arg: Value,
}

impl Callback {
    /// The function to call now (a name is looked up at call time).
    pub fn function(&self, lua: &Lua) -> mlua::Result<Option<Function>> {
        Ok(match &self.func {
            Value::Function(f) => Some(f.clone()),
            Value::String(name) => lua
                .globals()
                .get::<Option<Function>>(name.to_str()?.as_ref())?,
            _ => None,
        })
    }

    /// The extra argument: a string naming a global passes that global's value (as in
    /// FreeSWITCH), anything else passes itself.
    pub fn argument(&self, lua: &Lua) -> mlua::Result<Value> {
        if let Value::String(name) = &self.arg {
            let v: Value = lua.globals().get(name.to_str()?.as_ref())?;
            if !v.is_nil() {
                return Ok(v);
            }
        }
        Ok(self.arg.clone())
    }
}

/// The state of one run the session and freeswitch functions share (the state's app data).
pub(crate) struct Run {
    pub shared: Arc<Shared>,
    pub budget: Arc<Budget>,
    pub script: String,
    pub output: Arc<Output>,
    /// Digits pressed during a playback with no input callback, kept for the next read.
    pub pending: RefCell<String>,
    pub input: RefCell<Option<Callback>>,
    pub hangup_hook: RefCell<Option<Callback>>,
    pub hook_done: Cell<bool>,
    pub auto_hangup: Cell<bool>,
    pub tts: RefCell<Option<(String, String)>>,
}

/// The run of the state calling.
pub(crate) fn run_of(lua: &Lua) -> mlua::Result<Rc<Run>> {
    lua.app_data_ref::<Rc<Run>>()
        .map(|r| r.clone())
        .ok_or_else(|| mlua::Error::RuntimeError("no script run".into()))
}

impl Run {
    /// The input callback set now (`setInputCallback`), resolved: its function (`None` when
    /// it names one that does not exist) and its argument; `None` when no callback is set.
    pub fn input_callback(
        &self,
        lua: &Lua,
    ) -> Option<(mlua::Result<Option<Function>>, mlua::Result<Value>)> {
        (self.input.borrow().as_ref()).map(|c| (c.function(lua), c.argument(lua)))
    }

    /// Runs a blocking wait without counting it against the CPU budget.
    pub fn wait<T>(&self, f: impl FnOnce() -> T) -> T {
        self.budget.wait(f)
    }

    /// After a blocking call: runs the hangup hook if the call went down meanwhile.
    /// Errors only when the hook asked to end the script or the script was stopped.
    pub fn after_wait(&self, lua: &Lua, ud: &AnyUserData) -> mlua::Result<()> {
        let down = ud
            .borrow::<LuaSession>()
            .ok()
            .and_then(|s| s.handle.as_ref().map(|h| !h.ready()))
            .unwrap_or(false);
        if down {
            self.hangup_hook(lua, ud)?;
        }
        Ok(())
    }

    /// Calls the hangup hook once (FreeSWITCH: `hook(session, "hangup", arg)`); `"exit"`
    /// or `"die"` from it ends the script.
    pub fn hangup_hook(&self, lua: &Lua, ud: &AnyUserData) -> mlua::Result<()> {
        let _nested = crate::budget::enter()?;
        if self.hook_done.get() {
            return Ok(());
        }
        let Some((f, arg)) = self
            .hangup_hook
            .borrow()
            .as_ref()
            .map(|cb| (cb.function(lua), cb.argument(lua)))
        else {
            return Ok(());
        };
        self.hook_done.set(true);
        let Some(f) = f? else { return Ok(()) };
        let r = f.call::<Value>((ud.clone(), "hangup", arg?));
        match r {
            Ok(Value::String(s)) => {
                let s = s.to_string_lossy();
                if let Ok(ses) = ud.borrow::<LuaSession>() {
                    if let Some(h) = &ses.handle {
                        h.set_variable("lua_hangup_hook_return_val", Some(&s));
                    }
                }
                if s.eq_ignore_ascii_case("exit") || s.eq_ignore_ascii_case("die") {
                    return Err(mlua::Error::RuntimeError(crate::error::EXIT_MARKER.into()));
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => self.callback_failed("hangup hook", e),
        }
    }

    /// A callback raised `e`: FreeSWITCH logs it and goes on; a stopped script (or one out
    /// of memory) does not go on.
    pub fn callback_failed(&self, what: &str, e: mlua::Error) -> mlua::Result<()> {
        if self.budget.killed() || crate::error::is_memory(&e) || is_exit(&e) {
            return Err(e);
        }
        let msg = describe(
            &e,
            self.shared.settings.memory_limit,
            &self.budget.location(),
        );
        tracing::error!(script = %self.script, "{what} failed: {msg}");
        Ok(())
    }
}

/// Where `print` and `stream:write` go: the log, and a buffer for the `lua` command.
pub(crate) struct Output {
    script: String,
    uuid: Option<String>,
    buf: Mutex<String>,
}

impl Output {
    /// Appends text without logging it (`stream:write`).
    pub fn write(&self, text: &str) {
        if let Ok(mut b) = self.buf.lock() {
            if b.len() + text.len() <= MAX_OUTPUT {
                b.push_str(text);
            }
        }
    }

    fn take(&self) -> String {
        self.buf
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl Printer for Output {
    fn print(&self, line: &str) {
        match &self.uuid {
            Some(uuid) => tracing::info!(script = %self.script, %uuid, "{line}"),
            None => tracing::info!(script = %self.script, "{line}"),
        }
        self.write(line);
        self.write("\n");
    }
}

/// Runs `script` with `argv` (and `session` for a call) to its end.
pub(crate) fn execute(
    shared: &Arc<Shared>,
    script: &str,
    argv: &[String],
    session: Option<SessionHandle>,
) -> RunOutcome {
    let settings = &shared.settings;
    let budget = Budget::new(script, settings.max_cpu);
    shared.watchdog.watch(&budget, session.clone());
    let output = Arc::new(Output {
        script: script.to_string(),
        uuid: session.as_ref().map(|s| s.uuid().to_string()),
        buf: Mutex::new(String::new()),
    });
    let fail = |error: String, output: &Output| RunOutcome {
        error: Some(error),
        auto_hangup: true,
        output: output.take(),
        ..RunOutcome::default()
    };
    let lua = match sandbox::new_state(
        settings.memory_limit,
        &budget,
        shared.cache.clone(),
        output.clone(),
    ) {
        Ok(l) => l,
        Err(e) => return fail(format!("{script}: cannot create a Lua state: {e}"), &output),
    };
    if let Err(e) = budget::install(&lua, budget.clone()) {
        return fail(
            format!("{script}: cannot install the CPU budget: {e}"),
            &output,
        );
    }
    let run = Rc::new(Run {
        shared: shared.clone(),
        budget: budget.clone(),
        script: script.to_string(),
        output: output.clone(),
        pending: RefCell::new(String::new()),
        input: RefCell::new(None),
        hangup_hook: RefCell::new(None),
        hook_done: Cell::new(false),
        auto_hangup: Cell::new(true),
        tts: RefCell::new(None),
    });
    lua.set_app_data(run.clone());
    let outcome = run_in(&lua, &run, script, argv, session);
    lua.remove_app_data::<Rc<Run>>();
    drop(run);
    let memory = lua.used_memory();
    drop(lua);
    budget::uninstall();
    RunOutcome { memory, ..outcome }
}

/// Allocation a run may make before its first collection: about twice a fresh state's
/// ~14 KiB, so a short dialplan ends before any cycle while a script that keeps allocating
/// is collected as usual.
const FIRST_GC_KB: i32 = 32;

/// Restarts the collector stopped for the set-up. A plain restart would begin a cycle at
/// the next allocation, marking the whole fresh state even for a one-line dialplan; a
/// negative step pushes the first cycle back by [`FIRST_GC_KB`] of new allocation.
fn start_collector(lua: &Lua) {
    lua.gc_restart();
    // Cannot fail short of memory, and a failure only means an earlier first cycle.
    let _ = lua.gc_step_kbytes(-FIRST_GC_KB);
}

fn run_in(
    lua: &Lua,
    run: &Rc<Run>,
    script: &str,
    argv: &[String],
    session: Option<SessionHandle>,
) -> RunOutcome {
    let limit = run.shared.settings.memory_limit;
    let near = |run: &Run| run.budget.location();
    let mut outcome = RunOutcome {
        auto_hangup: true,
        ..RunOutcome::default()
    };
    match crate::globals::install(lua, script, argv, session) {
        Ok(()) => {}
        Err(e) => {
            outcome.error = Some(format!("{script}: {}", describe(&e, limit, script)));
            outcome.output = run.output.take();
            return outcome;
        }
    };
    if let Err(e) = crate::sandbox::limit_memory(lua, limit) {
        outcome.error = Some(format!("{script}: cannot limit its memory: {e}"));
        outcome.output = run.output.take();
        return outcome;
    }
    let result = match run.shared.cache.load(lua, script) {
        Ok(f) => {
            start_collector(lua);
            run.budget.resume();
            let args = MultiValue::from_iter(
                argv.iter()
                    .filter_map(|a| lua.create_string(a).ok())
                    .map(Value::String),
            );
            let r = f.call::<()>(args);
            run.budget.pause();
            r.map_err(|e| describe_or_exit(&e, limit, &near(run)))
        }
        Err(msg) => {
            start_collector(lua);
            Err(Some(msg))
        }
    };
    // The call went down while the script ran (or it hung up itself): the hook runs now.
    // A script that never read `session` set no hook.
    let session_ud = crate::globals::built_session(lua);
    if let Some(ud) = &session_ud {
        run.budget.resume();
        let hook = run.after_wait(lua, ud);
        run.budget.pause();
        if let Err(e) = hook {
            if !is_exit(&e) && result.is_ok() {
                outcome.error = Some(describe(&e, limit, &near(run)));
            }
        }
    }
    if let Err(Some(msg)) = result {
        outcome.error = Some(msg);
    }
    outcome.auto_hangup = run.auto_hangup.get();
    match actions(lua) {
        Ok(a) => outcome.actions = a,
        Err(e) if outcome.error.is_none() => {
            outcome.error = Some(format!("{script}: ACTIONS: {e}"));
        }
        Err(_) => {}
    }
    outcome.output = run.output.take();
    outcome
}

/// `None` when the error is the hangup hook's request to end the script.
fn describe_or_exit(e: &mlua::Error, limit: usize, near: &str) -> Option<String> {
    (!is_exit(e)).then(|| describe(e, limit, near))
}

/// The global `ACTIONS` table: `{ {"app", "args"}, ... }` (a plain `"app args"` string is
/// taken too).
fn actions(lua: &Lua) -> Result<Vec<(String, String)>, String> {
    // Raw: a script's own _G metatable (strict mode) must not run after the script.
    let Some(t) = lua
        .globals()
        .raw_get::<Option<Table>>("ACTIONS")
        .map_err(|e| format!("must be a table ({e})"))?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, v) in t.sequence_values::<Value>().enumerate() {
        let v = v.map_err(|e| e.to_string())?;
        let (app, args) = match v {
            Value::Table(pair) => {
                let app: Option<String> = pair.get(1).map_err(|e| e.to_string())?;
                let args: Option<String> = pair.get(2).map_err(|e| e.to_string())?;
                (app.unwrap_or_default(), args.unwrap_or_default())
            }
            Value::String(s) => {
                let s = s.to_string_lossy();
                let (app, args) = s.trim().split_once(' ').unwrap_or((s.trim(), ""));
                (app.to_string(), args.trim().to_string())
            }
            other => {
                return Err(format!(
                    "entry {} is a {}, expected {{\"app\", \"args\"}}",
                    i + 1,
                    other.type_name()
                ))
            }
        };
        if app.trim().is_empty() {
            return Err(format!("entry {} names no application", i + 1));
        }
        out.push((app.trim().to_string(), args));
    }
    Ok(out)
}
