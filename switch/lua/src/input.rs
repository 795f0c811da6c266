//! The session's media methods: `streamFile` (with the input callback steering playback),
//! `sleep`, `getDigits`, `read`, `playAndGetDigits`, `collectDigits`, `recordFile`.
//!
//! Digits pressed during a playback reach the script as events; with no input callback they
//! are kept (as FreeSWITCH queues them) and the next read takes them first.

use std::time::{Duration, Instant};

use mlua::{AnyUserData, Lua, UserDataMethods, Value};
use switch_core::media::{PlayControl, PlayEnd};
use switch_core::script::{PlayEvent, Playback, SessionHandle};

use crate::error::located;
use crate::error::location;
use crate::run::{run_of, Run};
use crate::session::{status, this, LuaSession};

/// Every key a prompt stops on when a read is waiting for input.
const ANY_KEY: &str = "0123456789*#ABCD";

/// Registers the media methods on `session`.
pub(crate) fn add_methods<M: UserDataMethods<LuaSession>>(m: &mut M) {
    m.add_function(
        "streamFile",
        |lua, (ud, file, _start): (AnyUserData, String, Option<i64>)| {
            stream_file(lua, &ud, &file).map(|r| status(r == Played::ToEnd))
        },
    );
    m.add_function("speak", |lua, (ud, text): (AnyUserData, Option<String>)| {
        speak(lua, &ud, &text.unwrap_or_default())
    });
    m.add_function(
        "sleep",
        |lua, (ud, ms, _sync): (AnyUserData, i64, Option<i64>)| sleep(lua, &ud, ms),
    );
    m.add_function(
        "getDigits",
        |lua,
         (ud, max, terms, timeout, inter, _abs): (
            AnyUserData,
            i64,
            Option<String>,
            i64,
            Option<i64>,
            Option<i64>,
        )| {
            let t = ms(timeout);
            let inter = inter.filter(|i| *i > 0).map(ms).unwrap_or(t);
            let terms = terms.unwrap_or_default();
            let got = collect(lua, &ud, max, &terms, t, inter)?;
            Ok(got.digits)
        },
    );
    m.add_function(
        "read",
        |lua,
         (ud, min, max, file, timeout, terms, digit_timeout): (
            AnyUserData,
            i64,
            i64,
            Option<String>,
            i64,
            Option<String>,
            Option<i64>,
        )| {
            let timeout = timeout.max(1);
            let digit_timeout = digit_timeout.filter(|d| *d > 0).unwrap_or(timeout);
            let r = read(
                lua,
                &ud,
                &ReadSpec {
                    min: min.max(1) as usize,
                    max: max.max(1) as usize,
                    prompt: file.unwrap_or_default(),
                    timeout: ms(timeout),
                    digit_timeout: ms(digit_timeout),
                    terminators: terms.unwrap_or_default(),
                },
            )?;
            Ok(r.digits)
        },
    );
    m.add_function("playAndGetDigits", |lua, args: mlua::MultiValue| {
        play_and_get_digits(lua, args)
    });
    m.add_function(
        "collectDigits",
        |lua, (ud, a, b): (AnyUserData, i64, Option<i64>)| {
            // collectDigits(abs_timeout) or collectDigits(digit_timeout, abs_timeout).
            let total = b.unwrap_or(a);
            collect_with_callback(lua, &ud, ms(total))?;
            Ok(0)
        },
    );
    m.add_function(
        "recordFile",
        |lua,
         (ud, file, limit, threshold, hits): (
            AnyUserData,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        )| {
            record_file(
                lua,
                &ud,
                &file,
                limit.unwrap_or(0),
                threshold.unwrap_or(0),
                hits.unwrap_or(0),
            )
        },
    );
}

fn ms(v: i64) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

/// How a playback ended, for `streamFile`'s return value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Played {
    ToEnd,
    /// Stopped (the callback said so, or a digit did).
    Broken,
    /// Nothing played: no call, or nothing to play.
    Nothing,
}

