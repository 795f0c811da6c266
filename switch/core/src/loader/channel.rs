//! Host functions on channels by uuid: media taps (and [`ModuleTap`], the core tap that
//! calls a module's), injected audio, variables, hangup, per-channel private data, and
//! running API commands. They block on the call or the relay, so they refuse to run where
//! blocking is not allowed (see `host::may_block`).

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use switch_abi::{FrameRef, PrivateVtable, Status, StrRef, StrSink, TapVtable};
use tokio::sync::oneshot;

use super::host::{arg, catch, context, may_block, record, write, NoBlock, Owned};
use super::record::{ModuleRecord, TapReg};
use crate::api::control::call_of;
use crate::call::{CallEvent, Control};
use crate::context::Context;
use crate::media::{Play, PlayItem, Relay, Side, Sound, Tap};

/// How long a call may take to answer the loader.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// Hangs up the call of `uuid` with `cause`, first setting `hangup_cause_detail`.
pub(super) fn hang_up(ctx: &Context, uuid: &str, cause: &str, detail: Option<&str>) -> bool {
    let Some(call) = call_of(ctx, uuid) else {
        return false;
    };
    if let Some(d) = detail {
        let (reply, _) = oneshot::channel();
        let _ = call.send(CallEvent::Control(Control::SetVar {
            leg: uuid.to_string(),
            name: "hangup_cause_detail".into(),
            value: Some(d.to_string()),
            reply,
        }));
    }
    call.send(CallEvent::Hangup {
        cause: cause.to_string(),
    })
    .is_ok()
}

/// The relay and side of channel `uuid`.
fn media_of(rec: &ModuleRecord, ctx: &Context, uuid: &str) -> Result<(Relay, Side), Status> {
    let call = call_of(ctx, uuid).ok_or(Status::NOT_FOUND)?;
    let (reply, rx) = oneshot::channel();
    call.send(CallEvent::Control(Control::Media {
        leg: uuid.to_string(),
        reply,
    }))
    .map_err(|_| Status::NOT_FOUND)?;
    match rec
        .rt
        .block_on(async { tokio::time::timeout(REPLY_TIMEOUT, rx).await })
    {
        Ok(Ok(Some(m))) => Ok(m),
        Ok(Ok(None)) | Ok(Err(_)) => Err(Status::NOT_FOUND),
        Err(_) => Err(Status::TIMEOUT),
    }
}

/// A module's tap on a relay: calls the module's frame function each 20 ms.
pub(crate) struct ModuleTap {
    rec: Arc<ModuleRecord>,
    vt: TapVtable,
    uuid: String,
    id: u64,
    ts_us: u64,
    closed: bool,
}

// SAFETY: the SDK requires taps to be Send; the relay calls a tap from one task at a time.
unsafe impl Send for ModuleTap {}

impl ModuleTap {
    /// A tap calling `vt` for channel `uuid`.
    pub(super) fn new(rec: Arc<ModuleRecord>, vt: TapVtable, uuid: &str, id: u64) -> ModuleTap {
        ModuleTap {
            rec,
            vt,
            uuid: uuid.to_string(),
            id,
            ts_us: 0,
            closed: false,
        }
    }

    fn finish(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let _nb = NoBlock::enter();
        // SAFETY: the module's close for its own data, once, last; the library is open as long
        // as this holds the record.
        unsafe { (self.vt.close)(self.vt.data) };
        self.rec.regs().taps.remove(&self.id);
    }
}

fn frame_ref(f: &switch_media::Frame, ts_us: u64) -> FrameRef {
    let s = f.samples();
    FrameRef {
        samples: s.as_ptr(),
        len: s.len(),
        rate: f.rate(),
        channels: 1,
        timestamp_us: ts_us,
    }
}

