//! mod_record: recording calls to WAV files, on media taps.
//!
//! - `record_session <path>` (application): records the channel from now until it hangs up
//!   or `stop_record_session` stops it: both directions mixed, or stereo (the channel left,
//!   what it heard right) when the channel variable `RECORD_STEREO` is true (or the module's
//!   `stereo` setting is). Relative paths go under the switch's `media.recordings`.
//! - `stop_record_session <path>|all` (application).
//! - `uuid_record <uuid> start|stop <path>|all` (API command).
//!
//! Config (`conf/modules/mod_record.toml`, every key optional):
//! ```toml
//! stereo = false     # stereo when RECORD_STEREO is not set
//! queue_ms = 2000    # audio held for a slow disk before frames are dropped
//! ```
//!
//! Which recordings run on a channel is the channel's private data: the switch frees it at
//! hangup, and each tap closes (finishing its file) when its call ends.

pub mod wav;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use switch_sdk::serde::Deserialize;
use switch_sdk::{declare_module, Frame, Host, MediaTap, Module, Session, TapAction, TapId};
use wav::{Layout, Recording};

/// The module's settings.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(crate = "switch_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// Stereo unless `RECORD_STEREO` says otherwise.
    pub stereo: bool,
    /// Milliseconds of audio queued for the disk before frames are dropped.
    pub queue_ms: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stereo: false,
            queue_ms: 2000,
        }
    }
}

/// The private-data key of a channel's recordings.
const KEY: &str = "recordings";

/// The recordings running on one channel.
#[derive(Default)]
struct Recordings {
    list: Mutex<Vec<(PathBuf, TapId)>>,
}

/// The tap: queues each tick to the recording's writer.
struct RecordTap {
    rec: Recording,
}

impl MediaTap for RecordTap {
    fn on_frame(&mut self, read: &Frame<'_>, write: &Frame<'_>) -> TapAction {
        if self.rec.push(read.rate(), read.samples(), write.samples()) {
            TapAction::Continue
        } else {
            TapAction::Remove
        }
    }

    fn on_close(&mut self) {
        self.rec.close();
    }
}

/// The module.
pub struct ModRecord;

struct State {
    host: Host,
    cfg: Config,
}

/// `true`, `1`, `yes` (any case).
fn truthy(v: Option<String>) -> Option<bool> {
    v.map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
}

impl State {
    /// Where a recording named `path` goes.
    fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path.trim());
        if p.is_absolute() {
            return p.to_path_buf();
        }
        let dir = self
            .host
            .setting("media.recordings")
            .unwrap_or_else(|| "var/recordings".into());
        Path::new(&dir).join(p)
    }

    /// Starts recording channel `uuid` to `path`.
    fn start(&self, uuid: &str, path: &str, stereo: Option<bool>) -> Result<PathBuf, String> {
        if path.trim().is_empty() {
            return Err("no file to record to".into());
        }
        let path = self.resolve(path);
        let layout = if stereo.unwrap_or(self.cfg.stereo) {
            Layout::Stereo
        } else {
            Layout::Mono
        };
        let queue = (self.cfg.queue_ms / 20).max(1) as usize;
        let rec = Recording::start(&path, layout, queue, |f| {
            switch_sdk::spawn_thread("mod_record-writer", f)
        })?;
        let id = self
            .host
            .add_tap(uuid, RecordTap { rec })
            .map_err(|e| e.to_string())?;
        let entry = (path.clone(), id);
        let added = self
            .host
            .with_private(uuid, KEY, |r: &Recordings| {
                r.list
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(entry.clone())
            })
            .is_some();
        if !added {
            let r = Recordings {
                list: Mutex::new(vec![entry]),
            };
            self.host
                .set_private(uuid, KEY, r)
                .map_err(|e| e.to_string())?;
        }
        switch_sdk::info!("recording {uuid} to {} ({layout:?})", path.display());
        Ok(path)
    }

    /// Stops the recordings of `uuid` to `path` (`all`: every one); how many stopped.
    fn stop(&self, uuid: &str, path: &str) -> Result<usize, String> {
        let want = (path.trim() != "all").then(|| self.resolve(path));
        let stopped = self
            .host
            .with_private(uuid, KEY, |r: &Recordings| {
                let mut l = r.list.lock().unwrap_or_else(|e| e.into_inner());
                let (hit, keep): (Vec<_>, Vec<_>) = l
                    .drain(..)
                    .partition(|(p, _)| want.as_ref().is_none_or(|w| w == p));
                *l = keep;
                hit
            })
            .unwrap_or_default();
        if stopped.is_empty() {
            return Err(format!("not recording to {}", path.trim()));
        }
        for (p, id) in &stopped {
            // A tap already closed (its call ended) is not an error.
            let _ = self.host.remove_tap(uuid, *id);
            switch_sdk::info!("recording {uuid} to {} stopped", p.display());
        }
        Ok(stopped.len())
    }

    /// `uuid_record <uuid> start|stop <path>`.
    fn api(&self, args: &str) -> Result<String, String> {
        let mut w = args.split_whitespace();
        let (Some(uuid), Some(action), Some(path)) = (w.next(), w.next(), w.next()) else {
            return Ok(USAGE_REPLY.to_string());
        };
        match action {
            "start" => {
                let stereo = truthy(
                    self.host
                        .channel_variable(uuid, "RECORD_STEREO")
                        .map_err(|_| "No such channel!".to_string())?,
                );
                self.start(uuid, path, stereo).map(|_| "+OK\n".into())
            }
            "stop" => self.stop(uuid, path).map(|_| "+OK\n".into()),
            other => Err(format!("unknown action {other:?}; expected start or stop")),
        }
    }
}

const USAGE: &str = "<uuid> start|stop <path>|all";
const USAGE_REPLY: &str = "-USAGE: uuid_record <uuid> start|stop <path>|all\n";

impl Module for ModRecord {
    fn init(host: &Host) -> Result<Self, String> {
        let cfg: Config = host.config()?;
        let st = Arc::new(State { host: *host, cfg });
        let s = st.clone();
        host.register_app(
            "record_session",
            "record the channel to a WAV file (RECORD_STEREO=true: stereo)",
            move |session: &Session<'_>, args: &str| {
                let stereo = truthy(session.variable("RECORD_STEREO"));
                s.start(session.uuid(), args, stereo).map(|_| ())
            },
        )
        .map_err(|e| e.to_string())?;
        let s = st.clone();
        host.register_app(
            "stop_record_session",
            "stop recording the channel to a file (or all)",
            move |session: &Session<'_>, args: &str| s.stop(session.uuid(), args).map(|_| ()),
        )
        .map_err(|e| e.to_string())?;
        let s = st;
        host.register_api(
            "uuid_record",
            USAGE,
            "record a channel to a file, or stop",
            move |args: &str| s.api(args),
        )
        .map_err(|e| e.to_string())?;
        Ok(ModRecord)
    }
}

declare_module! {
    name: "mod_record",
    description: "record_session, stop_record_session and uuid_record on media taps",
    module: ModRecord,
}
