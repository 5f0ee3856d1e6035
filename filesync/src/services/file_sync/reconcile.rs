//! The reconcile pass: every file's facts → [`decide`] → one batched state commit → actions.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::decide::{
    decide, Action, DecisionInput, DownloadPolicy, LocalBytes, RemoteKnowledge, StateChange,
};
use crate::model::{local_path, FileRow, TransferStateRow, TransferStatus};
use crate::services::hash::ContentHash;
use crate::services::local_file_state::StateBatch;
use crate::services::sync_executor::Direction;

use super::state::Lifecycle;
use super::{lifecycle, FileSyncEvent, FileSyncResult, Inner};

/// Asks for a reconcile soon (coalesced: one runs at a time, and one more after it when asked
/// meanwhile).
pub(super) fn request(inner: &Arc<Inner>) {
    {
        let mut st = inner.state();
        if st.lifecycle != Lifecycle::Started {
            return;
        }
        st.passes.wanted = true;
        if st.passes.task_scheduled {
            return;
        }
        st.passes.task_scheduled = true;
    }
    let inner = inner.clone();
    inner.runtime.clone().spawn(Box::pin(async move {
        loop {
            // A failure is logged and reported as `SyncError` by `reconcile` itself.
            let _ = reconcile(&inner).await;
            let mut st = inner.state();
            if !st.passes.wanted || st.stopped() {
                st.passes.task_scheduled = false;
                return;
            }
        }
    }));
}

/// Runs reconcile passes until no further one was requested.
pub(super) async fn reconcile(inner: &Arc<Inner>) -> FileSyncResult<()> {
    let _guard = inner.reconcile_lock.lock().await;
    loop {
        {
            let mut st = inner.state();
            if st.stopped() {
                return Ok(());
            }
            st.passes.running = true;
            st.passes.wanted = false;
        }
        let result = pass(inner).await;
        let again = {
            let mut st = inner.state();
            st.passes.running = false;
            st.passes.wanted
        };
        if let Err(e) = &result {
            inner.state().passes.wanted = false;
            tracing::warn!(error = %e, "reconcile failed; it runs again at the next change");
            inner.emit(FileSyncEvent::SyncError { error: e.clone() });
            return result;
        }
        if !again {
            return Ok(());
        }
    }
}

/// Whether the file's local bytes are verified (session hash, or the trusted record with the same
/// size).
pub(super) async fn is_verified_local(
    inner: &Inner,
    file_id: &str,
    hash: &ContentHash,
) -> FileSyncResult<bool> {
    let Some(size) = inner.storage.exists(hash).await? else {
        // Gone behind the engine's back (eviction): forget it and look at the store again.
        let mut st = inner.state();
        if st.index.remove(hash).is_some() {
            st.rescan_wanted = true;
        }
        st.verified.remove(hash);
        return Ok(false);
    };
    if inner.state().verified.get(hash) == Some(&size) {
        return Ok(true);
    }
    let hex = hash.to_hex();
    let trusted = inner
        .catalog
        .local_state(file_id)
        .await?
        .is_some_and(|s| s.local_hash == hex);
    let recorded = inner
        .catalog
        .transfer_state(file_id)
        .await?
        .is_some_and(|t| t.content_hash == hex && t.local_size == Some(size));
    Ok(trusted && recorded)
}

