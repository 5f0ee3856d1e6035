//! [`Inner`]: the state an [`crate::OpfsFs`] shares with its open files, sinks and streams, and the
//! operations they share: path lookups (here), whole-file writes and copies ([`writes`]), and
//! moving files while handles hold them ([`moves`]).

mod moves;
mod writes;

pub(crate) use writes::stream_call;

use std::time::Duration;

use fs_core::{ErrorKind, FileType, FsResult, VPath};
use web_sys::{
    FileSystemDirectoryHandle, FileSystemReadWriteOptions, FileSystemRemoveOptions,
    FileSystemSyncAccessHandle,
};

use crate::error::JsResultExt;
use crate::internal::Internal;
use crate::js::{settle, while_locked};
use crate::method::FsMethod;
use crate::nodes::Nodes;
use crate::options::Strategy;
use crate::tree::{Entry, Tree};

/// The state shared by an [`crate::OpfsFs`], its open files, sinks and streams.
pub(crate) struct Inner {
    pub(crate) tree: Tree,
    pub(crate) nodes: Nodes,
    pub(crate) internal: Internal,
    pub(crate) strategy: Strategy,
    pub(crate) use_move: bool,
    pub(crate) lock_timeout: Duration,
}

impl Inner {
    /// Whether `path` is a file, a directory, or missing (`BadResource` below a file).
    pub(crate) async fn kind_of(
        &self,
        path: &VPath,
        method: FsMethod,
    ) -> FsResult<Option<FileType>> {
        if path.is_root() {
            return Ok(Some(FileType::Directory));
        }
        let found = self
            .tree
            .with_parent(path, method, |dir, _| async move {
                self.tree.lookup(&dir, path, method).await
            })
            .await;
        match found {
            Ok(Some(Entry::File(_))) => Ok(Some(FileType::File)),
            Ok(Some(Entry::Dir(_))) => Ok(Some(FileType::Directory)),
            Ok(None) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The handle of `path`'s parent directory: `NotFound` when it is missing, `BadResource` when a
    /// file is in the way (the error names `path`).
    pub(crate) async fn parent_dir(
        &self,
        path: &VPath,
        method: FsMethod,
    ) -> FsResult<FileSystemDirectoryHandle> {
        let parent = path.parent().unwrap_or_else(VPath::root);
        self.tree
            .dir(&parent, false, method)
            .await
            .map_err(|e| e.with_path(path))
    }

    /// `removeEntry` of `path` in its parent, without looking at open handles (see
    /// [`Inner::remove_path`]).
    pub(crate) async fn tree_remove(
        &self,
        path: &VPath,
        recursive: bool,
        method: FsMethod,
    ) -> FsResult<()> {
        self.tree.forget(path);
        self.tree
            .with_parent(path, method, |dir, name| async move {
                let options = FileSystemRemoveOptions::new();
                options.set_recursive(recursive);
                while_locked(self.lock_timeout, method, path, || {
                    settle(dir.remove_entry_with_options(&name, &options))
                })
                .await
            })
            .await?;
        self.tree.forget(path);
        Ok(())
    }

    /// Removes `path`: the files of open handles at it (and, with `recursive`, below it) move to
    /// the internal directory first, where those handles keep them.
    pub(crate) async fn remove_path(
        &self,
        path: &VPath,
        recursive: bool,
        method: FsMethod,
    ) -> FsResult<()> {
        if !recursive && self.nodes.any_below(path) {
            // The browser would call the directory locked; what matters first is that it is not
            // empty.
            return Err(method
                .error(
                    ErrorKind::DirectoryNotEmpty,
                    "the directory is not empty; pass recursive to remove it",
                )
                .with_path(path));
        }
        if self.detach(path, recursive, method).await? {
            // The file itself went to the internal directory: nothing is left at the path.
            return Ok(());
        }
        self.tree_remove(path, recursive, method).await
    }
}

/// Writes all of `data` at `at` through a sync access handle.
pub(crate) fn write_all_at(
    access: &FileSystemSyncAccessHandle,
    data: &[u8],
    at: u64,
    path: &VPath,
    method: FsMethod,
) -> FsResult<()> {
    if data.is_empty() {
        return Ok(());
    }
    let options = FileSystemReadWriteOptions::new();
    options.set_at(at as f64);
    let n = access
        .write_with_u8_array_and_options(data, &options)
        .fs(method, path)? as usize;
    if n != data.len() {
        return Err(method
            .error(
                ErrorKind::WriteZero,
                format!("the file took {n} of {} bytes", data.len()),
            )
            .with_path(path));
    }
    Ok(())
}
