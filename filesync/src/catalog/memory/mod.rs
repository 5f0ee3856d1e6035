//! [`MemoryCatalog`]: an in-memory catalog per client over a [`SyncedLog`] shared by clients.
//!
//! The model follows LiveStore's sync: the synced log has one global order. Each client holds the
//! prefix of it that it has pulled plus its own synced events not pushed yet ("pending"); its `files`
//! rows are the materialization of that prefix followed by the pending events. Pulling new global
//! events *rebases*: the pending events are replayed on top of the new ones, so a client sees others'
//! events late and its own events may land after events it never saw. A push is refused while the
//! client is behind (it must pull first), as in LiveStore.
//!
//! In the default automatic mode every commit is pushed at once and every read pulls first, so
//! clients see each other's events immediately. In manual mode ([`SyncedLog::manual`]) the test
//! decides when each client pushes and pulls ([`MemoryCatalog::push`], [`MemoryCatalog::pull`],
//! [`MemoryCatalog::pull_some`]).
//!
//! Client-only events (`localFileState`, `fileTransferState`) apply to the client's own tables at
//! once and never travel. Materializers mirror the 0.8.0 package's: `FileCreated` inserts (an
//! existing id is refused before commit, as LiveStore would fail the insert), `FileUpdated` updates
//! (keeping `metadataJson` when absent, leaving `deletedAt`), `FileDeleted` sets `deletedAt`; updates
//! of unknown ids change nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use fs_core::MaybeSendBoxStream;
use futures::Stream;

use super::{Catalog, CatalogError, ChangeSet};
use crate::model::{FileEvent, FileRow, LocalFileStateRow, TransferStateRow};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `files` row a synced event is about.
fn synced_id(event: &FileEvent) -> Option<&str> {
    match event {
        FileEvent::FileCreated(e) => Some(&e.id),
        FileEvent::FileUpdated(e) => Some(&e.id),
        FileEvent::FileDeleted(e) => Some(&e.id),
        _ => None,
    }
}

