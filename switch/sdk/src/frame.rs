//! [`Frame`]: 20 ms of a channel's audio, borrowed for a tap callback.

use std::time::Duration;

use switch_abi::FrameRef;

/// 20 ms of audio (i16 samples, interleaved when `channels > 1`), valid during the callback.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    samples: &'a [i16],
    rate: u32,
    channels: u32,
    timestamp: Duration,
}

impl<'a> Frame<'a> {
    /// A frame over `samples` (for unit tests of taps).
    pub fn new(samples: &'a [i16], rate: u32) -> Frame<'a> {
        Frame {
            samples,
            rate,
            channels: 1,
            timestamp: Duration::ZERO,
        }
    }

    /// A view of what the host passed.
    ///
    /// # Safety
    /// `raw` must describe samples that live for `'a`.
    pub(crate) unsafe fn from_raw(raw: &FrameRef) -> Frame<'a> {
        Frame {
            // SAFETY: forwarded to the caller.
            samples: unsafe { raw.as_slice() },
            rate: raw.rate,
            channels: raw.channels.max(1),
            timestamp: Duration::from_micros(raw.timestamp_us),
        }
    }

    /// The samples.
    pub fn samples(&self) -> &'a [i16] {
        self.samples
    }

    /// Sample rate in Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Interleaved channels (1 for a side of a call).
    pub fn channels(&self) -> u32 {
        self.channels
    }

    /// Media time of the first sample since the tap was added.
    pub fn timestamp(&self) -> Duration {
        self.timestamp
    }
}
