//! The `freeswitch` global on real calls: API (a console command and `uuid_getvar` of the
//! call itself), Event fired onto the bus and received by an event-socket client,
//! getGlobalVariable (`[vars]` and built-ins), msleep, Session (to nobody, and to a
//! registered SIPp user that gets a prompt), consoleLog,
//! Dbh rows written during a call, IVRMenu with a sub-menu; and `lua` / `luarun` from the
//! event socket, with no call.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::lua::{caller_with_digits, result, script, Ends, DISPATCH};
use ferroswitch_tests::{peer_available, RtpSink, Switch};

const T: Duration = Duration::from_secs(15);

#[test]
fn api_event_globals_msleep_session_and_console_log() {
    if !peer_available("sipp") {
        return;
    }
    let s = script(
        r#"
        session:answer()
        local api = freeswitch.API()
        R("status", api:execute("status", ""):match("UP") ~= nil)
        R("getvar", api:executeString("uuid_getvar " .. session.uuid .. " destination_number"))
        R("unknown", api:execute("nosuchcommand"))
        local e = freeswitch.Event("CUSTOM", "lua::test")
        e:addHeader("X-Lua-Test", "hello from lua")
        e:addBody("the body")
        R("fire", e:fire())
        R("globals", freeswitch.getGlobalVariable("my_var"), freeswitch.getGlobalVariable("domain"),
          freeswitch.getGlobalVariable("nope"))
        local t0 = tonumber(api:getTime())
        freeswitch.msleep(300)
        R("msleep", tonumber(api:getTime()) - t0 >= 290)
        local leg = freeswitch.Session("user/1001")
        R("leg", leg:ready(), leg:answer())
        freeswitch.consoleLog("WARNING", "a warning from lua\n")
        freeswitch.consoleLog("no-such-level", "tolerated\n")
        session:hangup()
        "#,
    );
    let sw = Switch::start_with_scripts(
        &[("default.lua", DISPATCH), ("t_fs.lua", &s)],
        &[("vars.my_var", "hello")],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert!(esl
        .command("event plain CUSTOM lua::test")
        .starts_with("+OK"));
    let sink = RtpSink::bind();
    let caller = caller_with_digits(&sw, "t_fs", &[], 3000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .spawn();
    let ev = esl
        .wait_event(T, |e| e.header("Event-Subclass") == Some("lua::test"))
        .expect("the script's event on the event socket");
    assert_eq!(ev.header("X-Lua-Test"), Some("hello from lua"), "{ev:?}");
    assert_eq!(ev.header("Event-Name"), Some("CUSTOM"));
    caller.wait().assert_passed();
    assert_eq!(result(&sw, "status"), "true");
    assert_eq!(result(&sw, "getvar"), "t_fs");
    assert_eq!(
        result(&sw, "unknown"),
        "-ERR nosuchcommand Command not found!"
    );
    assert_eq!(result(&sw, "fire"), "true");
    assert_eq!(result(&sw, "globals"), "hello,127.0.0.1,nil");
    assert_eq!(result(&sw, "msleep"), "true");
    assert_eq!(result(&sw, "leg"), "false,0");
    assert!(sw.wait_log(&["USER_NOT_REGISTERED"], T).is_some());
    let warn = sw
        .wait_log(&["a warning from lua"], T)
        .expect("the warning");
    assert!(warn.contains("WARN"), "{warn}");
    assert!(sw.wait_log(&["tolerated"], T).is_some());
}

#[test]
fn dbh_writes_a_row_per_call() {
    if !peer_available("sipp") {
        return;
    }
    let s = script(
        r#"
        local db = freeswitch.Dbh("sqlite://lua_calls")
        R("connected", db:connected())
        db:query("create table if not exists calls(uuid text, dest text, caller text)")
        db:query(string.format("insert into calls values ('%s', '%s', '%s')", session.uuid,
          session:getVariable("destination_number"), session:getVariable("caller_id_number")))
        R("affected", db:affected_rows())
        local n = 0
        db:query("select count(*) as n from calls", function(row) n = tonumber(row.n) end)
        R("rows", n)
        db:release()
        session:hangup("NORMAL_CLEARING")
        "#,
    );
    let sw = Switch::start_with_scripts(&[("default.lua", DISPATCH), ("t_db.lua", &s)], &[]);
    for _ in 0..2 {
        let sink = RtpSink::bind();
        // NORMAL_CLEARING before an answer is a 480 for the caller.
        ferroswitch_tests::lua::caller_expecting(&sw, "t_db", 480)
            .key("sinkport", sink.port())
            .run()
            .assert_passed();
    }
    assert_eq!(result(&sw, "connected"), "true");
    assert_eq!(result(&sw, "affected"), "1");
    let path = sw.dir().join("var/lua_calls.db");
    let conn = rusqlite::Connection::open(&path).expect("the script's database");
    let rows: Vec<(String, String, String)> = conn
        .prepare("select uuid, dest, caller from calls")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.1 == "t_db" && r.2 == "1002" && r.0.len() == 36),
        "{rows:?}"
    );
    let cdrs = sw.wait_cdrs(2, T);
    assert!(
        rows.iter().all(|r| cdrs.iter().any(|c| c.uuid == r.0)),
        "{rows:?} {cdrs:?}"
    );
}

