//! Open files as inodes: what keeps an open handle on its file while paths change.
//!
//! A browser file handle names a path, not a file: after its path is removed, renamed or replaced,
//! it reads whatever is at that path now, or nothing. Open handles must follow the file instead,
//! as POSIX file descriptors (and `MemoryFs`'s handles) do. So every file this instance holds open
//! has a [`Node`], found by its path, which says where the file is now:
//!
//! - a `rename` of the file (or of a directory above it) moves the node along;
//! - removing or replacing the path (a sink's commit, a rename onto it, a recursive remove above
//!   it) first moves the file into the internal directory ([`crate::internal`]), where the open
//!   handles keep reading and writing it until the last one closes and the file is removed;
//! - in-place changes (`write_file`, `truncate`, `copy_file` onto the path) reach the file the
//!   handles have open, through its sync access handle when one is open.
//!
//! In a dedicated worker, writable handles share one sync access handle per file (the browser
//! allows one), opened with the first writable handle and closed with the last. A sync access
//! handle locks its file, so moving it means closing the handle, moving the file and opening the
//! handle again. Another tab or worker that holds the file shows up as `Busy` after
//! [`crate::OpfsOptions::lock_timeout`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use fs_core::{random_name, ErrorKind, FsError, FsResult, VPath};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemSyncAccessHandle};
use web_time::Instant;

use crate::error::{js_name, JsResultExt};
use crate::fs::Inner;
use crate::js::{resolve, settle, sleep, MovableFileHandle};

/// Where an open file is now.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// At a path of the namespace.
    Path(VPath),
    /// In the internal directory under this name: its path was removed or replaced.
    Orphan(String),
}

/// A file that handles of this instance hold open.
pub(crate) struct Node {
    place: RefCell<Place>,
    /// A browser handle that names the file where it is now.
    handle: RefCell<FileSystemFileHandle>,
    /// The sync access handle writable handles share (dedicated workers only).
    access: RefCell<Option<Rc<FileSystemSyncAccessHandle>>>,
    /// Open handles.
    handles: Cell<usize>,
    /// Open writable handles.
    writers: Cell<usize>,
}

impl Node {
    /// A browser handle of the file where it is now.
    pub(crate) fn handle(&self) -> FileSystemFileHandle {
        self.handle.borrow().clone()
    }

    /// The sync access handle, while a writable handle is open.
    pub(crate) fn access(&self) -> Option<Rc<FileSystemSyncAccessHandle>> {
        self.access.borrow().clone()
    }

    /// Where the file is now.
    pub(crate) fn place(&self) -> Place {
        self.place.borrow().clone()
    }
}

/// The nodes of an instance, by path.
#[derive(Default)]
pub(crate) struct Nodes {
    by_path: RefCell<HashMap<VPath, Rc<Node>>>,
}

impl Nodes {
    /// The node of the file at `path`, if a handle holds it open.
    pub(crate) fn at(&self, path: &VPath) -> Option<Rc<Node>> {
        self.by_path.borrow().get(path).cloned()
    }

    /// The open sync access handle of the file at `path`, if there is one.
    pub(crate) fn access(&self, path: &VPath) -> Option<Rc<FileSystemSyncAccessHandle>> {
        self.at(path)?.access()
    }

    /// True when a handle holds a file below `path` open (which makes `path` a non-empty
    /// directory).
    pub(crate) fn any_below(&self, path: &VPath) -> bool {
        self.by_path
            .borrow()
            .keys()
            .any(|p| p != path && p.starts_with(path))
    }

    /// The nodes at `path` and, with `subtree`, below it, with their paths.
    fn under(&self, path: &VPath, subtree: bool) -> Vec<(VPath, Rc<Node>)> {
        self.by_path
            .borrow()
            .iter()
            .filter(|(p, _)| *p == path || (subtree && p.starts_with(path)))
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect()
    }

