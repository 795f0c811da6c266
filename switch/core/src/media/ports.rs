//! RTP/RTCP port pairs from a configured range.
//!
//! A pair whose call ended is kept bound for a while and handed to a later call once it has
//! rested (its queued datagrams thrown away): creating, binding, registering and closing two
//! sockets per leg cost more than anything else of a short call's media set-up.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

/// How long a freed pair rests before another call gets it: its old peers' last packets
/// (in flight when the call ended) arrive meanwhile and are discarded, not relayed.
const REST: Duration = Duration::from_millis(500);

/// Most freed pairs kept bound (two descriptors each), further bounded by the process's
/// descriptor limit. Reuse needs as many as are freed during [`REST`]: 4096 covers 4,000
/// legs (2,000 calls) per second.
const MAX_IDLE: usize = 4096;

/// Hands out even RTP ports with RTCP on port+1, bound on one IP, round-robin through a range.
///
/// Cheap to clone (shared). The lock guards only the bookkeeping at allocate and free time;
/// the media path never touches it.
#[derive(Debug, Clone)]
pub struct PortPool {
    shared: Arc<Shared>,
}

/// A bound RTP socket on an even port and its RTCP socket on port+1. The pair goes back to its
/// pool when this is dropped.
#[derive(Debug)]
pub struct MediaPort {
    /// `None` only while being dropped.
    pair: Option<Pair>,
    ip: IpAddr,
    port: u16,
    index: usize,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Pair {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl MediaPort {
    /// The RTP port (even); RTCP is on `port() + 1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The IP the sockets are bound to (may be unspecified; SDP needs the advertised address).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The RTP socket.
    pub(super) fn rtp(&self) -> &UdpSocket {
        // Present for the port's whole life: only `drop` takes it.
        match &self.pair {
            Some(p) => &p.rtp,
            None => unreachable!("media port used while dropped"),
        }
    }

    /// The RTCP socket.
    pub(super) fn rtcp(&self) -> &UdpSocket {
        match &self.pair {
            Some(p) => &p.rtcp,
            None => unreachable!("media port used while dropped"),
        }
    }
}

impl Drop for MediaPort {
    fn drop(&mut self) {
        if let Some(pair) = self.pair.take() {
            self.shared.put_back(self.index, pair);
        }
    }
}

#[derive(Debug)]
struct Shared {
    ip: IpAddr,
    /// The range as configured, for error messages.
    range: RangeInclusive<u16>,
    /// First even port of the range.
    first: u32,
    /// Number of (even, odd) pairs that fit in the range.
    pairs: usize,
    /// How long a freed pair rests before reuse.
    rest: Duration,
    /// Most freed pairs kept bound.
    max_idle: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Pair index the next search starts at, so a just-freed pair is not reused at once.
    cursor: usize,
    /// Pairs bound by a call or resting in `idle`.
    in_use: Vec<bool>,
    used: usize,
    /// Freed pairs still bound, oldest first.
    idle: VecDeque<Idle>,
}

#[derive(Debug)]
struct Idle {
    index: usize,
    pair: Pair,
    since: Instant,
}

impl PortPool {
    /// A pool over the even ports of `range` whose port+1 is also in `range`, bound on `ip`.
    /// A range holding no such pair gives a pool whose every allocation fails.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Self {
        Self::with_rest(ip, range, REST, idle_limit())
    }

    fn with_rest(ip: IpAddr, range: RangeInclusive<u16>, rest: Duration, max_idle: usize) -> Self {
        let start = u32::from(*range.start());
        let end = u32::from(*range.end());
        let first = start + (start & 1);
        let pairs = if end > first {
            ((end - first - 1) / 2 + 1) as usize
        } else {
            0
        };
        let state = State {
            cursor: 0,
            in_use: vec![false; pairs],
            used: 0,
            idle: VecDeque::new(),
        };
        Self {
            shared: Arc::new(Shared {
                ip,
                range,
                first,
                pairs,
                rest,
                max_idle,
                state: Mutex::new(state),
            }),
        }
    }

    /// A rested pair, else binds the next free one. Pairs another process holds are
    /// skipped; any other bind error (say, an IP not on this host) is returned as is. Fails
    /// with `AddrInUse` naming the range when every pair is taken.
    pub async fn allocate(&self) -> io::Result<MediaPort> {
        if let Some(port) = self.reuse(false) {
            return Ok(port);
        }
        let mut emptied = false;
        for _ in 0..self.shared.pairs {
            let Some(index) = self.shared.reserve() else {
                break;
            };
            let port = self.shared.port(index);
            match bind_pair(self.shared.ip, port).await {
                Ok((rtp, rtcp)) => return Ok(self.port_of(index, Pair { rtp, rtcp })),
                Err(e) => {
                    self.shared.release(index);
                    if e.kind() == io::ErrorKind::AddrInUse {
                        tracing::debug!(port, "RTP port pair busy elsewhere, skipping");
                        continue;
                    }
                    // Out of descriptors: the resting pairs give theirs back, once.
                    let no_fds = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                    if no_fds && !emptied && self.shared.close_idle() > 0 {
                        emptied = true;
                        continue;
                    }
                    return Err(io::Error::new(
                        e.kind(),
                        format!("binding RTP port {}:{port}: {e}", self.shared.ip),
                    ));
                }
            }
        }
        // Every pair is taken: one still resting is better than failing the call.
        if let Some(port) = self.reuse(true) {
            return Ok(port);
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "RTP port range {}-{} on {} exhausted",
                self.shared.range.start(),
                self.shared.range.end(),
                self.shared.ip
            ),
        ))
    }

    /// The oldest freed pair if it has rested (or whatever its age with `any_age`), its
    /// queued datagrams discarded.
    fn reuse(&self, any_age: bool) -> Option<MediaPort> {
        let idle = {
            let mut st = self.shared.lock();
            let ready = st
                .idle
                .front()
                .is_some_and(|i| any_age || i.since.elapsed() >= self.shared.rest);
            if !ready {
                return None;
            }
            st.idle.pop_front()?
        };
        discard_queued(&idle.pair.rtp);
        discard_queued(&idle.pair.rtcp);
        Some(self.port_of(idle.index, idle.pair))
    }

    fn port_of(&self, index: usize, pair: Pair) -> MediaPort {
        MediaPort {
            pair: Some(pair),
            ip: self.shared.ip,
            port: self.shared.port(index),
            index,
            shared: Arc::clone(&self.shared),
        }
    }

    /// How many pairs calls hold now.
    pub fn in_use(&self) -> usize {
        let st = self.shared.lock();
        st.used - st.idle.len()
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> usize {
        self.shared.pairs
    }
}

