//! Events: [`Event`] to fire, [`EventView`] of one received.

use switch_abi::{EventRef, StrRef};

/// An event to fire with [`crate::Host::fire`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub(crate) name: String,
    pub(crate) subclass: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
}

impl Event {
    /// A `CUSTOM` event with `Event-Subclass: subclass` (`example::ping`): what modules fire.
    pub fn custom(subclass: &str) -> Event {
        Event {
            name: "CUSTOM".into(),
            subclass: Some(subclass.into()),
            ..Event::default()
        }
    }

    /// An event with one of the switch's names (`HEARTBEAT`...): rarely what a module wants.
    pub fn named(name: &str) -> Event {
        Event {
            name: name.into(),
            ..Event::default()
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Event {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<String>) -> Event {
        self.body = Some(body.into());
        self
    }
}

/// An event delivered to a handler, borrowed for the call.
#[derive(Clone, Copy, Debug)]
pub struct EventView<'a> {
    raw: &'a EventRef,
}

fn s<'a>(r: StrRef) -> &'a str {
    // SAFETY: an EventView only exists during the handler call, for which the host keeps every
    // string of the event valid.
    unsafe { r.as_str() }.unwrap_or("")
}

impl<'a> EventView<'a> {
    pub(crate) fn new(raw: &'a EventRef) -> EventView<'a> {
        EventView { raw }
    }

    /// `Event-Name`.
    pub fn name(&self) -> &'a str {
        s(self.raw.name)
    }

    /// `Event-Subclass` of a `CUSTOM` event.
    pub fn subclass(&self) -> Option<&'a str> {
        (!self.raw.subclass.is_none()).then(|| s(self.raw.subclass))
    }

    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        // SAFETY: as in `s`: the array lives for the call.
        let h = unsafe { self.raw.headers() };
        h.iter().map(|h| (s(h.name), s(h.value)))
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&'a str> {
        (!self.raw.body.is_none()).then(|| s(self.raw.body))
    }
}
