//! The `extern "C"` functions the switch calls: module start and stop, and one per vtable
//! entry. Each one catches unwinding (a panic leaving an `extern "C"` function aborts the
//! process), logs the panic, writes it to the error sink when there is one, and returns
//! [`Status::PANIC`].

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use switch_abi::{
    check_header, ApiVtable, AppVtable, EventRef, EventVtable, FrameRef, HostApi, PrivateVtable,
    SessionRef, Status, StrRef, StrSink, TapVtable, TaskVtable, TtsVtable,
};

use crate::{
    ApiCommand, Application, EventHandler, EventView, Frame, Host, Level, MediaTap, Module,
    Session, TapAction, TtsEngine,
};

/// The running module, between init and shutdown.
static MODULE: Mutex<Option<Box<dyn Running>>> = Mutex::new(None);

trait Running: Send + Sync {
    fn shutdown(&self);
}

impl<M: Module> Running for M {
    fn shutdown(&self) {
        Module::shutdown(self)
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Runs `f`, turning a panic into [`Status::PANIC`] (logged, and written to `err`).
pub(crate) fn guard(what: &str, err: Option<StrSink>, f: impl FnOnce() -> Status) -> Status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(s) => s,
        Err(p) => {
            let msg = format!("panicked in {what}: {}", panic_message(p.as_ref()));
            // Logging must not panic again here: the host's log is a plain call.
            let _ = catch_unwind(|| crate::log(Level::Error, &msg));
            if let Some(sink) = err {
                write(sink, &msg);
            }
            Status::PANIC
        }
    }
}

/// Appends `s` to the caller's sink.
pub(crate) fn write(sink: StrSink, s: &str) {
    // SAFETY: the sink comes from the other side of the call we are in, which keeps `ctx` alive
    // for the call; `s` is valid for the call.
    unsafe { (sink.write)(sink.ctx, StrRef::new(s)) }
}

/// A sink appending to `buf` (which must outlive every use of the sink).
pub(crate) fn sink(buf: &mut Vec<u8>) -> StrSink {
    StrSink {
        ctx: buf as *mut Vec<u8> as *mut c_void,
        write: append,
    }
}

unsafe extern "C" fn append(ctx: *mut c_void, s: StrRef) {
    let _ = catch_unwind(|| {
        // SAFETY: `ctx` is the `&mut Vec<u8>` given to `sink`, alive for the call that passed the
        // sink; `s` is valid during this call.
        unsafe {
            let buf = &mut *(ctx as *mut Vec<u8>);
            buf.extend_from_slice(s.as_bytes());
        }
    });
}

/// The string of a StrRef from the host, or INVALID.
///
/// # Safety
/// `s` must be valid for the call.
pub(crate) unsafe fn text<'a>(s: StrRef) -> Result<&'a str, Status> {
    // SAFETY: forwarded.
    unsafe { s.as_str() }.ok_or(Status::INVALID)
}

/// The module's `init`: checks the host table, installs it, runs `M::init`.
///
/// # Safety
/// Called by the switch with a host table valid until `shutdown` returns.
pub unsafe extern "C" fn init<M: Module>(host: *const HostApi, err: StrSink) -> Status {
    guard("init", Some(err), || {
        if host.is_null() {
            write(err, "no host table");
            return Status::INVALID;
        }
        // SAFETY: not null; the switch keeps the table alive and unchanged until shutdown
        // returns (ABI rule), so 'static is true for as long as the module can run.
        let api: &'static HostApi = unsafe { &*host };
        if let Err(e) = check_header(&api.header, HostApi::MIN_SIZE) {
            write(err, &format!("host table: {e}"));
            return Status::UNSUPPORTED;
        }
        crate::host::install(api);
        let Some(h) = Host::get() else {
            return Status::ERROR;
        };
        match M::init(&h) {
            Ok(m) => {
                *MODULE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(m));
                Status::OK
            }
            Err(e) => {
                write(err, &e);
                Status::ERROR
            }
        }
    })
}

