//! [`TokioRuntime`]: the native runtime over a tokio handle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fs_core::MaybeSendBoxFuture;

use super::Runtime;

/// Spawns on a tokio runtime (the handle current at construction) and sleeps with `tokio::time`.
/// Clones share the count of live tasks.
#[derive(Clone, Debug)]
pub struct TokioRuntime {
    handle: tokio::runtime::Handle,
    live: Arc<AtomicUsize>,
}

/// Counts a task until its future is dropped (finished, or dropped by a runtime shutting down).
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TokioRuntime {
    /// The runtime of the calling context. Panics outside a tokio runtime (like `Handle::current`).
    pub fn current() -> Self {
        TokioRuntime::from_handle(tokio::runtime::Handle::current())
    }

    /// A runtime that spawns on `handle`.
    pub fn from_handle(handle: tokio::runtime::Handle) -> Self {
        TokioRuntime {
            handle,
            live: Arc::default(),
        }
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        self.live.fetch_add(1, Ordering::SeqCst);
        let live = Live(self.live.clone());
        drop(self.handle.spawn(async move {
            let _live = live;
            fut.await;
        }));
    }

    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    fn random_u64(&self) -> u64 {
        fastrand::u64(..)
    }

    fn live_tasks(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}
