//! `BrowserHttpRemote` in headless Chromium against real `filesync serve` processes (no mocks): the
//! remote behaviour suite (`filesync::remote_suite`), the app's token getter and extra headers, an
//! engine round trip between two clients through the server (all in `wasm_remote/`, shared with
//! `browser_remote_node.rs`), and what only a browser shows: uploads by `XMLHttpRequest` and the
//! credentials mode of signer calls.
//!
//! The servers are given at COMPILE time by `scripts/test` (see `wasm_remote/mod.rs`); without
//! them every test here fails and says how to start them.
#![cfg(target_arch = "wasm32")]
// MemoryCatalog is neither Send nor Sync on wasm32; `Arc` is still what the engine takes.
#![allow(clippy::arc_with_non_send_sync)]

mod wasm_remote;

use filesync::{BrowserHttpRemote, BrowserHttpRemoteOptions, RemoteErrorKind, RemoteStorage};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_remote::{object, server, upload_request};

wasm_bindgen_test_configure!(run_in_browser);

mod suite {
    use super::wasm_remote::harness;

    filesync::remote_suite!(harness);
}

/// The page has `XMLHttpRequest`, so the suite's uploads here went by XHR (with progress); the
/// fetch upload path runs in `browser_remote_node.rs`.
#[wasm_bindgen_test]
fn the_page_uploads_by_xml_http_request() {
    assert!(wasm_remote::has_xml_http_request());
}

/// With `include_credentials` signer calls go with `credentials: "include"`: `filesync serve`
/// answers CORS with `Access-Control-Allow-Origin: *` and no `Allow-Credentials` (it takes Bearer
/// tokens, not cookies), so the browser refuses its answers to this cross-origin page, and the
/// error says what the signer must allow. The same client without it works.
#[wasm_bindgen_test]
async fn include_credentials_needs_a_signer_that_allows_credentials() {
    let (url, token) = server();
    let options = BrowserHttpRemoteOptions::new(url).with_token(token);
    let (key, bytes) = object("credentials", 1024);
    let with_cookies =
        BrowserHttpRemote::new(options.clone().with_include_credentials(true)).unwrap();
    let err = with_cookies
        .upload(upload_request(&key, &bytes))
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
    assert!(
        err.message.contains("Access-Control-Allow-Credentials"),
        "the hint: {err}"
    );
    let plain = BrowserHttpRemote::new(options).unwrap();
    plain.upload(upload_request(&key, &bytes)).await.unwrap();
    plain.delete(&key).await.unwrap();
}
