//! The event socket with a raw TCP client: auth, api, bgapi and BACKGROUND_JOB, events
//! (plain and json) during a SIPp call, filters, sendevent, malformed input, the ACL and
//! the auth throttle.

use std::time::{Duration, Instant};

use ferroswitch_tests::{peer_available, EslClient, RtpSink, SipUdp, Sipp, Switch};

const PW: &str = "ClueCon";
const T: Duration = Duration::from_secs(10);

#[test]
fn auth_api_and_unknown_commands() {
    let sw = Switch::start(&[]);
    // Before auth only auth and exit do anything.
    let mut c = EslClient::connect(sw.esl_addr());
    assert_eq!(c.read(T).unwrap().content_type(), "auth/request");
    assert_eq!(c.command("api status"), "-ERR command not found");
    c.send("auth NotThePassword");
    assert_eq!(c.reply(T).reply_text(), "-ERR invalid");
    let bye = c.read(T).expect("a disconnect notice");
    assert_eq!(bye.content_type(), "text/disconnect-notice");
    assert!(c.closed_within(T), "closed after a wrong password");
    assert!(sw.log_text().contains("event socket: wrong password"));

    let mut c = EslClient::login(sw.esl_addr(), PW);
    let status = c.api("status");
    assert!(status.starts_with("UP 0 years, 0 days"), "{status}");
    assert!(status.contains("is ready"), "{status}");
    assert!(c.api("version").starts_with("ferroswitch Version "));
    assert_eq!(c.api("bogus x"), "-ERR bogus Command not found!\n");
    assert!(c.api("uuid_kill").starts_with("-USAGE: uuid_kill <uuid>"));
    assert_eq!(c.api("uuid_kill 0000"), "-ERR No such channel!\n");
    let help = c.api("help");
    for cmd in [
        "status",
        "show",
        "uuid_kill",
        "uuid_getvar",
        "originate",
        "reload",
    ] {
        assert!(
            help.contains(&format!("\n  {cmd}")),
            "{cmd} in help:\n{help}"
        );
    }
    assert_eq!(c.command("frobnicate"), "-ERR command not found");
    assert_eq!(
        c.command("event plain NOT_AN_EVENT"),
        "-ERR no keywords supplied"
    );
    assert_eq!(c.command("noevents"), "-ERR not listening for events");
    assert_eq!(c.command("linger"), "+OK will linger");
    assert_eq!(c.command("nolinger"), "+OK will not linger");
    assert_eq!(c.command("log loud"), "-ERR invalid log level");
    assert_eq!(c.command("log debug"), "+OK log level debug [7]");
    // Running a command logs at debug: the line comes back as log/data.
    assert!(c.api("uptime").trim().parse::<u64>().is_ok());
    let deadline = Instant::now() + T;
    let line = loop {
        let m = c.read(Duration::from_secs(1));
        if let Some(m) = m.filter(|m| m.content_type() == "log/data") {
            if m.body.contains("api") {
                break m;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no log/data line for the api command"
        );
    };
    assert_eq!(line.header("Log-Level"), Some("7"), "{line:?}");
    assert!(
        line.body.contains("[DEBUG]") && line.body.ends_with('\n'),
        "{line:?}"
    );
    assert_eq!(c.command("log info"), "+OK log level info [6]");
    assert_eq!(c.command("nolog"), "+OK no longer logging");
    assert_eq!(
        c.command("sendmsg 0000\ncall-command: hangup"),
        "-ERR invalid session id [0000]"
    );
    c.send("exit");
    assert_eq!(c.reply(T).reply_text(), "+OK bye");
    assert_eq!(c.read(T).unwrap().content_type(), "text/disconnect-notice");
    assert!(c.closed_within(T));
}

#[test]
fn bgapi_answers_with_a_job_uuid_and_a_background_job_event() {
    let sw = Switch::start(&[]);
    let mut c = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        c.command("event plain BACKGROUND_JOB"),
        "+OK event listener enabled plain"
    );
    c.send("bgapi status");
    let r = c.reply(T);
    let job = r.header("Job-UUID").expect("Job-UUID header").to_string();
    assert_eq!(r.reply_text(), format!("+OK Job-UUID: {job}"));
    let e = c
        .wait_event(T, |e| e.header("Job-UUID") == Some(job.as_str()))
        .expect("BACKGROUND_JOB for the job");
    assert_eq!(e.header("Event-Name"), Some("BACKGROUND_JOB"));
    assert_eq!(e.header("Job-Command"), Some("status"));
    assert!(e.body.starts_with("UP "), "{e:?}");
    for h in [
        "Core-UUID",
        "Event-Date-Timestamp",
        "Event-Sequence",
        "FreeSWITCH-Hostname",
    ] {
        assert!(e.header(h).is_some(), "{h} in {e:?}");
    }
    // A client's own Job-UUID is kept.
    c.send("bgapi uptime\nJob-UUID: my-job-1");
    assert_eq!(c.reply(T).reply_text(), "+OK Job-UUID: my-job-1");
    let e = c.wait_event(T, |e| e.header("Job-UUID") == Some("my-job-1"));
    assert!(e.is_some());
}

