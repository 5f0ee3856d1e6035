//! `filesync`: the file sync engine of livestore-filesync (DESIGN §5), wire-compatible with
//! `@livestore-filesync/core` 0.8.0.
//!
//! Save a file and it lands in local storage first, is hashed, recorded in the catalog (LiveStore)
//! and uploaded in the background; other clients download and verify it; updates and deletes
//! propagate; offline time, restarts and several clients just work. Everything an app needs is at
//! the crate root:
//!
//! - [`FileSync`], built with [`FileSync::builder`]: `save`, `update`, `delete`, `read`, `resolve`,
//!   events, sync status;
//! - local storage: any [`fs_core::FileSystem`] (`NativeFs`, `OpfsFs`, `MemoryFs`);
//! - the catalog: the [`Catalog`] trait (LiveStore through the JS glue in browsers) and
//!   [`MemoryCatalog`];
//! - remotes: `HttpRemote` (native) and `BrowserHttpRemote` (wasm32: browsers and Node) for
//!   `filesync serve` and other signers,
//!   [`LocalOnly`], [`MemoryRemote`], or any [`RemoteStorage`];
//! - runtimes: `TokioRuntime` (native, the default there) and `BrowserRuntime` (wasm32, the
//!   default there), or any [`Runtime`].
//!
//! [`model`] holds the wire types of the rows and events shared with the TypeScript package.
//! With the `test-util` feature, test doubles join: `SimRuntime` (a deterministic runtime with a
//! virtual clock), `MemoryRemote`'s fault injection and `SyncedLog`'s manual delivery.
//!
//! ```
//! use std::sync::Arc;
//!
//! use filesync::{Content, FileSync, MemoryCatalog, SaveOptions};
//! use fs_core::MemoryFs;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), filesync::FileSyncError> {
//! // Local-only: no remote is set, so files stay on this client.
//! let engine = FileSync::builder("my-store")
//!     .fs(Arc::new(MemoryFs::new()))
//!     .catalog(Arc::new(MemoryCatalog::new()))
//!     .build()?;
//! engine.start().await?;
//!
//! let saved = engine
//!     .save(Content::from(&b"hello"[..]), SaveOptions::default())
//!     .await?;
//! assert_eq!(engine.read(&saved.file_id).await?, &b"hello"[..]);
//!
//! engine.delete(&saved.file_id).await?;
//! engine.stop().await;
//! # Ok(())
//! # }
//! ```

// On wasm32 the engine's shared state holds JS values and `!Send` futures by design (one thread);
// `Arc` is still what shares it between tasks there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

pub mod catalog;
pub(crate) mod decide;
mod error;
pub mod model;
#[cfg(any(test, feature = "test-util"))]
pub mod remote_suite;
pub mod runtime;
pub(crate) mod services;

pub use catalog::{Catalog, CatalogError, CatalogErrorKind, ChangeSet, MemoryCatalog, SyncedLog};
pub use decide::DownloadPolicy;
pub use error::{FileSyncError, FileSyncErrorKind, FileSyncResult};
#[cfg(target_arch = "wasm32")]
pub use runtime::BrowserRuntime;
#[cfg(any(test, feature = "test-util"))]
pub use runtime::SimRuntime;
#[cfg(not(target_arch = "wasm32"))]
pub use runtime::TokioRuntime;
pub use runtime::{Runtime, RuntimeExt, SharedRuntime};
pub use services::file_sync::{
    Content, FileSync, FileSyncBuilder, FileSyncEvent, FileSyncOptions, Listener, ListenerId,
    Resolved, SaveOptions, SavedFile,
};
pub use services::hash::{hash_bytes, hash_file, hash_stream, ContentHash, Hasher};
pub use services::local_file_state::{SyncErrorEntry, SyncStatus};
#[cfg(target_arch = "wasm32")]
pub use services::local_file_storage::{
    BlobOpener, ChunkSaver, SaveChunks, SaveChunksError, SavedChunks,
};
pub use services::local_file_storage::{LocalFileStorage, PartialWriter};
#[cfg(any(test, feature = "test-util"))]
pub use services::remote_storage::Fault;
pub use services::remote_storage::{
    Body, CallCounts, Download, LocalOnly, MemoryRemote, OpenAt, ProgressFn, RemoteError,
    RemoteErrorKind, RemoteResult, RemoteStorage, ResumeFn, SignedUrl, UploadRequest,
};
#[cfg(target_arch = "wasm32")]
pub use services::remote_storage::{
    BrowserHttpRemote, BrowserHttpRemoteOptions, JsChunks, OpenBlob, TokenGetter,
};
#[cfg(not(target_arch = "wasm32"))]
pub use services::remote_storage::{HttpRemote, HttpRemoteOptions, RootCertificate};
pub use services::sync_executor::{Direction, ExecutorConfig};
