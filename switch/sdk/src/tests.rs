//! The shims without a switch: panics become PANIC with their message, replies and tap
//! actions map to the right statuses, init checks the host table's version.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use switch_abi::*;

use crate::shims::{self, sink};
use crate::{Frame, MediaTap, Session, TapAction};

fn collect(f: impl FnOnce(StrSink) -> Status) -> (Status, String) {
    let mut buf = Vec::new();
    let st = f(sink(&mut buf));
    (st, String::from_utf8_lossy(&buf).into_owned())
}

#[test]
fn an_application_needs_a_running_module() {
    let vt = shims::app_vtable(|_: &Session<'_>, _: &str| -> Result<(), String> { Ok(()) });
    let session = SessionRef {
        session: std::ptr::null_mut(),
        uuid: StrRef::new("u-1"),
    };
    // SAFETY: the vtable was just made; the session pointer is never used by this app.
    let (st, _) = collect(|err| unsafe { (vt.run)(vt.data, &session, StrRef::new("x"), err) });
    assert_eq!(st, Status::UNLOADING, "no switch installed");
    // SAFETY: a null session is refused before use.
    let (st, _) =
        collect(|err| unsafe { (vt.run)(vt.data, std::ptr::null(), StrRef::new("x"), err) });
    assert_eq!(st, Status::INVALID);
    // SAFETY: dropped once.
    unsafe { (vt.drop)(vt.data) };
}

#[test]
fn api_replies_get_a_newline_and_errors_are_err_lines() {
    let vt = shims::api_vtable(|args: &str| -> Result<String, String> {
        match args {
            "ok" => Ok("+OK done".into()),
            "panic" => panic!("api broke"),
            _ => Err("bad".into()),
        }
    });
    // SAFETY: a fresh vtable, args valid for each call.
    unsafe {
        let call = |a: &str| collect(|out| (vt.call)(vt.data, StrRef::new(a), out));
        assert_eq!(call("ok"), (Status::OK, "+OK done\n".into()));
        assert_eq!(call("x"), (Status::OK, "-ERR bad\n".into()));
        let (st, text) = call("panic");
        assert_eq!(st, Status::PANIC);
        assert!(text.contains("api broke"), "{text}");
        (vt.drop)(vt.data);
    }
}

static CLOSED: AtomicUsize = AtomicUsize::new(0);

struct CountTap {
    frames: u32,
    panic_at: u32,
}

impl MediaTap for CountTap {
    fn on_frame(&mut self, read: &Frame<'_>, write: &Frame<'_>) -> TapAction {
        assert_eq!(read.samples().len(), 160);
        assert_eq!(write.rate(), 8000);
        self.frames += 1;
        if self.frames == self.panic_at {
            panic!("tap broke at frame {}", self.frames);
        }
        if self.frames >= 3 {
            TapAction::Remove
        } else {
            TapAction::Continue
        }
    }

    fn on_close(&mut self) {
        CLOSED.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn tap_frames_map_to_ok_done_and_panic_and_close_frees() {
    let samples = [7i16; 160];
    let f = FrameRef {
        samples: samples.as_ptr(),
        len: 160,
        rate: 8000,
        channels: 1,
        timestamp_us: 0,
    };
    let before = CLOSED.load(Ordering::SeqCst);
    let vt = shims::tap_vtable(CountTap {
        frames: 0,
        panic_at: 0,
    });
    // SAFETY: the frames outlive each call; close is called once, last.
    unsafe {
        assert_eq!((vt.frame)(vt.data, &f, &f), Status::OK);
        assert_eq!((vt.frame)(vt.data, &f, &f), Status::OK);
        assert_eq!((vt.frame)(vt.data, &f, &f), Status::DONE);
        (vt.close)(vt.data);
    }
    let vt = shims::tap_vtable(CountTap {
        frames: 0,
        panic_at: 2,
    });
    // SAFETY: as above.
    unsafe {
        assert_eq!((vt.frame)(vt.data, &f, &f), Status::OK);
        assert_eq!((vt.frame)(vt.data, &f, &f), Status::PANIC);
        (vt.close)(vt.data);
    }
    assert_eq!(CLOSED.load(Ordering::SeqCst), before + 2);
}

#[test]
fn timers_stop_when_the_task_says_so() {
    let mut n = 0;
    let vt = shims::task_vtable(move || {
        n += 1;
        n < 2
    });
    // SAFETY: a fresh vtable, run sequentially, dropped once.
    unsafe {
        assert_eq!((vt.run)(vt.data), Status::OK);
        assert_eq!((vt.run)(vt.data), Status::DONE);
        (vt.drop)(vt.data);
    }
}

struct Never;

impl crate::Module for Never {
    fn init(_: &crate::Host) -> Result<Self, String> {
        Err("must not start".into())
    }
}

#[test]
fn init_refuses_a_host_table_of_another_major() {
    let mut api = std::mem::MaybeUninit::<HostApi>::zeroed();
    let mut h = Header::current(HostApi::MIN_SIZE);
    h.abi_major = 42;
    // SAFETY: only the header is written; init reads nothing else before refusing.
    let st = unsafe {
        std::ptr::addr_of_mut!((*api.as_mut_ptr()).header).write(h);
        collect(|err| shims::init::<Never>(api.as_ptr(), err))
    };
    assert_eq!(st.0, Status::UNSUPPORTED);
    assert!(
        st.1.contains(&format!("ABI 42.{}", switch_abi::ABI_MINOR)),
        "{}",
        st.1
    );
    // SAFETY: a null table is refused before use.
    let st = unsafe { collect(|err| shims::init::<Never>(std::ptr::null(), err)) };
    assert_eq!(st.0, Status::INVALID);
}

#[test]
fn private_data_is_type_checked_and_dropped() {
    let vt = shims::private_vtable(String::from("hello"));
    // SAFETY: the data is a Box<Box<dyn Any>> as private_vtable makes it.
    unsafe {
        let any = &*(vt.data as *const Box<dyn std::any::Any + Send + Sync>);
        assert_eq!(
            any.downcast_ref::<String>().map(String::as_str),
            Some("hello")
        );
        assert!(any.downcast_ref::<u32>().is_none());
        (vt.drop)(vt.data);
    }
    let _ = std::ptr::null::<c_void>();
}
