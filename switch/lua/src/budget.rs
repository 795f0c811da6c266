//! The CPU budget of one script run (`lua.max_cpu_ms`): time the script spends running Lua
//! (or Rust on its behalf) between blocking session calls. Waiting in `streamFile`, `sleep`,
//! `getDigits`, `execute("bridge")`... does not count.
//!
//! Three mechanisms enforce it:
//! - an instruction-count hook (raw `lua_sethook`, inherited by coroutines, which mlua's own
//!   hook is not) compares the run time with the budget every 1000 instructions and raises an
//!   error naming the script and line; once it fired, the hook fires before every
//!   instruction, so `pcall` cannot swallow it: the code after the `pcall` fails at once;
//! - the Rust functions that run long loops (the pattern matcher, SQLite) ask
//!   [`Budget::check`] as they go;
//! - a [`Watchdog`] thread catches a script stuck in a C function where neither can look
//!   (past the budget plus [`GRACE`]): it logs the script and line and hangs its call up.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mlua::{ffi, Lua};
use switch_core::script::SessionHandle;

/// Instructions between two looks at the clock.
const HOOK_EVERY: i32 = 1000;
/// How far past its budget a script may be before the watchdog steps in.
pub const GRACE: Duration = Duration::from_secs(1);
/// How often the watchdog looks.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// One run's accounting, shared with the hook (thread-local) and the watchdog.
#[derive(Debug)]
pub struct Budget {
    script: String,
    limit: Duration,
    epoch: Instant,
    /// Nanoseconds since `epoch` when the script last started running; 0 while it waits.
    running_since: AtomicU64,
    /// Run time before `running_since`, ns.
    used: AtomicU64,
    killed: AtomicBool,
    /// The line the hook last saw, and its chunk (`short_src`).
    line: AtomicI32,
    source: Mutex<String>,
}

impl Budget {
    /// A budget of `limit` for `script`, not running yet.
    pub fn new(script: &str, limit: Duration) -> Arc<Budget> {
        Arc::new(Budget {
            script: script.to_string(),
            limit,
            epoch: Instant::now(),
            running_since: AtomicU64::new(0),
            used: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            line: AtomicI32::new(0),
            source: Mutex::new(script.to_string()),
        })
    }

    fn now_ns(&self) -> u64 {
        // +1 so that 0 always means "waiting".
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// The script starts (or goes back to) running.
    pub fn resume(&self) {
        if self.running_since.load(Ordering::Relaxed) == 0 {
            self.running_since.store(self.now_ns(), Ordering::Relaxed);
        }
    }

    /// The script waits (in a session call): its run time so far is banked.
    pub fn pause(&self) {
        let since = self.running_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            let ran = self.now_ns().saturating_sub(since);
            self.used.fetch_add(ran, Ordering::Relaxed);
        }
    }

    /// Runs `f` (a blocking wait) without counting it.
    pub fn wait<T>(&self, f: impl FnOnce() -> T) -> T {
        let was_running = self.running_since.load(Ordering::Relaxed) != 0;
        self.pause();
        let r = f();
        if was_running {
            self.resume();
        }
        r
    }

    /// Run time so far.
    pub fn used(&self) -> Duration {
        let mut ns = self.used.load(Ordering::Relaxed);
        let since = self.running_since.load(Ordering::Relaxed);
        if since != 0 {
            ns += self.now_ns().saturating_sub(since);
        }
        Duration::from_nanos(ns)
    }

    /// Whether it is running now (not waiting in a session call).
    pub fn running(&self) -> bool {
        self.running_since.load(Ordering::Relaxed) != 0
    }

