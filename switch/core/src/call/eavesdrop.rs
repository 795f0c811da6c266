//! `eavesdrop <uuid>` (FreeSWITCH's application): a supervisor's call hears another call,
//! both of its parties mixed, without either of them hearing the supervisor.
//!
//! A tap on the target leg's media task mixes what that leg sent with what it heard and
//! queues it on an [`AudioStream`]; the supervisor's own media task plays the stream like
//! any prompt, resampled to the supervisor's codec. Either end closing the stream ends it:
//! the target's hangup ends the application (the dialplan goes on), the supervisor's hangup
//! removes the tap at its next frame.
//!
//! The supervisor's digits switch who hears them, as in FreeSWITCH: `2` the target leg
//! (whisper to an agent), `1` the other party, `3` both (barge in), `0` nobody again, `*`
//! the next channel (with `eavesdrop all`). What the supervisor says is tapped on their own
//! leg and mixed into what those legs hear.

use std::sync::atomic::{AtomicU64, Ordering};

use switch_media::session::AudioStream;
use switch_media::Frame;

use super::{Call, Control, End};
use crate::media::{Play, PlayItem, Side, Tap};

/// Tap ids of eavesdroppers: a range of their own, so they never meet the per-call ids of
/// recordings or the modules' ids on the same relay.
static NEXT_TAP: AtomicU64 = AtomicU64::new(1 << 48);

/// Mixes both directions of the tapped leg into the stream.
struct ListenTap {
    stream: AudioStream,
    mix: Frame,
}

impl Tap for ListenTap {
    fn on_frame(&mut self, read: &Frame, write: &Frame) -> bool {
        self.mix.clone_from(read);
        if write.rate() == read.rate() {
            self.mix.mix(write);
        }
        self.stream.push(&self.mix)
    }

    fn close(&mut self) {
        self.stream.close();
    }
}

/// Queues what the supervisor says for each side of the target call that may hear it.
struct SpeakTap {
    to: [AudioStream; 2],
}

impl Tap for SpeakTap {
    fn on_frame(&mut self, read: &Frame, _write: &Frame) -> bool {
        // Streams no one mixes in just roll over; the tap ends when both are closed.
        let mut open = false;
        for s in &self.to {
            open |= s.push(read);
        }
        open
    }

    fn close(&mut self) {
        for s in &self.to {
            s.close();
        }
    }
}

/// Who hears the supervisor after digit `d`: (the target leg, the other party).
fn talk_mode(d: char) -> Option<(bool, bool)> {
    match d {
        '0' => Some((false, false)),
        '1' => Some((false, true)),
        '2' => Some((true, false)),
        '3' => Some((true, true)),
        _ => None,
    }
}

/// How listening to one channel ended.
enum Listened {
    /// The channel's call ended (or its media went).
    Ended,
    /// The supervisor pressed `*`: on to the next channel (`eavesdrop all`).
    Next,
    /// There was nothing to hear; why, for `eavesdrop_status`.
    Nothing(&'static str),
}

impl Call {
    /// Runs `eavesdrop`: answers, then plays the target's audio until either call ends.
    /// The target is a channel's uuid, `user/<ext>` (the live channel of that directory
    /// user) or `all`: every other channel in turn, `*` skipping to the next. Sets
    /// `eavesdrop_status` (`ok`, or why there was nothing to hear).
    pub(super) async fn eavesdrop(&mut self, args: &str) -> Result<(), End> {
        self.answer().await?;
        let arg = args.trim();
        if arg != "all" {
            let status = match self.eavesdrop_target(arg) {
                Ok(target) => match self.listen(&target).await? {
                    Listened::Nothing(why) => why,
                    Listened::Ended | Listened::Next => "ok",
                },
                Err(why) => why,
            };
            if status != "ok" {
                tracing::info!(uuid = %self.uuid, target = arg, why = status, "eavesdrop: nothing to hear");
            }
            self.vars.insert("eavesdrop_status".into(), status.into());
            return Ok(());
        }
        // The channels up when it started, oldest first, but not those of our own call.
        let targets: Vec<String> = self
            .ctx
            .channels
            .all()
            .into_iter()
            .filter(|c| c.call_uuid != self.uuid)
            .map(|c| c.uuid)
            .collect();
        let mut heard_any = false;
        for target in targets {
            if self.ctx.channels.get(&target).is_none() {
                continue;
            }
            if !matches!(self.listen(&target).await?, Listened::Nothing(_)) {
                heard_any = true;
            }
        }
        let status = if heard_any { "ok" } else { "no such channel" };
        self.vars.insert("eavesdrop_status".into(), status.into());
        Ok(())
    }

