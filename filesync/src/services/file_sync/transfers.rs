//! The transfers the executor runs: verified uploads, resumable verified downloads, and what the
//! engine does with the executor's events.

use std::sync::{Arc, Weak};

use fs_core::{ErrorKind, MaybeSendBoxFuture, StreamOptions};
use futures::StreamExt;

use crate::decide::{ERR_LOCAL_MISMATCH, ERR_REMOTE_MISSING};
use crate::model::{
    remote_key, FileEvent, FileRow, FileUpdated, LocalFileStateRow, TransferStateRow,
    TransferStatus,
};
use crate::services::hash::{ContentHash, Hasher};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, UploadRequest};
use crate::services::sync_executor::{
    CancelToken, Direction, ExecutorEvent, Outcome, TransferWorker,
};

use super::{reconcile, FileSyncEvent, Inner};

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
        cancel: CancelToken,
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

/// Changes this client's state row of a file (creating it when missing) and commits it if changed.
async fn set_state(
    inner: &Inner,
    file_id: &str,
    path: &str,
    change: impl FnOnce(&mut LocalFileStateRow),
) -> Result<(), String> {
    let current = inner
        .catalog
        .local_state(file_id)
        .await
        .map_err(|e| e.to_string())?;
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
        .map_err(|e| e.to_string())
}

fn status_of(row: &mut LocalFileStateRow, direction: Direction) -> &mut TransferStatus {
    match direction {
        Direction::Upload => &mut row.upload_status,
        Direction::Download => &mut row.download_status,
    }
}

