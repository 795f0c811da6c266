//! `eavesdrop <uuid>` (FreeSWITCH's application): a supervisor's call hears another call,
//! both of its parties mixed, without either of them hearing the supervisor.
//!
//! A tap on the target leg's media task mixes what that leg sent with what it heard and
//! queues it on an [`AudioStream`]; the supervisor's own media task plays the stream like
//! any prompt, resampled to the supervisor's codec. Either end closing the stream ends it:
//! the target's hangup ends the application (the dialplan goes on), the supervisor's hangup
//! removes the tap at its next frame.

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
            for (m, w) in self.mix.samples_mut().iter_mut().zip(write.samples()) {
                *m = m.saturating_add(*w);
            }
        }
        self.stream.push(&self.mix)
    }

    fn close(&mut self) {
        self.stream.close();
    }
}

impl Call {
    /// Runs `eavesdrop`: answers, then plays the target's audio until either call ends.
    /// The target is a channel's uuid, or `user/<ext>`: the live channel of that directory
    /// user. Sets `eavesdrop_status` (`ok`, or why there was nothing to hear).
    pub(super) async fn eavesdrop(&mut self, args: &str) -> Result<(), End> {
        self.answer().await?;
        let target = match self.eavesdrop_target(args.trim()) {
            Ok(t) => t,
            Err(why) => {
                tracing::info!(uuid = %self.uuid, target = args, why, "eavesdrop: nothing to hear");
                self.vars.insert("eavesdrop_status".into(), why.into());
                return Ok(());
            }
        };
        let leg = target.clone();
        let media =
            crate::api::control::ask(&self.ctx, &target, |reply| Control::Media { leg, reply })
                .await;
        let Ok(Some((relay, side))) = media else {
            self.vars
                .insert("eavesdrop_status".into(), "no media".into());
            return Ok(());
        };
        let Some(own) = self.relay.clone() else {
            self.vars
                .insert("eavesdrop_status".into(), "no media".into());
            return Ok(());
        };
        let stream = AudioStream::new();
        let tap = ListenTap {
            stream: stream.clone(),
            mix: Frame::default(),
        };
        let tap_id = NEXT_TAP.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = relay.add_tap(side, tap_id, Box::new(tap)).await {
            tracing::warn!(uuid = %self.uuid, %target, error = %e, "eavesdrop: tap refused");
            self.vars
                .insert("eavesdrop_status".into(), "no media".into());
            return Ok(());
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
            self.vars
                .insert("eavesdrop_status".into(), "no media".into());
            return Ok(());
        }
        tracing::info!(uuid = %self.uuid, %target, "eavesdropping");
        self.vars.insert("eavesdrop_status".into(), "ok".into());
        self.vars
            .insert("eavesdrop_target_uuid".into(), target.clone());
        // Our hangup drops the player, which closes the stream: the tap goes at its next
        // frame. Stopping here any other way must close it too.
        let end = self.wait_play(id).await;
        stream.close();
        end.map(|_| ())
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
