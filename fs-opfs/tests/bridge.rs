//! The page→worker bridge in headless Chromium: the whole fs-core conformance suite run from the page
//! against OPFS with sync access handles in a dedicated worker (a fresh sub-root per case), the same
//! suite against a MemoryFs in the worker, and bridge specifics (errors, capabilities, cleanup,
//! overhead).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::arc_with_non_send_sync)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use fs_core::conformance::Harness;
use fs_core::{
    random_name, ErrorKind, FileSystem, OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkOptions, StreamOptions, VPath,
};
use fs_opfs::bridge::{Backend, BridgeFs, BridgeWorker};
use fs_opfs::{OpfsOptions, Strategy};
use futures::StreamExt;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod common;
use web_time::Instant;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    /// One worker for the whole binary; every case opens its own connection.
    static WORKER: RefCell<Option<Rc<BridgeWorker>>> = const { RefCell::new(None) };
}

async fn worker() -> Rc<BridgeWorker> {
    if let Some(worker) = WORKER.with(|w| w.borrow().clone()) {
        return worker;
    }
    let worker = Rc::new(
        BridgeWorker::spawn()
            .await
            .expect("spawn the bridge worker"),
    );
    WORKER.with(|slot| *slot.borrow_mut() = Some(worker.clone()));
    worker
}

fn p(path: &str) -> VPath {
    VPath::new(path).expect("valid test path")
}

/// A connection to OPFS in the worker, rooted at a fresh sub-root.
async fn opfs_connection(group: &str) -> BridgeFs {
    let root = p(&format!(
        "/bridge-tests/{group}/{}",
        random_name(Some("case-"))
    ));
    worker()
        .await
        .connect(&Backend::Opfs(OpfsOptions::in_dir(root)))
        .await
        .expect("connect to OPFS in the worker")
}

/// Empties a case's sub-root through its own connection when the case ends (requests on one
/// connection run after the notices that released its files and sinks), then closes it.
struct EmptyOnDrop(BridgeFs);

impl Drop for EmptyOnDrop {
    fn drop(&mut self) {
        let fs = self.0.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let root = VPath::root();
            if let Ok(entries) = fs.read_dir(&root, ReadDirOptions::default()).await {
                let all = RemoveOptions {
                    recursive: true,
                    force: true,
                };
                for entry in entries {
                    let _ = fs.remove(&entry.path, all).await;
                }
            }
        });
    }
}

async fn bridged_opfs() -> Harness {
    let fs = opfs_connection("conformance").await;
    Harness::with_guard(Arc::new(fs.clone()), EmptyOnDrop(fs))
}

fs_core::conformance_suite!(bridged_opfs);

/// The suite against a fresh MemoryFs in the worker per case (every capability, watch included).
mod memory {
    use super::*;

    async fn bridged_memory() -> Harness {
        let fs = worker()
            .await
            .connect(&Backend::Memory)
            .await
            .expect("connect to a MemoryFs in the worker");
        Harness::new(Arc::new(fs))
    }

    fs_core::conformance_suite!(bridged_memory);
}

#[wasm_bindgen_test]
async fn opfs_in_the_worker_has_sync_access_capabilities() {
    let fs = opfs_connection("caps").await;
    let caps = fs.capabilities();
    assert!(
        caps.random_access_write,
        "sync access handles in the worker"
    );
    assert!(!caps.symlinks && !caps.watch);
    let memory = worker()
        .await
        .connect(&Backend::Memory)
        .await
        .expect("connect");
    assert_eq!(
        memory.capabilities(),
        fs_core::MemoryFs::new().capabilities()
    );
    assert_eq!(memory.temp_dir(), p("/tmp"));
}

