//! Engine benchmarks (DESIGN §7), printed as tables; never timed assertions.
//!
//! 1. Start-up reconcile of N already-synced files (default 10,000; target ≤ 1 s, no re-hashing) on
//!    fs-native, against the time to list and stat the same store (the I/O a reconcile cannot avoid).
//!    The blobs deliberately hold bytes that do NOT match their names: if the reconcile re-hashed a
//!    single file, its state would change, and the run reports it.
//! 2. Save + upload of N small files (default 1,000 × 100 KiB) through the engine to the real server
//!    in this process on 127.0.0.1, against a plain client that signs and PUTs the same files with the
//!    same concurrency (2) and no local storage.
//!
//! 3. Scale of the catalog: a store of N synced files (default 100,000; in memory: MemoryFs and
//!    MemoryCatalog, so the figures are the engine's own work): the start-up reconcile (time and peak
//!    heap), a full reconcile pass, and one change made by another client (a new file), from its
//!    commit to the end of the engine's pass that decided its download (target ≤ 5 ms).
//!
//! `cargo bench -p filesync --bench engine` (scripts/extended); under `cargo test --all-targets` a
//! small smoke configuration runs instead. Sizes: BENCH_RECONCILE_FILES, BENCH_UPLOAD_FILES,
//! BENCH_UPLOAD_KIB, BENCH_CATALOG_ROWS, BENCH_CHANGES, BENCH_ROUNDS.

#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(target_arch = "wasm32")]
fn main() {}

/// The real server on 127.0.0.1 and the data generator, shared with the end-to-end tests.
#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/mod.rs"]
mod support;

/// This process's resident memory (Linux `/proc/self/status`), for the catalog-scale figures.
#[cfg(not(target_arch = "wasm32"))]
mod heap {
    fn status_kib(field: &str) -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Resident bytes now (0 when unknown).
    pub fn in_use() -> usize {
        status_kib("VmRSS:") as usize * 1024
    }

