//! Codec offer/answer (RFC 3264) for the audio stream: what a peer offers, picking the codec
//! the switch will use, and the bodies the switch writes itself (answers to callers it
//! terminates, offers for calls it originates, and widening a caller's offer with codecs the
//! switch can transcode to).
//!
//! The switch's codecs are given by the caller as [`Format`]s (name, clock rate, channels,
//! fmtp); this module knows no codec beyond its SDP name, so it stays free of media code.

use std::net::IpAddr;

use super::{Attribute, Connection, Direction, MediaDescription, Origin, SessionDescription};

/// One payload format of an `m=` line: its number and what it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// The RTP payload type number, as offered (or as the switch assigns it).
    pub pt: u8,
    /// The encoding name as in `a=rtpmap` (`PCMU`, `opus`, `telephone-event`...).
    pub name: String,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// Channels when written in the rtpmap (`opus/48000/2`).
    pub channels: Option<u32>,
    /// The `a=fmtp` parameters, if any.
    pub fmtp: Option<String>,
}

impl Format {
    /// A format with no fmtp.
    pub fn new(pt: u8, name: &str, clock_rate: u32, channels: Option<u32>) -> Format {
        Format {
            pt,
            name: name.to_string(),
            clock_rate,
            channels,
            fmtp: None,
        }
    }

    /// The same encoding as `other` (name ignoring case, clock rate; channels when both name
    /// them, 1 when one side leaves them out).
    pub fn same_encoding(&self, other: &Format) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && self.clock_rate == other.clock_rate
            && self.channels.unwrap_or(1) == other.channels.unwrap_or(1)
    }

    /// RFC 4733 `telephone-event`.
    pub fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case("telephone-event")
    }

    /// Comfort noise (`CN`), which the switch neither needs nor sends.
    pub fn is_comfort_noise(&self) -> bool {
        self.name.eq_ignore_ascii_case("CN")
    }

    /// The `a=rtpmap` value: `<pt> <name>/<rate>[/<channels>]`.
    pub fn rtpmap_value(&self) -> String {
        match self.channels {
            Some(ch) => format!("{} {}/{}/{ch}", self.pt, self.name, self.clock_rate),
            None => format!("{} {}/{}", self.pt, self.name, self.clock_rate),
        }
    }
}

/// What an offer and the switch's codec list agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The voice codec, with the offerer's payload type and fmtp.
    pub codec: Format,
    /// `telephone-event` at the codec's clock rate (or 8000), with the offerer's number.
    pub telephone_event: Option<Format>,
    /// The offer's `a=ptime`, if any.
    pub ptime: Option<u32>,
    /// The offer asked for RTP and RTCP on one port (`a=rtcp-mux`).
    pub rtcp_mux: bool,
}

impl Negotiated {
    /// The formats to put in an answer: the codec, then telephone-event.
    pub fn formats(&self) -> Vec<Format> {
        let mut v = vec![self.codec.clone()];
        v.extend(self.telephone_event.clone());
        v
    }
}

/// Whose order of preference picks the codec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preference {
    /// The switch's list order wins (FreeSWITCH's default).
    #[default]
    Ours,
    /// The offer's order wins among codecs the switch supports.
    Theirs,
}

impl MediaDescription {
    /// Every payload format offered, in order, with rtpmap (or the static assignment) and
    /// fmtp. Numbers with neither an rtpmap nor a static meaning are left out.
    pub fn offered_formats(&self) -> Vec<Format> {
        self.payload_types()
            .into_iter()
            .filter_map(|pt| {
                let (name, clock_rate, channels) = self.rtpmap(pt)?;
                Some(Format {
                    pt,
                    name,
                    clock_rate,
                    channels,
                    fmtp: self.fmtp(pt).filter(|f| !f.is_empty()).map(str::to_string),
                })
            })
            .collect()
    }

