//! A fresh, sandboxed Lua 5.4 state per run.
//!
//! Loaded: the base library, `string`, `table`, `math`, `utf8`, `coroutine`, and of `os` only
//! `time`, `date` and `clock` (all but the base library and `string` on first use, see
//! [`crate::lazy`]). Gone: `io`, `debug`, `package.loadlib`/`cpath`, `dofile`,
//! `loadfile`, `string.dump`, `warn`, and the rest of `os`. Replaced:
//! - `load`: text chunks only (mode `"t"` whatever the caller asks);
//! - `require`: modules from the scripts folder only (`require "lib.menu"` is
//!   `lib/menu.lua`), cached in `package.loaded`;
//! - `print`: to the log (and to the output of `luarun`/`lua`);
//! - `setmetatable`: refuses `__gc`, since finalizers run with hooks off (a loop there could
//!   not be stopped);
//! - `string.find`/`match`/`gmatch`/`gsub`/`rep` (see [`crate::strlib`]) and
//!   `table.insert`/`remove`/`move`, whose C loops a huge `__len` or range could make endless.
//!
//! The memory limit covers everything the state allocates (set by [`limit_memory`] once the
//! set-up is done, it counts the set-up too); the CPU budget is installed by
//! [`crate::budget::install`].

use std::sync::Arc;

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use crate::budget::Budget;
use crate::cache::ScriptCache;
use crate::error::located;

/// Most elements a `table.insert`/`remove`/`move` may shift in one call.
const MAX_SHIFT: i64 = 1 << 20;

/// Where `print` output goes.
pub trait Printer: 'static {
    /// One printed line (tab-joined arguments).
    fn print(&self, line: &str);
}

/// Builds a sandboxed state for a run with `limit` bytes of memory (0: none; applied by
/// [`limit_memory`]), `budget` for its CPU, `require` reading from `cache` and `print`
/// going to `printer`.
pub fn new_state(
    limit: usize,
    budget: &Arc<Budget>,
    cache: Arc<ScriptCache>,
    printer: Arc<dyn Printer>,
) -> mlua::Result<Lua> {
    // The other libraries and wrappers are built on first use: see `crate::lazy`.
    let lua = Lua::new_with(StdLib::STRING, LuaOptions::new())?;
    // No collection while the state is set up: everything made now lives to the end. The
    // run restarts the collector before the script starts.
    lua.gc_stop();
    let g = lua.globals();
    for name in ["dofile", "loadfile", "warn"] {
        g.raw_set(name, Value::Nil)?;
    }
    let string: Table = g.raw_get("string")?;
    crate::strlib::install(&lua, &string, budget, limit)?;
    crate::lazy::install(&lua, &g, cache, printer)?;
    Ok(lua)
}

/// Applies the run's memory limit (0: none), counting what the set-up allocated. Applied
/// after the set-up, not before: with a limit mlua guards every table write and string it
/// makes against allocation errors with a protected call, which made up a third of the
/// set-up's cost, and the set-up's size is fixed and small.
pub fn limit_memory(lua: &Lua, limit: usize) -> mlua::Result<()> {
    if limit > 0 {
        lua.set_memory_limit(limit)?;
    }
    Ok(())
}

/// The sandbox's `load` around the base library's.
pub(crate) fn wrap_load(lua: &Lua, load: Function) -> mlua::Result<Function> {
    lua.create_function(move |lua, args: MultiValue| {
        let _nested = crate::budget::enter()?;
        // Text only, whatever was asked: bytecode can break out of any sandbox. An
        // environment is passed on only when given (an explicit nil means "no _ENV").
        let mut args: Vec<Value> = args.into_iter().collect();
        args.resize(args.len().max(3), Value::Nil);
        args[2] = Value::String(lua.create_string("t")?);
        load.call::<MultiValue>(MultiValue::from_iter(args))
    })
}

/// `pcall`, `xpcall` and `coroutine.resume` hand scripts the errors of Rust functions as
/// plain strings (`"file:line: reason"`), as FreeSWITCH's do. The wrappers are Lua (results
/// pass through untouched, however many), compiled once per process.
const PCALL_WRAPPERS: &str = r#"
local pcall, xpcall, co, plain = ...
local function fix(ok, ...)
  if ok then return true, ... end
  return false, plain((...))
end
local resume = co.resume
co.resume = function(c, ...) return fix(resume(c, ...)) end
return function(f, ...) return fix(pcall(f, ...)) end,
  function(f, h, ...) return fix(xpcall(f, function(e) return h(plain(e)) end, ...)) end
"#;

/// Wraps `co.resume` in place and returns the wrapped `pcall` and `xpcall` (see
/// [`PCALL_WRAPPERS`]).
pub(crate) fn protect(
    lua: &Lua,
    pcall: Function,
    xpcall: Function,
    co: &Table,
) -> mlua::Result<(Function, Function)> {
    static BYTECODE: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    let code = BYTECODE.get_or_init(|| {
        let l = Lua::new();
        l.load(PCALL_WRAPPERS)
            .set_name("=sandbox")
            .into_function()
            .map(|f| f.dump(true))
            .map_err(|e| e.to_string())
    });
    let code = code
        .as_ref()
        .map_err(|e| mlua::Error::RuntimeError(e.clone()))?;
    let plain = lua.create_function(|lua, e: Value| {
        Ok(match e {
            Value::Error(e) => Value::String(lua.create_string(crate::error::plain(&e))?),
            other => other,
        })
    })?;
    let setup = lua
        .load(&code[..])
        .set_name("=sandbox")
        .set_mode(mlua::ChunkMode::Binary)
        .into_function()?;
    setup.call((pcall, xpcall, co.clone(), plain))
}