/// Applies one synced event to `files` (the 0.8.0 materializers). Client-only events are ignored.
fn materialize(files: &mut BTreeMap<String, FileRow>, event: &FileEvent) {
    match event {
        FileEvent::FileCreated(e) => {
            files.entry(e.id.clone()).or_insert_with(|| FileRow {
                id: e.id.clone(),
                path: e.path.clone(),
                remote_key: String::new(),
                content_hash: e.content_hash.clone(),
                metadata_json: e.metadata_json.clone().flatten(),
                created_at: e.created_at,
                updated_at: e.updated_at,
                deleted_at: None,
            });
        }
        FileEvent::FileUpdated(e) => {
            let applies = |row: &FileRow| {
                e.if_content_hash
                    .as_ref()
                    .is_none_or(|hash| *hash == row.content_hash)
            };
            if let Some(row) = files.get_mut(&e.id).filter(|row| applies(row)) {
                row.path = e.path.clone();
                row.remote_key = e.remote_key.clone();
                row.content_hash = e.content_hash.clone();
                if let Some(meta) = &e.metadata_json {
                    row.metadata_json = meta.clone();
                }
                row.updated_at = e.updated_at;
            }
        }
        FileEvent::FileDeleted(e) => {
            if let Some(row) = files.get_mut(&e.id) {
                row.deleted_at = Some(e.deleted_at);
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Signal {
    /// What changed since the subscriber's last item.
    changed: ChangeSet,
    waker: Option<Waker>,
    closed: bool,
}

/// A subscriber's view of change notifications (coalescing).
struct Changes {
    signal: Arc<Mutex<Signal>>,
}

impl Stream for Changes {
    type Item = ChangeSet;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ChangeSet>> {
        let mut s = lock(&self.signal);
        if !s.changed.is_empty() {
            Poll::Ready(Some(std::mem::take(&mut s.changed)))
        } else if s.closed {
            Poll::Ready(None)
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

struct ClientState {
    /// How many global events are materialized into `confirmed`.
    pulled: usize,
    /// `files` after the pulled prefix.
    confirmed: BTreeMap<String, FileRow>,
    /// The ids of the `confirmed` rows per content hash (the index a store keeps on the column).
    by_hash: HashMap<String, BTreeSet<String>>,
    /// Own synced events not pushed yet.
    pending: Vec<FileEvent>,
    /// The rows the pending events touch, as this client sees them (confirmed + pending); every
    /// other row is as in `confirmed`. Kept small: a commit costs in proportion to its events.
    overlay: BTreeMap<String, FileRow>,
    local_states: BTreeMap<String, LocalFileStateRow>,
    transfer_states: BTreeMap<String, TransferStateRow>,
    subscribers: Vec<Weak<Mutex<Signal>>>,
    /// The next commit this predicate matches is refused (`test-util`).
    refuse_next: Option<CommitFilter>,
}

/// Picks commits by their events.
pub type CommitFilter = Arc<dyn Fn(&[FileEvent]) -> bool + Send + Sync>;

impl ClientState {
    /// Applies a synced event to `confirmed`, keeping `by_hash` up to date.
    fn confirm(&mut self, event: &FileEvent) {
        let Some(id) = synced_id(event) else { return };
        let before = self.confirmed.get(id).map(|f| f.content_hash.clone());
        materialize(&mut self.confirmed, event);
        let after = self.confirmed.get(id).map(|f| f.content_hash.clone());
        if before == after {
            return;
        }
        if let Some(old) = before {
            if let Some(ids) = self.by_hash.get_mut(&old) {
                ids.remove(id);
                if ids.is_empty() {
                    self.by_hash.remove(&old);
                }
            }
        }
        if let Some(new) = after {
            self.by_hash.entry(new).or_default().insert(id.to_owned());
        }
    }

    /// One `files` row as this client sees it.
    fn file(&self, id: &str) -> Option<&FileRow> {
        self.overlay.get(id).or_else(|| self.confirmed.get(id))
    }

    /// Every `files` row as this client sees it, ordered by id.
    fn files(&self) -> impl Iterator<Item = &FileRow> {
        let created = self
            .overlay
            .values()
            .filter(|f| !self.confirmed.contains_key(&f.id));
        let mut rows: Vec<&FileRow> = self
            .confirmed
            .values()
            .map(|f| self.overlay.get(&f.id).unwrap_or(f))
            .chain(created)
            .collect();
        if !self.overlay.is_empty() {
            rows.sort_by(|a, b| a.id.cmp(&b.id));
        }
        rows.into_iter()
    }

    /// Recomputes the overlay: the confirmed rows the pending events touch, with the pending
    /// events applied on top.
    fn rebuild_view(&mut self) {
        let mut overlay = BTreeMap::new();
        for e in &self.pending {
            if let Some(id) = synced_id(e) {
                if let Some(row) = self.confirmed.get(id) {
                    overlay.entry(id.to_owned()).or_insert_with(|| row.clone());
                }
            }
        }
        for e in &self.pending {
            materialize(&mut overlay, e);
        }
        self.overlay = overlay;
    }

    /// Tells every subscriber what changed.
    fn notify(&mut self, changed: &ChangeSet) {
        self.subscribers.retain(|w| {
            let Some(sig) = w.upgrade() else { return false };
            let waker = {
                let mut s = lock(&sig);
                s.changed.merge(changed.clone());
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
            true
        });
    }
}

struct LogInner {
    events: Vec<FileEvent>,
    manual: bool,
    clients: Vec<Weak<Mutex<ClientState>>>,
}

/// The synced event log shared by simulated clients (see the module docs). Clones share the log.
#[derive(Clone)]
pub struct SyncedLog {
    inner: Arc<Mutex<LogInner>>,
}

impl Default for SyncedLog {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncedLog {
    /// A log in automatic mode: commits are pushed at once and reads pull first.
    pub fn new() -> Self {
        SyncedLog {
            inner: Arc::new(Mutex::new(LogInner {
                events: Vec::new(),
                manual: false,
                clients: Vec::new(),
            })),
        }
    }

    /// A log in manual mode: clients push and pull only when told to (feature `test-util`: late
    /// and out-of-order delivery for tests).
    #[cfg(any(test, feature = "test-util"))]
    pub fn manual() -> Self {
        let log = Self::new();
        lock(&log.inner).manual = true;
        log
    }

    /// Every synced event in the global order.
    pub fn events(&self) -> Vec<FileEvent> {
        lock(&self.inner).events.clone()
    }

    /// How many events the global log holds.
    pub fn len(&self) -> usize {
        lock(&self.inner).events.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `files` rows of the whole log (what every client sees once it has pushed and pulled all).
    pub fn files(&self) -> BTreeMap<String, FileRow> {
        let mut files = BTreeMap::new();
        for e in &lock(&self.inner).events {
            materialize(&mut files, e);
        }
        files
    }

    /// A new client of this log with empty client-only tables.
    pub fn client(&self) -> MemoryCatalog {
        let state = Arc::new(Mutex::new(ClientState {
            pulled: 0,
            confirmed: BTreeMap::new(),
            by_hash: HashMap::new(),
            pending: Vec::new(),
            overlay: BTreeMap::new(),
            local_states: BTreeMap::new(),
            transfer_states: BTreeMap::new(),
            subscribers: Vec::new(),
            refuse_next: None,
        }));
        lock(&self.inner).clients.push(Arc::downgrade(&state));
        MemoryCatalog {
            log: self.clone(),
            state,
        }
    }

    /// Tells every other client's subscribers about new global events (theirs to pull).
    fn announce(&self, except: &Arc<Mutex<ClientState>>, changed: &ChangeSet) {
        let clients: Vec<_> = {
            let mut inner = lock(&self.inner);
            inner.clients.retain(|w| w.strong_count() > 0);
            inner.clients.iter().filter_map(Weak::upgrade).collect()
        };
        for c in clients {
            if !Arc::ptr_eq(&c, except) {
                lock(&c).notify(changed);
            }
        }
    }
}

/// One client's catalog over a [`SyncedLog`]. Clones share the client (like tabs of one store
/// sharing a LiveStore client session would share its tables).
#[derive(Clone)]
pub struct MemoryCatalog {
    log: SyncedLog,
    state: Arc<Mutex<ClientState>>,
}

impl Default for MemoryCatalog {
    fn default() -> Self {
        SyncedLog::new().client()
    }
}

impl MemoryCatalog {
    /// A catalog with its own (automatic) log: a single client.
    pub fn new() -> Self {
        Self::default()
    }

    /// The log this client syncs with.
    pub fn log(&self) -> &SyncedLog {
        &self.log
    }

    /// Pulls up to `max` new global events (late delivery), rebasing pending events on top.
    /// Returns how many were pulled.
    pub fn pull_some(&self, max: usize) -> usize {
        let log = lock(&self.log.inner);
        let mut st = lock(&self.state);
        let start = st.pulled;
        let end = log.events.len().min(start.saturating_add(max));
        let mut changed = ChangeSet::of_events(&log.events[start..end]);
        for e in &log.events[start..end] {
            st.confirm(e);
        }
        st.pulled = end;
        drop(log);
        let n = end - start;
        if n > 0 {
            // The rebase replays the pending events on top: their rows may change too.
            for e in &st.pending {
                changed.add_event(e);
            }
            st.rebuild_view();
            st.notify(&changed);
        }
        n
    }

    /// Pulls every new global event (rebasing pending ones). Returns how many were pulled.
    pub fn pull(&self) -> usize {
        self.pull_some(usize::MAX)
    }

    /// Pushes the pending events to the log. Refused (returns false, nothing moves) while this client
    /// has not pulled every global event; then [`MemoryCatalog::pull`] first.
    pub fn push(&self) -> bool {
        let mut log = lock(&self.log.inner);
        let mut st = lock(&self.state);
        if st.pulled != log.events.len() {
            return false;
        }
        let pending = std::mem::take(&mut st.pending);
        if pending.is_empty() {
            return true;
        }
        for e in &pending {
            st.confirm(e);
        }
        st.pulled += pending.len();
        let changed = ChangeSet::of_events(&pending);
        log.events.extend(pending);
        st.overlay.clear();
        drop(st);
        drop(log);
        self.log.announce(&self.state, &changed);
        true
    }

    /// Pull, then push.
    pub fn sync(&self) {
        self.pull();
        self.push();
    }

    /// How many own synced events wait to be pushed.
    pub fn pending_len(&self) -> usize {
        lock(&self.state).pending.len()
    }

    /// Refuses the next commit whose events `filter` matches, as an unavailable store would
    /// (feature `test-util`: best-effort commits that fail, and what repairs them).
    #[cfg(any(test, feature = "test-util"))]
    pub fn refuse_next_commit(&self, filter: CommitFilter) {
        lock(&self.state).refuse_next = Some(filter);
    }

    /// Simulates a restart of the client: subscribers are closed; tables and pending events stay
    /// (LiveStore persists both).
    pub fn close_subscribers(&self) {
        let mut st = lock(&self.state);
        for w in st.subscribers.drain(..) {
            if let Some(sig) = w.upgrade() {
                let waker = {
                    let mut s = lock(&sig);
                    s.closed = true;
                    s.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }
        }
    }

    fn auto_pull(&self) {
        if !lock(&self.log.inner).manual {
            self.pull();
        }
    }

    fn validate(st: &ClientState, events: &[FileEvent]) -> Result<(), CatalogError> {
        let mut created: Vec<&str> = Vec::new();
        for e in events {
            match e {
                FileEvent::FileCreated(c) => {
                    if c.id.is_empty() {
                        return Err(CatalogError::invalid(
                            "v1.FileCreated: id is empty".to_owned(),
                        ));
                    }
                    if st.file(&c.id).is_some() || created.contains(&c.id.as_str()) {
                        return Err(CatalogError::invalid(format!(
                            "v1.FileCreated: a file with id {:?} already exists",
                            c.id
                        ))
                        .with_file(&c.id));
                    }
                    created.push(&c.id);
                }
                FileEvent::LocalFileStateUpsert(r) if r.file_id.is_empty() => {
                    return Err(CatalogError::invalid(
                        "v1.LocalFileStateUpsert: fileId is empty".to_owned(),
                    ));
                }
                FileEvent::FileTransferStateUpsert(r) if r.file_id.is_empty() => {
                    return Err(CatalogError::invalid(
                        "v1.FileTransferStateUpsert: fileId is empty".to_owned(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl Catalog for MemoryCatalog {
    async fn files(&self) -> Result<Vec<FileRow>, CatalogError> {
        self.auto_pull();
        Ok(lock(&self.state).files().cloned().collect())
    }

    async fn file(&self, id: &str) -> Result<Option<FileRow>, CatalogError> {
        self.auto_pull();
        Ok(lock(&self.state).file(id).cloned())
    }

    async fn files_with_hash(&self, hash: &str) -> Result<Vec<FileRow>, CatalogError> {
        self.auto_pull();
        let st = lock(&self.state);
        let confirmed = st
            .by_hash
            .get(hash)
            .into_iter()
            .flatten()
            .filter(|id| !st.overlay.contains_key(*id))
            .filter_map(|id| st.confirmed.get(id));
        let mut rows: Vec<FileRow> = confirmed
            .chain(st.overlay.values().filter(|f| f.content_hash == hash))
            .cloned()
            .collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rows)
    }

    async fn local_states(&self) -> Result<Vec<LocalFileStateRow>, CatalogError> {
        Ok(lock(&self.state).local_states.values().cloned().collect())
    }

    async fn local_state(&self, file_id: &str) -> Result<Option<LocalFileStateRow>, CatalogError> {
        Ok(lock(&self.state).local_states.get(file_id).cloned())
    }

    async fn transfer_state(
        &self,
        file_id: &str,
    ) -> Result<Option<TransferStateRow>, CatalogError> {
        Ok(lock(&self.state).transfer_states.get(file_id).cloned())
    }

    async fn transfer_states(&self) -> Result<Vec<TransferStateRow>, CatalogError> {
        Ok(lock(&self.state)
            .transfer_states
            .values()
            .cloned()
            .collect())
    }

    async fn commit(&self, events: Vec<FileEvent>) -> Result<(), CatalogError> {
        if events.is_empty() {
            return Ok(());
        }
        self.auto_pull();
        let manual = lock(&self.log.inner).manual;
        let mut synced = false;
        {
            let mut st = lock(&self.state);
            if st.refuse_next.as_ref().is_some_and(|f| f(&events)) {
                st.refuse_next = None;
                return Err(CatalogError::unavailable(
                    "the commit was refused (an injected failure)",
                ));
            }
            Self::validate(&st, &events)?;
            let changed = ChangeSet::of_events(&events);
            for e in events {
                match e {
                    FileEvent::LocalFileStateUpsert(r) => {
                        st.local_states.insert(r.file_id.clone(), r);
                    }
                    FileEvent::LocalFileStateRemove(r) => {
                        st.local_states.remove(&r.file_id);
                    }
                    FileEvent::LocalFileStateClear(_) => st.local_states.clear(),
                    FileEvent::FileTransferStateUpsert(r) => {
                        st.transfer_states.insert(r.file_id.clone(), r);
                    }
                    FileEvent::FileTransferStateRemove(r) => {
                        st.transfer_states.remove(&r.file_id);
                    }
                    synced_event => {
                        synced = true;
                        st.pending.push(synced_event);
                    }
                }
            }
            if synced {
                st.rebuild_view();
            }
            st.notify(&changed);
        }
        if synced && !manual {
            self.push();
        }
        Ok(())
    }

    fn changes(&self) -> MaybeSendBoxStream<ChangeSet> {
        let signal = Arc::new(Mutex::new(Signal {
            changed: ChangeSet::everything(),
            waker: None,
            closed: false,
        }));
        lock(&self.state).subscribers.push(Arc::downgrade(&signal));
        Box::pin(Changes { signal })
    }
}

#[cfg(test)]
mod tests;
