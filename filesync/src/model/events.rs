//! Event args (dates as ISO-8601 strings) and the tagged event enum.

use serde::{Deserialize, Serialize};

use super::rows::{LocalFileStateRow, TransferStateRow};

/// Args of the synced event `v1.FileCreated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileCreated {
    /// The new file's id.
    pub id: String,
    /// The user-visible path.
    pub path: String,
    /// Lowercase hex SHA-256 of the content.
    pub content_hash: String,
    /// `None`: field absent; `Some(None)`: explicit `null`; `Some(Some(json))`: metadata.
    /// (The schema is `optional(NullOr(String))`; the row gets `null` either way.)
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::date::double_option"
    )]
    pub metadata_json: Option<Option<String>>,
    /// Creation time, epoch ms (ISO-8601 string on the wire).
    #[serde(with = "crate::model::date::iso")]
    pub created_at: i64,
    /// Update time, epoch ms (ISO-8601 string on the wire).
    #[serde(with = "crate::model::date::iso")]
    pub updated_at: i64,
}

/// Args of the synced event `v1.FileUpdated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileUpdated {
    /// The file's id.
    pub id: String,
    /// The user-visible path.
    pub path: String,
    /// The remote key (`""` when not uploaded).
    pub remote_key: String,
    /// Lowercase hex SHA-256 of the content.
    pub content_hash: String,
    /// `None`: absent, the row keeps its old value; `Some(None)`: sets `null`;
    /// `Some(Some(json))`: sets the metadata.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::date::double_option"
    )]
    pub metadata_json: Option<Option<String>>,
    /// Update time, epoch ms (ISO-8601 string on the wire).
    #[serde(with = "crate::model::date::iso")]
    pub updated_at: i64,
    /// Our optional extension (`ifContentHash`): the event applies only while the row's
    /// `contentHash` is this. The engine sets it on the events that record an upload (or a missing
    /// remote copy) of one content, so another client's update that lands first is never
    /// reverted. `@livestore-filesync/core` 0.8.0's decoder drops the field (its clients apply the
    /// event unconditionally, last writer wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_content_hash: Option<String>,
}

/// Args of the synced event `v1.FileDeleted` (a soft delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileDeleted {
    /// The file's id.
    pub id: String,
    /// Delete time, epoch ms (ISO-8601 string on the wire).
    #[serde(with = "crate::model::date::iso")]
    pub deleted_at: i64,
}

/// Args of the client-only event `v1.LocalFileStateUpsert`: a whole row.
pub type LocalFileStateUpsert = LocalFileStateRow;

/// Args of the client-only event `v1.LocalFileStateRemove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalFileStateRemove {
    /// The file whose state row is removed.
    pub file_id: String,
}

/// Args of the client-only event `v1.LocalFileStateClear` (an empty object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFileStateClear {}

/// Args of our client-only event `v1.FileTransferStateUpsert`: a whole row.
pub type FileTransferStateUpsert = TransferStateRow;

/// Args of our client-only event `v1.FileTransferStateRemove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileTransferStateRemove {
    /// The file whose transfer state row is removed.
    pub file_id: String,
}

/// One of the package's events, as `{"name": "v1.…", "args": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "args")]
pub enum FileEvent {
    /// `v1.FileCreated` (synced).
    #[serde(rename = "v1.FileCreated")]
    FileCreated(FileCreated),
    /// `v1.FileUpdated` (synced).
    #[serde(rename = "v1.FileUpdated")]
    FileUpdated(FileUpdated),
    /// `v1.FileDeleted` (synced).
    #[serde(rename = "v1.FileDeleted")]
    FileDeleted(FileDeleted),
    /// `v1.LocalFileStateUpsert` (client-only).
    #[serde(rename = "v1.LocalFileStateUpsert")]
    LocalFileStateUpsert(LocalFileStateUpsert),
    /// `v1.LocalFileStateRemove` (client-only).
    #[serde(rename = "v1.LocalFileStateRemove")]
    LocalFileStateRemove(LocalFileStateRemove),
    /// `v1.LocalFileStateClear` (client-only).
    #[serde(rename = "v1.LocalFileStateClear")]
    LocalFileStateClear(LocalFileStateClear),
    /// `v1.FileTransferStateUpsert` (client-only, our extension).
    #[serde(rename = "v1.FileTransferStateUpsert")]
    FileTransferStateUpsert(FileTransferStateUpsert),
    /// `v1.FileTransferStateRemove` (client-only, our extension).
    #[serde(rename = "v1.FileTransferStateRemove")]
    FileTransferStateRemove(FileTransferStateRemove),
}

impl FileEvent {
    /// The event's wire name (`v1.…`).
    pub fn name(&self) -> &'static str {
        match self {
            FileEvent::FileCreated(_) => "v1.FileCreated",
            FileEvent::FileUpdated(_) => "v1.FileUpdated",
            FileEvent::FileDeleted(_) => "v1.FileDeleted",
            FileEvent::LocalFileStateUpsert(_) => "v1.LocalFileStateUpsert",
            FileEvent::LocalFileStateRemove(_) => "v1.LocalFileStateRemove",
            FileEvent::LocalFileStateClear(_) => "v1.LocalFileStateClear",
            FileEvent::FileTransferStateUpsert(_) => "v1.FileTransferStateUpsert",
            FileEvent::FileTransferStateRemove(_) => "v1.FileTransferStateRemove",
        }
    }

    /// Whether the event syncs to other clients (the `files` events) or stays local.
    pub fn is_synced(&self) -> bool {
        matches!(
            self,
            FileEvent::FileCreated(_) | FileEvent::FileUpdated(_) | FileEvent::FileDeleted(_)
        )
    }
}
