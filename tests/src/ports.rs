//! Loopback port blocks, distinct for every instance so that tests run in parallel.
//!
//! Ports come from 10000-32399, below Linux's ephemeral range (32768-60999), so they never
//! meet the ports the kernel hands out for `bind(0)` (which the RTP sinks use). Each test
//! process gets its own window chosen from its PID, and within the window an atomic counter
//! hands out blocks; every port of a block is checked free (UDP and TCP) before it is used.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 10_000;
const WINDOW: u32 = 1_400;
const WINDOWS: u32 = 16;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Reserves `count` consecutive loopback ports and returns the first, which is even (RTP
/// ranges need an even start). Unique within this process; another process uses another
/// window, and ports in use by anyone are skipped.
///
/// Panics when no free block is found after trying the whole window twice.
pub fn reserve(count: u16) -> u16 {
    let count = u32::from(count.max(1));
    let size = count + (count & 1);
    assert!(
        size <= WINDOW,
        "a port block of {count} does not fit a window of {WINDOW}"
    );
    let base = FIRST + (std::process::id() % WINDOWS) * WINDOW;
    for _ in 0..(2 * WINDOW / size + 2) {
        let offset = NEXT.fetch_add(size, Ordering::Relaxed) % WINDOW;
        if offset + size > WINDOW {
            continue;
        }
        let start = base + offset;
        if (start..start + size).all(|p| is_free(p as u16)) {
            return start as u16;
        }
    }
    panic!(
        "no free block of {count} loopback ports in {base}-{}",
        base + WINDOW - 1
    );
}

/// True when both a UDP and a TCP socket can bind 127.0.0.1:`port` right now.
pub fn is_free(port: u16) -> bool {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
        && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// True when some process holds UDP port `port` (a SIP peer has started). Read from
/// /proc/net/udp rather than by binding the port: a probe bind could make the peer's own
/// bind fail at the wrong moment.
pub fn udp_in_use(port: u16) -> bool {
    match std::fs::read_to_string("/proc/net/udp") {
        Ok(table) => in_table(&table, port, None),
        Err(_) => UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_err(),
    }
}

/// True when some process listens on TCP port `port`, read from /proc/net/tcp as
/// [`udp_in_use`] does.
pub fn tcp_listening(port: u16) -> bool {
    match std::fs::read_to_string("/proc/net/tcp") {
        // State 0A is LISTEN.
        Ok(table) => in_table(&table, port, Some("0A")),
        Err(_) => TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err(),
    }
}

/// Whether a /proc/net/{udp,tcp} table has a socket on local `port` (in `state`, if given).
fn in_table(table: &str, port: u16, state: Option<&str>) -> bool {
    table.lines().skip(1).any(|l| {
        // "  sl  local_address rem_address st ...": local_address is HEXIP:HEXPORT.
        let cols: Vec<&str> = l.split_whitespace().collect();
        let local = cols
            .get(1)
            .and_then(|a| a.split_once(':'))
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
        local == Some(port) && state.is_none_or(|s| cols.get(3) == Some(&s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_do_not_overlap_and_start_even() {
        let a = reserve(200);
        let b = reserve(3);
        assert_eq!(a % 2, 0);
        assert_eq!(b % 2, 0);
        assert!(b >= a + 200 || a >= b + 4, "{a} and {b} overlap");
    }

    #[test]
    fn a_held_port_is_reported_in_use() {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = s.local_addr().unwrap().port();
        assert!(udp_in_use(port));
        assert!(!is_free(port));
    }
}
