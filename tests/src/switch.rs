//! Starting and stopping the `ferroswitch` binary on loopback, one instance per test.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::cdr::{self, CdrRow};
use crate::ports;
use crate::process::{self, TestDir};
use crate::sip_udp::SipUdp;

/// RTP ports per instance.
const RTP_PORTS: u16 = 200;
/// How long the switch may take to answer its first OPTIONS.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SIGTERM may take before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running switch on its own ports and scratch folder; stopped (SIGTERM, then SIGKILL
/// after 5 s) on drop. When the test panics its log tail is printed and the folder kept.
#[derive(Debug)]
pub struct Switch {
    child: Child,
    sip_port: u16,
    esl_port: u16,
    rtp: (u16, u16),
    log: PathBuf,
    status: Option<ExitStatus>,
    dir: TestDir,
}

impl Switch {
    /// Starts the switch with `--conf <repo>/conf`, unique SIP, RTP and event socket
    /// (`esl.listen`) ports, a CDR database
    /// and log in a scratch folder, and `overrides` as extra `--set key=value` (an override
    /// of a key the harness sets replaces the harness's value). Returns once it answers
    /// OPTIONS with 200; panics with its log if it exits or stays silent for 10 s.
    ///
    /// Harness defaults besides ports and paths: `log.level=debug`, and
    /// `sip.auth_algorithms=["MD5"]` because SIPp 3.6 gives up on a SHA-256 challenge that
    /// comes first and baresip 1.0 gives up when any challenge is SHA-256.
    pub fn start(overrides: &[(&str, &str)]) -> Switch {
        Switch::start_in(TestDir::new("switch"), None, overrides)
    }

    /// As [`Switch::start`], with `dialplan` (TOML text) instead of the shipped
    /// `conf/dialplan.toml`: the rest of `conf/` is copied into the scratch folder.
    pub fn start_with_dialplan(dialplan: &str, overrides: &[(&str, &str)]) -> Switch {
        Switch::start_with_conf(&[("dialplan.toml", dialplan)], overrides)
    }