async fn live_file(inner: &Inner, file_id: &str) -> Result<Option<FileRow>, String> {
    match inner.catalog.file(file_id).await {
        Ok(Some(f)) if f.deleted_at.is_none() => Ok(Some(f)),
        Ok(_) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Maps a remote failure to an outcome: unreachable → a health check, then requeue while offline;
/// transient → retry; refused → fail.
async fn remote_failure(inner: &Arc<Inner>, e: &RemoteError) -> Outcome {
    match e.kind {
        RemoteErrorKind::LocalOnly => Outcome::Skip,
        RemoteErrorKind::Offline | RemoteErrorKind::Server => {
            if super::health_check(inner).await {
                Outcome::Retry(e.to_string())
            } else {
                Outcome::Requeue
            }
        }
        RemoteErrorKind::Corrupt | RemoteErrorKind::Local => Outcome::Retry(e.to_string()),
        RemoteErrorKind::NotFound
        | RemoteErrorKind::Unauthorized
        | RemoteErrorKind::Forbidden
        | RemoteErrorKind::TooLarge
        | RemoteErrorKind::Rejected => Outcome::Fail(e.to_string()),
    }
}

async fn upload(inner: &Arc<Inner>, file_id: &str, _cancel: &CancelToken) -> Outcome {
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
        reconcile::request(inner);
        return Outcome::Skip;
    }
    let size = match inner.storage.exists(&hash).await {
        Ok(Some(size)) => size,
        Ok(None) => {
            let _ = set_state(inner, file_id, &row.path, |s| {
                s.upload_status = TransferStatus::Pending;
                s.local_hash.clear();
            })
            .await;
            return Outcome::Skip;
        }
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    // Only bytes that hash to the row's contentHash are ever uploaded.
    let verified = match reconcile::is_verified_local(inner, file_id, &hash).await {
        Ok(v) => v,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    if !verified {
        match inner.storage.verify(&hash).await {
            Ok(true) => {
                inner.state().verified.insert(hash, size);
            }
            Ok(false) => {
                let _ = set_state(inner, file_id, &row.path, |s| {
                    s.local_hash.clear();
                    s.upload_status = TransferStatus::Error;
                    s.last_sync_error = ERR_LOCAL_MISMATCH.to_owned();
                })
                .await;
                return Outcome::Skip;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Outcome::Skip,
            Err(e) => return Outcome::Retry(e.to_string()),
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
    let transfer = inner.catalog.transfer_state(file_id).await.ok().flatten();
    let resume = transfer
        .as_ref()
        .filter(|t| t.content_hash == hex)
        .and_then(|t| t.upload_resume.clone());
    let key = remote_key(&inner.options.store_id, &hash);
    let content_type = inner.storage.mime_of(&hash).await.ok().flatten();
    let storage = inner.storage.clone();
    let weak = Arc::downgrade(inner);
    let progress_id = file_id.to_owned();
    let resume_engine = Arc::downgrade(inner);
    let resume_id = file_id.to_owned();
    let resume_hash = hex.clone();
    let req = UploadRequest {
        key: key.clone(),
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
    };
    let result = inner.remote.upload(req).await;
    persist_resume(inner, file_id, &hex).await;
    if let Err(e) = result {
        return remote_failure(inner, &e).await;
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
            });
            if let Err(e) = inner.catalog.commit(vec![event]).await {
                return Outcome::Retry(e.to_string());
            }
        }
        Ok(_) => {}
        Err(e) => return Outcome::Retry(e),
    }
    let _ = set_state(inner, file_id, &row.path, |s| {
        s.upload_status = TransferStatus::Done;
        s.download_status = TransferStatus::Done;
        s.local_hash = hex.clone();
        s.last_sync_error.clear();
    })
    .await;
    inner.emit(FileSyncEvent::TransferComplete {
        direction: Direction::Upload,
        file_id: file_id.to_owned(),
    });
    Outcome::Done
}

/// Commits the latest resume token reported for a file's upload.
async fn persist_resume(inner: &Inner, file_id: &str, hash: &str) {
    let Some(token) = inner.state().resume_tokens.remove(file_id) else {
        return;
    };
    let current = inner.catalog.transfer_state(file_id).await.ok().flatten();
    let mut row = current.clone().unwrap_or_else(|| TransferStateRow {
        file_id: file_id.to_owned(),
        content_hash: hash.to_owned(),
        local_size: None,
        upload_resume: None,
    });
    if row.content_hash != hash {
        return;
    }
    row.upload_resume = token;
    if current.as_ref() != Some(&row) {
        let _ = inner
            .catalog
            .commit(vec![FileEvent::FileTransferStateUpsert(row)])
            .await;
    }
}

async fn download(inner: &Arc<Inner>, file_id: &str, cancel: &CancelToken) -> Outcome {
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
    match reconcile::is_verified_local(inner, file_id, &hash).await {
        Ok(true) => {
            reconcile::request(inner);
            return Outcome::Skip;
        }
        Ok(false) => {}
        Err(e) => return Outcome::Retry(e.to_string()),
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
    // Resume after the bytes of an interrupted download, re-hashing them first.
    let offset = match inner.storage.partial_size(&hash).await {
        Ok(Some(n)) => n,
        Ok(None) => 0,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let mut hasher = if offset > 0 {
        match inner.storage.hash_partial(&hash).await {
            Ok(h) => h,
            Err(e) => return Outcome::Retry(e.to_string()),
        }
    } else {
        Hasher::new()
    };
    let dl = match inner.remote.download(&key, offset).await {
        Ok(dl) => dl,
        Err(e) if e.kind == RemoteErrorKind::NotFound => {
            return remote_missing(inner, file_id, &row, &e).await;
        }
        Err(e) if e.kind == RemoteErrorKind::Rejected && offset > 0 => {
            // The partial file does not fit the object (416): start over.
            let _ = inner.storage.remove_partial(&hash).await;
            return Outcome::Retry(e.to_string());
        }
        Err(e) => return remote_failure(inner, &e).await,
    };
    let append = dl.offset > 0;
    if !append {
        hasher = Hasher::new();
    }
    let total = dl.total_size.unwrap_or(0);
    let mut sink = match inner.storage.partial_sink(&hash, append).await {
        Ok(s) => s,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let mut done = dl.offset;
    let mut body = dl.body;
    while let Some(chunk) = body.next().await {
        if cancel.is_cancelled() || inner.stopped() {
            // Keep what arrived for a later resume.
            let _ = sink.close().await;
            return Outcome::Skip;
        }
        match chunk {
            Ok(bytes) => {
                hasher.update(&bytes);
                done += bytes.len() as u64;
                if let Err(e) = sink.write(bytes).await {
                    let _ = sink.abort().await;
                    return Outcome::Retry(e.to_string());
                }
                inner.emit(FileSyncEvent::TransferProgress {
                    direction: Direction::Download,
                    file_id: file_id.to_owned(),
                    done,
                    total: total.max(done),
                });
            }
            Err(e) => {
                let _ = sink.close().await;
                return remote_failure(inner, &e).await;
            }
        }
    }
    if let Err(e) = sink.close().await {
        return Outcome::Retry(e.to_string());
    }
    let size = hasher.bytes_hashed();
    let got = hasher.finalize();
    if got != hash {
        // Never kept: the partial goes, the next attempt starts over.
        let _ = inner.storage.remove_partial(&hash).await;
        return Outcome::Retry(format!(
            "downloaded bytes hash to {got}, not to the file's contentHash {hash}"
        ));
    }
    if let Err(e) = inner
        .storage
        .commit_partial(&hash, dl.content_type.as_deref())
        .await
    {
        return Outcome::Retry(e.to_string());
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
    let _ = inner
        .catalog
        .commit(vec![FileEvent::FileTransferStateUpsert(transfer)])
        .await;
    let _ = set_state(inner, file_id, &row.path, |s| {
        s.local_hash = hex.clone();
        s.download_status = TransferStatus::Done;
        s.last_sync_error.clear();
    })
    .await;
    inner.emit(FileSyncEvent::TransferComplete {
        direction: Direction::Download,
        file_id: file_id.to_owned(),
    });
    Outcome::Done
}

/// The row's remote object is gone (404). The row's `remoteKey` is cleared (a standard
/// `v1.FileUpdated`), which tells every client holding verified bytes to upload them again.
async fn remote_missing(
    inner: &Arc<Inner>,
    file_id: &str,
    row: &FileRow,
    e: &RemoteError,
) -> Outcome {
    if let Ok(Some(fresh)) = live_file(inner, file_id).await {
        if fresh.remote_key == row.remote_key && fresh.content_hash == row.content_hash {
            let event = FileEvent::FileUpdated(FileUpdated {
                id: file_id.to_owned(),
                path: fresh.path.clone(),
                remote_key: String::new(),
                content_hash: fresh.content_hash.clone(),
                metadata_json: None,
                updated_at: inner.now(),
            });
            if let Err(err) = inner.catalog.commit(vec![event]).await {
                return Outcome::Retry(err.to_string());
            }
        }
    }
    let _ = set_state(inner, file_id, &row.path, |s| {
        s.download_status = TransferStatus::Pending;
        s.last_sync_error = ERR_REMOTE_MISSING.to_owned();
    })
    .await;
    inner.emit(FileSyncEvent::TransferError {
        direction: Direction::Download,
        file_id: file_id.to_owned(),
        error: e.to_string(),
        will_retry: false,
    });
    Outcome::Skip
}

/// Turns executor events into state rows and app events.
pub(super) fn on_executor_event(inner: &Arc<Inner>, event: ExecutorEvent) {
    let error_event =
        |direction, file_id: &String, error: &String, will_retry| FileSyncEvent::TransferError {
            direction,
            file_id: file_id.clone(),
            error: error.clone(),
            will_retry,
        };
    let (direction, file_id, status, error) = match event {
        ExecutorEvent::RetryScheduled {
            direction,
            file_id,
            error,
            ..
        } => {
            inner.emit(error_event(direction, &file_id, &error, true));
            (direction, file_id, TransferStatus::Queued, Some(error))
        }
        ExecutorEvent::Failed {
            direction,
            file_id,
            error,
        } => {
            inner.emit(error_event(direction, &file_id, &error, false));
            (direction, file_id, TransferStatus::Error, Some(error))
        }
        ExecutorEvent::Exhausted {
            direction,
            file_id,
            error,
            ..
        } => {
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
        ExecutorEvent::Started { .. }
        | ExecutorEvent::Succeeded { .. }
        | ExecutorEvent::Dropped { .. } => return,
    };
    inner.state().settling.insert((direction, file_id.clone()));
    let engine = inner.clone();
    inner.runtime.spawn(Box::pin(async move {
        settle_state(&engine, direction, &file_id, status, error).await;
        engine.state().settling.remove(&(direction, file_id));
    }));
}

async fn settle_state(
    engine: &Arc<Inner>,
    direction: Direction,
    file_id: &str,
    status: TransferStatus,
    error: Option<String>,
) {
    {
        // Only a file that still has a state row and a live row is updated.
        if !matches!(live_file(engine, file_id).await, Ok(Some(_))) {
            return;
        }
        if let Ok(Some(mut row)) = engine.catalog.local_state(file_id).await {
            let before = row.clone();
            *status_of(&mut row, direction) = status;
            if let Some(e) = error {
                row.last_sync_error = e;
            }
            if row != before {
                let _ = engine
                    .catalog
                    .commit(vec![FileEvent::LocalFileStateUpsert(row)])
                    .await;
            }
        }
    }
}
