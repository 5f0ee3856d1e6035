//! The background loops: catalog changes, health checks while offline, and online/offline moves.
//! Both loops end when the engine stops (they wait on its `stopping` signal, not only on time).

use std::sync::Arc;

use futures::StreamExt;

use super::health;
use super::inner::{self, Inner};

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
            inner::request_files(&inner, []);
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
                health::health_check(&inner).await;
            }
        }
    }));
}
