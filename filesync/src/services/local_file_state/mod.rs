//! The per-file transfer state: `localFileState` rows (the package's table) and our
//! `fileTransferState` rows, changed through batched commits, and the sync-status aggregate.
//!
//! [`StateBatch`] gathers row changes and commits them as one catalog commit (a reconcile of many
//! files is one commit, not one per file). [`SyncStatus::from_rows`] computes the same aggregate as
//! the package's `getSyncStatus`.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, CatalogError};
use crate::model::{
    FileEvent, FileTransferStateRemove, LocalFileStateRemove, LocalFileStateRow, TransferStateRow,
    TransferStatus,
};

#[cfg(test)]
mod tests;

/// Largest number of events in one catalog commit.
pub const MAX_BATCH: usize = 1_000;

/// Row changes to commit together. Later changes of the same row replace earlier ones.
#[derive(Debug, Default, Clone)]
pub struct StateBatch {
    local: BTreeMap<String, Option<LocalFileStateRow>>,
    transfer: BTreeMap<String, Option<TransferStateRow>>,
}

impl StateBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Upserts a `localFileState` row.
    pub fn upsert(&mut self, row: LocalFileStateRow) {
        self.local.insert(row.file_id.clone(), Some(row));
    }

    /// Removes a `localFileState` row.
    pub fn remove(&mut self, file_id: &str) {
        self.local.insert(file_id.to_owned(), None);
    }

    /// Upserts a `fileTransferState` row.
    pub fn upsert_transfer(&mut self, row: TransferStateRow) {
        self.transfer.insert(row.file_id.clone(), Some(row));
    }

    /// Removes a `fileTransferState` row.
    pub fn remove_transfer(&mut self, file_id: &str) {
        self.transfer.insert(file_id.to_owned(), None);
    }

    /// Number of row changes.
    pub fn len(&self) -> usize {
        self.local.len() + self.transfer.len()
    }

    /// The batch as events, in a stable order.
    pub fn into_events(self) -> Vec<FileEvent> {
        let mut events = Vec::with_capacity(self.len());
        for (file_id, row) in self.local {
            events.push(match row {
                Some(row) => FileEvent::LocalFileStateUpsert(row),
                None => FileEvent::LocalFileStateRemove(LocalFileStateRemove { file_id }),
            });
        }
        for (file_id, row) in self.transfer {
            events.push(match row {
                Some(row) => FileEvent::FileTransferStateUpsert(row),
                None => FileEvent::FileTransferStateRemove(FileTransferStateRemove { file_id }),
            });
        }
        events
    }

    /// Commits the batch in commits of at most [`MAX_BATCH`] events.
    pub async fn commit(self, catalog: &dyn Catalog) -> Result<(), CatalogError> {
        let events = self.into_events();
        for chunk in events.chunks(MAX_BATCH) {
            catalog.commit(chunk.to_vec()).await?;
        }
        Ok(())
    }
}

/// A file and its error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncErrorEntry {
    /// The file id.
    pub file_id: String,
    /// The error (`lastSyncError`).
    pub error: String,
}

/// The sync-status aggregate of the package's `SyncStatus` (counts and ids per state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Files uploading now.
    pub uploading_file_ids: Vec<String>,
    /// Files downloading now.
    pub downloading_file_ids: Vec<String>,
    /// Files queued for upload.
    pub queued_upload_file_ids: Vec<String>,
    /// Files queued for download.
    pub queued_download_file_ids: Vec<String>,
    /// Files waiting to be queued for upload.
    pub pending_upload_file_ids: Vec<String>,
    /// Files waiting to be queued for download.
    pub pending_download_file_ids: Vec<String>,
    /// Files with errors.
    pub errors: Vec<SyncErrorEntry>,
    /// Whether a transfer is running.
    pub is_syncing: bool,
    /// Whether anything is pending or queued.
    pub has_pending: bool,
}

impl SyncStatus {
    /// The aggregate of `localFileState` rows, computed as the package's `getSyncStatus` does (an
    /// error is listed once per file, and only with a message).
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a LocalFileStateRow>) -> Self {
        let mut s = SyncStatus::default();
        for row in rows {
            let id = || row.file_id.clone();
            match row.upload_status {
                TransferStatus::InProgress => s.uploading_file_ids.push(id()),
                TransferStatus::Queued => s.queued_upload_file_ids.push(id()),
                TransferStatus::Pending => s.pending_upload_file_ids.push(id()),
                TransferStatus::Done | TransferStatus::Error => {}
            }
            match row.download_status {
                TransferStatus::InProgress => s.downloading_file_ids.push(id()),
                TransferStatus::Queued => s.queued_download_file_ids.push(id()),
                TransferStatus::Pending => s.pending_download_file_ids.push(id()),
                TransferStatus::Done | TransferStatus::Error => {}
            }
            let errored = row.upload_status == TransferStatus::Error
                || row.download_status == TransferStatus::Error;
            if errored && !row.last_sync_error.is_empty() {
                s.errors.push(SyncErrorEntry {
                    file_id: id(),
                    error: row.last_sync_error.clone(),
                });
            }
        }
        s.is_syncing = !s.uploading_file_ids.is_empty() || !s.downloading_file_ids.is_empty();
        s.has_pending = s.is_syncing
            || !s.queued_upload_file_ids.is_empty()
            || !s.queued_download_file_ids.is_empty()
            || !s.pending_upload_file_ids.is_empty()
            || !s.pending_download_file_ids.is_empty();
        s
    }

    /// Files uploading now.
    pub fn uploading_count(&self) -> usize {
        self.uploading_file_ids.len()
    }

    /// Files downloading now.
    pub fn downloading_count(&self) -> usize {
        self.downloading_file_ids.len()
    }

    /// Files with errors.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }
}
