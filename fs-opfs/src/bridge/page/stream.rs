//! [`BridgeStream`]: a read stream the worker keeps for the page, pulled batch by batch.

use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use fs_core::FsResult;
use futures::future::LocalBoxFuture;
use futures::{FutureExt, Stream};

use super::super::protocol::{js_to_bytes, Notice, Reply, Request};
use super::connection::Conn;

/// A read stream kept in the worker. Each request brings the next batch (the chunks the worker had
/// ready, at most about 1 MiB); the next batch is requested as soon as one arrives, so at most two
/// batches are held on the page.
pub(super) struct BridgeStream {
    conn: Rc<Conn>,
    id: u32,
    buffered: VecDeque<Bytes>,
    in_flight: Option<LocalBoxFuture<'static, FsResult<Reply>>>,
    /// The worker forgot the stream (its end or its error came).
    done: bool,
}

impl BridgeStream {
    /// The stream the worker keeps under `id`.
    pub(super) fn new(conn: Rc<Conn>, id: u32) -> BridgeStream {
        BridgeStream {
            conn,
            id,
            buffered: VecDeque::new(),
            in_flight: None,
            done: false,
        }
    }

    /// Asks for the next batch.
    fn ask(&self) -> LocalBoxFuture<'static, FsResult<Reply>> {
        self.conn.call(Request::StreamNext { stream: self.id })
    }

    /// Takes a batch in (`false`: the stream ended).
    fn take_batch(&mut self, reply: Reply) -> FsResult<bool> {
        let Some(chunks) = reply.into_chunks()? else {
            return Ok(false);
        };
        self.buffered.extend(chunks.iter().map(js_to_bytes));
        Ok(true)
    }
}

impl Stream for BridgeStream {
    type Item = FsResult<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.in_flight.is_none() {
                this.in_flight = Some(this.ask());
            }
            let Some(in_flight) = this.in_flight.as_mut() else {
                continue;
            };
            let result = match in_flight.poll_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            };
            this.in_flight = None;
            match result.and_then(|reply| this.take_batch(reply)) {
                Ok(true) => this.in_flight = Some(this.ask()),
                Ok(false) => this.done = true,
                Err(error) => {
                    // The worker forgets a stream after its error, but not after a reply this side
                    // could not read: release it there either way (an unknown id is ignored).
                    this.conn.notice(Notice::StreamDrop { stream: this.id });
                    this.done = true;
                    this.buffered.clear();
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}

impl Drop for BridgeStream {
    fn drop(&mut self) {
        if !self.done {
            self.conn.notice(Notice::StreamDrop { stream: self.id });
        }
    }
}
