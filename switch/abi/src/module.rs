//! What a module hands the host: its descriptor, and the vtables of what it registers.
//!
//! Every vtable is `data` (the module's object, opaque to the host) and functions the host
//! calls with it. The host calls `drop` (or a tap's `close`) exactly once, when it lets go
//! of the object: at unregistration, hangup, unload, or when registering it failed.

use core::ffi::c_void;

use crate::{EventRef, FrameRef};
use crate::{Header, HostApi, Status, StrRef, StrSink};

/// The type of [`crate::ENTRY_SYMBOL`]: returns the module's descriptor, which must live
/// (unchanged) until the library is closed. It must not fail, allocate on the host's
/// behalf or call the host.
pub type EntryFn = unsafe extern "C" fn() -> *const ModuleDescriptor;

/// Who the module is and how to start and stop it.
#[repr(C)]
#[derive(Debug)]
pub struct ModuleDescriptor {
    /// Magic, ABI version, `size_of::<ModuleDescriptor>()` as built.
    pub header: Header,
    /// `mod_example`: the name it is loaded and listed under.
    pub name: StrRef,
    /// The module's own version (`0.1.0`).
    pub version: StrRef,
    /// One line saying what it does.
    pub description: StrRef,
    /// The compiler that built it (`rustc 1.95.0 (...)`), for `show modules`.
    pub compiler: StrRef,
    /// The SDK version it was built with (`switch-sdk 0.1.0`), or empty.
    pub sdk: StrRef,
    /// Starts the module: it registers what it offers through `host` (valid until
    /// `shutdown` returns). On failure it writes why into `err` and returns an error status;
    /// the host then unregisters whatever it registered and calls `shutdown`.
    pub init: unsafe extern "C" fn(host: *const HostApi, err: StrSink) -> Status,
    /// Stops the module: after the host unregistered everything and the callbacks drained.
    /// The module ends and joins its own threads before returning; the library is closed
    /// after.
    pub shutdown: unsafe extern "C" fn() -> Status,
}

impl ModuleDescriptor {
    /// The size of the descriptor at minor 0 of this major: the least a host accepts. (It
    /// stays this value when later minors append fields.)
    pub const MIN_SIZE: usize = core::mem::size_of::<ModuleDescriptor>();
}

// SAFETY: a descriptor is built once (usually a `static`) and never written; its StrRefs point
// to 'static strings and its functions are plain code pointers.
unsafe impl Sync for ModuleDescriptor {}
// SAFETY: as above.
unsafe impl Send for ModuleDescriptor {}

/// What the host gives an application for one run: the call it runs on.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SessionRef {
    /// Opaque, for the `session_*` functions of [`HostApi`]; valid during the run.
    pub session: *mut c_void,
    /// The channel's uuid.
    pub uuid: StrRef,
}

/// A dialplan application (`record_session`, `example_hello`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AppVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// Runs the application on `session` with `args`, on a host thread of its own; it may
    /// block (the `session_*` functions do). An error status fails the action (its reason
    /// in `err`); [`Status::PANIC`] also hangs the call up.
    pub run: unsafe extern "C" fn(
        data: *mut c_void,
        session: *const SessionRef,
        args: StrRef,
        err: StrSink,
    ) -> Status,
    /// Frees `data`.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

/// An API command (`uuid_record`, `example_status`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ApiVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// Runs the command with `args`, writing its reply text into `out`, on a host thread
    /// that may block. Errors are replies too (`-ERR ...`), so this returns OK unless it
    /// panicked.
    pub call: unsafe extern "C" fn(data: *mut c_void, args: StrRef, out: StrSink) -> Status,
    /// Frees `data`.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

/// A text-to-speech engine (ABI 1.1).
#[repr(C)]
pub struct TtsVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// Speaks `text` with `voice` (empty: the engine's default) on a host thread that may
    /// block: the rate (8000, 16000 or 48000) into `*rate`, mono PCM16 little-endian samples
    /// into `out` (raw bytes). On failure, the reason into `out` and an error status.
    pub synthesize: unsafe extern "C" fn(
        data: *mut c_void,
        voice: StrRef,
        text: StrRef,
        rate: *mut u32,
        out: StrSink,
    ) -> Status,
    /// Frees `data`.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

/// A media tap ("media bug"): sees 20 ms of a channel at a time.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TapVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// One tick: what the channel sent (`read`) and what it heard (`write`), borrowed for
    /// the call. Called on the media task: must not block. [`Status::DONE`] removes the
    /// tap; [`Status::PANIC`] too, and the host hangs the call up and marks the module
    /// failed.
    pub frame: unsafe extern "C" fn(
        data: *mut c_void,
        read: *const FrameRef,
        write: *const FrameRef,
    ) -> Status,
    /// The tap is removed (or the call ended, or adding it failed): finish and free `data`.
    /// Called once, also on the media task.
    pub close: unsafe extern "C" fn(data: *mut c_void),
}

/// An event handler.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EventVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// One event, borrowed for the call, on the subscription's host thread (may block; later
    /// events wait).
    pub event: unsafe extern "C" fn(data: *mut c_void, event: *const EventRef) -> Status,
    /// Frees `data`.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

/// Work for a timer or a host thread.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TaskVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// Runs the work on a host thread (may block), never concurrently with itself. A
    /// repeating timer stops on [`Status::DONE`] or an error.
    pub run: unsafe extern "C" fn(data: *mut c_void) -> Status,
    /// Frees `data` (after the last run, or when cancelled).
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

/// Per-channel data of a module, freed when the channel is destroyed (or the module
/// unloads, or it is replaced).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PrivateVtable {
    /// The module's object.
    pub data: *mut c_void,
    /// Frees `data`.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}
