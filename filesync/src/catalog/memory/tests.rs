use futures::executor::block_on;
use futures::StreamExt;

use super::*;
use crate::model::{FileCreated, FileDeleted, FileUpdated, LocalFileStateRemove, TransferStatus};

const H1: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const H2: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn created(id: &str, hash: &str) -> FileEvent {
    FileEvent::FileCreated(FileCreated {
        id: id.to_owned(),
        path: format!("p/{hash}"),
        content_hash: hash.to_owned(),
        metadata_json: Some(Some("{\"name\":\"a\"}".to_owned())),
        created_at: 1,
        updated_at: 1,
    })
}

fn updated(id: &str, hash: &str, key: &str, meta: Option<Option<String>>) -> FileEvent {
    FileEvent::FileUpdated(FileUpdated {
        id: id.to_owned(),
        path: format!("p/{hash}"),
        remote_key: key.to_owned(),
        content_hash: hash.to_owned(),
        metadata_json: meta,
        updated_at: 2,
        if_content_hash: None,
    })
}

fn state(id: &str) -> LocalFileStateRow {
    LocalFileStateRow {
        file_id: id.to_owned(),
        path: "p".to_owned(),
        local_hash: String::new(),
        download_status: TransferStatus::Pending,
        upload_status: TransferStatus::Queued,
        last_sync_error: String::new(),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn automatic_mode_shares_synced_rows_but_not_client_tables() {
    let log = SyncedLog::new();
    let (a, b) = (log.client(), log.client());
    block_on(a.commit(vec![
        created("f1", H1),
        FileEvent::LocalFileStateUpsert(state("f1")),
    ]))
    .unwrap();
    let row = block_on(b.file("f1")).unwrap().unwrap();
    assert_eq!(row.content_hash, H1);
    assert_eq!(row.metadata_json.as_deref(), Some("{\"name\":\"a\"}"));
    assert_eq!(block_on(a.local_states()).unwrap().len(), 1);
    assert!(block_on(b.local_states()).unwrap().is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn materializers_follow_the_package() {
    let cat = MemoryCatalog::new();
    block_on(cat.commit(vec![created("f1", H1)])).unwrap();
    // Absent metadata keeps the old value; explicit null clears it.
    block_on(cat.commit(vec![updated("f1", H2, "s/k", None)])).unwrap();
    let row = block_on(cat.file("f1")).unwrap().unwrap();
    assert_eq!(
        (row.content_hash.as_str(), row.remote_key.as_str()),
        (H2, "s/k")
    );
    assert!(row.metadata_json.is_some());
    block_on(cat.commit(vec![updated("f1", H2, "s/k", Some(None))])).unwrap();
    assert_eq!(
        block_on(cat.file("f1")).unwrap().unwrap().metadata_json,
        None
    );
    block_on(cat.commit(vec![FileEvent::FileDeleted(FileDeleted {
        id: "f1".to_owned(),
        deleted_at: 9,
    })]))
    .unwrap();
    // An update after the delete leaves the row deleted; updates of unknown ids change nothing.
    block_on(cat.commit(vec![
        updated("f1", H1, "", None),
        updated("nope", H1, "", None),
    ]))
    .unwrap();
    let files = block_on(cat.files()).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].deleted_at, Some(9));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_duplicate_create_is_refused_and_changes_nothing() {
    let cat = MemoryCatalog::new();
    block_on(cat.commit(vec![created("f1", H1)])).unwrap();
    let before = cat.log().len();
    let err = block_on(cat.commit(vec![
        FileEvent::LocalFileStateUpsert(state("f2")),
        created("f1", H2),
    ]))
    .unwrap_err();
    assert!(
        err.kind == crate::catalog::CatalogErrorKind::Invalid
            && err.message.contains("already exists")
            && err.file_id.as_deref() == Some("f1"),
        "{err}"
    );
    assert_eq!(cat.log().len(), before);
    assert!(block_on(cat.local_states()).unwrap().is_empty());
    assert_eq!(block_on(cat.file("f1")).unwrap().unwrap().content_hash, H1);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn manual_mode_delivers_late_and_rebases_pending_events() {
    let log = SyncedLog::manual();
    let (a, b) = (log.client(), log.client());
    block_on(a.commit(vec![created("f1", H1)])).unwrap();
    // Not pushed: b sees nothing, the log is empty.
    assert!(block_on(b.files()).unwrap().is_empty());
    assert!(log.is_empty());
    assert!(a.push());
    assert!(block_on(b.files()).unwrap().is_empty());
    assert_eq!(b.pull(), 1);
    assert_eq!(block_on(b.files()).unwrap().len(), 1);

    // Both update concurrently; b pushes first, a is refused until it pulls (rebase).
    block_on(a.commit(vec![updated("f1", H1, "s/h1", None)])).unwrap();
    block_on(b.commit(vec![updated("f1", H2, "", None)])).unwrap();
    assert!(b.push());
    assert!(!a.push());
    assert_eq!(a.pending_len(), 1);
    // a still sees its own update before pulling.
    assert_eq!(block_on(a.file("f1")).unwrap().unwrap().remote_key, "s/h1");
    a.sync();
    assert_eq!(a.pending_len(), 0);
    b.pull();
    // Global order: create, b's update, a's update (replayed last): both clients agree.
    let ra = block_on(a.file("f1")).unwrap().unwrap();
    let rb = block_on(b.file("f1")).unwrap().unwrap();
    assert_eq!(ra, rb);
    assert_eq!(
        (ra.content_hash.as_str(), ra.remote_key.as_str()),
        (H1, "s/h1")
    );
    assert_eq!(log.files().get("f1"), Some(&ra));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pull_some_delivers_a_prefix() {
    let log = SyncedLog::manual();
    let (a, b) = (log.client(), log.client());
    block_on(a.commit(vec![created("f1", H1), created("f2", H2)])).unwrap();
    a.push();
    assert_eq!(b.pull_some(1), 1);
    assert_eq!(block_on(b.files()).unwrap().len(), 1);
    assert_eq!(b.pull_some(5), 1);
    assert_eq!(block_on(b.files()).unwrap().len(), 2);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn changes_say_what_changed_coalesce_and_fire_for_remote_events() {
    let log = SyncedLog::new();
    let (a, b) = (log.client(), log.client());
    let mut changes = b.changes();
    // One item at subscription: everything.
    assert_eq!(block_on(changes.next()), Some(ChangeSet::everything()));
    block_on(a.commit(vec![created("f1", H1)])).unwrap();
    block_on(a.commit(vec![created("f2", H1)])).unwrap();
    let got = block_on(changes.next()).unwrap();
    assert!(!got.everything);
    assert_eq!(got.files, ["f1".to_owned(), "f2".to_owned()].into());
    assert!(got.local_states.is_empty() && got.transfer_states.is_empty());
    // Coalesced: nothing more is pending.
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(changes.poll_next_unpin(&mut cx).is_pending());
    block_on(b.commit(vec![FileEvent::LocalFileStateRemove(
        LocalFileStateRemove {
            file_id: "x".to_owned(),
        },
    )]))
    .unwrap();
    let got = block_on(changes.next()).unwrap();
    assert_eq!(got.local_states, ["x".to_owned()].into());
    // The commit pulled first (automatic mode): the rows pulled are reported again with it.
    assert!(!got.everything && got.transfer_states.is_empty());
    b.close_subscribers();
    assert_eq!(block_on(changes.next()), None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_pull_reports_the_pulled_rows_and_the_rebased_pending_ones() {
    let log = SyncedLog::manual();
    let (a, b) = (log.client(), log.client());
    block_on(a.commit(vec![created("f1", H1)])).unwrap();
    a.push();
    block_on(b.commit(vec![created("f2", H2)])).unwrap();
    let mut changes = b.changes();
    block_on(changes.next());
    assert_eq!(b.pull(), 1);
    let got = block_on(changes.next()).unwrap();
    assert_eq!(got.files, ["f1".to_owned(), "f2".to_owned()].into());
    // Reads see the confirmed row and the pending one, in id order; by hash too.
    let ids: Vec<String> = block_on(b.files())
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, ["f1", "f2"]);
    let by_hash = block_on(b.files_with_hash(H2)).unwrap();
    assert_eq!(by_hash.len(), 1);
    assert_eq!(by_hash[0].id, "f2");
    assert!(block_on(b.file("f2")).unwrap().is_some());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn rows_by_hash_follow_updates_and_deletes() {
    let cat = MemoryCatalog::new();
    block_on(cat.commit(vec![created("f1", H1), created("f2", H1)])).unwrap();
    let ids = |hash| -> Vec<String> {
        block_on(cat.files_with_hash(hash))
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    assert_eq!(ids(H1), ["f1", "f2"]);
    block_on(cat.commit(vec![FileEvent::FileUpdated(FileUpdated {
        id: "f1".to_owned(),
        path: "p".to_owned(),
        remote_key: String::new(),
        content_hash: H2.to_owned(),
        metadata_json: None,
        updated_at: 5,
        if_content_hash: None,
    })]))
    .unwrap();
    assert_eq!(ids(H1), ["f2"]);
    assert_eq!(ids(H2), ["f1"]);
    // A soft delete keeps the row (and its hash).
    block_on(cat.commit(vec![FileEvent::FileDeleted(FileDeleted {
        id: "f2".to_owned(),
        deleted_at: 6,
    })]))
    .unwrap();
    let rows = block_on(cat.files_with_hash(H1)).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].deleted_at.is_some());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_upload_recorded_after_another_clients_update_does_not_revert_it() {
    // A uploads H1 while B replaces the content with H2; B's update is ordered first.
    let log = SyncedLog::new();
    let (a, b) = (log.client(), log.client());
    block_on(a.commit(vec![created("f1", H1)])).unwrap();
    block_on(b.commit(vec![updated("f1", H2, "", None)])).unwrap();
    let mut upload = updated("f1", H1, "store/h1", None);
    if let FileEvent::FileUpdated(e) = &mut upload {
        e.if_content_hash = Some(H1.to_owned());
    }
    block_on(a.commit(vec![upload.clone()])).unwrap();
    for client in [&a, &b] {
        let row = block_on(client.file("f1")).unwrap().unwrap();
        assert_eq!(row.content_hash, H2, "the later content stays");
        assert_eq!(row.remote_key, "", "the key of H1 is not applied to H2");
    }
    // Without the condition (a 0.8.0 client's upload), the last writer wins.
    if let FileEvent::FileUpdated(e) = &mut upload {
        e.if_content_hash = None;
    }
    block_on(a.commit(vec![upload])).unwrap();
    let row = block_on(b.file("f1")).unwrap().unwrap();
    assert_eq!(
        (row.content_hash.as_str(), row.remote_key.as_str()),
        (H1, "store/h1")
    );
}
