//! `freeswitch.Dbh("sqlite://name")`: a database handle, FreeSWITCH's `Dbh` class, on SQLite.
//!
//! `name` is a file under `lua.db_dir` (`.db` is added when it has no extension); absolute
//! paths and `..` are refused, and so are `ATTACH`/`VACUUM INTO` (no attached databases), so
//! a script reaches no other file. Long statements are stopped by the script's CPU budget.

use std::cell::{Cell, RefCell};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, UserData, UserDataMethods, Value};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::Connection;

use crate::budget::Budget;
use crate::error::location;

/// One handle.
pub(crate) struct LuaDbh {
    conn: RefCell<Option<Connection>>,
    affected: Cell<i64>,
    error: RefCell<Option<String>>,
}

/// Opens the database `dsn` names (`sqlite://name`) under `dir`; a handle that failed is
/// returned too (`connected()` false), as FreeSWITCH does, with the reason logged.
pub(crate) fn open(lua: &Lua, dir: &Path, dsn: &str, budget: &Arc<Budget>) -> LuaDbh {
    let conn = match connect(dir, dsn, budget) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(
                "{}freeswitch.Dbh({dsn:?}): {e}; not connected",
                location(lua)
            );
            None
        }
    };
    LuaDbh {
        conn: RefCell::new(conn),
        affected: Cell::new(0),
        error: RefCell::new(None),
    }
}

/// The file `sqlite://name` means under `dir`.
pub(crate) fn db_path(dir: &Path, dsn: &str) -> Result<PathBuf, String> {
    let Some(name) = dsn.trim().strip_prefix("sqlite://") else {
        return Err("only sqlite://name databases are supported".into());
    };
    let rel = Path::new(name);
    let ok = !name.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(format!(
            "{name:?} must be a file name inside lua.db_dir ({})",
            dir.display()
        ));
    }
    let mut path = dir.join(rel);
    if path.extension().is_none() {
        path.set_extension("db");
    }
    Ok(path)
}

fn connect(dir: &Path, dsn: &str, budget: &Arc<Budget>) -> Result<Connection, String> {
    let path = db_path(dir, dsn)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let conn = Connection::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0);
    conn.authorizer(Some(|ctx: AuthContext<'_>| match ctx.action {
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        AuthAction::Pragma { pragma_name, .. }
            if pragma_name.eq_ignore_ascii_case("temp_store_directory")
                || pragma_name.eq_ignore_ascii_case("data_store_directory") =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }));
    let b = budget.clone();
    conn.progress_handler(10_000, Some(move || b.check().is_err()));
    conn.busy_timeout(std::time::Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

impl LuaDbh {
    fn fail(&self, lua: &Lua, e: impl std::fmt::Display) -> bool {
        let msg = e.to_string();
        tracing::error!("{}dbh:query: {msg}", location(lua));
        *self.error.borrow_mut() = Some(msg);
        false
    }

    /// Runs `sql`; with `callback`, calls it with each row (column name to text, NULL as
    /// ""); a non-zero number from it stops the query.
    fn query(&self, lua: &Lua, sql: &str, callback: Option<Function>) -> mlua::Result<bool> {
        let _nested = crate::budget::enter()?;
        *self.error.borrow_mut() = None;
        let guard = self.conn.borrow();
        let Some(conn) = guard.as_ref() else {
            tracing::error!("{}dbh:query: DBH NOT Connected", location(lua));
            return Ok(false);
        };
        if sql.trim().is_empty() {
            tracing::error!("{}dbh:query: missing SQL query", location(lua));
            return Ok(false);
        }
        let Some(cb) = callback else {
            return Ok(match conn.execute_batch(sql) {
                Ok(()) => {
                    self.affected.set(conn.changes() as i64);
                    true
                }
                Err(e) => self.fail(lua, e),
            });
        };
        let mut stmt = match conn.prepare(sql) {
            Ok(s) => s,
            Err(e) => return Ok(self.fail(lua, e)),
        };
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = match stmt.query([]) {
            Ok(r) => r,
            Err(e) => return Ok(self.fail(lua, e)),
        };
        loop {
            let row = match rows.next() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return Ok(self.fail(lua, e)),
            };
            let t = lua.create_table_with_capacity(0, names.len())?;
            for (i, name) in names.iter().enumerate() {
                let text = match row.get_ref(i) {
                    Ok(rusqlite::types::ValueRef::Null) | Err(_) => String::new(),
                    Ok(rusqlite::types::ValueRef::Integer(n)) => n.to_string(),
                    Ok(rusqlite::types::ValueRef::Real(f)) => f.to_string(),
                    Ok(rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b)) => {
                        String::from_utf8_lossy(b).into_owned()
                    }
                };
                t.raw_set(name.as_str(), text)?;
            }
            let stop = match cb.call::<Value>(t)? {
                Value::Integer(n) => n != 0,
                Value::Number(n) => n != 0.0,
                Value::String(s) => s
                    .to_string_lossy()
                    .trim()
                    .parse::<f64>()
                    .is_ok_and(|n| n != 0.0),
                _ => false,
            };
            if stop {
                break;
            }
        }
        drop(rows);
        self.affected.set(conn.changes() as i64);
        Ok(true)
    }
}

