//! Remote storage: the trait the engine transfers through, and its implementations.
//!
//! - `HttpRemote` (native): the client of the server's signer protocol and resumable uploads
//!   (DESIGN §6), with ranged GETs for resumed downloads;
//! - `BrowserHttpRemote` (wasm32): the same protocol in a browser (page or worker) or in Node: fetch
//!   for signer calls and downloads, XMLHttpRequest for uploads (progress; fetch where there is no
//!   XMLHttpRequest, as in Node); a static token or the app's `TokenGetter`, extra signer headers,
//!   cookies for the signer on request;
//! - [`MemoryRemote`]: an in-memory remote, with fault injection under the `test-util` feature
//!   (offline, fail the next N calls, delay, corrupt bytes, 404 for a key), for tests and
//!   simulations;
//! - [`LocalOnly`]: no remote at all; every call answers [`RemoteErrorKind::LocalOnly`] and the
//!   engine makes no remote calls when it sees [`RemoteStorage::is_local_only`].
//!
//! Both HTTP clients share `protocol/`: the signer JSON, status → kind and the messages, the URL
//! rules, `Content-Range`, the resume token and the multipart flow. Each keeps only its transport.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ByteStream, FsResult, MaybeSend, MaybeSendBoxFuture, MaybeSendBoxStream, MaybeSync};

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(not(target_arch = "wasm32"))]
mod http;
mod local_only;
mod memory;
mod protocol;

#[cfg(target_arch = "wasm32")]
pub use browser::{BrowserHttpRemote, BrowserHttpRemoteOptions, TokenGetter};
#[cfg(not(target_arch = "wasm32"))]
pub use http::{HttpRemote, HttpRemoteOptions, RootCertificate};
pub use local_only::LocalOnly;
#[cfg(any(test, feature = "test-util"))]
pub use memory::Fault;
pub use memory::{CallCounts, MemoryRemote};

/// What went wrong with a remote call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteErrorKind {
    /// The remote could not be reached (connection refused, DNS, timeout, offline).
    Offline,
    /// The object does not exist (404).
    NotFound,
    /// The credentials were refused (401).
    Unauthorized,
    /// The key is outside what the credentials may touch (403).
    Forbidden,
    /// The body is larger than the remote accepts (413).
    TooLarge,
    /// The remote refused the request for good (other 4xx, e.g. a hash mismatch).
    Rejected,
    /// The remote failed (5xx, or a malformed answer); worth retrying.
    Server,
    /// The bytes received are not what was asked for (short, too long, wrong hash).
    Corrupt,
    /// Reading or writing the local side of the transfer failed.
    Local,
    /// No remote is configured (local-only mode).
    LocalOnly,
}

/// A remote failure: its kind, the key it concerns (when there is one), a message for people, and
/// the error underneath ([`std::error::Error::source`]) when there is one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteError {
    /// The kind.
    pub kind: RemoteErrorKind,
    /// The remote key the call was about, when there is one.
    pub key: Option<String>,
    /// What happened, including the HTTP status or the underlying error where there is one.
    pub message: String,
    /// The HTTP status the remote answered, when it answered one.
    pub status: Option<u16>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl PartialEq for RemoteError {
    /// Kind, key, status and message (the sources are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.key == other.key
            && self.status == other.status
            && self.message == other.message
    }
}

impl RemoteError {
    /// A new error.
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> Self {
        RemoteError {
            kind,
            key: None,
            message: message.into(),
            status: None,
            source: None,
        }
    }

    /// Sets the HTTP status the remote answered.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the key the call was about (kept when one is set already).
    pub fn with_key(mut self, key: &str) -> Self {
        if self.key.is_none() {
            self.key = Some(key.to_owned());
        }
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Whether trying again later can succeed (offline, server errors, corrupt transfers, local I/O).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            RemoteErrorKind::Offline
                | RemoteErrorKind::Server
                | RemoteErrorKind::Corrupt
                | RemoteErrorKind::Local
        )
    }

    /// Whether this failure suggests the remote is unreachable (the engine then checks health).
    pub fn suggests_offline(&self) -> bool {
        matches!(
            self.kind,
            RemoteErrorKind::Offline | RemoteErrorKind::Server
        )
    }
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for RemoteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Result of a remote call.
pub type RemoteResult<T> = Result<T, RemoteError>;

/// Opens the upload's bytes from an offset (a resumed upload reads only what is left).
#[cfg(not(target_arch = "wasm32"))]
pub type OpenAt =
    Arc<dyn Fn(u64) -> MaybeSendBoxFuture<'static, FsResult<ByteStream>> + Send + Sync>;
/// Opens the upload's bytes from an offset (a resumed upload reads only what is left).
#[cfg(target_arch = "wasm32")]
pub type OpenAt = Arc<dyn Fn(u64) -> MaybeSendBoxFuture<'static, FsResult<ByteStream>>>;

/// Called with (bytes done, total bytes) as a transfer progresses.
#[cfg(not(target_arch = "wasm32"))]
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;
/// Called with (bytes done, total bytes) as a transfer progresses.
#[cfg(target_arch = "wasm32")]
pub type ProgressFn = Arc<dyn Fn(u64, u64)>;

