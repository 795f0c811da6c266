//! RFC 4475 ("SIP Torture Test Messages") as tests of the message parser.
//!
//! Every message of RFC 4475 section 3 is a file under `tests/torture/`, written out by us
//! from the RFC text with the RFC's CRLF line ends and raw bytes (`.gitattributes` keeps git
//! from touching them). Each message has a test in one of the modules below asserting what
//! the RFC says a receiving element does with it; where the RFC's answer belongs to a layer
//! above the parser (a 416, a 420, a 483), the test says what the switch does and asserts the
//! parser's part. This file holds the helpers and the properties that span the corpus.

use switch_sip::message::{frame, parse, Framing, Message, ParseError, Request, Response, Via};

#[path = "torture/invalid.rs"]
mod invalid;
#[path = "torture/semantic.rs"]
mod semantic;
#[path = "torture/valid.rs"]
mod valid;

/// Every message, with whether RFC 4475 (and our reading of it) has the parser accept it.
const CORPUS: &[(&str, bool)] = &[
    // 3.1.1 valid messages
    ("wsinv", true),
    ("intmeth", true),
    ("esc01", true),
    ("escnull", true),
    ("esc02", true),
    ("lwsdisp", true),
    ("longreq", true),
    ("dblreq", true),
    ("semiuri", true),
    ("transports", true),
    ("mpart01", true),
    ("unreason", true),
    ("noreason", true),
    // 3.1.2 invalid messages (baddate: rejecting is allowed, but we never read Date)
    ("badinv01", false),
    ("clerr", false),
    ("ncl", false),
    ("scalar02", false),
    ("scalarlg", false),
    ("quotbal", false),
    ("ltgtruri", false),
    ("lwsruri", false),
    ("lwsstart", false),
    ("trws", false),
    ("escruri", false),
    ("baddate", true),
    ("regbadct", false),
    ("badaspec", false),
    ("baddn", false),
    ("badvers", false),
    ("mismatch01", false),
    ("mismatch02", false),
    ("bigcode", false),
    // 3.2 transaction layer semantics
    ("badbranch", true),
    // 3.3 application layer semantics
    ("insuf", false),
    ("unkscm", true),
    ("novelsc", true),
    ("unksm2", true),
    ("bext01", true),
    ("invut", true),
    ("regaut01", true),
    ("multi01", false),
    ("mcl01", false),
    ("bcast", true),
    ("zeromf", true),
    ("cparam01", true),
    ("cparam02", true),
    ("regescrt", true),
    ("sdp01", true),
    // 3.4 backward compatibility
    ("inv2543", true),
];

/// The bytes of one torture message.
pub fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/torture/{name}.sip", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a message that must be a well-formed request.
pub fn request(name: &str) -> Request {
    match parse(&load(name)) {
        Ok(Message::Request(r)) => r,
        other => panic!("{name}: expected a request, got {other:?}"),
    }
}

/// Parses a message that must be a well-formed response.
pub fn response(name: &str) -> Response {
    match parse(&load(name)) {
        Ok(Message::Response(r)) => r,
        other => panic!("{name}: expected a response, got {other:?}"),
    }
}

/// Parses a message that must be rejected, checking the status it asks to answer with.
pub fn rejected(name: &str, status: u16) -> ParseError {
    match parse(&load(name)) {
        Err(e) => {
            assert_eq!(e.status, status, "{name}: {}", e.reason);
            e
        }
        Ok(m) => panic!("{name}: expected a rejection, got {m:?}"),
    }
}

/// The answer the switch sends to a rejected request: it must be buildable and carry the
/// headers RFC 3261 8.2.6.2 copies, so that the sender can match it.
pub fn answer(name: &str, e: &ParseError) -> Response {
    let req = e
        .partial
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no partial request to answer ({})", e.reason));
    let resp = req.response(e.status, Some("torture"));
    assert_eq!(resp.status, e.status);
    assert_eq!(
        resp.headers.get_all("Via").collect::<Vec<_>>(),
        req.headers.get_all("Via").collect::<Vec<_>>(),
        "{name}: the answer copies every Via"
    );
    resp
}

