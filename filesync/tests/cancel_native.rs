//! Transfers that really stop, natively, against the real `filesync-server` (in this process on
//! 127.0.0.1) behind a throttling proxy that counts what the server received:
//!
//! - a delete stops the file's upload while its bytes move: the server got fewer bytes than the
//!   file, no blob exists, the row never got a `remoteKey`, and nothing of it is kept to resume;
//! - `stop()` returns once every task of the engine ended (the runtime's live-task count is back to
//!   zero), the upload stopped mid-way with its resume token kept, and a new engine over the same
//!   storage and catalog finishes it.
//!
//! Waits poll a condition with a limit; nothing sleeps a fixed time to assert something.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use filesync::model::FileEvent;
use filesync::{
    Catalog, Content, Direction, FileSync, FileSyncBuilder, FileSyncEvent, FileSyncOptions,
    HttpRemote, HttpRemoteOptions, MemoryCatalog, Runtime, SaveOptions, SyncedLog, TokioRuntime,
};
use fs_native::NativeFs;
use support::{data, Server, ThrottledProxy, TOKEN};

const MIB: u64 = 1024 * 1024;
const STORE: &str = "cancel";
/// Larger than what the sockets on the way can hold, so a stopped upload cannot have sent it all.
const SIZE: usize = 16 * MIB as usize;
const TIMEOUT: Duration = Duration::from_secs(60);

/// Polls `check` every 20 ms until it holds, failing after `TIMEOUT`.
async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + TIMEOUT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Client {
    engine: FileSync,
    runtime: Arc<TokioRuntime>,
    events: Arc<Mutex<Vec<FileSyncEvent>>>,
}

/// An engine over `dir` and `catalog`, uploading through `proxy` (resumable from `multipart` bytes
/// on), on a runtime handle of its own so that its live tasks can be counted.
async fn client(
    dir: &std::path::Path,
    catalog: &MemoryCatalog,
    base_url: String,
    multipart: u64,
) -> Client {
    let mut remote = HttpRemoteOptions::new(base_url).with_token(TOKEN);
    remote.multipart_threshold = multipart;
    // One part at a time: the tests count what a stop keeps, part by part.
    remote.parts_in_flight = 1;
    let mut options = FileSyncOptions::new(STORE);
    options.executor.base_delay = Duration::from_millis(100);
    let runtime = Arc::new(TokioRuntime::current());
    let engine = FileSyncBuilder::with_options(options)
        .runtime(runtime.clone())
        .fs(Arc::new(NativeFs::new(dir)))
        .catalog(Arc::new(catalog.clone()))
        .remote(Arc::new(HttpRemote::new(remote).unwrap()))
        .build()
        .unwrap();
    let events: Arc<Mutex<Vec<FileSyncEvent>>> = Arc::default();
    let sink = events.clone();
    engine.on_event(Arc::new(move |e| sink.lock().unwrap().push(e.clone())));
    engine.start().await.unwrap();
    Client {
        engine,
        runtime,
        events,
    }
}

