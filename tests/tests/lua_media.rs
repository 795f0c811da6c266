//! The session's media methods on real calls, with RFC 4733 digits from SIPp: streamFile
//! (audio at the caller's sink), the input callback steering playback, getDigits, read,
//! playAndGetDigits (retries, regex, variable), sleep and flushDigits, say and sayPhrase,
//! recordFile.

use std::time::Duration;

use ferroswitch_tests::esl::EslClient;
use ferroswitch_tests::lua::{caller_playing, caller_with_digits, result, script, Ends, DISPATCH};
use ferroswitch_tests::{peer_available, wav, RtpSink, Switch};

const T: Duration = Duration::from_secs(15);

fn switch(name: &str, source: &str) -> Switch {
    let s = script(source);
    Switch::start_with_scripts(&[("default.lua", DISPATCH), (name, &s)], &[])
}

#[test]
fn stream_file_plays_to_the_caller() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_stream.lua",
        r#"
        session:answer()
        R("stream", session:streamFile("ivr/ivr-welcome.wav"))
        R("missing", session:streamFile("ivr/no-such-prompt.wav"))
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "t_stream", &[], 5000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "stream"), "1");
    assert_eq!(result(&sw, "missing"), "0");
    let got = sink.stats();
    // ivr-welcome is 1.5 s: 75 packets, most of them speech.
    assert!(got.loud >= 30, "{got:?}");
    assert!(got.sources.iter().all(|a| sw.is_rtp_source(*a)), "{got:?}");
}

#[test]
fn the_input_callback_gets_digits_and_steers_the_playback() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_callback.lua",
        r#"
        session:answer()
        local api = freeswitch.API()
        local seen = {}
        function cb(s, kind, obj, arg)
          seen[#seen + 1] = obj.digit
          R("cb" .. #seen, kind, obj.digit, arg, s == session, type(obj.duration))
          local steer = { ["1"] = "pause", ["2"] = "seek:+3000", ["3"] = "volume:-1",
                          ["4"] = "speed:+1", ["5"] = "break" }
          return steer[obj.digit]
        end
        cb_arg = "the arg"
        session:setInputCallback("cb", "cb_arg")
        local t0 = tonumber(api:getTime())
        R("stream", session:streamFile("ivr/ivr-demo_main_menu.wav"))
        R("quick", tonumber(api:getTime()) - t0 < 6000)
        R("seen", table.concat(seen))
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    let digits = [
        ('1', 800),
        ('1', 1400),
        ('2', 2000),
        ('3', 2600),
        ('4', 3200),
        ('5', 3800),
    ];
    caller_with_digits(&sw, "t_callback", &digits, 8000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "cb1"), "dtmf,1,the arg,true,number");
    assert_eq!(result(&sw, "seen"), "112345");
    // "break" stopped it: streamFile answers 0, long before the 8.5 s prompt's end.
    assert_eq!(result(&sw, "stream"), "0");
    assert_eq!(result(&sw, "quick"), "true");
}

#[test]
fn an_event_sent_to_the_channel_reaches_the_input_callback() {
    if !peer_available("sipp") {
        return;
    }
    // sendevent with the channel's Unique-ID queues the event to the channel: the input
    // callback gets (session, "event", event, arg) and "break" ends the 8.5 s prompt.
    let sw = switch(
        "t_event.lua",
        r#"
        session:answer()
        local api = freeswitch.API()
        function cb(s, kind, obj, arg)
          if kind == "event" then
            R("event", obj:getHeader("Event-Subclass"), obj:getHeader("X-Poke"), arg)
            return "break"
          end
        end
        session:setInputCallback("cb", "the arg")
        R("uuid", session.uuid)
        local t0 = tonumber(api:getTime())
        R("stream", session:streamFile("ivr/ivr-demo_main_menu.wav"))
        R("quick", tonumber(api:getTime()) - t0 < 6000)
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    let caller = caller_with_digits(&sw, "t_event", &[], 9000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .spawn();
    let uuid = result(&sw, "uuid");
    std::thread::sleep(Duration::from_millis(1000));
    let mut esl = EslClient::login(sw.esl_addr(), "ClueCon");
    esl.send(&format!(
        "sendevent CUSTOM\nEvent-Subclass: test::poke\nUnique-ID: {uuid}\nX-Poke: hello"
    ));
    let reply = esl.reply(T);
    assert_eq!(reply.reply_text(), "+OK", "{reply:?}");
    caller.wait().assert_passed();
    assert_eq!(result(&sw, "event"), "test::poke,hello,the arg");
    assert_eq!(result(&sw, "stream"), "0");
    assert_eq!(result(&sw, "quick"), "true");
}

#[test]
fn speed_from_the_input_callback_shortens_the_prompt() {
    if !peer_available("sipp") {
        return;
    }
    // ivr-demo_main_menu.wav lasts about 8.5 s; "speed:+10" (1.5x) just after it starts
    // plays it in about 6 s, to its end (streamFile is not broken off).
    let sw = switch(
        "t_speed.lua",
        r#"
        session:answer()
        local api = freeswitch.API()
        function cb(s, kind, obj) return "speed:+10" end
        session:setInputCallback("cb")
        local t0 = tonumber(api:getTime())
        session:streamFile("ivr/ivr-demo_main_menu.wav")
        R("took", tonumber(api:getTime()) - t0)
        R("played", session:getVariable("playback_ms"))
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "t_speed", &[('4', 300)], 11000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    let took: f64 = result(&sw, "took").parse().expect("a number of ms");
    assert!(
        (4500.0..7300.0).contains(&took),
        "the prompt took {took} ms at 1.5x speed"
    );
}

#[test]
fn get_digits_read_and_play_and_get_digits() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_digits.lua",
        r##"
        session:answer()
        R("getDigits", session:getDigits(3, "#", 3000))
        R("read", session:read(1, 2, "ivr/ivr-please_try_again.wav", 3000, "#"))
        R("term", session:getVariable("read_terminator_used"))
        R("pagd", session:playAndGetDigits(2, 4, 2, 3000, "#", "silence_stream://300",
          "ivr/ivr-that_was_an_invalid_entry.wav", "^\\d+$", "pagd_var"))
        R("pagd_var", session:getVariable("pagd_var"))
        -- The variable name before the regex (an order some examples use) works too.
        R("swapped", session:playAndGetDigits(1, 1, 1, 3000, "", "silence_stream://100", "",
          "pagd2", "^[3]$"))
        R("pagd2", session:getVariable("pagd2"))
        session:hangup()
        "##,
    );
    let sink = RtpSink::bind();
    let digits = [
        ('1', 300),
        ('2', 500),
        ('#', 700),
        ('7', 1500),
        ('8', 1700),
        ('9', 2500),
        ('#', 2700),
        ('4', 5000),
        ('5', 5200),
        ('6', 5400),
        ('#', 5600),
        ('3', 7000),
    ];
    caller_with_digits(&sw, "t_digits", &digits, 10000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "getDigits"), "12");
    assert_eq!(result(&sw, "read"), "78");
    assert_eq!(result(&sw, "term"), "#");
    assert_eq!(result(&sw, "pagd"), "456");
    assert_eq!(result(&sw, "pagd_var"), "456");
    assert_eq!(result(&sw, "swapped"), "3");
    assert_eq!(result(&sw, "pagd2"), "3");
}

