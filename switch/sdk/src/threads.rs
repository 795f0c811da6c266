//! Threads of a module, joined when it unloads (the library cannot be closed while one of
//! them still runs its code).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static THREADS: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Starts a thread of the module named `name`. It must end by itself once the module's
/// [`crate::Module::shutdown`] returned (stop it there); the switch joins it before closing
/// the library. A panic in it is caught and logged.
pub fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let label = name.to_string();
    let h = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
                crate::log(
                    crate::Level::Error,
                    &format!(
                        "thread {label} panicked: {}",
                        crate::shims::panic_message(p.as_ref())
                    ),
                );
            }
        })?;
    let mut t = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    // Finished threads need no join: forget them so the list stays short.
    t.retain(|h| !h.is_finished());
    t.push(h);
    Ok(())
}

/// Joins every thread, waiting up to `timeout`; false if some still run.
pub(crate) fn join_all(timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let mut t = THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let (done, running): (Vec<_>, Vec<_>) = t.drain(..).partition(|h| h.is_finished());
        *t = running;
        drop(t);
        for h in done {
            let _ = h.join();
        }
        if THREADS.lock().map(|t| t.is_empty()).unwrap_or(true) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
