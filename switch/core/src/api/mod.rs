//! API commands: one table shared by the console, the event socket (`api` / `bgapi`), and
//! later Lua's `freeswitch.API` and modules.
//!
//! A command has a name, a one-line usage and description, and an async handler that gets
//! the argument string and the switch's [`Context`] and returns text, FreeSWITCH style:
//! `+OK ...` or `-ERR reason` for actions, plain text or tables for queries,
//! `-USAGE: <usage>` for wrong arguments. An unknown command answers
//! `-ERR <name> Command not found!`. Commands that need call internals go through the
//! [`CallControl`] trait, so the call model can change behind it.

mod builtin;
pub(crate) mod control;
mod show;
mod uuid;

pub use builtin::uptime_text as builtin_uptime_text;
pub(crate) use control::queue_event;
pub use control::{CallControl, CoreCallControl};
pub use show::Table;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::context::Context;
use crate::event::Event;

/// A boxed future, for object-safe async handlers and traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A command's handler: `(context, args) -> reply text`.
pub type Handler = Arc<dyn Fn(Arc<Context>, String) -> BoxFuture<'static, String> + Send + Sync>;

/// One entry of the table.
#[derive(Clone)]
pub struct ApiCommand {
    /// What is typed: `status`, `uuid_kill`.
    pub name: String,
    /// The arguments, e.g. `<uuid> [cause]` (empty when it takes none).
    pub usage: String,
    /// One line saying what it does.
    pub description: String,
    handler: Handler,
}

impl std::fmt::Debug for ApiCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCommand")
            .field("name", &self.name)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

impl ApiCommand {
    /// `-USAGE: <name> <usage>`, the reply to wrong arguments.
    pub fn usage_error(&self) -> String {
        usage_reply(&self.name, &self.usage)
    }
}

/// `-USAGE: <name> <usage>\n`.
pub fn usage_reply(name: &str, usage: &str) -> String {
    format!("-USAGE: {} {}\n", name, usage).replace(" \n", "\n")
}

/// The command table and the call control it uses.
pub struct ApiRegistry {
    commands: RwLock<BTreeMap<String, ApiCommand>>,
    calls: RwLock<Arc<dyn CallControl>>,
}

impl std::fmt::Debug for ApiRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRegistry")
            .field("commands", &self.list().len())
            .finish_non_exhaustive()
    }
}

impl ApiRegistry {
    /// An empty table using [`CoreCallControl`].
    pub fn new() -> ApiRegistry {
        ApiRegistry {
            commands: RwLock::new(BTreeMap::new()),
            calls: RwLock::new(Arc::new(CoreCallControl)),
        }
    }

    /// The table with every built-in command.
    pub fn with_builtins() -> ApiRegistry {
        let r = ApiRegistry::new();
        builtin::register(&r);
        r
    }

    /// Adds (or replaces) a command. `handler` gets the context and the argument string.
    pub fn register<F, Fut>(&self, name: &str, usage: &str, description: &str, handler: F)
    where
        F: Fn(Arc<Context>, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = String> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx, args| Box::pin(handler(ctx, args)));
        let cmd = ApiCommand {
            name: name.to_string(),
            usage: usage.to_string(),
            description: description.to_string(),
            handler,
        };
        self.commands
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_ascii_lowercase(), cmd);
    }

    /// Removes a command (a module unloading); true if it was there.
    pub fn unregister(&self, name: &str) -> bool {
        let mut c = self.commands.write().unwrap_or_else(|e| e.into_inner());
        c.remove(&name.to_ascii_lowercase()).is_some()
    }

    /// A command by name (any case).
    pub fn get(&self, name: &str) -> Option<ApiCommand> {
        let c = self.commands.read().unwrap_or_else(|e| e.into_inner());
        c.get(&name.to_ascii_lowercase()).cloned()
    }

    /// Every command, sorted by name.
    pub fn list(&self) -> Vec<ApiCommand> {
        let c = self.commands.read().unwrap_or_else(|e| e.into_inner());
        c.values().cloned().collect()
    }

    /// What the `uuid_*`, `show channels` and `originate` commands drive.
    pub fn call_control(&self) -> Arc<dyn CallControl> {
        self.calls.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the call control (when the call model provides a fuller one).
    pub fn set_call_control(&self, calls: Arc<dyn CallControl>) {
        *self.calls.write().unwrap_or_else(|e| e.into_inner()) = calls;
    }
}

impl Default for ApiRegistry {
    fn default() -> Self {
        ApiRegistry::with_builtins()
    }
}

/// Splits `"show channels as json"` into `("show", "channels as json")`.
pub fn split_command(line: &str) -> (&str, &str) {
    let line = line.trim();
    match line.split_once(char::is_whitespace) {
        Some((cmd, args)) => (cmd, args.trim()),
        None => (line, ""),
    }
}

/// Runs one command line (`name args...`) and returns its reply text. Fires an `API` event.
pub async fn execute(ctx: &Arc<Context>, line: &str) -> String {
    let (cmd, args) = split_command(line);
    execute_command(ctx, cmd, args).await
}

/// Runs `cmd` with `args`.
pub async fn execute_command(ctx: &Arc<Context>, cmd: &str, args: &str) -> String {
    let Some(command) = ctx.api.get(cmd) else {
        return format!("-ERR {cmd} Command not found!\n");
    };
    tracing::debug!(command = cmd, args, "api");
    ctx.events.fire(
        Event::new("API")
            .with("API-Command", cmd)
            .with("API-Command-Argument", args),
    );
    (command.handler)(ctx.clone(), args.to_string()).await
}

#[cfg(test)]
mod tests;