/// Reads and drops whatever datagrams a socket has queued.
fn discard_queued(sock: &UdpSocket) {
    let mut buf = [0u8; 64];
    // Bounded: a peer flooding the port cannot hold the caller here.
    for _ in 0..1024 {
        if sock.try_recv_from(&mut buf).is_err() {
            break;
        }
    }
}

/// Freed pairs to keep: at most a quarter of the descriptor limit, so a low `ulimit -n`
/// leaves room for calls.
fn idle_limit() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    let fds = if ok { lim.rlim_cur as usize } else { 1024 };
    (fds / 8).min(MAX_IDLE)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated without panicking paths; a poisoned lock still
        // holds consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn port(&self, index: usize) -> u16 {
        // `index < pairs`, so the port lies within the configured u16 range.
        u16::try_from(self.first + 2 * index as u32).unwrap_or(u16::MAX)
    }

    /// Marks the next free pair after the cursor as used.
    fn reserve(&self) -> Option<usize> {
        let mut st = self.lock();
        let pairs = self.pairs;
        let start = st.cursor;
        let index = (0..pairs)
            .map(|i| (start + i) % pairs)
            .find(|&i| !st.in_use[i])?;
        st.in_use[index] = true;
        st.used += 1;
        st.cursor = (index + 1) % pairs;
        Some(index)
    }

    fn release(&self, index: usize) {
        let mut st = self.lock();
        Self::unmark(&mut st, index);
    }

    fn unmark(st: &mut State, index: usize) {
        if let Some(slot) = st.in_use.get_mut(index) {
            if *slot {
                *slot = false;
                st.used -= 1;
            }
        }
    }

    /// A call is done with pair `index`: it rests in the idle queue, or is closed when the
    /// queue is full.
    fn put_back(&self, index: usize, pair: Pair) {
        let mut st = self.lock();
        if st.idle.len() < self.max_idle {
            st.idle.push_back(Idle {
                index,
                pair,
                since: Instant::now(),
            });
            return;
        }
        drop(st);
        // Closed before the pair is free again (so no allocation tries to bind it while it
        // is open), and outside the lock.
        drop(pair);
        self.release(index);
    }

    /// Closes every resting pair; how many there were.
    fn close_idle(&self) -> usize {
        let idle: Vec<Idle> = self.lock().idle.drain(..).collect();
        let indices: Vec<usize> = idle.iter().map(|i| i.index).collect();
        drop(idle);
        let mut st = self.lock();
        for &i in &indices {
            Self::unmark(&mut st, i);
        }
        indices.len()
    }
}

