//! Loading whole configuration folders: errors name file, key and line; overrides; defaults;
//! the shipped `conf/`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

/// A scratch configuration folder, removed on drop.
struct TempConf(PathBuf);

impl TempConf {
    fn new() -> TempConf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ferroswitch-conf-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempConf(dir)
    }

    fn with(self, name: &str, text: &str) -> TempConf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn load(&self, overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(&self.0, &overrides)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main_error(text: &str) -> (TempConf, ConfigError) {
    let conf = TempConf::new().with(MAIN_FILE, text);
    let err = conf.load(&[]).unwrap_err();
    (conf, err)
}

#[test]
fn empty_folder_loads_all_defaults() {
    let conf = TempConf::new();
    let c = conf.load(&[]).unwrap();
    assert_eq!(c.dir, conf.0);
    assert_eq!(c.sip, SipConfig::default());
    assert_eq!(c.sip.udp, Some("127.0.0.1:5060".parse().unwrap()));
    assert_eq!(c.sip.auth_algorithms, ["SHA-256", "MD5"]);
    assert_eq!(c.rtp.ports, 16384..=32767);
    assert_eq!(c.rtp.timeout, Some(Duration::from_secs(60)));
    assert_eq!(c.rtp.latch, LatchMode::Auto);
    assert!(c.acl.trusted.is_empty());
    // Relative paths are resolved against the folder holding the configuration folder.
    let base = conf.0.parent().expect("a temp folder has a parent");
    assert_eq!(c.cdr.path, base.join("var/cdr.sqlite"));
    assert_eq!(c.media.sounds, base.join("sounds"));
    assert_eq!(c.lua.scripts, base.join("scripts"));
    assert_eq!(c.log.level, "info");
    assert!(c.directory.users.is_empty());
    assert!(c.dialplan.rules.is_empty());
}

#[test]
fn missing_folder_is_an_error() {
    let err = Config::load(Path::new("/nonexistent/ferroswitch-conf"), &[]).unwrap_err();
    assert_eq!(err.kind, ConfigErrorKind::Io);
    assert_eq!(err.file, Path::new("/nonexistent/ferroswitch-conf"));
}

#[test]
fn partial_file_keeps_other_defaults() {
    let conf = TempConf::new().with(
        MAIN_FILE,
        "[sip]\nudp = \"off\"\n[sip.register]\nmin_expires = 30\n",
    );
    let c = conf.load(&[]).unwrap();
    assert_eq!(c.sip.udp, None);
    assert_eq!(c.sip.tcp, Some("127.0.0.1:5060".parse().unwrap()));
    assert_eq!(c.sip.register.min_expires, 30);
    assert_eq!(c.sip.register.max_expires, 3600);
}

#[test]
fn syntax_error_names_file_and_line() {
    let (conf, err) = main_error("[sip]\nudp = \"127.0.0.1:5060\"\ntcp = \n");
    assert_eq!(err.kind, ConfigErrorKind::Syntax);
    assert_eq!(err.file, conf.file(MAIN_FILE));
    assert_eq!(err.line, Some(3));
}

#[test]
fn wrong_type_names_key_and_line() {
    let (conf, err) = main_error("# x\n[sip]\nmax_forwards = \"seventy\"\n");
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert_eq!(
        (err.key.as_deref(), err.line),
        (Some("sip.max_forwards"), Some(3))
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "{}:3: sip.max_forwards: ",
            conf.file(MAIN_FILE).display()
        )),
        "{shown}"
    );
}

#[test]
fn unknown_key_names_key_and_line() {
    let (_conf, err) = main_error("[sip]\nudp = \"off\"\n\n[sip.register]\nmin_expire = 10\n");
    assert_eq!(err.kind, ConfigErrorKind::UnknownKey);
    assert_eq!(
        (err.key.as_deref(), err.line),
        (Some("sip.register.min_expire"), Some(5))
    );
    let (_conf, err) = main_error("sip = 5\n");
    assert_eq!(
        (err.key.as_deref(), err.message.as_str()),
        (Some("sip"), "invalid type: integer `5`, expected a table")
    );
    let (_conf, err) = main_error("[sipp]\nudp = \"off\"\n");
    assert_eq!(
        (err.kind, err.key.as_deref(), err.line),
        (ConfigErrorKind::UnknownKey, Some("sipp"), Some(1))
    );
}