#[test]
fn channel_events_and_uuid_commands_during_a_call() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let mut plain = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        plain.command("event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE"),
        "+OK event listener enabled plain"
    );
    let mut json = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        json.command("event json ALL"),
        "+OK event listener enabled json"
    );
    let mut ctl = EslClient::login(sw.esl_addr(), PW);

    // The echo test until the switch hangs up: uac_call_wait_bye waits for our BYE.
    let sink = RtpSink::bind();
    let caller = Sipp::caller("uac_call_wait_bye.xml", sw.sip_addr(), "1002", "9196")
        .key("sinkport", sink.port())
        .spawn();
    let create = plain
        .wait_event(T, |e| e.header("Event-Name") == Some("CHANNEL_CREATE"))
        .expect("CHANNEL_CREATE");
    let uuid = create.header("Unique-ID").expect("Unique-ID").to_string();
    assert_eq!(create.header("Caller-Destination-Number"), Some("9196"));
    assert_eq!(create.header("Caller-Caller-ID-Number"), Some("1002"));
    assert_eq!(create.header("Call-Direction"), Some("inbound"));
    assert_eq!(create.header("Caller-Unique-ID"), Some(uuid.as_str()));
    assert!(
        create
            .header("Channel-Name")
            .unwrap_or("")
            .starts_with("sofia/internal/1002@"),
        "{create:?}"
    );
    let answer = plain
        .wait_event(T, |e| e.header("Event-Name") == Some("CHANNEL_ANSWER"))
        .expect("CHANNEL_ANSWER");
    assert_eq!(answer.header("Unique-ID"), Some(uuid.as_str()));
    assert_eq!(answer.header("Answer-State"), Some("answered"));

    let channels = ctl.api("show channels as json");
    assert!(channels.contains("\"row_count\":1"), "{channels}");
    assert!(channels.contains(&uuid), "{channels}");
    assert!(ctl.api("show calls").contains(&uuid));
    assert_eq!(ctl.api(&format!("uuid_getvar {uuid} queue")), "_undef_");
    assert_eq!(ctl.api(&format!("uuid_setvar {uuid} queue sales")), "+OK\n");
    assert_eq!(ctl.api(&format!("uuid_getvar {uuid} queue")), "sales");
    assert_eq!(
        ctl.api(&format!("uuid_getvar {uuid} destination_number")),
        "9196"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ctl.api(&format!("uuid_kill {uuid}")), "+OK\n");
    caller.wait().assert_passed();

    let done = plain
        .wait_event(T, |e| {
            e.header("Event-Name") == Some("CHANNEL_HANGUP_COMPLETE")
        })
        .expect("CHANNEL_HANGUP_COMPLETE");
    assert_eq!(done.header("Unique-ID"), Some(uuid.as_str()));
    assert_eq!(done.header("Hangup-Cause"), Some("NORMAL_CLEARING"));
    assert_eq!(
        done.header("variable_queue"),
        Some("sales"),
        "variables ride along"
    );
    assert!(ctl.api("show channels").ends_with("0 total.\n"));

    // The json client saw the whole life of the channel, in order.
    let mut names = Vec::new();
    let deadline = Instant::now() + T;
    while !names.iter().any(|n| n == "CHANNEL_DESTROY") && Instant::now() < deadline {
        let Some(m) = json.read(Duration::from_secs(1)) else {
            continue;
        };
        if m.content_type() != "text/event-json" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&m.body).expect("a json event");
        if v["Unique-ID"] == uuid.as_str() {
            names.push(v["Event-Name"].as_str().unwrap_or("").to_string());
        }
    }
    // 9196 runs answer then echo, each between CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE.
    assert_eq!(
        names,
        [
            "CHANNEL_CREATE",
            "CHANNEL_EXECUTE",
            "CHANNEL_ANSWER",
            "CHANNEL_EXECUTE_COMPLETE",
            "CHANNEL_EXECUTE",
            "CHANNEL_EXECUTE_COMPLETE",
            "CHANNEL_HANGUP",
            "CHANNEL_HANGUP_COMPLETE",
            "CHANNEL_DESTROY"
        ]
    );
}

