//! The dialplan: `<dir>/dialplan.toml`. A context (`default` for the directory's users,
//! `public` for trusted sources) may name a script that routes its calls; otherwise, and as
//! a fallback, an ordered list of rules is matched on the destination.
//!
//! ```toml
//! [context.default]
//! script = "default.lua"         # under the scripts folder; argv[1] is the destination
//!
//! [[rule]]
//! name = "local extensions"
//! destination = '^(10[01][0-9])$'
//! actions = ["bridge user/$1"]   # each "app args"
//! continue = false               # true: keep looking for more matching rules
//! ```

use regex::Regex;
use serde::Deserialize;

use super::cause::hangup_cause_code;
use super::error::{ConfigError, ConfigErrorKind};
use super::source::Source;

/// Contexts with their scripts, and ordered routing rules.
#[derive(Clone, Debug, Default)]
pub struct Dialplan {
    /// Context name to the script (relative to the scripts folder) that routes its calls.
    pub contexts: std::collections::BTreeMap<String, String>,
    /// Rules in file order.
    pub rules: Vec<Rule>,
    /// Actions naming an application that is not built in, each with the error to report
    /// (file, line, key) if no loaded module registers it: modules load after the config.
    pub module_apps: Vec<(String, ConfigError)>,
}

/// One rule: a destination pattern and what to do when it matches.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Name for logs (defaults to the pattern).
    pub name: String,
    /// Pattern matched against the destination number; `$1`..`$9` in actions are its groups.
    pub destination: Regex,
    /// Applications to run, not yet expanded.
    pub actions: Vec<Action>,
    /// After this rule matches, keep adding the actions of later matching rules.
    pub continue_on_match: bool,
}

/// One application call, e.g. `bridge user/1001`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// Application name (one of [`KNOWN_APPS`], or a module's).
    pub app: String,
    /// Argument text, trimmed; empty when there is none.
    pub args: String,
}

/// The applications a dialplan may name.
pub const KNOWN_APPS: &[&str] = &[
    "answer",
    "pre_answer",
    "bridge",
    "echo",
    "hangup",
    "sleep",
    "set",
    "playback",
    "park",
    "send_dtmf",
    "transfer",
    "lua",
    "socket",
    "unset",
    "eavesdrop",
];

/// The endpoint types a bridge dial string may name (`user/1001`).
pub const DIAL_ENDPOINTS: &[&str] = &["user"];

