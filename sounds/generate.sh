#!/usr/bin/env bash
# Regenerates the shipped prompts and music on hold with espeak-ng and sox (Debian packages
# espeak-ng and sox). Layout as FreeSWITCH's: en/us/callie/<category>/<rate>/<name>.wav with
# the same names at 8000, 16000 and 48000 Hz (mono, 16-bit PCM), and music/<rate>/moh.wav.
#
#   bash sounds/generate.sh      # rewrites every file; the output is deterministic
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "generate.sh: need $tool" >&2; exit 1; }
done
RATES=(8000 16000 48000)
VOICE=${VOICE:-en-us}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak CATEGORY NAME "TEXT": one prompt at every rate, with 100 ms of silence trimmed to 50.
speak() {
    local category=$1 name=$2 text=$3
    espeak-ng -v "$VOICE" -s 160 -p 45 -w "$tmp/raw.wav" "$text"
    for rate in "${RATES[@]}"; do
        mkdir -p "en/us/callie/$category/$rate"
        sox -D -R "$tmp/raw.wav" -r "$rate" -c 1 -b 16 -e signed-integer \
            "en/us/callie/$category/$rate/$name.wav" \
            silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.05 0.05 norm -3
    done
}

# Digits and the words "say" needs for numbers.
words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
       fifteen sixteen seventeen eighteen nineteen)
for i in "${!words[@]}"; do speak digits "$i" "${words[$i]}"; done
tens=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)
for t in "${!tens[@]}"; do speak digits "${t}0" "${tens[$t]}"; done
speak digits hundred "hundred"
speak digits thousand "thousand"
speak digits million "million"
speak digits star "star"
speak digits pound "pound"

# IVR prompts (FreeSWITCH-style names where FreeSWITCH has one).
speak ivr ivr-welcome "Welcome to ferro switch."
speak ivr ivr-demo_main_menu "For sales, press 1. For support, press 2. For the echo test, press 3. To reach an operator, press 0."
speak ivr ivr-demo_support_menu "For billing, press 1. For technical support, press 2. To go back to the main menu, press star."
speak ivr ivr-after_hours "Our office is now closed. We are open from 8 A M to 6 P M, Monday to Friday. Please call back during business hours."
speak ivr ivr-please_enter_extension_followed_by_pound "Please enter the extension, followed by pound."
speak ivr ivr-please_enter_pin_followed_by_pound "Please enter your pin number, followed by pound."
speak ivr ivr-please_enter_your_account_number "Please enter your account number, followed by pound."
speak ivr ivr-that_was_an_invalid_entry "That was an invalid entry."
speak ivr ivr-please_try_again "Please try again."
speak ivr ivr-you_entered "You entered"
speak ivr ivr-hold_connect_call "Please hold while I connect your call."
speak ivr ivr-your_call_is_important "Your call is important to us. Please hold."
speak ivr ivr-you_are_caller_number "You are caller number"
speak ivr ivr-estimated_wait_time "Your estimated wait time is"
speak ivr ivr-minutes "minutes"
speak ivr ivr-seconds "seconds"
speak ivr ivr-all_agents_busy "All of our agents are busy at the moment."
speak ivr ivr-press_1_for_callback "To keep your place in line and get a call back, press 1."
speak ivr ivr-callback_confirmed "Thank you. We will call you back when an agent is available."
speak ivr ivr-thank_you_for_calling "Thank you for calling."
speak ivr ivr-sales "Connecting you to sales."
speak ivr ivr-support "Connecting you to support."
speak ivr ivr-operator "Connecting you to the operator."
speak misc misc-echo_test "This is the echo test. You will hear your own voice."
speak voicemail vm-goodbye "Goodbye."
speak voicemail vm-record_message "Please leave your message after the tone. When you are done, press pound."

# Music on hold: a 16-bar loop of plucked chords over a soft pad, cross-faded at the ends so
# it loops without a click. Made once at 48 kHz, then resampled.
chords=("C4 E4 G4" "A3 C4 E4" "F3 A3 C4" "G3 B3 D4")
parts=()
n=0
for bar in 1 2 3 4; do
    for c in "${chords[@]}"; do
        read -r x y z <<<"$c"
        f="$tmp/bar$n.wav"
        for note in "$x" "$y" "$z"; do
            sox -R -n -r 48000 -c 1 -b 16 "$tmp/note-$note.wav" synth 1.2 pluck "$note"
        done
        sox -R -m "$tmp/note-$x.wav" "$tmp/note-$y.wav" "$tmp/note-$z.wav" "$f" fade 0 1.2 0.3
        parts+=("$f")
        n=$((n + 1))
    done
done
sox -R "${parts[@]}" "$tmp/melody.wav"
len=$(soxi -D "$tmp/melody.wav")
sox -R -n -r 48000 -c 1 -b 16 "$tmp/pad.wav" synth "$len" sine 130.81 sine 196 vol 0.15
sox -R -m "$tmp/melody.wav" "$tmp/pad.wav" "$tmp/moh.wav" fade 0.05 "$len" 0.05 norm -6
for rate in "${RATES[@]}"; do
    mkdir -p "music/$rate"
    sox -D -R "$tmp/moh.wav" -r "$rate" -c 1 -b 16 -e signed-integer "music/$rate/moh.wav"
done
echo "generate.sh: $(find . -name '*.wav' | wc -l) files"
