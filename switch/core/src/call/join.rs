//! Bridging two calls that started apart (`uuid_bridge`, and the ACD connecting a waiting
//! caller with an agent): one call hands its own leg over (dialog, RTP port, codec) and
//! ends quietly; the other adopts it as its B leg and bridges as if it had rung it.

use std::time::SystemTime;

use switch_sip::sdp::SessionDescription;
use switch_sip::transaction::TxId;

use super::leg::{Dialog, LegState, OutLeg};
use super::{learn_sdp, Call};
use crate::media::{LegCodec, MediaPort, RelayMode, Side};
use crate::runtime::sip::SipCommand;

/// A call's own leg, on its way to another call.
pub struct HandedLeg {
    pub(crate) uuid: String,
    pub(crate) dialog: Dialog,
    pub(crate) sdp: Option<SessionDescription>,
    pub(crate) codec: Option<LegCodec>,
    pub(crate) port: MediaPort,
    pub(crate) start: SystemTime,
    pub(crate) answer: Option<SystemTime>,
    pub(crate) destination: String,
    pub(crate) sess: (u64, u64),
    /// The channel variables it had: its events keep carrying them in the other call.
    pub(crate) vars: std::collections::HashMap<String, String>,
}

impl std::fmt::Debug for HandedLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandedLeg")
            .field("uuid", &self.uuid)
            .field("call_id", &self.dialog.call_id)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Gives this call's own leg away (answered, not bridged); the call then ends without
    /// hanging the leg up. Err when it cannot be moved now.
    pub(crate) async fn hand_over(&mut self) -> Result<HandedLeg, String> {
        if self.a_state != LegState::Answered {
            return Err("the channel is not answered".into());
        }
        if self.winner.is_some() {
            return Err("the channel is already bridged".into());
        }
        let relay = self.relay.take().ok_or("the channel has no media")?;
        let port = relay.release().await.ok_or("the channel's media is gone")?;
        self.a_state = LegState::Ended;
        self.ctx
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.uuid);
        Ok(HandedLeg {
            uuid: self.uuid.clone(),
            dialog: self.a.clone(),
            sdp: self.a_sdp.clone(),
            codec: self.a_codec.clone(),
            port,
            start: self.start,
            answer: self.answer,
            destination: self.destination.clone(),
            sess: (self.a_sess_id, self.a_sdp_version),
            vars: self.vars.clone(),
        })
    }

    /// Makes `leg` this call's answered B leg, with its media on the relay's side B.
    pub(crate) async fn adopt(&mut self, leg: HandedLeg) {
        self.ctx.sip.send(SipCommand::Dialog {
            call_id: leg.dialog.call_id.clone(),
            tag: leg.dialog.local_tag().to_string(),
            owner: self.owner.clone(),
        });
        self.ctx.channels.modify(&leg.uuid, |c| {
            c.call_uuid = self.uuid.clone();
        });
        self.b_port = Some(leg.port.port());
        self.b_sess_id = leg.sess.0;
        self.b_sdp_version = leg.sess.1;
        if let Some(relay) = &self.relay {
            relay.attach_b(leg.port);
            if let Some(sdp) = &leg.sdp {
                learn_sdp(relay, Side::B, sdp, leg.dialog.peer.addr.ip());
            }
            relay.stop_play(Side::A);
            relay.set_mode(RelayMode::Bridge);
            relay.set_timed(Side::A, None);
        }
        self.set_codec(Side::B, leg.codec.clone()).await;
        tracing::info!(
            uuid = %self.uuid,
            other = %leg.uuid,
            a = ?self.a_codec.as_ref().map(|c| c.desc.name()),
            b = ?leg.codec.as_ref().map(|c| c.desc.name()),
            "bridged"
        );
        self.forks.push(OutLeg {
            uuid: leg.uuid,
            dialog: leg.dialog,
            invite_tx: TxId::NONE,
            invite_cseq: 0,
            state: LegState::Answered,
            final_status: Some(200),
            start: leg.start,
            answer: leg.answer.or(Some(SystemTime::now())),
            destination: leg.destination,
            sent_cancel: false,
            vars: Some(leg.vars),
        });
        let w = self.forks.len() - 1;
        self.winner = Some(w);
        self.on_bridged(w);
    }
}
