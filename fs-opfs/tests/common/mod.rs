//! What the page and worker test binaries share: the conformance harness (a fresh random sub-root
//! per case, removed afterwards) and OPFS-specific cases.

#![allow(dead_code, clippy::arc_with_non_send_sync)]

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fs_core::conformance::differential::{explore, replay, Explore, GenConfig, MakePair, Pair};
use fs_core::conformance::Harness;
use fs_core::{
    random_name, ErrorKind, FileSystem, MakeDirOptions, OpenFlag, OpenOptions, RemoveOptions, VPath,
};
use fs_opfs::{OpfsFs, OpfsOptions, Strategy};
use wasm_bindgen::{JsCast, JsValue};

/// Removes a case's sub-root when the case ends (in the background).
pub struct SubRoot(pub VPath);

impl Drop for SubRoot {
    fn drop(&mut self) {
        let path = self.0.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(opfs) = OpfsFs::open(OpfsOptions::default()).await {
                let all = RemoveOptions {
                    recursive: true,
                    force: true,
                };
                let _ = opfs.remove(&path, all).await;
            }
        });
    }
}

/// A fresh sub-root below `/tests/{group}`.
pub fn fresh_root(group: &str) -> VPath {
    VPath::new(&format!("/tests/{group}/{}", random_name(Some("case-")))).expect("valid path")
}

/// Opens `options` in a fresh sub-root.
pub async fn open_in_fresh_root(group: &str, options: OpfsOptions) -> (OpfsFs, SubRoot) {
    let root = fresh_root(group);
    let fs = OpfsFs::open(OpfsOptions {
        root: Some(root.clone()),
        ..options
    })
    .await
    .expect("OpfsFs::open");
    (fs, SubRoot(root))
}

/// The conformance harness with the strategy the context picks.
pub async fn harness() -> Harness {
    let (fs, guard) = open_in_fresh_root("conformance", OpfsOptions::default()).await;
    Harness::with_guard(Arc::new(fs), guard)
}

/// The conformance harness with `move()` disabled (copy-and-remove renames).
pub async fn harness_without_move() -> Harness {
    let options = OpfsOptions {
        use_move: false,
        ..OpfsOptions::default()
    };
    let (fs, guard) = open_in_fresh_root("no-move", options).await;
    assert!(!fs.capabilities().atomic_rename);
    Harness::with_guard(Arc::new(fs), guard)
}

fn p(path: &str) -> VPath {
    VPath::new(path).expect("valid path")
}

/// DOMExceptions constructed by name map to the documented kinds and keep name and message.
pub fn dom_exceptions_map_to_kinds() {
    for (name, kind) in [
        ("NotFoundError", ErrorKind::NotFound),
        ("TypeMismatchError", ErrorKind::BadResource),
        ("NoModificationAllowedError", ErrorKind::Busy),
        ("InvalidModificationError", ErrorKind::DirectoryNotEmpty),
        ("NotAllowedError", ErrorKind::PermissionDenied),
        ("SecurityError", ErrorKind::PermissionDenied),
        ("QuotaExceededError", ErrorKind::StorageFull),
        ("AbortError", ErrorKind::Unknown),
    ] {
        let dom = web_sys::DomException::new_with_message_and_name("what happened", name)
            .expect("DOMException constructor");
        let err = fs_opfs::fs_error_from_js(&JsValue::from(dom), "writeFile", &p("/a/b"));
        assert_eq!(err.kind(), kind, "{name}");
        assert_eq!(err.description(), format!("{name}: what happened"));
        assert_eq!(err.path(), Some("/a/b"));
    }
    let type_error = js_sys::TypeError::new("Name is not allowed.");
    let err = fs_opfs::fs_error_from_js(&JsValue::from(type_error), "open", &p("/x"));
    assert_eq!(err.kind(), ErrorKind::BadArgument);
    let other = fs_opfs::fs_error_from_js(&JsValue::from_str("odd"), "open", &p("/x"));
    assert_eq!(other.kind(), ErrorKind::Unknown);
}

