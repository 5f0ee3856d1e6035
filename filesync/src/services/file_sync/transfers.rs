//! The transfers the executor runs: verified uploads, resumable verified downloads, and what the
//! engine does with the executor's events.
//!
//! A transfer stops while its bytes are moving when its job is cancelled (the file was updated or
//! deleted) or the engine stops: the remote call or the body copy is dropped at its next await
//! point ([`Cancel::run`]); catalog commits are never inside that window. Cancelled by `stop()`, an
//! upload keeps its resume token and a download its partial bytes (the content is still wanted);
//! cancelled by an update or a delete, both are dropped.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use fs_core::{ErrorKind, FsError, MaybeSendBoxFuture, StreamOptions};
use futures::StreamExt;

use crate::decide::{ERR_LOCAL_MISMATCH, ERR_REMOTE_MISSING};
use crate::model::{
    remote_key, FileEvent, FileRow, FileUpdated, LocalFileStateRow, TransferStateRow,
    TransferStatus,
};
use crate::runtime::Cancel;
use crate::services::hash::{ContentHash, Hasher};
use crate::services::local_file_storage::PartialWriter;
#[cfg(target_arch = "wasm32")]
use crate::services::remote_storage::Body;
use crate::services::remote_storage::{Download, RemoteError, RemoteErrorKind, UploadRequest};
use crate::services::sync_executor::{Direction, ExecutorEvent, Outcome, TransferWorker};

use super::inner::{self, Inner};
use super::{health, FileSyncError, FileSyncEvent, FileSyncResult};

/// The executor's worker: runs transfers against the engine (held weakly: the engine owns the
/// executor).
pub(super) struct Worker {
    pub(super) engine: Weak<Inner>,
}

impl TransferWorker for Worker {
    fn run(
        &self,
        direction: Direction,
        file_id: String,
        _attempt: u32,
        cancel: Cancel,
    ) -> MaybeSendBoxFuture<'static, Outcome> {
        let engine = self.engine.clone();
        Box::pin(async move {
            let Some(inner) = engine.upgrade() else {
                return Outcome::Skip;
            };
            if inner.local_only() || inner.stopped() {
                return Outcome::Skip;
            }
            match direction {
                Direction::Upload => upload(&inner, &file_id, &cancel).await,
                Direction::Download => download(&inner, &file_id, &cancel).await,
            }
        })
    }
}

/// A failure worth retrying, labelled with its file.
fn retry(file_id: &str, e: impl Into<FileSyncError>) -> Outcome {
    Outcome::Retry(e.into().for_file(file_id))
}

/// Logs a best-effort step that failed. What it leaves behind (a state row that says `inProgress`
/// with no job, a resume token not recorded) is repaired by a reconcile that runs once the job has
/// ended: it recovers rows without a job as at start-up.
fn log_failed(inner: &Inner, file_id: &str, what: &str, result: FileSyncResult<()>) {
    if let Err(e) = result {
        inner.state().repair_wanted = true;
        tracing::warn!(
            file_id,
            error = %e,
            "{what} failed; the next reconcile repairs the state"
        );
    }
}

/// Changes this client's state row of a file (creating it when missing) and commits it if changed.
async fn set_state(
    inner: &Inner,
    file_id: &str,
    path: &str,
    change: impl FnOnce(&mut LocalFileStateRow),
) -> FileSyncResult<()> {
    let current = inner.catalog.local_state(file_id).await?;
    let mut row = current.clone().unwrap_or_else(|| LocalFileStateRow {
        file_id: file_id.to_owned(),
        path: path.to_owned(),
        local_hash: String::new(),
        download_status: TransferStatus::Pending,
        upload_status: TransferStatus::Pending,
        last_sync_error: String::new(),
    });
    change(&mut row);
    if current.as_ref() == Some(&row) {
        return Ok(());
    }
    inner
        .catalog
        .commit(vec![FileEvent::LocalFileStateUpsert(row)])
        .await
        .map_err(|e| FileSyncError::from(e).for_file(file_id))
}

fn status_of(row: &mut LocalFileStateRow, direction: Direction) -> &mut TransferStatus {
    match direction {
        Direction::Upload => &mut row.upload_status,
        Direction::Download => &mut row.download_status,
    }
}

