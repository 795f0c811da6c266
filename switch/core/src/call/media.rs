//! A call's side of the media engine: codec negotiation for the legs (answers the switch
//! writes itself, offers to B legs widened with what it can transcode to, the codec each
//! side ends up with) and the media applications (`playback`, tones, DTMF out). Recording a
//! call (`record_session`, `uuid_record`) is mod_record's, on a media tap.

use std::path::{Path, PathBuf};
use std::time::Instant;

use switch_media::codec::CodecDesc;
use switch_media::tone::ToneSpec;
use switch_sip::message::Method;
use switch_sip::sdp::{negotiate, Direction, Format, LocalMedia, Preference, SessionDescription};

use super::leg::LegState;
use super::{Call, End};
use crate::config::{DtmfMode, MediaConfig, Negotiation};
use crate::media::{DtmfOut, LegCodec, Play, PlayEnd, PlayItem, RelayMode, Side};

/// Dynamic payload types the switch gives the codecs that have no static one.
const OPUS_PT: u8 = 111;
const L16_PTS: [(u32, u8); 3] = [(8000, 112), (16000, 113), (48000, 114)];

/// The switch's codecs as SDP formats, most preferred first.
pub(crate) fn our_formats(cfg: &MediaConfig) -> Vec<Format> {
    cfg.codecs
        .iter()
        .filter_map(|name| {
            let f = match name.as_str() {
                "PCMU" => Format::new(0, "PCMU", 8000, None),
                "PCMA" => Format::new(8, "PCMA", 8000, None),
                "G722" => Format::new(9, "G722", 8000, None),
                "opus" => {
                    let mut f = Format::new(OPUS_PT, "opus", 48000, Some(2));
                    let fec = if cfg.opus_fec { "1" } else { "0" };
                    f.fmtp = Some(format!(
                        "useinbandfec={fec};maxaveragebitrate={}",
                        cfg.opus_bitrate
                    ));
                    f
                }
                l16 => {
                    let rate = match l16 {
                        "L16" => 8000,
                        "L16/16000" => 16000,
                        "L16/48000" => 48000,
                        _ => return None,
                    };
                    let pt = L16_PTS.iter().find(|(r, _)| *r == rate).map(|(_, p)| *p)?;
                    Format::new(pt, "L16", rate, None)
                }
            };
            Some(f)
        })
        .collect()
}

/// The telephone-event format the switch offers.
pub(crate) fn our_telephone_event(cfg: &MediaConfig) -> Format {
    let mut te = Format::new(cfg.telephone_event_pt, "telephone-event", 8000, None);
    te.fmtp = Some("0-16".into());
    te
}

fn preference(cfg: &MediaConfig) -> Preference {
    match cfg.negotiation {
        Negotiation::Ours => Preference::Ours,
        Negotiation::Theirs => Preference::Theirs,
    }
}

/// The codec a side speaks, from the format its SDP gave it (with its payload type), the
/// telephone-event format if any, and the packet time. `None` for codecs the switch cannot
/// decode (they can still be relayed).
pub(crate) fn leg_codec(
    cfg: &MediaConfig,
    f: &Format,
    te: Option<&Format>,
    ptime: Option<u32>,
) -> Option<LegCodec> {
    let channels = f.channels.unwrap_or(1).min(2) as u8;
    let desc = CodecDesc::lookup(&f.name, f.clock_rate, channels)?;
    let mut c = LegCodec::new(desc, f.pt, None);
    c.fmtp = f.fmtp.clone().unwrap_or_default();
    if desc.name() == "opus" && !c.fmtp.contains("maxaveragebitrate") {
        let sep = if c.fmtp.is_empty() { "" } else { ";" };
        c.fmtp = format!("{}{sep}maxaveragebitrate={}", c.fmtp, cfg.opus_bitrate);
    }
    c.telephone_event = te.map(|t| (t.pt, t.clock_rate));
    c.ptime_ms = ptime.map_or(20, |p| (p / 10 * 10).clamp(10, 60));
    c.dtmf_out = match (cfg.dtmf, te.is_some()) {
        (DtmfMode::Info, _) => DtmfOut::Signalling,
        (DtmfMode::Inband, _) | (_, false) => DtmfOut::Inband,
        (_, true) => DtmfOut::Rfc4733,
    };
    c.detect_inband = te.is_none();
    c.opus_complexity = cfg.opus_complexity;
    Some(c)
}

