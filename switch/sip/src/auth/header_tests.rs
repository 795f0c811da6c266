use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

#[test]
fn parses_an_asterisk_style_challenge() {
    let c =
        Challenge::parse(r#"Digest algorithm=MD5, realm="asterisk", nonce="1a2b3c4d""#).unwrap();
    assert_eq!(c.realm, "asterisk");
    assert_eq!(c.nonce, "1a2b3c4d");
    assert_eq!(c.algorithm, Algorithm::Md5);
    assert!(c.qop.is_empty());
    assert!(!c.stale);
    assert_eq!(c.opaque, None);
}

#[test]
fn parses_a_challenge_with_qop_list_stale_and_extensions() {
    let c = Challenge::parse(
        "Digest realm=\"sip.example.com\", domain=\"sip:sip.example.com\", \
         nonce=\"abc/def==\", opaque=\"xyz\", stale=TRUE, algorithm=sha-256, \
         qop=\"auth, auth-int\", charset=UTF-8",
    )
    .unwrap();
    assert_eq!(c.algorithm, Algorithm::Sha256);
    assert_eq!(c.qop, vec!["auth", "auth-int"]);
    assert!(c.stale);
    assert_eq!(c.opaque.as_deref(), Some("xyz"));
}

#[test]
fn a_challenge_needs_realm_and_nonce() {
    assert_eq!(
        Challenge::parse("Digest nonce=\"n\""),
        Err(AuthError::MissingParam("realm"))
    );
    assert_eq!(
        Challenge::parse("Digest realm=\"r\""),
        Err(AuthError::MissingParam("nonce"))
    );
}

#[test]
fn a_challenge_with_sess_algorithm_is_refused() {
    assert_eq!(
        Challenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess"),
        Err(AuthError::SessAlgorithm("MD5-sess".into()))
    );
}

#[test]
fn parses_linphone_style_credentials() {
    let v = "Digest realm=\"sip.example.com\", nonce=\"5f1c\", algorithm=MD5, \
             opaque=\"+GNywA==\", username=\"1001\", uri=\"sip:sip.example.com\", \
             response=\"0123456789abcdef0123456789abcdef\", cnonce=\"c4f2\", nc=00000001, \
             qop=auth";
    let c = Credentials::parse(v).unwrap();
    assert_eq!(c.username, "1001");
    assert_eq!(c.uri, "sip:sip.example.com");
    assert_eq!(c.nc.as_deref(), Some("00000001"));
    assert_eq!(c.qop.as_deref(), Some("auth"));
    assert_eq!(c.cnonce.as_deref(), Some("c4f2"));
    assert_eq!(c.opaque.as_deref(), Some("+GNywA=="));
}

#[test]
fn parses_rfc2069_credentials_without_qop() {
    let c = Credentials::parse(
        "Digest username=\"bob\",realm=\"biloxi.com\",nonce=\"dcd98b\",\
         uri=\"sip:bob@biloxi.com\",response=\"245f23415f11432b3434341c022\"",
    )
    .unwrap();
    assert_eq!(c.qop, None);
    assert_eq!(c.algorithm, Algorithm::Md5);
}

#[test]
fn credentials_with_qop_need_cnonce_and_nc() {
    let base = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"00\"";
    assert_eq!(
        Credentials::parse(&format!("{base}, qop=auth, nc=00000001")),
        Err(AuthError::MissingParam("cnonce"))
    );
    assert_eq!(
        Credentials::parse(&format!("{base}, qop=auth, cnonce=\"c\"")),
        Err(AuthError::MissingParam("nc"))
    );
    for missing in ["username", "realm", "nonce", "uri", "response"] {
        let v: Vec<&str> = base
            .trim_start_matches("Digest ")
            .split(", ")
            .filter(|p| !p.starts_with(missing))
            .collect();
        assert_eq!(
            Credentials::parse(&format!("Digest {}", v.join(", "))),
            Err(AuthError::MissingParam(missing))
        );
    }
}

#[test]
fn credentials_with_userhash_are_refused() {
    let v =
        "Digest username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec\", \
             realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", userhash=true";
    assert_eq!(Credentials::parse(v), Err(AuthError::Userhash));
    let plain = v.replace("userhash=true", "userhash=false");
    assert!(Credentials::parse(&plain).is_ok());
}

#[test]
fn prints_credentials_with_rfc_quoting() {
    let c = Credentials {
        username: "Mu\"fa\\sa".into(),
        realm: "r".into(),
        nonce: "n".into(),
        uri: "sip:a@b".into(),
        response: "ab".into(),
        algorithm: Algorithm::Sha256,
        cnonce: Some("c".into()),
        opaque: None,
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
    };
    assert_eq!(
        c.to_string(),
        r#"Digest username="Mu\"fa\\sa", realm="r", nonce="n", uri="sip:a@b", response="ab", algorithm=SHA-256, cnonce="c", qop=auth, nc=00000001"#
    );
}

#[test]
fn printing_drops_control_characters_so_a_header_cannot_be_split() {
    let c = Challenge {
        realm: "evil\r\nVia: x".into(),
        nonce: "n".into(),
        opaque: None,
        algorithm: Algorithm::Md5,
        qop: vec![],
        stale: false,
    };
    let printed = c.to_string();
    assert!(!printed.contains('\r') && !printed.contains('\n'));
    assert_eq!(Challenge::parse(&printed).unwrap().realm, "evilVia: x");
}

/// A random printable string, with the characters that need escaping well represented.
fn text(rng: &mut StdRng, allow_empty: bool) -> String {
    const CHARS: &[char] = &[
        'a', 'Z', '0', '9', ' ', '"', '\\', ',', '=', '/', ':', '@', '+', '\t', 'é', '€', '-',
    ];
    let len = rng.gen_range(usize::from(!allow_empty)..12);
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())])
        .collect()
}