#[test]
fn ivr_menu_with_a_sub_menu_exec_app_back_and_exit() {
    if !peer_available("sipp") {
        return;
    }
    let s = script(
        r#"
        session:answer()
        local main = freeswitch.IVRMenu(nil, "main", "silence_stream://300", "silence_stream://200",
          "ivr/ivr-that_was_an_invalid_entry.wav", "voicemail/vm-goodbye.wav", nil, nil, nil, nil,
          1, 2000, 1, 3000, 3, 3)
        main:bindAction("menu-sub", "sub", "2")
        main:bindAction("menu-exec-app", "set main_pick=one", "1")
        main:bindAction("menu-exit", nil, "9")
        local sub = freeswitch.IVRMenu(main, "sub", "silence_stream://300", nil, nil, nil, nil, nil,
          nil, nil, 1, 2000, 1, 3000, 3, 3)
        sub:bindAction("menu-exec-app", "set sub_pick=yes", "1")
        sub:bindAction("menu-back", nil, "*")
        main:execute(session, "main")
        R("menu", session:getVariable("main_pick"), session:getVariable("sub_pick"),
          session:getVariable("ivr_menu_status"))
        session:hangup()
        "#,
    );
    let sw = Switch::start_with_scripts(&[("default.lua", DISPATCH), ("t_menu.lua", &s)], &[]);
    let sink = RtpSink::bind();
    // 7: invalid; 2: into the sub-menu; 1 there; *: back; 1 in the main menu; 9: exit.
    let digits = [
        ('7', 600),
        ('2', 2800),
        ('1', 3600),
        ('*', 4400),
        ('1', 5200),
        ('9', 6000),
    ];
    caller_with_digits(&sw, "t_menu", &digits, 10000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "menu"), "one,yes,success");
    assert!(sw.wait_log(&["invalid input \"7\""], T).is_some());
}

#[test]
fn lua_and_luarun_commands_run_scripts_with_no_call() {
    let out = script(
        r#"
        R("argv", argv[0], argv[1], argv[2], session)
        stream:write("written to the stream\n")
        print("printed", 42)
        "#,
    );
    let bg = script("freeswitch.msleep(200)\nR(\"background\", argv[1])\n");
    let sw = Switch::start_with_scripts(
        &[
            ("t_out.lua", &out),
            ("t_bg.lua", &bg),
            ("t_err.lua", "local x = 1\nerror('boom')\n"),
        ],
        &[],
    );
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    let reply = esl.api("lua t_out.lua one two");
    assert_eq!(reply, "written to the stream\nprinted\t42\n");
    assert_eq!(result(&sw, "argv"), "t_out.lua,one,two,nil");
    let reply = esl.api("lua t_err.lua");
    assert_eq!(reply.trim(), "-ERR t_err.lua:2: boom");
    let reply = esl.api("lua missing.lua");
    assert!(
        reply.starts_with("-ERR missing.lua: cannot read"),
        "{reply}"
    );
    assert!(esl.api("lua").starts_with("-USAGE"));
    assert_eq!(esl.api("luarun t_bg.lua later").trim(), "+OK");
    assert_eq!(result(&sw, "background"), "later");
    assert!(sw.wait_log(&["luarun: done", "t_bg.lua"], T).is_some());
    let reply = esl.api("lua ../etc/passwd");
    assert!(
        reply.contains("not a path inside the scripts folder"),
        "{reply}"
    );
}

#[test]
fn session_originates_a_leg_the_script_drives() {
    if !peer_available("sipp") {
        return;
    }
    let s = script(
        r#"
        session:answer()
        local leg = freeswitch.Session("{origination_caller_id_number=5551234}user/1001")
        R("leg", leg:ready(), leg:getVariable("destination_number"))
        leg:streamFile("ivr/ivr-welcome.wav")
        leg:hangup()
        R("after", leg:ready())
        session:hangup()
        "#,
    );
    let sw = Switch::start_with_scripts(&[("default.lua", DISPATCH), ("t_orig.lua", &s)], &[]);
    let to_leg = RtpSink::bind();
    // The originated leg's callee: uas_answer passes once the script's hangup sent a BYE.
    let callee = ferroswitch_tests::Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_leg.port())
        .spawn();
    let sink = RtpSink::bind();
    let caller = caller_with_digits(&sw, "t_orig", &[], 3000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .spawn();
    callee.wait().assert_passed();
    caller.wait().assert_passed();
    assert_eq!(result(&sw, "leg"), "true,1001");
    assert_eq!(result(&sw, "after"), "false");
    let s = to_leg.wait_for_packets(50, T);
    assert!(s.loud >= 40, "the prompt reached the originated leg: {s:?}");
}
