//! The event socket: FreeSWITCH's mod_event_socket protocol, inbound mode.
//!
//! A client connects to `esl.listen` (from an address in `esl.acl`), gets
//! `Content-Type: auth/request`, answers `auth <esl.password>`, then sends commands (`api`,
//! `bgapi`, `event`, `filter`, `sendmsg`, `log`, `exit`, ...) as lines ending with a blank
//! line, and receives `command/reply`, `api/response`, `text/event-plain|json|xml` and
//! `log/data` frames. See [`command::Request`] for the commands and the README for the wire
//! format. Outbound mode (the `socket` dialplan application) is not implemented yet.
//!
//! No client can slow the switch or another client: events reach a client through its own
//! bounded bus queue (dropped and counted when full), replies through a bounded outbound
//! queue, and a client that stops reading is disconnected.

pub mod command;
mod conn;
pub mod parser;
mod wire;

pub use conn::serve_outbound;
pub use wire::{api_response, command_reply, DISCONNECT_NOTICE};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::context::Context;

/// Failed `auth` attempts from one address within [`FAIL_WINDOW`] that block it.
pub const MAX_AUTH_FAILURES: u32 = 5;
/// The window in which failures are counted, and how long a block lasts.
pub const FAIL_WINDOW: Duration = Duration::from_secs(60);

/// Binds `esl.listen` and serves clients until the runtime stops; `Ok(None)` when the
/// event socket is off.
pub async fn start(ctx: Arc<Context>) -> std::io::Result<Option<SocketAddr>> {
    let Some(addr) = ctx.config.esl.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(accept_loop(ctx, listener));
    Ok(Some(local))
}

async fn accept_loop(ctx: Arc<Context>, listener: TcpListener) {
    let throttle = Arc::new(Throttle::default());
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "event socket: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let allowed = ctx.config.esl.allows(peer.ip());
        let blocked = throttle.is_blocked(peer.ip(), Instant::now());
        if !allowed || blocked {
            if !allowed {
                tracing::warn!(source = %peer, "event socket: connection refused by esl.acl");
            } else {
                tracing::warn!(source = %peer, "event socket: connection refused: too many failed auth attempts");
            }
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    stream.write_all(wire::REJECTION.as_bytes()),
                )
                .await;
            });
            continue;
        }
        let _ = stream.set_nodelay(true);
        tracing::debug!(source = %peer, "event socket: connection open");
        tokio::spawn(conn::serve(ctx.clone(), stream, peer, throttle.clone()));
    }
}

/// Failed `auth` attempts by source address.
#[derive(Default)]
pub(crate) struct Throttle {
    map: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// Counts a failure; true when this one blocks the address.
    pub(crate) fn failed(&self, ip: IpAddr, now: Instant) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, since)| now.duration_since(*since) < FAIL_WINDOW);
        let entry = map.entry(ip).or_insert((0, now));
        entry.0 += 1;
        entry.0 == MAX_AUTH_FAILURES
    }

    pub(crate) fn is_blocked(&self, ip: IpAddr, now: Instant) -> bool {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).is_some_and(|(n, since)| {
            *n >= MAX_AUTH_FAILURES && now.duration_since(*since) < FAIL_WINDOW
        })
    }

    pub(crate) fn succeeded(&self, ip: IpAddr) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_blocks_after_repeated_failures_then_forgets() {
        let t = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let now = Instant::now();
        for n in 1..MAX_AUTH_FAILURES {
            assert!(!t.failed(ip, now), "failure {n}");
            assert!(!t.is_blocked(ip, now));
        }
        assert!(t.failed(ip, now));
        assert!(t.is_blocked(ip, now));
        assert!(!t.is_blocked(ip, now + FAIL_WINDOW));
        assert!(!t.is_blocked("127.0.0.2".parse().unwrap(), now));
        t.succeeded(ip);
        assert!(!t.is_blocked(ip, now));
    }
}