impl UserData for LuaDbh {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("connected", |_, d, ()| Ok(d.conn.borrow().is_some()));
        m.add_method("query", |lua, d, (sql, cb): (String, Option<Function>)| {
            d.query(lua, &sql, cb)
        });
        m.add_method("query_rows", |lua, d, sql: String| {
            let rows = lua.create_table()?;
            let r2 = rows.clone();
            let collect = lua.create_function(move |_, row: mlua::Table| {
                r2.raw_push(row)?;
                Ok(0)
            })?;
            let ok = d.query(lua, &sql, Some(collect))?;
            let err = d.error.borrow().clone();
            Ok(MultiValue::from_iter([
                Value::Boolean(ok),
                Value::Table(rows),
                match err {
                    Some(e) => Value::String(lua.create_string(e)?),
                    None => Value::Nil,
                },
            ]))
        });
        m.add_method("affected_rows", |_, d, ()| Ok(d.affected.get()));
        m.add_method("last_error", |_, d, ()| Ok(d.error.borrow().clone()));
        m.add_method("clear_error", |_, d, ()| {
            *d.error.borrow_mut() = None;
            Ok(())
        });
        m.add_method(
            "test_reactive",
            |lua, d, (test, drop_sql, reactive): (String, Option<String>, String)| {
                if d.query(lua, &test, None)? {
                    return Ok(true);
                }
                if let Some(s) = drop_sql.filter(|s| !s.trim().is_empty()) {
                    let _ = d.query(lua, &s, None)?;
                }
                d.query(lua, &reactive, None)
            },
        );
        // Not from inside its own query's callback (the query holds the connection).
        m.add_method("release", |_, d, ()| {
            Ok(d.conn
                .try_borrow_mut()
                .map(|mut c| c.take().is_some())
                .unwrap_or(false))
        });
        m.add_method("load_extension", |lua, _, _name: String| {
            tracing::error!(
                "{}dbh:load_extension: extensions are not allowed in the sandbox",
                location(lua)
            );
            Ok(0)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_the_folder() {
        let dir = Path::new("/srv/var");
        assert_eq!(
            db_path(dir, "sqlite://calls").unwrap(),
            Path::new("/srv/var/calls.db")
        );
        assert_eq!(
            db_path(dir, "sqlite://a/b.sqlite").unwrap(),
            Path::new("/srv/var/a/b.sqlite")
        );
        for bad in [
            "sqlite:///etc/passwd",
            "sqlite://../x",
            "sqlite://",
            "pgsql://x",
            "odbc",
        ] {
            assert!(db_path(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attach_and_vacuum_into_are_refused() {
        let dir = std::env::temp_dir().join(format!("switch-lua-dbh-{}", std::process::id()));
        let budget = Budget::new("t.lua", std::time::Duration::from_secs(5));
        let conn = connect(&dir, "sqlite://t", &budget).unwrap();
        conn.execute_batch("create table if not exists t(x); insert into t values (1)")
            .unwrap();
        let out = dir.join("copy.db");
        assert!(conn
            .execute_batch(&format!("ATTACH '{}' AS other", out.display()))
            .is_err());
        assert!(conn
            .execute_batch(&format!("VACUUM INTO '{}'", out.display()))
            .is_err());
        assert!(!out.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_runaway_query_is_stopped_by_the_budget() {
        let dir = std::env::temp_dir().join(format!("switch-lua-dbh2-{}", std::process::id()));
        let budget = Budget::new("t.lua", std::time::Duration::from_millis(50));
        budget.resume();
        let conn = connect(&dir, "sqlite://t", &budget).unwrap();
        let r = conn.execute_batch(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        );
        assert!(r.is_err());
        assert!(budget.killed());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
