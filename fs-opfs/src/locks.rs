//! The sync access handles this instance holds open, one per path.
//!
//! A sync access handle locks its file exclusively: a second `createSyncAccessHandle`, a
//! `createWritable`, `removeEntry` or `move()` of the file fails with `NoModificationAllowedError`
//! while it is open. Our own calls therefore wait for the handle to close (polling, bounded by the
//! lock timeout, then `Busy`) instead of failing at once, and reads of a path whose handle is open
//! here go through that handle, so they see every byte written to it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use fs_core::{ErrorKind, FsError, FsResult, VPath};
use web_sys::FileSystemSyncAccessHandle;
use web_time::Instant;

use crate::js::sleep;

/// How often a waiting call checks whether a lock was released.
const POLL: Duration = Duration::from_millis(2);

/// One path's lock.
#[derive(Clone)]
enum Slot {
    /// Reserved by an `open` that is still creating its handle.
    Pending,
    /// The open handle.
    Open(Rc<FileSystemSyncAccessHandle>),
}

/// The lock table.
pub(crate) struct Locks {
    slots: RefCell<HashMap<VPath, Slot>>,
    timeout: Duration,
}

impl Locks {
    pub(crate) fn new(timeout: Duration) -> Locks {
        Locks {
            slots: RefCell::new(HashMap::new()),
            timeout,
        }
    }

    /// How long calls wait for a lock before `Busy`.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The open handle of `path`, if this instance holds one.
    pub(crate) fn handle(&self, path: &VPath) -> Option<Rc<FileSystemSyncAccessHandle>> {
        match self.slots.borrow().get(path) {
            Some(Slot::Open(handle)) => Some(handle.clone()),
            _ => None,
        }
    }

    fn held_below(&self, path: &VPath, subtree: bool) -> bool {
        let slots = self.slots.borrow();
        if subtree {
            slots.keys().any(|held| held.starts_with(path))
        } else {
            slots.contains_key(path)
        }
    }

    /// Waits until no handle of ours is open on `path` (or, with `subtree`, anywhere below it);
    /// `Busy` after the timeout.
    pub(crate) async fn wait_free(
        &self,
        path: &VPath,
        subtree: bool,
        method: &'static str,
    ) -> FsResult<()> {
        let start = Instant::now();
        while self.held_below(path, subtree) {
            if start.elapsed() >= self.timeout {
                return Err(busy(method, path, self.timeout));
            }
            sleep(POLL).await;
        }
        Ok(())
    }

    /// Waits until `path` is free, then reserves it for a handle being created.
    pub(crate) async fn reserve(&self, path: &VPath, method: &'static str) -> FsResult<()> {
        self.wait_free(path, false, method).await?;
        self.slots.borrow_mut().insert(path.clone(), Slot::Pending);
        Ok(())
    }

    /// Stores the handle of a reserved path.
    pub(crate) fn fill(&self, path: &VPath, handle: Rc<FileSystemSyncAccessHandle>) {
        self.slots
            .borrow_mut()
            .insert(path.clone(), Slot::Open(handle));
    }

    /// Releases `path` (after its handle was closed, or when creating it failed).
    pub(crate) fn release(&self, path: &VPath) {
        self.slots.borrow_mut().remove(path);
    }
}

/// The `Busy` error of a lock that stayed held.
pub(crate) fn busy(method: &'static str, path: &VPath, waited: Duration) -> FsError {
    FsError::new(
        ErrorKind::Busy,
        method,
        format!("a sync access handle held the file for longer than {waited:?}"),
    )
    .with_path(path)
}