    /// One more handle of the file at `path` (`handle` names it): its node, created if needed.
    pub(crate) fn attach(&self, path: &VPath, handle: FileSystemFileHandle) -> Rc<Node> {
        let mut by_path = self.by_path.borrow_mut();
        let node = by_path.entry(path.clone()).or_insert_with(|| {
            Rc::new(Node {
                place: RefCell::new(Place::Path(path.clone())),
                handle: RefCell::new(handle),
                access: RefCell::new(None),
                handles: Cell::new(0),
                writers: Cell::new(0),
            })
        });
        node.handles.set(node.handles.get() + 1);
        node.clone()
    }

    /// Drops `node` from the table when it is the one at `path`.
    fn unlink(&self, path: &VPath, node: &Rc<Node>) {
        let mut by_path = self.by_path.borrow_mut();
        if by_path.get(path).is_some_and(|n| Rc::ptr_eq(n, node)) {
            by_path.remove(path);
        }
    }
}

/// Polls `attempt` while the browser says the file is locked (`NoModificationAllowedError`: a sync
/// access handle or a writable stream of another tab, worker or task), for up to `limit`; then
/// `Busy`.
pub(crate) async fn while_locked<T, F, Fut>(
    limit: Duration,
    method: &'static str,
    path: &VPath,
    mut attempt: F,
) -> FsResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, JsValue>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if js_name(&e) == "NoModificationAllowedError" => {
                if start.elapsed() >= limit {
                    let (name, message) = crate::error::describe(&e);
                    return Err(FsError::new(
                        ErrorKind::Busy,
                        method,
                        format!(
                            "the file stayed locked (by another tab, worker or writer) for longer \
                             than {limit:?}: {name}: {message}"
                        ),
                    )
                    .with_path(path));
                }
                sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(e).fs(method, path),
        }
    }
}

