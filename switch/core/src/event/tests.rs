use super::*;

fn id() -> Identity {
    Identity {
        core_uuid: "core-1".into(),
        hostname: "host".into(),
        switchname: "switch".into(),
        ipv4: "127.0.0.1".into(),
        ipv6: "::1".into(),
    }
}

fn fired(e: Event) -> Event {
    let bus = EventBus::new(id());
    let mut sub = bus.subscribe("t", Interest::all(), 4);
    bus.fire(e);
    (*sub.try_recv().expect("delivered")).clone()
}

#[test]
fn fire_stamps_standard_headers_after_event_name() {
    let e = fired(Event::new("CHANNEL_CREATE").with("Unique-ID", "u1"));
    let names: Vec<&str> = e.headers().map(|(n, _)| n).collect();
    assert_eq!(
        &names[..10],
        &[
            "Event-Name",
            "Core-UUID",
            "FreeSWITCH-Hostname",
            "FreeSWITCH-Switchname",
            "FreeSWITCH-IPv4",
            "FreeSWITCH-IPv6",
            "Event-Date-Local",
            "Event-Date-GMT",
            "Event-Date-Timestamp",
            "Event-Calling-File",
        ]
    );
    assert_eq!(names.last(), Some(&"Unique-ID"));
    assert_eq!(e.header("core-uuid"), Some("core-1"));
    assert_eq!(e.header("Event-Sequence"), Some("1"));
    assert_eq!(e.header("Event-Calling-File"), Some("event/tests.rs"));
    assert!(e.header("Event-Date-GMT").unwrap().ends_with(" GMT"));
    let ts: u128 = e.header("Event-Date-Timestamp").unwrap().parse().unwrap();
    assert!(ts > 1_600_000_000_000_000, "µs since the epoch: {ts}");
}

#[test]
fn custom_events_carry_their_subclass_first() {
    let e = fired(Event::custom("callcenter::info").with("CC-Action", "agent-status-change"));
    assert_eq!(
        e.headers().next(),
        Some(("Event-Subclass", "callcenter::info"))
    );
    assert_eq!(e.name(), "CUSTOM");
    assert_eq!(e.header("Core-UUID"), Some("core-1"));
}

#[test]
fn plain_is_url_encoded_lines_and_a_blank_line() {
    let e = Event::new("API")
        .with("API-Command", "show channels")
        .with("X", "a:b%c");
    assert_eq!(
        e.serialize(EventFormat::Plain),
        "Event-Name: API\nAPI-Command: show%20channels\nX: a%3Ab%25c\n\n"
    );
}

#[test]
fn plain_body_gets_a_content_length() {
    let mut e = Event::new("BACKGROUND_JOB").with("Job-UUID", "j");
    e.set_body("+OK done\n");
    assert_eq!(
        e.serialize(EventFormat::Plain),
        "Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: 9\n\n+OK done\n"
    );
}

#[test]
fn json_is_a_flat_object_with_body() {
    let mut e = Event::new("BACKGROUND_JOB").with("A", "1").with("A", "2");
    e.set_body("out");
    let v: serde_json::Value = serde_json::from_str(&e.serialize(EventFormat::Json)).unwrap();
    assert_eq!(v["Event-Name"], "BACKGROUND_JOB");
    assert_eq!(v["A"], serde_json::json!(["1", "2"]));
    assert_eq!(v["_body"], "out");
    assert_eq!(v["Content-Length"], "3");
}

#[test]
fn xml_escapes_values() {
    let e = Event::new("API").with("Q", "<a&b>");
    let x = e.serialize(EventFormat::Xml);
    assert!(x.contains("<Q>&lt;a&amp;b&gt;</Q>"), "{x}");
    assert!(x.starts_with("<event>\n  <headers>\n"));
}

