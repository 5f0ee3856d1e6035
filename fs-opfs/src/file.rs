//! Open files: read-only handles over `File` snapshots, and read-write handles over sync access
//! handles (dedicated workers only), both holding their file's [`Node`] (see [`crate::nodes`]).

use std::io::SeekFrom;
use std::rc::Rc;

use async_trait::async_trait;
use fs_core::{ErrorKind, File, FileInfo, FileType, FsError, FsResult, OpenFlag, VPath};
use web_sys::{FileSystemReadWriteOptions, FileSystemSyncAccessHandle};

use crate::error::JsResultExt;
use crate::inner::Inner;
use crate::method::FsMethod;
use crate::nodes::Node;
use crate::read::{blob_range, read_into, snapshot};
use crate::read::{file_info, is_stale};

/// The new position of a seek from `cursor` in a file of `size` bytes.
fn seek_target(pos: SeekFrom, cursor: u64, size: u64, method: FsMethod) -> FsResult<u64> {
    let target = match pos {
        SeekFrom::Start(at) => Some(at),
        SeekFrom::Current(delta) => cursor.checked_add_signed(delta),
        SeekFrom::End(delta) => size.checked_add_signed(delta),
    };
    target.ok_or_else(|| {
        method.error(
            ErrorKind::BadArgument,
            "cannot seek before the start of the file",
        )
    })
}

fn no_access(method: FsMethod, path: &VPath, what: &str) -> FsError {
    method
        .error(
            ErrorKind::BadResource,
            format!("the handle was not opened for {what}"),
        )
        .with_path(path)
}

/// Opens `path` read-only: reads go through the open sync access handle of the file when a
/// writable handle holds one, else they slice a `File` snapshot, taken again when the file changed
/// or grew.
pub(crate) async fn open_read_only(inner: &Rc<Inner>, path: &VPath) -> FsResult<Box<dyn File>> {
    if path.is_root() {
        return Err(FsMethod::Open
            .error(ErrorKind::BadResource, "the root is a directory")
            .with_path(path));
    }
    let handle = inner.tree.file(path, false, FsMethod::Open).await?;
    let node = inner.nodes.attach(path, handle);
    Ok(Box::new(ReadOnlyFile {
        inner: inner.clone(),
        path: path.clone(),
        node: Some(node),
        snapshot: None,
        cursor: 0,
    }))
}

/// A read-only open file.
struct ReadOnlyFile {
    inner: Rc<Inner>,
    /// The path it was opened at, for messages.
    path: VPath,
    /// The file (`None` once closed).
    node: Option<Rc<Node>>,
    snapshot: Option<web_sys::File>,
    cursor: u64,
}

impl ReadOnlyFile {
    fn node(&self) -> FsResult<&Rc<Node>> {
        self.node.as_ref().ok_or_else(|| closed(&self.path))
    }

    async fn fresh(&mut self, method: FsMethod) -> FsResult<web_sys::File> {
        let file = snapshot(&self.node()?.handle(), &self.path, method).await?;
        self.snapshot = Some(file.clone());
        Ok(file)
    }

    async fn size(&mut self, method: FsMethod) -> FsResult<u64> {
        if let Some(open) = self.node()?.access() {
            return Ok(open.get_size().fs(method, &self.path)? as u64);
        }
        Ok(self.fresh(method).await?.size() as u64)
    }
}

#[async_trait(?Send)]
impl File for ReadOnlyFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        let node = self.node()?;
        if let Some(open) = node.access() {
            let size = open.get_size().fs(FsMethod::FileStat, &self.path)?;
            return Ok(FileInfo::basic(FileType::File, size as u64));
        }
        Ok(file_info(
            &snapshot(&node.handle(), &self.path, FsMethod::FileStat).await?,
        ))
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let size = match pos {
            SeekFrom::End(_) => self.size(FsMethod::FileSeek).await?,
            _ => 0,
        };
        self.cursor = seek_target(pos, self.cursor, size, FsMethod::FileSeek)
            .map_err(|e| e.with_path(&self.path))?;
        Ok(self.cursor)
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        const METHOD: FsMethod = FsMethod::FileRead;
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(open) = self.node()?.access() {
            let n = read_into(&open, buf, self.cursor, &self.path, METHOD)?;
            self.cursor += n as u64;
            return Ok(n);
        }
        // A snapshot is trusted until a read says it is stale, or it ends before the cursor (the
        // file may have grown since): then a fresh one is taken, once.
        let mut refreshed = false;
        loop {
            let file = match &self.snapshot {
                Some(file) => file.clone(),
                None => {
                    refreshed = true;
                    self.fresh(METHOD).await?
                }
            };
            let end = (self.cursor + buf.len() as u64).min(file.size() as u64);
            if end <= self.cursor {
                if refreshed {
                    return Ok(0);
                }
                self.snapshot = None;
                continue;
            }
            match blob_range(&file, self.cursor, end).await {
                Err(e) if is_stale(&e) && !refreshed => self.snapshot = None,
                Err(e) if is_stale(&e) => {
                    return Err(METHOD
                        .error(ErrorKind::Busy, "the file kept changing while it was read")
                        .with_path(&self.path))
                }
                Err(e) => return Err(e).fs(METHOD, &self.path),
                Ok(bytes) => {
                    buf[..bytes.len()].copy_from_slice(&bytes);
                    self.cursor += bytes.len() as u64;
                    return Ok(bytes.len());
                }
            }
        }
    }

    async fn write(&mut self, _data: &[u8]) -> FsResult<usize> {
        Err(no_access(FsMethod::FileWrite, &self.path, "writing"))
    }

    async fn truncate(&mut self, _len: u64) -> FsResult<()> {
        Err(no_access(FsMethod::FileTruncate, &self.path, "writing"))
    }

    async fn sync(&mut self) -> FsResult<()> {
        Ok(())
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        match self.node.take() {
            Some(node) => self.inner.release(&node, false, &self.path),
            None => Ok(()),
        }
    }
}

