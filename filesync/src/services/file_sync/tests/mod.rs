//! Engine tests on the deterministic runtime: MemoryFs, MemoryCatalog, MemoryRemote.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fs_core::{FileSystem, MemoryFs};

use super::*;
use crate::catalog::{Catalog, MemoryCatalog, SyncedLog};
use crate::model::{FileEvent, TransferStatus};
use crate::runtime::{Runtime, SimRuntime};
use crate::services::hash::hash_bytes;
use crate::services::hash::ContentHash;
use crate::services::remote_storage::{Fault, LocalOnly, MemoryRemote, RemoteStorage};
use crate::services::sync_executor::Direction;

mod lifecycle;
mod transfers;

pub(super) const START: i64 = 1_800_000_000_000;

/// One simulated client.
pub(super) struct Client {
    pub engine: FileSync,
    pub catalog: MemoryCatalog,
    pub fs: Arc<MemoryFs>,
    pub events: Arc<Mutex<Vec<FileSyncEvent>>>,
}

pub(super) struct World {
    pub rt: SimRuntime,
    pub log: SyncedLog,
    pub remote: MemoryRemote,
}

pub(super) fn options() -> FileSyncOptions {
    let mut o = FileSyncOptions::new("store 1");
    o.orphan_min_age = Duration::ZERO;
    o.delete_grace_period = Duration::from_secs(60);
    o
}

impl World {
    pub fn new(seed: u64) -> Self {
        let rt = SimRuntime::new(seed, START);
        World {
            remote: MemoryRemote::new(Arc::new(rt.clone())),
            rt,
            log: SyncedLog::new(),
        }
    }

    /// A client with its own file system and catalog, started.
    pub fn client(&self, options: FileSyncOptions) -> Client {
        let catalog = self.log.client();
        let fs = Arc::new(MemoryFs::new());
        self.client_on(options, catalog, fs, Arc::new(self.remote.clone()))
    }

    /// A client over existing storage and catalog (a restart), started.
    pub fn client_on(
        &self,
        options: FileSyncOptions,
        catalog: MemoryCatalog,
        fs: Arc<MemoryFs>,
        remote: Arc<dyn crate::services::remote_storage::RemoteStorage>,
    ) -> Client {
        let client = self.unstarted_on(options, catalog, fs, remote);
        client.start(self);
        client
    }

    /// A client over existing storage and catalog whose engine is built but not started (a tab
    /// that does not lead).
    pub fn unstarted_on(
        &self,
        options: FileSyncOptions,
        catalog: MemoryCatalog,
        fs: Arc<MemoryFs>,
        remote: Arc<dyn crate::services::remote_storage::RemoteStorage>,
    ) -> Client {
        let engine = FileSyncBuilder::with_options(options)
            .runtime(Arc::new(self.rt.clone()))
            .fs(fs.clone())
            .catalog(Arc::new(catalog.clone()))
            .remote(remote)
            .build()
            .unwrap();
        let events: Arc<Mutex<Vec<FileSyncEvent>>> = Arc::default();
        let sink = events.clone();
        engine.on_event(Arc::new(move |e| sink.lock().unwrap().push(e.clone())));
        Client {
            engine,
            catalog,
            fs,
            events,
        }
    }

    /// Runs `fut` to completion on the simulated runtime (at most 1 virtual hour).
    pub fn run<T: 'static>(&self, fut: impl std::future::Future<Output = T> + 'static) -> T {
        self.rt
            .run_until(fut, Duration::from_secs(3_600))
            .expect("the future completes")
    }

    /// Lets virtual time pass until every given engine is idle (checked every 100 ms), at most `limit`.
    pub fn settle(&self, clients: &[&Client], limit: Duration) {
        let engines: Vec<FileSync> = clients.iter().map(|c| c.engine.clone()).collect();
        let rt = self.rt.clone();
        let deadline = self.rt.now() + limit.as_millis() as i64;
        self.run(async move {
            loop {
                rt.sleep(Duration::from_millis(100)).await;
                if engines.iter().all(FileSync::is_idle) || rt.now() > deadline {
                    break;
                }
            }
        });
    }

    pub fn advance(&self, d: Duration) {
        let rt = self.rt.clone();
        self.run(async move { rt.sleep(d).await });
    }
}

impl Client {
    /// Starts the engine.
    pub fn start(&self, w: &World) {
        let e = self.engine.clone();
        w.run(async move { e.start().await.unwrap() });
    }

