use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::*;
use crate::call::{CallEvent, Control};
use crate::cdr::CdrWriter;
use crate::channel::{CallState, ChannelInfo, ChannelState};
use crate::config::Config;
use crate::event::{EventBus, Identity, Interest};
use crate::media::PortPool;
use crate::registrar::Registrations;

/// A switch context with no sockets, on a scratch config folder.
struct Fixture {
    ctx: Arc<Context>,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ferroswitch-api-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("dialplan.toml"),
        "[[rule]]\ndestination = '^9196$'\nactions = [\"echo\"]\n",
    )
    .unwrap();
    let sets: Vec<(String, String)> = [
        ("sip.udp", "off"),
        ("sip.tcp", "off"),
        ("cdr.path", dir.join("cdr.sqlite").to_str().unwrap()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::load(&dir, &sets).unwrap();
    let (sip, _sockets) = crate::runtime::sip::bind(&config).await.unwrap();
    let cdr = CdrWriter::open(&config.cdr.path).unwrap();
    let ports = PortPool::new(config.rtp.ip, config.rtp.ports.clone());
    let events = EventBus::new(Identity::new("127.0.0.1", ""));
    let ctx = Context::new(config, Registrations::default(), ports, cdr, sip, events);
    Fixture {
        ctx: Arc::new(ctx),
        dir,
    }
}

fn leg(uuid: &str, call_uuid: &str) -> ChannelInfo {
    ChannelInfo {
        uuid: uuid.into(),
        call_uuid: call_uuid.into(),
        direction: if uuid == call_uuid {
            "inbound"
        } else {
            "outbound"
        },
        name: format!("sofia/internal/{uuid}@127.0.0.1"),
        state: ChannelState::Execute,
        callstate: CallState::Active,
        cid_name: "Agent".into(),
        cid_num: "1002".into(),
        dest: "1001".into(),
        context: "default".into(),
        ip_addr: "127.0.0.1".into(),
        created: SystemTime::now(),
        answered: Some(SystemTime::now()),
        bridged_to: None,
    }
}

#[tokio::test]
async fn help_lists_every_command_with_its_usage() {
    let f = fixture().await;
    let help = execute(&f.ctx, "help").await;
    let lines: Vec<&str> = help.lines().collect();
    for c in f.ctx.api.list() {
        let i = lines
            .iter()
            .position(|l| l.split_whitespace().next() == Some(c.name.as_str()))
            .unwrap_or_else(|| panic!("{} missing from help:\n{help}", c.name));
        let line = lines[i];
        assert!(line.contains(&c.usage), "{line}");
        // A long syntax has its description on the next line, under the column.
        let described = line.contains(&c.description)
            || lines.get(i + 1).is_some_and(|next| {
                next.trim() == c.description && next.starts_with("  ") && next.len() > 46
            });
        assert!(described, "{line}");
    }
    // The column is capped: originate's long syntax does not push every description right.
    let status = lines
        .iter()
        .find(|l| l.trim_start().starts_with("status "))
        .expect("status line");
    let at = status.find("uptime, sessions").expect("status description");
    assert!(at <= 48, "description at column {at}:\n{help}");
    for name in [
        "status",
        "show",
        "uuid_kill",
        "originate",
        "reload",
        "loglevel",
    ] {
        assert!(f.ctx.api.get(name).is_some(), "{name}");
    }
}

#[tokio::test]
async fn unknown_commands_and_wrong_arguments() {
    let f = fixture().await;
    assert_eq!(
        execute(&f.ctx, "nosuch a b").await,
        "-ERR nosuch Command not found!\n"
    );
    assert!(execute(&f.ctx, "show")
        .await
        .starts_with("-USAGE: show channels|calls"));
    assert!(execute(&f.ctx, "show things").await.starts_with("-USAGE: "));
    assert!(execute(&f.ctx, "show channels as xml")
        .await
        .starts_with("-ERR "));
    assert_eq!(
        execute(&f.ctx, "uuid_kill").await,
        "-USAGE: uuid_kill <uuid> [cause]\n"
    );
    assert!(execute(&f.ctx, "uuid_getvar onlyuuid")
        .await
        .starts_with("-USAGE: "));
    assert!(execute(&f.ctx, "uptime fortnights")
        .await
        .starts_with("-USAGE: "));
    assert!(execute(&f.ctx, "loglevel loud")
        .await
        .starts_with("-USAGE: "));
}

#[tokio::test]
async fn status_version_uptime() {
    let f = fixture().await;
    let s = execute(&f.ctx, "status").await;
    assert!(
        s.starts_with("UP 0 years, 0 days, 0 hours, 0 minutes, "),
        "{s}"
    );
    assert!(s.contains("is ready"), "{s}");
    assert!(execute(&f.ctx, "version")
        .await
        .starts_with("ferroswitch Version "));
    assert_eq!(execute(&f.ctx, "uptime").await, "0\n");
    let ms: u64 = execute(&f.ctx, "uptime ms").await.trim().parse().unwrap();
    assert!(ms < 60_000);
    assert_eq!(
        builtin::uptime_text(std::time::Duration::from_micros(90_061_002_003)),
        "0 years, 1 days, 1 hours, 1 minutes, 1 seconds, 2 milliseconds, 3 microseconds"
    );
}

#[tokio::test]
async fn show_channels_and_calls_as_text_and_json() {
    let f = fixture().await;
    assert_eq!(execute(&f.ctx, "show channels").await, "\n0 total.\n");
    assert_eq!(
        execute(&f.ctx, "show channels as json").await,
        "{\"row_count\":0}\n"
    );
    let mut a = leg("aaa", "aaa");
    a.bridged_to = Some("bbb".into());
    let mut b = leg("bbb", "aaa");
    b.bridged_to = Some("aaa".into());
    f.ctx.channels.insert(a);
    f.ctx.channels.insert(b);
    let text = execute(&f.ctx, "show channels").await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("uuid,direction,created,created_epoch,name,state,"));
    assert_eq!(lines.len(), 5, "{text}");
    assert!(text.ends_with("\n\n2 total.\n"));
    let v: serde_json::Value =
        serde_json::from_str(&execute(&f.ctx, "show channels as json").await).unwrap();
    assert_eq!(v["row_count"], 2);
    assert_eq!(v["rows"][0]["state"], "CS_EXECUTE");
    assert_eq!(v["rows"][0]["callstate"], "ACTIVE");
    let calls: serde_json::Value =
        serde_json::from_str(&execute(&f.ctx, "show calls as json").await).unwrap();
    assert_eq!(calls["row_count"], 1);
    assert_eq!(calls["rows"][0]["uuid"], "aaa");
    assert_eq!(calls["rows"][0]["b_uuid"], "bbb");
    let api = execute(&f.ctx, "show api").await;
    assert!(api.contains("\nuuid_kill,"), "{api}");
    assert!(execute(&f.ctx, "show registrations")
        .await
        .ends_with("0 total.\n"));
    assert!(execute(&f.ctx, "show modules as json")
        .await
        .contains("\"row_count\":1"));
}