/// `session:speak(text)`: the engine and voice of `set_tts_params`, else of the channel
/// variables `tts_engine` / `tts_voice`, speak it as a `tts://` playback (input callback and
/// all); a missing engine is an error naming what is loaded.
fn speak(lua: &Lua, ud: &AnyUserData, text: &str) -> mlua::Result<i64> {
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(0);
    };
    let chosen = run_of(lua)?.tts.borrow().clone();
    let (engine, voice) = chosen
        .filter(|(e, _)| !e.trim().is_empty())
        .or_else(|| {
            h.get_variable("tts_engine")
                .map(|e| (e, h.get_variable("tts_voice").unwrap_or_default()))
        })
        .ok_or_else(|| {
            located(
                lua,
                "session:speak: no TTS engine set: call session:set_tts_params(engine, voice) or set tts_engine",
            )
        })?;
    // '!' separates a playlist's items.
    let url = format!(
        "tts://{}|{}|{}",
        engine.trim(),
        voice.trim(),
        text.replace('!', ".")
    );
    h.set_variable("playback_status", None);
    match stream_file(lua, ud, &url)? {
        Played::Nothing if h.ready() => {
            let why = h
                .get_variable("playback_status")
                .map(|s| s.trim_start_matches("FILE NOT FOUND: ").to_string())
                .unwrap_or_else(|| "nothing was spoken".into());
            Err(located(lua, format!("session:speak: {why}")))
        }
        played => Ok(status(played == Played::ToEnd)),
    }
}

/// Plays `file`; digits go to the input callback, whose answer steers the playback, or are
/// kept for the next read.
pub(crate) fn stream_file(lua: &Lua, ud: &AnyUserData, file: &str) -> mlua::Result<Played> {
    let _nested = crate::budget::enter()?;
    let run = run_of(lua)?;
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(Played::Nothing);
    };
    let playback = match run.wait(|| h.play(file, "")) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(uuid = %h.uuid(), "{}streamFile({file:?}): {e}", location(lua));
            return Ok(Played::Nothing);
        }
    };
    if playback.id() == 0 {
        tracing::warn!(uuid = %h.uuid(), "{}streamFile({file:?}): nothing to play (file not found?)", location(lua));
    }
    let mut broken = false;
    let end = loop {
        match run.wait(|| playback.next_event()) {
            PlayEvent::Digit { digit, duration_ms } => {
                let obj = lua.create_table()?;
                obj.raw_set("digit", digit.to_string())?;
                obj.raw_set("duration", duration_ms)?;
                match call_input(lua, ud, "dtmf", Value::Table(obj))? {
                    Some(answer) => {
                        if !steer(lua, &playback, answer.as_deref()) {
                            broken = true;
                            playback.stop();
                        }
                    }
                    None => run.pending.borrow_mut().push(digit),
                }
            }
            PlayEvent::Event(event) => {
                // FreeSWITCH: callback(session, "event", event, arg); no callback, no event.
                let obj = lua.create_userdata(crate::event::received(*event))?;
                if let Some(answer) = call_input(lua, ud, "event", Value::UserData(obj))? {
                    if !steer(lua, &playback, answer.as_deref()) {
                        broken = true;
                        playback.stop();
                    }
                }
            }
            PlayEvent::Done { end, .. } => break end,
        }
    };
    run.after_wait(lua, ud)?;
    Ok(match end {
        _ if playback.id() == 0 => Played::Nothing,
        PlayEnd::Finished if !broken => Played::ToEnd,
        _ => Played::Broken,
    })
}

/// Calls the input callback with `(session, kind, obj, arg)`: `None` when there is no
/// callback, else its answer (`SCRIPT_ERROR` when it failed and the script goes on).
fn call_input(
    lua: &Lua,
    ud: &AnyUserData,
    kind: &str,
    obj: Value,
) -> mlua::Result<Option<Option<String>>> {
    let run = run_of(lua)?;
    let Some((f, arg)) = run.input_callback(lua) else {
        return Ok(None);
    };
    // A callback naming a function that does not exist (yet) answers nothing.
    let Some(f) = f? else {
        return Ok(Some(None));
    };
    Ok(Some(match f.call::<Value>((ud.clone(), kind, obj, arg?)) {
        Ok(v) => callback_text(&v),
        Err(e) => {
            run.callback_failed("input callback", e)?;
            Some("SCRIPT_ERROR".to_string())
        }
    }))
}

