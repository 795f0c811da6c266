//! The applications: `callcenter <queue>` puts the call in a queue and holds it there
//! (music, announcements, exit and callback keys) until an agent is bridged or it leaves;
//! `callcenter_callback <member>` holds an answered virtual-hold callback the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switch_sdk::abi::Status;
use switch_sdk::Session;

use crate::action::{ExitReason, LeaveReason};
use crate::model::{MemberJoin, Skills};
use crate::time::Timestamp;

use super::driver::Cc;
use super::mailbox::{Command, Mailbox};
use super::say;

/// Ringback while waiting in a queue with no music on hold.
const RINGBACK: &str = "tone_stream://%(2000,4000,440,480)";

/// What a waiting call listens for.
struct Keys {
    /// Digits that end the hold music (exit keys and the callback key).
    stop_on: String,
    /// Music on hold, none: ringback.
    hold: Option<String>,
}

fn keys(cc: &Cc, queue: &str) -> Option<Keys> {
    cc.read(|e| {
        e.queue(queue).map(|q| Keys {
            stop_on: format!(
                "{}{}",
                q.exit_keys,
                q.callback_key
                    .chars()
                    .next()
                    .map_or(String::new(), String::from)
            ),
            hold: q.moh_sound.clone(),
        })
    })
}

/// `callcenter <queue>`: the caller joins `queue` with the priority, skills and base score
/// of its channel variables (`cc_priority`, `cc_skills`, `cc_base_score`,
/// `cc_callback_number`) and waits. Returns when it left the queue without an agent (the
/// dialplan goes on); a bridge or a transfer takes the call elsewhere.
pub(crate) fn member(cc: &Arc<Cc>, s: &Session<'_>, args: &str) -> Result<(), String> {
    let Some(queue) = args.split_whitespace().next() else {
        return Err("usage: callcenter <queue>".into());
    };
    let Some(k) = keys(cc, queue) else {
        switch_sdk::warn!("callcenter: no queue named {queue}");
        s.set_variable("cc_cancel_reason", Some("NO_QUEUE"));
        return Err(format!("callcenter: no queue named {queue}"));
    };
    let uuid = s.uuid().to_string();
    let join = member_join(s, &uuid)?;
    s.answer().map_err(|e| e.to_string())?;
    s.set_variable("cc_queue", Some(queue));
    s.set_variable("cc_member_uuid", Some(&uuid));
    let mailbox = cc.mailbox(&uuid);
    cc.set_exports(&uuid, exports(s));
    let q = queue.to_string();
    if let Err(e) = cc.feed(|e, now| e.handle_member_join(now, &q, join)) {
        cc.forget(&uuid, &mailbox);
        return Err(format!("callcenter {queue}: {e}"));
    }
    let r = hold(cc, s, &uuid, &mailbox, &k);
    cc.forget(&uuid, &mailbox);
    r
}

/// `callcenter_callback <member>`: an answered callback leg waits for its agent.
pub(crate) fn callback(cc: &Arc<Cc>, s: &Session<'_>, args: &str) -> Result<(), String> {
    let Some(member) = args.split_whitespace().next() else {
        return Err("usage: callcenter_callback <member uuid>".into());
    };
    let queue = cc.read(|e| e.member(member).map(|m| m.queue.clone()));
    let Some(queue) = queue else {
        s.hangup("NORMAL_CLEARING");
        return Err(format!("callcenter_callback: no member {member}"));
    };
    let k = keys(cc, &queue).unwrap_or(Keys {
        stop_on: String::new(),
        hold: None,
    });
    let _ = s.play("ivr/ivr-hold_connect_call.wav", "");
    let mailbox = cc.mailbox(member);
    let r = hold(cc, s, member, &mailbox, &k);
    cc.forget(member, &mailbox);
    r
}

/// The caller's variables named in its `cc_export_vars` (comma-separated, at most 32).
fn exports(s: &Session<'_>) -> Vec<(String, String)> {
    let names = s.variable("cc_export_vars").unwrap_or_default();
    let valid =
        |n: &&str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    names
        .split(',')
        .map(str::trim)
        .filter(valid)
        .take(32)
        .filter_map(|n| s.variable(n).map(|v| (n.to_string(), v)))
        .collect()
}

