//! The [`FileSystem`] trait: Effect's platform FileSystem, in Rust.

use async_trait::async_trait;
use bytes::Bytes;
use web_time::SystemTime;

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, FsError, FsResult};
use crate::file::{ByteStream, File, WatchStream, WriteSink};
use crate::info::{DirEntry, FileInfo, FileType};
use crate::maybe_send::{MaybeSend, MaybeSync};
use crate::options::{
    AccessOptions, CopyOptions, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkOptions, StreamOptions, TempOptions, WatchOptions,
};
use crate::path::VPath;
use crate::temp::random_name;

/// A file system, modeled on `@effect/platform`'s `FileSystem` (method names in Rust case).
///
/// Every path is a [`VPath`] inside the backend's namespace. Every failure is an [`FsError`] whose
/// [`ErrorKind`] is the same on every backend for the same situation (the conformance suite in
/// `fs_core::conformance` holds backends to that). Calls a backend cannot perform answer
/// `Unsupported`, and [`FileSystem::capabilities`] says which those are.
///
/// The trait is object safe: use `Arc<dyn FileSystem>`. Natively it is `Send + Sync`; on wasm32 it is
/// neither (see [`MaybeSend`]).
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait FileSystem: MaybeSend + MaybeSync {
    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Checks that `path` exists and, if asked, is readable or writable.
    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()>;

    /// True when something exists at `path`; other failures (a file used as a directory, a denied
    /// permission) are errors, not `false`. A dangling symbolic link exists (its target does not):
    /// unlike Node's `exists`, this reports the entry, as `stat` does.
    async fn exists(&self, path: &VPath) -> FsResult<bool> {
        match self.stat(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Information about `path`, following symlinks.
    async fn stat(&self, path: &VPath) -> FsResult<FileInfo>;

    /// The entries of a directory (or of its whole tree), sorted by relative path.
    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>>;

    /// Creates a directory. Without `recursive`, the parent must exist and the path must not.
    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()>;

    /// Removes a file or directory (a non-empty one only with `recursive`). Removing `/` is
    /// `BadArgument`.
    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()>;

    /// Moves a file or directory, replacing a file (or an empty directory) at `to`. Atomicity: see
    /// [`Capabilities::atomic_rename`]. Open handles of the moved file keep working; handles of a
    /// replaced file keep the old file.
    ///
    /// Errors, in Linux's order (the first that applies wins, on every backend):
    ///
    /// 1. `from` or `to` is `/`: `BadArgument`;
    /// 2. `from`'s parent is missing (`NotFound`) or a file (`BadResource`), then the same for `to`;
    /// 3. nothing at `from`: `NotFound`;
    /// 4. a directory moved to below itself: `BadArgument`;
    /// 5. `to` exists and contains `from` (one of `from`'s ancestors): `DirectoryNotEmpty`;
    /// 6. `from` and `to` are the same entry: nothing happens, `Ok`;
    /// 7. a file onto a directory or a directory onto a file: `BadResource`; a directory onto a
    ///    non-empty directory: `DirectoryNotEmpty`.
    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()>;

    /// Copies one file's bytes to `to`, replacing a file there.
    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()>;

    /// Copies a file or a whole directory tree (`cp -r`). Existing destination files are an
    /// `AlreadyExists` error unless `overwrite` is set; the check happens before anything is written.
    async fn copy(&self, from: &VPath, to: &VPath, options: CopyOptions) -> FsResult<()> {
        copy_tree(self, from, to, options).await
    }

    /// The whole content of a file. Prefer [`FileSystem::read_stream`] for large files.
    async fn read_file(&self, path: &VPath) -> FsResult<Bytes>;

    /// The whole content of a file as UTF-8; other bytes are `InvalidData`.
    async fn read_file_string(&self, path: &VPath) -> FsResult<String> {
        let bytes = self.read_file(path).await?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            FsError::new(ErrorKind::InvalidData, "readFileString", e.to_string()).with_path(path)
        })
    }

    /// Writes a whole file with the given flag (`w` by default: create or replace). The flag's rules
    /// are `open`'s, and the read-only flag `r` is then `BadResource` (nothing is written).
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()>;

    /// Writes a string as UTF-8.
    async fn write_file_string(
        &self,
        path: &VPath,
        data: &str,
        options: OpenOptions,
    ) -> FsResult<()> {
        self.write_file(path, Bytes::copy_from_slice(data.as_bytes()), options)
            .await
            .map_err(|e| e.in_method("writeFileString"))
    }

    /// Sets a file's length, zero-filling when it grows.
    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()>;

    /// Opens a file handle with Effect's flags and cursor rules. A handle holds its file, not its
    /// path (like a POSIX file descriptor): it keeps reading and writing the same file after the
    /// path is renamed, removed or replaced, and sees in-place changes made through the path
    /// (`write_file` with `a` or `r+`, `truncate`). Errors: an exclusive flag on an existing path
    /// (a directory too) is `AlreadyExists`, a directory otherwise `BadResource`, a missing file
    /// without a creating flag `NotFound`.
    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>>;

    /// Streams a file in chunks of at most `chunk_size`, from `offset`, for at most `length` bytes.
    /// A missing file fails here, before the stream exists.
    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream>;

    /// A sink whose content becomes visible only on close; abort (or drop) keeps the old content.
    /// While it is open the sink holds nothing at its path: other calls on the path work as usual,
    /// and `close` checks the path again and commits to what is there then (appending: to the file
    /// as it is at close). `CreateNew` on an existing path (a directory too) is `AlreadyExists`, a
    /// directory otherwise `BadResource`.
    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>>;

    /// The directory used for temporary files when no directory is given.
    fn temp_dir(&self) -> VPath {
        VPath::new("/tmp").unwrap_or_else(|_| VPath::root())
    }

    /// Creates a new, uniquely named directory and returns its path. See [`crate::TempDirGuard`] for
    /// one that is removed when dropped.
    async fn make_temp_dir(&self, options: TempOptions) -> FsResult<VPath> {
        let parent = temp_parent(self, &options, "makeTempDirectory").await?;
        for _ in 0..16 {
            let path = parent.join(&random_name(options.prefix.as_deref()))?;
            match self.make_dir(&path, MakeDirOptions::default()).await {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.in_method("makeTempDirectory")),
            }
        }
        Err(FsError::new(
            ErrorKind::AlreadyExists,
            "makeTempDirectory",
            "no free name after 16 tries",
        )
        .with_path(parent))
    }

    /// Creates a new, empty, uniquely named file and returns its path.
    async fn make_temp_file(&self, options: TempOptions) -> FsResult<VPath> {
        let parent = temp_parent(self, &options, "makeTempFile").await?;
        for _ in 0..16 {
            let path = parent.join(&random_name(options.prefix.as_deref()))?;
            let exclusive = OpenOptions::flag(crate::OpenFlag::WriteExclusive);
            match self.write_file(&path, Bytes::new(), exclusive).await {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.in_method("makeTempFile")),
            }
        }
        Err(FsError::new(
            ErrorKind::AlreadyExists,
            "makeTempFile",
            "no free name after 16 tries",
        )
        .with_path(parent))
    }

    /// Removes `path` recursively without waiting for it, ignoring errors. Temp guards call this from
    /// `Drop`, where nothing can be awaited; each backend does it the way its platform allows.
    fn remove_detached(&self, path: &VPath);

    /// The canonical path: links resolved, within this namespace.
    async fn real_path(&self, path: &VPath) -> FsResult<VPath>;

    /// Sets Unix permission bits.
    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()>;

    /// Sets the owner and group.
    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()>;

    /// Sets access and modification times.
    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()>;

    /// Creates a hard link `to` that names the same file as `from`.
    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()>;

    /// Creates a symbolic link at `link` pointing at `target` (stored as given; a relative target is
    /// resolved from the link's directory).
    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()>;

    /// The target a symbolic link stores.
    async fn read_link(&self, path: &VPath) -> FsResult<String>;

    /// Watches a file or directory; events arrive on the returned stream until it is dropped.
    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream>;
}

