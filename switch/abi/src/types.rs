//! The data that crosses the boundary: borrowed strings, frames and events, and the sink
//! through which strings come back.

use core::ffi::c_void;

/// A borrowed UTF-8 string: pointer and length, no NUL. Valid only during the call that
/// passes it. A null `ptr` is "no value" (distinct from the empty string) where a function
/// says so.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StrRef {
    /// The first byte (may be null when `len` is 0).
    pub ptr: *const u8,
    /// Bytes, not characters.
    pub len: usize,
}

// SAFETY: a StrRef is a read-only view; the rules of the ABI make whoever passes one keep the
// bytes alive and unchanged for the call, and descriptors only hold 'static ones.
unsafe impl Send for StrRef {}
// SAFETY: as above: nobody writes through it.
unsafe impl Sync for StrRef {}

impl StrRef {
    /// The "no value" string (null pointer).
    pub const NONE: StrRef = StrRef {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// A view of `s` (for a `'static` string, usable in a `static`).
    pub const fn new(s: &str) -> StrRef {
        StrRef {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// A view of raw bytes (PCM samples through a [`StrSink`], which carries bytes).
    pub const fn from_bytes(b: &[u8]) -> StrRef {
        StrRef {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }

    /// Whether this is [`StrRef::NONE`].
    pub fn is_none(&self) -> bool {
        self.ptr.is_null()
    }

    /// The bytes (empty for a null pointer).
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that stay valid and unchanged for `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees ptr/len describe live bytes for 'a.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The string, or `None` when it is not UTF-8.
    ///
    /// # Safety
    /// As [`StrRef::as_bytes`].
    pub unsafe fn as_str<'a>(&self) -> Option<&'a str> {
        // SAFETY: forwarded to the caller.
        core::str::from_utf8(unsafe { self.as_bytes() }).ok()
    }
}

/// Where a callee writes a string for its caller: it calls `write` zero or more times, each
/// call appending; the caller copies the bytes into memory of its own. So no allocation
/// ever changes sides.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StrSink {
    /// The caller's buffer (opaque to the callee).
    pub ctx: *mut c_void,
    /// Appends `s` (valid during the call) to the caller's buffer.
    pub write: unsafe extern "C" fn(ctx: *mut c_void, s: StrRef),
}

/// 20 ms of audio, borrowed: interleaved i16 samples. Valid only during the callback.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FrameRef {
    /// The first sample.
    pub samples: *const i16,
    /// Samples in all channels (`rate / 50 * channels` for a 20 ms frame).
    pub len: usize,
    /// Sample rate in Hz (8000, 16000 or 48000).
    pub rate: u32,
    /// Interleaved channels (1 for a side of a call).
    pub channels: u32,
    /// Media time of the first sample in µs since the tap was added.
    pub timestamp_us: u64,
}

impl FrameRef {
    /// The samples.
    ///
    /// # Safety
    /// `samples` must point to `len` readable i16 values that live for `'a`.
    pub unsafe fn as_slice<'a>(&self) -> &'a [i16] {
        if self.samples.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees the pointer and length.
        unsafe { core::slice::from_raw_parts(self.samples, self.len) }
    }
}

/// One header of an event.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HeaderRef {
    /// Header name (`Unique-ID`).
    pub name: StrRef,
    /// Its value.
    pub value: StrRef,
}

/// An event, borrowed: FreeSWITCH's name, subclass (for `CUSTOM`), ordered headers and an
/// optional body.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EventRef {
    /// `CHANNEL_ANSWER`, `CUSTOM`...
    pub name: StrRef,
    /// `Event-Subclass` of a `CUSTOM` event (`example::ping`); [`StrRef::NONE`] otherwise.
    pub subclass: StrRef,
    /// The headers (`Event-Name` included when the host delivers an event).
    pub headers: *const HeaderRef,
    /// How many.
    pub headers_len: usize,
    /// The body, or [`StrRef::NONE`].
    pub body: StrRef,
}

impl EventRef {
    /// The headers.
    ///
    /// # Safety
    /// `headers` must point to `headers_len` values that live for `'a`.
    pub unsafe fn headers<'a>(&self) -> &'a [HeaderRef] {
        if self.headers.is_null() || self.headers_len == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees the pointer and length.
        unsafe { core::slice::from_raw_parts(self.headers, self.headers_len) }
    }
}
