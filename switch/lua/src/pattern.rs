//! Lua 5.4 patterns (manual §6.4.1) matched in Rust, so that a script's `string.find`,
//! `match`, `gmatch` and `gsub` can be stopped: Lua's own matcher is C code the instruction
//! hook never interrupts, and a pattern such as `(.-)(.-)(.-)x` over a long subject runs for
//! hours. Every step here is counted and the budget is asked every few thousand steps.
//!
//! Semantics follow the reference implementation: single-byte classes in the C locale,
//! `%a %c %d %g %l %p %s %u %w %x` and their upper-case complements, sets with ranges,
//! `* + - ?`, anchors, captures (`()` for positions), back-references `%1`-`%9`, `%b` and
//! `%f`; at most 32 captures and 200 levels of nesting.

/// Most captures a pattern may have (`LUA_MAXCAPTURES`).
pub const MAX_CAPTURES: usize = 32;
/// How deep matching may recurse (`MAXCCALLS` in lstrlib).
const MAX_DEPTH: usize = 200;
/// Steps between two budget checks.
const CHECK_EVERY: u64 = 4096;
/// The characters that make a pattern more than a plain string.
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// What a capture holds once matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Bytes `start..end` of the subject.
    Text(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

#[derive(Clone, Copy)]
enum Slot {
    Open(usize),
    Position(usize),
    Closed(usize, usize),
}

/// Why matching stopped without an answer: a malformed pattern, or the budget said stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

/// One pattern over one subject, with a budget check called every few thousand steps.
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    slots: Vec<Slot>,
    depth: usize,
    steps: u64,
    check: &'a mut dyn FnMut() -> Result<(), String>,
}

type Step = Result<Option<usize>, PatternError>;

