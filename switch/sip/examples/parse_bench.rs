//! Cost of parsing one SIP message: a softphone-like INVITE with an SDP offer and the 200
//! OK answering it, each parsed N times (default 200,000).
//!
//! ```sh
//! cargo run --release -p switch-sip --example parse_bench [-- N]
//! ```
//!
//! Prints the time per message (best of 5 rounds: the shared test machine's speed varies).

use std::time::Instant;

const INVITE: &str = "INVITE sip:1001@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-524287-1---e1c7b1ce2d1ab3b2;rport\r\n\
Max-Forwards: 70\r\n\
Contact: <sip:1002@127.0.0.1:5062;transport=UDP>\r\n\
To: <sip:1001@127.0.0.1:5060>\r\n\
From: \"Agent 1002\"<sip:1002@127.0.0.1:5060;transport=UDP>;tag=8a1d2f3e\r\n\
Call-ID: YjVhNWQ4ZTI3ZGE5NTZhYjJlNmE5ZGY4YjA3YmQ3ZmE.\r\n\
CSeq: 2 INVITE\r\n\
Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n\
Content-Type: application/sdp\r\n\
Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri\r\n\
User-Agent: Z 5.5.12 v2.10.19.9\r\n\
Allow-Events: presence, kpml, talk, as-feature-event\r\n\
Content-Length: 228\r\n\
\r\n\
v=0\r\n\
o=Z 1701 1 IN IP4 127.0.0.1\r\n\
s=Z\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 8000 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n";

const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-524287-1---e1c7b1ce2d1ab3b2;rport=5062;received=127.0.0.1\r\n\
Record-Route: <sip:127.0.0.1:5060;lr>\r\n\
Contact: <sip:1001@127.0.0.1:5070>\r\n\
To: <sip:1001@127.0.0.1:5060>;tag=as5f1e2d3c\r\n\
From: \"Agent 1002\"<sip:1002@127.0.0.1:5060;transport=UDP>;tag=8a1d2f3e\r\n\
Call-ID: YjVhNWQ4ZTI3ZGE5NTZhYjJlNmE5ZGY4YjA3YmQ3ZmE.\r\n\
CSeq: 2 INVITE\r\n\
Server: ferroswitch\r\n\
Content-Length: 0\r\n\
\r\n";

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    for (name, msg) in [("INVITE with SDP", INVITE), ("200 OK", OK)] {
        let bytes = msg.as_bytes();
        if let Err(e) = switch_sip::message::parse(bytes) {
            eprintln!("parse_bench: the {name} does not parse: {e:?}");
            std::process::exit(1);
        }
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(switch_sip::message::parse(std::hint::black_box(bytes)).ok());
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64);
        }
        println!("{name} ({} bytes): {best:.0} ns per parse", bytes.len());
    }
}
