//! `fs-native`: the tokio backend of [`fs_core::FileSystem`], for Unix.
//!
//! [`NativeFs`] maps the [`VPath`] namespace onto a directory of the local disk: `/a/b` is
//! `root/a/b`. Every call runs its system calls on tokio's blocking pool (one hop per call, however
//! many system calls it makes), so a runtime must be running; errors carry the [`VPath`] and Effect's
//! method name, never the OS path.
//!
//! ```
//! use fs_core::{FileSystem, MakeDirOptions, OpenOptions, VPath};
//! use fs_native::NativeFs;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir()?;
//! let fs = NativeFs::new(dir.path());
//! fs.make_dir(&VPath::new("/notes")?, MakeDirOptions::default()).await?;
//! let path = VPath::new("/notes/today.txt")?;
//! fs.write_file_string(&path, "hello", OpenOptions::write()).await?;
//! assert_eq!(fs.read_file_string(&path).await?, "hello");
//! assert_eq!(std::fs::read(dir.path().join("notes/today.txt"))?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Durability
//!
//! Calls that create or change content or names are durable when they return (the data and the
//! directory entries have been fsynced); calls that only delete or change metadata are not, and
//! [`File`] handles are durable only at [`File::sync`]:
//!
//! | call | when it returns |
//! |---|---|
//! | `write_file` with `w`, `w+`, `wx`, `wx+`, `ax`, `ax+` | atomic replace: the bytes were written to a temporary sibling, fsynced, renamed over the target (linked, for the exclusive flags), and the parent directory fsynced. Readers see the old file or the new one, never a part |
//! | `write_file` with `a`, `a+` | appended in place and fsynced (the parent directory too when the file was created); readers may see a partial append |
//! | `write_file` with `r+` | overwritten in place from offset 0 and fsynced; readers may see a partial write |
//! | [`WriteSink::close`] | like `write_file` with `w`; appending, the file's bytes as they are at close followed by the new ones, joined in a second temporary file |
//! | `copy_file` (and so `copy`) | like `write_file` with `w`, with the source's permissions |
//! | `truncate` | changed in place and fsynced |
//! | `rename` | atomic; both parent directories fsynced |
//! | `make_dir`, `link`, `symlink` | the parent of every created name fsynced |
//! | `remove`, `chmod`, `chown`, `utimes` | visible at once, not fsynced: a crash may undo them |
//! | [`File::write`], [`File::truncate`] | in the OS page cache (visible to every reader at once) until [`File::sync`] |
//! | [`File::sync`] | fsync of the file's data and metadata |
//! | [`File::close`] | releases the handle; no fsync |
//!
//! # Temporary files
//!
//! Atomic writes stage their bytes in a hidden sibling of the target named
//! `.{name}.{16 hex}.fsync-tmp`. It is visible to `read_dir` while a write or a sink is open, is
//! removed when the write fails or the sink is aborted or dropped, and is left behind only by a
//! crash.
//!
//! An atomic replace puts a new file (a new inode) at the path: its permission bits are copied from
//! the old file, but its owner is the caller, other hard links to the old file keep the old bytes,
//! and a watch on the old file (not its directory) ends. The exclusive flags and
//! [`fs_core::SinkMode::CreateNew`] commit with `link(2)`, so they need a file system with hard
//! links (every usual Linux one has them).
//!
//! # Namespace and links
//!
//! Paths never leave the root lexically ([`VPath`] has no `..`), but the OS follows symbolic links
//! wherever they point. [`FileSystem::symlink`] keeps links inside the namespace: an absolute target
//! `/x` is stored as `root/x` (and [`FileSystem::read_link`] maps it back to `/x`), and a relative
//! target that climbs above the root is refused. [`FileSystem::real_path`] answers `BadArgument`
//! for a path that resolves outside the root.
//!
//! [`File`]: fs_core::File
//! [`File::sync`]: fs_core::File::sync
//! [`File::write`]: fs_core::File::write
//! [`File::truncate`]: fs_core::File::truncate
//! [`File::close`]: fs_core::File::close
//! [`WriteSink::close`]: fs_core::WriteSink::close

#[cfg(not(unix))]
compile_error!("fs-native supports Unix only");

mod access;
mod attributes;
mod blocking;
mod copy_file;
mod durable;
mod file;
mod info;
mod links;
mod make_dir;
mod read_dir;
mod read_file;
mod read_stream;
mod real_path;
mod remove;
mod rename;
mod stat;
mod truncate;
mod watch;
mod write_file;
mod write_sink;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, File, FileInfo, FileSystem, FsResult,
    MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions, StreamOptions,
    SystemTime, VPath, WatchOptions, WatchStream, WriteSink,
};

pub use file::NativeFile;
pub use read_stream::MAX_CHUNK_SIZE;
pub use write_sink::NativeSink;

