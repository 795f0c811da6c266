//! The host side of [`HostApi`]: the table a module gets, the helpers every host function
//! uses, and the functions for logging, configuration and registering applications and
//! API commands. Media, channels and sessions are in `channel.rs` and `session.rs`, events
//! and timers in `work.rs`.
//!
//! Every function here is `extern "C"` and called by module code: it catches panics (one
//! leaving it would abort the switch), checks its arguments, and answers with a status.

use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use switch_abi::{
    ApiVtable, AppVtable, Header, HostApi, SessionRef, Status, StrRef, StrSink, TtsVtable,
    LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_WARN,
};

use super::record::{ModuleRecord, CRASH_CAUSE};
use crate::app::{AppEntry, AppError, Application};
use crate::context::Context;
use crate::script::SessionHandle;

/// The switch's version, as modules see it.
const HOST_VERSION: &str = concat!("ferroswitch ", env!("CARGO_PKG_VERSION"));

/// The host table for the module whose record is at `host`.
pub(super) fn table(host: *mut c_void) -> HostApi {
    use super::{channel as c, session as s, work as w};
    HostApi {
        header: Header::current(std::mem::size_of::<HostApi>()),
        host,
        host_version: StrRef::new(HOST_VERSION),
        log: h_log,
        config_text: h_config_text,
        setting: h_setting,
        register_app: h_register_app,
        register_api: h_register_api,
        subscribe: w::h_subscribe,
        unsubscribe: w::h_unsubscribe,
        fire_event: w::h_fire_event,
        add_tap: c::h_add_tap,
        remove_tap: c::h_remove_tap,
        inject: c::h_inject,
        channel_get_var: c::h_channel_get_var,
        channel_set_var: c::h_channel_set_var,
        channel_hangup: c::h_channel_hangup,
        channel_set_private: c::h_channel_set_private,
        channel_private: c::h_channel_private,
        api_execute: c::h_api_execute,
        session_answer: s::h_answer,
        session_hangup: s::h_hangup,
        session_ready: s::h_ready,
        session_get_var: s::h_get_var,
        session_set_var: s::h_set_var,
        session_play: s::h_play,
        session_collect: s::h_collect,
        session_execute: s::h_execute,
        session_sleep: s::h_sleep,
        timer: w::h_timer,
        cancel_timer: w::h_cancel_timer,
        post: w::h_post,
        register_tts: h_register_tts,
    }
}

/// Runs a host function's body, a panic becoming [`Status::PANIC`].
pub(super) fn catch(f: impl FnOnce() -> Result<Status, Status>) -> Status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(s)) | Ok(Err(s)) => s,
        Err(_) => {
            tracing::error!("a host function panicked on a module's call");
            Status::PANIC
        }
    }
}

/// The record behind a host pointer.
///
/// # Safety
/// `host` must be the pointer of a table made by [`table`] for a record that is alive: a
/// module only calls while loaded (its threads are joined before the record can go).
pub(super) unsafe fn record<'a>(host: *mut c_void) -> Result<&'a ModuleRecord, Status> {
    // SAFETY: forwarded to the caller.
    unsafe { (host as *const ModuleRecord).as_ref() }.ok_or(Status::INVALID)
}

/// The switch of a record.
pub(super) fn context(rec: &ModuleRecord) -> Result<Arc<Context>, Status> {
    rec.ctx.upgrade().ok_or(Status::UNLOADING)
}

/// A string argument.
///
/// # Safety
/// `s` must be valid for the call (ABI rule).
pub(super) unsafe fn arg<'a>(s: StrRef) -> Result<&'a str, Status> {
    // SAFETY: forwarded to the caller.
    unsafe { s.as_str() }.ok_or(Status::INVALID)
}

/// Writes `s` into the module's sink.
pub(super) fn write(sink: StrSink, s: &str) {
    // SAFETY: the module passed the sink for this call; `s` is valid during it.
    unsafe { (sink.write)(sink.ctx, StrRef::new(s)) }
}

/// A sink appending to `buf`, for the strings a module writes back.
pub(super) fn sink(buf: &mut Vec<u8>) -> StrSink {
    StrSink {
        ctx: buf as *mut Vec<u8> as *mut c_void,
        write: append,
    }
}