    /// Listens to channel `target` until its call ends, or `*` asks for the next one.
    async fn listen(&mut self, target: &str) -> Result<Listened, End> {
        let leg = target.to_string();
        let media =
            crate::api::control::ask(&self.ctx, target, |reply| Control::Media { leg, reply })
                .await;
        let Ok(Some((relay, side))) = media else {
            return Ok(Listened::Nothing("no media"));
        };
        let Some(own) = self.relay.clone() else {
            return Ok(Listened::Nothing("no media"));
        };
        let stream = AudioStream::new();
        let tap = ListenTap {
            stream: stream.clone(),
            mix: Frame::default(),
        };
        let tap_id = NEXT_TAP.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = relay.add_tap(side, tap_id, Box::new(tap)).await {
            tracing::warn!(uuid = %self.uuid, %target, error = %e, "eavesdrop: tap refused");
            return Ok(Listened::Nothing("no media"));
        }
        self.next_play_id += 1;
        let id = self.next_play_id;
        if let Err(e) = own
            .play(
                Side::A,
                Play::once(id, vec![PlayItem::Stream(stream.clone())]),
            )
            .await
        {
            tracing::warn!(uuid = %self.uuid, error = %e, "eavesdrop: playback refused");
            stream.close();
            return Ok(Listened::Nothing("no media"));
        }
        tracing::info!(uuid = %self.uuid, %target, "eavesdropping");
        self.vars.insert("eavesdrop_status".into(), "ok".into());
        self.vars
            .insert("eavesdrop_target_uuid".into(), target.to_string());
        // What the supervisor says, ready for whichever side a digit picks: index 0 for the
        // target leg's side, 1 for the other.
        let speak = [AudioStream::new(), AudioStream::new()];
        let speak_id = NEXT_TAP.fetch_add(1, Ordering::Relaxed);
        let talk = SpeakTap { to: speak.clone() };
        let can_talk = own.add_tap(Side::A, speak_id, Box::new(talk)).await.is_ok();
        let sides = [side, side.other()];
        // Digits pressed before (in an IVR, say) are no orders for this.
        self.digits.clear();
        let end = 'wait: loop {
            if let Some(i) = self.play_done.iter().position(|(pid, _)| *pid == id) {
                self.play_done.remove(i);
                break Ok(Listened::Ended);
            }
            while let Some(d) = self.digits.pop_front() {
                if d == '*' {
                    break 'wait Ok(Listened::Next);
                }
                let Some(heard_by) = talk_mode(d) else {
                    continue;
                };
                if !can_talk {
                    continue;
                }
                for (i, on) in [heard_by.0, heard_by.1].into_iter().enumerate() {
                    relay.mix_in(sides[i], on.then(|| speak[i].clone()));
                }
                tracing::info!(uuid = %self.uuid, %target, digit = %d, "eavesdrop: talk mode");
                self.vars.insert("eavesdrop_mode".into(), d.to_string());
            }
            match self.next_event(None).await {
                Ok(Some(ev)) => {
                    if let Err(e) = self.background(ev) {
                        break Err(e);
                    }
                }
                Ok(None) => {}
                Err(e) => break Err(e),
            }
        };
        // Our hangup drops the player, which closes the stream: the tap goes at its next
        // frame. Stopping here any other way must close it too; closed speech streams take
        // themselves out of the target's mix.
        stream.close();
        own.stop_play(Side::A);
        for s in &speak {
            s.close();
        }
        for s in sides {
            relay.mix_in(s, None);
        }
        if can_talk {
            own.remove_tap(Side::A, speak_id).await;
        }
        end
    }

    /// The uuid `eavesdrop`'s argument names.
    fn eavesdrop_target(&self, arg: &str) -> Result<String, &'static str> {
        if arg.is_empty() {
            return Err("no target");
        }
        let uuid = match arg.strip_prefix("user/") {
            Some(user) => {
                // The user's leg: its channel name is `sofia/internal/<user>@<host>`.
                let prefix = format!("sofia/internal/{user}@");
                self.ctx
                    .channels
                    .all()
                    .into_iter()
                    .find(|c| c.name.starts_with(&prefix) && c.call_uuid != self.uuid)
                    .map(|c| c.uuid)
                    .ok_or("no such channel")?
            }
            None => arg.to_string(),
        };
        match self.ctx.channels.get(&uuid) {
            None => Err("no such channel"),
            // Asking our own call for its media would wait on ourselves.
            Some(c) if c.call_uuid == self.uuid => Err("own call"),
            Some(_) => Ok(uuid),
        }
    }
}
