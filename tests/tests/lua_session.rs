//! The `session` object on real calls: answer/preAnswer/ready/hangup and causes in the CDR,
//! variables (seen over the event socket too), state and uuid, destroy, execute (set,
//! bridge), transfer, setAutoHangup, the hangup hook, speak (espeak-ng, and without an engine), and a failing
//! script's clean hangup with `file:line` in the log.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::lua::{
    caller_expecting, caller_with_digits, result, script, Ends, DISPATCH,
};
use ferroswitch_tests::{peer_available, RtpSink, Sipp, Switch, TestDir};

const T: Duration = Duration::from_secs(10);

fn switch(scripts: &[(&str, String)]) -> Switch {
    let mut all: Vec<(&str, &str)> = vec![("default.lua", DISPATCH)];
    all.extend(scripts.iter().map(|(n, s)| (*n, s.as_str())));
    Switch::start_with_scripts(&all, &[])
}

#[test]
fn answer_variables_state_uuid_and_a_hangup_cause() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[(
        "t_basic.lua",
        script(
            r#"
            R("before", session:ready(), session:answered(), session:getState())
            R("answer", session:answer())
            R("after", session:answered(), session:mediaReady(), session:getState())
            session:setVariable("lua_var", "v1")
            R("vars", session:getVariable("lua_var"), session:getVariable("nope"),
              session:getVariable("destination_number"), session:getVariable("caller_id_number"))
            R("uuid", session.uuid == session:getUuid() and session.uuid == session:get_uuid(), #session.uuid)
            R("id", session.uuid)
            session:consoleLog("notice", "from the session object")
            session:sleep(2500)
            session:hangup("user_busy")
            R("down", session:ready(), session:hangupCause(), session:getState(), session:answer())
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    let caller = caller_with_digits(&sw, "t_basic", &[], 4000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .spawn();
    let uuid = result(&sw, "id");
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    assert_eq!(esl.api(&format!("uuid_getvar {uuid} lua_var")).trim(), "v1");
    caller.wait().assert_passed();
    assert_eq!(result(&sw, "before"), "true,false,CS_EXECUTE");
    assert_eq!(result(&sw, "answer"), "1");
    assert_eq!(result(&sw, "after"), "true,true,CS_EXECUTE");
    assert_eq!(result(&sw, "vars"), "v1,nil,t_basic,1002");
    assert_eq!(result(&sw, "uuid"), "true,36");
    assert_eq!(result(&sw, "down"), "false,USER_BUSY,CS_HANGUP,0");
    assert!(sw.wait_log(&["from the session object"], T).is_some());
    let cdrs = sw.wait_cdrs(1, T);
    assert_eq!(cdrs[0].hangup_cause, "USER_BUSY", "{cdrs:?}");
    assert!(cdrs[0].answer_stamp.is_some());
}

#[test]
fn pre_answer_then_a_hangup_before_answer_gives_its_status() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[(
        "t_early.lua",
        script(
            r#"
            R("pre", session:preAnswer(), session:answered(), session:mediaReady())
            session:streamFile("silence_stream://300")
            session:hangup("CALL_REJECTED")
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    caller_expecting(&sw, "t_early", 603)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "pre"), "1,false,true");
    let cdrs = sw.wait_cdrs(1, T);
    assert_eq!(cdrs[0].hangup_cause, "CALL_REJECTED", "{cdrs:?}");
    assert!(cdrs[0].answer_stamp.is_none());
}

#[test]
fn execute_set_and_bridge_then_destroy() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[(
        "t_exec.lua",
        script(
            r#"
            session:execute("set", "lua_x=42")
            R("set", session:getVariable("lua_x"))
            session:execute("nosuchapp", "")
            session:execute("bridge", "user/1001")
            R("bridged", session:ready())
            session:destroy()
            R("destroyed", session:ready(), session:getVariable("lua_x"))
            "#,
        ),
    )]);
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "t_exec")
        .key("sinkport", to_caller.port())
        .duration_ms(2000)
        .run()
        .assert_passed();
    callee.wait().assert_passed();
    assert_eq!(result(&sw, "set"), "42");
    assert_eq!(result(&sw, "bridged"), "false");
    assert_eq!(result(&sw, "destroyed"), "false,nil");
    assert!(to_caller.stats().packets > 20, "{:?}", to_caller.stats());
    let cdrs = sw.wait_cdrs(2, T);
    let b = cdrs.iter().find(|c| c.leg == "B").expect("a B leg");
    assert_eq!(b.destination_number, "1001");
    assert!(b.answer_stamp.is_some());
}

#[test]
fn transfer_routes_the_call_again_when_the_script_ends() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[(
        "t_transfer.lua",
        script(
            r#"
            R("transfer", session:transfer("9196", "XML", "default"))
            R("still", session:ready())
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "t_transfer")
        .key("sinkport", sink.port())
        .duration_ms(3000)
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "transfer"), "1");
    assert_eq!(result(&sw, "still"), "true");
    // The echo test sent the caller's audio back.
    let got = sink.wait_for_packets(50, T);
    assert!(got.packets >= 50, "{got:?}");
    let cdrs = sw.wait_cdrs(1, T);
    assert_eq!(cdrs[0].destination_number, "9196", "{cdrs:?}");
}