#[test]
fn bridge_events_name_both_legs() {
    if !peer_available("sipp") {
        return;
    }
    let sw = Switch::start(&[]);
    let mut c = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        c.command("event plain ALL"),
        "+OK event listener enabled plain"
    );
    let (to_callee, to_caller) = (RtpSink::bind(), RtpSink::bind());
    let callee = Sipp::registered_uas("uas_answer.xml", sw.sip_addr(), "1001")
        .key("sinkport", to_callee.port())
        .spawn();
    let caller = Sipp::caller("uac_call.xml", sw.sip_addr(), "1002", "1001")
        .key("sinkport", to_caller.port())
        .duration_ms(2000)
        .spawn();
    let is = |name: &'static str| {
        move |e: &ferroswitch_tests::EslMessage| e.header("Event-Name") == Some(name)
    };
    let mut before = Vec::new();
    let bridge = c
        .wait_event(T, |e| {
            let name = e.header("Event-Name").unwrap_or("");
            let dir = e.header("Call-Direction").unwrap_or("");
            before.push(format!("{name} {dir}"));
            name == "CHANNEL_BRIDGE"
        })
        .expect("CHANNEL_BRIDGE");
    for want in [
        "CHANNEL_CREATE inbound",
        "CHANNEL_CREATE outbound",
        "CHANNEL_PROGRESS inbound",
        "CHANNEL_ANSWER outbound",
        "CHANNEL_ANSWER inbound",
    ] {
        assert!(
            before.iter().any(|e| e == want),
            "{want} before the bridge: {before:?}"
        );
    }
    let a = bridge.header("Unique-ID").unwrap_or("").to_string();
    let b = bridge
        .header("Other-Leg-Unique-ID")
        .unwrap_or("")
        .to_string();
    assert_eq!(bridge.header("Bridge-A-Unique-ID"), Some(a.as_str()));
    assert_eq!(bridge.header("Bridge-B-Unique-ID"), Some(b.as_str()));
    assert_eq!(bridge.header("Caller-Destination-Number"), Some("1001"));
    assert_eq!(b.len(), 36, "{bridge:?}");
    let mut ctl = EslClient::login(sw.esl_addr(), PW);
    let calls: serde_json::Value = serde_json::from_str(&ctl.api("show calls as json")).unwrap();
    assert_eq!(calls["row_count"], 1, "{calls}");
    assert_eq!(calls["rows"][0]["uuid"], a.as_str());
    assert_eq!(calls["rows"][0]["b_uuid"], b.as_str());
    assert_eq!(calls["rows"][0]["b_callstate"], "ACTIVE");
    caller.wait().assert_passed();
    callee.wait().assert_passed();
    let unbridge = c
        .wait_event(T, is("CHANNEL_UNBRIDGE"))
        .expect("CHANNEL_UNBRIDGE");
    assert_eq!(unbridge.header("Unique-ID"), Some(a.as_str()));
    let mut done = Vec::new();
    while done.len() < 2 {
        let e = c
            .wait_event(T, is("CHANNEL_HANGUP_COMPLETE"))
            .expect("two HANGUP_COMPLETEs");
        done.push((
            e.header("Unique-ID").unwrap_or("").to_string(),
            e.header("Call-Direction").unwrap_or("").to_string(),
            e.header("Hangup-Cause").unwrap_or("").to_string(),
        ));
    }
    done.sort();
    let mut want = vec![
        (
            a.clone(),
            "inbound".to_string(),
            "NORMAL_CLEARING".to_string(),
        ),
        (
            b.clone(),
            "outbound".to_string(),
            "NORMAL_CLEARING".to_string(),
        ),
    ];
    want.sort();
    assert_eq!(done, want);
}

fn send_custom(c: &mut EslClient, tag: &str) {
    let r = c.command(&format!(
        "sendevent CUSTOM\nEvent-Subclass: test::esl\nX-Tag: {tag}"
    ));
    assert_eq!(r, "+OK");
}

