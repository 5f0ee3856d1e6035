use super::*;

const H: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY: &str = "store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn h() -> ContentHash {
    ContentHash::parse(H).unwrap()
}

fn other_hash() -> ContentHash {
    ContentHash::from_bytes([0xbb; 32])
}

fn row(remote_key: &str) -> FileRow {
    FileRow {
        id: "f1".into(),
        path: "a.txt".into(),
        remote_key: remote_key.into(),
        content_hash: H.into(),
        metadata_json: None,
        created_at: 1,
        updated_at: 2,
        deleted_at: None,
    }
}

fn deleted(remote_key: &str) -> FileRow {
    FileRow {
        deleted_at: Some(3),
        ..row(remote_key)
    }
}

fn state(local_hash: &str, down: TransferStatus, up: TransferStatus) -> LocalFileStateRow {
    LocalFileStateRow {
        file_id: "f1".into(),
        path: "local/a".into(),
        local_hash: local_hash.into(),
        download_status: down,
        upload_status: up,
        last_sync_error: String::new(),
    }
}

fn input(file: Option<FileRow>, st: Option<LocalFileStateRow>, local: LocalBytes) -> DecisionInput {
    DecisionInput {
        file,
        state: st,
        local_path: "local/a".into(),
        local,
        recorded_size: None,
        shared: false,
        remote: RemoteKnowledge::Unknown,
        policy: DownloadPolicy::Eager,
        requested: false,
        online: true,
        startup: false,
    }
}

const P: TransferStatus = TransferStatus::Pending;
const Q: TransferStatus = TransferStatus::Queued;
const IP: TransferStatus = TransferStatus::InProgress;
const D: TransferStatus = TransferStatus::Done;
const E: TransferStatus = TransferStatus::Error;

fn verified() -> LocalBytes {
    LocalBytes::Present {
        size: 10,
        verified_hash: Some(h()),
    }
}

fn wrong() -> LocalBytes {
    LocalBytes::Present {
        size: 10,
        verified_hash: Some(other_hash()),
    }
}

fn unhashed() -> LocalBytes {
    LocalBytes::Present {
        size: 10,
        verified_hash: None,
    }
}

fn upsert(r: LocalFileStateRow) -> StateChange {
    StateChange::Upsert(r)
}

fn with_err(mut r: LocalFileStateRow, e: &str) -> LocalFileStateRow {
    r.last_sync_error = e.into();
    r
}

struct Case {
    name: &'static str,
    input: DecisionInput,
    actions: Vec<Action>,
    state: StateChange,
}

fn case(
    name: &'static str,
    input: DecisionInput,
    actions: Vec<Action>,
    state: StateChange,
) -> Case {
    Case {
        name,
        input,
        actions,
        state,
    }
}