#[test]
fn sleep_flush_digits_and_a_callback_that_breaks_a_sleep() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_sleep.lua",
        r#"
        session:answer()
        R("slept", session:sleep(1500))
        session:flushDigits()
        R("flushed", session:getDigits(1, "", 1000))
        R("kept", session:getDigits(1, "", 3000))
        session:setInputCallback(function(s, kind, obj) R("sleep_cb", obj.digit) return "break" end)
        local api = freeswitch.API()
        local t0 = tonumber(api:getTime())
        R("sleep", session:sleep(4000))
        R("short", tonumber(api:getTime()) - t0 < 3500)
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    let digits = [('3', 500), ('4', 2800), ('6', 4500)];
    caller_with_digits(&sw, "t_sleep", &digits, 8000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "slept"), "1");
    assert_eq!(result(&sw, "flushed"), "");
    assert_eq!(result(&sw, "kept"), "4");
    assert_eq!(result(&sw, "sleep_cb"), "6");
    assert_eq!(result(&sw, "sleep"), "0");
    assert_eq!(result(&sw, "short"), "true");
}

#[test]
fn say_and_say_phrase_play_the_digit_prompts() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_say.lua",
        r#"
        session:answer()
        local api = freeswitch.API()
        local t0 = tonumber(api:getTime())
        session:say("1234", "en", "number", "pronounced")
        session:say("42", "en", "number", "iterated")
        session:sayPhrase("you_entered", "12")
        session:sayPhrase("no_such_phrase", "1")
        R("took_3s", tonumber(api:getTime()) - t0 > 3000)
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    caller_with_digits(&sw, "t_say", &[], 12000, Ends::SwitchHangsUp)
        .key("sinkport", sink.port())
        .run()
        .assert_passed();
    assert_eq!(result(&sw, "took_3s"), "true");
    assert!(sw.wait_log(&["no phrase \"no_such_phrase\""], T).is_some());
    assert!(
        !sw.log_text().contains("nothing to play"),
        "a prompt was missing"
    );
    let got = sink.stats();
    assert!(got.loud >= 100, "{got:?}");
}

#[test]
fn record_file_writes_what_the_caller_says() {
    if !peer_available("sipp") {
        return;
    }
    let sw = switch(
        "t_record.lua",
        r#"
        session:answer()
        R("record", session:recordFile("lua_rec.wav", 2, 0, 0))
        R("long_enough", tonumber(session:getVariable("record_ms")) >= 1500)
        session:hangup()
        "#,
    );
    let sink = RtpSink::bind();
    caller_playing(
        &sw,
        "t_record",
        "/usr/share/sip-tester/g711a.pcap",
        Ends::SwitchHangsUp,
    )
    .key("sinkport", sink.port())
    .run()
    .assert_passed();
    assert_eq!(result(&sw, "record"), "1");
    assert_eq!(result(&sw, "long_enough"), "true");
    let rec = wav::read(&sw.recordings_dir().join("lua_rec.wav")).expect("the recording");
    assert!((1.5..2.6).contains(&rec.seconds()), "{} s", rec.seconds());
    let loud = rec
        .mono()
        .iter()
        .filter(|s| s.unsigned_abs() > 1000)
        .count();
    assert!(loud > 1000, "the recording is silent");
}