async fn live_file(inner: &Inner, file_id: &str) -> FileSyncResult<Option<FileRow>> {
    match inner.catalog.file(file_id).await {
        Ok(Some(f)) if f.deleted_at.is_none() => Ok(Some(f)),
        Ok(_) => Ok(None),
        Err(e) => Err(FileSyncError::from(e).for_file(file_id)),
    }
}

/// Maps a remote failure to an outcome: unreachable → a health check, then requeue while offline;
/// transient → retry; refused → fail.
async fn remote_failure(inner: &Arc<Inner>, file_id: &str, e: RemoteError) -> Outcome {
    let error = || FileSyncError::from(e.clone()).for_file(file_id);
    match e.kind {
        RemoteErrorKind::LocalOnly => Outcome::Skip,
        RemoteErrorKind::Offline | RemoteErrorKind::Server => {
            if health::health_check(inner).await {
                Outcome::Retry(error())
            } else {
                Outcome::Requeue
            }
        }
        RemoteErrorKind::Corrupt | RemoteErrorKind::Local => Outcome::Retry(error()),
        RemoteErrorKind::NotFound
        | RemoteErrorKind::Unauthorized
        | RemoteErrorKind::Forbidden
        | RemoteErrorKind::TooLarge
        | RemoteErrorKind::Rejected => Outcome::Fail(error()),
    }
}

