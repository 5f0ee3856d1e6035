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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use fs_core::{ByteStream, FileSystem, FsError, StreamOptions, VPath};
use futures::StreamExt;

use crate::catalog::{Catalog, CatalogError};
use crate::decide::DownloadPolicy;
use crate::model::{
    local_path, FileCreated, FileDeleted, FileEvent, FileRow, FileUpdated, LocalFileStateRow,
    TransferStateRow, TransferStatus,
};
use crate::runtime::{RuntimeExt, SharedRuntime};
use crate::services::hash::ContentHash;
use crate::services::local_file_state::{StateBatch, SyncStatus};
use crate::services::local_file_storage::LocalFileStorage;
use crate::services::remote_storage::{RemoteError, RemoteStorage, SignedUrl};
use crate::services::sync_executor::{Direction, ExecutorConfig, SyncExecutor};

mod events;
mod lifecycle;
mod reconcile;
mod transfers;

#[cfg(test)]
mod tests;

pub use events::{FileSyncEvent, Listener, ListenerId};

/// Every option of the engine.
#[derive(Debug, Clone)]
pub struct FileSyncOptions {
    /// The LiveStore store id (sanitized into paths and keys as in DESIGN §4).
    pub store_id: String,
    /// Eager (default) or on-demand downloads.
    pub download_policy: DownloadPolicy,
    /// Queues, concurrency, retries.
    pub executor: ExecutorConfig,
    /// How often the remote's health is checked while offline (default 10 s).
    pub health_check_interval: Duration,
    /// How long a remote delete waits before it is re-checked and run (default 10 min).
    pub delete_grace_period: Duration,
    /// The largest file `save`/`update` accept (default: no limit).
    pub max_file_size: Option<u64>,
    /// Keep at most this many bytes of content that is safe on the remote; beyond it, copies are
    /// evicted (least recently updated first) and downloaded again when requested (default: none).
    pub cache_limit: Option<u64>,
    /// `resolve` moves a queued download to the front (default true).
    pub auto_prioritize_on_resolve: bool,
    /// Remove local blobs that no live row references (default true).
    pub orphan_sweep: bool,
    /// How long the engine waits after a catalog change before it reconciles, so a burst of
    /// changes costs one pass (default 50 ms).
    pub reconcile_debounce: Duration,
    /// How often a reconcile re-reads the local store's listing (default 5 min). In between, the
    /// engine trusts its own index of the blobs it wrote and removed, so a reconcile costs no file
    /// system calls per file; files that vanish behind its back (OPFS eviction) are noticed on
    /// read/resolve, by `sync_now`, or at the next rescan.
    pub rescan_interval: Duration,
    /// The orphan sweep leaves blobs written less than this long ago (wall clock) alone: another
    /// tab or process may be about to record them (default 60 s).
    pub orphan_min_age: Duration,
}

impl FileSyncOptions {
    /// Defaults for `store_id`.
    pub fn new(store_id: impl Into<String>) -> Self {
        FileSyncOptions {
            store_id: store_id.into(),
            download_policy: DownloadPolicy::Eager,
            executor: ExecutorConfig::default(),
            health_check_interval: Duration::from_secs(10),
            delete_grace_period: Duration::from_secs(600),
            max_file_size: None,
            cache_limit: None,
            auto_prioritize_on_resolve: true,
            orphan_sweep: true,
            orphan_min_age: Duration::from_secs(60),
            rescan_interval: Duration::from_secs(300),
            reconcile_debounce: Duration::from_millis(50),
        }
    }
}

/// What went wrong with an engine call.
#[derive(Debug, Clone)]
pub enum FileSyncError {
    /// No live file has this id.
    NotFound(String),
    /// The content is larger than `max_file_size`.
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The input was refused (message says why); nothing changed.
    InvalidInput(String),
    /// The file is not stored on this client yet (resolve it or wait for the download).
    NotLocal(String),
    /// Local storage failed.
    Storage(FsError),
    /// The catalog failed.
    Catalog(CatalogError),
    /// The remote failed.
    Remote(RemoteError),
    /// The engine was stopped.
    Stopped,
}