fn cases() -> Vec<Case> {
    use Action::*;
    let keep = StateChange::Keep;
    vec![
    case(
        "upload: fresh verified bytes and empty remoteKey -> upload queued",
        input(Some(row("")), None, verified()),
        vec![Upload],
        upsert(state(H, P, Q)),
    ),
    case(
        "upload: trusted localHash and equal recorded size count as verified",
        DecisionInput {
            recorded_size: Some(10),
            ..input(Some(row("")), Some(state(H, P, P)), unhashed())
        },
        vec![Upload],
        upsert(state(H, P, Q)),
    ),
    case(
        "upload: never upload bytes that do not hash to contentHash -> upload error",
        input(Some(row("")), Some(state("", P, P)), wrong()),
        vec![],
        upsert(with_err(state("", P, E), ERR_LOCAL_MISMATCH)),
    ),
    case(
        "upload: already queued is not scheduled twice",
        input(Some(row("")), Some(state(H, P, Q)), verified()),
        vec![],
        keep.clone(),
    ),
    case(
        "upload: in progress (not at start-up) is left alone",
        input(Some(row("")), Some(state(H, P, IP)), verified()),
        vec![],
        keep.clone(),
    ),
    case(
        "restart: inProgress upload at start-up becomes queued and is rescheduled",
        DecisionInput {
            startup: true,
            ..input(Some(row("")), Some(state(H, P, IP)), verified())
        },
        vec![Upload],
        upsert(state(H, P, Q)),
    ),
    case(
        "upload: offline schedules no upload",
        DecisionInput {
            online: false,
            ..input(Some(row("")), None, verified())
        },
        vec![],
        keep.clone(),
    ),
    case(
        "upload: no local bytes and no remoteKey -> wait for another client",
        input(Some(row("")), None, LocalBytes::Missing),
        vec![],
        keep.clone(),
    ),
    case(
        "hash first: present bytes never verified are hashed before deciding",
        input(Some(row(KEY)), None, unhashed()),
        vec![HashLocal],
        keep.clone(),
    ),
    case(
        "hash first: localHash recorded but no recorded size -> hash",
        input(Some(row("")), Some(state(H, P, P)), unhashed()),
        vec![HashLocal],
        keep.clone(),
    ),
    case(
        "hash first: size mismatch with no remote copy -> hash, never upload unverified",
        DecisionInput {
            recorded_size: Some(99),
            ..input(Some(row("")), Some(state(H, P, P)), unhashed())
        },
        vec![HashLocal],
        keep.clone(),
    ),
    case(
        "done: remoteKey set and local verified -> mark done",
        input(Some(row(KEY)), None, verified()),
        vec![MarkDone],
        upsert(state(H, D, D)),
    ),
    case(
        "done: already done is nothing",
        DecisionInput {
            recorded_size: Some(10),
            ..input(Some(row(KEY)), Some(state(H, D, D)), unhashed())
        },
        vec![],
        keep.clone(),
    ),
    case(
        "done: marking done works offline",
        DecisionInput {
            online: false,
            ..input(Some(row(KEY)), Some(state(H, P, Q)), verified())
        },
        vec![MarkDone],
        upsert(state(H, D, D)),
    ),
    case(
        "download: remoteKey set and bytes missing -> eager download",
        input(Some(row(KEY)), None, LocalBytes::Missing),
        vec![Download { priority: false }],
        upsert(state("", Q, P)),
    ),
    case(
        "download: bytes that do not match contentHash are replaced",
        input(Some(row(KEY)), Some(state("", P, P)), wrong()),
        vec![Download { priority: false }],
        upsert(state("", Q, P)),
    ),
    case(
        "eviction: size differs from recorded size -> re-download, not error",
        DecisionInput {
            recorded_size: Some(99),
            ..input(Some(row(KEY)), Some(state(H, D, D)), unhashed())
        },
        vec![Download { priority: false }],
        upsert(state("", Q, D)),
    ),
    case(
        "eviction: file gone after done -> re-download",
        input(Some(row(KEY)), Some(state(H, D, D)), LocalBytes::Missing),
        vec![Download { priority: false }],
        upsert(state("", Q, D)),
    ),
    case(
        "download: already queued is not scheduled twice",
        input(Some(row(KEY)), Some(state("", Q, P)), LocalBytes::Missing),
        vec![],
        keep.clone(),
    ),
    case(
        "restart: inProgress download at start-up becomes queued",
        DecisionInput {
            startup: true,
            ..input(Some(row(KEY)), Some(state("", IP, P)), LocalBytes::Missing)
        },
        vec![Download { priority: false }],
        upsert(state("", Q, P)),
    ),
    case(
        "restart: queued download at start-up is rescheduled",
        DecisionInput {
            startup: true,
            ..input(Some(row(KEY)), Some(state("", Q, P)), LocalBytes::Missing)
        },
        vec![Download { priority: false }],
        keep.clone(),
    ),
    case(
        "download: error is not retried outside start-up",
        input(Some(row(KEY)), Some(state("", E, P)), LocalBytes::Missing),
        vec![],
        keep.clone(),
    ),
    case(
        "restart: error download is retried at start-up",
        DecisionInput {
            startup: true,
            ..input(Some(row(KEY)), Some(state("", E, P)), LocalBytes::Missing)
        },
        vec![Download { priority: false }],
        upsert(state("", Q, P)),
    ),
    case(
        "download: offline schedules no download",
        DecisionInput {
            online: false,
            ..input(Some(row(KEY)), None, LocalBytes::Missing)
        },
        vec![],
        keep.clone(),
    ),
    case(
        "on-demand: not requested -> nothing",
        DecisionInput {
            policy: DownloadPolicy::OnDemand,
            ..input(Some(row(KEY)), None, LocalBytes::Missing)
        },
        vec![],
        keep.clone(),
    ),
    case(
        "on-demand: requested -> priority download",
        DecisionInput {
            policy: DownloadPolicy::OnDemand,
            requested: true,
            ..input(Some(row(KEY)), None, LocalBytes::Missing)
        },
        vec![Download { priority: true }],
        upsert(state("", Q, P)),
    ),
    case(
        "eager: requested file downloads with priority",
        DecisionInput {
            requested: true,
            ..input(Some(row(KEY)), None, LocalBytes::Missing)
        },
        vec![Download { priority: true }],
        upsert(state("", Q, P)),
    ),
    case(
        "404: verified bytes -> re-upload (self-healing)",
        DecisionInput {
            remote: RemoteKnowledge::NotFound,
            ..input(Some(row(KEY)), Some(state(H, D, D)), verified())
        },
        vec![ReUpload],
        upsert(state(H, D, Q)),
    ),
    case(
        "404: no bytes -> download error state",
        DecisionInput {
            remote: RemoteKnowledge::NotFound,
            ..input(Some(row(KEY)), Some(state("", IP, P)), LocalBytes::Missing)
        },
        vec![],
        upsert(with_err(state("", E, P), ERR_REMOTE_MISSING)),
    ),
    case(
        "404: mismatching bytes are never re-uploaded -> error",
        DecisionInput {
            remote: RemoteKnowledge::NotFound,
            ..input(Some(row(KEY)), None, wrong())
        },
        vec![],
        upsert(with_err(state("", E, P), ERR_REMOTE_MISSING)),
    ),
    case(
        "empty contentHash: no transfer",
        input(
            Some(FileRow {
                content_hash: String::new(),
                ..row("")
            }),
            None,
            verified(),
        ),
        vec![],
        keep.clone(),
    ),
    case(
        "empty contentHash with remoteKey: no transfer",
        input(
            Some(FileRow {
                content_hash: String::new(),
                ..row(KEY)
            }),
            None,
            LocalBytes::Missing,
        ),
        vec![],
        keep.clone(),
    ),
    case(
        "deleted: tracked row with remote copy and local bytes -> schedule remote delete, remove local, drop state",
        input(Some(deleted(KEY)), Some(state(H, D, D)), verified()),
        vec![
            ScheduleRemoteDelete {
                remote_key: KEY.into(),
            },
            RemoveLocalCopy,
        ],
        StateChange::Remove,
    ),
    case(
        "deleted: never uploaded -> only local cleanup",
        input(Some(deleted("")), Some(state(H, P, Q)), verified()),
        vec![RemoveLocalCopy],
        StateChange::Remove,
    ),
    case(
        "deleted: content shared with a live row -> nothing deleted, state dropped",
        DecisionInput {
            shared: true,
            ..input(Some(deleted(KEY)), Some(state(H, D, D)), verified())
        },
        vec![],
        StateChange::Remove,
    ),
    case(
        "deleted: untracked row with no local bytes -> nothing",
        input(Some(deleted(KEY)), None, LocalBytes::Missing),
        vec![],
        keep.clone(),
    ),
    case(
        "deleted: no transfer even with remoteKey and missing bytes",
        input(
            Some(deleted(KEY)),
            Some(state("", Q, P)),
            LocalBytes::Missing,
        ),
        vec![ScheduleRemoteDelete {
            remote_key: KEY.into(),
        }],
        StateChange::Remove,
    ),
    case(
        "orphan: no row references local bytes -> remove local copy",
        input(None, None, unhashed()),
        vec![RemoveLocalCopy],
        keep.clone(),
    ),
    case(
        "orphan: state row without a files row is removed",
        input(None, Some(state(H, D, D)), LocalBytes::Missing),
        vec![],
        StateChange::Remove,
    ),
    ]
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn table() {
    for c in cases() {
        let d = decide(&c.input);
        assert_eq!(d.actions, c.actions, "case: {}", c.name);
        assert_eq!(d.state, c.state, "case: {}", c.name);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn case_names_are_unique() {
    let cases = cases();
    let mut names: Vec<_> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len());
}

/// Deciding twice gives the same answer, and deciding again after the engine committed the state
/// change (and removed what it was told to remove) schedules nothing more.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn idempotent_over_all_cases() {
    for c in cases() {
        let first = decide(&c.input);
        assert_eq!(first, decide(&c.input), "replay: {}", c.name);

        let mut next = c.input.clone();
        next.startup = false;
        match &first.state {
            StateChange::Keep => {}
            StateChange::Upsert(r) => next.state = Some(r.clone()),
            StateChange::Remove => next.state = None,
        }
        if first.actions.contains(&Action::RemoveLocalCopy) {
            next.local = LocalBytes::Missing;
        }
        let second = decide(&next);
        assert_eq!(second.state, StateChange::Keep, "after commit: {}", c.name);
        assert!(
            second.actions.iter().all(|a| *a == Action::HashLocal),
            "after commit: {}: {:?}",
            c.name,
            second.actions
        );
    }
}

/// After a transfer completes (remoteKey set by an upload, bytes verified by a download), the next
/// decision only marks done, and the one after that is nothing.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn completed_transfers_settle() {
    let after_upload = DecisionInput {
        ..input(Some(row(KEY)), Some(state(H, P, Q)), verified())
    };
    let d = decide(&after_upload);
    assert_eq!(d.actions, vec![Action::MarkDone]);
    let settled = DecisionInput {
        state: Some(state(H, D, D)),
        ..after_upload
    };
    assert!(decide(&settled).is_nothing());

    let after_download = input(Some(row(KEY)), Some(state("", Q, P)), verified());
    let d = decide(&after_download);
    assert_eq!(d.actions, vec![Action::MarkDone]);
    assert_eq!(d.state, upsert(state(H, D, D)));
}
