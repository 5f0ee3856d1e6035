//! `filesync`: the file sync engine (DESIGN §5), wire-compatible with `@livestore-filesync/core` 0.8.0.
//!
//! - [`model`]: the wire types of the `files`/`localFileState` rows, the `fileSyncCursor` document,
//!   the `v1.*` events, our client-only `fileTransferState` table, and the storage layout helpers;
//! - [`decide`]: the decision rules as a pure function;
//! - [`runtime`]: spawn, sleep, clock (tokio, browser, and a deterministic simulator);
//! - [`catalog`]: the metadata store the engine reads and commits to (in-memory implementation);
//! - [`services`]: hashing, local storage, remote storage, transfer state, the executor and the
//!   engine itself.

// On wasm32 the engine's shared state holds JS values and `!Send` futures by design (one thread);
// `Arc` is still what shares it between tasks there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

pub mod catalog;
pub mod decide;
pub mod model;
pub mod runtime;
pub mod services;
