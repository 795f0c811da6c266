//! From byte offsets in the TOML text to lines and dotted keys, and back: how config errors
//! name their key and line. Typed parsing goes through `toml` (whose errors carry a span but
//! no key); the same text parsed by `toml_edit` keeps the spans of every key and value.

use std::ops::Range;

use toml_edit::{ImDocument, Item, TableLike};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Prints a path as `queues.sales.strategy` / `tiers[2].agent`.
pub(crate) fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The 1-based line of byte offset `pos`.
pub(crate) fn line_at(text: &str, pos: usize) -> usize {
    text.get(..pos.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// The span of the value at `path` (or of the deepest part of it that exists).
pub(crate) fn span_of(doc: &ImDocument<String>, path: &[Seg]) -> Option<Range<usize>> {
    let mut item: Option<&Item> = None;
    let mut table: Option<&dyn TableLike> = Some(doc.as_table());
    let mut best = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let (key, it) = table?.get_key_value(k)?;
                best = it.span().or_else(|| key.span()).or(best);
                item = Some(it);
                table = it.as_table_like();
            }
            Seg::Index(i) => {
                let it = item?;
                if let Some(aot) = it.as_array_of_tables() {
                    let t = aot.get(*i)?;
                    best = t.span().or(best);
                    table = Some(t);
                } else {
                    let v = it.as_array()?.get(*i)?;
                    best = v.span().or(best);
                    table = v.as_inline_table().map(|t| t as &dyn TableLike);
                }
            }
        }
    }
    best
}

/// The dotted key whose key or value holds byte offset `pos` (the deepest one).
pub(crate) fn key_at(doc: &ImDocument<String>, pos: usize) -> Vec<Seg> {
    let mut path = Vec::new();
    walk_table(doc.as_table(), pos, &mut path);
    path
}

fn contains(span: Option<Range<usize>>, pos: usize) -> bool {
    span.is_some_and(|r| r.start <= pos && pos < r.end.max(r.start + 1))
}

fn walk_table(t: &dyn TableLike, pos: usize, path: &mut Vec<Seg>) -> bool {
    for (k, item) in t.iter() {
        let key_span = t.get_key_value(k).and_then(|(key, _)| key.span());
        path.push(Seg::Key(k.to_string()));
        if walk_item(item, pos, path) || contains(key_span, pos) {
            return true;
        }
        path.pop();
    }
    false
}

fn walk_item(item: &Item, pos: usize, path: &mut Vec<Seg>) -> bool {
    if let Some(aot) = item.as_array_of_tables() {
        for (i, t) in aot.iter().enumerate() {
            path.push(Seg::Index(i));
            if walk_table(t, pos, path) || contains(t.span(), pos) {
                return true;
            }
            path.pop();
        }
        return false;
    }
    if let Some(t) = item.as_table_like() {
        if walk_table(t, pos, path) {
            return true;
        }
        return contains(item.span(), pos);
    }
    if let Some(a) = item.as_array() {
        for (i, v) in a.iter().enumerate() {
            path.push(Seg::Index(i));
            if let Some(t) = v.as_inline_table() {
                if walk_table(t, pos, path) {
                    return true;
                }
            }
            if contains(v.span(), pos) {
                return true;
            }
            path.pop();
        }
        return contains(item.span(), pos);
    }
    contains(item.span(), pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_lines() {
        let text = "[queues.sales]\nstrategy = \"x\"\n\n[[tiers]]\nqueue = \"a\"\n[[tiers]]\nagent = \"b\"\n";
        let doc = ImDocument::parse(text.to_string()).unwrap();
        let pos = text.find("\"x\"").unwrap();
        assert_eq!(dotted(&key_at(&doc, pos)), "queues.sales.strategy");
        assert_eq!(line_at(text, pos), 2);
        let pos = text.find("\"b\"").unwrap();
        assert_eq!(dotted(&key_at(&doc, pos)), "tiers[1].agent");
        let path = [
            Seg::Key("tiers".into()),
            Seg::Index(1),
            Seg::Key("agent".into()),
        ];
        let span = span_of(&doc, &path).unwrap();
        assert_eq!(line_at(text, span.start), 7);
    }
}
