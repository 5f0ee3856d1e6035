//! [`MemoryFs`]: a complete in-memory [`FileSystem`], and the oracle the other backends are compared
//! against.
//!
//! Layout: [`tree`] holds the namespace (inodes, entries, path resolution, bytes), [`ops`] the
//! operations of the trait on it, [`handle`] open files and read streams, [`sink`] write sinks and
//! [`watch`] watchers. The whole tree sits behind one `std::sync::Mutex`; every async method takes it,
//! works synchronously and releases it before returning, so it is never held across an `.await` and
//! works the same on a multi-threaded runtime and on single-threaded wasm32.

mod handle;
mod ops;
mod sink;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
mod tree;
mod watch;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use web_time::SystemTime;

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, FsResult};
use crate::file::{ByteStream, File, WatchStream, WriteSink};
use crate::filesystem::FileSystem;
use crate::info::{DirEntry, FileInfo};
use crate::options::{
    AccessOptions, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions,
    StreamOptions, WatchOptions,
};
use crate::path::VPath;

use handle::{InodeRef, MemoryFile};
use sink::MemorySink;
use tree::{fail, last_ino, Tree};

/// A file system that lives in memory, with the semantics of a POSIX file system as seen by root.
///
/// It implements every method of [`FileSystem`], including hard and symbolic links, permissions,
/// ownership, times and watching, so that it can stand in for any backend in tests and serve as the
/// oracle the property tests compare the native and OPFS backends against. Cloning is cheap: clones
/// share the same namespace.
///
/// Semantics worth knowing:
///
/// - **Root, not a user.** Permission bits are stored and reported but never enforced: `access` with
///   `readable`/`writable` succeeds whenever the path exists. `mode` options are stored as given
///   (no umask). `stat` reports POSIX type bits in `mode`: new files are `0o100644`, directories
///   `0o040755`, links `0o120777`; owner and group are `0`.
/// - **Inodes.** Open handles and read streams hold the inode, not the path: they keep working after
///   a rename or removal, and an unlinked file is freed when its last handle goes. Hard links share
///   bytes and metadata; `nlink` counts names (for a directory, 2 plus its subdirectories).
/// - **Links.** Symbolic link targets are stored as given; an absolute target (`/x`) is inside this
///   namespace, a relative one is resolved from the link's directory. `stat` and the other calls that
///   read or write content follow links (a dangling one is `NotFound`), while `remove`, `rename`,
///   `link`, `read_link` and `read_dir` act on the link itself. More than 40 links while resolving one
///   path is `BadArgument` (`ELOOP`).
/// - **Errors** have the kinds Linux would produce for the same call (`ENOTDIR` → `BadResource`,
///   `EISDIR` → `BadResource`, `ENOTEMPTY` → `DirectoryNotEmpty`, …). Opening a directory with any
///   flag is `BadResource`.
/// - **Sinks** commit like a temporary file renamed over the path: the path then names a new inode
///   (with the old permission bits; `permissions` applies only to a new file, like `open(2)`'s mode),
///   so hard links and open handles keep the old bytes.
/// - **Times** come from [`web_time::SystemTime`]; reads do not update `atime` (like `noatime`);
///   writes update `mtime`, and adding or removing an entry updates its directory's `mtime`.
/// - **Watching** is by path: see [`FileSystem::watch`] for what is reported.
/// - **Durability.** Nothing survives the process, so [`Capabilities::durable_sync`] is false;
///   everything else is supported.
/// - **Quota.** [`MemoryFs::with_quota`] limits the bytes of file content held, answering
///   `StorageFull` beyond it, to test how callers handle a full disk.
///
/// ```
/// use fs_core::{FileSystem, MemoryFs, OpenOptions, VPath};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), fs_core::FsError> {
/// let fs = MemoryFs::new();
/// let a = VPath::new("/a.txt")?;
/// let b = VPath::new("/b.txt")?;
/// fs.write_file_string(&a, "shared", OpenOptions::write()).await?;
/// fs.link(&a, &b).await?;
/// assert_eq!(fs.read_file_string(&b).await?, "shared");
/// assert_eq!(fs.stat(&a).await?.nlink, Some(2));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryFs {
    shared: Arc<Shared>,
}

/// The state shared by a [`MemoryFs`], its clones, and the handles, streams and sinks it opened.
struct Shared {
    tree: Mutex<Tree>,
}

impl Shared {
    /// Locks the tree. A panic while it was held cannot leave it half-changed in a way later calls
    /// would trip on (every mutation checks before it changes anything), so a poisoned lock is
    /// recovered rather than propagated: dropping a handle must never panic.
    fn lock(&self) -> MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Device ids, so that `(dev, ino)` identifies a file across every `MemoryFs` of the process.
static NEXT_DEVICE: AtomicU64 = AtomicU64::new(1);

impl MemoryFs {
    /// An empty file system: only `/` exists.
    pub fn new() -> MemoryFs {
        MemoryFs::build(None)
    }

