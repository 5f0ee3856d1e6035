//! Open file handles ([`File`]), write sinks ([`WriteSink`]) and the stream types.

use std::io::SeekFrom;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::FsResult;
use crate::info::{FileInfo, WatchEvent};
use crate::maybe_send::{MaybeSend, MaybeSendBoxStream, MaybeSync};

/// A stream of chunks read from a file; an error ends it.
pub type ByteStream = MaybeSendBoxStream<FsResult<Bytes>>;

/// A stream of changes from [`crate::FileSystem::watch`]; dropping it stops watching.
pub type WatchStream = MaybeSendBoxStream<FsResult<WatchEvent>>;

/// An open file with a cursor, following Effect's rules:
///
/// - `read` and `write` start at the cursor and move it by the bytes transferred;
/// - in append mode (`a`, `a+`, …) every write goes to the end of the file and does **not** move the
///   cursor, so reads go on from where they were;
/// - `seek` may go past the end; a later write fills the gap with zeros; a negative position is
///   `BadArgument`;
/// - `truncate` to a length below the cursor moves the cursor to the new end, otherwise it stays;
/// - reading a write-only handle or writing a read-only one is `BadResource` (`close` consumes the
///   handle, so it cannot be used afterwards).
///
/// Dropping a handle without `close` releases it (natively the OS closes it; nothing is lost that
/// `write` returned, but only `sync`/`close` say anything about durability).
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait File: MaybeSend + MaybeSync {
    /// Information about the open file.
    async fn stat(&self) -> FsResult<FileInfo>;

    /// Moves the cursor; returns the new position from the start.
    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64>;

    /// Reads up to `buf.len()` bytes at the cursor; `Ok(0)` at the end of the file.
    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize>;

    /// Reads up to `size` bytes at the cursor; `None` at the end of the file.
    async fn read_alloc(&mut self, size: usize) -> FsResult<Option<Bytes>> {
        let mut buf = vec![0u8; size];
        let n = self.read(&mut buf).await?;
        if n == 0 && size > 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some(Bytes::from(buf)))
    }

    /// Writes some of `data` at the cursor (or at the end in append mode); returns how many bytes.
    async fn write(&mut self, data: &[u8]) -> FsResult<usize>;

    /// Writes all of `data`, looping over `write`; a write of zero bytes is `WriteZero`.
    async fn write_all(&mut self, mut data: &[u8]) -> FsResult<()> {
        while !data.is_empty() {
            let n = self.write(data).await?;
            if n == 0 {
                return Err(crate::FsError::new(
                    crate::ErrorKind::WriteZero,
                    "File.writeAll",
                    "the file accepted no bytes",
                ));
            }
            data = &data[n..];
        }
        Ok(())
    }

    /// Sets the file's length (zero-filling when it grows); see the cursor rule above.
    async fn truncate(&mut self, len: u64) -> FsResult<()>;

    /// Makes everything written so far durable (fsync natively).
    async fn sync(&mut self) -> FsResult<()>;

    /// Flushes and closes the handle; errors that a plain drop would hide are reported here.
    async fn close(self: Box<Self>) -> FsResult<()>;
}

/// A writer whose content becomes visible all at once: nothing is visible at the path before
/// [`WriteSink::close`] returns, and [`WriteSink::abort`] (or dropping the sink) keeps the old content.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait WriteSink: MaybeSend + MaybeSync {
    /// Appends a chunk to what will be committed.
    async fn write(&mut self, chunk: Bytes) -> FsResult<()>;

    /// How many bytes were written through this sink so far (in append mode, not counting the old
    /// content).
    fn bytes_written(&self) -> u64;

    /// Commits: the path now holds exactly the bytes written (after the old ones, in append mode).
    async fn close(self: Box<Self>) -> FsResult<()>;

    /// Discards what was written; the path keeps its old content (or stays absent).
    async fn abort(self: Box<Self>) -> FsResult<()>;
}
