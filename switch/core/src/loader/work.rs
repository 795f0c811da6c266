//! Host functions for events, timers and posted work. Each subscription has a host thread
//! of its own delivering events one at a time; timers are runtime tasks whose runs happen
//! on the blocking pool; nothing of the module runs on the async threads.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use switch_abi::{EventRef, EventVtable, HeaderRef, Status, StrRef, TaskVtable};

use super::host::{arg, catch, context, record, Owned};
use super::record::SubReg;
use crate::event::{Event, Interest, DEFAULT_QUEUE};

pub(super) unsafe extern "C" fn h_subscribe(
    host: *mut c_void,
    spec: StrRef,
    handler: EventVtable,
    id: *mut u64,
) -> Status {
    catch(|| {
        // SAFETY: called by the module with its host pointer; strings valid for the call.
        let rec = unsafe { super::host::record(host)? };
        let obj = Owned::new(
            rec.arc().ok_or(Status::UNLOADING)?,
            handler.data,
            handler.drop,
        );
        // SAFETY: as above.
        let spec = unsafe { arg(spec)? }.to_string();
        if id.is_null() {
            return Err(Status::INVALID);
        }
        let interest = Interest::from_spec(&spec).map_err(|_| Status::INVALID)?;
        let ctx = context(rec)?;
        let mut sub =
            ctx.events
                .subscribe(&format!("module {}", rec.name()), interest, DEFAULT_QUEUE);
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let n = ctx.modules.next_id();
        let rt = rec.rt.clone();
        let event_fn = handler.event;
        let thread = std::thread::Builder::new()
            .name(format!("{}-events", rec.name()))
            .spawn(move || loop {
                let ev = rt.block_on(async {
                    tokio::select! {
                        e = sub.recv() => e,
                        _ = &mut stop_rx => None,
                    }
                });
                let Some(ev) = ev else { break };
                let Some(_in) = obj.rec.enter() else { break };
                if deliver(&obj, event_fn, &ev) == Status::PANIC {
                    obj.rec.fail("panicked in an event handler", None);
                    break;
                }
            })
            .map_err(|_| Status::ERROR)?;
        rec.regs().subs.insert(
            n,
            SubReg {
                spec,
                stop: Some(stop_tx),
                thread: Some(thread),
            },
        );
        // SAFETY: checked not null; the module's out parameter for this call.
        unsafe { *id = n };
        Ok(Status::OK)
    })
}

/// Hands one event to the module's handler.
fn deliver(
    obj: &Owned,
    event_fn: unsafe extern "C" fn(*mut c_void, *const EventRef) -> Status,
    ev: &Event,
) -> Status {
    let headers: Vec<HeaderRef> = ev
        .headers()
        .map(|(n, v)| HeaderRef {
            name: StrRef::new(n),
            value: StrRef::new(v),
        })
        .collect();
    let raw = EventRef {
        name: StrRef::new(ev.name()),
        subclass: ev.subclass().map_or(StrRef::NONE, StrRef::new),
        headers: headers.as_ptr(),
        headers_len: headers.len(),
        body: ev.body().map_or(StrRef::NONE, StrRef::new),
    };
    // SAFETY: the module's own handler and data; the event and its strings outlive the call.
    unsafe { event_fn(obj.data, &raw) }
}

/// Stops a subscription's thread (joining it unless it is the caller's own).
pub(super) fn stop_subscription(mut s: SubReg) {
    if let Some(stop) = s.stop.take() {
        let _ = stop.send(());
    }
    if let Some(t) = s.thread.take() {
        if t.thread().id() != std::thread::current().id() {
            let _ = t.join();
        }
    }
}

pub(super) unsafe extern "C" fn h_unsubscribe(host: *mut c_void, id: u64) -> Status {
    catch(|| {
        // SAFETY: as in h_subscribe.
        let rec = unsafe { record(host)? };
        let sub = rec.regs().subs.remove(&id).ok_or(Status::NOT_FOUND)?;
        stop_subscription(sub);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_fire_event(host: *mut c_void, event: *const EventRef) -> Status {
    catch(|| {
        // SAFETY: as in h_subscribe; the event is valid for the call.
        let (rec, raw) = unsafe { (record(host)?, event.as_ref().ok_or(Status::INVALID)?) };
        // SAFETY: the event's strings and headers are valid for the call.
        let (name, subclass, headers, body) = unsafe {
            (
                arg(raw.name)?,
                arg(raw.subclass)?,
                raw.headers(),
                arg(raw.body)?,
            )
        };
        let mut e = if name == "CUSTOM" || name.is_empty() {
            if subclass.is_empty() {
                return Err(Status::INVALID);
            }
            Event::custom(subclass)
        } else {
            if crate::event::is_event_name(name).is_none() {
                return Err(Status::INVALID);
            }
            Event::new(name)
        };
        for h in headers {
            // SAFETY: as above.
            let (n, v) = unsafe { (arg(h.name)?, arg(h.value)?) };
            e.add(n, v);
        }
        if !raw.body.is_none() {
            e.set_body(body);
        }
        context(rec)?.events.fire(e);
        Ok(Status::OK)
    })
}

/// A task of the module and its run function.
struct Task {
    obj: Owned,
    run: unsafe extern "C" fn(*mut c_void) -> Status,
}

impl Task {
    /// One run, on the current (blocking) thread.
    fn run_once(&self, what: &str) -> Status {
        let Some(_in) = self.obj.rec.enter() else {
            return Status::UNLOADING;
        };
        // SAFETY: the module's own function and data; runs are sequential.
        let st = unsafe { (self.run)(self.obj.data) };
        if st == Status::PANIC {
            self.obj.rec.fail(&format!("panicked in {what}"), None);
        }
        st
    }
}

pub(super) unsafe extern "C" fn h_timer(
    host: *mut c_void,
    delay_ms: u64,
    repeat_ms: u64,
    task: TaskVtable,
    id: *mut u64,
) -> Status {
    catch(|| {
        // SAFETY: as in h_subscribe.
        let rec = unsafe { record(host)? };
        let task = Arc::new(Task {
            obj: Owned::new(rec.arc().ok_or(Status::UNLOADING)?, task.data, task.drop),
            run: task.run,
        });
        if id.is_null() {
            return Err(Status::INVALID);
        }
        let ctx = context(rec)?;
        let n = ctx.modules.next_id();
        let owner = task.obj.rec.clone();
        let mut regs = rec.regs();
        let handle = rec.rt.spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            loop {
                let t = task.clone();
                let st = tokio::task::spawn_blocking(move || t.run_once("a timer"))
                    .await
                    .unwrap_or(Status::PANIC);
                if st != Status::OK || repeat_ms == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(repeat_ms)).await;
            }
            owner.regs().timers.remove(&n);
        });
        regs.timers.insert(n, handle);
        // SAFETY: checked not null.
        unsafe { *id = n };
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_cancel_timer(host: *mut c_void, id: u64) -> Status {
    catch(|| {
        // SAFETY: as in h_subscribe.
        let rec = unsafe { record(host)? };
        let t = rec.regs().timers.remove(&id).ok_or(Status::NOT_FOUND)?;
        t.abort();
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_post(host: *mut c_void, task: TaskVtable) -> Status {
    catch(|| {
        // SAFETY: as in h_subscribe.
        let rec = unsafe { record(host)? };
        let task = Task {
            obj: Owned::new(rec.arc().ok_or(Status::UNLOADING)?, task.data, task.drop),
            run: task.run,
        };
        rec.rt.spawn_blocking(move || {
            task.run_once("posted work");
        });
        Ok(Status::OK)
    })
}
