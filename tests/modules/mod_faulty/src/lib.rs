//! A module that fails on purpose, for the end-to-end tests of the boundary:
//! - `faulty_tap [frames]`: adds a media tap that panics after `frames` frames (default 25);
//! - `faulty_app`: panics at once;
//! - `faulty_boom` (API): panics;
//! - `faulty_sleep <ms>` (application): sleeps with the call up, to unload it meanwhile;
//! - the symbol `mod_faulty_bench_tap`: a level-meter tap for the boundary benchmark.

use std::time::Duration;

use switch_sdk::{declare_module, Frame, Host, MediaTap, Module, Session, TapAction};

struct Bomb {
    left: u32,
}

impl MediaTap for Bomb {
    fn on_frame(&mut self, _read: &Frame<'_>, _write: &Frame<'_>) -> TapAction {
        if self.left == 0 {
            panic!("tap bomb went off");
        }
        self.left -= 1;
        TapAction::Continue
    }
}

/// A level meter: what a cheap real tap does per frame (for the boundary benchmark).
#[derive(Default)]
struct Meter {
    sum: u64,
}

impl MediaTap for Meter {
    fn on_frame(&mut self, read: &Frame<'_>, write: &Frame<'_>) -> TapAction {
        for (r, w) in read.samples().iter().zip(write.samples()) {
            self.sum = self
                .sum
                .wrapping_add(u64::from(r.unsigned_abs()) + u64::from(w.unsigned_abs()));
        }
        TapAction::Continue
    }
}

/// A meter tap's vtable, for `switch-core`'s module_tap_bench (called with no switch).
#[no_mangle]
pub extern "C" fn mod_faulty_bench_tap() -> switch_sdk::abi::TapVtable {
    switch_sdk::__private::tap_vtable(Meter::default())
}

struct Faulty;

impl Module for Faulty {
    fn init(host: &Host) -> Result<Self, String> {
        let e = |e: switch_sdk::Error| e.to_string();
        host.register_app(
            "faulty_tap",
            "a tap that panics after N frames",
            |s: &Session<'_>, args: &str| {
                let left = args.trim().parse().unwrap_or(25);
                s.host()
                    .add_tap(s.uuid(), Bomb { left })
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
        )
        .map_err(e)?;
        host.register_app(
            "faulty_app",
            "panics",
            |_: &Session<'_>, _: &str| -> Result<(), String> {
                panic!("application bomb went off")
            },
        )
        .map_err(e)?;
        host.register_app(
            "faulty_sleep",
            "sleeps with the call up",
            |s: &Session<'_>, args: &str| {
                let ms = args.trim().parse().unwrap_or(1000);
                s.sleep(Duration::from_millis(ms))
                    .map_err(|e| e.to_string())
            },
        )
        .map_err(e)?;
        host.register_api(
            "faulty_boom",
            "",
            "panics",
            |_: &str| -> Result<String, String> { panic!("api bomb went off") },
        )
        .map_err(e)?;
        Ok(Faulty)
    }
}

declare_module! {
    name: "mod_faulty",
    description: "fails on purpose (tests)",
    module: Faulty,
}
