//! The reconcile pass: every file's facts → [`decide`] → one batched state commit → actions.
//!
//! A pass covers either every row (start-up, a rescan of the local store, a move online, an
//! explicit call) or only the files whose rows changed since the last pass (the catalog's
//! [`crate::ChangeSet`]s and the engine's own requests), so the work after one change is in
//! proportion to the change, not to the store: each file in scope costs a few direct row lookups
//! and one lookup of the rows sharing its content.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;

use crate::decide::{
    decide, Action, DecisionInput, DownloadPolicy, LocalBytes, RemoteKnowledge, StateChange,
};
use crate::model::{local_path, FileRow, LocalFileStateRow, TransferStateRow, TransferStatus};
use crate::services::hash::ContentHash;
use crate::services::local_file_state::StateBatch;
use crate::services::sync_executor::Direction;

use super::inner::{by_id, Inner};
use super::state::Dirty;
use super::{lifecycle, FileSyncEvent, FileSyncResult};

/// The reconcile task: woken by `inner::request`/`request_files`, it runs passes until none is
/// wanted; it ends when the engine stops.
pub(super) fn spawn_task(inner: &Arc<Inner>, mut wakes: UnboundedReceiver<()>) {
    let weak = Arc::downgrade(inner);
    let stopping = inner.stopping.clone();
    inner.runtime.clone().spawn(Box::pin(async move {
        while let Some(Some(())) = stopping.run(wakes.next()).await {
            let Some(inner) = weak.upgrade() else { return };
            loop {
                // A failure is logged and reported as `SyncError` by `run_passes` itself.
                let _ = run_passes(&inner).await;
                let mut st = inner.state();
                if !st.passes.wanted || st.stopped() {
                    st.passes.task_scheduled = false;
                    break;
                }
            }
        }
    }));
}

/// Runs a pass over every row now, then any pass asked for meanwhile.
pub(super) async fn reconcile(inner: &Arc<Inner>) -> FileSyncResult<()> {
    inner.state().dirty.all = true;
    run_passes(inner).await
}

/// Runs passes until no further one was requested.
async fn run_passes(inner: &Arc<Inner>) -> FileSyncResult<()> {
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
            {
                let mut st = inner.state();
                st.passes.wanted = false;
                // The next pass looks at everything again.
                st.dirty.all = true;
            }
            tracing::warn!(error = %e, "reconcile failed; it runs again at the next change");
            inner.emit(FileSyncEvent::SyncError { error: e.clone() });
            return result;
        }
        if !again {
            return Ok(());
        }
    }
}

/// The rows a pass looks at.
#[derive(Default)]
struct Rows {
    /// The files in scope; `None`: every id with a `files` or `localFileState` row.
    scope: Option<BTreeSet<String>>,
    files: HashMap<String, FileRow>,
    states: HashMap<String, LocalFileStateRow>,
    transfers: HashMap<String, TransferStateRow>,
    /// Live `files` rows per content hash of the files in scope, as the catalog counted them (a
    /// pass over changed files); `None`: count them in `files` (a full pass).
    live_refs: Option<HashMap<String, usize>>,
}

impl Rows {
    /// Every row of every table.
    async fn all(inner: &Inner) -> FileSyncResult<Rows> {
        let files = by_id(inner.catalog.files().await?, |f| &f.id);
        let states = by_id(inner.catalog.local_states().await?, |s| &s.file_id);
        let transfers = by_id(inner.catalog.transfer_states().await?, |t| &t.file_id);
        Ok(Rows {
            scope: None,
            files,
            states,
            transfers,
            live_refs: None,
        })
    }

