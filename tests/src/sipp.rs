//! Running SIPp scenarios from `tests/sipp/` against the switch, in the foreground (UAC) or
//! in the background (UAS, killed on drop), with their results parsed.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports;
use crate::process::{self, TestDir};
use crate::switch::repo_root;

/// Extra time past SIPp's own `-timeout` before the harness kills it.
const KILL_MARGIN: Duration = Duration::from_secs(10);

/// A SIPp run being put together. Every instance gets its own SIP and media ports unless
/// told otherwise, and writes its error log, message trace and statistics to a scratch
/// folder.
#[derive(Debug, Clone)]
pub struct Sipp {
    scenario: PathBuf,
    target: Option<SocketAddr>,
    local_port: Option<u16>,
    media_port: Option<u16>,
    calls: u32,
    timeout: Duration,
    user: Option<(String, String)>,
    service: Option<String>,
    keys: Vec<(String, String)>,
    duration_ms: Option<u64>,
    extra: Vec<String>,
    tcp: bool,
}

/// What a finished SIPp run left behind.
#[derive(Debug, Clone)]
pub struct SippResult {
    /// The scenario file name.
    pub scenario: String,
    /// Exit code; `None` when the harness had to kill it (or a signal ended it).
    pub status: Option<i32>,
    /// `SuccessfulCall(C)` from the last statistics row.
    pub successful: u64,
    /// `FailedCall(C)` from the last statistics row.
    pub failed: u64,
    /// The `-trace_err` log: unexpected messages and why calls failed.
    pub errors: String,
    /// The `-trace_msg` log: every message sent and received.
    pub messages: String,
    /// SIPp's screen output.
    pub output: String,
}

/// A SIPp running in the background; killed (by PID) when dropped.
#[derive(Debug)]
pub struct SippProcess {
    child: Option<Child>,
    scenario: String,
    local_port: u16,
    dir: TestDir,
    kill_at: Instant,
    /// What to wait for before a UAS counts as listening.
    listen: Listen,
}

/// How [`SippProcess::wait_bound`] tells that SIPp is ready.
#[derive(Clone, Copy, Debug)]
enum Listen {
    Udp,
    Tcp,
    /// A TCP client listens on nothing.
    Nothing,
}

impl Sipp {
    /// A run of `tests/sipp/<scenario>`: one call (`-m 1`), 30 s timeout.
    pub fn new(scenario: &str) -> Sipp {
        Sipp::from_path(&scenario_path(scenario))
    }

    /// A run of the scenario file at `path` (e.g. one a test generated).
    pub fn from_path(path: &Path) -> Sipp {
        Sipp {
            scenario: path.to_path_buf(),
            target: None,
            local_port: None,
            media_port: None,
            calls: 1,
            timeout: Duration::from_secs(30),
            user: None,
            service: None,
            keys: Vec::new(),
            duration_ms: None,
            extra: Vec::new(),
            tcp: false,
        }
    }

    /// Registers `user` (password 1234, Expires 3600) at `switch` with `register.xml` from a
    /// freshly reserved port and returns that port: a SIPp started later with
    /// `.local_port(port)` gets `user`'s calls. Panics with SIPp's logs if it fails.
    pub fn register(switch: SocketAddr, user: &str) -> u16 {
        let port = ports::reserve(1);
        Sipp::new("register.xml")
            .target(switch)
            .local_port(port)
            .user(user, "1234")
            .key("expires", 3600)
            .run()
            .assert_passed();
        port
    }

    /// A caller: `scenario` sent to `switch` as `user` (password 1234) dialling `service`.
    pub fn caller(scenario: &str, switch: SocketAddr, user: &str, service: &str) -> Sipp {
        Sipp::new(scenario)
            .target(switch)
            .user(user, "1234")
            .service(service)
    }

    /// [`Sipp::register`]s `user`, then returns a UAS run of `scenario` on that port.
    pub fn registered_uas(scenario: &str, switch: SocketAddr, user: &str) -> Sipp {
        Sipp::new(scenario).local_port(Sipp::register(switch, user))
    }

    /// Where to send (the switch); a UAS leaves it out.
    pub fn target(mut self, addr: SocketAddr) -> Self {
        self.target = Some(addr);
        self
    }

    /// `-p`: the local SIP port (default: a reserved one).
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// `-mp`: the local media port (default: a reserved block of 4).
    pub fn media_port(mut self, port: u16) -> Self {
        self.media_port = Some(port);
        self
    }

