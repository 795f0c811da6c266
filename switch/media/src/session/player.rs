//! What a leg hears instead of its peer: a playlist of sound samples, tones and silence,
//! played 20 ms at a time at the leg's rate.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::frame::{samples_per_frame, Frame, RATES};
use crate::resample::Resampler;
use crate::tone::{Progress, ToneGenerator, ToneSpec};

/// Decoded audio to play: mono samples at one of [`RATES`], shared between every channel
/// playing the same prompt.
#[derive(Clone, Debug)]
pub struct Sound {
    /// The samples.
    pub samples: Arc<[i16]>,
    /// Their rate.
    pub rate: u32,
}

/// One item of a playlist.
#[derive(Clone, Debug)]
pub enum PlayItem {
    /// A decoded sound file.
    Sound(Sound),
    /// A tone in tone_stream notation, played until it finishes (forever when it loops).
    Tone(ToneSpec),
    /// Silence of this many milliseconds.
    Silence(u32),
    /// Live audio pushed by someone else (an eavesdropper hears a call through one), played
    /// until the stream is closed and drained; silence while it has nothing.
    Stream(AudioStream),
}

/// A live 20 ms frame queue between a producer (a tap on another call) and a player. Either
/// end closes it: the player when its playback ends, the producer when its call does.
/// Frames that would make the queue longer than [`AudioStream::MAX_FRAMES`] push the
/// oldest out, so a producer running ahead of the player adds no delay.
#[derive(Clone, Default)]
pub struct AudioStream {
    inner: Arc<Mutex<StreamInner>>,
}

#[derive(Default)]
struct StreamInner {
    frames: VecDeque<Frame>,
    closed: bool,
    dropped: u64,
}

impl AudioStream {
    /// The most frames queued (100 ms): the delay a listener can build up.
    pub const MAX_FRAMES: usize = 5;

    /// An open, empty stream.
    pub fn new() -> AudioStream {
        AudioStream::default()
    }

    fn lock(&self) -> MutexGuard<'_, StreamInner> {
        // A panic while holding this lock leaves a queue of frames, still fine to use.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a frame; `false` once the stream is closed (the producer should stop).
    pub fn push(&self, frame: &Frame) -> bool {
        let mut s = self.lock();
        if s.closed {
            return false;
        }
        if s.frames.len() >= Self::MAX_FRAMES {
            s.frames.pop_front();
            s.dropped += 1;
        }
        s.frames.push_back(frame.clone());
        true
    }

    /// The oldest queued frame, and whether the stream is closed.
    pub(crate) fn pop(&self) -> (Option<Frame>, bool) {
        let mut s = self.lock();
        let f = s.frames.pop_front();
        (f, s.closed)
    }

    /// Ends the stream: the player finishes what is queued, the producer's next push fails.
    pub fn close(&self) {
        self.lock().closed = true;
    }

    /// Whether either end closed it.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Frames pushed out because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

impl fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("AudioStream")
            .field("queued", &s.frames.len())
            .field("closed", &s.closed)
            .finish()
    }
}

/// A request to play: items in order, the whole list repeated `repeat` more times
/// (`None`: forever, for music on hold).
#[derive(Clone, Debug)]
pub struct Play {
    /// Given back in [`super::SessionEvent::PlayDone`].
    pub id: u64,
    /// The playlist.
    pub items: Vec<PlayItem>,
    /// Extra passes over the list after the first; `None` repeats forever.
    pub repeat: Option<u32>,
    /// Digits that stop the playback when the leg sends one (e.g. `"0123456789*#"`); empty
    /// for none.
    pub stop_on: String,
    /// Skip this many milliseconds of the first item (FreeSWITCH's `file@@ms`).
    pub start_ms: u32,
}

impl Play {
    /// Plays `items` once, not interruptible.
    pub fn once(id: u64, items: Vec<PlayItem>) -> Play {
        Play {
            id,
            items,
            repeat: Some(0),
            stop_on: String::new(),
            start_ms: 0,
        }
    }
}

