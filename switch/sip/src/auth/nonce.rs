//! Stateless nonces: `hex(issue time) "." hex(HMAC-SHA-256(secret, time))[..32]`.
//!
//! The server keeps no table of nonces it gave out: the tag proves a nonce is ours and the
//! time says whether it has expired. Replays within the lifetime are not detected (that
//! would need state per nonce count).

use std::fmt;

use sha2::{Digest, Sha256};

use super::digest::constant_time_eq;

/// Hex characters of the tag: 128 bits of the HMAC are plenty against forgery.
const TAG_HEX_LEN: usize = 32;

/// The key nonces are signed with. One per process is enough; nonces issued before a restart
/// come back [`NonceStatus::Invalid`] and the client is simply challenged again.
#[derive(Clone)]
pub struct NonceSecret {
    key: [u8; 32],
}

/// What [`NonceSecret::check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceStatus {
    /// Ours and within its lifetime.
    Valid,
    /// Ours but older than the lifetime: challenge again with `stale=true`.
    Stale,
    /// Not one of ours (forged, altered, from another server or an earlier run).
    Invalid,
}

impl NonceSecret {
    /// A secret of 32 random bytes from `rand`'s cryptographically secure thread generator.
    pub fn new() -> NonceSecret {
        NonceSecret {
            key: rand::random(),
        }
    }

    /// A secret with a fixed key, for tests and for servers that share nonces.
    pub fn from_bytes(key: [u8; 32]) -> NonceSecret {
        NonceSecret { key }
    }

    /// A nonce issued at `now_unix_secs`.
    pub fn issue(&self, now_unix_secs: u64) -> String {
        format!("{now_unix_secs:x}.{}", self.tag(now_unix_secs))
    }

    /// Whether `nonce` is one of ours and at most `ttl_secs` old at `now_unix_secs`. A nonce
    /// from more than `ttl_secs` in the future (the clock went back) is stale too.
    pub fn check(&self, nonce: &str, now_unix_secs: u64, ttl_secs: u64) -> NonceStatus {
        let Some((time_hex, tag)) = nonce.split_once('.') else {
            return NonceStatus::Invalid;
        };
        // from_str_radix accepts a leading '+', which would give one time two spellings.
        if time_hex.is_empty()
            || time_hex.len() > 16
            || !time_hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return NonceStatus::Invalid;
        }
        let Ok(issued) = u64::from_str_radix(time_hex, 16) else {
            return NonceStatus::Invalid;
        };
        if time_hex != format!("{issued:x}")
            || !constant_time_eq(self.tag(issued).as_bytes(), tag.as_bytes())
        {
            return NonceStatus::Invalid;
        }
        if now_unix_secs.abs_diff(issued) > ttl_secs {
            NonceStatus::Stale
        } else {
            NonceStatus::Valid
        }
    }

    /// The first 128 bits of HMAC-SHA-256(key, issue time as 8 big-endian bytes), in hex
    /// (RFC 2104 built on sha2, to need no further dependency).
    fn tag(&self, issued: u64) -> String {
        const BLOCK: usize = 64;
        let mut inner_key = [0x36u8; BLOCK];
        let mut outer_key = [0x5cu8; BLOCK];
        for (i, k) in self.key.iter().enumerate() {
            inner_key[i] ^= k;
            outer_key[i] ^= k;
        }
        let inner = Sha256::new()
            .chain_update(inner_key)
            .chain_update(issued.to_be_bytes())
            .finalize();
        let outer = Sha256::new()
            .chain_update(outer_key)
            .chain_update(inner)
            .finalize();
        let mut tag = hex::encode(outer);
        tag.truncate(TAG_HEX_LEN);
        tag
    }
}

impl Default for NonceSecret {
    fn default() -> NonceSecret {
        NonceSecret::new()
    }
}

impl fmt::Debug for NonceSecret {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn secret() -> NonceSecret {
        NonceSecret::from_bytes([7; 32])
    }

    #[test]
    fn a_fresh_nonce_is_valid_until_its_ttl() {
        let s = secret();
        let n = s.issue(T0);
        assert_eq!(s.check(&n, T0, 300), NonceStatus::Valid);
        assert_eq!(s.check(&n, T0 + 300, 300), NonceStatus::Valid);
        assert_eq!(s.check(&n, T0 + 301, 300), NonceStatus::Stale);
    }

    /// The tag is standard HMAC-SHA-256 (value computed with Python's hmac module).
    #[test]
    fn the_tag_is_rfc2104_hmac_sha256() {
        assert_eq!(
            secret().issue(T0),
            "6553f100.d22768fa61f49cedff62476b398150b9"
        );
    }

    #[test]
    fn a_nonce_from_far_in_the_future_is_stale() {
        let s = secret();
        let n = s.issue(T0 + 1000);
        assert_eq!(s.check(&n, T0, 300), NonceStatus::Stale);
        assert_eq!(s.check(&n, T0 + 800, 300), NonceStatus::Valid);
    }

    #[test]
    fn nonces_encode_their_time_and_a_tag() {
        let n = secret().issue(T0);
        let (time, tag) = n.split_once('.').unwrap();
        assert_eq!(u64::from_str_radix(time, 16).unwrap(), T0);
        assert_eq!(tag.len(), TAG_HEX_LEN);
        assert_ne!(secret().issue(T0 + 1), n);
    }

    #[test]
    fn another_secret_does_not_accept_our_nonces() {
        let n = secret().issue(T0);
        assert_eq!(
            NonceSecret::from_bytes([8; 32]).check(&n, T0, 300),
            NonceStatus::Invalid
        );
        let a = NonceSecret::new();
        let b = NonceSecret::new();
        assert_eq!(b.check(&a.issue(T0), T0, 300), NonceStatus::Invalid);
        assert_eq!(a.check(&a.issue(T0), T0, 300), NonceStatus::Valid);
    }

    #[test]
    fn tampered_nonces_are_invalid() {
        let s = secret();
        let n = s.issue(T0);
        let (time, tag) = n.split_once('.').unwrap();
        // Moving the time forward to extend the lifetime breaks the tag.
        let later = format!("{:x}.{tag}", T0 + 3600);
        assert_eq!(s.check(&later, T0 + 3600, 300), NonceStatus::Invalid);
        let mut flipped = tag.to_string().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = format!("{time}.{}", String::from_utf8(flipped).unwrap());
        assert_eq!(s.check(&flipped, T0, 300), NonceStatus::Invalid);
        for bad in [
            "",
            ".",
            "abc",
            &format!("{time}."),
            &format!(".{tag}"),
            &format!("0{time}.{tag}"),
            &format!("+{time}.{tag}"),
            &format!("{}.{tag}", time.to_uppercase()),
            &format!("{time}.{tag}0"),
            &format!("{time}.{}", &tag[..31]),
            "fffffffffffffffff.00",
            "zz.00",
            "é.é",
        ] {
            assert_eq!(s.check(bad, T0, 300), NonceStatus::Invalid, "{bad:?}");
        }
    }

    #[test]
    fn debug_does_not_show_the_key() {
        assert_eq!(format!("{:?}", secret()), "NonceSecret(..)");
    }
}
