//! Saving pending Actions so that a later run can handle their replies.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::Result;

/// A pending Action as it is stored: its registered type name, its serialized state, its id, its addressee and its
/// deadline.
///
/// ```
/// use moxl_core::xec::StoredAction;
/// let s = StoredAction { id: "a1".into(), type_name: "app::roster::Get".into(), state: "{}".into(), to: None,
///     deadline: std::time::SystemTime::UNIX_EPOCH };
/// assert_eq!(s.clone(), s);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAction {
    /// The stanza id the reply will carry.
    pub id: String,
    /// The Action's registered type name (`module::path::Type`).
    pub type_name: String,
    /// The Action's fields, as JSON.
    pub state: String,
    /// Where the request went (`None`: our own server, on behalf of the account).
    pub to: Option<String>,
    /// When the Action times out.
    pub deadline: SystemTime,
}

/// A store operation for one Action (see `Xec::take_action_changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionChange {
    /// Save (or replace) it.
    Save(StoredAction),
    /// Forget it.
    Remove(String),
}

/// Where pending Actions are kept between runs. The in-memory [`MemoryActionStore`] is for tests and for
/// applications that do not need to survive a restart; database stores implement the same trait.
pub trait ActionStore: Send + Sync {
    /// Saves (or replaces) one Action.
    fn save(&self, action: &StoredAction) -> impl Future<Output = Result<()>> + Send;
    /// Forgets one Action (its reply was handled, or it timed out).
    fn remove(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// Every saved Action.
    fn load(&self) -> impl Future<Output = Result<Vec<StoredAction>>> + Send;
}

/// An [`ActionStore`] in memory.
///
/// ```
/// use moxl_core::xec::{ActionStore, MemoryActionStore, StoredAction};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryActionStore::default();
/// let a = StoredAction { id: "a1".into(), type_name: "t".into(), state: "{}".into(), to: None,
///     deadline: std::time::SystemTime::now() };
/// store.save(&a).await?;
/// assert_eq!(store.load().await?, vec![a]);
/// store.remove("a1").await?;
/// assert!(store.load().await?.is_empty());
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Default)]
pub struct MemoryActionStore {
    actions: Mutex<HashMap<String, StoredAction>>,
}

impl ActionStore for MemoryActionStore {
    async fn save(&self, action: &StoredAction) -> Result<()> {
        self.actions.lock().unwrap_or_else(PoisonError::into_inner).insert(action.id.clone(), action.clone());
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<()> {
        self.actions.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
        Ok(())
    }

    async fn load(&self) -> Result<Vec<StoredAction>> {
        let mut all: Vec<_> = self.actions.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }
}