    /// `-m`: calls before SIPp exits.
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }

    /// `-timeout`: SIPp gives up (and fails) after this; the harness kills it 10 s later.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The user as `[field0]` (from an `-inf` file the harness writes) and its digest
    /// credentials (`-au`/`-ap`; SIPp 3.6 does not expand fields inside `[authentication]`).
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.user = Some((user.to_string(), password.to_string()));
        self
    }

    /// `-s`: the number to call. With a target it also sets `-auth_uri` so that the digest
    /// uri is the Request-URI (`sip:service@switch`), not SIPp's default `sip:switch`.
    pub fn service(mut self, s: &str) -> Self {
        self.service = Some(s.to_string());
        self
    }

    /// `-key name value`: `[name]` in the scenario.
    pub fn key(mut self, name: &str, value: impl ToString) -> Self {
        self.keys.push((name.to_string(), value.to_string()));
        self
    }

    /// `-d`: what a bare `<pause/>` waits, in milliseconds.
    pub fn duration_ms(mut self, ms: u64) -> Self {
        self.duration_ms = Some(ms);
        self
    }

    /// SIP over TCP (`-t t1`: one connection) instead of UDP.
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// Any other SIPp argument.
    pub fn arg(mut self, a: &str) -> Self {
        self.extra.push(a.to_string());
        self
    }

    /// Runs in the foreground until SIPp exits (or is killed 10 s past its timeout).
    pub fn run(self) -> SippResult {
        self.spawn().wait()
    }

    /// Starts in the background and returns once SIPp holds its SIP port.
    pub fn spawn(self) -> SippProcess {
        let name = self
            .scenario
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = TestDir::new(&format!("sipp-{}", name.trim_end_matches(".xml")));
        let local_port = self.local_port.unwrap_or_else(|| ports::reserve(1));
        let media_port = self.media_port.unwrap_or_else(|| ports::reserve(4));
        let file = &self.scenario;
        assert!(file.is_file(), "no scenario {}", file.display());
        let mut cmd = Command::new("sipp");
        cmd.arg("-sf").arg(file);
        cmd.args(["-i", "127.0.0.1", "-nostdin", "-timeout_error"]);
        cmd.arg("-p").arg(local_port.to_string());
        cmd.arg("-mp").arg(media_port.to_string());
        cmd.arg("-m").arg(self.calls.to_string());
        cmd.arg("-timeout")
            .arg(format!("{}s", self.timeout.as_secs().max(1)));
        cmd.arg("-trace_err")
            .arg("-error_file")
            .arg(dir.join("errors.log"));
        cmd.arg("-trace_msg")
            .arg("-message_file")
            .arg(dir.join("messages.log"));
        cmd.arg("-trace_stat").arg("-stf").arg(dir.join("stat.csv"));
        if let Some((user, password)) = &self.user {
            let csv = dir.join("users.csv");
            std::fs::write(&csv, format!("SEQUENTIAL\n{user};{password};\n"))
                .expect("write the SIPp users file");
            cmd.arg("-inf").arg(csv);
            cmd.args(["-au", user, "-ap", password]);
        }
        if let Some(s) = &self.service {
            cmd.args(["-s", s]);
            if let Some(t) = self.target {
                cmd.arg("-auth_uri").arg(format!("{s}@{t}"));
            }
        }
        for (k, v) in &self.keys {
            cmd.args(["-key", k, v]);
        }
        if let Some(ms) = self.duration_ms {
            cmd.arg("-d").arg(ms.to_string());
        }
        if self.tcp {
            cmd.args(["-t", "t1"]);
        }
        cmd.args(&self.extra);
        if let Some(t) = self.target {
            cmd.arg(t.to_string());
        }
        let out = File::create(dir.join("screen.txt")).expect("create the SIPp screen file");
        let err = out.try_clone().expect("clone the screen file handle");
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp (is sip-tester installed?): {e}"));
        let mut p = SippProcess {
            child: Some(child),
            scenario: name,
            local_port,
            dir,
            kill_at: Instant::now() + self.timeout + KILL_MARGIN,
            listen: match (self.tcp, self.target) {
                (false, _) => Listen::Udp,
                (true, None) => Listen::Tcp,
                (true, Some(_)) => Listen::Nothing,
            },
        };
        p.wait_bound();
        p
    }
}

impl SippProcess {
    /// The local SIP port (`-p`).
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// Waits until SIPp holds its UDP port (or listens on TCP, for a UAS over TCP), so a UAS
    /// is listening before anyone calls it.
    fn wait_bound(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listen = self.listen;
        let bound = |p: u16| match listen {
            Listen::Udp => ports::udp_in_use(p),
            Listen::Tcp => ports::tcp_listening(p),
            Listen::Nothing => true,
        };
        while Instant::now() < deadline && !bound(self.local_port) {
            let exited = match self.child.as_mut() {
                Some(c) => matches!(c.try_wait(), Ok(Some(_))),
                None => true,
            };
            if exited {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The `-trace_msg` log so far (SIPp writes it as messages go), while SIPp runs.
    pub fn messages(&self) -> String {
        process::read_text(&self.dir.join("messages.log"))
    }

    /// Whether SIPp has exited (without collecting it).
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(Some(_))),
            None => true,
        }
    }

