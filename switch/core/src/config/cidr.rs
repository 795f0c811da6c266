//! IPv4/IPv6 address blocks for access control lists.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address block such as `10.0.0.0/8` or `fd00::/8`; a bare address is a block of one.
///
/// Host bits below the prefix are cleared on parse, so `192.168.1.7/24` is `192.168.1.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The block of `prefix` leading bits of `addr`; `None` if `prefix` exceeds the address width.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        let network = match addr {
            IpAddr::V4(a) => IpAddr::from((u32::from(a) & mask32(prefix)?).to_be_bytes()),
            IpAddr::V6(a) => IpAddr::from((u128::from(a) & mask128(prefix)?).to_be_bytes()),
        };
        Some(Cidr { network, prefix })
    }

    /// The first address of the block.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The number of leading bits that define the block.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// True if `ip` lies in this block. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as seen on
    /// dual-stack sockets) is compared as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask32(self.prefix).is_some_and(|m| u32::from(ip) & m == u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask128(self.prefix).is_some_and(|m| u128::from(ip) & m == u128::from(net))
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> Option<u32> {
    match prefix {
        0 => Some(0),
        1..=32 => Some(u32::MAX << (32 - prefix)),
        _ => None,
    }
}

fn mask128(prefix: u8) -> Option<u128> {
    match prefix {
        0 => Some(0),
        1..=128 => Some(u128::MAX << (128 - prefix)),
        _ => None,
    }
}

/// Why a string is not a [`Cidr`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid address block {0:?}: expected ADDRESS or ADDRESS/PREFIX, e.g. 10.0.0.0/8 or ::1")]
pub struct CidrParseError(String);

impl FromStr for Cidr {
    type Err = CidrParseError;

    fn from_str(s: &str) -> Result<Cidr, CidrParseError> {
        let err = || CidrParseError(s.to_string());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| err())?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            // `u8::from_str` accepts a leading '+'; a prefix is digits only.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| err())?
            }
            Some(_) => return Err(err()),
            None => width,
        };
        Cidr::new(addr, prefix).ok_or_else(err)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_block_contains_its_addresses_only() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.0.0.1")));
        assert!(c.contains(ip("10.255.255.255")));
        assert!(!c.contains(ip("11.0.0.0")));
        assert!(!c.contains(ip("::1")));
    }

    #[test]
    fn bare_address_is_a_single_host() {
        let c: Cidr = "192.168.1.7".parse().unwrap();
        assert_eq!(c.prefix(), 32);
        assert!(c.contains(ip("192.168.1.7")));
        assert!(!c.contains(ip("192.168.1.8")));
        let v6: Cidr = "::1".parse().unwrap();
        assert_eq!(v6.prefix(), 128);
        assert!(v6.contains(ip("::1")));
        assert!(!v6.contains(ip("127.0.0.1")));
    }

    #[test]
    fn ipv6_block_matches_by_prefix() {
        let c: Cidr = "fd00::/8".parse().unwrap();
        assert!(c.contains(ip("fd12:3456::1")));
        assert!(!c.contains(ip("fe80::1")));
    }

    #[test]
    fn host_bits_are_cleared() {
        let c: Cidr = "192.168.1.7/24".parse().unwrap();
        assert_eq!(c.to_string(), "192.168.1.0/24");
        assert!(c.contains(ip("192.168.1.200")));
    }

    #[test]
    fn zero_prefix_matches_everything_of_its_family() {
        let c: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(c.contains(ip("8.8.8.8")));
        assert!(!c.contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv4_mapped_ipv6_peer_matches_ipv4_block() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("::ffff:10.1.2.3")));
    }

    #[test]
    fn rejects_malformed_blocks() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0/8",
            "host",
            "1.2.3.4/8/9",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} parsed");
        }
    }
}
