//! [`JsFile`]: a [`File`] over a `JsFileHandle`, with Effect's cursor rules kept here (the handle
//! only does positional reads and writes).

use std::io::SeekFrom;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ErrorKind, File, FileInfo, FsError, FsResult, OpenFlag, VPath};
use wasm_bindgen::JsValue;

use super::error::invalid;
use super::object::Returned;
use super::values::{bytes_from_js, bytes_to_js, count, file_info, number};

/// The methods a `JsFileHandle` has, in this order.
pub(crate) const HANDLE_METHODS: [&str; 6] = ["read", "write", "truncate", "stat", "sync", "close"];
/// Index of `read` in [`HANDLE_METHODS`].
const READ: usize = 0;
/// Index of `write`.
const WRITE: usize = 1;
/// Index of `truncate`.
const TRUNCATE: usize = 2;
/// Index of `stat`.
const STAT: usize = 3;
/// Index of `sync`.
const SYNC: usize = 4;
/// Index of `close`.
const CLOSE: usize = 5;

/// An open handle of a JavaScript file system: it holds its file as the handle does (through
/// renames, removals and replacements of the path). Dropping it closes the handle without waiting.
pub(crate) struct JsFile {
    /// The `JsFileHandle`.
    handle: Returned,
    /// Where it was opened (for errors).
    path: VPath,
    /// How it was opened: what it may do, and whether writes append.
    flag: OpenFlag,
    /// Where the next read or (non-appending) write starts.
    cursor: u64,
    /// `close` was called (a drop then has nothing to do).
    closed: bool,
}

impl JsFile {
    /// A file over `handle`, opened at `path` with `flag`.
    pub(crate) fn new(handle: Returned, path: VPath, flag: OpenFlag) -> JsFile {
        JsFile {
            handle,
            path,
            flag,
            cursor: 0,
            closed: false,
        }
    }

    /// `BadResource` unless the handle's flag allows what `method` does.
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

    /// Reads up to `len` bytes at the cursor and moves it; empty at the end.
    async fn read_at_cursor(&mut self, len: usize) -> FsResult<Bytes> {
        let method = "File.read";
        self.require(method, self.flag.readable(), "read")?;
        // Nothing lies beyond what a JavaScript number can address.
        let Some(position) = number(self.cursor) else {
            return Ok(Bytes::new());
        };
        let length = JsValue::from_f64(len as f64);
        let answer = self
            .handle
            .call(READ, &[position, length], method, &self.path)
            .await?;
        let mut bytes = bytes_from_js(&answer).map_err(|e| invalid(method, &self.path, e))?;
        // A handle that answers more than it was asked for is cut to the request.
        bytes.truncate(len);
        self.cursor += bytes.len() as u64;
        Ok(bytes)
    }
}

#[async_trait(?Send)]
impl File for JsFile {
    /// The handle's `stat`.
    async fn stat(&self) -> FsResult<FileInfo> {
        let method = "File.stat";
        let answer = self.handle.call(STAT, &[], method, &self.path).await?;
        file_info(&answer).map_err(|e| invalid(method, &self.path, e))
    }

    /// Moves the cursor (`stat` for [`SeekFrom::End`]); before 0 or beyond `u64::MAX` is
    /// `BadArgument`.
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

    /// One positional `read` at the cursor, which moves by the bytes read; `Ok(0)` at the end. A
    /// write-only handle is `BadResource`.
    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        if buf.is_empty() {
            self.require("File.read", self.flag.readable(), "read")?;
            return Ok(0);
        }
        let bytes = self.read_at_cursor(buf.len()).await?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    /// Like `read`, without the copy into a caller's buffer.
    async fn read_alloc(&mut self, size: usize) -> FsResult<Option<Bytes>> {
        if size == 0 {
            self.require("File.read", self.flag.readable(), "read")?;
            return Ok(Some(Bytes::new()));
        }
        let bytes = self.read_at_cursor(size).await?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }

    /// Writes all of `data` at the cursor and moves it; in append mode at the end of the file,
    /// leaving the cursor where it was. A cursor beyond 2^53 is `BadArgument`.
    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        let method = "File.write";
        self.require(method, self.flag.writable(), "write")?;
        if data.is_empty() {
            return Ok(0);
        }
        let append = self.flag.appends();
        let position = if append {
            JsValue::NULL
        } else {
            number(self.cursor.saturating_add(data.len() as u64))
                .and_then(|_| number(self.cursor))
                .ok_or_else(|| {
                    FsError::new(
                        ErrorKind::BadArgument,
                        method,
                        "the position is beyond what a JavaScript file system can address",
                    )
                    .with_path(&self.path)
                })?
        };
        let answer = self
            .handle
            .call(WRITE, &[bytes_to_js(data), position], method, &self.path)
            .await?;
        let written = count(&answer, "a byte count")
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= data.len())
            .ok_or_else(|| {
                invalid(
                    method,
                    &self.path,
                    format!("a written count outside 0..={}", data.len()),
                )
            })?;
        if !append {
            self.cursor += written as u64;
        }
        Ok(written)
    }

    /// Sets the length; a cursor beyond the new end moves to it.
    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        let method = "File.truncate";
        self.require(method, self.flag.writable(), "truncate")?;
        let length = number(len).ok_or_else(|| {
            FsError::new(
                ErrorKind::BadArgument,
                method,
                "the length is beyond what a JavaScript file system can address",
            )
            .with_path(&self.path)
        })?;
        self.handle
            .call(TRUNCATE, &[length], method, &self.path)
            .await?;
        self.cursor = self.cursor.min(len);
        Ok(())
    }

    /// The handle's `sync`.
    async fn sync(&mut self) -> FsResult<()> {
        self.handle
            .call(SYNC, &[], "File.sync", &self.path)
            .await
            .map(|_| ())
    }

    /// The handle's `close`.
    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.closed = true;
        self.handle
            .call(CLOSE, &[], "File.close", &self.path)
            .await
            .map(|_| ())
    }
}

impl Drop for JsFile {
    /// Closes a handle that was not closed, without waiting.
    fn drop(&mut self) {
        if !self.closed {
            self.handle.call_detached(CLOSE);
        }
    }
}