    /// `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attribute("rtcp-mux").is_some()
    }

    /// Appends `format` to the `m=` line with its `a=rtpmap` and `a=fmtp` (before the first
    /// attribute that is neither, so rtpmaps stay together).
    pub fn add_format(&mut self, format: &Format) {
        self.formats.push(format.pt.to_string());
        let at = self
            .attributes
            .iter()
            .rposition(|a| {
                a.name.eq_ignore_ascii_case("rtpmap") || a.name.eq_ignore_ascii_case("fmtp")
            })
            .map_or(self.attributes.len(), |i| i + 1);
        let mut new = vec![Attribute::new("rtpmap", Some(&format.rtpmap_value()))];
        if let Some(f) = &format.fmtp {
            new.push(Attribute::new("fmtp", Some(&format!("{} {f}", format.pt))));
        }
        self.attributes.splice(at..at, new);
    }

    /// The lowest dynamic payload type (96-127) this section does not use.
    pub fn free_dynamic_pt(&self) -> Option<u8> {
        let used = self.payload_types();
        (96..=127).find(|pt| !used.contains(pt))
    }
}

/// Picks the codec for an answer to `offer` from the switch's `ours` (in its order of
/// preference), or `None` when they share none (the switch answers 488). The chosen format
/// keeps the offerer's payload type and fmtp. Telephone-event is taken at the codec's clock
/// rate, else at 8000.
pub fn negotiate(
    offer: &MediaDescription,
    ours: &[Format],
    preference: Preference,
) -> Option<Negotiated> {
    let offered = offer.offered_formats();
    let supported = |f: &&Format| {
        !f.is_telephone_event() && !f.is_comfort_noise() && ours.iter().any(|o| o.same_encoding(f))
    };
    let codec = match preference {
        Preference::Theirs => offered.iter().find(supported).cloned(),
        Preference::Ours => ours
            .iter()
            .find_map(|o| offered.iter().find(|f| f.same_encoding(o)))
            .cloned(),
    }?;
    let te = |rate: u32| {
        offered
            .iter()
            .find(|f| f.is_telephone_event() && f.clock_rate == rate)
            .cloned()
    };
    Some(Negotiated {
        telephone_event: te(codec.clock_rate).or_else(|| te(8000)),
        codec,
        ptime: offer.ptime(),
        rtcp_mux: offer.rtcp_mux(),
    })
}

/// Where and how the switch's own SDP describes its media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address advertised in `o=` and `c=`.
    pub ip: IpAddr,
    /// The RTP port (RTCP on port + 1 unless muxed).
    pub port: u16,
    /// `o=` session id and version.
    pub session: (u64, u64),
    /// `a=ptime` to write, if any.
    pub ptime: Option<u32>,
    /// Our direction attribute.
    pub direction: Direction,
    /// Write `a=rtcp-mux`.
    pub rtcp_mux: bool,
}

impl SessionDescription {
    /// A new body with one audio stream carrying `formats`, for an offer the switch makes.
    pub fn local_offer(local: &LocalMedia, formats: &[Format]) -> SessionDescription {
        let mut sdp = skeleton(local);
        sdp.media.push(audio_section(local, formats));
        sdp
    }

    /// The switch's answer to `offer`: the first audio stream accepted with `formats` and
    /// the direction that mirrors the offer's (unless `local.direction` holds it further),
    /// every other stream rejected with port 0, as RFC 3264 6 requires one `m=` per offered.
    pub fn local_answer(
        offer: &SessionDescription,
        local: &LocalMedia,
        formats: &[Format],
    ) -> SessionDescription {
        let mut sdp = skeleton(local);
        let audio = offer.media.iter().position(MediaDescription::is_audio);
        let direction = combine(offer.direction().reversed(), local.direction);
        for (i, m) in offer.media.iter().enumerate() {
            if Some(i) == audio && m.port != 0 {
                let mut answered = LocalMedia {
                    direction,
                    ..local.clone()
                };
                answered.rtcp_mux = local.rtcp_mux && m.rtcp_mux();
                let mut section = audio_section(&answered, formats);
                section.proto = m.proto.clone();
                sdp.media.push(section);
            } else {
                sdp.media.push(MediaDescription {
                    kind: m.kind.clone(),
                    port: 0,
                    port_count: None,
                    proto: m.proto.clone(),
                    formats: m.formats.iter().take(1).cloned().collect(),
                    connection: None,
                    lines: Vec::new(),
                    attributes: Vec::new(),
                });
            }
        }
        sdp
    }