    /// The budget.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether it was stopped.
    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Marks it stopped.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Relaxed);
    }

    /// Whether it ran past its budget.
    pub fn over(&self) -> bool {
        self.used() > self.limit
    }

    /// `Err(reason)` once over budget (and from then on), for Rust loops working for the
    /// script.
    pub fn check(&self) -> Result<(), String> {
        if self.killed() || self.over() {
            self.kill();
            return Err(self.reason());
        }
        Ok(())
    }

    /// Why it is stopped, without the location.
    pub fn reason(&self) -> String {
        format!(
            "script stopped: it ran {} ms of Lua, over lua.max_cpu_ms ({} ms)",
            self.used().as_millis(),
            self.limit.as_millis()
        )
    }

    /// Where the hook last saw it: `file:line`.
    pub fn location(&self) -> String {
        let src = self
            .source
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|_| self.script.clone());
        match self.line.load(Ordering::Relaxed) {
            l if l > 0 => format!("{src}:{l}"),
            _ => src,
        }
    }

    /// The script this budget is for.
    pub fn script(&self) -> &str {
        &self.script
    }

    fn sample(&self, src: &[u8], line: i32) {
        self.line.store(line, Ordering::Relaxed);
        if let Ok(mut s) = self.source.lock() {
            if s.as_bytes() != src {
                s.clear();
                s.push_str(&String::from_utf8_lossy(src));
            }
        }
    }
}

/// Stack a run may use below where it started before a call back into Lua is refused: Rust
/// functions that call Lua (a `gsub` callback, an input callback...) could otherwise recurse
/// past the thread's stack, which Lua's own C-call limit does not see. Script threads have
/// 2 MiB or more.
const STACK_BUDGET: usize = 1 << 20;

thread_local! {
    /// The budget of the script running on this thread (one at a time per thread).
    static CURRENT: RefCell<Option<Arc<Budget>>> = const { RefCell::new(None) };
    /// Roughly where the run's stack starts (an address in `install`'s frame).
    static STACK_BASE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// How many [`Nested`] levels are open.
    static NESTED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Rust functions calling back into Lua, nested: held below Lua's own C-call limit (200),
/// so that our error comes first and cleanly.
const MAX_NESTED: u32 = 100;

/// One level of Rust calling back into Lua; leaving it (drop) pops the level.
#[derive(Debug)]
pub struct Nested(());

impl Drop for Nested {
    fn drop(&mut self) {
        NESTED.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Enters a Rust function that may call back into Lua; refused when they nest too deep or
/// the run's stack is nearly used up.
pub fn enter() -> mlua::Result<Nested> {
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    let base = STACK_BASE.with(|b| b.get());
    let depth = NESTED.with(|n| n.get());
    if depth >= MAX_NESTED || (base != 0 && base.saturating_sub(sp) > STACK_BUDGET) {
        return Err(mlua::Error::RuntimeError(
            "C stack overflow (calls nested too deep)".into(),
        ));
    }
    NESTED.with(|n| n.set(depth + 1));
    Ok(Nested(()))
}

/// Installs `budget` for `lua` on this thread: the hook and the thread-local the hook reads.
pub fn install(lua: &Lua, budget: Arc<Budget>) -> mlua::Result<()> {
    CURRENT.with(|c| *c.borrow_mut() = Some(budget));
    let here = 0u8;
    STACK_BASE.with(|b| b.set(std::ptr::addr_of!(here) as usize));
    // SAFETY: lua_sethook only stores the hook in the state; `hook` below touches no Rust
    // value with a destructor when it raises.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, HOOK_EVERY);
        })
    }
}

/// Forgets this thread's budget (the state is about to be dropped).
pub fn uninstall() {
    CURRENT.with(|c| *c.borrow_mut() = None);
    STACK_BASE.with(|b| b.set(0));
    NESTED.with(|n| n.set(0));
}

