//! RTP seen from the outside: a sink that counts what arrives at a test-owned UDP port (put
//! its port in a SIPp scenario's SDP with `-key sinkport`) and a source that sends a paced
//! G.711 stream, for tests where pcap playback is inconvenient.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What an [`RtpSink`] has received so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtpStats {
    /// RTP packets (version 2, at least a 12-byte header, not RTCP).
    pub packets: u64,
    /// Payload bytes of those packets (header excluded).
    pub payload_bytes: u64,
    /// Packet count per payload type.
    pub by_payload_type: BTreeMap<u8, u64>,
    /// Every SSRC seen.
    pub ssrcs: BTreeSet<u32>,
    /// Every source address seen.
    pub sources: BTreeSet<SocketAddr>,
    /// RTCP packets (packet types 200-206).
    pub rtcp: u64,
    /// Datagrams that are neither RTP nor RTCP.
    pub other: u64,
    /// G.711 packets (payload type 0 or 8) whose audio is louder than -40 dBFS: not silence.
    pub loud: u64,
}

impl RtpStats {
    /// Packets of payload type `pt`.
    pub fn of_type(&self, pt: u8) -> u64 {
        self.by_payload_type.get(&pt).copied().unwrap_or(0)
    }

    /// Adds one datagram to the counts.
    pub fn count(&mut self, data: &[u8], from: SocketAddr) {
        self.sources.insert(from);
        if data.len() < 12 || data[0] >> 6 != 2 {
            self.other += 1;
            return;
        }
        if (200..=206).contains(&data[1]) {
            self.rtcp += 1;
            return;
        }
        let csrcs = usize::from(data[0] & 0x0f) * 4;
        self.packets += 1;
        self.payload_bytes += data.len().saturating_sub(12 + csrcs) as u64;
        let pt = data[1] & 0x7f;
        *self.by_payload_type.entry(pt).or_default() += 1;
        if let (0 | 8, Some(payload)) = (pt, data.get(12 + csrcs..)) {
            let decode = if pt == 0 { ulaw_decode } else { alaw_decode };
            let energy: f64 = payload.iter().map(|&b| f64::from(decode(b)).powi(2)).sum();
            let rms = (energy / payload.len().max(1) as f64).sqrt();
            if rms > 328.0 {
                self.loud += 1;
            }
        }
        self.ssrcs
            .insert(u32::from_be_bytes([data[8], data[9], data[10], data[11]]));
    }
}

/// A UDP port on 127.0.0.1 that counts the RTP it receives, in a background thread.
#[derive(Debug)]
pub struct RtpSink {
    addr: SocketAddr,
    stats: Arc<Mutex<RtpStats>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RtpSink {
    /// Binds a kernel-chosen port on 127.0.0.1 and starts counting.
    pub fn bind() -> RtpSink {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the RTP sink");
        let addr = socket.local_addr().expect("sink address");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("sink read timeout");
        let stats = Arc::new(Mutex::new(RtpStats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (stats.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !st.load(Ordering::Relaxed) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    s.lock().expect("stats lock").count(&buf[..n], from);
                }
            }
        });
        RtpSink {
            addr,
            stats,
            stop,
            thread: Some(thread),
        }
    }

    /// The port to advertise in SDP.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The sink's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of the counts so far.
    pub fn stats(&self) -> RtpStats {
        self.stats.lock().expect("stats lock").clone()
    }

    /// Waits until at least `packets` RTP packets have arrived or `timeout` passes; returns
    /// the counts either way (the caller asserts).
    pub fn wait_for_packets(&self, packets: u64, timeout: Duration) -> RtpStats {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.stats();
            if s.packets >= packets || Instant::now() >= deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A G.711 flavour: µ-law (payload type 0) or A-law (payload type 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711 {
    /// PCMU, payload type 0.
    Pcmu,
    /// PCMA, payload type 8.
    Pcma,
}

impl G711 {
    /// The static RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            G711::Pcmu => 0,
            G711::Pcma => 8,
        }
    }

    /// Encodes one linear sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            G711::Pcmu => ulaw(sample),
            G711::Pcma => alaw(sample),
        }
    }
}

/// Sends a 20 ms G.711 stream (a 1 kHz tone at -6 dBFS) from its own socket, in a thread.
#[derive(Debug)]
pub struct RtpSource {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u32>>,
    local: SocketAddr,
}

impl RtpSource {
    /// Starts sending `packets` packets of `codec` to `dest`, one every 20 ms.
    pub fn start(dest: SocketAddr, codec: G711, packets: u32) -> RtpSource {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the RTP source");
        RtpSource::from_socket(socket, dest, codec, packets)
    }

