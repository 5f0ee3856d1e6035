//! `fs-native`: the tokio backend of [`fs_core::FileSystem`], for Unix.
//!
//! [`NativeFs`] maps the [`VPath`] namespace onto a directory of the local disk: `/a/b` is
//! `root/a/b`. Every call runs its system calls on tokio's blocking pool (one hop per call, however
//! many system calls it makes), so a runtime must be running; errors carry the [`VPath`] and Effect's
//! method name, never the OS path.
//!
//! ```no_run
//! use fs_core::{FileSystem, OpenOptions, VPath};
//! use fs_native::NativeFs;
//! # async fn demo() -> Result<(), fs_core::FsError> {
//! let fs = NativeFs::new("/var/lib/my-app");
//! let path = VPath::new("/notes/today.txt")?;
//! fs.make_dir(&VPath::new("/notes")?, Default::default()).await?;
//! fs.write_file_string(&path, "hello", OpenOptions::write()).await?;
//! assert_eq!(fs.read_file_string(&path).await?, "hello");
//! # Ok(())
//! # }
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
//! | [`WriteSink::close`] | like `write_file` with `w` |
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
    /// of the current directory do not move the namespace.
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
    /// Everything: symlinks, hard links, permissions, ownership, times, watch, atomic renames,
    /// random-access writes and durable syncs.
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
        access::access(self, path, options).await
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        stat::stat(self, path).await
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        read_dir::read_dir(self, path, options).await
    }

    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        make_dir::make_dir(self, path, options).await
    }

    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        remove::remove(self, path, options).await
    }

    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        rename::rename(self, from, to).await
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        copy_file::copy_file(self, from, to).await
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        read_file::read_file(self, path).await
    }

    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        write_file::write_file(self, path, data, options).await
    }

    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        truncate::truncate(self, path, len).await
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let file = file::open(self, path, options).await?;
        Ok(Box::new(file))
    }

    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        read_stream::read_stream(self, path, options).await
    }

    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let sink = write_sink::open_sink(self, path, options).await?;
        Ok(Box::new(sink))
    }

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

    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        real_path::real_path(self, path).await
    }

    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        attributes::chmod(self, path, mode).await
    }

    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        attributes::chown(self, path, uid, gid).await
    }

    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        attributes::utimes(self, path, atime, mtime).await
    }

    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        links::link(self, from, to).await
    }

    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        links::symlink(self, target, link).await
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        links::read_link(self, path).await
    }

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