/// The directory cache stays right when directories are removed, renamed and re-created, also
/// behind the instance's back (through a second instance on the same sub-root).
pub async fn dir_cache_follows_remove_and_rename() {
    let (fs, guard) = open_in_fresh_root("cache", OpfsOptions::default()).await;
    let recursive = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    let all = RemoveOptions {
        recursive: true,
        force: false,
    };
    fs.make_dir(&p("/a/b/c"), recursive).await.expect("mkdir");
    fs.write_file_string(&p("/a/b/c/f"), "one", OpenOptions::write())
        .await
        .expect("write");
    assert!(fs.cached_dirs() >= 3, "the walk cached the directories");
    fs.remove(&p("/a/b"), all).await.expect("remove");
    assert_eq!(
        fs.stat(&p("/a/b/c/f")).await.expect_err("gone").kind(),
        ErrorKind::NotFound
    );
    fs.make_dir(&p("/a/b/c"), recursive)
        .await
        .expect("mkdir again");
    fs.write_file_string(&p("/a/b/c/f"), "two", OpenOptions::write())
        .await
        .expect("write again");
    assert_eq!(
        fs.read_file_string(&p("/a/b/c/f")).await.expect("read"),
        "two"
    );
    fs.rename(&p("/a/b"), &p("/moved"))
        .await
        .expect("rename dir");
    assert_eq!(
        fs.read_file_string(&p("/moved/c/f"))
            .await
            .expect("read moved"),
        "two"
    );
    assert_eq!(
        fs.stat(&p("/a/b/c")).await.expect_err("moved away").kind(),
        ErrorKind::NotFound
    );
    fs.make_dir(&p("/a/b/c"), recursive)
        .await
        .expect("mkdir at the old place");
    assert!(fs
        .read_dir(&p("/a/b/c"), Default::default())
        .await
        .expect("list")
        .is_empty());
    // Another instance removes a cached directory: this one notices and walks again.
    let other = OpfsFs::open(OpfsOptions::in_dir(guard.0.clone()))
        .await
        .expect("second instance");
    other.remove(&p("/a"), all).await.expect("remove elsewhere");
    other
        .make_dir(&p("/a/b/c"), recursive)
        .await
        .expect("re-create elsewhere");
    fs.write_file_string(&p("/a/b/c/g"), "three", OpenOptions::write())
        .await
        .expect("write through a stale cache");
    other
        .remove(&p("/a"), all)
        .await
        .expect("remove elsewhere again");
    other
        .make_dir(&p("/a/b/c"), recursive)
        .await
        .expect("re-create elsewhere again");
    fs.make_dir(&p("/a/b/c/d/e"), recursive)
        .await
        .expect("mkdir -p through a stale cache");
    fs.write_file_string(&p("/a/b/c/g"), "three", OpenOptions::write())
        .await
        .expect("write through a stale cache");
    assert!(other
        .exists(&p("/a/b/c/d/e"))
        .await
        .expect("exists elsewhere"));
    assert_eq!(
        other
            .read_file_string(&p("/a/b/c/g"))
            .await
            .expect("read elsewhere"),
        "three"
    );
}

/// Renames without `move()` (the copy fallback) keep content, replace targets and remove sources.
pub async fn rename_without_move_copies() {
    let options = OpfsOptions {
        use_move: false,
        ..OpfsOptions::default()
    };
    let (fs, _guard) = open_in_fresh_root("no-move", options).await;
    assert!(!fs.capabilities().atomic_rename);
    fs.write_file(&p("/a"), Bytes::from_static(b"alpha"), OpenOptions::write())
        .await
        .expect("write");
    fs.write_file(
        &p("/b"),
        Bytes::from_static(b"old and longer"),
        OpenOptions::write(),
    )
    .await
    .expect("write");
    fs.rename(&p("/a"), &p("/b")).await.expect("rename over");
    assert_eq!(fs.read_file(&p("/b")).await.expect("read"), &b"alpha"[..]);
    assert!(!fs.exists(&p("/a")).await.expect("exists"));
}

/// With move available (Chromium), renames are atomic and say so.
pub async fn move_is_detected() {
    let (fs, _guard) = open_in_fresh_root("move", OpfsOptions::default()).await;
    assert!(
        fs.capabilities().atomic_rename,
        "Chromium has FileSystemFileHandle.move()"
    );
    assert!(!fs.capabilities().atomic_dir_rename);
}

