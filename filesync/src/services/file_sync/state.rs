//! The engine's mutable state, behind one mutex that is never held across an await.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::services::hash::ContentHash;
use crate::services::sync_executor::Direction;

/// Where the engine is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Lifecycle {
    /// Built, not started: API calls work, nothing runs in the background.
    #[default]
    Created,
    /// `start()` ran: the loops run and reconciles happen.
    Started,
    /// `stop()` ran: calls answer `Stopped`, nothing new starts.
    Stopped,
}

/// The bookkeeping of reconcile passes (one runs at a time; requests meanwhile coalesce).
#[derive(Debug, Default)]
pub(super) struct Passes {
    /// A pass is running now.
    pub(super) running: bool,
    /// A (further) pass was asked for and has not started yet.
    pub(super) wanted: bool,
    /// A background task that runs passes is scheduled or running.
    pub(super) task_scheduled: bool,
    /// A catalog change arrived and its pass waits out the debounce.
    pub(super) change_debouncing: bool,
}

impl Passes {
    /// No pass runs, none is wanted or scheduled, no change waits.
    pub(super) fn is_idle(&self) -> bool {
        !self.running && !self.wanted && !self.task_scheduled && !self.change_debouncing
    }
}

/// What the next pass must look at.
#[derive(Debug, Default)]
pub(super) struct Dirty {
    /// Every row.
    pub(super) all: bool,
    /// These files (their rows changed, or the engine asked).
    pub(super) ids: BTreeSet<String>,
    /// Content this client held before a change: removed when no live row references it.
    pub(super) orphan_candidates: HashSet<ContentHash>,
}

#[derive(Default)]
pub(super) struct EngineState {
    pub(super) lifecycle: Lifecycle,
    /// The remote answered its last health check (meaningless in local-only mode).
    pub(super) online: bool,
    /// A health check is running (concurrent checks share it).
    pub(super) health_check_running: bool,
    /// The next pass is the start-up one (restart recovery).
    pub(super) startup_pass_pending: bool,
    pub(super) passes: Passes,
    /// What the next pass covers.
    pub(super) dirty: Dirty,
    /// Content verified in this session: hash → size.
    pub(super) verified: HashMap<ContentHash, u64>,
    /// Files the app asked for (on-demand policy, priority).
    pub(super) requested: HashSet<String>,
    /// The local blobs (hash → size) as of the last listing, kept up to date by the engine's own
    /// writes and removals.
    pub(super) index: HashMap<ContentHash, u64>,
    /// When the index was last read from the store (runtime ms); `None`: never.
    pub(super) index_scanned_at: Option<i64>,
    /// The next pass re-reads the listing.
    pub(super) rescan_wanted: bool,
    /// Saves and updates in progress (between the first byte written and the commit).
    pub(super) saving: usize,
    /// A local removal was skipped because a save was in progress: the last save to end asks
    /// for a pass (a save that fails commits nothing, so no catalog change would).
    pub(super) removal_deferred: bool,
    /// Transfers whose final state (error, queued for a retry) is being committed.
    pub(super) settling: HashSet<(Direction, String)>,
    /// A best-effort commit of a transfer failed: a pass runs once the job has ended (the executor
    /// no longer lists it) and repairs the state it left.
    pub(super) repair_wanted: bool,
    /// Latest upload resume tokens not yet committed.
    pub(super) resume_tokens: HashMap<String, Option<String>>,
}

impl EngineState {
    pub(super) fn new() -> Self {
        EngineState {
            online: true,
            startup_pass_pending: true,
            dirty: Dirty {
                all: true,
                ..Dirty::default()
            },
            ..EngineState::default()
        }
    }

    pub(super) fn stopped(&self) -> bool {
        self.lifecycle == Lifecycle::Stopped
    }
}
