//! [`OpfsFs`]: the [`FileSystem`] implementation.

use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, ErrorKind, File, FileInfo, FileSystem,
    FileType, FsError, FsResult, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkMode, SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions, WatchStream, WriteSink,
};
use wasm_bindgen::JsCast;
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle};

use crate::error::JsResultExt;
use crate::file::{open_read_only, open_sync};
use crate::inner::{stream_call, Inner};
use crate::internal::Internal;
use crate::js::{self, resolve, settle};
use crate::method::FsMethod;
use crate::nodes::{Nodes, Source};
use crate::options::{OpfsOptions, Strategy};
use crate::read::{blob_range, file_info, handle_range, is_stale, snapshot};
use crate::sink::open_sink;
use crate::stream::stream_file;
use crate::tree::{children, is_dir, Entry, Tree};

/// A [`FileSystem`] over the Origin Private File System.
///
/// Cloning is cheap: clones share the directory cache and the table of open files. It is not
/// `Send` (browser handles live on one thread); use it from the thread (page or worker) that
/// opened it.
#[derive(Clone)]
pub struct OpfsFs {
    pub(crate) inner: Rc<Inner>,
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
        let unsupported = |why: String| {
            FsMethod::Open
                .error(ErrorKind::Unsupported, why)
                .with_path(&root_path)
        };
        let storage =
            js::storage_manager().map_err(|e| unsupported(crate::error::describe(&e).1))?;
        let opfs: FileSystemDirectoryHandle = resolve(storage.get_directory())
            .await
            .fs(FsMethod::Open, &root_path)?;
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
        let root = outer.dir(&root_path, true, FsMethod::Open).await?;
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

    /// A `File` snapshot of the file at `path`: a Blob the browser reads from disk when it is used
    /// (an XHR or fetch body, `URL.createObjectURL`, `Blob.slice`), so the bytes never pass through
    /// wasm memory or the JS heap. It shows the file as it is now; reading it after the file
    /// changed fails in the browser (`NotReadableError`). `NotFound` when there is no file,
    /// `BadResource` for a directory, `Busy` while a file this instance holds through a writable
    /// handle (sync access handles) is open: read it after closing the handle.
    pub async fn file_blob(&self, path: &VPath) -> FsResult<web_sys::File> {
        const METHOD: FsMethod = FsMethod::ReadFile;
        if path.is_root() {
            return Err(bad_resource(METHOD, path, "the root is a directory"));
        }
        if self.inner.nodes.access(path).is_some() {
            return Err(METHOD
                .error(
                    ErrorKind::Busy,
                    "a writable handle of this instance holds the file: close it first",
                )
                .with_path(path));
        }
        let handle = self.inner.tree.file(path, false, METHOD).await?;
        snapshot(&handle, path, METHOD).await
    }

    /// How many directory handles are cached (diagnostics; the cache has no size limit, one
    /// handle per directory this instance has seen).
    pub fn cached_dirs(&self) -> usize {
        self.inner.tree.cached()
    }
}

fn dir_info() -> FileInfo {
    FileInfo::basic(FileType::Directory, 0)
}

fn bad_resource(method: FsMethod, path: &VPath, why: &str) -> FsError {
    method
        .error(ErrorKind::BadResource, why.to_owned())
        .with_path(path)
}

