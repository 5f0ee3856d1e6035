//! [`MultipartStore`]: resumable uploads in parts, as the signer API sees them.
//!
//! The calls follow S3 multipart uploads so that an S3 store can fulfil them directly:
//! `create` ↔ `CreateMultipartUpload`, `sign_part` ↔ a presigned `UploadPart` URL, `list_parts` ↔
//! `ListParts`, `complete` ↔ `CompleteMultipartUpload` (after the whole-object check the store can
//! afford), `abort` ↔ `AbortMultipartUpload`. The disk store ([`crate::DiskStore`]) stages parts under
//! its data directory and signs URLs of this server's part route. Keys are validated and authorized
//! before any call; an upload id belongs to the key it was created for (another key → `NotFound`).

use async_trait::async_trait;

use crate::store::{SignedRequest, StoreError};
use crate::BlobKey;

/// The smallest part accepted, except for the last part of an upload: 5 MiB (as in S3).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// The default part size handed out by `create`: 8 MiB.
pub const DEFAULT_PART_BYTES: u64 = 8 * 1024 * 1024;
/// The highest part number (parts are numbered from 1).
pub const MAX_PART_NUMBER: u32 = 10_000;

/// What a client declared when it started a resumable upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultipartIntent {
    /// The content type the blob will be served with (already validated).
    pub content_type: Option<String>,
    /// The size of the whole blob, in bytes.
    pub content_length: u64,
}

/// A started resumable upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    /// The upload's id (the disk store: 128 random bits as 32 lowercase hex digits).
    pub upload_id: String,
    /// The size every part but the last must have, in bytes.
    pub part_size: u64,
    /// When unfinished uploads may be discarded, in Unix seconds.
    pub expires_at: u64,
    /// Whether `sign_part` needs each part's SHA-256 (S3 stores sign it, so the bucket refuses a
    /// part whose bytes differ); `create` then answers `"partChecksum": "SHA256"`.
    pub checksum_parts: bool,
}

/// What a client asked to sign for one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartIntent<'a> {
    /// The part's number, 1..=[`MAX_PART_NUMBER`].
    pub part_number: u32,
    /// The part's SHA-256 as S3 writes it (standard base64 of the 32 bytes, validated), when the
    /// client sent one.
    pub checksum_sha256: Option<&'a str>,
}

/// A part the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    /// Its number, 1..=[`MAX_PART_NUMBER`].
    pub part_number: u32,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag as sent by HTTP, quoted (the disk store: a tag naming that write of the part).
    pub etag: String,
}

/// A part named by the client in `complete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Its number.
    pub part_number: u32,
    /// The ETag the part's upload answered (quoted or not).
    pub etag: String,
}

/// Resumable uploads of a storage backend.
#[async_trait]
pub trait MultipartStore: Send + Sync + 'static {
    /// Starts an upload of `intent.content_length` bytes to `key`.
    async fn create(
        &self,
        key: &BlobKey,
        intent: &MultipartIntent,
    ) -> Result<MultipartUpload, StoreError>;

    /// A request that uploads `part` of `upload_id`; `origin` as in
    /// [`crate::BlobStore::sign_upload`]. A store whose uploads have
    /// [`MultipartUpload::checksum_parts`] refuses a part without its checksum (`BadRequest`).
    async fn sign_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        part: PartIntent<'_>,
        origin: &str,
    ) -> Result<SignedRequest, StoreError>;

    /// The parts of `upload_id` uploaded so far, by part number.
    async fn list_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
    ) -> Result<Vec<StoredPart>, StoreError>;

    /// Assembles `parts` (ascending numbers) into the blob at `key`, which becomes visible only now;
    /// a content-addressed key must match the whole object's SHA-256 (`HashMismatch`). The staged
    /// parts are discarded afterwards.
    async fn complete(
        &self,
        key: &BlobKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), StoreError>;

    /// Discards `upload_id` and its parts.
    async fn abort(&self, key: &BlobKey, upload_id: &str) -> Result<(), StoreError>;
}