unsafe extern "C" fn append(ctx: *mut c_void, s: StrRef) {
    let _ = catch_unwind(|| {
        // SAFETY: `ctx` is the Vec given to `sink`, alive for the call the sink was passed
        // to; `s` is valid for this call.
        unsafe { (*(ctx as *mut Vec<u8>)).extend_from_slice(s.as_bytes()) }
    });
}

thread_local! {
    static NO_BLOCK: Cell<u32> = const { Cell::new(0) };
}

/// Marks the thread as one that must not block (the media task, the runtime) while module
/// code runs on it.
pub(super) struct NoBlock;

impl NoBlock {
    pub(super) fn enter() -> NoBlock {
        NO_BLOCK.with(|n| n.set(n.get() + 1));
        NoBlock
    }
}

impl Drop for NoBlock {
    fn drop(&mut self) {
        NO_BLOCK.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Err(WOULD_BLOCK) where a blocking host function must not run.
pub(super) fn may_block() -> Result<(), Status> {
    if NO_BLOCK.with(Cell::get) > 0 {
        return Err(Status::WOULD_BLOCK);
    }
    Ok(())
}

/// Something of the module's the host holds: its data and the function freeing it, called
/// once when the host lets go (on a thread marked [`NoBlock`]).
pub(super) struct Owned {
    pub rec: Arc<ModuleRecord>,
    pub data: *mut c_void,
    drop: unsafe extern "C" fn(*mut c_void),
}

// SAFETY: the SDK requires what a module registers to be Send (and Sync where it is shared:
// applications, commands, handlers, private data); tasks are never run concurrently (ABI rule).
unsafe impl Send for Owned {}
// SAFETY: as above.
unsafe impl Sync for Owned {}

impl Owned {
    pub(super) fn new(
        rec: Arc<ModuleRecord>,
        data: *mut c_void,
        drop: unsafe extern "C" fn(*mut c_void),
    ) -> Owned {
        Owned { rec, data, drop }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let _nb = NoBlock::enter();
        // SAFETY: the module's own drop for its own data, once; the library is open as long as
        // this holds the record.
        unsafe { (self.drop)(self.data) }
    }
}

unsafe extern "C" fn h_log(host: *mut c_void, level: u32, msg: StrRef) {
    catch(|| {
        // SAFETY: called by the module with its host pointer and a string valid for the call.
        let (rec, msg) = unsafe { (record(host)?, arg(msg).unwrap_or("(not UTF-8)")) };
        let m = rec.name();
        match level {
            LOG_ERROR => tracing::error!(module = m, "{msg}"),
            LOG_WARN => tracing::warn!(module = m, "{msg}"),
            LOG_INFO => tracing::info!(module = m, "{msg}"),
            LOG_DEBUG => tracing::debug!(module = m, "{msg}"),
            _ => tracing::trace!(module = m, "{msg}"),
        }
        Ok(Status::OK)
    });
}

unsafe extern "C" fn h_config_text(host: *mut c_void, out: StrSink) -> Status {
    catch(|| {
        // SAFETY: as in h_log.
        let rec = unsafe { record(host)? };
        match std::fs::read_to_string(&rec.config_file) {
            Ok(text) => {
                write(out, &text);
                Ok(Status::OK)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Status::NOT_FOUND),
            Err(e) => {
                tracing::error!(module = %rec.name(), file = %rec.config_file.display(), error = %e, "cannot read the module's config");
                Err(Status::ERROR)
            }
        }
    })
}

unsafe extern "C" fn h_setting(host: *mut c_void, key: StrRef, out: StrSink) -> Status {
    catch(|| {
        // SAFETY: as in h_log.
        let (rec, key) = unsafe { (record(host)?, arg(key)?) };
        let ctx = context(rec)?;
        let value = match key {
            "media.recordings" => ctx.config.media.recordings.display().to_string(),
            "media.sounds" => ctx.config.media.sounds.display().to_string(),
            "conf.dir" => ctx.config.dir.display().to_string(),
            // Where modules keep their databases: the switch's (lua.db_dir).
            "db.dir" => ctx.config.lua.db_dir.display().to_string(),
            "module.name" => rec.name().to_string(),
            "module.config_file" => rec.config_file.display().to_string(),
            "module.path" => rec.path.display().to_string(),
            _ => return Err(Status::NOT_FOUND),
        };
        write(out, &value);
        Ok(Status::OK)
    })
}

/// A name modules may register: letters, digits and `_`.
fn valid_name(name: &str) -> Result<(), Status> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(()).ok_or(Status::INVALID)
}

/// A module's application, as core runs it.
struct ModuleApp {
    obj: Owned,
    run: unsafe extern "C" fn(*mut c_void, *const SessionRef, StrRef, StrSink) -> Status,
    name: String,
}

impl Application for ModuleApp {
    fn run(&self, session: SessionHandle, args: &str) -> Result<(), AppError> {
        let rec = &self.obj.rec;
        let failed = |reason: String| AppError {
            reason,
            hangup: None,
        };
        let Some(_in) = rec.enter() else {
            return Err(failed(format!(
                "module {} is {}: {} not run",
                rec.name(),
                rec.state_text(),
                self.name
            )));
        };
        let uuid = session.uuid().to_string();
        *rec.regs().running.entry(uuid.clone()).or_default() += 1;
        let hs = super::session::HostSession { handle: session };
        let sref = SessionRef {
            session: &hs as *const super::session::HostSession as *mut c_void,
            uuid: StrRef::new(&uuid),
        };
        let mut err = Vec::new();
        // SAFETY: the module's own run function with its own data; `sref`, `args` and the sink
        // outlive the call.
        let st = unsafe { (self.run)(self.obj.data, &sref, StrRef::new(args), sink(&mut err)) };
        {
            let mut regs = rec.regs();
            if let Some(n) = regs.running.get_mut(&uuid) {
                *n -= 1;
                if *n == 0 {
                    regs.running.remove(&uuid);
                }
            }
        }
        let msg = String::from_utf8_lossy(&err).trim().to_string();
        match st {
            s if s.is_ok() => Ok(()),
            Status::PANIC => {
                let what = format!("panicked in application {}", self.name);
                rec.fail(&what, None);
                Err(AppError {
                    reason: format!("module {} {what}: {msg}", rec.name()),
                    hangup: Some(CRASH_CAUSE.into()),
                })
            }
            s => Err(failed(format!(
                "{}: {}: {msg} ({s})",
                rec.name(),
                self.name
            ))),
        }
    }
}

unsafe extern "C" fn h_register_app(
    host: *mut c_void,
    name: StrRef,
    description: StrRef,
    app: AppVtable,
) -> Status {
    catch(|| {
        // SAFETY: as in h_log.
        let rec = unsafe { record(host)? };
        let owner = rec.arc().ok_or(Status::UNLOADING)?;
        let obj = Owned::new(owner, app.data, app.drop);
        // SAFETY: strings valid for the call.
        let (name, description) = unsafe { (arg(name)?, arg(description)?) };
        valid_name(name)?;
        let ctx = context(rec)?;
        let entry = AppEntry {
            name: name.to_string(),
            description: description.to_string(),
            owner: rec.name().to_string(),
            app: Arc::new(ModuleApp {
                obj,
                run: app.run,
                name: name.to_string(),
            }),
        };
        if let Err(e) = ctx.apps.register(entry) {
            tracing::warn!(module = %rec.name(), "application {name} refused: {e}");
            return Err(Status::EXISTS);
        }
        rec.regs().apps.push(name.to_string());
        tracing::debug!(module = %rec.name(), app = name, "application registered");
        Ok(Status::OK)
    })
}

/// A module's text-to-speech engine.
struct ModuleTts {
    obj: Owned,
    synthesize: unsafe extern "C" fn(*mut c_void, StrRef, StrRef, *mut u32, StrSink) -> Status,
    name: String,
}

impl crate::tts::TtsEngine for ModuleTts {
    fn synthesize(&self, voice: &str, text: &str) -> Result<(u32, Vec<i16>), String> {
        let rec = &self.obj.rec;
        let Some(_in) = rec.enter() else {
            return Err(format!(
                "module {} is {}: TTS engine {} not run",
                rec.name(),
                rec.state_text(),
                self.name
            ));
        };
        let mut out = Vec::new();
        let mut rate = 0u32;
        // SAFETY: the module's own function and data; the strings, `rate` and the sink
        // outlive the call.
        let st = unsafe {
            (self.synthesize)(
                self.obj.data,
                StrRef::new(voice),
                StrRef::new(text),
                &mut rate,
                sink(&mut out),
            )
        };
        match st {
            Status::PANIC => {
                let what = format!("panicked in TTS engine {}", self.name);
                rec.fail(&what, None);
                Err(format!("module {} {what}", rec.name()))
            }
            s if s.is_ok() => {
                if ![8000, 16000, 48000].contains(&rate) {
                    return Err(format!("TTS engine {} gave audio at {rate} Hz", self.name));
                }
                let samples = out
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                Ok((rate, samples))
            }
            _ => Err(format!(
                "TTS engine {}: {}",
                self.name,
                String::from_utf8_lossy(&out).trim()
            )),
        }
    }
}

unsafe extern "C" fn h_register_tts(
    host: *mut c_void,
    name: StrRef,
    description: StrRef,
    tts: TtsVtable,
) -> Status {
    catch(|| {
        // SAFETY: as in h_log.
        let rec = unsafe { record(host)? };
        let owner = rec.arc().ok_or(Status::UNLOADING)?;
        let obj = Owned::new(owner, tts.data, tts.drop);
        // SAFETY: strings valid for the call.
        let (name, _description) = unsafe { (arg(name)?, arg(description)?) };
        valid_name(name)?;
        let ctx = context(rec)?;
        let engine = Arc::new(ModuleTts {
            obj,
            synthesize: tts.synthesize,
            name: name.to_string(),
        });
        if let Err(e) = ctx.tts.register(name, rec.name(), engine) {
            tracing::warn!(module = %rec.name(), "{e}");
            return Err(Status::EXISTS);
        }
        rec.regs().tts.push(name.to_string());
        tracing::debug!(module = %rec.name(), tts = name, "TTS engine registered");
        Ok(Status::OK)
    })
}

/// A module's API command.
struct ModuleApi {
    obj: Owned,
    call: unsafe extern "C" fn(*mut c_void, StrRef, StrSink) -> Status,
    name: String,
}

impl ModuleApi {
    fn call(&self, args: &str) -> String {
        let rec = &self.obj.rec;
        let Some(_in) = rec.enter() else {
            return format!(
                "-ERR module {} is {}: {} not run\n",
                rec.name(),
                rec.state_text(),
                self.name
            );
        };
        let mut out = Vec::new();
        // SAFETY: the module's own function and data; `args` and the sink outlive the call.
        let st = unsafe { (self.call)(self.obj.data, StrRef::new(args), sink(&mut out)) };
        let text = String::from_utf8_lossy(&out).into_owned();
        match st {
            Status::PANIC => {
                let what = format!("panicked in API command {}", self.name);
                rec.fail(&what, None);
                format!("-ERR module {} {what}: {}\n", rec.name(), text.trim())
            }
            s if s.is_ok() => text,
            s => format!("-ERR {} {}: {s}\n", rec.name(), self.name),
        }
    }
}

unsafe extern "C" fn h_register_api(
    host: *mut c_void,
    name: StrRef,
    usage: StrRef,
    description: StrRef,
    api: ApiVtable,
) -> Status {
    catch(|| {
        // SAFETY: as in h_log.
        let rec = unsafe { record(host)? };
        let owner = rec.arc().ok_or(Status::UNLOADING)?;
        let obj = Owned::new(owner, api.data, api.drop);
        // SAFETY: strings valid for the call.
        let (name, usage, description) = unsafe { (arg(name)?, arg(usage)?, arg(description)?) };
        valid_name(name)?;
        let ctx = context(rec)?;
        if ctx.api.get(name).is_some() {
            tracing::warn!(module = %rec.name(), "API command {name} refused: the name is taken");
            return Err(Status::EXISTS);
        }
        let cmd = Arc::new(ModuleApi {
            obj,
            call: api.call,
            name: name.to_string(),
        });
        ctx.api
            .register(name, usage, description, move |_ctx, args| {
                let cmd = cmd.clone();
                async move {
                    match tokio::task::spawn_blocking(move || cmd.call(&args)).await {
                        Ok(reply) => reply,
                        Err(e) => format!("-ERR {e}\n"),
                    }
                }
            });
        rec.regs().apis.push(name.to_string());
        tracing::debug!(module = %rec.name(), command = name, "API command registered");
        Ok(Status::OK)
    })
}