impl Client {
    fn uploaded(&self) -> u64 {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                FileSyncEvent::TransferProgress {
                    direction: Direction::Upload,
                    done,
                    ..
                } => Some(*done),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    fn completed_upload(&self) -> bool {
        self.events.lock().unwrap().iter().any(|e| {
            matches!(
                e,
                FileSyncEvent::TransferComplete {
                    direction: Direction::Upload,
                    ..
                }
            )
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_stops_the_upload_while_its_bytes_move() {
    let server = Server::start();
    // About 3 MB/s: 16 MiB would take over 5 s.
    let proxy = ThrottledProxy::start(server.addr, 16 * 1024, Duration::from_millis(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let log = SyncedLog::new();
    let catalog = log.client();
    // One PUT (no resumable upload).
    let a = client(dir.path(), &catalog, proxy.base_url(), 1024 * MIB).await;

    let bytes = data(SIZE, 1);
    let saved = a
        .engine
        .save(Content::from(bytes.clone()), SaveOptions::default())
        .await
        .unwrap();
    let key = format!("{STORE}/{}", saved.content_hash);
    wait_for("the upload to move bytes", || async {
        proxy.forwarded() > 512 * 1024
    })
    .await;
    a.engine.delete(&saved.file_id).await.unwrap();
    wait_for("the engine to be idle", || async { a.engine.is_idle() }).await;
    let completed = a.completed_upload();
    // What the cancelled upload had handed to the sockets drains to the server; dropping the
    // engine closes its idle connections too.
    a.engine.stop().await;
    drop(a);
    wait_for("the proxy's connections to close", || async {
        proxy.open_connections() == 0
    })
    .await;

    let received = proxy.forwarded();
    assert!(
        received < SIZE as u64,
        "the server received {received} bytes of a {SIZE}-byte file whose upload was cancelled"
    );
    assert!(!completed, "no upload completed");
    assert!(
        !server.blob_path(&key).exists(),
        "no blob exists for a cancelled upload"
    );
    // The only row events are the save and the delete: no remoteKey was ever recorded.
    let row_events: Vec<_> = log
        .events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                FileEvent::FileCreated(_) | FileEvent::FileUpdated(_) | FileEvent::FileDeleted(_)
            )
        })
        .collect();
    assert_eq!(row_events.len(), 2, "{row_events:?}");
    assert!(matches!(row_events[1], FileEvent::FileDeleted(_)));
    assert!(catalog
        .transfer_state(&saved.file_id)
        .await
        .unwrap()
        .is_none_or(|t| t.upload_resume.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_every_task_and_keeps_the_upload_resumable() {
    let server = Server::start();
    let proxy = ThrottledProxy::start(server.addr, 16 * 1024, Duration::from_millis(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let log = SyncedLog::new();
    let catalog = log.client();
    // Resumable from 5 MiB on: 16 MiB go in parts of 5 MiB.
    let a = client(dir.path(), &catalog, proxy.base_url(), 5 * MIB).await;

    let bytes = data(SIZE, 2);
    let saved = a
        .engine
        .save(Content::from(bytes.clone()), SaveOptions::default())
        .await
        .unwrap();
    // The server has received the whole first part (and some of the second) once the proxy has
    // forwarded 7 MiB; the client has handed out more by then.
    wait_for("a first part to reach the server", || async {
        proxy.forwarded() >= 7 * MIB
    })
    .await;
    assert!(a.uploaded() >= 7 * MIB);
    assert!(a.runtime.live_tasks() > 0, "the engine runs tasks");
    a.engine.stop().await;
    wait_for("the runtime's live tasks to end", || async {
        a.runtime.live_tasks() == 0
    })
    .await;
    let at_stop = proxy.forwarded();
    assert!(
        at_stop < SIZE as u64,
        "stop() returned before the upload ended ({at_stop} of {SIZE} bytes sent)"
    );
    assert!(!a.completed_upload());
    let resume = catalog
        .transfer_state(&saved.file_id)
        .await
        .unwrap()
        .and_then(|t| t.upload_resume);
    assert!(resume.is_some(), "the resume token is kept");
    // What the stopped upload had handed to the sockets drains to the server; dropping the engine
    // closes its idle connections too.
    drop(a);
    wait_for("the stopped engine's connections to close", || async {
        proxy.open_connections() == 0
    })
    .await;
    let before_resume = proxy.forwarded();

    // A new engine over the same storage and catalog finishes the upload from where it stopped.
    let b = client(dir.path(), &catalog, proxy.base_url(), 5 * MIB).await;
    wait_for("the resumed upload", || async {
        catalog
            .file(&saved.file_id)
            .await
            .unwrap()
            .is_some_and(|f| !f.remote_key.is_empty())
    })
    .await;
    let key = format!("{STORE}/{}", saved.content_hash);
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);
    let resent = proxy.forwarded() - before_resume;
    assert!(
        resent < SIZE as u64 - 4 * MIB,
        "the upload resumed after the parts already sent ({resent} bytes sent again)"
    );
    b.engine.stop().await;
}
