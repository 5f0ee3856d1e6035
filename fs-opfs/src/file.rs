//! Open files: read-only handles over `File` snapshots, and read-write handles over sync access
//! handles (dedicated workers only).

use std::io::SeekFrom;
use std::rc::Rc;

use async_trait::async_trait;
use fs_core::{ErrorKind, File, FileInfo, FileType, FsError, FsResult, OpenFlag, VPath};
use web_sys::{FileSystemFileHandle, FileSystemReadWriteOptions, FileSystemSyncAccessHandle};
use web_time::Instant;

use crate::error::{js_name, JsResultExt};
use crate::fs::{file_info, is_stale, Inner};
use crate::js::{resolve, sleep};
use crate::locks::busy;
use crate::read::{blob_range, read_into, snapshot};

/// The new position of a seek from `cursor` in a file of `size` bytes.
fn seek_target(pos: SeekFrom, cursor: u64, size: u64, method: &'static str) -> FsResult<u64> {
    let target = match pos {
        SeekFrom::Start(at) => Some(at),
        SeekFrom::Current(delta) => cursor.checked_add_signed(delta),
        SeekFrom::End(delta) => size.checked_add_signed(delta),
    };
    target.ok_or_else(|| {
        FsError::new(
            ErrorKind::BadArgument,
            method,
            "cannot seek before the start of the file",
        )
    })
}

fn no_access(method: &'static str, path: &VPath, what: &str) -> FsError {
    FsError::new(
        ErrorKind::BadResource,
        method,
        format!("the handle was not opened for {what}"),
    )
    .with_path(path)
}

/// Opens `path` read-only: reads slice a `File` snapshot, refreshed when the file changed.
pub(crate) async fn open_read_only(inner: &Rc<Inner>, path: &VPath) -> FsResult<Box<dyn File>> {
    if path.is_root() {
        return Err(
            FsError::new(ErrorKind::BadResource, "open", "the root is a directory").with_path(path),
        );
    }
    let handle = inner.tree.file(path, false, "open").await?;
    Ok(Box::new(ReadOnlyFile {
        inner: inner.clone(),
        path: path.clone(),
        handle,
        snapshot: None,
        cursor: 0,
    }))
}

/// A read-only open file.
struct ReadOnlyFile {
    inner: Rc<Inner>,
    path: VPath,
    handle: FileSystemFileHandle,
    snapshot: Option<web_sys::File>,
    cursor: u64,
}

impl ReadOnlyFile {
    async fn fresh(&mut self, method: &'static str) -> FsResult<web_sys::File> {
        let file = snapshot(&self.handle, &self.path, method).await?;
        self.snapshot = Some(file.clone());
        Ok(file)
    }

    async fn size(&mut self, method: &'static str) -> FsResult<u64> {
        if let Some(open) = self.inner.locks.handle(&self.path) {
            return Ok(open.get_size().fs(method, &self.path)? as u64);
        }
        Ok(self.fresh(method).await?.size() as u64)
    }
}

#[async_trait(?Send)]
impl File for ReadOnlyFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        if let Some(open) = self.inner.locks.handle(&self.path) {
            let size = open.get_size().fs("File.stat", &self.path)?;
            return Ok(FileInfo::basic(FileType::File, size as u64));
        }
        Ok(file_info(
            &snapshot(&self.handle, &self.path, "File.stat").await?,
        ))
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let size = match pos {
            SeekFrom::End(_) => self.size("File.seek").await?,
            _ => 0,
        };
        self.cursor = seek_target(pos, self.cursor, size, "File.seek")
            .map_err(|e| e.with_path(&self.path))?;
        Ok(self.cursor)
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        const METHOD: &str = "File.read";
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(open) = self.inner.locks.handle(&self.path) {
            let n = read_into(&open, buf, self.cursor, &self.path, METHOD)?;
            self.cursor += n as u64;
            return Ok(n);
        }
        for _ in 0..2 {
            let file = match &self.snapshot {
                Some(file) => file.clone(),
                None => self.fresh(METHOD).await?,
            };
            let end = (self.cursor + buf.len() as u64).min(file.size() as u64);
            if end <= self.cursor {
                return Ok(0);
            }
            match blob_range(&file, self.cursor, end).await {
                Err(e) if is_stale(&e) => self.snapshot = None,
                Err(e) => return Err(e).fs(METHOD, &self.path),
                Ok(bytes) => {
                    buf[..bytes.len()].copy_from_slice(&bytes);
                    self.cursor += bytes.len() as u64;
                    return Ok(bytes.len());
                }
            }
        }
        Err(FsError::new(
            ErrorKind::Busy,
            METHOD,
            "the file kept changing while it was read",
        )
        .with_path(&self.path))
    }

    async fn write(&mut self, _data: &[u8]) -> FsResult<usize> {
        Err(no_access("File.write", &self.path, "writing"))
    }

    async fn truncate(&mut self, _len: u64) -> FsResult<()> {
        Err(no_access("File.truncate", &self.path, "writing"))
    }

    async fn sync(&mut self) -> FsResult<()> {
        Ok(())
    }

    async fn close(self: Box<Self>) -> FsResult<()> {
        Ok(())
    }
}

