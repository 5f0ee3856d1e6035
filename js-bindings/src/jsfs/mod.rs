//! [`JsFs`]: fs-core's [`FileSystem`] over a JavaScript file system object, the app's
//! `fileSystem` option when it is neither `"opfs"` nor `"memory"`.
//!
//! The object implements the small interface documented in `ts/file-system.ts` (`JsFileSystem`):
//! eight required Promise methods (`stat`, `readDir`, `makeDir`, `remove`, `rename`, `readFile`
//! with an optional range, `writeFile` with a flag, `openWriter` for atomic writers) and optional
//! groups declared in its `capabilities` (`open` for handles, links, permissions, ownership,
//! times). Errors are values with a Node-style `code` (see [`error`]).
//!
//! Everything else of the trait is built here on top, with MemoryFs's error kinds and checks:
//!
//! | trait call | over |
//! |---|---|
//! | `access`, `exists` | `stat` (a dangling link exists but is not accessible) |
//! | `read_dir` (recursive, sorted, names checked) | `readDir` per directory |
//! | `make_dir` with `recursive` | `makeDir` per level, `mkdir -p` as Rust's `create_dir_all` does it |
//! | `remove` with `force`, `rename` | `remove`, `rename`; `/` is refused here |
//! | `copy_file` | `copyFile`, or ranged `readFile` + `writeFile` (`w`, then `a`) in 1 MiB pieces |
//! | `copy`, temporary files and directories | the trait's defaults |
//! | `write_file` (every Effect flag) | `writeFile` with `w`, `wx`, `a` or `r+`; `r` checks the path with an empty `readFile` and refuses |
//! | `truncate` | `truncate`, or `readFile` + `writeFile` |
//! | `open` → [`fs_core::File`] with Effect's cursor rules | `open` (`fileHandles`), else `Unsupported` |
//! | `read_stream` | an open handle's positional reads, or ranged `readFile`, 1 MiB per call |
//! | `write_sink` | `openWriter` |
//! | `real_path` | `realPath` (`symlinks`), else `stat` and the path itself |
//! | `symlink` (targets checked to stay inside), `read_link`, `link`, `chmod`, `chown`, `utimes` | their methods, when their group is on; else `Unsupported` |
//! | `watch`, `remove_detached` | `Unsupported`; `remove` without waiting |
//!
//! Handles and writers that are dropped without `close` are closed (aborted) without waiting.

mod error;
mod file;
mod object;
mod sink;
mod stream;
mod values;

use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, DirEntry, ErrorKind, File, FileInfo, FileSystem,
    FileType, FsError, FsResult, MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions,
    RemoveOptions, SinkMode, SinkOptions, StreamOptions, SystemTime, VPath, WatchOptions,
    WatchStream, WriteSink,
};
use wasm_bindgen::JsValue;

use error::invalid;
pub(crate) use error::kind_of_code;
use file::{JsFile, HANDLE_METHODS};
use object::{FsObject, Js, Returned};
use sink::{JsSink, WRITER_METHODS};
use stream::Source;
use values::{
    bytes_from_js, bytes_to_js, dir_entries, file_info, number, object, optional, time_ms,
};

/// How many bytes one call moves when a copy or a truncate is done with `readFile` and `writeFile`.
const PIECE: u64 = 1024 * 1024;

/// A [`FileSystem`] over a JavaScript object implementing `JsFileSystem` (see the module docs).
/// Cheap to clone; clones share the object.
#[derive(Clone)]
pub struct JsFs {
    /// The checked object, shared with streams and detached removals.
    object: Rc<FsObject>,
}

impl JsFs {
    /// Checks `object` and wraps it. The error is a JavaScript `Error` with the code
    /// `INVALID_INPUT` whose message lists everything that is wrong: missing required methods, a
    /// capability that is not a boolean, a capability turned on without its methods.
    pub fn new(object: JsValue) -> Result<JsFs, JsValue> {
        FsObject::new(object)
            .map(|object| JsFs {
                object: Rc::new(object),
            })
            .map_err(|message| {
                let error = js_sys::Error::new(&message);
                let _ = js_sys::Reflect::set(&error, &"code".into(), &"INVALID_INPUT".into());
                error.into()
            })
    }

    /// Calls the object's `method`; errors are of `fs_method` about `path`.
    async fn call(
        &self,
        method: Js,
        args: &[JsValue],
        fs_method: &'static str,
        path: &VPath,
    ) -> FsResult<JsValue> {
        self.object.call(method, args, fs_method, path).await
    }

