//! Logging: the console output, whose level `loglevel` changes at run time, and log lines
//! for event-socket clients that asked for them with `log <level>`.
//!
//! [`init`] installs one `tracing` subscriber for the process: a formatter on stderr behind a
//! reloadable filter, and a layer that copies every event to the [`LogHub`] when some client
//! wants its level. The hub never blocks: each client has a bounded queue; lines that do not
//! fit are dropped and counted.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, reload, EnvFilter, Layer};

/// FreeSWITCH's log levels by number: `log <level>` takes a name or the number.
pub const FS_LEVELS: &[(&str, u8)] = &[
    ("console", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("error", 3),
    ("warning", 4),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
    ("trace", 8),
];

/// A FreeSWITCH level name or number (`debug`, `7`) as a number; `trace` is 8.
pub fn parse_fs_level(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return (n <= 8).then_some(n);
    }
    FS_LEVELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, n)| *n)
}

/// The FreeSWITCH number of a tracing level.
pub fn fs_level(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG => 7,
        Level::TRACE => 8,
    }
}

/// One log line as an event-socket client receives it.
#[derive(Clone, Debug)]
pub struct LogLine {
    pub level: Level,
    pub file: String,
    pub line: u32,
    pub target: String,
    /// The `uuid` field of the event, if any (sent as `User-Data`).
    pub uuid: String,
    /// `2026-12-01 07:41:21.123456 [INFO] target: message key=value`, newline-terminated.
    pub text: String,
}

impl LogLine {
    /// The `Content-Type: log/data` frame.
    pub fn frame(&self) -> String {
        format!(
            "Content-Type: log/data\nContent-Length: {}\nLog-Level: {}\nText-Channel: 3\nLog-File: {}\nLog-Func: {}\nLog-Line: {}\nUser-Data: {}\n\n{}",
            self.text.len(),
            fs_level(self.level),
            self.file,
            self.target,
            self.line,
            self.uuid,
            self.text
        )
    }
}

/// Where log lines go to event-socket clients.
#[derive(Default)]
pub struct LogHub {
    subs: RwLock<Vec<Arc<Shared>>>,
    /// The most verbose FreeSWITCH level any client wants (0 = none).
    max: AtomicU8,
    next: AtomicU64,
}

struct Shared {
    id: u64,
    level: AtomicU8,
    tx: mpsc::Sender<Arc<LogLine>>,
    dropped: AtomicU64,
}

/// One client's log lines; dropping it unsubscribes.
pub struct LogSubscription {
    rx: mpsc::Receiver<Arc<LogLine>>,
    shared: Arc<Shared>,
}

/// The process's hub.
pub fn hub() -> &'static LogHub {
    static HUB: OnceLock<LogHub> = OnceLock::new();
    HUB.get_or_init(LogHub::default)
}

impl LogHub {
    /// Lines up to FreeSWITCH level `level` (7 = debug), queued up to `queue`.
    pub fn subscribe(&self, level: u8, queue: usize) -> LogSubscription {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let shared = Arc::new(Shared {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            level: AtomicU8::new(level),
            tx,
            dropped: AtomicU64::new(0),
        });
        self.subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(shared.clone());
        self.recompute();
        LogSubscription { rx, shared }
    }

    fn recompute(&self) {
        let subs = self.subs.read().unwrap_or_else(|e| e.into_inner());
        let max = subs
            .iter()
            .map(|s| s.level.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        self.max.store(max, Ordering::Relaxed);
    }

    /// Whether any client wants lines of this level.
    pub fn wants(&self, level: Level) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        max > 0 && fs_level(level) <= max
    }

