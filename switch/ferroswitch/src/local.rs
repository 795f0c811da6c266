//! The console in the switch's own process (`ferroswitch` in a terminal): the same command
//! set as `ferroswitch cli`, run directly on the switch, no socket needed.

use std::sync::{Arc, Mutex};

use switch_core::context::Context;
use switch_core::event::{url_decode, EventFormat, Interest, InterestHandle, DEFAULT_QUEUE};
use tokio::runtime::Handle;

use crate::console::{self, Backend};

type Printer = Arc<Mutex<Box<dyn FnMut(String) + Send>>>;

/// The console over the running switch.
pub struct LocalBackend {
    rt: Handle,
    ctx: Arc<Context>,
    printer: Printer,
    /// The task printing events, and a handle to change what it receives.
    events: Option<(InterestHandle, tokio::task::JoinHandle<()>)>,
}

impl LocalBackend {
    /// A console for `ctx`, running async work on `rt`.
    pub fn new(rt: Handle, ctx: Arc<Context>) -> LocalBackend {
        LocalBackend {
            rt,
            ctx,
            printer: Arc::new(Mutex::new(Box::new(|s: String| eprint!("{s}")))),
            events: None,
        }
    }

    /// Runs the console until /exit or end of input.
    pub fn run(mut self) -> Result<(), String> {
        let names = self.ctx.api.list().into_iter().map(|c| c.name).collect();
        console::run(&mut self, names, "ferroswitch> ")
    }

    /// The console's event subscription (made on first use), printed by a task.
    fn interest(&mut self) -> InterestHandle {
        if let Some((h, _)) = &self.events {
            return h.clone();
        }
        let mut sub = self
            .ctx
            .events
            .subscribe("console", Interest::default(), DEFAULT_QUEUE);
        let handle = sub.interest_handle();
        let printer = self.printer.clone();
        let task = self.rt.spawn(async move {
            while let Some(e) = sub.recv().await {
                let text = url_decode(&e.serialize(EventFormat::Plain));
                if let Ok(mut p) = printer.lock() {
                    p(format!("RECV EVENT\n{}\n", text.trim_end()));
                }
            }
        });
        self.events = Some((handle.clone(), task));
        handle
    }

    fn with_interest<R>(&mut self, f: impl FnOnce(&mut Interest) -> R) -> R {
        self.interest().update(f)
    }
}

/// A FreeSWITCH level name as the console's tracing level.
fn tracing_level(fs: &str) -> Option<&'static str> {
    match switch_core::log::parse_fs_level(fs)? {
        0..=3 => Some("error"),
        4 => Some("warn"),
        5 | 6 => Some("info"),
        7 => Some("debug"),
        _ => Some("trace"),
    }
}

impl Backend for LocalBackend {
    fn api(&mut self, line: &str) -> Result<String, String> {
        Ok(self.rt.block_on(switch_core::api::execute(&self.ctx, line)))
    }

    fn socket(&mut self, command: &str) -> Result<String, String> {
        let (word, rest) = command.split_once(' ').unwrap_or((command, ""));
        let words: Vec<&str> = rest.split_whitespace().collect();
        let reply = match word {
            "log" => match tracing_level(if rest.is_empty() { "debug" } else { rest }) {
                Some(level) => match switch_core::log::set_console_level(level) {
                    Ok(()) => format!("+OK log level {level}"),
                    Err(e) => format!("-ERR {e}"),
                },
                None => "-ERR invalid log level".into(),
            },
            "nolog" => match switch_core::log::set_console_level("off") {
                Ok(()) => "+OK no longer logging".into(),
                Err(e) => format!("-ERR {e}"),
            },
            "event" => {
                let names: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| {
                        !matches!(w.to_ascii_lowercase().as_str(), "plain" | "json" | "xml")
                    })
                    .collect();
                match self.with_interest(|i| i.subscribe(names)) {
                    Ok(()) => "+OK event listener enabled plain".into(),
                    Err(e) => format!("-ERR {e}"),
                }
            }
            "nixevent" => match self.with_interest(|i| i.nix(words)) {
                Ok(()) => "+OK events nixed".into(),
                Err(e) => format!("-ERR {e}"),
            },
            "noevents" => {
                self.with_interest(|i| i.clear_names());
                "+OK no longer listening for events".into()
            }
            "filter" => match words.as_slice() {
                ["delete", h, v @ ..] => {
                    let v = (!v.is_empty()).then(|| v.join(" "));
                    match self.with_interest(|i| i.delete_filter(h, v.as_deref())) {
                        Ok(()) => "+OK filter deleted.".into(),
                        Err(e) => format!("-ERR {e}"),
                    }
                }
                [h, v @ ..] if !v.is_empty() => {
                    let v = v.join(" ");
                    match self.with_interest(|i| i.add_filter(h, &v).map(|_| ())) {
                        Ok(()) => format!("+OK filter added. [{h}]=[{v}]"),
                        Err(e) => format!("-ERR {e}"),
                    }
                }
                _ => "-ERR invalid syntax".into(),
            },
            _ => "-ERR command not found".into(),
        };
        Ok(format!("{reply}\n"))
    }

    fn start_output(&mut self, printer: Box<dyn FnMut(String) + Send>) {
        if let Ok(mut p) = self.printer.lock() {
            *p = printer;
        }
    }
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        if let Some((_, task)) = self.events.take() {
            task.abort();
        }
    }
}