/// A [`FileSystem`] over a directory of the local disk.
///
/// The [`VPath`] `/a/b` is `root/a/b`; `NativeFs::new("/")` works on real absolute paths. Cloning is
/// cheap and clones share nothing but the root.
#[derive(Debug, Clone)]
pub struct NativeFs {
    root: Arc<Path>,
    temp_dir: Option<VPath>,
}

impl NativeFs {
    /// A file system rooted at `root`, which should exist (calls fail with `NotFound` otherwise).
    ///
    /// A relative `root` is made absolute against the current directory now, so that later changes
    /// of the current directory do not move the namespace. Nothing is checked or created here.
    ///
    /// ```
    /// use fs_core::VPath;
    /// use fs_native::NativeFs;
    ///
    /// let fs = NativeFs::new("/srv/data");
    /// assert_eq!(fs.os_path(&VPath::new("/a/b")?), std::path::Path::new("/srv/data/a/b"));
    /// let real = NativeFs::new("/");
    /// assert_eq!(real.os_path(&VPath::new("/etc/hosts")?), std::path::Path::new("/etc/hosts"));
    /// # Ok::<(), fs_core::FsError>(())
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> NativeFs {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        NativeFs {
            root: root.into(),
            temp_dir: None,
        }
    }

    /// Uses `dir` instead of `/tmp` as the default directory of `make_temp_dir` and `make_temp_file`.
    pub fn with_temp_dir(mut self, dir: VPath) -> NativeFs {
        self.temp_dir = Some(dir);
        self
    }

    /// The directory this file system is rooted at (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The OS path that `path` names: the root followed by the path's segments.
    pub fn os_path(&self, path: &VPath) -> PathBuf {
        let mut out = self.root.to_path_buf();
        out.extend(path.segments());
        out
    }

    /// The [`VPath`] of an OS path below `root`, or `None` when it is outside `root` or one of its
    /// names is not a valid [`VPath`] segment.
    fn vpath_below(root: &Path, os: &Path) -> Option<VPath> {
        let rest = os.strip_prefix(root).ok()?;
        let mut out = VPath::root();
        for component in rest.components() {
            match component {
                Component::Normal(name) => out = out.join(name.to_str()?).ok()?,
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(out)
    }
}

#[async_trait]
impl FileSystem for NativeFs {
    /// Everything but atomic whole-file writes: symlinks, hard links, permissions, ownership,
    /// times, watch, atomic renames, random-access writes and durable syncs. `write_file` truncates
    /// and writes the file in place (open handles see it), so a reader can see a prefix.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            atomic_write_file: false,
            ..Capabilities::ALL
        }
    }

