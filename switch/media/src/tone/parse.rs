//! The `tone_stream://` notation, part by part.

use super::{Segment, ToneError, ToneSpec, DEFAULT_VOLUME_DB, MAX_FREQUENCIES};
use crate::dtmf::Digit;

/// On and off ms for keys written as text, until `d=`/`w=` say otherwise.
const DEFAULT_KEY_ON_MS: u32 = 100;
const DEFAULT_KEY_OFF_MS: u32 = 50;

/// Longest part accepted: one hour, so a typo cannot make a day of tone.
const MAX_PART_MS: u32 = 3_600_000;

/// Most parts in one string.
const MAX_SEGMENTS: usize = 256;

pub(super) fn parse(s: &str) -> Result<ToneSpec, ToneError> {
    let s = s.trim();
    let s = s.strip_prefix("tone_stream://").unwrap_or(s);
    let mut spec = ToneSpec {
        repeat: None,
        segments: Vec::new(),
    };
    let mut times: Option<u32> = None;
    let mut forever = false;
    let mut volume = DEFAULT_VOLUME_DB;
    let (mut key_on, mut key_off) = (DEFAULT_KEY_ON_MS, DEFAULT_KEY_OFF_MS);
    for raw in s.split(';') {
        let part = raw.trim();
        if part.is_empty() {
            continue;
        }
        let bad = |reason: &'static str| ToneError::Invalid {
            part: part.to_owned(),
            reason,
        };
        if let Some(inner) = part.strip_prefix("%(") {
            let inner = inner
                .strip_suffix(')')
                .ok_or_else(|| bad("a tone part ends with `)`"))?;
            spec.segments.push(segment(inner, volume).map_err(bad)?);
        } else if let Some((key, value)) = part.split_once('=') {
            let (key, value) = (key.trim(), value.trim());
            match key {
                "L" | "loops" => {
                    let n: i64 = value
                        .parse()
                        .map_err(|_| bad("the count is not a number"))?;
                    match n {
                        -1 if key == "loops" => forever = true,
                        1.. => {
                            let n = u32::try_from(n).map_err(|_| bad("the count is too large"))?;
                            times = Some(times.unwrap_or(1).saturating_mul(n));
                        }
                        _ => return Err(bad("the count must be positive (loops=-1 is forever)")),
                    }
                }
                "v" => {
                    let v: f64 = value
                        .parse()
                        .map_err(|_| bad("the volume is not a number"))?;
                    if !(-63.0..=0.0).contains(&v) {
                        return Err(bad("the volume is in dB from 0 down to -63"));
                    }
                    volume = v;
                }
                "d" => key_on = millis(value).map_err(bad)?,
                "w" => key_off = millis(value).map_err(bad)?,
                "r" => {
                    value
                        .parse::<u32>()
                        .map_err(|_| bad("the rate is not a number"))?;
                }
                ">" | "<" | "+" => return Err(bad("decay settings are not supported")),
                "c" => return Err(bad("channel settings are not supported (tones are mono)")),
                "l" => return Err(bad("per-part loops are not supported; repeat the part")),
                _ => return Err(bad("unknown setting (L, loops, v, d, w, r)")),
            }
        } else if part
            .chars()
            .all(|c| Digit::from_char(c).is_some_and(|d| d != Digit::Flash))
        {
            for d in part.chars().filter_map(Digit::from_char) {
                let Some((r, c)) = d.frequencies() else {
                    continue;
                };
                spec.segments.push(Segment {
                    on_ms: key_on,
                    off_ms: key_off,
                    freqs: vec![r, c],
                    volume_db: volume,
                });
            }
        } else {
            return Err(bad(
                "expected %(on,off,freq...), a setting such as v=-7, or DTMF keys",
            ));
        }
        if spec.segments.len() > MAX_SEGMENTS {
            return Err(bad("too many parts (256 at most)"));
        }
    }
    if spec.pass_ms() == 0 {
        return Err(ToneError::NothingToPlay(s.to_owned()));
    }
    spec.repeat = if forever { None } else { times };
    Ok(spec)
}

/// The inside of `%(...)`.
fn segment(inner: &str, volume_db: f64) -> Result<Segment, &'static str> {
    let mut fields = inner.split(',').map(str::trim);
    let on_ms = millis(fields.next().unwrap_or(""))?;
    let off_ms = match fields.next() {
        Some(v) => millis(v)?,
        None => return Err("a tone part is %(on ms, off ms, frequencies...)"),
    };
    let mut freqs = Vec::new();
    for f in fields {
        let hz: f64 = f.parse().map_err(|_| "a frequency is not a number")?;
        if !hz.is_finite() || hz <= 0.0 {
            return Err("a frequency must be above 0 Hz");
        }
        if freqs.len() == MAX_FREQUENCIES {
            return Err("more than 18 frequencies");
        }
        freqs.push(hz);
    }
    Ok(Segment {
        on_ms,
        off_ms,
        freqs,
        volume_db,
    })
}

