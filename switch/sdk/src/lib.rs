//! Writing ferroswitch modules in safe Rust.
//!
//! A module is a `cdylib` crate depending on this crate only. It implements [`Module`]
//! (started with a [`Host`], through which it registers what it offers) and names it in
//! [`declare_module!`], which exports the entry symbol and the `extern "C"` shims the switch
//! calls. Every shim catches panics: a panic becomes [`abi::Status::PANIC`], the switch
//! marks the module failed and hangs up the call the callback was working for.
//!
//! What a module can offer and use:
//! - dialplan applications ([`Application`], [`Host::register_app`]) running on a host
//!   thread with a blocking [`Session`] (answer, play, collect digits, variables, execute,
//!   hangup...), callable from the dialplan and from scripts' `session:execute`;
//! - API commands ([`ApiCommand`], [`Host::register_api`]) for the console, the event socket
//!   and scripts;
//! - event handlers ([`EventHandler`], [`Host::subscribe`]) and events of its own
//!   ([`Event::custom`], [`Host::fire`]);
//! - media taps ([`MediaTap`], [`Host::add_tap`]): 20 ms frames of a channel, both
//!   directions, and audio injected into a channel ([`Host::inject`]);
//! - text-to-speech engines ([`TtsEngine`], [`Host::register_tts`]) for `tts://` playbacks,
//!   `speak` and Lua's `session:speak`;
//! - its config file `conf/modules/<name>.toml` as text or as a serde struct
//!   ([`Host::config`]), core settings ([`Host::setting`]);
//! - a logger ([`info!`], [`warn!`], [`error!`], [`debug!`]), timers ([`Host::timer`]),
//!   work on host threads ([`Host::post`]), threads of its own that the switch joins at
//!   unload ([`spawn_thread`]), and per-channel data freed at hangup
//!   ([`Host::set_private`]).
//!
//! A module has its own copy of std (and of tokio, if it used it): it must never call
//! `tokio::spawn` (it would find no runtime). Use [`Host::post`], [`Host::timer`] and
//! [`spawn_thread`] instead.
//!
//! ```ignore
//! use switch_sdk::{declare_module, Host, Module, Session};
//!
//! struct Hello;
//!
//! impl Module for Hello {
//!     fn init(host: &Host) -> Result<Self, String> {
//!         host.register_app("hello", "answers and says hello", |s: &Session<'_>, _args: &str| {
//!             s.answer().map_err(|e| e.to_string())?;
//!             s.play("ivr/ivr-welcome.wav", "").map_err(|e| e.to_string())?;
//!             Ok(())
//!         })
//!         .map_err(|e| e.to_string())?;
//!         Ok(Hello)
//!     }
//! }
//!
//! declare_module! { name: "mod_hello", description: "says hello", module: Hello }
//! ```

mod event;
mod frame;
mod host;
mod session;
mod shims;
mod threads;

pub use event::{Event, EventView};
pub use frame::Frame;
pub use host::{Host, Level, SubscriptionId, TapId, TimerId};
pub use session::Session;
pub use threads::spawn_thread;

/// serde, for `#[derive(switch_sdk::serde::Deserialize)] #[serde(crate = "switch_sdk::serde")]`.
pub use serde;
/// The raw ABI, for what the SDK does not wrap.
pub use switch_abi as abi;
/// toml, to parse config text yourself.
pub use toml;

use std::fmt;

use switch_abi::Status;

/// A module: made by [`Module::init`] when the switch loads it, kept until it unloads.
pub trait Module: Send + Sync + 'static {
    /// Starts the module: read the config, register applications, commands, handlers.
    /// An `Err` refuses the load with that reason (what was registered is undone).
    fn init(host: &Host) -> Result<Self, String>
    where
        Self: Sized;

    /// Called at unload, after everything registered was removed and no callback runs.
    /// Stop your threads here (the SDK joins those of [`spawn_thread`] after this).
    fn shutdown(&self) {}
}

/// A dialplan application. Runs on a host thread of its own for each call; the session's
/// methods block until the call has done what they ask.
pub trait Application: Send + Sync + 'static {
    /// Runs on `session` with the action's arguments. An `Err` fails the action with the
    /// reason (logged; the dialplan goes on, as with a failed bridge).
    fn run(&self, session: &Session<'_>, args: &str) -> Result<(), String>;
}

impl<F> Application for F
where
    F: Fn(&Session<'_>, &str) -> Result<(), String> + Send + Sync + 'static,
{
    fn run(&self, session: &Session<'_>, args: &str) -> Result<(), String> {
        self(session, args)
    }
}

/// An API command, run on a host thread (it may block).
pub trait ApiCommand: Send + Sync + 'static {
    /// The reply to `args`: `Ok` text as is (`+OK ...` for actions, by convention), `Err`
    /// as `-ERR <reason>`.
    fn call(&self, args: &str) -> Result<String, String>;
}

impl<F> ApiCommand for F
where
    F: Fn(&str) -> Result<String, String> + Send + Sync + 'static,
{
    fn call(&self, args: &str) -> Result<String, String> {
        self(args)
    }
}