async fn upload(inner: &Arc<Inner>, file_id: &str, cancel: &Cancel) -> Outcome {
    let row = match live_file(inner, file_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return Outcome::Skip,
        Err(e) => return Outcome::Retry(e),
    };
    let Ok(hash) = ContentHash::parse(&row.content_hash) else {
        return Outcome::Skip;
    };
    if !row.remote_key.is_empty() {
        // Someone uploaded it meanwhile; the next reconcile marks the state done.
        inner::request_files(inner, [file_id.to_owned()]);
        return Outcome::Skip;
    }
    let size = match inner.storage.exists(&hash).await {
        Ok(Some(size)) => size,
        Ok(None) => {
            let result = set_state(inner, file_id, &row.path, |s| {
                s.upload_status = TransferStatus::Pending;
                s.local_hash.clear();
            })
            .await;
            log_failed(
                inner,
                file_id,
                "recording that the local copy is gone",
                result,
            );
            return Outcome::Skip;
        }
        Err(e) => return retry(file_id, e),
    };
    // Only bytes that hash to the row's contentHash are ever uploaded.
    let verified = match inner::is_verified_local(inner, file_id, &hash).await {
        Ok(v) => v,
        Err(e) => return Outcome::Retry(e.for_file(file_id)),
    };
    if !verified {
        match inner.storage.verify(&hash).await {
            Ok(true) => {
                inner.state().verified.insert(hash, size);
            }
            Ok(false) => {
                tracing::warn!(
                    file_id,
                    hash = %hash,
                    "the local copy does not match its contentHash; not uploaded"
                );
                let result = set_state(inner, file_id, &row.path, |s| {
                    s.local_hash.clear();
                    s.upload_status = TransferStatus::Error;
                    s.last_sync_error = ERR_LOCAL_MISMATCH.to_owned();
                })
                .await;
                log_failed(inner, file_id, "recording a local hash mismatch", result);
                return Outcome::Skip;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Outcome::Skip,
            Err(e) => return retry(file_id, e),
        }
    }
    let hex = hash.to_hex();
    if let Err(e) = set_state(inner, file_id, &row.path, |s| {
        s.upload_status = TransferStatus::InProgress;
        s.local_hash = hex.clone();
    })
    .await
    {
        return Outcome::Retry(e);
    }
    inner.emit(FileSyncEvent::TransferStart {
        direction: Direction::Upload,
        file_id: file_id.to_owned(),
    });
    let transfer = match inner.catalog.transfer_state(file_id).await {
        Ok(t) => t,
        Err(e) => {
            // Without the row the upload starts over instead of resuming: slower, not wrong.
            tracing::warn!(file_id, error = %e, "cannot read the upload's resume token");
            None
        }
    };
    let resume = transfer
        .as_ref()
        .filter(|t| t.content_hash == hex)
        .and_then(|t| t.upload_resume.clone());
    let key = remote_key(&inner.options.store_id, &hash);
    let content_type = row.mime_type();
    let req = upload_request(inner, file_id, hash, &key, size, content_type, resume);
    let Some(result) = cancel.run(inner.remote.upload(req)).await else {
        if inner.stopped() {
            // The content is still wanted: the next start resumes from the recorded token.
            persist_resume(inner, file_id, &hex).await;
        } else {
            // Updated or deleted: this upload is not wanted any more.
            inner.state().resume_tokens.remove(file_id);
        }
        tracing::debug!(file_id, "upload cancelled");
        return Outcome::Skip;
    };
    persist_resume(inner, file_id, &hex).await;
    if let Err(e) = result {
        return remote_failure(inner, file_id, e.with_key(&key)).await;
    }
    // Record the key on the row, if the row still holds this content.
    match live_file(inner, file_id).await {
        Ok(Some(fresh)) if fresh.content_hash == hex && fresh.remote_key != key => {
            let event = FileEvent::FileUpdated(FileUpdated {
                id: file_id.to_owned(),
                path: fresh.path.clone(),
                remote_key: key.clone(),
                content_hash: hex.clone(),
                metadata_json: None,
                updated_at: inner.now(),
                if_content_hash: Some(hex.clone()),
            });
            if let Err(e) = inner.catalog.commit(vec![event]).await {
                return retry(file_id, e);
            }
        }
        Ok(_) => {}
        Err(e) => return Outcome::Retry(e),
    }
    let result = set_state(inner, file_id, &row.path, |s| {
        s.upload_status = TransferStatus::Done;
        s.download_status = TransferStatus::Done;
        s.local_hash = hex.clone();
        s.last_sync_error.clear();
    })
    .await;
    log_failed(inner, file_id, "recording a finished upload", result);
    inner.emit(FileSyncEvent::TransferComplete {
        direction: Direction::Upload,
        file_id: file_id.to_owned(),
    });
    Outcome::Done
}

/// The upload of `hash` for `file_id`: reads the blob from an offset, reports progress, and
/// records resume tokens as the remote hands them out.
fn upload_request(
    inner: &Arc<Inner>,
    file_id: &str,
    hash: ContentHash,
    key: &str,
    size: u64,
    content_type: Option<String>,
    resume: Option<String>,
) -> UploadRequest {
    let storage = inner.storage.clone();
    let weak = Arc::downgrade(inner);
    let progress_id = file_id.to_owned();
    let resume_engine = Arc::downgrade(inner);
    let resume_id = file_id.to_owned();
    let resume_hash = hash.to_hex();
    UploadRequest {
        #[cfg(target_arch = "wasm32")]
        blob: inner.storage.blob_of(&hash),
        key: key.to_owned(),
        size,
        content_type,
        open: Arc::new(move |offset| {
            let storage = storage.clone();
            Box::pin(async move {
                storage
                    .read_stream(
                        &hash,
                        StreamOptions {
                            offset,
                            ..StreamOptions::default()
                        },
                    )
                    .await
            })
        }),
        progress: Arc::new(move |done, total| {
            if let Some(inner) = weak.upgrade() {
                inner.emit(FileSyncEvent::TransferProgress {
                    direction: Direction::Upload,
                    file_id: progress_id.clone(),
                    done,
                    total,
                });
            }
        }),
        resume,
        on_resume: Arc::new(move |token| {
            if let Some(inner) = resume_engine.upgrade() {
                inner.state().resume_tokens.insert(resume_id.clone(), token);
                let engine = inner.clone();
                let id = resume_id.clone();
                let hash = resume_hash.clone();
                inner.runtime.spawn(Box::pin(async move {
                    persist_resume(&engine, &id, &hash).await;
                }));
            }
        }),
    }
}

/// Commits the latest resume token reported for a file's upload, while the file is live and still
/// holds the same content.
async fn persist_resume(inner: &Inner, file_id: &str, hash: &str) {
    let Some(token) = inner.state().resume_tokens.remove(file_id) else {
        return;
    };
    let result = async {
        let live = live_file(inner, file_id).await?;
        if live.is_none_or(|f| f.content_hash != hash) {
            return Ok(());
        }
        let current = inner.catalog.transfer_state(file_id).await?;
        let mut row = current.clone().unwrap_or_else(|| TransferStateRow {
            file_id: file_id.to_owned(),
            content_hash: hash.to_owned(),
            local_size: None,
            upload_resume: None,
        });
        if row.content_hash != hash {
            return Ok(());
        }
        row.upload_resume = token;
        if current.as_ref() != Some(&row) {
            inner
                .catalog
                .commit(vec![FileEvent::FileTransferStateUpsert(row)])
                .await?;
        }
        Ok(())
    }
    .await;
    // A token not recorded costs a restart of the upload from its beginning, nothing else.
    log_failed(
        inner,
        file_id,
        "recording the upload's resume token",
        result,
    );
}

async fn download(inner: &Arc<Inner>, file_id: &str, cancel: &Cancel) -> Outcome {
    let row = match live_file(inner, file_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return Outcome::Skip,
        Err(e) => return Outcome::Retry(e),
    };
    let Ok(hash) = ContentHash::parse(&row.content_hash) else {
        return Outcome::Skip;
    };
    let key = row.remote_key.clone();
    if key.is_empty() {
        return Outcome::Skip;
    }
    let hex = hash.to_hex();
    match inner::is_verified_local(inner, file_id, &hash).await {
        Ok(true) => {
            inner::request_files(inner, [file_id.to_owned()]);
            return Outcome::Skip;
        }
        Ok(false) => {}
        Err(e) => return Outcome::Retry(e.for_file(file_id)),
    }
    if let Err(e) = set_state(inner, file_id, &row.path, |s| {
        s.download_status = TransferStatus::InProgress;
        s.local_hash.clear();
    })
    .await
    {
        return Outcome::Retry(e);
    }
    inner.emit(FileSyncEvent::TransferStart {
        direction: Direction::Download,
        file_id: file_id.to_owned(),
    });
    // Resume after the bytes of an interrupted download (they are hashed again first).
    let offset = match inner.storage.partial_size(&hash).await {
        Ok(Some(n)) => n,
        Ok(None) => 0,
        Err(e) => return retry(file_id, e),
    };
    let Some(dl) = cancel.run(inner.remote.download(&key, offset)).await else {
        return Outcome::Skip;
    };
    let dl = match dl {
        Ok(dl) => dl,
        Err(e) if e.kind == RemoteErrorKind::NotFound => {
            return remote_missing(inner, file_id, &row, e.with_key(&key)).await;
        }
        Err(e) if e.status == Some(416) && offset > 0 => {
            // The partial file does not fit the object (416 Range Not Satisfiable): start over.
            let removed = inner.storage.remove_partial(&hash).await;
            log_failed(
                inner,
                file_id,
                "removing a partial download that does not fit",
                removed.map_err(FileSyncError::from),
            );
            return retry(file_id, e.with_key(&key));
        }
        Err(e) => return remote_failure(inner, file_id, e.with_key(&key)).await,
    };
    let Download {
        offset: start,
        total_size,
        content_type,
        body,
    } = dl;
    let into = Partial {
        inner,
        file_id,
        hash: &hash,
        start,
        total: total_size.unwrap_or(0),
        cancel,
    };
    let fetched = match body {
        #[cfg(target_arch = "wasm32")]
        Body::Js(chunks) if inner.storage.chunk_saver().is_some() => into.save(chunks).await,
        body => into.copy(body.into_bytes()).await,
    };
    let (size, got) = match fetched {
        Ok(done) => done,
        Err(Stopped::Cancelled) => {
            tracing::debug!(file_id, "download cancelled");
            return Outcome::Skip;
        }
        Err(Stopped::Local(e)) => return retry(file_id, e),
        Err(Stopped::Body(e)) => return remote_failure(inner, file_id, e.with_key(&key)).await,
    };
    if got != hash {
        // Never kept: the partial goes, the next attempt starts over.
        let removed = inner.storage.remove_partial(&hash).await;
        log_failed(
            inner,
            file_id,
            "removing a corrupt download",
            removed.map_err(FileSyncError::from),
        );
        return retry(
            file_id,
            RemoteError::new(
                RemoteErrorKind::Corrupt,
                format!("downloaded bytes hash to {got}, not to the file's contentHash {hash}"),
            )
            .with_key(&key),
        );
    }
    // The row's metadata holds the MIME type when our package or a preprocessor recorded it;
    // 0.8.0 clients keep it beside the blob only, so the remote's answer is kept for those.
    let mime = content_type
        .as_deref()
        .filter(|_| row.mime_type().is_none());
    if let Err(e) = inner.storage.commit_partial(&hash, mime).await {
        return retry(file_id, e);
    }
    {
        let mut st = inner.state();
        st.verified.insert(hash, size);
        st.index.insert(hash, size);
        st.requested.remove(file_id);
    }
    let transfer = TransferStateRow {
        file_id: file_id.to_owned(),
        content_hash: hex.clone(),
        local_size: Some(size),
        upload_resume: None,
    };
    let recorded = inner
        .catalog
        .commit(vec![FileEvent::FileTransferStateUpsert(transfer)])
        .await;
    // Without the recorded size a restart re-hashes the copy once; nothing is lost.
    log_failed(
        inner,
        file_id,
        "recording the downloaded size",
        recorded.map_err(FileSyncError::from),
    );
    let result = set_state(inner, file_id, &row.path, |s| {
        s.local_hash = hex.clone();
        s.download_status = TransferStatus::Done;
        s.last_sync_error.clear();
    })
    .await;
    log_failed(inner, file_id, "recording a finished download", result);
    inner.emit(FileSyncEvent::TransferComplete {
        direction: Direction::Download,
        file_id: file_id.to_owned(),
    });
    Outcome::Done
}

/// Why moving a download's body into its partial file stopped.
enum Stopped {
    /// The job was cancelled (the partial file is kept when the engine stopped, else removed).
    Cancelled,
    /// Reading or writing the partial file failed.
    Local(FsError),
    /// The body failed (connection cut, stall); what arrived is kept for a resume.
    Body(RemoteError),
}

/// Why copying a download's body stopped.
enum CopyError {
    /// The local write failed.
    Write(FsError),
    /// The body failed (connection cut, corrupt stream).
    Body(RemoteError),
}

/// A download's body on its way into the partial file: the body starts at `start` (the partial
/// file's size when resuming, else `0`) of `total` bytes (`0`: unknown).
struct Partial<'a> {
    inner: &'a Arc<Inner>,
    file_id: &'a str,
    hash: &'a ContentHash,
    start: u64,
    total: u64,
    cancel: &'a Cancel,
}

