//! The event socket's frame parser and command reader on arbitrary bytes: no panic, and
//! feeding the same bytes in two pieces (split where the first byte says) gives the same
//! frames as feeding them at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switch_core::esl::command::Request;
use switch_core::esl::parser::{Mode, Parser};

fn frames(chunks: &[&[u8]]) -> Vec<String> {
    let mut p = Parser::new(Mode::Commands);
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c);
        while let Some(r) = p.next_frame() {
            match r {
                Ok(f) => {
                    out.push(format!("{f:?}"));
                    let _ = Request::parse(f);
                }
                Err(e) => out.push(format!("error {e}")),
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(cut).min(rest.len());
    let whole = frames(&[rest]);
    let split = frames(&[&rest[..at], &rest[at..]]);
    assert_eq!(whole, split, "framing depends on how the bytes arrive");
});
