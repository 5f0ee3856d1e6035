//! `fs-opfs`: the OPFS (Origin Private File System) backend of [`fs_core::FileSystem`], for
//! browsers (wasm32 only; the crate is empty on other targets).
//!
//! [`OpfsFs::open`] takes the OPFS root from `navigator.storage.getDirectory()` (the same code on
//! the page and in any worker), optionally below a sub-root directory so that apps and tests keep
//! their files apart, and picks a [`Strategy`]:
//!
//! | | page, shared or service worker ([`Strategy::Writable`]) | dedicated worker ([`Strategy::SyncAccess`]) |
//! |---|---|---|
//! | `write_file` with `w`, `wx`, `w+`, `wx+` | `createWritable`, committed atomically on close (a new file exists, empty, until then; removed again if the write fails) | a sync access handle of a temporary sibling, moved over the file (nothing visible before) |
//! | `write_file` with `a`, `r+` (and their variants), `truncate`, `copy_file` | `createWritable` (`keepExistingData`), committed atomically on close | the same |
//! | `read_file`, `read_stream`, read-only `open` | `getFile()` + `Blob.slice` in batches of ≤ 1 MiB (a stream requests the next batch while the current one is consumed; a whole file is one `arrayBuffer()`) | the same, or the open sync access handle of the path |
//! | `open` with a writable flag | `Unsupported` (`random_access_write: false`) | a sync access handle: Effect's full cursor semantics |
//! | `write_sink` | `createWritable` of the file, or of a temporary sibling moved over it on close | a sync access handle of a temporary sibling, moved over the file on close |
//! | `rename` of a file | `FileSystemFileHandle.move()` (atomic) when present, else copy + remove | the same |
//! | `rename` of a directory | create the tree, move every file, remove the old tree (not atomic) | the same |
//!
//! Symbolic and hard links, permissions, ownership, times and watching do not exist in OPFS: those
//! calls answer `Unsupported` and [`fs_core::Capabilities`] says so. `real_path` checks that the
//! path exists and returns it.
//!
//! # Locks
//!
//! A sync access handle locks its file: while it is open, other handles, writables, removal and
//! `move()` of that file fail in the browser. Calls on this instance that would collide wait for
//! the handle to close (bounded by [`OpfsOptions::lock_timeout`], then `Busy`); reads and `stat`
//! of a path whose handle this instance holds go through that handle and see every byte written.
//! Another tab or worker holding a file shows up as `Busy`
//! (`NoModificationAllowedError`).
//!
//! # Directory handles
//!
//! Every directory handle resolved is cached by path, so a call in a known directory costs one
//! browser call; removing or renaming drops the cached subtree, and a handle made stale by another
//! tab is detected (`NotFound`) and walked again.
//!
//! # Errors
//!
//! DOMExceptions map to [`fs_core::ErrorKind`]s by name (see [`fs_error_from_js`]); the
//! description keeps the browser's name and message.
//!
//! # Temporary files and swap files
//!
//! Sinks (and whole-file writes in a worker) write a hidden sibling `.sink-{16 hex}.tmp` that is
//! moved over the path on close and removed on abort, drop or failure; only a crash leaves one
//! behind. While a `createWritable` stream is open, Chromium shows its swap file `name.crswap` in
//! listings. Without `move()`, committing a temporary file copies its bytes (still atomic for
//! readers: one writable stream).
//!
//! # Browsers and storage
//!
//! Safari before 26 has no `createWritable`: there, use OPFS from a dedicated worker (sync access
//! handles). Browsers may evict OPFS data under storage pressure unless the origin's storage is
//! persistent: call [`persist`] (and check [`estimate`] for the quota).

#![cfg(target_arch = "wasm32")]

mod error;
mod file;
mod fs;
mod internal;
mod js;
mod names;
mod nodes;
mod read;
mod sink;
mod storage;
mod stream;
mod tree;

pub mod bridge;

pub use error::{fs_error_from_js, kind_of_js_name};
pub use fs::{OpfsFs, OpfsOptions, Strategy};
pub use storage::{estimate, persist, StorageEstimate};