impl Dialplan {
    /// Finds the actions for `destination`: those of the first matching rule, then of each later
    /// matching rule for as long as the last matched rule has `continue = true`.
    ///
    /// Arguments are expanded: `$0`..`$9` from the rule's captures, `${name}` from `vars`, with
    /// `${destination_number}` and `${destination}` always the destination. Unknown variables
    /// and missing groups expand to "". `None` when no rule matches.
    pub fn route(
        &self,
        destination: &str,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Vec<Action>> {
        let mut actions = Vec::new();
        let mut matched = false;
        for rule in &self.rules {
            let Some(caps) = rule.destination.captures(destination) else {
                continue;
            };
            matched = true;
            actions.extend(rule.actions.iter().map(|a| Action {
                app: a.app.clone(),
                args: expand(&a.args, &caps, vars, destination),
            }));
            if !rule.continue_on_match {
                break;
            }
        }
        matched.then_some(actions)
    }

    /// The script routing `context`, if the dialplan names one.
    pub fn context_script(&self, context: &str) -> Option<&str> {
        self.contexts.get(context).map(String::as_str)
    }

    /// Reads `file`; a missing file is an empty dialplan (nothing routes).
    pub(crate) fn load(file: &std::path::Path) -> Result<Dialplan, ConfigError> {
        Dialplan::parse(&Source::read(file)?)
    }

    fn parse(src: &Source) -> Result<Dialplan, ConfigError> {
        let raw: RawDialplan = src.deserialize()?;
        let mut rules = Vec::with_capacity(raw.rule.len());
        let mut module_apps = Vec::new();
        for (i, r) in raw.rule.into_iter().enumerate() {
            let bad = |key: &str, msg: String| {
                src.error(
                    &format!("rule[{i}].{key}"),
                    ConfigErrorKind::InvalidValue,
                    msg,
                )
            };
            let destination = Regex::new(&r.destination).map_err(|e| {
                bad(
                    "destination",
                    format!("invalid regex {:?}: {}", r.destination, regex_reason(&e)),
                )
            })?;
            let actions: Vec<Action> = (r.actions.iter().enumerate())
                .map(|(j, text)| {
                    parse_action(text).map_err(|msg| bad(&format!("actions[{j}]"), msg))
                })
                .collect::<Result<_, _>>()?;
            for (j, a) in actions.iter().enumerate() {
                if !KNOWN_APPS.contains(&a.app.as_str()) {
                    let msg = format!(
                        "unknown application {:?}: not built in ({}) and no loaded module registers it",
                        a.app,
                        KNOWN_APPS.join(", ")
                    );
                    module_apps.push((a.app.clone(), bad(&format!("actions[{j}]"), msg)));
                }
            }
            rules.push(Rule {
                name: r.name.unwrap_or_else(|| r.destination.clone()),
                destination,
                actions,
                continue_on_match: r.continue_on_match,
            });
        }
        let mut contexts = std::collections::BTreeMap::new();
        for (name, c) in raw.context {
            let script = c.script.trim().to_string();
            let bad = |msg: String| {
                src.error(
                    &format!("context.{name}.script"),
                    ConfigErrorKind::InvalidValue,
                    msg,
                )
            };
            if script.is_empty() {
                return Err(bad("must name a script, e.g. \"default.lua\"".into()));
            }
            if script.starts_with('/') || script.split(['/', '\\']).any(|p| p == "..") {
                return Err(bad(format!(
                    "{script:?} must be a path inside the scripts folder"
                )));
            }
            contexts.insert(name, script);
        }
        Ok(Dialplan {
            contexts,
            rules,
            module_apps,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDialplan {
    #[serde(default)]
    context: std::collections::BTreeMap<String, RawContext>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContext {
    script: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    destination: String,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default, rename = "continue")]
    continue_on_match: bool,
}

/// The regex crate draws a caret diagram over several lines; keep its one-line reason.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    match text.lines().rev().find_map(|l| l.strip_prefix("error: ")) {
        Some(reason) => reason.to_string(),
        None => super::source::one_line(&text),
    }
}

/// Splits `"app args"` and checks the app and, where they have a fixed shape, its arguments.
fn parse_action(text: &str) -> Result<Action, String> {
    let text = text.trim();
    let (app, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let args = args.trim();
    let need_args = |what: &str| match args {
        "" => Err(format!("{app} needs {what}")),
        _ => Ok(()),
    };
    match app {
        "" => return Err("empty action; expected \"app [args]\"".into()),
        "answer" | "pre_answer" | "echo" | "park" if !args.is_empty() => {
            return Err(format!(
                "{app} takes no arguments (got {args:?}); one action per string"
            ))
        }
        "answer" | "pre_answer" | "echo" | "park" => {}
        "bridge" => {
            need_args("a dial string, e.g. user/1001")?;
            check_dial_string(args)?;
        }
        "hangup"
            if !args.is_empty() && !args.contains('$') && hangup_cause_code(args).is_none() =>
        {
            return Err(format!(
                "unknown hangup cause {args:?}, e.g. NORMAL_CLEARING, USER_BUSY, CALL_REJECTED"
            ));
        }
        "hangup" => {}
        "sleep" => {
            need_args("a duration in milliseconds")?;
            if !args.contains('$') && args.parse::<u32>().is_err() {
                return Err(format!(
                    "sleep needs milliseconds as a whole number, got {args:?}"
                ));
            }
        }
        "set" => {
            let name = args.split_once('=').map_or("", |(name, _)| name.trim());
            if name.is_empty() {
                return Err(format!("set needs name=value, got {args:?}"));
            }
        }
        "playback" => need_args("a file to play")?,
        "send_dtmf" => need_args("digits, e.g. 123#@250")?,
        "transfer" => need_args("a destination, e.g. 5000")?,
        "lua" => need_args("a script, e.g. ivr.lua")?,
        "socket" => need_args("host:port [async] [full]")?,
        "unset" => need_args("a variable name")?,
        "eavesdrop" => need_args("a channel's uuid or user/<ext>")?,
        // A module's application: checked once modules are loaded (see `module_apps`).
        _ if app.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {}
        _ => {
            return Err(format!(
                "invalid application name {app:?}: letters, digits and '_' only; built in: {}",
                KNOWN_APPS.join(", ")
            ))
        }
    }
    Ok(Action {
        app: app.to_string(),
        args: args.to_string(),
    })
}

/// Each comma-separated target must be `endpoint/target` (e.g. `user/1001`), or a lone variable.
fn check_dial_string(args: &str) -> Result<(), String> {
    for target in args.split(',').map(str::trim) {
        let ok = match target.split_once('/') {
            Some((endpoint, rest)) => DIAL_ENDPOINTS.contains(&endpoint) && !rest.trim().is_empty(),
            None => target.starts_with('$'),
        };
        if !ok {
            let endpoints = DIAL_ENDPOINTS
                .iter()
                .map(|e| format!("{e}/..."))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "invalid dial target {target:?} in {args:?}; expected {endpoints}"
            ));
        }
    }
    Ok(())
}

/// Replaces `$N` with capture N and `${name}` with a variable; anything else is kept.
fn expand(
    template: &str,
    caps: &regex::Captures,
    vars: &dyn Fn(&str) -> Option<String>,
    destination: &str,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut chars = after.chars();
        match chars.next() {
            Some(d @ '0'..='9') => {
                let group = d.to_digit(10).map_or(0, |n| n as usize);
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
                rest = chars.as_str();
            }
            Some('{') => match after[1..].find('}') {
                Some(end) => {
                    let name = &after[1..1 + end];
                    match name {
                        "destination_number" | "destination" => out.push_str(destination),
                        _ => out.push_str(&vars(name).unwrap_or_default()),
                    }
                    rest = &after[end + 2..];
                }
                // No closing brace: not a reference, keep the text as written.
                None => {
                    out.push('$');
                    rest = after;
                }
            },
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Result<Dialplan, ConfigError> {
        Dialplan::parse(&Source::parse(
            std::path::Path::new("dialplan.toml"),
            text.to_string(),
        )?)
    }

    fn no_vars(_: &str) -> Option<String> {
        None
    }

    fn apps(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| format!("{} {}", a.app, a.args).trim().to_string())
            .collect()
    }

    #[test]
    fn first_matching_rule_wins_and_captures_expand() {
        let dp = plan(
            "[[rule]]\ndestination = '^9196$'\nactions = [\"answer\", \"echo\"]\n\
             [[rule]]\ndestination = '^(10[01][0-9])$'\nactions = [\"bridge user/$1\"]\n\
             [[rule]]\ndestination = '^1.*'\nactions = [\"hangup\"]\n",
        )
        .unwrap();
        assert_eq!(
            apps(&dp.route("9196", &no_vars).unwrap()),
            ["answer", "echo"]
        );
        assert_eq!(
            apps(&dp.route("1007", &no_vars).unwrap()),
            ["bridge user/1007"]
        );
        assert_eq!(apps(&dp.route("1200", &no_vars).unwrap()), ["hangup"]);
        assert!(dp.route("5555", &no_vars).is_none());
    }

    #[test]
    fn continue_adds_later_matching_rules() {
        let dp = plan(
            "[[rule]]\ndestination = '^1'\nactions = [\"set a=1\"]\ncontinue = true\n\
             [[rule]]\ndestination = '^2'\nactions = [\"hangup\"]\n\
             [[rule]]\ndestination = '^1(.*)'\nactions = [\"bridge user/$1\"]\n\
             [[rule]]\ndestination = '.*'\nactions = [\"park\"]\n",
        )
        .unwrap();
        assert_eq!(
            apps(&dp.route("1001", &no_vars).unwrap()),
            ["set a=1", "bridge user/001"]
        );
    }

    #[test]
    fn variables_expand_and_unknown_ones_are_empty() {
        let dp = plan("[[rule]]\ndestination = '^(\\d+)$'\nactions = [\"set x=${who}-${nope}-${destination_number}-${destination}-$2-$$-${open\"]\n").unwrap();
        let vars = |name: &str| (name == "who").then(|| "alice".to_string());
        assert_eq!(
            dp.route("42", &vars).unwrap()[0].args,
            "x=alice--42-42--$$-${open"
        );
    }

    #[test]
    fn actions_split_into_app_and_args() {
        assert_eq!(
            parse_action("  bridge   user/1000,user/1001 "),
            Ok(Action {
                app: "bridge".into(),
                args: "user/1000,user/1001".into()
            })
        );
        assert_eq!(
            parse_action("hangup USER_BUSY").map(|a| a.args),
            Ok("USER_BUSY".into())
        );
        assert!(parse_action("bridge user/${destination}").is_ok());
        assert!(parse_action("sleep 500").is_ok());
        assert!(parse_action("playback /tmp/x.wav").is_ok());
    }

    #[test]
    fn bad_actions_are_rejected() {
        for bad in [
            "",
            "dan.ce",
            "answer echo",
            "bridge",
            "bridge sofia/x",
            "bridge user/",
            "bridge user/1,",
            "hangup BUSY",
            "sleep",
            "sleep soon",
            "set",
            "set =1",
            "playback",
        ] {
            assert!(parse_action(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unknown_app_is_left_to_modules_with_its_rule_action_and_line() {
        let dp = plan("[[rule]]\nname = \"a\"\ndestination = 'x'\nactions = [\n  \"answer\",\n  \"dance now\",\n]\n").expect("a module may register dance");
        let [(app, err)] = dp.module_apps.as_slice() else {
            panic!("{:?}", dp.module_apps)
        };
        assert_eq!(app, "dance");
        assert_eq!(err.key.as_deref(), Some("rule[0].actions[1]"));
        assert_eq!(err.line, Some(6));
        assert!(
            err.message.contains("unknown application \"dance\""),
            "{err}"
        );
        let err = plan("[[rule]]\ndestination = 'x'\nactions = [\"da-nce\"]\n").unwrap_err();
        assert!(err.message.contains("invalid application name"), "{err}");
    }

    #[test]
    fn bad_regex_names_rule_and_line() {
        let err = plan("[[rule]]\ndestination = 'x'\n\n[[rule]]\ndestination = '(unclosed'\n")
            .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("rule[1].destination"));
        assert_eq!(err.line, Some(5));
        assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
        assert_eq!(err.message, "invalid regex \"(unclosed\": unclosed group");
    }

    #[test]
    fn unknown_rule_key_and_missing_destination_are_reported() {
        let err = plan("[[rule]]\ndestination = 'x'\ncontinu = true\n").unwrap_err();
        assert_eq!(
            (err.kind, err.key.as_deref(), err.line),
            (
                ConfigErrorKind::UnknownKey,
                Some("rule[0].continu"),
                Some(3)
            )
        );
        let err = plan("[[rule]]\nname = 'x'\n").unwrap_err();
        assert!(err.message.contains("destination"), "{err}");
        assert_eq!(err.key.as_deref(), Some("rule[0]"));
    }

    #[test]
    fn missing_file_is_an_empty_dialplan() {
        let dp = Dialplan::load(std::path::Path::new(
            "/nonexistent/ferroswitch/dialplan.toml",
        ))
        .unwrap();
        assert!(dp.rules.is_empty());
        assert!(dp.route("1000", &no_vars).is_none());
    }
}