/// `persist` and `estimate` answer.
pub async fn storage_helpers_answer() {
    let estimate = fs_opfs::estimate().await.expect("estimate");
    assert!(estimate.quota > 0, "a quota: {estimate:?}");
    let _ = fs_opfs::persist().await.expect("persist");
}

/// Another instance on the same root (another tab, in effect) waits while this one's writable
/// handles hold a file, then gets `Busy` (that this instance's own handles share the file is the
/// conformance case `writable_handles_of_one_file_share_it`).
pub async fn other_instances_wait_for_this_ones_handles() {
    let options = OpfsOptions {
        lock_timeout: Duration::from_millis(300),
        ..OpfsOptions::default()
    };
    let (fs, guard) = open_in_fresh_root("locks", options.clone()).await;
    assert_eq!(fs.strategy(), Strategy::SyncAccess);
    let path = p("/locked.bin");
    let mut first = fs
        .open(&path, OpenOptions::flag(OpenFlag::WriteRead))
        .await
        .expect("first open");
    first.write_all(b"first").await.expect("write");
    let second = fs
        .open(&path, OpenOptions::flag(OpenFlag::ReadWrite))
        .await
        .expect("a second writable handle of the same instance");
    let other = OpfsFs::open(OpfsOptions {
        root: Some(guard.0.clone()),
        ..options
    })
    .await
    .expect("a second instance");
    let busy = other
        .open(&path, OpenOptions::flag(OpenFlag::ReadWrite))
        .await
        .err()
        .expect("locked by the first instance");
    assert_eq!(busy.kind(), ErrorKind::Busy, "{busy}");
    first.close().await.expect("close first");
    let still = other
        .write_file(
            &path,
            Bytes::from_static(b"x"),
            OpenOptions::flag(OpenFlag::ReadWrite),
        )
        .await
        .expect_err("still locked by the second handle");
    assert_eq!(still.kind(), ErrorKind::Busy, "{still}");
    second.close().await.expect("close second");
    let mut third = other
        .open(&path, OpenOptions::flag(OpenFlag::ReadWrite))
        .await
        .expect("free once both handles closed");
    third.seek(SeekFrom::End(0)).await.expect("seek");
    third.write_all(b"+third").await.expect("write");
    third.close().await.expect("close");
    assert_eq!(
        fs.read_file_string(&path).await.expect("read"),
        "first+third"
    );
}

/// `copy_file` onto a file that a writable handle holds goes through its sync access handle, in
/// batches (the source is larger than one), and the handle reads the copy.
pub async fn copy_onto_an_open_file_goes_through_its_handle() {
    let (fs, _guard) = open_in_fresh_root("copy-open", OpfsOptions::default()).await;
    let target = p("/target");
    let mut held = fs
        .open(&target, OpenOptions::flag(OpenFlag::WriteRead))
        .await
        .expect("open");
    held.write_all(b"old bytes, longer than nothing")
        .await
        .expect("write");
    let big: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
    fs.write_file(&p("/big"), Bytes::from(big.clone()), OpenOptions::write())
        .await
        .expect("write the source");
    fs.copy_file(&p("/big"), &target)
        .await
        .expect("copy onto the open file");
    held.seek(SeekFrom::Start(0)).await.expect("seek");
    let mut through_handle = Vec::new();
    while let Some(chunk) = held.read_alloc(1 << 20).await.expect("read") {
        through_handle.extend_from_slice(&chunk);
    }
    assert!(
        through_handle == big,
        "the handle reads the copy ({} bytes)",
        through_handle.len()
    );
    held.close().await.expect("close");
    assert!(
        fs.read_file(&target).await.expect("read") == big,
        "the path holds the copy"
    );
}

/// Forcing sync access handles outside a dedicated worker is `Unsupported`.
pub async fn forced_sync_access_outside_worker_is_unsupported() {
    let options = OpfsOptions {
        strategy: Some(Strategy::SyncAccess),
        ..OpfsOptions::in_dir(fresh_root("forced"))
    };
    let err = OpfsFs::open(options)
        .await
        .err()
        .expect("no sync access on the page");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

/// The differential test's pair: a fresh MemoryFs (the model) and `subject` with its guard.
pub fn diff_pair(subject: impl FileSystem + 'static, guard: impl std::any::Any) -> Pair {
    Pair::with_guard(Arc::new(fs_core::MemoryFs::new()), Arc::new(subject), guard)
}

/// [`diff_pair`] with `OpfsFs` (the context's strategy) in a fresh sub-root.
pub fn opfs_diff_pair() -> futures::future::LocalBoxFuture<'static, Pair> {
    Box::pin(async {
        let (fs, guard) = open_in_fresh_root("diff", OpfsOptions::default()).await;
        diff_pair(fs, guard)
    })
}

