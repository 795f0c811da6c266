//! `freeswitch.Event(name[, subclass])`: an event built by the script and fired on the
//! switch's event bus (seen by event-socket clients), FreeSWITCH's `Event` class.

use std::cell::RefCell;

use mlua::{Lua, UserData, UserDataMethods};
use switch_core::event::{is_event_name, Event, EventFormat};

use crate::error::located;
use crate::run::run_of;

/// An event being built.
pub(crate) struct LuaEvent {
    event: RefCell<Event>,
}

/// `freeswitch.Event(name, subclass)`: `CUSTOM` with a subclass, or any FreeSWITCH event
/// name.
pub(crate) fn create(lua: &Lua, name: &str, subclass: Option<&str>) -> mlua::Result<LuaEvent> {
    let name = name.trim();
    let event = if name.eq_ignore_ascii_case("CUSTOM") {
        let sub = subclass.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
            located(lua, "freeswitch.Event: a CUSTOM event needs a subclass, e.g. Event(\"CUSTOM\", \"my::event\")")
        })?;
        Event::custom(sub)
    } else {
        let Some(known) = is_event_name(&name.to_ascii_uppercase()) else {
            return Err(located(
                lua,
                format!("freeswitch.Event: unknown event name {name:?}"),
            ));
        };
        Event::new(known)
    };
    Ok(LuaEvent {
        event: RefCell::new(event),
    })
}

/// An event the switch delivered (an input callback's `"event"`), to read or fire again.
pub(crate) fn received(event: Event) -> LuaEvent {
    LuaEvent {
        event: RefCell::new(event),
    }
}

impl UserData for LuaEvent {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("addHeader", |_, e, (name, value): (String, String)| {
            e.event.borrow_mut().add(&name, value);
            Ok(true)
        });
        m.add_method("getHeader", |_, e, name: String| {
            Ok(e.event.borrow().header(&name).map(str::to_string))
        });
        m.add_method("delHeader", |_, e, name: String| {
            Ok(e.event.borrow_mut().remove(&name))
        });
        m.add_method("addBody", |_, e, body: String| {
            e.event.borrow_mut().set_body(body);
            Ok(true)
        });
        m.add_method("getBody", |_, e, ()| {
            Ok(e.event.borrow().body().map(str::to_string))
        });
        m.add_method("getType", |_, e, ()| {
            Ok(e.event.borrow().name().to_string())
        });
        m.add_method("setPriority", |_, _, _p: Option<i64>| Ok(true));
        m.add_method("serialize", |_, e, format: Option<String>| {
            let f = format
                .as_deref()
                .and_then(EventFormat::parse)
                .unwrap_or(EventFormat::Plain);
            Ok(e.event.borrow().serialize(f))
        });
        m.add_method("fire", |lua, e, ()| {
            let run = run_of(lua)?;
            let Some(ctx) = run.shared.context() else {
                tracing::warn!(
                    "{}event:fire(): no event bus (not running in the switch)",
                    crate::error::location(lua)
                );
                return Ok(false);
            };
            ctx.events.fire(e.event.borrow().clone());
            Ok(true)
        });
    }
}