impl Tap for ModuleTap {
    fn on_frame(&mut self, read: &switch_media::Frame, write: &switch_media::Frame) -> bool {
        let Some(_in) = self.rec.enter() else {
            return false;
        };
        let _nb = NoBlock::enter();
        let (r, w) = (frame_ref(read, self.ts_us), frame_ref(write, self.ts_us));
        self.ts_us += 20_000;
        // SAFETY: the module's frame function with its data; both frames borrow samples that
        // live through the call.
        let st = unsafe { (self.vt.frame)(self.vt.data, &r, &w) };
        match st {
            Status::OK => true,
            Status::DONE => false,
            Status::PANIC => {
                self.rec.fail("panicked in a media tap", Some(&self.uuid));
                false
            }
            other => {
                tracing::debug!(module = %self.rec.name(), uuid = %self.uuid, status = %other, "tap removed");
                false
            }
        }
    }

    fn close(&mut self) {
        self.finish();
    }
}

impl Drop for ModuleTap {
    fn drop(&mut self) {
        self.finish();
    }
}

pub(super) unsafe extern "C" fn h_add_tap(
    host: *mut c_void,
    uuid: StrRef,
    flags: u32,
    tap: TapVtable,
    id: *mut u64,
) -> Status {
    catch(|| {
        // SAFETY: called by the module with its host pointer.
        let rec = unsafe { record(host)? };
        let ctx = context(rec)?;
        let n = ctx.modules.next_id();
        // From here any early return closes the tap.
        let mut mt = ModuleTap {
            rec: rec.arc().ok_or(Status::UNLOADING)?,
            vt: tap,
            uuid: String::new(),
            id: n,
            ts_us: 0,
            closed: false,
        };
        // SAFETY: valid for the call.
        let uuid = unsafe { arg(uuid)? }.to_string();
        if flags != 0 || id.is_null() {
            return Err(Status::INVALID);
        }
        may_block()?;
        let (relay, side) = media_of(rec, &ctx, &uuid)?;
        mt.uuid = uuid.clone();
        rec.regs().taps.insert(
            n,
            TapReg {
                uuid: uuid.clone(),
                relay: relay.clone(),
                side,
            },
        );
        if let Err(e) = rec.rt.block_on(relay.add_tap(side, n, Box::new(mt))) {
            tracing::warn!(module = %rec.name(), %uuid, error = %e, "tap refused");
            rec.regs().taps.remove(&n);
            return Err(Status::INVALID);
        }
        // SAFETY: checked not null.
        unsafe { *id = n };
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_remove_tap(host: *mut c_void, uuid: StrRef, id: u64) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let (rec, _uuid) = unsafe { (record(host)?, arg(uuid)?) };
        may_block()?;
        let reg = rec.regs().taps.remove(&id).ok_or(Status::NOT_FOUND)?;
        rec.rt.block_on(reg.relay.remove_tap(reg.side, id));
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_inject(
    host: *mut c_void,
    uuid: StrRef,
    audio: *const FrameRef,
    flags: u32,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap; the frame and its samples are valid for the call.
        let (rec, uuid, audio) = unsafe {
            (
                record(host)?,
                arg(uuid)?,
                audio.as_ref().ok_or(Status::INVALID)?,
            )
        };
        if flags != 0 || audio.channels > 1 || ![8000, 16000, 48000].contains(&audio.rate) {
            return Err(Status::INVALID);
        }
        may_block()?;
        let ctx = context(rec)?;
        // SAFETY: as above.
        let samples: Arc<[i16]> = unsafe { audio.as_slice() }.into();
        let (relay, side) = media_of(rec, &ctx, uuid)?;
        let sound = Sound {
            samples,
            rate: audio.rate,
        };
        let play = Play::once(ctx.modules.next_id(), vec![PlayItem::Sound(sound)]);
        rec.rt
            .block_on(relay.play(side, play))
            .map_err(|_| Status::INVALID)?;
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_channel_get_var(
    host: *mut c_void,
    uuid: StrRef,
    name: StrRef,
    out: StrSink,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let (rec, uuid, name) = unsafe { (record(host)?, arg(uuid)?, arg(name)?) };
        may_block()?;
        let ctx = context(rec)?;
        let calls = ctx.api.call_control();
        match rec.rt.block_on(calls.getvar(&ctx, uuid, name)) {
            Ok(Some(v)) => {
                write(out, &v);
                Ok(Status::OK)
            }
            Ok(None) | Err(_) => Err(Status::NOT_FOUND),
        }
    })
}

pub(super) unsafe extern "C" fn h_channel_set_var(
    host: *mut c_void,
    uuid: StrRef,
    name: StrRef,
    value: StrRef,
) -> Status {
    catch(|| {
        let unset = value.is_none();
        // SAFETY: as in h_add_tap.
        let (rec, uuid, name, value) =
            unsafe { (record(host)?, arg(uuid)?, arg(name)?, arg(value)?) };
        may_block()?;
        let ctx = context(rec)?;
        let value = (!unset).then_some(value);
        let calls = ctx.api.call_control();
        rec.rt
            .block_on(calls.setvar(&ctx, uuid, name, value))
            .map_err(|_| Status::NOT_FOUND)?;
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_channel_hangup(
    host: *mut c_void,
    uuid: StrRef,
    cause: StrRef,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let (rec, uuid, cause) = unsafe { (record(host)?, arg(uuid)?, arg(cause)?) };
        let ctx = context(rec)?;
        let cause = if cause.trim().is_empty() {
            "NORMAL_CLEARING"
        } else {
            cause.trim()
        };
        if hang_up(&ctx, uuid, cause, None) {
            Ok(Status::OK)
        } else {
            Err(Status::NOT_FOUND)
        }
    })
}

/// Per-channel data of one module.
pub(super) struct PrivateEntry {
    pub key: String,
    pub obj: Owned,
}

pub(super) unsafe extern "C" fn h_channel_set_private(
    host: *mut c_void,
    uuid: StrRef,
    key: StrRef,
    data: PrivateVtable,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let rec = unsafe { record(host)? };
        let obj = Owned::new(rec.arc().ok_or(Status::UNLOADING)?, data.data, data.drop);
        // SAFETY: as above.
        let (uuid, key) = unsafe { (arg(uuid)?, arg(key)?) };
        let ctx = context(rec)?;
        if ctx.channels.get(uuid).is_none() {
            return Err(Status::NOT_FOUND);
        }
        let old = ctx.modules.set_private(
            uuid,
            PrivateEntry {
                key: key.to_string(),
                obj,
            },
        );
        drop(old);
        Ok(Status::OK)
    })
}

pub(super) unsafe extern "C" fn h_channel_private(
    host: *mut c_void,
    uuid: StrRef,
    key: StrRef,
    visit: unsafe extern "C" fn(*mut c_void, *mut c_void),
    vctx: *mut c_void,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let (rec, uuid, key) = unsafe { (record(host)?, arg(uuid)?, arg(key)?) };
        let ctx = context(rec)?;
        let found = ctx.modules.with_private(uuid, rec.name(), key, |data| {
            // SAFETY: the module's visit function with its own context; `data` is held under the
            // lock for the call.
            unsafe { visit(vctx, data) }
        });
        found.then_some(Status::OK).ok_or(Status::NOT_FOUND)
    })
}

pub(super) unsafe extern "C" fn h_api_execute(
    host: *mut c_void,
    command: StrRef,
    args: StrRef,
    out: StrSink,
) -> Status {
    catch(|| {
        // SAFETY: as in h_add_tap.
        let (rec, command, args) = unsafe { (record(host)?, arg(command)?, arg(args)?) };
        may_block()?;
        let ctx = context(rec)?;
        let reply = rec
            .rt
            .block_on(crate::api::execute_command(&ctx, command, args));
        write(out, &reply);
        Ok(Status::OK)
    })
}