impl std::fmt::Display for FileSyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileSyncError::NotFound(id) => write!(f, "no file with id {id:?} (it may be deleted)"),
            FileSyncError::TooLarge { limit } => write!(
                f,
                "the file is larger than the configured maximum of {limit} bytes (max_file_size)"
            ),
            FileSyncError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            FileSyncError::NotLocal(id) => write!(
                f,
                "file {id:?} is not stored on this client yet; resolve() it to download it first"
            ),
            FileSyncError::Storage(e) => write!(f, "local storage: {e}"),
            FileSyncError::Catalog(e) => write!(f, "{e}"),
            FileSyncError::Remote(e) => write!(f, "remote storage: {e}"),
            FileSyncError::Stopped => write!(f, "the file sync engine is stopped"),
        }
    }
}

impl std::error::Error for FileSyncError {}

impl From<FsError> for FileSyncError {
    fn from(e: FsError) -> Self {
        FileSyncError::Storage(e)
    }
}

impl From<CatalogError> for FileSyncError {
    fn from(e: CatalogError) -> Self {
        FileSyncError::Catalog(e)
    }
}

/// Result of an engine call.
pub type FileSyncResult<T> = Result<T, FileSyncError>;

/// What `save` and `update` take besides the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// The MIME type (recorded locally, sent with the upload, and put in the metadata as
    /// `mimeType` when metadata is recorded).
    pub mime_type: Option<String>,
    /// The original file name (recorded in the metadata as `name`).
    pub name: Option<String>,
    /// App metadata: a JSON object (the package's `FileMetadata` fields `image`, `custom`, … or any
    /// other keys). `sizeBytes` and `mimeType` are filled in when absent.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The bytes to save.
pub enum Content {
    /// Bytes already in memory.
    Bytes(Bytes),
    /// A stream (never held whole in memory).
    Stream(ByteStream),
}

impl From<Bytes> for Content {
    fn from(b: Bytes) -> Self {
        Content::Bytes(b)
    }
}

impl From<Vec<u8>> for Content {
    fn from(b: Vec<u8>) -> Self {
        Content::Bytes(Bytes::from(b))
    }
}

impl From<&'static [u8]> for Content {
    fn from(b: &'static [u8]) -> Self {
        Content::Bytes(Bytes::from_static(b))
    }
}

/// A saved or updated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFile {
    /// The row id.
    pub file_id: String,
    /// The row's `path` (`livestore-filesync-files/{storeId}/{hash}`).
    pub path: String,
    /// The content hash.
    pub content_hash: String,
    /// Size in bytes.
    pub size: u64,
    /// False when `update` found the same content (nothing changed).
    pub changed: bool,
}

/// Where the app can get a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Verified bytes on this client, at this path of the engine's file system.
    Local {
        /// The blob's path.
        path: VPath,
        /// Its MIME type, when recorded.
        mime_type: Option<String>,
    },
    /// A signed URL of the remote copy (the download is prioritized meanwhile).
    Remote(SignedUrl),
}

/// What the engine runs on.
#[derive(Clone)]
pub struct FileSyncDeps {
    /// Spawn, sleep, clock.
    pub runtime: SharedRuntime,
    /// Local storage.
    pub fs: Arc<dyn FileSystem>,
    /// The metadata store.
    pub catalog: Arc<dyn Catalog>,
    /// The remote (use `LocalOnly` for local-only mode).
    pub remote: Arc<dyn RemoteStorage>,
}

