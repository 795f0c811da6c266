//! Computing and checking digest responses (RFC 7616 3.4.1, RFC 2069 for the form without
//! qop), for `qop=auth` only.

use super::{Algorithm, Challenge, Credentials};

/// The server's challenge for `realm` with a nonce from [`NonceSecret::issue`], offering
/// `qop=auth`. Set `stale` when the client's nonce was genuine but expired.
///
/// [`NonceSecret::issue`]: super::NonceSecret::issue
pub fn challenge(
    realm: &str,
    nonce: &str,
    algorithm: Algorithm,
    stale: bool,
    opaque: Option<&str>,
) -> Challenge {
    Challenge {
        realm: realm.to_string(),
        nonce: nonce.to_string(),
        opaque: opaque.map(str::to_string),
        algorithm,
        qop: vec!["auth".to_string()],
        stale,
    }
}

/// True when `creds.response` is the digest of `password` for the request `method`.
///
/// Checks the hash only: the caller checks that the nonce is one of ours and fresh
/// ([`NonceSecret::check`]), that the realm is its own, and may check that `creds.uri`
/// matches the Request-URI. `qop=auth-int` and unknown qop values never verify.
///
/// [`NonceSecret::check`]: super::NonceSecret::check
pub fn verify(creds: &Credentials, method: &str, password: &str) -> bool {
    let Some(expected) = response(
        creds.algorithm,
        &creds.username,
        &creds.realm,
        password,
        method,
        &creds.uri,
        &creds.nonce,
        creds.qop.as_deref(),
        creds.cnonce.as_deref(),
        creds.nc.as_deref(),
    ) else {
        return false;
    };
    constant_time_eq(
        expected.as_bytes(),
        creds.response.to_ascii_lowercase().as_bytes(),
    )
}

