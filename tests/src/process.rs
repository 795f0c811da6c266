//! Child processes and scratch folders shared by the harness: stop by PID (SIGTERM, then
//! SIGKILL), wait with a deadline, and a temp folder that survives a failing test.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static DIRS: AtomicU32 = AtomicU32::new(0);

/// Waits for `child` to exit for at most `timeout`.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// Sends SIGTERM to `child`, waits `grace`, then SIGKILLs it; returns the exit status.
pub fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) has no memory effects; the PID is our own child, not yet reaped
        // (try_wait above saw it running), so it cannot name another process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if let Some(status) = wait_timeout(child, grace) {
        return Some(status);
    }
    let _ = child.kill();
    child.wait().ok()
}

/// A scratch folder under the system temp dir, removed on drop unless the thread is
/// panicking (a failing test), so its logs stay for a look.
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates `<tmp>/ferroswitch-tests/<pid>-<n>-<label>`.
    pub fn new(label: &str) -> TestDir {
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join("ferroswitch-tests")
            .join(format!("{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch folder");
        TestDir { path }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for inspection: {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The file's text (lossy), or "" when it cannot be read.
/// Polls `f` every 100 ms until it is true; panics naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

pub fn read_text(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of a file, for failure reports.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = read_text(path);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether an executable called `name` is on PATH.
pub fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

/// Whether peers that are missing must fail the test (CI) instead of skipping it.
pub fn peers_required() -> bool {
    std::env::var_os("FERROSWITCH_REQUIRE_PEERS").is_some_and(|v| !v.is_empty())
}

/// True when the test may go on with `program`. When it is missing: panics if
/// FERROSWITCH_REQUIRE_PEERS is set, else prints why the test is skipped and returns false.
pub fn peer_available(program: &str) -> bool {
    if on_path(program) {
        return true;
    }
    assert!(
        !peers_required(),
        "{program} is not installed and FERROSWITCH_REQUIRE_PEERS is set \
         (install it: bash tests/run-all.sh does)"
    );
    eprintln!(
        "SKIPPED: {program} is not installed (set FERROSWITCH_REQUIRE_PEERS=1 to fail instead)"
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn terminate_stops_a_process_that_ignores_nothing() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let status = terminate(&mut child, Duration::from_secs(5)).unwrap();
        assert!(!status.success());
    }

    #[test]
    fn wait_timeout_returns_the_exit_status() {
        let mut child = Command::new("true").spawn().unwrap();
        assert!(wait_timeout(&mut child, Duration::from_secs(5))
            .unwrap()
            .success());
    }

    #[test]
    fn scratch_folder_goes_away_after_a_passing_test() {
        let d = TestDir::new("probe");
        std::fs::write(d.join("f"), "x\ny\nz").unwrap();
        assert_eq!(tail(&d.join("f"), 2), "y\nz");
        let p = d.path().to_path_buf();
        drop(d);
        assert!(!p.exists());
    }

    #[test]
    fn sh_is_found_on_path() {
        assert!(on_path("sh"));
        assert!(!on_path("no-such-program-ferroswitch"));
    }
}