    /// `stat` as it is: a dangling link is reported as a link.
    async fn stat_as(&self, path: &VPath, method: &'static str) -> FsResult<FileInfo> {
        let answer = self.call(Js::Stat, &[path_js(path)], method, path).await?;
        file_info(&answer).map_err(|e| invalid(method, path, e))
    }

    /// `stat` of a file that must be there to be read or changed: a dangling link is `NotFound`,
    /// anything but a file `BadResource`.
    async fn existing_file(&self, path: &VPath, method: &'static str) -> FsResult<FileInfo> {
        let info = self.stat_as(path, method).await?;
        match info.file_type {
            FileType::File => Ok(info),
            FileType::SymbolicLink => Err(dangling(method, path)),
            _ => Err(FsError::new(
                ErrorKind::BadResource,
                method,
                "the path is not a regular file",
            )
            .with_path(path)),
        }
    }

    /// True when `path` leads (through links) to a directory.
    async fn is_dir_following(&self, path: &VPath) -> bool {
        matches!(self.stat_as(path, "makeDirectory").await, Ok(info) if info.is_dir())
    }

    /// One `makeDir` call.
    async fn make_one_dir(&self, path: &VPath, mode: Option<u32>) -> FsResult<()> {
        let options = object(&[("mode", optional(mode))]);
        self.call(
            Js::MakeDir,
            &[path_js(path), options],
            "makeDirectory",
            path,
        )
        .await
        .map(|_| ())
    }

    /// `readFile` of at most `length` bytes from `offset` (nothing beyond 2^53).
    async fn read_range(
        &self,
        path: &VPath,
        offset: u64,
        length: u64,
        method: &'static str,
    ) -> FsResult<Bytes> {
        let Some(offset_js) = number(offset) else {
            return Ok(Bytes::new());
        };
        let length_js = number(length).unwrap_or(JsValue::from_f64(values::MAX_SAFE as f64));
        let range = object(&[("offset", offset_js), ("length", length_js)]);
        let answer = self
            .call(Js::ReadFile, &[path_js(path), range], method, path)
            .await?;
        let mut bytes = bytes_from_js(&answer).map_err(|e| invalid(method, path, e))?;
        bytes.truncate(usize::try_from(length).unwrap_or(usize::MAX));
        Ok(bytes)
    }

    /// One `writeFile` call with a `JsWriteFlag`.
    async fn write_whole(
        &self,
        path: &VPath,
        data: &[u8],
        flag: &str,
        mode: Option<u32>,
        method: &'static str,
    ) -> FsResult<()> {
        let options = object(&[("flag", flag.into()), ("mode", optional(mode))]);
        self.call(
            Js::WriteFile,
            &[path_js(path), bytes_to_js(data), options],
            method,
            path,
        )
        .await
        .map(|_| ())
    }