    /// Like [`RtpSource::start`] but from a socket the test owns (e.g. for symmetric RTP).
    pub fn from_socket(socket: UdpSocket, dest: SocketAddr, codec: G711, packets: u32) -> Self {
        let local = socket.local_addr().expect("source address");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            let ssrc: u32 = 0x4645_5252 ^ std::process::id();
            let start = Instant::now();
            let mut packet = [0u8; 12 + 160];
            let mut sent = 0;
            for seq in 0..packets {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                packet[0] = 0x80;
                packet[1] = codec.payload_type() | if seq == 0 { 0x80 } else { 0 };
                packet[2..4].copy_from_slice(&(seq as u16).to_be_bytes());
                packet[4..8].copy_from_slice(&(seq.wrapping_mul(160)).to_be_bytes());
                packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
                for (i, b) in packet[12..].iter_mut().enumerate() {
                    let n = f64::from(seq * 160 + i as u32);
                    let s = (n * 2.0 * std::f64::consts::PI * 1000.0 / 8000.0).sin() * 16384.0;
                    *b = codec.encode(s as i16);
                }
                if socket.send_to(&packet, dest).is_ok() {
                    sent += 1;
                }
                // Pace against the start time so that scheduling delays do not accumulate.
                let due = start + Duration::from_millis(20 * u64::from(seq + 1));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            sent
        });
        RtpSource {
            stop,
            thread: Some(thread),
            local,
        }
    }

    /// The address packets are sent from.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for the stream to finish; returns how many packets were sent.
    pub fn wait(mut self) -> u32 {
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for RtpSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// G.711 µ-law encoding of one sample (ITU-T G.711, with the usual bias of 0x84).
fn ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = (s + BIAS).min(0x7fff);
    let exponent = (7 - (s as u16).leading_zeros().saturating_sub(1).min(7)) as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// G.711 µ-law decoding of one byte.
fn ulaw_decode(b: u8) -> i16 {
    let b = !b;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if b & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// G.711 A-law decoding of one byte.
fn alaw_decode(b: u8) -> i16 {
    let b = b ^ 0x55;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0f);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    if b & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// G.711 A-law encoding of one sample.
fn alaw(sample: i16) -> u8 {
    let (sign, mut s) = if sample >= 0 {
        (0x80u8, i32::from(sample))
    } else {
        (0u8, -i32::from(sample) - 1)
    };
    s = s.min(0x7fff) >> 3;
    let byte = if s < 32 {
        (s >> 1) as u8
    } else {
        let exponent = (16 - (s as u16).leading_zeros()) as i32 - 5;
        ((exponent << 4) | ((s >> exponent) & 0x0f)) as u8
    };
    (sign | byte) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_encodes_known_values() {
        assert_eq!(ulaw(0), 0xff);
        assert_eq!(ulaw(-1), 0x7f);
        assert_eq!(ulaw(i16::MAX), 0x80);
        assert_eq!(ulaw(i16::MIN), 0x00);
        assert_eq!(alaw(0), 0xd5);
        assert_eq!(alaw(-1), 0x55);
        assert_eq!(alaw(i16::MAX), 0xaa);
        assert_eq!(alaw(i16::MIN), 0x2a);
        for x in [-30000i16, -1000, -10, 0, 10, 1000, 30000] {
            let (u, a) = (ulaw_decode(ulaw(x)), alaw_decode(alaw(x)));
            let tol = i32::from(x).abs() / 16 + 16;
            assert!((i32::from(u) - i32::from(x)).abs() <= tol, "{x} -> {u}");
            assert!((i32::from(a) - i32::from(x)).abs() <= tol, "{x} -> {a}");
        }
    }

    #[test]
    fn stats_tell_rtp_from_rtcp_and_noise() {
        let from: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut s = RtpStats::default();
        let mut rtp = [0u8; 172];
        rtp[0] = 0x80;
        rtp[1] = 8;
        rtp[8..12].copy_from_slice(&7u32.to_be_bytes());
        s.count(&rtp, from);
        s.count(&[0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0], from);
        s.count(b"hello", from);
        assert_eq!((s.packets, s.rtcp, s.other), (1, 1, 1));
        assert_eq!(s.of_type(8), 1);
        assert_eq!(s.payload_bytes, 160);
        assert!(s.ssrcs.contains(&7));
    }

    #[test]
    fn source_stream_reaches_a_sink() {
        let sink = RtpSink::bind();
        let sent = RtpSource::start(sink.addr(), G711::Pcmu, 10).wait();
        assert_eq!(sent, 10);
        let s = sink.wait_for_packets(10, Duration::from_secs(5));
        assert_eq!(s.packets, 10);
        assert_eq!(s.of_type(0), 10);
        assert_eq!(s.payload_bytes, 1600);
        assert_eq!(s.ssrcs.len(), 1);
    }
}