fn millis(v: &str) -> Result<u32, &'static str> {
    let ms: u32 = v
        .parse()
        .map_err(|_| "a duration is not a whole number of ms")?;
    if ms > MAX_PART_MS {
        return Err("a duration is longer than an hour");
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(on: u32, off: u32, freqs: &[f64], v: f64) -> Segment {
        Segment {
            on_ms: on,
            off_ms: off,
            freqs: freqs.to_vec(),
            volume_db: v,
        }
    }

    #[test]
    fn the_freeswitch_forms() {
        assert_eq!(
            parse("%(2000,4000,440,480)"),
            Ok(ToneSpec {
                repeat: None,
                segments: vec![seg(2000, 4000, &[440.0, 480.0], -7.0)]
            })
        );
        assert_eq!(
            parse("L=3;%(400,200,400,450);%(400,2000,400,450)"),
            Ok(ToneSpec {
                repeat: Some(3),
                segments: vec![
                    seg(400, 200, &[400.0, 450.0], -7.0),
                    seg(400, 2000, &[400.0, 450.0], -7.0)
                ]
            })
        );
        assert_eq!(
            parse("tone_stream://v=-20; %( 1000 , 0 , 425 ) ;"),
            Ok(ToneSpec {
                repeat: None,
                segments: vec![seg(1000, 0, &[425.0], -20.0)]
            })
        );
        let s = parse("%(100,15000,800);loops=2").expect("valid");
        assert_eq!(s.repeat, Some(2));
        let s = parse("L=2;%(100,100,350,440);loops=-1").expect("valid");
        assert_eq!(s.repeat, None, "loops=-1 wins: forever");
        let s = parse("L=2;%(100,100,350);loops=3").expect("valid");
        assert_eq!(s.repeat, Some(6));
        let s = parse("%(500,500)").expect("silence part");
        assert!(s.segments[0].freqs.is_empty());
        assert!(parse("r=8000;%(10,0,1000)").is_ok());
    }

    #[test]
    fn keys_as_text_play_as_dtmf() {
        let s = parse("d=80;w=40;1#").expect("keys");
        assert_eq!(
            s.segments,
            vec![
                seg(80, 40, &[697.0, 1209.0], -7.0),
                seg(80, 40, &[941.0, 1477.0], -7.0)
            ]
        );
        let s = parse("5").expect("key");
        assert_eq!(s.segments[0].on_ms, DEFAULT_KEY_ON_MS);
    }

    #[test]
    fn errors_quote_the_bad_part() {
        let err = |s: &str| match parse(s) {
            Err(ToneError::Invalid { part, reason }) => (part, reason),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(err("%(2000,4000,440,480").0, "%(2000,4000,440,480");
        assert_eq!(err("%(200,x,440)").0, "%(200,x,440)");
        assert_eq!(
            err("%(200)").1,
            "a tone part is %(on ms, off ms, frequencies...)"
        );
        assert_eq!(err("%(200,0,-5)").1, "a frequency must be above 0 Hz");
        assert_eq!(err("%(200,0,abc)").1, "a frequency is not a number");
        assert_eq!(err("%(200,0,NaN)").1, "a frequency must be above 0 Hz");
        assert_eq!(err("v=3;%(1,0,1)").0, "v=3");
        assert_eq!(err("v=loud;%(1,0,1)").1, "the volume is not a number");
        assert_eq!(err("L=0;%(1,0,1)").0, "L=0");
        assert_eq!(err("L=-1;%(1,0,1)").0, "L=-1");
        assert_eq!(err("%(1,0,1);x=2").0, "x=2");
        assert_eq!(err(">=2;%(1,0,1)").1, "decay settings are not supported");
        assert_eq!(err("%(1,0,1);hello").0, "hello");
        assert_eq!(err("%(9999999,0,1)").1, "a duration is longer than an hour");
        let many: Vec<String> = (1..=19).map(|f| f.to_string()).collect();
        assert_eq!(
            err(&format!("%(10,0,{})", many.join(","))).1,
            "more than 18 frequencies"
        );
        assert!(matches!(parse(""), Err(ToneError::NothingToPlay(_))));
        assert!(matches!(
            parse("%(0,0,440)"),
            Err(ToneError::NothingToPlay(_))
        ));
        assert!(matches!(
            parse("L=3;v=-7"),
            Err(ToneError::NothingToPlay(_))
        ));
        let text = ToneError::Invalid {
            part: "x=2".into(),
            reason: "unknown setting (L, loops, v, d, w, r)",
        }
        .to_string();
        assert!(text.contains("x=2"), "{text}");
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = b"%(),;=-.0123456789vLlodw#*AaZ \t";
        let mut x: u32 = 99;
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                s.push(char::from(alphabet[(x as usize) % alphabet.len()]));
            }
            let _ = parse(&s);
        }
    }
}
