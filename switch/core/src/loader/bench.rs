//! The cost of a media tap across the module boundary, for the `module_tap_bench` example:
//! the same level-meter tap called per 20 ms frame as a native [`Tap`] and as a module's
//! tap through the host's `ModuleTap` (in-flight guard, borrowed frames, one indirect
//! `extern "C"` call, the SDK's `catch_unwind` shim and trait call).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use switch_abi::TapVtable;
use switch_media::Frame;

use super::channel::ModuleTap;
use super::library;
use super::record::ModuleRecord;
use crate::media::Tap;

/// What one run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TapBench {
    /// Frames per measurement.
    pub frames: u64,
    /// ns per frame through the module.
    pub module_ns: f64,
    /// ns per frame for the same tap compiled into the switch.
    pub native_ns: f64,
}

#[derive(Default)]
struct Meter {
    sum: u64,
}

impl Tap for Meter {
    fn on_frame(&mut self, read: &Frame, write: &Frame) -> bool {
        for (r, w) in read.samples().iter().zip(write.samples()) {
            self.sum = self
                .sum
                .wrapping_add(u64::from(r.unsigned_abs()) + u64::from(w.unsigned_abs()));
        }
        black_box(self.sum);
        true
    }
}

fn time(tap: &mut dyn Tap, frames: u64, rate: u32) -> f64 {
    let n = switch_media::frame::samples_per_frame(rate);
    let read_s: Vec<i16> = (0..n).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
    let write_s: Vec<i16> = read_s.iter().map(|s| -s).collect();
    let (Some(read), Some(write)) = (
        Frame::from_samples(rate, &read_s),
        Frame::from_samples(rate, &write_s),
    ) else {
        return f64::NAN;
    };
    for _ in 0..1000 {
        black_box(tap.on_frame(black_box(&read), black_box(&write)));
    }
    let t = Instant::now();
    for _ in 0..frames {
        black_box(tap.on_frame(black_box(&read), black_box(&write)));
    }
    t.elapsed().as_nanos() as f64 / frames as f64
}

/// Loads the module at `path` (without starting it), takes the tap its exported `symbol`
/// (`extern "C" fn() -> TapVtable`) makes, and times `frames` frames at `rate` through it
/// and through the native meter.
pub fn tap_crossing(path: &Path, symbol: &str, frames: u64, rate: u32) -> Result<TapBench, String> {
    let opened = library::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let sym = format!("{symbol}\0");
    // SAFETY: the benchmark's module exports `symbol` with this type; the pointer is used while
    // the library stays open (it moves into the record below).
    let make: unsafe extern "C" fn() -> TapVtable = unsafe {
        *opened
            .lib
            .get::<unsafe extern "C" fn() -> TapVtable>(sym.as_bytes())
            .map_err(|e| format!("{}: {symbol}: {e}", path.display()))?
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let rec = ModuleRecord::detached(opened, path.to_path_buf(), rt.handle().clone());
    // SAFETY: the module's own constructor, taking nothing.
    let vt = unsafe { make() };
    let mut module = ModuleTap::new(rec, vt, "bench", 1);
    let module_ns = time(&mut module, frames, rate);
    let native_ns = time(&mut Meter::default(), frames, rate);
    Ok(TapBench {
        frames,
        module_ns,
        native_ns,
    })
}
