//! The engine in headless Chromium on real OPFS (fs-opfs, page strategy) with the browser runtime:
//! two clients, each with its own OPFS sub-root and catalog over one synced log, sharing an
//! in-memory remote. Save → upload → the other client downloads into OPFS and reads verified
//! bytes; update; delete.
#![cfg(target_arch = "wasm32")]
// One thread in the browser: the engine's parts are shared with `Arc` although they hold JS values.
#![allow(clippy::arc_with_non_send_sync)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use filesync::hash_bytes;
use filesync::MemoryRemote;
use filesync::{BrowserRuntime, SharedRuntime};
use filesync::{Catalog, SyncedLog};
use filesync::{Content, FileSync, FileSyncBuilder, FileSyncError, FileSyncOptions, SaveOptions};
use fs_core::{FileSystem, VPath};
use fs_opfs::{OpfsFs, OpfsOptions, Strategy};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn opfs(name: &str) -> Arc<dyn FileSystem> {
    let root = VPath::new(&format!(
        "/filesync-e2e-{name}-{}",
        js_sys::Date::now() as u64
    ))
    .unwrap();
    Arc::new(
        OpfsFs::open(OpfsOptions {
            root: Some(root),
            strategy: Some(Strategy::Writable),
            ..OpfsOptions::default()
        })
        .await
        .unwrap(),
    )
}

async fn engine(
    rt: &SharedRuntime,
    log: &SyncedLog,
    remote: &MemoryRemote,
    name: &str,
) -> FileSync {
    let mut options = FileSyncOptions::new("browser store");
    options.delete_grace_period = Duration::from_millis(300);
    options.orphan_min_age = Duration::ZERO;
    options.executor.base_delay = Duration::from_millis(50);
    let engine = FileSyncBuilder::with_options(options)
        .runtime(rt.clone())
        .fs(opfs(name).await)
        .catalog(Arc::new(log.client()))
        .remote(Arc::new(remote.clone()))
        .build()
        .unwrap();
    engine.start().await.unwrap();
    engine
}

/// Polls until both engines are idle and `done` holds, for at most 20 s.
async fn settle(rt: &SharedRuntime, engines: &[&FileSync], what: &str, done: impl Fn() -> bool) {
    for _ in 0..400 {
        rt.sleep(Duration::from_millis(50)).await;
        if engines.iter().all(|e| e.is_idle()) && done() {
            return;
        }
    }
    panic!("timed out waiting for: {what}");
}

#[wasm_bindgen_test]
async fn two_clients_sync_through_opfs() {
    let rt: SharedRuntime = Arc::new(BrowserRuntime);
    let log = SyncedLog::new();
    let remote = MemoryRemote::new(rt.clone());
    let a = engine(&rt, &log, &remote, "a").await;
    let b = engine(&rt, &log, &remote, "b").await;

    // 300 KiB: several chunks through the OPFS writable and the verified download.
    let data = Bytes::from(
        (0..300 * 1024)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let key = format!("browser_store/{}", hash_bytes(&data));
    let saved = a
        .save(
            Content::Bytes(data.clone()),
            SaveOptions {
                mime_type: Some("application/octet-stream".into()),
                ..SaveOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(a.read(&saved.file_id).await.unwrap(), data);
    let r = remote.clone();
    let k = key.clone();
    settle(&rt, &[&a, &b], "upload", move || r.get(&k).is_some()).await;
    let b2 = b.clone();
    let id = saved.file_id.clone();
    // The download lands in B's OPFS, verified.
    for _ in 0..400 {
        if b2.read(&id).await.is_ok() {
            break;
        }
        rt.sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.read(&saved.file_id).await.unwrap(), data);

    // Update on B: A gets the new bytes; the old blob goes after the grace period.
    let v2 = Bytes::from_static(b"second version, small");
    let updated = b
        .update(
            &saved.file_id,
            Content::Bytes(v2.clone()),
            SaveOptions::default(),
        )
        .await
        .unwrap();
    assert!(updated.changed);
    for _ in 0..400 {
        if a.read(&saved.file_id).await.ok().as_ref() == Some(&v2) {
            break;
        }
        rt.sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.read(&saved.file_id).await.unwrap(), v2);
    let r = remote.clone();
    let old = key.clone();
    settle(&rt, &[&a, &b], "old blob deleted", move || {
        r.get(&old).is_none()
    })
    .await;

    // Delete on A: gone for both, local copies removed.
    a.delete(&saved.file_id).await.unwrap();
    let cat = log.client();
    let id = saved.file_id.clone();
    for _ in 0..400 {
        let row = cat.file(&id).await.unwrap().unwrap();
        if row.deleted_at.is_some() && b.is_idle() {
            break;
        }
        rt.sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(
        b.read(&saved.file_id).await,
        Err(FileSyncError::NotFound { .. })
    ));
    let h = filesync::ContentHash::parse(&updated.content_hash).unwrap();
    for _ in 0..400 {
        if b.storage().exists(&h).await.unwrap().is_none() {
            break;
        }
        rt.sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.storage().exists(&h).await.unwrap(), None);
    a.stop().await;
    b.stop().await;
}