    /// `copy_file` without `copyFile`: 1 MiB pieces, the first with `w` (in place, like `open(2)`
    /// with `O_TRUNC`), the others with `a`; the copy gets the source's permission bits.
    async fn copy_by_pieces(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        let method = "copyFile";
        let source = self.existing_file(from, method).await?;
        match self.stat_as(to, method).await {
            Ok(target) if target.is_dir() => {
                return Err(FsError::new(
                    ErrorKind::BadResource,
                    method,
                    "the destination is a directory",
                )
                .with_path(to))
            }
            Ok(target) => {
                let same_file = match (source.ino, target.ino) {
                    (Some(a), Some(b)) => a == b && source.dev == target.dev,
                    _ => from == to,
                };
                if same_file {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut offset = 0;
        loop {
            let piece = self.read_range(from, offset, PIECE, method).await?;
            if offset == 0 {
                self.write_whole(to, &piece, "w", None, method).await?;
            } else if !piece.is_empty() {
                self.write_whole(to, &piece, "a", None, method).await?;
            }
            offset += piece.len() as u64;
            if (piece.len() as u64) < PIECE {
                break;
            }
        }
        if self.object.capabilities().permissions {
            self.chmod(to, source.mode & 0o7777)
                .await
                .map_err(|e| e.in_method(method))?;
        }
        Ok(())
    }

    /// `truncate` without `truncate`: a shorter file is written again from its first `len` bytes
    /// (in place, with `w`), a longer one gets zeros appended.
    async fn truncate_by_rewrite(&self, path: &VPath, len: u64) -> FsResult<()> {
        let method = "truncate";
        let info = self.existing_file(path, method).await?;
        if len < info.size {
            let kept = self.read_range(path, 0, len, method).await?;
            self.write_whole(path, &kept, "w", None, method).await
        } else {
            let mut missing = len - info.size;
            while missing > 0 {
                let piece = missing.min(PIECE);
                self.write_whole(path, &vec![0; piece as usize], "a", None, method)
                    .await?;
                missing -= piece;
            }
            Ok(())
        }
    }

    /// `Unsupported` unless the object offers what `method` needs.
    fn require(&self, allowed: bool, method: &'static str) -> FsResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(FsError::unsupported(method, "JavaScript"))
        }
    }
}

/// A path as the JavaScript file system gets it.
fn path_js(path: &VPath) -> JsValue {
    JsValue::from_str(path.as_str())
}

/// `NotFound` for a dangling link where its target is needed.
fn dangling(method: &'static str, path: &VPath) -> FsError {
    FsError::new(
        ErrorKind::NotFound,
        method,
        "the path is a symbolic link to nothing",
    )
    .with_path(path)
}

/// `BadArgument` for a length a JavaScript number cannot hold exactly.
fn too_large(method: &'static str, path: &VPath) -> FsError {
    FsError::new(
        ErrorKind::BadArgument,
        method,
        "the length is beyond what a JavaScript file system can address (2^53 bytes)",
    )
    .with_path(path)
}

/// The namespace rule of link targets, MemoryFs's: an absolute target must be a valid [`VPath`],
/// and a relative one may not climb above `/` from the link's directory.
fn check_link_target(target: &str, link: &VPath) -> FsResult<()> {
    let bad = |why: String| FsError::new(ErrorKind::BadArgument, "symlink", why).with_path(link);
    if target.starts_with('/') {
        return VPath::new(target)
            .map(|_| ())
            .map_err(|e| bad(e.description().to_owned()));
    }
    let mut depth = link.segments().count().saturating_sub(1);
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| bad(format!("the target {target:?} leaves the root")))?;
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

#[async_trait(?Send)]
impl FileSystem for JsFs {
    /// The object's declared groups: `fileHandles` is random-access writes, `durable` durable
    /// syncs; `watch` is never supported and `real_path` always is.
    fn capabilities(&self) -> Capabilities {
        self.object.capabilities()
    }

    /// `stat`; permissions are not checked (MemoryFs's rule), a dangling link is `NotFound`.
    async fn access(&self, path: &VPath, _options: AccessOptions) -> FsResult<()> {
        let info = self.stat_as(path, "access").await?;
        if info.file_type == FileType::SymbolicLink {
            return Err(dangling("access", path));
        }
        Ok(())
    }

    /// `stat`; a dangling link is reported as a link.
    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        self.stat_as(path, "stat").await
    }

    /// `readDir` of the directory and, with `recursive`, of every directory below (links are not
    /// followed), sorted by relative path. A name that is not a valid path segment is
    /// `InvalidData`.
    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        let method = "readDirectory";
        let mut out = Vec::new();
        let mut pending = vec![(path.clone(), String::new())];
        while let Some((dir, prefix)) = pending.pop() {
            let answer = self
                .call(Js::ReadDir, &[path_js(&dir)], method, &dir)
                .await?;
            let entries = dir_entries(&answer).map_err(|e| invalid(method, &dir, e))?;
            for (name, file_type) in entries {
                fs_core::validate_name(&name).map_err(|why| {
                    invalid(
                        method,
                        &dir,
                        format!("the entry {name:?}, not a valid name: {why}"),
                    )
                })?;
                let entry_path = dir.join(&name)?;
                let relative = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                if options.recursive && file_type == FileType::Directory {
                    pending.push((entry_path.clone(), relative.clone()));
                }
                out.push(DirEntry {
                    relative,
                    path: entry_path,
                    file_type,
                });
            }
        }
        out.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(out)
    }

