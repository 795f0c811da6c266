//! The interactive console: a line editor with history and tab completion of command names,
//! `/` commands like fs_cli's, and log lines and events printed as they arrive, coloured by
//! level. It drives a [`Backend`]: the event socket (`ferroswitch cli`) or the switch in
//! the same process (`ferroswitch` in a terminal).

use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter, Helper};

/// Where console commands go.
pub trait Backend {
    /// Runs an API command line and returns its reply text.
    fn api(&mut self, line: &str) -> Result<String, String>;
    /// Runs an event-socket command (`log debug`, `event plain ALL`, `nolog`, ...) and
    /// returns its reply text.
    fn socket(&mut self, command: &str) -> Result<String, String>;
    /// Called once with a printer that is safe to use while a line is being edited.
    fn start_output(&mut self, printer: Box<dyn FnMut(String) + Send>);
}

/// The slash commands.
pub const SLASH: &[(&str, &str)] = &[
    ("/help", "this list"),
    ("/exit", "leave the console (also /quit, /bye, Ctrl-D)"),
    (
        "/log",
        "<level>: show log lines up to level (debug, info, notice, warning, err, ...)",
    ),
    ("/nolog", "stop showing log lines"),
    (
        "/event",
        "[plain|json] <names...>: show events (e.g. /event plain ALL)",
    ),
    ("/noevents", "stop showing events"),
    ("/nixevent", "<names...>: stop showing some events"),
    (
        "/filter",
        "<header> <value> | delete <header> [<value>]: filter the events shown",
    ),
];

/// Runs the console until /exit or end of input. `commands` are the names to complete.
pub fn run(backend: &mut dyn Backend, commands: Vec<String>, prompt: &str) -> Result<(), String> {
    let mut rl: Editor<Names, DefaultHistory> =
        Editor::new().map_err(|e| format!("cannot start the line editor: {e}"))?;
    let mut names: Vec<String> = commands;
    names.extend(SLASH.iter().map(|(n, _)| n.to_string()));
    names.extend(["/quit", "/bye"].map(String::from));
    names.sort();
    names.dedup();
    rl.set_helper(Some(Names(names)));
    let history = history_file();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    match rl.create_external_printer() {
        Ok(mut p) => backend.start_output(Box::new(move |s: String| {
            let _ = p.print(s);
        })),
        Err(_) => backend.start_output(Box::new(|s: String| eprint!("{s}"))),
    }
    println!("Type /help for console commands, help for the switch's commands.");
    loop {
        let line = match rl.readline(prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("console input: {e}")),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = rl.add_history_entry(line);
        if let Some(h) = &history {
            let _ = rl.save_history(h);
        }
        let reply = match slash(line) {
            Slash::Exit => break,
            Slash::Help => {
                for (n, d) in SLASH {
                    println!("{n:10} {d}");
                }
                continue;
            }
            Slash::Socket(cmd) => backend.socket(&cmd),
            Slash::Unknown => Ok(format!("-ERR unknown console command {line}; try /help\n")),
            Slash::Api => backend.api(line),
        };
        match reply {
            Ok(text) => print_reply(&text),
            Err(e) => {
                eprintln!("{e}");
                return Err(e);
            }
        }
    }
    Ok(())
}

fn print_reply(text: &str) {
    if text.ends_with('\n') {
        print!("{text}");
    } else {
        println!("{text}");
    }
}

enum Slash {
    Exit,
    Help,
    Socket(String),
    Unknown,
    Api,
}

fn slash(line: &str) -> Slash {
    let Some(rest) = line.strip_prefix('/') else {
        return Slash::Api;
    };
    let (word, args) = rest.split_once(' ').unwrap_or((rest, ""));
    match word {
        "exit" | "quit" | "bye" => Slash::Exit,
        "help" => Slash::Help,
        "log" | "nolog" | "event" | "noevents" | "nixevent" | "filter" => {
            Slash::Socket(format!("{word} {args}").trim().to_string())
        }
        _ => Slash::Unknown,
    }
}

fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ferroswitch_history"))
}

/// ANSI colour of a FreeSWITCH log level, as fs_cli colours them.
pub fn level_colour(level: u8) -> &'static str {
    match level {
        0..=3 => "\x1b[31m",
        4 => "\x1b[35m",
        5 => "\x1b[36m",
        6 => "\x1b[32m",
        _ => "\x1b[33m",
    }
}

/// Whether to colour output.
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Completes the first word from the known names.
struct Names(Vec<String>);

impl Completer for Names {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let head = &line[..pos];
        if head.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let found = (self.0.iter())
            .filter(|n| n.starts_with(head))
            .cloned()
            .collect();
        Ok((0, found))
    }
}

impl Hinter for Names {
    type Hint = String;
}

impl Highlighter for Names {}

impl Validator for Names {}

impl Helper for Names {}

/// The command names in the output of `help`: each line `  name usage  description`, a
/// long usage with its description on the next line, indented under the column.
pub fn names_from_help(help: &str) -> Vec<String> {
    help.lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands_map_to_socket_commands() {
        assert!(matches!(slash("/exit"), Slash::Exit));
        assert!(matches!(slash("/quit"), Slash::Exit));
        assert!(matches!(slash("/log debug"), Slash::Socket(c) if c == "log debug"));
        assert!(matches!(slash("/event plain ALL"), Slash::Socket(c) if c == "event plain ALL"));
        assert!(matches!(slash("/nolog"), Slash::Socket(c) if c == "nolog"));
        assert!(matches!(slash("/what"), Slash::Unknown));
        assert!(matches!(slash("status"), Slash::Api));
    }

    #[test]
    fn help_names() {
        let help = "Commands:\n  help                 every command\n  show channels|calls  list\n  originate <call url> <exten>|&<application_name>(<app_args>) [<dialplan>]\n                       call a dial string\n";
        assert_eq!(names_from_help(help), ["help", "show", "originate"]);
    }
}
