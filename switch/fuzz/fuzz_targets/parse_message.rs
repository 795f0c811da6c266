//! The message parser and the stream framer on arbitrary bytes: no panic, framing stays
//! inside the buffer, a parsed message prints to something that parses and prints the
//! same again, the fast From/To tag scan agrees with the full header parse, and the
//! headers parsing checked without building them do build.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switch_sip::message::{frame, parse, Framing, Message};

fuzz_target!(|data: &[u8]| {
    match frame(data, 65_535) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::KeepAlive(n) => assert!(n > 0 && n <= data.len()),
        Framing::Incomplete | Framing::Invalid(_) => {}
    }
    match parse(data) {
        Ok(msg) => {
            let printed = msg.to_bytes();
            let again = match parse(&printed) {
                Ok(m) => m,
                Err(e) => panic!("a printed message does not parse: {e}"),
            };
            assert_eq!(again.to_bytes(), printed, "printing is not stable");
            let tags = match &msg {
                Message::Request(r) => [
                    (r.to_tag(), r.to().and_then(|t| t.tag().map(str::to_string))),
                    (r.from_tag(), r.from().and_then(|t| t.tag().map(str::to_string))),
                ],
                Message::Response(r) => [
                    (r.to_tag(), r.to().and_then(|t| t.tag().map(str::to_string))),
                    (r.from_tag(), r.from().and_then(|t| t.tag().map(str::to_string))),
                ],
            };
            for (fast, full) in tags {
                assert_eq!(fast, full.as_deref(), "tag scan and full parse differ");
            }
            // Parsing checks these headers without building them: what it accepted must
            // build.
            let (from, to, via) = match &msg {
                Message::Request(r) => (r.from(), r.to(), r.top_via()),
                Message::Response(r) => (r.from(), r.to(), r.top_via()),
            };
            assert!(
                from.is_some() && to.is_some() && via.is_some(),
                "a checked From, To or Via does not parse"
            );
        }
        Err(e) => {
            assert!(matches!(e.status, 400 | 501 | 505), "status {}", e.status);
        }
    }
});