/// The count hook: samples the line, and raises once the budget is spent.
unsafe extern "C-unwind" fn hook(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    // The message is built in a fixed buffer: `lua_error` longjmps over this frame, which
    // must then hold nothing with a destructor.
    let mut buf = [0u8; 240];
    let len = CURRENT.with(|c| {
        let c = c.borrow();
        let Some(b) = c.as_ref() else { return 0 };
        let (src, line) = if ffi::lua_getinfo(state, c"Sl".as_ptr(), ar) != 0 {
            let src = std::ffi::CStr::from_ptr((*ar).short_src.as_ptr()).to_bytes();
            (src, (*ar).currentline)
        } else {
            (&b""[..], 0)
        };
        if line > 0 {
            b.sample(src, line);
        }
        if !b.killed() && !b.over() {
            return 0;
        }
        b.kill();
        let mut w = std::io::Cursor::new(&mut buf[..]);
        let _ = w.write_all(src);
        if line > 0 {
            let _ = write!(w, ":{line}");
        }
        let _ = write!(w, ": {}", b.reason());
        w.position() as usize
    });
    if len > 0 {
        // From now on every instruction fails: nothing can catch this for long.
        ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, 1);
        ffi::lua_pushlstring(state, buf.as_ptr().cast(), len);
        ffi::lua_error(state);
    }
}

/// Watches every running script for one stuck where the hook cannot fire.
pub struct Watchdog {
    runs: Mutex<Vec<Watched>>,
    started: std::sync::Once,
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog {
            runs: Mutex::new(Vec::new()),
            started: std::sync::Once::new(),
        }
    }
}

struct Watched {
    budget: Weak<Budget>,
    session: Option<SessionHandle>,
    fired: bool,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

impl Watchdog {
    /// Watches `budget` (and hangs `session` up if it gets stuck) until it is dropped.
    pub fn watch(self: &Arc<Self>, budget: &Arc<Budget>, session: Option<SessionHandle>) {
        self.started.call_once(|| {
            let me = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name("lua-watchdog".into())
                .spawn(move || watch_loop(me));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the Lua watchdog");
            }
        });
        if let Ok(mut runs) = self.runs.lock() {
            runs.push(Watched {
                budget: Arc::downgrade(budget),
                session,
                fired: false,
            });
        }
    }

    /// How many runs it watches (dropped ones leave at its next look).
    #[cfg(test)]
    pub fn watched(&self) -> usize {
        self.runs.lock().map(|r| r.len()).unwrap_or(0)
    }

    fn look(&self) {
        let mut stuck = Vec::new();
        if let Ok(mut runs) = self.runs.lock() {
            runs.retain(|w| w.budget.strong_count() > 0);
            for w in runs.iter_mut() {
                let Some(b) = w.budget.upgrade() else {
                    continue;
                };
                if !w.fired && b.running() && b.used() > b.limit() + GRACE {
                    w.fired = true;
                    b.kill();
                    stuck.push((b, w.session.clone()));
                }
            }
        }
        for (b, session) in stuck {
            tracing::error!(
                script = b.script(),
                "{}: script stuck in a C function for {} ms (lua.max_cpu_ms is {} ms): hanging up its call",
                b.location(),
                b.used().as_millis(),
                b.limit().as_millis()
            );
            if let Some(s) = session {
                s.hangup("NORMAL_TEMPORARY_FAILURE");
            }
        }
    }
}

fn watch_loop(dog: Weak<Watchdog>) {
    loop {
        std::thread::sleep(WATCH_EVERY);
        match dog.upgrade() {
            Some(d) => d.look(),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_does_not_count() {
        let b = Budget::new("t.lua", Duration::from_millis(50));
        b.resume();
        b.wait(|| std::thread::sleep(Duration::from_millis(80)));
        assert!(!b.over(), "{:?}", b.used());
        assert!(b.check().is_ok());
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.over());
        let why = b.check().unwrap_err();
        assert!(why.contains("lua.max_cpu_ms (50 ms)"), "{why}");
        assert!(b.killed());
    }

    #[test]
    fn the_watchdog_forgets_finished_runs() {
        let dog = Arc::new(Watchdog::default());
        let b = Budget::new("t.lua", Duration::from_secs(1));
        dog.watch(&b, None);
        assert_eq!(dog.watched(), 1);
        drop(b);
        dog.look();
        assert_eq!(dog.watched(), 0);
    }
}