    /// Stops SIPp now (SIGTERM, SIGKILL after 2 s) if it still runs, and collects what it
    /// did: for a UAS that must have received nothing, or whose calls were counted already.
    pub fn stop(mut self) -> SippResult {
        let status = self.child.take().and_then(|mut c| match c.try_wait() {
            Ok(Some(s)) => s.code(),
            _ => {
                process::terminate(&mut c, Duration::from_secs(2));
                None
            }
        });
        self.result(status)
    }

    /// Waits for SIPp to exit (killing it 10 s past its `-timeout`) and collects the result.
    pub fn wait(mut self) -> SippResult {
        let status = self.child.take().and_then(|mut c| {
            let left = self.kill_at.saturating_duration_since(Instant::now());
            match process::wait_timeout(&mut c, left) {
                Some(s) => s.code(),
                None => {
                    process::terminate(&mut c, Duration::from_secs(2));
                    None
                }
            }
        });
        self.result(status)
    }

    fn result(&self, status: Option<i32>) -> SippResult {
        let (successful, failed) = parse_stats(&process::read_text(&self.dir.join("stat.csv")));
        SippResult {
            scenario: self.scenario.clone(),
            status,
            successful,
            failed,
            errors: process::read_text(&self.dir.join("errors.log")),
            messages: process::read_text(&self.dir.join("messages.log")),
            output: process::read_text(&self.dir.join("screen.txt")),
        }
    }
}

impl Drop for SippProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            process::terminate(&mut c, Duration::from_secs(2));
            if std::thread::panicking() {
                eprintln!("{}", self.result(None).report());
            }
        }
    }
}

impl SippResult {
    /// Exit status 0, at least one successful call and none failed.
    pub fn passed(&self) -> bool {
        self.status == Some(0) && self.failed == 0 && self.successful > 0
    }

    /// Panics with the logs unless [`SippResult::passed`].
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{}", self.report());
    }

    /// A failure report: status, counts, error log and the end of the message trace.
    pub fn report(&self) -> String {
        let tail: Vec<&str> = self.messages.lines().collect();
        let tail = tail[tail.len().saturating_sub(120)..].join("\n");
        let screen: Vec<&str> = self.output.lines().collect();
        let screen = screen[screen.len().saturating_sub(40)..].join("\n");
        format!(
            "SIPp {}: exit status {:?}, {} successful, {} failed\n\
             ---- errors ----\n{}\n---- screen (end) ----\n{}\n---- messages (end) ----\n{}\n----",
            self.scenario, self.status, self.successful, self.failed, self.errors, screen, tail
        )
    }
}

/// (SuccessfulCall(C), FailedCall(C)) from the last row of a `-trace_stat` CSV.
pub fn parse_stats(csv: &str) -> (u64, u64) {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return (0, 0);
    };
    let Some(last) = lines.next_back() else {
        return (0, 0);
    };
    let names: Vec<&str> = header.split(';').collect();
    let values: Vec<&str> = last.split(';').collect();
    let get = |name: &str| -> u64 {
        names
            .iter()
            .position(|n| n.trim() == name)
            .and_then(|i| values.get(i))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (get("SuccessfulCall(C)"), get("FailedCall(C)"))
}

/// `tests/sipp/<name>`.
pub fn scenario_path(name: &str) -> PathBuf {
    repo_root().join("tests").join("sipp").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_come_from_the_last_row() {
        let csv = "StartTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(C);\n\
                   x;0;0;0;\n\
                   y;1;3;2;\n";
        assert_eq!(parse_stats(csv), (3, 2));
        assert_eq!(parse_stats(""), (0, 0));
        assert_eq!(parse_stats("a;b;\n"), (0, 0));
    }

    #[test]
    fn a_result_passes_only_with_calls_and_no_failures() {
        let mut r = SippResult {
            scenario: "x.xml".into(),
            status: Some(0),
            successful: 1,
            failed: 0,
            errors: String::new(),
            messages: String::new(),
            output: String::new(),
        };
        assert!(r.passed());
        r.failed = 1;
        assert!(!r.passed());
        r.failed = 0;
        r.status = None;
        assert!(!r.passed());
        assert!(r.report().contains("x.xml"));
    }

    #[test]
    fn every_scenario_file_exists() {
        for s in [
            "register.xml",
            "register_badpass.xml",
            "uas_answer.xml",
            "uas_answer_bye.xml",
            "uas_busy.xml",
            "uas_noanswer.xml",
            "uac_call.xml",
            "uac_call_wait_bye.xml",
            "uac_cancel.xml",
            "uac_expect_480.xml",
            "uac_expect_486.xml",
            "cc_agent_answer_bye.xml",
        ] {
            assert!(scenario_path(s).is_file(), "{s}");
        }
    }
}
