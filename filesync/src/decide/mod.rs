//! The engine's decision rules (DESIGN §5) as a pure function: [`decide`].
//!
//! Given one `files` row, this client's `localFileState` row and what the local store holds for the
//! row's content hash, [`decide`] returns the [`Action`]s the engine should perform and the state row
//! change it should commit first. No I/O happens here; the engine gathers the facts, calls [`decide`],
//! commits the [`StateChange`] and then performs the actions.
//!
//! Rules, in the order they apply:
//! 1. No row, or a soft-deleted row: never a transfer. If this client still tracks the file (a state
//!    row exists) the state row is removed and, when the content is not referenced by another live row,
//!    a delayed remote delete is scheduled (it is re-checked against the catalog before it runs) and the
//!    local copy is removed. Without a state row only the local orphan copy is removed.
//! 2. A live row whose `contentHash` is empty or not a valid hash: no transfer, no state change.
//! 3. Local bytes are classified: verified (a fresh hash matches, or the state row's `localHash` matches
//!    and the stored size equals the recorded size), mismatching (a fresh hash differs), stale (the
//!    trusted record exists but the size differs: eviction or truncation), missing, or unknown.
//!    Unknown bytes are hashed first ([`Action::HashLocal`]); stale bytes with no remote copy too.
//! 4. `remoteKey` empty: upload only verified bytes; mismatching bytes are never uploaded (upload error).
//! 5. `remoteKey` set and the remote answered 404: verified bytes are re-uploaded; otherwise a download
//!    error is recorded.
//! 6. `remoteKey` set and verified bytes: mark done. Otherwise download (eager policy, or on-demand
//!    when requested; requested downloads have priority).
//!
//! A transfer already `queued`/`inProgress` is not scheduled again, and an `error` is not retried,
//! except at start-up, where `inProgress` is rewritten to `queued` and both are re-scheduled (restart
//! recovery) and errors are retried once more. Offline, no transfer is scheduled and no transfer
//! status changes. Deciding on the state after committing the returned change gives no transfer.

use crate::model::{FileRow, LocalFileStateRow, TransferStatus};
use crate::services::hash::ContentHash;

#[cfg(test)]
mod tests;

/// What the local store holds at the row's content-addressed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalBytes {
    /// No file at the path.
    Missing,
    /// A file is there.
    Present {
        /// Its current size in bytes.
        size: u64,
        /// Its hash, when it was computed in this session (`None`: not hashed yet).
        verified_hash: Option<ContentHash>,
    },
}

/// What the engine knows about the remote object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoteKnowledge {
    /// Nothing specific (the usual case).
    #[default]
    Unknown,
    /// A download of the row's `remoteKey` got 404.
    NotFound,
}

/// When remote content is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DownloadPolicy {
    /// Download every live file (the default).
    #[default]
    Eager,
    /// Download only files that are requested (resolved by the app).
    OnDemand,
}

/// Everything [`decide`] looks at, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    /// The `files` row, `None` when the catalog has none.
    pub file: Option<FileRow>,
    /// This client's `localFileState` row, `None` when it has none.
    pub state: Option<LocalFileStateRow>,
    /// The local path for the row's content (used when a state row has to be created).
    pub local_path: String,
    /// What the local store holds for the row's `contentHash`.
    pub local: LocalBytes,
    /// The size recorded when the local bytes were last verified (kept by the engine beside the row).
    pub recorded_size: Option<u64>,
    /// Whether another live row references the same content (then nothing of it may be deleted).
    pub shared: bool,
    /// What the engine knows about the remote object.
    pub remote: RemoteKnowledge,
    /// The download policy.
    pub policy: DownloadPolicy,
    /// Whether the app currently requests the file (on-demand resolve).
    pub requested: bool,
    /// Whether the client is online.
    pub online: bool,
    /// Whether this is the first reconcile after start-up (restart recovery).
    pub startup: bool,
}

/// One thing for the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Hash the local bytes, then decide again with the result.
    HashLocal,
    /// Upload the verified local bytes and set `remoteKey`.
    Upload,
    /// Download `remoteKey`; the bytes become visible only after their hash is verified.
    Download {
        /// Ahead of the eager queue (the file is requested).
        priority: bool,
    },
    /// The remote object is missing (404) and this client holds verified bytes: upload them again.
    ReUpload,
    /// Local bytes are verified and the remote has them: the state row is marked done.
    MarkDone,
    /// Queue a durable remote delete of this key, delayed by the grace period and re-checked then.
    ScheduleRemoteDelete {
        /// The remote key to delete.
        remote_key: String,
    },
    /// Remove the local copy (no live row references it).
    RemoveLocalCopy,
}

/// The change to this client's `localFileState` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateChange {
    /// Leave it as it is.
    Keep,
    /// Commit this row (`v1.LocalFileStateUpsert`).
    Upsert(LocalFileStateRow),
    /// Remove the row (`v1.LocalFileStateRemove`).
    Remove,
}

/// The outcome of [`decide`]: commit `state`, then perform `actions` (empty: nothing to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The actions, in the order to perform them.
    pub actions: Vec<Action>,
    /// The state row change to commit before performing them.
    pub state: StateChange,
}

impl Decision {
    /// True when there is nothing to do and nothing to commit.
    #[cfg(test)]
    pub fn is_nothing(&self) -> bool {
        self.actions.is_empty() && self.state == StateChange::Keep
    }
}

/// The message recorded when the remote object of a row is missing and no verified bytes exist here.
pub const ERR_REMOTE_MISSING: &str = "remote object not found (404) and no verified local copy";
/// The message recorded when local bytes do not hash to the row's `contentHash`.
pub const ERR_LOCAL_MISMATCH: &str = "local bytes do not match contentHash; not uploaded";