#[test]
fn url_encoding_round_trips() {
    for s in ["", "plain", "a b:c\r\n%", "ünïcode ☎", "100%", "%zz", "%4"] {
        assert_eq!(url_decode(&url_encode(s)), s);
    }
    assert_eq!(
        url_encode("2026-12-01 07:41:21"),
        "2026-12-01%2007%3A41%3A21"
    );
    assert_eq!(url_decode("%zz%4"), "%zz%4");
    // Multi-byte characters are escaped byte by byte, with ASCII runs between them kept.
    assert_eq!(url_encode("é"), "%C3%A9");
    assert_eq!(url_encode("aé☎b c"), "a%C3%A9%E2%98%8Eb%20c");
    assert_eq!(url_encode("x\u{7f}~"), "x%7F~");
}

#[test]
fn interest_by_name_all_and_custom_subclass() {
    let create = Event::new("CHANNEL_CREATE");
    let cc = Event::custom("callcenter::info");
    let other = Event::custom("sofia::register");
    let mut i = Interest::default();
    assert!(!i.matches(&create));
    assert_eq!(i.subscribe(["nope"]), Err(FilterError::NoKeywords));
    i.subscribe(["channel_create", "CUSTOM", "callcenter::info"])
        .unwrap();
    assert!(i.matches(&create));
    assert!(i.matches(&cc));
    assert!(!i.matches(&other));
    assert!(!i.matches(&Event::new("HEARTBEAT")));
    i.nix(["CHANNEL_CREATE"]).unwrap();
    assert!(!i.matches(&create));
    let mut all = Interest::all();
    assert!(all.matches(&other));
    all.nix(["HEARTBEAT"]).unwrap();
    assert!(!all.matches(&Event::new("HEARTBEAT")));
    assert!(all.matches(&create));
    all.clear_names();
    assert!(!all.is_listening());
}

#[test]
fn filters_follow_freeswitch() {
    let a = Event::new("CHANNEL_ANSWER")
        .with("Unique-ID", "aaa")
        .with("Caller-Destination-Number", "9196");
    let b = Event::new("CHANNEL_ANSWER")
        .with("Unique-ID", "bbb")
        .with("Caller-Destination-Number", "1001");
    let no_header = Event::new("HEARTBEAT");
    let mut i = Interest::all();
    i.add_filter("Unique-ID", "aaa").unwrap();
    assert!(i.matches(&a));
    assert!(!i.matches(&b));
    assert!(
        !i.matches(&no_header),
        "with a filter, events without the header are not sent"
    );
    i.add_filter("Unique-ID", "BBB").unwrap();
    assert!(
        i.matches(&b),
        "filters are ORed and compare case-insensitively"
    );
    i.add_filter("Caller-Destination-Number", "-1001").unwrap();
    assert!(!i.matches(&b), "a negative filter excludes");
    i.delete_filter("Caller-Destination-Number", None).unwrap();
    assert!(i.matches(&b));
    i.delete_filter("Unique-ID", Some("aaa")).unwrap();
    assert!(!i.matches(&a));
    assert_eq!(
        i.delete_filter("Nope", None),
        Err(FilterError::NoSuchFilter)
    );
    i.delete_filter("all", None).unwrap();
    assert!(i.matches(&a) && i.matches(&no_header));
    i.add_filter("Caller-Destination-Number", "/^91/").unwrap();
    assert!(i.matches(&a) && !i.matches(&b));
    assert!(matches!(
        i.add_filter("X", "/(/"),
        Err(FilterError::Regex(_))
    ));
}

#[test]
fn a_module_spec_names_events_then_filters() {
    let agent = Event::new("CHANNEL_HANGUP").with("variable_cc_side", "agent");
    let member = Event::new("CHANNEL_HANGUP").with("variable_cc_side", "member");
    let plain = Event::new("CHANNEL_HANGUP");
    let i = Interest::from_spec("CHANNEL_HANGUP filter variable_cc_side agent").unwrap();
    assert!(i.matches(&agent));
    assert!(!i.matches(&member) && !i.matches(&plain));
    assert!(!i.matches(&Event::new("CHANNEL_ANSWER").with("variable_cc_side", "agent")));
    let i = Interest::from_spec(
        "CHANNEL_HANGUP filter variable_cc_side agent filter variable_cc_side member",
    )
    .unwrap();
    assert!(i.matches(&agent) && i.matches(&member) && !i.matches(&plain));
    let i = Interest::from_spec("CHANNEL_ANSWER CUSTOM x::y").unwrap();
    assert!(i.filters().is_empty() && i.may_want("CHANNEL_ANSWER"));
    for bad in [
        "CHANNEL_HANGUP filter",
        "CHANNEL_HANGUP filter variable_cc_side",
        "CHANNEL_HANGUP filter a b c",
        "filter a b",
    ] {
        assert!(Interest::from_spec(bad).is_err(), "{bad}");
    }
}