fn already_exists(method: FsMethod, path: &VPath, why: &str) -> FsError {
    method
        .error(ErrorKind::AlreadyExists, why.to_owned())
        .with_path(path)
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
            // A writable stream commits its swap file on close; with sync access handles the
            // content is written to a temporary file moved over the path, atomic when `move` is.
            atomic_write_file: self.inner.strategy != Strategy::SyncAccess || self.inner.use_move,
            random_access_write: self.inner.strategy == Strategy::SyncAccess,
            durable_sync: false,
            real_path: true,
        }
    }

    async fn access(&self, path: &VPath, _options: AccessOptions) -> FsResult<()> {
        self.stat(path)
            .await
            .map(|_| ())
            .map_err(|e| e.in_method(FsMethod::Access.as_str()))
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        let inner = &*self.inner;
        if path.is_root() {
            return Ok(dir_info());
        }
        if let Some(open) = inner.nodes.access(path) {
            let size = open.get_size().fs(FsMethod::Stat, path)?;
            return Ok(FileInfo::basic(FileType::File, size as u64));
        }
        inner
            .tree
            .with_parent(path, FsMethod::Stat, |dir, _| async move {
                match inner.tree.lookup(&dir, path, FsMethod::Stat).await? {
                    Some(Entry::File(file)) => {
                        Ok(file_info(&snapshot(&file, path, FsMethod::Stat).await?))
                    }
                    Some(Entry::Dir(_)) => Ok(dir_info()),
                    None => Err(FsMethod::Stat
                        .error(ErrorKind::NotFound, "no such file or directory")
                        .with_path(path)),
                }
            })
            .await
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        let tree = &self.inner.tree;
        let top = tree.dir(path, false, FsMethod::ReadDirectory).await?;
        let mut out = Vec::new();
        let mut pending = vec![(top, path.clone(), String::new())];
        while let Some((dir, dir_path, prefix)) = pending.pop() {
            for (name, handle) in children(&dir, &dir_path, FsMethod::ReadDirectory).await? {
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
        const METHOD: FsMethod = FsMethod::MakeDirectory;
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
        const METHOD: FsMethod = FsMethod::Remove;
        if path.is_root() {
            return Err(METHOD
                .error(ErrorKind::BadArgument, "refusing to remove the root")
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
        const METHOD: FsMethod = FsMethod::Rename;
        let inner = &*self.inner;
        if from.is_root() || to.is_root() {
            return Err(METHOD
                .error(
                    ErrorKind::BadArgument,
                    "the root cannot be renamed or replaced",
                )
                .with_path(if from.is_root() { from } else { to }));
        }
        inner.parent_dir(from, METHOD).await?;
        let target_dir = inner.parent_dir(to, METHOD).await?;
        // The source is looked up through `with_parent`, which walks again when a cached parent
        // turns out stale (another tab replaced the directory).
        let source = inner
            .tree
            .with_parent(from, METHOD, |dir, _| async move {
                inner.tree.lookup(&dir, from, METHOD).await?.ok_or_else(|| {
                    METHOD
                        .error(ErrorKind::NotFound, "the source does not exist")
                        .with_path(from)
                })
            })
            .await?;
        let moving_dir = matches!(source, Entry::Dir(_));
        if moving_dir && from != to && to.starts_with(from) {
            return Err(METHOD
                .error(
                    ErrorKind::BadArgument,
                    "cannot move a directory into itself",
                )
                .with_path(to));
        }
        let existing = inner.tree.lookup(&target_dir, to, METHOD).await?;
        if existing.is_some() && from != to && from.starts_with(to) {
            return Err(METHOD
                .error(
                    ErrorKind::DirectoryNotEmpty,
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
                        return Err(METHOD
                            .error(
                                ErrorKind::DirectoryNotEmpty,
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
        const METHOD: FsMethod = FsMethod::CopyFile;
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
        read_all(&self.inner, path, FsMethod::ReadFile).await
    }

    /// Effect's open rules, in `MemoryFs`'s (and Linux's) order: `/` and other directories
    /// (`AlreadyExists` for an exclusive flag, else `BadResource`), a missing file without a
    /// creating flag (`NotFound`), then the read-only flag `r` (`BadResource`).
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        const METHOD: FsMethod = FsMethod::WriteFile;
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
                None => METHOD
                    .error(ErrorKind::NotFound, "no such file")
                    .with_path(path),
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
                .map_err(|e| e.in_method(METHOD.as_str()))?;
            sink.write(data)
                .await
                .map_err(|e| e.in_method(METHOD.as_str()))?;
            return sink.close().await.map_err(|e| e.in_method(METHOD.as_str()));
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
        const METHOD: FsMethod = FsMethod::Truncate;
        let inner = &*self.inner;
        if let Some(open) = inner.nodes.access(path) {
            open.truncate_with_f64(len as f64).fs(METHOD, path)?;
            return open.flush().fs(METHOD, path);
        }
        let handle = inner.tree.file(path, false, METHOD).await?;
        inner
            .through_writable(&handle, true, path, METHOD, |stream| async move {
                stream_call(stream.truncate_with_f64(len as f64), METHOD, path).await
            })
            .await
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        if !options.flag.writable() {
            return open_read_only(&self.inner, path).await;
        }
        if self.inner.strategy != Strategy::SyncAccess {
            return Err(FsMethod::Open.unsupported().with_path(path));
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
        self.stat(path)
            .await
            .map_err(|e| e.in_method(FsMethod::RealPath.as_str()))?;
        Ok(path.clone())
    }

    async fn chmod(&self, path: &VPath, _mode: u32) -> FsResult<()> {
        Err(FsMethod::Chmod.unsupported().with_path(path))
    }

    async fn chown(&self, path: &VPath, _uid: u32, _gid: u32) -> FsResult<()> {
        Err(FsMethod::Chown.unsupported().with_path(path))
    }

    async fn utimes(&self, path: &VPath, _atime: SystemTime, _mtime: SystemTime) -> FsResult<()> {
        Err(FsMethod::Utimes.unsupported().with_path(path))
    }

    async fn link(&self, from: &VPath, _to: &VPath) -> FsResult<()> {
        Err(FsMethod::Link.unsupported().with_path(from))
    }

    async fn symlink(&self, _target: &str, link: &VPath) -> FsResult<()> {
        Err(FsMethod::Symlink.unsupported().with_path(link))
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        Err(FsMethod::ReadLink.unsupported().with_path(path))
    }

    async fn watch(&self, path: &VPath, _options: WatchOptions) -> FsResult<WatchStream> {
        Err(FsMethod::Watch.unsupported().with_path(path))
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

/// The whole content of `path`.
pub(crate) async fn read_all(inner: &Inner, path: &VPath, method: FsMethod) -> FsResult<Bytes> {
    if path.is_root() {
        return Err(method
            .error(ErrorKind::BadResource, "the root is a directory")
            .with_path(path));
    }
    if let Some(open) = inner.nodes.access(path) {
        let size = open.get_size().fs(method, path)? as usize;
        return handle_range(&open, 0, size, path, method);
    }
    let handle = inner.tree.file(path, false, method).await?;
    for _ in 0..2 {
        let file = snapshot(&handle, path, method).await?;
        match blob_range(&file, 0, file.size() as u64).await {
            Err(e) if is_stale(&e) => continue,
            other => return other.fs(method, path),
        }
    }
    Err(method
        .error(ErrorKind::Busy, "the file kept changing while it was read")
        .with_path(path))
}
