//! Running a registered (module) application: like a script, on a thread of its own with a
//! [`SessionHandle`] whose requests the call task serves meanwhile.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::{AppOutcome, Call, End};
use crate::app::{AppEntry, AppError};
use crate::script::{ScriptResult, SessionHandle, Shared};

impl Call {
    /// Runs `entry` with `args` until it returns. A crash hangs the call up with the cause
    /// the application gives (and `hangup_cause_detail` saying why); another failure fails
    /// the action.
    pub(crate) async fn run_registered(
        &mut self,
        entry: AppEntry,
        args: &str,
    ) -> Result<AppOutcome, End> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let handle = SessionHandle::new(self.uuid.clone(), tx, shared.clone());
        let (done_tx, mut done_rx) = oneshot::channel::<ScriptResult>();
        let failure: Arc<Mutex<Option<AppError>>> = Arc::default();
        let slot = failure.clone();
        let app = entry.app.clone();
        let argv = args.to_string();
        let spawned = std::thread::Builder::new()
            .name(format!("app-{}", entry.name))
            .stack_size(2 << 20)
            .spawn(move || {
                let r = app.run(handle, &argv);
                let error = r.as_ref().err().map(|e| e.reason.clone());
                if let Err(e) = r {
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
                let _ = done_tx.send(ScriptResult {
                    error,
                    ..ScriptResult::default()
                });
            });
        if let Err(e) = spawned {
            tracing::error!(uuid = %self.uuid, app = %entry.name, error = %e, "cannot start an application thread");
            return Err(End::new("SWITCH_CONGESTION"));
        }
        let (_, mut pending, ended) = self
            .serve_loop(&mut rx, &shared, Some(&mut done_rx), &entry.name)
            .await;
        let failure = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(e) = ended {
            self.stop_pending(&mut pending).await;
            return Err(e);
        }
        match failure {
            None => {
                self.stop_pending(&mut pending).await;
                Ok(AppOutcome::Continue)
            }
            Some(AppError {
                reason,
                hangup: Some(cause),
            }) => {
                tracing::error!(uuid = %self.uuid, app = %entry.name, module = %entry.owner, %reason, %cause, "application crashed: hanging up");
                self.vars.insert("hangup_cause_detail".into(), reason);
                let end = End::new(&cause);
                self.script_hung_up(&shared, &mut pending, &end).await;
                Err(end)
            }
            Some(AppError { reason, .. }) => {
                tracing::warn!(uuid = %self.uuid, app = %entry.name, module = %entry.owner, %reason, "application failed");
                self.stop_pending(&mut pending).await;
                self.vars.insert("last_app_error".into(), reason);
                Ok(AppOutcome::Failed("NORMAL_TEMPORARY_FAILURE".into()))
            }
        }
    }
}