/// What a callback returned, as FreeSWITCH reads it (`lua_tostring`: strings and numbers).
fn callback_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Applies an input callback's answer to the playback (FreeSWITCH's `switch_ivr_process_fh`);
/// false when the playback is to stop. Nothing, `"true"` and the commands go on; `"stop"`,
/// `"break"` and any other text stop it.
fn steer(lua: &Lua, playback: &Playback, answer: Option<&str>) -> bool {
    let Some(cmd) = answer.map(str::trim).filter(|c| !c.is_empty()) else {
        return true;
    };
    let lower = cmd.to_ascii_lowercase();
    let arg = cmd.split_once(':').map(|(_, a)| a.trim());
    // FreeSWITCH: "+N"/"-N" are steps (0 means the default step), a bare N is absolute.
    let step = |a: &str, default: i64| -> Option<i64> {
        let rel = a.starts_with(['+', '-']);
        rel.then(|| match a.parse::<i64>().unwrap_or(0) {
            0 => {
                if a.starts_with('-') {
                    -default
                } else {
                    default
                }
            }
            n => n,
        })
    };
    if lower.starts_with("seek") {
        match arg.and_then(|a| step(a, 1000)) {
            Some(ms) => playback.control(PlayControl::Seek(ms)),
            None => tracing::info!("{}input callback {cmd:?}: absolute seeks are not supported (use seek:+N / seek:-N)", location(lua)),
        }
        true
    } else if lower.starts_with("volume") {
        match arg.and_then(|a| step(a, 1)) {
            Some(n) => playback.control(PlayControl::Volume(n as i32)),
            None => tracing::info!("{}input callback {cmd:?}: absolute volumes are not supported (use volume:+N / volume:-N)", location(lua)),
        }
        true
    } else if lower.starts_with("speed") {
        match arg {
            Some(a) if a.trim_start_matches(['+', '-']).parse::<i64>() == Ok(0) && !a.starts_with(['+', '-']) => {
                playback.control(PlayControl::SpeedReset)
            }
            Some(a) => match step(a, 1) {
                Some(n) => playback.control(PlayControl::Speed(n as i32)),
                None => tracing::info!("{}input callback {cmd:?}: absolute speeds are not supported (use speed:+N / speed:-N, speed:0 resets)", location(lua)),
            },
            None => {}
        }
        true
    } else {
        match lower.as_str() {
            "pause" => {
                playback.control(PlayControl::TogglePause);
                true
            }
            "restart" => {
                playback.control(PlayControl::Seek(-86_400_000));
                true
            }
            "truncate" | "true" | "undefined" => true,
            _ => false,
        }
    }
}

/// `session:sleep(ms)`: with an input callback, digits during the sleep go to it and
/// `"break"` ends the sleep early.
fn sleep(lua: &Lua, ud: &AnyUserData, ms_: i64) -> mlua::Result<i64> {
    let run = run_of(lua)?;
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(0);
    };
    let d = ms(ms_);
    let ok = if run.input.borrow().is_some() {
        collect_with_callback(lua, ud, d)?
    } else {
        run.wait(|| h.sleep(d)).is_ok()
    };
    run.after_wait(lua, ud)?;
    Ok(status(ok && h.ready()))
}

/// Waits up to `total`, handing each digit to the input callback until it says stop.
/// True when the whole time passed.
fn collect_with_callback(lua: &Lua, ud: &AnyUserData, total: Duration) -> mlua::Result<bool> {
    let _nested = crate::budget::enter()?;
    let run = run_of(lua)?;
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(false);
    };
    let until = Instant::now() + total;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let digit = match run.pending.borrow_mut().pop_front_char() {
            Some(d) => Some(d),
            None if left.is_zero() => return Ok(true),
            None => match run.wait(|| h.collect_digits(1, "", left, left)) {
                Ok(d) => d.digits.chars().next(),
                Err(_) => return Ok(false),
            },
        };
        let Some(digit) = digit else { continue };
        let Some((f, arg)) = run.input_callback(lua) else {
            run.pending.borrow_mut().push(digit);
            continue;
        };
        let Some(f) = f? else { continue };
        let obj = lua.create_table()?;
        obj.raw_set("digit", digit.to_string())?;
        obj.raw_set("duration", 100)?;
        let answer = match f.call::<Value>((ud.clone(), "dtmf", obj, arg?)) {
            Ok(v) => callback_text(&v),
            Err(e) => {
                run.callback_failed("input callback", e)?;
                None
            }
        };
        if answer.is_some_and(|a| !a.trim().is_empty() && a != "true" && a != "undefined") {
            return Ok(false);
        }
        run.after_wait(lua, ud)?;
    }
}

trait PopFront {
    fn pop_front_char(&mut self) -> Option<char>;
}

