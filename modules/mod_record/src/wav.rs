//! A WAV (16-bit PCM) file written by a thread of its own: the media tap only queues frames,
//! so the media task never waits on the disk. The header is written with the rate of the
//! first frame and its sizes are patched when the recording ends.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

/// Mono (both directions mixed) or stereo (the channel left, what it heard right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One channel: what the channel said plus what it heard.
    Mono,
    /// Two: what it said on the left, what it heard on the right.
    Stereo,
}

/// One frame's samples, already laid out (mixed or interleaved), and their rate.
pub struct Chunk {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Samples as they go to the file.
    pub samples: Vec<i16>,
}

enum Msg {
    Chunk(Chunk),
    Close,
}

/// The queue end of a recording: lives in the tap.
pub struct Recording {
    tx: SyncSender<Msg>,
    /// Frames dropped because the disk was too slow.
    pub dropped: u64,
    /// The file.
    pub path: PathBuf,
    /// Its layout.
    pub layout: Layout,
}

impl Recording {
    /// Creates `path` (and its folder) and starts its writer thread (through `spawn`, so
    /// the switch can join it), queueing up to `queue` frames.
    pub fn start(
        path: &Path,
        layout: Layout,
        queue: usize,
        spawn: impl FnOnce(Box<dyn FnOnce() + Send>) -> io::Result<()>,
    ) -> Result<Recording, String> {
        let io = |e: io::Error| format!("cannot record to {}: {e}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = File::create(path).map_err(io)?;
        let (tx, rx) = sync_channel(queue.max(1));
        let name = path.display().to_string();
        let channels = match layout {
            Layout::Mono => 1,
            Layout::Stereo => 2,
        };
        spawn(Box::new(move || {
            if let Err(e) = write_loop(BufWriter::new(file), rx, channels) {
                switch_sdk::error!("recording {name} stopped: {e}");
            }
        }))
        .map_err(io)?;
        Ok(Recording {
            tx,
            dropped: 0,
            path: path.to_path_buf(),
            layout,
        })
    }

    /// Lays out one tick (`read`: what the channel said, `write`: what it heard) and queues
    /// it; false once the writer is gone (it failed).
    pub fn push(&mut self, rate: u32, read: &[i16], write: &[i16]) -> bool {
        let samples = match self.layout {
            Layout::Mono => read
                .iter()
                .zip(write)
                .map(|(r, w)| r.saturating_add(*w))
                .collect(),
            Layout::Stereo => {
                let mut v = Vec::with_capacity(read.len() * 2);
                for (r, w) in read.iter().zip(write) {
                    v.push(*r);
                    v.push(*w);
                }
                v
            }
        };
        match self.tx.try_send(Msg::Chunk(Chunk { rate, samples })) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.dropped += 1;
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Ends the file (the writer finishes it and exits).
    pub fn close(&mut self) {
        if self.dropped > 0 {
            switch_sdk::warn!(
                "recording {} dropped {} frame(s): the disk was too slow",
                self.path.display(),
                self.dropped
            );
        }
        let _ = self.tx.send(Msg::Close);
    }
}

fn header(rate: u32, channels: u16, data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let block = channels * 2;
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36 + data_len).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

fn write_loop<W: Write + Seek>(mut out: W, rx: Receiver<Msg>, channels: u16) -> io::Result<()> {
    let mut rate = 0u32;
    let mut data: u32 = 0;
    let mut bytes = Vec::with_capacity(960 * 4);
    out.write_all(&header(8000, channels, 0))?;
    while let Ok(msg) = rx.recv() {
        let chunk = match msg {
            Msg::Chunk(c) => c,
            Msg::Close => break,
        };
        if rate == 0 {
            rate = chunk.rate;
        }
        bytes.clear();
        for s in &chunk.samples {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        out.write_all(&bytes)?;
        data = data.saturating_add(bytes.len() as u32);
    }
    out.flush()?;
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header(if rate == 0 { 8000 } else { rate }, channels, data))?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(f: Box<dyn FnOnce() + Send>) -> io::Result<()> {
        std::thread::spawn(f);
        Ok(())
    }

    fn wait_for(path: &Path, data: u32) -> Vec<u8> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let b = std::fs::read(path).unwrap_or_default();
            if b.len() >= 44 && u32::from_le_bytes([b[40], b[41], b[42], b[43]]) == data {
                return b;
            }
            assert!(std::time::Instant::now() < deadline, "no finished file");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn stereo_puts_the_channel_left_and_what_it_heard_right() {
        let dir = std::env::temp_dir().join(format!("mod-record-{}", std::process::id()));
        let path = dir.join("sub/s.wav");
        let mut r = Recording::start(&path, Layout::Stereo, 10, thread).expect("start");
        for _ in 0..5 {
            assert!(r.push(16000, &[1000; 320], &[-2000; 320]));
        }
        r.close();
        let b = wait_for(&path, 5 * 320 * 4);
        assert_eq!(u16::from_le_bytes([b[22], b[23]]), 2);
        assert_eq!(u32::from_le_bytes([b[24], b[25], b[26], b[27]]), 16000);
        assert_eq!(i16::from_le_bytes([b[44], b[45]]), 1000);
        assert_eq!(i16::from_le_bytes([b[46], b[47]]), -2000);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn mono_mixes_and_saturates() {
        let dir = std::env::temp_dir().join(format!("mod-record-m-{}", std::process::id()));
        let path = dir.join("m.wav");
        let mut r = Recording::start(&path, Layout::Mono, 10, thread).expect("start");
        assert!(r.push(8000, &[30000; 160], &[10000; 160]));
        r.close();
        let b = wait_for(&path, 320);
        assert_eq!(i16::from_le_bytes([b[44], b[45]]), i16::MAX);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_unwritable_path_is_an_error_naming_it() {
        let e = Recording::start(Path::new("/proc/no/dir/x.wav"), Layout::Mono, 1, thread)
            .err()
            .expect("refused");
        assert!(e.contains("/proc/no/dir/x.wav"), "{e}");
    }
}
