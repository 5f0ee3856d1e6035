//! [`BridgeWatch`]: the events of a watch the worker runs for the page.

use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use fs_core::{FsResult, WatchEvent};
use futures::channel::mpsc;
use futures::Stream;

use super::super::protocol::Notice;
use super::connection::Conn;

/// Unregisters a watch on the page and releases it in the worker when dropped.
pub(super) struct WatchGuard {
    conn: Rc<Conn>,
    id: u32,
}

impl WatchGuard {
    /// The guard of the watch the page named `id` (already registered on the page).
    pub(super) fn new(conn: Rc<Conn>, id: u32) -> WatchGuard {
        WatchGuard { conn, id }
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.conn.shared.watches.borrow_mut().remove(&self.id);
        self.conn.notice(Notice::WatchDrop { watch: self.id });
    }
}

/// The events of one watch, pushed by the worker.
pub(super) struct BridgeWatch {
    rx: mpsc::UnboundedReceiver<FsResult<WatchEvent>>,
    _guard: WatchGuard,
}

impl BridgeWatch {
    /// The stream of the events `rx` receives; `guard` releases the watch when it is dropped.
    pub(super) fn new(
        rx: mpsc::UnboundedReceiver<FsResult<WatchEvent>>,
        guard: WatchGuard,
    ) -> BridgeWatch {
        BridgeWatch { rx, _guard: guard }
    }
}

impl Stream for BridgeWatch {
    type Item = FsResult<WatchEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}
