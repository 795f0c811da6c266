//! Wall-clock instants, passed in by the host.
//!
//! The engine never reads a clock. It takes `now` as a [`Timestamp`]: milliseconds since the
//! Unix epoch. Wall time rather than a monotonic `Instant` because what the engine keeps
//! outlives the process (agents' last call, waiting callbacks, one record per queue call) and
//! because its events and `callcenter_config` output carry epoch seconds, as FreeSWITCH's do.
//! A host whose clock steps backwards is tolerated: the engine never goes back in time, it
//! treats an earlier `now` as the latest one it saw.

use std::fmt;
use std::ops::Add;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch itself; also "never" in fields such as an agent's last bridge end.
    pub const ZERO: Timestamp = Timestamp(0);

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: u64) -> Timestamp {
        Timestamp(ms)
    }

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: u64) -> Timestamp {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Converts a `SystemTime` the host read (a pure conversion; times before the epoch map
    /// to the epoch).
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch, as FreeSWITCH prints times.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Whether this is the epoch ("never").
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// This instant plus `secs` seconds.
    pub fn plus_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    fn add(self, d: Duration) -> Timestamp {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    /// Epoch seconds, the form FreeSWITCH's mod_callcenter prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_prints_seconds() {
        let t = Timestamp::from_secs(100);
        assert_eq!((t + Duration::from_millis(1500)).as_millis(), 101_500);
        assert_eq!(t.since(Timestamp::from_secs(200)), Duration::ZERO);
        assert_eq!(t.plus_secs(5).to_string(), "105");
        assert!(Timestamp::ZERO.is_zero());
    }
}
