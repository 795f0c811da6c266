//! Two real softphones through the switch: baresip 1002 dials 1001, which answers by itself.
//! Each sends its own tone from a WAV file; what each one decoded must carry the other's
//! tone (not its own: that would be an echo, not a bridge).

use std::time::Duration;

use ferroswitch_tests::wav::{self, tone_blocks};
use ferroswitch_tests::{cdr, peer_available, Baresip, Switch, TestDir};

/// The caller's tone and the callee's.
const CALLER_HZ: f64 = 1000.0;
const CALLEE_HZ: f64 = 440.0;
/// One second of 50 ms blocks.
const SOME_TONE: usize = 20;

#[test]
fn baresip_call_through_the_switch_carries_each_sides_tone() {
    if !peer_available("baresip") {
        return;
    }
    let sw = Switch::start(&[]);
    let dir = TestDir::new("baresip-tones");
    let (caller_wav, callee_wav) = (dir.join("caller.wav"), dir.join("callee.wav"));
    wav::write_tone(&caller_wav, CALLER_HZ, 20.0, 8000, 1).unwrap();
    wav::write_tone(&callee_wav, CALLEE_HZ, 20.0, 8000, 1).unwrap();

    let mut callee = Baresip::builder("1001")
        .registrar(sw.sip_addr())
        .auto_answer()
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
        .audio_file(&caller_wav)
        .dial(&format!("sip:1001@127.0.0.1:{}", sw.sip_port()))
        .quit_after(Duration::from_secs(6))
        .start();
    // The caller hangs up (BYE) when it quits; the callee then logs the end of the call.
    caller.wait_exit(Duration::from_secs(10));
    assert!(
        callee.wait_for_log(&["Call with", "terminated"], Duration::from_secs(10)),
        "the callee's call did not end:\n{}",
        callee.log_text()
    );
    callee.stop();

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
            "the {who} heard {hears} Hz in {heard} of {blocks} blocks"
        );
        let (echoed, _) = tone_blocks(&audio, own);
        assert_eq!(echoed, 0, "the {who} heard its own {own} Hz tone");
    }

    let rows = sw.wait_cdrs(2, Duration::from_secs(10));
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for leg in ["A", "B"] {
        let row = cdr::leg(&rows, leg).unwrap_or_else(|| panic!("one {leg} leg: {rows:#?}"));
        assert_eq!(row.hangup_cause, "NORMAL_CLEARING", "{row:#?}");
    }
}