/// Steering a running playback, FreeSWITCH's input-callback answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlayControl {
    /// `pause`: toggles between playing and silence.
    TogglePause,
    /// `seek:+3000` / `seek:-3000`: moves within the current sound, in ms.
    Seek(i64),
    /// `volume:+1` / `volume:-1`: changes the gain by steps of 2 dB (at most ±24 dB).
    Volume(i32),
    /// `speed:+1` / `speed:-1`: plays sounds 5 % faster or slower per step (at most ±10
    /// steps; the pitch follows, as with FreeSWITCH's file speed). `speed:0` resets it.
    Speed(i32),
    /// `speed:0`: back to normal speed.
    SpeedReset,
}

/// Plays a [`Play`] into frames at one rate.
pub(crate) struct Player {
    play: Play,
    rate: u32,
    index: usize,
    pass: u32,
    current: Option<Current>,
    /// Playback position of the whole request, for FreeSWITCH's `playback_ms`.
    pub(crate) played_ms: u64,
    paused: bool,
    /// Gain steps of 2 dB.
    volume: i32,
    /// Speed steps of 5 %.
    speed: i32,
}

// One per player, so the size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
enum Current {
    Sound {
        sound: Sound,
        pos: usize,
        resampler: Option<Resampler>,
        scratch: Frame,
    },
    Tone(ToneGenerator),
    Silence {
        left_ms: u32,
    },
    Stream {
        stream: AudioStream,
        resampler: Option<Resampler>,
    },
}

impl Drop for Current {
    fn drop(&mut self) {
        // The player is done with the stream (played out, stopped, its call ended): the
        // producer stops at its next frame.
        if let Current::Stream { stream, .. } = self {
            stream.close();
        }
    }
}

impl Player {
    /// A player for `play` at `rate`.
    pub(crate) fn new(play: Play, rate: u32) -> Player {
        let skip = play.start_ms;
        let mut p = Player {
            play,
            rate,
            index: 0,
            pass: 0,
            current: None,
            played_ms: 0,
            paused: false,
            volume: 0,
            speed: 0,
        };
        p.current = p.start(0);
        if let Some(Current::Sound { sound, pos, .. }) = &mut p.current {
            let skip = (u64::from(skip) * u64::from(sound.rate) / 1000) as usize;
            *pos = skip.min(sound.samples.len());
        }
        p
    }

    /// Applies a control from the script driving the playback.
    pub(crate) fn control(&mut self, c: PlayControl) {
        match c {
            PlayControl::TogglePause => self.paused = !self.paused,
            PlayControl::Volume(steps) => self.volume = (self.volume + steps).clamp(-12, 12),
            PlayControl::Speed(steps) => self.speed = (self.speed + steps).clamp(-10, 10),
            PlayControl::SpeedReset => self.speed = 0,
            PlayControl::Seek(ms) => {
                if let Some(Current::Sound { sound, pos, .. }) = self.current.as_mut() {
                    let delta = ms * i64::from(sound.rate) / 1000;
                    let to = (*pos as i64 + delta).clamp(0, sound.samples.len() as i64);
                    *pos = to as usize;
                }
            }
        }
    }

    /// Goes on at another rate (the leg's codec changed), from where it was.
    pub(crate) fn retarget(&mut self, rate: u32) {
        if rate == self.rate {
            return;
        }
        self.rate = rate;
        if let Some(Current::Sound {
            sound, resampler, ..
        }) = self.current.as_mut()
        {
            *resampler = if sound.rate == rate {
                None
            } else {
                Resampler::new(sound.rate, rate).ok()
            };
        }
        if let Some(Current::Tone(_)) = self.current {
            self.current = self.start(self.index);
        }
        if let Some(Current::Stream { resampler, .. }) = self.current.as_mut() {
            // The producer's rate shows with each frame; the next one sets the resampler.
            *resampler = None;
        }
    }

    /// The request's id.
    pub(crate) fn id(&self) -> u64 {
        self.play.id
    }