    /// Stops the engine (and waits for its tasks to end).
    pub fn stop(&self, w: &World) {
        let e = self.engine.clone();
        w.run(async move { e.stop().await });
    }

    pub fn save(&self, w: &World, data: &'static [u8]) -> SavedFile {
        let e = self.engine.clone();
        w.run(async move { e.save(Content::from(data), SaveOptions::default()).await })
            .unwrap()
    }

    pub fn row(&self, w: &World, id: &str) -> Option<crate::model::FileRow> {
        let c = self.catalog.clone();
        let id = id.to_owned();
        w.run(async move { c.file(&id).await.unwrap() })
    }

    pub fn state(&self, w: &World, id: &str) -> Option<crate::model::LocalFileStateRow> {
        let c = self.catalog.clone();
        let id = id.to_owned();
        w.run(async move { c.local_state(&id).await.unwrap() })
    }

    pub fn read(&self, w: &World, id: &str) -> FileSyncResult<Bytes> {
        let e = self.engine.clone();
        let id = id.to_owned();
        w.run(async move { e.read(&id).await })
    }

    pub fn has_blob(&self, w: &World, hash: &str) -> bool {
        let e = self.engine.clone();
        let h = ContentHash::parse(hash).unwrap();
        w.run(async move { e.storage().exists(&h).await.unwrap().is_some() })
    }

    pub fn events(&self) -> Vec<FileSyncEvent> {
        self.events.lock().unwrap().clone()
    }
}

