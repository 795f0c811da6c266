//! One TOML file as text plus spans, so that every error can name its line and key.
//!
//! Typed deserialization goes through `toml` (whose errors carry a byte span but no key path);
//! the same text parsed with `toml_edit` maps that span back to the dotted key. `--set`
//! overrides are applied to a copy of the document, which is printed and parsed again; an error
//! whose key was overridden names the `--set` key, any other is mapped back to the line of the
//! same key in the file as written.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml_edit::{DocumentMut, ImDocument, Item, Table, TableLike, Value};

use super::error::{ConfigError, ConfigErrorKind};

/// A parsed TOML file, optionally with `--set` overrides applied.
pub(crate) struct Source {
    /// The file, as named in errors.
    pub file: PathBuf,
    /// The document as written (spans index its text).
    doc: ImDocument<String>,
    /// The document after overrides, reprinted and reparsed; `None` without overrides.
    effective: Option<ImDocument<String>>,
    /// Dotted keys set by overrides, in the order given.
    sets: Vec<String>,
}

impl Source {
    /// Reads and parses `file`; a missing file reads as empty, so every key takes its default.
    pub fn read(file: &Path) -> Result<Source, ConfigError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(ConfigError::new(
                    file,
                    ConfigErrorKind::Io,
                    format!("cannot read: {e}"),
                ))
            }
        };
        Source::parse(file, text)
    }

    /// Parses `text` as the contents of `file`.
    pub fn parse(file: &Path, text: String) -> Result<Source, ConfigError> {
        // The parser keeps no text on failure, so place the error against a copy.
        match ImDocument::parse(text.clone()) {
            Ok(doc) => Ok(Source {
                file: file.to_path_buf(),
                doc,
                effective: None,
                sets: Vec::new(),
            }),
            Err(e) => {
                let line = e.span().map(|span| line_at(&text, span.start));
                Err(
                    ConfigError::new(file, ConfigErrorKind::Syntax, one_line(e.message()))
                        .at_line(line),
                )
            }
        }
    }

    /// Applies `KEY=VALUE` overrides (dotted keys; VALUE as TOML if it parses, else a string).
    pub fn apply_overrides(&mut self, overrides: &[(String, String)]) -> Result<(), ConfigError> {
        if overrides.is_empty() {
            return Ok(());
        }
        let mut doc: DocumentMut = self.doc.clone().into_mut();
        for (key, raw) in overrides {
            let bad = |msg: String| {
                ConfigError::new(&self.file, ConfigErrorKind::BadOverride, msg)
                    .at_key(key.as_str())
                    .via_set(key.as_str())
            };
            let segs: Vec<&str> = key.split('.').collect();
            if let Some(seg) = segs.iter().find(|s| !is_bare_key(s)) {
                return Err(bad(format!(
                    "invalid key segment {seg:?} (use letters, digits, '_' and '-')"
                )));
            }
            let (last, parents) = match segs.split_last() {
                Some(split) => split,
                None => return Err(bad("empty key".into())),
            };
            let value = raw
                .trim()
                .parse::<Value>()
                .unwrap_or_else(|_| Value::from(raw.as_str()));
            let mut table: &mut dyn TableLike = doc.as_table_mut();
            for (i, seg) in parents.iter().enumerate() {
                let item = table.entry(seg).or_insert(toml_edit::table());
                table = match item.as_table_like_mut() {
                    Some(t) => t,
                    None => return Err(bad(format!("`{}` is not a table", segs[..=i].join(".")))),
                };
            }
            table.insert(last, Item::Value(value));
            self.sets.push(key.clone());
        }
        match ImDocument::parse(doc.to_string()) {
            Ok(effective) => self.effective = Some(effective),
            Err(e) => {
                let set = self.sets.join(", ");
                return Err(ConfigError::new(
                    &self.file,
                    ConfigErrorKind::BadOverride,
                    one_line(e.message()),
                )
                .via_set(set));
            }
        }
        Ok(())
    }

    /// Deserializes the (overridden) document into `T`, mapping errors to file, key and line.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let doc = self.effective.as_ref().unwrap_or(&self.doc);
        toml::from_str(doc.raw()).map_err(|e| {
            let kind = if e.message().starts_with("unknown field") {
                ConfigErrorKind::UnknownKey
            } else {
                ConfigErrorKind::InvalidValue
            };
            let message = plain_message(e.message());
            let Some(span) = e.span() else {
                return ConfigError::new(&self.file, kind, message);
            };
            let key = key_at(doc.as_item(), span.start);
            if self.effective.is_some() {
                self.error(&key, kind, message)
            } else {
                self.located(&key, Some(line_at(doc.raw(), span.start)), kind, message)
            }
        })
    }

    /// An error about the value of `key` (dotted, with `[i]` for array elements).
    pub fn error(
        &self,
        key: &str,
        kind: ConfigErrorKind,
        message: impl Into<String>,
    ) -> ConfigError {
        let line = self.line_of(key);
        self.located(key, line, kind, message.into())
    }

    /// The 1-based line where `key` is written in the file, if it is.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        span_of(self.doc.as_item(), key).map(|span| line_at(self.doc.raw(), span.start))
    }

    fn located(
        &self,
        key: &str,
        line: Option<usize>,
        kind: ConfigErrorKind,
        message: String,
    ) -> ConfigError {
        let err = ConfigError::new(&self.file, kind, message).at_key(key);
        match self.sets.iter().rev().find(|set| overlaps(set, key)) {
            Some(set) => err.via_set(set.as_str()),
            None => err.at_line(line),
        }
    }
}