    /// Whether `digit` ends this playback.
    pub(crate) fn stops_on(&self, digit: char) -> bool {
        self.play.stop_on.contains(digit)
    }

    /// Fills `out` (at the player's rate) with the next 20 ms; `false` once the list is done
    /// (then `out` is silence).
    pub(crate) fn fill(&mut self, out: &mut Frame) -> bool {
        out.clear(self.rate);
        if self.paused {
            return self.current.is_some();
        }
        let more = self.fill_unpaused(out);
        if self.volume != 0 {
            let gain = 10f64.powf(f64::from(self.volume) * 2.0 / 20.0);
            for s in out.samples_mut() {
                *s = (f64::from(*s) * gain).clamp(-32768.0, 32767.0) as i16;
            }
        }
        more
    }

    fn fill_unpaused(&mut self, out: &mut Frame) -> bool {
        // Items that produce nothing (empty sounds) are skipped, at most one pass's worth.
        for _ in 0..=self.play.items.len() {
            let speed = self.speed;
            let Some(cur) = self.current.as_mut() else {
                return false;
            };
            let (produced, done) = match cur {
                Current::Sound {
                    sound,
                    pos,
                    resampler,
                    scratch,
                } => fill_sound(sound, pos, speed, resampler.as_mut(), scratch, out),
                Current::Tone(g) => (true, g.fill(out) == Progress::Finished),
                Current::Silence { left_ms } => {
                    *left_ms = left_ms.saturating_sub(crate::FRAME_MS);
                    (true, *left_ms == 0)
                }
                Current::Stream { stream, resampler } => fill_stream(stream, resampler, out),
            };
            if done {
                self.current = self.advance();
            }
            if produced {
                self.played_ms += u64::from(crate::FRAME_MS);
                return true;
            }
        }
        false
    }

    fn advance(&mut self) -> Option<Current> {
        self.index += 1;
        if self.index >= self.play.items.len() {
            match self.play.repeat {
                Some(r) if self.pass >= r => return None,
                _ => {
                    self.pass += 1;
                    self.index = 0;
                }
            }
        }
        self.start(self.index)
    }

    fn start(&self, index: usize) -> Option<Current> {
        let item = self.play.items.get(index)?;
        Some(match item {
            PlayItem::Sound(s) => {
                let resampler = if s.rate == self.rate {
                    None
                } else {
                    Resampler::new(s.rate, self.rate).ok()
                };
                Current::Sound {
                    sound: s.clone(),
                    pos: 0,
                    resampler,
                    scratch: Frame::silence(s.rate).unwrap_or_default(),
                }
            }
            PlayItem::Tone(spec) => match ToneGenerator::new(spec, self.rate) {
                Ok(g) => Current::Tone(g),
                Err(_) => Current::Silence { left_ms: 20 },
            },
            PlayItem::Silence(ms) => Current::Silence {
                left_ms: (*ms).max(crate::FRAME_MS),
            },
            PlayItem::Stream(stream) => Current::Stream {
                stream: stream.clone(),
                resampler: None,
            },
        })
    }
}

/// Plays the next queued frame of `stream` (resampled when its rate is not `out`'s), or
/// silence while none is queued. Returns (whether it produced a frame, whether the stream
/// is closed and drained).
fn fill_stream(
    stream: &AudioStream,
    resampler: &mut Option<Resampler>,
    out: &mut Frame,
) -> (bool, bool) {
    let (frame, closed) = stream.pop();
    let Some(frame) = frame else {
        // Drained and closed, it produced nothing: the next item plays in this frame.
        return (!closed, closed);
    };
    let rate = out.rate();
    if !crate::resample::convert(resampler, &frame, rate, out) {
        out.clear(rate);
    }
    (true, false)
}

