//! The announcement a waiting caller hears: "you are caller number 3, your estimated wait
//! time is 2 minutes", as a playlist of the shipped prompts.

/// The prompt files that say `n` ("digits/20.wav!digits/3.wav" for 23).
pub(crate) fn number(n: u64) -> Vec<String> {
    let f = |s: &str| format!("digits/{s}.wav");
    let mut out = Vec::new();
    let mut rest = n;
    for (unit, word) in [(1_000_000, "million"), (1000, "thousand"), (100, "hundred")] {
        if rest >= unit {
            out.extend(number(rest / unit));
            out.push(f(word));
            rest %= unit;
        }
    }
    if rest > 20 {
        out.push(f(&(rest / 10 * 10).to_string()));
        rest %= 10;
        if rest > 0 {
            out.push(f(&rest.to_string()));
        }
    } else if rest > 0 || out.is_empty() {
        out.push(f(&rest.to_string()));
    }
    out
}

/// The whole announcement: the queue's sound, the place in line and the estimated wait
/// (whole minutes, rounded up; seconds under a minute), as `a!b!c`; `None` when there is
/// nothing to say.
pub(crate) fn announcement(
    sound: Option<&str>,
    position: Option<u32>,
    wait_secs: Option<u64>,
) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = sound.filter(|s| !s.trim().is_empty()) {
        parts.push(s.to_string());
    }
    if let Some(p) = position {
        parts.push("ivr/ivr-you_are_caller_number.wav".into());
        parts.extend(number(u64::from(p)));
    }
    if let Some(w) = wait_secs {
        parts.push("ivr/ivr-estimated_wait_time.wav".into());
        if w < 60 {
            // In tens of seconds, at least ten: "about 30 seconds".
            let s = (w.div_ceil(10) * 10).max(10);
            parts.extend(number(s));
            parts.push("ivr/ivr-seconds.wav".into());
        } else {
            parts.extend(number(w.div_ceil(60)));
            parts.push("ivr/ivr-minutes.wav".into());
        }
    }
    (!parts.is_empty()).then(|| parts.join("!"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_said_with_the_shipped_digit_prompts() {
        assert_eq!(number(0), ["digits/0.wav"]);
        assert_eq!(number(7), ["digits/7.wav"]);
        assert_eq!(number(20), ["digits/20.wav"]);
        assert_eq!(number(23), ["digits/20.wav", "digits/3.wav"]);
        assert_eq!(number(90), ["digits/90.wav"]);
        assert_eq!(
            number(305),
            ["digits/3.wav", "digits/hundred.wav", "digits/5.wav"]
        );
        assert_eq!(
            number(1200),
            [
                "digits/1.wav",
                "digits/thousand.wav",
                "digits/2.wav",
                "digits/hundred.wav"
            ]
        );
    }

    #[test]
    fn the_announcement_says_place_and_wait() {
        assert_eq!(
            announcement(Some("ivr/ivr-your_call_is_important.wav"), Some(3), Some(95))
                .as_deref(),
            Some(
                "ivr/ivr-your_call_is_important.wav!ivr/ivr-you_are_caller_number.wav!digits/3.wav!ivr/ivr-estimated_wait_time.wav!digits/2.wav!ivr/ivr-minutes.wav"
            )
        );
        assert_eq!(
            announcement(None, None, Some(12)).as_deref(),
            Some("ivr/ivr-estimated_wait_time.wav!digits/20.wav!ivr/ivr-seconds.wav")
        );
        assert_eq!(announcement(Some(" "), None, None), None);
    }
}
