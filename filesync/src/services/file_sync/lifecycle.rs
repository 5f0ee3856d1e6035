//! The file lifecycle (DESIGN §5): delayed, durable, re-checked remote deletes; local copies
//! removed only when no live row references them; the orphan sweep; cache eviction.
//!
//! A remote delete is a record on the engine's own file system
//! (`…/{storeId}/.deletes/{sha256(key)}.json`, `{"key","dueAt"}`), so it survives restarts. When it
//! falls due the catalog is read again: any live row that still references the key (or its content
//! hash) cancels it. Offline or failing deletes stay and are tried again later.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fs_core::ErrorKind;

use crate::model::{FileRow, TransferStatus};
use crate::services::hash::ContentHash;
use crate::services::local_file_state::StateBatch;

use super::inner::{by_id, Inner};
use super::{health, FileSyncEvent, FileSyncResult};

/// Records a remote delete of `key`, due after the grace period, and arms its timer.
pub(super) async fn schedule_remote_delete(inner: &Arc<Inner>, key: &str) {
    let due = inner.now() + duration_ms(inner.options.delete_grace_period);
    if let Err(e) = inner.deletes.put(key, due).await {
        // Still delayed and re-checked in this session, but a restart before it runs forgets it.
        tracing::warn!(
            key,
            error = %e,
            "cannot record a pending remote delete; it runs only if this session outlasts the \
             grace period; check that the local storage is writable"
        );
        inner.emit(FileSyncEvent::SyncError { error: e.into() });
    }
    arm(inner, key.to_owned(), inner.options.delete_grace_period);
}

/// Arms the timers of the deletes recorded before a restart.
pub(super) async fn load_pending_deletes(inner: &Arc<Inner>) -> FileSyncResult<()> {
    let now = inner.now();
    for (key, due) in inner.deletes.list().await? {
        let wait = Duration::from_millis(u64::try_from(due - now).unwrap_or(0));
        arm(inner, key, wait);
    }
    Ok(())
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Runs the delete of `key` after `wait` (or never, when the engine stops first).
fn arm(inner: &Arc<Inner>, key: String, wait: Duration) {
    let weak = Arc::downgrade(inner);
    let sleep = inner.runtime.sleep(wait);
    let stopping = inner.stopping.clone();
    inner.runtime.spawn(Box::pin(async move {
        if stopping.run(sleep).await.is_none() {
            return;
        }
        let Some(inner) = weak.upgrade() else { return };
        run_delete(&inner, key).await;
    }));
}

/// Runs a due delete: re-checked against the catalog, skipped when referenced, retried later when it
/// cannot run now.
async fn run_delete(inner: &Arc<Inner>, key: String) {
    if inner.stopped() {
        return;
    }
    let due = match inner.deletes.get(&key).await {
        Ok(Some(due)) => due,
        // Done or cancelled meanwhile; an unreadable record is tried again later.
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(key, error = %e, "cannot read a pending remote delete; trying later");
            return arm(inner, key, retry_wait(inner));
        }
    };
    if due > inner.now() {
        // Re-scheduled later by another delete of the same key; that timer runs it.
        return;
    }
    // Keys are `{storeId}/{contentHash}`: a live row with that hash still needs the object.
    let hash = key.rsplit('/').next().unwrap_or_default();
    let files = match inner.catalog.files_with_hash(hash).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(key, error = %e, "cannot check a due remote delete; trying later");
            return arm(inner, key, retry_wait(inner));
        }
    };
    let referenced = files.iter().any(|f| f.deleted_at.is_none());
    if referenced {
        forget_delete(inner, &key).await;
        return;
    }
    if !inner.is_online() {
        return arm(inner, key, retry_wait(inner));
    }
    match inner.remote.delete(&key).await {
        Ok(()) => {
            tracing::info!(key, "deleted the remote copy");
            forget_delete(inner, &key).await;
            inner.emit(FileSyncEvent::RemoteDeleted { key });
        }
        Err(e) => {
            tracing::warn!(key, error = %e, "a remote delete failed; trying later");
            if e.suggests_offline() {
                health::health_check(inner).await;
            }
            arm(inner, key, retry_wait(inner));
        }
    }
}

/// Removes a delete's record. A record that stays is harmless: when it falls due again (after a
/// restart) it is re-checked, and a key that is gone or referenced is not deleted twice.
async fn forget_delete(inner: &Inner, key: &str) {
    if let Err(e) = inner.deletes.remove(key).await {
        tracing::warn!(key, error = %e, "cannot remove a pending remote delete's record");
    }
}

fn retry_wait(inner: &Inner) -> Duration {
    inner
        .options
        .health_check_interval
        .max(inner.options.executor.base_delay)
}

/// Whether a save is in progress (a sweep must not race a save that is about to record a blob).
/// If so, the removal is deferred: the last save to end requests a reconcile, which tries again.
fn defer_for_saves(inner: &Inner) -> bool {
    let mut st = inner.state();
    let busy = st.saving != 0;
    st.removal_deferred |= busy;
    busy
}

/// Removes a local blob when no live row references it (read fresh from the catalog) and no save
/// is in progress.
pub(super) async fn remove_local_copy(
    inner: &Arc<Inner>,
    hash: &ContentHash,
) -> FileSyncResult<()> {
    if defer_for_saves(inner) {
        return Ok(());
    }
    if is_referenced(inner, hash).await? {
        return Ok(());
    }
    if defer_for_saves(inner) {
        return Ok(());
    }
    inner.storage.remove(hash).await?;
    inner.storage.remove_partial(hash).await?;
    let mut st = inner.state();
    st.verified.remove(hash);
    st.index.remove(hash);
    Ok(())
}

