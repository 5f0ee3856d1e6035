//! End to end, natively: two engines (each with its own `NativeFs` temp dir and its own
//! `MemoryCatalog` over one automatic `SyncedLog`) on the tokio runtime, syncing through
//! `HttpRemote` with the real `filesync-server`, run in this process on 127.0.0.1 (see
//! `support/`). The server is killed mid-upload and mid-download and started again on the same
//! port and data directory; interrupted transfers must resume (resumable upload parts, ranged
//! GETs) and every byte must verify.
//!
//! Every scenario runs with the server's blobs on its disk (`disk::`) and in its S3 mode over a real
//! S3 implementation, s3s-fs, killed and restarted with it (`s3::`). CI runs in S3 mode the two
//! scenarios S3 changes most (an upload resumed in S3 multipart parts, a download resumed with a
//! ranged GET, both across a restart); scripts/extended runs the S3 variants of the other six.
//!
//! Waits poll `is_idle()` on every engine plus a condition, with a 30 s limit (120 s around
//! transfers of tens of MiB: debug builds hash slowly); they never sleep a fixed time to assert
//! something.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use filesync::model::{FileRow, LocalFileStateRow, TransferStatus};
use filesync::TokioRuntime;
use filesync::{hash_bytes, ContentHash};
use filesync::{Catalog, MemoryCatalog, SyncedLog};
use filesync::{
    Content, FileSync, FileSyncBuilder, FileSyncError, FileSyncEvent, FileSyncOptions, Resolved,
    SaveOptions, SavedFile,
};
use filesync::{Direction, ExecutorConfig};
use filesync::{HttpRemote, HttpRemoteOptions, RemoteErrorKind, RemoteStorage};
use fs_core::FileSystem;
use fs_native::NativeFs;
use support::{data, Server, Storage, TOKEN};

const MIB: u64 = 1024 * 1024;
/// The store id; keys and local paths use it sanitized.
const STORE: &str = "e2e store";
const STORE_KEY: &str = "e2e_store";
/// How long a wait may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a wait for tens of MiB may take: debug builds hash at ~20 MB/s, and the content is
/// hashed on the saving client, twice on the server (parts, then the assembled object) and on the
/// downloading client.
const LARGE_TIMEOUT: Duration = Duration::from_secs(120);
const GRACE: Duration = Duration::from_secs(1);

fn options() -> FileSyncOptions {
    let mut o = FileSyncOptions::new(STORE);
    o.health_check_interval = Duration::from_millis(200);
    o.delete_grace_period = GRACE;
    o.orphan_min_age = Duration::ZERO;
    o.executor = ExecutorConfig {
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        jitter: Duration::from_millis(50),
        max_retries: 10,
        ..ExecutorConfig::default()
    };
    o
}

/// The client of `server`: resumable uploads from 5 MiB on, one part at a time (the tests count
/// which parts a cut keeps), short timeouts.
fn remote(server: &Server) -> HttpRemote {
    let mut o = HttpRemoteOptions::new(server.base_url()).with_token(TOKEN);
    o.multipart_threshold = 5 * MIB;
    o.parts_in_flight = 1;
    o.connect_timeout = Duration::from_secs(2);
    o.request_timeout = Duration::from_secs(10);
    o.transfer_idle_timeout = Duration::from_secs(10);
    HttpRemote::new(o).unwrap()
}

fn key_of(hash: &str) -> String {
    format!("{STORE_KEY}/{hash}")
}

/// One client: an engine over its own disk directory and catalog.
struct Client {
    name: &'static str,
    engine: FileSync,
    catalog: MemoryCatalog,
    _dir: tempfile::TempDir,
    events: Arc<Mutex<Vec<FileSyncEvent>>>,
}

