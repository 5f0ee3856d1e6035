//! `fs-opfs`: the OPFS (Origin Private File System) backend of [`fs_core::FileSystem`], for
//! browsers (wasm32 only; the crate is empty on other targets).
//!
//! [`OpfsFs::open`] takes the OPFS root from `navigator.storage.getDirectory()` (the same code on
//! the page and in any worker), optionally below a sub-root directory so that apps and tests keep
//! their files apart, and picks a [`Strategy`]:
//!
//! | | page, shared or service worker ([`Strategy::Writable`]) | dedicated worker ([`Strategy::SyncAccess`]) |
//! |---|---|---|
//! | `write_file` with `w`, `wx`, `w+`, `wx+` | `createWritable`, committed atomically on close (a new file exists, empty, until then; removed again if the write fails) | a sync access handle of a temporary file, moved over the file (nothing visible before) |
//! | `write_file` with `a`, `r+` (and their variants), `truncate`, `copy_file` | `createWritable` (`keepExistingData`), committed atomically on close | the same |
//! | `read_file`, `read_stream`, read-only `open` | `getFile()` + `Blob.slice` in batches of ≤ 1 MiB (a stream requests the next batch while the current one is consumed; a whole file is one `arrayBuffer()`) | the same, or the open sync access handle of the file |
//! | `open` with a writable flag | `Unsupported` (`random_access_write: false`) | the file's sync access handle (shared by the instance's writable handles of that file): Effect's full cursor semantics |
//! | `write_sink` | a temporary file (writable stream) in the internal directory, moved over the path on close | the same, through a sync access handle |
//! | `rename` of a file | `FileSystemFileHandle.move()` (atomic) when present, else copy + remove | the same |
//! | `rename` of a directory | create the tree, move every file, remove the old tree (not atomic) | the same |
//!
//! Symbolic and hard links, permissions, ownership, times and watching do not exist in OPFS: those
//! calls answer `Unsupported` and [`fs_core::Capabilities`] says so. `real_path` checks that the
//! path exists and returns it.
//!
//! # Same behaviour as `MemoryFs`
//!
//! Every call gives what `fs_core::MemoryFs` gives, value for value and error kind for error kind
//! (a differential test of random sequences holds it to that on the page, in a worker and through
//! the bridge):
//!
//! - **Open files are inodes.** A handle holds its file, not its path: it keeps reading (and
//!   writing) the same file after the path is renamed, removed or replaced by a sink or a rename,
//!   and sees what `write_file` and `truncate` change in place. Files whose paths went away wait
//!   in the internal directory until their last handle closes (see `nodes.rs`).
//! - **Sinks hold nothing at their path.** Until `close`, other calls on the path behave as if the
//!   sink were not there; `close` commits to what is at the path then (an appending sink appends
//!   to the file as it is at close).
//! - **Error order** is Linux's, as the trait documents for `rename`.
//!
//! # Locks
//!
//! A sync access handle locks its file in the browser. Writable handles of one instance on one file
//! share one sync access handle, and calls of the instance on a path whose file such a handle holds
//! go through it (reads, `stat`, `write_file`, `truncate`, `copy_file` onto it) or move it out of the
//! way (remove, rename, replace): an instance never waits for itself. What another tab or worker
//! holds shows up as `NoModificationAllowedError`: calls retry for [`OpfsOptions::lock_timeout`],
//! then fail with `Busy`.
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
//! # Names, swap files and the internal directory
//!
//! Chromium gives a file with an open writable stream a swap file `name.crswap` (or
//! `name.1.crswap`, …) in the same directory, and a directory of that name breaks writes of `name`.
//! Names ending with `.crswap` or `.fs-opfs` (then any `~`s) are therefore stored with one more
//! `~`, and stored names ending with those suffixes exactly (swap files, the internal directory
//! `internal.fs-opfs` below the instance's root) never appear in listings: the user sees exactly
//! the names they gave. Sinks' temporary files and the files of handles whose paths went away
//! live in the internal directory; they are removed when done (retried while the browser still
//! holds a just-aborted file), and what a crash leaves there is swept when an instance opens a day
//! later. Without `move()`, committing a temporary file copies its bytes (still atomic for readers:
//! one writable stream).
//!
//! # Browsers and storage
//!
//! Safari before 26 has no `createWritable`: there, use OPFS from a dedicated worker (sync access
//! handles). Browsers may evict OPFS data under storage pressure unless the origin's storage is
//! persistent: call [`persist`] (and check [`estimate`] for the quota).

// Natively the crate is empty, so the links of the docs above have nothing to point at.
#![cfg_attr(not(target_arch = "wasm32"), allow(rustdoc::broken_intra_doc_links))]
#![cfg(target_arch = "wasm32")]

mod error;
mod file;
mod fs;
mod inner;
mod internal;
mod js;
mod method;
mod names;
mod nodes;
mod options;
mod read;
mod sink;
mod storage;
mod stream;
mod tree;

pub mod bridge;

pub use error::{fs_error_from_js, kind_of_js_name};
pub use fs::OpfsFs;
pub use options::{OpfsOptions, Strategy};
pub use storage::{estimate, persist, StorageEstimate};