impl Drop for ReadOnlyFile {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            // Nothing was written through this handle, so there is nothing to lose.
            let _ = self.inner.release(&node, false, &self.path);
        }
    }
}

fn closed(path: &VPath) -> FsError {
    FsMethod::File
        .error(ErrorKind::BadResource, "the handle is closed")
        .with_path(path)
}

/// Opens `path` for writing (dedicated workers): the file's sync access handle, shared with the
/// other writable handles of this instance on the same file.
pub(crate) async fn open_sync(
    inner: &Rc<Inner>,
    path: &VPath,
    flag: OpenFlag,
) -> FsResult<Box<dyn File>> {
    const METHOD: FsMethod = FsMethod::Open;
    if path.is_root() {
        let (kind, why) = if flag.exclusive() {
            (ErrorKind::AlreadyExists, "the root exists")
        } else {
            (ErrorKind::BadResource, "the root is a directory")
        };
        return Err(METHOD.error(kind, why).with_path(path));
    }
    if flag.exclusive() && inner.kind_of(path, METHOD).await?.is_some() {
        return Err(METHOD
            .error(
                ErrorKind::AlreadyExists,
                format!("{flag} needs a path that does not exist"),
            )
            .with_path(path));
    }
    let handle = inner.tree.file(path, flag.creates(), METHOD).await?;
    let node = inner.nodes.attach(path, handle);
    if let Err(e) = inner.add_writer(&node, METHOD, path).await {
        // Nothing was written: only the count goes back.
        let _ = inner.release(&node, false, path);
        return Err(e);
    }
    let file = SyncFile {
        inner: inner.clone(),
        path: path.clone(),
        node: Some(node),
        flag,
        cursor: 0,
    };
    if flag.truncates() {
        file.access(METHOD)
            .await?
            .truncate_with_f64(0.0)
            .fs(METHOD, path)?;
    }
    Ok(Box::new(file))
}

/// A writable open file over its file's sync access handle.
struct SyncFile {
    inner: Rc<Inner>,
    /// The path it was opened at, for messages.
    path: VPath,
    /// The file (`None` once closed).
    node: Option<Rc<Node>>,
    flag: OpenFlag,
    cursor: u64,
}

impl SyncFile {
    fn node(&self) -> FsResult<&Rc<Node>> {
        self.node.as_ref().ok_or_else(|| closed(&self.path))
    }

    async fn access(&self, method: FsMethod) -> FsResult<Rc<FileSystemSyncAccessHandle>> {
        self.inner
            .writer_access(self.node()?, method, &self.path)
            .await
    }

    async fn size(&self, method: FsMethod) -> FsResult<u64> {
        Ok(self
            .access(method)
            .await?
            .get_size()
            .fs(method, &self.path)? as u64)
    }

    /// Flushes and gives up this handle's share of the file (once).
    fn release(&mut self) -> FsResult<()> {
        match self.node.take() {
            Some(node) => self.inner.release(&node, true, &self.path),
            None => Ok(()),
        }
    }
}

#[async_trait(?Send)]
impl File for SyncFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        Ok(FileInfo::basic(
            FileType::File,
            self.size(FsMethod::FileStat).await?,
        ))
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let size = match pos {
            SeekFrom::End(_) => self.size(FsMethod::FileSeek).await?,
            _ => 0,
        };
        self.cursor = seek_target(pos, self.cursor, size, FsMethod::FileSeek)
            .map_err(|e| e.with_path(&self.path))?;
        Ok(self.cursor)
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        const METHOD: FsMethod = FsMethod::FileRead;
        if !self.flag.readable() {
            return Err(no_access(METHOD, &self.path, "reading"));
        }
        let access = self.access(METHOD).await?;
        let n = read_into(&access, buf, self.cursor, &self.path, METHOD)?;
        self.cursor += n as u64;
        Ok(n)
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        const METHOD: FsMethod = FsMethod::FileWrite;
        if data.is_empty() {
            return Ok(0);
        }
        let access = self.access(METHOD).await?;
        let at = if self.flag.appends() {
            access.get_size().fs(METHOD, &self.path)? as u64
        } else {
            self.cursor
        };
        let options = FileSystemReadWriteOptions::new();
        options.set_at(at as f64);
        let n = access
            .write_with_u8_array_and_options(data, &options)
            .fs(METHOD, &self.path)? as usize;
        if !self.flag.appends() {
            self.cursor += n as u64;
        }
        Ok(n)
    }

    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        const METHOD: FsMethod = FsMethod::FileTruncate;
        self.access(METHOD)
            .await?
            .truncate_with_f64(len as f64)
            .fs(METHOD, &self.path)?;
        self.cursor = self.cursor.min(len);
        Ok(())
    }

    async fn sync(&mut self) -> FsResult<()> {
        const METHOD: FsMethod = FsMethod::FileSync;
        self.access(METHOD).await?.flush().fs(METHOD, &self.path)
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.release()
    }
}

impl Drop for SyncFile {
    fn drop(&mut self) {
        // A drop cannot report: `close` is where a failed flush shows.
        let _ = self.release();
    }
}
