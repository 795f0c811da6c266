//! Script errors as users read them: `file:line: what happened`, like Lua's own messages.

use mlua::{Error, Lua};

/// A marker error: the hangup hook asked to end the script (`"exit"` / `"die"`), which is
/// not a failure.
pub const EXIT_MARKER: &str = "ferroswitch: script exit requested by its hangup hook";

/// `file:line: ` of the innermost Lua function calling the running Rust function (empty when
/// there is none, e.g. called from Rust).
pub fn location(lua: &Lua) -> String {
    for level in 1..12 {
        let Some(d) = lua.inspect_stack(level) else {
            break;
        };
        let line = d.curr_line();
        if line > 0 {
            let src = d.source();
            let name = src.short_src.as_deref().unwrap_or("?");
            return format!("{name}:{line}: ");
        }
    }
    String::new()
}

/// A runtime error prefixed with where the script called from, as `luaL_error` would.
pub fn located(lua: &Lua, msg: impl std::fmt::Display) -> Error {
    Error::RuntimeError(format!("{}{msg}", location(lua)))
}

/// The one-line message of an error that ended a script; `memory` names the limit and
/// `near` the last line the budget hook saw (memory errors carry no position).
pub fn describe(err: &Error, memory_limit: usize, near: &str) -> String {
    match err {
        Error::CallbackError { cause, .. } => describe(cause, memory_limit, near),
        Error::WithContext { cause, .. } => describe(cause, memory_limit, near),
        Error::RuntimeError(msg) => first_line(msg),
        Error::SyntaxError { message, .. } => first_line(message),
        Error::MemoryError(msg) => format!(
            "{near}: {} (lua.memory_limit is {memory_limit} bytes)",
            first_line(msg)
        ),
        other => first_line(&other.to_string()),
    }
}

/// The message a script sees for an error of a Rust function caught by `pcall`: a plain
/// string, as a FreeSWITCH script expects, not mlua's error object.
pub fn plain(err: &Error) -> String {
    match err {
        Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => plain(cause),
        Error::RuntimeError(msg) | Error::MemoryError(msg) => first_line(msg),
        Error::SyntaxError { message, .. } => first_line(message),
        other => first_line(&other.to_string()),
    }
}

/// Whether `err` is the hangup hook's request to end the script.
pub fn is_exit(err: &Error) -> bool {
    match err {
        Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => is_exit(cause),
        Error::RuntimeError(msg) => msg.contains(EXIT_MARKER),
        _ => false,
    }
}

/// Whether `err` came from running out of memory.
pub fn is_memory(err: &Error) -> bool {
    match err {
        Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => is_memory(cause),
        Error::MemoryError(_) => true,
        _ => false,
    }
}

fn first_line(s: &str) -> String {
    // mlua appends a traceback after the message; Rust errors may wrap lines too.
    let msg = s.split("\nstack traceback:").next().unwrap_or(s);
    msg.lines().next().unwrap_or("").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_first_line() {
        let e = Error::RuntimeError("a.lua:3: boom\nstack traceback:\n\t[C]: in ?".into());
        assert_eq!(describe(&e, 0, "a.lua:1"), "a.lua:3: boom");
        let e = Error::MemoryError("not enough memory".into());
        assert_eq!(
            describe(&e, 100, "a.lua:7"),
            "a.lua:7: not enough memory (lua.memory_limit is 100 bytes)"
        );
        let wrapped = Error::CallbackError {
            traceback: String::new(),
            #[allow(clippy::arc_with_non_send_sync)] // mlua's own type for the cause
            cause: std::sync::Arc::new(Error::RuntimeError(EXIT_MARKER.into())),
        };
        assert!(is_exit(&wrapped));
    }
}