#[wasm_bindgen_test]
async fn forced_writable_strategy_crosses_the_bridge() {
    let options = OpfsOptions {
        strategy: Some(Strategy::Writable),
        ..OpfsOptions::in_dir(p(&format!("/bridge-tests/writable/{}", random_name(None))))
    };
    let fs = worker()
        .await
        .connect(&Backend::Opfs(options))
        .await
        .expect("connect");
    assert!(!fs.capabilities().random_access_write);
    let err = fs
        .open(&p("/f"), OpenOptions::flag(OpenFlag::Write))
        .await
        .err()
        .expect("writable open without sync access handles");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[wasm_bindgen_test]
async fn errors_keep_kind_method_path_and_description() {
    let fs = opfs_connection("errors").await;
    let err = fs
        .read_file(&p("/missing/file.txt"))
        .await
        .expect_err("missing file");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.method(), "readFile");
    // OPFS names the first missing directory.
    assert!(
        err.path().is_some_and(|path| path.starts_with("/missing")),
        "{err}"
    );
    assert!(!err.description().is_empty());
    let memory = worker()
        .await
        .connect(&Backend::Memory)
        .await
        .expect("connect");
    let local = fs_core::MemoryFs::new();
    for (bridged, direct) in [
        (
            memory.read_file_string(&p("/nope")).await.expect_err("x"),
            local.read_file_string(&p("/nope")).await.expect_err("x"),
        ),
        (
            memory
                .remove(&VPath::root(), RemoveOptions::default())
                .await
                .expect_err("x"),
            local
                .remove(&VPath::root(), RemoveOptions::default())
                .await
                .expect_err("x"),
        ),
    ] {
        assert_eq!(bridged.to_string(), direct.to_string());
    }
}

#[wasm_bindgen_test]
async fn a_backend_that_cannot_open_fails_the_connection() {
    // A file where the sub-root's parent should be: OpfsFs::open fails in the worker, and the
    // connection reports its error.
    let setup = opfs_connection("bad").await;
    setup
        .write_file(&p("/file"), Bytes::new(), OpenOptions::write())
        .await
        .expect("write");
    let (root, _) = opfs_root_of(&setup).await;
    let below_a_file = OpfsOptions::in_dir(root.join_relative("file/below").expect("join"));
    let err = worker()
        .await
        .connect(&Backend::Opfs(below_a_file))
        .await
        .err()
        .expect("a sub-root below a file");
    assert_eq!(err.kind(), ErrorKind::BadResource, "{err}");
}

/// The OPFS path of a connection made by [`opfs_connection`] (found by its marker file).
async fn opfs_root_of(fs: &BridgeFs) -> (VPath, BridgeFs) {
    let marker = random_name(Some("marker-"));
    fs.write_file(
        &p(&format!("/{marker}")),
        Bytes::new(),
        OpenOptions::write(),
    )
    .await
    .expect("marker");
    let whole = worker()
        .await
        .connect(&Backend::Opfs(OpfsOptions::in_dir(p("/bridge-tests/bad"))))
        .await
        .expect("connect to the group");
    for entry in whole
        .read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await
        .expect("list")
    {
        if entry.path.file_name() == Some(marker.as_str()) {
            let case = entry.path.parent().expect("parent");
            return (
                p("/bridge-tests/bad")
                    .join_relative(&case.as_str()[1..])
                    .expect("join"),
                whole,
            );
        }
    }
    panic!("the marker was not found");
}

#[wasm_bindgen_test]
async fn connections_are_independent_and_closing_one_keeps_the_others() {
    let a = worker().await.connect(&Backend::Memory).await.expect("a");
    let b = worker().await.connect(&Backend::Memory).await.expect("b");
    a.write_file(&p("/x"), Bytes::from_static(b"a"), OpenOptions::write())
        .await
        .expect("write a");
    assert!(!b.exists(&p("/x")).await.expect("exists b"));
    drop(a);
    b.write_file(&p("/y"), Bytes::from_static(b"b"), OpenOptions::write())
        .await
        .expect("write b after a closed");
    assert_eq!(b.read_file(&p("/y")).await.expect("read"), &b"b"[..]);
}

fn log(line: String) {
    web_sys::console::log_1(&line.into());
}