    /// The rows of `ids`, by direct lookups.
    async fn of(inner: &Inner, ids: BTreeSet<String>) -> FileSyncResult<Rows> {
        let mut rows = Rows::default();
        for id in &ids {
            if let Some(f) = inner.catalog.file(id).await? {
                rows.files.insert(id.clone(), f);
            }
            if let Some(s) = inner.catalog.local_state(id).await? {
                rows.states.insert(id.clone(), s);
            }
            if let Some(t) = inner.catalog.transfer_state(id).await? {
                rows.transfers.insert(id.clone(), t);
            }
        }
        let hashes: BTreeSet<String> = rows
            .files
            .values()
            .map(|f| f.content_hash.clone())
            .collect();
        let mut live_refs = HashMap::new();
        for hash in hashes {
            let live = inner
                .catalog
                .files_with_hash(&hash)
                .await?
                .iter()
                .filter(|f| f.deleted_at.is_none())
                .count();
            live_refs.insert(hash, live);
        }
        rows.live_refs = Some(live_refs);
        rows.scope = Some(ids);
        Ok(rows)
    }

    /// The ids in scope, in order.
    fn ids(&self) -> BTreeSet<&String> {
        match &self.scope {
            Some(ids) => ids.iter().collect(),
            None => self.files.keys().chain(self.states.keys()).collect(),
        }
    }
}

/// What the engine knows of one file, read in the pass's one look at the engine state.
struct Known<'a> {
    /// The row's content hash (the state row's when the file row is gone), as text and parsed.
    hash_text: &'a str,
    hash: Option<ContentHash>,
    /// The local blob of the row's content: its size, and whether this session verified it.
    local: LocalBytes,
    requested: bool,
    /// The file's transfers whose failure is being recorded (upload, download).
    settling: [bool; 2],
}

