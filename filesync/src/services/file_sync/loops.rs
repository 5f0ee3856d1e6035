//! The background loops: catalog changes, health checks while offline, and online/offline moves.
//! Both loops end when the engine stops (they wait on its `stopping` signal, not only on time).

use std::sync::Arc;

use futures::StreamExt;

use super::{reconcile, FileSyncEvent, Inner};

/// Moves between online and offline: pauses or resumes the executor and reports it.
pub(super) fn set_online(inner: &Arc<Inner>, online: bool) {
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
        reconcile::request(inner);
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
pub(super) async fn health_check(inner: &Arc<Inner>) -> bool {
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

/// Reconciles after catalog changes (debounced), until the engine stops.
pub(super) fn spawn_change_loop(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let mut changes = inner.catalog.changes();
    let runtime = inner.runtime.clone();
    let debounce = inner.options.reconcile_debounce;
    let stopping = inner.stopping.clone();
    runtime.clone().spawn(Box::pin(async move {
        while let Some(Some(changed)) = stopping.run(changes.next()).await {
            match weak.upgrade() {
                Some(inner) => {
                    let mut st = inner.state();
                    st.passes.change_debouncing = true;
                    if changed.everything {
                        st.dirty.all = true;
                    } else {
                        st.dirty.ids.extend(changed.file_ids());
                    }
                }
                None => return,
            }
            if !debounce.is_zero() && stopping.run(runtime.sleep(debounce)).await.is_none() {
                return;
            }
            let Some(inner) = weak.upgrade() else { return };
            inner.state().passes.change_debouncing = false;
            if inner.stopped() {
                return;
            }
            reconcile::request_files(&inner, []);
        }
    }));
}

/// Checks the remote's health every `health_check_interval` while offline, until the engine stops.
pub(super) fn spawn_health_loop(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let runtime = inner.runtime.clone();
    let interval = inner.options.health_check_interval;
    let stopping = inner.stopping.clone();
    runtime.clone().spawn(Box::pin(async move {
        while stopping.run(runtime.sleep(interval)).await.is_some() {
            let Some(inner) = weak.upgrade() else { return };
            if inner.stopped() {
                return;
            }
            if !inner.state().online {
                health_check(&inner).await;
            }
        }
    }));
}
