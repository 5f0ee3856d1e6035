//! [`OpfsFs`]: the [`FileSystem`] implementation.

use std::rc::Rc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, ErrorKind, File, FileInfo, FileSystem,
    FileType, FsError, FsResult, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkMode, SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions, WatchStream, WriteSink,
};
use wasm_bindgen::JsCast;
use web_sys::{
    FileSystemCreateWritableOptions, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemRemoveOptions, FileSystemWritableFileStream,
};

use crate::error::{js_name, JsResultExt};
use crate::file::{open_read_only, open_sync};
use crate::js::{self, js_bytes, resolve, settle, MovableFileHandle};
use crate::locks::Locks;
use crate::read::{read_all, snapshot};
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
    /// How long a call waits for a sync access handle of this instance to close before `Busy`
    /// (default 10 s).
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
/// Cloning is cheap: clones share the directory cache and the lock table. It is not `Send`
/// (browser handles live on one thread); use it from the thread (page or worker) that opened it.
#[derive(Clone)]
pub struct OpfsFs {
    pub(crate) inner: Rc<Inner>,
}

/// The state shared by an [`OpfsFs`], its open files, sinks and streams.
pub(crate) struct Inner {
    pub(crate) tree: Tree,
    pub(crate) locks: Locks,
    pub(crate) strategy: Strategy,
    pub(crate) use_move: bool,
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
        Ok(OpfsFs {
            inner: Rc::new(Inner {
                tree: Tree::new(root),
                locks: Locks::new(options.lock_timeout),
                strategy,
                use_move: options.use_move && js::move_available(),
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
            .with_parent(path, method, |dir, name| async move {
                self.tree.lookup(&dir, &name, path, method).await
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
            resolve(handle.create_writable_with_options(&options))
                .await
                .fs(method, path)?;
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

    /// Copies the bytes of `from` over `to` (created when missing) in one writable stream.
    pub(crate) async fn copy_bytes(
        &self,
        from: &FileSystemFileHandle,
        from_path: &VPath,
        to: &FileSystemFileHandle,
        to_path: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        if let Some(open) = self.locks.handle(from_path) {
            open.flush().fs(method, from_path)?;
        }
        let source = snapshot(from, from_path, method).await?;
        let stream: FileSystemWritableFileStream =
            resolve(to.create_writable()).await.fs(method, to_path)?;
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

    /// Moves the file `handle` to `name` in `dir`, replacing a file there: `move()` when enabled,
    /// else copy and remove.
    pub(crate) async fn move_file(
        &self,
        handle: &FileSystemFileHandle,
        from: &VPath,
        dir: &FileSystemDirectoryHandle,
        name: &str,
        to: &VPath,
        method: &'static str,
    ) -> FsResult<()> {
        if self.use_move {
            let movable: &MovableFileHandle = handle.unchecked_ref();
            return settle(movable.move_to(dir, name).fs(method, to)?)
                .await
                .fs(method, to);
        }
        let options = web_sys::FileSystemGetFileOptions::new();
        options.set_create(true);
        let target: FileSystemFileHandle =
            resolve(dir.get_file_handle_with_options(name, &options))
                .await
                .fs(method, to)?;
        self.copy_bytes(handle, from, &target, to, method).await?;
        self.remove_entry(from, false, method).await
    }

    /// `removeEntry` of `path` in its parent.
    pub(crate) async fn remove_entry(
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
                settle(dir.remove_entry_with_options(&name, &options))
                    .await
                    .fs(method, path)
            })
            .await?;
        self.tree.forget(path);
        Ok(())
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
                    self.move_file(&file, &from_child, &target, &name, &to_child, method)
                        .await?;
                }
            }
        }
        self.remove_entry(from, true, method).await
    }
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
        if let Some(open) = inner.locks.handle(path) {
            let size = open.get_size().fs("stat", path)?;
            return Ok(FileInfo::basic(FileType::File, size as u64));
        }
        inner
            .tree
            .with_parent(path, "stat", |dir, name| async move {
                match inner.tree.lookup(&dir, &name, path, "stat").await? {
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
            return inner.tree.dir(path, true, METHOD).await.map(|_| ());
        }
        if path.is_root() {
            return Err(
                FsError::new(ErrorKind::AlreadyExists, METHOD, "the root exists").with_path(path),
            );
        }
        inner
            .tree
            .with_parent(path, METHOD, |dir, name| async move {
                if inner
                    .tree
                    .lookup(&dir, &name, path, METHOD)
                    .await?
                    .is_some()
                {
                    return Err(
                        FsError::new(ErrorKind::AlreadyExists, METHOD, "the path exists")
                            .with_path(path),
                    );
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
        let inner = &*self.inner;
        inner.locks.wait_free(path, true, METHOD).await?;
        match inner.remove_entry(path, options.recursive, METHOD).await {
            Err(e) if e.kind() == ErrorKind::NotFound && options.force => Ok(()),
            other => other,
        }
    }

    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        const METHOD: &str = "rename";
        let inner = &*self.inner;
        let Some(kind) = inner.kind_of(from, METHOD).await? else {
            return Err(
                FsError::new(ErrorKind::NotFound, METHOD, "the source does not exist")
                    .with_path(from),
            );
        };
        if from == to {
            return Ok(());
        }
        let is_dir = kind == FileType::Directory;
        if is_dir && to.starts_with(from) {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                METHOD,
                "cannot move a directory into itself",
            )
            .with_path(to));
        }
        inner.locks.wait_free(from, is_dir, METHOD).await?;
        inner.locks.wait_free(to, true, METHOD).await?;
        let (Some(to_parent), Some(to_name)) = (to.parent(), to.file_name()) else {
            return Err(bad_resource(METHOD, to, "the root is a directory"));
        };
        let target_dir = inner.tree.dir(&to_parent, false, METHOD).await?;
        let existing = inner.tree.lookup(&target_dir, to_name, to, METHOD).await?;
        if !is_dir {
            if let Some(Entry::Dir(_)) = existing {
                return Err(bad_resource(
                    METHOD,
                    to,
                    "cannot replace a directory with a file",
                ));
            }
            let file = inner.tree.file(from, false, METHOD).await?;
            return inner
                .move_file(&file, from, &target_dir, to_name, to, METHOD)
                .await;
        }
        match existing {
            Some(Entry::File(_)) => {
                return Err(bad_resource(
                    METHOD,
                    to,
                    "cannot replace a file with a directory",
                ))
            }
            Some(Entry::Dir(dir)) => {
                if !children(&dir, to, METHOD).await?.is_empty() {
                    return Err(FsError::new(
                        ErrorKind::DirectoryNotEmpty,
                        METHOD,
                        "the destination directory is not empty",
                    )
                    .with_path(to));
                }
                inner.remove_entry(to, false, METHOD).await?;
            }
            None => {}
        }
        inner.tree.forget(to);
        inner.move_tree(from, to, METHOD).await
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        const METHOD: &str = "copyFile";
        let inner = &*self.inner;
        let source = inner.tree.file(from, false, METHOD).await?;
        if from == to {
            return Ok(());
        }
        inner.locks.wait_free(to, false, METHOD).await?;
        let target = inner.tree.file(to, true, METHOD).await?;
        inner.copy_bytes(&source, from, &target, to, METHOD).await
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        read_all(&self.inner, path, "readFile").await
    }

    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        const METHOD: &str = "writeFile";
        let inner = &*self.inner;
        let flag = options.flag;
        if path.is_root() {
            return Err(bad_resource(METHOD, path, "the root is a directory"));
        }
        if inner.strategy == Strategy::SyncAccess && flag.truncates() {
            // A sync access handle of a temporary sibling moved over the path: much faster than a
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
        inner.locks.wait_free(path, false, METHOD).await?;
        inner
            .tree
            .with_parent(path, METHOD, |dir, name| {
                let data = &data;
                async move {
                    if flag.exclusive()
                        && inner
                            .tree
                            .lookup(&dir, &name, path, METHOD)
                            .await?
                            .is_some()
                    {
                        return Err(FsError::new(
                            ErrorKind::AlreadyExists,
                            METHOD,
                            format!("{flag} needs a path that does not exist"),
                        )
                        .with_path(path));
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
        inner.locks.wait_free(path, false, METHOD).await?;
        let handle = inner.tree.file(path, false, METHOD).await?;
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(true);
        let stream: FileSystemWritableFileStream =
            resolve(handle.create_writable_with_options(&options))
                .await
                .fs(METHOD, path)?;
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

/// True when a thrown value is the `NotReadableError` of a stale `File` snapshot.
pub(crate) fn is_stale(err: &wasm_bindgen::JsValue) -> bool {
    js_name(err) == "NotReadableError"
}