/// How long the differential test explores fresh sequences, per setup: `FS_OPFS_DIFF_SECONDS` at
/// compile time (the extended command sets it: 20 minutes), else 30 s (CI time is short).
pub fn diff_seconds() -> u64 {
    option_env!("FS_OPFS_DIFF_SECONDS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

/// The committed regressions every setup replays.
pub const REGRESSIONS: &str = include_str!("../differential/regressions.txt");

/// Replays the regressions, then explores fresh sequences for [`diff_seconds`] with the subject's
/// capabilities; prints the report and fails with the shrunk sequence of a divergence.
pub async fn differential(make: &MakePair<'_>, setup: &str) {
    let replayed = replay(make, REGRESSIONS).await;
    let caps = make().await.subject.capabilities();
    let mut config = GenConfig::new(caps);
    config.names.push("g.fs-opfs".to_owned());
    let report = explore(make, &Explore::for_seconds(config, diff_seconds())).await;
    web_sys::console::log_1(&JsValue::from_str(&format!(
        "{setup}: {replayed} regressions replayed; {report}"
    )));
    report.assert_passed();
}

/// The conformance case of aborted and losing sinks (a few hundred in a row), then a look into the
/// instance's hidden internal directory with the browser's own calls: every temporary file is gone.
pub async fn sinks_that_end_without_commit_leave_no_temporary_file() {
    let (fs, guard) = open_in_fresh_root("sink-leftovers", OpfsOptions::default()).await;
    fs_core::conformance::cases::sinks_that_end_without_commit_leave_nothing(Arc::new(fs)).await;
    let mut dir: web_sys::FileSystemDirectoryHandle =
        wasm_bindgen_futures::JsFuture::from(storage().get_directory())
            .await
            .expect("OPFS root")
            .into();
    for name in guard.0.segments().chain(["internal.fs-opfs"]) {
        dir = wasm_bindgen_futures::JsFuture::from(dir.get_directory_handle(name))
            .await
            .unwrap_or_else(|e| panic!("directory {name}: {e:?}"))
            .into();
    }
    let iter = dir.keys();
    let mut left = Vec::new();
    loop {
        let step: js_sys::IteratorNext =
            wasm_bindgen_futures::JsFuture::from(iter.next().expect("iterator"))
                .await
                .expect("next entry")
                .into();
        if step.done() {
            break;
        }
        left.push(step.value().as_string().unwrap_or_default());
    }
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// `navigator.storage` on the page or in a worker.
fn storage() -> web_sys::StorageManager {
    match web_sys::window() {
        Some(window) => window.navigator().storage(),
        None => js_sys::global()
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .navigator()
            .storage(),
    }
}

/// Writable opens of one file started at the same time share it, and a handle keeps writing while
/// a rename moves its file (the sync access handle closes and opens again underneath).
pub async fn concurrent_opens_and_moves_share_the_file() {
    let (fs, _guard) = open_in_fresh_root("concurrent", OpfsOptions::default()).await;
    let path = p("/both");
    let append = OpenOptions::flag(OpenFlag::AppendRead);
    let (first, second) = futures::join!(fs.open(&path, append), fs.open(&path, append));
    let (mut first, mut second) = (first.expect("first open"), second.expect("second open"));
    first.write_all(b"one").await.expect("write");
    second.write_all(b"+two").await.expect("write");
    let moved = p("/moved");
    let (renamed, written) = futures::join!(fs.rename(&path, &moved), first.write_all(b"+three"));
    renamed.expect("rename while a handle writes");
    written.expect("write while the file moves");
    second
        .write_all(b"+four")
        .await
        .expect("write after the move");
    first.close().await.expect("close");
    second.close().await.expect("close");
    assert_eq!(
        fs.read_file_string(&moved).await.expect("read"),
        "one+two+three+four"
    );
    assert!(!fs.exists(&path).await.expect("exists"));
}