/// Our credentials for a challenge from a peer (a trunk challenging our INVITE or REGISTER).
///
/// Uses `qop=auth` with `cnonce` and nonce count `nc` when the challenge offers it, and the
/// RFC 2069 form when it offers no qop. A challenge that offers only `auth-int` also gets
/// the RFC 2069 form, which the peer will likely refuse. `uri` is the Request-URI as text.
pub fn respond(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Credentials {
    let offers_auth = challenge.qop.iter().any(|q| q.eq_ignore_ascii_case("auth"));
    let (qop, cnonce, nc) = if offers_auth {
        (
            Some("auth".to_string()),
            Some(cnonce.to_string()),
            Some(format!("{nc:08x}")),
        )
    } else {
        (None, None, None)
    };
    let response = response(
        challenge.algorithm,
        username,
        &challenge.realm,
        password,
        method,
        uri,
        &challenge.nonce,
        qop.as_deref(),
        cnonce.as_deref(),
        nc.as_deref(),
    )
    // Only qop values other than auth fail to compute, and qop is auth or none here.
    .unwrap_or_default();
    Credentials {
        username: username.to_string(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_string(),
        response,
        algorithm: challenge.algorithm,
        cnonce,
        opaque: challenge.opaque.clone(),
        qop,
        nc,
    }
}

/// The request-digest: `H(HA1:nonce:nc:cnonce:qop:HA2)` with qop=auth, `H(HA1:nonce:HA2)`
/// without; None for a qop we cannot compute or a qop missing its cnonce or nc.
#[allow(clippy::too_many_arguments)]
fn response(
    algorithm: Algorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<&str>,
    cnonce: Option<&str>,
    nc: Option<&str>,
) -> Option<String> {
    let h = |s: String| algorithm.hex_digest(s.as_bytes());
    let ha1 = h(format!("{username}:{realm}:{password}"));
    let ha2 = h(format!("{method}:{uri}"));
    match qop {
        None => Some(h(format!("{ha1}:{nonce}:{ha2}"))),
        Some(q) if q.eq_ignore_ascii_case("auth") => {
            let (cnonce, nc) = (cnonce?, nc?);
            Some(h(format!("{ha1}:{nonce}:{nc}:{cnonce}:{q}:{ha2}")))
        }
        Some(_) => None,
    }
}

/// Compares without an early exit so the time taken does not reveal how many leading
/// characters of a guessed response were right. The length is not secret.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc7616_challenge(algorithm: Algorithm) -> Challenge {
        challenge(
            "http-auth@example.org",
            NONCE,
            algorithm,
            false,
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        )
    }

    /// RFC 7616 3.9.1, the MD5 and SHA-256 examples.
    #[test]
    fn rfc7616_examples_give_the_published_responses() {
        for (algorithm, expected) in [
            (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
            (
                Algorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let c = rfc7616_challenge(algorithm);
            let creds = respond(
                &c,
                "GET",
                "/dir/index.html",
                "Mufasa",
                "Circle of Life",
                CNONCE,
                1,
            );
            assert_eq!(creds.response, expected);
            assert_eq!(creds.nc.as_deref(), Some("00000001"));
            assert!(verify(&creds, "GET", "Circle of Life"));
        }
    }

    /// The RFC's MD5 Authorization header, parsed as a server would receive it.
    #[test]
    fn rfc7616_md5_header_verifies_after_parsing() {
        let header = format!(
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
             uri=\"/dir/index.html\", algorithm=MD5, nonce=\"{NONCE}\", nc=00000001, \
             cnonce=\"{CNONCE}\", qop=auth, response=\"8ca523f5e9506fed4657c9700eebdbec\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        let creds = Credentials::parse(&header).unwrap();
        assert!(verify(&creds, "GET", "Circle of Life"));
        assert!(!verify(&creds, "POST", "Circle of Life"));
    }

    #[test]
    fn sip_register_round_trip_verifies_and_wrong_password_fails() {
        for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
            let c = challenge("ferroswitch", "abc.def", algorithm, false, None);
            let header = Challenge::parse(&c.to_string()).unwrap();
            let creds = respond(
                &header,
                "REGISTER",
                "sip:ferroswitch",
                "1001",
                "s3cret",
                "0a4f113b",
                1,
            );
            let received = Credentials::parse(&creds.to_string()).unwrap();
            assert_eq!(received, creds);
            assert!(verify(&received, "REGISTER", "s3cret"));
            assert!(!verify(&received, "REGISTER", "s3cret "));
            assert!(!verify(&received, "INVITE", "s3cret"));
        }
    }

    #[test]
    fn tampered_fields_fail_verification() {
        let c = challenge("ferroswitch", "n1", Algorithm::Md5, false, None);
        let good = respond(&c, "INVITE", "sip:2000@ferroswitch", "1001", "pw", "cn", 7);
        assert!(verify(&good, "INVITE", "pw"));
        let mut changes: Vec<Credentials> = Vec::new();
        let mut c1 = good.clone();
        c1.uri = "sip:9000@ferroswitch".into();
        changes.push(c1);
        let mut c2 = good.clone();
        c2.nc = Some("00000008".into());
        changes.push(c2);
        let mut c3 = good.clone();
        c3.username = "1002".into();
        changes.push(c3);
        let mut c4 = good.clone();
        c4.algorithm = Algorithm::Sha256;
        changes.push(c4);
        let mut c5 = good.clone();
        c5.response.pop();
        changes.push(c5);
        for bad in changes {
            assert!(!verify(&bad, "INVITE", "pw"), "{bad}");
        }
    }

    #[test]
    fn rfc2069_challenges_without_qop_still_work() {
        let mut c = challenge("ferroswitch", "n1", Algorithm::Md5, false, None);
        c.qop.clear();
        let creds = respond(&c, "INVITE", "sip:x", "u", "p", "ignored", 1);
        assert_eq!(
            (creds.qop.as_deref(), creds.cnonce.as_deref()),
            (None, None)
        );
        let expected = {
            let ha1 = Algorithm::Md5.hex_digest(b"u:ferroswitch:p");
            let ha2 = Algorithm::Md5.hex_digest(b"INVITE:sip:x");
            Algorithm::Md5.hex_digest(format!("{ha1}:n1:{ha2}").as_bytes())
        };
        assert_eq!(creds.response, expected);
        assert!(verify(&creds, "INVITE", "p"));
    }

    #[test]
    fn an_upper_case_response_still_verifies() {
        let c = challenge("r", "n", Algorithm::Sha256, false, None);
        let mut creds = respond(&c, "INVITE", "sip:x", "u", "p", "cn", 1);
        creds.response = creds.response.to_ascii_uppercase();
        assert!(verify(&creds, "INVITE", "p"));
    }

    #[test]
    fn auth_int_and_unknown_qop_never_verify() {
        let c = challenge("r", "n", Algorithm::Md5, false, None);
        let mut creds = respond(&c, "INVITE", "sip:x", "u", "p", "cn", 1);
        creds.qop = Some("auth-int".into());
        assert!(!verify(&creds, "INVITE", "p"));
        creds.qop = Some("auth".into());
        creds.cnonce = None;
        assert!(!verify(&creds, "INVITE", "p"));
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