/// A text-to-speech engine ([`Host::register_tts`]): `tts://<name>|voice|text` playbacks,
/// the `speak` application and Lua's `session:speak` use it. Runs on a host thread that may
/// block.
pub trait TtsEngine: Send + Sync + 'static {
    /// `text` spoken with `voice` (empty: your default): the rate (8000, 16000 or 48000)
    /// and mono samples; `Err` with a reason the caller sees.
    fn synthesize(&self, voice: &str, text: &str) -> Result<(u32, Vec<i16>), String>;
}

impl<F> TtsEngine for F
where
    F: Fn(&str, &str) -> Result<(u32, Vec<i16>), String> + Send + Sync + 'static,
{
    fn synthesize(&self, voice: &str, text: &str) -> Result<(u32, Vec<i16>), String> {
        self(voice, text)
    }
}

/// What a tap wants after a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapAction {
    /// Keep sending frames.
    Continue,
    /// Remove the tap ([`MediaTap::on_close`] follows).
    Remove,
}

/// A media tap ("media bug"): 20 ms of a channel at a time, on the media task. It must not
/// block or take long: hand work to a thread of its own (see [`spawn_thread`]).
pub trait MediaTap: Send + 'static {
    /// What the channel sent (`read`) and what it heard (`write`), at the channel's rate.
    fn on_frame(&mut self, read: &Frame<'_>, write: &Frame<'_>) -> TapAction;

    /// The tap is removed, its call ended or the module unloads: finish up.
    fn on_close(&mut self) {}
}

/// Handles events of a subscription, one at a time, on a host thread.
pub trait EventHandler: Send + Sync + 'static {
    /// One event.
    fn on_event(&self, event: &EventView<'_>);
}

impl<F> EventHandler for F
where
    F: Fn(&EventView<'_>) + Send + Sync + 'static,
{
    fn on_event(&self, event: &EventView<'_>) {
        self(event)
    }
}

/// A host call that failed: its status and what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The status the host returned.
    pub status: Status,
    /// What failed (`add_tap on 3f2a...`).
    pub message: String,
}

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message, self.status)
    }
}

impl std::error::Error for Error {}

/// Logs through the switch (under the module's name); to standard error when no switch
/// is there (unit tests).
pub fn log(level: Level, msg: &str) {
    match Host::get() {
        Some(h) => h.log(level, msg),
        None => eprintln!("[{level:?}] {msg}"),
    }
}

/// Logs at error level: `switch_sdk::error!("cannot open {}", path)`.
#[macro_export]
macro_rules! error {
    ($($t:tt)*) => { $crate::log($crate::Level::Error, &format!($($t)*)) };
}

/// Logs at warning level.
#[macro_export]
macro_rules! warn {
    ($($t:tt)*) => { $crate::log($crate::Level::Warn, &format!($($t)*)) };
}

/// Logs at info level.
#[macro_export]
macro_rules! info {
    ($($t:tt)*) => { $crate::log($crate::Level::Info, &format!($($t)*)) };
}

/// Logs at debug level.
#[macro_export]
macro_rules! debug {
    ($($t:tt)*) => { $crate::log($crate::Level::Debug, &format!($($t)*)) };
}

/// Exports the module: the entry symbol `ferroswitch_module_v1` returning its descriptor,
/// whose `init` and `shutdown` shims start and stop `module` (a [`Module`]) with panics
/// caught. The version is the crate's (`CARGO_PKG_VERSION`).
///
/// ```ignore
/// switch_sdk::declare_module! {
///     name: "mod_example",
///     description: "a template: one application, one API command, one event",
///     module: Example,
/// }
/// ```
#[macro_export]
macro_rules! declare_module {
    (name: $name:expr, description: $desc:expr, module: $module:ty $(,)?) => {
        /// The module's entry point, called by the switch when it loads the library.
        #[no_mangle]
        pub extern "C" fn ferroswitch_module_v1() -> *const $crate::abi::ModuleDescriptor {
            static DESCRIPTOR: $crate::abi::ModuleDescriptor = $crate::abi::ModuleDescriptor {
                header: $crate::abi::Header::current(::core::mem::size_of::<
                    $crate::abi::ModuleDescriptor,
                >()),
                name: $crate::abi::StrRef::new($name),
                version: $crate::abi::StrRef::new(env!("CARGO_PKG_VERSION")),
                description: $crate::abi::StrRef::new($desc),
                compiler: $crate::abi::StrRef::new($crate::__private::RUSTC),
                sdk: $crate::abi::StrRef::new($crate::__private::SDK),
                init: $crate::__private::init::<$module>,
                shutdown: $crate::__private::shutdown,
            };
            &DESCRIPTOR
        }
    };
}

#[doc(hidden)]
pub mod __private {
    //! What [`declare_module!`] expands to; not an API.
    pub use crate::shims::{init, shutdown};
    /// The compiler that built the SDK (and so the module).
    pub const RUSTC: &str = env!("SWITCH_SDK_RUSTC");
    /// This SDK.
    pub const SDK: &str = concat!("switch-sdk ", env!("CARGO_PKG_VERSION"));

    /// The raw vtable of a tap, for benchmarks that drive a module's tap without a call.
    pub fn tap_vtable<T: crate::MediaTap>(tap: T) -> switch_abi::TapVtable {
        crate::shims::tap_vtable(tap)
    }
}

#[cfg(test)]
mod tests;
