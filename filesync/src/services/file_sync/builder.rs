//! The engine's builder: defaults, required parts, and a runtime found for the caller.

use std::sync::Arc;
use std::time::Duration;

use fs_core::FileSystem;

use crate::catalog::Catalog;
use crate::decide::DownloadPolicy;
use crate::runtime::SharedRuntime;
use crate::services::local_file_storage::LocalFileStorage;
#[cfg(target_arch = "wasm32")]
use crate::services::local_file_storage::{BlobOpener, ChunkSaver};
use crate::services::remote_storage::{LocalOnly, RemoteStorage};
use crate::services::sync_executor::ExecutorConfig;

use super::inner::FileSync;
use super::{FileSyncError, FileSyncOptions, FileSyncResult};

/// Builds a [`FileSync`]: `FileSync::builder(store_id).fs(..).catalog(..).remote(..).build()`.
///
/// The file system and the catalog are required. The remote defaults to [`LocalOnly`] (no remote:
/// files stay on this client), the runtime to the tokio runtime the call runs in (natively) or the
/// browser's event loop (wasm32), and every option to [`FileSyncOptions::new`]'s defaults.
#[must_use = "a builder does nothing until build() is called"]
pub struct FileSyncBuilder {
    options: FileSyncOptions,
    runtime: Option<SharedRuntime>,
    fs: Option<Arc<dyn FileSystem>>,
    transfer_fs: Option<Arc<dyn FileSystem>>,
    #[cfg(target_arch = "wasm32")]
    blob_opener: Option<BlobOpener>,
    #[cfg(target_arch = "wasm32")]
    chunk_saver: Option<ChunkSaver>,
    catalog: Option<Arc<dyn Catalog>>,
    remote: Option<Arc<dyn RemoteStorage>>,
}

impl FileSync {
    /// A builder for an engine of the LiveStore store `store_id`.
    pub fn builder(store_id: impl Into<String>) -> FileSyncBuilder {
        FileSyncBuilder::with_options(FileSyncOptions::new(store_id))
    }
}

impl FileSyncBuilder {
    /// A builder that starts from `options` (an app that keeps its options as a value).
    pub fn with_options(options: FileSyncOptions) -> Self {
        FileSyncBuilder {
            options,
            runtime: None,
            fs: None,
            transfer_fs: None,
            #[cfg(target_arch = "wasm32")]
            blob_opener: None,
            #[cfg(target_arch = "wasm32")]
            chunk_saver: None,
            catalog: None,
            remote: None,
        }
    }

    /// Writes partial downloads through `fs`, another view of the local storage's files (the
    /// same files under the same paths), e.g. OPFS through a dedicated worker's sync access
    /// handles beside OPFS on the page; see [`LocalFileStorage::with_transfer_fs`]. Default: the
    /// file system of [`fs`](Self::fs).
    pub fn transfer_fs(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.transfer_fs = Some(fs);
        self
    }

    /// Lets uploads send stored files as disk-backed `Blob`s opened by `opener` (wasm32); see
    /// [`LocalFileStorage::with_blob_opener`].
    #[cfg(target_arch = "wasm32")]
    pub fn blob_opener(mut self, opener: BlobOpener) -> Self {
        self.blob_opener = Some(opener);
        self
    }

    /// Lets downloads whose body arrives as JavaScript arrays be written and hashed by `saver`
    /// (wasm32: the package's worker); see [`LocalFileStorage::with_chunk_saver`].
    #[cfg(target_arch = "wasm32")]
    pub fn chunk_saver(mut self, saver: ChunkSaver) -> Self {
        self.chunk_saver = Some(saver);
        self
    }

    /// Local storage (required): `NativeFs`, `OpfsFs`, `MemoryFs`, or any [`FileSystem`].
    pub fn fs(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.fs = Some(fs);
        self
    }

