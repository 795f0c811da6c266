//! The shipped conf/modules/mod_callcenter.toml loads and routes.

use std::path::Path;

use mod_callcenter::{execute, Action, Config, Engine, MemberJoin, Strategy, Timestamp};

fn shipped() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/modules/mod_callcenter.toml");
    let text = std::fs::read_to_string(&path).expect("shipped config");
    Config::from_toml("conf/modules/mod_callcenter.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_demo_has_sales_and_support_with_agents_1000_to_1009() {
    let c = shipped();
    assert_eq!(c.queues["sales"].strategy, Strategy::LongestIdleAgent);
    assert_eq!(c.queues["support"].strategy, Strategy::SkillsBased);
    let names: Vec<&str> = c.agents.keys().map(String::as_str).collect();
    let expected: Vec<String> = (1000..1010).map(|n| n.to_string()).collect();
    assert_eq!(names, expected);
    for (n, a) in &c.agents {
        assert_eq!(a.contact, format!("user/{n}"));
    }
    let now = Timestamp::from_secs(1_700_000_000);
    let mut e = Engine::new(c, now).unwrap();
    assert_eq!(execute(&mut e, now, "queue count"), "2\n");
    assert_eq!(execute(&mut e, now, "queue count agents sales"), "7\n");
    assert_eq!(
        execute(&mut e, now, "queue count agents support Available"),
        "7\n"
    );
    e.handle_member_join(
        now,
        "support",
        MemberJoin::new("c1").skills("billing=4".parse().unwrap()),
    )
    .unwrap();
    let offered: Vec<String> = std::iter::from_fn(|| e.poll_action())
        .filter_map(|a| match a {
            Action::Offer(o) => Some(o.agent),
            _ => None,
        })
        .collect();
    // billing >= 4: 1005 (5) beats 1008 (4).
    assert_eq!(offered, ["1005"]);
}

#[test]
fn a_broken_copy_names_file_key_and_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/modules/mod_callcenter.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let broken = text.replacen(
        "strategy = \"skills-based\"",
        "strategy = \"skills-first\"",
        1,
    );
    let line = broken
        .lines()
        .position(|l| l.contains("skills-first"))
        .unwrap()
        + 1;
    let e = Config::from_toml("mod_callcenter.toml", &broken).unwrap_err();
    assert_eq!(e.line, Some(line));
    assert_eq!(e.key.as_deref(), Some("queues.support.strategy"));
    assert!(
        e.to_string().starts_with(&format!(
            "mod_callcenter.toml:{line}: queues.support.strategy: unknown strategy 'skills-first'"
        )),
        "{e}"
    );
}