#[test]
fn bad_socket_address_reads_like_the_example() {
    let (conf, err) = main_error("\n[sip]\nudp = \"foo\"\n");
    let expected = format!(
        "{}:3: sip.udp: invalid socket address \"foo\"",
        conf.file(MAIN_FILE).display()
    );
    assert!(err.to_string().starts_with(&expected), "{err}");
}

#[test]
fn semantic_errors_name_key_and_line() {
    let cases = [
        ("[rtp]\nports = \"20001-20999\"\n", "rtp.ports", 2),
        ("[rtp]\nports = \"20000-20000\"\n", "rtp.ports", 2),
        ("[rtp]\nip = \"0.0.0.0\"\n", "rtp.ip", 2),
        ("[rtp]\nlatch = \"sometimes\"\n", "rtp.latch", 2),
        (
            "[acl]\ntrusted = [\"10.0.0.0/8\",\n \"10.0.0.0/40\"]\n",
            "acl.trusted[1]",
            3,
        ),
        ("[log]\nlevel = \"loud\"\n", "log.level", 2),
        (
            "[sip]\nauth_algorithms = [\"SHA-512\"]\n",
            "sip.auth_algorithms[0]",
            2,
        ),
        (
            "[sip.register]\nmin_expires = 100\nmax_expires = 50\n",
            "sip.register.max_expires",
            3,
        ),
        ("[sip]\nnonce_ttl = -1\n", "sip.nonce_ttl", 2),
        ("[cdr]\npath = \"\"\n", "cdr.path", 2),
    ];
    for (text, key, line) in cases {
        let (_conf, err) = main_error(text);
        assert_eq!(
            (err.key.as_deref(), err.line),
            (Some(key), Some(line)),
            "{text}: {err}"
        );
    }
}

#[test]
fn semantic_error_on_an_unwritten_key_has_no_line() {
    // default_expires (3600) is not written but falls outside the written bounds.
    let (_conf, err) = main_error("[sip.register]\nmax_expires = 600\n");
    assert_eq!(
        (err.key.as_deref(), err.line),
        (Some("sip.register.default_expires"), None)
    );
}

#[test]
fn overrides_set_strings_integers_and_arrays() {
    let conf = TempConf::new().with(
        MAIN_FILE,
        "[sip]\nudp = \"127.0.0.1:5060\"\n\n[log]\nlevel = \"warn\"\n",
    );
    let c = conf
        .load(&[
            ("sip.udp", "127.0.0.1:5080"),
            ("rtp.ports", "20000-20999"),
            ("rtp.timeout", "5"),
            ("sip.auth_algorithms", "[\"MD5\"]"),
            ("acl.trusted", "[\"10.0.0.0/8\"]"),
            ("sip.tcp", "off"),
            ("sip.register", "{ min_expires = 10 }"),
        ])
        .unwrap();
    assert_eq!(c.sip.udp, Some("127.0.0.1:5080".parse().unwrap()));
    assert_eq!(c.sip.tcp, None);
    assert_eq!(c.rtp.ports, 20000..=20999);
    assert_eq!(c.rtp.timeout, Some(Duration::from_secs(5)));
    assert_eq!(c.sip.auth_algorithms, ["MD5"]);
    assert!(c.acl.is_trusted("10.1.1.1".parse().unwrap()));
    assert_eq!(c.sip.register.min_expires, 10);
    assert_eq!(
        c.log.level, "warn",
        "keys not overridden keep the file's value"
    );
}

#[test]
fn zero_timeout_override_disables_the_media_timeout() {
    let c = TempConf::new().load(&[("rtp.timeout", "0")]).unwrap();
    assert_eq!(c.rtp.timeout, None);
}

