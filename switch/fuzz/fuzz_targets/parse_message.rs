//! The message parser and the stream framer on arbitrary bytes: no panic, framing stays
//! inside the buffer, and a parsed message prints to something that parses and prints
//! the same again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switch_sip::message::{frame, parse, Framing};

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
        }
        Err(e) => {
            assert!(matches!(e.status, 400 | 501 | 505), "status {}", e.status);
        }
    }
});
