//! [`JsSink`]: a [`WriteSink`] over a `JsWriter` (the writer stages and commits; this counts and
//! aborts what is dropped).

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{FsResult, VPath, WriteSink};

use super::object::Returned;
use super::values::bytes_to_js;

/// The methods a `JsWriter` has, in this order.
pub(crate) const WRITER_METHODS: [&str; 3] = ["write", "close", "abort"];
/// Index of `write` in [`WRITER_METHODS`].
const WRITE: usize = 0;
/// Index of `close`.
const CLOSE: usize = 1;
/// Index of `abort`.
const ABORT: usize = 2;

/// A sink of a JavaScript file system: nothing is visible at its path before `close`. Dropping it
/// aborts the writer without waiting (the old content stays either way).
pub(crate) struct JsSink {
    /// The `JsWriter`.
    writer: Returned,
    /// Where it commits (for errors).
    path: VPath,
    /// Bytes handed to `write` so far.
    written: u64,
    /// `close` or `abort` was called (a drop then has nothing to do).
    ended: bool,
}

impl JsSink {
    /// A sink over `writer`, opened for `path`.
    pub(crate) fn new(writer: Returned, path: VPath) -> JsSink {
        JsSink {
            writer,
            path,
            written: 0,
            ended: false,
        }
    }
}

#[async_trait(?Send)]
impl WriteSink for JsSink {
    /// Hands the chunk to the writer (an empty chunk is accepted without a call).
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.writer
            .call(WRITE, &[bytes_to_js(&chunk)], "Sink.write", &self.path)
            .await?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Bytes handed to the writer so far.
    fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The writer's `close` (the commit).
    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.ended = true;
        self.writer
            .call(CLOSE, &[], "Sink.close", &self.path)
            .await
            .map(|_| ())
    }

    /// The writer's `abort`.
    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        self.ended = true;
        self.writer
            .call(ABORT, &[], "Sink.abort", &self.path)
            .await
            .map(|_| ())
    }
}

impl Drop for JsSink {
    /// Aborts a writer that was neither closed nor aborted, without waiting.
    fn drop(&mut self) {
        if !self.ended {
            self.writer.call_detached(ABORT);
        }
    }
}