#[test]
fn override_with_unknown_key_names_the_set_key() {
    let conf = TempConf::new().with(MAIN_FILE, "[sip]\nudp = \"off\"\n");
    let err = conf.load(&[("sip.bogus", "1")]).unwrap_err();
    assert_eq!(err.kind, ConfigErrorKind::UnknownKey);
    assert_eq!((err.set.as_deref(), err.line), (Some("sip.bogus"), None));
    assert!(
        err.to_string().contains(": --set sip.bogus: unknown field"),
        "{err}"
    );
    let err = conf.load(&[("nosuch.x", "1")]).unwrap_err();
    assert_eq!(err.set.as_deref(), Some("nosuch.x"));
}

#[test]
fn override_with_bad_value_names_the_set_key() {
    let conf = TempConf::new().with(
        MAIN_FILE,
        "[sip]\nudp = \"off\"\n[rtp]\nports = \"20000-20999\"\n",
    );
    let err = conf.load(&[("sip.udp", "foo")]).unwrap_err();
    assert!(
        err.to_string().ends_with(
            ": --set sip.udp: invalid socket address \"foo\": expected IP:PORT, \"off\" or \"\""
        ),
        "{err}"
    );
    let err = conf.load(&[("rtp.ports", "9-1")]).unwrap_err();
    assert_eq!(
        (err.set.as_deref(), err.key.as_deref(), err.line),
        (Some("rtp.ports"), Some("rtp.ports"), None)
    );
    let err = conf.load(&[("sip.max_forwards", "lots")]).unwrap_err();
    assert_eq!(
        (err.kind, err.set.as_deref()),
        (ConfigErrorKind::InvalidValue, Some("sip.max_forwards"))
    );
}

#[test]
fn override_does_not_move_lines_of_other_errors() {
    // The override adds a line above the faulty key; the error still names the line as written.
    let conf = TempConf::new().with(
        MAIN_FILE,
        "[sip]\nudp = \"off\"\n\n[log]\nlevel = \"loud\"\n",
    );
    let err = conf
        .load(&[("sip.tcp", "off"), ("sip.domain", "example.com")])
        .unwrap_err();
    assert_eq!(
        (err.key.as_deref(), err.line, err.set.as_deref()),
        (Some("log.level"), Some(5), None)
    );
}

#[test]
fn override_through_a_non_table_is_rejected() {
    let conf = TempConf::new().with(MAIN_FILE, "[sip]\nudp = \"off\"\n");
    let err = conf.load(&[("sip.udp.port", "1")]).unwrap_err();
    assert_eq!(
        (err.kind, err.set.as_deref()),
        (ConfigErrorKind::BadOverride, Some("sip.udp.port"))
    );
    assert!(err.message.contains("`sip.udp` is not a table"), "{err}");
    // Unwritten, sip.udp becomes a table, which then has the wrong type.
    let err = TempConf::new().load(&[("sip.udp.port", "1")]).unwrap_err();
    assert_eq!(
        (err.kind, err.set.as_deref()),
        (ConfigErrorKind::InvalidValue, Some("sip.udp.port"))
    );
    let err = TempConf::new().load(&[("sip..udp", "1")]).unwrap_err();
    assert_eq!(err.kind, ConfigErrorKind::BadOverride);
}

#[test]
fn duplicate_user_names_both_files() {
    let conf = TempConf::new()
        .with("directory/a.toml", "[users.1000]\npassword = \"x\"\n")
        .with(
            "directory/b.toml",
            "# b\n\n[users.1001]\npassword = \"y\"\n[users.1000]\npassword = \"z\"\n",
        )
        .with("directory/notes.txt", "[users.1000]\n");
    let err = conf.load(&[]).unwrap_err();
    assert_eq!(err.kind, ConfigErrorKind::Duplicate);
    assert_eq!(
        (err.file.clone(), err.line),
        (conf.file("directory/b.toml"), Some(5))
    );
    assert!(
        err.message
            .contains(&format!("{}:1", conf.file("directory/a.toml").display())),
        "{err}"
    );
}