impl Inner {
    /// `createSyncAccessHandle` of `handle`, waiting while someone else holds the file.
    async fn open_access(
        &self,
        handle: &FileSystemFileHandle,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<FileSystemSyncAccessHandle> {
        while_locked(self.lock_timeout, method, path, || {
            resolve::<FileSystemSyncAccessHandle>(handle.create_sync_access_handle())
        })
        .await
    }

    /// Gives `node` one more writable handle: the first opens the shared sync access handle.
    pub(crate) async fn add_writer(
        &self,
        node: &Rc<Node>,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        if node.access.borrow().is_none() {
            let access = self.open_access(&node.handle(), method, path).await?;
            *node.access.borrow_mut() = Some(Rc::new(access));
        }
        node.writers.set(node.writers.get() + 1);
        Ok(())
    }

    /// A handle of `node` closes (a writable one when `writer`): the last writable handle flushes
    /// and closes the sync access handle; the last handle of a file whose path is gone removes it.
    pub(crate) fn release(&self, node: &Rc<Node>, writer: bool, path: &VPath) -> FsResult<()> {
        let mut flushed = Ok(());
        if writer {
            node.writers.set(node.writers.get().saturating_sub(1));
            if let Some(access) = node.access() {
                flushed = access.flush().fs("File.close", path);
                if node.writers.get() == 0 {
                    access.close();
                    *node.access.borrow_mut() = None;
                }
            }
        }
        node.handles.set(node.handles.get().saturating_sub(1));
        if node.handles.get() == 0 {
            match node.place() {
                Place::Path(at) => self.nodes.unlink(&at, node),
                Place::Orphan(name) => self.internal.remove_later(name),
            }
        }
        flushed
    }

    /// Runs `op` on `node`'s file with its sync access handle closed (a locked file cannot be
    /// moved), then opens the handle again on the browser handle `op` returns (where the file is
    /// now), even when `op` failed.
    async fn with_access_closed<F, Fut>(
        &self,
        node: &Rc<Node>,
        method: &'static str,
        path: &VPath,
        op: F,
    ) -> FsResult<FileSystemFileHandle>
    where
        F: FnOnce(FileSystemFileHandle) -> Fut,
        Fut: std::future::Future<Output = FsResult<FileSystemFileHandle>>,
    {
        let taken = node.access.borrow_mut().take();
        let had_access = match taken {
            Some(access) => {
                let flushed = access.flush().fs(method, path);
                access.close();
                if let Err(e) = flushed {
                    let reopened = self.open_access(&node.handle(), method, path).await;
                    *node.access.borrow_mut() = reopened.ok().map(Rc::new);
                    return Err(e);
                }
                true
            }
            None => false,
        };
        let result = op(node.handle()).await;
        if let Ok(moved) = &result {
            *node.handle.borrow_mut() = moved.clone();
        }
        if had_access {
            let access = self.open_access(&node.handle(), method, path).await?;
            *node.access.borrow_mut() = Some(Rc::new(access));
        }
        result
    }

    /// Moves the file `handle` to the entry `name` of `dir` (replacing a file there): `move()`, or
    /// a copy and a removal of `source` without it. Returns a browser handle of the file at its new
    /// place.
    pub(crate) async fn relocate(
        &self,
        handle: FileSystemFileHandle,
        source: &Source,
        dir: &FileSystemDirectoryHandle,
        name: &str,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<FileSystemFileHandle> {
        if self.use_move {
            let movable: &MovableFileHandle = handle.unchecked_ref();
            while_locked(self.lock_timeout, method, path, || {
                let moved = movable.move_to(dir, name);
                async move { settle(moved?).await }
            })
            .await?;
            return Ok(handle);
        }
        let options = web_sys::FileSystemGetFileOptions::new();
        options.set_create(true);
        let target: FileSystemFileHandle =
            resolve(dir.get_file_handle_with_options(name, &options))
                .await
                .fs(method, path)?;
        self.copy_bytes(&handle, None, &target, path, method)
            .await?;
        match source {
            Source::Path(from) => self.tree_remove(from, false, method).await?,
            Source::Internal(name) => self.internal.remove(name, method, path).await?,
        }
        Ok(target)
    }

    /// Before the file at `path` (and, with `subtree`, every file below it) is removed or
    /// replaced: moves the files that handles hold open into the internal directory, where the
    /// handles keep them. True when the file at `path` itself moved (nothing is left there).
    pub(crate) async fn detach(
        &self,
        path: &VPath,
        subtree: bool,
        method: &'static str,
    ) -> FsResult<bool> {
        let mut moved_path = false;
        for (at, node) in self.nodes.under(path, subtree) {
            moved_path |= &at == path;
            let dir = self.internal.dir(method, &at).await?;
            let name = random_name(Some("orphan-"));
            let source = Source::Path(at.clone());
            self.with_access_closed(&node, method, &at, |handle| async {
                self.relocate(handle, &source, &dir, &name, method, &at)
                    .await
            })
            .await?;
            self.nodes.unlink(&at, &node);
            *node.place.borrow_mut() = Place::Orphan(name);
        }
        Ok(moved_path)
    }

    /// Moves the file at `from` (`handle` names it) to `to` (stored as `name` in `dir`),
    /// replacing a file there: handles open on `to` keep the old file, handles open on `from`
    /// follow.
    pub(crate) async fn move_file(
        &self,
        handle: &FileSystemFileHandle,
        from: &Source,
        dir: &FileSystemDirectoryHandle,
        name: &str,
        to: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        self.detach(to, false, method).await?;
        let node = match from {
            Source::Path(path) => self.nodes.at(path),
            Source::Internal(_) => None,
        };
        let Some(node) = node else {
            self.relocate(handle.clone(), from, dir, name, method, to)
                .await?;
            return Ok(());
        };
        self.with_access_closed(&node, method, to, |handle| async {
            self.relocate(handle, from, dir, name, method, to).await
        })
        .await?;
        if let Source::Path(path) = from {
            self.nodes.unlink(path, &node);
        }
        *node.place.borrow_mut() = Place::Path(to.clone());
        self.nodes
            .by_path
            .borrow_mut()
            .insert(to.clone(), node.clone());
        Ok(())
    }
}

/// Where a file being moved comes from (what the copy fallback removes afterwards).
pub(crate) enum Source {
    /// A path of the namespace.
    Path(VPath),
    /// An entry of the internal directory.
    Internal(String),
}
