//! `string.find`, `match`, `gmatch`, `gsub` and `rep` for the sandbox: the pattern
//! functions run on [`crate::pattern`] (stoppable), and results built in Rust are held to what
//! the state's memory limit still allows, since Rust's allocations are not counted by Lua.

use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, String as LuaString, Table, Value};

use crate::budget::Budget;
use crate::error::located;
use crate::pattern::{is_plain, search, start_offset, Capture, Matcher, PatternError};

/// Replaces the pattern functions and `rep` in `string`.
/// `limit` is the state's memory limit in bytes (0: none).
pub fn install(lua: &Lua, string: &Table, budget: &Arc<Budget>, limit: usize) -> mlua::Result<()> {
    let b = budget.clone();
    string.raw_set(
        "find",
        lua.create_function(move |lua, args: FindArgs| find(lua, &b, args, true))?,
    )?;
    let b = budget.clone();
    string.raw_set(
        "match",
        lua.create_function(move |lua, args: FindArgs| find(lua, &b, args, false))?,
    )?;
    let b = budget.clone();
    string.raw_set(
        "gmatch",
        lua.create_function(
            move |lua, (s, p, init): (LuaString, LuaString, Option<i64>)| {
                gmatch(lua, &b, s, p, init)
            },
        )?,
    )?;
    let b = budget.clone();
    string.raw_set(
        "gsub",
        lua.create_function(
            move |lua, (s, p, repl, n): (LuaString, LuaString, Value, Option<i64>)| {
                gsub(lua, &b, limit, (s, p, repl, n))
            },
        )?,
    )?;
    let rep: Function = string.raw_get("rep")?;
    string.raw_set(
        "rep",
        lua.create_function(
            move |lua, (s, n, sep): (LuaString, i64, Option<LuaString>)| {
                let each = s.as_bytes().len() as u128;
                let sep_len = sep.as_ref().map_or(0, |s| s.as_bytes().len()) as u128;
                let n128 = n.max(0) as u128;
                let total = each * n128 + sep_len * n128.saturating_sub(1);
                if total > room(lua, limit) as u128 {
                    return Err(located(
                        lua,
                        format!(
                            "string.rep: a {total}-byte string does not fit in lua.memory_limit"
                        ),
                    ));
                }
                rep.call::<LuaString>((s, n, sep))
            },
        )?,
    )?;
    string.raw_set("dump", Value::Nil)?;
    Ok(())
}

/// Bytes the state may still allocate under `limit` (everything when it is 0).
pub fn room(lua: &Lua, limit: usize) -> usize {
    match limit {
        0 => usize::MAX,
        l => l.saturating_sub(lua.used_memory()),
    }
}

type FindArgs = (LuaString, LuaString, Option<i64>, Option<bool>);

fn pattern_error(lua: &Lua, e: PatternError) -> mlua::Error {
    located(lua, e.0)
}

fn push_capture(lua: &Lua, src: &[u8], c: Capture) -> mlua::Result<Value> {
    Ok(match c {
        Capture::Text(a, b) => Value::String(lua.create_string(&src[a..b])?),
        Capture::Position(p) => Value::Integer(p as i64),
    })
}

fn find(lua: &Lua, budget: &Budget, args: FindArgs, is_find: bool) -> mlua::Result<MultiValue> {
    let (s, p, init, plain) = args;
    let src = s.as_bytes();
    let pat = p.as_bytes();
    let Some(start) = start_offset(init.unwrap_or(1), src.len()) else {
        return Ok(MultiValue::from_iter([Value::Nil]));
    };
    if is_find && (plain.unwrap_or(false) || is_plain(&pat)) {
        let found = memchr::memmem::find(&src[start..], &pat);
        return Ok(match found {
            Some(at) => MultiValue::from_iter([
                Value::Integer((start + at + 1) as i64),
                Value::Integer((start + at + pat.len()) as i64),
            ]),
            None => MultiValue::from_iter([Value::Nil]),
        });
    }
    let (anchored, body) = match pat.strip_prefix(b"^") {
        Some(rest) => (true, rest),
        None => (false, &pat[..]),
    };
    let mut check = || budget.check();
    let mut m = Matcher::new(&src, body, &mut check);
    let Some((a, e)) = search(&mut m, start, anchored).map_err(|e| pattern_error(lua, e))? else {
        return Ok(MultiValue::from_iter([Value::Nil]));
    };
    let mut out = Vec::new();
    if is_find {
        out.push(Value::Integer(a as i64 + 1));
        out.push(Value::Integer(e as i64));
        if m.capture_count() == 0 {
            return Ok(MultiValue::from_iter(out));
        }
    }
    for c in m.captures(a, e).map_err(|e| pattern_error(lua, e))? {
        out.push(push_capture(lua, &src, c)?);
    }
    Ok(MultiValue::from_iter(out))
}

