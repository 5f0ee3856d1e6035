//! `JsFs` over the package's `nodeFileSystem` (ts/node-fs.ts, compiled by the glue with the
//! repository's TypeScript), under Node: the fs-core conformance suite and the differential test
//! against MemoryFs, both for the whole interface and for the required methods plus handles only
//! (the Rust fallbacks and `Unsupported` branches); bad file system objects and odd thrown values;
//! node-fs specifics (hidden staging directory, links kept inside the root, messages without disk
//! paths).
//!
//! Needs `npm ci` at the repository root (TypeScript and @types/node). The differential test
//! explores fresh sequences for `FILESYNC_JS_DIFF_SECONDS` at compile time (default 20 s) per
//! setup, after the committed regressions and a fixed set of seeds.
#![cfg(target_arch = "wasm32")]
// One thread: the file systems hold JavaScript values; `Arc` is what fs-core's harness takes.
#![allow(clippy::arc_with_non_send_sync)]

use std::sync::Arc;

use bytes::Bytes;
use filesync_js::JsFs;
use fs_core::conformance::differential::{explore, replay, Explore, GenConfig, MakePair, Pair};
use fs_core::conformance::Harness;
use fs_core::{
    ErrorKind, FileSystem, FileType, MakeDirOptions, MemoryFs, OpenOptions, ReadDirOptions,
    RemoveOptions, SinkMode, SinkOptions, VPath,
};
use futures::future::LocalBoxFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(module = "/tests/node_fs/glue.mjs")]
extern "C" {
    /// Compiles ts/file-system.ts and ts/node-fs.ts (once) and imports node-fs.
    #[wasm_bindgen(catch)]
    async fn load(package_dir: &str) -> Result<JsValue, JsValue>;
    /// The compiler's complaints ('' when none).
    #[wasm_bindgen(js_name = typeErrors)]
    fn type_errors() -> String;
    /// A fresh temporary directory.
    #[wasm_bindgen(js_name = makeRoot)]
    fn make_root() -> String;
    /// Removes a directory tree.
    #[wasm_bindgen(js_name = removeRoot)]
    fn remove_root(dir: &str);
    /// Everything below a directory on disk, sorted.
    #[wasm_bindgen(js_name = diskEntries)]
    fn disk_entries(dir: &str) -> Vec<String>;
    /// `nodeFileSystem(root)`, whole (`full`) or reduced to the required methods + `open`.
    #[wasm_bindgen(catch, js_name = nodeFs)]
    async fn node_fs(package_dir: &str, root: &str, variant: &str) -> Result<JsValue, JsValue>;
    /// `nodeFileSystem(root)` with methods failing as `failures` says (see the glue).
    #[wasm_bindgen(catch, js_name = oddFs)]
    async fn odd_fs(package_dir: &str, root: &str, failures: JsValue) -> Result<JsValue, JsValue>;
}

/// js-bindings/, where the glue finds the TypeScript sources and the repository's TypeScript.
const PACKAGE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The differential test's committed regressions.
const REGRESSIONS: &str = include_str!("node_fs/regressions.txt");

/// A temporary root directory, removed when dropped.
struct Root(String);

impl Drop for Root {
    /// Removes the directory and everything in it.
    fn drop(&mut self) {
        remove_root(&self.0);
    }
}

/// A test path.
fn p(path: &str) -> VPath {
    VPath::new(path).expect("a valid test path")
}

