//! [`TokioRuntime`]: the native runtime over a tokio handle.

use std::time::Duration;

use fs_core::MaybeSendBoxFuture;

use super::Runtime;

/// Spawns on a tokio runtime (the handle current at construction) and sleeps with `tokio::time`.
#[derive(Clone, Debug)]
pub struct TokioRuntime {
    handle: tokio::runtime::Handle,
}

impl TokioRuntime {
    /// The runtime of the calling context. Panics outside a tokio runtime (like `Handle::current`).
    pub fn current() -> Self {
        TokioRuntime {
            handle: tokio::runtime::Handle::current(),
        }
    }

    /// A runtime that spawns on `handle`.
    pub fn from_handle(handle: tokio::runtime::Handle) -> Self {
        TokioRuntime { handle }
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        drop(self.handle.spawn(fut));
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
}
