//! Digest authentication for SIP (RFC 3261 22, RFC 7616, RFC 8760), sans-IO.
//!
//! - [`Challenge`] and [`Credentials`] parse and print the values of `WWW-Authenticate` /
//!   `Proxy-Authenticate` and `Authorization` / `Proxy-Authorization`.
//! - [`NonceSecret`] issues stateless nonces that carry their issue time and a keyed tag, and
//!   tells a genuine expired nonce ([`NonceStatus::Stale`]) from a forged one.
//! - [`challenge`] builds the server's challenge, [`verify`] checks a response against a
//!   password, and [`respond`] computes our own credentials when a peer challenges us.
//!
//! Only `qop=auth` and the RFC 2069 form without qop are computed; `auth-int`, the `-sess`
//! algorithms and `userhash` are not supported. Time is passed in as Unix seconds: this
//! module has no clock.

mod digest;
mod header;
mod nonce;
mod params;

pub use digest::{challenge, respond, verify};
pub use header::{Challenge, Credentials};
pub use nonce::{NonceSecret, NonceStatus};

use std::fmt;
use std::str::FromStr;

/// A digest hash algorithm (RFC 7616 3.3, RFC 8760 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`, the default when a challenge names none.
    #[default]
    Md5,
    /// `SHA-256`.
    Sha256,
}

impl Algorithm {
    /// The name as written in the `algorithm` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Lower-case hex of the hash of `data`.
    pub(crate) fn hex_digest(self, data: &[u8]) -> String {
        use sha2::Digest;
        match self {
            Algorithm::Md5 => hex::encode(md5::Md5::digest(data)),
            Algorithm::Sha256 => hex::encode(sha2::Sha256::digest(data)),
        }
    }
}

impl FromStr for Algorithm {
    type Err = AuthError;

    /// Reads an algorithm name, ignoring case; the `-sess` variants get their own error.
    fn from_str(s: &str) -> Result<Algorithm, AuthError> {
        if s.eq_ignore_ascii_case("MD5") {
            Ok(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Ok(Algorithm::Sha256)
        } else if s.len() > 5 && s.as_bytes()[s.len() - 5..].eq_ignore_ascii_case(b"-sess") {
            Err(AuthError::SessAlgorithm(s.to_string()))
        } else {
            Err(AuthError::UnsupportedAlgorithm(s.to_string()))
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a digest header value was refused. All are the peer's fault: the server answers with
/// a fresh challenge (401/407) or 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The scheme is not `Digest` (e.g. `Basic`); holds the scheme seen, cut to 32 chars.
    #[error("authentication scheme {0:?} is not Digest")]
    NotDigest(String),
    /// The auth-param list does not follow the grammar.
    #[error("malformed digest parameters at byte {at}: {reason}")]
    Syntax {
        /// Byte offset in the header value.
        at: usize,
        /// What was expected or found.
        reason: &'static str,
    },
    /// A parameter appears twice.
    #[error("digest parameter {0:?} appears more than once")]
    DuplicateParam(String),
    /// A required parameter is absent.
    #[error("digest parameter {0:?} is missing")]
    MissingParam(&'static str),
    /// The algorithm is neither MD5 nor SHA-256.
    #[error("digest algorithm {0:?} is not supported (MD5 and SHA-256 are)")]
    UnsupportedAlgorithm(String),
    /// A `-sess` algorithm: its HA1 needs the client nonce and is not implemented.
    #[error("digest algorithm {0:?}: the -sess variants are not supported")]
    SessAlgorithm(String),
    /// `userhash=true` (RFC 7616 3.4.4) is not supported.
    #[error("digest userhash=true is not supported")]
    Userhash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_read_back_ignoring_case() {
        for a in [Algorithm::Md5, Algorithm::Sha256] {
            assert_eq!(a.as_str().parse::<Algorithm>(), Ok(a));
            assert_eq!(a.to_string().to_lowercase().parse::<Algorithm>(), Ok(a));
        }
    }

    #[test]
    fn sess_algorithms_get_a_clear_error() {
        assert_eq!(
            "MD5-sess".parse::<Algorithm>(),
            Err(AuthError::SessAlgorithm("MD5-sess".into()))
        );
        assert_eq!(
            "SHA-256-SESS".parse::<Algorithm>(),
            Err(AuthError::SessAlgorithm("SHA-256-SESS".into()))
        );
        assert_eq!(
            "SHA-512-256".parse::<Algorithm>(),
            Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into()))
        );
        // Multi-byte characters at the end must not split a char when looking for "-sess".
        assert!(matches!(
            "MD5éé".parse::<Algorithm>(),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn hex_digests_match_known_values() {
        assert_eq!(
            Algorithm::Md5.hex_digest(b""),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            Algorithm::Sha256.hex_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
