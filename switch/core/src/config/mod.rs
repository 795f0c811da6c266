//! Configuration: TOML files in one folder, checked completely before the switch binds a socket.
//!
//! - `<dir>/ferroswitch.toml`: settings (`[sip]`, `[rtp]`, `[media]`, `[acl]`, `[cdr]`, `[log]`,
//!   `[esl]`, `[lua]`, `[vars]`). Every key
//!   has a default, so the file may be empty or missing. `--set KEY=VALUE` overrides apply here.
//! - `<dir>/directory/*.toml`: users, all files merged (see [`Directory`]).
//! - `<dir>/dialplan.toml`: routing rules (see [`Dialplan`]).
//! - `<dir>/modules.toml`: modules loaded at start (see [`ModulesConfig`]); each module's own
//!   settings in `<dir>/modules/<name>.toml`, read by the module.
//!
//! Every problem is a [`ConfigError`] naming the file, the dotted key and the line (or the
//! `--set` key it came from). Unknown keys are errors: a typo must not silently become a default.

mod cause;
mod cidr;
mod dialplan;
mod directory;
mod error;
mod esl;
mod lua;
mod media;
mod modules;
mod settings;
mod source;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use cause::{hangup_cause_code, HANGUP_CAUSES};
pub use cidr::{Cidr, CidrParseError};
pub use dialplan::{Action, Dialplan, Rule, DIAL_ENDPOINTS, KNOWN_APPS};
pub use directory::{Directory, User, DEMO_PASSWORD};
pub use error::{ConfigError, ConfigErrorKind};
pub use esl::{EslConfig, DEFAULT_ESL_PASSWORD};
pub use lua::{LuaConfig, MIN_LUA_MEMORY};
pub use media::{DtmfMode, MediaConfig, Negotiation, CODECS};
pub use modules::{ModuleEntry, ModulesConfig, MODULES_DIR, MODULES_FILE};
pub use settings::{
    AclConfig, CdrConfig, LatchMode, LogConfig, RegisterConfig, RtpConfig, SipConfig,
    ThrottleConfig, AUTH_ALGORITHMS, LOG_LEVELS,
};

use settings::RawMain;
use source::Source;

/// The main settings file in the configuration folder.
pub const MAIN_FILE: &str = "ferroswitch.toml";
/// The folder of user files in the configuration folder.
pub const DIRECTORY_DIR: &str = "directory";
/// The dialplan file in the configuration folder.
pub const DIALPLAN_FILE: &str = "dialplan.toml";

/// The whole validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The configuration folder it was loaded from.
    pub dir: PathBuf,
    /// `[sip]`
    pub sip: SipConfig,
    /// `[rtp]`
    pub rtp: RtpConfig,
    /// `[acl]`
    pub acl: AclConfig,
    /// `[cdr]`
    pub cdr: CdrConfig,
    /// `[log]`
    pub log: LogConfig,
    /// `[media]`
    pub media: MediaConfig,
    /// `[esl]`
    pub esl: EslConfig,
    /// `[lua]`
    pub lua: LuaConfig,
    /// `[vars]`: global variables (`freeswitch.getGlobalVariable`).
    pub vars: std::collections::BTreeMap<String, String>,
    /// Users from `directory/*.toml`.
    pub directory: Directory,
    /// Rules from `dialplan.toml`.
    pub dialplan: Dialplan,
    /// `modules.toml`: the modules loaded at start.
    pub modules: ModulesConfig,
    /// The `--set` overrides it was loaded with (a reload applies them again).
    pub overrides: Vec<(String, String)>,
}

impl Config {
    /// Loads and validates everything under `dir`, applying `overrides` (dotted key, value) to
    /// `ferroswitch.toml` first.
    ///
    /// A VALUE is read as a TOML value if it is one (`5`, `true`, `["MD5"]`, `{ x = 1 }`) and as a
    /// string otherwise (`127.0.0.1:5080`, `20000-20999`); quote it (`'"true"'`) to force a
    /// string. Missing files take defaults; a missing `dir` is an error (it is likely a typo).
    pub fn load(dir: &Path, overrides: &[(String, String)]) -> Result<Config, ConfigError> {
        if !dir.is_dir() {
            let msg = "configuration folder not found (or not a folder)";
            return Err(ConfigError::new(dir, ConfigErrorKind::Io, msg));
        }
        let mut main = Source::read(&dir.join(MAIN_FILE))?;
        main.apply_overrides(overrides)?;
        let settings = main.deserialize::<RawMain>()?.validate(&main)?;
        // Relative paths are relative to the folder that holds the configuration folder (the
        // switch's base, as FreeSWITCH's are to its base_dir), not to wherever it was started.
        let base = base_dir(dir);
        let mut settings = settings;
        for p in [
            &mut settings.cdr.path,
            &mut settings.media.sounds,
            &mut settings.media.recordings,
            &mut settings.lua.scripts,
            &mut settings.lua.db_dir,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(Config {
            dir: dir.to_path_buf(),
            sip: settings.sip,
            rtp: settings.rtp,
            acl: settings.acl,
            cdr: settings.cdr,
            log: settings.log,
            media: settings.media,
            esl: settings.esl,
            lua: settings.lua,
            vars: settings.vars,
            directory: Directory::load(&dir.join(DIRECTORY_DIR))?,
            dialplan: Dialplan::load(&dir.join(DIALPLAN_FILE))?,
            modules: ModulesConfig::load(dir)?,
            overrides: overrides.to_vec(),
        })
    }
}

/// The folder holding the configuration folder `dir` (`.` when `dir` is a bare name).
pub(crate) fn base_dir(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Splits a `--set` argument `KEY=VALUE` at the first `=`; `None` if there is none or KEY is
/// empty. The key is trimmed; the value is kept as given.
pub fn parse_set(arg: &str) -> Option<(String, String)> {
    let (key, value) = arg.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()).then(|| (key.to_string(), value.to_string()))
}
