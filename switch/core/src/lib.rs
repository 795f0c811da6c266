//! ferroswitch core: the only crate with I/O and a runtime.
//!
//! It owns the sockets and timers, feeds the sans-IO crates (`switch-sip`, `switch-media`)
//! and holds the call model: channels, the registrar, the B2BUA, config loading and CDRs.

pub mod api;
pub mod app;
pub mod auth;
pub mod call;
pub mod cdr;
pub mod channel;
pub mod config;
pub mod context;
pub mod esl;
pub mod event;
pub mod loader;
pub mod log;
pub mod media;
pub mod registrar;
pub mod runtime;
pub mod script;
pub mod tts;