async fn pass(inner: &Arc<Inner>) -> FileSyncResult<()> {
    inner.emit(FileSyncEvent::SyncStart);
    let startup = std::mem::take(&mut inner.state().startup_pass_pending);
    let files: HashMap<String, FileRow> = inner
        .catalog
        .files()
        .await?
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect();
    let states: HashMap<_, _> = inner
        .catalog
        .local_states()
        .await?
        .into_iter()
        .map(|s| (s.file_id.clone(), s))
        .collect();
    let transfers: HashMap<_, _> = inner
        .catalog
        .transfer_states()
        .await?
        .into_iter()
        .map(|t| (t.file_id.clone(), t))
        .collect();
    // The listing: read from the store at start-up, on request and every `rescan_interval`;
    // otherwise the engine's own index.
    let now = inner.now();
    let rescan = {
        let st = inner.state();
        startup
            || st.rescan_wanted
            || st.index_scanned_at.is_none_or(|at| {
                now - at
                    >= i64::try_from(inner.options.rescan_interval.as_millis()).unwrap_or(i64::MAX)
            })
    };
    let listing: HashMap<ContentHash, u64> = if rescan {
        let listing: HashMap<ContentHash, u64> = inner.storage.list().await?.into_iter().collect();
        let mut st = inner.state();
        st.index = listing.clone();
        st.index_scanned_at = Some(now);
        st.rescan_wanted = false;
        listing
    } else {
        inner.state().index.clone()
    };

    // Live references per content hash.
    let mut live_refs: HashMap<&str, usize> = HashMap::new();
    for f in files.values().filter(|f| f.deleted_at.is_none()) {
        *live_refs.entry(f.content_hash.as_str()).or_default() += 1;
    }
    let online = inner.is_online();
    let local_only = inner.local_only();
    let policy = effective_policy(inner);
    let ids: BTreeSet<&String> = files.keys().chain(states.keys()).collect();

    let mut batch = StateBatch::new();
    let mut actions: Vec<(String, Option<ContentHash>, Action)> = Vec::new();
    for id in ids {
        let file = files.get(id);
        let state = states.get(id);
        let transfer = transfers.get(id);
        let hash_text = match (file, state) {
            (Some(f), _) => f.content_hash.clone(),
            (None, Some(s)) => s.local_hash.clone(),
            (None, None) => continue,
        };
        let hash = ContentHash::parse(&hash_text).ok();
        let local = match hash.and_then(|h| listing.get(&h).map(|size| (h, *size))) {
            None => LocalBytes::Missing,
            Some((h, size)) => LocalBytes::Present {
                size,
                verified_hash: (inner.state().verified.get(&h) == Some(&size)).then_some(h),
            },
        };
        let recorded_size = transfer
            .filter(|t| t.content_hash == hash_text)
            .and_then(|t| t.local_size);
        let this_live = file.is_some_and(|f| f.deleted_at.is_none());
        let refs = live_refs.get(hash_text.as_str()).copied().unwrap_or(0);
        let shared = refs > usize::from(this_live);
        let requested = inner.state().requested.contains(id.as_str());
        // A state row that says queued/inProgress while no job exists (the job was lost: a cancel
        // racing a re-enqueue, a stop) is recovered as at start-up.
        let stuck = state.is_some_and(|s| {
            [
                (Direction::Upload, s.upload_status),
                (Direction::Download, s.download_status),
            ]
            .into_iter()
            .any(|(d, status)| {
                matches!(status, TransferStatus::Queued | TransferStatus::InProgress)
                    && !inner.executor.has_job(d, id)
                    && !inner.state().settling.contains(&(d, id.clone()))
            })
        });
        let mut input = DecisionInput {
            file: file.cloned(),
            state: state.cloned(),
            local_path: hash
                .map(|h| local_path(&inner.options.store_id, &h))
                .unwrap_or_default(),
            local,
            recorded_size,
            shared,
            remote: RemoteKnowledge::Unknown,
            policy,
            requested,
            online: online && !local_only,
            startup: startup || stuck,
        };
        // This client held other content for the row (it changed elsewhere): once the new content
        // is here the old may be an orphan, so the next pass re-reads the store and sweeps.
        if state.is_some_and(|s| !s.local_hash.is_empty() && s.local_hash != hash_text) {
            inner.state().rescan_wanted = true;
        }
        let mut decision = decide(&input);
        if decision.actions.first() == Some(&Action::HashLocal) {
            let (Some(h), LocalBytes::Present { size, .. }) = (hash, input.local) else {
                continue;
            };
            // One pass over the bytes gives the hash (a mismatch is reported with it).
            let stream = match inner
                .storage
                .read_stream(&h, fs_core::StreamOptions::default())
                .await
            {
                Ok(stream) => stream,
                Err(e) if e.kind() == fs_core::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let got = crate::services::hash::hash_stream(stream).await?;
            if got == h {
                inner.state().verified.insert(h, size);
            }
            input.local = LocalBytes::Present {
                size,
                verified_hash: Some(got),
            };
            decision = decide(&input);
        }
        match decision.state {
            StateChange::Keep => {}
            StateChange::Upsert(row) => {
                // Record the verified size with a verified local hash, so it survives restarts.
                if let (Some(h), LocalBytes::Present { size, .. }) = (hash, input.local) {
                    if row.local_hash == hash_text && recorded_size != Some(size) {
                        batch.upsert_transfer(TransferStateRow {
                            file_id: id.clone(),
                            content_hash: h.to_hex(),
                            local_size: Some(size),
                            upload_resume: transfer.and_then(|t| t.upload_resume.clone()),
                        });
                    }
                }
                batch.upsert(row);
            }
            StateChange::Remove => {
                batch.remove(id);
                if transfer.is_some() {
                    batch.remove_transfer(id);
                }
            }
        }
        for action in decision.actions {
            actions.push((id.clone(), hash, action));
        }
    }
    batch.commit(inner.catalog.as_ref()).await?;

    for (id, hash, action) in actions {
        match action {
            Action::Upload | Action::ReUpload => {
                inner.executor.enqueue(Direction::Upload, &id);
            }
            Action::Download { priority } => {
                if priority {
                    inner.executor.enqueue_first(Direction::Download, &id);
                } else {
                    inner.executor.enqueue(Direction::Download, &id);
                }
            }
            Action::MarkDone | Action::HashLocal => {}
            Action::ScheduleRemoteDelete { remote_key } => {
                if !local_only {
                    lifecycle::schedule_remote_delete(inner, &remote_key).await;
                }
            }
            Action::RemoveLocalCopy => {
                if let Some(h) = hash {
                    lifecycle::remove_local_copy(inner, &h).await?;
                }
            }
        }
    }
    if inner.options.orphan_sweep && rescan {
        lifecycle::sweep_orphans(inner, &files, &listing).await?;
    }
    if let Some(limit) = inner.options.cache_limit {
        lifecycle::enforce_cache_limit(inner, limit, &files).await?;
    }
    inner.emit(FileSyncEvent::SyncComplete);
    Ok(())
}

/// The download policy for this pass: with a cache limit, only requested content is downloaded
/// (evicted copies must not come straight back).
fn effective_policy(inner: &Inner) -> DownloadPolicy {
    if inner.options.cache_limit.is_some() {
        DownloadPolicy::OnDemand
    } else {
        inner.options.download_policy
    }
}
