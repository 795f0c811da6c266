//! The runtime edge: the only place that binds sockets and runs tasks.

pub mod heartbeat;
pub mod sip;
mod tcp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::call::CallEvent;
use crate::cdr::CdrWriter;
use crate::config::Config;
use crate::context::Context;
use crate::event::{EventBus, Identity};
use crate::media::PortPool;
use crate::registrar::Registrations;

/// Why the switch could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot bind SIP socket: {0}")]
    Bind(std::io::Error),
    #[error("cannot bind the event socket esl.listen={addr}: {source}")]
    EslBind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot open the CDR database {path}: {message}")]
    Cdr { path: String, message: String },
}

/// A running switch.
pub struct Running {
    pub ctx: Arc<Context>,
    /// Where the event socket listens, when it is on.
    pub esl: Option<std::net::SocketAddr>,
    sip_task: tokio::task::JoinHandle<()>,
}

/// Binds everything and starts the SIP task.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let cdr = CdrWriter::open(&config.cdr.path).map_err(|e| StartError::Cdr {
        path: config.cdr.path.display().to_string(),
        message: e.to_string(),
    })?;
    let (sip, sockets) = sip::bind(&config).await.map_err(StartError::Bind)?;
    let ports = PortPool::new(config.rtp.ip, config.rtp.ports.clone());
    let events = EventBus::new(Identity::new(&config.rtp.ip.to_string(), ""));
    let ctx = Arc::new(Context::new(
        config,
        Registrations::default(),
        ports,
        cdr,
        sip,
        events,
    ));
    let esl = crate::esl::start(ctx.clone())
        .await
        .map_err(|source| StartError::EslBind {
            addr: ctx
                .config
                .esl
                .listen
                .map(|a| a.to_string())
                .unwrap_or_default(),
            source,
        })?;
    if let Some(a) = esl {
        tracing::info!(addr = %a, "event socket listening");
        if ctx.config.esl.password == crate::config::DEFAULT_ESL_PASSWORD {
            tracing::warn!("esl.password is still the default ClueCon: change it before exposing the event socket");
        }
    }
    if let Some(period) = ctx.config.esl.heartbeat {
        tokio::spawn(heartbeat::run(ctx.clone(), period));
    }
    // Modules first, SIP after: a call that arrives while start-up modules still load
    // would find their applications missing (503). Until then requests wait in the
    // bound sockets.
    crate::loader::start(&ctx).await;
    let sip_task = tokio::spawn(sip::run(ctx.clone(), sockets));
    if let Some(a) = ctx.sip.udp {
        tracing::info!(addr = %a, "SIP listening on UDP");
    }
    if let Some(a) = ctx.sip.tcp {
        tracing::info!(addr = %a, "SIP listening on TCP");
    }
    ctx.events.fire(crate::event::Event::new("STARTUP"));
    Ok(Running { ctx, esl, sip_task })
}

impl Running {
    /// Hangs up every call (BYE to answered legs), waits for them to finish, flushes CDRs.
    pub async fn shutdown(self) {
        self.ctx.events.fire(crate::event::Event::new("SHUTDOWN"));
        let calls: Vec<_> = self
            .ctx
            .calls
            .lock()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        if !calls.is_empty() {
            tracing::info!(calls = calls.len(), "hanging up calls");
        }
        for c in calls {
            let _ = c.send(CallEvent::Hangup {
                cause: "SYSTEM_SHUTDOWN".into(),
            });
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.ctx.call_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the SIP task put the last BYEs on the wire.
        tokio::time::sleep(Duration::from_millis(100)).await;
        crate::loader::unload_all(&self.ctx).await;
        self.sip_task.abort();
        self.ctx.cdr.flush();
        tracing::info!("stopped");
    }
}
