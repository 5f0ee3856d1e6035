//! What the fs-core test binaries share: [`Altered`], MemoryFs with a deliberate change.

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, File, FileInfo, FileSystem, FsError,
    FsResult, MakeDirOptions, MemoryFs, OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions, WatchStream, WriteSink,
};

/// How [`Altered`] differs from the MemoryFs it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only what OPFS on a page can do: no links, permissions, ownership, times, watching or
    /// random-access writes (those calls answer `Unsupported`), so the suite's `Unsupported`
    /// branches run.
    Limited,
    /// A planted bug for the differential test to find: `copy_file` onto an existing file appends
    /// instead of replacing.
    AppendingCopy,
}

/// MemoryFs with one [`Change`].
pub struct Altered {
    fs: MemoryFs,
    change: Change,
}

impl Altered {
    /// A fresh MemoryFs with `change`.
    pub fn new(change: Change) -> Altered {
        Altered {
            fs: MemoryFs::new(),
            change,
        }
    }

    /// `Unsupported` when limited, else what `call` gives.
    async fn unless_limited<T>(
        &self,
        method: &'static str,
        call: impl std::future::Future<Output = FsResult<T>>,
    ) -> FsResult<T> {
        if self.change == Change::Limited {
            return Err(FsError::unsupported(method, "limited"));
        }
        call.await
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl FileSystem for Altered {
    fn capabilities(&self) -> Capabilities {
        match self.change {
            Change::Limited => Capabilities {
                symlinks: false,
                hard_links: false,
                permissions: false,
                ownership: false,
                set_times: false,
                watch: false,
                random_access_write: false,
                durable_sync: false,
                atomic_write_file: false,
                ..Capabilities::ALL
            },
            Change::AppendingCopy => self.fs.capabilities(),
        }
    }
    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
        self.fs.access(path, options).await
    }
    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        self.fs.stat(path).await
    }
    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        self.fs.read_dir(path, options).await
    }
    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        self.fs.make_dir(path, options).await
    }
    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        self.fs.remove(path, options).await
    }
    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        self.fs.rename(from, to).await
    }
    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        if self.change == Change::AppendingCopy && from != to {
            let target_is_file = self.fs.stat(to).await.is_ok_and(|i| i.is_file());
            if let (true, Ok(bytes)) = (target_is_file, self.fs.read_file(from).await) {
                let append = OpenOptions::flag(OpenFlag::Append);
                return self.fs.write_file(to, bytes, append).await;
            }
        }
        self.fs.copy_file(from, to).await
    }
    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        self.fs.read_file(path).await
    }
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        self.fs.write_file(path, data, options).await
    }
    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        self.fs.truncate(path, len).await
    }
    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        if options.flag.writable() {
            return self
                .unless_limited("open", self.fs.open(path, options))
                .await;
        }
        self.fs.open(path, options).await
    }
    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        self.fs.read_stream(path, options).await
    }
    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        self.fs.write_sink(path, options).await
    }
    fn remove_detached(&self, path: &VPath) {
        self.fs.remove_detached(path)
    }
    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        self.fs.real_path(path).await
    }
    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        self.unless_limited("chmod", self.fs.chmod(path, mode))
            .await
    }
    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        self.unless_limited("chown", self.fs.chown(path, uid, gid))
            .await
    }
    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        self.unless_limited("utimes", self.fs.utimes(path, atime, mtime))
            .await
    }
    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        self.unless_limited("link", self.fs.link(from, to)).await
    }
    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        self.unless_limited("symlink", self.fs.symlink(target, link))
            .await
    }
    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        self.unless_limited("readLink", self.fs.read_link(path))
            .await
    }
    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream> {
        self.unless_limited("watch", self.fs.watch(path, options))
            .await
    }
}