#[derive(Default)]
struct EngineState {
    online: bool,
    started: bool,
    stopped: bool,
    /// The next reconcile is the start-up one.
    startup_pending: bool,
    /// Content verified in this session: hash → size.
    verified: HashMap<ContentHash, u64>,
    /// Files the app asked for (on-demand policy, priority).
    requested: HashSet<String>,
    /// The local blobs (hash → size) as of the last listing, kept up to date by the engine's own
    /// writes and removals.
    index: HashMap<ContentHash, u64>,
    /// When the index was last read from the store (runtime ms); `None`: never.
    index_scanned_at: Option<i64>,
    /// The next reconcile re-reads the listing.
    force_rescan: bool,
    /// Saves and updates in progress (between the first byte written and the commit).
    saving: usize,
    /// A local removal was skipped because a save was in progress: the last save to end asks
    /// for a reconcile (a save that fails commits nothing, so no catalog change would).
    removal_deferred: bool,
    /// A health check is running.
    checking: bool,
    /// Reconcile requested while one runs.
    reconcile_again: bool,
    reconciling: bool,
    /// A background reconcile task is scheduled or running.
    task_pending: bool,
    /// A catalog change arrived and its reconcile waits out the debounce.
    change_pending: bool,
    /// Transfers whose final state (error, queued for a retry) is being committed.
    settling: HashSet<(Direction, String)>,
    /// Latest upload resume tokens not yet committed.
    resume_tokens: HashMap<String, Option<String>>,
}

pub(crate) struct Inner {
    options: FileSyncOptions,
    runtime: SharedRuntime,
    storage: LocalFileStorage,
    catalog: Arc<dyn Catalog>,
    remote: Arc<dyn RemoteStorage>,
    executor: SyncExecutor,
    listeners: events::Listeners,
    state: Mutex<EngineState>,
    reconcile_lock: futures::lock::Mutex<()>,
    deletes: lifecycle::DeleteQueue,
}

/// The file sync engine (see the module docs). Clones share the engine.
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
        self.state().stopped
    }
}

impl FileSync {
    /// A new engine (not started: call [`FileSync::start`]). Fails on a store id that cannot form a
    /// path.
    pub fn new(deps: FileSyncDeps, options: FileSyncOptions) -> FileSyncResult<Self> {
        let storage = LocalFileStorage::new(deps.fs.clone(), &options.store_id)?;
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let worker = Arc::new(transfers::Worker {
                engine: weak.clone(),
            });
            let sink_engine = weak.clone();
            let executor = SyncExecutor::new(
                deps.runtime.clone(),
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
                runtime: deps.runtime,
                storage,
                catalog: deps.catalog,
                remote: deps.remote,
                executor,
                listeners: events::Listeners::default(),
                state: Mutex::new(EngineState {
                    online: true,
                    startup_pending: true,
                    ..EngineState::default()
                }),
                reconcile_lock: futures::lock::Mutex::new(()),
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
            if st.stopped {
                return Err(FileSyncError::Stopped);
            }
            if st.started {
                return Ok(());
            }
            st.started = true;
        }
        self.inner.storage.remove_stale_temp_files().await?;
        if !self.inner.local_only() {
            let healthy = self.inner.remote.health().await.is_ok();
            set_online(&self.inner, healthy);
            lifecycle::load_pending_deletes(&self.inner).await?;
        }
        reconcile::reconcile(&self.inner).await?;
        spawn_change_loop(&self.inner);
        if !self.inner.local_only() {
            spawn_health_loop(&self.inner);
        }
        Ok(())
    }

    /// Stops the background work: queues are dropped (their state rows stay, so the next start
    /// resumes them), running transfers are cancelled, loops end.
    pub fn stop(&self) {
        self.inner.state().stopped = true;
        self.inner.executor.stop();
    }

    /// Whether the remote is considered reachable (always false in local-only mode).
    pub fn is_online(&self) -> bool {
        self.inner.is_online()
    }

    /// Registers a listener for [`FileSyncEvent`]s.
    pub fn on_event(&self, listener: Listener) -> ListenerId {
        self.inner.listeners.add(listener)
    }

    /// Removes a listener; false when it was not registered.
    pub fn off_event(&self, id: ListenerId) -> bool {
        self.inner.listeners.remove(id)
    }