/// True when an override of `set` touches `key`: the same key, an ancestor or a descendant.
fn overlaps(set: &str, key: &str) -> bool {
    let under = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    };
    !key.is_empty() && (under(key, set) || under(set, key))
}

fn is_bare_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// serde says `expected struct RawSip` for a table; our internal type names mean nothing to users.
fn plain_message(message: &str) -> String {
    let message = one_line(message);
    match message.find("expected struct ") {
        Some(at) => format!("{}expected a table", &message[..at]),
        None => message,
    }
}

/// Syntax errors come with a caret diagram over several lines; keep the words on one line.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// 1-based line of byte offset `pos` in `text`.
pub(crate) fn line_at(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The dotted key of the smallest key or value whose span contains `pos`.
fn key_at(root: &Item, pos: usize) -> String {
    let mut best: Option<(usize, String)> = None;
    visit_item(root, String::new(), pos, &mut best);
    best.map(|(_, key)| key).unwrap_or_default()
}

type Best = Option<(usize, String)>;

fn consider(span: Option<Range<usize>>, path: &str, pos: usize, best: &mut Best) {
    let Some(span) = span else { return };
    // `<=` keeps the deeper of two equal spans, since children are visited after parents.
    let hit = span.contains(&pos) || (span.is_empty() && span.start == pos);
    if hit && !path.is_empty() && !matches!(best, Some((len, _)) if span.len() > *len) {
        *best = Some((span.len(), path.to_string()));
    }
}

fn visit_item(item: &Item, path: String, pos: usize, best: &mut Best) {
    consider(item.span(), &path, pos, best);
    match item {
        Item::Value(value) => visit_value(value, path, pos, best),
        Item::Table(table) => visit_table(table, &path, pos, best),
        Item::ArrayOfTables(tables) => {
            for (i, table) in tables.iter().enumerate() {
                let path = format!("{path}[{i}]");
                consider(table.span(), &path, pos, best);
                visit_table(table, &path, pos, best);
            }
        }
        Item::None => {}
    }
}

fn visit_value(value: &Value, path: String, pos: usize, best: &mut Best) {
    consider(value.span(), &path, pos, best);
    match value {
        Value::Array(array) => {
            for (i, v) in array.iter().enumerate() {
                visit_value(v, format!("{path}[{i}]"), pos, best);
            }
        }
        Value::InlineTable(table) => visit_table(table, &path, pos, best),
        _ => {}
    }
}

fn visit_table(table: &dyn TableLike, path: &str, pos: usize, best: &mut Best) {
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        let path = join(path, name);
        consider(key.span(), &path, pos, best);
        visit_item(item, path, pos, best);
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// A place in a parsed document: a table entry, one table of an array of tables, or a value.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(item) => item.span(),
            Node::Table(table) => table.span(),
            Node::Value(value) => value.span(),
        }
    }

    fn table(self) -> Option<&'a dyn TableLike> {
        match self {
            Node::Item(item) => item.as_table_like(),
            Node::Table(table) => Some(table),
            Node::Value(value) => value.as_inline_table().map(|t| t as &dyn TableLike),
        }
    }

    fn element(self, i: usize) -> Option<Node<'a>> {
        match self {
            Node::Item(Item::ArrayOfTables(tables)) => tables.get(i).map(Node::Table),
            Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)) => {
                array.get(i).map(Node::Value)
            }
            _ => None,
        }
    }
}