impl PopFront for String {
    fn pop_front_char(&mut self) -> Option<char> {
        let c = self.chars().next()?;
        self.drain(..c.len_utf8());
        Some(c)
    }
}

/// Digits read by [`collect`] and [`read`].
pub(crate) struct Got {
    pub digits: String,
    pub terminator: Option<char>,
}

/// Up to `max` digits: first the kept ones, then from the call, ending on a terminator,
/// after `first` with none or `inter` between two.
pub(crate) fn collect(
    lua: &Lua,
    ud: &AnyUserData,
    max: i64,
    terms: &str,
    first: Duration,
    inter: Duration,
) -> mlua::Result<Got> {
    let run = run_of(lua)?;
    let max = max.max(1) as usize;
    let mut got = Got {
        digits: String::new(),
        terminator: None,
    };
    take_pending(&run, &mut got, max, terms);
    let handle = this(ud)?.up().cloned();
    if let Some(h) = handle {
        if got.terminator.is_none() && got.digits.len() < max {
            let first = if got.digits.is_empty() { first } else { inter };
            if let Ok(d) =
                run.wait(|| h.collect_digits(max - got.digits.len(), terms, first, inter))
            {
                got.digits.push_str(&d.digits);
                got.terminator = d.terminator;
            }
        }
        set_terminator(&h, got.terminator);
    }
    run.after_wait(lua, ud)?;
    Ok(got)
}

fn take_pending(run: &Run, got: &mut Got, max: usize, terms: &str) {
    let mut pending = run.pending.borrow_mut();
    while got.terminator.is_none() && got.digits.len() < max {
        let Some(d) = pending.pop_front_char() else {
            break;
        };
        if terms.contains(d) {
            got.terminator = Some(d);
        } else {
            got.digits.push(d);
        }
    }
}

fn set_terminator(h: &SessionHandle, t: Option<char>) {
    if let Some(t) = t {
        h.set_variable("read_terminator_used", Some(&t.to_string()));
    }
}

/// One `switch_ivr_read`: what to play and how to collect.
pub(crate) struct ReadSpec {
    pub min: usize,
    pub max: usize,
    pub prompt: String,
    pub timeout: Duration,
    pub digit_timeout: Duration,
    pub terminators: String,
}

/// Plays the prompt (any key stops it and counts), then collects the rest.
pub(crate) fn read(lua: &Lua, ud: &AnyUserData, spec: &ReadSpec) -> mlua::Result<Got> {
    let run = run_of(lua)?;
    let mut got = Got {
        digits: String::new(),
        terminator: None,
    };
    take_pending(&run, &mut got, spec.max, &spec.terminators);
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(got);
    };
    if got.digits.is_empty() && got.terminator.is_none() && !spec.prompt.trim().is_empty() {
        if let Ok(playback) = run.wait(|| h.play(&spec.prompt, ANY_KEY)) {
            loop {
                let digit = match run.wait(|| playback.next_event()) {
                    PlayEvent::Digit { digit, .. } => digit,
                    // Events go to input callbacks during streamFile, not to reads.
                    PlayEvent::Event(_) => continue,
                    PlayEvent::Done { .. } => break,
                };
                playback.stop();
                if got.terminator.is_some() || got.digits.len() >= spec.max {
                    run.pending.borrow_mut().push(digit);
                } else if spec.terminators.contains(digit) {
                    got.terminator = Some(digit);
                } else {
                    got.digits.push(digit);
                }
            }
        }
    }
    if got.terminator.is_none() && got.digits.len() < spec.max && h.ready() {
        let first = if got.digits.is_empty() {
            spec.timeout
        } else {
            spec.digit_timeout
        };
        let left = spec.max - got.digits.len();
        if let Ok(d) =
            run.wait(|| h.collect_digits(left, &spec.terminators, first, spec.digit_timeout))
        {
            got.digits.push_str(&d.digits);
            got.terminator = d.terminator;
        }
    }
    set_terminator(&h, got.terminator);
    run.after_wait(lua, ud)?;
    Ok(got)
}

