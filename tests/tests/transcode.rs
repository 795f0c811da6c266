//! Calls between softphones that share no codec: the switch transcodes (and resamples) in
//! both directions. Each baresip sends its own tone from a WAV file; what each decoded must
//! carry the other's tone at the right frequency.

use std::time::Duration;

use ferroswitch_tests::wav::{self, tone_blocks};
use ferroswitch_tests::{cdr, peer_available, Baresip, Switch, TestDir};

const CALLER_HZ: f64 = 1000.0;
const CALLEE_HZ: f64 = 440.0;
/// One second of 50 ms blocks.
const SOME_TONE: usize = 20;

/// The sample rate and channels baresip's aufile needs for a codec.
fn source_format(codec: &str) -> (u32, u16) {
    match codec {
        c if c.starts_with("opus") => (48000, 2),
        c if c.starts_with("G722") => (16000, 1),
        _ => (8000, 1),
    }
}

/// The codec's SDP name, as the switch logs it.
fn sdp_name(codec: &str) -> &str {
    codec.split('/').next().unwrap_or(codec)
}

/// `caller_codecs` (as 1002) calls `callee_codecs` (as 1001) and both hear each other.
fn call_between(caller_codecs: &str, callee_codecs: &str) {
    if !peer_available("baresip") {
        return;
    }
    let sw = Switch::start(&[]);
    let dir = TestDir::new("transcode");
    let (caller_wav, callee_wav) = (dir.join("caller.wav"), dir.join("callee.wav"));
    // baresip's aufile wants the codec's own rate and channels.
    let (rate, ch) = source_format(caller_codecs);
    wav::write_tone(&caller_wav, CALLER_HZ, 20.0, rate, ch).unwrap();
    let (rate, ch) = source_format(callee_codecs);
    wav::write_tone(&callee_wav, CALLEE_HZ, 20.0, rate, ch).unwrap();
    let mut callee = Baresip::builder("1001")
        .registrar(sw.sip_addr())
        .auto_answer()
        .codecs(callee_codecs)
        .audio_file(&callee_wav)
        .quit_after(Duration::from_secs(30))
        .start();
    assert!(
        callee.wait_registered(Duration::from_secs(10)),
        "1001 did not register:\n{}",
        callee.log_text()
    );
    let mut caller = Baresip::builder("1002")
        .registrar(sw.sip_addr())
        .codecs(caller_codecs)
        .audio_file(&caller_wav)
        .dial(&format!("sip:1001@127.0.0.1:{}", sw.sip_port()))
        .quit_after(Duration::from_secs(6))
        .start();
    caller.wait_exit(Duration::from_secs(10));
    assert!(
        callee.wait_for_log(&["Call with", "terminated"], Duration::from_secs(10)),
        "the callee's call did not end:\n{}",
        callee.log_text()
    );
    callee.stop();
    // The switch logs each side's codec when it bridges.
    let want = format!(
        "a=Some(\"{}\") b=Some(\"{}\")",
        sdp_name(caller_codecs),
        sdp_name(callee_codecs)
    );
    assert!(
        sw.log_text()
            .lines()
            .any(|l| l.contains("bridged") && l.contains(&want)),
        "no bridge with {want} in the switch's log"
    );
    for (who, phone, hears, own) in [
        ("callee", &callee, CALLER_HZ, CALLEE_HZ),
        ("caller", &caller, CALLEE_HZ, CALLER_HZ),
    ] {
        let dumps = phone.decoded_wavs();
        assert_eq!(
            dumps.len(),
            1,
            "the {who} should have one decoded dump: {dumps:?}"
        );
        let audio = wav::read(&dumps[0]).unwrap();
        let (heard, blocks) = tone_blocks(&audio, hears);
        assert!(
            heard >= SOME_TONE,
            "the {who} ({}) heard {hears} Hz in {heard} of {blocks} blocks",
            if who == "caller" {
                caller_codecs
            } else {
                callee_codecs
            }
        );
        let (echoed, _) = tone_blocks(&audio, own);
        assert_eq!(echoed, 0, "the {who} heard its own {own} Hz tone");
    }
    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "NORMAL_CLEARING", "{row:#?}");
    }
}

#[test]
fn pcmu_caller_reaches_an_opus_callee() {
    call_between("PCMU/8000/1", "opus/48000/2");
}

#[test]
fn g722_caller_reaches_a_pcma_callee() {
    call_between("G722/16000/1", "PCMA/8000/1");
}
