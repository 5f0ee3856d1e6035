//! Lifecycle: 404 self-healing, restart recovery, durable deletes, orphan sweep, cache limit.

use super::*;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_missing_remote_object_is_uploaded_again_by_a_client_holding_the_bytes() {
    let w = World::new(20);
    let a = w.client(options());
    let saved = a.save(&w, b"precious");
    w.settle(&[&a], Duration::from_secs(30));
    // The blob disappears (an operator, a racing delete); then a new client needs it.
    assert!(w.remote.remove(&key_of(b"precious")));
    let b = w.client(options());
    w.settle(&[&a, &b], Duration::from_secs(60));
    assert_eq!(b.read(&w, &saved.file_id).unwrap(), &b"precious"[..]);
    assert!(w.remote.get(&key_of(b"precious")).is_some());
    assert_eq!(
        a.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"precious")
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_save_in_an_engine_not_started_is_uploaded_once_by_the_one_that_runs() {
    // Two tabs of one browser: one store (catalog) and one file system, one engine leading. A save
    // in the other tab used to start its own upload beside the leader's (found by the example
    // app's two-tab test).
    let w = World::new(22);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let remote: Arc<dyn crate::services::remote_storage::RemoteStorage> =
        Arc::new(w.remote.clone());
    let follower = w.unstarted_on(options(), catalog.clone(), fs.clone(), remote.clone());
    let saved = follower.save(&w, b"saved in the other tab");
    w.advance(Duration::from_secs(30));
    assert!(
        w.remote.get(&key_of(b"saved in the other tab")).is_none(),
        "an engine that does not run moves no bytes"
    );
    assert_eq!(
        follower.state(&w, &saved.file_id).unwrap().upload_status,
        TransferStatus::Queued
    );
    let leader = w.client_on(options(), catalog, fs, remote);
    w.settle(&[&leader], Duration::from_secs(30));
    assert_eq!(
        leader.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"saved in the other tab")
    );
    assert!(follower
        .events()
        .iter()
        .all(|e| !matches!(e, FileSyncEvent::TransferStart { .. })));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn restart_recovers_transfers_left_in_progress() {
    let w = World::new(21);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let remote: Arc<dyn crate::services::remote_storage::RemoteStorage> =
        Arc::new(w.remote.clone());
    w.remote.set_offline(true);
    let a = w.client_on(options(), catalog.clone(), fs.clone(), remote.clone());
    let saved = a.save(&w, b"interrupted");
    w.settle(&[&a], Duration::from_secs(5));
    // The process dies in the middle of the upload: its state row says inProgress.
    a.stop(&w);
    catalog.close_subscribers();
    let mut row = a.state(&w, &saved.file_id).unwrap();
    row.upload_status = TransferStatus::InProgress;
    let c = catalog.clone();
    w.run(async move {
        c.commit(vec![FileEvent::LocalFileStateUpsert(row)])
            .await
            .unwrap()
    });
    w.remote.set_offline(false);
    let a2 = w.client_on(options(), catalog, fs, remote);
    w.settle(&[&a2], Duration::from_secs(30));
    let row = a2.row(&w, &saved.file_id).unwrap();
    assert_eq!(row.remote_key, key_of(b"interrupted"));
    assert_eq!(
        a2.state(&w, &saved.file_id).unwrap().upload_status,
        TransferStatus::Done
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_restart_reconcile_does_not_rehash_verified_files() {
    let w = World::new(22);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let remote: Arc<dyn crate::services::remote_storage::RemoteStorage> =
        Arc::new(w.remote.clone());
    let a = w.client_on(options(), catalog.clone(), fs.clone(), remote.clone());
    let saved = a.save(&w, b"verified once");
    w.settle(&[&a], Duration::from_secs(30));
    a.stop(&w);
    catalog.close_subscribers();
    // Corrupt the blob in place with the same size: a restart trusts the record (no re-hash) …
    let e = a.engine.clone();
    let h = ContentHash::parse(&saved.content_hash).unwrap();
    let path = w.run(async move { e.storage().path_for(&h) });
    let fs2 = fs.clone();
    w.run(async move {
        fs2.write_file(
            &path,
            Bytes::from_static(b"verified twice"),
            fs_core::OpenOptions::write(),
        )
        .await
        .unwrap()
    });
    let a2 = w.client_on(options(), catalog.clone(), fs.clone(), remote.clone());
    w.settle(&[&a2], Duration::from_secs(30));
    assert_eq!(
        a2.state(&w, &saved.file_id).unwrap().local_hash,
        saved.content_hash
    );
    // … but a size change (eviction, truncation) is noticed and the bytes downloaded again.
    let e = a2.engine.clone();
    let h = ContentHash::parse(&saved.content_hash).unwrap();
    let path = w.run(async move { e.storage().path_for(&h) });
    let fs3 = fs.clone();
    w.run(async move {
        fs3.write_file(
            &path,
            Bytes::from_static(b"short"),
            fs_core::OpenOptions::write(),
        )
        .await
        .unwrap()
    });
    a2.stop(&w);
    catalog.close_subscribers();
    let a3 = w.client_on(options(), catalog, fs, remote);
    w.settle(&[&a3], Duration::from_secs(30));
    assert_eq!(a3.read(&w, &saved.file_id).unwrap(), &b"verified once"[..]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_evicted_file_is_downloaded_again() {
    let w = World::new(23);
    let a = w.client(options());
    let b = w.client(options());
    let saved = a.save(&w, b"evict me");
    w.settle(&[&a, &b], Duration::from_secs(30));
    // The browser evicts the file (OPFS eviction): gone, without any event.
    let fs = b.fs.clone();
    let h = ContentHash::parse(&saved.content_hash).unwrap();
    let e = b.engine.clone();
    w.run(async move {
        let p = e.storage().path_for(&h);
        fs.remove(&p, Default::default()).await.unwrap();
    });
    assert!(matches!(
        b.read(&w, &saved.file_id),
        Err(FileSyncError::NotLocal { .. })
    ));
    let e = b.engine.clone();
    w.run(async move { e.sync_now().await.unwrap() });
    w.settle(&[&b], Duration::from_secs(30));
    assert_eq!(b.read(&w, &saved.file_id).unwrap(), &b"evict me"[..]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pending_remote_deletes_survive_a_restart() {
    let w = World::new(24);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let remote: Arc<dyn crate::services::remote_storage::RemoteStorage> =
        Arc::new(w.remote.clone());
    let a = w.client_on(options(), catalog.clone(), fs.clone(), remote.clone());
    let saved = a.save(&w, b"delete after restart");
    w.settle(&[&a], Duration::from_secs(30));
    let e = a.engine.clone();
    let id = saved.file_id.clone();
    w.run(async move { e.delete(&id).await }).unwrap();
    w.settle(&[&a], Duration::from_secs(5));
    let e = a.engine.clone();
    let pending = w.run(async move { e.pending_remote_deletes().await.unwrap() });
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, key_of(b"delete after restart"));
    a.stop(&w);
    catalog.close_subscribers();
    drop(a);
    w.advance(Duration::from_secs(120));
    // Nobody ran it while the client was down.
    assert!(w.remote.get(&key_of(b"delete after restart")).is_some());
    let a2 = w.client_on(options(), catalog, fs, remote);
    w.settle(&[&a2], Duration::from_secs(5));
    assert!(w.remote.get(&key_of(b"delete after restart")).is_none());
    let e = a2.engine.clone();
    assert!(w
        .run(async move { e.pending_remote_deletes().await.unwrap() })
        .is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_delete_is_skipped_when_the_content_is_referenced_again_before_it_runs() {
    let w = World::new(25);
    let a = w.client(options());
    let b = w.client(options());
    let first = a.save(&w, b"comes back");
    w.settle(&[&a, &b], Duration::from_secs(30));
    let e = a.engine.clone();
    let id = first.file_id.clone();
    w.run(async move { e.delete(&id).await }).unwrap();
    w.settle(&[&a, &b], Duration::from_secs(5));
    // Within the grace period another client saves the same bytes.
    let again = b.save(&w, b"comes back");
    w.advance(Duration::from_secs(120));
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert!(w.remote.get(&key_of(b"comes back")).is_some());
    assert_eq!(a.read(&w, &again.file_id).unwrap(), &b"comes back"[..]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn orphan_blobs_are_swept() {
    let w = World::new(26);
    let a = w.client(options());
    let e = a.engine.clone();
    let orphan = w.run(async move {
        e.storage()
            .write_bytes(Bytes::from_static(b"nobody references me"), None)
            .await
            .unwrap()
    });
    let kept = a.save(&w, b"referenced");
    let e = a.engine.clone();
    w.run(async move { e.sync_now().await.unwrap() });
    assert!(!a.has_blob(&w, &orphan.hash.to_hex()));
    assert!(a.has_blob(&w, &kept.content_hash));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn recent_orphans_are_left_for_other_writers() {
    let w = World::new(27);
    let mut o = options();
    o.orphan_min_age = Duration::from_secs(3_600);
    let a = w.client(o);
    let e = a.engine.clone();
    let orphan = w.run(async move {
        e.storage()
            .write_bytes(Bytes::from_static(b"just written by another tab"), None)
            .await
            .unwrap()
    });
    let e = a.engine.clone();
    w.run(async move { e.sync_now().await.unwrap() });
    assert!(a.has_blob(&w, &orphan.hash.to_hex()));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_cache_limit_evicts_safe_copies_and_resolve_brings_them_back() {
    let w = World::new(28);
    let a = w.client(options());
    let mut o = options();
    o.cache_limit = Some(20);
    let b = w.client(o);
    let mut ids = Vec::new();
    for data in [&b"0123456789"[..], b"abcdefghij", b"ABCDEFGHIJ"] {
        ids.push(a.save(&w, data).file_id);
        w.advance(Duration::from_millis(10));
    }
    w.settle(&[&a, &b], Duration::from_secs(30));
    // With a cache limit, nothing is downloaded until requested.
    for id in &ids {
        assert!(matches!(
            b.read(&w, id),
            Err(FileSyncError::NotLocal { .. })
        ));
    }
    for id in &ids {
        let e = b.engine.clone();
        let id2 = id.clone();
        let r = w.run(async move { e.resolve(&id2).await.unwrap() });
        assert!(matches!(r, Some(Resolved::Remote(_))), "{r:?}");
        w.settle(&[&b], Duration::from_secs(30));
    }
    let e = b.engine.clone();
    let total: u64 = w
        .run(async move { e.storage().list().await.unwrap() })
        .iter()
        .map(|(_, s)| s)
        .sum();
    assert!(total <= 20, "{total}");
    // The most recent one is local; the oldest was evicted.
    assert_eq!(b.read(&w, &ids[2]).unwrap(), &b"ABCDEFGHIJ"[..]);
    assert!(matches!(
        b.read(&w, &ids[0]),
        Err(FileSyncError::NotLocal { .. })
    ));
}
