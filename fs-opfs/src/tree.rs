//! Path resolution over OPFS handles, with a cache of directory handles keyed by [`VPath`].
//!
//! OPFS has no path lookups: every call walks from a directory handle one name at a time. The cache
//! keeps every directory handle this instance has resolved, so a call in a known directory costs
//! one browser call instead of one per segment. Removing or renaming a path drops the cached
//! handles of its subtree; a handle that went stale behind our back (another tab removed the
//! directory) shows up as `NotFound`, after which [`Tree::with_parent`] clears the cache and walks
//! again once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

use fs_core::{ErrorKind, FsResult, VPath};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemGetFileOptions, FileSystemHandle, FileSystemHandleKind,
};

use crate::error::{js_name, JsResultExt};
use crate::js::resolve;
use crate::method::FsMethod;
use crate::names;

/// What a name in a directory is.
pub(crate) enum Entry {
    /// A file.
    File(FileSystemFileHandle),
    /// A directory.
    Dir(FileSystemDirectoryHandle),
}

/// The root handle and the cache of directory handles below it.
pub(crate) struct Tree {
    root: FileSystemDirectoryHandle,
    dirs: RefCell<HashMap<VPath, FileSystemDirectoryHandle>>,
}

impl Tree {
    pub(crate) fn new(root: FileSystemDirectoryHandle) -> Tree {
        Tree {
            root,
            dirs: RefCell::new(HashMap::new()),
        }
    }

    /// The handle of the directory `path`, walking (and creating, with `create`) what the cache
    /// lacks. `NotFound` for a missing directory, `BadResource` when a segment is a file.
    pub(crate) async fn dir(
        &self,
        path: &VPath,
        create: bool,
        method: FsMethod,
    ) -> FsResult<FileSystemDirectoryHandle> {
        Ok(self.dir_traced(path, create, method).await?.0)
    }

    /// Like [`Tree::dir`], and whether the walk started from a cached handle (that may be stale).
    async fn dir_traced(
        &self,
        path: &VPath,
        create: bool,
        method: FsMethod,
    ) -> FsResult<(FileSystemDirectoryHandle, bool)> {
        if path.is_root() {
            return Ok((self.root.clone(), false));
        }
        match self.walk(path, create, method).await {
            // A cached handle went stale behind our back: forget everything and walk from the root.
            Err(e) if e.kind() == ErrorKind::NotFound && self.cached() > 0 => {
                self.forget_all();
                self.walk(path, create, method).await
            }
            other => other,
        }
    }

    /// One walk from the deepest cached ancestor of `path` (or the root).
    async fn walk(
        &self,
        path: &VPath,
        create: bool,
        method: FsMethod,
    ) -> FsResult<(FileSystemDirectoryHandle, bool)> {
        let ancestors = path.ancestors_from_root();
        let (start, mut handle, cached) = {
            let dirs = self.dirs.borrow();
            let mut found = (0, self.root.clone(), false);
            for (i, ancestor) in ancestors.iter().enumerate().skip(1).rev() {
                if let Some(handle) = dirs.get(ancestor) {
                    found = (i, handle.clone(), true);
                    break;
                }
            }
            found
        };
        for ancestor in &ancestors[start + 1..] {
            let name = names::stored(ancestor.file_name().unwrap_or_default());
            let options = FileSystemGetDirectoryOptions::new();
            options.set_create(create);
            let next: FileSystemDirectoryHandle =
                resolve(handle.get_directory_handle_with_options(&name, &options))
                    .await
                    .fs(method, path)?;
            self.dirs
                .borrow_mut()
                .insert(ancestor.clone(), next.clone());
            handle = next;
        }
        Ok((handle, cached))
    }

