//! Open file handles and read streams of [`super::MemoryFs`].
//!
//! A handle holds its inode, not its path, like a POSIX file descriptor: it keeps working after the
//! path is renamed or removed, and an unlinked file's bytes are freed when the last handle goes.

use std::io::SeekFrom;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{ErrorKind, FsResult};
use crate::file::{ByteStream, File};
use crate::info::FileInfo;
use crate::options::OpenFlag;
use crate::path::VPath;

use super::tree::{fail, Ino};
use super::watch::Change;
use super::Shared;

/// A counted reference to an inode: while it lives, the inode is not freed. Dropping it takes the
/// lock, so it must never be dropped while the lock is held.
pub(super) struct InodeRef {
    shared: Arc<Shared>,
    ino: Ino,
}

impl InodeRef {
    /// Wraps an inode on which [`super::tree::Tree::hold`] was already called under the lock.
    pub(super) fn adopt(shared: Arc<Shared>, ino: Ino) -> InodeRef {
        InodeRef { shared, ino }
    }
}

impl Drop for InodeRef {
    fn drop(&mut self) {
        self.shared.lock().release(self.ino);
    }
}

/// A file opened by [`super::MemoryFs`]'s `open`, with Effect's cursor rules (see [`File`]).
pub(super) struct MemoryFile {
    inode: InodeRef,
    flag: OpenFlag,
    cursor: u64,
    /// The path as the caller gave it, for error messages.
    shown: VPath,
    /// The canonical path at open time, where writes are reported to watchers.
    canonical: VPath,
}

impl MemoryFile {
    pub(super) fn new(inode: InodeRef, flag: OpenFlag, shown: VPath, canonical: VPath) -> Self {
        MemoryFile {
            inode,
            flag,
            cursor: 0,
            shown,
            canonical,
        }
    }

    fn check_readable(&self, method: &'static str) -> FsResult<()> {
        if self.flag.readable() {
            return Ok(());
        }
        Err(fail(
            ErrorKind::BadResource,
            method,
            &self.shown,
            format!(
                "the file was opened with {:?}, which cannot read",
                self.flag.as_str()
            ),
        ))
    }

    fn check_writable(&self, method: &'static str) -> FsResult<()> {
        if self.flag.writable() {
            return Ok(());
        }
        Err(fail(
            ErrorKind::BadResource,
            method,
            &self.shown,
            format!(
                "the file was opened with {:?}, which cannot write",
                self.flag.as_str()
            ),
        ))
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl File for MemoryFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        Ok(self.inode.shared.lock().info(self.inode.ino))
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let target = match pos {
            SeekFrom::Start(offset) => i128::from(offset),
            SeekFrom::Current(delta) => i128::from(self.cursor) + i128::from(delta),
            SeekFrom::End(delta) => {
                let tree = self.inode.shared.lock();
                let len = tree.content(self.inode.ino).map_or(0, Vec::len);
                len as i128 + i128::from(delta)
            }
        };
        let position = u64::try_from(target).map_err(|_| {
            fail(
                ErrorKind::BadArgument,
                "File.seek",
                &self.shown,
                format!("the resulting position {target} is outside 0..=u64::MAX"),
            )
        })?;
        self.cursor = position;
        Ok(position)
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        self.check_readable("File.read")?;
        let tree = self.inode.shared.lock();
        let content = tree.content(self.inode.ino).map_or(&[][..], Vec::as_slice);
        let start = usize::try_from(self.cursor).map_or(content.len(), |c| c.min(content.len()));
        let n = buf.len().min(content.len() - start);
        buf[..n].copy_from_slice(&content[start..start + n]);
        drop(tree);
        self.cursor += n as u64;
        Ok(n)
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        self.check_writable("File.write")?;
        if data.is_empty() {
            return Ok(0);
        }
        let ino = self.inode.ino;
        let mut tree = self.inode.shared.lock();
        let position = if self.flag.appends() {
            tree.content(ino).map_or(0, Vec::len) as u64
        } else {
            self.cursor
        };
        tree.write_at(ino, position, data, "File.write", &self.shown)?;
        tree.notify_if_named(Change::Update, &self.canonical, ino);
        drop(tree);
        if !self.flag.appends() {
            self.cursor += data.len() as u64;
        }
        Ok(data.len())
    }

    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        self.check_writable("File.truncate")?;
        let ino = self.inode.ino;
        let mut tree = self.inode.shared.lock();
        tree.set_len(ino, len, "File.truncate", &self.shown)?;
        tree.notify_if_named(Change::Update, &self.canonical, ino);
        drop(tree);
        self.cursor = self.cursor.min(len);
        Ok(())
    }

    async fn sync(&mut self) -> FsResult<()> {
        // Memory has nothing to flush; `Capabilities::durable_sync` is false to say this is not
        // durability.
        Ok(())
    }

    async fn close(self: Box<Self>) -> FsResult<()> {
        // Dropping the handle releases the inode.
        Ok(())
    }
}

/// The state of a [`super::MemoryFs`] read stream: it reads lazily from the inode it holds, so it
/// sees the file as it is when each chunk is taken (like reading through a file descriptor).
struct ReadState {
    inode: InodeRef,
    position: u64,
    remaining: Option<u64>,
    chunk_size: usize,
}

impl ReadState {
    fn next_chunk(&mut self) -> Option<Bytes> {
        let tree = self.inode.shared.lock();
        let content = tree.content(self.inode.ino).map_or(&[][..], Vec::as_slice);
        let start = usize::try_from(self.position).ok()?;
        if start >= content.len() {
            return None;
        }
        let mut n = self.chunk_size.min(content.len() - start);
        if let Some(remaining) = self.remaining {
            n = n.min(usize::try_from(remaining).unwrap_or(usize::MAX));
        }
        if n == 0 {
            return None;
        }
        let chunk = Bytes::copy_from_slice(&content[start..start + n]);
        drop(tree);
        self.position += n as u64;
        if let Some(remaining) = &mut self.remaining {
            *remaining -= n as u64;
        }
        Some(chunk)
    }
}

/// A stream of `inode`'s bytes from `offset`, at most `length` of them, in chunks of at most
/// `chunk_size` (not zero).
pub(super) fn read_stream(
    inode: InodeRef,
    offset: u64,
    length: Option<u64>,
    chunk_size: usize,
) -> ByteStream {
    let state = ReadState {
        inode,
        position: offset,
        remaining: length,
        chunk_size,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk()?;
        Some((Ok(chunk), state))
    }))
}
