//! Recording a leg to a WAV file: a [`Tap`] that hands each 20 ms to a writer thread, so
//! the media task never waits on the disk.
//!
//! Mono recordings mix what the leg sent and what it heard (FreeSWITCH's `record_session`);
//! stereo ones put the leg on the left and what it heard on the right. One frame is written
//! per media tick, silence included, so the file is as long as the time it recorded.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use switch_media::wav::WavWriter;
use switch_media::Frame;

use super::Tap;

/// How many 20 ms frames may wait for the disk (2 s) before frames are dropped.
const QUEUE: usize = 100;

/// Mono (mixed) or stereo (leg left, far end right), or only what the leg said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channels {
    /// Both directions mixed.
    Mono,
    /// What the leg sent on the left, what it heard on the right.
    Stereo,
    /// Only what the leg sent (voicemail, `recordFile`).
    Read,
}

/// Calls `notify` once when the leg has been quieter than `threshold` (mean absolute
/// sample value) for `frames` consecutive 20 ms frames.
pub struct SilenceWatch {
    /// Mean absolute sample value below which a frame is silent.
    pub threshold: u32,
    /// Consecutive silent frames that end the recording.
    pub frames: u32,
    /// Called from the media task, once.
    pub notify: Box<dyn FnMut() + Send>,
}

enum Msg {
    Frames(Box<(Frame, Frame)>),
    Close,
}

/// The tap half: lives in the media task.
pub struct Recorder {
    tx: SyncSender<Msg>,
    dropped: u64,
    path: PathBuf,
    silence: Option<(SilenceWatch, u32)>,
}

/// Why a recording could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The file or its folder could not be created.
    #[error("cannot record to {path}: {source}", path = .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Recorder {
    /// Creates `path` (and its folder) and starts the writer thread for audio at `rate`.
    pub fn start(path: &Path, rate: u32, channels: Channels) -> Result<Recorder, RecordError> {
        let io = |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = File::create(path).map_err(io)?;
        let n = match channels {
            Channels::Mono | Channels::Read => 1,
            Channels::Stereo => 2,
        };
        let writer = WavWriter::new(BufWriter::new(file), rate, n)
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        let (tx, rx) = sync_channel(QUEUE);
        let name = path.display().to_string();
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || write_loop(writer, rx, channels, &name))
            .map_err(io)?;
        Ok(Recorder {
            tx,
            dropped: 0,
            path: path.to_path_buf(),
            silence: None,
        })
    }

    /// Watches for silence in what the leg says.
    pub fn with_silence(mut self, watch: SilenceWatch) -> Recorder {
        self.silence = Some((watch, 0));
        self
    }
}

impl Tap for Recorder {
    fn on_frame(&mut self, read: &Frame, write: &Frame) -> bool {
        if let Some((watch, low)) = self.silence.as_mut() {
            let samples = read.samples();
            let mean = samples
                .iter()
                .map(|s| u64::from(s.unsigned_abs()))
                .sum::<u64>()
                / samples.len().max(1) as u64;
            if mean < u64::from(watch.threshold) {
                *low += 1;
                if *low == watch.frames {
                    (watch.notify)();
                }
            } else {
                *low = 0;
            }
        }
        match self
            .tx
            .try_send(Msg::Frames(Box::new((read.clone(), write.clone()))))
        {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.dropped += 1;
                true
            }
            // The writer failed and is gone: stop tapping.
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    fn close(&mut self) {
        if self.dropped > 0 {
            tracing::warn!(
                path = %self.path.display(),
                frames = self.dropped,
                "recording dropped frames: the disk was too slow"
            );
        }
        let _ = self.tx.send(Msg::Close);
    }
}

fn write_loop(
    mut writer: WavWriter<BufWriter<File>>,
    rx: Receiver<Msg>,
    channels: Channels,
    name: &str,
) {
    let mut mix = Frame::default();
    while let Ok(msg) = rx.recv() {
        let (read, write) = match msg {
            Msg::Frames(f) => *f,
            Msg::Close => break,
        };
        let r = match channels {
            Channels::Stereo => writer.write_stereo(&read, &write),
            Channels::Read => writer.write_frame(&read),
            Channels::Mono => {
                mix.clone_from(&read);
                for (m, w) in mix.samples_mut().iter_mut().zip(write.samples()) {
                    *m = m.saturating_add(*w);
                }
                writer.write_frame(&mix)
            }
        };
        if let Err(e) = r {
            tracing::error!(path = name, error = %e, "recording stopped: write failed");
            return;
        }
    }
    if let Err(e) = writer.finish() {
        tracing::error!(path = name, error = %e, "recording not finished cleanly");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_file_has_one_frame_per_tick_and_both_sides() {
        let dir = std::env::temp_dir().join(format!("fs-rec-{}", std::process::id()));
        let path = dir.join("sub/call.wav");
        let mut rec = Recorder::start(&path, 8000, Channels::Stereo).expect("start");
        let left = Frame::from_samples(8000, &[1000; 160]).expect("frame");
        let right = Frame::from_samples(8000, &[-2000; 160]).expect("frame");
        for _ in 0..50 {
            assert!(rec.on_frame(&left, &right));
        }
        rec.close();
        // The writer thread finishes on its own; wait for the sizes to be patched.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let data = match bytes.get(40..44) {
                Some(b) if bytes.len() >= 48 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                _ => 0,
            };
            if data == 50 * 160 * 4 {
                let first = i16::from_le_bytes([bytes[44], bytes[45]]);
                let second = i16::from_le_bytes([bytes[46], bytes[47]]);
                assert_eq!((first, second), (1000, -2000));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "data size {data}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unwritable_path_is_an_error_naming_it() {
        let e = Recorder::start(Path::new("/proc/no/such/dir/x.wav"), 8000, Channels::Mono)
            .err()
            .expect("cannot create");
        assert!(e.to_string().contains("/proc/no/such/dir/x.wav"), "{e}");
    }
}