#[test]
fn users_from_all_directory_files_are_merged() {
    let conf = TempConf::new()
        .with("directory/a.toml", "[users.1000]\npassword = \"x\"\n")
        .with(
            "directory/b.toml",
            "[users.2000]\npassword = \"1234\"\ncontext = \"office\"\n",
        );
    let c = conf.load(&[]).unwrap();
    assert_eq!(c.directory.users.len(), 2);
    assert_eq!(
        c.directory.user("2000").map(|u| u.context.as_str()),
        Some("office")
    );
    assert_eq!(c.directory.demo_password_users(), ["2000"]);
}

#[test]
fn directory_error_names_its_file() {
    let conf = TempConf::new().with("directory/a.toml", "[users.1000]\npassword = 1234\n");
    let err = conf.load(&[]).unwrap_err();
    assert_eq!(
        (err.file.clone(), err.key.as_deref(), err.line),
        (
            conf.file("directory/a.toml"),
            Some("users.1000.password"),
            Some(2)
        )
    );
}

#[test]
fn dialplan_error_names_its_file() {
    let conf = TempConf::new().with(
        DIALPLAN_FILE,
        "[[rule]]\ndestination = '^1'\nactions = [\"hangup BUSY\"]\n",
    );
    let err = conf.load(&[]).unwrap_err();
    assert_eq!(
        (err.file.clone(), err.key.as_deref(), err.line),
        (
            conf.file(DIALPLAN_FILE),
            Some("rule[0].actions[0]"),
            Some(3)
        )
    );
    assert!(err.message.contains("unknown hangup cause"), "{err}");
}

#[test]
fn parse_set_splits_at_the_first_equals() {
    assert_eq!(
        parse_set("sip.udp=127.0.0.1:5080"),
        Some(("sip.udp".into(), "127.0.0.1:5080".into()))
    );
    assert_eq!(parse_set("a.b=x=y"), Some(("a.b".into(), "x=y".into())));
    assert_eq!(parse_set("novalue"), None);
    assert_eq!(parse_set("=1"), None);
}

fn shipped() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../conf"))
}

#[test]
fn shipped_conf_loads_cleanly() {
    let c = Config::load(&shipped(), &[]).unwrap();
    assert_eq!(c.directory.users.len(), 20);
    let u = c.directory.user("1019").unwrap();
    assert_eq!(
        (u.caller_id_name.as_str(), u.caller_id_number.as_str()),
        ("Extension 1019", "1019")
    );
    assert_eq!(
        u.variables.get("accountcode").map(String::as_str),
        Some("1019")
    );
    assert_eq!(
        u.variables.get("toll_allow").map(String::as_str),
        Some("domestic,international,local")
    );
    assert_eq!(
        u.variables.get("user_context").map(String::as_str),
        Some("default")
    );
    assert_eq!(c.directory.demo_password_users().len(), 20);

    let none = |_: &str| None;
    let route = |d: &str| {
        c.dialplan.route(d, &none).map(|a| {
            a.iter()
                .map(|a| format!("{} {}", a.app, a.args))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        route("9196"),
        Some(vec!["answer ".to_string(), "echo ".to_string()])
    );
    assert_eq!(route("1017"), Some(vec!["bridge user/1017".to_string()]));
    assert_eq!(route("4486"), Some(vec!["hangup USER_BUSY".to_string()]));
    assert_eq!(route("1020"), None);
}

#[test]
fn shipped_main_file_lists_every_key_with_its_default() {
    let c = Config::load(&shipped(), &[]).unwrap();
    assert_eq!(c.sip, SipConfig::default());
    assert_eq!(c.rtp, RtpConfig::default());
    assert_eq!(c.acl, AclConfig::default());
    let base = shipped()
        .parent()
        .expect("conf/ has a parent")
        .to_path_buf();
    assert_eq!(c.cdr.path, base.join(CdrConfig::default().path));
    assert_eq!(c.log, LogConfig::default());

    let defaults = toml::to_string(&settings::RawMain::default()).unwrap();
    let defaults: toml::Table = toml::from_str(&defaults).unwrap();
    let text = std::fs::read_to_string(shipped().join(MAIN_FILE)).unwrap();
    let src = source::Source::parse(Path::new(MAIN_FILE), text).unwrap();
    fn keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => keys(&key, t, out),
                _ => out.push(key),
            }
        }
    }
    let mut all = Vec::new();
    keys("", &defaults, &mut all);
    assert!(all.len() > 20);
    for key in all {
        assert!(
            src.line_of(&key).is_some(),
            "{key} is missing from the shipped {MAIN_FILE}"
        );
    }
}