fn token(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"abcXYZ019-.!%*_+`'~";
    let len = rng.gen_range(1..10);
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

fn maybe<T>(rng: &mut StdRng, f: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    rng.gen_bool(0.5).then(|| f(rng))
}

fn algorithm(rng: &mut StdRng) -> Algorithm {
    if rng.gen_bool(0.5) {
        Algorithm::Md5
    } else {
        Algorithm::Sha256
    }
}

#[test]
fn challenges_read_back_what_they_print() {
    let mut rng = StdRng::seed_from_u64(7616);
    for _ in 0..500 {
        let c = Challenge {
            realm: text(&mut rng, true),
            nonce: text(&mut rng, true),
            opaque: maybe(&mut rng, |r| text(r, true)),
            algorithm: algorithm(&mut rng),
            qop: (0..rng.gen_range(0..3)).map(|_| token(&mut rng)).collect(),
            stale: rng.gen_bool(0.5),
        };
        let printed = c.to_string();
        assert_eq!(Challenge::parse(&printed).as_ref(), Ok(&c), "{printed}");
    }
}

#[test]
fn credentials_read_back_what_they_print() {
    let mut rng = StdRng::seed_from_u64(3261);
    for _ in 0..500 {
        let with_qop = rng.gen_bool(0.5);
        let c = Credentials {
            username: text(&mut rng, true),
            realm: text(&mut rng, true),
            nonce: text(&mut rng, true),
            uri: text(&mut rng, true),
            response: text(&mut rng, true),
            algorithm: algorithm(&mut rng),
            cnonce: with_qop.then(|| text(&mut rng, true)),
            opaque: maybe(&mut rng, |r| text(r, true)),
            // qop and nc are tokens by the grammar but odd values still come back.
            qop: with_qop.then(|| text(&mut rng, false)),
            nc: with_qop.then(|| text(&mut rng, false)),
        };
        let printed = c.to_string();
        assert_eq!(Credentials::parse(&printed).as_ref(), Ok(&c), "{printed}");
    }
}

#[test]
fn garbled_values_give_errors_not_panics() {
    let good = "Digest username=\"é1001\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", \
                response=\"00\", cnonce=\"c\", nc=00000001, qop=auth, algorithm=MD5";
    let mut rng = StdRng::seed_from_u64(1);
    for end in 0..=good.len() {
        if let Some(prefix) = good.get(..end) {
            let _ = Credentials::parse(prefix);
            let _ = Challenge::parse(prefix);
        }
    }
    for _ in 0..2000 {
        let mut bytes = good.as_bytes().to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = rng.gen();
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = Credentials::parse(&s);
        let _ = Challenge::parse(&s);
    }
}