fn gmatch(
    lua: &Lua,
    budget: &Arc<Budget>,
    s: LuaString,
    p: LuaString,
    init: Option<i64>,
) -> mlua::Result<Function> {
    let len = s.as_bytes().len();
    let mut pos = start_offset(init.unwrap_or(1), len).unwrap_or(len + 1);
    let mut last: Option<usize> = None;
    let budget = budget.clone();
    lua.create_function_mut(move |lua, ()| {
        let src = s.as_bytes();
        let pat = p.as_bytes();
        let mut check = || budget.check();
        let mut m = Matcher::new(&src, &pat, &mut check);
        while pos <= src.len() {
            let at = pos;
            match m.match_at(at).map_err(|e| pattern_error(lua, e))? {
                Some(e) if Some(e) != last => {
                    pos = e;
                    last = Some(e);
                    let caps = m.captures(at, e).map_err(|e| pattern_error(lua, e))?;
                    let vals = caps
                        .into_iter()
                        .map(|c| push_capture(lua, &src, c))
                        .collect::<mlua::Result<Vec<_>>>()?;
                    return Ok(MultiValue::from_iter(vals));
                }
                _ => pos += 1,
            }
        }
        Ok(MultiValue::from_iter([Value::Nil]))
    })
}

type GsubArgs = (LuaString, LuaString, Value, Option<i64>);

fn gsub(
    lua: &Lua,
    budget: &Budget,
    limit: usize,
    (s, p, repl, max): GsubArgs,
) -> mlua::Result<(LuaString, i64)> {
    let _nested = crate::budget::enter()?;
    match &repl {
        Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Table(_) => {}
        Value::Function(_) => {}
        other => {
            return Err(located(
                lua,
                format!(
                    "bad argument #3 to 'gsub' (string/function/table expected, got {})",
                    other.type_name()
                ),
            ))
        }
    }
    let repl_text: Option<Vec<u8>> = match &repl {
        Value::String(r) => Some(r.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(n.to_string().into_bytes()),
        _ => None,
    };
    let src = s.as_bytes();
    let pat = p.as_bytes();
    let (anchored, body) = match pat.strip_prefix(b"^") {
        Some(rest) => (true, rest),
        None => (false, &pat[..]),
    };
    let max = max.unwrap_or(src.len() as i64 + 1);
    let cap = room(lua, limit);
    let mut check = || budget.check();
    let mut m = Matcher::new(&src, body, &mut check);
    let mut out: Vec<u8> = Vec::with_capacity(src.len().min(cap));
    let (mut at, mut last, mut count) = (0usize, None, 0i64);
    while count < max {
        match m.match_at(at).map_err(|e| pattern_error(lua, e))? {
            Some(e) if Some(e) != last => {
                count += 1;
                let whole = &src[at..e];
                match &repl_text {
                    Some(r) => expand(lua, &m, &src, at, e, r, &mut out)?,
                    None => {
                        let value = match &repl {
                            Value::Table(t) => {
                                let key = push_capture(
                                    lua,
                                    &src,
                                    m.first_capture(at, e).map_err(|e| pattern_error(lua, e))?,
                                )?;
                                t.get::<Value>(key)?
                            }
                            Value::Function(f) => {
                                let caps = m.captures(at, e).map_err(|e| pattern_error(lua, e))?;
                                let args = caps
                                    .into_iter()
                                    .map(|c| push_capture(lua, &src, c))
                                    .collect::<mlua::Result<Vec<_>>>()?;
                                f.call::<Value>(MultiValue::from_iter(args))?
                            }
                            _ => Value::Nil,
                        };
                        match value {
                            Value::Nil | Value::Boolean(false) => out.extend_from_slice(whole),
                            Value::String(v) => out.extend_from_slice(&v.as_bytes()),
                            Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
                            Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
                            other => {
                                return Err(located(
                                    lua,
                                    format!("invalid replacement value (a {})", other.type_name()),
                                ))
                            }
                        }
                    }
                }
                at = e;
                last = Some(e);
            }
            _ if at < src.len() => {
                out.push(src[at]);
                at += 1;
            }
            _ => break,
        }
        if out.len() > cap {
            return Err(located(
                lua,
                "string.gsub: the result does not fit in lua.memory_limit",
            ));
        }
        if anchored {
            break;
        }
    }
    if at < src.len() {
        out.extend_from_slice(&src[at..]);
    }
    Ok((lua.create_string(&out)?, count))
}

/// A replacement string with `%0`-`%9` and `%%`.
fn expand(
    lua: &Lua,
    m: &Matcher,
    src: &[u8],
    start: usize,
    end: usize,
    repl: &[u8],
    out: &mut Vec<u8>,
) -> mlua::Result<()> {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let Some(&d) = repl.get(i) else {
            return Err(located(lua, "invalid use of '%' in replacement string"));
        };
        i += 1;
        match d {
            b'%' => out.push(b'%'),
            b'0' => out.extend_from_slice(&src[start..end]),
            b'1'..=b'9' => {
                let n = usize::from(d - b'1');
                let caps = m.captures(start, end).map_err(|e| pattern_error(lua, e))?;
                let c = if m.capture_count() == 0 && n == 0 {
                    Capture::Text(start, end)
                } else {
                    match caps.get(n) {
                        Some(c) if n < m.capture_count() => *c,
                        _ => {
                            return Err(located(
                                lua,
                                format!("invalid capture index %{} in replacement string", n + 1),
                            ))
                        }
                    }
                };
                match c {
                    Capture::Text(a, b) => out.extend_from_slice(&src[a..b]),
                    Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
                }
            }
            _ => return Err(located(lua, "invalid use of '%' in replacement string")),
        }
    }
    Ok(())
}
