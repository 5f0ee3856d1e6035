//! The engine: the CRUD API and the orchestration of local storage, the catalog, the remote and
//! the executor (DESIGN §5).
//!
//! The engine is state-driven. [`FileSync::start`] runs a start-up reconcile (restart recovery:
//! transfers left `queued`/`inProgress` are scheduled again), then reconciles whenever the catalog
//! reports a change, checks the remote's health on an interval while offline (and at once when a
//! transfer fails in a way that suggests the network), and runs delayed remote deletes when they fall
//! due. Every decision comes from [`crate::decide::decide`]; this module gathers the facts and carries
//! the decisions out.
//!
//! Saves write locally first (hashed while written), then record the row; the upload is queued by the
//! reconcile that follows. Downloads stream into a partial file, are verified against `contentHash`,
//! and only then become the blob. See `lifecycle` for remote deletes and the orphan sweep.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use fs_core::FileSystem;

use crate::catalog::Catalog;
use crate::runtime::{Cancel, SharedRuntime, Tracked};
use crate::services::local_file_storage::LocalFileStorage;
use crate::services::remote_storage::RemoteStorage;
use crate::services::sync_executor::SyncExecutor;

mod api;
mod error;
mod events;
mod lifecycle;
mod loops;
mod options;
mod reconcile;
mod state;
mod transfers;
mod types;

#[cfg(test)]
mod tests;

pub use error::{FileSyncError, FileSyncErrorKind, FileSyncResult};
pub use events::{FileSyncEvent, Listener, ListenerId};
pub use options::{FileSyncBuilder, FileSyncOptions};
pub use types::{Content, Resolved, SaveOptions, SavedFile};

use state::{EngineState, Lifecycle};

pub(crate) struct Inner {
    options: FileSyncOptions,
    /// Every task the engine spawns goes through this runtime, which counts them for `stop()`.
    tasks: Arc<Tracked>,
    runtime: SharedRuntime,
    storage: LocalFileStorage,
    catalog: Arc<dyn Catalog>,
    remote: Arc<dyn RemoteStorage>,
    executor: SyncExecutor,
    listeners: events::Listeners,
    state: Mutex<EngineState>,
    reconcile_lock: futures::lock::Mutex<()>,
    deletes: lifecycle::DeleteQueue,
    /// Fires at `stop()`: the loops and the delete timers end at once.
    stopping: Cancel,
}

/// The file sync engine (see the module docs). Clones share the engine. Build one with
/// [`FileSync::builder`].
#[derive(Clone)]
pub struct FileSync {
    inner: Arc<Inner>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, EngineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn local_only(&self) -> bool {
        self.remote.is_local_only()
    }

    fn is_online(&self) -> bool {
        !self.local_only() && self.state().online
    }

    fn emit(&self, event: FileSyncEvent) {
        self.listeners.emit(event);
    }

    fn now(&self) -> i64 {
        self.runtime.now_ms()
    }

    fn stopped(&self) -> bool {
        self.state().stopped()
    }
}

impl FileSync {
    /// A new engine over its parts (see [`FileSyncBuilder::build`]).
    fn from_parts(
        runtime: SharedRuntime,
        fs: Arc<dyn FileSystem>,
        catalog: Arc<dyn Catalog>,
        remote: Arc<dyn RemoteStorage>,
        options: FileSyncOptions,
    ) -> FileSyncResult<Self> {
        let storage = LocalFileStorage::new(fs, &options.store_id)?;
        let tasks = Arc::new(Tracked::new(runtime));
        let runtime: SharedRuntime = tasks.clone();
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let worker = Arc::new(transfers::Worker {
                engine: weak.clone(),
            });
            let sink_engine = weak.clone();
            let executor = SyncExecutor::new(
                runtime.clone(),
                worker,
                options.executor.clone(),
                Arc::new(move |event| {
                    if let Some(engine) = sink_engine.upgrade() {
                        transfers::on_executor_event(&engine, event);
                    }
                }),
            );
            Inner {
                deletes: lifecycle::DeleteQueue::new(storage.clone()),
                options,
                tasks,
                runtime,
                storage,
                catalog,
                remote,
                executor,
                listeners: events::Listeners::default(),
                state: Mutex::new(EngineState::new()),
                reconcile_lock: futures::lock::Mutex::new(()),
                stopping: Cancel::default(),
            }
        });
        Ok(FileSync { inner })
    }

    /// The options.
    pub fn options(&self) -> &FileSyncOptions {
        &self.inner.options
    }

    /// Starts syncing: removes stale temporary files, checks the remote, runs the start-up
    /// reconcile, loads pending remote deletes, and starts the background loops (catalog changes,
    /// health checks). Calling it again does nothing.
    pub async fn start(&self) -> FileSyncResult<()> {
        {
            let mut st = self.inner.state();
            match st.lifecycle {
                Lifecycle::Stopped => return Err(FileSyncError::Stopped),
                Lifecycle::Started => return Ok(()),
                Lifecycle::Created => st.lifecycle = Lifecycle::Started,
            }
        }
        self.inner.storage.remove_stale_temp_files().await?;
        if !self.inner.local_only() {
            let healthy = self.inner.remote.health().await.is_ok();
            loops::set_online(&self.inner, healthy);
            lifecycle::load_pending_deletes(&self.inner).await?;
        }
        reconcile::reconcile(&self.inner).await?;
        loops::spawn_change_loop(&self.inner);
        if !self.inner.local_only() {
            loops::spawn_health_loop(&self.inner);
        }
        Ok(())
    }

    /// Stops the engine and returns once everything it runs in the background has ended: running
    /// transfers stop between two chunks (an upload's resume token and a download's partial bytes
    /// are kept, so the next start resumes them), queues are dropped (their state rows stay),
    /// timers and loops end, and state commits already under way finish. Later calls answer
    /// [`FileSyncError::Stopped`]. Calling it again returns at once.
    pub async fn stop(&self) {
        self.inner.state().lifecycle = Lifecycle::Stopped;
        self.inner.stopping.cancel();
        self.inner.executor.stop();
        self.inner.tasks.tasks().idle().await;
    }
}
