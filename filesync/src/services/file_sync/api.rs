//! The engine's API: saves, updates, deletes, reads, resolves, and what they share.

use std::sync::Arc;

use bytes::Bytes;
use fs_core::{ByteStream, FsError, StreamOptions};
use futures::StreamExt;

use crate::model::{
    local_path, FileCreated, FileDeleted, FileEvent, FileRow, FileUpdated, LocalFileStateRow,
    TransferStateRow, TransferStatus,
};
use crate::runtime::RuntimeExt;
use crate::services::hash::ContentHash;
use crate::services::local_file_state::{StateBatch, SyncStatus};
use crate::services::local_file_storage::LocalFileStorage;
use crate::services::sync_executor::Direction;

use super::inner::{self, FileSync, Inner};
use super::{
    health, lifecycle, reconcile, Content, FileSyncError, FileSyncEvent, FileSyncResult, Listener,
    ListenerId, Resolved, SaveOptions, SavedFile,
};

impl FileSync {
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
    /// row with this client's state, then uploaded in the background once the engine runs
    /// ([`FileSync::start`]).
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
        let upload = upload_status(inner, queue);
        events.extend(local_copy_events(
            &id,
            &path,
            &hash_hex,
            stored.size,
            upload,
        ));
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
        let stored = self
            .store(content, &options)
            .await
            .map_err(|e| e.for_file(file_id))?;
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
            if_content_hash: None,
        })];
        let queue = inner.is_online();
        let upload = upload_status(inner, queue);
        events.extend(local_copy_events(
            file_id,
            &path,
            &hash_hex,
            stored.size,
            upload,
        ));
        inner
            .catalog
            .commit(events)
            .await
            .map_err(|e| FileSyncError::from(e).for_file(file_id))?;
        if queue {
            inner.executor.enqueue(Direction::Upload, file_id);
        }
        if !row.remote_key.is_empty() && !inner.local_only() {
            lifecycle::schedule_remote_delete(inner, &row.remote_key).await;
        }
        // The old content may be an orphan now: the next pass removes it when nothing references it.
        if let Ok(old) = ContentHash::parse(&row.content_hash) {
            inner::add_orphan_candidate(inner, old);
        }
        inner::request_files(inner, [file_id.to_owned()]);
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
            .await
            .map_err(|e| FileSyncError::from(e).for_file(file_id))?;
        inner.state().requested.remove(file_id);
        inner::request_files(inner, [file_id.to_owned()]);
        Ok(())
    }

    /// Reads a file's verified local bytes as a stream.
    pub async fn read_stream(&self, file_id: &str) -> FileSyncResult<ByteStream> {
        let inner = &self.inner;
        let row = live_row(inner, file_id).await?;
        let hash = ContentHash::parse(&row.content_hash)
            .map_err(|e| FileSyncError::invalid(e.to_string()).for_file(file_id))?;
        if !inner::is_verified_local(inner, file_id, &hash).await? {
            return Err(FileSyncError::NotLocal {
                file_id: file_id.to_owned(),
            });
        }
        inner
            .storage
            .read_stream(&hash, StreamOptions::default())
            .await
            .map_err(|e| FileSyncError::from(e).for_file(file_id))
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
        if inner::is_verified_local(inner, file_id, &hash).await? {
            return Ok(Some(Resolved::Local {
                path: inner.storage.path_for(&hash),
                mime_type: match row.mime_type() {
                    Some(mime) => Some(mime),
                    None => inner.storage.mime_of(&hash).await?,
                },
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
            inner::request_files(inner, [file_id.to_owned()]);
        }
        if row.remote_key.is_empty() {
            return Ok(None);
        }
        let url = inner
            .remote
            .download_url(&row.remote_key)
            .await
            .map_err(|e| FileSyncError::from(e.with_key(&row.remote_key)).for_file(file_id))?;
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
            inner::request_files(&self.inner, [file_id.to_owned()]);
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
        self.inner.state().rescan_wanted = true;
        reconcile::reconcile(&self.inner).await
    }

    /// Checks the remote's health now; returns whether it is online.
    pub async fn check_health(&self) -> bool {
        health::health_check(&self.inner).await
    }

    /// The sync-status aggregate of this client's `localFileState` rows.
    pub async fn sync_status(&self) -> FileSyncResult<SyncStatus> {
        let rows = self.inner.catalog.local_states().await?;
        Ok(SyncStatus::from_rows(&rows))
    }

    /// True when nothing is queued, running, waiting for a retry or waiting to be deleted remotely
    /// before its time, and no reconcile is running.
    pub fn is_idle(&self) -> bool {
        self.inner.state().passes.is_idle() && self.inner.executor.counts().is_idle()
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
                return Err(FileSyncError::invalid(format!(
                    "mime type {m:?} is not a valid MIME type"
                )));
            }
        }
        let stored = match content {
            Content::Bytes(b) => {
                if let Some(limit) = limit {
                    if b.len() as u64 > limit {
                        return Err(FileSyncError::TooLarge {
                            file_id: None,
                            limit,
                        });
                    }
                }
                inner.storage.write_bytes(b, None).await?
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
                match inner.storage.write_stream(stream, None, None).await {
                    Ok(stored) => stored,
                    Err(_) if over.load(std::sync::atomic::Ordering::SeqCst) => {
                        return Err(FileSyncError::TooLarge {
                            file_id: None,
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
/// The upload status of new local content: `queued` when the upload is queued at once, `pending`
/// while offline, and `done` in local-only mode (as the TypeScript package records it: nothing is
/// waiting; a row whose `remoteKey` is empty is still uploaded once a remote is configured).
fn upload_status(inner: &Inner, queued: bool) -> TransferStatus {
    if inner.local_only() {
        TransferStatus::Done
    } else if queued {
        TransferStatus::Queued
    } else {
        TransferStatus::Pending
    }
}

fn local_copy_events(
    file_id: &str,
    path: &str,
    hash_hex: &str,
    size: u64,
    upload_status: TransferStatus,
) -> [FileEvent; 2] {
    [
        FileEvent::LocalFileStateUpsert(LocalFileStateRow {
            file_id: file_id.to_owned(),
            path: path.to_owned(),
            local_hash: hash_hex.to_owned(),
            download_status: TransferStatus::Done,
            upload_status,
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
            inner::request(self.0);
        }
    }
}

/// The metadata JSON of a save: the app's object plus `mimeType`, `sizeBytes` and `name` when
/// absent; `None` (null) when there is neither metadata nor a name.
fn metadata_json(options: &SaveOptions, size: u64) -> FileSyncResult<Option<String>> {
    if options.metadata.is_none() && options.name.is_none() && options.mime_type.is_none() {
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
        .map_err(|e| FileSyncError::invalid(format!("metadata: {e}")))
}

async fn live_row(inner: &Inner, file_id: &str) -> FileSyncResult<FileRow> {
    match inner.catalog.file(file_id).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        _ => Err(FileSyncError::not_found(file_id)),
    }
}
