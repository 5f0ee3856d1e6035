//! The state every part of the engine shares ([`Inner`], behind [`FileSync`]), and what any part may
//! ask of it: a reconcile pass soon, whether a local copy is verified.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::catalog::Catalog;
use crate::runtime::{Cancel, SharedRuntime, Tracked};
use crate::services::hash::ContentHash;
use crate::services::local_file_storage::LocalFileStorage;
use crate::services::remote_storage::RemoteStorage;
use crate::services::sync_executor::SyncExecutor;

use super::deletes::DeleteQueue;
use super::events::Listeners;
use super::state::{EngineState, Lifecycle};
use super::{FileSyncEvent, FileSyncOptions, FileSyncResult};

pub(crate) struct Inner {
    pub(super) options: FileSyncOptions,
    /// Every task the engine spawns goes through this runtime, which counts them for `stop()`.
    pub(super) tasks: Arc<Tracked>,
    pub(super) runtime: SharedRuntime,
    pub(super) storage: LocalFileStorage,
    pub(super) catalog: Arc<dyn Catalog>,
    pub(super) remote: Arc<dyn RemoteStorage>,
    pub(super) executor: SyncExecutor,
    pub(super) listeners: Listeners,
    pub(super) state: Mutex<EngineState>,
    pub(super) reconcile_lock: futures::lock::Mutex<()>,
    pub(super) deletes: DeleteQueue,
    /// Fires at `stop()`: the loops and the delete timers end at once.
    pub(super) stopping: Cancel,
    /// Wakes the reconcile task (one message per scheduled run; see `schedule`).
    pub(super) wake_reconciler: UnboundedSender<()>,
    /// The reconcile task's end of `wake_reconciler`, until `start()` spawns the task.
    pub(super) wakes: Mutex<Option<UnboundedReceiver<()>>>,
}

/// The file sync engine (see the module docs). Clones share the engine. Build one with
/// [`FileSync::builder`].
#[derive(Clone)]
pub struct FileSync {
    pub(super) inner: Arc<Inner>,
}

impl Inner {
    pub(super) fn state(&self) -> MutexGuard<'_, EngineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn local_only(&self) -> bool {
        self.remote.is_local_only()
    }

    pub(super) fn is_online(&self) -> bool {
        !self.local_only() && self.state().online
    }

    pub(super) fn emit(&self, event: FileSyncEvent) {
        self.listeners.emit(event);
    }

    pub(super) fn now(&self) -> i64 {
        self.runtime.now_ms()
    }

    pub(super) fn stopped(&self) -> bool {
        self.state().stopped()
    }
}

/// Asks for a pass over every row soon (coalesced with other requests).
pub(super) fn request(inner: &Inner) {
    inner.state().dirty.all = true;
    schedule(inner);
}

/// Asks for a pass over these files soon (coalesced with other requests).
pub(super) fn request_files(inner: &Inner, ids: impl IntoIterator<Item = String>) {
    inner.state().dirty.ids.extend(ids);
    schedule(inner);
}

/// Wakes the reconcile task unless it is awake already: it runs passes until none is wanted.
fn schedule(inner: &Inner) {
    {
        let mut st = inner.state();
        if st.lifecycle != Lifecycle::Started {
            return;
        }
        st.passes.wanted = true;
        if st.passes.task_scheduled {
            return;
        }
        st.passes.task_scheduled = true;
    }
    // Fails only once the task has ended (the engine stopped): nothing to wake then.
    let _ = inner.wake_reconciler.unbounded_send(());
}

/// Old content hashes that may have no live row any more (set aside for the next pass).
pub(super) fn add_orphan_candidate(inner: &Inner, hash: ContentHash) {
    inner.state().dirty.orphan_candidates.insert(hash);
}

/// Whether the file's local bytes are verified (session hash, or the trusted record with the same
/// size).
pub(super) async fn is_verified_local(
    inner: &Inner,
    file_id: &str,
    hash: &ContentHash,
) -> FileSyncResult<bool> {
    let Some(size) = inner.storage.exists(hash).await? else {
        // Gone behind the engine's back (eviction): forget it and look at the store again.
        let mut st = inner.state();
        if st.index.remove(hash).is_some() {
            st.rescan_wanted = true;
        }
        st.verified.remove(hash);
        return Ok(false);
    };
    if inner.state().verified.get(hash) == Some(&size) {
        return Ok(true);
    }
    let hex = hash.to_hex();
    let trusted = inner
        .catalog
        .local_state(file_id)
        .await?
        .is_some_and(|s| s.local_hash == hex);
    let recorded = inner
        .catalog
        .transfer_state(file_id)
        .await?
        .is_some_and(|t| t.content_hash == hex && t.local_size == Some(size));
    Ok(trusted && recorded)
}

/// Rows keyed by the file id `key` gives (the tables' own order is lost: look rows up by id).
pub(super) fn by_id<T>(rows: Vec<T>, key: impl Fn(&T) -> &str) -> HashMap<String, T> {
    rows.into_iter().map(|r| (key(&r).to_owned(), r)).collect()
}
