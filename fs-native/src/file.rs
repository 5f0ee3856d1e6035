//! `open` and [`NativeFile`], the handle with Effect's cursor rules.
//!
//! The handle keeps its own cursor and does positional I/O (`pread`/`pwrite`) on the blocking pool,
//! so the kernel's file offset never matters: reads and writes start at the cursor, and in append
//! mode a plain `write(2)` on the `O_APPEND` descriptor puts the bytes at the end without moving the
//! cursor.

use std::io::{self, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ErrorKind, File, FileInfo, FsError, FsResult, OpenFlag, OpenOptions, VPath};

use crate::blocking::{bad_resource, run, IoContext};
use crate::info::file_info;
use crate::write_file::DEFAULT_FILE_MODE;
use crate::NativeFs;

/// Opens `path` with Effect's flag semantics (see [`OpenFlag`]).
///
/// Errors: `NotFound` for a missing file with `r`/`r+` (or a missing parent), `AlreadyExists` for an
/// existing path with an exclusive flag, `BadResource` for a directory (whatever the flag) or a
/// file in the middle of the path.
pub(crate) async fn open(
    fs: &NativeFs,
    path: &VPath,
    options: OpenOptions,
) -> FsResult<NativeFile> {
    let os = fs.os_path(path);
    let vp = path.clone();
    let flag = options.flag;
    let mode = options.mode.unwrap_or(DEFAULT_FILE_MODE);
    let file = run("open", path, move || {
        let mut open = std::fs::OpenOptions::new();
        open.read(flag.readable()).mode(mode);
        if flag.appends() {
            open.append(true);
        } else if flag.writable() {
            open.write(true);
        }
        if flag.exclusive() {
            open.create_new(true);
        } else if flag.creates() {
            open.create(true);
        }
        if flag.truncates() {
            open.truncate(true);
        }
        let file = open.open(&os).ctx("open", &vp)?;
        if file.metadata().ctx("open", &vp)?.is_dir() {
            return Err(bad_resource("open", &vp, "the path is a directory"));
        }
        Ok(file)
    })
    .await?;
    Ok(NativeFile {
        file: Arc::new(file),
        path: path.clone(),
        flag,
        cursor: 0,
        buffer: Vec::new(),
    })
}

/// An open file of a [`NativeFs`], following Effect's cursor rules (see [`fs_core::File`]).
///
/// Writes land in the OS page cache, visible to every reader at once; [`File::sync`] makes them
/// durable (`fsync`). Dropping the handle closes it, like [`File::close`] (which does not fsync
/// either). A call that is cancelled (its future dropped) may still complete on the blocking pool,
/// without moving the cursor.
#[derive(Debug)]
pub struct NativeFile {
    file: Arc<std::fs::File>,
    path: VPath,
    flag: OpenFlag,
    cursor: u64,
    /// Reused between reads so that `read` does not allocate each time.
    buffer: Vec<u8>,
}

impl NativeFile {
    /// The path the handle was opened at.
    pub fn path(&self) -> &VPath {
        &self.path
    }

    /// The current cursor position.
    pub fn position(&self) -> u64 {
        self.cursor
    }

    fn require(&self, method: &'static str, allowed: bool, what: &str) -> FsResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(FsError::new(
                ErrorKind::BadResource,
                method,
                format!("the handle was opened with {} and cannot {what}", self.flag),
            )
            .with_path(&self.path))
        }
    }
}

#[async_trait]
impl File for NativeFile {
    /// `fstat(2)` of the open file.
    async fn stat(&self) -> FsResult<FileInfo> {
        let file = self.file.clone();
        let vp = self.path.clone();
        run("File.stat", &self.path, move || {
            Ok(file_info(&file.metadata().ctx("File.stat", &vp)?))
        })
        .await
    }

