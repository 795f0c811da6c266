//! [`Session`]: the call an application runs on, FreeSWITCH's `session` methods, blocking.

use std::ffi::c_void;
use std::time::Duration;

use switch_abi::{Status, StrRef};

use crate::shims::sink;
use crate::{Error, Host};

/// The call an [`crate::Application`] runs on. Valid during the run only. Each method
/// blocks until the call has done it; after the caller hung up they return an error with
/// [`Status::HUNG_UP`] at once.
#[derive(Debug)]
pub struct Session<'a> {
    host: Host,
    raw: *mut c_void,
    uuid: &'a str,
}

fn check(st: Status, what: &str) -> Result<(), Error> {
    if st.is_ok() {
        Ok(())
    } else {
        Err(Error::new(st, what))
    }
}

impl<'a> Session<'a> {
    pub(crate) fn new(host: Host, raw: *mut c_void, uuid: &'a str) -> Session<'a> {
        Session { host, raw, uuid }
    }

    /// The channel's uuid.
    pub fn uuid(&self) -> &'a str {
        self.uuid
    }

    /// The switch, for what is not about this session.
    pub fn host(&self) -> Host {
        self.host
    }

    /// Answers the call (no-op when answered).
    pub fn answer(&self) -> Result<(), Error> {
        // SAFETY: `raw` is the session the host passed for this run, valid during it.
        check(
            unsafe { (self.host.raw().session_answer)(self.raw) },
            "answer",
        )
    }

    /// Hangs up with a Q.850 cause name (`NORMAL_CLEARING`, `USER_BUSY`...).
    pub fn hangup(&self, cause: &str) {
        // SAFETY: as in answer; `cause` is valid for the call.
        unsafe { (self.host.raw().session_hangup)(self.raw, StrRef::new(cause)) };
    }

    /// Whether the call is still up.
    pub fn ready(&self) -> bool {
        // SAFETY: as in answer.
        unsafe { (self.host.raw().session_ready)(self.raw) != 0 }
    }

    /// A channel variable (`None` when unset).
    pub fn variable(&self, name: &str) -> Option<String> {
        let mut buf = Vec::new();
        // SAFETY: as in answer; the sink's buffer outlives the call.
        let st = unsafe {
            (self.host.raw().session_get_var)(self.raw, StrRef::new(name), sink(&mut buf))
        };
        st.is_ok()
            .then(|| String::from_utf8_lossy(&buf).into_owned())
    }

    /// Sets (or with `None` unsets) a channel variable.
    pub fn set_variable(&self, name: &str, value: Option<&str>) {
        let v = value.map_or(StrRef::NONE, StrRef::new);
        // SAFETY: as in answer.
        unsafe { (self.host.raw().session_set_var)(self.raw, StrRef::new(name), v) };
    }

    /// Plays `what` (a sound file, `a!b`, `tone_stream://...`, `silence_stream://ms`) until it
    /// ends; a digit of `stop_on` ends it early and is returned.
    pub fn play(&self, what: &str, stop_on: &str) -> Result<Option<char>, Error> {
        let mut digit = 0u32;
        // SAFETY: as in answer; `digit` outlives the call.
        let st = unsafe {
            (self.host.raw().session_play)(
                self.raw,
                StrRef::new(what),
                StrRef::new(stop_on),
                &mut digit,
            )
        };
        check(st, &format!("play {what}"))?;
        Ok(char::from_u32(digit).filter(|c| *c != '\0'))
    }

    /// Collects up to `max` digits, ending on one of `terminators` (not included), after
    /// `first` with none, or `inter` between two.
    pub fn collect_digits(
        &self,
        max: u32,
        terminators: &str,
        first: Duration,
        inter: Duration,
    ) -> Result<String, Error> {
        let mut buf = Vec::new();
        let ms = |d: Duration| d.as_millis().min(u128::from(u32::MAX)) as u32;
        // SAFETY: as in variable.
        let st = unsafe {
            (self.host.raw().session_collect)(
                self.raw,
                max,
                StrRef::new(terminators),
                ms(first),
                ms(inter),
                sink(&mut buf),
            )
        };
        check(st, "collect digits")?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Runs another dialplan application (`playback`, `bridge`, a module's) and returns when
    /// it is done.
    pub fn execute(&self, app: &str, args: &str) -> Result<(), Error> {
        // SAFETY: as in answer.
        let st = unsafe {
            (self.host.raw().session_execute)(self.raw, StrRef::new(app), StrRef::new(args))
        };
        check(st, &format!("execute {app}"))
    }

    /// Waits `d`, the call going on (digits pressed meanwhile are kept).
    pub fn sleep(&self, d: Duration) -> Result<(), Error> {
        let ms = d.as_millis().min(u128::from(u32::MAX)) as u32;
        // SAFETY: as in answer.
        check(
            unsafe { (self.host.raw().session_sleep)(self.raw, ms) },
            "sleep",
        )
    }
}