/// The sandbox's `os`: `time`, `date` and `clock` of the full library `os`.
pub(crate) fn safe_os(lua: &Lua, os: &Table) -> mlua::Result<Table> {
    let safe = lua.create_table_with_capacity(0, 3)?;
    for name in ["time", "date", "clock"] {
        safe.raw_set(name, os.raw_get::<Value>(name)?)?;
    }
    Ok(safe)
}

/// The sandbox's `setmetatable` around the base library's.
pub(crate) fn wrap_setmetatable(lua: &Lua, setmt: Function) -> mlua::Result<Function> {
    lua.create_function(move |lua, (t, mt): (Value, Value)| {
        if let Value::Table(m) = &mt {
            if !m.raw_get::<Value>("__gc")?.is_nil() {
                return Err(located(
                    lua,
                    "setmetatable: __gc metamethods are not allowed in the sandbox",
                ));
            }
        }
        // Replacing _G's metatable would lose the lazy globals: build them first.
        if let Value::Table(target) = &t {
            if target == &lua.globals() {
                crate::lazy::build_all(lua)?;
            }
        }
        setmt.call::<Value>((t, mt))
    })
}

/// The sandbox's `print`, with the base library's `tostring`, to `printer`.
pub(crate) fn wrap_print(
    lua: &Lua,
    tostring: Function,
    printer: Arc<dyn Printer>,
) -> mlua::Result<Function> {
    lua.create_function(move |_, args: MultiValue| {
        let _nested = crate::budget::enter()?;
        let mut line = String::new();
        for (i, v) in args.into_iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            line.push_str(&tostring.call::<mlua::String>(v)?.to_string_lossy());
        }
        printer.print(&line);
        Ok(())
    })
}

pub(crate) fn install_require(lua: &Lua, g: &Table, cache: Arc<ScriptCache>) -> mlua::Result<()> {
    let package = lua.create_table_with_capacity(0, 2)?;
    let loaded = lua.create_table()?;
    for lib in ["string", "table", "math", "utf8", "coroutine", "os"] {
        loaded.raw_set(lib, g.raw_get::<Value>(lib)?)?;
    }
    loaded.raw_set("_G", g.clone())?;
    package.raw_set("loaded", loaded.clone())?;
    package.raw_set("path", format!("{}/?.lua", cache.root().display()).as_str())?;
    g.raw_set("package", package)?;
    g.raw_set(
        "require",
        lua.create_function(move |lua, name: String| {
            let _nested = crate::budget::enter()?;
            let known: Value = loaded.raw_get(name.as_str())?;
            if !known.is_nil() {
                return Ok(known);
            }
            let file = module_file(&name)
                .ok_or_else(|| located(lua, format!("require: bad module name {name:?}")))?;
            let f = cache.load(lua, &file).map_err(|e| {
                located(
                    lua,
                    format!("require {name:?}: {e} (modules come from the scripts folder only)"),
                )
            })?;
            let v: Value = f.call(name.as_str())?;
            let v = if v.is_nil() { Value::Boolean(true) } else { v };
            loaded.raw_set(name.as_str(), v.clone())?;
            Ok(v)
        })?,
    )
}

/// `lib.menu` -> `lib/menu.lua`; `None` for names that are not plain module names.
fn module_file(name: &str) -> Option<String> {
    let base = name.strip_suffix(".lua").unwrap_or(name);
    let ok = !base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !base.contains("..")
        && !base.starts_with('.');
    ok.then(|| format!("{}.lua", base.replace('.', "/")))
}

pub(crate) fn guard_table_lib(lua: &Lua, table: &Table) -> mlua::Result<()> {
    let insert: Function = table.raw_get("insert")?;
    table.raw_set(
        "insert",
        lua.create_function(move |lua, args: MultiValue| {
            let _nested = crate::budget::enter()?;
            if args.len() == 3 {
                if let (Some(Value::Table(t)), Some(pos)) = (args.front(), args.get(1)) {
                    let pos = pos.as_i64().unwrap_or(1);
                    check_shift(lua, t.len()? - pos, "table.insert")?;
                }
            }
            insert.call::<MultiValue>(args)
        })?,
    )?;
    let remove: Function = table.raw_get("remove")?;
    table.raw_set(
        "remove",
        lua.create_function(move |lua, args: MultiValue| {
            let _nested = crate::budget::enter()?;
            if let (Some(Value::Table(t)), Some(pos)) = (args.front(), args.get(1)) {
                let pos = pos.as_i64().unwrap_or(1);
                check_shift(lua, t.len()? - pos, "table.remove")?;
            }
            remove.call::<MultiValue>(args)
        })?,
    )?;
    let mv: Function = table.raw_get("move")?;
    table.raw_set(
        "move",
        lua.create_function(move |lua, args: MultiValue| {
            let f = args.get(1).and_then(Value::as_i64).unwrap_or(1);
            let e = args.get(2).and_then(Value::as_i64).unwrap_or(0);
            check_shift(lua, e.saturating_sub(f), "table.move")?;
            mv.call::<MultiValue>(args)
        })?,
    )
}

fn check_shift(lua: &Lua, n: i64, what: &str) -> mlua::Result<()> {
    if n > MAX_SHIFT {
        return Err(located(
            lua,
            format!("{what}: {n} elements to shift is over the sandbox's {MAX_SHIFT}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_map_to_files_in_the_folder() {
        assert_eq!(module_file("menu").as_deref(), Some("menu.lua"));
        assert_eq!(module_file("lib.menu").as_deref(), Some("lib/menu.lua"));
        assert_eq!(module_file("menu.lua").as_deref(), Some("menu.lua"));
        for bad in ["", "../x", "/etc/passwd", "a/../../b", ".x", "a b"] {
            assert_eq!(module_file(bad), None, "{bad:?}");
        }
    }
}