    /// Checks with `access(2)` (links followed) that `path` exists and, when asked, is readable or
    /// writable; as root only a read-only mount refuses a write. Errors: `NotFound`,
    /// `PermissionDenied`, `BadResource` for a file in the middle of the path.
    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
        access::access(self, path, options).await
    }

    /// `stat(2)` with every [`FileInfo`] field filled; a dangling symbolic link is reported as itself
    /// (`SymbolicLink`). Errors: `NotFound`, `BadResource` for a file in the middle of the path.
    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        stat::stat(self, path).await
    }

    /// Lists a directory (or its whole tree), sorted by relative path; links are listed as
    /// `SymbolicLink` and not followed. Errors: `NotFound`, `BadResource` for a file, `InvalidData`
    /// for an entry whose name is not a valid [`VPath`] segment (not UTF-8, a backslash).
    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        read_dir::read_dir(self, path, options).await
    }

    /// `mkdir(2)` (the mode less the umask), then fsyncs the parent of every created directory.
    /// Errors: `AlreadyExists` (an existing path without `recursive`, or a non-directory), `NotFound`
    /// for a missing parent without `recursive`, `BadResource` for a file in the middle of the path.
    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        make_dir::make_dir(self, path, options).await
    }

    /// Removes a file, link (not followed) or directory (a non-empty one only with `recursive`); not
    /// fsynced. Errors: `BadArgument` for `/`, `NotFound` unless `force`, `DirectoryNotEmpty`,
    /// `BadResource` for a file in the middle of the path.
    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        remove::remove(self, path, options).await
    }

    /// `rename(2)`, atomic; both parent directories are fsynced. Errors: `BadArgument` for `/` or a
    /// directory moved into itself, `NotFound`, `DirectoryNotEmpty` over a non-empty directory,
    /// `BadResource` between a file and a directory.
    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        rename::rename(self, from, to).await
    }

    /// Copies into a temporary sibling of `to` (in the kernel where it can), fsyncs it and renames it
    /// over `to` (atomic and durable, like `write_file`); the copy gets the source's permission
    /// bits. Errors: `NotFound`, `BadResource` when either path is a directory.
    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        copy_file::copy_file(self, from, to).await
    }

    /// Reads the whole file. Errors: `NotFound`, `BadResource` for a directory.
    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        read_file::read_file(self, path).await
    }

    /// Writes a whole file. `w`, `w+`, `wx`, `wx+`, `ax`, `ax+` replace atomically and durably (see
    /// the crate docs; an existing file's permission bits are kept, a new one gets `mode`); `a`, `a+`
    /// append in place and `r+` overwrites in place, both fsynced. Errors: `AlreadyExists` for an
    /// exclusive flag on an existing path, `NotFound` for a missing parent (or file with `r+`),
    /// `BadResource` for a directory and for the flag `r`.
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        write_file::write_file(self, path, data, options).await
    }

    /// Sets a file's length in place (zero-filling when it grows) and fsyncs it. Errors: `NotFound`,
    /// `BadResource` for a directory.
    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        truncate::truncate(self, path, len).await
    }

    /// Opens a [`NativeFile`]: positional I/O with its own cursor, durable at `sync`. Errors:
    /// `NotFound` (`r`, `r+`, or a missing parent), `AlreadyExists` for an exclusive flag,
    /// `BadResource` for a directory.
    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let file = file::open(self, path, options).await?;
        Ok(Box::new(file))
    }

    /// Opens the file now and streams it in chunks of exactly `chunk_size` bytes (at most
    /// [`MAX_CHUNK_SIZE`]; the last may be shorter). Errors: `BadArgument` for a zero chunk size,
    /// `NotFound`, `BadResource` for a directory; a read error is the stream's last item.
    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        read_stream::read_stream(self, path, options).await
    }

    /// Opens a [`NativeSink`] staging its bytes in a temporary sibling; committed atomically and
    /// durably on close, discarded on abort or drop. Errors: `NotFound` for a missing parent,
    /// `BadResource` for a directory, `AlreadyExists` for [`fs_core::SinkMode::CreateNew`] on an
    /// existing path.
    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let sink = write_sink::open_sink(self, path, options).await?;
        Ok(Box::new(sink))
    }

    /// `/tmp` inside the root, or the directory given to [`NativeFs::with_temp_dir`].
    fn temp_dir(&self) -> VPath {
        match &self.temp_dir {
            Some(dir) => dir.clone(),
            None => VPath::new("/tmp").unwrap_or_else(|_| VPath::root()),
        }
    }

    /// Removes `path` (recursively) right away with blocking calls, ignoring errors: it runs in
    /// `Drop` of the temp guards, and blocks the calling thread for as long as the removal takes.
    /// The root itself is never removed.
    fn remove_detached(&self, path: &VPath) {
        remove::remove_now(self, path);
    }

    /// Resolves every link (`realpath(3)`) and answers with the path inside the namespace. Errors:
    /// `NotFound`, `BadArgument` when the path resolves outside the root.
    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        real_path::real_path(self, path).await
    }

    /// `chmod(2)`, links followed; not fsynced. Errors: `NotFound`, `PermissionDenied`.
    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        attributes::chmod(self, path, mode).await
    }

    /// `chown(2)`, links followed; not fsynced. Errors: `NotFound`, `PermissionDenied` (unless root).
    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        attributes::chown(self, path, uid, gid).await
    }

    /// Sets access and modification times (`futimens(2)` on a read-only handle, so directories work
    /// too), links followed; not fsynced. Errors: `NotFound`, `PermissionDenied`.
    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        attributes::utimes(self, path, atime, mtime).await
    }

    /// `link(2)`, then fsyncs `to`'s directory. Errors: `NotFound`, `AlreadyExists`,
    /// `PermissionDenied` for a directory.
    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        links::link(self, from, to).await
    }

    /// Creates a symbolic link, then fsyncs its directory. An absolute `target` is a path of this
    /// namespace (`/x` is stored as `root/x`); a relative one is stored as given. Errors:
    /// `BadArgument` for an absolute target that is not a valid [`VPath`] or a relative one that
    /// climbs above the root, `AlreadyExists`, `NotFound` for a missing parent or an empty target.
    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        links::symlink(self, target, link).await
    }

    /// The target as given to `symlink` (`root/x` back as `/x`). Errors: `NotFound`, `BadArgument`
    /// for a path that is not a link, `InvalidData` for a target outside the root.
    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        links::read_link(self, path).await
    }

    /// Watches with inotify (through `notify`) until the stream is dropped: created and moved-in names
    /// are `Create`, content and metadata changes `Update`, removed and moved-away names `Remove`.
    /// Errors: `NotFound` for a missing path; watcher failures (e.g. the inotify limit) as items.
    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream> {
        watch::watch(self, path, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_paths_below_the_root_map_back_to_vpaths() {
        let root = Path::new("/srv/root");
        let below = |os: &str| NativeFs::vpath_below(root, Path::new(os));
        assert_eq!(below("/srv/root/a/b"), Some(VPath::new("/a/b").unwrap()));
        assert_eq!(below("/srv/root"), Some(VPath::root()));
        assert_eq!(below("/srv/rootx/a"), None);
        assert_eq!(below("/srv/root/a/../b"), None);
        assert_eq!(below("/srv/root/back\\slash"), None);
    }
}