    /// The metadata store (required): LiveStore through the JS glue, or [`crate::MemoryCatalog`].
    pub fn catalog(mut self, catalog: Arc<dyn Catalog>) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// The remote (default: [`LocalOnly`]).
    pub fn remote(mut self, remote: Arc<dyn RemoteStorage>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Spawn, sleep and clock (default: the current tokio runtime natively, the browser's event
    /// loop on wasm32).
    pub fn runtime(mut self, runtime: SharedRuntime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Eager (default) or on-demand downloads.
    pub fn download_policy(mut self, policy: DownloadPolicy) -> Self {
        self.options.download_policy = policy;
        self
    }

    /// Queues, concurrency, retries.
    pub fn executor(mut self, config: ExecutorConfig) -> Self {
        self.options.executor = config;
        self
    }

    /// How often the remote's health is checked while offline (default 10 s).
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.options.health_check_interval = interval;
        self
    }

    /// How long a remote delete waits before it is re-checked and run (default 10 min).
    pub fn delete_grace_period(mut self, period: Duration) -> Self {
        self.options.delete_grace_period = period;
        self
    }

    /// The largest file `save`/`update` accept (default: no limit).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.options.max_file_size = Some(bytes);
        self
    }

    /// Keep at most this many bytes of content that is safe on the remote (default: no limit).
    pub fn cache_limit(mut self, bytes: u64) -> Self {
        self.options.cache_limit = Some(bytes);
        self
    }

    /// Whether `resolve` moves a queued download to the front (default true).
    pub fn auto_prioritize_on_resolve(mut self, on: bool) -> Self {
        self.options.auto_prioritize_on_resolve = on;
        self
    }

    /// Whether local blobs that no live row references are removed (default true).
    pub fn orphan_sweep(mut self, on: bool) -> Self {
        self.options.orphan_sweep = on;
        self
    }

    /// How long the orphan sweep leaves freshly written blobs alone (default 60 s).
    pub fn orphan_min_age(mut self, age: Duration) -> Self {
        self.options.orphan_min_age = age;
        self
    }

    /// How often a reconcile re-reads the local store's listing (default 5 min).
    pub fn rescan_interval(mut self, interval: Duration) -> Self {
        self.options.rescan_interval = interval;
        self
    }

    /// How long the engine waits after a catalog change before it reconciles (default 50 ms).
    pub fn reconcile_debounce(mut self, debounce: Duration) -> Self {
        self.options.reconcile_debounce = debounce;
        self
    }

    /// The engine (not started: call [`FileSync::start`]). Fails, changing nothing, when the file
    /// system or the catalog is missing, when no runtime is set and none can be found, or when the
    /// store id cannot form a path.
    pub fn build(self) -> FileSyncResult<FileSync> {
        let fs = self.fs.ok_or_else(|| {
            FileSyncError::invalid("no file system: call .fs(..) on the builder before build()")
        })?;
        let catalog = self.catalog.ok_or_else(|| {
            FileSyncError::invalid("no catalog: call .catalog(..) on the builder before build()")
        })?;
        let remote = self.remote.unwrap_or_else(|| Arc::new(LocalOnly));
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => default_runtime()?,
        };
        let mut storage = LocalFileStorage::new(fs, &self.options.store_id)?;
        if let Some(transfer_fs) = self.transfer_fs {
            storage = storage.with_transfer_fs(transfer_fs);
        }
        #[cfg(target_arch = "wasm32")]
        if let Some(opener) = self.blob_opener {
            storage = storage.with_blob_opener(opener);
        }
        #[cfg(target_arch = "wasm32")]
        if let Some(saver) = self.chunk_saver {
            storage = storage.with_chunk_saver(saver);
        }
        FileSync::from_parts(runtime, storage, catalog, remote, self.options)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn default_runtime() -> FileSyncResult<SharedRuntime> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Ok(Arc::new(crate::runtime::TokioRuntime::from_handle(handle))),
        Err(_) => Err(FileSyncError::invalid(
            "no tokio runtime to run on: call build() inside a tokio runtime, or set one with \
             .runtime(Arc::new(TokioRuntime::from_handle(handle)))",
        )),
    }
}

#[cfg(target_arch = "wasm32")]
fn default_runtime() -> FileSyncResult<SharedRuntime> {
    Ok(Arc::new(crate::runtime::BrowserRuntime))
}