/// How the local bytes relate to the row's content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Local {
    Verified,
    Mismatch,
    Stale,
    Missing,
    Unknown,
}

fn classify(input: &DecisionInput, hash: &str) -> Local {
    match input.local {
        LocalBytes::Missing => Local::Missing,
        LocalBytes::Present {
            verified_hash: Some(h),
            ..
        } => {
            if h.to_hex() == hash {
                Local::Verified
            } else {
                Local::Mismatch
            }
        }
        LocalBytes::Present {
            size,
            verified_hash: None,
        } => {
            let trusted = input.state.as_ref().is_some_and(|s| s.local_hash == hash);
            match (trusted, input.recorded_size) {
                (true, Some(recorded)) if recorded == size => Local::Verified,
                (true, Some(_)) => Local::Stale,
                _ => Local::Unknown,
            }
        }
    }
}

/// Whether a transfer in `status` should be (re)scheduled now.
fn schedulable(status: TransferStatus, startup: bool) -> bool {
    match status {
        TransferStatus::Pending | TransferStatus::Done => true,
        TransferStatus::Queued | TransferStatus::InProgress | TransferStatus::Error => startup,
    }
}

fn changed(old: Option<&LocalFileStateRow>, new: LocalFileStateRow) -> StateChange {
    if old == Some(&new) {
        StateChange::Keep
    } else {
        StateChange::Upsert(new)
    }
}

/// Decides what to do about one file (see the module docs for the rules).
pub fn decide(input: &DecisionInput) -> Decision {
    let nothing = Decision {
        actions: Vec::new(),
        state: StateChange::Keep,
    };
    let file = match &input.file {
        Some(f) if f.deleted_at.is_none() => f,
        other => {
            // Gone or soft-deleted: clean up, never transfer.
            let mut actions = Vec::new();
            let tracked = input.state.is_some();
            if tracked && !input.shared {
                if let Some(f) = other {
                    if !f.remote_key.is_empty() {
                        actions.push(Action::ScheduleRemoteDelete {
                            remote_key: f.remote_key.clone(),
                        });
                    }
                }
            }
            if input.local != LocalBytes::Missing && !input.shared {
                actions.push(Action::RemoveLocalCopy);
            }
            let state = if tracked {
                StateChange::Remove
            } else {
                StateChange::Keep
            };
            return Decision { actions, state };
        }
    };
    let hash = file.content_hash.as_str();
    if ContentHash::parse(hash).is_err() {
        return nothing;
    }
    let base = input.state.clone().unwrap_or_else(|| LocalFileStateRow {
        file_id: file.id.clone(),
        path: input.local_path.clone(),
        local_hash: String::new(),
        download_status: TransferStatus::Pending,
        upload_status: TransferStatus::Pending,
        last_sync_error: String::new(),
    });
    let old = input.state.as_ref();
    let local = classify(input, hash);
    let one = |action: Action, row: LocalFileStateRow| Decision {
        actions: vec![action],
        state: changed(old, row),
    };

    if local == Local::Unknown || (local == Local::Stale && file.remote_key.is_empty()) {
        return Decision {
            actions: vec![Action::HashLocal],
            state: StateChange::Keep,
        };
    }

    if file.remote_key.is_empty() {
        return match local {
            Local::Verified => {
                if !input.online || !schedulable(base.upload_status, input.startup) {
                    return nothing;
                }
                let row = LocalFileStateRow {
                    local_hash: hash.to_owned(),
                    upload_status: TransferStatus::Queued,
                    last_sync_error: String::new(),
                    ..base
                };
                one(Action::Upload, row)
            }
            Local::Mismatch => {
                let row = LocalFileStateRow {
                    local_hash: String::new(),
                    upload_status: TransferStatus::Error,
                    last_sync_error: ERR_LOCAL_MISMATCH.to_owned(),
                    ..base
                };
                Decision {
                    actions: Vec::new(),
                    state: changed(old, row),
                }
            }
            // Missing: another client has to upload first.
            _ => nothing,
        };
    }

    if input.remote == RemoteKnowledge::NotFound {
        if local == Local::Verified {
            if !input.online || !schedulable(base.upload_status, input.startup) {
                return nothing;
            }
            let row = LocalFileStateRow {
                local_hash: hash.to_owned(),
                upload_status: TransferStatus::Queued,
                last_sync_error: String::new(),
                ..base
            };
            return one(Action::ReUpload, row);
        }
        let row = LocalFileStateRow {
            local_hash: String::new(),
            download_status: TransferStatus::Error,
            last_sync_error: ERR_REMOTE_MISSING.to_owned(),
            ..base
        };
        return Decision {
            actions: Vec::new(),
            state: changed(old, row),
        };
    }

    if local == Local::Verified {
        let row = LocalFileStateRow {
            local_hash: hash.to_owned(),
            download_status: TransferStatus::Done,
            upload_status: TransferStatus::Done,
            last_sync_error: String::new(),
            ..base
        };
        if old == Some(&row) {
            return nothing;
        }
        return one(Action::MarkDone, row);
    }

    // Missing, mismatching or stale bytes and a remote copy: download.
    let wanted = match input.policy {
        DownloadPolicy::Eager => true,
        DownloadPolicy::OnDemand => input.requested,
    };
    if !wanted || !input.online || !schedulable(base.download_status, input.startup) {
        return nothing;
    }
    let row = LocalFileStateRow {
        local_hash: String::new(),
        download_status: TransferStatus::Queued,
        last_sync_error: String::new(),
        ..base
    };
    one(
        Action::Download {
            priority: input.requested,
        },
        row,
    )
}
