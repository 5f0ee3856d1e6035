//! [`BridgeSink`]: a write sink the worker keeps for the page; small chunks are gathered on the page.

use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{FsResult, WriteSink};
use js_sys::Uint8Array;

use super::super::protocol::{bytes_to_js, Notice, Request};
use super::connection::Conn;

/// Chunks smaller than this are gathered on the page and sent together (one round trip per MiB
/// instead of one per chunk).
const SINK_BATCH_BYTES: usize = 1024 * 1024;

/// A write sink kept in the worker; dropping it without `close` aborts it there.
///
/// Small chunks are gathered on the page up to [`SINK_BATCH_BYTES`] before they cross, so an error
/// of the worker's sink (storage full, say) may surface at a later `write` or at `close` rather
/// than at the `write` that caused it. Nothing is visible at the path before `close` either way.
pub(super) struct BridgeSink {
    conn: Rc<Conn>,
    id: u32,
    gathered: Vec<Bytes>,
    gathered_len: usize,
    written: u64,
    /// Closed or aborted: dropping it sends nothing.
    finished: bool,
}

impl BridgeSink {
    /// The sink the worker keeps under `id`.
    pub(super) fn new(conn: Rc<Conn>, id: u32) -> BridgeSink {
        BridgeSink {
            conn,
            id,
            gathered: Vec::new(),
            gathered_len: 0,
            written: 0,
            finished: false,
        }
    }

    /// Sends `data` as one write of the worker's sink (its buffer moves there).
    async fn send(&self, data: Uint8Array) -> FsResult<()> {
        let sink = self.id;
        self.conn
            .call(Request::SinkWrite { sink, data })
            .await?
            .into_number()
            .map(|_| ())
    }

    /// Sends what was gathered, as one write.
    async fn flush(&mut self) -> FsResult<()> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let array = Uint8Array::new_with_length(self.gathered_len as u32);
        let mut at = 0u32;
        for chunk in self.gathered.drain(..) {
            let end = at + chunk.len() as u32;
            array.subarray(at, end).copy_from(&chunk);
            at = end;
        }
        self.gathered_len = 0;
        self.send(array).await
    }
}

impl Drop for BridgeSink {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.notice(Notice::SinkDrop { sink: self.id });
        }
    }
}

#[async_trait(?Send)]
impl WriteSink for BridgeSink {
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        let len = chunk.len();
        if self.gathered.is_empty() && len >= SINK_BATCH_BYTES {
            let array = bytes_to_js(&chunk);
            drop(chunk);
            self.send(array).await?;
        } else {
            self.gathered.push(chunk);
            self.gathered_len += len;
            if self.gathered_len >= SINK_BATCH_BYTES {
                self.flush().await?;
            }
        }
        self.written += len as u64;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        // A failed flush leaves the sink unfinished: dropping it aborts it in the worker.
        self.flush().await?;
        self.finished = true;
        let sink = self.id;
        self.conn
            .call(Request::SinkClose { sink })
            .await?
            .into_unit()
    }

    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        self.finished = true;
        self.gathered.clear();
        let sink = self.id;
        self.conn
            .call(Request::SinkAbort { sink })
            .await?
            .into_unit()
    }
}