impl Partial<'_> {
    /// Copies `body` into the partial file through the engine's [`PartialWriter`], hashing on the
    /// way; answers the partial file's size and hash.
    async fn copy(
        &self,
        body: fs_core::MaybeSendBoxStream<Result<Bytes, RemoteError>>,
    ) -> Result<(u64, ContentHash), Stopped> {
        let (inner, file_id) = (self.inner, self.file_id);
        let resuming = self.start > 0;
        let mut hasher = if resuming {
            let partial = inner.storage.hash_partial(self.hash).await;
            partial.map_err(Stopped::Local)?
        } else {
            Hasher::new()
        };
        let sink = inner.storage.partial_writer(self.hash, resuming).await;
        let mut sink = sink.map_err(Stopped::Local)?;
        let copying = copy_body(
            inner,
            file_id,
            body,
            &mut sink,
            &mut hasher,
            self.start,
            self.total,
        );
        match self.cancel.run(copying).await {
            None => {
                if inner.stopped() {
                    // Still wanted: keep what arrived for the resume at the next start.
                    if let Err(e) = sink.close().await {
                        tracing::warn!(file_id, error = %e, "cannot keep a partial download");
                    }
                } else {
                    abort_sink(file_id, sink).await;
                }
                self.cancelled().await;
                return Err(Stopped::Cancelled);
            }
            Some(Err(CopyError::Write(e))) => {
                abort_sink(file_id, sink).await;
                return Err(Stopped::Local(e));
            }
            Some(Err(CopyError::Body(e))) => {
                // Keep what arrived for a resume.
                if let Err(close) = sink.close().await {
                    tracing::warn!(file_id, error = %close, "cannot keep a partial download");
                }
                return Err(Stopped::Body(e));
            }
            Some(Ok(())) => {}
        }
        sink.close().await.map_err(Stopped::Local)?;
        Ok((hasher.bytes_hashed(), hasher.finalize()))
    }

    /// Hands `chunks` to the storage's [`crate::ChunkSaver`] (wasm32: the package's worker), which
    /// writes and hashes them outside the engine; answers the partial file's size and hash.
    #[cfg(target_arch = "wasm32")]
    async fn save(
        &self,
        chunks: crate::services::remote_storage::JsChunks,
    ) -> Result<(u64, ContentHash), Stopped> {
        use crate::services::local_file_storage::{SaveChunks, SaveChunksError};
        let inner = self.inner;
        let Some(saver) = inner.storage.chunk_saver().cloned() else {
            return Err(Stopped::Local(FsError::new(
                ErrorKind::Unsupported,
                "LocalFileStorage.saveChunks",
                "no chunk saver",
            )));
        };
        let path = inner.storage.prepare_partial(self.hash).await;
        let path = path.map_err(Stopped::Local)?;
        let progress = {
            let engine = Arc::downgrade(inner);
            let file_id = self.file_id.to_owned();
            let total = self.total;
            Box::new(move |done: u64| {
                if let Some(inner) = engine.upgrade() {
                    inner.emit(FileSyncEvent::TransferProgress {
                        direction: Direction::Download,
                        file_id: file_id.clone(),
                        done,
                        total: total.max(done),
                    });
                }
            })
        };
        let job = SaveChunks {
            path,
            start: self.start,
            chunks,
            progress,
        };
        match self.cancel.run(saver(job)).await {
            None => {
                self.cancelled().await;
                Err(Stopped::Cancelled)
            }
            Some(Ok(saved)) => Ok((saved.size, saved.hash)),
            Some(Err(SaveChunksError::Body(e))) => Err(Stopped::Body(e)),
            Some(Err(SaveChunksError::Local(e))) => Err(Stopped::Local(e)),
        }
    }

    /// After a cancel: an update or a delete wants neither this attempt's bytes nor earlier ones,
    /// so the partial file goes; a stopping engine keeps it for the resume at the next start.
    async fn cancelled(&self) {
        if self.inner.stopped() {
            return;
        }
        let removed = self.inner.storage.remove_partial(self.hash).await;
        log_failed(
            self.inner,
            self.file_id,
            "removing a cancelled partial download",
            removed.map_err(FileSyncError::from),
        );
    }
}

