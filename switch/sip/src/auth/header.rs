//! The digest challenge and credentials header values as data (RFC 3261 25.1, RFC 7616 3.3
//! and 3.4), parsed and printed.

use std::fmt;

use super::params::{parse_digest, write_quoted, write_token, Param};
use super::{Algorithm, AuthError};

/// A `WWW-Authenticate` or `Proxy-Authenticate` value: `Digest realm=.., nonce=.., ..`.
///
/// Parameters other than those below (`domain`, `charset`, extensions) are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space, shown to users and part of HA1.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Opaque data the client returns unchanged.
    pub opaque: Option<String>,
    /// The hash algorithm; MD5 when the challenge names none.
    pub algorithm: Algorithm,
    /// The qop values offered (`auth`, `auth-int`); empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    /// True when the previous request's nonce was genuine but expired: the client retries
    /// with the new nonce without asking the user again.
    pub stale: bool,
}

/// An `Authorization` or `Proxy-Authorization` value: `Digest username=.., response=.., ..`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The user name, as typed by the user.
    pub username: String,
    /// The realm of the challenge answered.
    pub realm: String,
    /// The nonce of the challenge answered.
    pub nonce: String,
    /// The digest-uri: the Request-URI as the client wrote it.
    pub uri: String,
    /// The response hash in lower-case hex, as received.
    pub response: String,
    /// The hash algorithm; MD5 when absent.
    pub algorithm: Algorithm,
    /// The client nonce; present whenever `qop` is.
    pub cnonce: Option<String>,
    /// The challenge's opaque value echoed back.
    pub opaque: Option<String>,
    /// The qop chosen (`auth`), or none for the RFC 2069 form.
    pub qop: Option<String>,
    /// The nonce count, 8 hex digits, kept as written because it is hashed as text; present
    /// whenever `qop` is.
    pub nc: Option<String>,
}

impl Challenge {
    /// Parses a challenge header value. `realm` and `nonce` are required; unknown parameters
    /// are ignored (`userhash=true` too: the client may still send its name in clear);
    /// `-sess` and other algorithms are refused, so of several challenges a client keeps the
    /// ones it can answer.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let mut fields = Fields::new(parse_digest(value)?);
        let algorithm = fields.algorithm()?;
        let challenge = Challenge {
            realm: fields.required("realm")?,
            nonce: fields.required("nonce")?,
            opaque: fields.take("opaque"),
            algorithm,
            qop: fields
                .take("qop")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|q| !q.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            stale: fields
                .take("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        };
        Ok(challenge)
    }
}

impl Credentials {
    /// Parses a credentials header value. `username`, `realm`, `nonce`, `uri` and `response`
    /// are required, and `cnonce` and `nc` too when `qop` is present (RFC 7616 3.4).
    pub fn parse(value: &str) -> Result<Credentials, AuthError> {
        let mut fields = Fields::new(parse_digest(value)?);
        fields.refuse_userhash()?;
        let algorithm = fields.algorithm()?;
        let creds = Credentials {
            username: fields.required("username")?,
            realm: fields.required("realm")?,
            nonce: fields.required("nonce")?,
            uri: fields.required("uri")?,
            response: fields.required("response")?,
            algorithm,
            cnonce: fields.take("cnonce"),
            opaque: fields.take("opaque"),
            qop: fields.take("qop"),
            nc: fields.take("nc"),
        };
        if creds.qop.is_some() {
            if creds.cnonce.is_none() {
                return Err(AuthError::MissingParam("cnonce"));
            }
            if creds.nc.is_none() {
                return Err(AuthError::MissingParam("nc"));
            }
        }
        Ok(creds)
    }
}

impl fmt::Display for Challenge {
    /// Prints `Digest realm="..", nonce="..", ..`, quoting as RFC 7616 3.3 does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest")?;
        let first = &mut true;
        write_quoted(f, first, "realm", &self.realm)?;
        write_quoted(f, first, "nonce", &self.nonce)?;
        if let Some(opaque) = &self.opaque {
            write_quoted(f, first, "opaque", opaque)?;
        }
        write_token(f, first, "algorithm", self.algorithm.as_str())?;
        if !self.qop.is_empty() {
            write_quoted(f, first, "qop", &self.qop.join(","))?;
        }
        if self.stale {
            write_token(f, first, "stale", "true")?;
        }
        Ok(())
    }
}

impl fmt::Display for Credentials {
    /// Prints `Digest username="..", realm="..", ..`, quoting as RFC 7616 3.4 does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest")?;
        let first = &mut true;
        write_quoted(f, first, "username", &self.username)?;
        write_quoted(f, first, "realm", &self.realm)?;
        write_quoted(f, first, "nonce", &self.nonce)?;
        write_quoted(f, first, "uri", &self.uri)?;
        write_quoted(f, first, "response", &self.response)?;
        write_token(f, first, "algorithm", self.algorithm.as_str())?;
        if let Some(cnonce) = &self.cnonce {
            write_quoted(f, first, "cnonce", cnonce)?;
        }
        if let Some(opaque) = &self.opaque {
            write_quoted(f, first, "opaque", opaque)?;
        }
        if let Some(qop) = &self.qop {
            write_token(f, first, "qop", qop)?;
        }
        if let Some(nc) = &self.nc {
            write_token(f, first, "nc", nc)?;
        }
        Ok(())
    }
}

/// The parsed params, taken out one by one by name.
struct Fields(Vec<Param>);

impl Fields {
    fn new(params: Vec<Param>) -> Fields {
        Fields(params)
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|p| p.name == name)?;
        Some(self.0.swap_remove(i).value)
    }

    fn required(&mut self, name: &'static str) -> Result<String, AuthError> {
        self.take(name).ok_or(AuthError::MissingParam(name))
    }

    fn algorithm(&mut self) -> Result<Algorithm, AuthError> {
        self.take("algorithm")
            .map_or(Ok(Algorithm::Md5), |a| a.parse())
    }

    fn refuse_userhash(&mut self) -> Result<(), AuthError> {
        match self.take("userhash") {
            Some(v) if v.eq_ignore_ascii_case("true") => Err(AuthError::Userhash),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
