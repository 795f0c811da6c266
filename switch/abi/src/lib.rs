//! The module boundary of ferroswitch: plain `#[repr(C)]` data and `extern "C"` function
//! tables, versioned, with no dependencies.
//!
//! A module is a shared library (a Rust `cdylib`) exporting one symbol, [`ENTRY_SYMBOL`]
//! (`ferroswitch_module_v1`: the major ABI version is in the name), an [`EntryFn`] that
//! returns a [`ModuleDescriptor`]. The switch checks the descriptor's [`Header`] (magic,
//! ABI major and minor, size), then calls its `init` with a [`HostApi`]: a table of host
//! functions through which the module registers applications, API commands, event
//! handlers and media taps. Everything the module registers is a *vtable*: an opaque
//! `data` pointer of the module's plus `extern "C"` functions the host calls with it.
//!
//! Module authors do not use this crate directly: `switch-sdk` wraps it in safe traits and
//! a `declare_module!` macro.
//!
//! # DESIGN note: why plain C function tables
//!
//! The choice was between this, `abi_stable` and `stabby`. Plain tables won:
//! - **What crosses is small and flat**: strings, 20 ms frames of i16, a few integers, and
//!   callbacks. Nothing needs a Rust trait object, `Vec` or `String` across the boundary,
//!   which is what those crates are for.
//! - **Any compiler, any workspace**: `#[repr(C)]` layouts and `extern "C"` calls are fixed
//!   by the platform C ABI, not by rustc. A module built by another rustc (or in C) works
//!   as long as it speaks the same ABI major. The compiler version string in the descriptor
//!   is for `show modules` and bug reports only.
//! - **No dependency in the hot path**: a media tap costs one indirect call with two
//!   borrowed [`FrameRef`]s, no allocation, no layout check per call.
//! - **Readable and auditable**: this file is the whole contract; `abi_stable` generates
//!   layout-checked types through derive macros and pins both sides to its own versions,
//!   and `stabby` is young and changes its encodings between releases.
//!
//! The cost is `unsafe` at both ends, kept to `switch-sdk` (module side) and the switch's
//! `loader` (host side), each call documented with its SAFETY argument.
//!
//! # The rules (what "compatible" means)
//! 1. [`Header`] never changes: magic, major, minor, size, in that order, in every major.
//! 2. Within a major, structs only grow: new fields (function pointers mostly) are
//!    appended, with a new minor. Nothing is removed, reordered or retyped.
//! 3. Each side writes the `size` of the struct as it was built. A reader uses a field only
//!    if `offset + size_of(field) <= size` ([`HostApi::has`]). So a module built for minor
//!    0 runs on a host of minor 3, and a module built for minor 3 runs on a host of minor
//!    0 as long as it checks before calling what minor 0 lacks.
//!
//! Minor 1 appended [`HostApi::register_tts`] (text-to-speech engines, [`TtsVtable`]).
//! 4. A different major is refused, naming both versions ([`check_header`]).
//! 5. Memory is freed by whoever allocated it: the host never frees module memory (it calls
//!    the vtable's `drop`/`close`), and strings the host gives back are written into a
//!    [`StrSink`] the receiver owns. Borrowed data ([`StrRef`], [`FrameRef`], [`EventRef`])
//!    is valid only during the call that passes it.
//! 6. No panic crosses: every `extern "C"` function on either side catches unwinding and
//!    returns [`Status::PANIC`] (Rust aborts the process when a panic leaves an
//!    `extern "C"` function).
//! 7. Callbacks may come from any thread; module data must be `Send + Sync` where it is
//!    shared. Media taps are called on the media task: they must not block.

mod host;
mod module;
mod types;

pub use host::{HostApi, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN};
pub use module::{
    ApiVtable, AppVtable, EntryFn, EventVtable, ModuleDescriptor, PrivateVtable, SessionRef,
    TapVtable, TaskVtable, TtsVtable,
};
pub use types::{EventRef, FrameRef, HeaderRef, StrRef, StrSink};

use core::fmt;

/// The ABI major version this crate describes. A module of another major is refused.
pub const ABI_MAJOR: u32 = 1;
/// The ABI minor version: tables have grown this many times within the major.
pub const ABI_MINOR: u32 = 1;
/// The first field of every descriptor and host table: `FERROMOD` in ASCII.
pub const MAGIC: u64 = u64::from_le_bytes(*b"FERROMOD");
/// The symbol a module exports, NUL-terminated: its major version is in the name.
pub const ENTRY_SYMBOL: &[u8] = b"ferroswitch_module_v1\0";

/// The entry symbol of another major version (`ferroswitch_module_v7`), NUL-terminated:
/// the host looks for these to name the version of a module it cannot load.
pub fn entry_symbol(major: u32) -> Vec<u8> {
    format!("ferroswitch_module_v{major}\0").into_bytes()
}

