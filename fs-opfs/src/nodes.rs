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

use fs_core::VPath;
use web_sys::{FileSystemFileHandle, FileSystemSyncAccessHandle};

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
    pub(crate) place: RefCell<Place>,
    /// A browser handle that names the file where it is now.
    pub(crate) handle: RefCell<FileSystemFileHandle>,
    /// The sync access handle writable handles share (dedicated workers only).
    pub(crate) access: RefCell<Option<Rc<FileSystemSyncAccessHandle>>>,
    /// Open handles.
    pub(crate) handles: Cell<usize>,
    /// Open writable handles.
    pub(crate) writers: Cell<usize>,
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
    pub(crate) fn under(&self, path: &VPath, subtree: bool) -> Vec<(VPath, Rc<Node>)> {
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

    /// Records `node` as the file at `path` (after it moved there).
    pub(crate) fn link(&self, path: &VPath, node: &Rc<Node>) {
        *node.place.borrow_mut() = Place::Path(path.clone());
        self.by_path.borrow_mut().insert(path.clone(), node.clone());
    }

    /// Records that `node`'s file, which was at `path`, is now the internal directory's entry
    /// `name`.
    pub(crate) fn orphan(&self, path: &VPath, node: &Rc<Node>, name: String) {
        self.unlink(path, node);
        *node.place.borrow_mut() = Place::Orphan(name);
    }

    /// Drops `node` from the table when it is the one at `path`.
    pub(crate) fn unlink(&self, path: &VPath, node: &Rc<Node>) {
        let mut by_path = self.by_path.borrow_mut();
        if by_path.get(path).is_some_and(|n| Rc::ptr_eq(n, node)) {
            by_path.remove(path);
        }
    }
}

/// Where a file being moved comes from (what the copy fallback removes afterwards).
pub(crate) enum Source {
    /// A path of the namespace.
    Path(VPath),
    /// An entry of the internal directory.
    Internal(String),
}
