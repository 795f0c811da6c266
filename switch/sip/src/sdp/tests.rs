//! Parsing offers as real user agents write them, printing, and the relay helpers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::*;

/// Joins lines with CRLF, as on the wire.
fn crlf(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

fn sipp() -> String {
    crlf(&[
        "v=0",
        "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "m=audio 6000 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
    ])
}

fn baresip() -> String {
    crlf(&[
        "v=0",
        "o=- 4073456121 1234 IN IP4 192.0.2.10",
        "s=-",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 10000 RTP/AVP 96 0 8 101",
        "b=AS:128",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 stereo=1;sprop-stereo=1;useinbandfec=1",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=rtcp-rsize",
        "a=ptime:20",
        "a=sendrecv",
    ])
}

fn freeswitch() -> String {
    crlf(&[
        "v=0",
        "o=FreeSWITCH 1700000000 1700000001 IN IP4 203.0.113.5",
        "s=FreeSWITCH",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=audio 16384 RTP/AVP 0 8 9 101 13",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=sendrecv",
        "a=rtcp:16385 IN IP4 203.0.113.5",
    ])
}

fn linphone() -> String {
    crlf(&[
        "v=0",
        "o=alice 1021 2386 IN IP4 192.168.0.20",
        "s=Talk",
        "c=IN IP4 192.168.0.20",
        "t=0 0",
        "a=ice-pwd:31ec21eb38b2ec6d36e8dc7b",
        "a=ice-ufrag:70a2ad5e",
        "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
        "m=audio 7078 RTP/AVP 96 97 0 8 101",
        "c=IN IP4 198.51.100.7",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 useinbandfec=1",
        "a=rtpmap:97 speex/16000",
        "a=rtpmap:101 telephone-event/8000",
        "a=rtcp:7079",
        "a=candidate:1 1 UDP 2130706303 192.168.0.20 7078 typ host",
        "a=candidate:1 2 UDP 2130706302 192.168.0.20 7079 typ host",
        "a=candidate:2 1 UDP 1694498687 198.51.100.7 7078 typ srflx raddr 192.168.0.20 rport 7078",
        "a=end-of-candidates",
        "a=rtcp-fb:* trr-int 1000",
        "m=video 9078 RTP/AVP 96",
        "c=IN IP4 198.51.100.7",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp:9079",
        "a=candidate:1 1 UDP 2130706303 192.168.0.20 9078 typ host",
    ])
}

fn parse(s: &str) -> SessionDescription {
    SessionDescription::parse(s.as_bytes()).unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn real_world_offers_print_back_byte_for_byte() {
    for body in [sipp(), baresip(), freeswitch(), linphone()] {
        let sdp = parse(&body);
        assert_eq!(sdp.to_string(), body);
        assert_eq!(sdp.to_bytes(), body.as_bytes());
    }
}

#[test]
fn lf_only_bodies_parse_like_crlf_ones() {
    let crlf_body = linphone();
    let lf_body = crlf_body.replace("\r\n", "\n");
    assert_eq!(parse(&lf_body), parse(&crlf_body));
    assert_eq!(parse(&lf_body).to_string(), crlf_body);
}

#[test]
fn the_model_holds_each_line() {
    let sdp = parse(&linphone());
    assert_eq!(sdp.origin.username, "alice");
    assert_eq!(sdp.origin.sess_id, "1021");
    assert_eq!(sdp.origin.sess_version, "2386");
    assert_eq!(sdp.origin.address, "192.168.0.20");
    assert_eq!(sdp.session_name, "Talk");
    assert_eq!(
        sdp.lines,
        vec![Line {
            kind: 't',
            value: "0 0".into()
        }]
    );
    assert_eq!(sdp.attributes.len(), 3);
    assert_eq!(sdp.attribute("ice-ufrag"), Some(Some("70a2ad5e")));
    assert_eq!(sdp.media.len(), 2);
    let audio = &sdp.media[0];
    assert_eq!((audio.kind.as_str(), audio.port), ("audio", 7078));
    assert_eq!(audio.proto, "RTP/AVP");
    assert_eq!(audio.formats, vec!["96", "97", "0", "8", "101"]);
    assert_eq!(audio.connection.as_ref().unwrap().address, "198.51.100.7");
    assert_eq!(audio.attribute("rtcp-fb"), Some(Some("* trr-int 1000")));
    assert_eq!(audio.attribute("end-of-candidates"), Some(None));
    assert_eq!(sdp.media[1].kind, "video");
}

#[test]
fn rtp_destination_prefers_the_media_level_address() {
    assert_eq!(
        parse(&linphone()).rtp_destination(),
        Some(addr("198.51.100.7:7078"))
    );
    assert_eq!(
        parse(&sipp()).rtp_destination(),
        Some(addr("127.0.0.1:6000"))
    );
}

#[test]
fn rtcp_destination_follows_a_rtcp_or_port_plus_one() {
    assert_eq!(
        parse(&freeswitch()).rtcp_destination(),
        Some(addr("203.0.113.5:16385"))
    );
    assert_eq!(
        parse(&linphone()).rtcp_destination(),
        Some(addr("198.51.100.7:7079"))
    );
    assert_eq!(
        parse(&sipp()).rtcp_destination(),
        Some(addr("127.0.0.1:6001"))
    );
}

#[test]
fn a_disabled_or_addressless_audio_stream_has_no_destination() {
    let disabled = sipp().replace("m=audio 6000", "m=audio 0");
    assert_eq!(parse(&disabled).rtp_destination(), None);
    let fqdn = sipp().replace("c=IN IP4 127.0.0.1", "c=IN IP4 media.example.com");
    assert_eq!(parse(&fqdn).rtp_destination(), None);
    let video_only = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "m=video 5000 RTP/AVP 96",
    ]);
    assert_eq!(parse(&video_only).rtp_destination(), None);
    assert!(parse(&video_only).audio().is_none());
}

