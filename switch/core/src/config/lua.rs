//! `[lua]`: the Lua host's scripts folder and the limits of a script run.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ConfigError;

/// `[lua]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LuaConfig {
    /// `lua.scripts`: the folder scripts (and `require`d modules) come from.
    pub scripts: PathBuf,
    /// `lua.memory_limit`: bytes one script's Lua state may allocate.
    pub memory_limit: usize,
    /// `lua.max_cpu_ms`: time a script may run between blocking session calls (waiting in
    /// `streamFile`, `sleep`, `getDigits`... does not count) before it is stopped.
    pub max_cpu: Duration,
    /// `lua.fallback`: a destination a call is transferred to when its script fails
    /// (`None`: the call is hung up).
    pub fallback: Option<String>,
    /// `lua.db_dir`: where `freeswitch.Dbh("sqlite://name")` databases live.
    pub db_dir: PathBuf,
}

/// The smallest `lua.memory_limit` (a bare state takes about 30 KiB).
pub const MIN_LUA_MEMORY: usize = 64 << 10;

impl Default for LuaConfig {
    fn default() -> Self {
        LuaConfig {
            scripts: PathBuf::from("scripts"),
            memory_limit: 8 << 20,
            max_cpu: Duration::from_millis(2000),
            fallback: None,
            db_dir: PathBuf::from("var"),
        }
    }
}

/// A size: bytes as a number, or a string with a unit (`"8 MiB"`, `"512KiB"`, `"2M"`).
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(untagged)]
pub(crate) enum RawSize {
    Bytes(i64),
    Text(String),
}

/// A destination: digits may come as a number (`--set lua.fallback=1001`).
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(untagged)]
pub(crate) enum RawDest {
    Number(i64),
    Text(String),
}

#[derive(Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawLua {
    scripts: String,
    memory_limit: RawSize,
    max_cpu_ms: i64,
    fallback: RawDest,
    db_dir: String,
}

impl Default for RawLua {
    fn default() -> Self {
        let d = LuaConfig::default();
        RawLua {
            scripts: d.scripts.to_string_lossy().into_owned(),
            memory_limit: RawSize::Bytes(d.memory_limit as i64),
            max_cpu_ms: d.max_cpu.as_millis() as i64,
            fallback: RawDest::Text(String::new()),
            db_dir: d.db_dir.to_string_lossy().into_owned(),
        }
    }
}

impl RawLua {
    pub(crate) fn validate(
        self,
        bad: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<LuaConfig, ConfigError> {
        if self.scripts.trim().is_empty() {
            return Err(bad("lua.scripts", "must name a folder".into()));
        }
        if self.db_dir.trim().is_empty() {
            return Err(bad("lua.db_dir", "must name a folder".into()));
        }
        let memory_limit =
            parse_size(&self.memory_limit).map_err(|m| bad("lua.memory_limit", m))?;
        if !(MIN_LUA_MEMORY..=1 << 30).contains(&memory_limit) {
            return Err(bad(
                "lua.memory_limit",
                format!("{memory_limit} bytes is outside 64 KiB..=1 GiB"),
            ));
        }
        if !(10..=600_000).contains(&self.max_cpu_ms) {
            return Err(bad(
                "lua.max_cpu_ms",
                format!("{} is outside 10..=600000 ms", self.max_cpu_ms),
            ));
        }
        let fallback = match &self.fallback {
            RawDest::Number(n) => n.to_string(),
            RawDest::Text(t) => t.trim().to_string(),
        };
        if fallback.contains(char::is_whitespace) {
            return Err(bad(
                "lua.fallback",
                format!("{fallback:?} must be one destination, e.g. \"1001\""),
            ));
        }
        Ok(LuaConfig {
            scripts: PathBuf::from(self.scripts.trim()),
            memory_limit,
            max_cpu: Duration::from_millis(self.max_cpu_ms as u64),
            fallback: (!fallback.is_empty()).then_some(fallback),
            db_dir: PathBuf::from(self.db_dir.trim()),
        })
    }
}

fn parse_size(raw: &RawSize) -> Result<usize, String> {
    match raw {
        RawSize::Bytes(n) if *n >= 0 => Ok(*n as usize),
        RawSize::Bytes(n) => Err(format!("{n} is negative")),
        RawSize::Text(t) => {
            let s = t.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let n: usize = num
                .parse()
                .map_err(|_| format!("invalid size {t:?}: expected e.g. 8388608 or \"8 MiB\""))?;
            let mult = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "k" | "kb" | "kib" => 1 << 10,
                "m" | "mb" | "mib" => 1 << 20,
                "g" | "gb" | "gib" => 1 << 30,
                other => {
                    return Err(format!(
                        "unknown size unit {other:?} in {t:?}: use KiB, MiB or GiB"
                    ))
                }
            };
            n.checked_mul(mult)
                .ok_or_else(|| format!("size {t:?} is too large"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size(&RawSize::Bytes(1024)), Ok(1024));
        assert_eq!(parse_size(&RawSize::Text("8 MiB".into())), Ok(8 << 20));
        assert_eq!(parse_size(&RawSize::Text("512KiB".into())), Ok(512 << 10));
        assert_eq!(parse_size(&RawSize::Text("2m".into())), Ok(2 << 20));
        assert!(parse_size(&RawSize::Text("lots".into())).is_err());
        assert!(parse_size(&RawSize::Text("3 parsecs".into())).is_err());
        assert!(parse_size(&RawSize::Bytes(-1)).is_err());
    }
}