    /// Moves the cursor (no system call except `fstat` for [`SeekFrom::End`]). A position before 0,
    /// or beyond `u64::MAX`, is `BadArgument`.
    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let target = match pos {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.cursor.checked_add_signed(delta),
            SeekFrom::End(delta) => {
                let size = self
                    .stat()
                    .await
                    .map_err(|e| e.in_method("File.seek"))?
                    .size;
                size.checked_add_signed(delta)
            }
        };
        let target = target.ok_or_else(|| {
            FsError::new(
                ErrorKind::BadArgument,
                "File.seek",
                format!("{pos:?} from {} is outside the file's range", self.cursor),
            )
            .with_path(&self.path)
        })?;
        self.cursor = target;
        Ok(target)
    }

    /// `pread(2)` at the cursor, which moves by the bytes read; `Ok(0)` at the end. A write-only
    /// handle is `BadResource`.
    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        self.require("File.read", self.flag.readable(), "read")?;
        if buf.is_empty() {
            return Ok(0);
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.resize(buf.len(), 0);
        let file = self.file.clone();
        let vp = self.path.clone();
        let at = self.cursor;
        let (buffer, n) = run("File.read", &self.path, move || {
            let n = file.read_at(&mut buffer, at).ctx("File.read", &vp)?;
            Ok((buffer, n))
        })
        .await?;
        buf[..n].copy_from_slice(&buffer[..n]);
        self.buffer = buffer;
        self.cursor += n as u64;
        Ok(n)
    }

    /// Like `read`, but reads straight into the returned buffer (no copy).
    async fn read_alloc(&mut self, size: usize) -> FsResult<Option<Bytes>> {
        self.require("File.read", self.flag.readable(), "read")?;
        if size == 0 {
            return Ok(Some(Bytes::new()));
        }
        let file = self.file.clone();
        let vp = self.path.clone();
        let at = self.cursor;
        let chunk = run("File.read", &self.path, move || {
            let mut chunk = vec![0u8; size];
            let n = file.read_at(&mut chunk, at).ctx("File.read", &vp)?;
            chunk.truncate(n);
            Ok(chunk)
        })
        .await?;
        if chunk.is_empty() {
            return Ok(None);
        }
        self.cursor += chunk.len() as u64;
        Ok(Some(Bytes::from(chunk)))
    }

    /// Writes all of `data` at the cursor (`pwrite(2)`), moving it; in append mode at the end of the
    /// file (`write(2)` on an `O_APPEND` descriptor), leaving the cursor where it was. A gap between
    /// the end of the file and the cursor reads as zeros. A read-only handle is `BadResource`. When
    /// an error stops the write part-way, the bytes written so far are reported and the error comes
    /// from the next call.
    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        self.require("File.write", self.flag.writable(), "write")?;
        if data.is_empty() {
            return Ok(0);
        }
        let file = self.file.clone();
        let vp = self.path.clone();
        let data = data.to_vec();
        let append = self.flag.appends();
        let at = self.cursor;
        let n = run("File.write", &self.path, move || {
            let mut done = 0;
            while done < data.len() {
                let result = if append {
                    (&*file).write(&data[done..])
                } else {
                    file.write_at(&data[done..], at + done as u64)
                };
                match result {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) if done > 0 => break,
                    Err(err) => return Err(err).ctx("File.write", &vp),
                }
            }
            Ok(done)
        })
        .await?;
        if !append {
            self.cursor += n as u64;
        }
        Ok(n)
    }

    /// `ftruncate(2)`: sets the length, zero-filling when it grows; a cursor beyond the new end moves
    /// to it. A read-only handle is `BadResource`. Not fsynced.
    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        self.require("File.truncate", self.flag.writable(), "truncate")?;
        let file = self.file.clone();
        let vp = self.path.clone();
        run("File.truncate", &self.path, move || {
            file.set_len(len).ctx("File.truncate", &vp)
        })
        .await?;
        self.cursor = self.cursor.min(len);
        Ok(())
    }

    /// `fsync(2)`: everything written through any handle to this file is durable when it returns.
    async fn sync(&mut self) -> FsResult<()> {
        let file = self.file.clone();
        let vp = self.path.clone();
        run("File.sync", &self.path, move || {
            file.sync_all().ctx("File.sync", &vp)
        })
        .await
    }

    /// Releases the handle. Nothing is buffered in user space, so nothing can fail here; this does
    /// not fsync (call [`File::sync`] first for durability).
    async fn close(self: Box<Self>) -> FsResult<()> {
        Ok(())
    }
}
