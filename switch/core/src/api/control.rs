//! What the API layer asks of calls, behind one object-safe trait, so that the call model
//! can grow (or be replaced) without touching the commands.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::BoxFuture;
use crate::call::{CallEvent, CallSender, Control};
use crate::channel::ChannelInfo;
use crate::context::Context;

/// How long a call may take to answer a control request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// The error of a channel that does not exist, as FreeSWITCH words it.
pub const NO_SUCH_CHANNEL: &str = "No such channel!";

/// Call operations for the `uuid_*`, `show channels|calls` and `originate` commands. Each
/// returns the reply text after `+OK ` (often empty) or the reason after `-ERR `. The
/// defaults answer `not yet supported`.
pub trait CallControl: Send + Sync {
    /// Every live leg.
    fn channels(&self, ctx: &Context) -> Vec<ChannelInfo> {
        ctx.channels.all()
    }

    /// Hangs up the call of leg `uuid` with a Q.850 cause name.
    fn kill<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        cause: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;

    /// A channel variable (`Ok(None)` when unset).
    fn getvar<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>>;

    /// Sets (or with `None` unsets) a channel variable.
    fn setvar<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        name: &'a str,
        value: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, String>>;

    /// `uuid_bridge <uuid> <other_uuid>`.
    fn bridge<'a>(
        &'a self,
        _ctx: &'a Context,
        _uuid: &'a str,
        _other: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }

    /// `uuid_transfer <uuid> [-bleg|-both] <dest> [<dialplan>] [<context>]`: `args` after the uuid.
    fn transfer<'a>(
        &'a self,
        _ctx: &'a Context,
        _uuid: &'a str,
        _args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }

    /// `uuid_hold [off|toggle] <uuid>`.
    fn hold<'a>(
        &'a self,
        _ctx: &'a Context,
        _uuid: &'a str,
        _mode: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }

    /// `uuid_break <uuid>`: stops the playback on that leg.
    fn break_play<'a>(
        &'a self,
        _ctx: &'a Context,
        _uuid: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }

    /// Runs `app args` on the parked channel `uuid` (`sendmsg` execute).
    fn execute<'a>(
        &'a self,
        _ctx: &'a Context,
        _uuid: &'a str,
        _app: &'a str,
        _args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }

    /// `originate <dial string> <extension>|&<app>(<args>)`: returns the new leg's uuid.
    fn originate<'a>(
        &'a self,
        _ctx: &'a Arc<Context>,
        _args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        unsupported()
    }
}

fn unsupported<'a>() -> BoxFuture<'a, Result<String, String>> {
    Box::pin(async { Err("not yet supported".to_string()) })
}

/// The call control of today's call model: one task per call with a mailbox.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoreCallControl;

/// Queues `event` to channel `uuid` (its script's input callback gets it); false when there
/// is no such channel.
pub(crate) fn queue_event(ctx: &Context, uuid: &str, event: crate::event::Event) -> bool {
    if ctx.channels.get(uuid).is_none() {
        return false;
    }
    call_of(ctx, uuid).is_some_and(|c| {
        c.send(CallEvent::Control(Control::QueueEvent {
            event: Box::new(event),
        }))
        .is_ok()
    })
}

/// The mailbox of the call that leg `uuid` belongs to (a B leg's is its A leg's call).
pub(crate) fn call_of(ctx: &Context, uuid: &str) -> Option<CallSender> {
    let call_uuid = ctx
        .channels
        .get(uuid)
        .map(|c| c.call_uuid)
        .unwrap_or_else(|| uuid.to_string());
    let calls = ctx.calls.lock().unwrap_or_else(|e| e.into_inner());
    calls.get(&call_uuid).cloned()
}

pub(crate) async fn ask<T>(
    ctx: &Context,
    uuid: &str,
    make: impl FnOnce(oneshot::Sender<T>) -> Control,
) -> Result<T, String> {
    let call = call_of(ctx, uuid).ok_or_else(|| NO_SUCH_CHANNEL.to_string())?;
    let (tx, rx) = oneshot::channel();
    call.send(CallEvent::Control(make(tx)))
        .map_err(|_| NO_SUCH_CHANNEL.to_string())?;
    match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(NO_SUCH_CHANNEL.to_string()),
        Err(_) => Err(format!(
            "channel {uuid} did not answer within {REPLY_TIMEOUT:?}"
        )),
    }
}

impl CallControl for CoreCallControl {
    fn execute<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        app: &'a str,
        args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let app = app.to_string();
            let args = args.to_string();
            ask(ctx, uuid, |reply| Control::Execute { app, args, reply }).await??;
            Ok(String::new())
        })
    }

    fn bridge<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        other: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let (Some(a), Some(b)) = (ctx.channels.get(uuid), ctx.channels.get(other)) else {
                return Err(NO_SUCH_CHANNEL.to_string());
            };
            if a.call_uuid == b.call_uuid {
                return Err("both legs are in the same call".into());
            }
            if a.bridged_to.is_some() {
                return Err(format!("{uuid} is already bridged"));
            }
            let taker = call_of(ctx, uuid).ok_or_else(|| NO_SUCH_CHANNEL.to_string())?;
            let leg = ask(ctx, other, |reply| Control::HandOver { reply }).await??;
            taker
                .send(CallEvent::Control(Control::Adopt { leg: Box::new(leg) }))
                .map_err(|_| format!("{uuid} ended meanwhile"))?;
            Ok(String::new())
        })
    }

    fn hold<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        mode: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let leg = uuid.to_string();
            let mode = mode.to_string();
            ask(ctx, uuid, |reply| Control::Hold { leg, mode, reply }).await??;
            Ok(String::new())
        })
    }

    fn break_play<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let leg = uuid.to_string();
            ask(ctx, uuid, |reply| Control::Break { leg, reply }).await??;
            Ok(String::new())
        })
    }

    fn transfer<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut words = args.split_whitespace().peekable();
            // -bleg and -both are for the two legs of a bridge; the caller's leg moves.
            if words.peek().is_some_and(|w| w.starts_with('-')) {
                words.next();
            }
            let dest = words.next().ok_or("no destination")?.to_string();
            ask(ctx, uuid, |reply| Control::Transfer { dest, reply }).await?;
            Ok(String::new())
        })
    }

    fn originate<'a>(
        &'a self,
        ctx: &'a Arc<Context>,
        args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let req = crate::call::originate::parse_api_args(args)?;
            match crate::call::originate::originate(ctx.clone(), req).await {
                Ok(o) => Ok(o.uuid),
                Err(cause) => Err(cause),
            }
        })
    }

    fn kill<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        cause: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let call = call_of(ctx, uuid).ok_or_else(|| NO_SUCH_CHANNEL.to_string())?;
            call.send(CallEvent::Hangup {
                cause: cause.to_string(),
            })
            .map_err(|_| NO_SUCH_CHANNEL.to_string())?;
            Ok(String::new())
        })
    }

    fn getvar<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let leg = uuid.to_string();
            let name = name.to_string();
            ask(ctx, uuid, |reply| Control::GetVar { leg, name, reply }).await
        })
    }

    fn setvar<'a>(
        &'a self,
        ctx: &'a Context,
        uuid: &'a str,
        name: &'a str,
        value: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let (leg, name) = (uuid.to_string(), name.to_string());
            let value = value.map(str::to_string);
            ask(ctx, uuid, |reply| Control::SetVar {
                leg,
                name,
                value,
                reply,
            })
            .await?;
            Ok(String::new())
        })
    }
}