impl Client {
    async fn start(name: &'static str, log: &SyncedLog, server: &Server) -> Client {
        let dir = tempfile::tempdir().unwrap();
        let fs: Arc<dyn FileSystem> = Arc::new(NativeFs::new(dir.path()));
        let catalog = log.client();
        let engine = FileSyncBuilder::with_options(options())
            .runtime(Arc::new(TokioRuntime::current()))
            .fs(fs)
            .catalog(Arc::new(catalog.clone()))
            .remote(Arc::new(remote(server)))
            .build()
            .unwrap();
        let events: Arc<Mutex<Vec<FileSyncEvent>>> = Arc::default();
        let sink = events.clone();
        engine.on_event(Arc::new(move |e| {
            if !matches!(e, FileSyncEvent::SyncStart | FileSyncEvent::SyncComplete) {
                sink.lock().unwrap().push(e.clone());
            }
        }));
        engine.start().await.unwrap();
        Client {
            name,
            engine,
            catalog,
            _dir: dir,
            events,
        }
    }

    async fn save(&self, bytes: &Bytes, mime: Option<&str>) -> SavedFile {
        let options = SaveOptions {
            mime_type: mime.map(str::to_owned),
            ..SaveOptions::default()
        };
        self.engine
            .save(Content::from(bytes.clone()), options)
            .await
            .unwrap()
    }

    async fn row(&self, id: &str) -> FileRow {
        self.catalog.file(id).await.unwrap().expect("a files row")
    }

    async fn state(&self, id: &str) -> LocalFileStateRow {
        self.catalog
            .local_state(id)
            .await
            .unwrap()
            .expect("a localFileState row")
    }

    /// Whether the engine reads exactly `expected` for `id` (verified local bytes).
    async fn reads(&self, id: &str, expected: &Bytes) -> bool {
        matches!(self.engine.read(id).await, Ok(got) if got == *expected)
    }

    /// Whether local storage holds the content `hash`.
    async fn holds(&self, hash: &str) -> bool {
        let hash = ContentHash::parse(hash).unwrap();
        self.engine.storage().exists(&hash).await.unwrap().is_some()
    }

    fn events(&self) -> Vec<FileSyncEvent> {
        self.events.lock().unwrap().clone()
    }

    fn saw(&self, pred: impl Fn(&FileSyncEvent) -> bool) -> bool {
        self.events.lock().unwrap().iter().any(pred)
    }

    /// The progress `done` values of each attempt of `direction` (split at `TransferStart`) that
    /// moved or listed bytes (attempts that failed before reporting progress are left out).
    fn attempts(&self, direction: Direction) -> Vec<Vec<u64>> {
        let mut out: Vec<Vec<u64>> = Vec::new();
        for e in self.events() {
            match e {
                FileSyncEvent::TransferStart { direction: d, .. } if d == direction => {
                    out.push(Vec::new())
                }
                FileSyncEvent::TransferProgress {
                    direction: d, done, ..
                } if d == direction => {
                    if let Some(last) = out.last_mut() {
                        last.push(done);
                    }
                }
                _ => {}
            }
        }
        out.retain(|a| !a.is_empty());
        out
    }

    /// The last events other than progress, for failure messages.
    fn recent(&self) -> String {
        let events: Vec<String> = self
            .events()
            .into_iter()
            .filter(|e| !matches!(e, FileSyncEvent::TransferProgress { .. }))
            .map(|e| format!("{e:?}"))
            .collect();
        let from = events.len().saturating_sub(12);
        events[from..].join("\n    ")
    }
}

fn report(clients: &[&Client]) -> String {
    clients
        .iter()
        .map(|c| {
            format!(
                "\n  {}: idle={} online={}; last events:\n    {}",
                c.name,
                c.engine.is_idle(),
                c.engine.is_online(),
                c.recent()
            )
        })
        .collect()
}

/// Waits until every engine is idle and `check` holds (polled every 50 ms); panics after 30 s
/// with what was awaited and the clients' recent events.
async fn settle<F, Fut>(what: &str, clients: &[&Client], check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait(TIMEOUT, what, clients, true, check).await;
}