#[test]
fn filters_and_custom_subclasses() {
    let sw = Switch::start(&[]);
    let mut sub = EslClient::login(sw.esl_addr(), PW);
    let mut other = EslClient::login(sw.esl_addr(), PW);
    let mut src = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        sub.command("event plain CUSTOM test::esl"),
        "+OK event listener enabled plain"
    );
    assert_eq!(
        other.command("event plain CUSTOM other::thing"),
        "+OK event listener enabled plain"
    );
    assert_eq!(
        sub.command("filter X-Tag keep"),
        "+OK filter added. [X-Tag]=[keep]"
    );
    for tag in ["drop", "keep", "drop"] {
        send_custom(&mut src, tag);
    }
    let got: Vec<String> = sub
        .drain(Duration::from_millis(700))
        .into_iter()
        .filter(|m| m.content_type() == "text/event-plain")
        .map(|m| m.plain_event().header("X-Tag").unwrap_or("").to_string())
        .collect();
    assert_eq!(got, ["keep"]);
    assert!(
        other.drain(Duration::from_millis(200)).is_empty(),
        "another subclass gets nothing"
    );
    assert_eq!(
        sub.command("filter delete X-Tag keep"),
        "+OK filter deleted. [X-Tag]=[keep]"
    );
    assert_eq!(sub.command("filter delete X-Tag"), "-ERR no such filter");
    send_custom(&mut src, "any");
    let e = sub.wait_event(T, |_| true).expect("unfiltered again");
    assert_eq!(e.header("X-Tag"), Some("any"));
    assert_eq!(e.header("Event-Subclass"), Some("test::esl"));
    assert_eq!(sub.command("nixevent CUSTOM test::esl"), "+OK events nixed");
    send_custom(&mut src, "gone");
    assert!(sub
        .wait_event(Duration::from_millis(500), |_| true)
        .is_none());
}

#[test]
fn malformed_input_gets_an_error_and_the_others_carry_on() {
    let sw = Switch::start(&[]);
    let mut good = EslClient::login(sw.esl_addr(), PW);

    let mut big = EslClient::login(sw.esl_addr(), PW);
    big.send_raw(b"api status\nX-Junk: ");
    big.send_raw(&vec![b'a'; 70 * 1024]);
    let r = big.reply(T);
    assert!(
        r.reply_text().starts_with("-ERR headers longer than"),
        "{r:?}"
    );
    assert!(big.closed_within(T));

    let mut bad_len = EslClient::login(sw.esl_addr(), PW);
    bad_len.send("sendevent CUSTOM\nContent-Length: lots");
    assert!(bad_len
        .reply(T)
        .reply_text()
        .starts_with("-ERR invalid Content-Length"));
    assert!(bad_len.closed_within(T));

    let mut binary = EslClient::connect(sw.esl_addr());
    binary.send_raw(&[0xff, 0x00, 0xfe, b'\n', b'\n']);
    assert_eq!(binary.read(T).unwrap().content_type(), "auth/request");
    assert_eq!(binary.reply(T).reply_text(), "-ERR command not found");

    assert!(good.api("status").starts_with("UP "));
}

#[test]
fn a_client_that_never_reads_does_not_stall_the_others() {
    let sw = Switch::start(&[]);
    let mut stuck = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        stuck.command("event plain ALL"),
        "+OK event listener enabled plain"
    );
    let mut src = EslClient::login(sw.esl_addr(), PW);
    // About 40 MB of events: far more than the kernel buffers the stuck client.
    let pad = "x".repeat(4000);
    let started = Instant::now();
    for n in 0..10_000 {
        let r = src.command(&format!(
            "sendevent CUSTOM\nEvent-Subclass: test::flood\nX-N: {n}\nX-Pad: {pad}"
        ));
        assert_eq!(r, "+OK");
    }
    let flood = started.elapsed();
    assert!(
        flood < Duration::from_secs(60),
        "10000 commands took {flood:?}"
    );
    let probe = SipUdp::bind();
    let r = probe.options(sw.sip_addr(), Duration::from_secs(2));
    assert_eq!(r.map(|r| r.status), Some(200), "SIP still answers");
    let mut fresh = EslClient::login(sw.esl_addr(), PW);
    let status = fresh.api("status");
    assert!(status.starts_with("UP "));
    // The stuck client lost events (counted) or was dropped for not reading.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = sw.log_text();
        if log.contains("dropping events for this subscriber")
            || log.contains("client stopped reading")
            || log.contains("client not reading")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sign of the stuck client being handled:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(stuck);
}

