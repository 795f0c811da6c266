//! What the host hands a module: [`HostApi`], one table of functions.
//!
//! `host` is the switch's record of this module, passed back as the first argument of
//! every function. Functions that block (anything waiting for a call: the `channel_*`,
//! `session_*`, `add_tap`, `api_execute`) answer [`crate::Status::WOULD_BLOCK`] when called
//! on the media task or the switch's async runtime; call them from an application, an API
//! command, an event handler, a timer or posted work, which all run on host threads.

use core::ffi::c_void;

use crate::{
    ApiVtable, AppVtable, EventRef, EventVtable, FrameRef, Header, PrivateVtable, Status, StrRef,
    StrSink, TapVtable, TaskVtable, TtsVtable,
};

/// Log level: errors.
pub const LOG_ERROR: u32 = 1;
/// Log level: warnings.
pub const LOG_WARN: u32 = 2;
/// Log level: information.
pub const LOG_INFO: u32 = 3;
/// Log level: debugging.
pub const LOG_DEBUG: u32 = 4;
/// Log level: tracing.
pub const LOG_TRACE: u32 = 5;

/// The host's functions, for one module. Appended to only (see the crate's rules); check
/// [`HostApi::has`] before using a field newer than the minor you need.
#[repr(C)]
#[derive(Debug)]
pub struct HostApi {
    /// Magic, ABI version, `size_of::<HostApi>()` as the host built it.
    pub header: Header,
    /// The host's record of this module; the first argument of the functions below.
    pub host: *mut c_void,
    /// The switch's version (`ferroswitch 0.1.0`).
    pub host_version: StrRef,

    // --- logging and configuration ---
    /// Logs `msg` at `level` ([`LOG_ERROR`]..[`LOG_TRACE`]) under the module's name.
    pub log: unsafe extern "C" fn(host: *mut c_void, level: u32, msg: StrRef),
    /// The module's config file (`conf/modules/<name>.toml`) as text; NOT_FOUND if absent.
    pub config_text: unsafe extern "C" fn(host: *mut c_void, out: StrSink) -> Status,
    /// A core setting by dotted key (`media.recordings`, `conf.dir`); NOT_FOUND if unknown.
    pub setting: unsafe extern "C" fn(host: *mut c_void, key: StrRef, out: StrSink) -> Status,

    // --- registration ---
    /// Registers a dialplan application. EXISTS when the name is taken (the vtable is then
    /// dropped).
    pub register_app: unsafe extern "C" fn(
        host: *mut c_void,
        name: StrRef,
        description: StrRef,
        app: AppVtable,
    ) -> Status,
    /// Registers an API command. EXISTS when the name is taken.
    pub register_api: unsafe extern "C" fn(
        host: *mut c_void,
        name: StrRef,
        usage: StrRef,
        description: StrRef,
        api: ApiVtable,
    ) -> Status,
    /// Subscribes `handler` to events named as the event socket's `event` command does
    /// (`CHANNEL_ANSWER CHANNEL_HANGUP`, `CUSTOM example::ping`, `ALL`); its id in `*id`.
    pub subscribe: unsafe extern "C" fn(
        host: *mut c_void,
        spec: StrRef,
        handler: EventVtable,
        id: *mut u64,
    ) -> Status,
    /// Ends a subscription (its handler is dropped once no event is being delivered).
    pub unsubscribe: unsafe extern "C" fn(host: *mut c_void, id: u64) -> Status,
    /// Fires an event on the switch's bus (`CUSTOM` with a subclass, usually). Never blocks.
    pub fire_event: unsafe extern "C" fn(host: *mut c_void, event: *const EventRef) -> Status,

    // --- media ---
    /// Adds a tap on the channel `uuid` (a call's A leg or its bridged B leg); its id in
    /// `*id`. `flags` must be 0 in ABI 1.0. On failure the tap is closed.
    pub add_tap: unsafe extern "C" fn(
        host: *mut c_void,
        uuid: StrRef,
        flags: u32,
        tap: TapVtable,
        id: *mut u64,
    ) -> Status,
    /// Removes tap `id` from channel `uuid` (its `close` follows on the media task).
    pub remove_tap: unsafe extern "C" fn(host: *mut c_void, uuid: StrRef, id: u64) -> Status,
    /// Plays `audio` (mono samples of any length at its rate) to channel `uuid` in place of
    /// what it hears, as a playback; `flags` must be 0. The samples are copied.
    pub inject: unsafe extern "C" fn(
        host: *mut c_void,
        uuid: StrRef,
        audio: *const FrameRef,
        flags: u32,
    ) -> Status,