/// Copies a download's body into the partial file, hashing and reporting progress on the way.
async fn copy_body(
    inner: &Inner,
    file_id: &str,
    mut body: fs_core::MaybeSendBoxStream<Result<Bytes, RemoteError>>,
    sink: &mut PartialWriter,
    hasher: &mut Hasher,
    start: u64,
    total: u64,
) -> Result<(), CopyError> {
    let mut done = start;
    while let Some(chunk) = body.next().await {
        let bytes = chunk.map_err(CopyError::Body)?;
        hasher.update(&bytes);
        done += bytes.len() as u64;
        sink.write(bytes).await.map_err(CopyError::Write)?;
        inner.emit(FileSyncEvent::TransferProgress {
            direction: Direction::Download,
            file_id: file_id.to_owned(),
            done,
            total: total.max(done),
        });
    }
    Ok(())
}

async fn abort_sink(file_id: &str, sink: PartialWriter) {
    if let Err(e) = sink.abort().await {
        tracing::warn!(file_id, error = %e, "cannot discard a partial download's new bytes");
    }
}

/// The row's remote object is gone (404). The row's `remoteKey` is cleared (a standard
/// `v1.FileUpdated`), which tells every client holding verified bytes to upload them again.
async fn remote_missing(
    inner: &Arc<Inner>,
    file_id: &str,
    row: &FileRow,
    e: RemoteError,
) -> Outcome {
    match live_file(inner, file_id).await {
        Ok(Some(fresh))
            if fresh.remote_key == row.remote_key && fresh.content_hash == row.content_hash =>
        {
            let event = FileEvent::FileUpdated(FileUpdated {
                id: file_id.to_owned(),
                path: fresh.path.clone(),
                remote_key: String::new(),
                content_hash: fresh.content_hash.clone(),
                metadata_json: None,
                updated_at: inner.now(),
                if_content_hash: Some(fresh.content_hash.clone()),
            });
            if let Err(err) = inner.catalog.commit(vec![event]).await {
                return retry(file_id, err);
            }
        }
        Ok(_) => {}
        Err(err) => return Outcome::Retry(err),
    }
    tracing::warn!(
        file_id,
        key = row.remote_key.as_str(),
        "the remote copy is missing; asking the clients that hold the bytes to upload them again"
    );
    let result = set_state(inner, file_id, &row.path, |s| {
        s.download_status = TransferStatus::Pending;
        s.last_sync_error = ERR_REMOTE_MISSING.to_owned();
    })
    .await;
    log_failed(inner, file_id, "recording a missing remote copy", result);
    inner.emit(FileSyncEvent::TransferError {
        direction: Direction::Download,
        file_id: file_id.to_owned(),
        error: FileSyncError::from(e).for_file(file_id),
        will_retry: false,
    });
    Outcome::Skip
}

