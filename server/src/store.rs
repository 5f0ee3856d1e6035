//! [`BlobStore`]: what the signer API needs from a storage backend.
//!
//! The signer API never moves bytes itself: it hands out signed requests that clients send straight
//! to the storage. A store therefore only signs, deletes and reports its health. The disk store
//! ([`crate::DiskStore`]) signs URLs of this server's own blob routes (so it needs the origin clients
//! reach the server at); an S3 store would presign URLs at the bucket instead, ignore the origin, and
//! return the headers the presignature covers (`Content-Length`, `x-amz-checksum-sha256`, …) in
//! [`SignedRequest::headers`].

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::multipart::MultipartStore;
use crate::BlobKey;

/// A blob as a listing shows it (the admin commands' `ls`, `verify` and `gc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written, when the storage says.
    pub modified: Option<std::time::SystemTime>,
}

/// The bytes of a blob, streamed.
pub type BlobStream = futures::stream::BoxStream<'static, Result<bytes::Bytes, StoreError>>;

/// What a client declared when it asked to upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadIntent {
    /// The content type the blob will be served with (already validated).
    pub content_type: Option<String>,
    /// The size of the body, in bytes, if known.
    pub content_length: Option<u64>,
}

/// A request a client may send to the storage until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The HTTP method to use (`PUT` for uploads, `GET` for downloads).
    pub method: &'static str,
    /// The absolute URL.
    pub url: String,
    /// Headers the client must send with the request.
    pub headers: BTreeMap<String, String>,
    /// When the URL stops working, in Unix seconds.
    pub expires_at: u64,
}

/// The kinds of [`StoreError`], each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The request cannot be served as sent (400).
    BadRequest,
    /// No blob at the key (404).
    NotFound,
    /// The key collides with another key's folder, or the reverse (409).
    Conflict,
    /// The body is larger than the configured maximum (413).
    TooLarge,
    /// The bytes do not hash to the content-addressed key (422).
    HashMismatch,
    /// The storage cannot be reached (503).
    Unavailable,
    /// Anything else (500).
    Internal,
}

/// A failure of a [`BlobStore`] call, with a message meant for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// What went wrong.
    pub kind: StoreErrorKind,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

impl StoreError {
    /// An error of `kind` with `message`.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// A storage backend as the signer API sees it. Keys are validated and authorized before any call.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// `Ok` when the storage is reachable.
    async fn health(&self) -> Result<(), StoreError>;

    /// `Ok` when the storage takes writes now (default: [`BlobStore::health`]); the readiness
    /// probe of load balancers and orchestrators.
    async fn ready(&self) -> Result<(), StoreError> {
        self.health().await
    }

    /// A request that uploads the blob at `key`. `origin` is the URL the client reaches this server
    /// at (`http://127.0.0.1:8787`), for stores whose URLs point at this server.
    async fn sign_upload(
        &self,
        key: &BlobKey,
        upload: &UploadIntent,
        origin: &str,
    ) -> Result<SignedRequest, StoreError>;

    /// A request that downloads the blob at `key` (a missing blob is not checked here: the URL then
    /// answers 404).
    async fn sign_download(&self, key: &BlobKey, origin: &str)
        -> Result<SignedRequest, StoreError>;

    /// The size of the blob stored at `key`, `None` when there is none (default: `None`, as if
    /// nothing were stored: uploads then always go). Lets an upload of content the store already
    /// holds be skipped (`skipIfStored`).
    async fn stored_size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError> {
        let _ = key;
        Ok(None)
    }

    /// Deletes the blob at `key`; a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError>;

    /// The store's resumable uploads, if it has them (default: none; the `multipart` routes then
    /// answer 501).
    fn multipart(&self) -> Option<&dyn MultipartStore> {
        None
    }
}
