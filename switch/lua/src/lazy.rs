//! Globals built on their first read.
//!
//! Opening a standard library means a table entry and a string per function, and the
//! sandbox's wrappers are a closure each: together most of a state's set-up, while a
//! dialplan that returns ACTIONS uses none of `table`, `math`, `utf8`, `os`, `coroutine`,
//! `pcall`, `require`, `load`, `print`, `setmetatable`, `freeswitch`. So `_G` gets a
//! metatable whose `__index` builds such a global when a script first reads it;
//! [`build_all`] builds every one (before a script replaces `_G`'s metatable), and `require`
//! builds the libraries before it fills `package.loaded`. A name the script assigned first
//! keeps the script's value. The one visible difference: `pairs(_G)` and `rawget(_G, name)`
//! see a lazy library only once something has read it.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use mlua::{Function, Lua, Table, Value};

use crate::cache::ScriptCache;
use crate::sandbox::Printer;

const TABLE: u8 = 1 << 0;
const MATH: u8 = 1 << 1;
const UTF8: u8 = 1 << 2;
const OS: u8 = 1 << 3;
/// `pcall`, `xpcall` and `coroutine`: the wrappers that turn Rust errors into plain strings
/// cover `coroutine.resume` too.
const PROTECT: u8 = 1 << 4;
/// `require` and `package`.
const REQUIRE: u8 = 1 << 5;
/// The sandbox's `load`, `print` and `setmetatable` (one closure each).
const WRAPPERS: u8 = 1 << 6;
const FREESWITCH: u8 = 1 << 7;
/// The libraries `package.loaded` lists.
const LIBS: u8 = TABLE | MATH | UTF8 | OS | PROTECT;
const ALL: u8 = LIBS | REQUIRE | WRAPPERS | FREESWITCH;

/// The lazy group a global belongs to (0: none). `session` is lazy too, but is the call's:
/// see [`crate::globals`].
fn group(name: &[u8]) -> u8 {
    match name {
        b"table" => TABLE,
        b"math" => MATH,
        b"utf8" => UTF8,
        b"os" => OS,
        b"pcall" | b"xpcall" | b"coroutine" => PROTECT,
        b"require" | b"package" => REQUIRE,
        b"load" | b"print" | b"setmetatable" => WRAPPERS,
        b"freeswitch" => FREESWITCH,
        _ => 0,
    }
}

/// What the lazy globals are built from, kept in the state's app data.
struct Lazy {
    /// Groups not built yet.
    pending: Cell<u8>,
    /// The base library's functions the sandbox wraps, taken out of `_G` until the wrappers
    /// are built (`tostring` stays: `print` uses the base one whatever a script does to it).
    pcall: Function,
    xpcall: Function,
    load: Function,
    print_tostring: Function,
    setmetatable: Function,
    cache: Arc<ScriptCache>,
    printer: Arc<dyn Printer>,
}

/// Takes the base functions the sandbox wraps out of `_G` and gives `_G` the building
/// `__index`. Called once, by [`crate::sandbox::new_state`], with the base library and
/// `string` open and nothing else.
pub(crate) fn install(
    lua: &Lua,
    g: &Table,
    cache: Arc<ScriptCache>,
    printer: Arc<dyn Printer>,
) -> mlua::Result<()> {
    let take = |name: &str| -> mlua::Result<Function> {
        let f: Function = g.raw_get(name)?;
        g.raw_set(name, Value::Nil)?;
        Ok(f)
    };
    // The base `print` is replaced, not wrapped: it is only taken out.
    g.raw_set("print", Value::Nil)?;
    lua.set_app_data(Rc::new(Lazy {
        pending: Cell::new(ALL),
        pcall: take("pcall")?,
        xpcall: take("xpcall")?,
        load: take("load")?,
        setmetatable: take("setmetatable")?,
        print_tostring: g.raw_get("tostring")?,
        cache,
        printer,
    }));
    let mt = lua.create_table_with_capacity(0, 1)?;
    mt.raw_set(
        "__index",
        lua.create_function(|lua, (g, key): (Table, Value)| {
            let Value::String(name) = &key else {
                return Ok(Value::Nil);
            };
            let name = name.as_bytes();
            if &name[..] == b"session" {
                return Ok(
                    crate::globals::materialize_session(lua)?.map_or(Value::Nil, Value::UserData)
                );
            }
            match group(&name) {
                0 => Ok(Value::Nil),
                bit => {
                    drop(name);
                    build(lua, bit)?;
                    g.raw_get::<Value>(key)
                }
            }
        })?,
    )?;
    g.set_metatable(Some(mt));
    Ok(())
}

