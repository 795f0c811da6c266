//! ferroswitch core: the only crate with I/O and a runtime.
//!
//! It owns the sockets and timers, feeds the sans-IO crates (`switch-sip`, `switch-media`)
//! and holds the call model: channels, the registrar, the B2BUA, config loading and CDRs.

pub mod cdr;
pub mod config;
pub mod media;
