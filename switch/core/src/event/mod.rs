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
    headers: Headers,
    body: Option<String>,
    /// Where it was created, for `Event-Calling-File` / `Event-Calling-Line-Number`.
    file: &'static str,
    line: u32,
    /// When it was created (stamped as `Event-Date-*` when fired).
    created: SystemTime,
    /// The wire frame per format, made once for all subscribers of a fired event.
    frames: [std::sync::OnceLock<EventFrame>; 3],
}

/// An event's event-socket frame: the envelope (`Content-Length`, `Content-Type`) and the
/// serialised event, kept apart so the body is written where it was made, not copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFrame {
    head: String,
    body: String,
}

impl EventFrame {
    /// The envelope and the body, in wire order.
    pub fn parts(&self) -> [&str; 2] {
        [&self.head, &self.body]
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Never true: a frame has at least its envelope.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for EventFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.head)?;
        f.write_str(&self.body)
    }
}

impl Event {
    /// A new event named `name` (an [`EVENT_NAMES`] entry such as `CHANNEL_CREATE`). The
    /// caller's file and line become `Event-Calling-File` / `Event-Calling-Line-Number`.
    #[track_caller]
    pub fn new(name: &str) -> Event {
        let at = Location::caller();
        Event {
            headers: Headers::first("Event-Name", name),
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
        e.headers.insert_all(0, &[("Event-Subclass", subclass)]);
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
    pub fn add(&mut self, name: &str, value: impl AsRef<str>) -> &mut Event {
        self.changed();
        self.headers.push("", name, value.as_ref());
        self
    }

    /// Appends the header `variable_<name>`: a channel variable, as FreeSWITCH names them.
    pub fn add_var(&mut self, name: &str, value: &str) -> &mut Event {
        self.changed();
        self.headers.push("variable_", name, value);
        self
    }

    /// Builder form of [`Event::add`].
    pub fn with(mut self, name: &str, value: impl AsRef<str>) -> Event {
        self.add(name, value);
        self
    }

    /// Replaces the first header of that name in place, or appends it.
    pub fn set(&mut self, name: &str, value: impl AsRef<str>) {
        self.changed();
        match self.headers.position(name) {
            Some(i) => self.headers.set_value(i, value.as_ref()),
            None => self.headers.push("", name, value.as_ref()),
        }
    }

    /// Removes every header of that name (never `Event-Name`); true if there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.headers.len();
        self.headers
            .retain(|n| !n.eq_ignore_ascii_case(name) || n.eq_ignore_ascii_case("Event-Name"));
        self.headers.len() != before
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.position(name).map(|i| self.headers.get(i).1)
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter()
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
    pub fn frame(&self, format: EventFormat) -> &EventFrame {
        let slot = match format {
            EventFormat::Plain => 0,
            EventFormat::Json => 1,
            EventFormat::Xml => 2,
        };
        self.frames[slot].get_or_init(|| {
            let body = self.serialize(format);
            let head = format!(
                "Content-Length: {}\nContent-Type: text/event-{}\n\n",
                body.len(),
                format.as_str()
            );
            EventFrame { head, body }
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
        let (micros, line, seq) = (micros.to_string(), self.line.to_string(), seq.to_string());
        let std: [(&str, &str); 11] = [
            ("Core-UUID", &id.core_uuid),
            ("FreeSWITCH-Hostname", &id.hostname),
            ("FreeSWITCH-Switchname", &id.switchname),
            ("FreeSWITCH-IPv4", &id.ipv4),
            ("FreeSWITCH-IPv6", &id.ipv6),
            ("Event-Date-Local", &local),
            ("Event-Date-GMT", &gmt),
            ("Event-Date-Timestamp", &micros),
            ("Event-Calling-File", self.file),
            ("Event-Calling-Line-Number", &line),
            ("Event-Sequence", &seq),
        ];
        let at = self.headers.position("Event-Name").map_or(0, |i| i + 1);
        self.headers.insert_all(at, &std);
    }
}

/// An event's headers in one buffer: an event has dozens (every channel variable), and one
/// allocation for all of them instead of two per header is most of the cost of firing one.
#[derive(Clone, Default)]
struct Headers {
    text: String,
    /// Byte ranges of each header's name and value in `text`, in order.
    spans: Vec<Span>,
}

#[derive(Clone, Copy)]
struct Span {
    name: (usize, usize),
    value: (usize, usize),
}

impl Headers {
    fn first(name: &str, value: &str) -> Headers {
        // A channel event has 50-60 headers in 1.5-2 KB: room for them with no regrowth.
        let mut h = Headers {
            text: String::with_capacity(2048),
            spans: Vec::with_capacity(80),
        };
        h.push("", name, value);
        h
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Appends `prefix` + `name`: `value` to the buffer, returning its span.
    fn append(&mut self, prefix: &str, name: &str, value: &str) -> Span {
        let n0 = self.text.len();
        self.text.push_str(prefix);
        self.text.push_str(name);
        let v0 = self.text.len();
        self.text.push_str(value);
        Span {
            name: (n0, v0),
            value: (v0, self.text.len()),
        }
    }

    fn push(&mut self, prefix: &str, name: &str, value: &str) {
        let span = self.append(prefix, name, value);
        self.spans.push(span);
    }

    fn insert_all(&mut self, at: usize, headers: &[(&str, &str)]) {
        let spans: Vec<Span> = headers.iter().map(|(n, v)| self.append("", n, v)).collect();
        let at = at.min(self.spans.len());
        self.spans.splice(at..at, spans);
    }

    /// Replaces header `i`'s value (the old bytes stay unused in the buffer).
    fn set_value(&mut self, i: usize, value: &str) {
        let v0 = self.text.len();
        self.text.push_str(value);
        if let Some(s) = self.spans.get_mut(i) {
            s.value = (v0, self.text.len());
        }
    }

    fn get(&self, i: usize) -> (&str, &str) {
        let s = self.spans[i];
        (
            &self.text[s.name.0..s.name.1],
            &self.text[s.value.0..s.value.1],
        )
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.spans.len()).map(|i| self.get(i))
    }

    /// The first header named `name` (any case).
    fn position(&self, name: &str) -> Option<usize> {
        (0..self.spans.len()).find(|&i| self.get(i).0.eq_ignore_ascii_case(name))
    }

    fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let text = &self.text;
        self.spans.retain(|s| keep(&text[s.name.0..s.name.1]));
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `switch/core/src/call/mod.rs` -> `call/mod.rs`: the part below `src/`, like FreeSWITCH's
/// bare file names.
fn short_file(path: &'static str) -> &'static str {
    path.rsplit_once("src/").map_or(path, |(_, rest)| rest)
}

#[cfg(test)]
mod tests;
