//! The conformance suite against MemoryFs (natively and on wasm32), twice: as it is (every
//! capability), and behind a wrapper that claims only what OPFS on a page can do, so the suite's
//! `Unsupported` branches run too.

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_core::MemoryFs;

async fn memory() -> Harness {
    Harness::new(Arc::new(MemoryFs::new()))
}

fs_core::conformance_suite!(memory);

/// The suite against [`limited::LimitedFs`].
mod limited {
    use std::sync::Arc;

    use async_trait::async_trait;
    use bytes::Bytes;
    use fs_core::conformance::Harness;
    use fs_core::{
        AccessOptions, ByteStream, Capabilities, DirEntry, File, FileInfo, FileSystem, FsError,
        FsResult, MakeDirOptions, MemoryFs, OpenOptions, ReadDirOptions, RemoveOptions,
        SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions, WatchStream, WriteSink,
    };

    /// MemoryFs without links, permissions, ownership, times, watching or random-access writes:
    /// those calls answer `Unsupported`, as they would on OPFS without sync access handles.
    struct LimitedFs(MemoryFs);

    fn unsupported<T>(method: &'static str) -> FsResult<T> {
        Err(FsError::unsupported(method, "limited"))
    }

    #[cfg_attr(not(target_arch = "wasm32"), async_trait)]
    #[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
    impl FileSystem for LimitedFs {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                symlinks: false,
                hard_links: false,
                permissions: false,
                ownership: false,
                set_times: false,
                watch: false,
                random_access_write: false,
                durable_sync: false,
                ..Capabilities::ALL
            }
        }
        async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
            self.0.access(path, options).await
        }
        async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
            self.0.stat(path).await
        }
        async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
            self.0.read_dir(path, options).await
        }
        async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
            self.0.make_dir(path, options).await
        }
        async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
            self.0.remove(path, options).await
        }
        async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
            self.0.rename(from, to).await
        }
        async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
            self.0.copy_file(from, to).await
        }
        async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
            self.0.read_file(path).await
        }
        async fn write_file(
            &self,
            path: &VPath,
            data: Bytes,
            options: OpenOptions,
        ) -> FsResult<()> {
            self.0.write_file(path, data, options).await
        }
        async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
            self.0.truncate(path, len).await
        }
        async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
            if options.flag.writable() {
                return unsupported("open");
            }
            self.0.open(path, options).await
        }
        async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
            self.0.read_stream(path, options).await
        }
        async fn write_sink(
            &self,
            path: &VPath,
            options: SinkOptions,
        ) -> FsResult<Box<dyn WriteSink>> {
            self.0.write_sink(path, options).await
        }
        fn remove_detached(&self, path: &VPath) {
            self.0.remove_detached(path)
        }
        async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
            self.0.real_path(path).await
        }
        async fn chmod(&self, _path: &VPath, _mode: u32) -> FsResult<()> {
            unsupported("chmod")
        }
        async fn chown(&self, _path: &VPath, _uid: u32, _gid: u32) -> FsResult<()> {
            unsupported("chown")
        }
        async fn utimes(
            &self,
            _path: &VPath,
            _atime: SystemTime,
            _mtime: SystemTime,
        ) -> FsResult<()> {
            unsupported("utimes")
        }
        async fn link(&self, _from: &VPath, _to: &VPath) -> FsResult<()> {
            unsupported("link")
        }
        async fn symlink(&self, _target: &str, _link: &VPath) -> FsResult<()> {
            unsupported("symlink")
        }
        async fn read_link(&self, _path: &VPath) -> FsResult<String> {
            unsupported("readLink")
        }
        async fn watch(&self, _path: &VPath, _options: WatchOptions) -> FsResult<WatchStream> {
            unsupported("watch")
        }
    }

    async fn limited_memory() -> Harness {
        Harness::new(Arc::new(LimitedFs(MemoryFs::new())))
    }

    fs_core::conformance_suite!(limited_memory);
}