async fn bind_pair(ip: IpAddr, port: u16) -> io::Result<(UdpSocket, UdpSocket)> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, port)).await?;
    let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await?;
    Ok((rtp, rtcp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn odd_bounds_keep_only_whole_pairs() {
        assert_eq!(PortPool::new(LOCAL, 10000..=10009).capacity(), 5);
        assert_eq!(PortPool::new(LOCAL, 10001..=10010).capacity(), 4);
        assert_eq!(PortPool::new(LOCAL, 10000..=10000).capacity(), 0);
        assert_eq!(PortPool::new(LOCAL, 65534..=65535).capacity(), 1);
        assert_eq!(PortPool::new(LOCAL, 65535..=65535).capacity(), 0);
    }

    #[tokio::test]
    async fn allocation_round_robins_and_frees_on_drop() {
        let pool = PortPool::new(LOCAL, 31200..=31205);
        let first = pool.allocate().await.unwrap();
        let p1 = first.port();
        assert_eq!(p1 % 2, 0);
        assert_eq!(pool.in_use(), 1);
        drop(first);
        assert_eq!(pool.in_use(), 0);
        let second = pool.allocate().await.unwrap();
        assert_ne!(second.port(), p1, "a just-freed pair is not reused at once");
        assert_eq!(second.ip(), LOCAL);
    }

    #[tokio::test]
    async fn exhausted_range_is_an_error_naming_it() {
        let pool = PortPool::new(LOCAL, 31220..=31223);
        let _a = pool.allocate().await.unwrap();
        let _b = pool.allocate().await.unwrap();
        let err = pool.allocate().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("31220-31223"), "{err}");
    }

    #[tokio::test]
    async fn ports_held_by_others_are_skipped() {
        let pool = PortPool::new(LOCAL, 31240..=31245);
        // Someone else holds the first pair's RTCP port.
        let squatter = std::net::UdpSocket::bind((LOCAL, 31241)).unwrap();
        let port = pool.allocate().await.unwrap();
        assert_eq!(port.port(), 31242);
        assert_eq!(pool.in_use(), 1, "the skipped pair is not left marked");
        drop(squatter);
    }

    #[tokio::test]
    async fn a_freed_pair_rests_then_serves_again_without_its_old_datagrams() {
        let pool = PortPool::with_rest(LOCAL, 31280..=31289, Duration::from_millis(50), 8);
        let first = pool.allocate().await.unwrap();
        let port = first.port();
        drop(first);
        assert_eq!(pool.in_use(), 0, "a resting pair is not in use");
        // A late packet from the ended call's peer lands on the resting pair.
        let peer = std::net::UdpSocket::bind((LOCAL, 0)).unwrap();
        peer.send_to(b"stale", (LOCAL, port)).unwrap();
        peer.send_to(b"stale", (LOCAL, port + 1)).unwrap();
        // Not yet rested: a fresh pair is bound instead.
        let second = pool.allocate().await.unwrap();
        assert_ne!(second.port(), port);
        tokio::time::sleep(Duration::from_millis(80)).await;
        let third = pool.allocate().await.unwrap();
        assert_eq!(third.port(), port, "the rested pair is reused");
        assert_eq!(pool.in_use(), 2);
        // The stale datagrams are gone; new ones arrive.
        let mut buf = [0u8; 16];
        assert!(third.rtp().try_recv_from(&mut buf).is_err());
        assert!(third.rtcp().try_recv_from(&mut buf).is_err());
        peer.send_to(b"fresh", (LOCAL, port)).unwrap();
        let (n, from) =
            tokio::time::timeout(Duration::from_secs(2), third.rtp().recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(&buf[..n], b"fresh");
        assert_eq!(from, peer.local_addr().unwrap());
    }

    #[tokio::test]
    async fn a_full_range_hands_out_a_resting_pair_and_the_idle_queue_is_bounded() {
        let pool = PortPool::with_rest(LOCAL, 31300..=31303, Duration::from_secs(60), 1);
        let a = pool.allocate().await.unwrap();
        let b = pool.allocate().await.unwrap();
        let (pa, pb) = (a.port(), b.port());
        drop(a);
        // The queue holds one: b's pair is closed and free again at once.
        drop(b);
        assert_eq!(pool.in_use(), 0);
        let c = pool.allocate().await.unwrap();
        assert_eq!(c.port(), pb, "the closed pair is bound again");
        // Nothing free is left but a's resting pair, rested or not.
        let d = pool.allocate().await.unwrap();
        assert_eq!(d.port(), pa);
        assert!(pool.allocate().await.is_err());
    }

    #[tokio::test]
    async fn empty_range_fails() {
        let pool = PortPool::new(LOCAL, 31261..=31261);
        assert!(pool.allocate().await.is_err());
    }
}
