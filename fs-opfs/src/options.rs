//! [`OpfsOptions`] and [`Strategy`]: how an [`crate::OpfsFs`] is opened.

use std::time::Duration;

use fs_core::VPath;

/// How file contents are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `createWritable` streams (commit on close) and `Blob.slice` reads. Works on the page and in
    /// every worker; `open` with a writable flag is `Unsupported`.
    Writable,
    /// Sync access handles for `open` (random-access reads and writes) and for sinks, next to
    /// `createWritable` for whole-file writes. Only in a dedicated worker.
    SyncAccess,
}

/// How to open an [`crate::OpfsFs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpfsOptions {
    /// A directory below the OPFS root that becomes this instance's `/` (created with its
    /// parents); `None` uses the OPFS root itself.
    pub root: Option<VPath>,
    /// The strategy; `None` picks [`Strategy::SyncAccess`] in a dedicated worker and
    /// [`Strategy::Writable`] elsewhere. Forcing `SyncAccess` where it is unavailable makes
    /// [`crate::OpfsFs::open`] fail with `Unsupported`.
    pub strategy: Option<Strategy>,
    /// How long a call retries while the browser reports the file locked (a sync access handle
    /// or writable stream of another tab or worker) before `Busy` (default 10 s). Handles of this
    /// instance never make its own calls wait.
    pub lock_timeout: Duration,
    /// Rename files with `FileSystemFileHandle.move()` when the browser has it (default true);
    /// false forces the copy-and-remove fallback that browsers without `move()` get.
    pub use_move: bool,
}

impl Default for OpfsOptions {
    fn default() -> Self {
        OpfsOptions {
            root: None,
            strategy: None,
            lock_timeout: Duration::from_secs(10),
            use_move: true,
        }
    }
}

impl OpfsOptions {
    /// The defaults with `root` as this instance's `/`.
    pub fn in_dir(root: VPath) -> Self {
        OpfsOptions {
            root: Some(root),
            ..OpfsOptions::default()
        }
    }
}