#[test]
fn payload_types_and_rtpmaps_with_static_defaults() {
    let sdp = parse(&freeswitch());
    assert_eq!(sdp.payload_types(), vec![0, 8, 9, 101, 13]);
    assert_eq!(sdp.rtpmap(0), Some(("PCMU".into(), 8000, None)));
    assert_eq!(sdp.rtpmap(8), Some(("PCMA".into(), 8000, None)));
    assert_eq!(sdp.rtpmap(9), Some(("G722".into(), 8000, None)));
    assert_eq!(sdp.rtpmap(13), Some(("CN".into(), 8000, None)));
    assert_eq!(
        sdp.rtpmap(101),
        Some(("telephone-event".into(), 8000, None))
    );
    assert_eq!(sdp.rtpmap(102), None);
    let audio = sdp.audio().unwrap();
    assert_eq!(audio.fmtp(101), Some("0-16"));
    assert_eq!(audio.fmtp(0), None);
    assert_eq!(audio.ptime(), Some(20));

    let b = parse(&baresip());
    assert_eq!(b.rtpmap(96), Some(("opus".into(), 48000, Some(2))));
    assert_eq!(
        b.audio().unwrap().fmtp(96),
        Some("stereo=1;sprop-stereo=1;useinbandfec=1")
    );
}

#[test]
fn an_rtpmap_line_overrides_the_static_assignment() {
    let body = sipp().replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 L16/16000/1");
    assert_eq!(parse(&body).rtpmap(0), Some(("L16".into(), 16000, Some(1))));
}

#[test]
fn direction_reads_media_then_session_then_defaults_to_sendrecv() {
    assert_eq!(parse(&sipp()).direction(), Direction::SendRecv);
    let session_inactive = sipp().replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n");
    assert_eq!(parse(&session_inactive).direction(), Direction::Inactive);
    let media_overrides = format!("{session_inactive}a=recvonly\r\n");
    assert_eq!(parse(&media_overrides).direction(), Direction::RecvOnly);
    let held = baresip().replace("a=sendrecv", "a=sendonly");
    assert_eq!(parse(&held).direction(), Direction::SendOnly);
}

#[test]
fn zero_address_counts_as_hold() {
    let old_hold = sipp().replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
    let sdp = parse(&old_hold);
    assert_eq!(sdp.direction(), Direction::SendOnly);
    assert_eq!(sdp.rtp_destination(), Some(addr("0.0.0.0:6000")));
    let both = format!("{old_hold}a=recvonly\r\n");
    assert_eq!(parse(&both).direction(), Direction::Inactive);
}

