//! The engine: the CRUD API and the orchestration of local storage, the catalog, the remote and
//! the executor (DESIGN §5).
//!
//! The engine is state-driven. [`FileSync::start`] runs a start-up reconcile (restart recovery:
//! transfers left `queued`/`inProgress` are scheduled again), then reconciles whenever the catalog
//! reports a change, checks the remote's health on an interval while offline (and at once when a
//! transfer fails in a way that suggests the network), and runs delayed remote deletes when they fall
//! due. Every decision comes from [`crate::decide::decide`]; this module gathers the facts and carries
//! the decisions out.
//!
//! Saves write locally first (hashed while written), then record the row; the upload is queued by the
//! reconcile that follows. Downloads stream into a partial file, are verified against `contentHash`,
//! and only then become the blob. See `lifecycle` for remote deletes and the orphan sweep.

mod api;
mod builder;
mod deletes;
mod engine;
mod events;
mod health;
mod inner;
mod lifecycle;
mod loops;
mod options;
mod reconcile;
mod state;
mod transfers;
mod types;

#[cfg(test)]
mod tests;

pub(crate) use crate::error::{FileSyncError, FileSyncResult};
pub use builder::FileSyncBuilder;
pub use events::{FileSyncEvent, Listener, ListenerId};
pub use inner::FileSync;
pub use options::FileSyncOptions;
pub use types::{Content, Resolved, SaveOptions, SavedFile};
