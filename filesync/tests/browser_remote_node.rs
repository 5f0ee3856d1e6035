//! `BrowserHttpRemote` in Node (wasm32; Node has `fetch`, `Blob` and `AbortController` but no
//! `XMLHttpRequest`) against the real `filesync serve` processes that `scripts/test` starts (no
//! mocks): the remote behaviour suite, whose uploads here all go by `fetch`, the app's token
//! getter, extra headers and an engine round trip (shared with `browser_remote.rs` in
//! `wasm_remote/`), and what Node shows on its own.
//!
//! No `wasm_bindgen_test_configure!(run_in_browser)`: wasm-bindgen-test-runner runs this file in
//! Node. The servers are given at COMPILE time (see `wasm_remote/mod.rs`).
#![cfg(target_arch = "wasm32")]
// MemoryCatalog is neither Send nor Sync on wasm32; `Arc` is still what the engine takes.
#![allow(clippy::arc_with_non_send_sync)]

mod wasm_remote;

use filesync::{BrowserHttpRemote, BrowserHttpRemoteOptions, RemoteStorage};
use wasm_bindgen_test::wasm_bindgen_test;
use wasm_remote::{assert_downloads, object, server, upload_request};

mod suite {
    use super::wasm_remote::harness;

    filesync::remote_suite!(harness);
}

/// Node has no `XMLHttpRequest`: every upload of this binary (the suite's included) went by fetch.
#[wasm_bindgen_test]
fn node_has_no_xml_http_request() {
    assert!(
        !wasm_remote::has_xml_http_request(),
        "this binary must run in Node (no run_in_browser), where uploads go by fetch"
    );
}

/// A multipart upload by fetch (parts of 8 MiB, the last one short) round trips, reporting
/// progress, never going back, as each part ends (the parts go at the same time, so the short one
/// may end first).
#[wasm_bindgen_test]
async fn resumable_upload_by_fetch_round_trips() {
    let (url, token) = server();
    let mut options = BrowserHttpRemoteOptions::new(url).with_token(token);
    options.multipart_threshold = 1;
    let remote = BrowserHttpRemote::new(options).unwrap();
    let (key, bytes) = object("node-parts", 9 * 1024 * 1024 + 5);
    let reports = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut req = upload_request(&key, &bytes);
    let seen = reports.clone();
    req.progress = std::sync::Arc::new(move |done, total| seen.borrow_mut().push((done, total)));
    remote.upload(req).await.unwrap();
    let size = bytes.len() as u64;
    let reports = reports.borrow().clone();
    assert_eq!(reports.first(), Some(&(0, size)), "{reports:?}");
    assert_eq!(reports.last(), Some(&(size, size)), "{reports:?}");
    assert!(
        reports.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back: {reports:?}"
    );
    let first_part = 8 * 1024 * 1024;
    let one_part_done = |done: u64| done == first_part || done == size - first_part;
    assert!(
        reports.len() == 3 && one_part_done(reports[1].0),
        "a report as the first of the two parts ends: {reports:?}"
    );
    assert_downloads(&remote, &key, &bytes).await;
    remote.delete(&key).await.unwrap();
}

/// In Node a custom header beside the token goes to the signer (no CORS to allow it), and
/// `include_credentials` changes nothing (Node keeps no cookies).
#[wasm_bindgen_test]
async fn custom_headers_and_credentials_work_in_node() {
    let (url, token) = server();
    let remote = BrowserHttpRemote::new(
        BrowserHttpRemoteOptions::new(url)
            .with_token(token)
            .with_header("X-App-Version", "1.2.3")
            .with_include_credentials(true),
    )
    .unwrap();
    let (key, bytes) = object("node-headers", 10 * 1024);
    remote.health().await.unwrap();
    remote.upload(upload_request(&key, &bytes)).await.unwrap();
    assert_downloads(&remote, &key, &bytes).await;
    remote.delete(&key).await.unwrap();
}