async fn temp_parent<F: FileSystem + ?Sized>(
    fs: &F,
    options: &TempOptions,
    method: &'static str,
) -> FsResult<VPath> {
    if let Some(prefix) = options.prefix.as_deref().filter(|p| !p.is_empty()) {
        crate::path::validate_name(prefix).map_err(|why| {
            FsError::new(
                ErrorKind::BadArgument,
                method,
                format!("invalid prefix: {why}"),
            )
        })?;
    }
    match &options.directory {
        Some(dir) => Ok(dir.clone()),
        None => {
            let dir = fs.temp_dir();
            let recursive = MakeDirOptions {
                recursive: true,
                mode: None,
            };
            fs.make_dir(&dir, recursive)
                .await
                .map_err(|e| e.in_method(method))?;
            Ok(dir)
        }
    }
}

/// `copy` built on the primitives: checks the whole destination first, then copies.
async fn copy_tree<F: FileSystem + ?Sized>(
    fs: &F,
    from: &VPath,
    to: &VPath,
    options: CopyOptions,
) -> FsResult<()> {
    let info = fs.stat(from).await.map_err(|e| e.in_method("copy"))?;
    if to.starts_with(from) && info.is_dir() {
        return Err(FsError::new(
            ErrorKind::BadArgument,
            "copy",
            "cannot copy a directory into itself",
        )
        .with_path(to));
    }
    let mut plan: Vec<(VPath, VPath, FileType)> = vec![(from.clone(), to.clone(), info.file_type)];
    if info.is_dir() {
        let entries = fs
            .read_dir(from, ReadDirOptions { recursive: true })
            .await
            .map_err(|e| e.in_method("copy"))?;
        for entry in entries {
            let target = to.join_relative(&entry.relative)?;
            plan.push((entry.path, target, entry.file_type));
        }
    }
    for (_, target, kind) in &plan {
        match fs.stat(target).await {
            Ok(existing) => {
                let both_dirs = existing.is_dir() && *kind == FileType::Directory;
                if !both_dirs
                    && (!options.overwrite || existing.is_dir() != (*kind == FileType::Directory))
                {
                    return Err(FsError::new(
                        ErrorKind::AlreadyExists,
                        "copy",
                        "the destination exists; pass overwrite to replace it",
                    )
                    .with_path(target));
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.in_method("copy")),
        }
    }
    for (source, target, kind) in plan {
        match kind {
            FileType::Directory => {
                let recursive = MakeDirOptions {
                    recursive: true,
                    mode: None,
                };
                fs.make_dir(&target, recursive)
                    .await
                    .map_err(|e| e.in_method("copy"))?;
            }
            FileType::File => {
                fs.copy_file(&source, &target)
                    .await
                    .map_err(|e| e.in_method("copy"))?;
                if options.preserve_timestamps && fs.capabilities().set_times {
                    let src = fs.stat(&source).await.map_err(|e| e.in_method("copy"))?;
                    if let (Some(atime), Some(mtime)) = (src.atime, src.mtime) {
                        fs.utimes(&target, atime, mtime)
                            .await
                            .map_err(|e| e.in_method("copy"))?;
                    }
                }
            }
            FileType::SymbolicLink => {
                let link_target = fs
                    .read_link(&source)
                    .await
                    .map_err(|e| e.in_method("copy"))?;
                if options.overwrite {
                    let force = RemoveOptions {
                        recursive: false,
                        force: true,
                    };
                    fs.remove(&target, force)
                        .await
                        .map_err(|e| e.in_method("copy"))?;
                }
                fs.symlink(&link_target, &target)
                    .await
                    .map_err(|e| e.in_method("copy"))?;
            }
            other => {
                return Err(FsError::new(
                    ErrorKind::BadResource,
                    "copy",
                    format!("cannot copy a {other:?}"),
                )
                .with_path(source));
            }
        }
    }
    Ok(())
}