#[test]
fn direction_reverses_and_can_be_set() {
    assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
    assert_eq!(Direction::RecvOnly.reversed(), Direction::SendOnly);
    assert_eq!(Direction::Inactive.reversed(), Direction::Inactive);
    let mut sdp = parse(&baresip());
    sdp.audio_mut().unwrap().set_direction(Direction::SendOnly);
    let audio = sdp.audio().unwrap();
    assert_eq!(audio.direction(), Some(Direction::SendOnly));
    assert_eq!(audio.attribute("sendrecv"), None);
    assert_eq!(parse(&sdp.to_string()).direction(), Direction::SendOnly);
}

#[test]
fn rewrite_for_relay_anchors_audio_and_strips_ice() {
    let mut sdp = parse(&linphone());
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    sdp.rewrite_for_relay(ip, 20000, Some((42, 7)));
    let text = sdp.to_string();
    assert!(text.starts_with("v=0\r\no=alice 42 7 IN IP4 10.0.0.1\r\ns=Talk\r\n"));
    assert!(!text.contains("candidate"), "{text}");
    assert!(!text.contains("ice-"), "{text}");
    assert!(
        !text.contains("198.51.100.7") && !text.contains("192.168.0.20"),
        "{text}"
    );
    assert_eq!(text.matches("c=IN IP4 10.0.0.1\r\n").count(), 3);
    assert!(text.contains("m=audio 20000 RTP/AVP 96 97 0 8 101\r\n"));
    assert!(text.contains("m=video 0 RTP/AVP 96\r\n"));
    assert_eq!(sdp.media[0].attribute("rtcp"), Some(Some("20001")));
    assert_eq!(sdp.media[1].attribute("rtcp"), None);
    // Codec lines and unknown attributes pass untouched.
    assert_eq!(sdp.media[0].fmtp(96), Some("useinbandfec=1"));
    assert!(text.contains("a=rtcp-xr:rcvr-rtt=all:10000"));
    let again = parse(&text);
    assert_eq!(again.rtp_destination(), Some(addr("10.0.0.1:20000")));
    assert_eq!(again, sdp);
}

#[test]
fn rewrite_for_relay_uses_ip6_for_an_ipv6_switch() {
    let mut sdp = parse(&freeswitch());
    sdp.rewrite_for_relay(IpAddr::V6(Ipv6Addr::LOCALHOST), 30000, None);
    assert_eq!(sdp.origin.addrtype, "IP6");
    assert_eq!(sdp.origin.address, "::1");
    assert_eq!(
        (
            sdp.origin.sess_id.as_str(),
            sdp.origin.sess_version.as_str()
        ),
        ("1700000000", "1700000001")
    );
    assert!(sdp.to_string().contains("c=IN IP6 ::1\r\n"));
    assert_eq!(sdp.rtp_destination(), Some(addr("[::1]:30000")));
    assert_eq!(sdp.media[0].attribute("rtcp"), Some(Some("30001")));
}

#[test]
fn rewrite_for_relay_keeps_a_hold_address_and_a_disabled_stream() {
    let mut held = parse(&sipp().replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"));
    held.rewrite_for_relay(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 20000, None);
    assert_eq!(held.direction(), Direction::SendOnly);
    assert_eq!(held.origin.address, "10.0.0.1");
    assert_eq!(held.audio().unwrap().port, 20000);

    let mut disabled = parse(&sipp().replace("m=audio 6000", "m=audio 0"));
    disabled.rewrite_for_relay(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 20000, None);
    assert_eq!(disabled.audio().unwrap().port, 0);
}

#[test]
fn rewrite_for_relay_gives_an_addressless_audio_stream_our_address() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 5000/2 RTP/AVP 0",
    ]);
    let mut sdp = parse(&body);
    assert_eq!(sdp.audio().unwrap().port_count, Some(2));
    sdp.rewrite_for_relay(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 20000, None);
    assert_eq!(sdp.rtp_destination(), Some(addr("10.0.0.1:20000")));
    assert!(sdp
        .to_string()
        .ends_with("m=audio 20000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n"));
}