    /// Saves new content: written locally first (hashed while written), recorded as a new `files`
    /// row with this client's state, then uploaded in the background.
    pub async fn save(&self, content: Content, options: SaveOptions) -> FileSyncResult<SavedFile> {
        let inner = &self.inner;
        if inner.stopped() {
            return Err(FileSyncError::Stopped);
        }
        let _saving = Saving::new(inner);
        let stored = self.store(content, &options).await?;
        let hash_hex = stored.hash.to_hex();
        let path = local_path(&inner.options.store_id, &stored.hash);
        let metadata_json = metadata_json(&options, stored.size)?;
        let id = inner.runtime.random_id(true);
        let now = inner.now();
        let mut events = vec![FileEvent::FileCreated(FileCreated {
            id: id.clone(),
            path: path.clone(),
            content_hash: hash_hex.clone(),
            metadata_json: Some(metadata_json),
            created_at: now,
            updated_at: now,
        })];
        let queue = inner.is_online();
        events.extend(local_copy_events(&id, &path, &hash_hex, stored.size, queue));
        inner.catalog.commit(events).await?;
        // The upload is queued at once; the reconcile the commit triggers finds it queued.
        if queue {
            inner.executor.enqueue(Direction::Upload, &id);
        }
        Ok(SavedFile {
            file_id: id,
            path,
            content_hash: hash_hex,
            size: stored.size,
            changed: true,
        })
    }

    /// Replaces a file's content. When the new content hashes to the current `contentHash` nothing
    /// changes (`changed: false`). Otherwise the row gets the new hash and an empty `remoteKey`, the
    /// new bytes are uploaded, and the old content's remote copy is deleted after the grace period
    /// unless another live row still references it.
    pub async fn update(
        &self,
        file_id: &str,
        content: Content,
        options: SaveOptions,
    ) -> FileSyncResult<SavedFile> {
        let inner = &self.inner;
        if inner.stopped() {
            return Err(FileSyncError::Stopped);
        }
        let row = live_row(inner, file_id).await?;
        let _saving = Saving::new(inner);
        let stored = self.store(content, &options).await?;
        let hash_hex = stored.hash.to_hex();
        let path = local_path(&inner.options.store_id, &stored.hash);
        if hash_hex == row.content_hash {
            return Ok(SavedFile {
                file_id: file_id.to_owned(),
                path: row.path,
                content_hash: hash_hex,
                size: stored.size,
                changed: false,
            });
        }
        let metadata_json = metadata_json(&options, stored.size)?;
        inner.executor.cancel_file(file_id);
        let mut events = vec![FileEvent::FileUpdated(FileUpdated {
            id: file_id.to_owned(),
            path: path.clone(),
            remote_key: String::new(),
            content_hash: hash_hex.clone(),
            metadata_json: Some(metadata_json),
            updated_at: inner.now(),
        })];
        let queue = inner.is_online();
        events.extend(local_copy_events(
            file_id,
            &path,
            &hash_hex,
            stored.size,
            queue,
        ));
        inner.catalog.commit(events).await?;
        if queue {
            inner.executor.enqueue(Direction::Upload, file_id);
        }
        if !row.remote_key.is_empty() && !inner.local_only() {
            lifecycle::schedule_remote_delete(inner, &row.remote_key).await;
        }
        // The old content may be an orphan now: the next reconcile re-reads the store and sweeps.
        inner.state().force_rescan = true;
        reconcile::request(inner);
        Ok(SavedFile {
            file_id: file_id.to_owned(),
            path,
            content_hash: hash_hex,
            size: stored.size,
            changed: true,
        })
    }

    /// Deletes a file (a soft delete of its row). Its transfers stop; the local copy goes and the
    /// remote copy is deleted after the grace period, each only when no other live row references
    /// the same content.
    pub async fn delete(&self, file_id: &str) -> FileSyncResult<()> {
        let inner = &self.inner;
        if inner.stopped() {
            return Err(FileSyncError::Stopped);
        }
        live_row(inner, file_id).await?;
        inner.executor.cancel_file(file_id);
        inner
            .catalog
            .commit(vec![FileEvent::FileDeleted(FileDeleted {
                id: file_id.to_owned(),
                deleted_at: inner.now(),
            })])
            .await?;
        inner.state().requested.remove(file_id);
        reconcile::request(inner);
        Ok(())
    }

