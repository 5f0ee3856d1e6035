//! Table rows (dates as epoch milliseconds) and the `fileSyncCursor` client document.

use serde::{Deserialize, Serialize};

/// A row of the synced `files` table. Rows are never hard-deleted (`deleted_at` marks a delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileRow {
    /// Primary key.
    pub id: String,
    /// The user-visible path (`""` by default).
    pub path: String,
    /// `{storeId}/{sha256hex}` once uploaded; `""` until then.
    pub remote_key: String,
    /// Lowercase hex SHA-256 of the content (`""` by default).
    pub content_hash: String,
    /// Optional JSON metadata (a string holding JSON), `null` when none.
    pub metadata_json: Option<String>,
    /// Creation time, epoch ms.
    pub created_at: i64,
    /// Last update time, epoch ms.
    pub updated_at: i64,
    /// Soft-delete time, epoch ms; `null` while live.
    pub deleted_at: Option<i64>,
}

impl FileRow {
    /// The MIME type recorded in the row's metadata (`metadataJson.mimeType`), when there is one.
    /// Both packages record it there at save time; it is what uploads send and what `resolve`
    /// reports.
    pub fn mime_type(&self) -> Option<String> {
        let json = self.metadata_json.as_deref()?;
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        value
            .get("mimeType")?
            .as_str()
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
    }
}

/// Upload/download status: `pending|queued|inProgress|done|error` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TransferStatus {
    /// Nothing scheduled yet (the column default).
    Pending,
    /// Waiting in a transfer queue.
    Queued,
    /// Being transferred.
    InProgress,
    /// Finished.
    Done,
    /// Failed (see `lastSyncError`).
    Error,
}

/// A row of the client-only `localFileState` table; also the args of `v1.LocalFileStateUpsert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalFileStateRow {
    /// The `files.id` this state belongs to (primary key).
    pub file_id: String,
    /// The file's local path.
    pub path: String,
    /// Hash of the verified local bytes, `""` when none.
    pub local_hash: String,
    /// Download status.
    pub download_status: TransferStatus,
    /// Upload status.
    pub upload_status: TransferStatus,
    /// The last error message, `""` when none.
    pub last_sync_error: String,
}

/// The `fileSyncCursor` client document (id `global`), kept for compatibility only.
/// Its `updatedAt` is a `Schema.Date`, so it is an ISO-8601 string in the document's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSyncCursor {
    /// The last processed event sequence number as a string (root: `e0`).
    pub last_event_sequence: String,
    /// Last update, epoch ms (ISO-8601 string on the wire).
    #[serde(with = "crate::model::date::iso")]
    pub updated_at: i64,
}

/// A row of our client-only `fileTransferState` table (an extension; 0.8.0 clients never see it).
/// It keeps what `localFileState` has no column for: the size of the verified local bytes (so
/// "verified" survives restarts without re-hashing) and the state of an interrupted upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferStateRow {
    /// The `files.id` this state belongs to (primary key).
    pub file_id: String,
    /// The content hash the fields below refer to.
    pub content_hash: String,
    /// Size in bytes of the verified local copy, `null` when none is recorded.
    pub local_size: Option<u64>,
    /// The resumable upload in progress (an opaque token of the remote client), `null` when none.
    pub upload_resume: Option<String>,
}
