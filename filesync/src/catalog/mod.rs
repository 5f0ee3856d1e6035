//! The catalog: the engine's view of the LiveStore store (DESIGN §5).
//!
//! The engine reads the synced `files` rows, this client's `localFileState` rows and our own
//! client-only `fileTransferState` rows, commits events, and observes changes. Implementations:
//! [`MemoryCatalog`] (native and tests, with a shared synced log that can deliver events late, out of
//! order across clients and replayed, as LiveStore's rebase does) and, in the browser, LiveStore
//! through the JS glue.

use std::sync::Arc;

use async_trait::async_trait;
use fs_core::{MaybeSend, MaybeSendBoxStream, MaybeSync};

use crate::model::{FileEvent, FileRow, LocalFileStateRow, TransferStateRow};

mod memory;

#[cfg(any(test, feature = "test-util"))]
pub use memory::CommitFilter;
pub use memory::{MemoryCatalog, SyncedLog};

/// The kinds of [`CatalogError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CatalogErrorKind {
    /// The events were refused before anything was committed (they do not match their schema, or a
    /// materializer would fail); nothing changed.
    Invalid,
    /// The store is shut down or unreachable.
    Unavailable,
}

/// Why a catalog call failed: its kind, the file it concerns (when there is one), a message for
/// people and the error underneath ([`std::error::Error::source`]) when there is one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CatalogError {
    /// The kind.
    pub kind: CatalogErrorKind,
    /// The file the refused event or the read was about, when there is one.
    pub file_id: Option<String>,
    /// What happened.
    pub message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl CatalogError {
    /// Events refused before anything was committed.
    pub fn invalid(message: impl Into<String>) -> Self {
        CatalogError::new(CatalogErrorKind::Invalid, message)
    }

    /// The store is shut down or unreachable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        CatalogError::new(CatalogErrorKind::Unavailable, message)
    }

    /// A new error.
    pub fn new(kind: CatalogErrorKind, message: impl Into<String>) -> Self {
        CatalogError {
            kind,
            file_id: None,
            message: message.into(),
            source: None,
        }
    }

    /// Sets the file the error concerns.
    pub fn with_file(mut self, file_id: &str) -> Self {
        self.file_id = Some(file_id.to_owned());
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            CatalogErrorKind::Invalid => write!(f, "catalog refused the events: {}", self.message),
            CatalogErrorKind::Unavailable => write!(f, "catalog unavailable: {}", self.message),
        }
    }
}

impl std::error::Error for CatalogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The metadata store the engine works against.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait Catalog: MaybeSend + MaybeSync {
    /// Every `files` row (live and soft-deleted), ordered by id.
    async fn files(&self) -> Result<Vec<FileRow>, CatalogError>;
    /// One `files` row.
    async fn file(&self, id: &str) -> Result<Option<FileRow>, CatalogError>;
    /// Every `localFileState` row of this client, ordered by file id.
    async fn local_states(&self) -> Result<Vec<LocalFileStateRow>, CatalogError>;
    /// One `localFileState` row of this client.
    async fn local_state(&self, file_id: &str) -> Result<Option<LocalFileStateRow>, CatalogError> {
        Ok(self
            .local_states()
            .await?
            .into_iter()
            .find(|s| s.file_id == file_id))
    }
    /// One `fileTransferState` row of this client.
    async fn transfer_state(
        &self,
        file_id: &str,
    ) -> Result<Option<TransferStateRow>, CatalogError> {
        Ok(self
            .transfer_states()
            .await?
            .into_iter()
            .find(|s| s.file_id == file_id))
    }
    /// Every `fileTransferState` row of this client, ordered by file id.
    async fn transfer_states(&self) -> Result<Vec<TransferStateRow>, CatalogError>;
    /// Commits `events` atomically, in order: all of them or (on error) none.
    async fn commit(&self, events: Vec<FileEvent>) -> Result<(), CatalogError>;
    /// A stream that yields `()` after the rows changed (by a local commit or by synced events from
    /// other clients). Several changes may be reported by one item; a new subscriber gets one item
    /// at once.
    fn changes(&self) -> MaybeSendBoxStream<()>;
}
