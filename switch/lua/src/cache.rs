//! Scripts read from the scripts folder, compiled once per version: a cache keyed by path,
//! modification time and size holds the compiled chunk (Lua bytecode, produced here from the
//! source, never taken from a script). A changed file is compiled again; when it no longer
//! compiles, the error (`file:line: ...`) is logged once and the last good version keeps
//! serving new calls.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use mlua::{ChunkMode, Function, Lua};

/// The compiled scripts of one scripts folder.
#[derive(Debug)]
pub struct ScriptCache {
    root: PathBuf,
    entries: Mutex<HashMap<PathBuf, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    version: Version,
    bytecode: Arc<Vec<u8>>,
    /// A newer version that failed to compile (reported once).
    broken: Option<Version>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    modified: Option<SystemTime>,
    len: u64,
}

impl ScriptCache {
    /// A cache for scripts under `root`.
    pub fn new(root: &Path) -> ScriptCache {
        ScriptCache {
            root: root.to_path_buf(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The scripts folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for `name` (`ivr.lua`, `lib/menu.lua`), which must stay inside the folder:
    /// no absolute paths, no `..`.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        let rel = Path::new(name);
        let inside = !name.is_empty()
            && rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            return Err(format!(
                "{name:?} is not a path inside the scripts folder ({})",
                self.root.display()
            ));
        }
        Ok(self.root.join(rel))
    }

    /// No symbolic link may lead out of the folder (checked when a version is compiled: a
    /// link changed later changes the file's version too).
    fn check_real(&self, name: &str, path: &Path) -> Result<(), String> {
        if let (Ok(real), Ok(root)) = (path.canonicalize(), self.root.canonicalize()) {
            if !real.starts_with(&root) {
                return Err(format!(
                    "{name:?} leads outside the scripts folder ({})",
                    self.root.display()
                ));
            }
        }
        Ok(())
    }

    /// Loads `name` into `lua` as a function, compiled from the file's current version or,
    /// when that does not compile but an older one did, from the older one.
    pub fn load(&self, lua: &Lua, name: &str) -> Result<Function, String> {
        let path = self.resolve(name)?;
        let chunk_name = format!("@{name}");
        let meta = std::fs::metadata(&path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let version = Version {
            modified: meta.modified().ok(),
            len: meta.len(),
        };
        let cached = self.entry(&path);
        if let Some(e) = &cached {
            if e.version == version || e.broken == Some(version) {
                return from_bytecode(lua, &e.bytecode, &chunk_name);
            }
        }
        self.check_real(name, &path)?;
        let source = std::fs::read(&path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let compiled = lua
            .load(&source[..])
            .set_name(&chunk_name)
            .set_mode(ChunkMode::Text)
            .into_function();
        match compiled {
            Ok(f) => {
                let bytecode = Arc::new(f.dump(false));
                self.store(
                    path,
                    Entry {
                        version,
                        bytecode,
                        broken: None,
                    },
                );
                Ok(f)
            }
            Err(e) => {
                let msg = crate::error::describe(&e, 0, name);
                match cached {
                    Some(mut old) => {
                        tracing::error!(
                            script = name,
                            "{msg} (the file changed and no longer compiles: the previous version keeps serving)"
                        );
                        old.broken = Some(version);
                        let bytecode = old.bytecode.clone();
                        self.store(path, old);
                        from_bytecode(lua, &bytecode, &chunk_name)
                    }
                    None => Err(msg),
                }
            }
        }
    }

    fn entry(&self, path: &Path) -> Option<Entry> {
        self.entries.lock().ok()?.get(path).cloned()
    }

    fn store(&self, path: PathBuf, entry: Entry) {
        if let Ok(mut e) = self.entries.lock() {
            e.insert(path, entry);
        }
    }
}

fn from_bytecode(lua: &Lua, bytecode: &[u8], name: &str) -> Result<Function, String> {
    lua.load(bytecode)
        .set_name(name)
        .set_mode(ChunkMode::Binary)
        .into_function()
        .map_err(|e| crate::error::describe(&e, 0, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("switch-lua-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn paths_stay_inside_the_folder() {
        let d = folder("paths");
        let c = ScriptCache::new(&d);
        assert!(c.resolve("a.lua").is_ok());
        assert!(c.resolve("lib/a.lua").is_ok());
        for bad in ["", "/etc/passwd", "../x.lua", "lib/../../x.lua"] {
            assert!(c.resolve(bad).is_err(), "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", d.join("out")).unwrap();
            let lua = Lua::new();
            let err = c.load(&lua, "out/passwd").unwrap_err();
            assert!(err.contains("leads outside"), "{err}");
        }
    }

    #[test]
    fn a_broken_edit_keeps_the_old_version() {
        let d = folder("reload");
        let c = ScriptCache::new(&d);
        std::fs::write(d.join("s.lua"), "return 1").unwrap();
        let lua = Lua::new();
        assert_eq!(c.load(&lua, "s.lua").unwrap().call::<i64>(()).unwrap(), 1);
        std::fs::write(d.join("s.lua"), "return 22").unwrap();
        assert_eq!(c.load(&lua, "s.lua").unwrap().call::<i64>(()).unwrap(), 22);
        std::fs::write(d.join("s.lua"), "return (").unwrap();
        assert_eq!(c.load(&lua, "s.lua").unwrap().call::<i64>(()).unwrap(), 22);
        std::fs::write(d.join("new.lua"), "x = = 1").unwrap();
        let err = c.load(&lua, "new.lua").unwrap_err();
        assert!(err.starts_with("new.lua:1:"), "{err}");
    }
}