    /// An empty file system that holds at most `bytes` bytes of file content; writes, truncates and
    /// sink commits beyond it fail with [`ErrorKind::StorageFull`] and change nothing.
    pub fn with_quota(bytes: u64) -> MemoryFs {
        MemoryFs::build(Some(bytes))
    }

    fn build(quota: Option<u64>) -> MemoryFs {
        let dev = NEXT_DEVICE.fetch_add(1, Ordering::Relaxed);
        MemoryFs {
            shared: Arc::new(Shared {
                tree: Mutex::new(Tree::new(dev, quota)),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tree> {
        self.shared.lock()
    }
}

impl Default for MemoryFs {
    fn default() -> Self {
        MemoryFs::new()
    }
}

impl std::fmt::Debug for MemoryFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFs").finish_non_exhaustive()
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl FileSystem for MemoryFs {
    /// Everything but [`Capabilities::durable_sync`]: memory does not survive the process, so `sync`
    /// and sink commits make nothing durable, and saying otherwise would let callers skip the
    /// durability they need.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            durable_sync: false,
            ..Capabilities::ALL
        }
    }

    /// Succeeds when the path exists (following links); as root, every permission is granted.
    async fn access(&self, path: &VPath, _options: AccessOptions) -> FsResult<()> {
        self.lock().find(path, true, "access").map(|_| ())
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        self.lock().stat(path)
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        self.lock().read_dir(path, options)
    }

    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        self.lock().make_dir(path, options)
    }

    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        self.lock().remove(path, options)
    }

    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        self.lock().rename(from, to)
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        self.lock().copy_file(from, to)
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        self.lock().read_file(path)
    }

    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        self.lock()
            .write_file(path, data, options.flag, options.mode)
    }

    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        self.lock().truncate(path, len)
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let (ino, canonical) = {
            let mut tree = self.lock();
            let opened = tree.open_file(path, options.flag, options.mode, "open")?;
            if opened.created {
                tree.notify(watch::Change::Create, &opened.chain);
            } else if opened.truncated {
                tree.notify(watch::Change::Update, &opened.chain);
            }
            let ino = opened.ino();
            tree.hold(ino);
            (ino, tree::chain_path(&opened.chain))
        };
        // The hold is taken over by the handle only now that the lock is released.
        let inode = InodeRef::adopt(self.shared.clone(), ino);
        let canonical = canonical.unwrap_or_else(|| path.clone());
        Ok(Box::new(MemoryFile::new(
            inode,
            options.flag,
            path.clone(),
            canonical,
        )))
    }

    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        let method = "stream";
        if options.chunk_size == 0 {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                path,
                "the chunk size must not be zero",
            ));
        }
        let ino = {
            let mut tree = self.lock();
            let ino = last_ino(&tree.find(path, true, method)?);
            if tree.content(ino).is_none() {
                return Err(fail(
                    ErrorKind::BadResource,
                    method,
                    path,
                    "the path is a directory",
                ));
            }
            tree.hold(ino);
            ino
        };
        let inode = InodeRef::adopt(self.shared.clone(), ino);
        Ok(handle::read_stream(
            inode,
            options.offset,
            options.length,
            options.chunk_size,
        ))
    }

    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let tree = self.lock();
        let sink = MemorySink::open(
            self.shared.clone(),
            &tree,
            path,
            options.mode,
            options.permissions,
        )?;
        Ok(Box::new(sink))
    }

    /// Removes at once (memory has nothing to wait for), ignoring errors.
    fn remove_detached(&self, path: &VPath) {
        let options = RemoveOptions {
            recursive: true,
            force: true,
        };
        let _ = self.lock().remove(path, options);
    }

    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        self.lock().real_path(path)
    }

    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        self.lock().chmod(path, mode)
    }

    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        self.lock().set_metadata(path, "chown", |inode| {
            inode.uid = uid;
            inode.gid = gid;
        })
    }

    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        self.lock().utimes(path, atime, mtime)
    }

    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        self.lock().link(from, to)
    }

    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        self.lock().symlink(target, link)
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        self.lock().read_link(path)
    }

    /// Reports changes at `path` itself and at its direct children (anywhere below it with
    /// `recursive`): `Create` when an entry appears (created, linked, or renamed to), `Update` when a
    /// file's bytes or any entry's metadata change (writes through handles included, reported at the
    /// path the handle was opened by while it still names that file), `Remove` when an entry goes
    /// (removed, or renamed away; a recursive removal reports every entry below, deepest first).
    /// Watching is by path: the stream stays open when the watched path is removed and reports it if
    /// it comes back. Event paths start with `path` as given, even when it leads through links.
    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream> {
        let mut tree = self.lock();
        let canonical = tree.real_path(path).map_err(|e| e.in_method("watch"))?;
        let receiver = tree
            .watchers
            .add(canonical, path.clone(), options.recursive);
        Ok(Box::pin(receiver))
    }
}