/// The voice codec and telephone-event an answer (or any SDP a peer will send with) names
/// first.
pub(crate) fn sdp_codec(sdp: &SessionDescription) -> Option<(Format, Option<Format>)> {
    let audio = sdp.audio()?;
    let formats = audio.offered_formats();
    let voice = formats
        .iter()
        .find(|f| !f.is_telephone_event() && !f.is_comfort_noise())?
        .clone();
    let te = formats
        .iter()
        .find(|f| f.is_telephone_event() && f.clock_rate == voice.clock_rate)
        .or_else(|| formats.iter().find(|f| f.is_telephone_event()))
        .cloned();
    Some((voice, te))
}

impl Call {
    /// The offer for a B leg: the caller's, rewritten for the relay and widened with the
    /// codecs the switch can transcode to (when it can decode one of the caller's), or the
    /// switch's own offer when the caller sent none.
    pub(crate) fn b_offer(&mut self, port: u16) -> Vec<u8> {
        let cfg = &self.ctx.config.media;
        let ours = our_formats(cfg);
        self.b_sdp_version += 1;
        let session = (self.b_sess_id, self.b_sdp_version);
        match self.a_sdp.clone() {
            Some(mut sdp) => {
                sdp.rewrite_for_relay(self.ctx.config.rtp.ip, port, Some(session));
                let decodable = sdp_codec(&sdp).is_some_and(|(f, te)| {
                    leg_codec(cfg, &f, te.as_ref(), None).is_some()
                        || sdp
                            .audio()
                            .is_some_and(|a| negotiate(a, &ours, Preference::Theirs).is_some())
                });
                if decodable {
                    sdp.widen_offer(&ours);
                }
                sdp.to_bytes()
            }
            None => {
                let mut formats = ours;
                formats.push(our_telephone_event(cfg));
                let local = LocalMedia {
                    ip: self.ctx.config.rtp.ip,
                    port,
                    session,
                    ptime: Some(20),
                    direction: Direction::SendRecv,
                    rtcp_mux: false,
                };
                SessionDescription::local_offer(&local, &formats).to_bytes()
            }
        }
    }

    /// The switch's own answer to the caller's offer (for a call it terminates or transcodes),
    /// and the caller's codec. Err(488) when they share no codec.
    pub(crate) fn local_answer_to_a(&mut self) -> Result<Option<(Vec<u8>, LegCodec)>, End> {
        match self.a_sdp.clone() {
            Some(offer) => self.local_answer_for(Side::A, &offer).map(Some),
            None => Ok(None),
        }
    }

    /// The switch's own answer to `offer` from `side`, and that side's codec.
    pub(crate) fn local_answer_for(
        &mut self,
        side: Side,
        offer: &SessionDescription,
    ) -> Result<(Vec<u8>, LegCodec), End> {
        let cfg = &self.ctx.config.media;
        let audio = offer
            .audio()
            .ok_or_else(|| End::new("INCOMPATIBLE_DESTINATION"))?;
        let Some(neg) = negotiate(audio, &our_formats(cfg), preference(cfg)) else {
            tracing::info!(uuid = %self.uuid, ?side, "no codec in common: 488");
            return Err(End::new("INCOMPATIBLE_DESTINATION"));
        };
        let codec = leg_codec(cfg, &neg.codec, neg.telephone_event.as_ref(), neg.ptime)
            .ok_or_else(|| End::new("INCOMPATIBLE_DESTINATION"))?;
        let (port, session) = match side {
            Side::A => {
                self.a_sdp_version += 1;
                (self.a_port, (self.a_sess_id, self.a_sdp_version))
            }
            Side::B => {
                self.b_sdp_version += 1;
                (
                    self.b_port.unwrap_or(0),
                    (self.b_sess_id, self.b_sdp_version),
                )
            }
        };
        // rtcp-mux is answered when offered (local_answer only writes it then).
        let local = LocalMedia {
            ip: self.ctx.config.rtp.ip,
            port,
            session,
            ptime: Some(codec.ptime_ms),
            direction: Direction::SendRecv,
            rtcp_mux: true,
        };
        let body = SessionDescription::local_answer(offer, &local, &neg.formats()).to_bytes();
        Ok((body, codec))
    }

