//! `session:say()` and `session:sayPhrase()` from the shipped English prompts
//! (`digits/0.wav`..`19`, `20`..`90`, `hundred`, `thousand`, `million`, `star`, `pound`).
//!
//! Phrases come from `<conf>/phrases.toml`, read again when it changes:
//!
//! ```toml
//! [phrase.you_entered]
//! match = '^(\d+)$'              # optional regex on the data; $1..$9 are its groups
//! actions = ["play-file ivr/ivr-you_entered.wav", "say $1 number iterated"]
//! nomatch = ["play-file ivr/ivr-that_was_an_invalid_entry.wav"]   # when it does not match
//! ```
//!
//! Actions: `play-file FILE`, `say TEXT TYPE [METHOD]`, `sleep MS`; `${data}` is the data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use mlua::{AnyUserData, Lua, UserDataMethods};
use serde::Deserialize;

use crate::error::location;
use crate::input::stream_file;
use crate::run::run_of;
use crate::session::LuaSession;

/// Registers `say` and `sayPhrase` on `session`.
pub(crate) fn add_methods<M: UserDataMethods<LuaSession>>(m: &mut M) {
    m.add_function(
        "say",
        |lua,
         (ud, text, lang, kind, method, _gender): (
            AnyUserData,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        )| {
            if let Some(l) = lang
                .as_deref()
                .filter(|l| !l.is_empty() && !l.starts_with("en"))
            {
                tracing::info!(
                    "{}say: only English prompts exist; {l:?} is said in English",
                    location(lua)
                );
            }
            say(
                lua,
                &ud,
                &text,
                kind.as_deref().unwrap_or("number"),
                method.as_deref().unwrap_or("pronounced"),
            )
        },
    );
    m.add_function(
        "sayPhrase",
        |lua, (ud, name, data, _lang): (AnyUserData, String, Option<String>, Option<String>)| {
            say_phrase(lua, &ud, &name, data.as_deref().unwrap_or(""))
        },
    );
}

fn say(lua: &Lua, ud: &AnyUserData, text: &str, kind: &str, method: &str) -> mlua::Result<()> {
    match files_for(text, kind, method) {
        Ok((files, note)) => {
            if let Some(n) = note {
                tracing::info!("{}say({text:?}, {kind}, {method}): {n}", location(lua));
            }
            if !files.is_empty() {
                stream_file(lua, ud, &files.join("!"))?;
            }
        }
        Err(e) => tracing::warn!("{}say({text:?}, {kind}, {method}): {e}", location(lua)),
    }
    Ok(())
}

/// The prompts that say `text` as `kind` (`number`, `items`, `persons`, `messages`,
/// `telephone_number`, `telephone_extension`, `account_number`, `name_spelled`,
/// `ip_address`, `time_measurement`) by `method` (`pronounced`, `iterated`, `counted`), and
/// a note about what could not be said.
pub fn files_for(
    text: &str,
    kind: &str,
    method: &str,
) -> Result<(Vec<String>, Option<String>), String> {
    let kind = kind.trim().to_ascii_lowercase();
    let method = method.trim().to_ascii_lowercase();
    match kind.as_str() {
        "number" | "items" | "persons" | "messages" => {
            let digits: String = text
                .trim()
                .chars()
                .filter(|c| !matches!(c, ',' | ' '))
                .collect();
            if method == "iterated" {
                return Ok(iterated(&digits));
            }
            let (whole, note) = match digits.split_once('.') {
                Some((w, _)) => (
                    w,
                    Some("the decimals are not said (no \"point\" prompt)".to_string()),
                ),
                None => (digits.as_str(), None),
            };
            let (whole, note) = match whole.strip_prefix('-') {
                Some(w) => (
                    w,
                    Some("the sign is not said (no \"minus\" prompt)".to_string()),
                ),
                None => (whole, note),
            };
            let n: u64 = whole
                .parse()
                .map_err(|_| format!("{text:?} is not a number"))?;
            let note = match (method.as_str(), note) {
                ("counted", None) => Some("ordinals are said as numbers".to_string()),
                (_, n) => n,
            };
            Ok((number(n), note))
        }
        "telephone_number"
        | "telephone_extension"
        | "account_number"
        | "name_spelled"
        | "name_phonetic"
        | "ip_address"
        | "digits" => Ok(iterated(text)),
        "time_measurement" => {
            let secs = seconds(text).ok_or_else(|| format!("{text:?} is not a duration"))?;
            let (m, s) = (secs / 60, secs % 60);
            let mut files = Vec::new();
            if m > 0 {
                files.extend(number(m));
                files.push("ivr/ivr-minutes.wav".to_string());
            }
            if s > 0 || m == 0 {
                files.extend(number(s));
                files.push("ivr/ivr-seconds.wav".to_string());
            }
            Ok((files, None))
        }
        other => Err(format!("say type {other:?} is not supported")),
    }
}

