//! Per-call cost of the Lua host: set up a fresh sandboxed state (libraries, sandbox
//! wrappers, CPU budget, `freeswitch` and `argv` globals), load a one-line dialplan from the
//! script cache, run it, read its ACTIONS and tear the state down.
//!
//! ```sh
//! cargo run --release -p switch-lua --example lua_bench [-- CALLS]
//! ```
//!
//! Prints the time per call (median and 99th percentile of batches of 100, wall clock and
//! the thread's CPU time), the state's memory when the script ends, and a bare state with
//! the same libraries for comparison.

use std::time::{Duration, Instant};

use switch_lua::{LuaHost, LuaSettings};

const DIALPLAN: &str = r#"ACTIONS = { { "bridge", "user/" .. argv[1] } }"#;

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("lua-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("dialplan.lua"), DIALPLAN).expect("write the script");
    let host = LuaHost::new(LuaSettings::new(&dir));
    let argv = vec!["1001".to_string()];

    // Warm the cache (first compile) and check the result.
    let out = host.run_script("dialplan.lua", &argv, None);
    assert_eq!(out.error, None);
    assert_eq!(
        out.actions,
        [("bridge".to_string(), "user/1001".to_string())]
    );

    let batch = 100;
    let mut per_call = Vec::new();
    let mut cpu_per_call = Vec::new();
    let mut memory = 0;
    let start = Instant::now();
    for _ in 0..calls / batch {
        let (t, c) = (Instant::now(), thread_cpu());
        for _ in 0..batch {
            let out = host.run_script("dialplan.lua", &argv, None);
            memory = memory.max(out.memory);
            std::hint::black_box(out);
        }
        per_call.push(t.elapsed() / batch as u32);
        cpu_per_call.push((thread_cpu() - c) / batch as u32);
    }
    let total = start.elapsed();
    per_call.sort();
    cpu_per_call.sort();
    let pct = |p: f64| per_call[((per_call.len() - 1) as f64 * p) as usize];
    let cpu = |p: f64| cpu_per_call[((cpu_per_call.len() - 1) as f64 * p) as usize];

    let bare = bare_state();
    println!("calls: {calls} in {:.2} s", total.as_secs_f64());
    println!(
        "per call (sandboxed state + one-line dialplan + teardown): median {:.1} us, p99 {:.1} us",
        us(pct(0.5)),
        us(pct(0.99))
    );
    println!(
        "CPU time per call (this thread): median {:.1} us, p99 {:.1} us",
        us(cpu(0.5)),
        us(cpu(0.99))
    );
    println!(
        "memory of the state when the script ends: {:.1} KiB",
        memory as f64 / 1024.0
    );
    println!(
        "a bare mlua state for comparison: {:.1} us to create and drop, {:.1} KiB",
        us(bare.0),
        bare.1 as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A state with the same libraries and nothing else: time and memory.
fn bare_state() -> (Duration, usize) {
    let n = 5000;
    let mut mem = 0;
    let t = Instant::now();
    for _ in 0..n {
        let libs = mlua::StdLib::STRING
            | mlua::StdLib::TABLE
            | mlua::StdLib::MATH
            | mlua::StdLib::UTF8
            | mlua::StdLib::COROUTINE
            | mlua::StdLib::OS;
        let lua = mlua::Lua::new_with(libs, mlua::LuaOptions::new()).expect("a state");
        mem = lua.used_memory();
        drop(lua);
    }
    (t.elapsed() / n, mem)
}