    // --- channels by uuid ---
    /// A channel variable into `out`; NOT_FOUND when unset or no such channel.
    pub channel_get_var:
        unsafe extern "C" fn(host: *mut c_void, uuid: StrRef, name: StrRef, out: StrSink) -> Status,
    /// Sets a channel variable ([`StrRef::NONE`] unsets it).
    pub channel_set_var: unsafe extern "C" fn(
        host: *mut c_void,
        uuid: StrRef,
        name: StrRef,
        value: StrRef,
    ) -> Status,
    /// Hangs the call of channel `uuid` up with a Q.850 cause name.
    pub channel_hangup:
        unsafe extern "C" fn(host: *mut c_void, uuid: StrRef, cause: StrRef) -> Status,
    /// Attaches the module's data to channel `uuid` under `key` (replacing and dropping an
    /// older one); dropped when the channel is destroyed or the module unloads. On failure
    /// `data` is dropped.
    pub channel_set_private: unsafe extern "C" fn(
        host: *mut c_void,
        uuid: StrRef,
        key: StrRef,
        data: PrivateVtable,
    ) -> Status,
    /// Calls `visit(ctx, data)` with the module's data of channel `uuid` under `key`, while
    /// the host holds it (so it cannot be freed meanwhile); NOT_FOUND if there is none.
    /// `visit` must not call the `channel_*private` functions.
    pub channel_private: unsafe extern "C" fn(
        host: *mut c_void,
        uuid: StrRef,
        key: StrRef,
        visit: unsafe extern "C" fn(ctx: *mut c_void, data: *mut c_void),
        ctx: *mut c_void,
    ) -> Status,
    /// Runs an API command as the console would, its reply into `out`.
    pub api_execute: unsafe extern "C" fn(
        host: *mut c_void,
        command: StrRef,
        args: StrRef,
        out: StrSink,
    ) -> Status,

    // --- the session of a running application ([`crate::SessionRef::session`]) ---
    /// Answers the call.
    pub session_answer: unsafe extern "C" fn(session: *mut c_void) -> Status,
    /// Hangs up with a Q.850 cause name (empty: NORMAL_CLEARING).
    pub session_hangup: unsafe extern "C" fn(session: *mut c_void, cause: StrRef) -> Status,
    /// 1 while the call is up, 0 after hangup.
    pub session_ready: unsafe extern "C" fn(session: *mut c_void) -> u32,
    /// A channel variable into `out`; NOT_FOUND when unset.
    pub session_get_var:
        unsafe extern "C" fn(session: *mut c_void, name: StrRef, out: StrSink) -> Status,
    /// Sets a channel variable ([`StrRef::NONE`] unsets it).
    pub session_set_var:
        unsafe extern "C" fn(session: *mut c_void, name: StrRef, value: StrRef) -> Status,
    /// Plays a file, `tone_stream://` or `silence_stream://` to the caller until it ends
    /// or a digit of `stop_on` is pressed (that digit into `*digit`, else 0).
    pub session_play: unsafe extern "C" fn(
        session: *mut c_void,
        what: StrRef,
        stop_on: StrRef,
        digit: *mut u32,
    ) -> Status,
    /// Collects up to `max` digits (ending on a terminator or a timeout) into `out`.
    pub session_collect: unsafe extern "C" fn(
        session: *mut c_void,
        max: u32,
        terminators: StrRef,
        first_ms: u32,
        inter_ms: u32,
        out: StrSink,
    ) -> Status,
    /// Runs another dialplan application on the call and returns when it is done.
    pub session_execute:
        unsafe extern "C" fn(session: *mut c_void, app: StrRef, args: StrRef) -> Status,
    /// Waits `ms`, the call going on.
    pub session_sleep: unsafe extern "C" fn(session: *mut c_void, ms: u32) -> Status,

    // --- work on the host ---
    /// Runs `task` after `delay_ms`, then every `repeat_ms` if not 0, on a host thread; its
    /// id in `*id`.
    pub timer: unsafe extern "C" fn(
        host: *mut c_void,
        delay_ms: u64,
        repeat_ms: u64,
        task: TaskVtable,
        id: *mut u64,
    ) -> Status,
    /// Cancels a timer.
    pub cancel_timer: unsafe extern "C" fn(host: *mut c_void, id: u64) -> Status,
    /// Runs `task` once, soon, on a host thread (the module's own runtime need not exist).
    pub post: unsafe extern "C" fn(host: *mut c_void, task: TaskVtable) -> Status,

    // --- ABI 1.1 (check with `has(offset_of!(HostApi, register_tts))`) ---
    /// Registers a text-to-speech engine under `name` (`tts://name|voice|text`, `speak`).
    pub register_tts: unsafe extern "C" fn(
        host: *mut c_void,
        name: StrRef,
        description: StrRef,
        tts: TtsVtable,
    ) -> Status,
}

impl HostApi {
    /// The size of the table at minor 0 of this major: the least a module accepts. (It stays
    /// this value when later minors append fields.)
    pub const MIN_SIZE: usize = core::mem::offset_of!(HostApi, register_tts);

    /// Whether the field at byte `offset` (from `core::mem::offset_of!(HostApi, field)`) is
    /// inside the table the host built: a module built against a newer minor checks this
    /// before calling a function its host may not have.
    pub fn has(&self, offset: usize) -> bool {
        offset + core::mem::size_of::<usize>() <= self.header.size
    }
}

// SAFETY: the table is written once by the host before init and only read after; `host` is the
// host's thread-safe record, used only through the host's own functions.
unsafe impl Sync for HostApi {}
// SAFETY: as above.
unsafe impl Send for HostApi {}