/// The span of `key` (dotted, `[i]` for elements) in a parsed document: the key's own span for
/// a table entry, the element's for an array element.
fn span_of(root: &Item, key: &str) -> Option<Range<usize>> {
    let mut node = Node::Item(root);
    let mut span = None;
    for part in key.split('.') {
        let (name, indices) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !name.is_empty() {
            let (k, item) = node.table()?.get_key_value(name)?;
            span = k.span().or_else(|| item.span());
            node = Node::Item(item);
        }
        for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            node = node.element(index.parse().ok()?)?;
            span = node.span();
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source::parse(Path::new("t.toml"), text.to_string()).unwrap()
    }

    #[test]
    fn line_of_finds_nested_and_dotted_keys() {
        let s = source(
            "# c\n[sip]\nudp = \"x\"\n\n[sip.register]\nmin_expires = 5\n[rtp]\nports.x = 1\n",
        );
        assert_eq!(s.line_of("sip.udp"), Some(3));
        assert_eq!(s.line_of("sip.register.min_expires"), Some(6));
        assert_eq!(s.line_of("rtp.ports.x"), Some(8));
        assert_eq!(s.line_of("sip.nope"), None);
    }

    #[test]
    fn line_of_finds_array_elements_and_array_of_tables() {
        let s = source("[acl]\ntrusted = [\n  \"a\",\n  \"b\",\n]\n\n[[rule]]\nname = \"x\"\n\n[[rule]]\nname = \"y\"\nactions = [\"a\",\n \"b\"]\n");
        assert_eq!(s.line_of("acl.trusted[1]"), Some(4));
        assert_eq!(s.line_of("rule[1].name"), Some(11));
        assert_eq!(s.line_of("rule[1].actions[1]"), Some(13));
        assert_eq!(s.line_of("rule[1]"), Some(10));
    }

    #[test]
    fn key_at_maps_an_offset_to_the_innermost_key() {
        let text = "[sip]\nudp = \"x\"\n[[rule]]\nactions = [\"a\", \"b\"]\n";
        let s = source(text);
        let pos = text.find("\"b\"").unwrap();
        assert_eq!(key_at(s.doc.as_item(), pos), "rule[0].actions[1]");
        assert_eq!(
            key_at(s.doc.as_item(), text.find("\"x\"").unwrap()),
            "sip.udp"
        );
    }

    #[test]
    fn overlapping_override_keys() {
        assert!(overlaps("sip.udp", "sip.udp"));
        assert!(overlaps("sip", "sip.udp"));
        assert!(overlaps("nosuch.x", "nosuch"));
        assert!(!overlaps("sip.udp", "sip.tcp"));
        assert!(!overlaps("sip.u", "sip.udp"));
    }

    #[test]
    fn syntax_error_names_its_line() {
        let err = Source::parse(Path::new("t.toml"), "a = 1\nb = = 2\n".into())
            .err()
            .unwrap();
        assert_eq!(err.kind, ConfigErrorKind::Syntax);
        assert_eq!(err.line, Some(2));
        assert!(!err.message.contains('\n'));
    }
}
