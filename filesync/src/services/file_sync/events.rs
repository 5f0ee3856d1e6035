//! What the engine reports to the app.

use std::sync::{Arc, Mutex};

use crate::services::sync_executor::Direction;

use super::FileSyncError;

/// An engine event (the package's event types, with byte progress).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FileSyncEvent {
    /// The remote became reachable (queues resume).
    Online,
    /// The remote became unreachable (queues pause; nothing is lost).
    Offline,
    /// A transfer started.
    TransferStart {
        /// Upload or download.
        direction: Direction,
        /// The file.
        file_id: String,
    },
    /// Bytes moved.
    TransferProgress {
        /// Upload or download.
        direction: Direction,
        /// The file.
        file_id: String,
        /// Bytes done (a resumed transfer starts above zero).
        done: u64,
        /// Total bytes.
        total: u64,
    },
    /// A transfer finished and was recorded.
    TransferComplete {
        /// Upload or download.
        direction: Direction,
        /// The file.
        file_id: String,
    },
    /// A transfer failed; `will_retry` tells whether the executor tries again.
    TransferError {
        /// Upload or download.
        direction: Direction,
        /// The file.
        file_id: String,
        /// What happened (its kind, the file, and the cause underneath).
        error: FileSyncError,
        /// Whether another attempt is scheduled.
        will_retry: bool,
    },
    /// A transfer failed more often than the retry limit allows; the file's state is `error` until
    /// `retry_errors()`.
    TransferExhausted {
        /// Upload or download.
        direction: Direction,
        /// The file.
        file_id: String,
        /// The last error.
        error: FileSyncError,
    },
    /// A reconcile pass started.
    SyncStart,
    /// A reconcile pass finished.
    SyncComplete,
    /// A reconcile pass failed (it is tried again on the next change).
    SyncError {
        /// What happened.
        error: FileSyncError,
    },
    /// A delayed remote delete ran (the key was no longer referenced).
    RemoteDeleted {
        /// The deleted key.
        key: String,
    },
    /// `retry_errors()` re-queued files.
    ErrorRetry {
        /// The files.
        file_ids: Vec<String>,
    },
}

/// A registered listener.
#[cfg(not(target_arch = "wasm32"))]
pub type Listener = Arc<dyn Fn(&FileSyncEvent) + Send + Sync>;
/// A registered listener.
#[cfg(target_arch = "wasm32")]
pub type Listener = Arc<dyn Fn(&FileSyncEvent)>;

/// The id returned by `on_event`, to remove the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

#[derive(Default)]
pub(crate) struct Listeners {
    inner: Mutex<(u64, Vec<(u64, Listener)>)>,
}

impl Listeners {
    pub(crate) fn add(&self, listener: Listener) -> ListenerId {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0 += 1;
        let id = g.0;
        g.1.push((id, listener));
        ListenerId(id)
    }

    pub(crate) fn remove(&self, id: ListenerId) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let before = g.1.len();
        g.1.retain(|(i, _)| *i != id.0);
        g.1.len() != before
    }

    /// Calls every listener outside the lock; a panicking listener does not stop the others.
    pub(crate) fn emit(&self, event: FileSyncEvent) {
        let listeners: Vec<Listener> = {
            let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            g.1.iter().map(|(_, l)| l.clone()).collect()
        };
        for l in listeners {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l(&event))).is_err() {
                tracing::error!(
                    ?event,
                    "an event listener panicked; the other listeners still ran"
                );
            }
        }
    }
}