/// Turns executor events into state rows and app events.
pub(super) fn on_executor_event(inner: &Arc<Inner>, event: ExecutorEvent) {
    if !matches!(event, ExecutorEvent::Started { .. })
        && std::mem::take(&mut inner.state().repair_wanted)
    {
        inner::request(inner);
    }
    let (direction, file_id, status, error) = match event {
        ExecutorEvent::RetryScheduled {
            direction,
            file_id,
            attempt,
            error,
            delay,
        } => {
            tracing::info!(
                file_id,
                direction = direction.as_str(),
                attempt,
                retry_in_ms = delay.as_millis() as u64,
                error = %error,
                "transfer failed; retrying"
            );
            inner.emit(FileSyncEvent::TransferError {
                direction,
                file_id: file_id.clone(),
                error: error.clone(),
                will_retry: true,
            });
            (direction, file_id, TransferStatus::Queued, Some(error))
        }
        ExecutorEvent::Failed {
            direction,
            file_id,
            error,
        } => {
            tracing::warn!(
                file_id,
                direction = direction.as_str(),
                error = %error,
                "transfer failed"
            );
            inner.emit(FileSyncEvent::TransferError {
                direction,
                file_id: file_id.clone(),
                error: error.clone(),
                will_retry: false,
            });
            (direction, file_id, TransferStatus::Error, Some(error))
        }
        ExecutorEvent::Exhausted {
            direction,
            file_id,
            error,
            attempts,
        } => {
            tracing::warn!(
                file_id,
                direction = direction.as_str(),
                attempts,
                error = %error,
                "transfer given up after its retries"
            );
            inner.emit(FileSyncEvent::TransferExhausted {
                direction,
                file_id: file_id.clone(),
                error: error.clone(),
            });
            (direction, file_id, TransferStatus::Error, Some(error))
        }
        ExecutorEvent::Requeued { direction, file_id } => {
            (direction, file_id, TransferStatus::Queued, None)
        }
        ExecutorEvent::Started {
            direction,
            file_id,
            attempt,
        } => {
            tracing::debug!(
                file_id,
                direction = direction.as_str(),
                attempt,
                "transfer started"
            );
            return;
        }
        ExecutorEvent::Succeeded { direction, file_id } => {
            tracing::debug!(file_id, direction = direction.as_str(), "transfer done");
            return;
        }
        ExecutorEvent::Dropped { direction, file_id } => {
            tracing::debug!(file_id, direction = direction.as_str(), "transfer dropped");
            return;
        }
    };
    inner.state().settling.insert((direction, file_id.clone()));
    let engine = inner.clone();
    inner.runtime.spawn(Box::pin(async move {
        let result = settle_state(&engine, direction, &file_id, status, error).await;
        log_failed(&engine, &file_id, "recording a transfer's failure", result);
        let repair = {
            let mut st = engine.state();
            st.settling.remove(&(direction, file_id));
            std::mem::take(&mut st.repair_wanted)
        };
        if repair {
            inner::request(&engine);
        }
    }));
}

/// Records a transfer's new status (and error) on the file's state row, when the file is live and
/// has one.
async fn settle_state(
    engine: &Arc<Inner>,
    direction: Direction,
    file_id: &str,
    status: TransferStatus,
    error: Option<FileSyncError>,
) -> FileSyncResult<()> {
    if live_file(engine, file_id).await?.is_none() {
        return Ok(());
    }
    let Some(mut row) = engine.catalog.local_state(file_id).await? else {
        return Ok(());
    };
    let before = row.clone();
    *status_of(&mut row, direction) = status;
    if let Some(e) = error {
        row.last_sync_error = e.to_string();
    }
    if row != before {
        engine
            .catalog
            .commit(vec![FileEvent::LocalFileStateUpsert(row)])
            .await?;
    }
    Ok(())
}
