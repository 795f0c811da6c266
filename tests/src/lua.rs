//! Calls for the Lua tests: a caller sending RFC 4733 digits at given times (a pcap made by
//! [`crate::pcap::write_rfc4733`] played by `uac_pcap.xml` / `uac_pcap_wait_bye.xml`), and
//! a caller expecting a given final status. Generated files go to the switch's scratch
//! folder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sipp::{scenario_path, Sipp};
use crate::switch::Switch;

static FILES: AtomicUsize = AtomicUsize::new(0);

fn unique(sw: &Switch, stem: &str, ext: &str) -> PathBuf {
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    sw.dir().join(format!("{stem}-{n}.{ext}"))
}

/// How the caller's call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// The caller sends BYE after `-d` ms (set it with `duration_ms`).
    CallerHangsUp,
    /// The caller waits for the switch's BYE.
    SwitchHangsUp,
}

/// 1002 calling `service`, sending `digits` (key, ms after the answer) as RFC 4733 events in
/// a `total_ms` PCMA stream. Add `.key("sinkport", ...)` (and `.duration_ms()` when the
/// caller hangs up) before running it.
pub fn caller_with_digits(
    sw: &Switch,
    service: &str,
    digits: &[(char, u32)],
    total_ms: u32,
    ends: Ends,
) -> Sipp {
    let pcap = unique(sw, "digits", "pcap");
    crate::pcap::write_rfc4733(&pcap, digits, total_ms).expect("write the digits pcap");
    caller_playing(sw, service, &pcap.display().to_string(), ends)
}

/// 1002 calling `service` and playing the pcap at `pcap` once answered.
pub fn caller_playing(sw: &Switch, service: &str, pcap: &str, ends: Ends) -> Sipp {
    let template = match ends {
        Ends::CallerHangsUp => "uac_pcap.xml",
        Ends::SwitchHangsUp => "uac_pcap_wait_bye.xml",
    };
    let text = std::fs::read_to_string(scenario_path(template)).expect("read the template");
    let scenario = unique(sw, template.trim_end_matches(".xml"), "xml");
    std::fs::write(&scenario, text.replace("@PCAP@", pcap)).expect("write the scenario");
    Sipp::from_path(&scenario)
        .target(sw.sip_addr())
        .user("1002", "1234")
        .service(service)
}

/// 1002 calling `service` and expecting final status `status` (`uac_expect_486.xml` with
/// the status changed); ringing and early media before it are allowed. Its SDP needs
/// `.key("sinkport", ...)`.
pub fn caller_expecting(sw: &Switch, service: &str, status: u16) -> Sipp {
    let text = std::fs::read_to_string(scenario_path("uac_expect_486.xml")).expect("read");
    let scenario = unique(sw, &format!("uac_expect_{status}"), "xml");
    let text = text.replace("response=\"486\"", &format!("response=\"{status}\""));
    std::fs::write(&scenario, text).expect("write the scenario");
    Sipp::from_path(&scenario)
        .target(sw.sip_addr())
        .user("1002", "1234")
        .service(service)
}

/// A dispatcher `default.lua` for test script folders: the dialled number `t_x` runs
/// `t_x.lua`; 9664 is music on hold and 9196 the echo test, as in the shipped dialplan.
pub const DISPATCH: &str = r#"
local dest = argv[1]
if dest == "9664" then
  ACTIONS = { {"answer"}, {"playback", "local_stream://moh"} }
elseif dest == "9196" then
  ACTIONS = { {"answer"}, {"echo"} }
elseif dest:match("^10[01]%d$") then
  ACTIONS = { {"bridge", "user/" .. dest} }
else
  ACTIONS = { {"lua", dest .. ".lua"} }
end
"#;

/// A Lua helper for test scripts: `R("key", a, b)` logs `RESULT key=a,b` (nil included),
/// which a test finds with [`Switch::wait_log`].
pub const RESULT: &str = r##"
function R(key, ...)
  local n, t = select("#", ...), {}
  for i = 1, n do t[i] = tostring((select(i, ...))) end
  freeswitch.consoleLog("info", "RESULT " .. key .. "=" .. table.concat(t, ",") .. "\n")
end
"##;

/// `source` with [`RESULT`]'s helper in front (on the same first line, so line numbers
/// in errors stay those of `source`).
pub fn script(source: &str) -> String {
    format!("{} {source}", RESULT.replace('\n', " "))
}

/// The value a test script logged with `R(key, ...)` (see [`RESULT`]), waiting up to 15 s for
/// it; panics when it never comes.
pub fn result(sw: &Switch, key: &str) -> String {
    let tag = format!("RESULT {key}=");
    let line = sw
        .wait_log(&[&tag], std::time::Duration::from_secs(15))
        .unwrap_or_else(|| panic!("no {tag} in the log"));
    let at = line.find(&tag).unwrap_or(0) + tag.len();
    line[at..]
        .split(" script=")
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}