fn member_join(s: &Session<'_>, uuid: &str) -> Result<MemberJoin, String> {
    let var = |n: &str| s.variable(n).filter(|v| !v.trim().is_empty());
    let mut join = MemberJoin::new(uuid);
    join.cid_number = var("caller_id_number").unwrap_or_default();
    join.cid_name = var("caller_id_name").unwrap_or_default();
    if let Some(p) = var("cc_priority") {
        join.priority = p
            .trim()
            .parse()
            .map_err(|_| format!("cc_priority {p:?} is not a whole number"))?;
    }
    if let Some(b) = var("cc_base_score") {
        join.base_score = b
            .trim()
            .parse()
            .map_err(|_| format!("cc_base_score {b:?} is not a number"))?;
    }
    if let Some(sk) = var("cc_skills") {
        join.skills = sk
            .parse::<Skills>()
            .map_err(|e| format!("cc_skills {sk:?}: {e}"))?;
    }
    join.callback_number = var("cc_callback_number");
    join.system_epoch = var("start_epoch")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Timestamp::from_secs);
    Ok(join)
}

/// Holds the call until it is bridged, leaves, or hangs up.
fn hold(
    cc: &Arc<Cc>,
    s: &Session<'_>,
    member: &str,
    mailbox: &Arc<Mailbox>,
    k: &Keys,
) -> Result<(), String> {
    loop {
        if mailbox.bridged() {
            return Ok(());
        }
        if let Some(c) = mailbox.take() {
            match c {
                Command::Announce {
                    sound,
                    position,
                    wait_secs,
                } => {
                    if let Some(list) = say::announcement(sound.as_deref(), position, wait_secs) {
                        switch_sdk::debug!("callcenter: announcement to {member}: {list}");
                        match s.play(&list, &k.stop_on) {
                            Ok(Some(d)) => digit(cc, member, d),
                            Ok(None) => {}
                            Err(e) if e.status == Status::HUNG_UP => {
                                return gone(cc, member, mailbox)
                            }
                            Err(e) => switch_sdk::warn!("callcenter announcement: {e}"),
                        }
                    }
                    continue;
                }
                Command::Exit {
                    destination,
                    reason,
                } => return exit(s, destination, reason),
            }
        }
        let what = mailbox
            .hold(&k.hold)
            .unwrap_or_else(|| RINGBACK.to_string());
        let started = Instant::now();
        match s.play(&what, &k.stop_on) {
            Ok(Some(d)) => digit(cc, member, d),
            Ok(None) => {
                // A prompt that ends at once (missing file) must not spin: wait a little.
                if started.elapsed() < Duration::from_millis(200)
                    && mailbox_idle(mailbox)
                    && s.sleep(Duration::from_millis(500)).is_err()
                {
                    return gone(cc, member, mailbox);
                }
            }
            Err(e) if e.status == Status::HUNG_UP => return gone(cc, member, mailbox),
            Err(e) => {
                switch_sdk::warn!("callcenter hold music {what}: {e}");
                if s.sleep(Duration::from_millis(500)).is_err() {
                    return gone(cc, member, mailbox);
                }
            }
        }
        if !s.ready() {
            return gone(cc, member, mailbox);
        }
    }
}

fn mailbox_idle(m: &Mailbox) -> bool {
    !m.bridged() && !m.pending()
}

/// A key pressed while waiting: the engine decides (exit key, callback key, or nothing).
fn digit(cc: &Arc<Cc>, member: &str, d: char) {
    let m = member.to_string();
    if let Err(e) = cc.feed(|e, now| e.handle_member_dtmf(now, &m, d)) {
        switch_sdk::debug!("callcenter: digit {d} of {member}: {e}");
    }
}

/// The call is over (or taken away): a bridged call is the agent's now; otherwise the
/// caller abandoned.
fn gone(cc: &Arc<Cc>, member: &str, mailbox: &Mailbox) -> Result<(), String> {
    if mailbox.bridged() {
        return Ok(());
    }
    let m = member.to_string();
    let _ = cc.feed(|e, now| e.handle_member_leave(now, &m, LeaveReason::Hangup));
    Ok(())
}

/// The engine took the caller out of the queue.
fn exit(s: &Session<'_>, destination: Option<String>, reason: ExitReason) -> Result<(), String> {
    s.set_variable("cc_cancel_reason", Some(reason.cancel_reason().as_str()));
    if let ExitReason::ExitWithKey(k) = reason {
        s.set_variable("cc_exit_key", Some(&k.to_string()));
    }
    if reason == ExitReason::CallbackRequested {
        let _ = s.play("ivr/ivr-callback_confirmed.wav", "");
    }
    match destination {
        Some(d) => {
            let _ = s.execute("transfer", &d);
            Ok(())
        }
        None if reason == ExitReason::CallbackRequested => {
            s.hangup("NORMAL_CLEARING");
            Ok(())
        }
        None => Ok(()),
    }
}
