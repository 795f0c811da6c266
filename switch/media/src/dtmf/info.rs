//! DTMF in SIP INFO bodies: `application/dtmf-relay` and `application/dtmf`.

use super::{Digit, DtmfError, DEFAULT_DURATION_MS};

/// A key press carried in a SIP INFO request.
///
/// `application/dtmf-relay` (Cisco's format, what FreeSWITCH sends) is lines of
/// `Signal=<key>` and `Duration=<ms>`; `application/dtmf` is the key alone. Parsing is
/// lenient the way peers need: keys in any case, `=` or `:` separators, spaces, LF or CRLF,
/// other lines ignored, the signal as a character (`0`-`9`, `*`, `#`, `A`-`D`, `!` or `F`
/// for flash) or as an RFC 4733 event code (`10` for `*`, `11` for `#`, `16` for flash). A
/// missing duration is [`DEFAULT_DURATION_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDtmf {
    /// The key.
    pub digit: Digit,
    /// How long it was held, in milliseconds.
    pub duration_ms: u32,
}

impl InfoDtmf {
    /// The Content-Type of a dtmf-relay body.
    pub const DTMF_RELAY: &'static str = "application/dtmf-relay";
    /// The Content-Type of a bare dtmf body.
    pub const DTMF: &'static str = "application/dtmf";

    /// Whether a Content-Type value (parameters allowed) is one of the two DTMF bodies.
    pub fn is_dtmf_content_type(content_type: &str) -> bool {
        let media = media_type(content_type);
        media.eq_ignore_ascii_case(Self::DTMF_RELAY) || media.eq_ignore_ascii_case(Self::DTMF)
    }

    /// Parses `body` according to its Content-Type (either DTMF type; parameters allowed).
    /// Any other type is [`DtmfError::BadSignal`] naming the type.
    pub fn parse(content_type: &str, body: &str) -> Result<InfoDtmf, DtmfError> {
        let media = media_type(content_type);
        if media.eq_ignore_ascii_case(Self::DTMF_RELAY) {
            Self::parse_dtmf_relay(body)
        } else if media.eq_ignore_ascii_case(Self::DTMF) {
            Self::parse_dtmf(body)
        } else {
            Err(DtmfError::BadSignal(format!("content type {media}")))
        }
    }

    /// Parses an `application/dtmf-relay` body such as `Signal=5\r\nDuration=160\r\n`.
    pub fn parse_dtmf_relay(body: &str) -> Result<InfoDtmf, DtmfError> {
        let mut digit = None;
        let mut duration_ms = DEFAULT_DURATION_MS;
        for line in body.lines() {
            let Some((key, value)) = line.split_once(['=', ':']) else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if key.eq_ignore_ascii_case("signal") {
                digit = Some(signal(value)?);
            } else if key.eq_ignore_ascii_case("duration") {
                duration_ms = value
                    .parse()
                    .map_err(|_| DtmfError::BadDuration(value.to_owned()))?;
            }
        }
        let digit = digit.ok_or_else(|| DtmfError::BadSignal(body.trim().to_owned()))?;
        Ok(InfoDtmf { digit, duration_ms })
    }

    /// Parses an `application/dtmf` body: the key alone (a body written as dtmf-relay is
    /// accepted too).
    pub fn parse_dtmf(body: &str) -> Result<InfoDtmf, DtmfError> {
        if body.contains(['=', ':']) {
            return Self::parse_dtmf_relay(body);
        }
        Ok(InfoDtmf {
            digit: signal(body.trim())?,
            duration_ms: DEFAULT_DURATION_MS,
        })
    }

    /// The `application/dtmf-relay` body: `Signal=<key>\r\nDuration=<ms>\r\n`, flash written
    /// as `!`.
    pub fn to_dtmf_relay(&self) -> String {
        format!(
            "Signal={}\r\nDuration={}\r\n",
            info_char(self.digit),
            self.duration_ms
        )
    }

    /// The `application/dtmf` body: the key alone, flash written as `!`.
    pub fn to_dtmf(&self) -> String {
        info_char(self.digit).to_string()
    }
}

fn media_type(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim()
}