    /// Adds to the first audio stream each of `extra` that it does not already carry (by
    /// encoding), under a free dynamic payload type when its own number is taken or dynamic.
    /// For the offer to a B leg: the caller's codecs first, then those the switch can
    /// transcode to.
    pub fn widen_offer(&mut self, extra: &[Format]) {
        let Some(audio) = self.audio_mut() else {
            return;
        };
        // What is offered, read once (each read parses every rtpmap): the loop keeps both
        // lists up to date as it adds formats.
        let mut offered = audio.offered_formats();
        let mut used = audio.payload_types();
        for f in extra {
            if offered.iter().any(|o| o.same_encoding(f)) {
                continue;
            }
            let mut f = f.clone();
            if used.contains(&f.pt) || f.pt >= 96 {
                match (96..=127).find(|pt| !used.contains(pt)) {
                    Some(pt) => f.pt = pt,
                    None => return,
                }
            }
            audio.add_format(&f);
            used.push(f.pt);
            offered.push(f);
        }
    }
}

/// The direction that honours both the mirrored offer and our own wish: a stream only sends
/// when both allow it, and likewise for receiving.
fn combine(mirrored: Direction, ours: Direction) -> Direction {
    let sends = |d: Direction| matches!(d, Direction::SendRecv | Direction::SendOnly);
    let recvs = |d: Direction| matches!(d, Direction::SendRecv | Direction::RecvOnly);
    match (
        sends(mirrored) && sends(ours),
        recvs(mirrored) && recvs(ours),
    ) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

fn skeleton(local: &LocalMedia) -> SessionDescription {
    let c = Connection::from_ip(local.ip);
    SessionDescription {
        version: 0,
        origin: Origin {
            username: "ferroswitch".to_string(),
            sess_id: local.session.0.to_string(),
            sess_version: local.session.1.to_string(),
            nettype: c.nettype.clone(),
            addrtype: c.addrtype.clone(),
            address: c.address.clone(),
        },
        session_name: "ferroswitch".to_string(),
        connection: Some(c),
        lines: vec![super::Line {
            kind: 't',
            value: "0 0".to_string(),
        }],
        attributes: Vec::new(),
        media: Vec::new(),
    }
}

fn audio_section(local: &LocalMedia, formats: &[Format]) -> MediaDescription {
    let mut m = MediaDescription {
        kind: "audio".to_string(),
        port: local.port,
        port_count: None,
        proto: "RTP/AVP".to_string(),
        formats: Vec::new(),
        connection: None,
        lines: Vec::new(),
        attributes: Vec::new(),
    };
    for f in formats {
        m.add_format(f);
    }
    if let Some(p) = local.ptime {
        m.attributes
            .push(Attribute::new("ptime", Some(&p.to_string())));
    }
    if local.rtcp_mux {
        m.attributes.push(Attribute::new("rtcp-mux", None));
    }
    m.attributes
        .push(Attribute::new(local.direction.as_str(), None));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Vec<Format> {
        let mut opus = Format::new(111, "opus", 48000, Some(2));
        opus.fmtp = Some("useinbandfec=1".into());
        vec![
            opus,
            Format::new(9, "G722", 8000, None),
            Format::new(0, "PCMU", 8000, None),
            Format::new(8, "PCMA", 8000, None),
        ]
    }

    fn offer(text: &str) -> SessionDescription {
        SessionDescription::parse(text.as_bytes()).expect("test SDP parses")
    }

    const BASIC: &str = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
        m=audio 4000 RTP/AVP 8 0 18 101\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-16\r\na=ptime:20\r\n";

    #[test]
    fn our_order_wins_by_default_and_theirs_on_request() {
        let o = offer(BASIC);
        let audio = o.audio().expect("audio");
        let n = negotiate(audio, &ours(), Preference::Ours).expect("shared codec");
        assert_eq!(n.codec.name, "PCMU");
        assert_eq!(n.telephone_event.as_ref().map(|t| t.pt), Some(101));
        assert_eq!(n.ptime, Some(20));
        let n = negotiate(audio, &ours(), Preference::Theirs).expect("shared codec");
        assert_eq!(n.codec.name, "PCMA");
    }

    #[test]
    fn unknown_codecs_are_ignored_and_none_shared_is_none() {
        let o = offer(
            "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 18 98 101\r\na=rtpmap:98 iLBC/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n",
        );
        let audio = o.audio().expect("audio");
        assert_eq!(audio.offered_formats().len(), 3);
        assert_eq!(negotiate(audio, &ours(), Preference::Ours), None);
    }

    #[test]
    fn opus_keeps_the_offerers_number_and_fmtp() {
        let o = offer(
            "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 109 0 110\r\na=rtpmap:109 OPUS/48000/2\r\n\
             a=fmtp:109 useinbandfec=1;usedtx=1\r\na=rtpmap:110 telephone-event/48000\r\n\
             a=rtcp-mux\r\n",
        );
        let n = negotiate(o.audio().expect("audio"), &ours(), Preference::Ours).expect("opus");
        assert_eq!(n.codec.pt, 109);
        assert_eq!(n.codec.fmtp.as_deref(), Some("useinbandfec=1;usedtx=1"));
        assert_eq!(n.telephone_event.map(|t| t.clock_rate), Some(48000));
        assert!(n.rtcp_mux);
    }

    #[test]
    fn answer_mirrors_streams_and_direction() {
        let o = offer(
            "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
             m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
             m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
             a=sendonly\r\n",
        );
        let n = negotiate(o.audio().expect("audio"), &ours(), Preference::Ours).expect("pcmu");
        let local = LocalMedia {
            ip: "127.0.0.1".parse().expect("ip"),
            port: 20000,
            session: (7, 2),
            ptime: Some(20),
            direction: Direction::SendRecv,
            rtcp_mux: true,
        };
        let a = SessionDescription::local_answer(&o, &local, &n.formats());
        let text = a.to_string();
        assert!(text.contains("m=video 0 RTP/AVP 96\r\n"), "{text}");
        assert!(text.contains("m=audio 20000 RTP/AVP 0 101\r\n"), "{text}");
        assert!(text.contains("a=rtpmap:0 PCMU/8000\r\n"), "{text}");
        assert!(text.contains("a=recvonly\r\n"), "{text}");
        assert!(!text.contains("rtcp-mux"), "not offered: {text}");
        assert!(text.contains("c=IN IP4 127.0.0.1\r\n"), "{text}");
        let back = SessionDescription::parse(&a.to_bytes()).expect("our answer parses");
        assert_eq!(back, a);
    }

    #[test]
    fn widening_adds_missing_codecs_under_free_numbers() {
        let mut o = offer(
            "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0 96 111\r\na=rtpmap:96 telephone-event/8000\r\n\
             a=rtpmap:111 speex/8000\r\na=ptime:20\r\n",
        );
        o.widen_offer(&ours());
        let audio = o.audio().expect("audio");
        let names: Vec<String> = audio
            .offered_formats()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(
            names,
            ["PCMU", "telephone-event", "speex", "opus", "G722", "PCMA"]
        );
        let opus = audio
            .offered_formats()
            .into_iter()
            .find(|f| f.name == "opus")
            .expect("opus added");
        assert_eq!(opus.pt, 97, "111 is taken by speex");
        assert_eq!(audio.fmtp(97), Some("useinbandfec=1"));
        // rtpmaps stay before ptime.
        let last = audio.attributes.last().expect("attributes");
        assert_eq!(last.name, "ptime");
    }

    #[test]
    fn local_offer_round_trips() {
        let local = LocalMedia {
            ip: "::1".parse().expect("ip"),
            port: 30000,
            session: (1, 1),
            ptime: None,
            direction: Direction::SendRecv,
            rtcp_mux: false,
        };
        let sdp = SessionDescription::local_offer(&local, &ours());
        let back = SessionDescription::parse(&sdp.to_bytes()).expect("parses");
        assert_eq!(back, sdp);
        assert_eq!(back.rtp_destination().map(|a| a.port()), Some(30000));
        assert_eq!(back.payload_types(), vec![111, 9, 0, 8]);
    }
}
