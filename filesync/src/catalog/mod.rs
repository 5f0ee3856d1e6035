//! The catalog: the engine's view of the LiveStore store (DESIGN §5).
//!
//! The engine reads the synced `files` rows, this client's `localFileState` rows and our own
//! client-only `fileTransferState` rows, commits events, and observes changes. Implementations:
//! [`MemoryCatalog`] (native and tests, with a shared synced log that can deliver events late, out of
//! order across clients and replayed, as LiveStore's rebase does) and, in the browser, LiveStore
//! through the JS glue.

use std::collections::BTreeSet;
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

/// What changed in the catalog: the tables and the ids of their changed rows. One item of a
/// [`Catalog::changes`] stream; several changes merge into one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangeSet {
    /// Anything may have changed: read every table again (the first item of a subscription, a
    /// table cleared, a store that cannot say more).
    pub everything: bool,
    /// Ids of `files` rows that were inserted or changed.
    pub files: BTreeSet<String>,
    /// File ids of this client's `localFileState` rows that were upserted or removed.
    pub local_states: BTreeSet<String>,
    /// File ids of this client's `fileTransferState` rows that were upserted or removed.
    pub transfer_states: BTreeSet<String>,
}

impl ChangeSet {
    /// A change set that says "read everything".
    pub fn everything() -> Self {
        ChangeSet {
            everything: true,
            ..ChangeSet::default()
        }
    }

    /// The rows `events` change.
    pub fn of_events<'a>(events: impl IntoIterator<Item = &'a FileEvent>) -> Self {
        let mut set = ChangeSet::default();
        for e in events {
            set.add_event(e);
        }
        set
    }

    /// Adds the rows `event` changes.
    pub fn add_event(&mut self, event: &FileEvent) {
        match event {
            FileEvent::FileCreated(e) => self.files.insert(e.id.clone()),
            FileEvent::FileUpdated(e) => self.files.insert(e.id.clone()),
            FileEvent::FileDeleted(e) => self.files.insert(e.id.clone()),
            FileEvent::LocalFileStateUpsert(r) => self.local_states.insert(r.file_id.clone()),
            FileEvent::LocalFileStateRemove(r) => self.local_states.insert(r.file_id.clone()),
            FileEvent::LocalFileStateClear(_) => {
                self.everything = true;
                true
            }
            FileEvent::FileTransferStateUpsert(r) => self.transfer_states.insert(r.file_id.clone()),
            FileEvent::FileTransferStateRemove(r) => self.transfer_states.insert(r.file_id.clone()),
        };
    }

    /// Adds every change of `other`.
    pub fn merge(&mut self, other: ChangeSet) {
        self.everything |= other.everything;
        self.files.extend(other.files);
        self.local_states.extend(other.local_states);
        self.transfer_states.extend(other.transfer_states);
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.everything
            && self.files.is_empty()
            && self.local_states.is_empty()
            && self.transfer_states.is_empty()
    }

    /// The file ids of every changed row, whatever its table.
    pub fn file_ids(&self) -> BTreeSet<String> {
        let mut ids = self.files.clone();
        ids.extend(self.local_states.iter().cloned());
        ids.extend(self.transfer_states.iter().cloned());
        ids
    }
}

/// The metadata store the engine works against. Single-row reads are direct lookups (an index in
/// LiveStore's SQLite), so work after a change costs in proportion to the change, not to the
/// store.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait Catalog: MaybeSend + MaybeSync {
    /// Every `files` row (live and soft-deleted), ordered by id.
    async fn files(&self) -> Result<Vec<FileRow>, CatalogError>;
    /// One `files` row.
    async fn file(&self, id: &str) -> Result<Option<FileRow>, CatalogError>;
    /// The `files` rows (live and soft-deleted) whose `contentHash` is `hash`, ordered by id.
    async fn files_with_hash(&self, hash: &str) -> Result<Vec<FileRow>, CatalogError>;
    /// Every `localFileState` row of this client, ordered by file id.
    async fn local_states(&self) -> Result<Vec<LocalFileStateRow>, CatalogError>;
    /// One `localFileState` row of this client.
    async fn local_state(&self, file_id: &str) -> Result<Option<LocalFileStateRow>, CatalogError>;
    /// One `fileTransferState` row of this client.
    async fn transfer_state(&self, file_id: &str)
        -> Result<Option<TransferStateRow>, CatalogError>;
    /// Every `fileTransferState` row of this client, ordered by file id.
    async fn transfer_states(&self) -> Result<Vec<TransferStateRow>, CatalogError>;
    /// Commits `events` atomically, in order: all of them or (on error) none.
    async fn commit(&self, events: Vec<FileEvent>) -> Result<(), CatalogError>;
    /// A stream of what changed (by a local commit or by synced events from other clients).
    /// Changes that arrive while the subscriber is busy merge into its next item; a new subscriber
    /// gets [`ChangeSet::everything`] at once.
    fn changes(&self) -> MaybeSendBoxStream<ChangeSet>;
}
