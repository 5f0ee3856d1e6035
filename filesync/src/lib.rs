//! `filesync`: the file sync engine (DESIGN §5), wire-compatible with `@livestore-filesync/core` 0.8.0.
//!
//! So far: the [`model`] (the wire types of the `files`/`localFileState` rows, the `fileSyncCursor`
//! document and the `v1.*` events, plus the storage layout helpers), the [`services::hash`] service and
//! the pure decision rules ([`decide`]).

pub mod decide;
pub mod model;
pub mod services;