/// Builds every lazy global not built yet, `session` included.
pub(crate) fn build_all(lua: &Lua) -> mlua::Result<()> {
    build(lua, ALL)?;
    crate::globals::materialize_session(lua).map(|_| ())
}

/// Builds the groups of `bits` still pending.
fn build(lua: &Lua, bits: u8) -> mlua::Result<()> {
    // A clone, so that no app data stays borrowed while the builders run.
    let Some(lazy) = lua.app_data_ref::<Rc<Lazy>>().map(|l| Rc::clone(&l)) else {
        return Ok(());
    };
    let todo = lazy.pending.get() & bits;
    if todo == 0 {
        return Ok(());
    }
    // Cleared first: `require`'s builder builds the libraries, and a failed build is not
    // retried on every read.
    lazy.pending.set(lazy.pending.get() & !todo);
    let g = lua.globals();
    if todo & TABLE != 0 {
        let table = open(lua, &g, "table", mlua::ffi::luaopen_table)?;
        crate::sandbox::guard_table_lib(lua, &table)?;
    }
    if todo & MATH != 0 {
        open(lua, &g, "math", mlua::ffi::luaopen_math)?;
    }
    if todo & UTF8 != 0 {
        open(lua, &g, "utf8", mlua::ffi::luaopen_utf8)?;
    }
    if todo & OS != 0 {
        let os = open_detached(lua, mlua::ffi::luaopen_os)?;
        set_if_absent(&g, "os", crate::sandbox::safe_os(lua, &os)?)?;
    }
    if todo & PROTECT != 0 {
        let co = open(lua, &g, "coroutine", mlua::ffi::luaopen_coroutine)?;
        let (pcall, xpcall) =
            crate::sandbox::protect(lua, lazy.pcall.clone(), lazy.xpcall.clone(), &co)?;
        set_if_absent(&g, "pcall", pcall)?;
        set_if_absent(&g, "xpcall", xpcall)?;
    }
    if todo & REQUIRE != 0 {
        build(lua, LIBS)?;
        crate::sandbox::install_require(lua, &g, lazy.cache.clone())?;
    }
    if todo & WRAPPERS != 0 {
        let load = crate::sandbox::wrap_load(lua, lazy.load.clone())?;
        set_if_absent(&g, "load", load)?;
        let setmt = crate::sandbox::wrap_setmetatable(lua, lazy.setmetatable.clone())?;
        set_if_absent(&g, "setmetatable", setmt)?;
        let print =
            crate::sandbox::wrap_print(lua, lazy.print_tostring.clone(), lazy.printer.clone())?;
        set_if_absent(&g, "print", print)?;
    }
    if todo & FREESWITCH != 0 {
        set_if_absent(&g, "freeswitch", crate::freeswitch::table(lua)?)?;
    }
    Ok(())
}

/// Opens a standard library as the global `name`, unless the script set that name first;
/// the library's table either way.
fn open(lua: &Lua, g: &Table, name: &str, opener: mlua::lua_CFunction) -> mlua::Result<Table> {
    let lib = open_detached(lua, opener)?;
    set_if_absent(g, name, lib.clone())?;
    Ok(lib)
}

/// A standard library's table, set nowhere.
fn open_detached(lua: &Lua, opener: mlua::lua_CFunction) -> mlua::Result<Table> {
    // SAFETY: `opener` is one of Lua's own `luaopen_*`, a plain C function of the state
    // that builds and returns one table (what `luaL_requiref` calls it for).
    let f = unsafe { lua.create_c_function(opener)? };
    f.call::<Table>(())
}

fn set_if_absent(g: &Table, name: &str, value: impl mlua::IntoLua) -> mlua::Result<()> {
    if g.raw_get::<Value>(name)?.is_nil() {
        g.raw_set(name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lazy_name_has_a_group_and_others_none() {
        for name in [
            "table",
            "math",
            "utf8",
            "os",
            "pcall",
            "xpcall",
            "coroutine",
            "require",
            "package",
            "load",
            "print",
            "setmetatable",
            "freeswitch",
        ] {
            assert_ne!(group(name.as_bytes()), 0, "{name}");
        }
        for name in ["string", "tostring", "session", "io", "debug", "Math", ""] {
            assert_eq!(group(name.as_bytes()), 0, "{name}");
        }
    }
}