    /// Whether the two sides speak different codecs (the relay transcodes).
    pub(crate) fn transcoding(&self) -> bool {
        match (&self.a_codec, &self.b_codec) {
            (Some(a), Some(b)) => a.desc != b.desc,
            _ => false,
        }
    }

    /// Makes sure the caller has an answer SDP (the switch's own) and its codec is set in the
    /// relay; returns the body. Later answers (183 then 200) repeat the same body.
    pub(crate) async fn ensure_a_answer(&mut self) -> Result<Option<Vec<u8>>, End> {
        if let Some(body) = &self.a_answer {
            return Ok(Some(body.clone()));
        }
        let Some((body, codec)) = self.local_answer_to_a()? else {
            return Ok(None);
        };
        self.set_codec(Side::A, Some(codec)).await;
        self.a_answer = Some(body.clone());
        Ok(Some(body))
    }

    /// Tells the relay a side's codec (logging a refusal: the side is then only relayed).
    pub(crate) async fn set_codec(&mut self, side: Side, codec: Option<LegCodec>) {
        if let Some(r) = &self.relay {
            if let Err(e) = r.set_codec(side, codec.clone()).await {
                tracing::warn!(uuid = %self.uuid, ?side, error = %e, "codec not usable");
            }
        }
        if side == Side::A {
            // FreeSWITCH's names, for scripts, ESL events and uuid_getvar.
            if let Some(c) = &codec {
                let name = c.desc.name().to_string();
                self.vars.insert("read_codec".into(), name.clone());
                self.vars.insert("write_codec".into(), name);
                self.vars.insert("read_rate".into(), c.rate().to_string());
            }
        }
        match side {
            Side::A => self.a_codec = codec,
            Side::B => self.b_codec = codec,
        }
    }

    /// 183 Session Progress with the switch's answer: early media the switch makes itself.
    pub(crate) async fn pre_answer(&mut self) -> Result<(), End> {
        if self.a_state != LegState::Early || self.a_early_sdp_sent {
            return Ok(());
        }
        let body = self.ensure_a_answer().await?;
        let mut r = self.a_invite.response(183, Some(self.a.local_tag()));
        r.headers.push("Contact", &self.a.contact);
        if let Some(body) = body {
            r.headers.push("Content-Type", "application/sdp");
            r.body = body;
        }
        self.respond(self.a_tx, r);
        self.a_early_sdp_sent = true;
        Ok(())
    }

    /// Plays `what` (files separated by `!`, FreeSWITCH's file_string style, or a
    /// `tone_stream://` spec, or `silence_stream://MS`) to the caller until it ends, the caller
    /// presses one of `stop_on`, or hangs up.
    pub(crate) async fn playback(&mut self, what: &str, stop_on: &str) -> Result<PlayEnd, End> {
        if self.a_state == LegState::Early {
            self.pre_answer().await?;
        }
        let before = self.next_play_id;
        self.begin_playback(what, stop_on).await?;
        if self.next_play_id == before {
            return Ok(PlayEnd::Finished);
        }
        self.wait_play(self.next_play_id).await
    }

    /// Starts playing `what` to the caller; `next_play_id` is its id when it started (it
    /// stays as it was when there was nothing playable).
    pub(crate) async fn begin_playback(&mut self, what: &str, stop_on: &str) -> Result<(), End> {
        let rate = self.a_codec.as_ref().map_or(8000, |c| c.rate());
        let mut items = Vec::new();
        let mut repeat = Some(0);
        for part in what.split('!').map(str::trim).filter(|p| !p.is_empty()) {
            match self.play_item(part, rate).await {
                Ok((item, forever)) => {
                    if forever {
                        repeat = None;
                    }
                    items.push(item);
                }
                Err(e) => {
                    tracing::warn!(uuid = %self.uuid, what = part, error = %e, "playback");
                    self.vars
                        .insert("playback_status".into(), format!("FILE NOT FOUND: {e}"));
                }
            }
        }
        if items.is_empty() {
            return Ok(());
        }
        let id = self.next_play_id + 1;
        let play = Play {
            id,
            items,
            repeat,
            stop_on: stop_on.to_string(),
            start_ms: 0,
        };
        if let Some(r) = &self.relay {
            if let Err(e) = r.play(Side::A, play).await {
                tracing::warn!(uuid = %self.uuid, error = %e, "playback refused");
                return Ok(());
            }
        }
        self.next_play_id = id;
        Ok(())
    }

