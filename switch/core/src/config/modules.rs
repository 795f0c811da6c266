//! `<dir>/modules.toml`: the modules loaded at start and where their libraries are.
//!
//! ```toml
//! dir = ""                  # folder of lib<name>.so; "" = the ferroswitch binary's folder
//!
//! [[module]]
//! name = "mod_record"
//! # path = "/opt/fs/libmod_record.so"  # default: <dir>/lib<name>.so
//! # load = false                       # listed for `load <name>` but not loaded at start
//! ```
//!
//! Relative paths are relative to the folder holding the config folder. Each module reads its own settings
//! from `<dir>/modules/<name>.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, ConfigErrorKind};
use super::source::Source;

/// The modules file in the configuration folder.
pub const MODULES_FILE: &str = "modules.toml";
/// The folder of the modules' own config files in the configuration folder.
pub const MODULES_DIR: &str = "modules";

/// What `modules.toml` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModulesConfig {
    /// Where `lib<name>.so` is looked for; `None`: the folder of the running binary.
    pub dir: Option<PathBuf>,
    /// The modules listed, in file order.
    pub modules: Vec<ModuleEntry>,
}

/// One `[[module]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleEntry {
    /// `mod_record`: the name it registers under.
    pub name: String,
    /// Its library, if given (else `<dir>/lib<name>.so`).
    pub path: Option<PathBuf>,
    /// Loaded at start.
    pub load: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    dir: String,
    #[serde(default)]
    module: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    path: Option<String>,
    #[serde(default = "yes")]
    load: bool,
}

fn yes() -> bool {
    true
}

impl ModulesConfig {
    /// Reads `<dir>/modules.toml`; a missing file loads no module.
    pub(crate) fn load(conf_dir: &Path) -> Result<ModulesConfig, ConfigError> {
        let src = Source::read(&conf_dir.join(MODULES_FILE))?;
        let raw: Raw = src.deserialize()?;
        // Relative like every other path: to the folder holding the configuration folder.
        let base = super::base_dir(conf_dir);
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let mut modules: Vec<ModuleEntry> = Vec::new();
        for (i, m) in raw.module.into_iter().enumerate() {
            let bad = |msg: String| {
                src.error(
                    &format!("module[{i}].name"),
                    ConfigErrorKind::InvalidValue,
                    msg,
                )
            };
            let name = m.name.trim().to_string();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(format!(
                    "invalid module name {name:?}: letters, digits and '_' only (e.g. mod_record)"
                )));
            }
            if modules.iter().any(|e| e.name == name) {
                return Err(src.error(
                    &format!("module[{i}].name"),
                    ConfigErrorKind::Duplicate,
                    format!("module {name} is listed twice"),
                ));
            }
            modules.push(ModuleEntry {
                name,
                path: m
                    .path
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(resolve),
                load: m.load,
            });
        }
        Ok(ModulesConfig {
            dir: (!raw.dir.trim().is_empty()).then(|| resolve(raw.dir.trim())),
            modules,
        })
    }

    /// The library of module `name`: its `path`, or `lib<name>.so` in `dir` (the binary's
    /// folder when `dir` is not set).
    pub fn library_of(&self, name: &str) -> PathBuf {
        if let Some(p) = self
            .modules
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.path.clone())
        {
            return p;
        }
        let dir = self.dir.clone().unwrap_or_else(binary_dir);
        dir.join(format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
    }
}

/// The folder of the running binary (`target/debug` in a checkout), else the current one.
fn binary_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ModulesConfig, ConfigError> {
        let dir =
            std::env::temp_dir().join(format!("fs-modules-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join(MODULES_FILE), text).expect("write");
        let r = ModulesConfig::load(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn entries_default_to_loaded_and_paths_to_the_folder() {
        let c = load("dir = \"/opt/mods\"\n[[module]]\nname = \"mod_a\"\n[[module]]\nname = \"mod_b\"\npath = \"/x/b.so\"\nload = false\n").expect("valid");
        assert_eq!(c.modules.len(), 2);
        assert!(c.modules[0].load && !c.modules[1].load);
        assert_eq!(
            c.library_of("mod_a"),
            PathBuf::from("/opt/mods/libmod_a.so")
        );
        assert_eq!(c.library_of("mod_b"), PathBuf::from("/x/b.so"));
    }

    #[test]
    fn bad_names_and_duplicates_name_the_line() {
        let e = load("[[module]]\nname = \"mod a\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.to_string().contains("invalid module name"), "{e}");
        let e = load("[[module]]\nname = \"m\"\n[[module]]\nname = \"m\"\n").unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        let e = load("[[module]]\nname = \"m\"\npth = \"x\"\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::UnknownKey, "{e}");
    }
}
