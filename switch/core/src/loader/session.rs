//! The `session_*` host functions: a module application's [`SessionHandle`], method by
//! method. They run on the application's own thread and block until the call did the work.

use std::ffi::c_void;
use std::time::Duration;

use switch_abi::{Status, StrRef, StrSink};

use super::host::{arg, catch, may_block, write};
use crate::media::PlayEnd;
use crate::script::{PlayEvent, ScriptError, SessionHandle};

/// What a module application's `SessionRef::session` points to during its run.
pub(super) struct HostSession {
    pub handle: SessionHandle,
}

/// The session behind a pointer.
///
/// # Safety
/// `s` must be the `SessionRef::session` of a run that is in progress.
unsafe fn session<'a>(s: *mut c_void) -> Result<&'a SessionHandle, Status> {
    may_block()?;
    // SAFETY: forwarded to the caller: the HostSession lives on the run's stack until it ends.
    unsafe { (s as *const HostSession).as_ref() }
        .map(|h| &h.handle)
        .ok_or(Status::INVALID)
}

fn status(r: Result<(), ScriptError>) -> Result<Status, Status> {
    match r {
        Ok(()) => Ok(Status::OK),
        Err(ScriptError::HungUp) => Err(Status::HUNG_UP),
        Err(_) => Err(Status::ERROR),
    }
}

pub(super) unsafe extern "C" fn h_answer(s: *mut c_void) -> Status {
    // SAFETY: called by the application with the session it was given, during its run.
    catch(|| status(unsafe { session(s)? }.answer()))
}

pub(super) unsafe extern "C" fn h_hangup(s: *mut c_void, cause: StrRef) -> Status {
    catch(|| {
        // SAFETY: as in h_answer; the cause is valid for the call.
        let (h, cause) = unsafe { (session(s)?, arg(cause)?) };
        h.hangup(cause);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_ready(s: *mut c_void) -> u32 {
    let st = catch(|| {
        // SAFETY: as in h_answer.
        let h = unsafe { session(s)? };
        Ok(if h.ready() {
            Status::OK
        } else {
            Status::HUNG_UP
        })
    });
    u32::from(st == Status::OK)
}

pub(super) unsafe extern "C" fn h_get_var(s: *mut c_void, name: StrRef, out: StrSink) -> Status {
    catch(|| {
        // SAFETY: as in h_answer.
        let (h, name) = unsafe { (session(s)?, arg(name)?) };
        let v = h.get_variable(name).ok_or(Status::NOT_FOUND)?;
        write(out, &v);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_set_var(s: *mut c_void, name: StrRef, value: StrRef) -> Status {
    catch(|| {
        let unset = value.is_none();
        // SAFETY: as in h_answer.
        let (h, name, value) = unsafe { (session(s)?, arg(name)?, arg(value)?) };
        h.set_variable(name, (!unset).then_some(value));
        // A round trip on the same ordered channel: the variable is set when this returns, so
        // what the module does next (an event, an API reply) sees it.
        let _ = h.get_variable(name);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_play(
    s: *mut c_void,
    what: StrRef,
    stop_on: StrRef,
    digit: *mut u32,
) -> Status {
    catch(|| {
        // SAFETY: as in h_answer.
        let (h, what, stop_on) = unsafe { (session(s)?, arg(what)?, arg(stop_on)?) };
        let pb = match h.play(what, stop_on) {
            Ok(pb) => pb,
            Err(e) => return status(Err(e)),
        };
        let end = loop {
            if let PlayEvent::Done { end, .. } = pb.next_event() {
                break end;
            }
        };
        if let (PlayEnd::Digit(c), false) = (end, digit.is_null()) {
            // SAFETY: not null: the module's out parameter for this call.
            unsafe { *digit = c as u32 };
        }
        if h.ready() {
            Ok(Status::OK)
        } else {
            Err(Status::HUNG_UP)
        }
    })
}

pub(super) unsafe extern "C" fn h_collect(
    s: *mut c_void,
    max: u32,
    terminators: StrRef,
    first_ms: u32,
    inter_ms: u32,
    out: StrSink,
) -> Status {
    catch(|| {
        // SAFETY: as in h_answer.
        let (h, terms) = unsafe { (session(s)?, arg(terminators)?) };
        let d = h
            .collect_digits(
                max as usize,
                terms,
                Duration::from_millis(u64::from(first_ms)),
                Duration::from_millis(u64::from(inter_ms)),
            )
            .map_err(|_| Status::HUNG_UP)?;
        write(out, &d.digits);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_execute(s: *mut c_void, app: StrRef, args: StrRef) -> Status {
    catch(|| {
        // SAFETY: as in h_answer.
        let (h, app, args) = unsafe { (session(s)?, arg(app)?, arg(args)?) };
        status(h.execute(app, args))
    })
}

pub(super) unsafe extern "C" fn h_sleep(s: *mut c_void, ms: u32) -> Status {
    catch(|| {
        // SAFETY: as in h_answer.
        let h = unsafe { session(s)? };
        status(h.sleep(Duration::from_millis(u64::from(ms))))
    })
}