/// The module's `shutdown`: `Module::shutdown`, then the module's threads are joined.
///
/// # Safety
/// Called by the switch once, after everything registered was dropped.
pub unsafe extern "C" fn shutdown() -> Status {
    let s = guard("shutdown", None, || {
        let m = MODULE.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(m) = m {
            m.shutdown();
        }
        if crate::threads::join_all(std::time::Duration::from_secs(5)) {
            Status::OK
        } else {
            crate::log(Level::Error, "threads still running 5 s after shutdown");
            Status::TIMEOUT
        }
    });
    crate::host::uninstall();
    s
}

/// Frees a `Box<T>` given as vtable data.
unsafe extern "C" fn drop_box<T>(data: *mut c_void) {
    guard("drop", None, || {
        // SAFETY: `data` came from Box::into_raw of a Box<T> in this module and the host drops
        // it exactly once (ABI rule).
        drop(unsafe { Box::from_raw(data as *mut T) });
        Status::OK
    });
}

/// The vtable of an application.
pub(crate) fn app_vtable<A: Application>(app: A) -> AppVtable {
    AppVtable {
        data: Box::into_raw(Box::new(app)) as *mut c_void,
        run: app_run::<A>,
        drop: drop_box::<A>,
    }
}

unsafe extern "C" fn app_run<A: Application>(
    data: *mut c_void,
    session: *const SessionRef,
    args: StrRef,
    err: StrSink,
) -> Status {
    guard("an application", Some(err), || {
        if session.is_null() {
            return Status::INVALID;
        }
        // SAFETY: `data` is the A of app_vtable, alive until drop; applications run concurrently,
        // so only & is taken (A: Sync). `session` and `args` are valid for the call.
        let (app, sref, args) = unsafe { (&*(data as *const A), &*session, text(args)) };
        let args = match args {
            Ok(a) => a,
            Err(s) => return s,
        };
        // SAFETY: valid for the call.
        let uuid = unsafe { text(sref.uuid) }.unwrap_or("");
        let Some(host) = Host::get() else {
            return Status::UNLOADING;
        };
        let s = Session::new(host, sref.session, uuid);
        match app.run(&s, args) {
            Ok(()) => Status::OK,
            Err(e) => {
                write(err, &e);
                Status::ERROR
            }
        }
    })
}

/// The vtable of an API command.
pub(crate) fn api_vtable<C: ApiCommand>(cmd: C) -> ApiVtable {
    ApiVtable {
        data: Box::into_raw(Box::new(cmd)) as *mut c_void,
        call: api_call::<C>,
        drop: drop_box::<C>,
    }
}

unsafe extern "C" fn api_call<C: ApiCommand>(
    data: *mut c_void,
    args: StrRef,
    out: StrSink,
) -> Status {
    guard("an API command", Some(out), || {
        // SAFETY: `data` is the C of api_vtable (shared: C: Sync); `args` valid for the call.
        let (cmd, args) = unsafe { (&*(data as *const C), text(args)) };
        let Ok(args) = args else {
            write(out, "-ERR arguments are not UTF-8\n");
            return Status::OK;
        };
        let reply = match cmd.call(args) {
            Ok(text) => text,
            Err(e) => format!("-ERR {e}"),
        };
        write(out, &reply);
        if !reply.ends_with('\n') {
            write(out, "\n");
        }
        Status::OK
    })
}

/// The vtable of a text-to-speech engine.
pub(crate) fn tts_vtable<T: TtsEngine>(tts: T) -> TtsVtable {
    TtsVtable {
        data: Box::into_raw(Box::new(tts)) as *mut c_void,
        synthesize: tts_synthesize::<T>,
        drop: drop_box::<T>,
    }
}