/// Prints the round-trip cost of small calls and the throughput of large transfers through the
/// bridge (run with `-- --nocapture` to see the numbers); asserts only that they work.
#[wasm_bindgen_test]
async fn overhead_of_calls_and_transfers() {
    for (name, fs) in [
        ("memory", {
            worker()
                .await
                .connect(&Backend::Memory)
                .await
                .expect("connect")
        }),
        ("opfs", opfs_connection("overhead").await),
    ] {
        let file = p("/small");
        fs.write_file(&file, Bytes::from_static(b"x"), OpenOptions::write())
            .await
            .expect("write");
        let rounds = 500;
        let start = Instant::now();
        for _ in 0..rounds {
            fs.stat(&file).await.expect("stat");
        }
        let per_call = start.elapsed() / rounds;
        let size = 32 * 1024 * 1024;
        let big = p("/big");
        let small_chunks = sink_rate(&fs, &big, size, 64 * 1024).await;
        let large_chunks = sink_rate(&fs, &big, size, 1024 * 1024).await;
        let start = Instant::now();
        let mut stream = fs
            .read_stream(&big, StreamOptions::default())
            .await
            .expect("stream");
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            read += chunk.expect("chunk").len();
        }
        assert_eq!(read, size);
        let read_time = start.elapsed();
        let mib = (size / (1024 * 1024)) as f64;
        log(format!(
            "bridge/{name}: stat round trip {per_call:?}; 32 MiB through a sink: \
             {small_chunks:.0} MiB/s in 64 KiB chunks, {large_chunks:.0} MiB/s in 1 MiB chunks; \
             read_stream (64 KiB chunks) {:.0} MiB/s",
            mib / read_time.as_secs_f64()
        ));
        fs.remove(&big, RemoveOptions::default())
            .await
            .expect("remove");
    }
}

/// Writes `size` bytes to `path` through a sink in chunks of `chunk_len`; returns MiB/s.
async fn sink_rate(fs: &BridgeFs, path: &VPath, size: usize, chunk_len: usize) -> f64 {
    let chunk = Bytes::from(vec![7u8; chunk_len]);
    let start = Instant::now();
    let mut sink = fs
        .write_sink(path, SinkOptions::default())
        .await
        .expect("sink");
    for _ in 0..size / chunk_len {
        sink.write(chunk.clone()).await.expect("sink write");
    }
    assert_eq!(sink.bytes_written(), size as u64);
    sink.close().await.expect("close");
    (size / (1024 * 1024)) as f64 / start.elapsed().as_secs_f64()
}

#[wasm_bindgen_test]
async fn a_file_system_with_a_worker_of_its_own() {
    let fs = BridgeFs::spawn(&Backend::Opfs(OpfsOptions::in_dir(p(&format!(
        "/bridge-tests/own/{}",
        random_name(None)
    )))))
    .await
    .expect("spawn");
    let path = p("/f");
    let mut file = fs
        .open(&path, OpenOptions::flag(OpenFlag::WriteRead))
        .await
        .expect("open with a sync access handle");
    file.write_all(b"hello").await.expect("write");
    file.seek(std::io::SeekFrom::Start(1)).await.expect("seek");
    assert_eq!(
        file.read_alloc(3).await.expect("read").as_deref(),
        Some(&b"ell"[..])
    );
    file.close().await.expect("close");
    assert_eq!(fs.read_file(&path).await.expect("read"), &b"hello"[..]);
}

fn diff_pair() -> futures::future::LocalBoxFuture<'static, fs_core::conformance::differential::Pair>
{
    Box::pin(async {
        let fs = opfs_connection("diff").await;
        common::diff_pair(fs.clone(), EmptyOnDrop(fs))
    })
}

/// MemoryFs on the page against OPFS in the worker through the bridge: the committed regressions,
/// then fresh random sequences.
#[wasm_bindgen_test]
async fn differential_against_memory() {
    common::differential(&diff_pair, "bridge").await;
}
