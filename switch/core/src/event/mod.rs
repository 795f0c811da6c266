//! Events with FreeSWITCH's semantics: a name, ordered headers and an optional body, fired on
//! one [`EventBus`] that never blocks the firing task.
//!
//! An [`Event`] is built where something happens (`Event::new("CHANNEL_ANSWER")` and
//! [`Event::add`]); [`EventBus::fire`] stamps the headers every FreeSWITCH event carries
//! (`Core-UUID`, `FreeSWITCH-Hostname`, `Event-Date-*`, `Event-Sequence`, ...) right after
//! `Event-Name`, and hands it to every subscriber whose [`Interest`] matches. Serialisation
//! follows FreeSWITCH's `switch_event_serialize` (plain), `_json` and `_xmlize`.

mod bus;
mod filter;
mod format;
mod names;

pub use bus::{BusStats, EventBus, Identity, InterestHandle, Subscription, DEFAULT_QUEUE};
pub use filter::{Filter, FilterError, Interest};
pub use format::{url_decode, url_encode, EventFormat};
pub use names::{is_event_name, EVENT_NAMES, MYEVENTS};

use std::panic::Location;
use std::time::SystemTime;

/// One event: `Event-Name` first, then headers in the order they were added, and an
/// optional body. Header names compare case-insensitively, as FreeSWITCH's do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// Where it was created, for `Event-Calling-File` / `Event-Calling-Line-Number`.
    file: &'static str,
    line: u32,
    /// When it was created (stamped as `Event-Date-*` when fired).
    created: SystemTime,
    /// The wire frame per format, made once for all subscribers of a fired event.
    frames: [std::sync::OnceLock<String>; 3],
}

impl Event {
    /// A new event named `name` (an [`EVENT_NAMES`] entry such as `CHANNEL_CREATE`). The
    /// caller's file and line become `Event-Calling-File` / `Event-Calling-Line-Number`.
    #[track_caller]
    pub fn new(name: &str) -> Event {
        let at = Location::caller();
        Event {
            headers: vec![("Event-Name".into(), name.into())],
            body: None,
            file: short_file(at.file()),
            line: at.line(),
            created: SystemTime::now(),
            frames: Default::default(),
        }
    }

    /// A `CUSTOM` event with `Event-Subclass: subclass` (e.g. `callcenter::info`); the
    /// subclass header comes first, as FreeSWITCH writes it.
    #[track_caller]
    pub fn custom(subclass: &str) -> Event {
        let mut e = Event::new("CUSTOM");
        e.headers
            .insert(0, ("Event-Subclass".into(), subclass.into()));
        e
    }

    /// The event name (`CUSTOM` for custom events).
    pub fn name(&self) -> &str {
        self.header("Event-Name").unwrap_or("")
    }

    /// `Event-Subclass`, for `CUSTOM` events.
    pub fn subclass(&self) -> Option<&str> {
        self.header("Event-Subclass")
    }

    /// Appends a header (a second one of the same name is kept too).
    pub fn add(&mut self, name: &str, value: impl Into<String>) -> &mut Event {
        self.changed();
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Builder form of [`Event::add`].
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Event {
        self.add(name, value);
        self
    }

    /// Replaces the first header of that name in place, or appends it.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.changed();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = value.into(),
            None => self.headers.push((name.to_string(), value.into())),
        }
    }

    /// Removes every header of that name (never `Event-Name`); true if there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.headers.len();
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name) || n.eq_ignore_ascii_case("Event-Name"));
        self.headers.len() != before
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// Sets the body (serialised after the headers, with its Content-Length).
    pub fn set_body(&mut self, body: impl Into<String>) {
        self.changed();
        self.body = Some(body.into());
    }

    /// The event-socket frame (`Content-Length`, `Content-Type: text/event-<format>`, the
    /// serialised event), made on first use and shared: a fired event is not changed again.
    pub fn frame(&self, format: EventFormat) -> &str {
        let slot = match format {
            EventFormat::Plain => 0,
            EventFormat::Json => 1,
            EventFormat::Xml => 2,
        };
        self.frames[slot].get_or_init(|| {
            let body = self.serialize(format);
            format!(
                "Content-Length: {}\nContent-Type: text/event-{}\n\n{body}",
                body.len(),
                format.as_str()
            )
        })
    }

    /// Serialises in one of the ESL formats.
    pub fn serialize(&self, format: EventFormat) -> String {
        match format {
            EventFormat::Plain => format::plain(self),
            EventFormat::Json => format::json(self),
            EventFormat::Xml => format::xml(self),
        }
    }

    /// Stamps the headers FreeSWITCH adds when an event is fired, right after
    /// `Event-Name` (and `Event-Subclass`), unless they are there already.
    /// Forgets the frames made from the event as it was.
    fn changed(&mut self) {
        for f in &mut self.frames {
            f.take();
        }
    }

    pub(crate) fn prepare(&mut self, id: &Identity, seq: u64) {
        self.changed();
        if self.header("Core-UUID").is_some() {
            self.set("Event-Sequence", seq.to_string());
            return;
        }
        let (local, gmt, micros) = format::dates(self.created);
        let mut std: Vec<(String, String)> = vec![
            ("Core-UUID".into(), id.core_uuid.clone()),
            ("FreeSWITCH-Hostname".into(), id.hostname.clone()),
            ("FreeSWITCH-Switchname".into(), id.switchname.clone()),
            ("FreeSWITCH-IPv4".into(), id.ipv4.clone()),
            ("FreeSWITCH-IPv6".into(), id.ipv6.clone()),
            ("Event-Date-Local".into(), local),
            ("Event-Date-GMT".into(), gmt),
            ("Event-Date-Timestamp".into(), micros.to_string()),
            ("Event-Calling-File".into(), self.file.to_string()),
            ("Event-Calling-Function".into(), String::new()),
            ("Event-Calling-Line-Number".into(), self.line.to_string()),
            ("Event-Sequence".into(), seq.to_string()),
        ];
        std.retain(|(n, v)| n != "Event-Calling-Function" || !v.is_empty());
        let at = self
            .headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case("Event-Name"))
            .map_or(0, |i| i + 1);
        self.headers.splice(at..at, std);
    }
}

/// `switch/core/src/call/mod.rs` -> `call/mod.rs`: the part below `src/`, like FreeSWITCH's
/// bare file names.
fn short_file(path: &'static str) -> &'static str {
    path.rsplit_once("src/").map_or(path, |(_, rest)| rest)
}

#[cfg(test)]
mod tests;
