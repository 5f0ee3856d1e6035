//! [`OpfsFs`]: the [`FileSystem`] implementation.

use std::rc::Rc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, ErrorKind, File, FileInfo, FileSystem,
    FileType, FsError, FsResult, MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions,
    RemoveOptions, SinkMode, SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions,
    WatchStream, WriteSink,
};
use wasm_bindgen::JsCast;
use web_sys::{
    FileSystemCreateWritableOptions, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemReadWriteOptions, FileSystemRemoveOptions, FileSystemSyncAccessHandle,
    FileSystemWritableFileStream,
};

use crate::error::{js_name, JsResultExt};
use crate::file::{open_read_only, open_sync};
use crate::internal::Internal;
use crate::js::{self, js_bytes, resolve, settle};
use crate::nodes::{while_locked, Nodes, Source};
use crate::read::{blob_range, read_all, snapshot};
use crate::sink::open_sink;
use crate::stream::stream_file;
use crate::tree::{children, is_dir, Entry, Tree};

const BACKEND: &str = "OPFS";

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

/// How to open an [`OpfsFs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpfsOptions {
    /// A directory below the OPFS root that becomes this instance's `/` (created with its
    /// parents); `None` uses the OPFS root itself.
    pub root: Option<VPath>,
    /// The strategy; `None` picks [`Strategy::SyncAccess`] in a dedicated worker and
    /// [`Strategy::Writable`] elsewhere. Forcing `SyncAccess` where it is unavailable makes
    /// [`OpfsFs::open`] fail with `Unsupported`.
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

/// A [`FileSystem`] over the Origin Private File System.
///
/// Cloning is cheap: clones share the directory cache and the table of open files. It is not
/// `Send` (browser handles live on one thread); use it from the thread (page or worker) that
/// opened it.
#[derive(Clone)]
pub struct OpfsFs {
    pub(crate) inner: Rc<Inner>,
}

/// The state shared by an [`OpfsFs`], its open files, sinks and streams.
pub(crate) struct Inner {
    pub(crate) tree: Tree,
    pub(crate) nodes: Nodes,
    pub(crate) internal: Internal,
    pub(crate) strategy: Strategy,
    pub(crate) use_move: bool,
    pub(crate) lock_timeout: Duration,
}

impl OpfsFs {
    /// Opens OPFS (`navigator.storage.getDirectory()`, on the page or in any worker), creating the
    /// sub-root when one is given.
    ///
    /// Fails with `Unsupported` when the browser has no OPFS or `strategy` asks for sync access
    /// handles outside a dedicated worker, and with the mapped DOMException otherwise (for example
    /// `PermissionDenied` in a private window that refuses storage).
    pub async fn open(options: OpfsOptions) -> FsResult<OpfsFs> {
        let root_path = options.root.clone().unwrap_or_else(VPath::root);
        let unsupported =
            |why: String| FsError::new(ErrorKind::Unsupported, "open", why).with_path(&root_path);
        let storage =
            js::storage_manager().map_err(|e| unsupported(crate::error::describe(&e).1))?;
        let opfs: FileSystemDirectoryHandle = resolve(storage.get_directory())
            .await
            .fs("open", &root_path)?;
        let sync = js::sync_access_handles_available();
        let strategy = match options.strategy {
            Some(Strategy::SyncAccess) if !sync => {
                return Err(unsupported(
                    "sync access handles exist only in a dedicated worker".to_owned(),
                ))
            }
            Some(strategy) => strategy,
            None if sync => Strategy::SyncAccess,
            None => Strategy::Writable,
        };
        let outer = Tree::new(opfs);
        let root = outer.dir(&root_path, true, "open").await?;
        let internal = Internal::new(root.clone());
        internal.sweep_later();
        Ok(OpfsFs {
            inner: Rc::new(Inner {
                tree: Tree::new(root),
                nodes: Nodes::default(),
                internal,
                strategy,
                use_move: options.use_move && js::move_available(),
                lock_timeout: options.lock_timeout,
            }),
        })
    }

    /// The strategy in use.
    pub fn strategy(&self) -> Strategy {
        self.inner.strategy
    }