fn info_char(d: Digit) -> char {
    match d {
        Digit::Flash => '!',
        d => d.char(),
    }
}

fn signal(value: &str) -> Result<Digit, DtmfError> {
    let bad = || DtmfError::BadSignal(value.to_owned());
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c).ok_or_else(bad),
        (Some(_), Some(_)) => value
            .parse::<u8>()
            .ok()
            .filter(|&n| n >= 10)
            .and_then(Digit::from_event)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(body: &str) -> Result<InfoDtmf, DtmfError> {
        InfoDtmf::parse_dtmf_relay(body)
    }

    #[test]
    fn parses_the_common_forms() {
        assert_eq!(
            relay("Signal=5\r\nDuration=160\r\n"),
            Ok(InfoDtmf {
                digit: Digit::D5,
                duration_ms: 160
            })
        );
        assert_eq!(
            relay("signal = #\nduration= 250"),
            Ok(InfoDtmf {
                digit: Digit::Pound,
                duration_ms: 250
            })
        );
        assert_eq!(relay("Signal: a\r\n").map(|i| i.digit), Ok(Digit::A));
        assert_eq!(
            relay("Signal=11\r\nDuration=100").map(|i| i.digit),
            Ok(Digit::Pound)
        );
        assert_eq!(relay("Signal=!").map(|i| i.digit), Ok(Digit::Flash));
        assert_eq!(relay("Signal=16").map(|i| i.digit), Ok(Digit::Flash));
        assert_eq!(
            relay("Signal=1").map(|i| i.duration_ms),
            Ok(DEFAULT_DURATION_MS)
        );
        assert_eq!(
            relay("Foo=bar\r\nSignal=*\r\nDuration=90").map(|i| i.digit),
            Ok(Digit::Star)
        );
        assert_eq!(
            InfoDtmf::parse_dtmf("7\r\n").map(|i| i.digit),
            Ok(Digit::D7)
        );
        assert_eq!(
            InfoDtmf::parse_dtmf("Signal=8").map(|i| i.digit),
            Ok(Digit::D8)
        );
    }

    #[test]
    fn rejects_what_is_no_key() {
        assert!(matches!(relay(""), Err(DtmfError::BadSignal(_))));
        assert!(matches!(relay("Signal="), Err(DtmfError::BadSignal(_))));
        assert!(matches!(relay("Signal=Z"), Err(DtmfError::BadSignal(_))));
        assert!(matches!(relay("Signal=17"), Err(DtmfError::BadSignal(_))));
        assert!(matches!(relay("Signal=05"), Err(DtmfError::BadSignal(_))));
        assert!(matches!(
            relay("Signal=1\r\nDuration=long"),
            Err(DtmfError::BadDuration(_))
        ));
        assert!(matches!(
            InfoDtmf::parse_dtmf("55"),
            Err(DtmfError::BadSignal(_))
        ));
        assert!(matches!(
            InfoDtmf::parse("text/plain", "Signal=1"),
            Err(DtmfError::BadSignal(_))
        ));
    }

    #[test]
    fn content_types_dispatch() {
        assert!(InfoDtmf::is_dtmf_content_type(
            "Application/DTMF-Relay; x=1"
        ));
        assert!(InfoDtmf::is_dtmf_content_type("application/dtmf"));
        assert!(!InfoDtmf::is_dtmf_content_type("application/sdp"));
        assert_eq!(
            InfoDtmf::parse("application/dtmf", "#").map(|i| i.digit),
            Ok(Digit::Pound)
        );
    }

    #[test]
    fn build_then_parse_is_identity() {
        for digit in Digit::ALL {
            for duration_ms in [0, 40, 160, 5000] {
                let i = InfoDtmf { digit, duration_ms };
                assert_eq!(relay(&i.to_dtmf_relay()), Ok(i));
                assert_eq!(
                    InfoDtmf::parse_dtmf(&i.to_dtmf()).map(|x| x.digit),
                    Ok(digit)
                );
            }
        }
        assert_eq!(
            InfoDtmf {
                digit: Digit::D5,
                duration_ms: 160
            }
            .to_dtmf_relay(),
            "Signal=5\r\nDuration=160\r\n"
        );
    }
}
