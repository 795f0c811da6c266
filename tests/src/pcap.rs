//! Writing RTP streams as pcap files for SIPp's `play_pcap_audio`, so a test can send audio
//! SIPp does not ship (in-band DTMF tones, a given codec, several RFC 4733 digits at given
//! times): Ethernet, IPv4 and UDP headers around each RTP packet, 20 ms apart.

use std::io::Write;
use std::path::Path;

use crate::rtp::G711;

/// One 20 ms piece of the stream: silence, or tones at these frequencies (Hz).
#[derive(Debug, Clone)]
pub enum Piece {
    /// 20 ms of silence.
    Silence,
    /// 20 ms of the sum of these sines, each at about -10 dBFS.
    Tones(Vec<f64>),
}

/// The pieces for DTMF `digit` (e.g. `'7'`) held `ms` milliseconds, with `gap_ms` of
/// silence before and after.
pub fn dtmf_pieces(digit: char, ms: u32, gap_ms: u32) -> Vec<Piece> {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let keys = ["123A", "456B", "789C", "*0#D"];
    let (r, c) = keys
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.find(digit).map(|c| (r, c)))
        .unwrap_or_else(|| panic!("{digit:?} is no DTMF key"));
    let gap = (gap_ms / 20) as usize;
    let mut v = vec![Piece::Silence; gap];
    v.extend(std::iter::repeat_n(
        Piece::Tones(vec![ROWS[r], COLS[c]]),
        (ms / 20) as usize,
    ));
    v.extend(std::iter::repeat_n(Piece::Silence, gap));
    v
}

/// Global header: magic, version 2.4, no time zone, accuracy 0, snaplen, Ethernet.
fn pcap_header() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out
}

/// Appends one RTP packet sent `t_us` after the start.
fn push_packet(out: &mut Vec<u8>, t_us: u64, rtp: &[u8]) {
    let frame = udp_frame(rtp);
    out.extend_from_slice(&((t_us / 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&((t_us % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
}

/// The RFC 4733 event code of a key.
fn event_code(digit: char) -> u8 {
    match digit {
        '0'..='9' => digit as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => digit as u8 - b'A' + 12,
        other => panic!("{other:?} is no DTMF key"),
    }
}

/// Writes `total_ms` of a PCMA stream (silence, payload type 8) in which each `(digit,
/// at_ms)` is sent as RFC 4733 telephone-events (payload type 101) for 100 ms starting
/// `at_ms` after the start, with its three end packets, as phones send them.
pub fn write_rfc4733(path: &Path, digits: &[(char, u32)], total_ms: u32) -> std::io::Result<()> {
    const HOLD: u32 = 100;
    // Packets go every 20 ms: a digit starts on one.
    let digits: Vec<(char, u32)> = digits.iter().map(|&(d, at)| (d, at / 20 * 20)).collect();
    let mut out = pcap_header();
    let mut seq: u16 = 0;
    let mut push = |out: &mut Vec<u8>, t_ms: u32, pt: u8, marker: bool, ts: u32, payload: &[u8]| {
        let mut rtp = vec![0x80, pt | if marker { 0x80 } else { 0 }];
        rtp.extend_from_slice(&seq.to_be_bytes());
        rtp.extend_from_slice(&ts.to_be_bytes());
        rtp.extend_from_slice(&0x4454_4d46u32.to_be_bytes());
        rtp.extend_from_slice(payload);
        push_packet(out, u64::from(t_ms) * 1000, &rtp);
        seq = seq.wrapping_add(1);
    };
    let mut t = 0;
    while t < total_ms {
        let ts = t * 8;
        match digits
            .iter()
            .find(|(_, at)| (*at..*at + HOLD + 60).contains(&t))
        {
            Some(&(d, at)) => {
                let code = event_code(d);
                let start_ts = at * 8;
                let elapsed = t - at + 20;
                if t < at + HOLD {
                    let dur = (elapsed * 8) as u16;
                    let p = [code, 10, (dur >> 8) as u8, dur as u8];
                    push(&mut out, t, 101, t == at, start_ts, &p);
                } else {
                    // Three end packets, 20 ms apart, with the final duration.
                    let dur = (HOLD * 8) as u16;
                    let p = [code, 0x80 | 10, (dur >> 8) as u8, dur as u8];
                    push(&mut out, t, 101, false, start_ts, &p);
                }
            }
            None => push(&mut out, t, 8, t == 0, ts, &[0xd5; 160]),
        }
        t += 20;
    }
    std::fs::File::create(path)?.write_all(&out)
}

/// Writes `pieces` as a G.711 RTP stream (payload type of `codec`) into a pcap at `path`.
pub fn write_g711(path: &Path, codec: G711, pieces: &[Piece]) -> std::io::Result<()> {
    let mut out = pcap_header();
    let mut phase = [0.0f64; 4];
    for (n, piece) in pieces.iter().enumerate() {
        let mut rtp = vec![0x80, codec.payload_type() | if n == 0 { 0x80 } else { 0 }];
        rtp.extend_from_slice(&(n as u16).to_be_bytes());
        rtp.extend_from_slice(&((n as u32) * 160).to_be_bytes());
        rtp.extend_from_slice(&0x5049_4e47u32.to_be_bytes());
        for _ in 0..160 {
            let s = match piece {
                Piece::Silence => 0.0,
                Piece::Tones(f) => f
                    .iter()
                    .zip(phase.iter_mut())
                    .map(|(hz, p)| {
                        *p = (*p + hz / 8000.0).fract();
                        (*p * 2.0 * std::f64::consts::PI).sin() * 10000.0
                    })
                    .sum(),
            };
            rtp.push(codec.encode(s as i16));
        }
        push_packet(&mut out, n as u64 * 20_000, &rtp);
    }
    std::fs::File::create(path)?.write_all(&out)
}

/// Ethernet + IPv4 + UDP around `payload` (127.0.0.1:6000 to 127.0.0.1:6002; SIPp rewrites
/// the addresses when it plays the file).
fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = 20 + 8 + payload.len();
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ];
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&6000u16.to_be_bytes());
    f.extend_from_slice(&6002u16.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
