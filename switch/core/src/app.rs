//! Dialplan applications registered at run time (by modules), beside the built-in ones of
//! `call::run_app`. The call looks a name up here when it is not built in, and runs the
//! application on a thread of its own with a [`SessionHandle`], as it runs a script.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::script::SessionHandle;

/// An application: blocking, on a thread of its own, driving the call through `session`.
pub trait Application: Send + Sync + 'static {
    /// Runs with the action's arguments until done.
    fn run(&self, session: SessionHandle, args: &str) -> Result<(), AppError>;
}

/// Why an application failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppError {
    /// What went wrong, naming the module (`mod_x: cannot open ...`).
    pub reason: String,
    /// Hang the call up with this Q.850 cause (the application crashed); `None`: the action
    /// fails and the dialplan goes on.
    pub hangup: Option<String>,
}

/// One registered application.
#[derive(Clone)]
pub struct AppEntry {
    /// The name the dialplan uses.
    pub name: String,
    /// One line saying what it does.
    pub description: String,
    /// Who registered it (a module's name).
    pub owner: String,
    /// The application.
    pub app: Arc<dyn Application>,
}

impl std::fmt::Debug for AppEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppEntry")
            .field("name", &self.name)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// The registered applications, by name.
#[derive(Default)]
pub struct AppRegistry {
    apps: RwLock<BTreeMap<String, AppEntry>>,
}

impl std::fmt::Debug for AppRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRegistry")
            .field("apps", &self.list().len())
            .finish()
    }
}

impl AppRegistry {
    /// Adds an application; refused when the name is built in or taken.
    pub fn register(&self, entry: AppEntry) -> Result<(), String> {
        if crate::config::KNOWN_APPS.contains(&entry.name.as_str()) {
            return Err(format!("{} is a built-in application", entry.name));
        }
        let mut apps = self.apps.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = apps.get(&entry.name) {
            return Err(format!("{} is registered by {}", entry.name, old.owner));
        }
        apps.insert(entry.name.clone(), entry);
        Ok(())
    }

    /// Removes an application; true if it was there.
    pub fn unregister(&self, name: &str) -> bool {
        let mut apps = self.apps.write().unwrap_or_else(|e| e.into_inner());
        apps.remove(name).is_some()
    }

    /// An application by name.
    pub fn get(&self, name: &str) -> Option<AppEntry> {
        let apps = self.apps.read().unwrap_or_else(|e| e.into_inner());
        apps.get(name).cloned()
    }

    /// Every application, sorted by name.
    pub fn list(&self) -> Vec<AppEntry> {
        let apps = self.apps.read().unwrap_or_else(|e| e.into_inner());
        apps.values().cloned().collect()
    }
}
