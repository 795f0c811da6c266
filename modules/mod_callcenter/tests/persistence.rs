//! State survives a restart through the SQLite store; cc_calls gives the same statistics.

mod common;

use common::{agent, one_queue, persist_new, queue, Harness};
use mod_callcenter::store::Store;
use mod_callcenter::{
    Action, AgentState, AgentStatus, Config, Engine, LeaveReason, OfferResult, Strategy, Timestamp,
};

fn config() -> Config {
    let mut q = queue("sales", Strategy::LongestIdleAgent);
    q.callback_key = "*".into();
    let mut c = one_queue(q, &["1000", "1001", "1002"]);
    c.queues
        .insert("support".into(), queue("support", Strategy::RingAll));
    c.agents.insert("1003".into(), agent("1003"));
    c.tiers
        .push(mod_callcenter::Tier::new("support", "1003", 1, 1));
    c.normalize();
    c
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("mod_callcenter-{}-{name}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

#[test]
fn agents_tiers_overrides_and_callbacks_survive_a_restart() {
    let path = temp_db("restart");
    let mut store = Store::open(&path).unwrap();
    assert!(store.is_empty().unwrap());
    let mut h = Harness::new(config());
    // First start: the host saves the whole state once, then applies each change.
    store.save(&h.engine.snapshot()).unwrap();
    assert!(!store.is_empty().unwrap());

    // Run-time changes of every kind.
    for cmd in [
        "agent add 2000 callback",
        "agent set contact 2000 user/2000@default",
        "agent set skills 2000 english=5,billing=3",
        "agent set status 2000 Available",
        "agent set wrap_up_time 2000 15",
        "agent set status 1001 'On Break' lunch",
        "tier add sales 2000 2 1",
        "tier set position sales 1000 7",
        "tier del sales 1002",
        "agent del 1003",
        "queue set max_wait_time sales 120",
        "queue set moh_sound sales local_stream://moh",
        "queue add overflow ring-all",
        "queue del support",
    ] {
        assert_eq!(h.cc(cmd), "+OK\n", "{cmd}");
    }
    // A call answered and finished: agent counters move.
    h.join("sales", "c1");
    let o = h.one_offer();
    h.answer_and_talk(&o, 42);
    // A callback waiting, with everyone busy.
    h.cc("agent set status 1000 'On Break'");
    h.cc("agent set status 2000 'On Break'");
    h.join_with(
        "sales",
        mod_callcenter::MemberJoin::new("cb1")
            .caller("5551111", "Bob")
            .priority(1),
    );
    h.engine
        .handle_callback_request(h.now, "cb1", None)
        .unwrap();
    h.join("sales", "live"); // a live caller: not persisted (its channel dies with the switch)
    persist_new(&mut h, &mut store, &mut 0);

    let before = h.engine.snapshot();
    drop(store);

    // Restart: the same file config, the store's snapshot over it.
    let store = Store::open(&path).unwrap();
    let loaded = store.load().unwrap();
    let later = h.now.plus_secs(3600);
    let e = Engine::restore(config(), loaded.clone(), later).unwrap();
    let after = e.snapshot();

    assert_eq!(
        after.agents, before.agents,
        "agents with status, skills and counters"
    );
    assert_eq!(after.tiers, before.tiers);
    assert_eq!(after.queues, before.queues);
    assert_eq!(after.deleted_agents, ["1003"]);
    assert_eq!(
        after.deleted_tiers,
        [("sales".to_string(), "1002".to_string())]
    );
    assert_eq!(after.deleted_queues, ["support"]);
    assert_eq!(after.callbacks, before.callbacks);

    let a = e.agent("2000").unwrap();
    assert_eq!(a.contact, "user/2000@default");
    assert_eq!(a.skills.to_string(), "billing=3,english=5");
    assert_eq!(a.wrap_up_time, 15);
    let b = e.agent("1001").unwrap();
    assert_eq!(
        (b.status, b.break_reason.as_deref()),
        (AgentStatus::OnBreak, Some("lunch"))
    );
    let served = e.agent(&o.agent).unwrap();
    assert_eq!((served.calls_answered, served.talk_time), (1, 42));
    assert!(e.agent("1003").is_none(), "the tombstone beats the file");
    assert!(e.queue("support").is_none());
    assert_eq!(e.queue("overflow").unwrap().strategy, Strategy::RingAll);
    assert_eq!(e.queue("sales").unwrap().max_wait_time, 120);
    assert_eq!(
        e.tiers("sales")
            .iter()
            .map(|t| t.agent.as_str())
            .collect::<Vec<_>>(),
        ["1001", "1000", "2000"]
    );
    // The callback kept its place; the live caller is gone.
    assert_eq!(e.position("cb1"), Some(1));
    assert!(e.member("live").is_none());
    assert_eq!(e.agent("1001").unwrap().state, AgentState::Waiting);

    // save(snapshot) then load gives the snapshot back.
    let mut store = store;
    store.save(&after).unwrap();
    assert_eq!(store.load().unwrap(), loaded);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn a_restored_callback_is_called_back_when_an_agent_is_free() {
    let mut store = Store::open_in_memory().unwrap();
    let mut h = Harness::new(config());
    h.cc("agent set status 1000 'On Break'");
    h.cc("agent set status 1001 'On Break'");
    h.cc("agent set status 1002 'On Break'");
    h.join("sales", "cb");
    h.engine
        .handle_callback_request(h.now, "cb", Some("5559999"))
        .unwrap();
    persist_new(&mut h, &mut store, &mut 0);
    let mut e = Engine::restore(config(), store.load().unwrap(), h.now.plus_secs(60)).unwrap();
    e.set_agent_status(h.now.plus_secs(61), "1000", AgentStatus::Available, None)
        .unwrap();
    let mut dialed = None;
    while let Some(a) = e.poll_action() {
        if let Action::Callback(c) = a {
            dialed = Some(c.number);
        }
    }
    assert_eq!(dialed.as_deref(), Some("5559999"));
}

#[test]
fn every_queue_call_has_a_record_and_the_store_agrees_with_live_stats() {
    let mut store = Store::open_in_memory().unwrap();
    let mut q = queue("q", Strategy::LongestIdleAgent);
    q.service_level_threshold = 20;
    q.max_wait_time = 50;
    let mut h = Harness::new(one_queue(q, &["a", "b"]));
    h.cc("agent set no_answer_delay_time b 1000");
    // answered at once, talk 60
    h.join("q", "c1");
    let o1 = h.one_offer();
    h.result(o1.offer_id, OfferResult::Answered);
    // answered after a no-answer from b and 25 s waiting, talk 30
    h.join("q", "c2");
    let o2 = h.one_offer();
    h.result(o2.offer_id, OfferResult::NoAnswer);
    h.join("q", "c3"); // will abandon after 10 s
    h.join("q", "c4"); // will time out at 50 s
    h.wait(10);
    h.engine
        .handle_member_leave(h.now, "c3", LeaveReason::Hangup)
        .unwrap();
    h.wait(15);
    h.take();
    h.hangup_agent("a"); // c1 talked 25 s; a takes c2 (waited 25 s)
    let o = h.one_offer();
    assert_eq!(o.member_uuid, "c2");
    h.result(o.offer_id, OfferResult::Answered);
    h.wait(30);
    h.hangup_agent("a");
    h.wait(10);
    persist_new(&mut h, &mut store, &mut 0);
    let records: Vec<_> = h
        .all
        .iter()
        .filter_map(|a| match a {
            Action::Persist(mod_callcenter::PersistOp::RecordCall(r)) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let stored = store.calls(Some("q"), Timestamp::ZERO).unwrap();
    assert_eq!(stored.len(), 4, "c1, c2, c3, c4");
    let mut by_id = records.clone();
    by_id.sort_by(|a, b| (a.left_at, &a.id).cmp(&(b.left_at, &b.id)));
    assert_eq!(stored, by_id, "cc_calls holds exactly the records");
    let c2 = stored.iter().find(|r| r.member_uuid == "c2").unwrap();
    assert_eq!(c2.offered_agents, ["b", "a"]);
    assert_eq!((c2.wait_ms, c2.talk_ms), (25_000, 30_000));
    let live = h.engine.queue_stats("q", h.now).unwrap().today;
    let from_db = store.window_stats("q", Timestamp::ZERO, 20).unwrap();
    assert_eq!(live, from_db);
    assert_eq!(
        (live.offered, live.answered, live.abandoned, live.exited),
        (4, 2, 1, 1)
    );
    assert_eq!(live.answered_within_threshold, 1);
    assert_eq!(live.asa_secs(), Some(12.5));
    assert_eq!(live.aht_secs(), Some(27.5));
}