/// The start of [`ModuleDescriptor`] and [`HostApi`], the same in every major version, so
/// that either side can tell what the other was built for before reading anything else.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// [`MAGIC`].
    pub magic: u64,
    /// The ABI major version the struct was built for.
    pub abi_major: u32,
    /// The ABI minor version it was built for.
    pub abi_minor: u32,
    /// `size_of` the whole struct as it was built (it only grows within a major).
    pub size: usize,
}

impl Header {
    /// A header for a struct of `size` bytes built against this crate.
    pub const fn current(size: usize) -> Header {
        Header {
            magic: MAGIC,
            abi_major: ABI_MAJOR,
            abi_minor: ABI_MINOR,
            size,
        }
    }
}

/// Why a descriptor or host table cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionError {
    /// The first 8 bytes are not [`MAGIC`]: not a ferroswitch module (or memory garbage).
    Magic(u64),
    /// Built for another major version.
    Major {
        /// What the other side was built for (major, minor).
        theirs: (u32, u32),
        /// What this side speaks (major, minor).
        ours: (u32, u32),
    },
    /// Smaller than the smallest struct of this major (a truncated or corrupt table).
    TooSmall {
        /// The size it claims.
        size: usize,
        /// The least this major needs.
        need: usize,
    },
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionError::Magic(m) => write!(
                f,
                "bad magic {m:#018x}: not a ferroswitch module descriptor"
            ),
            VersionError::Major { theirs, ours } => write!(
                f,
                "built for module ABI {}.{}, this switch speaks ABI {}.{}: a different major \
                 version cannot load (rebuild it against switch-sdk for ABI {})",
                theirs.0, theirs.1, ours.0, ours.1, ours.0
            ),
            VersionError::TooSmall { size, need } => write!(
                f,
                "descriptor of {size} bytes is smaller than the {need} bytes ABI {ABI_MAJOR}.0 defines"
            ),
        }
    }
}

impl std::error::Error for VersionError {}

/// Checks a header read from the other side: the magic, the same major (any minor), and at
/// least `min_size` bytes (the size of the struct at minor 0 of this major).
pub fn check_header(h: &Header, min_size: usize) -> Result<(), VersionError> {
    if h.magic != MAGIC {
        return Err(VersionError::Magic(h.magic));
    }
    if h.abi_major != ABI_MAJOR {
        return Err(VersionError::Major {
            theirs: (h.abi_major, h.abi_minor),
            ours: (ABI_MAJOR, ABI_MINOR),
        });
    }
    if h.size < min_size {
        return Err(VersionError::TooSmall {
            size: h.size,
            need: min_size,
        });
    }
    Ok(())
}

/// The result of every call across the boundary. Zero and positive values are successes.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    /// Done as asked.
    pub const OK: Status = Status(0);
    /// Success, and stop: a tap asks to be removed, a repeating timer to end.
    pub const DONE: Status = Status(1);
    /// Failed; the details went to the error sink or the log.
    pub const ERROR: Status = Status(-1);
    /// The callee panicked (caught at the boundary): the host marks the module failed.
    pub const PANIC: Status = Status(-2);
    /// No such channel, command, subscription, timer, file or key.
    pub const NOT_FOUND: Status = Status(-3);
    /// The channel hung up.
    pub const HUNG_UP: Status = Status(-4);
    /// A bad argument: not UTF-8, a null pointer, unknown flags.
    pub const INVALID: Status = Status(-5);
    /// The other side does not offer this (an older minor, a disabled feature).
    pub const UNSUPPORTED: Status = Status(-6);
    /// The name is taken (an application or command registered twice).
    pub const EXISTS: Status = Status(-7);
    /// A blocking function called where it must not block (the media task, the runtime).
    pub const WOULD_BLOCK: Status = Status(-8);
    /// The operation took too long.
    pub const TIMEOUT: Status = Status(-9);
    /// The module is being unloaded or has failed: no new work is taken.
    pub const UNLOADING: Status = Status(-10);

    /// Whether this is a success (`OK`, `DONE` or another non-negative value).
    pub const fn is_ok(self) -> bool {
        self.0 >= 0
    }

    /// The constant's name, for messages (`"NOT_FOUND"`), or `"STATUS(n)"`.
    pub fn name(self) -> String {
        let n = match self {
            Status::OK => "OK",
            Status::DONE => "DONE",
            Status::ERROR => "ERROR",
            Status::PANIC => "PANIC",
            Status::NOT_FOUND => "NOT_FOUND",
            Status::HUNG_UP => "HUNG_UP",
            Status::INVALID => "INVALID",
            Status::UNSUPPORTED => "UNSUPPORTED",
            Status::EXISTS => "EXISTS",
            Status::WOULD_BLOCK => "WOULD_BLOCK",
            Status::TIMEOUT => "TIMEOUT",
            Status::UNLOADING => "UNLOADING",
            other => return format!("STATUS({})", other.0),
        };
        n.to_string()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests;