    /// How many directory handles are cached (diagnostics; the cache has no size limit, one
    /// handle per directory this instance has seen).
    pub fn cached_dirs(&self) -> usize {
        self.inner.tree.cached()
    }
}

impl Inner {
    /// Whether `path` is a file, a directory, or missing (`BadResource` below a file).
    pub(crate) async fn kind_of(
        &self,
        path: &VPath,
        method: &'static str,
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
        method: &'static str,
    ) -> FsResult<FileSystemDirectoryHandle> {
        let parent = path.parent().unwrap_or_else(VPath::root);
        self.tree
            .dir(&parent, false, method)
            .await
            .map_err(|e| e.with_path(path))
    }

    /// Writes `data` into `handle` through a writable stream: replacing the content, or keeping it
    /// and writing at `at` (`None`: at the end).
    async fn write_through_stream(
        &self,
        handle: &FileSystemFileHandle,
        data: &[u8],
        keep: Option<Option<u64>>,
        path: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(keep.is_some());
        let stream: FileSystemWritableFileStream =
            while_locked(self.lock_timeout, method, path, || {
                resolve(handle.create_writable_with_options(&options))
            })
            .await?;
        let result = async {
            if let Some(at) = keep {
                let at = match at {
                    Some(at) => at,
                    None => snapshot(handle, path, method).await?.size() as u64,
                };
                settle(stream.seek_with_f64(at as f64).fs(method, path)?)
                    .await
                    .fs(method, path)?;
            }
            if !data.is_empty() {
                settle(
                    stream
                        .write_with_js_u8_array(&js_bytes(data))
                        .fs(method, path)?,
                )
                .await
                .fs(method, path)?;
            }
            settle(stream.close()).await.fs(method, path)
        }
        .await;
        if result.is_err() {
            let _ = settle(stream.abort()).await;
        }
        result
    }

    /// Writes through the sync access handle of an open file (`write_file` on a path whose file a
    /// writable handle holds: the bytes go where the handle sees them).
    fn write_through_access(
        access: &FileSystemSyncAccessHandle,
        data: &[u8],
        flag: OpenFlag,
        path: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        if flag.truncates() {
            access.truncate_with_f64(0.0).fs(method, path)?;
        }
        let at = if flag.appends() {
            access.get_size().fs(method, path)?
        } else {
            0.0
        };
        write_all_at(access, data, at as u64, path, method)?;
        access.flush().fs(method, path)
    }

    /// Copies the bytes of `from` over `to` (created when missing) in one writable stream; an open
    /// sync access handle of `from_path` is flushed first.
    pub(crate) async fn copy_bytes(
        &self,
        from: &FileSystemFileHandle,
        from_path: Option<&VPath>,
        to: &FileSystemFileHandle,
        to_path: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        if let Some(open) = from_path.and_then(|p| self.nodes.access(p)) {
            open.flush().fs(method, to_path)?;
        }
        let source = snapshot(from, to_path, method).await?;
        let stream: FileSystemWritableFileStream =
            while_locked(self.lock_timeout, method, to_path, || {
                resolve(to.create_writable())
            })
            .await?;
        let written = async {
            settle(stream.write_with_blob(&source).fs(method, to_path)?)
                .await
                .fs(method, to_path)?;
            settle(stream.close()).await.fs(method, to_path)
        }
        .await;
        if written.is_err() {
            let _ = settle(stream.abort()).await;
        }
        written
    }

    /// Copies the bytes of `from` into the open sync access handle `to` (replacing its content).
    async fn copy_into_access(
        &self,
        from: &FileSystemFileHandle,
        from_path: &VPath,
        to: &FileSystemSyncAccessHandle,
        to_path: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        if let Some(open) = self.nodes.access(from_path) {
            open.flush().fs(method, to_path)?;
        }
        let source = snapshot(from, from_path, method).await?;
        let size = source.size() as u64;
        let mut at = 0;
        let mut batches = Vec::new();
        while at < size {
            let end = (at + COPY_BATCH).min(size);
            batches.push(blob_range(&source, at, end).await.fs(method, from_path)?);
            at = end;
        }
        // Everything is read before the first byte is written, so a failed read changes nothing.
        to.truncate_with_f64(0.0).fs(method, to_path)?;
        let mut at = 0;
        for batch in batches {
            write_all_at(to, &batch, at, to_path, method)?;
            at += batch.len() as u64;
        }
        to.flush().fs(method, to_path)
    }

