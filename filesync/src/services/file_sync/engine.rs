//! Building, starting and stopping the engine.

use std::sync::{Arc, Mutex, Weak};

use crate::catalog::Catalog;
use crate::runtime::{Cancel, SharedRuntime, Tracked};
use crate::services::local_file_storage::LocalFileStorage;
use crate::services::remote_storage::RemoteStorage;
use crate::services::sync_executor::SyncExecutor;

use super::deletes::DeleteQueue;
use super::events::Listeners;
use super::inner::{FileSync, Inner};
use super::state::{EngineState, Lifecycle};
use super::{
    health, lifecycle, loops, reconcile, transfers, FileSyncError, FileSyncOptions, FileSyncResult,
};

impl FileSync {
    /// A new engine over its parts (see [`FileSyncBuilder::build`]).
    pub(super) fn from_parts(
        runtime: SharedRuntime,
        storage: LocalFileStorage,
        catalog: Arc<dyn Catalog>,
        remote: Arc<dyn RemoteStorage>,
        options: FileSyncOptions,
    ) -> FileSyncResult<Self> {
        let storage = storage.with_web_crypto(runtime.js_event_loop());
        let tasks = Arc::new(Tracked::new(runtime));
        let runtime: SharedRuntime = tasks.clone();
        let (wake_reconciler, wakes) = futures::channel::mpsc::unbounded();
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
            // Nothing moves before `start`: a save or a resolve in an engine that does not run
            // its sync loop (a tab that does not lead) only records what is wanted; the started
            // engine's reconcile queues it.
            executor.pause();
            Inner {
                deletes: DeleteQueue::new(storage.clone()),
                options,
                tasks,
                runtime,
                storage,
                catalog,
                remote,
                executor,
                listeners: Listeners::default(),
                state: Mutex::new(EngineState::new()),
                reconcile_lock: futures::lock::Mutex::new(()),
                stopping: Cancel::default(),
                wake_reconciler,
                wakes: Mutex::new(Some(wakes)),
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
    /// health checks). No transfer runs before it: what is saved earlier is uploaded by its
    /// start-up reconcile. Calling it again does nothing.
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
            health::set_online(&self.inner, healthy);
            lifecycle::load_pending_deletes(&self.inner).await?;
        }
        if self.inner.is_online() {
            self.inner.executor.resume();
        }
        reconcile::reconcile(&self.inner).await?;
        let wakes = self
            .inner
            .wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(wakes) = wakes {
            reconcile::spawn_task(&self.inner, wakes);
        }
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