    /// One playlist item and whether it plays forever (a looping tone).
    async fn play_item(&self, part: &str, rate: u32) -> Result<(PlayItem, bool), String> {
        if let Some(spec) = part.strip_prefix("tone_stream://") {
            let spec = ToneSpec::parse(spec).map_err(|e| e.to_string())?;
            let forever = spec.repeat.is_none();
            return Ok((PlayItem::Tone(spec), forever));
        }
        if let Some(spec) = part.strip_prefix("tts://") {
            // FreeSWITCH's tts://engine|voice|text: a module's engine speaks it (blocking,
            // off the call's task).
            let (engine, voice, text) = crate::tts::parse_target(spec)?;
            let tts = self.ctx.tts.get(engine).ok_or_else(|| {
                let loaded = self.ctx.tts.names();
                if loaded.is_empty() {
                    format!("no TTS engine named {engine:?} (none is loaded)")
                } else {
                    format!(
                        "no TTS engine named {engine:?} (loaded: {})",
                        loaded.join(", ")
                    )
                }
            })?;
            let (voice, text) = (voice.to_string(), text.to_string());
            let (rate, samples) =
                tokio::task::spawn_blocking(move || tts.synthesize(&voice, &text))
                    .await
                    .map_err(|e| e.to_string())??;
            return Ok((
                PlayItem::Sound(switch_media::session::Sound {
                    samples: samples.into(),
                    rate,
                }),
                false,
            ));
        }
        if let Some(stream) = part.strip_prefix("local_stream://") {
            // FreeSWITCH's music on hold streams: `moh` (or `default`) loops music/moh.wav.
            let name = match stream.trim() {
                "" | "moh" | "default" => "music/moh.wav".to_string(),
                other => format!("music/{other}.wav"),
            };
            let ctx = self.ctx.clone();
            let sound = tokio::task::spawn_blocking(move || ctx.sounds.load(&name, rate))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            return Ok((PlayItem::Sound(sound), true));
        }
        if let Some(ms) = part.strip_prefix("silence_stream://") {
            let ms: u32 = ms
                .split(',')
                .next()
                .and_then(|m| m.trim().parse().ok())
                .ok_or_else(|| format!("bad silence_stream {part:?}"))?;
            return Ok((PlayItem::Silence(ms.max(20)), false));
        }
        let ctx = self.ctx.clone();
        let name = part.to_string();
        let sound = tokio::task::spawn_blocking(move || ctx.sounds.load(&name, rate))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok((PlayItem::Sound(sound), false))
    }

    /// Waits for playback `id` to end, handling the caller's requests meanwhile.
    pub(crate) async fn wait_play(&mut self, id: u64) -> Result<PlayEnd, End> {
        loop {
            if let Some(i) = self.play_done.iter().position(|(pid, _)| *pid == id) {
                let (_, end) = self.play_done.remove(i);
                if let PlayEnd::Digit(c) = end {
                    self.vars
                        .insert("playback_terminator_used".into(), c.to_string());
                }
                return Ok(end);
            }
            if let Some(ev) = self.next_event(None).await? {
                self.background(ev)?;
            }
        }
    }

