//! mod_example: the template to copy when starting a module. It registers
//!
//! - the application `example_hello [name]`: answers, plays a short tone, sets the channel
//!   variable `example_greeting` to "<greeting>, <name>" and fires the event below;
//! - the API command `example_status`: how many hellos it said and saw;
//! - the event `CUSTOM example::hello` (headers `Unique-ID`, `Example-Greeting`), which it
//!   also subscribes to, counting what the bus delivers back.
//!
//! Its config, `conf/modules/mod_example.toml`:
//! ```toml
//! greeting = "hello"                     # the start of example_greeting
//! tone = "tone_stream://L=1;%(200,0,800)"    # what example_hello plays ("" for nothing)
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use switch_sdk::serde::Deserialize;
use switch_sdk::{declare_module, Event, EventView, Host, Module, Session, SubscriptionId};

/// The event the module fires.
pub const EVENT: &str = "example::hello";

/// `conf/modules/mod_example.toml`. `default` makes every key optional; unknown keys are
/// errors (a typo must not silently become a default).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(crate = "switch_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// The start of `example_greeting`.
    pub greeting: String,
    /// What `example_hello` plays after answering ("" for nothing).
    pub tone: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            greeting: "hello".into(),
            tone: "tone_stream://L=1;%(200,0,800)".into(),
        }
    }
}

/// What the module counts.
#[derive(Debug, Default)]
pub struct Counters {
    /// Hellos said by the application.
    pub said: AtomicU64,
    /// `example::hello` events the bus delivered to the module.
    pub seen: AtomicU64,
}

/// The greeting for `name` (the application's argument, "caller" when empty).
pub fn greeting(cfg: &Config, name: &str) -> String {
    let name = name.trim();
    let name = if name.is_empty() { "caller" } else { name };
    format!("{}, {name}", cfg.greeting)
}

/// The module: what it keeps between callbacks.
pub struct Example {
    host: Host,
    subscription: SubscriptionId,
}

impl Module for Example {
    fn init(host: &Host) -> Result<Self, String> {
        // The config file is optional; a bad one refuses the load with file and line.
        let cfg: Config = host.config()?;
        let counters = Arc::new(Counters::default());

        let (c, conf) = (counters.clone(), cfg.clone());
        host.register_app(
            "example_hello",
            "answer, play a tone, set example_greeting and fire CUSTOM example::hello",
            move |s: &Session<'_>, args: &str| {
                s.answer().map_err(|e| e.to_string())?;
                if !conf.tone.is_empty() {
                    s.play(&conf.tone, "").map_err(|e| e.to_string())?;
                }
                let text = greeting(&conf, args);
                s.set_variable("example_greeting", Some(&text));
                c.said.fetch_add(1, Ordering::Relaxed);
                let event = Event::custom(EVENT)
                    .with("Unique-ID", s.uuid())
                    .with("Example-Greeting", text.as_str());
                s.host().fire(&event).map_err(|e| e.to_string())?;
                switch_sdk::info!("said {text:?} to {}", s.uuid());
                Ok(())
            },
        )
        .map_err(|e| e.to_string())?;

        let c = counters.clone();
        host.register_api(
            "example_status",
            "",
            "how many hellos mod_example said and saw",
            move |_args: &str| {
                Ok(format!(
                    "+OK said {} seen {}",
                    c.said.load(Ordering::Relaxed),
                    c.seen.load(Ordering::Relaxed)
                ))
            },
        )
        .map_err(|e| e.to_string())?;

        let c = counters;
        let subscription = host
            .subscribe(&format!("CUSTOM {EVENT}"), move |e: &EventView<'_>| {
                if e.subclass() == Some(EVENT) {
                    c.seen.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| e.to_string())?;

        switch_sdk::info!("started; greeting {:?}", cfg.greeting);
        Ok(Example {
            host: *host,
            subscription,
        })
    }

    fn shutdown(&self) {
        // Everything registered is removed by the switch at unload; this is where a module
        // stops its own threads. Unsubscribing here only shows the call.
        let _ = self.host.unsubscribe(self.subscription);
        switch_sdk::info!("stopped");
    }
}

declare_module! {
    name: "mod_example",
    description: "template: one application, one API command, one event",
    module: Example,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_defaults_the_name() {
        let cfg = Config::default();
        assert_eq!(greeting(&cfg, "  "), "hello, caller");
        assert_eq!(greeting(&cfg, "Ada"), "hello, Ada");
    }

    #[test]
    fn config_keys_are_optional_and_checked() {
        let cfg: Config = switch_sdk::toml::from_str("greeting = \"hi\"").expect("valid");
        assert_eq!(cfg.greeting, "hi");
        assert_eq!(cfg.tone, Config::default().tone);
        assert!(switch_sdk::toml::from_str::<Config>("greting = \"hi\"").is_err());
    }
}
