//! Wire format: known bytes, build-then-parse identity, and garbled input.

use super::*;
use crate::rtp::{classify, Packet, Ssrc};
use std::time::{Duration, Instant};

fn block(ssrc: u32) -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(ssrc),
        fraction_lost: 12,
        cumulative_lost: -3,
        highest_seq: 0x0001_0005,
        jitter: 40,
        lsr: 0x1234_5678,
        dlsr: 0x0001_8000,
    }
}

#[test]
fn a_sender_report_has_the_rfc_layout() {
    let sr = RtcpPacket::SenderReport(SenderReport {
        ssrc: Ssrc(0xdead_beef),
        info: SenderInfo {
            ntp: NtpTime(0x0102_0304_0506_0708),
            rtp_timestamp: 160,
            packet_count: 2,
            octet_count: 320,
        },
        reports: vec![block(7)],
    });
    let mut out = Vec::new();
    sr.build(&mut out).expect("builds");
    assert_eq!(out.len(), 52);
    assert_eq!(&out[..4], &[0x81, 200, 0, 12]);
    assert_eq!(&out[4..8], &0xdead_beefu32.to_be_bytes());
    assert_eq!(&out[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
    // Report block: fraction 12, cumulative -3 in 24 bits.
    assert_eq!(&out[32..36], &[12, 0xff, 0xff, 0xfd]);
    // The relay's classifier agrees it is RTCP from this sender.
    assert!(matches!(
        classify(&out),
        Ok(Packet::Rtcp(h)) if h.packet_type == 200 && h.ssrc == Ssrc(0xdead_beef)
    ));
    assert_eq!(parse_compound(&out), Ok(vec![sr]));
}

#[test]
fn report_and_bye_compounds_round_trip() {
    let info = SenderInfo {
        ntp: NtpTime::from_unix(Duration::from_secs(1_700_000_000)),
        rtp_timestamp: 99,
        packet_count: 10,
        octet_count: 1600,
    };
    for packets in [
        report_compound(Ssrc(1), Some(info), vec![block(2)], "ferroswitch@10.0.0.1"),
        report_compound(Ssrc(1), None, vec![block(2), block(3)], "x"),
        bye_compound(Ssrc(1), "cname", Some("hangup")),
        bye_compound(Ssrc(1), "cname", None),
    ] {
        let mut out = Vec::new();
        build_compound(&packets, &mut out).expect("builds");
        assert_eq!(out.len() % 4, 0);
        assert_eq!(parse_compound(&out), Ok(packets));
    }
}

type Rng<'a> = &'a mut dyn FnMut(u64) -> u64;

fn random_text(next: Rng<'_>, max: u64) -> String {
    (0..next(max + 1))
        .map(|_| char::from(b'a' + next(26) as u8))
        .collect()
}

fn random_blocks(next: Rng<'_>) -> Vec<ReportBlock> {
    (0..next(32))
        .map(|_| ReportBlock {
            ssrc: Ssrc(next(1 << 32) as u32),
            fraction_lost: next(256) as u8,
            cumulative_lost: next(1 << 24) as i32 - 0x80_0000,
            highest_seq: next(1 << 32) as u32,
            jitter: next(1 << 32) as u32,
            lsr: next(1 << 32) as u32,
            dlsr: next(1 << 32) as u32,
        })
        .collect()
}

/// A deterministic random packet of any kind.
fn random_packet(next: Rng<'_>) -> RtcpPacket {
    match next(6) {
        0 => RtcpPacket::SenderReport(SenderReport {
            ssrc: Ssrc(next(1 << 32) as u32),
            info: SenderInfo {
                ntp: NtpTime(next(u64::MAX)),
                rtp_timestamp: next(1 << 32) as u32,
                packet_count: next(1 << 32) as u32,
                octet_count: next(1 << 32) as u32,
            },
            reports: random_blocks(next),
        }),
        1 => RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: Ssrc(next(1 << 32) as u32),
            reports: random_blocks(next),
        }),
        2 => RtcpPacket::Sdes(Sdes {
            chunks: (0..next(5))
                .map(|_| SdesChunk {
                    ssrc: Ssrc(next(1 << 32) as u32),
                    items: (0..next(4))
                        .map(|_| SdesItem {
                            kind: 1 + next(8) as u8,
                            text: random_text(next, 40),
                        })
                        .collect(),
                })
                .collect(),
        }),
        3 => RtcpPacket::Bye(Bye {
            sources: (0..next(4)).map(|_| Ssrc(next(1 << 32) as u32)).collect(),
            reason: match next(2) {
                0 => None,
                _ => Some(format!("r{}", random_text(next, 30))),
            },
        }),
        4 => RtcpPacket::App(App {
            subtype: next(32) as u8,
            ssrc: Ssrc(next(1 << 32) as u32),
            name: *b"ferr",
            data: (0..4 * next(4)).map(|_| next(256) as u8).collect(),
        }),
        _ => RtcpPacket::Other {
            packet_type: 205 + next(3) as u8,
            count: next(32) as u8,
            payload: (0..4 * next(5)).map(|_| next(256) as u8).collect(),
        },
    }
}

fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut x = seed | 1;
    move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if m == u64::MAX {
            x
        } else {
            x % m
        }
    }
}

#[test]
fn build_then_parse_is_identity() {
    let mut next = rng(0x5eed);
    for _ in 0..2000 {
        let packets: Vec<RtcpPacket> = (0..1 + next(4)).map(|_| random_packet(&mut next)).collect();
        let mut out = Vec::new();
        build_compound(&packets, &mut out).expect("builds");
        assert_eq!(parse_compound(&out).as_ref(), Ok(&packets), "{out:02x?}");
    }
}

#[test]
fn truncated_and_garbled_input_is_refused_without_panic() {
    let mut next = rng(0xbad);
    for _ in 0..3000 {
        let packets: Vec<RtcpPacket> = (0..1 + next(3)).map(|_| random_packet(&mut next)).collect();
        let mut out = Vec::new();
        build_compound(&packets, &mut out).expect("builds");
        // Every strict prefix that cuts a packet short is an error.
        let cut = next(out.len() as u64) as usize;
        let _ = parse_compound(&out[..cut]);
        // Flip some bytes; whatever comes out, no panic.
        for _ in 0..1 + next(4) {
            let i = next(out.len() as u64) as usize;
            out[i] = next(256) as u8;
        }
        let _ = parse_compound(&out);
    }
    let rr = {
        let mut v = Vec::new();
        build_compound(&bye_compound(Ssrc(1), "c", None), &mut v).expect("builds");
        v
    };
    for cut in 1..rr.len() {
        if cut % 4 != 0 {
            assert!(parse_compound(&rr[..cut]).is_err(), "cut at {cut}");
        }
    }
}

#[test]
fn specific_faults_are_named() {
    assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
    assert!(matches!(
        parse_compound(&[0x40, 201, 0, 1, 0, 0, 0, 0]),
        Err(RtcpError::Version { version: 1, .. })
    ));
    assert!(matches!(
        parse_compound(&[0x80, 201, 0, 7, 0, 0, 0, 0]),
        Err(RtcpError::Truncated { needed: 32, .. })
    ));
    // RR claiming one block with room for none.
    assert!(matches!(
        parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
        Err(RtcpError::Malformed {
            packet_type: 201,
            ..
        })
    ));
    // Padding count larger than the packet.
    assert!(matches!(
        parse_compound(&[0xa0, 201, 0, 1, 0, 0, 0, 9]),
        Err(RtcpError::Malformed { .. })
    ));
    // Valid padding is removed: RR with 4 bytes of padding.
    let padded = [0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4];
    assert_eq!(
        parse_compound(&padded),
        Ok(vec![RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: Ssrc(9),
            reports: vec![]
        })])
    );
    // SDES chunk whose item runs past the packet.
    assert!(matches!(
        parse_compound(&[0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, b'a', b'b']),
        Err(RtcpError::Malformed {
            packet_type: 202,
            ..
        })
    ));
}