    /// `uuid_hold`: leg `leg` hears music on hold (`hold_music` variable, default
    /// `local_stream://moh`) in place of its peer, or stops hearing it.
    pub(crate) fn hold_control(&mut self, leg: &str, mode: &str) -> Result<(), String> {
        let side = if leg == self.uuid {
            Side::A
        } else if self.winner.is_some_and(|w| self.forks[w].uuid == leg) {
            Side::B
        } else {
            return Err(format!("{leg} is not a bridged leg of this call"));
        };
        let relay = self.relay.clone().ok_or("the channel has no media")?;
        let held = self.held.contains(&side);
        let on = match mode {
            "on" => true,
            "off" => false,
            _ => !held,
        };
        if on == held {
            return Ok(());
        }
        if !on {
            self.held.retain(|s| *s != side);
            relay.stop_play(side);
            return Ok(());
        }
        let rate = match side {
            Side::A => self.a_codec.as_ref(),
            Side::B => self.b_codec.as_ref(),
        }
        .map(|c| c.rate())
        .ok_or("the leg has no decodable codec")?;
        let music = self
            .vars
            .get("hold_music")
            .cloned()
            .unwrap_or_else(|| "local_stream://moh".into());
        let name = match music.strip_prefix("local_stream://") {
            Some("" | "moh" | "default") => "music/moh.wav".to_string(),
            Some(other) => format!("music/{other}.wav"),
            None => music.clone(),
        };
        let sound = self
            .ctx
            .sounds
            .load(&name, rate)
            .map_err(|e| e.to_string())?;
        self.next_play_id += 1;
        let mut play = Play::once(self.next_play_id, vec![PlayItem::Sound(sound)]);
        play.repeat = None;
        tokio::spawn(async move {
            let _ = relay.play(side, play).await;
        });
        self.held.push(side);
        Ok(())
    }

    pub(crate) fn recording_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path.trim());
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.ctx.config.media.recordings.join(p)
        }
    }

    /// Sends digits to the caller in its DTMF mode (`send_dtmf 1234@200`).
    pub(crate) fn send_dtmf(&mut self, args: &str) {
        let (digits, ms) = match args.split_once('@') {
            Some((d, ms)) => (d, ms.trim().parse().unwrap_or(250)),
            None => (args, 250),
        };
        if let Some(r) = &self.relay {
            r.send_dtmf(Side::A, digits.trim(), ms);
        }
    }

    /// Plays a ringback tone to the caller as early media while B legs ring
    /// (`ringback` channel variable, e.g. `%(2000,4000,440,480)`).
    pub(crate) async fn start_ringback(&mut self) -> Result<bool, End> {
        let Some(spec) = self.vars.get("ringback").cloned() else {
            return Ok(false);
        };
        let spec = spec.trim().trim_start_matches("tone_stream://").to_string();
        let tone = match ToneSpec::parse(&spec) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(uuid = %self.uuid, %spec, error = %e, "bad ringback tone");
                return Ok(false);
            }
        };
        self.pre_answer().await?;
        self.next_play_id += 1;
        let mut play = Play::once(self.next_play_id, vec![PlayItem::Tone(tone)]);
        play.repeat = None;
        if let Some(r) = &self.relay {
            r.set_mode(RelayMode::Idle);
            if r.play(Side::A, play).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Sends a digit to `side` by SIP INFO (its DTMF mode is INFO).
    pub(crate) async fn send_info_dtmf(&mut self, side: Side, digit: char, duration_ms: u32) {
        let body = format!("Signal={digit}\r\nDuration={duration_ms}\r\n");
        let (mut req, dest) = match side {
            Side::A => (self.a.request(Method::Info), self.a.peer),
            Side::B => {
                let Some(w) = self.winner else { return };
                let f = &mut self.forks[w];
                (f.dialog.request(Method::Info), f.dialog.peer)
            }
        };
        req.headers.push("Content-Type", "application/dtmf-relay");
        req.body = body.into_bytes();
        let _ = self.ctx.sip.request(req, dest, self.owner.clone()).await;
    }

    /// Waits until `until`, handling events; returns early when `stop` says so.
    pub(crate) async fn wait_until(
        &mut self,
        until: Instant,
        stop: impl Fn(&Call) -> bool,
    ) -> Result<(), End> {
        while Instant::now() < until && !stop(self) {
            if let Some(ev) = self.next_event(Some(until)).await? {
                self.background(ev)?;
            }
        }
        Ok(())
    }
}