#[test]
fn auto_hangup_off_lets_the_dialplan_go_on() {
    if !peer_available("sipp") {
        return;
    }
    let dir = TestDir::new("lua-scripts");
    std::fs::write(
        dir.join("auto_off.lua"),
        "session:answer()\nsession:setAutoHangup(false)\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("auto_on.lua"),
        "session:answer()\nsession:sleep(1000)\n",
    )
    .unwrap();
    let dialplan = r#"
[[rule]]
destination = '^off$'
actions = ["lua auto_off.lua", "echo"]

[[rule]]
destination = '^on$'
actions = ["lua auto_on.lua", "echo"]
"#;
    let scripts = dir.path().display().to_string();
    let sw = Switch::start_with_dialplan(dialplan, &[("lua.scripts", &scripts)]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "off")
        .key("sinkport", sink.port())
        .duration_ms(2500)
        .run()
        .assert_passed();
    assert!(
        sink.wait_for_packets(40, T).packets >= 40,
        "{:?}",
        sink.stats()
    );
    // With auto hangup (the default) the call ends with the script: the caller gets a BYE.
    let sink = RtpSink::bind();
    Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "on")
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let cdrs = sw.wait_cdrs(2, T);
    assert!(
        cdrs.iter().all(|c| c.hangup_cause == "NORMAL_CLEARING"),
        "{cdrs:?}"
    );
}

#[test]
fn the_hangup_hook_runs_when_the_caller_hangs_up_and_exit_ends_the_script() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[(
        "t_hook.lua",
        script(
            r#"
            function on_hangup(s, how, arg)
              R("hook", how, arg, s:ready(), s:hangupCause())
              return "exit"
            end
            hook_arg = "the arg"
            session:setHangupHook("on_hangup", "hook_arg")
            session:answer()
            while session:ready() do session:sleep(100) end
            R("after_loop", "ran")
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "t_hook")
        .key("sinkport", sink.port())
        .duration_ms(1500)
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "hook"), "hangup,the arg,false,NORMAL_CLEARING");
    assert!(sw.wait_log(&["script ended"], T).is_some());
    assert!(
        !sw.log_text().contains("RESULT after_loop"),
        "the hook's \"exit\" did not end the script"
    );
}

#[test]
fn a_failing_script_hangs_up_cleanly_naming_file_and_line() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(&[
        (
            "t_speak.lua",
            script(
                "R(\"pcall\", pcall(session.speak, session, \"hello\"))\nsession:set_tts_params(\"flite\", \"kal\")\nsession:speak(\"hello\")\n",
            ),
        ),
        ("t_syntax.lua", "local x = \nif then\n".to_string()),
    ]);
    let sink = RtpSink::bind();
    caller_expecting(&sw, "t_speak", 503)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(
        result(&sw, "pcall"),
        "false,t_speak.lua:1: session:speak: no TTS engine set: call session:set_tts_params(engine, voice) or set tts_engine"
    );
    let line = sw
        .wait_log(
            &[
                "script failed",
                "t_speak.lua:3: session:speak: no TTS engine named \"flite\" (loaded: espeak)",
            ],
            T,
        )
        .expect("the error with file and line in the log");
    assert!(line.contains("ERROR"), "{line}");
    caller_expecting(&sw, "t_syntax", 503)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert!(sw
        .wait_log(&["script failed", "t_syntax.lua:2:"], T)
        .is_some());
    let cdrs = sw.wait_cdrs(2, T);
    assert!(
        cdrs.iter()
            .all(|c| c.hangup_cause == "NORMAL_TEMPORARY_FAILURE"),
        "{cdrs:?}"
    );
}

#[test]
fn a_failing_script_goes_to_the_fallback_when_one_is_set() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start_with_scripts(
        &[
            ("default.lua", DISPATCH),
            ("t_fail.lua", "session:answer()\nerror('on purpose')\n"),
        ],
        &[("lua.fallback", "9196")],
    );
    let sink = RtpSink::bind();
    Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "t_fail")
        .key("sinkport", sink.port())
        .duration_ms(2500)
        .run()
        .assert_passed();
    assert!(
        sink.wait_for_packets(40, T).packets >= 40,
        "{:?}",
        sink.stats()
    );
    assert!(sw
        .wait_log(&["t_fail.lua:2: on purpose", "lua.fallback 9196"], T)
        .is_some());
}

#[test]
fn speak_says_the_text_with_espeak() {
    if !peer_available("sipp") || !peer_available("espeak-ng") {
        return;
    }
    let sw = switch(&[(
        "t_tts.lua",
        script(
            r#"
            session:answer()
            session:set_tts_params("espeak", "en-us")
            local api = freeswitch.API()
            local t0 = tonumber(api:getTime())
            R("spoke", session:speak("Thank you for calling the ferroswitch contact center"))
            R("long", tonumber(api:getTime()) - t0 > 1500)
            session:hangup()
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "t_tts", &[], 9000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "spoke"), "1", "played to its end");
    assert_eq!(result(&sw, "long"), "true");
    // Speech, not silence, reached the caller.
    let got = sink.wait_for_packets(75, T);
    assert!(got.loud >= 25, "{got:?}");
}

#[test]
fn session_is_there_after_a_script_replaces_the_globals_metatable() {
    if !peer_available("sipp") {
        return;
    }
    // `session` is built on first read; a strict-mode script that sets _G's metatable first
    // must still find it (and strictness must not trip over it).
    let sw = switch(&[(
        "t_strict.lua",
        script(
            r#"
            setmetatable(_G, { __index = function(_, k) error("undefined global " .. tostring(k), 2) end })
            session:answer()
            R("strict", session ~= nil, session:ready(), #session.uuid)
            local ok = pcall(function() return undefined_thing end)
            R("undefined", ok)
            session:sleep(1000)
            session:hangup("NORMAL_CLEARING")
            "#,
        ),
    )]);
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "t_strict", &[], 4000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "strict"), "true,true,36");
    assert_eq!(result(&sw, "undefined"), "false");
}