unsafe extern "C" fn tts_synthesize<T: TtsEngine>(
    data: *mut c_void,
    voice: StrRef,
    text_ref: StrRef,
    rate: *mut u32,
    out: StrSink,
) -> Status {
    guard("a TTS engine", Some(out), || {
        // SAFETY: `data` is the T of tts_vtable (shared: T: Sync); strings valid for the call.
        let (tts, voice, said) = unsafe { (&*(data as *const T), text(voice), text(text_ref)) };
        let (Ok(voice), Ok(said)) = (voice, said) else {
            write(out, "voice or text is not UTF-8");
            return Status::INVALID;
        };
        match tts.synthesize(voice, said) {
            Ok((r, samples)) => {
                if !rate.is_null() {
                    // SAFETY: the host's out parameter for this call.
                    unsafe { *rate = r };
                }
                let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                // SAFETY: as in write; the bytes outlive the call.
                unsafe { (out.write)(out.ctx, StrRef::from_bytes(&bytes)) };
                Status::OK
            }
            Err(e) => {
                write(out, &e);
                Status::ERROR
            }
        }
    })
}

/// The vtable of a media tap.
pub(crate) fn tap_vtable<T: MediaTap>(tap: T) -> TapVtable {
    TapVtable {
        data: Box::into_raw(Box::new(tap)) as *mut c_void,
        frame: tap_frame::<T>,
        close: tap_close::<T>,
    }
}

unsafe extern "C" fn tap_frame<T: MediaTap>(
    data: *mut c_void,
    read: *const FrameRef,
    write: *const FrameRef,
) -> Status {
    guard("a media tap", None, || {
        if read.is_null() || write.is_null() {
            return Status::INVALID;
        }
        // SAFETY: `data` is the T of tap_vtable; the host calls a tap from one task at a time,
        // so the &mut is unique. The frames are valid for the call.
        let (tap, read, write) = unsafe {
            (
                &mut *(data as *mut T),
                Frame::from_raw(&*read),
                Frame::from_raw(&*write),
            )
        };
        match tap.on_frame(&read, &write) {
            TapAction::Continue => Status::OK,
            TapAction::Remove => Status::DONE,
        }
    })
}

unsafe extern "C" fn tap_close<T: MediaTap>(data: *mut c_void) {
    guard("a media tap's close", None, || {
        // SAFETY: `data` came from Box::into_raw in tap_vtable; close is called once, last.
        let mut tap = unsafe { Box::from_raw(data as *mut T) };
        tap.on_close();
        Status::OK
    });
}

/// The vtable of an event handler.
pub(crate) fn event_vtable<H: EventHandler>(handler: H) -> EventVtable {
    EventVtable {
        data: Box::into_raw(Box::new(handler)) as *mut c_void,
        event: event_call::<H>,
        drop: drop_box::<H>,
    }
}

unsafe extern "C" fn event_call<H: EventHandler>(
    data: *mut c_void,
    event: *const EventRef,
) -> Status {
    guard("an event handler", None, || {
        if event.is_null() {
            return Status::INVALID;
        }
        // SAFETY: `data` is the H of event_vtable; the event is valid for the call.
        let (h, ev) = unsafe { (&*(data as *const H), &*event) };
        h.on_event(&EventView::new(ev));
        Status::OK
    })
}

/// The vtable of repeating work (`f` returns whether to go on).
pub(crate) fn task_vtable<F: FnMut() -> bool + Send + 'static>(f: F) -> TaskVtable {
    TaskVtable {
        data: Box::into_raw(Box::new(f)) as *mut c_void,
        run: task_run::<F>,
        drop: drop_box::<F>,
    }
}

unsafe extern "C" fn task_run<F: FnMut() -> bool + Send + 'static>(data: *mut c_void) -> Status {
    guard("a timer or posted work", None, || {
        // SAFETY: `data` is the F of task_vtable; the host never runs a task concurrently with
        // itself (ABI rule), so the &mut is unique.
        let f = unsafe { &mut *(data as *mut F) };
        if f() {
            Status::OK
        } else {
            Status::DONE
        }
    })
}

/// The vtable of per-channel data (a `Box<dyn Any>` so that it can be type-checked).
pub(crate) fn private_vtable<T: Any + Send + Sync>(value: T) -> PrivateVtable {
    let b: Box<dyn Any + Send + Sync> = Box::new(value);
    PrivateVtable {
        data: Box::into_raw(Box::new(b)) as *mut c_void,
        drop: drop_box::<Box<dyn Any + Send + Sync>>,
    }
}