#[tokio::test]
async fn uuid_kill_and_variables_reach_the_call() {
    let f = fixture().await;
    assert_eq!(
        execute(&f.ctx, "uuid_kill nope").await,
        "-ERR No such channel!\n"
    );
    assert_eq!(
        execute(&f.ctx, "uuid_getvar nope x").await,
        "-ERR No such channel!\n"
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    f.ctx.calls.lock().unwrap().insert("aaa".into(), tx);
    f.ctx.channels.insert(leg("aaa", "aaa"));
    f.ctx.channels.insert(leg("bbb", "aaa"));
    // A stand-in for the call task: answers control requests from its mailbox.
    let call = tokio::spawn(async move {
        let mut vars = std::collections::HashMap::new();
        let mut hangups = Vec::new();
        while let Some(ev) = rx.recv().await {
            match ev {
                CallEvent::Control(Control::SetVar {
                    name, value, reply, ..
                }) => {
                    match value {
                        Some(v) => vars.insert(name, v),
                        None => vars.remove(&name),
                    };
                    let _ = reply.send(());
                }
                CallEvent::Control(Control::GetVar { name, reply, .. }) => {
                    let _ = reply.send(vars.get(&name).cloned());
                }
                CallEvent::Hangup { cause } => hangups.push(cause),
                _ => {}
            }
        }
        hangups
    });
    assert_eq!(execute(&f.ctx, "uuid_getvar aaa team").await, "_undef_");
    assert_eq!(
        execute(&f.ctx, "uuid_setvar bbb team sales east").await,
        "+OK\n"
    );
    assert_eq!(execute(&f.ctx, "uuid_getvar aaa team").await, "sales east");
    assert_eq!(execute(&f.ctx, "uuid_setvar aaa team").await, "+OK\n");
    assert_eq!(execute(&f.ctx, "uuid_getvar aaa team").await, "_undef_");
    assert_eq!(execute(&f.ctx, "uuid_kill bbb user_busy").await, "+OK\n");
    assert_eq!(execute(&f.ctx, "uuid_kill aaa").await, "+OK\n");
    assert!(execute(&f.ctx, "uuid_kill aaa NOT_A_CAUSE")
        .await
        .starts_with("-ERR unknown hangup cause"));
    assert_eq!(execute(&f.ctx, "hupall").await, "+OK hung up 1 call(s)\n");
    f.ctx.calls.lock().unwrap().clear();
    let hangups = call.await.unwrap();
    assert_eq!(hangups, ["USER_BUSY", "NORMAL_CLEARING", "MANAGER_REQUEST"]);
}

#[tokio::test]
async fn originate_to_nobody_registered_fails_with_the_cause() {
    let f = fixture().await;
    assert_eq!(
        execute(&f.ctx, "originate user/1001 &echo").await,
        "-ERR USER_NOT_REGISTERED\n"
    );
}

#[tokio::test]
async fn reload_applies_a_valid_dialplan_and_keeps_the_old_one_otherwise() {
    let f = fixture().await;
    let mut sub = f.ctx.events.subscribe("t", Interest::all(), 100);
    assert_eq!(f.ctx.live().dialplan.rules.len(), 1);
    std::fs::write(
        f.dir.join("dialplan.toml"),
        "[[rule]]\ndestination = '^1$'\nactions = [\"answer\"]\n[[rule]]\ndestination = '^2$'\nactions = [\"park\"]\n",
    )
    .unwrap();
    let r = execute(&f.ctx, "reload").await;
    assert!(
        r.starts_with("+OK reloaded: 0 directory user(s), 2 dialplan rule(s)"),
        "{r}"
    );
    assert_eq!(f.ctx.live().dialplan.rules.len(), 2);
    std::fs::write(
        f.dir.join("dialplan.toml"),
        "[[rule]]\ndestination = '^1$'\nactions = [\"answer\"]\n[[rule]]\ndestination = '(('\nactions = [\"park\"]\n",
    )
    .unwrap();
    let r = execute(&f.ctx, "reloadxml").await;
    assert!(r.starts_with("-ERR "), "{r}");
    assert!(r.contains("dialplan.toml:5"), "names file and line: {r}");
    assert!(r.contains("kept the running configuration"), "{r}");
    assert_eq!(f.ctx.live().dialplan.rules.len(), 2);
    let mut names = Vec::new();
    while let Some(e) = sub.try_recv() {
        names.push(e.name().to_string());
    }
    assert_eq!(names, ["API", "RELOADXML", "API"]);
}

#[tokio::test]
async fn modules_can_add_and_remove_commands() {
    let f = fixture().await;
    f.ctx.api.register(
        "echo_args",
        "<text>",
        "says it back",
        |_, args| async move { format!("{args}\n") },
    );
    assert_eq!(
        execute(&f.ctx, "ECHO_ARGS  hello  world ").await,
        "hello  world\n"
    );
    assert!(f.ctx.api.unregister("echo_args"));
    assert!(execute(&f.ctx, "echo_args x").await.starts_with("-ERR "));
}