/// `playAndGetDigits(min, max, tries, timeout, terminators, file, invalid_file, regex,
/// var_name[, digit_timeout[, transfer_on_failure]])`, FreeSWITCH's order. A call with
/// the variable name before the regex (`..., var_name, regex`) is understood too: a digit
/// regex can never be a bare identifier.
fn play_and_get_digits(lua: &Lua, args: mlua::MultiValue) -> mlua::Result<String> {
    let mut a = args.into_iter();
    let ud: AnyUserData = lua.unpack(a.next().unwrap_or(Value::Nil))?;
    let num = |v: Option<Value>| -> i64 {
        match v {
            Some(Value::Integer(i)) => i,
            Some(Value::Number(n)) => n as i64,
            Some(Value::String(s)) => s.to_string_lossy().trim().parse().unwrap_or(0),
            _ => 0,
        }
    };
    let min = num(a.next());
    let max = num(a.next());
    let tries = num(a.next());
    let timeout = num(a.next());
    let text = |v: Option<Value>| -> String {
        match v {
            Some(Value::String(s)) => s.to_string_lossy(),
            Some(Value::Integer(i)) => i.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let terminators = text(a.next());
    let prompt = text(a.next());
    let invalid = text(a.next());
    let mut regex = text(a.next());
    let mut var = text(a.next());
    let digit_timeout = num(a.next());
    let transfer_on_failure = text(a.next());
    let is_name = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if is_name(&regex) && !var.is_empty() && !is_name(&var) {
        std::mem::swap(&mut regex, &mut var);
    }
    let re = match regex.trim() {
        "" => None,
        r => Some(regex::Regex::new(r).map_err(|e| {
            crate::error::located(lua, format!("playAndGetDigits: bad regex {r:?}: {e}"))
        })?),
    };
    let timeout = ms(timeout);
    let spec = ReadSpec {
        min: min.max(0) as usize,
        max: max.max(1) as usize,
        prompt,
        timeout,
        digit_timeout: if digit_timeout > 0 {
            ms(digit_timeout)
        } else {
            timeout
        },
        terminators,
    };
    let run = run_of(lua)?;
    let handle = this(&ud)?.up().cloned();
    let Some(h) = handle else {
        return Ok(String::new());
    };
    for _ in 0..tries.max(1) {
        if !h.ready() {
            break;
        }
        let got = read(lua, &ud, &spec)?;
        if spec.min == 0 && got.digits.is_empty() && got.terminator.is_some() {
            return Ok(String::new());
        }
        if !got.digits.is_empty() && got.digits.len() >= spec.min {
            if re.as_ref().is_none_or(|r| r.is_match(&got.digits)) {
                if !var.is_empty() {
                    h.set_variable(&var, Some(&got.digits));
                }
                return Ok(got.digits);
            }
            if !var.is_empty() {
                h.set_variable(&var, None);
            }
        }
        if !h.ready() {
            break;
        }
        if !invalid.trim().is_empty() {
            if let Ok(p) = run.wait(|| h.play(&invalid, "")) {
                loop {
                    match run.wait(|| p.next_event()) {
                        PlayEvent::Digit { digit, .. } => run.pending.borrow_mut().push(digit),
                        PlayEvent::Event(_) => {}
                        PlayEvent::Done { .. } => break,
                    }
                }
            }
        }
    }
    if !transfer_on_failure.trim().is_empty() && h.ready() {
        let dest = transfer_on_failure.split_whitespace().next().unwrap_or("");
        let _ = h.transfer(dest);
    }
    run.after_wait(lua, &ud)?;
    Ok(String::new())
}

/// `recordFile(file, time_limit_secs, silence_threshold, silence_secs)`: 1 when recorded.
fn record_file(
    lua: &Lua,
    ud: &AnyUserData,
    file: &str,
    limit_secs: i64,
    threshold: i64,
    silence_secs: i64,
) -> mlua::Result<i64> {
    let run = run_of(lua)?;
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(0);
    };
    let r = run.wait(|| {
        h.record_file(
            file,
            Duration::from_secs(limit_secs.max(0) as u64),
            threshold.clamp(0, i64::from(u32::MAX)) as u32,
            Duration::from_secs(silence_secs.max(0) as u64),
        )
    });
    let ok = match r {
        Ok(rec) => {
            h.set_variable("record_ms", Some(&rec.ms.to_string()));
            if let Some(t) = rec.terminator {
                h.set_variable("playback_terminator_used", Some(&t.to_string()));
            }
            true
        }
        Err(e) => {
            tracing::warn!(uuid = %h.uuid(), "{}recordFile({file:?}): {e}", location(lua));
            false
        }
    };
    run.after_wait(lua, ud)?;
    Ok(status(ok))
}
