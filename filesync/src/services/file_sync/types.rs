//! The values the engine's API takes and returns.

use bytes::Bytes;
use fs_core::{ByteStream, VPath};

use crate::services::remote_storage::SignedUrl;

/// What `save` and `update` take besides the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// The MIME type: recorded in the row's metadata as `mimeType` (with `sizeBytes`), which is
    /// where uploads and `resolve` read it (no file per blob).
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
