//! Online and offline: health checks and what a move between the two does.

use super::inner::{self, Inner};
use super::FileSyncEvent;

/// Moves between online and offline: pauses or resumes the executor and reports it.
pub(super) fn set_online(inner: &Inner, online: bool) {
    let changed = {
        let mut st = inner.state();
        let changed = st.online != online;
        st.online = online;
        changed
    };
    if !changed {
        return;
    }
    if online {
        tracing::info!(store = inner.options.store_id.as_str(), "remote reachable");
        inner.executor.resume();
        inner.emit(FileSyncEvent::Online);
        inner::request(inner);
    } else {
        tracing::info!(
            store = inner.options.store_id.as_str(),
            "remote unreachable; transfers paused"
        );
        inner.executor.pause();
        inner.emit(FileSyncEvent::Offline);
    }
}

/// Checks the remote's health once (concurrent checks share the first), updating online/offline.
pub(super) async fn health_check(inner: &Inner) -> bool {
    if inner.local_only() {
        return false;
    }
    {
        let mut st = inner.state();
        if st.health_check_running {
            return st.online;
        }
        st.health_check_running = true;
    }
    let result = inner.remote.health().await;
    if let Err(e) = &result {
        tracing::debug!(error = %e, "health check failed");
    }
    inner.state().health_check_running = false;
    set_online(inner, result.is_ok());
    result.is_ok()
}
