//! A light event-socket subscriber for `tests/bench/esl_load.sh`: connects to
//! 127.0.0.1:PORT (retrying until the switch is up), authenticates, subscribes in plain
//! format to EVENTS (default `ALL`) and counts the events it receives until SIGTERM or
//! SIGINT; then prints `EVENTS <count> <seconds from the first event>`.
//!
//! It is written to cost the host little (one read per 256 KiB, a substring count), so that
//! on a machine shared with the switch the benchmark measures the event socket rather than
//! its clients.
//!
//! usage: esl_count PORT PASSWORD [EVENTS...]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(password)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: esl_count PORT PASSWORD [EVENTS...]");
        std::process::exit(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("esl_count: bad port {port:?}");
        std::process::exit(2);
    };
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
    let mut stream = loop {
        if STOP.load(Ordering::SeqCst) {
            println!("EVENTS 0 0");
            return;
        }
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let events = match args[3..].join(" ") {
        e if e.trim().is_empty() => "ALL".to_string(),
        e => e,
    };
    let hello = format!("auth {password}\n\nevent plain {events}\n\n");
    if stream.write_all(hello.as_bytes()).is_err() {
        println!("EVENTS 0 0");
        return;
    }
    let needle = b"Content-Type: text/event-plain";
    let finder = memchr::memmem::Finder::new(needle);
    let mut buf = vec![0u8; 256 * 1024];
    // The last bytes of the previous read, so a needle split across two reads is counted.
    let keep = needle.len() - 1;
    let mut carried = 0;
    let (mut count, mut first) = (0u64, None::<Instant>);
    while !STOP.load(Ordering::SeqCst) {
        let n = match stream.read(&mut buf[carried..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let data = &buf[..carried + n];
        let (mut found, mut last_end) = (0u64, 0);
        for at in finder.find_iter(data) {
            found += 1;
            last_end = at + needle.len();
        }
        if found > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        count += found;
        // Carry the bytes that may start a needle completed by the next read, but none of
        // a needle already counted.
        let from = data.len().saturating_sub(keep).max(last_end);
        let len = data.len();
        buf.copy_within(from..len, 0);
        carried = len - from;
    }
    let secs = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    println!("EVENTS {count} {secs:.1}");
}