    /// `removeEntry` of `path` in its parent, without looking at open handles (see
    /// [`Inner::remove_path`]).
    pub(crate) async fn tree_remove(
        &self,
        path: &VPath,
        recursive: bool,
        method: &'static str,
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
        method: &'static str,
    ) -> FsResult<()> {
        if !recursive && self.nodes.any_below(path) {
            // The browser would call the directory locked; what matters first is that it is not
            // empty.
            return Err(FsError::new(
                ErrorKind::DirectoryNotEmpty,
                method,
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

    /// Moves the directory tree `from` to `to` (which does not exist): creates the directories,
    /// moves (or copies) every file, then removes the old tree.
    async fn move_tree(&self, from: &VPath, to: &VPath, method: &'static str) -> FsResult<()> {
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
                    let stored = crate::names::stored(&name);
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

/// Bytes read per call when a copy goes through a sync access handle.
const COPY_BATCH: u64 = 1024 * 1024;

/// Writes all of `data` at `at` through a sync access handle.
pub(crate) fn write_all_at(
    access: &FileSystemSyncAccessHandle,
    data: &[u8],
    at: u64,
    path: &VPath,
    method: &'static str,
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
        return Err(FsError::new(
            ErrorKind::WriteZero,
            method,
            format!("the file took {n} of {} bytes", data.len()),
        )
        .with_path(path));
    }
    Ok(())
}

fn dir_info() -> FileInfo {
    FileInfo::basic(FileType::Directory, 0)
}

/// The info of a file from its `File` snapshot.
pub(crate) fn file_info(file: &web_sys::File) -> FileInfo {
    let mut info = FileInfo::basic(FileType::File, file.size() as u64);
    let ms = file.last_modified();
    if ms.is_finite() && ms >= 0.0 {
        info.mtime = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64));
    }
    info
}

fn bad_resource(method: &'static str, path: &VPath, why: &str) -> FsError {
    FsError::new(ErrorKind::BadResource, method, why.to_owned()).with_path(path)
}

fn already_exists(method: &'static str, path: &VPath, why: &str) -> FsError {
    FsError::new(ErrorKind::AlreadyExists, method, why.to_owned()).with_path(path)
}

#[async_trait(?Send)]
impl FileSystem for OpfsFs {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            symlinks: false,
            hard_links: false,
            permissions: false,
            ownership: false,
            set_times: false,
            watch: false,
            atomic_rename: self.inner.use_move,
            atomic_dir_rename: false,
            random_access_write: self.inner.strategy == Strategy::SyncAccess,
            durable_sync: false,
            real_path: true,
        }
    }

    async fn access(&self, path: &VPath, _options: AccessOptions) -> FsResult<()> {
        self.stat(path)
            .await
            .map(|_| ())
            .map_err(|e| e.in_method("access"))
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        let inner = &*self.inner;
        if path.is_root() {
            return Ok(dir_info());
        }
        if let Some(open) = inner.nodes.access(path) {
            let size = open.get_size().fs("stat", path)?;
            return Ok(FileInfo::basic(FileType::File, size as u64));
        }
        inner
            .tree
            .with_parent(path, "stat", |dir, _| async move {
                match inner.tree.lookup(&dir, path, "stat").await? {
                    Some(Entry::File(file)) => Ok(file_info(&snapshot(&file, path, "stat").await?)),
                    Some(Entry::Dir(_)) => Ok(dir_info()),
                    None => {
                        Err(
                            FsError::new(ErrorKind::NotFound, "stat", "no such file or directory")
                                .with_path(path),
                        )
                    }
                }
            })
            .await
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        let tree = &self.inner.tree;
        let top = tree.dir(path, false, "readDirectory").await?;
        let mut out = Vec::new();
        let mut pending = vec![(top, path.clone(), String::new())];
        while let Some((dir, dir_path, prefix)) = pending.pop() {
            for (name, handle) in children(&dir, &dir_path, "readDirectory").await? {
                let child = dir_path.join(&name)?;
                let relative = format!("{prefix}{name}");
                let file_type = if is_dir(&handle) {
                    let sub: FileSystemDirectoryHandle = handle.unchecked_into();
                    tree.remember(child.clone(), sub.clone());
                    if options.recursive {
                        pending.push((sub, child.clone(), format!("{relative}/")));
                    }
                    FileType::Directory
                } else {
                    FileType::File
                };
                out.push(DirEntry {
                    relative,
                    path: child,
                    file_type,
                });
            }
        }
        out.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(out)
    }

    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        let inner = &*self.inner;
        const METHOD: &str = "makeDirectory";
        if options.recursive {
            return match inner.tree.dir(path, true, METHOD).await {
                Ok(_) => Ok(()),
                // `mkdir -p` of an existing file: the file is in the way of the last segment.
                Err(e) if e.kind() == ErrorKind::BadResource => {
                    match inner.kind_of(path, METHOD).await {
                        Ok(Some(FileType::File)) => {
                            Err(already_exists(METHOD, path, "a file exists at the path"))
                        }
                        _ => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
        }
        if path.is_root() {
            return Err(already_exists(METHOD, path, "the root exists"));
        }
        inner
            .tree
            .with_parent(path, METHOD, |dir, name| async move {
                if inner.tree.lookup(&dir, path, METHOD).await?.is_some() {
                    return Err(already_exists(METHOD, path, "the path exists"));
                }
                let options = web_sys::FileSystemGetDirectoryOptions::new();
                options.set_create(true);
                let made: FileSystemDirectoryHandle =
                    resolve(dir.get_directory_handle_with_options(&name, &options))
                        .await
                        .fs(METHOD, path)?;
                inner.tree.remember(path.clone(), made);
                Ok(())
            })
            .await
    }

    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        const METHOD: &str = "remove";
        if path.is_root() {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                METHOD,
                "refusing to remove the root",
            )
            .with_path(path));
        }
        match self
            .inner
            .remove_path(path, options.recursive, METHOD)
            .await
        {
            Err(e) if e.kind() == ErrorKind::NotFound && options.force => Ok(()),
            other => other,
        }
    }