/// A client that stops reading for a while overflows its queues; once it reads again it is
/// told how many events it lost (TRAP) and gets new events again, without sending anything.
#[test]
fn a_client_that_pauses_is_told_what_it_lost_and_gets_events_again() {
    use std::io::{Read, Write};
    let sw = Switch::start(&[("esl.event_queue", "50")]);
    let mut slow = EslClient::login(sw.esl_addr(), PW);
    assert_eq!(
        slow.command("event plain CUSTOM test::flood test::after"),
        "+OK event listener enabled plain"
    );
    // The flood, pipelined from a raw connection whose replies a thread reads: 4,000 events
    // of 4 KB are more than the kernel buffers, the outbound queue and the 50 queued.
    let mut src = std::net::TcpStream::connect(sw.esl_addr()).expect("connect");
    src.write_all(format!("auth {PW}\n\n").as_bytes())
        .expect("auth");
    let mut replies = src.try_clone().expect("clone");
    let reader = std::thread::spawn(move || {
        let (mut buf, mut n) = (vec![0u8; 1 << 16], 0usize);
        let needle = b"Reply-Text: +OK";
        let mut tail: Vec<u8> = Vec::new();
        while let Ok(k) = replies.read(&mut buf) {
            if k == 0 {
                break;
            }
            tail.extend_from_slice(&buf[..k]);
            n += tail.windows(needle.len()).filter(|w| w == needle).count();
            let keep = tail.len().saturating_sub(needle.len());
            tail.drain(..keep);
            if n > 4000 {
                break;
            }
        }
        n
    });
    let pad = "x".repeat(4000);
    for n in 0..4000 {
        let cmd =
            format!("sendevent CUSTOM\nEvent-Subclass: test::flood\nX-N: {n}\nX-Pad: {pad}\n\n");
        src.write_all(cmd.as_bytes()).expect("flood");
    }
    let acked = reader.join().expect("reader");
    assert!(acked > 4000, "auth and 4000 sendevents answered: {acked}");
    // Reading again: the flood events that fitted in the queues, until it is quiet.
    let lost_in = |e: &ferroswitch_tests::EslMessage| -> usize {
        (e.header("Event-Name") == Some("TRAP"))
            .then(|| e.header("Lost-Events").and_then(|n| n.parse().ok()))
            .flatten()
            .unwrap_or(0)
    };
    let (mut got, mut lost) = (0, 0);
    while let Some(m) = slow.read(Duration::from_secs(2)) {
        let e = m.plain_event();
        if e.header("Event-Subclass") == Some("test::flood") {
            got += 1;
        }
        lost += lost_in(&e);
    }
    assert!((50..4000).contains(&got), "{got} flood events read");
    // The next event brings a TRAP counting the lost ones, then the event itself, though
    // the client sent nothing since its pause.
    let mut other = EslClient::login(sw.esl_addr(), PW);
    let r = other.command("sendevent CUSTOM\nEvent-Subclass: test::after\nX-Tag: back");
    assert_eq!(r, "+OK");
    let after = slow.wait_event(Duration::from_secs(10), |e| {
        lost += lost_in(e);
        e.header("Event-Subclass") == Some("test::after")
    });
    assert!(lost > 0, "a TRAP told the client it lost events");
    assert_eq!(
        lost + got,
        4000,
        "every flood event was either delivered or counted lost"
    );
    assert_eq!(
        after.as_ref().and_then(|e| e.header("X-Tag")),
        Some("back"),
        "no event after the pause"
    );
}

#[test]
fn acl_refuses_other_sources_and_repeated_bad_passwords_are_blocked() {
    let sw = Switch::start(&[("esl.acl", r#"["10.0.0.0/8"]"#)]);
    let mut c = EslClient::connect(sw.esl_addr());
    let m = c.read(T).expect("a rejection");
    assert_eq!(m.content_type(), "text/rude-rejection");
    assert_eq!(m.body, "Access Denied, go away.\n");
    assert!(c.closed_within(T));
    drop(sw);

    let sw = Switch::start(&[("esl.password", "s3cret")]);
    for _ in 0..5 {
        let mut c = EslClient::connect(sw.esl_addr());
        c.read(T).expect("greeting");
        c.send("auth guess");
        assert_eq!(c.reply(T).reply_text(), "-ERR invalid");
    }
    let mut c = EslClient::connect(sw.esl_addr());
    assert_eq!(c.read(T).unwrap().content_type(), "text/rude-rejection");
    assert!(sw.log_text().contains("repeated wrong passwords"));
}