/// The message of a JavaScript error.
fn message(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// `nodeFileSystem` (`full`) or its reduced form (`limited`) in a fresh root, as a `JsFs`.
async fn open(variant: &str) -> (JsFs, Root) {
    let root = Root(make_root());
    let object = node_fs(PACKAGE_DIR, &root.0, variant)
        .await
        .unwrap_or_else(|e| panic!("loading ts/node-fs.ts: {}", message(&e)));
    let fs = JsFs::new(object).unwrap_or_else(|e| panic!("JsFs::new: {}", message(&e)));
    (fs, root)
}

/// The conformance harness over the whole node-fs.
async fn full() -> Harness {
    let (fs, root) = open("full").await;
    Harness::with_guard(Arc::new(fs), root)
}

fs_core::conformance_suite!(full);

/// The suite once more with the required methods and `open` only.
mod limited {
    use std::sync::Arc;

    use fs_core::conformance::Harness;

    /// The conformance harness over node-fs reduced to the required methods and handles.
    async fn limited() -> Harness {
        let (fs, root) = super::open("limited").await;
        Harness::with_guard(Arc::new(fs), root)
    }

    fs_core::conformance_suite!(limited);
}

/// The TypeScript modules compile without a complaint under the package's strict options.
#[wasm_bindgen_test]
async fn typescript_modules_compile_cleanly() {
    load(PACKAGE_DIR)
        .await
        .unwrap_or_else(|e| panic!("loading ts/node-fs.ts: {}", message(&e)));
    let errors = type_errors();
    assert!(errors.is_empty(), "tsc found problems:\n{errors}");
}

/// Capabilities: everything but watch for node-fs; only random-access writes for the reduced form.
#[wasm_bindgen_test]
async fn capabilities_follow_the_declared_groups() {
    let (fs, _root) = open("full").await;
    let caps = fs.capabilities();
    assert!(caps.random_access_write && caps.symlinks && caps.hard_links && caps.permissions);
    assert!(caps.ownership && caps.set_times && caps.durable_sync && caps.atomic_rename);
    assert!(!caps.watch && caps.real_path);
    let (fs, _root) = open("limited").await;
    let caps = fs.capabilities();
    assert!(caps.random_access_write && caps.real_path);
    assert!(!caps.symlinks && !caps.hard_links && !caps.permissions && !caps.durable_sync);
}

/// The writers' staging directory is in the root but never listed, and its name is refused;
/// closed and aborted sinks leave nothing in it.
#[wasm_bindgen_test]
async fn staging_directory_is_hidden_and_reserved() {
    let (fs, root) = open("full").await;
    let mut sink = fs
        .write_sink(&p("/a"), SinkOptions::default())
        .await
        .expect("sink");
    sink.write(Bytes::from_static(b"staged"))
        .await
        .expect("write");
    let staged = disk_entries(&root.0);
    assert!(
        staged.iter().any(|e| e.starts_with(".filesync-staging/")),
        "the sink stages in the root's .filesync-staging: {staged:?}"
    );
    let listing = fs
        .read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await
        .expect("read_dir");
    assert!(
        listing.is_empty(),
        "the staging directory shows: {listing:?}"
    );
    sink.close().await.expect("close");
    let mut aborted = fs
        .write_sink(&p("/b"), SinkOptions::default())
        .await
        .expect("sink");
    aborted
        .write(Bytes::from_static(b"gone"))
        .await
        .expect("write");
    aborted.abort().await.expect("abort");
    let appended = fs
        .write_sink(
            &p("/a"),
            SinkOptions {
                mode: SinkMode::Append,
                permissions: None,
            },
        )
        .await
        .expect("sink");
    appended.close().await.expect("close");
    assert_eq!(
        disk_entries(&root.0),
        [".filesync-staging", "a"],
        "closed and aborted sinks leave nothing behind"
    );
    let reserved = p("/.filesync-staging");
    for result in [
        fs.stat(&reserved).await.map(|_| ()),
        fs.make_dir(&reserved, MakeDirOptions::default()).await,
        fs.write_file(
            &reserved.join("x").unwrap(),
            Bytes::new(),
            OpenOptions::write(),
        )
        .await,
        fs.rename(&p("/a"), &reserved).await,
    ] {
        assert_eq!(
            result.expect_err("the staging name is reserved").kind(),
            ErrorKind::BadArgument
        );
    }
    assert_eq!(fs.read_file(&p("/a")).await.expect("read"), &b"staged"[..]);
}

/// An absolute link target `/x` is stored inside the root and read back as `/x`; `real_path`
/// answers namespace paths; error messages name namespace paths, never the disk root.
#[wasm_bindgen_test]
async fn links_and_messages_stay_inside_the_root() {
    let (fs, root) = open("full").await;
    fs.make_dir(&p("/dir"), MakeDirOptions::default())
        .await
        .expect("mkdir");
    fs.write_file(
        &p("/dir/file"),
        Bytes::from_static(b"x"),
        OpenOptions::write(),
    )
    .await
    .expect("write");
    fs.symlink("/dir", &p("/alias")).await.expect("symlink");
    assert_eq!(fs.read_link(&p("/alias")).await.expect("read_link"), "/dir");
    assert_eq!(
        fs.real_path(&p("/alias/file")).await.expect("real_path"),
        p("/dir/file")
    );
    assert_eq!(
        fs.stat(&p("/alias")).await.expect("stat").file_type,
        FileType::Directory
    );
    let error = fs.read_file(&p("/dir/missing")).await.expect_err("missing");
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let shown = error.to_string();
    assert!(
        !shown.contains(root.0.as_str()) && shown.contains("/dir/missing"),
        "the message names the namespace path only: {shown}"
    );
    let outside = fs.symlink("../../etc", &p("/dir/out")).await;
    assert_eq!(
        outside.expect_err("climbs out").kind(),
        ErrorKind::BadArgument
    );
}

/// Objects that are not file systems are refused with a message naming what is missing.
#[wasm_bindgen_test]
async fn objects_missing_methods_are_refused_clearly() {
    let refuse = |value: JsValue| match JsFs::new(value) {
        Ok(_) => panic!("a bad object was accepted"),
        Err(e) => {
            let code = js_sys::Reflect::get(&e, &"code".into()).unwrap();
            assert_eq!(code.as_string().as_deref(), Some("INVALID_INPUT"));
            message(&e)
        }
    };
    let text = refuse(JsValue::from_str("node"));
    assert!(
        text.contains("must be an object") && text.contains("the string"),
        "{text}"
    );
    let text = refuse(JsValue::NULL);
    assert!(text.contains("null"), "{text}");
    let text = refuse(js_sys::Object::new().into());
    assert!(
        text.contains(
            "lacks the required methods stat, readDir, makeDir, remove, rename, readFile, writeFile, openWriter"
        ),
        "{text}"
    );
    let root = Root(make_root());
    let object = node_fs(PACKAGE_DIR, &root.0, "limited").await.unwrap();
    for gone in ["readFile", "openWriter"] {
        js_sys::Reflect::delete_property(object.unchecked_ref::<js_sys::Object>(), &gone.into())
            .unwrap();
    }
    let caps = js_sys::Reflect::get(&object, &"capabilities".into()).unwrap();
    js_sys::Reflect::set(&caps, &"symlinks".into(), &true.into()).unwrap();
    js_sys::Reflect::set(&caps, &"durable".into(), &"yes".into()).unwrap();
    let text = refuse(object);
    assert!(
        text.contains("lacks the required methods readFile, openWriter"),
        "{text}"
    );
    assert!(
        text.contains("capabilities.symlinks is true but it lacks symlink, readLink, realPath"),
        "{text}"
    );
    assert!(
        text.contains("capabilities.durable must be a boolean, not the string \"yes\""),
        "{text}"
    );
}

/// What a method throws or answers, however odd, becomes an error of a kind: non-`Error` values
/// (strings, plain objects, numbers), synchronous throws, `DOMException`s, malformed answers.
#[wasm_bindgen_test]
async fn odd_throws_and_answers_map_to_kinds() {
    let root = Root(make_root());
    let failures = js_sys::Object::new();
    for (method, how) in [
        ("stat", r#"throw:"ENOENT""#),
        (
            "readDir",
            r#"reject:{"code":"ENOTDIR","message":"plain object"}"#,
        ),
        ("makeDir", "throw:42"),
        ("remove", "error:EBUSY"),
        ("rename", "dom:QuotaExceededError"),
        ("readFile", r#"answer:"not bytes""#),
        ("writeFile", "reject:null"),
        ("truncate", r#"reject:"something else went wrong""#),
        ("copyFile", r#"throw:{"name":"NotAllowedError"}"#),
        ("openWriter", r#"answer:{"write":1}"#),
        ("open", "answer:null"),
        ("realPath", r#"answer:"not/absolute""#),
        ("chmod", r#"throw:"EACCES""#),
    ] {
        js_sys::Reflect::set(&failures, &method.into(), &how.into()).unwrap();
    }
    let object = odd_fs(PACKAGE_DIR, &root.0, failures.into()).await.unwrap();
    let fs = JsFs::new(object).expect("the odd object has every method");
    let file = p("/f");
    let kind = |result: Result<(), fs_core::FsError>| result.expect_err("must fail").kind();
    assert_eq!(kind(fs.stat(&file).await.map(|_| ())), ErrorKind::NotFound);
    assert!(!fs
        .exists(&file)
        .await
        .expect("a thrown \"ENOENT\" is a missing path"));
    let listed = fs.read_dir(&file, ReadDirOptions::default()).await;
    assert_eq!(kind(listed.map(|_| ())), ErrorKind::BadResource);
    let made = fs.make_dir(&file, MakeDirOptions::default()).await;
    let made = made.expect_err("a thrown number");
    assert_eq!(made.kind(), ErrorKind::Unknown);
    assert!(made.to_string().contains("threw 42"), "{made}");
    assert_eq!(
        kind(fs.remove(&file, RemoveOptions::default()).await),
        ErrorKind::Busy
    );
    assert_eq!(
        kind(fs.rename(&file, &p("/g")).await),
        ErrorKind::StorageFull
    );
    assert_eq!(
        kind(fs.read_file(&file).await.map(|_| ())),
        ErrorKind::InvalidData
    );
    let written = fs.write_file(&file, Bytes::from_static(b"x"), OpenOptions::write());
    assert_eq!(kind(written.await), ErrorKind::Unknown);
    let truncated = fs.truncate(&file, 1).await.expect_err("a thrown string");
    assert_eq!(truncated.kind(), ErrorKind::Unknown);
    assert!(
        truncated.to_string().contains("something else went wrong"),
        "{truncated}"
    );
    assert_eq!(
        kind(fs.copy_file(&file, &p("/g")).await),
        ErrorKind::PermissionDenied
    );
    let sink = fs.write_sink(&file, SinkOptions::default()).await;
    let sink = sink.map(|_| ()).expect_err("a writer without its methods");
    assert_eq!(sink.kind(), ErrorKind::InvalidData);
    assert!(
        sink.to_string().contains("lacks write, close, abort"),
        "{sink}"
    );
    let opened = fs.open(&file, OpenOptions::read()).await.map(|_| ());
    assert_eq!(kind(opened), ErrorKind::InvalidData);
    assert_eq!(
        kind(fs.real_path(&file).await.map(|_| ())),
        ErrorKind::InvalidData
    );
    assert_eq!(
        kind(fs.chmod(&file, 0o600).await),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        kind(fs.watch(&file, Default::default()).await.map(|_| ())),
        ErrorKind::Unsupported
    );
}

/// How long each setup explores fresh sequences: `FILESYNC_JS_DIFF_SECONDS` at compile time, else
/// 20 s.
fn diff_seconds() -> u64 {
    option_env!("FILESYNC_JS_DIFF_SECONDS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// MemoryFs and the whole node-fs, each empty.
fn full_pair() -> LocalBoxFuture<'static, Pair> {
    Box::pin(async {
        let (fs, root) = open("full").await;
        Pair::with_guard(Arc::new(MemoryFs::new()), Arc::new(fs), root)
    })
}

/// MemoryFs and the reduced node-fs, each empty.
fn limited_pair() -> LocalBoxFuture<'static, Pair> {
    Box::pin(async {
        let (fs, root) = open("limited").await;
        Pair::with_guard(Arc::new(MemoryFs::new()), Arc::new(fs), root)
    })
}

/// The committed regressions, then 300 sequences from seed 1 (the same every run), then fresh
/// sequences for [`diff_seconds`].
async fn differential(make: &MakePair<'_>, setup: &str) {
    let replayed = replay(make, REGRESSIONS).await;
    let caps = make().await.subject.capabilities();
    let config = GenConfig::new(caps);
    let seeded = explore(
        make,
        &Explore {
            max_sequences: 300,
            first_seed: 1,
            ..Explore::for_seconds(config.clone(), 600)
        },
    )
    .await;
    seeded.assert_passed();
    let fresh = explore(make, &Explore::for_seconds(config, diff_seconds())).await;
    web_sys::console::log_1(&JsValue::from_str(&format!(
        "{setup}: {replayed} regressions replayed; seeded {seeded}; fresh {fresh}"
    )));
    fresh.assert_passed();
}

/// MemoryFs against node-fs: regressions, fixed seeds, fresh sequences.
#[wasm_bindgen_test]
async fn differential_against_memory() {
    differential(&full_pair, "node-fs").await;
}

/// MemoryFs against node-fs reduced to the required methods and handles.
#[wasm_bindgen_test]
async fn differential_against_memory_limited() {
    differential(&limited_pair, "node-fs (required methods and handles)").await;
}