    /// `makeDir`; with `recursive`, `mkdir -p` as MemoryFs (and Rust's `create_dir_all`) does it:
    /// go up while a parent is missing, then create back down; an existing directory (links
    /// followed) is fine at every level.
    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        if !options.recursive {
            return self.make_one_dir(path, options.mode).await;
        }
        let mut below = Vec::new();
        let mut current = path.clone();
        loop {
            match self.make_one_dir(&current, options.mode).await {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::NotFound => match current.parent() {
                    Some(parent) => below.push(std::mem::replace(&mut current, parent)),
                    None => return Err(e.with_path(path)),
                },
                Err(_) if self.is_dir_following(&current).await => break,
                Err(e) => return Err(e.with_path(path)),
            }
        }
        while let Some(dir) = below.pop() {
            if let Err(e) = self.make_one_dir(&dir, options.mode).await {
                if !self.is_dir_following(&dir).await {
                    return Err(e.with_path(path));
                }
            }
        }
        Ok(())
    }

    /// `remove` (`/` is `BadArgument`); with `force`, a missing path is fine.
    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        if path.is_root() {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                "remove",
                "the root cannot be removed",
            )
            .with_path(path));
        }
        let flags = object(&[("recursive", options.recursive.into())]);
        match self
            .call(Js::Remove, &[path_js(path), flags], "remove", path)
            .await
        {
            Err(e) if options.force && e.kind() == ErrorKind::NotFound => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// `rename` (`/` on either side is `BadArgument`).
    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        if from.is_root() || to.is_root() {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                "rename",
                "the root cannot be renamed or replaced",
            )
            .with_path(if from.is_root() { from } else { to }));
        }
        self.call(Js::Rename, &[path_js(from), path_js(to)], "rename", from)
            .await
            .map(|_| ())
    }

    /// `copyFile`, or ranged `readFile` + `writeFile` (see the module docs).
    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        if !self.object.has(Js::CopyFile) {
            return self.copy_by_pieces(from, to).await;
        }
        self.call(
            Js::CopyFile,
            &[path_js(from), path_js(to)],
            "copyFile",
            from,
        )
        .await
        .map(|_| ())
    }

    /// `readFile` of the whole file.
    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        let method = "readFile";
        let answer = self
            .call(Js::ReadFile, &[path_js(path)], method, path)
            .await?;
        bytes_from_js(&answer).map_err(|e| invalid(method, path, e))
    }

    /// `writeFile` with the flag's rules: `w`/`w+` as `w`, the exclusive ones as `wx`, `a`/`a+`
    /// as `a`, `r+` as `r+`; `r` fails as opening would (an empty ranged `readFile`), then with
    /// `BadResource`.
    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        let method = "writeFile";
        let flag = match options.flag {
            OpenFlag::Read => {
                self.read_range(path, 0, 0, method).await?;
                return Err(FsError::new(
                    ErrorKind::BadResource,
                    method,
                    "the flag \"r\" opens the file read-only",
                )
                .with_path(path));
            }
            OpenFlag::ReadWrite => "r+",
            OpenFlag::Write | OpenFlag::WriteRead => "w",
            OpenFlag::Append | OpenFlag::AppendRead => "a",
            OpenFlag::WriteExclusive
            | OpenFlag::WriteReadExclusive
            | OpenFlag::AppendExclusive
            | OpenFlag::AppendReadExclusive => "wx",
        };
        self.write_whole(path, &data, flag, options.mode, method)
            .await
    }

    /// `truncate`, or `readFile` + `writeFile` (see the module docs). Beyond 2^53 is
    /// `BadArgument`.
    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        let method = "truncate";
        let Some(length) = number(len) else {
            return Err(too_large(method, path));
        };
        if !self.object.has(Js::Truncate) {
            return self.truncate_by_rewrite(path, len).await;
        }
        self.call(Js::Truncate, &[path_js(path), length], method, path)
            .await
            .map(|_| ())
    }

    /// `open` (`fileHandles`), with the cursor kept here; `Unsupported` without it.
    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let method = "open";
        self.require(self.object.has(Js::Open), method)?;
        let handle = self.open_handle(path, options, method).await?;
        Ok(Box::new(JsFile::new(handle, path.clone(), options.flag)))
    }

    /// Checks the path now (a missing file `NotFound`, a directory `BadResource`), then streams it
    /// through a handle (which holds the file) or by ranged `readFile` calls.
    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        let method = "stream";
        if options.chunk_size == 0 {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                method,
                "the chunk size must be at least one byte",
            )
            .with_path(path));
        }
        let source = if self.object.has(Js::Open) {
            let handle = self.open_handle(path, OpenOptions::read(), method).await?;
            Source::Handle(Box::new(JsFile::new(handle, path.clone(), OpenFlag::Read)))
        } else {
            self.existing_file(path, method).await?;
            Source::Path(self.object.clone())
        };
        Ok(stream::chunks(
            source,
            path.clone(),
            options.chunk_size,
            options.offset,
            options.length,
        ))
    }

    /// `openWriter` with the sink's mode and permissions.
    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let method = "sink";
        let mode = match options.mode {
            SinkMode::Replace => "replace",
            SinkMode::CreateNew => "createNew",
            SinkMode::Append => "append",
        };
        let settings = object(&[
            ("mode", mode.into()),
            ("permissions", optional(options.permissions)),
        ]);
        let writer = self
            .call(Js::OpenWriter, &[path_js(path), settings], method, path)
            .await?;
        let writer = Returned::new(writer, &WRITER_METHODS, "a writer", method, path)?;
        Ok(Box::new(JsSink::new(writer, path.clone())))
    }

    /// Starts a recursive, forced `remove` and does not wait for it.
    fn remove_detached(&self, path: &VPath) {
        if path.is_root() {
            return;
        }
        let fs = self.clone();
        let path = path.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let all = RemoveOptions {
                recursive: true,
                force: true,
            };
            let _ = fs.remove(&path, all).await;
        });
    }

    /// `realPath` with `symlinks`; without links a path is its own canonical form once `stat`
    /// finds it.
    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        let method = "realPath";
        if !self.object.capabilities().symlinks {
            self.stat_as(path, method).await?;
            return Ok(path.clone());
        }
        let answer = self
            .call(Js::RealPath, &[path_js(path)], method, path)
            .await?;
        let text = answer
            .as_string()
            .ok_or_else(|| invalid(method, path, values::kind_of(&answer)))?;
        VPath::new(&text).map_err(|e| invalid(method, path, format!("the path {text:?}: {e}")))
    }

    /// `chmod` (`permissions`).
    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        let method = "chmod";
        self.require(self.object.capabilities().permissions, method)?;
        self.call(Js::Chmod, &[path_js(path), mode.into()], method, path)
            .await
            .map(|_| ())
    }

    /// `chown` (`ownership`).
    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        let method = "chown";
        self.require(self.object.capabilities().ownership, method)?;
        self.call(
            Js::Chown,
            &[path_js(path), uid.into(), gid.into()],
            method,
            path,
        )
        .await
        .map(|_| ())
    }

    /// `utimes` with ms since the epoch (`setTimes`).
    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        let method = "utimes";
        self.require(self.object.capabilities().set_times, method)?;
        let (atime, mtime) = (time_ms(atime).into(), time_ms(mtime).into());
        self.call(Js::Utimes, &[path_js(path), atime, mtime], method, path)
            .await
            .map(|_| ())
    }

    /// `link` (`hardLinks`).
    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        let method = "link";
        self.require(self.object.capabilities().hard_links, method)?;
        self.call(Js::Link, &[path_js(from), path_js(to)], method, from)
            .await
            .map(|_| ())
    }

    /// Checks the target (inside the namespace, not empty, no NUL), then `symlink`.
    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        let method = "symlink";
        self.require(self.object.capabilities().symlinks, method)?;
        check_link_target(target, link)?;
        if target.is_empty() {
            return Err(FsError::new(
                ErrorKind::NotFound,
                method,
                "a symbolic link needs a non-empty target",
            )
            .with_path(link));
        }
        if target.contains('\0') {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                method,
                "a link target may not contain NUL",
            )
            .with_path(link));
        }
        self.call(Js::Symlink, &[target.into(), path_js(link)], method, link)
            .await
            .map(|_| ())
    }

    /// `readLink` (`symlinks`).
    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        let method = "readLink";
        self.require(self.object.capabilities().symlinks, method)?;
        let answer = self
            .call(Js::ReadLink, &[path_js(path)], method, path)
            .await?;
        answer
            .as_string()
            .ok_or_else(|| invalid(method, path, values::kind_of(&answer)))
    }

    /// `Unsupported`: the interface has no watch.
    async fn watch(&self, _path: &VPath, _options: WatchOptions) -> FsResult<WatchStream> {
        Err(FsError::unsupported("watch", "JavaScript"))
    }
}

impl JsFs {
    /// Calls `open` and checks the handle it answers.
    async fn open_handle(
        &self,
        path: &VPath,
        options: OpenOptions,
        method: &'static str,
    ) -> FsResult<Returned> {
        let settings = object(&[
            ("flag", options.flag.as_str().into()),
            ("mode", optional(options.mode)),
        ]);
        let handle = self
            .call(Js::Open, &[path_js(path), settings], method, path)
            .await?;
        Returned::new(handle, &HANDLE_METHODS, "a file handle", method, path)
    }
}
