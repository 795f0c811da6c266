//! RTP payload types: the numbers an `m=` line offers, their `a=rtpmap` and `a=fmtp`, and the
//! static assignments of RFC 3551 6 for numbers offered without an rtpmap.

use super::{MediaDescription, SessionDescription};

/// An encoding as `(name, clock rate, channels)`, e.g. `("opus", 48000, Some(2))`. Channels
/// is None when not written (one channel, for audio).
pub type RtpMap = (String, u32, Option<u32>);

/// The static payload types of RFC 3551 table 4 and 5: `(name, clock rate, channels)`.
pub fn static_payload_type(pt: u8) -> Option<(&'static str, u32, Option<u32>)> {
    let entry = match pt {
        0 => ("PCMU", 8000, None),
        3 => ("GSM", 8000, None),
        4 => ("G723", 8000, None),
        5 => ("DVI4", 8000, None),
        6 => ("DVI4", 16000, None),
        7 => ("LPC", 8000, None),
        8 => ("PCMA", 8000, None),
        9 => ("G722", 8000, None),
        10 => ("L16", 44100, Some(2)),
        11 => ("L16", 44100, None),
        12 => ("QCELP", 8000, None),
        13 => ("CN", 8000, None),
        14 => ("MPA", 90000, None),
        15 => ("G728", 8000, None),
        16 => ("DVI4", 11025, None),
        17 => ("DVI4", 22050, None),
        18 => ("G729", 8000, None),
        25 => ("CelB", 90000, None),
        26 => ("JPEG", 90000, None),
        28 => ("nv", 90000, None),
        31 => ("H261", 90000, None),
        32 => ("MPV", 90000, None),
        33 => ("MP2T", 90000, None),
        34 => ("H263", 90000, None),
        _ => return None,
    };
    Some(entry)
}

impl MediaDescription {
    /// The formats that are RTP payload type numbers (0-127), in offer order.
    pub fn payload_types(&self) -> Vec<u8> {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|&pt| pt < 128)
            .collect()
    }

    /// The encoding of payload type `pt`: its `a=rtpmap` line, else the static assignment.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("rtpmap"))
            .filter_map(|a| a.value.as_deref())
            .find_map(|v| parse_rtpmap(pt, v))
            .or_else(|| static_payload_type(pt).map(|(n, c, ch)| (n.to_string(), c, ch)))
    }

    /// The format parameters of payload type `pt` (`a=fmtp:<pt> <params>`), e.g. `0-16` for
    /// telephone-event or `minptime=10;useinbandfec=1` for opus.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("fmtp"))
            .filter_map(|a| a.value.as_deref())
            .find_map(|v| {
                let (number, params) = v.split_once(' ').unwrap_or((v, ""));
                (number.parse::<u8>().ok() == Some(pt)).then(|| params.trim())
            })
    }

    /// The `a=ptime` packet time in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime")
            .flatten()
            .and_then(|v| v.trim().parse().ok())
    }
}

impl SessionDescription {
    /// The payload types of the first audio stream; empty without audio.
    pub fn payload_types(&self) -> Vec<u8> {
        self.audio()
            .map(MediaDescription::payload_types)
            .unwrap_or_default()
    }

    /// The encoding of payload type `pt` in the first audio stream, see
    /// [`MediaDescription::rtpmap`]. Without audio, only the static assignments.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        match self.audio() {
            Some(audio) => audio.rtpmap(pt),
            None => static_payload_type(pt).map(|(n, c, ch)| (n.to_string(), c, ch)),
        }
    }
}

/// `<pt> <name>/<clock>[/<channels>]` for the wanted `pt`.
fn parse_rtpmap(pt: u8, value: &str) -> Option<RtpMap> {
    let (number, encoding) = value.trim().split_once(' ')?;
    if number.parse::<u8>().ok()? != pt {
        return None;
    }
    let mut parts = encoding.trim().split('/');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let clock = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.parse().ok()?),
        None => None,
    };
    Some((name.to_string(), clock, channels))
}