/// [`settle`] for large transfers ([`LARGE_TIMEOUT`]).
async fn settle_large<F, Fut>(what: &str, clients: &[&Client], check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait(LARGE_TIMEOUT, what, clients, true, check).await;
}

/// Waits until `check` holds, idle or not (limit [`LARGE_TIMEOUT`]).
async fn wait_until<F, Fut>(what: &str, clients: &[&Client], check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait(LARGE_TIMEOUT, what, clients, false, check).await;
}

async fn wait<F, Fut>(timeout: Duration, what: &str, clients: &[&Client], idle: bool, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if (!idle || clients.iter().all(|c| c.engine.is_idle())) && check().await {
            return;
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for {what}{}",
                report(clients)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the server answers 404 for `key` (through the client's own protocol).
async fn remote_missing(server: &Server, key: &str) -> bool {
    match remote(server).download(key, 0).await {
        Err(e) => e.kind == RemoteErrorKind::NotFound,
        Ok(_) => false,
    }
}

/// Byte equality without printing megabytes when it fails (hashing is slow in debug builds).
fn same_bytes(got: &[u8], expected: &[u8]) -> bool {
    got == expected
}

async fn a_save_is_uploaded_and_downloaded_by_the_other_client(storage: Storage) {
    let t0 = Instant::now();
    let server = Server::start_in(storage);
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let bytes = data(300_000, 1);
    let saved = a.save(&bytes, Some("image/png")).await;
    let id = saved.file_id.as_str();
    let key = key_of(&saved.content_hash);
    assert_eq!(saved.content_hash, hash_bytes(&bytes).to_hex());
    // Local first: readable on A at once.
    assert!(a.reads(id, &bytes).await);

    settle("B to download the saved file", &[&a, &b], || async {
        b.reads(id, &bytes).await
    })
    .await;
    assert_eq!(b.engine.read(id).await.unwrap(), bytes);
    for c in [&a, &b] {
        let row = c.row(id).await;
        assert_eq!(row.remote_key, key, "{}", c.name);
        assert_eq!(row.content_hash, saved.content_hash);
        let st = c.state(id).await;
        assert_eq!(st.local_hash, saved.content_hash, "{}", c.name);
        assert_eq!(
            (st.upload_status, st.download_status),
            (TransferStatus::Done, TransferStatus::Done),
            "{}",
            c.name
        );
    }
    // The server holds the blob under {store}/{sha256}, with the content type.
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);
    // The MIME type comes from the row's metadata (no sidecar file per blob).
    assert!(matches!(
        b.engine.resolve(id).await.unwrap(),
        Some(Resolved::Local { mime_type: Some(m), .. }) if m == "image/png"
    ));
    // One upload (A), one download (B), nothing the other way round.
    let starts = |c: &Client, d: Direction| {
        c.events()
            .iter()
            .filter(
                |e| matches!(e, FileSyncEvent::TransferStart { direction, .. } if *direction == d),
            )
            .count()
    };
    assert_eq!(starts(&a, Direction::Upload), 1);
    assert_eq!(starts(&a, Direction::Download), 0);
    assert_eq!(starts(&b, Direction::Upload), 0);
    assert_eq!(starts(&b, Direction::Download), 1);
    a.engine.stop().await;
    b.engine.stop().await;
    drop(server);
    eprintln!("save → download: {:?}", t0.elapsed());
}

async fn an_update_reaches_the_other_client_and_the_old_blob_goes_after_the_grace_period(
    storage: Storage,
) {
    let t0 = Instant::now();
    let server = Server::start_in(storage);
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let v1 = data(100_000, 2);
    let v2 = data(120_000, 3);
    let saved = a.save(&v1, None).await;
    let id = saved.file_id.as_str();
    let old_key = key_of(&saved.content_hash);
    settle("B to download v1", &[&a, &b], || async {
        b.reads(id, &v1).await
    })
    .await;
    assert!(server.blob_path(&old_key).exists());

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let updated = a
        .engine
        .update(id, Content::from(v2.clone()), SaveOptions::default())
        .await
        .unwrap();
    assert!(updated.changed);
    let new_key = key_of(&updated.content_hash);
    // The old blob's delete is recorded durably, due after the grace period.
    let pending = a.engine.pending_remote_deletes().await.unwrap();
    let due = pending
        .iter()
        .find(|(k, _)| *k == old_key)
        .map(|(_, due)| *due)
        .unwrap_or_else(|| panic!("no pending delete of {old_key}: {pending:?}"));
    assert!(
        due >= before + GRACE.as_millis() as i64,
        "due {due}, updated at {before}"
    );

    settle("B to download v2", &[&a, &b], || async {
        b.reads(id, &v2).await
    })
    .await;
    assert_eq!(b.row(id).await.remote_key, new_key);
    assert_eq!(std::fs::read(server.blob_path(&new_key)).unwrap(), v2);

    settle(
        "the old blob to be deleted from the server",
        &[&a, &b],
        || async {
            !server.blob_path(&old_key).exists()
                && a.engine.pending_remote_deletes().await.unwrap().is_empty()
                && b.engine.pending_remote_deletes().await.unwrap().is_empty()
        },
    )
    .await;
    assert!(remote_missing(&server, &old_key).await);
    assert!(a.saw(|e| matches!(e, FileSyncEvent::RemoteDeleted { key } if *key == old_key)));
    // The new content stays; the old local copies are gone on both clients.
    assert!(server.blob_path(&new_key).exists());
    settle("the old local copies to go", &[&a, &b], || async {
        !a.holds(&saved.content_hash).await && !b.holds(&saved.content_hash).await
    })
    .await;
    assert!(a.reads(id, &v2).await && b.reads(id, &v2).await);
    a.engine.stop().await;
    b.engine.stop().await;
    drop(server);
    eprintln!("update → old blob deleted: {:?}", t0.elapsed());
}

async fn a_delete_on_b_removes_a_local_copy_and_the_server_blob(storage: Storage) {
    let t0 = Instant::now();
    let server = Server::start_in(storage);
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let bytes = data(50_000, 4);
    let saved = a.save(&bytes, None).await;
    let id = saved.file_id.as_str();
    let key = key_of(&saved.content_hash);
    settle("B to download the file", &[&a, &b], || async {
        b.reads(id, &bytes).await
    })
    .await;

    b.engine.delete(id).await.unwrap();
    settle("A's local copy to go", &[&a, &b], || async {
        !a.holds(&saved.content_hash).await && !b.holds(&saved.content_hash).await
    })
    .await;
    assert!(matches!(
        a.engine.read(id).await,
        Err(FileSyncError::NotFound { .. })
    ));
    assert!(a.row(id).await.deleted_at.is_some());
    settle(
        "the blob to be deleted from the server",
        &[&a, &b],
        || async {
            !server.blob_path(&key).exists()
                && a.engine.pending_remote_deletes().await.unwrap().is_empty()
                && b.engine.pending_remote_deletes().await.unwrap().is_empty()
        },
    )
    .await;
    assert!(remote_missing(&server, &key).await);
    assert!(
        a.saw(|e| matches!(e, FileSyncEvent::RemoteDeleted { .. }))
            || b.saw(|e| matches!(e, FileSyncEvent::RemoteDeleted { .. }))
    );
    a.engine.stop().await;
    b.engine.stop().await;
    drop(server);
    eprintln!("delete → local copy and blob gone: {:?}", t0.elapsed());
}

async fn a_copy_left_during_a_save_is_removed_once_the_save_ends(storage: Storage) {
    // While a save runs on A, A keeps every local blob (the save may be about to record it). A
    // copy whose row was deleted meanwhile must still go once the save ends, even when the save
    // fails and so commits nothing that would start another reconcile.
    let t0 = Instant::now();
    let server = Server::start_in(storage);
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let bytes = data(40_000, 10);
    let saved = a.save(&bytes, None).await;
    let id = saved.file_id.as_str();
    settle("B to download the file", &[&a, &b], || async {
        b.reads(id, &bytes).await
    })
    .await;

    // A save whose stream hands over one chunk, then waits for the test, then fails.
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let stream = futures::stream::unfold(0u8, move |step| {
        let flag = flag.clone();
        async move {
            if step == 0 {
                flag.store(true, Ordering::SeqCst);
                return Some((Ok(Bytes::from_static(b"the first chunk")), 1));
            }
            None
        }
    });
    let gated = futures::stream::StreamExt::chain(
        stream,
        futures::stream::once(async move {
            let _ = gate.await;
            Err(fs_core::FsError::new(
                fs_core::ErrorKind::Unknown,
                "readStream",
                "the app's source failed",
            ))
        }),
    );
    let engine = a.engine.clone();
    let pending_save = tokio::spawn(async move {
        engine
            .save(Content::Stream(Box::pin(gated)), SaveOptions::default())
            .await
    });
    wait_until("the save to start", &[&a, &b], || async {
        started.load(Ordering::SeqCst)
    })
    .await;

    b.engine.delete(id).await.unwrap();
    settle("B to drop its copy", &[&a, &b], || async {
        !b.holds(&saved.content_hash).await && a.row(id).await.deleted_at.is_some()
    })
    .await;
    assert!(
        a.holds(&saved.content_hash).await,
        "A keeps its copy while a save is in progress"
    );

    let _ = release.send(());
    let failed = pending_save.await.unwrap();
    assert!(
        matches!(failed, Err(FileSyncError::Storage { .. })),
        "{failed:?}"
    );
    settle("A's copy to go after the save ended", &[&a, &b], || async {
        !a.holds(&saved.content_hash).await
    })
    .await;
    a.engine.stop().await;
    b.engine.stop().await;
    drop(server);
    eprintln!(
        "copy kept during a save removed after it: {:?}",
        t0.elapsed()
    );
}

async fn an_upload_interrupted_by_a_server_restart_resumes_without_resending_parts(
    storage: Storage,
) {
    let t0 = Instant::now();
    let server = Arc::new(Server::start_in(storage));
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let size = 24 * MIB;
    let bytes = data(size as usize, 5);

    // Kill the server once 12 MiB were handed to the connection: parts 1 and 2 (5 MiB each) were
    // acknowledged (part 3 is only signed after part 2's answer), part 3 is cut. The listener
    // blocks the upload until the server is gone, so no byte more reaches it.
    let killed = Arc::new(AtomicBool::new(false));
    let (srv, flag) = (server.clone(), killed.clone());
    a.engine.on_event(Arc::new(move |e| {
        if let FileSyncEvent::TransferProgress {
            direction: Direction::Upload,
            done,
            ..
        } = e
        {
            if *done >= 12 * MIB && !flag.swap(true, Ordering::SeqCst) {
                srv.kill();
            }
        }
    }));
    let saved = a.save(&bytes, Some("video/mp4")).await;
    let id = saved.file_id.as_str();
    let key = key_of(&saved.content_hash);
    wait_until("the server to be killed mid-upload", &[&a, &b], || async {
        killed.load(Ordering::SeqCst) && !server.is_running()
    })
    .await;
    wait_until("A to go offline", &[&a, &b], || async {
        a.saw(|e| matches!(e, FileSyncEvent::Offline))
    })
    .await;
    assert!(!server.blob_path(&key).exists());
    assert_eq!(server.staged_uploads(), 1, "one staged resumable upload");
    let st = a.state(id).await;
    assert_ne!(st.upload_status, TransferStatus::Done);
    // The resume token is persisted.
    let transfer = a.catalog.transfer_state(id).await.unwrap().unwrap();
    assert!(
        transfer
            .upload_resume
            .as_deref()
            .is_some_and(|t| t.contains("uploadId")),
        "{transfer:?}"
    );

    server.restart();
    settle_large("B to download the resumed upload", &[&a, &b], || async {
        matches!(b.engine.read(id).await, Ok(got) if same_bytes(&got, &bytes))
    })
    .await;
    assert_eq!(a.row(id).await.remote_key, key);
    assert!(same_bytes(
        &std::fs::read(server.blob_path(&key)).unwrap(),
        &bytes
    ));
    assert_eq!(
        server.staged_uploads(),
        0,
        "the staged upload was completed"
    );
    assert!(a.saw(|e| matches!(e, FileSyncEvent::Online)));

    let attempts = a.attempts(Direction::Upload);
    assert!(attempts.len() >= 2, "{attempts:?}");
    let first_max = attempts[0].iter().copied().max().unwrap_or(0);
    assert!(
        (12 * MIB..size).contains(&first_max),
        "first attempt reached {first_max}"
    );
    // Every resumed attempt starts after the parts the server acknowledged (two or more whole
    // 5 MiB parts), and the bytes sent after the restart are only the rest.
    let mut resent = 0;
    for (n, attempt) in attempts.iter().enumerate().skip(1) {
        let start = *attempt.first().expect("progress reported");
        assert!(
            start >= 10 * MIB && start % (5 * MIB) == 0 && start <= first_max,
            "attempt {} started at {start}: {attempts:?}",
            n + 1
        );
        resent += attempt.iter().copied().max().unwrap_or(start) - start;
    }
    assert_eq!(*attempts.last().unwrap().last().unwrap(), size);
    assert!(
        resent <= size - 10 * MIB,
        "{resent} bytes sent after the restart"
    );
    eprintln!(
        "upload resumed: attempts started at {:?} MiB; {} MiB sent after the restart; {:?}",
        attempts
            .iter()
            .map(|a| a.first().copied().unwrap_or(0) / MIB)
            .collect::<Vec<_>>(),
        resent / MIB,
        t0.elapsed()
    );
    a.engine.stop().await;
    b.engine.stop().await;
    // The listeners hold the server too: stop it here, not when the runtime drops them.
    server.kill();
}

async fn a_download_interrupted_by_a_server_restart_resumes_with_a_ranged_get(storage: Storage) {
    let t0 = Instant::now();
    let server = Arc::new(Server::start_in(storage));
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    // Larger than every socket buffer on the way can hold (loopback: at most 32 MiB receive +
    // 4 MiB send), so the server cannot have sent it all when it is killed.
    let size = 48 * MIB;
    let bytes = data(size as usize, 6);

    let killed = Arc::new(AtomicBool::new(false));
    let (srv, flag) = (server.clone(), killed.clone());
    b.engine.on_event(Arc::new(move |e| {
        if let FileSyncEvent::TransferProgress {
            direction: Direction::Download,
            done,
            ..
        } = e
        {
            if *done >= MIB && !flag.swap(true, Ordering::SeqCst) {
                srv.kill();
            }
        }
    }));
    let saved = a.save(&bytes, None).await;
    let id = saved.file_id.as_str();
    let hash = ContentHash::parse(&saved.content_hash).unwrap();
    wait_until(
        "the server to be killed mid-download",
        &[&a, &b],
        || async { killed.load(Ordering::SeqCst) && !server.is_running() },
    )
    .await;
    wait_until("B to go offline", &[&a, &b], || async {
        b.saw(|e| matches!(e, FileSyncEvent::Offline))
    })
    .await;
    assert!(!b.holds(&saved.content_hash).await);
    let partial = b
        .engine
        .storage()
        .partial_size(&hash)
        .await
        .unwrap()
        .unwrap_or(0);
    assert!(
        (MIB..size).contains(&partial),
        "B kept {partial} bytes of the interrupted download"
    );

    server.restart();
    settle_large("B to finish the download", &[&a, &b], || async {
        matches!(b.engine.read(id).await, Ok(got) if same_bytes(&got, &bytes))
    })
    .await;
    let st = b.state(id).await;
    assert_eq!(st.download_status, TransferStatus::Done);
    assert_eq!(st.local_hash, saved.content_hash);
    assert_eq!(b.engine.storage().partial_size(&hash).await.unwrap(), None);

    let attempts = b.attempts(Direction::Download);
    assert!(attempts.len() >= 2, "{attempts:?}");
    let first_max = attempts[0].iter().copied().max().unwrap_or(0);
    assert!(first_max < size, "the first attempt finished: {first_max}");
    // The attempt after the restart asked for the bytes after the kept ones (a ranged GET): its
    // first progress report is already beyond them.
    let second_start = *attempts[1].first().expect("progress reported");
    assert!(
        second_start > partial && second_start - partial <= MIB,
        "the second attempt's first progress was {second_start}, {partial} bytes were kept"
    );
    assert_eq!(*attempts.last().unwrap().last().unwrap(), size);
    eprintln!(
        "download resumed at {:.1} MiB of {} MiB; {:?}",
        partial as f64 / MIB as f64,
        size / MIB,
        t0.elapsed()
    );
    a.engine.stop().await;
    b.engine.stop().await;
    // The listeners hold the server too: stop it here, not when the runtime drops them.
    server.kill();
}

async fn a_quick_server_restart_mid_transfer_is_retried_and_resumes(storage: Storage) {
    // The server is killed and at once started again (the health check that follows the failure
    // finds it up, so the engine retries instead of going offline): once mid-upload on A, once
    // mid-download on B, on the same 48 MiB file.
    let t0 = Instant::now();
    let server = Arc::new(Server::start_in(storage));
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    let size = 48 * MIB;
    let bytes = data(size as usize, 9);
    let restarts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let restart_at = |direction: Direction, at: u64| {
        let (srv, count, fired) = (server.clone(), restarts.clone(), AtomicBool::new(false));
        Arc::new(move |e: &FileSyncEvent| {
            if let FileSyncEvent::TransferProgress {
                direction: d, done, ..
            } = e
            {
                if *d == direction && *done >= at && !fired.swap(true, Ordering::SeqCst) {
                    srv.kill();
                    srv.restart();
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    a.engine.on_event(restart_at(Direction::Upload, 12 * MIB));
    b.engine.on_event(restart_at(Direction::Download, MIB));

    let saved = a.save(&bytes, None).await;
    let id = saved.file_id.as_str();
    let key = key_of(&saved.content_hash);
    settle_large("B to download the file", &[&a, &b], || async {
        matches!(b.engine.read(id).await, Ok(got) if same_bytes(&got, &bytes))
    })
    .await;
    assert_eq!(restarts.load(Ordering::SeqCst), 2);
    assert_eq!(a.row(id).await.remote_key, key);
    assert!(same_bytes(
        &std::fs::read(server.blob_path(&key)).unwrap(),
        &bytes
    ));
    assert_eq!(server.staged_uploads(), 0);

    let up = a.attempts(Direction::Upload);
    assert!(up.len() >= 2, "{up:?}");
    let first_max = up[0].iter().copied().max().unwrap_or(0);
    assert!((12 * MIB..size).contains(&first_max), "{first_max}");
    for attempt in &up[1..] {
        let start = attempt[0];
        assert!(
            start >= 10 * MIB && start % (5 * MIB) == 0 && start <= first_max,
            "a resumed upload started at {start}"
        );
    }
    let down = b.attempts(Direction::Download);
    assert!(down.len() >= 2, "{down:?}");
    let first_max = down[0].iter().copied().max().unwrap_or(0);
    assert!(first_max < size, "the first download attempt finished");
    // The bytes before the cut were kept: the resumed GET asked for the rest.
    assert!(
        down[1][0] > MIB,
        "the second download attempt started at {}",
        down[1][0]
    );
    assert_eq!(*down.last().unwrap().last().unwrap(), size);
    eprintln!(
        "quick restarts: upload attempts started at {:?} MiB, download attempts at {:?} bytes; \
         offline seen: A {}, B {}; {:?}",
        up.iter().map(|a| a[0] / MIB).collect::<Vec<_>>(),
        down.iter().map(|a| a[0]).collect::<Vec<_>>(),
        a.saw(|e| matches!(e, FileSyncEvent::Offline)),
        b.saw(|e| matches!(e, FileSyncEvent::Offline)),
        t0.elapsed()
    );
    a.engine.stop().await;
    b.engine.stop().await;
    // The listeners hold the server too: stop it here, not when the runtime drops them.
    server.kill();
}

async fn saves_while_the_server_is_down_are_uploaded_once_it_is_back(storage: Storage) {
    let t0 = Instant::now();
    let server = Server::start_in(storage);
    server.kill();
    let log = SyncedLog::new();
    let a = Client::start("A", &log, &server).await;
    let b = Client::start("B", &log, &server).await;
    assert!(!a.engine.is_online() && !b.engine.is_online());

    let small = data(10_000, 7);
    let large = data((6 * MIB) as usize, 8);
    let s1 = a.save(&small, Some("text/plain")).await;
    let s2 = a.save(&large, None).await;
    // Local first: both readable on A; nothing is uploaded.
    assert!(a.reads(&s1.file_id, &small).await);
    assert!(a.reads(&s2.file_id, &large).await);
    for s in [&s1, &s2] {
        assert_eq!(a.row(&s.file_id).await.remote_key, "");
        assert!(!b.holds(&s.content_hash).await);
    }
    assert!(matches!(
        b.engine.read(&s1.file_id).await,
        Err(FileSyncError::NotLocal { .. })
    ));

    server.restart();
    settle("both files to reach B", &[&a, &b], || async {
        b.reads(&s1.file_id, &small).await && b.reads(&s2.file_id, &large).await
    })
    .await;
    assert!(a.engine.is_online() && b.engine.is_online());
    for (s, bytes) in [(&s1, &small), (&s2, &large)] {
        let key = key_of(&s.content_hash);
        assert_eq!(a.row(&s.file_id).await.remote_key, key);
        assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), *bytes);
        assert_eq!(
            a.state(&s.file_id).await.upload_status,
            TransferStatus::Done
        );
    }
    let events = a.events();
    let offline = events
        .iter()
        .position(|e| matches!(e, FileSyncEvent::Offline));
    let online = events
        .iter()
        .position(|e| matches!(e, FileSyncEvent::Online));
    assert!(
        matches!((offline, online), (Some(off), Some(on)) if off < on),
        "{}",
        report(&[&a])
    );
    a.engine.stop().await;
    b.engine.stop().await;
    drop(server);
    eprintln!(
        "offline saves uploaded after the restart: {:?}",
        t0.elapsed()
    );
}

/// Each scenario as a test with the server's disk storage (`disk::`) and in its S3 mode (`s3::`).
/// The S3 variants of the scenarios after `extended:` (the remote suite's S3 cases and the load
/// smoke cover their S3 calls in CI) are ignored here and run by scripts/extended, to keep CI
/// short.
macro_rules! on_both_storages {
    ($($name:ident),* $(,)?; extended: $($extended:ident),* $(,)?) => {
        mod disk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Storage::Disk).await
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $extended() {
                    super::$extended(super::Storage::Disk).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Storage::S3).await
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "S3 mode of a scenario storage does not change: scripts/extended runs it"]
                async fn $extended() {
                    super::$extended(super::Storage::S3).await
                }
            )*
        }
    };
}

on_both_storages!(
    an_upload_interrupted_by_a_server_restart_resumes_without_resending_parts,
    a_download_interrupted_by_a_server_restart_resumes_with_a_ranged_get;
    extended:
    a_save_is_uploaded_and_downloaded_by_the_other_client,
    an_update_reaches_the_other_client_and_the_old_blob_goes_after_the_grace_period,
    a_delete_on_b_removes_a_local_copy_and_the_server_blob,
    a_copy_left_during_a_save_is_removed_once_the_save_ends,
    a_quick_server_restart_mid_transfer_is_retried_and_resumes,
    saves_while_the_server_is_down_are_uploaded_once_it_is_back,
);