/// `125`, `2:05` or `1:02:05` as seconds.
fn seconds(text: &str) -> Option<u64> {
    text.trim().split(':').try_fold(0u64, |acc, part| {
        Some(acc * 60 + part.trim().parse::<u64>().ok()?)
    })
}

/// One prompt per character: digits, `*` and `#`; other characters are skipped (noted).
fn iterated(text: &str) -> (Vec<String>, Option<String>) {
    let mut files = Vec::new();
    let mut skipped = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => files.push(format!("digits/{c}.wav")),
            '*' => files.push("digits/star.wav".into()),
            '#' => files.push("digits/pound.wav".into()),
            ' ' | '-' => {}
            other => skipped.push(other),
        }
    }
    let note = (!skipped.is_empty()).then(|| format!("no prompts for {skipped:?}; skipped"));
    (files, note)
}

/// `n` in words, as prompt names.
fn number(n: u64) -> Vec<String> {
    let mut out = Vec::new();
    words(n, &mut out);
    out.into_iter().map(|w| format!("digits/{w}.wav")).collect()
}

fn words(n: u64, out: &mut Vec<String>) {
    match n {
        0..=19 => out.push(n.to_string()),
        20..=99 => {
            out.push((n / 10 * 10).to_string());
            if !n.is_multiple_of(10) {
                out.push((n % 10).to_string());
            }
        }
        100..=999 => {
            words(n / 100, out);
            out.push("hundred".into());
            if !n.is_multiple_of(100) {
                words(n % 100, out);
            }
        }
        1_000..=999_999 => {
            words(n / 1000, out);
            out.push("thousand".into());
            if !n.is_multiple_of(1000) {
                words(n % 1000, out);
            }
        }
        _ => {
            words(n / 1_000_000, out);
            out.push("million".into());
            if !n.is_multiple_of(1_000_000) {
                words(n % 1_000_000, out);
            }
        }
    }
}