/// Opens `path` for writing through a sync access handle, waiting (bounded) while another handle
/// holds the file.
pub(crate) async fn open_sync(
    inner: &Rc<Inner>,
    path: &VPath,
    flag: OpenFlag,
) -> FsResult<Box<dyn File>> {
    const METHOD: &str = "open";
    if path.is_root() {
        return Err(
            FsError::new(ErrorKind::BadResource, METHOD, "the root is a directory").with_path(path),
        );
    }
    if flag.exclusive() && inner.kind_of(path, METHOD).await?.is_some() {
        return Err(FsError::new(
            ErrorKind::AlreadyExists,
            METHOD,
            format!("{flag} needs a path that does not exist"),
        )
        .with_path(path));
    }
    let handle = inner.tree.file(path, flag.creates(), METHOD).await?;
    inner.locks.reserve(path, METHOD).await?;
    let access = match create_access_handle(inner, &handle, path).await {
        Ok(access) => Rc::new(access),
        Err(e) => {
            inner.locks.release(path);
            return Err(e);
        }
    };
    inner.locks.fill(path, access.clone());
    let file = SyncFile {
        inner: inner.clone(),
        path: path.clone(),
        access: Some(access),
        flag,
        cursor: 0,
    };
    if flag.truncates() {
        file.access()?.truncate_with_f64(0.0).fs(METHOD, path)?;
    }
    Ok(Box::new(file))
}

/// `createSyncAccessHandle`, retried while someone else (another tab, a writable) holds the file.
async fn create_access_handle(
    inner: &Inner,
    handle: &FileSystemFileHandle,
    path: &VPath,
) -> FsResult<FileSystemSyncAccessHandle> {
    let start = Instant::now();
    let timeout = inner.locks.timeout();
    loop {
        match resolve::<FileSystemSyncAccessHandle>(handle.create_sync_access_handle()).await {
            Ok(access) => return Ok(access),
            Err(e) if js_name(&e) == "NoModificationAllowedError" => {
                if start.elapsed() >= timeout {
                    return Err(busy("open", path, timeout));
                }
                sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(e) => return Err(e).fs("open", path),
        }
    }
}

/// A read-write open file over a sync access handle; it holds the file's lock until closed or
/// dropped.
struct SyncFile {
    inner: Rc<Inner>,
    path: VPath,
    access: Option<Rc<FileSystemSyncAccessHandle>>,
    flag: OpenFlag,
    cursor: u64,
}

impl SyncFile {
    fn access(&self) -> FsResult<&FileSystemSyncAccessHandle> {
        self.access.as_deref().ok_or_else(|| {
            FsError::new(ErrorKind::BadResource, "File", "the handle is closed")
                .with_path(&self.path)
        })
    }

    fn size(&self, method: &'static str) -> FsResult<u64> {
        Ok(self.access()?.get_size().fs(method, &self.path)? as u64)
    }

    /// Flushes, closes the handle and releases the lock (once).
    fn release(&mut self) -> FsResult<()> {
        let Some(access) = self.access.take() else {
            return Ok(());
        };
        let flushed = access.flush().fs("File.close", &self.path);
        access.close();
        self.inner.locks.release(&self.path);
        flushed
    }
}

#[async_trait(?Send)]
impl File for SyncFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        Ok(FileInfo::basic(FileType::File, self.size("File.stat")?))
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let size = match pos {
            SeekFrom::End(_) => self.size("File.seek")?,
            _ => 0,
        };
        self.cursor = seek_target(pos, self.cursor, size, "File.seek")
            .map_err(|e| e.with_path(&self.path))?;
        Ok(self.cursor)
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        if !self.flag.readable() {
            return Err(no_access("File.read", &self.path, "reading"));
        }
        let n = read_into(self.access()?, buf, self.cursor, &self.path, "File.read")?;
        self.cursor += n as u64;
        Ok(n)
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        const METHOD: &str = "File.write";
        if data.is_empty() {
            return Ok(0);
        }
        let at = if self.flag.appends() {
            self.size(METHOD)?
        } else {
            self.cursor
        };
        let options = FileSystemReadWriteOptions::new();
        options.set_at(at as f64);
        let n = self
            .access()?
            .write_with_u8_array_and_options(data, &options)
            .fs(METHOD, &self.path)? as usize;
        if !self.flag.appends() {
            self.cursor += n as u64;
        }
        Ok(n)
    }

    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        self.access()?
            .truncate_with_f64(len as f64)
            .fs("File.truncate", &self.path)?;
        self.cursor = self.cursor.min(len);
        Ok(())
    }

    async fn sync(&mut self) -> FsResult<()> {
        self.access()?.flush().fs("File.sync", &self.path)
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.release()
    }
}

impl Drop for SyncFile {
    fn drop(&mut self) {
        let _ = self.release();
    }
}