/// Whether a live row references `hash` (read fresh from the catalog).
async fn is_referenced(inner: &Inner, hash: &ContentHash) -> FileSyncResult<bool> {
    Ok(inner
        .catalog
        .files_with_hash(&hash.to_hex())
        .await?
        .iter()
        .any(|f| f.deleted_at.is_none()))
}

/// Whether the local blob of `hash` was written less than `orphan_min_age` ago (another process or
/// tab may be about to record it); `None` when it is gone.
async fn is_recent(inner: &Inner, hash: &ContentHash) -> FileSyncResult<Option<bool>> {
    let min_age = inner.options.orphan_min_age;
    if min_age.is_zero() {
        return Ok(Some(false));
    }
    let info = match inner.storage.fs().stat(&inner.storage.path_for(hash)).await {
        Ok(info) => info,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let now = fs_core::SystemTime::now();
    Ok(Some(
        info.mtime
            .and_then(|m| now.duration_since(m).ok())
            .is_none_or(|age| age < min_age),
    ))
}

/// Removes the local blobs of `candidates` (content this client held before a change) that no
/// live row references and that were not written recently; a recent one is left to the next
/// rescan's sweep.
pub(super) async fn sweep_candidates(
    inner: &Arc<Inner>,
    candidates: std::collections::HashSet<ContentHash>,
) -> FileSyncResult<()> {
    for hash in candidates {
        if !inner.state().index.contains_key(&hash) {
            continue;
        }
        if is_recent(inner, &hash).await? != Some(false) {
            continue;
        }
        remove_local_copy(inner, &hash).await?;
    }
    Ok(())
}

/// Removes local blobs that no live row references and that were not written recently (another
/// process or tab may be about to record them).
pub(super) async fn sweep_orphans(
    inner: &Arc<Inner>,
    snapshot: &HashMap<String, FileRow>,
    listing: &HashMap<ContentHash, u64>,
) -> FileSyncResult<()> {
    let referenced: std::collections::HashSet<&str> = snapshot
        .values()
        .filter(|f| f.deleted_at.is_none())
        .map(|f| f.content_hash.as_str())
        .collect();
    let candidates: Vec<ContentHash> = listing
        .keys()
        .filter(|h| !referenced.contains(h.to_hex().as_str()))
        .copied()
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    for hash in candidates {
        if is_recent(inner, &hash).await? != Some(false) {
            continue;
        }
        remove_local_copy(inner, &hash).await?;
    }
    Ok(())
}

/// Evicts local copies that are safe on the remote, least recently updated first, until the
/// verified content takes at most `limit` bytes. Evicted files are downloaded again on request.
pub(super) async fn enforce_cache_limit(inner: &Arc<Inner>, limit: u64) -> FileSyncResult<()> {
    let mut total: u64 = inner.state().index.values().sum();
    if total <= limit {
        return Ok(());
    }
    let listing: HashMap<ContentHash, u64> = inner.state().index.clone();
    let snapshot = by_id(inner.catalog.files().await?, |f| &f.id);
    let states = by_id(inner.catalog.local_states().await?, |s| &s.file_id);
    let requested = inner.state().requested.clone();
    // Safe: a live row with a remote key (the remote holds the content) whose local copy is verified
    // and not being uploaded.
    let mut candidates: Vec<(&FileRow, ContentHash, u64)> = snapshot
        .values()
        .filter(|f| f.deleted_at.is_none() && !f.remote_key.is_empty())
        .filter(|f| !requested.contains(&f.id))
        .filter(|f| {
            states.get(&f.id).is_some_and(|s| {
                s.local_hash == f.content_hash && s.upload_status != TransferStatus::InProgress
            })
        })
        .filter_map(|f| {
            let h = ContentHash::parse(&f.content_hash).ok()?;
            listing.get(&h).map(|size| (f, h, *size))
        })
        .collect();
    candidates.sort_by_key(|(f, _, _)| (f.updated_at, f.id.clone()));
    let mut batch = StateBatch::new();
    let mut evicted: std::collections::HashSet<ContentHash> = Default::default();
    for (file, hash, size) in candidates {
        if total <= limit {
            break;
        }
        if evicted.insert(hash) {
            inner.storage.remove(&hash).await?;
            let mut st = inner.state();
            st.verified.remove(&hash);
            st.index.remove(&hash);
            drop(st);
            total = total.saturating_sub(size);
        }
        if let Some(s) = states.get(&file.id) {
            let mut row = s.clone();
            row.local_hash.clear();
            row.download_status = TransferStatus::Pending;
            batch.upsert(row);
            batch.remove_transfer(&file.id);
        }
    }
    // Other rows sharing an evicted hash lose their copy too.
    for f in snapshot.values() {
        if let (Ok(h), Some(s)) = (ContentHash::parse(&f.content_hash), states.get(&f.id)) {
            if evicted.contains(&h) && !s.local_hash.is_empty() {
                let mut row = s.clone();
                row.local_hash.clear();
                row.download_status = TransferStatus::Pending;
                batch.upsert(row);
                batch.remove_transfer(&f.id);
            }
        }
    }
    batch.commit(inner.catalog.as_ref()).await?;
    Ok(())
}