fn say_phrase(lua: &Lua, ud: &AnyUserData, name: &str, data: &str) -> mlua::Result<()> {
    let run = run_of(lua)?;
    let Some(phrase) = run.shared.phrases.get(name) else {
        tracing::warn!(
            "{}sayPhrase: no phrase {name:?} in {}",
            location(lua),
            run.shared.phrases.path.display()
        );
        return Ok(());
    };
    let caps: Option<Vec<String>> = match &phrase.pattern {
        None => Some(vec![data.to_string()]),
        Some(re) => re.captures(data).map(|c| {
            c.iter()
                .map(|m| m.map_or(String::new(), |m| m.as_str().to_string()))
                .collect()
        }),
    };
    let (actions, caps) = match caps {
        Some(c) => (&phrase.actions, c),
        None => (&phrase.nomatch, vec![data.to_string()]),
    };
    for action in actions {
        let text = expand(action, &caps, data);
        let (verb, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
        match verb {
            "play-file" => {
                stream_file(lua, ud, rest.trim())?;
            }
            "say" => {
                let mut p = rest.split_whitespace();
                let what = p.next().unwrap_or("");
                let kind = p.next().unwrap_or("number");
                let method = p.next().unwrap_or("pronounced");
                say(lua, ud, what, kind, method)?;
            }
            "sleep" => {
                let ms: u64 = rest.trim().parse().unwrap_or(0);
                let h = crate::session::this(ud)?.up().cloned();
                if let Some(h) = h {
                    let _ = run.wait(|| h.sleep(std::time::Duration::from_millis(ms)));
                }
            }
            other => tracing::warn!(
                "{}sayPhrase {name}: unknown action {other:?}",
                location(lua)
            ),
        }
    }
    Ok(())
}

/// `$1`..`$9` and `${data}` in a phrase action.
fn expand(action: &str, caps: &[String], data: &str) -> String {
    let mut out = action.replace("${data}", data);
    for i in (0..=9).rev() {
        let key = format!("${i}");
        if out.contains(&key) {
            out = out.replace(&key, caps.get(i).map_or("", String::as_str));
        }
    }
    out
}

/// One phrase of `phrases.toml`.
#[derive(Debug)]
pub(crate) struct Phrase {
    pattern: Option<regex::Regex>,
    actions: Vec<String>,
    nomatch: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    phrase: BTreeMap<String, RawPhrase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhrase {
    #[serde(rename = "match")]
    pattern: Option<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    nomatch: Vec<String>,
}

/// A loaded phrase file: its version (modified, length) and phrases.
type Loaded = (Option<SystemTime>, u64, Arc<BTreeMap<String, Arc<Phrase>>>);

/// `phrases.toml`, read again when it changes; a broken edit is logged and the last good
/// version kept.
#[derive(Debug)]
pub(crate) struct PhraseBook {
    path: PathBuf,
    loaded: Mutex<Option<Loaded>>,
}

impl PhraseBook {
    /// The phrases of `path` (a missing file has none).
    pub fn new(path: &Path) -> PhraseBook {
        PhraseBook {
            path: path.to_path_buf(),
            loaded: Mutex::new(None),
        }
    }

    fn get(&self, name: &str) -> Option<Arc<Phrase>> {
        let meta = std::fs::metadata(&self.path).ok()?;
        let version = (meta.modified().ok(), meta.len());
        let mut loaded = self.loaded.lock().ok()?;
        let stale = match loaded.as_ref() {
            None => true,
            Some((m, l, _)) => (*m, *l) != version,
        };
        if stale {
            match std::fs::read_to_string(&self.path)
                .map_err(|e| e.to_string())
                .and_then(|t| parse(&t))
            {
                Ok(p) => *loaded = Some((version.0, version.1, Arc::new(p))),
                Err(e) => {
                    tracing::error!(
                        "{}: {e} (keeping the phrases loaded before)",
                        self.path.display()
                    );
                    let old = loaded.as_ref().map(|l| l.2.clone()).unwrap_or_default();
                    *loaded = Some((version.0, version.1, old));
                }
            }
        }
        loaded.as_ref()?.2.get(name).cloned()
    }
}

fn parse(text: &str) -> Result<BTreeMap<String, Arc<Phrase>>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| {
            text.as_bytes()[..s.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_string(),
        }
    })?;
    raw.phrase
        .into_iter()
        .map(|(name, p)| {
            let pattern = match p.pattern {
                Some(r) => Some(
                    regex::Regex::new(&r)
                        .map_err(|e| format!("phrase.{name}.match: bad regex {r:?}: {e}"))?,
                ),
                None => None,
            };
            Ok((
                name,
                Arc::new(Phrase {
                    pattern,
                    actions: p.actions,
                    nomatch: p.nomatch,
                }),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, kind: &str, method: &str) -> Vec<String> {
        files_for(text, kind, method)
            .unwrap()
            .0
            .iter()
            .map(|f| {
                f.trim_start_matches("digits/")
                    .trim_end_matches(".wav")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn numbers_in_words() {
        assert_eq!(names("0", "number", "pronounced"), ["0"]);
        assert_eq!(names("17", "number", "pronounced"), ["17"]);
        assert_eq!(names("42", "number", "pronounced"), ["40", "2"]);
        assert_eq!(names("100", "number", "pronounced"), ["1", "hundred"]);
        assert_eq!(
            names("1,234,567", "number", "pronounced"),
            ["1", "million", "2", "hundred", "30", "4", "thousand", "5", "hundred", "60", "7"]
        );
        assert_eq!(names("1013", "number", "iterated"), ["1", "0", "1", "3"]);
        assert_eq!(
            names("12*#", "telephone_number", ""),
            ["1", "2", "star", "pound"]
        );
        assert!(files_for("abc", "number", "pronounced").is_err());
        assert!(files_for("1", "current_date", "").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(seconds("125"), Some(125));
        assert_eq!(seconds("1:02:05"), Some(3725));
        let f = files_for("125", "time_measurement", "pronounced")
            .unwrap()
            .0;
        assert_eq!(
            f,
            [
                "digits/2.wav",
                "ivr/ivr-minutes.wav",
                "digits/5.wav",
                "ivr/ivr-seconds.wav"
            ]
        );
    }

    #[test]
    fn phrase_files_parse_and_name_lines() {
        let p = parse("[phrase.x]\nmatch = '^(\\d+)$'\nactions = [\"say $1 number\"]\n").unwrap();
        assert!(p.contains_key("x"));
        let e = parse("[phrase.x]\nactions = [\"a\"]\nbogus = 1\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        assert_eq!(
            expand("say $1 ${data}", &["12".into(), "1".into()], "12"),
            "say 1 12"
        );
    }
}
