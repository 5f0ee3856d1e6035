use futures::executor::block_on;

use super::*;
use crate::catalog::MemoryCatalog;

fn row(id: &str, up: TransferStatus, down: TransferStatus, err: &str) -> LocalFileStateRow {
    LocalFileStateRow {
        file_id: id.to_owned(),
        path: format!("p/{id}"),
        local_hash: String::new(),
        download_status: down,
        upload_status: up,
        last_sync_error: err.to_owned(),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_batch_keeps_the_last_change_per_row_and_commits_once() {
    use TransferStatus::*;
    let cat = MemoryCatalog::new();
    let mut b = StateBatch::new();
    b.upsert(row("a", Queued, Done, ""));
    b.upsert(row("a", InProgress, Done, ""));
    b.upsert(row("b", Done, Done, ""));
    b.remove("b");
    b.upsert_transfer(TransferStateRow {
        file_id: "a".into(),
        content_hash: "h".into(),
        local_size: Some(3),
        upload_resume: None,
    });
    assert_eq!(b.len(), 3);
    block_on(b.commit(&cat)).unwrap();
    let rows = block_on(cat.local_states()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].upload_status, InProgress);
    assert_eq!(
        block_on(cat.transfer_states()).unwrap()[0].local_size,
        Some(3)
    );
    let mut b = StateBatch::new();
    b.remove_transfer("a");
    block_on(b.commit(&cat)).unwrap();
    assert!(block_on(cat.transfer_states()).unwrap().is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn large_batches_are_split() {
    use TransferStatus::*;
    let cat = MemoryCatalog::new();
    let mut b = StateBatch::new();
    for i in 0..(MAX_BATCH * 2 + 5) {
        b.upsert(row(&format!("f{i:05}"), Done, Done, ""));
    }
    block_on(b.commit(&cat)).unwrap();
    assert_eq!(
        block_on(cat.local_states()).unwrap().len(),
        MAX_BATCH * 2 + 5
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn status_matches_the_package_aggregate() {
    use TransferStatus::*;
    let rows = [
        row("up", InProgress, Done, ""),
        row("down", Done, InProgress, ""),
        row("qu", Queued, Done, ""),
        row("qd", Done, Queued, ""),
        row("pu", Pending, Done, ""),
        row("pd", Done, Pending, ""),
        row("both-err", Error, Error, "HTTP 500"),
        row("err-no-msg", Error, Done, ""),
        row("ok", Done, Done, ""),
    ];
    let s = SyncStatus::from_rows(&rows);
    assert_eq!(s.uploading_file_ids, ["up"]);
    assert_eq!(s.downloading_file_ids, ["down"]);
    assert_eq!(s.queued_upload_file_ids, ["qu"]);
    assert_eq!(s.queued_download_file_ids, ["qd"]);
    assert_eq!(s.pending_upload_file_ids, ["pu"]);
    assert_eq!(s.pending_download_file_ids, ["pd"]);
    assert_eq!(
        s.errors,
        [SyncErrorEntry {
            file_id: "both-err".into(),
            error: "HTTP 500".into()
        }]
    );
    assert!(s.is_syncing && s.has_pending);
    let idle = SyncStatus::from_rows(&[row("ok", Done, Done, "")]);
    assert!(!idle.is_syncing && !idle.has_pending);
    assert_eq!(idle, SyncStatus::from_rows(&[row("ok", Done, Done, "")]));
}