    /// Restarts the peak (`VmHWM`) at what is resident now (Linux: `clear_refs` with 5).
    pub fn reset_peak() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }

    /// The peak resident bytes since the last reset (0 when unknown).
    pub fn peak() -> usize {
        status_kib("VmHWM:") as usize * 1024
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::support::{data, Server, TOKEN};
    use bytes::Bytes;
    use filesync::model::{
        local_path, remote_key, FileCreated, FileEvent, FileUpdated, LocalFileStateRow,
        TransferStateRow, TransferStatus,
    };
    use filesync::LocalFileStorage;
    use filesync::{hash_bytes, ContentHash};
    use filesync::{Catalog, FileSyncEvent, MemoryCatalog, SyncedLog};
    use filesync::{Content, FileSyncBuilder, FileSyncOptions, SaveOptions};
    use filesync::{HttpRemote, HttpRemoteOptions, MemoryRemote};
    use filesync::{SharedRuntime, TokioRuntime};
    use fs_core::MemoryFs;
    use fs_native::NativeFs;

    const STORE: &str = "bench";

    fn env_number(name: &str, default: u64) -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn median(mut xs: Vec<Duration>) -> Duration {
        xs.sort();
        xs[xs.len() / 2]
    }

    fn options() -> FileSyncOptions {
        let mut o = FileSyncOptions::new(STORE);
        o.orphan_min_age = Duration::from_secs(3_600);
        o
    }

    async fn reconcile_bench(files: usize, rounds: usize) {
        let dir = tempfile::tempdir().unwrap();
        let fs: Arc<NativeFs> = Arc::new(NativeFs::new(dir.path()));
        let storage = LocalFileStorage::new(fs.clone(), STORE).unwrap();
        let catalog = MemoryCatalog::new();
        // Blobs named by the hash of one content but holding other bytes of the same size.
        let store_dir = dir
            .path()
            .join(storage.dir().as_str().trim_start_matches('/'));
        std::fs::create_dir_all(&store_dir).unwrap();
        let mut events = Vec::new();
        for i in 0..files {
            let named = data(1024, i as u64);
            let hash = hash_bytes(&named);
            std::fs::write(store_dir.join(hash.to_hex()), vec![0u8; named.len()]).unwrap();
            events.extend(synced_file(
                format!("file-{i:06}"),
                &hash,
                named.len() as u64,
            ));
            if events.len() >= 4_000 {
                catalog.commit(std::mem::take(&mut events)).await.unwrap();
            }
        }
        catalog.commit(events).await.unwrap();
        let before = catalog.local_states().await.unwrap();

        let runtime: SharedRuntime = Arc::new(TokioRuntime::current());
        let remote = MemoryRemote::new(runtime.clone());
        let mut list_times = Vec::new();
        let mut start_times = Vec::new();
        let mut again_times = Vec::new();
        let mut pass_times = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let listed = storage.list().await.unwrap();
            list_times.push(t.elapsed());
            assert_eq!(listed.len(), files);
            let engine = FileSyncBuilder::with_options(options())
                .runtime(runtime.clone())
                .fs(fs.clone())
                .catalog(Arc::new(catalog.clone()))
                .remote(Arc::new(remote.clone()))
                .build()
                .unwrap();
            let t = Instant::now();
            engine.start().await.unwrap();
            start_times.push(t.elapsed());
            // The change loop's first pass runs in the background; time a pass of our own after it.
            while !engine.is_idle() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let t = Instant::now();
            engine.sync_now().await.unwrap();
            again_times.push(t.elapsed());
            let t = Instant::now();
            engine.reconcile().await.unwrap();
            pass_times.push(t.elapsed());
            engine.stop().await;
        }
        let after = catalog.local_states().await.unwrap();
        let unchanged = before.iter().zip(&after).filter(|(a, b)| a == b).count();
        let (list, start, again) = (median(list_times), median(start_times), median(again_times));
        let pass = median(pass_times);
        println!(
            "reconcile of {files} synced files (fs-native, median of {rounds}):\n  \
         list + stat the store     {:>9.1} ms\n  \
         start-up reconcile        {:>9.1} ms   ({:.2}× the listing; target ≤ 1000 ms)\n  \
         sync_now (warm, rescans)  {:>9.1} ms\n  \
         reconcile pass (index)    {:>9.1} ms   (the pass each catalog change triggers)\n  \
         state rows unchanged      {unchanged}/{files} (a re-hash would have flagged every file: \
         their bytes do not match their names); remote calls besides health: {}",
            ms(list),
            ms(start),
            ms(start) / ms(list).max(0.001),
            ms(again),
            ms(pass),
            remote.calls().upload + remote.calls().download + remote.calls().delete,
        );
    }

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1_000.0
    }

    /// The baseline: sign and PUT each file with `concurrency` in flight, nothing stored locally.
    async fn raw_upload(base: &str, files: &[Bytes], concurrency: usize) -> Duration {
        use futures::StreamExt;
        let client = reqwest::Client::new();
        let t = Instant::now();
        futures::stream::iter(files.iter().cloned())
            .map(|bytes| {
                let client = client.clone();
                let base = base.to_owned();
                async move {
                    let key = format!("raw/{}", hash_bytes(&bytes));
                    let signed: serde_json::Value = client
                        .post(format!("{base}/v1/sign/upload"))
                        .bearer_auth(TOKEN)
                        .json(&serde_json::json!({"key": key, "contentLength": bytes.len()}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let url = signed["url"].as_str().unwrap();
                    let url = if url.starts_with('/') {
                        format!("{}{url}", base.trim_end_matches("/api"))
                    } else {
                        url.to_owned()
                    };
                    let status = client.put(url).body(bytes).send().await.unwrap().status();
                    assert!(status.is_success(), "{status}");
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<()>>()
            .await;
        t.elapsed()
    }

    async fn upload_bench(files: usize, kib: usize, rounds: usize) {
        let mut engine_totals = Vec::new();
        let mut engine_saves = Vec::new();
        let mut raw_totals = Vec::new();
        for round in 0..rounds {
            let server = Server::start();
            let base = server.base_url();
            let contents: Vec<Bytes> = (0..files)
                .map(|i| data(kib * 1024, (round * files + i) as u64 + 1_000_000))
                .collect();
            // Sides alternate between rounds.
            let engine_first = round % 2 == 0;
            for side in 0..2 {
                if (side == 0) == engine_first {
                    let dir = tempfile::tempdir().unwrap();
                    let catalog = MemoryCatalog::new();
                    let remote =
                        HttpRemote::new(HttpRemoteOptions::new(base.clone()).with_token(TOKEN))
                            .unwrap();
                    let engine = FileSyncBuilder::with_options(options())
                        .runtime(Arc::new(TokioRuntime::current()))
                        .fs(Arc::new(NativeFs::new(dir.path())))
                        .catalog(Arc::new(catalog.clone()))
                        .remote(Arc::new(remote))
                        .build()
                        .unwrap();
                    engine.start().await.unwrap();
                    let t = Instant::now();
                    for bytes in &contents {
                        engine
                            .save(Content::Bytes(bytes.clone()), SaveOptions::default())
                            .await
                            .unwrap();
                    }
                    engine_saves.push(t.elapsed());
                    loop {
                        let rows = catalog.files().await.unwrap();
                        if rows.len() == files && rows.iter().all(|r| !r.remote_key.is_empty()) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    engine_totals.push(t.elapsed());
                    engine.stop().await;
                } else {
                    raw_totals.push(raw_upload(&base, &contents, 2).await);
                }
            }
            drop(server);
        }
        let (saves, total, raw) = (
            median(engine_saves),
            median(engine_totals),
            median(raw_totals),
        );
        let rate = |d: Duration| files as f64 / d.as_secs_f64();
        println!(
            "save + upload of {files} × {kib} KiB to the local server (median of {rounds}):\n  \
         engine: saves done           {:>8.0} files/s ({:.2} s)\n  \
         engine: saved and uploaded   {:>8.0} files/s ({:.2} s)\n  \
         plain sign + PUT, 2 in flight {:>7.0} files/s ({:.2} s)\n  \
         ratio engine end-to-end / plain upload: {:.2}×",
            rate(saves),
            saves.as_secs_f64(),
            rate(total),
            total.as_secs_f64(),
            rate(raw),
            raw.as_secs_f64(),
            raw.as_secs_f64() / total.as_secs_f64(),
        );
    }

    /// The events that record one file as synced on this client: created, uploaded (its remote
    /// key), its local copy verified (`size` bytes).
    fn synced_file(id: String, hash: &ContentHash, size: u64) -> [FileEvent; 4] {
        let hex = hash.to_hex();
        [
            FileEvent::FileCreated(FileCreated {
                id: id.clone(),
                path: local_path(STORE, hash),
                content_hash: hex.clone(),
                metadata_json: None,
                created_at: 1,
                updated_at: 1,
            }),
            FileEvent::FileUpdated(FileUpdated {
                id: id.clone(),
                path: local_path(STORE, hash),
                remote_key: remote_key(STORE, hash),
                content_hash: hex.clone(),
                metadata_json: None,
                updated_at: 2,
                if_content_hash: None,
            }),
            FileEvent::LocalFileStateUpsert(LocalFileStateRow {
                file_id: id.clone(),
                path: local_path(STORE, hash),
                local_hash: hex.clone(),
                download_status: TransferStatus::Done,
                upload_status: TransferStatus::Done,
                last_sync_error: String::new(),
            }),
            FileEvent::FileTransferStateUpsert(TransferStateRow {
                file_id: id,
                content_hash: hex,
                local_size: Some(size),
                upload_resume: None,
            }),
        ]
    }

    /// The events that record `n` files as synced on this client (uploaded, local copy verified).
    async fn synced_rows(first: usize, n: usize, storage: &LocalFileStorage) -> Vec<FileEvent> {
        let mut events = Vec::with_capacity(n * 4);
        for i in first..first + n {
            let bytes = data(64, i as u64);
            let hash = storage.write_bytes(bytes.clone(), None).await.unwrap().hash;
            events.extend(synced_file(
                format!("row-{i:07}"),
                &hash,
                bytes.len() as u64,
            ));
        }
        events
    }

    fn percentile(mut xs: Vec<Duration>, p: f64) -> Duration {
        xs.sort();
        xs[((xs.len() - 1) as f64 * p).round() as usize]
    }

    async fn catalog_bench(rows: usize, changes: usize) {
        let log = SyncedLog::new();
        let (writer, reader) = (log.client(), log.client());
        let fs = Arc::new(MemoryFs::new());
        let storage = LocalFileStorage::new(fs.clone(), STORE).unwrap();
        let before_rows = crate::heap::in_use();
        for chunk in (0..rows).step_by(5_000) {
            let events = synced_rows(chunk, 5_000.min(rows - chunk), &storage).await;
            reader.commit(events).await.unwrap();
        }
        let rows_heap = crate::heap::in_use().saturating_sub(before_rows);
        let runtime: SharedRuntime = Arc::new(TokioRuntime::current());
        let remote = MemoryRemote::new(runtime.clone());
        let mut options = options();
        options.reconcile_debounce = Duration::ZERO;
        let engine = FileSyncBuilder::with_options(options)
            .runtime(runtime.clone())
            .fs(fs.clone())
            .catalog(Arc::new(reader.clone()))
            .remote(Arc::new(remote.clone()))
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Instant>();
        let tx = std::sync::Mutex::new(tx);
        engine.on_event(Arc::new(move |e| {
            if matches!(e, FileSyncEvent::SyncComplete) {
                let _ = tx.lock().unwrap().send(Instant::now());
            }
        }));
        crate::heap::reset_peak();
        let heap_before = crate::heap::in_use();
        let t = Instant::now();
        engine.start().await.unwrap();
        let startup = t.elapsed();
        let startup_peak = crate::heap::peak().saturating_sub(heap_before);
        while !engine.is_idle() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let t = Instant::now();
        engine.reconcile().await.unwrap();
        let full_pass = t.elapsed();
        while rx.try_recv().is_ok() {}

        // One change at a time: another client adds a file (uploaded there).
        let mut latencies = Vec::new();
        for i in 0..changes {
            let bytes = data(64, (rows + i) as u64);
            let hash = hash_bytes(&bytes);
            remote.insert(&remote_key(STORE, &hash), bytes.clone(), None);
            let id = format!("new-{i:05}");
            let events = vec![
                FileEvent::FileCreated(FileCreated {
                    id: id.clone(),
                    path: local_path(STORE, &hash),
                    content_hash: hash.to_hex(),
                    metadata_json: None,
                    created_at: 3,
                    updated_at: 3,
                }),
                FileEvent::FileUpdated(FileUpdated {
                    id,
                    path: local_path(STORE, &hash),
                    remote_key: remote_key(STORE, &hash),
                    content_hash: hash.to_hex(),
                    metadata_json: None,
                    updated_at: 4,
                    if_content_hash: None,
                }),
            ];
            while !engine.is_idle() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            while rx.try_recv().is_ok() {}
            let t = Instant::now();
            writer.commit(events).await.unwrap();
            // The listener stamps the event when it happens; polling here adds no time to it.
            let deadline = Instant::now() + Duration::from_secs(30);
            let end = loop {
                if let Ok(at) = rx.try_recv() {
                    break at;
                }
                assert!(Instant::now() < deadline, "no reconcile after a change");
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            latencies.push(end.duration_since(t));
        }
        engine.stop().await;
        println!(
            "catalog of {rows} synced files (MemoryFs + MemoryCatalog; store and rows take {:.0} MiB \
         of RSS):\n  \
         start-up reconcile        {:>9.1} ms   peak RSS {:.0} MiB above the store\n  \
         full reconcile pass       {:>9.1} ms\n  \
         one change (another client's new file), commit → the pass that decided it:\n  \
             median {:>6.2} ms   p95 {:>6.2} ms   ({changes} changes; target ≤ 5 ms)",
            rows_heap as f64 / 1048576.0,
            ms(startup),
            startup_peak as f64 / 1048576.0,
            ms(full_pass),
            ms(percentile(latencies.clone(), 0.5)),
            ms(percentile(latencies, 0.95)),
        );
    }

    pub fn main() {
        let full = std::env::args().any(|a| a == "--bench");
        let (rfiles, ufiles, kib, rounds, catalog_rows, changes) = if full {
            (10_000, 1_000, 100, 3, 100_000, 50)
        } else {
            (200, 20, 4, 1, 2_000, 3)
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reconcile_bench(
                env_number("BENCH_RECONCILE_FILES", rfiles) as usize,
                env_number("BENCH_ROUNDS", rounds) as usize,
            )
            .await;
            upload_bench(
                env_number("BENCH_UPLOAD_FILES", ufiles) as usize,
                env_number("BENCH_UPLOAD_KIB", kib) as usize,
                env_number("BENCH_ROUNDS", rounds) as usize,
            )
            .await;
            catalog_bench(
                env_number("BENCH_CATALOG_ROWS", catalog_rows) as usize,
                env_number("BENCH_CHANGES", changes) as usize,
            )
            .await;
        });
    }
}

/// Native only: the benchmark needs fs-native, tokio and the server.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}