#[test]
fn esl_section_defaults_and_errors() {
    let c = TempConf::new().load(&[]).unwrap();
    assert_eq!(c.esl, EslConfig::default());
    assert_eq!(c.esl.listen, Some("127.0.0.1:8021".parse().unwrap()));
    assert_eq!(c.esl.password, DEFAULT_ESL_PASSWORD);
    assert!(c.esl.allows("127.0.0.1".parse().unwrap()));
    assert!(!c.esl.allows("10.1.2.3".parse().unwrap()));
    assert_eq!(c.esl.heartbeat, Some(Duration::from_secs(20)));
    let c = TempConf::new()
        .load(&[("esl.listen", "off"), ("esl.heartbeat", "0")])
        .unwrap();
    assert_eq!((c.esl.listen, c.esl.heartbeat), (None, None));
    assert_eq!(c.overrides.len(), 2);
    let (_c, e) = main_error("[esl]\nlisten = \"nowhere\"\n");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("esl.listen"));
    let (_c, e) = main_error("[esl]\nacl = [\"10.0.0.0/99\"]\n");
    assert_eq!(e.key.as_deref(), Some("esl.acl[0]"));
    let (_c, e) = main_error("[esl]\npassword = \"\"\n");
    assert_eq!(e.key.as_deref(), Some("esl.password"));
    assert_eq!(c.esl.event_queue, 10_000);
    let (_c, e) = main_error("[esl]\n\nevent_queue = 0\n");
    assert_eq!(
        (e.key.as_deref(), e.line),
        (Some("esl.event_queue"), Some(3))
    );
}

#[test]
fn lua_section_and_global_vars() {
    let conf = TempConf::new();
    let c = conf.load(&[]).unwrap();
    let base = conf
        .0
        .parent()
        .expect("a temp folder has a parent")
        .to_path_buf();
    let d = LuaConfig::default();
    assert_eq!(c.lua.scripts, base.join(&d.scripts));
    assert_eq!(c.lua.db_dir, base.join(&d.db_dir));
    assert_eq!(c.lua.memory_limit, 8 << 20);
    assert_eq!(c.lua.max_cpu, Duration::from_millis(2000));
    assert!(c.vars.is_empty());
    let c = TempConf::new()
        .load(&[
            ("lua.memory_limit", "512 KiB"),
            ("lua.fallback", "1001"),
            ("vars.ivr_clock", "Sat 10:00"),
            ("vars.open", "true"),
        ])
        .unwrap();
    assert_eq!(c.lua.memory_limit, 512 << 10);
    assert_eq!(c.lua.fallback.as_deref(), Some("1001"));
    assert_eq!(
        c.vars.get("ivr_clock").map(String::as_str),
        Some("Sat 10:00")
    );
    assert_eq!(c.vars.get("open").map(String::as_str), Some("true"));
    let (_c, e) = main_error("[lua]\nmax_cpu_ms = 0\n");
    assert_eq!(
        (e.key.as_deref(), e.line),
        (Some("lua.max_cpu_ms"), Some(2))
    );
    let (_c, e) = main_error("[lua]\nmemory_limit = \"8 parsecs\"\n");
    assert_eq!(e.key.as_deref(), Some("lua.memory_limit"));
    let (_c, e) = main_error("[lua]\nmemory_limit = 1000\n");
    assert!(e.message.contains("64 KiB"), "{e}");
    let (_c, e) = main_error("[vars]\nx = [1, 2]\n");
    assert_eq!(e.key.as_deref(), Some("vars.x"));
    let (_c, e) = main_error("[lua]\nscript = \"x\"\n");
    assert_eq!(e.key.as_deref(), Some("lua.script"));
}
