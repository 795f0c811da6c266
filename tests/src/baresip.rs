//! baresip as a headless softphone: a config folder generated per instance (see
//! /work/shared/TESTING.md), audio from a WAV file, received audio dumped by the sndfile
//! module as `snd/*-dec.wav`.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::ports;
use crate::process::{self, TestDir};

/// Settings for one baresip instance.
#[derive(Debug, Clone)]
pub struct BaresipBuilder {
    user: String,
    password: String,
    registrar: Option<SocketAddr>,
    auto_answer: bool,
    audio: Option<PathBuf>,
    dial: Option<String>,
    quit_after: Duration,
    codecs: String,
}

/// A running baresip; stopped by PID on drop, its log printed if the test panics.
#[derive(Debug)]
pub struct Baresip {
    child: Option<Child>,
    user: String,
    sip_port: u16,
    log: PathBuf,
    quit_after: Duration,
    status: Option<ExitStatus>,
    dir: TestDir,
}

impl BaresipBuilder {
    /// Registers (password 1234, every 60 s) at `registrar`, which is also its outbound
    /// proxy, so calls go through it whatever port the Request-URI names.
    pub fn registrar(mut self, addr: SocketAddr) -> Self {
        self.registrar = Some(addr);
        self
    }

    /// Digest password (default "1234").
    pub fn password(mut self, p: &str) -> Self {
        self.password = p.to_string();
        self
    }

    /// Answers incoming calls at once (`answermode=auto`).
    pub fn auto_answer(mut self) -> Self {
        self.auto_answer = true;
        self
    }

    /// Sends this WAV file as its microphone (`audio_source aufile,PATH`); silence otherwise.
    pub fn audio_file(mut self, path: &Path) -> Self {
        self.audio = Some(path.to_path_buf());
        self
    }

    /// Dials `uri` at start (`-e "/dial URI"`).
    pub fn dial(mut self, uri: &str) -> Self {
        self.dial = Some(uri.to_string());
        self
    }

    /// The account's `audio_codecs` (default `PCMU`), e.g. `opus/48000/2` or `G722,PCMA`.
    pub fn codecs(mut self, codecs: &str) -> Self {
        self.codecs = codecs.to_string();
        self
    }

    /// Quits (hanging up, unregistering) after this long (`-t`); default 10 s.
    pub fn quit_after(mut self, d: Duration) -> Self {
        self.quit_after = d;
        self
    }

    /// Writes the config folder and starts baresip.
    pub fn start(self) -> Baresip {
        let dir = TestDir::new(&format!("baresip-{}", self.user));
        // baresip also takes PORT+1 (TLS): a block of 10 keeps instances apart.
        let sip_port = ports::reserve(10);
        let rtp = ports::reserve(20);
        let snd = dir.join("snd");
        std::fs::create_dir_all(&snd).expect("create the sndfile folder");
        let source = match &self.audio {
            Some(p) => format!("aufile,{}", p.display()),
            None => "aufile,/dev/null".to_string(),
        };
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             net_interface\t\t127.0.0.1\n\
             rtp_ports\t\t{}-{}\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\tg722.so\n\
             module\t\t\topus.so\n\
             module\t\t\taufile.so\n\
             module\t\t\tsndfile.so\n\
             module_app\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             audio_source\t\t{source}\n\
             audio_player\t\taufile,/dev/null\n\
             audio_alert\t\taufile,/dev/null\n\
             snd_path\t\t{}\n",
            rtp,
            rtp + 19,
            snd.display()
        );
        std::fs::write(dir.join("config"), config).expect("write baresip config");
        let mut account = format!("<sip:{}@127.0.0.1>;auth_pass={}", self.user, self.password);
        match self.registrar {
            Some(r) => account.push_str(&format!(";outbound=\"sip:{r}\";regint=60")),
            None => account.push_str(";regint=0"),
        }
        account.push_str(if self.auto_answer {
            ";answermode=auto"
        } else {
            ";answermode=manual"
        });
        account.push_str(&format!(";audio_codecs={}\n", self.codecs));
        std::fs::write(dir.join("accounts"), account).expect("write baresip accounts");
        std::fs::write(dir.join("contacts"), "").expect("write baresip contacts");

        let log = dir.join("baresip.log");
        let out = File::create(&log).expect("create the baresip log");
        let err = out.try_clone().expect("clone the log handle");
        let mut cmd = Command::new("baresip");
        cmd.arg("-f").arg(dir.path());
        cmd.arg("-t")
            .arg(self.quit_after.as_secs().max(1).to_string());
        if let Some(uri) = &self.dial {
            cmd.arg("-e").arg(format!("/dial {uri}"));
        }
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start baresip (is it installed?): {e}"));
        Baresip {
            child: Some(child),
            user: self.user,
            sip_port,
            log,
            quit_after: self.quit_after,
            status: None,
            dir,
        }
    }
}

impl Baresip {
    /// An instance for `user` (e.g. "1001"): no registrar, manual answer, silence, 10 s.
    pub fn builder(user: &str) -> BaresipBuilder {
        BaresipBuilder {
            user: user.to_string(),
            password: "1234".into(),
            registrar: None,
            auto_answer: false,
            audio: None,
            dial: None,
            codecs: "PCMU".into(),
            quit_after: Duration::from_secs(10),
        }
    }

    /// Its SIP port (`sip_listen`).
    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// Its log (stdout and stderr) so far.
    pub fn log_text(&self) -> String {
        process::read_text(&self.log)
    }

    /// Waits until a log line contains every one of `needles`; false at `timeout`.
    pub fn wait_for_log(&self, needles: &[&str], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.log_text();
            // Status lines are separated by carriage returns only: split on both.
            if text
                .split(['\n', '\r'])
                .any(|l| needles.iter().all(|n| l.contains(n)))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the registrar has answered this user's REGISTER with 200.
    pub fn wait_registered(&self, timeout: Duration) -> bool {
        let who = format!("{}@127.0.0.1:", self.user);
        self.wait_for_log(&[&who, "} 200 "], timeout)
    }

    /// Waits for baresip to quit by itself (its `-t` plus `margin`), else stops it.
    pub fn wait_exit(&mut self, margin: Duration) -> Option<ExitStatus> {
        if let Some(mut c) = self.child.take() {
            self.status = process::wait_timeout(&mut c, self.quit_after + margin)
                .or_else(|| process::terminate(&mut c, Duration::from_secs(5)));
        }
        self.status
    }

    /// Stops it now (SIGTERM, then SIGKILL after 5 s): it hangs up and unregisters.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(mut c) = self.child.take() {
            self.status = process::terminate(&mut c, Duration::from_secs(5));
        }
        self.status
    }

    /// The sndfile dumps of received (decoded) audio, `snd/*-dec.wav`.
    pub fn decoded_wavs(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.dir.join("snd"))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- baresip {} log, last 80 lines ----\n{}\n----",
                self.user,
                process::tail(&self.log, 80)
            );
        }
    }
}
