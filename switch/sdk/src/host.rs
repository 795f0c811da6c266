//! [`Host`]: the switch as a module sees it, a safe face of [`HostApi`].

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use switch_abi::{EventRef, FrameRef, HeaderRef, HostApi, Status, StrRef};

use crate::shims::{self, sink};
use crate::{ApiCommand, Application, Error, Event, EventHandler, MediaTap, TtsEngine};

static HOST: AtomicPtr<HostApi> = AtomicPtr::new(ptr::null_mut());

/// Installs the host table (at init).
pub(crate) fn install(api: &'static HostApi) {
    HOST.store(api as *const HostApi as *mut HostApi, Ordering::SeqCst);
}

/// Forgets it (after shutdown).
pub(crate) fn uninstall() {
    HOST.store(ptr::null_mut(), Ordering::SeqCst);
}

/// Log levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something failed.
    Error,
    /// Something is wrong but goes on.
    Warn,
    /// What happened.
    Info,
    /// Details.
    Debug,
    /// Everything.
    Trace,
}

/// A subscription, for [`Host::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub u64);

/// A media tap, for [`Host::remove_tap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TapId(pub u64);

/// A timer, for [`Host::cancel_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId(pub u64);

/// The switch. Cheap to copy; valid from [`crate::Module::init`] until the module unloads.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    api: &'static HostApi,
}

fn check(status: Status, what: impl FnOnce() -> String) -> Result<Status, Error> {
    if status.is_ok() {
        Ok(status)
    } else {
        Err(Error::new(status, what()))
    }
}

impl Host {
    /// The switch, once the module was started (`None` in unit tests and after unload).
    pub fn get() -> Option<Host> {
        let p = HOST.load(Ordering::SeqCst);
        // SAFETY: a non-null pointer is the table given to init, valid until shutdown returns
        // (after which it is null again).
        unsafe { p.as_ref() }.map(|api| Host { api })
    }

    fn h(&self) -> *mut c_void {
        self.api.host
    }