/// Like [`answer`], for a request whose Via, From, To, Call-ID and CSeq were all good:
/// the answer is then a well-formed response.
pub fn good_answer(name: &str, e: &ParseError) -> Response {
    let resp = answer(name, e);
    match parse(&resp.to_bytes()) {
        Ok(Message::Response(r)) => assert_eq!(r.status, e.status, "{name}"),
        other => panic!("{name}: the answer does not parse: {other:?}"),
    }
    resp
}

/// Every Via of a message, parsed.
pub fn vias(h: &switch_sip::message::Headers) -> Vec<Via> {
    h.get_all("Via")
        .map(|v| Via::parse(v).unwrap_or_else(|e| panic!("Via {v:?}: {e}")))
        .collect()
}

#[test]
fn every_message_file_is_in_the_corpus_table() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/torture");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".sip").map(str::to_string)
        })
        .collect();
    files.sort();
    let mut table: Vec<String> = CORPUS.iter().map(|(n, _)| n.to_string()).collect();
    table.sort();
    assert_eq!(files, table);
}

#[test]
fn every_message_has_crlf_line_ends_in_its_header_section() {
    for (name, _) in CORPUS {
        let data = load(name);
        let end = data
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{name}: no blank line"));
        for (i, b) in data[..end].iter().enumerate() {
            if *b == b'\n' {
                assert_eq!(data[i - 1], b'\r', "{name}: bare LF at byte {i}");
            }
        }
    }
}

#[test]
fn the_corpus_table_says_what_the_parser_does() {
    for (name, accepted) in CORPUS {
        let result = parse(&load(name));
        assert_eq!(result.is_ok(), *accepted, "{name}: {result:?}");
    }
}

/// Round-trip property: printing a parsed message and parsing it again gives the same
/// message. The only thing printing adds is a Content-Length when the message had none
/// (inv2543, an RFC 2543 request over UDP); every other message already carries the one
/// the printer writes.
#[test]
fn every_accepted_message_survives_print_and_parse() {
    for (name, _) in CORPUS.iter().filter(|(_, ok)| *ok) {
        let first = parse(&load(name)).unwrap();
        let printed = first.to_bytes();
        let second = parse(&printed).unwrap_or_else(|e| panic!("{name}: reprint rejected: {e}"));
        let mut expected = first.clone();
        let (headers, body_len) = match &mut expected {
            Message::Request(r) => (&mut r.headers, r.body.len()),
            Message::Response(r) => (&mut r.headers, r.body.len()),
        };
        if headers.get("Content-Length").is_none() {
            assert_eq!(*name, "inv2543", "only inv2543 lacks Content-Length");
            headers.push("Content-Length", &body_len.to_string());
        }
        assert_eq!(second, expected, "{name}");
        assert_eq!(
            second.to_bytes(),
            printed,
            "{name}: printing is a fixed point"
        );
    }
}

#[test]
fn no_prefix_of_any_message_makes_the_parser_panic() {
    for (name, _) in CORPUS {
        let data = load(name);
        for n in 0..data.len() {
            let _ = parse(&data[..n]);
            let _ = frame(&data[..n], 65_535);
        }
    }
}

#[test]
fn every_complete_message_frames_on_a_stream_except_the_broken_lengths() {
    for (name, _) in CORPUS {
        let data = load(name);
        let framing = frame(&data, 65_535);
        match *name {
            // Content-Length larger than what arrived: wait for more.
            "clerr" => assert_eq!(framing, Framing::Incomplete, "{name}"),
            // Negative, or two of them: the stream cannot be cut, close it.
            "ncl" | "mcl01" => assert!(matches!(framing, Framing::Invalid(_)), "{name}"),
            // No Content-Length: on a stream the body is empty (RFC 3261 18.3 requires one).
            "inv2543" => {
                let head = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                assert_eq!(framing, Framing::Complete(head), "{name}");
            }
            _ => match framing {
                Framing::Complete(n) => assert!(n <= data.len(), "{name}"),
                other => panic!("{name}: {other:?}"),
            },
        }
    }
}