    /// As [`Switch::start`], with `files` (name in `conf/`, TOML text) in place of the
    /// shipped ones (`dialplan.toml`, `modules.toml`, `modules/mod_x.toml`): the rest of
    /// `conf/` is copied into the scratch folder.
    pub fn start_with_conf(files: &[(&str, &str)], overrides: &[(&str, &str)]) -> Switch {
        let dir = TestDir::new("switch");
        let conf = dir.join("conf");
        copy_dir(&conf_dir(), &conf).expect("copy conf/");
        for (name, text) in files {
            let path = conf.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("conf subfolder");
            }
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
        }
        Switch::start_in(dir, Some(conf), overrides)
    }

    /// As [`Switch::start`], with `lua.scripts` a scratch folder holding `scripts` (name,
    /// source); the shipped dialplan routes the default context to `default.lua`, so a
    /// test's own `default.lua` gets every call of a directory user (`argv[1]` is the
    /// dialled number). [`Switch::scripts_dir`] is the folder, to edit scripts during a test.
    pub fn start_with_scripts(scripts: &[(&str, &str)], overrides: &[(&str, &str)]) -> Switch {
        let dir = TestDir::new("switch");
        let folder = dir.join("scripts");
        std::fs::create_dir_all(&folder).expect("create the scripts folder");
        for (name, source) in scripts {
            let path = folder.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create a scripts subfolder");
            }
            std::fs::write(&path, source).expect("write a script");
        }
        let folder = folder.display().to_string();
        let mut sets: Vec<(&str, &str)> = vec![("lua.scripts", folder.as_str())];
        sets.extend_from_slice(overrides);
        Switch::start_in(dir, None, &sets)
    }

    fn start_in(dir: TestDir, conf: Option<PathBuf>, overrides: &[(&str, &str)]) -> Switch {
        // Resolved (and built) first: a build failure should not leave a scratch folder.
        let mut cmd = command();
        if let Some(conf) = conf {
            cmd.arg("--conf").arg(conf);
        }
        let sip_port = ports::reserve(1);
        let esl_port = ports::reserve(1);
        let rtp_start = ports::reserve(RTP_PORTS);
        let rtp = (rtp_start, rtp_start + RTP_PORTS - 1);
        let cdr = dir.join("cdr.sqlite");
        let mut sets: Vec<(String, String)> = vec![
            ("sip.udp".into(), format!("127.0.0.1:{sip_port}")),
            ("sip.tcp".into(), format!("127.0.0.1:{sip_port}")),
            ("rtp.ports".into(), format!("{}-{}", rtp.0, rtp.1)),
            ("cdr.path".into(), cdr.display().to_string()),
            ("log.level".into(), "debug".into()),
            ("sip.auth_algorithms".into(), r#"["MD5"]"#.into()),
            (
                "media.sounds".into(),
                repo_root().join("sounds").display().to_string(),
            ),
            (
                "media.recordings".into(),
                dir.join("recordings").display().to_string(),
            ),
            ("esl.listen".into(), format!("127.0.0.1:{esl_port}")),
            // Relative paths follow the conf folder (the repository's), so the
            // scratch folder is named outright.
            ("lua.db_dir".into(), dir.join("var").display().to_string()),
            (
                "lua.scripts".into(),
                repo_root().join("scripts").display().to_string(),
            ),
        ];
        for (k, v) in overrides {
            sets.retain(|(key, _)| key != k);
            sets.push((k.to_string(), v.to_string()));
        }
        let log = dir.join("switch.log");
        let out = File::create(&log).expect("create the switch log");
        let err = out.try_clone().expect("clone the log handle");
        for (k, v) in &sets {
            cmd.arg("--set").arg(format!("{k}={v}"));
        }
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
        let mut switch = Switch {
            child,
            sip_port,
            esl_port,
            rtp,
            log,
            status: None,
            dir,
        };
        switch.wait_ready();
        switch
    }

    fn wait_ready(&mut self) {
        let probe = SipUdp::bind();
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.status = Some(status);
                panic!(
                    "ferroswitch exited during start-up ({status}); log:\n{}",
                    self.log_text()
                );
            }
            if let Some(r) = probe.options(self.sip_addr(), Duration::from_millis(200)) {
                assert_eq!(r.status, 200, "OPTIONS answered {}:\n{}", r.status, r.text);
                return;
            }
        }
        panic!(
            "ferroswitch did not answer OPTIONS on {} within {READY_TIMEOUT:?}; log:\n{}",
            self.sip_addr(),
            self.log_text()
        );
    }

    /// The SIP port (UDP and TCP).
    /// Runs an API command over the event socket (password ClueCon) and returns the reply.
    pub fn api(&self, cmd: &str) -> String {
        crate::esl::EslClient::login(self.esl_addr(), "ClueCon").api(cmd)
    }

    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// 127.0.0.1:SIP port.
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.sip_port))
    }

    /// The event socket's port (`esl.listen` is 127.0.0.1 on it).
    pub fn esl_port(&self) -> u16 {
        self.esl_port
    }

    /// 127.0.0.1:event socket port.
    pub fn esl_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.esl_port))
    }

    /// The RTP port range given to the switch (inclusive).
    pub fn rtp_range(&self) -> (u16, u16) {
        self.rtp
    }

    /// Whether `addr` is one of this switch's RTP ports: media that reaches a test's sink
    /// from such an address went through the switch (anchored), not around it.
    pub fn is_rtp_source(&self, addr: SocketAddr) -> bool {
        addr.ip() == Ipv4Addr::LOCALHOST && (self.rtp.0..=self.rtp.1).contains(&addr.port())
    }

    /// Where relative recordings go (`media.recordings`).
    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.join("recordings")
    }

    /// The scripts folder (`lua.scripts`): the shipped `scripts/` unless the test gave its own.
    pub fn scripts_dir(&self) -> PathBuf {
        let own = self.dir.join("scripts");
        if own.is_dir() {
            own
        } else {
            repo_root().join("scripts")
        }
    }

    /// Waits up to `timeout` for a log line containing every one of `parts`; the line.
    pub fn wait_log(&self, parts: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.log_text();
            if let Some(l) = text.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return Some(l.to_string());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The SQLite CDR database.
    pub fn cdr_path(&self) -> PathBuf {
        self.dir.join("cdr.sqlite")
    }

    /// The scratch folder (current directory of the switch).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The switch's log (stderr and stdout) so far.
    pub fn log_text(&self) -> String {
        process::read_text(&self.log)
    }

    /// All CDR rows so far.
    pub fn cdrs(&self) -> Vec<CdrRow> {
        cdr::read(&self.cdr_path()).unwrap_or_default()
    }

    /// Waits up to `timeout` until at least `rows` CDR rows exist; returns what is there.
    pub fn wait_cdrs(&self, rows: usize, timeout: Duration) -> Vec<CdrRow> {
        cdr::wait_for(&self.cdr_path(), timeout, |r| r.len() >= rows)
    }

    /// Stops the switch: SIGTERM, then SIGKILL after 5 s. Returns its exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = process::terminate(&mut self.child, STOP_GRACE);
        }
        self.status
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- ferroswitch log ({}), last 300 lines ----\n{}\n---- end of log ----",
                self.log.display(),
                process::tail(&self.log, 300)
            );
        }
    }
}

/// Copies the folder `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The repository root (the workspace folder holding `conf/` and `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent folder")
        .to_path_buf()
}

/// The shipped configuration folder, `<repo>/conf`.
pub fn conf_dir() -> PathBuf {
    repo_root().join("conf")
}

/// The `ferroswitch` binary: `$FERROSWITCH_BIN` when set, else `target/debug/ferroswitch`
/// (under `$CARGO_TARGET_DIR` if set), built once per test process with `cargo build -p
/// ferroswitch` and the modules (`mod_record`, `mod_example`, and the test modules
/// `mod_faulty`, `mod_wrong_abi`) so that `cargo test -p ferroswitch-tests` never runs a
/// stale binary.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(find_or_build) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// Where the modules are: beside the binary (the default `dir` of `conf/modules.toml`).
pub fn modules_dir() -> PathBuf {
    binary()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The library of module `name` (`<modules_dir>/lib<name>.so`).
pub fn module_library(name: &str) -> PathBuf {
    modules_dir().join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// A command running the binary with `--conf <repo>/conf`; add `--set` arguments to it.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    cmd.arg("--conf").arg(conf_dir());
    cmd
}

fn find_or_build() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("FERROSWITCH_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("FERROSWITCH_BIN={} is not a file", bin.display()))
        };
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let bin = target.join("debug").join("ferroswitch");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "ferroswitch",
            "-p",
            "mod_record",
            "-p",
            "mod_example",
            "-p",
            "mod_callcenter",
            "-p",
            "mod_espeak",
            "-p",
            "mod_faulty",
            "-p",
            "mod_wrong_abi",
        ])
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo to build ferroswitch: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p ferroswitch failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "built ferroswitch but {} does not exist",
            bin.display()
        ))
    }
}