#[test]
fn building_refuses_what_the_wire_cannot_carry() {
    let too_many = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: vec![block(1); 32],
    });
    let mut out = vec![1, 2, 3];
    assert_eq!(
        build_compound(&[too_many], &mut out),
        Err(RtcpError::TooLarge("more than 31 report blocks"))
    );
    assert_eq!(out, vec![1, 2, 3], "left as it was");
    let long = RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk {
            ssrc: Ssrc(1),
            items: vec![SdesItem::cname(&"x".repeat(256))],
        }],
    });
    assert!(matches!(long.build(&mut out), Err(RtcpError::TooLarge(_))));
    let odd = RtcpPacket::App(App {
        subtype: 0,
        ssrc: Ssrc(1),
        name: *b"test",
        data: vec![1, 2, 3],
    });
    assert!(matches!(odd.build(&mut out), Err(RtcpError::Unaligned(_))));
    // Out-of-range cumulative loss is clamped to 24 bits.
    let mut b = block(1);
    b.cumulative_lost = i32::MIN;
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: vec![b],
    });
    let mut v = Vec::new();
    rr.build(&mut v).expect("builds");
    let Ok(parsed) = parse_compound(&v) else {
        panic!("parses");
    };
    let RtcpPacket::ReceiverReport(rr) = &parsed[0] else {
        panic!("an RR");
    };
    assert_eq!(rr.reports[0].cumulative_lost, -0x80_0000);
}

#[test]
fn ntp_time_conversions() {
    let t = NtpTime::from_unix(Duration::from_millis(1500));
    assert_eq!(t.0 >> 32, 2_208_988_801);
    assert_eq!(t.0 as u32, 1 << 31);
    assert_eq!(t.short(), ((2_208_988_801u64 << 16) as u32) | 0x8000);
    let sys = std::time::UNIX_EPOCH + Duration::from_millis(1500);
    assert_eq!(NtpTime::from_system_time(sys), t);
    assert_eq!(
        NtpTime::from_system_time(std::time::UNIX_EPOCH - Duration::from_secs(5)),
        NtpTime::from_unix(Duration::ZERO)
    );
    assert_eq!((t + Duration::from_millis(500)).0 >> 32, 2_208_988_802);
}

#[test]
fn two_endpoints_measure_their_round_trip() {
    // A sends RTP and an SR; B receives, reports back 200 ms after the SR; 30 ms each way.
    let t0 = Instant::now();
    let wall0 = NtpTime::from_unix(Duration::from_secs(1_800_000_000));
    let mut a = SenderStats::new(Ssrc(0xa), 8000);
    let mut b = ReceiverStats::new(Ssrc(0xa), 8000);
    for i in 0..100u32 {
        let sent = t0 + Duration::from_millis(u64::from(i) * 20);
        a.handle_sent(sent, i * 160, 160);
        b.handle_rtp(sent + Duration::from_millis(30), i as u16, i * 160);
    }
    let sr_at = t0 + Duration::from_millis(2000);
    let info = a.sender_info(sr_at, wall0);
    let mut bytes = Vec::new();
    build_compound(
        &report_compound(Ssrc(0xa), Some(info), vec![], "a"),
        &mut bytes,
    )
    .expect("builds");
    let Ok(packets) = parse_compound(&bytes) else {
        panic!("parses");
    };
    let RtcpPacket::SenderReport(sr) = &packets[0] else {
        panic!("an SR first");
    };
    b.handle_sender_report(sr_at + Duration::from_millis(30), &sr.info);
    let rr_at = sr_at + Duration::from_millis(230);
    let report = b.report_block(rr_at);
    assert_eq!(report.cumulative_lost, 0);
    let back_at = wall0 + Duration::from_millis(260);
    let rtt = round_trip(back_at, &report).expect("rtt");
    assert!(rtt.as_micros().abs_diff(60_000) < 100, "{rtt:?}");
}