    /// Linux's order of checks (see the trait): both parents, the source, a directory into
    /// itself, a destination that contains the source, the same entry, then the kinds.
    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        const METHOD: &str = "rename";
        let inner = &*self.inner;
        if from.is_root() || to.is_root() {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                METHOD,
                "the root cannot be renamed or replaced",
            )
            .with_path(if from.is_root() { from } else { to }));
        }
        let source_dir = inner.parent_dir(from, METHOD).await?;
        let target_dir = inner.parent_dir(to, METHOD).await?;
        let Some(source) = inner.tree.lookup(&source_dir, from, METHOD).await? else {
            return Err(
                FsError::new(ErrorKind::NotFound, METHOD, "the source does not exist")
                    .with_path(from),
            );
        };
        let moving_dir = matches!(source, Entry::Dir(_));
        if moving_dir && from != to && to.starts_with(from) {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                METHOD,
                "cannot move a directory into itself",
            )
            .with_path(to));
        }
        let existing = inner.tree.lookup(&target_dir, to, METHOD).await?;
        if existing.is_some() && from != to && from.starts_with(to) {
            return Err(FsError::new(
                ErrorKind::DirectoryNotEmpty,
                METHOD,
                "cannot replace a directory that contains the source",
            )
            .with_path(to));
        }
        if from == to {
            return Ok(());
        }
        let to_name = crate::names::stored(to.file_name().unwrap_or_default());
        match (source, existing) {
            (Entry::File(_), Some(Entry::Dir(_))) => Err(bad_resource(
                METHOD,
                to,
                "cannot replace a directory with a file",
            )),
            (Entry::Dir(_), Some(Entry::File(_))) => Err(bad_resource(
                METHOD,
                to,
                "cannot replace a file with a directory",
            )),
            (Entry::File(file), _) => {
                inner
                    .move_file(
                        &file,
                        &Source::Path(from.clone()),
                        &target_dir,
                        &to_name,
                        to,
                        METHOD,
                    )
                    .await
            }
            (Entry::Dir(_), existing) => {
                if let Some(Entry::Dir(dir)) = existing {
                    if !children(&dir, to, METHOD).await?.is_empty() {
                        return Err(FsError::new(
                            ErrorKind::DirectoryNotEmpty,
                            METHOD,
                            "the destination directory is not empty",
                        )
                        .with_path(to));
                    }
                    // Empty as the user sees it; what else is there is not the user's.
                    inner.tree_remove(to, true, METHOD).await?;
                }
                inner.tree.forget(to);
                inner.move_tree(from, to, METHOD).await
            }
        }
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        const METHOD: &str = "copyFile";
        let inner = &*self.inner;
        let source = inner.tree.file(from, false, METHOD).await?;
        if from == to {
            return Ok(());
        }
        if let Some(open) = inner.nodes.access(to) {
            return inner
                .copy_into_access(&source, from, &open, to, METHOD)
                .await;
        }
        let target = inner.tree.file(to, true, METHOD).await?;
        inner
            .copy_bytes(&source, Some(from), &target, to, METHOD)
            .await
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        read_all(&self.inner, path, "readFile").await
    }

    /// Effect's open rules, in `MemoryFs`'s (and Linux's) order: `/` and other directories
    /// (`AlreadyExists` for an exclusive flag, else `BadResource`), a missing file without a
    /// creating flag (`NotFound`), then the read-only flag `r` (`BadResource`).
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        const METHOD: &str = "writeFile";
        let inner = &*self.inner;
        let flag = options.flag;
        if path.is_root() {
            return Err(if flag.exclusive() {
                already_exists(METHOD, path, "the root exists")
            } else {
                bad_resource(METHOD, path, "the root is a directory")
            });
        }
        if !flag.writable() {
            return Err(match inner.kind_of(path, METHOD).await? {
                None => FsError::new(ErrorKind::NotFound, METHOD, "no such file").with_path(path),
                Some(FileType::Directory) => bad_resource(METHOD, path, "the path is a directory"),
                Some(_) => bad_resource(
                    METHOD,
                    path,
                    "the flag \"r\" opens the file read-only; use w, a or r+ to write",
                ),
            });
        }
        if let Some(open) = inner.nodes.access(path) {
            // A writable handle holds the file: write where it sees the bytes.
            if flag.exclusive() {
                return Err(already_exists(
                    METHOD,
                    path,
                    &format!("{flag} needs a path that does not exist"),
                ));
            }
            return Inner::write_through_access(&open, &data, flag, path, METHOD);
        }
        if inner.strategy == Strategy::SyncAccess && flag.truncates() {
            // A sync access handle of a temporary file moved over the path: much faster than a
            // writable stream for large files, and nothing is visible before the move.
            let mode = if flag.exclusive() {
                SinkMode::CreateNew
            } else {
                SinkMode::Replace
            };
            let mut sink = open_sink(&self.inner, path, mode, true)
                .await
                .map_err(|e| e.in_method(METHOD))?;
            sink.write(data).await.map_err(|e| e.in_method(METHOD))?;
            return sink.close().await.map_err(|e| e.in_method(METHOD));
        }
        inner
            .tree
            .with_parent(path, METHOD, |dir, name| {
                let data = &data;
                async move {
                    if flag.exclusive() && inner.tree.lookup(&dir, path, METHOD).await?.is_some() {
                        return Err(already_exists(
                            METHOD,
                            path,
                            &format!("{flag} needs a path that does not exist"),
                        ));
                    }
                    // One call, as a direct `getFileHandle({ create })` would do (looking first
                    // costs a browser round trip per new file); whether the call created the file
                    // matters only when the write fails (see `created_by_this_call`).
                    let started = js_sys::Date::now();
                    let options = web_sys::FileSystemGetFileOptions::new();
                    options.set_create(flag.creates());
                    let handle: FileSystemFileHandle =
                        resolve(dir.get_file_handle_with_options(&name, &options))
                            .await
                            .fs(METHOD, path)?;
                    let keep = if flag.truncates() {
                        None
                    } else if flag.appends() {
                        Some(None)
                    } else {
                        Some(Some(0))
                    };
                    let written = inner
                        .write_through_stream(&handle, data, keep, path, METHOD)
                        .await;
                    if written.is_err()
                        && flag.creates()
                        && created_by_this_call(&handle, started).await
                    {
                        let _ = settle(dir.remove_entry(&name)).await;
                    }
                    written
                }
            })
            .await
    }

    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        const METHOD: &str = "truncate";
        let inner = &*self.inner;
        if let Some(open) = inner.nodes.access(path) {
            open.truncate_with_f64(len as f64).fs(METHOD, path)?;
            return open.flush().fs(METHOD, path);
        }
        let handle = inner.tree.file(path, false, METHOD).await?;
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(true);
        let stream: FileSystemWritableFileStream =
            while_locked(inner.lock_timeout, METHOD, path, || {
                resolve(handle.create_writable_with_options(&options))
            })
            .await?;
        let result = async {
            settle(stream.truncate_with_f64(len as f64).fs(METHOD, path)?)
                .await
                .fs(METHOD, path)?;
            settle(stream.close()).await.fs(METHOD, path)
        }
        .await;
        if result.is_err() {
            let _ = settle(stream.abort()).await;
        }
        result
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        if !options.flag.writable() {
            return open_read_only(&self.inner, path).await;
        }
        if self.inner.strategy != Strategy::SyncAccess {
            return Err(FsError::unsupported("open", BACKEND).with_path(path));
        }
        open_sync(&self.inner, path, options.flag).await
    }

    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        stream_file(&self.inner, path, options).await
    }

    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        open_sink(&self.inner, path, options.mode, false).await
    }

    fn remove_detached(&self, path: &VPath) {
        let fs = self.clone();
        let path = path.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let options = RemoveOptions {
                recursive: true,
                force: true,
            };
            let _ = fs.remove(&path, options).await;
        });
    }

    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        self.stat(path).await.map_err(|e| e.in_method("realPath"))?;
        Ok(path.clone())
    }

    async fn chmod(&self, path: &VPath, _mode: u32) -> FsResult<()> {
        Err(FsError::unsupported("chmod", BACKEND).with_path(path))
    }

    async fn chown(&self, path: &VPath, _uid: u32, _gid: u32) -> FsResult<()> {
        Err(FsError::unsupported("chown", BACKEND).with_path(path))
    }

    async fn utimes(&self, path: &VPath, _atime: SystemTime, _mtime: SystemTime) -> FsResult<()> {
        Err(FsError::unsupported("utimes", BACKEND).with_path(path))
    }

    async fn link(&self, from: &VPath, _to: &VPath) -> FsResult<()> {
        Err(FsError::unsupported("link", BACKEND).with_path(from))
    }

    async fn symlink(&self, _target: &str, link: &VPath) -> FsResult<()> {
        Err(FsError::unsupported("symlink", BACKEND).with_path(link))
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        Err(FsError::unsupported("readLink", BACKEND).with_path(path))
    }

    async fn watch(&self, path: &VPath, _options: WatchOptions) -> FsResult<WatchStream> {
        Err(FsError::unsupported("watch", BACKEND).with_path(path))
    }
}

/// After a failed write through `getFileHandle({ create: true })`: whether that call created the
/// file, so that removing it leaves things as they were. A writable stream changes nothing before
/// it commits, so the file the call created is still empty, and its modification time is not older
/// than the call (two seconds of slack for coarse file-system clocks). An empty file that existed
/// already and was itself created within those two seconds is removed as well: the one case this
/// test gets wrong, at the price of a failed write.
async fn created_by_this_call(handle: &FileSystemFileHandle, started_ms: f64) -> bool {
    match resolve::<web_sys::File>(handle.get_file()).await {
        Ok(file) => file.size() == 0.0 && file.last_modified() >= started_ms - 2000.0,
        Err(_) => false,
    }
}

/// True when a thrown value says a `File` snapshot is stale: `NotReadableError` (the file
/// changed) or `NotFoundError` (the file moved away, for example into the internal directory
/// while a handle holds it).
pub(crate) fn is_stale(err: &wasm_bindgen::JsValue) -> bool {
    matches!(js_name(err).as_str(), "NotReadableError" | "NotFoundError")
}
