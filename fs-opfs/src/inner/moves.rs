//! Moving files of [`Inner`] while handles hold them (see [`crate::nodes`]): the shared sync access
//! handle, detaching a file into the internal directory before its path is removed or replaced,
//! and files (and directory trees) that move with their handles.

use std::rc::Rc;
use std::time::Duration;

use fs_core::{random_name, ErrorKind, FsResult, VPath};
use wasm_bindgen::JsCast;
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemSyncAccessHandle};

use super::Inner;
use web_time::Instant;

use crate::error::{js_name, JsResultExt};
use crate::js::{resolve, settle, sleep, stayed_locked, while_locked, MovableFileHandle};
use crate::method::FsMethod;
use crate::names;
use crate::nodes::{Node, Place, Source};
use crate::tree::{children, is_dir};

impl Inner {
    /// Makes sure `node` has its shared sync access handle: opens it unless another task of this
    /// instance did (or does meanwhile), waiting while someone else holds the file (`Busy` after the
    /// lock timeout).
    async fn ensure_access(&self, node: &Rc<Node>, method: FsMethod, path: &VPath) -> FsResult<()> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            if node.access.borrow().is_some() {
                return Ok(());
            }
            match resolve::<FileSystemSyncAccessHandle>(node.handle().create_sync_access_handle())
                .await
            {
                Ok(access) => {
                    let mut slot = node.access.borrow_mut();
                    match slot.as_ref() {
                        // Another task of this instance got there first (the browser let both
                        // through only because the first one closed again): keep one.
                        Some(_) => access.close(),
                        None => *slot = Some(Rc::new(access)),
                    }
                    return Ok(());
                }
                Err(e) if js_name(&e) == "NoModificationAllowedError" => {
                    if start.elapsed() >= self.lock_timeout {
                        return Err(stayed_locked(&e, self.lock_timeout, method, path));
                    }
                    sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(e) => return Err(e).fs(method, path),
            }
        }
    }

    /// Gives `node` one more writable handle: the first opens the shared sync access handle.
    pub(crate) async fn add_writer(
        &self,
        node: &Rc<Node>,
        method: FsMethod,
        path: &VPath,
    ) -> FsResult<()> {
        self.ensure_access(node, method, path).await?;
        node.writers.set(node.writers.get() + 1);
        Ok(())
    }

    /// The shared sync access handle of `node` for one of its writable handles: while the file is
    /// being moved (its handle closed for a moment), waits for it to open again.
    pub(crate) async fn writer_access(
        &self,
        node: &Rc<Node>,
        method: FsMethod,
        path: &VPath,
    ) -> FsResult<Rc<FileSystemSyncAccessHandle>> {
        let start = Instant::now();
        loop {
            if let Some(access) = node.access() {
                return Ok(access);
            }
            if start.elapsed() >= self.lock_timeout {
                return Err(method
                    .error(
                        ErrorKind::Busy,
                        format!(
                        "the file's sync access handle did not open again within {:?} after a move",
                        self.lock_timeout
                    ),
                    )
                    .with_path(path));
            }
            sleep(Duration::from_millis(1)).await;
        }
    }

    /// A handle of `node` closes (a writable one when `writer`): the last writable handle flushes
    /// and closes the sync access handle; the last handle of a file whose path is gone removes it.
    pub(crate) fn release(&self, node: &Rc<Node>, writer: bool, path: &VPath) -> FsResult<()> {
        let mut flushed = Ok(());
        if writer {
            node.writers.set(node.writers.get().saturating_sub(1));
            if let Some(access) = node.access() {
                flushed = access.flush().fs(FsMethod::FileClose, path);
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
        method: FsMethod,
        path: &VPath,
        op: F,
    ) -> FsResult<FileSystemFileHandle>
    where
        F: FnOnce(FileSystemFileHandle) -> Fut,
        Fut: std::future::Future<Output = FsResult<FileSystemFileHandle>>,
    {
        let taken = node.access.borrow_mut().take();
        if let Some(access) = taken {
            let flushed = access.flush().fs(method, path);
            access.close();
            if let Err(e) = flushed {
                // The flush error is the one to report; the handle must be back either way.
                let _ = self.ensure_access(node, method, path).await;
                return Err(e);
            }
        }
        let result = op(node.handle()).await;
        if let Ok(moved) = &result {
            *node.handle.borrow_mut() = moved.clone();
        }
        // Writable handles that closed meanwhile may have left none to open it for.
        if node.writers.get() > 0 {
            self.ensure_access(node, method, path).await?;
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
        method: FsMethod,
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
        method: FsMethod,
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
            self.nodes.orphan(&at, &node, name);
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
        method: FsMethod,
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
        self.nodes.link(to, &node);
        Ok(())
    }

    /// Moves the directory tree `from` to `to` (which does not exist): creates the directories,
    /// moves (or copies) every file, then removes the old tree.
    pub(crate) async fn move_tree(
        &self,
        from: &VPath,
        to: &VPath,
        method: FsMethod,
    ) -> FsResult<()> {
        let source = self.tree.dir(from, false, method).await?;
        let target = self.tree.dir(to, true, method).await?;
        let mut pending = vec![(source, target, from.clone(), to.clone())];
        while let Some((source, target, from_dir, to_dir)) = pending.pop() {
            for (name, handle) in children(&source, &from_dir, method).await? {
                let from_child = from_dir.join(&name)?;
                let to_child = to_dir.join(&name)?;
                if is_dir(&handle) {
                    let made = self.tree.dir(&to_child, true, method).await?;
                    pending.push((handle.unchecked_into(), made, from_child, to_child));
                } else {
                    let file: FileSystemFileHandle = handle.unchecked_into();
                    let stored = names::stored(&name);
                    self.move_file(
                        &file,
                        &Source::Path(from_child),
                        &target,
                        &stored,
                        &to_child,
                        method,
                    )
                    .await?;
                }
            }
        }
        self.tree_remove(from, true, method).await
    }
}