impl<'a> Matcher<'a> {
    /// A matcher of `pat` (without its `^` anchor) over `src`; `check` returns `Err(reason)`
    /// to stop.
    pub fn new(
        src: &'a [u8],
        pat: &'a [u8],
        check: &'a mut dyn FnMut() -> Result<(), String>,
    ) -> Matcher<'a> {
        Matcher {
            src,
            pat,
            slots: Vec::new(),
            depth: 0,
            steps: 0,
            check,
        }
    }

    /// Tries the pattern at byte `at`; the end of the match if it matches there.
    pub fn match_at(&mut self, at: usize) -> Step {
        self.slots.clear();
        self.depth = 0;
        self.do_match(at, 0)
    }

    /// The captures of the last successful match `start..end` (the whole match when the
    /// pattern has none).
    pub fn captures(&self, start: usize, end: usize) -> Result<Vec<Capture>, PatternError> {
        if self.slots.is_empty() {
            return Ok(vec![Capture::Text(start, end)]);
        }
        self.slots
            .iter()
            .map(|s| match *s {
                Slot::Closed(a, b) => Ok(Capture::Text(a, b)),
                Slot::Position(p) => Ok(Capture::Position(p + 1)),
                Slot::Open(_) => Err(err("unfinished capture")),
            })
            .collect()
    }

    /// The first capture (or the whole match), as `gsub` uses for a table or function.
    pub fn first_capture(&self, start: usize, end: usize) -> Result<Capture, PatternError> {
        self.captures(start, end).map(|c| c[0])
    }

    /// How many captures the last match had.
    pub fn capture_count(&self) -> usize {
        self.slots.len()
    }

    fn tick(&mut self) -> Result<(), PatternError> {
        self.steps += 1;
        if self.steps.is_multiple_of(CHECK_EVERY) {
            (self.check)().map_err(PatternError)?;
        }
        Ok(())
    }

    fn do_match(&mut self, mut s: usize, mut p: usize) -> Step {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("pattern too complex"));
        }
        let result = loop {
            self.tick()?;
            if p == self.pat.len() {
                break Some(s);
            }
            match self.pat[p] {
                b'(' => {
                    break if self.pat.get(p + 1) == Some(&b')') {
                        self.start_capture(s, p + 2, true)?
                    } else {
                        self.start_capture(s, p + 1, false)?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == self.pat.len() => {
                    break (s == self.src.len()).then_some(s);
                }
                b'%' if self.pat.get(p + 1) == Some(&b'b') => match self.match_balance(s, p + 2)? {
                    Some(e) => {
                        s = e;
                        p += 4;
                        continue;
                    }
                    None => break None,
                },
                b'%' if self.pat.get(p + 1) == Some(&b'f') => {
                    p += 2;
                    if self.pat.get(p) != Some(&b'[') {
                        return Err(err("missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { self.src[s - 1] };
                    let cur = self.src.get(s).copied().unwrap_or(0);
                    if !self.match_class_set(prev, p, ep - 1)
                        && self.match_class_set(cur, p, ep - 1)
                    {
                        p = ep;
                        continue;
                    }
                    break None;
                }
                b'%' if self.pat.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                    match self.match_capture(s, self.pat[p + 1])? {
                        Some(e) => {
                            s = e;
                            p += 2;
                            continue;
                        }
                        None => break None,
                    }
                }
                _ => {
                    let ep = self.class_end(p)?;
                    let matches = s < self.src.len() && self.single_match(self.src[s], p, ep);
                    match self.pat.get(ep) {
                        Some(b'?') => {
                            if matches {
                                if let Some(e) = self.do_match(s + 1, ep + 1)? {
                                    break Some(e);
                                }
                            }
                            p = ep + 1;
                            continue;
                        }
                        Some(b'+') => {
                            break if matches {
                                self.max_expand(s + 1, p, ep)?
                            } else {
                                None
                            };
                        }
                        Some(b'*') => break self.max_expand(s, p, ep)?,
                        Some(b'-') => break self.min_expand(s, p, ep)?,
                        _ => {
                            if !matches {
                                break None;
                            }
                            s += 1;
                            p = ep;
                            continue;
                        }
                    }
                }
            }
        };
        self.depth -= 1;
        Ok(result)
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Step {
        let mut i = 0;
        while s + i < self.src.len() && self.single_match(self.src[s + i], p, ep) {
            self.tick()?;
            i += 1;
        }
        loop {
            if let Some(e) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(e));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Step {
        loop {
            if let Some(e) = self.do_match(s, ep + 1)? {
                return Ok(Some(e));
            }
            if s < self.src.len() && self.single_match(self.src[s], p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, position: bool) -> Step {
        if self.slots.len() >= MAX_CAPTURES {
            return Err(err("too many captures"));
        }
        self.slots.push(if position {
            Slot::Position(s)
        } else {
            Slot::Open(s)
        });
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.slots.pop();
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Step {
        let Some(l) = self.slots.iter().rposition(|c| matches!(c, Slot::Open(_))) else {
            return Err(err("invalid pattern capture"));
        };
        let Slot::Open(start) = self.slots[l] else {
            return Err(err("invalid pattern capture"));
        };
        self.slots[l] = Slot::Closed(start, s);
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.slots[l] = Slot::Open(start);
        }
        Ok(r)
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Step {
        let (Some(&open), Some(&close)) = (self.pat.get(p), self.pat.get(p + 1)) else {
            return Err(err("malformed pattern (missing arguments to '%b')"));
        };
        if self.src.get(s) != Some(&open) {
            return Ok(None);
        }
        let mut depth = 1;
        let mut i = s + 1;
        while i < self.src.len() {
            self.tick()?;
            let c = self.src[i];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                depth += 1;
            }
            i += 1;
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> Step {
        let l = usize::from(digit - b'0');
        let (a, b) = match l.checked_sub(1).and_then(|i| self.slots.get(i)) {
            Some(Slot::Closed(a, b)) => (*a, *b),
            // A position has no text to repeat: nothing matches it (as in lstrlib).
            Some(Slot::Position(_)) => return Ok(None),
            _ => return Err(PatternError(format!("invalid capture index %{l}"))),
        };
        let len = b - a;
        if self.src.len() - s >= len && self.src[a..b] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    /// The index just past the single-character class starting at `p`.
    fn class_end(&self, mut p: usize) -> Result<usize, PatternError> {
        let c = self.pat[p];
        p += 1;
        if c == b'%' {
            if p >= self.pat.len() {
                return Err(err("malformed pattern (ends with '%')"));
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.pat.get(p) == Some(&b'^') {
                p += 1;
            }
            // Look for the closing ']' (a ']' right after '[' or '[^' is a member).
            loop {
                if p >= self.pat.len() {
                    return Err(err("malformed pattern (missing ']')"));
                }
                let cc = self.pat[p];
                p += 1;
                if cc == b'%' {
                    if p >= self.pat.len() {
                        return Err(err("malformed pattern (missing ']')"));
                    }
                    p += 1;
                }
                if self.pat.get(p) == Some(&b']') {
                    return Ok(p + 1);
                }
            }
        }
        Ok(p)
    }

    fn single_match(&self, c: u8, p: usize, ep: usize) -> bool {
        match self.pat[p] {
            b'.' => true,
            b'%' => match_class(c, self.pat[p + 1]),
            b'[' => self.match_class_set(c, p, ep - 1),
            pc => pc == c,
        }
    }

    /// Whether `c` is in the set `[...]` spanning `p` (the '[') to `ec` (the ']').
    fn match_class_set(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut negate = false;
        p += 1;
        if self.pat.get(p) == Some(&b'^') {
            negate = true;
            p += 1;
        }
        while p < ec {
            let pc = self.pat[p];
            if pc == b'%' {
                p += 1;
                if p < ec && match_class(c, self.pat[p]) {
                    return !negate;
                }
                p += 1;
            } else if self.pat.get(p + 1) == Some(&b'-') && p + 2 < ec {
                if pc <= c && c <= self.pat[p + 2] {
                    return !negate;
                }
                p += 3;
            } else {
                if pc == c {
                    return !negate;
                }
                p += 1;
            }
        }
        negate
    }
}

fn err(msg: &str) -> PatternError {
    PatternError(msg.to_string())
}

/// `%x` for class letter `cl` (upper case complements; any other byte matches itself).
fn match_class(c: u8, cl: u8) -> bool {
    let res = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() {
        !res
    } else {
        res
    }
}

/// Whether `pat` has no pattern specials (a plain substring search will do).
pub fn is_plain(pat: &[u8]) -> bool {
    !pat.iter().any(|c| SPECIALS.contains(c))
}

/// `string.find`'s and `string.match`'s `init` (1-based, negative from the end) as a byte
/// offset; `None` when it lies past the end (no match possible).
pub fn start_offset(init: i64, len: usize) -> Option<usize> {
    let len_i = len as i64;
    let pos = if init > 0 {
        init
    } else if init == 0 || init < -len_i {
        1
    } else {
        len_i + init + 1
    };
    (pos <= len_i + 1).then(|| (pos - 1) as usize)
}

/// Finds the first match at or after `from`: `(start, end)` of the match; the matcher then
/// holds its captures.
pub fn search(
    m: &mut Matcher,
    from: usize,
    anchored: bool,
) -> Result<Option<(usize, usize)>, PatternError> {
    let mut s = from;
    loop {
        if let Some(e) = m.match_at(s)? {
            return Ok(Some((s, e)));
        }
        s += 1;
        if anchored || s > m.src.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str, p: &str) -> Option<(usize, usize, Vec<Capture>)> {
        let mut ok = || Ok(());
        let (anchored, p) = match p.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let mut m = Matcher::new(s.as_bytes(), p.as_bytes(), &mut ok);
        let (a, b) = search(&mut m, 0, anchored).unwrap()?;
        let caps = m.captures(a, b).unwrap();
        Some((a + 1, b, caps))
    }

    fn text(s: &str, c: &Capture) -> String {
        match *c {
            Capture::Text(a, b) => s[a..b].to_string(),
            Capture::Position(p) => format!("@{p}"),
        }
    }

    fn caps(s: &str, p: &str) -> Vec<String> {
        find(s, p)
            .map(|(_, _, c)| c.iter().map(|c| text(s, c)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn like_lua_find_and_match() {
        assert_eq!(find("hello world", "o w").map(|f| (f.0, f.1)), Some((5, 7)));
        assert_eq!(find("hello", "l+").map(|f| (f.0, f.1)), Some((3, 4)));
        assert_eq!(caps("key = value", "(%w+)%s*=%s*(%w+)"), ["key", "value"]);
        assert_eq!(caps("  trim  ", "^%s*(.-)%s*$"), ["trim"]);
        assert_eq!(
            caps("2024-11-22", "(%d+)-(%d+)-(%d+)"),
            ["2024", "11", "22"]
        );
        assert_eq!(caps("abc", "()b()"), ["@2", "@3"]);
        assert_eq!(caps("f(a(b)c) x", "%b()"), ["(a(b)c)"]);
        assert_eq!(caps("THE (quick) fox", "%f[%a]%a+"), ["THE"]);
        assert_eq!(caps("hello hello", "(h%a+) %1"), ["hello"]);
        assert_eq!(caps("[x]", "[%[](.)[%]]"), ["x"]);
        assert_eq!(caps("a]b", "[]]"), ["]"]);
        assert_eq!(caps("x-y", "[a-z]%-[a-z]"), ["x-y"]);
        assert_eq!(caps("5000", "^50%d%d$"), ["5000"]);
        assert!(find("5000x", "^50%d%d$").is_none());
        assert_eq!(caps("abc", "[^a]+"), ["bc"]);
        assert_eq!(caps("aaab", "a-b"), ["aaab"]);
        assert_eq!(caps("colour", "colou?r"), ["colour"]);
        assert_eq!(caps("", ".*"), [""]);
    }

    #[test]
    fn malformed_patterns_say_why() {
        let mut ok = || Ok(());
        for (p, msg) in [
            ("%", "malformed pattern (ends with '%')"),
            ("[a", "malformed pattern (missing ']')"),
            ("(a", "unfinished capture"),
            ("a)", "invalid pattern capture"),
            ("%1", "invalid capture index %1"),
            ("%f", "missing '[' after '%f' in pattern"),
            ("%b", "malformed pattern (missing arguments to '%b')"),
        ] {
            let mut m = Matcher::new(b"aaa", p.as_bytes(), &mut ok);
            let r = search(&mut m, 0, false).and_then(|r| match r {
                Some((a, b)) => m.captures(a, b).map(|_| ()),
                None => Ok(()),
            });
            assert_eq!(r, Err(PatternError(msg.into())), "{p}");
        }
    }

    #[test]
    fn a_slow_pattern_is_stopped_by_the_budget() {
        let subject = "a".repeat(20_000);
        let mut calls = 0;
        let mut check = || {
            calls += 1;
            if calls > 10 {
                Err("budget".to_string())
            } else {
                Ok(())
            }
        };
        let mut m = Matcher::new(subject.as_bytes(), b"(.-)(.-)(.-)x", &mut check);
        assert_eq!(search(&mut m, 0, false), Err(PatternError("budget".into())));
    }

    #[test]
    fn offsets_like_lua() {
        assert_eq!(start_offset(1, 5), Some(0));
        assert_eq!(start_offset(-2, 5), Some(3));
        assert_eq!(start_offset(-10, 5), Some(0));
        assert_eq!(start_offset(6, 5), Some(5));
        assert_eq!(start_offset(7, 5), None);
        assert!(is_plain(b"hello"));
        assert!(!is_plain(b"a.b"));
    }
}