#[test]
fn malformed_bodies_are_errors() {
    let cases: Vec<(String, SdpError)> = vec![
        (String::new(), SdpError::Empty),
        ("\r\n\r\n".into(), SdpError::Empty),
        (sipp().replacen("v=0\r\n", "", 1), SdpError::Missing('v')),
        (
            sipp().replace("v=0", "v=1"),
            SdpError::UnsupportedVersion("1".into()),
        ),
        (
            sipp().replace("o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n", ""),
            SdpError::Missing('o'),
        ),
        (
            sipp().replace("IN IP4 127.0.0.1\r\ns", "IN IP4\r\ns"),
            SdpError::Malformed {
                line: 2,
                reason: "o= needs 6 fields",
            },
        ),
        (
            sipp().replace("c=IN IP4 127.0.0.1", "c=IN IP4"),
            SdpError::Malformed {
                line: 4,
                reason: "c= needs 3 fields",
            },
        ),
        (
            sipp().replace("m=audio 6000", "m=audio sixthousand"),
            SdpError::Malformed {
                line: 6,
                reason: "m= port is not a number",
            },
        ),
        (
            sipp().replace("m=audio 6000", "m=audio 70000"),
            SdpError::Malformed {
                line: 6,
                reason: "m= port is not a number",
            },
        ),
        (
            sipp().replace("m=audio 6000", "m=audio +6000"),
            SdpError::Malformed {
                line: 6,
                reason: "m= port is not a number",
            },
        ),
        (
            sipp().replace("m=audio 6000", "m=audio 6000/x"),
            SdpError::Malformed {
                line: 6,
                reason: "m= port count is not a number",
            },
        ),
        (
            sipp().replace("m=audio 6000 RTP/AVP 0", "m=audio 6000"),
            SdpError::Malformed {
                line: 6,
                reason: "m= needs media, port and proto",
            },
        ),
        (
            sipp().replace("t=0 0", "this is not sdp"),
            SdpError::Malformed {
                line: 5,
                reason: "not a <letter>=<value> line",
            },
        ),
        (
            format!("{}o=- 1 1 IN IP4 1.2.3.4\r\n", sipp()),
            SdpError::Malformed {
                line: 8,
                reason: "o= or s= inside a media section",
            },
        ),
        (
            sipp().replace("s=-", "s=-\r\ns=again"),
            SdpError::Malformed {
                line: 4,
                reason: "repeated o= or s= line",
            },
        ),
        (
            format!("{}v=0\r\n", sipp()),
            SdpError::Malformed {
                line: 8,
                reason: "repeated v= line",
            },
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            SessionDescription::parse(body.as_bytes()),
            Err(expected),
            "{body:?}"
        );
    }
}

#[test]
fn lenient_on_unknown_lines_missing_session_name_and_odd_user_names() {
    let body = crlf(&[
        "v=0",
        "o=Mitel 5330 IP 1 2 IN IP4 192.0.2.9",
        "c=IN IP4 192.0.2.9",
        "t=0 0",
        "y=unknown type",
        "a=X-nortel-feature",
        "m=audio 4000 RTP/AVP 0",
        "",
        "a=sendrecv",
        "",
    ]);
    let sdp = parse(&body);
    assert_eq!(sdp.origin.username, "Mitel 5330 IP");
    assert_eq!(sdp.session_name, "-");
    assert_eq!(
        sdp.lines[1],
        Line {
            kind: 'y',
            value: "unknown type".into()
        }
    );
    assert_eq!(sdp.audio().unwrap().attribute("sendrecv"), Some(None));
    assert!(sdp
        .to_string()
        .contains("s=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\ny=unknown type\r\n"));
}

#[test]
fn connection_lines_go_back_where_rfc4566_puts_them() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "i=info",
        "u=http://example.com",
        "c=IN IP4 192.0.2.1",
        "b=CT:64",
        "t=0 0",
        "m=audio 5000 RTP/AVP 0",
        "i=audio info",
        "c=IN IP4 192.0.2.2",
        "b=AS:64",
        "a=ptime:20",
    ]);
    assert_eq!(parse(&body).to_string(), body);
}

#[test]
fn malformed_rtpmap_lines_fall_back_or_give_nothing() {
    let body = sipp().replace("RTP/AVP 0", "RTP/AVP 0 96 97").replace(
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:0 garbage\r\na=rtpmap:96 opus\r\na=rtpmap:97 x/1/y",
    );
    let sdp = parse(&body);
    assert_eq!(sdp.payload_types(), vec![0, 96, 97]);
    assert_eq!(sdp.rtpmap(0), Some(("PCMU".into(), 8000, None)));
    assert_eq!(sdp.rtpmap(96), None);
    assert_eq!(sdp.rtpmap(97), None);
}