/// Called with the new resume token of an upload (`None`: nothing to resume any more). The engine
/// persists it in the `fileTransferState` table.
#[cfg(not(target_arch = "wasm32"))]
pub type ResumeFn = Arc<dyn Fn(Option<String>) + Send + Sync>;
/// Called with the new resume token of an upload (`None`: nothing to resume any more).
#[cfg(target_arch = "wasm32")]
pub type ResumeFn = Arc<dyn Fn(Option<String>)>;

/// Opens the upload's bytes as one `Blob` the browser reads from disk (wasm32; see
/// [`UploadRequest::blob`]).
#[cfg(target_arch = "wasm32")]
pub type OpenBlob = Arc<dyn Fn() -> MaybeSendBoxFuture<'static, FsResult<web_sys::Blob>>>;

/// One upload.
#[derive(Clone)]
pub struct UploadRequest {
    /// The remote key (`{storeId}/{sha256hex}`).
    pub key: String,
    /// Total size in bytes.
    pub size: u64,
    /// The MIME type, when known.
    pub content_type: Option<String>,
    /// Opens the bytes from an offset.
    pub open: OpenAt,
    /// Opens the bytes as one disk-backed `Blob` (an OPFS file), when the local storage can
    /// (wasm32): a browser remote then sends the Blob (or slices of it) itself, so the upload never
    /// passes through wasm memory or the JS heap. `None`: [`open`](Self::open) is used.
    #[cfg(target_arch = "wasm32")]
    pub blob: Option<OpenBlob>,
    /// Progress callback.
    pub progress: ProgressFn,
    /// The resume token of an interrupted upload of this key, if any.
    pub resume: Option<String>,
    /// Receives new resume tokens.
    pub on_resume: ResumeFn,
}

/// A download in progress: the body from `offset` on.
pub struct Download {
    /// The offset the body starts at (`0` when the remote ignored the range).
    pub offset: u64,
    /// The object's total size, when the remote said.
    pub total_size: Option<u64>,
    /// The object's content type, when the remote said.
    pub content_type: Option<String>,
    /// The body.
    pub body: Body,
}

/// Chunks of a download's body as JavaScript arrays (wasm32), never copied into wasm memory.
#[cfg(target_arch = "wasm32")]
pub type JsChunks = MaybeSendBoxStream<RemoteResult<js_sys::Uint8Array>>;

/// A download's body: chunks in memory, or (wasm32) the chunks of a browser `fetch` as JavaScript
/// arrays, which the engine hands to a `ChunkSaver` (wasm32: a worker) without copying them into
/// wasm memory. Errors in either are the remote's (`Offline` when the connection breaks or
/// stalls).
pub enum Body {
    /// Chunks as bytes.
    Bytes(MaybeSendBoxStream<RemoteResult<Bytes>>),
    /// Chunks as JavaScript arrays (wasm32).
    #[cfg(target_arch = "wasm32")]
    Js(JsChunks),
}

impl Body {
    /// No bytes at all.
    pub fn empty() -> Self {
        Body::Bytes(Box::pin(futures::stream::empty()))
    }

    /// The chunks as bytes (JavaScript arrays are copied into wasm memory one by one).
    pub fn into_bytes(self) -> MaybeSendBoxStream<RemoteResult<Bytes>> {
        match self {
            Body::Bytes(stream) => stream,
            #[cfg(target_arch = "wasm32")]
            Body::Js(stream) => {
                use futures::StreamExt;
                Box::pin(stream.map(|chunk| chunk.map(|array| Bytes::from(array.to_vec()))))
            }
        }
    }
}

impl From<MaybeSendBoxStream<RemoteResult<Bytes>>> for Body {
    fn from(stream: MaybeSendBoxStream<RemoteResult<Bytes>>) -> Self {
        Body::Bytes(stream)
    }
}

/// A URL the object can be fetched from without credentials until `expires_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    /// The URL.
    pub url: String,
    /// Extra headers the GET must send.
    pub headers: Vec<(String, String)>,
    /// Expiry, epoch ms.
    pub expires_at_ms: i64,
}

/// The remote blob store the engine syncs with.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait RemoteStorage: MaybeSend + MaybeSync {
    /// True for local-only mode: the engine then makes no remote call at all.
    fn is_local_only(&self) -> bool {
        false
    }
    /// Whether the remote is reachable and its storage healthy.
    async fn health(&self) -> RemoteResult<()>;
    /// Uploads `req.size` bytes under `req.key`, resuming from `req.resume` when the remote supports
    /// it. Content-addressed keys make a repeated upload harmless.
    async fn upload(&self, req: UploadRequest) -> RemoteResult<()>;
    /// Downloads `key` from `offset` (a ranged GET when `offset > 0`).
    async fn download(&self, key: &str, offset: u64) -> RemoteResult<Download>;
    /// Deletes `key`; a missing key is not an error.
    async fn delete(&self, key: &str) -> RemoteResult<()>;
    /// A signed URL to fetch `key` directly.
    async fn download_url(&self, key: &str) -> RemoteResult<SignedUrl>;
}
