//! Sans-IO SIP for ferroswitch.
//!
//! What it does: parses and prints SIP messages (RFC 3261), runs client and server
//! transactions with the RFC timers, computes and checks digest credentials (RFC 7616),
//! and reads and rewrites SDP bodies.
//!
//! What it does not do: I/O. There are no sockets, no tokio and no clock here. Input is
//! `(bytes, source, now)`; output is datagrams to send, events for the transaction user and
//! the next deadline. The driver (switch-core's runtime) loops:
//! `handle_*(now, ..)` then drain `poll_transmit()` / `poll_event()`, sleep until `poll_timeout()`.

pub mod auth;
pub mod message;
pub mod sdp;
pub mod transaction;