    /// Queues `line` for every client that wants its level; never waits.
    pub fn publish(&self, line: LogLine) {
        let level = fs_level(line.level);
        let line = Arc::new(line);
        let subs = self.subs.read().unwrap_or_else(|e| e.into_inner());
        for s in subs.iter() {
            if level <= s.level.load(Ordering::Relaxed) && s.tx.try_send(line.clone()).is_err() {
                s.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn remove(&self, id: u64) {
        self.subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|s| s.id != id);
        self.recompute();
    }
}

impl LogSubscription {
    /// The next line.
    pub async fn recv(&mut self) -> Option<Arc<LogLine>> {
        self.rx.recv().await
    }

    /// Changes the level.
    pub fn set_level(&self, level: u8) {
        self.shared.level.store(level, Ordering::Relaxed);
        hub().recompute();
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for LogSubscription {
    fn drop(&mut self) {
        hub().remove(self.shared.id);
    }
}

type SetLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

fn console() -> &'static Mutex<Option<(String, SetLevel)>> {
    static CONSOLE: OnceLock<Mutex<Option<(String, SetLevel)>>> = OnceLock::new();
    CONSOLE.get_or_init(|| Mutex::new(None))
}

/// Installs the process's subscriber: stderr output filtered by `filter` (an `EnvFilter`
/// directive such as `info` or `switch_core=debug`) and the [`LogHub`] layer. Fails if a
/// subscriber is installed already.
pub fn init(filter: &str, ansi: bool) -> Result<(), String> {
    let env = EnvFilter::try_new(filter).map_err(|e| format!("log filter {filter:?}: {e}"))?;
    let (env, handle) = reload::Layer::new(env);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .with_filter(env);
    let hub_filter = filter::dynamic_filter_fn(|meta, _| hub().wants(*meta.level()));
    tracing_subscriber::registry()
        .with(fmt)
        .with(HubLayer.with_filter(hub_filter))
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))?;
    let set: SetLevel = Box::new(move |level: &str| {
        let f = EnvFilter::try_new(level).map_err(|e| format!("{e}"))?;
        handle.reload(f).map_err(|e| format!("{e}"))
    });
    *console().lock().unwrap_or_else(|e| e.into_inner()) = Some((filter.to_string(), set));
    Ok(())
}

/// The console's filter (as last set), or `None` when [`init`] was not called.
pub fn console_level() -> Option<String> {
    console()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|(l, _)| l.clone())
}

/// Changes the console's level: one of error, warn, info, debug, trace (or an `EnvFilter`
/// directive).
pub fn set_console_level(level: &str) -> Result<(), String> {
    let mut guard = console().lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_mut() {
        Some((current, set)) => {
            set(level)?;
            *current = level.to_string();
            Ok(())
        }
        None => Err("the logger is not under the switch's control".into()),
    }
}

/// Copies events to the hub.
struct HubLayer;

impl<S: Subscriber> Layer<S> for HubLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
        let meta = event.metadata();
        let mut v = Fields::default();
        event.record(&mut v);
        let local: chrono::DateTime<chrono::Local> = SystemTime::now().into();
        let mut text = format!(
            "{} [{}] {}: {}",
            local.format("%Y-%m-%d %H:%M:%S%.6f"),
            level_name(*meta.level()),
            meta.target(),
            v.message
        );
        text.push_str(&v.rest);
        text.push('\n');
        hub().publish(LogLine {
            level: *meta.level(),
            file: meta.file().unwrap_or("").to_string(),
            line: meta.line().unwrap_or(0),
            target: meta.target().to_string(),
            uuid: v.uuid,
            text,
        });
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
    uuid: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "uuid" => {
                self.uuid = value.to_string();
                let _ = write!(self.rest, " uuid={value}");
            }
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                let s = format!("{value:?}");
                if name == "uuid" {
                    self.uuid = s.clone();
                }
                let _ = write!(self.rest, " {name}={s}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_by_name_and_number() {
        assert_eq!(parse_fs_level("debug"), Some(7));
        assert_eq!(parse_fs_level("WARNING"), Some(4));
        assert_eq!(parse_fs_level("3"), Some(3));
        assert_eq!(parse_fs_level("9"), None);
        assert_eq!(parse_fs_level("loud"), None);
    }

    #[test]
    fn hub_delivers_by_level_and_drops_when_full() {
        let h = LogHub::default();
        let line = |level| LogLine {
            level,
            file: "f.rs".into(),
            line: 1,
            target: "t".into(),
            uuid: String::new(),
            text: "x\n".into(),
        };
        assert!(!h.wants(Level::ERROR));
        let (tx, mut rx) = mpsc::channel(1);
        h.subs.write().unwrap().push(Arc::new(Shared {
            id: 0,
            level: AtomicU8::new(4),
            tx,
            dropped: AtomicU64::new(0),
        }));
        h.recompute();
        assert!(h.wants(Level::WARN) && !h.wants(Level::INFO));
        h.publish(line(Level::INFO));
        h.publish(line(Level::ERROR));
        h.publish(line(Level::WARN));
        assert_eq!(rx.try_recv().unwrap().level, Level::ERROR);
        assert!(rx.try_recv().is_err());
        assert_eq!(h.subs.read().unwrap()[0].dropped.load(Ordering::Relaxed), 1);
        let f = line(Level::DEBUG).frame();
        assert!(f.starts_with("Content-Type: log/data\nContent-Length: 2\nLog-Level: 7\n"));
        assert!(f.ends_with("User-Data: \n\nx\n"));
    }
}
