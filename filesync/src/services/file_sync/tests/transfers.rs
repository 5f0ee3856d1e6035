//! Transfers under faults: corrupt bytes, cut transfers, retries, exhaustion, policies, progress.

use super::*;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn corrupt_downloads_are_never_kept_and_are_retried() {
    let w = World::new(30);
    let a = w.client(options());
    let saved = a.save(&w, b"must arrive intact");
    w.settle(&[&a], Duration::from_secs(30));
    w.remote.inject(Fault::CorruptNextDownloads(2));
    let b = w.client(options());
    w.settle(&[&a, &b], Duration::from_secs(60));
    assert_eq!(
        b.read(&w, &saved.file_id).unwrap(),
        &b"must arrive intact"[..]
    );
    assert!(w.remote.calls().download >= 3);
    let errors = b
        .events()
        .into_iter()
        .filter(|e| matches!(e, FileSyncEvent::TransferError { will_retry: true, error, .. } if error.to_string().contains("contentHash")))
        .count();
    assert_eq!(errors, 2);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_cut_download_resumes_from_where_it_stopped() {
    let w = World::new(31);
    let a = w.client(options());
    let data: &'static [u8] = Box::leak(vec![7u8; 300_000].into_boxed_slice());
    let saved = a.save(&w, data);
    w.settle(&[&a], Duration::from_secs(30));
    w.remote.inject(Fault::CutNextDownload { after: 200_000 });
    let b = w.client(options());
    w.settle(&[&a, &b], Duration::from_secs(60));
    assert_eq!(b.read(&w, &saved.file_id).unwrap(), data);
    // The second request started at the cut.
    let progress: Vec<u64> = b
        .events()
        .into_iter()
        .filter_map(|e| match e {
            FileSyncEvent::TransferProgress {
                direction: Direction::Download,
                done,
                ..
            } => Some(done),
            _ => None,
        })
        .collect();
    let restart = progress.windows(2).find(|p| p[1] < p[0]).map(|p| p[1]);
    assert!(restart.is_none(), "progress went backwards: {progress:?}");
    assert!(progress
        .iter()
        .any(|d| *d > 200_000 && *d <= 200_000 + 65_536));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_cut_upload_resumes_with_its_token() {
    let w = World::new(32);
    let a = w.client(options());
    w.remote.inject(Fault::CutNextUpload { after: 100_000 });
    let data: &'static [u8] = Box::leak(vec![3u8; 250_000].into_boxed_slice());
    let saved = a.save(&w, data);
    w.settle(&[&a], Duration::from_secs(60));
    assert_eq!(w.remote.get(&key_of(data)).unwrap(), data);
    assert_eq!(w.remote.partial_uploads(), 0);
    // The retry continued at 100,000 bytes.
    let starts: Vec<u64> = a
        .events()
        .into_iter()
        .filter_map(|e| match e {
            FileSyncEvent::TransferProgress {
                direction: Direction::Upload,
                done,
                ..
            } => Some(done),
            _ => None,
        })
        .collect();
    assert!(starts.contains(&100_000), "{starts:?}");
    // The token is cleared once done.
    let c = a.catalog.clone();
    let id = saved.file_id.clone();
    let t = w
        .run(async move { c.transfer_state(&id).await.unwrap() })
        .unwrap();
    assert_eq!(t.upload_resume, None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn server_errors_are_retried_and_exhaustion_is_reported_then_retry_errors_recovers() {
    let w = World::new(33);
    let mut o = options();
    o.executor.max_retries = 2;
    let a = w.client(o);
    w.remote.inject(Fault::FailNext(3));
    let saved = a.save(&w, b"stubborn");
    w.settle(&[&a], Duration::from_secs(60));
    let st = a.state(&w, &saved.file_id).unwrap();
    assert_eq!(st.upload_status, TransferStatus::Error);
    assert!(st.last_sync_error.contains("503"), "{}", st.last_sync_error);
    assert!(a
        .events()
        .iter()
        .any(|e| matches!(e, FileSyncEvent::TransferExhausted { .. })));
    let e = a.engine.clone();
    let status = w.run(async move { e.sync_status().await.unwrap() });
    assert_eq!(status.error_count(), 1);
    let e = a.engine.clone();
    let retried = w.run(async move { e.retry_errors().await.unwrap() });
    assert_eq!(retried, std::slice::from_ref(&saved.file_id));
    w.settle(&[&a], Duration::from_secs(60));
    assert_eq!(
        a.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"stubborn")
    );
    assert_eq!(
        a.state(&w, &saved.file_id).unwrap().upload_status,
        TransferStatus::Done
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn on_demand_downloads_only_what_is_resolved() {
    let w = World::new(34);
    let a = w.client(options());
    let mut o = options();
    o.download_policy = crate::decide::DownloadPolicy::OnDemand;
    let b = w.client(o);
    let one = a.save(&w, b"wanted");
    let two = a.save(&w, b"not wanted");
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert_eq!(w.remote.calls().download, 0);
    let e = b.engine.clone();
    let id = one.file_id.clone();
    let r = w.run(async move { e.resolve(&id).await.unwrap() });
    match r {
        Some(Resolved::Remote(url)) => assert!(url.url.contains(&one.content_hash)),
        other => panic!("{other:?}"),
    }
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert_eq!(b.read(&w, &one.file_id).unwrap(), &b"wanted"[..]);
    assert!(matches!(
        b.read(&w, &two.file_id),
        Err(FileSyncError::NotLocal { .. })
    ));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn resolve_prioritizes_a_queued_download() {
    let w = World::new(35);
    let a = w.client(options());
    let mut ids = Vec::new();
    for i in 0..6u8 {
        let data: &'static [u8] = Box::leak(vec![i; 1000].into_boxed_slice());
        ids.push(a.save(&w, data).file_id);
    }
    w.settle(&[&a], Duration::from_secs(30));
    w.remote.set_delay(Duration::from_secs(1));
    let b = w.client(options());
    let last = ids[5].clone();
    let e = b.engine.clone();
    let l2 = last.clone();
    w.run(async move { e.resolve(&l2).await.unwrap() });
    w.settle(&[&b], Duration::from_secs(60));
    let order: Vec<String> = b
        .events()
        .into_iter()
        .filter_map(|e| match e {
            FileSyncEvent::TransferComplete {
                direction: Direction::Download,
                file_id,
            } => Some(file_id),
            _ => None,
        })
        .collect();
    assert_eq!(order.len(), 6);
    let pos = order.iter().position(|id| *id == last).unwrap();
    assert!(
        pos <= 2,
        "resolved file finished at position {pos}: {order:?}"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_full_disk_refuses_saves_cleanly_and_keeps_no_partial_download() {
    let w = World::new(36);
    let a = w.client(options());
    let big: &'static [u8] = Box::leak(vec![9u8; 200_000].into_boxed_slice());
    let saved = a.save(&w, big);
    w.settle(&[&a], Duration::from_secs(30));
    // B's storage holds 100,000 bytes: the download cannot fit.
    let mut o = options();
    o.executor.max_retries = 1;
    let b = w.client_on(
        o,
        w.log.client(),
        Arc::new(MemoryFs::with_quota(100_000)),
        Arc::new(w.remote.clone()),
    );
    w.settle(&[&a, &b], Duration::from_secs(60));
    assert!(matches!(
        b.read(&w, &saved.file_id),
        Err(FileSyncError::NotLocal { .. })
    ));
    let st = b.state(&w, &saved.file_id).unwrap();
    assert_eq!(st.download_status, TransferStatus::Error);
    assert!(!st.last_sync_error.is_empty());
    assert!(!b.has_blob(&w, &saved.content_hash));
    // A save that does not fit fails with a storage error and records nothing.
    let before = w.log.len();
    let e = b.engine.clone();
    let err = w
        .run(async move { e.save(Content::from(big), SaveOptions::default()).await })
        .unwrap_err();
    assert!(
        matches!(&err, FileSyncError::Storage { source: e, .. } if e.kind() == fs_core::ErrorKind::StorageFull),
        "{err}"
    );
    assert_eq!(w.log.len(), before);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_store_id_that_cannot_form_a_path_is_refused() {
    let w = World::new(37);
    let err = FileSync::builder("x".repeat(300))
        .runtime(Arc::new(w.rt.clone()))
        .fs(Arc::new(MemoryFs::new()))
        .catalog(Arc::new(MemoryCatalog::new()))
        .remote(Arc::new(w.remote.clone()))
        .build()
        .err()
        .expect("refused");
    assert!(
        matches!(err, FileSyncError::Storage { source: ref e, .. } if e.kind() == fs_core::ErrorKind::BadArgument),
        "{err}"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_failed_commit_after_an_upload_is_repaired_by_the_next_reconcile() {
    let w = World::new(38);
    let a = w.client(options());
    // The commit that records the finished upload (upload done) is refused once.
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = refused.clone();
    a.catalog.refuse_next_commit(Arc::new(move |events: &[FileEvent]| {
        let hit = events.iter().any(|e| {
            matches!(e, FileEvent::LocalFileStateUpsert(r) if r.upload_status == TransferStatus::Done)
        });
        flag.fetch_or(hit, std::sync::atomic::Ordering::SeqCst);
        hit
    }));
    let saved = a.save(&w, b"recorded in the end");
    w.settle(&[&a], Duration::from_secs(30));
    let row = w.run({
        let c = a.catalog.clone();
        let id = saved.file_id.clone();
        async move { c.file(&id).await.unwrap().unwrap() }
    });
    assert!(
        refused.load(std::sync::atomic::Ordering::SeqCst),
        "a commit was refused"
    );
    assert!(!row.remote_key.is_empty(), "the upload recorded its key");
    let state = w.run({
        let c = a.catalog.clone();
        let id = saved.file_id.clone();
        async move { c.local_state(&id).await.unwrap().unwrap() }
    });
    assert_eq!(
        (state.upload_status, state.download_status),
        (TransferStatus::Done, TransferStatus::Done),
        "the reconcile after the job repaired the state the refused commit left"
    );
    assert_eq!(
        w.remote.calls().upload,
        1,
        "repaired without uploading again"
    );
}