    /// The raw table, for what the SDK does not wrap.
    pub fn raw(&self) -> &'static HostApi {
        self.api
    }

    /// The switch's version (`ferroswitch 0.1.0`).
    pub fn host_version(&self) -> &'static str {
        // SAFETY: the host's version string lives as long as the table.
        unsafe { self.api.host_version.as_str() }.unwrap_or("")
    }

    /// Logs `msg` under the module's name.
    pub fn log(&self, level: Level, msg: &str) {
        let l = match level {
            Level::Error => switch_abi::LOG_ERROR,
            Level::Warn => switch_abi::LOG_WARN,
            Level::Info => switch_abi::LOG_INFO,
            Level::Debug => switch_abi::LOG_DEBUG,
            Level::Trace => switch_abi::LOG_TRACE,
        };
        // SAFETY: host functions take the host pointer and borrowed strings valid for the call.
        unsafe { (self.api.log)(self.h(), l, StrRef::new(msg)) }
    }

    /// The text of `conf/modules/<name>.toml`, `None` when there is no such file.
    pub fn config_text(&self) -> Option<String> {
        let mut buf = Vec::new();
        // SAFETY: as in log; the sink's buffer outlives the call.
        let st = unsafe { (self.api.config_text)(self.h(), sink(&mut buf)) };
        st.is_ok()
            .then(|| String::from_utf8_lossy(&buf).into_owned())
    }

    /// The module's config file deserialized; `T::default()` when there is none. The error
    /// names the file and the line.
    pub fn config<T: DeserializeOwned + Default>(&self) -> Result<T, String> {
        let Some(text) = self.config_text() else {
            return Ok(T::default());
        };
        let file = self
            .setting("module.config_file")
            .unwrap_or_else(|| "module config".into());
        toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(l) => format!("{file}:{l}: {}", e.message()),
                None => format!("{file}: {}", e.message()),
            }
        })
    }

    /// A core setting: `media.recordings` (where relative recordings go), `media.sounds`,
    /// `conf.dir`, `db.dir` (where module databases go), `module.name`,
    /// `module.config_file`.
    pub fn setting(&self, key: &str) -> Option<String> {
        let mut buf = Vec::new();
        // SAFETY: as in config_text.
        let st = unsafe { (self.api.setting)(self.h(), StrRef::new(key), sink(&mut buf)) };
        st.is_ok()
            .then(|| String::from_utf8_lossy(&buf).into_owned())
    }

    /// Registers a dialplan application under `name`.
    pub fn register_app(
        &self,
        name: &str,
        description: &str,
        app: impl Application,
    ) -> Result<(), Error> {
        let vt = shims::app_vtable(app);
        // SAFETY: the vtable's data and functions stay valid until the host calls its drop.
        let st = unsafe {
            (self.api.register_app)(self.h(), StrRef::new(name), StrRef::new(description), vt)
        };
        check(st, || format!("register application {name}")).map(|_| ())
    }

    /// Registers a text-to-speech engine as `name` (ABI 1.1: an older switch answers
    /// [`Status::UNSUPPORTED`]).
    pub fn register_tts(
        &self,
        name: &str,
        description: &str,
        tts: impl TtsEngine,
    ) -> Result<(), Error> {
        if !self.api.has(core::mem::offset_of!(HostApi, register_tts)) {
            return Err(Error::new(
                Status::UNSUPPORTED,
                format!("register TTS engine {name}: this switch predates ABI 1.1"),
            ));
        }
        let vt = shims::tts_vtable(tts);
        // SAFETY: as in register_app.
        let st = unsafe {
            (self.api.register_tts)(self.h(), StrRef::new(name), StrRef::new(description), vt)
        };
        check(st, || format!("register TTS engine {name}")).map(|_| ())
    }

    /// Registers an API command: `usage` is its arguments (`<uuid> start|stop <path>`).
    pub fn register_api(
        &self,
        name: &str,
        usage: &str,
        description: &str,
        cmd: impl ApiCommand,
    ) -> Result<(), Error> {
        let vt = shims::api_vtable(cmd);
        // SAFETY: as in register_app.
        let st = unsafe {
            (self.api.register_api)(
                self.h(),
                StrRef::new(name),
                StrRef::new(usage),
                StrRef::new(description),
                vt,
            )
        };
        check(st, || format!("register API command {name}")).map(|_| ())
    }

    /// Subscribes to events, named as the event socket's `event` command names them
    /// (`CHANNEL_ANSWER`, `CUSTOM example::ping`, `ALL`), then optionally filtered as its
    /// `filter` command does, each `filter <header> <value>` one word each:
    /// `CHANNEL_HANGUP filter variable_cc_side agent` gets only the hangups of channels
    /// with that variable. Filtered-out events cost the module nothing (no queue, no
    /// wake-up of its event thread).
    pub fn subscribe(
        &self,
        spec: &str,
        handler: impl EventHandler,
    ) -> Result<SubscriptionId, Error> {
        let vt = shims::event_vtable(handler);
        let mut id = 0u64;
        // SAFETY: as in register_app; `id` outlives the call.
        let st = unsafe { (self.api.subscribe)(self.h(), StrRef::new(spec), vt, &mut id) };
        check(st, || format!("subscribe to {spec}")).map(|_| SubscriptionId(id))
    }

    /// Ends a subscription.
    pub fn unsubscribe(&self, id: SubscriptionId) -> Result<(), Error> {
        // SAFETY: plain values.
        let st = unsafe { (self.api.unsubscribe)(self.h(), id.0) };
        check(st, || format!("unsubscribe {}", id.0)).map(|_| ())
    }

    /// Fires an event on the switch's bus.
    pub fn fire(&self, event: &Event) -> Result<(), Error> {
        let headers: Vec<HeaderRef> = event
            .headers
            .iter()
            .map(|(n, v)| HeaderRef {
                name: StrRef::new(n),
                value: StrRef::new(v),
            })
            .collect();
        let raw = EventRef {
            name: StrRef::new(&event.name),
            subclass: event.subclass.as_deref().map_or(StrRef::NONE, StrRef::new),
            headers: headers.as_ptr(),
            headers_len: headers.len(),
            body: event.body.as_deref().map_or(StrRef::NONE, StrRef::new),
        };
        // SAFETY: `raw` and what it points to outlive the call.
        let st = unsafe { (self.api.fire_event)(self.h(), &raw) };
        check(st, || format!("fire {}", event.name)).map(|_| ())
    }

    /// Adds a media tap on channel `uuid`. Blocks until the call took it: call it from an
    /// application, an API command, a handler or a timer, not from another tap.
    pub fn add_tap(&self, uuid: &str, tap: impl MediaTap) -> Result<TapId, Error> {
        let vt = shims::tap_vtable(tap);
        let mut id = 0u64;
        // SAFETY: as in register_app.
        let st = unsafe { (self.api.add_tap)(self.h(), StrRef::new(uuid), 0, vt, &mut id) };
        check(st, || format!("add a tap on {uuid}")).map(|_| TapId(id))
    }

    /// Removes a tap (its `on_close` follows on the media task).
    pub fn remove_tap(&self, uuid: &str, id: TapId) -> Result<(), Error> {
        // SAFETY: borrowed string valid for the call.
        let st = unsafe { (self.api.remove_tap)(self.h(), StrRef::new(uuid), id.0) };
        check(st, || format!("remove tap {} from {uuid}", id.0)).map(|_| ())
    }

    /// Plays `samples` (mono, at `rate`) to channel `uuid` in place of what it hears.
    pub fn inject(&self, uuid: &str, rate: u32, samples: &[i16]) -> Result<(), Error> {
        let frame = FrameRef {
            samples: samples.as_ptr(),
            len: samples.len(),
            rate,
            channels: 1,
            timestamp_us: 0,
        };
        // SAFETY: the frame borrows `samples` for the call; the host copies them.
        let st = unsafe { (self.api.inject)(self.h(), StrRef::new(uuid), &frame, 0) };
        check(st, || format!("inject audio into {uuid}")).map(|_| ())
    }

    /// A channel variable of any live channel (`Ok(None)` when unset).
    pub fn channel_variable(&self, uuid: &str, name: &str) -> Result<Option<String>, Error> {
        let mut buf = Vec::new();
        // SAFETY: as in config_text.
        let st = unsafe {
            (self.api.channel_get_var)(
                self.h(),
                StrRef::new(uuid),
                StrRef::new(name),
                sink(&mut buf),
            )
        };
        match st {
            Status::NOT_FOUND if self.channel_exists(uuid) => Ok(None),
            st => check(st, || format!("get {name} of {uuid}"))
                .map(|_| Some(String::from_utf8_lossy(&buf).into_owned())),
        }
    }

    /// Whether channel `uuid` is live.
    pub fn channel_exists(&self, uuid: &str) -> bool {
        let mut buf = Vec::new();
        // SAFETY: as in config_text.
        let st = unsafe {
            (self.api.channel_get_var)(
                self.h(),
                StrRef::new(uuid),
                StrRef::new("uuid"),
                sink(&mut buf),
            )
        };
        st.is_ok()
    }

    /// Sets (or with `None` unsets) a channel variable of any live channel.
    pub fn set_channel_variable(
        &self,
        uuid: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<(), Error> {
        let v = value.map_or(StrRef::NONE, StrRef::new);
        // SAFETY: borrowed strings valid for the call.
        let st = unsafe {
            (self.api.channel_set_var)(self.h(), StrRef::new(uuid), StrRef::new(name), v)
        };
        check(st, || format!("set {name} of {uuid}")).map(|_| ())
    }

    /// Hangs up the call of channel `uuid` with a Q.850 cause name.
    pub fn hangup(&self, uuid: &str, cause: &str) -> Result<(), Error> {
        // SAFETY: borrowed strings valid for the call.
        let st =
            unsafe { (self.api.channel_hangup)(self.h(), StrRef::new(uuid), StrRef::new(cause)) };
        check(st, || format!("hang up {uuid}")).map(|_| ())
    }

    /// Attaches `value` to channel `uuid` under `key`, freed when the channel is destroyed
    /// (or the module unloads, or another value replaces it).
    pub fn set_private<T: Any + Send + Sync>(
        &self,
        uuid: &str,
        key: &str,
        value: T,
    ) -> Result<(), Error> {
        let vt = shims::private_vtable(value);
        // SAFETY: as in register_app.
        let st = unsafe {
            (self.api.channel_set_private)(self.h(), StrRef::new(uuid), StrRef::new(key), vt)
        };
        check(st, || format!("set private data {key} of {uuid}")).map(|_| ())
    }

    /// Runs `f` on the data of channel `uuid` under `key`; `None` when there is none or it
    /// is not a `T`. Do not call the private-data functions inside `f`.
    pub fn with_private<T: Any + Send + Sync, R, F: FnOnce(&T) -> R>(
        &self,
        uuid: &str,
        key: &str,
        f: F,
    ) -> Option<R> {
        struct Visit<F, R> {
            f: Option<F>,
            out: Option<R>,
        }
        unsafe extern "C" fn visit<T: Any, R, F: FnOnce(&T) -> R>(
            ctx: *mut c_void,
            data: *mut c_void,
        ) {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: `ctx` is the Visit below, alive for the channel_private call; `data`
                // is a Box<dyn Any + Send + Sync> made by private_vtable of this module, kept
                // alive by the host during this call.
                let (v, data) = unsafe {
                    (
                        &mut *(ctx as *mut Visit<F, R>),
                        &*(data as *const Box<dyn Any + Send + Sync>),
                    )
                };
                if let (Some(t), Some(f)) = (data.downcast_ref::<T>(), v.f.take()) {
                    v.out = Some(f(t));
                }
            }));
        }
        let mut v = Visit {
            f: Some(f),
            out: None,
        };
        // SAFETY: `v` outlives the call; `visit` matches the ctx it is given.
        let st = unsafe {
            (self.api.channel_private)(
                self.h(),
                StrRef::new(uuid),
                StrRef::new(key),
                visit::<T, R, F>,
                &mut v as *mut Visit<F, R> as *mut c_void,
            )
        };
        if st.is_ok() {
            v.out
        } else {
            None
        }
    }

    /// Runs an API command as the console would and returns its reply.
    pub fn api(&self, command: &str, args: &str) -> Result<String, Error> {
        let mut buf = Vec::new();
        // SAFETY: as in config_text.
        let st = unsafe {
            (self.api.api_execute)(
                self.h(),
                StrRef::new(command),
                StrRef::new(args),
                sink(&mut buf),
            )
        };
        check(st, || format!("api {command}")).map(|_| String::from_utf8_lossy(&buf).into_owned())
    }

    /// Runs `f` after `delay`, then every `repeat` while it returns `true`, on a host thread.
    pub fn timer(
        &self,
        delay: Duration,
        repeat: Option<Duration>,
        f: impl FnMut() -> bool + Send + 'static,
    ) -> Result<TimerId, Error> {
        let vt = shims::task_vtable(f);
        let mut id = 0u64;
        let ms = |d: Duration| d.as_millis().min(u128::from(u64::MAX)) as u64;
        // SAFETY: as in register_app.
        let st = unsafe {
            (self.api.timer)(
                self.h(),
                ms(delay),
                repeat.map_or(0, |r| ms(r).max(1)),
                vt,
                &mut id,
            )
        };
        check(st, || "start a timer".to_string()).map(|_| TimerId(id))
    }

    /// Cancels a timer.
    pub fn cancel_timer(&self, id: TimerId) -> Result<(), Error> {
        // SAFETY: plain values.
        let st = unsafe { (self.api.cancel_timer)(self.h(), id.0) };
        check(st, || format!("cancel timer {}", id.0)).map(|_| ())
    }

    /// Runs `f` once, soon, on a host thread.
    pub fn post(&self, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
        let mut f = Some(f);
        let vt = shims::task_vtable(move || {
            if let Some(f) = f.take() {
                f();
            }
            false
        });
        // SAFETY: as in register_app.
        let st = unsafe { (self.api.post)(self.h(), vt) };
        check(st, || "post work".to_string()).map(|_| ())
    }
}
