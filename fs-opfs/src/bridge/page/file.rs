//! [`BridgeFile`]: the page's handle of a file the worker keeps open.

use std::io::SeekFrom;
use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{File, FileInfo, FsResult};

use super::super::protocol::{bytes_to_js, js_to_bytes, malformed, Notice, Request};
use super::connection::Conn;

/// A file handle kept open in the worker, used by id.
pub(super) struct BridgeFile {
    conn: Rc<Conn>,
    id: u32,
    /// Not closed yet: dropping it tells the worker to drop the handle.
    open: bool,
}

impl BridgeFile {
    /// The handle of the worker's file `id`.
    pub(super) fn new(conn: Rc<Conn>, id: u32) -> BridgeFile {
        BridgeFile {
            conn,
            id,
            open: true,
        }
    }
}

impl Drop for BridgeFile {
    fn drop(&mut self) {
        if self.open {
            self.conn.notice(Notice::FileDrop { file: self.id });
        }
    }
}

#[async_trait(?Send)]
impl File for BridgeFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        let file = self.id;
        self.conn
            .call(Request::FileStat { file })
            .await?
            .into_info()
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let file = self.id;
        self.conn
            .call(Request::FileSeek { file, pos })
            .await?
            .into_number()
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        let (file, len) = (self.id, buf.len());
        let array = self
            .conn
            .call(Request::FileRead { file, len })
            .await?
            .into_data()?;
        let n = (array.length() as usize).min(buf.len());
        array.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }

    async fn read_alloc(&mut self, size: usize) -> FsResult<Option<Bytes>> {
        let (file, len) = (self.id, size);
        let data = self
            .conn
            .call(Request::FileReadAlloc { file, len })
            .await?
            .into_maybe_data()?;
        Ok(data.map(|array| js_to_bytes(&array)))
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        let (file, data) = (self.id, bytes_to_js(data));
        let n = self
            .conn
            .call(Request::FileWrite { file, data })
            .await?
            .into_number()?;
        usize::try_from(n).map_err(|_| malformed("a byte count larger than a usize"))
    }

    async fn write_all(&mut self, data: &[u8]) -> FsResult<()> {
        let (file, data) = (self.id, bytes_to_js(data));
        self.conn
            .call(Request::FileWriteAll { file, data })
            .await?
            .into_unit()
    }

    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        let file = self.id;
        self.conn
            .call(Request::FileTruncate { file, len })
            .await?
            .into_unit()
    }

    async fn sync(&mut self) -> FsResult<()> {
        let file = self.id;
        self.conn
            .call(Request::FileSync { file })
            .await?
            .into_unit()
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.open = false;
        let file = self.id;
        self.conn
            .call(Request::FileClose { file })
            .await?
            .into_unit()
    }
}
