//! What the driver tells a waiting caller's application thread: play an announcement,
//! leave the queue, you are bridged. The driver pushes a command, then breaks the hold
//! music (`uuid_break`) so the thread reads it.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::action::ExitReason;

use super::driver::lock;

/// One instruction for a waiting caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// The periodic announcement.
    Announce {
        sound: Option<String>,
        position: Option<u32>,
        wait_secs: Option<u64>,
    },
    /// Leave the queue.
    Exit {
        destination: Option<String>,
        reason: ExitReason,
    },
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Command>,
    /// Hold music to play (none: ringback).
    hold: Option<Option<String>>,
    bridged: bool,
}

/// A member's mailbox.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    inner: Mutex<Inner>,
}

impl Mailbox {
    pub fn push(&self, c: Command) {
        lock(&self.inner).queue.push_back(c);
    }

    pub fn take(&self) -> Option<Command> {
        lock(&self.inner).queue.pop_front()
    }

    pub fn pending(&self) -> bool {
        !lock(&self.inner).queue.is_empty()
    }

    pub fn set_hold(&self, sound: Option<String>) {
        lock(&self.inner).hold = Some(sound);
    }

    /// The hold sound the engine asked for, `default` until it did.
    pub fn hold(&self, default: &Option<String>) -> Option<String> {
        lock(&self.inner)
            .hold
            .clone()
            .unwrap_or_else(|| default.clone())
    }

    pub fn set_bridged(&self, b: bool) {
        lock(&self.inner).bridged = b;
    }

    pub fn bridged(&self) -> bool {
        lock(&self.inner).bridged
    }
}
