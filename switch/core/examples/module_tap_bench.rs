//! The overhead of a media tap across the module boundary, per 20 ms frame (issue 6; target
//! under 1 µs): a level-meter tap in mod_faulty called through the host's module tap, against
//! the same tap compiled into the switch.
//!
//! ```sh
//! cargo build --release -p mod_faulty
//! cargo run --release -p switch-core --example module_tap_bench [-- path/to/libmod_faulty.so]
//! ```

use std::path::PathBuf;

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap_or_default();
            // target/<profile>/examples/module_tap_bench -> target/<profile>/libmod_faulty.so
            let dir = exe
                .parent()
                .and_then(|p| p.parent())
                .map(PathBuf::from)
                .unwrap_or_default();
            dir.join(format!(
                "{}mod_faulty{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ))
        });
    println!("module: {}", path.display());
    println!(
        "{:>6} {:>10} {:>12} {:>12} {:>12}",
        "rate", "frames", "module ns", "native ns", "boundary ns"
    );
    for rate in [8000, 16000, 48000] {
        let mut best: Option<switch_core::loader::bench::TapBench> = None;
        for _ in 0..5 {
            match switch_core::loader::bench::tap_crossing(
                &path,
                "mod_faulty_bench_tap",
                2_000_000,
                rate,
            ) {
                Ok(b) => {
                    if best.is_none_or(|x| b.module_ns < x.module_ns) {
                        best = Some(b);
                    }
                }
                Err(e) => {
                    eprintln!("module_tap_bench: {e}");
                    std::process::exit(1);
                }
            }
        }
        if let Some(b) = best {
            println!(
                "{:>6} {:>10} {:>12.1} {:>12.1} {:>12.1}",
                rate,
                b.frames,
                b.module_ns,
                b.native_ns,
                b.module_ns - b.native_ns
            );
        }
    }
}
