//! RTP/RTCP port pairs from a configured range.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::UdpSocket;

/// Hands out even RTP ports with RTCP on port+1, bound on one IP, round-robin through a range.
///
/// Cheap to clone (shared). The lock guards only the bookkeeping at allocate and free time;
/// the media path never touches it.
#[derive(Debug, Clone)]
pub struct PortPool {
    shared: Arc<Shared>,
}

/// A bound RTP socket on an even port and its RTCP socket on port+1. The pair goes back to its
/// pool when this is dropped (after both sockets are closed).
#[derive(Debug)]
pub struct MediaPort {
    // Field order matters: the sockets close before the lease returns the port.
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: UdpSocket,
    ip: IpAddr,
    port: u16,
    _lease: Lease,
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
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Pair index the next search starts at, so a just-freed pair is not reused at once.
    cursor: usize,
    in_use: Vec<bool>,
    used: usize,
}

#[derive(Debug)]
struct Lease {
    shared: Arc<Shared>,
    index: usize,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.shared.release(self.index);
    }
}

impl PortPool {
    /// A pool over the even ports of `range` whose port+1 is also in `range`, bound on `ip`.
    /// A range holding no such pair gives a pool whose every allocation fails.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Self {
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
        };
        Self {
            shared: Arc::new(Shared {
                ip,
                range,
                first,
                pairs,
                state: Mutex::new(state),
            }),
        }
    }

    /// Binds the next free pair. Pairs another process holds are skipped; any other bind
    /// error (say, an IP not on this host) is returned as is. Fails with `AddrInUse` naming
    /// the range when every pair is taken.
    pub async fn allocate(&self) -> io::Result<MediaPort> {
        for _ in 0..self.shared.pairs {
            let Some(index) = self.shared.reserve() else {
                break;
            };
            // Lease first: any early return below frees the pair.
            let lease = Lease {
                shared: Arc::clone(&self.shared),
                index,
            };
            let port = self.shared.port(index);
            match bind_pair(self.shared.ip, port).await {
                Ok((rtp, rtcp)) => {
                    return Ok(MediaPort {
                        rtp,
                        rtcp,
                        ip: self.shared.ip,
                        port,
                        _lease: lease,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    tracing::debug!(port, "RTP port pair busy elsewhere, skipping");
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("binding RTP port {}:{port}: {e}", self.shared.ip),
                    ))
                }
            }
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

    /// How many pairs are allocated now.
    pub fn in_use(&self) -> usize {
        self.shared.lock().used
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> usize {
        self.shared.pairs
    }
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
        if let Some(slot) = st.in_use.get_mut(index) {
            if *slot {
                *slot = false;
                st.used -= 1;
            }
        }
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
    async fn empty_range_fails() {
        let pool = PortPool::new(LOCAL, 31261..=31261);
        assert!(pool.allocate().await.is_err());
    }
}