    /// Reads a file's verified local bytes as a stream.
    pub async fn read_stream(&self, file_id: &str) -> FileSyncResult<ByteStream> {
        let inner = &self.inner;
        let row = live_row(inner, file_id).await?;
        let hash = ContentHash::parse(&row.content_hash)
            .map_err(|e| FileSyncError::InvalidInput(e.to_string()))?;
        if !reconcile::is_verified_local(inner, file_id, &hash).await? {
            return Err(FileSyncError::NotLocal(file_id.to_owned()));
        }
        Ok(inner
            .storage
            .read_stream(&hash, StreamOptions::default())
            .await?)
    }

    /// Reads a file's verified local bytes into memory.
    pub async fn read(&self, file_id: &str) -> FileSyncResult<Bytes> {
        let mut stream = self.read_stream(file_id).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(out))
    }

    /// Where the app can get the bytes: the verified local copy, else a signed remote URL (and the
    /// file's download is requested and moved to the front of the queue). `None` when there is no
    /// copy anywhere yet (not uploaded by its owner, or local-only mode without local bytes).
    pub async fn resolve(&self, file_id: &str) -> FileSyncResult<Option<Resolved>> {
        let inner = &self.inner;
        let row = live_row(inner, file_id).await?;
        let Ok(hash) = ContentHash::parse(&row.content_hash) else {
            return Ok(None);
        };
        if reconcile::is_verified_local(inner, file_id, &hash).await? {
            return Ok(Some(Resolved::Local {
                path: inner.storage.path_for(&hash),
                mime_type: inner.storage.mime_of(&hash).await?,
            }));
        }
        if inner.local_only() {
            return Ok(None);
        }
        inner.state().requested.insert(file_id.to_owned());
        if inner.options.auto_prioritize_on_resolve
            && inner.executor.has_job(Direction::Download, file_id)
        {
            inner.executor.enqueue_first(Direction::Download, file_id);
        } else {
            reconcile::request(inner);
        }
        if row.remote_key.is_empty() {
            return Ok(None);
        }
        let url = inner
            .remote
            .download_url(&row.remote_key)
            .await
            .map_err(FileSyncError::Remote)?;
        Ok(Some(Resolved::Remote(url)))
    }

    /// Moves a file's download to the front of the queue (requesting it under the on-demand policy).
    pub fn prioritize_download(&self, file_id: &str) {
        self.inner.state().requested.insert(file_id.to_owned());
        if !self
            .inner
            .executor
            .enqueue_first(Direction::Download, file_id)
        {
            reconcile::request(&self.inner);
        }
    }

    /// Re-queues every file whose state is `error` and returns their ids.
    pub async fn retry_errors(&self) -> FileSyncResult<Vec<String>> {
        let inner = &self.inner;
        if inner.local_only() {
            return Ok(Vec::new());
        }
        let mut batch = StateBatch::new();
        let mut ids = Vec::new();
        for mut row in inner.catalog.local_states().await? {
            let mut changed = false;
            if row.upload_status == TransferStatus::Error {
                row.upload_status = TransferStatus::Pending;
                changed = true;
            }
            if row.download_status == TransferStatus::Error {
                row.download_status = TransferStatus::Pending;
                changed = true;
            }
            if changed {
                row.last_sync_error.clear();
                ids.push(row.file_id.clone());
                batch.upsert(row);
            }
        }
        batch.commit(inner.catalog.as_ref()).await?;
        if !ids.is_empty() {
            inner.emit(FileSyncEvent::ErrorRetry {
                file_ids: ids.clone(),
            });
        }
        reconcile::reconcile(inner).await?;
        Ok(ids)
    }

    /// Reconciles now with the engine's index of local blobs (no listing of the store), and returns
    /// when done. This is the pass every catalog change triggers.
    pub async fn reconcile(&self) -> FileSyncResult<()> {
        reconcile::reconcile(&self.inner).await
    }

    /// Reconciles now, re-reading the local store's listing (and returns when done).
    pub async fn sync_now(&self) -> FileSyncResult<()> {
        self.inner.state().force_rescan = true;
        reconcile::reconcile(&self.inner).await
    }

    /// Checks the remote's health now; returns whether it is online.
    pub async fn check_health(&self) -> bool {
        health_check(&self.inner).await
    }

    /// The sync-status aggregate of this client's `localFileState` rows.
    pub async fn sync_status(&self) -> FileSyncResult<SyncStatus> {
        let rows = self.inner.catalog.local_states().await?;
        Ok(SyncStatus::from_rows(&rows))
    }

    /// True when nothing is queued, running, waiting for a retry or waiting to be deleted remotely
    /// before its time, and no reconcile is running.
    pub fn is_idle(&self) -> bool {
        let st = self.inner.state();
        !st.reconciling
            && !st.reconcile_again
            && !st.task_pending
            && !st.change_pending
            && self.inner.executor.counts().is_idle()
    }

    /// The content-addressed local storage (for apps that serve files from it).
    pub fn storage(&self) -> &LocalFileStorage {
        &self.inner.storage
    }

    /// Remote deletes waiting for their grace period, as (key, due time in epoch ms).
    pub async fn pending_remote_deletes(&self) -> FileSyncResult<Vec<(String, i64)>> {
        Ok(self.inner.deletes.list().await?)
    }

    async fn store(
        &self,
        content: Content,
        options: &SaveOptions,
    ) -> FileSyncResult<crate::services::local_file_storage::StoredFile> {
        let inner = &self.inner;
        let limit = inner.options.max_file_size;
        let mime = options.mime_type.as_deref();
        if let Some(m) = mime {
            if m.is_empty() || m.len() > 255 || m.chars().any(|c| c.is_control()) {
                return Err(FileSyncError::InvalidInput(format!(
                    "mime type {m:?} is not a valid MIME type"
                )));
            }
        }
        let stored = match content {
            Content::Bytes(b) => {
                if let Some(limit) = limit {
                    if b.len() as u64 > limit {
                        return Err(FileSyncError::TooLarge { limit });
                    }
                }
                inner.storage.write_bytes(b, mime).await?
            }
            Content::Stream(s) => {
                // The stream stops at the limit; the flag tells that stop from any other failure.
                let over = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let stream: ByteStream = match limit {
                    None => s,
                    Some(limit) => {
                        let over = over.clone();
                        let mut seen = 0u64;
                        Box::pin(s.map(move |chunk| {
                            let chunk = chunk?;
                            seen += chunk.len() as u64;
                            if seen > limit {
                                over.store(true, std::sync::atomic::Ordering::SeqCst);
                                return Err(FsError::new(
                                    fs_core::ErrorKind::BadArgument,
                                    "FileSync.save",
                                    format!("content exceeds max_file_size ({limit} bytes)"),
                                ));
                            }
                            Ok(chunk)
                        }))
                    }
                };
                match inner.storage.write_stream(stream, None, mime).await {
                    Ok(stored) => stored,
                    Err(_) if over.load(std::sync::atomic::Ordering::SeqCst) => {
                        return Err(FileSyncError::TooLarge {
                            limit: limit.unwrap_or_default(),
                        })
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        {
            let mut st = inner.state();
            st.verified.insert(stored.hash, stored.size);
            st.index.insert(stored.hash, stored.size);
        }
        Ok(stored)
    }
}

/// This client's state rows for content it just stored: verified bytes of `size`, the upload
/// queued (`queued`, the caller enqueues it) or pending (offline: the reconcile queues it later).
fn local_copy_events(
    file_id: &str,
    path: &str,
    hash_hex: &str,
    size: u64,
    queued: bool,
) -> [FileEvent; 2] {
    [
        FileEvent::LocalFileStateUpsert(LocalFileStateRow {
            file_id: file_id.to_owned(),
            path: path.to_owned(),
            local_hash: hash_hex.to_owned(),
            download_status: TransferStatus::Done,
            upload_status: if queued {
                TransferStatus::Queued
            } else {
                TransferStatus::Pending
            },
            last_sync_error: String::new(),
        }),
        FileEvent::FileTransferStateUpsert(TransferStateRow {
            file_id: file_id.to_owned(),
            content_hash: hash_hex.to_owned(),
            local_size: Some(size),
            upload_resume: None,
        }),
    ]
}

/// Counts a save or update in progress (the orphan sweep waits for none).
struct Saving<'a>(&'a Arc<Inner>);

impl<'a> Saving<'a> {
    fn new(inner: &'a Arc<Inner>) -> Self {
        inner.state().saving += 1;
        Saving(inner)
    }
}

impl Drop for Saving<'_> {
    fn drop(&mut self) {
        let deferred = {
            let mut st = self.0.state();
            st.saving -= 1;
            st.saving == 0 && std::mem::take(&mut st.removal_deferred)
        };
        if deferred {
            reconcile::request(self.0);
        }
    }
}

/// The metadata JSON of a save: the app's object plus `mimeType`, `sizeBytes` and `name` when
/// absent; `None` (null) when there is neither metadata nor a name.
fn metadata_json(options: &SaveOptions, size: u64) -> FileSyncResult<Option<String>> {
    if options.metadata.is_none() && options.name.is_none() {
        return Ok(None);
    }
    let mut map = options.metadata.clone().unwrap_or_default();
    if let Some(mime) = &options.mime_type {
        map.entry("mimeType")
            .or_insert_with(|| serde_json::Value::String(mime.clone()));
    }
    map.entry("sizeBytes")
        .or_insert_with(|| serde_json::Value::from(size));
    if let Some(name) = &options.name {
        map.entry("name")
            .or_insert_with(|| serde_json::Value::String(name.clone()));
    }
    serde_json::to_string(&map)
        .map(Some)
        .map_err(|e| FileSyncError::InvalidInput(format!("metadata: {e}")))
}

async fn live_row(inner: &Inner, file_id: &str) -> FileSyncResult<FileRow> {
    match inner.catalog.file(file_id).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        _ => Err(FileSyncError::NotFound(file_id.to_owned())),
    }
}

