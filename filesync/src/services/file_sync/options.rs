//! The engine's options.

use std::time::Duration;

use crate::decide::DownloadPolicy;
use crate::services::sync_executor::ExecutorConfig;

/// Every option of the engine. [`crate::FileSync::builder`] sets them one by one; an app that keeps its
/// options as a value starts from [`FileSyncOptions::new`] and hands it to
/// [`crate::FileSyncBuilder::with_options`].
#[derive(Debug, Clone)]
#[non_exhaustive]
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