/// Copies the next 20 ms of `sound` into `out` (resampled when rates differ). Returns
/// (whether any sample was taken, whether the sound is used up); a last partial frame is
/// padded with silence, and a sound at a rate the switch does not run is skipped.
fn fill_sound(
    sound: &Sound,
    pos: &mut usize,
    speed: i32,
    resampler: Option<&mut Resampler>,
    scratch: &mut Frame,
    out: &mut Frame,
) -> (bool, bool) {
    if !RATES.contains(&sound.rate) || (sound.rate != out.rate() && resampler.is_none()) {
        return (false, true);
    }
    let n = samples_per_frame(sound.rate);
    let rest = sound.samples.get(*pos..).unwrap_or(&[]);
    // At another speed a frame takes n × ratio samples of the sound, interpolated to n.
    let ratio = 1.0 + 0.05 * f64::from(speed);
    let want = if speed == 0 {
        n
    } else {
        ((n as f64) * ratio).round() as usize
    };
    let used = rest.len().min(want);
    let fill = |dst: &mut [i16]| {
        if speed == 0 {
            dst[..used].copy_from_slice(&rest[..used]);
            return;
        }
        let made = if used == want {
            n
        } else {
            ((used as f64) / ratio) as usize
        };
        for (i, d) in dst.iter_mut().take(made.min(n)).enumerate() {
            let x = i as f64 * ratio;
            let k = x as usize;
            let a = f64::from(rest.get(k).copied().unwrap_or(0));
            let b = f64::from(rest.get(k + 1).or(rest.get(k)).copied().unwrap_or(0));
            *d = (a + (b - a) * (x - k as f64)).round() as i16;
        }
    };
    match resampler {
        None => fill(out.samples_mut()),
        Some(r) => {
            scratch.clear(sound.rate);
            fill(scratch.samples_mut());
            if r.process(scratch, out).is_err() {
                out.clear(out.rate());
            }
        }
    }
    *pos += used;
    (used > 0, *pos >= sound.samples.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sound(rate: u32, ms: u32, value: i16) -> PlayItem {
        let n = (rate / 1000 * ms) as usize;
        PlayItem::Sound(Sound {
            samples: vec![value; n].into(),
            rate,
        })
    }

    fn frames(p: &mut Player, max: usize) -> Vec<f64> {
        let mut f = Frame::silence(p.rate).expect("rate");
        let mut out = Vec::new();
        while out.len() < max && p.fill(&mut f) {
            out.push(f.rms());
        }
        out
    }

    #[test]
    fn speed_steps_play_the_sound_faster_or_slower() {
        let frames_of = |steps: i32| {
            let mut p = Player::new(Play::once(1, vec![sound(8000, 1000, 1000)]), 8000);
            if steps == 99 {
                p.control(PlayControl::Speed(4));
                p.control(PlayControl::SpeedReset);
            } else {
                p.control(PlayControl::Speed(steps));
            }
            frames(&mut p, 1000).len()
        };
        // One second at 8 kHz is 50 frames; +4 steps (1.2x) about 42, -4 (0.8x) about 63.
        assert_eq!(frames_of(0), 50);
        assert_eq!(frames_of(99), 50);
        let fast = frames_of(4);
        let slow = frames_of(-4);
        assert!((41..=43).contains(&fast), "{fast}");
        assert!((62..=64).contains(&slow), "{slow}");
        // Beyond ±10 steps it stays at ±50 %.
        assert_eq!(frames_of(30), frames_of(10));
    }

    fn level(rate: u32, value: i16) -> Frame {
        let n = samples_per_frame(rate);
        Frame::from_samples(rate, &vec![value; n]).expect("frame")
    }

    #[test]
    fn a_stream_plays_what_is_pushed_silence_between_and_ends_when_closed_and_drained() {
        let stream = AudioStream::new();
        let mut p = Player::new(Play::once(1, vec![PlayItem::Stream(stream.clone())]), 8000);
        let mut f = Frame::silence(8000).expect("rate");
        // Nothing queued yet: silence, and the playback goes on.
        assert!(p.fill(&mut f));
        assert_eq!(f.rms(), 0.0);
        assert!(stream.push(&level(8000, 1000)));
        assert!(stream.push(&level(8000, 2000)));
        stream.close();
        assert!(
            !stream.push(&level(8000, 3000)),
            "a closed stream takes no more"
        );
        let got = frames(&mut p, 10);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!((got[0] - 1000.0).abs() < 1.0 && (got[1] - 2000.0).abs() < 1.0);
    }

    #[test]
    fn a_stream_at_another_rate_is_resampled_and_a_full_queue_drops_the_oldest() {
        let stream = AudioStream::new();
        for _ in 0..AudioStream::MAX_FRAMES + 3 {
            stream.push(&level(8000, 1000));
        }
        assert_eq!(stream.dropped(), 3);
        stream.close();
        let mut p = Player::new(Play::once(1, vec![PlayItem::Stream(stream)]), 16000);
        let got = frames(&mut p, 20);
        assert_eq!(got.len(), AudioStream::MAX_FRAMES, "{got:?}");
        // Past the resampler's start-up, a constant level stays that level at 16 kHz.
        assert!((got[got.len() - 1] - 1000.0).abs() < 50.0, "{got:?}");
    }

    #[test]
    fn a_player_done_with_its_stream_closes_it_for_the_producer() {
        let stream = AudioStream::new();
        let p = Player::new(Play::once(1, vec![PlayItem::Stream(stream.clone())]), 8000);
        assert!(stream.push(&level(8000, 1000)));
        drop(p);
        assert!(stream.is_closed());
        assert!(!stream.push(&level(8000, 1000)));
    }

    #[test]
    fn plays_items_in_order_then_stops() {
        let play = Play::once(
            1,
            vec![
                sound(8000, 60, 1000),
                PlayItem::Silence(40),
                sound(8000, 20, 2000),
            ],
        );
        let mut p = Player::new(play, 8000);
        let got = frames(&mut p, 100);
        assert_eq!(got.len(), 6, "{got:?}");
        assert!(got[..3].iter().all(|&r| (r - 1000.0).abs() < 1.0));
        assert_eq!(&got[3..5], &[0.0, 0.0]);
        assert!((got[5] - 2000.0).abs() < 1.0);
    }

    #[test]
    fn repeats_and_forever() {
        let mut play = Play::once(1, vec![sound(8000, 40, 500)]);
        play.repeat = Some(2);
        assert_eq!(frames(&mut Player::new(play.clone(), 8000), 100).len(), 6);
        play.repeat = None;
        assert_eq!(frames(&mut Player::new(play, 8000), 100).len(), 100);
    }

    #[test]
    fn resamples_to_the_leg_rate_and_skips_the_start() {
        let mut play = Play::once(2, vec![sound(8000, 100, 3000)]);
        play.start_ms = 40;
        let mut p = Player::new(play, 48000);
        let got = frames(&mut p, 100);
        assert_eq!(got.len(), 3, "60 ms left after skipping 40: {got:?}");
        assert!(got[1] > 2500.0, "{got:?}");
    }

    #[test]
    fn pause_seek_and_volume_steer_the_playback() {
        let mut p = Player::new(Play::once(4, vec![sound(8000, 1000, 1000)]), 8000);
        let mut f = Frame::silence(8000).expect("rate");
        p.control(PlayControl::TogglePause);
        assert!(p.fill(&mut f));
        assert_eq!(f.rms(), 0.0, "paused: silence, position kept");
        p.control(PlayControl::TogglePause);
        p.control(PlayControl::Volume(3));
        assert!(p.fill(&mut f));
        assert!(
            (f.rms() - 1000.0 * 10f64.powf(0.3)).abs() < 2.0,
            "{}",
            f.rms()
        );
        // 20 ms played; seeking 940 ms on leaves 40 ms.
        p.control(PlayControl::Seek(940));
        assert_eq!(frames(&mut p, 100).len(), 2);
    }

    #[test]
    fn empty_list_finishes_at_once() {
        let mut p = Player::new(Play::once(3, Vec::new()), 16000);
        assert!(frames(&mut p, 10).is_empty());
    }
}