#[test]
fn myevents_restricts_to_one_channel() {
    let mut i = Interest::default();
    i.subscribe(MYEVENTS.iter().copied()).unwrap();
    i.restrict_to(Some("aaa".into()));
    assert!(i.matches(&Event::new("CHANNEL_ANSWER").with("Unique-ID", "aaa")));
    assert!(!i.matches(&Event::new("CHANNEL_ANSWER").with("Unique-ID", "bbb")));
}

#[test]
fn a_full_queue_drops_counts_and_tells_the_subscriber() {
    let bus = EventBus::new(id());
    let mut slow = bus.subscribe("slow", Interest::all(), 2);
    let mut fast = bus.subscribe("fast", Interest::all(), 100);
    for n in 0..10 {
        bus.fire(Event::new("CUSTOM").with("N", n.to_string()));
    }
    assert_eq!(slow.dropped(), 8);
    assert_eq!(bus.stats().dropped, 8);
    assert_eq!(bus.stats().fired, 10);
    let mut got = Vec::new();
    while let Some(e) = fast.try_recv() {
        got.push(e);
    }
    assert_eq!(got.len(), 10, "the fast subscriber lost nothing");
    assert_eq!(slow.try_recv().unwrap().header("N"), Some("0"));
    assert_eq!(slow.try_recv().unwrap().header("N"), Some("1"));
    assert!(slow.try_recv().is_none());
    bus.fire(Event::new("CUSTOM").with("N", "10"));
    let notice = slow.try_recv().unwrap();
    assert_eq!(notice.name(), "TRAP");
    assert_eq!(notice.header("info"), Some("lost 8 events"));
    assert_eq!(notice.header("Lost-Events"), Some("8"));
    assert_eq!(slow.try_recv().unwrap().header("N"), Some("10"));
}

#[test]
fn dropping_a_subscription_unsubscribes() {
    let bus = EventBus::new(id());
    let sub = bus.subscribe("x", Interest::all(), 1);
    assert_eq!(bus.stats().subscribers, 1);
    sub.update(|i| i.clear_names());
    assert!(!sub.interest().is_listening());
    drop(sub);
    assert_eq!(bus.stats().subscribers, 0);
    bus.fire(Event::new("HEARTBEAT"));
}

#[test]
fn remove_drops_every_header_of_a_name_but_never_the_event_name() {
    let mut e = Event::new("CUSTOM")
        .with("X-A", "1")
        .with("x-a", "2")
        .with("X-B", "3");
    assert!(e.remove("X-A"));
    assert!(!e.remove("X-A"));
    assert!(!e.remove("Event-Name"));
    assert_eq!(e.name(), "CUSTOM");
    assert_eq!(e.header("X-B"), Some("3"));
}

#[test]
fn the_bus_says_which_names_anyone_may_want() {
    let bus = EventBus::new(id());
    assert!(!bus.wants("CHANNEL_CREATE"), "no subscriber");
    let mut i = Interest::default();
    i.subscribe(["CHANNEL_HANGUP"]).unwrap();
    let hangups = bus.subscribe("module", i, 10);
    assert!(bus.wants("CHANNEL_HANGUP"));
    assert!(!bus.wants("CHANNEL_CREATE"), "only by name");
    let all = bus.subscribe("esl", Interest::all(), 10);
    assert!(bus.wants("CHANNEL_CREATE"));
    drop(all);
    drop(hangups);
    assert!(!bus.wants("CHANNEL_HANGUP"), "unsubscribed when dropped");
}