    /// Runs `op` with the handle of `path`'s parent and the name `path`'s last segment is stored
    /// under (see [`crate::names`]). When `op` fails with
    /// `NotFound` after starting from a cached handle, the cache is cleared and `op` runs once more
    /// from a fresh walk (a failed `NotFound` call changed nothing, so the retry is safe).
    pub(crate) async fn with_parent<T, F, Fut>(
        &self,
        path: &VPath,
        method: FsMethod,
        op: F,
    ) -> FsResult<T>
    where
        F: Fn(FileSystemDirectoryHandle, String) -> Fut,
        Fut: Future<Output = FsResult<T>>,
    {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => (parent, names::stored(name).into_owned()),
            _ => {
                return Err(method
                    .error(ErrorKind::BadResource, "the root is a directory")
                    .with_path(path))
            }
        };
        let (handle, cached) = self.dir_traced(&parent, false, method).await?;
        match op(handle, name.clone()).await {
            Err(e) if e.kind() == ErrorKind::NotFound && cached => {
                self.forget_all();
                let handle = self.dir(&parent, false, method).await?;
                op(handle, name).await
            }
            other => other,
        }
    }

    /// The entry at `path` in `dir` (`path`'s parent), or `None` when it does not exist.
    pub(crate) async fn lookup(
        &self,
        dir: &FileSystemDirectoryHandle,
        path: &VPath,
        method: FsMethod,
    ) -> FsResult<Option<Entry>> {
        let Some(name) = path.file_name() else {
            return Ok(Some(Entry::Dir(self.root.clone())));
        };
        let name = names::stored(name);
        let name = name.as_ref();
        // A directory seen before is checked with one call (it may have gone behind our back).
        if self.dirs.borrow().contains_key(path) {
            match resolve::<FileSystemDirectoryHandle>(dir.get_directory_handle(name)).await {
                Ok(handle) => {
                    self.dirs.borrow_mut().insert(path.clone(), handle.clone());
                    return Ok(Some(Entry::Dir(handle)));
                }
                Err(e) if js_name(&e) == "NotFoundError" => {
                    self.forget(path);
                    return Ok(None);
                }
                Err(e) if js_name(&e) == "TypeMismatchError" => self.forget(path),
                Err(e) => return Err(e).fs(method, path),
            }
        }
        match resolve::<FileSystemFileHandle>(dir.get_file_handle(name)).await {
            Ok(file) => Ok(Some(Entry::File(file))),
            Err(e) if js_name(&e) == "NotFoundError" => Ok(None),
            Err(e) if js_name(&e) == "TypeMismatchError" => {
                let handle: FileSystemDirectoryHandle = resolve(dir.get_directory_handle(name))
                    .await
                    .fs(method, path)?;
                self.dirs.borrow_mut().insert(path.clone(), handle.clone());
                Ok(Some(Entry::Dir(handle)))
            }
            Err(e) => Err(e).fs(method, path),
        }
    }

    /// The file handle of `path` (`NotFound`, or `BadResource` for a directory), optionally created.
    pub(crate) async fn file(
        &self,
        path: &VPath,
        create: bool,
        method: FsMethod,
    ) -> FsResult<FileSystemFileHandle> {
        self.with_parent(path, method, |dir, name| async move {
            let options = FileSystemGetFileOptions::new();
            options.set_create(create);
            resolve(dir.get_file_handle_with_options(&name, &options))
                .await
                .fs(method, path)
        })
        .await
    }

    /// Remembers a directory handle found by a listing.
    pub(crate) fn remember(&self, path: VPath, handle: FileSystemDirectoryHandle) {
        self.dirs.borrow_mut().insert(path, handle);
    }

    /// Drops the cached handles of `path` and everything below it.
    pub(crate) fn forget(&self, path: &VPath) {
        self.dirs
            .borrow_mut()
            .retain(|cached, _| !cached.starts_with(path));
    }

    /// Drops every cached handle.
    pub(crate) fn forget_all(&self) {
        self.dirs.borrow_mut().clear();
    }

    /// How many directory handles are cached (for tests and diagnostics).
    pub(crate) fn cached(&self) -> usize {
        self.dirs.borrow().len()
    }
}

/// The user's children of a directory handle: `(name, handle)` in the browser's order, with names
/// as the user sees them and entries that are not the user's (swap files, the internal directory)
/// left out.
pub(crate) async fn children(
    dir: &FileSystemDirectoryHandle,
    path: &VPath,
    method: FsMethod,
) -> FsResult<Vec<(String, FileSystemHandle)>> {
    let iter = dir.values();
    let mut out = Vec::new();
    loop {
        let promise = iter.next().fs(method, path)?;
        let step: js_sys::IteratorNext = resolve::<JsValue>(promise)
            .await
            .fs(method, path)?
            .unchecked_into();
        if step.done() {
            return Ok(out);
        }
        let handle: FileSystemHandle = step.value().unchecked_into();
        if let Some(name) = names::user(&handle.name()) {
            out.push((name.to_owned(), handle));
        }
    }
}

/// True when a listed handle is a directory.
pub(crate) fn is_dir(handle: &FileSystemHandle) -> bool {
    handle.kind() == FileSystemHandleKind::Directory
}