/// Moves between online and offline: pauses or resumes the executor and reports it.
fn set_online(inner: &Arc<Inner>, online: bool) {
    let changed = {
        let mut st = inner.state();
        let changed = st.online != online;
        st.online = online;
        changed
    };
    if !changed {
        return;
    }
    if online {
        inner.executor.resume();
        inner.emit(FileSyncEvent::Online);
        reconcile::request(inner);
    } else {
        inner.executor.pause();
        inner.emit(FileSyncEvent::Offline);
    }
}

/// Checks the remote's health once (concurrent checks share the first), updating online/offline.
async fn health_check(inner: &Arc<Inner>) -> bool {
    if inner.local_only() {
        return false;
    }
    {
        let mut st = inner.state();
        if st.checking {
            return st.online;
        }
        st.checking = true;
    }
    let ok = inner.remote.health().await.is_ok();
    inner.state().checking = false;
    set_online(inner, ok);
    ok
}

fn spawn_change_loop(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let mut changes = inner.catalog.changes();
    let runtime = inner.runtime.clone();
    let debounce = inner.options.reconcile_debounce;
    runtime.clone().spawn(Box::pin(async move {
        while changes.next().await.is_some() {
            match weak.upgrade() {
                Some(inner) => inner.state().change_pending = true,
                None => return,
            }
            if !debounce.is_zero() {
                runtime.sleep(debounce).await;
            }
            let Some(inner) = weak.upgrade() else { return };
            inner.state().change_pending = false;
            if inner.stopped() {
                return;
            }
            reconcile::request(&inner);
        }
    }));
}

fn spawn_health_loop(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let runtime = inner.runtime.clone();
    let interval = inner.options.health_check_interval;
    runtime.clone().spawn(Box::pin(async move {
        loop {
            runtime.sleep(interval).await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.stopped() {
                return;
            }
            if !inner.state().online {
                health_check(&inner).await;
            }
        }
    }));
}