pub(super) fn key_of(data: &[u8]) -> String {
    format!("store_1/{}", hash_bytes(data))
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn save_writes_locally_records_and_uploads() {
    let w = World::new(1);
    let a = w.client(options());
    let saved = a.save(&w, b"hello world");
    assert_eq!(saved.content_hash, hash_bytes(b"hello world").to_hex());
    assert_eq!(
        saved.path,
        format!("livestore-filesync-files/store_1/{}", saved.content_hash)
    );
    // Local first: readable before any upload ran.
    assert_eq!(a.read(&w, &saved.file_id).unwrap(), &b"hello world"[..]);
    w.settle(&[&a], Duration::from_secs(30));
    let key = key_of(b"hello world");
    assert_eq!(w.remote.get(&key).unwrap(), &b"hello world"[..]);
    let row = a.row(&w, &saved.file_id).unwrap();
    assert_eq!(row.remote_key, key);
    let st = a.state(&w, &saved.file_id).unwrap();
    assert_eq!(
        (st.upload_status, st.download_status),
        (TransferStatus::Done, TransferStatus::Done)
    );
    assert_eq!(st.local_hash, saved.content_hash);
    let ev = a.events();
    assert!(ev.iter().any(|e| matches!(
        e,
        FileSyncEvent::TransferComplete {
            direction: Direction::Upload,
            ..
        }
    )));
    assert!(ev.iter().any(|e| matches!(
        e,
        FileSyncEvent::TransferProgress {
            direction: Direction::Upload,
            done: 11,
            total: 11,
            ..
        }
    )));
    let e = a.engine.clone();
    let status = w.run(async move { e.sync_status().await.unwrap() });
    assert!(!status.has_pending && status.errors.is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn another_client_downloads_verified_bytes() {
    let w = World::new(2);
    let a = w.client(options());
    let b = w.client(options());
    let saved = a.save(&w, b"shared content");
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert_eq!(b.read(&w, &saved.file_id).unwrap(), &b"shared content"[..]);
    let st = b.state(&w, &saved.file_id).unwrap();
    assert_eq!(st.download_status, TransferStatus::Done);
    assert_eq!(st.local_hash, saved.content_hash);
    // Nothing is uploaded twice.
    assert_eq!(w.remote.calls().upload, 1);
    let e = b.engine.clone();
    let id = saved.file_id.clone();
    let resolved = w.run(async move { e.resolve(&id).await.unwrap() });
    assert!(matches!(resolved, Some(Resolved::Local { .. })));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn metadata_carries_name_mime_and_size() {
    let w = World::new(3);
    let a = w.client(options());
    let e = a.engine.clone();
    let mut meta = serde_json::Map::new();
    meta.insert("custom".into(), serde_json::json!({"album": "x"}));
    let saved = w
        .run(async move {
            e.save(
                Content::from(&b"png bytes"[..]),
                SaveOptions {
                    mime_type: Some("image/png".into()),
                    name: Some("cat.png".into()),
                    metadata: Some(meta),
                },
            )
            .await
        })
        .unwrap();
    let row = a.row(&w, &saved.file_id).unwrap();
    let v: serde_json::Value = serde_json::from_str(row.metadata_json.as_deref().unwrap()).unwrap();
    assert_eq!(v["mimeType"], "image/png");
    assert_eq!(v["sizeBytes"], 9);
    assert_eq!(v["name"], "cat.png");
    assert_eq!(v["custom"]["album"], "x");
    w.settle(&[&a], Duration::from_secs(30));
    assert_eq!(
        w.remote.content_type(&key_of(b"png bytes")).as_deref(),
        Some("image/png")
    );
    // Without metadata or name the column is null, as in the package.
    let plain = a.save(&w, b"plain");
    assert_eq!(a.row(&w, &plain.file_id).unwrap().metadata_json, None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_input_is_refused_and_changes_nothing() {
    let w = World::new(4);
    let mut o = options();
    o.max_file_size = Some(4);
    let a = w.client(o);
    let e = a.engine.clone();
    let err = w
        .run(async move {
            e.save(Content::from(&b"too large"[..]), SaveOptions::default())
                .await
        })
        .unwrap_err();
    assert!(
        matches!(err, FileSyncError::TooLarge { limit: 4, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("max_file_size"));
    // A stream that turns out too large is refused as well, and nothing is left behind.
    let e = a.engine.clone();
    let err = w
        .run(async move {
            let chunks: Vec<fs_core::FsResult<Bytes>> = vec![
                Ok(Bytes::from_static(b"abc")),
                Ok(Bytes::from_static(b"def")),
            ];
            e.save(
                Content::Stream(Box::pin(futures::stream::iter(chunks))),
                SaveOptions::default(),
            )
            .await
        })
        .unwrap_err();
    assert!(matches!(err, FileSyncError::TooLarge { .. }), "{err}");
    let e = a.engine.clone();
    let err = w
        .run(async move {
            e.save(
                Content::from(&b"ok"[..]),
                SaveOptions {
                    mime_type: Some("bad\nmime".into()),
                    ..SaveOptions::default()
                },
            )
            .await
        })
        .unwrap_err();
    assert!(matches!(err, FileSyncError::InvalidInput { .. }), "{err}");
    let e = a.engine.clone();
    let err = w
        .run(async move {
            e.update(
                "no-such-id",
                Content::from(&b"x"[..]),
                SaveOptions::default(),
            )
            .await
        })
        .unwrap_err();
    assert!(matches!(err, FileSyncError::NotFound { .. }));
    let e = a.engine.clone();
    assert!(matches!(
        w.run(async move { e.delete("no-such-id").await }),
        Err(FileSyncError::NotFound { .. })
    ));
    assert!(w.log.is_empty());
    let e = a.engine.clone();
    let listed = w.run(async move { e.storage().list().await.unwrap() });
    assert!(listed.is_empty(), "{listed:?}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn update_with_the_same_content_is_a_no_op() {
    let w = World::new(5);
    let a = w.client(options());
    let saved = a.save(&w, b"v1");
    w.settle(&[&a], Duration::from_secs(30));
    let before = w.log.len();
    let e = a.engine.clone();
    let id = saved.file_id.clone();
    let r = w
        .run(async move {
            e.update(&id, Content::from(&b"v1"[..]), SaveOptions::default())
                .await
        })
        .unwrap();
    assert!(!r.changed);
    assert_eq!(w.log.len(), before);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn update_uploads_new_content_and_deletes_the_old_after_the_grace_period() {
    let w = World::new(6);
    let a = w.client(options());
    let b = w.client(options());
    let saved = a.save(&w, b"version one");
    w.settle(&[&a, &b], Duration::from_secs(30));
    let e = a.engine.clone();
    let id = saved.file_id.clone();
    let r = w
        .run(async move {
            e.update(
                &id,
                Content::from(&b"version two"[..]),
                SaveOptions::default(),
            )
            .await
        })
        .unwrap();
    assert!(r.changed);
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert_eq!(b.read(&w, &saved.file_id).unwrap(), &b"version two"[..]);
    assert_eq!(
        a.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"version two")
    );
    // The old blob is still there during the grace period, gone after it.
    assert!(w.remote.get(&key_of(b"version one")).is_some());
    w.advance(Duration::from_secs(61));
    assert!(w.remote.get(&key_of(b"version one")).is_none());
    assert!(w.remote.get(&key_of(b"version two")).is_some());
    // Old local copies are gone on both clients.
    let old = hash_bytes(b"version one").to_hex();
    assert!(!a.has_blob(&w, &old) && !b.has_blob(&w, &old));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn delete_removes_local_copies_everywhere_and_the_remote_after_the_grace_period() {
    let w = World::new(7);
    let a = w.client(options());
    let b = w.client(options());
    let saved = a.save(&w, b"to be deleted");
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert!(b.has_blob(&w, &saved.content_hash));
    let e = b.engine.clone();
    let id = saved.file_id.clone();
    w.run(async move { e.delete(&id).await }).unwrap();
    w.settle(&[&a, &b], Duration::from_secs(30));
    assert!(a.row(&w, &saved.file_id).unwrap().deleted_at.is_some());
    assert!(!a.has_blob(&w, &saved.content_hash));
    assert!(!b.has_blob(&w, &saved.content_hash));
    assert!(a.state(&w, &saved.file_id).is_none());
    assert!(w.remote.get(&key_of(b"to be deleted")).is_some());
    w.advance(Duration::from_secs(61));
    assert!(w.remote.get(&key_of(b"to be deleted")).is_none());
    assert!(matches!(
        a.read(&w, &saved.file_id),
        Err(FileSyncError::NotFound { .. })
    ));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn identical_content_in_two_rows_survives_deleting_one() {
    let w = World::new(8);
    let a = w.client(options());
    let b = w.client(options());
    let first = a.save(&w, b"same bytes");
    let second = b.save(&w, b"same bytes");
    w.settle(&[&a, &b], Duration::from_secs(30));
    let e = a.engine.clone();
    let id = first.file_id.clone();
    w.run(async move { e.delete(&id).await }).unwrap();
    w.settle(&[&a, &b], Duration::from_secs(30));
    w.advance(Duration::from_secs(120));
    // The second row still references the content: nothing of it was deleted.
    assert!(w.remote.get(&key_of(b"same bytes")).is_some());
    assert_eq!(a.read(&w, &second.file_id).unwrap(), &b"same bytes"[..]);
    assert_eq!(b.read(&w, &second.file_id).unwrap(), &b"same bytes"[..]);
}

/// A remote that says it is local-only but would work and counts calls: proves the engine never
/// calls a local-only remote.
struct CountingLocalOnly(MemoryRemote);

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl crate::services::remote_storage::RemoteStorage for CountingLocalOnly {
    fn is_local_only(&self) -> bool {
        true
    }
    async fn health(&self) -> crate::services::remote_storage::RemoteResult<()> {
        self.0.health().await
    }
    async fn upload(
        &self,
        req: crate::services::remote_storage::UploadRequest,
    ) -> crate::services::remote_storage::RemoteResult<()> {
        self.0.upload(req).await
    }
    async fn download(
        &self,
        key: &str,
        offset: u64,
    ) -> crate::services::remote_storage::RemoteResult<crate::services::remote_storage::Download>
    {
        self.0.download(key, offset).await
    }
    async fn delete(&self, key: &str) -> crate::services::remote_storage::RemoteResult<()> {
        self.0.delete(key).await
    }
    async fn download_url(
        &self,
        key: &str,
    ) -> crate::services::remote_storage::RemoteResult<crate::services::remote_storage::SignedUrl>
    {
        self.0.download_url(key).await
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn local_only_mode_makes_no_remote_calls() {
    let w = World::new(9);
    let remote = MemoryRemote::new(Arc::new(w.rt.clone()));
    let a = w.client_on(
        options(),
        w.log.client(),
        Arc::new(MemoryFs::new()),
        Arc::new(CountingLocalOnly(remote.clone())),
    );
    // The real local-only remote refuses every call, with a kind the engine recognizes.
    let refused = w.run(async { LocalOnly.health().await }).unwrap_err();
    assert_eq!(
        refused.kind,
        crate::services::remote_storage::RemoteErrorKind::LocalOnly
    );
    assert!(LocalOnly.is_local_only());
    let saved = a.save(&w, b"local only");
    w.settle(&[&a], Duration::from_secs(30));
    assert_eq!(a.read(&w, &saved.file_id).unwrap(), &b"local only"[..]);
    assert!(!a.engine.is_online());
    let e = a.engine.clone();
    let id = saved.file_id.clone();
    let r = w.run(async move { e.resolve(&id).await.unwrap() });
    assert!(matches!(r, Some(Resolved::Local { .. })));
    let e = a.engine.clone();
    let id = saved.file_id.clone();
    w.run(async move { e.delete(&id).await }).unwrap();
    w.settle(&[&a], Duration::from_secs(120));
    assert_eq!(remote.calls(), Default::default());
    let e = a.engine.clone();
    assert!(w
        .run(async move { e.pending_remote_deletes().await.unwrap() })
        .is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn local_only_files_are_done_and_upload_once_a_remote_is_configured() {
    let w = World::new(19);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let a = w.client_on(options(), catalog.clone(), fs.clone(), Arc::new(LocalOnly));
    let saved = a.save(&w, b"saved before the remote");
    w.settle(&[&a], Duration::from_secs(30));
    // As the TypeScript package records it: nothing is waiting in local-only mode.
    let state = a.state(&w, &saved.file_id).unwrap();
    assert_eq!(
        (state.upload_status, state.download_status),
        (TransferStatus::Done, TransferStatus::Done)
    );
    let e = a.engine.clone();
    w.run(async move { e.stop().await });
    // The app turns a remote on: the same store and files, a new engine.
    let b = w.client_on(options(), catalog, fs, Arc::new(w.remote.clone()));
    w.settle(&[&b], Duration::from_secs(60));
    assert_eq!(
        b.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"saved before the remote")
    );
    assert_eq!(w.remote.calls().upload, 1);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_save_by_another_tab_is_uploaded_by_the_leader_at_once() {
    // Two tabs of one client: the same store (catalog client) and local storage; only the leader
    // runs the sync loop, the other tab's engine is built but never started.
    let w = World::new(23);
    let catalog = w.log.client();
    let fs = Arc::new(MemoryFs::new());
    let leader = w.client_on(
        options(),
        catalog.clone(),
        fs.clone(),
        Arc::new(w.remote.clone()),
    );
    w.settle(&[&leader], Duration::from_secs(5));
    let tab = FileSyncBuilder::with_options(options())
        .runtime(Arc::new(w.rt.clone()))
        .fs(fs)
        .catalog(Arc::new(catalog))
        .remote(Arc::new(w.remote.clone()))
        .build()
        .unwrap();
    let saved = w
        .run(async move {
            tab.save(
                Content::from(&b"from the other tab"[..]),
                SaveOptions::default(),
            )
            .await
        })
        .unwrap();
    // Well before the leader's next rescan of local storage (5 min).
    w.settle(&[&leader], Duration::from_secs(5));
    assert_eq!(
        leader.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"from the other tab")
    );
    let calls = w.remote.calls();
    assert_eq!(
        (calls.upload, calls.download),
        (1, 0),
        "uploaded, never downloaded"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn offline_saves_wait_and_upload_when_the_remote_returns() {
    let w = World::new(10);
    w.remote.set_offline(true);
    let a = w.client(options());
    assert!(!a.engine.is_online());
    let saved = a.save(&w, b"made offline");
    w.settle(&[&a], Duration::from_secs(30));
    assert!(w.remote.keys().is_empty());
    assert_eq!(a.row(&w, &saved.file_id).unwrap().remote_key, "");
    w.remote.set_offline(false);
    // The health check runs every 10 s while offline.
    w.advance(Duration::from_secs(11));
    w.settle(&[&a], Duration::from_secs(30));
    assert!(a.engine.is_online());
    assert_eq!(
        a.row(&w, &saved.file_id).unwrap().remote_key,
        key_of(b"made offline")
    );
    let ev = a.events();
    assert!(
        ev.iter().any(|e| matches!(e, FileSyncEvent::Offline))
            && ev.iter().any(|e| matches!(e, FileSyncEvent::Online))
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn going_offline_mid_queue_loses_nothing() {
    let w = World::new(11);
    let a = w.client(options());
    w.remote.set_delay(Duration::from_millis(200));
    let mut ids = Vec::new();
    for data in [&b"one"[..], b"two", b"three", b"four", b"five"] {
        ids.push(a.save(&w, data).file_id);
    }
    w.remote.set_offline(true);
    w.settle(&[&a], Duration::from_secs(5));
    assert!(!a.engine.is_online());
    w.remote.set_offline(false);
    w.advance(Duration::from_secs(11));
    w.settle(&[&a], Duration::from_secs(60));
    for id in &ids {
        assert!(
            !a.row(&w, id).unwrap().remote_key.is_empty(),
            "{id} not uploaded"
        );
    }
    assert_eq!(w.remote.keys().len(), 5);
}