async fn pass(inner: &Arc<Inner>) -> FileSyncResult<()> {
    inner.emit(FileSyncEvent::SyncStart);
    let now = inner.now();
    let rescan_every = i64::try_from(inner.options.rescan_interval.as_millis()).unwrap_or(i64::MAX);
    let (startup, dirty, rescan) = {
        let mut st = inner.state();
        let startup = std::mem::take(&mut st.startup_pass_pending);
        let rescan = startup
            || st.rescan_wanted
            || st
                .index_scanned_at
                .is_none_or(|at| now - at >= rescan_every);
        (startup, std::mem::take(&mut st.dirty), rescan)
    };
    let Dirty {
        all,
        ids,
        orphan_candidates,
    } = dirty;
    let full = startup || all || rescan;
    let rows = if full {
        Rows::all(inner).await?
    } else {
        Rows::of(inner, ids).await?
    };
    // The listing: read from the store at start-up, on request and every `rescan_interval`;
    // otherwise the engine's own index.
    let listing: Option<HashMap<ContentHash, u64>> = if rescan {
        let listing: HashMap<ContentHash, u64> = inner.storage.list().await?.into_iter().collect();
        let mut st = inner.state();
        st.index = listing.clone();
        st.index_scanned_at = Some(now);
        st.rescan_wanted = false;
        Some(listing)
    } else {
        None
    };

    // A pass over changed files looks up the blobs its index lacks: another tab or process sharing
    // the store may have written them (it saved the file), and its rows arrive as a change. The
    // cost is one `stat` per changed file whose bytes this engine has not seen.
    if listing.is_none() && rows.scope.is_some() {
        let unseen: Vec<ContentHash> = {
            let st = inner.state();
            rows.ids()
                .into_iter()
                .filter_map(|id| rows.files.get(id))
                .filter_map(|f| ContentHash::parse(&f.content_hash).ok())
                .filter(|h| !st.index.contains_key(h))
                .collect()
        };
        for hash in unseen {
            if let Some(size) = inner.storage.exists(&hash).await? {
                inner.state().index.insert(hash, size);
            }
        }
    }

    let online = inner.is_online();
    let local_only = inner.local_only();
    let policy = effective_policy(inner);
    let hash_of = |id: &String| -> &str {
        match (rows.files.get(id), rows.states.get(id)) {
            (Some(f), _) => &f.content_hash,
            (None, Some(s)) => &s.local_hash,
            (None, None) => "",
        }
    };
    // Live `files` rows per content hash.
    let live_refs: HashMap<&str, usize> = match &rows.live_refs {
        Some(counted) => counted.iter().map(|(h, n)| (h.as_str(), *n)).collect(),
        None => {
            let mut refs = HashMap::new();
            for f in rows.files.values().filter(|f| f.deleted_at.is_none()) {
                *refs.entry(f.content_hash.as_str()).or_default() += 1;
            }
            refs
        }
    };
    // One look at the engine state for every file in scope (in the order of `ids`).
    let ids = rows.ids();
    let known: Vec<Known> = {
        let st = inner.state();
        ids.iter()
            .map(|id| {
                let hash_text = hash_of(id);
                let hash = ContentHash::parse(hash_text).ok();
                let size = hash.and_then(|h| match &listing {
                    Some(listing) => listing.get(&h).copied(),
                    None => st.index.get(&h).copied(),
                });
                let local = match (hash, size) {
                    (Some(h), Some(size)) => LocalBytes::Present {
                        size,
                        verified_hash: (st.verified.get(&h) == Some(&size)).then_some(h),
                    },
                    _ => LocalBytes::Missing,
                };
                let settling = if st.settling.is_empty() {
                    [false, false]
                } else {
                    [Direction::Upload, Direction::Download]
                        .map(|d| st.settling.contains(&(d, (*id).clone())))
                };
                Known {
                    hash_text,
                    hash,
                    local,
                    requested: st.requested.contains(id.as_str()),
                    settling,
                }
            })
            .collect()
    };

    let mut orphan_candidates = orphan_candidates;
    let mut batch = StateBatch::new();
    let mut actions: Vec<(String, Option<ContentHash>, Action)> = Vec::new();
    for (id, known) in ids.iter().copied().zip(&known) {
        let file = rows.files.get(id);
        let state = rows.states.get(id);
        let transfer = rows.transfers.get(id);
        if file.is_none() && state.is_none() {
            continue;
        }
        let (hash_text, hash) = (known.hash_text, known.hash);
        let recorded_size = transfer
            .filter(|t| t.content_hash == hash_text)
            .and_then(|t| t.local_size);
        let this_live = file.is_some_and(|f| f.deleted_at.is_none());
        let refs = live_refs.get(hash_text).copied().unwrap_or(0);
        let shared = refs > usize::from(this_live);
        // A state row that says queued/inProgress while no job exists (the job was lost: a cancel
        // racing a re-enqueue, a stop, a failed commit) is recovered as at start-up.
        let stuck = state.is_some_and(|s| {
            [
                (Direction::Upload, s.upload_status, known.settling[0]),
                (Direction::Download, s.download_status, known.settling[1]),
            ]
            .into_iter()
            .any(|(d, status, settling)| {
                matches!(status, TransferStatus::Queued | TransferStatus::InProgress)
                    && !settling
                    && !inner.executor.has_job(d, id)
            })
        });
        let mut input = DecisionInput {
            file: file.cloned(),
            state: state.cloned(),
            local_path: hash
                .map(|h| local_path(&inner.options.store_id, &h))
                .unwrap_or_default(),
            local: known.local,
            recorded_size,
            shared,
            remote: RemoteKnowledge::Unknown,
            policy,
            requested: known.requested,
            online: online && !local_only,
            startup: startup || stuck,
        };
        // This client held other content for the row (it changed elsewhere): once the new content
        // is here the old may be an orphan.
        if let Some(s) = state.filter(|s| !s.local_hash.is_empty() && s.local_hash != hash_text) {
            if let Ok(old) = ContentHash::parse(&s.local_hash) {
                orphan_candidates.insert(old);
            }
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
    if inner.options.orphan_sweep {
        match &listing {
            Some(listing) => lifecycle::sweep_orphans(inner, &rows.files, listing).await?,
            None => lifecycle::sweep_candidates(inner, orphan_candidates).await?,
        }
    }
    if let Some(limit) = inner.options.cache_limit {
        lifecycle::enforce_cache_limit(inner, limit).await?;
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
