//! Properties over many generated inputs, with fixed seeds: printing reads back, and no
//! truncated or garbled body makes the parser or the helpers panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

const OFFER: &str = "v=0\r\n\
o=- 4073456121 1234 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
a=ice-ufrag:70a2ad5e\r\n\
m=audio 10000 RTP/AVP 96 0 8 101\r\n\
c=IN IP4 198.51.100.7\r\n\
b=AS:128\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp:10001 IN IP4 198.51.100.7\r\n\
a=candidate:1 1 UDP 2130706303 192.0.2.10 10000 typ host\r\n\
a=sendonly\r\n\
m=video 0/2 RTP/AVP 97\r\n\
a=rtpmap:97 H264/90000\r\n";

/// Everything a B2BUA would do with a body; none of it may panic.
fn exercise(body: &[u8]) {
    let Ok(mut sdp) = SessionDescription::parse(body) else {
        return;
    };
    // Whatever was accepted prints to something that reads back the same.
    let printed = sdp.to_bytes();
    assert_eq!(
        SessionDescription::parse(&printed).as_ref(),
        Ok(&sdp),
        "{}",
        String::from_utf8_lossy(body)
    );
    let _ = (
        sdp.rtp_destination(),
        sdp.rtcp_destination(),
        sdp.direction(),
    );
    for pt in sdp.payload_types() {
        let _ = sdp.rtpmap(pt);
        let _ = sdp.audio().map(|a| (a.fmtp(pt), a.ptime()));
    }
    sdp.rewrite_for_relay(IpAddr::V4(Ipv4Addr::LOCALHOST), u16::MAX, Some((1, 2)));
    assert!(SessionDescription::parse(&sdp.to_bytes()).is_ok());
}

#[test]
fn every_prefix_of_an_offer_is_handled() {
    for end in 0..=OFFER.len() {
        exercise(&OFFER.as_bytes()[..end]);
    }
    assert!(SessionDescription::parse(OFFER.as_bytes()).is_ok());
}

#[test]
fn random_byte_flips_never_panic() {
    let mut rng = StdRng::seed_from_u64(4566);
    let mut accepted = 0;
    for _ in 0..5000 {
        let mut body = OFFER.as_bytes().to_vec();
        for _ in 0..rng.gen_range(1..6) {
            let i = rng.gen_range(0..body.len());
            match rng.gen_range(0..4) {
                0 => body[i] = rng.gen(),
                1 => body[i] = b"\r\n =:/ 0a9"[rng.gen_range(0..10)],
                2 => {
                    body.remove(i);
                }
                _ => body.insert(i, rng.gen()),
            }
            if body.is_empty() {
                break;
            }
        }
        if SessionDescription::parse(&body).is_ok() {
            accepted += 1;
        }
        exercise(&body);
    }
    // Most flips land in values the parser keeps as text: the check above ran often.
    assert!(accepted > 1000, "only {accepted} accepted");
}

fn word(rng: &mut StdRng, alphabet: &[u8]) -> String {
    let len = rng.gen_range(1..8);
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// Free text for a line value: may hold spaces, `:` and `=`, never a line end.
fn text(rng: &mut StdRng) -> String {
    let len = rng.gen_range(0..12);
    (0..len)
        .map(|_| ['a', 'Z', '0', ' ', ':', '=', '/', '-', 'é'][rng.gen_range(0..9)])
        .collect()
}

const TOKEN: &[u8] = b"abcXYZ019-./+*";

fn connection(rng: &mut StdRng) -> Connection {
    let ip = if rng.gen_bool(0.5) {
        IpAddr::V4(Ipv4Addr::from(rng.gen::<u32>()))
    } else {
        IpAddr::V6(Ipv6Addr::from(rng.gen::<u128>()))
    };
    Connection::from_ip(ip)
}

fn attributes(rng: &mut StdRng) -> Vec<Attribute> {
    (0..rng.gen_range(0..5))
        .map(|_| Attribute {
            name: word(rng, b"abcrtpmapfmtp-"),
            value: rng.gen_bool(0.7).then(|| text(rng)),
        })
        .collect()
}

fn lines(rng: &mut StdRng, kinds: &[char]) -> Vec<Line> {
    (0..rng.gen_range(0..4))
        .map(|_| Line {
            kind: kinds[rng.gen_range(0..kinds.len())],
            value: text(rng),
        })
        .collect()
}

fn session(rng: &mut StdRng) -> SessionDescription {
    SessionDescription {
        version: 0,
        origin: Origin {
            username: word(rng, TOKEN),
            sess_id: rng.gen::<u64>().to_string(),
            sess_version: rng.gen::<u32>().to_string(),
            nettype: "IN".into(),
            addrtype: word(rng, TOKEN),
            address: word(rng, TOKEN),
        },
        session_name: text(rng),
        connection: rng.gen_bool(0.7).then(|| connection(rng)),
        lines: lines(rng, &['i', 'u', 'e', 'p', 'b', 't', 'r', 'z', 'k', 'x']),
        attributes: attributes(rng),
        media: (0..rng.gen_range(0..4))
            .map(|_| MediaDescription {
                kind: word(rng, b"audiovideo"),
                port: rng.gen(),
                port_count: rng.gen_bool(0.2).then(|| rng.gen()),
                proto: word(rng, TOKEN),
                formats: (0..rng.gen_range(0..5)).map(|_| word(rng, TOKEN)).collect(),
                connection: rng.gen_bool(0.5).then(|| connection(rng)),
                lines: lines(rng, &['i', 'b', 'k', 'q']),
                attributes: attributes(rng),
            })
            .collect(),
    }
}

#[test]
fn descriptions_read_back_what_they_print() {
    let mut rng = StdRng::seed_from_u64(3264);
    for _ in 0..1000 {
        let sdp = session(&mut rng);
        let printed = sdp.to_string();
        assert_eq!(
            SessionDescription::parse(printed.as_bytes()).as_ref(),
            Ok(&sdp),
            "{printed}"
        );
    }
}
