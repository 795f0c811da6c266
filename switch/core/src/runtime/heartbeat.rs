//! The HEARTBEAT event, every `esl.heartbeat` seconds, with FreeSWITCH's headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::builtin_uptime_text;
use crate::context::Context;
use crate::event::Event;

/// Fires HEARTBEAT every `period` until the runtime stops.
pub(super) async fn run(ctx: Arc<Context>, period: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut last = (Instant::now(), ctx.channels.created_total());
    let mut max_rate = 0u64;
    loop {
        tick.tick().await;
        let now = Instant::now();
        let total = ctx.channels.created_total();
        let secs = now.duration_since(last.0).as_secs_f64().max(0.001);
        let rate = ((total - last.1) as f64 / secs).round() as u64;
        max_rate = max_rate.max(rate);
        last = (now, total);
        ctx.events.fire(heartbeat(&ctx, rate, max_rate));
    }
}

/// One HEARTBEAT event; `rate` is sessions per second since the last one.
pub fn heartbeat(ctx: &Context, rate: u64, max_rate: u64) -> Event {
    let up = ctx.started.elapsed();
    Event::new("HEARTBEAT")
        .with("Event-Info", "System Ready")
        .with("Up-Time", builtin_uptime_text(up))
        .with("FreeSWITCH-Version", env!("CARGO_PKG_VERSION"))
        .with("Uptime-msec", up.as_millis().to_string())
        .with("Session-Count", ctx.channels.count().to_string())
        .with("Max-Sessions", "0")
        .with("Session-Per-Sec", rate.to_string())
        .with("Session-Per-Sec-Last", rate.to_string())
        .with("Session-Per-Sec-Max", max_rate.to_string())
        .with(
            "Session-Since-Startup",
            ctx.channels.created_total().to_string(),
        )
        .with("Session-Peak-Max", ctx.channels.peak().to_string())
        .with("Call-Count", ctx.call_count().to_string())
        .with(
            "Registration-Count",
            ctx.registrations.all().len().to_string(),
        )
}
