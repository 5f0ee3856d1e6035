//! `BrowserHttpRemote` in headless Chromium against a real `filesync serve` (no mocks): signer calls,
//! XHR uploads with progress, fetch downloads (ranged), error kinds, signed URLs, resumable uploads
//! (also interrupted and resumed with the token), and one engine round trip between two clients.
//!
//! The server's address and token are read at COMPILE time from `FILESYNC_TEST_SERVER` (the signer's
//! base URL, e.g. `http://127.0.0.1:8787/api`) and `FILESYNC_TEST_TOKEN`; `scripts/test` starts a
//! server and sets both. Without them every test here fails and says how to start one.
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use filesync::hash_bytes;
use filesync::SyncedLog;
use filesync::{
    BrowserHttpRemote, BrowserHttpRemoteOptions, RemoteErrorKind, RemoteStorage, UploadRequest,
};
use filesync::{BrowserRuntime, SharedRuntime};
use filesync::{Content, FileSyncBuilder, FileSyncOptions, SaveOptions};
use fs_core::{ByteStream, ErrorKind, FsError, MemoryFs};
use futures::StreamExt;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const MIB: usize = 1024 * 1024;

/// The signer's base URL and token this binary was compiled with.
fn server() -> (&'static str, &'static str) {
    match (
        option_env!("FILESYNC_TEST_SERVER"),
        option_env!("FILESYNC_TEST_TOKEN"),
    ) {
        (Some(url), Some(token)) if !url.is_empty() && !token.is_empty() => (url, token),
        _ => panic!(
            "tests/browser_remote.rs needs a running filesync server, given at compile time: \
             run scripts/test --wasm (it starts one), or by hand: \
             `cargo run -p filesync-cli -- serve --listen 127.0.0.1:8799 --data-dir /tmp/fs-test-data` \
             then `FILESYNC_TEST_SERVER=http://127.0.0.1:8799/api \
             FILESYNC_TEST_TOKEN=$(cat /tmp/fs-test-data/dev-token) \
             CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p filesync --test browser_remote`"
        ),
    }
}

fn remote_with(token: &str, threshold: Option<u64>) -> BrowserHttpRemote {
    let (url, _) = server();
    let mut options = BrowserHttpRemoteOptions::new(url).with_token(token);
    if let Some(threshold) = threshold {
        options.multipart_threshold = threshold;
    }
    BrowserHttpRemote::new(options).unwrap()
}

fn remote() -> BrowserHttpRemote {
    remote_with(server().1, None)
}

/// `len` bytes that differ from run to run (keys are content-addressed and the server outlives a run).
fn data(len: usize) -> Bytes {
    let seed = (js_sys::Math::random() * 4_000_000_000.0) as u32;
    let mut state = seed | 1;
    Bytes::from(
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect::<Vec<u8>>(),
    )
}

fn key_of(bytes: &[u8]) -> String {
    format!("browser-remote-test/{}", hash_bytes(bytes))
}

/// What an upload reported: progress, resume tokens, the offsets it opened the bytes at.
#[derive(Default)]
struct Seen {
    progress: Vec<(u64, u64)>,
    tokens: Vec<Option<String>>,
    opened: Vec<u64>,
}

/// An upload of `bytes` under `key`, served in 256 KiB chunks; when `fail_after_part_plus` is set, the
/// bytes fail that many bytes past the end of the first part (the part size is read from the token).
fn upload_request(
    key: &str,
    bytes: Bytes,
    content_type: Option<&str>,
    resume: Option<String>,
    fail_after_part_plus: Option<u64>,
) -> (UploadRequest, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let size = bytes.len() as u64;
    let open_seen = seen.clone();
    let open: filesync::OpenAt = Arc::new(move |offset: u64| {
        let bytes = bytes.clone();
        let seen = open_seen.clone();
        Box::pin(async move {
            let fail_at = fail_after_part_plus.map(|extra| {
                let seen = seen.lock().unwrap();
                let token = seen
                    .tokens
                    .iter()
                    .flatten()
                    .next()
                    .expect("a resume token before the bytes are read");
                let token: serde_json::Value = serde_json::from_str(token).unwrap();
                token["partSize"].as_u64().unwrap() + extra
            });
            seen.lock().unwrap().opened.push(offset);
            let chunks: Vec<Result<Bytes, FsError>> = (offset as usize..bytes.len())
                .step_by(256 * 1024)
                .map(|at| {
                    if fail_at.is_some_and(|fail| at as u64 >= fail) {
                        return Err(FsError::new(
                            ErrorKind::Unknown,
                            "read",
                            "the disk went away (test)",
                        ));
                    }
                    Ok(bytes.slice(at..(at + 256 * 1024).min(bytes.len())))
                })
                .collect();
            let stream: ByteStream = futures::stream::iter(chunks).boxed_local();
            Ok(stream)
        })
    });
    let progress_seen = seen.clone();
    let token_seen = seen.clone();
    let req = UploadRequest {
        key: key.to_owned(),
        size,
        content_type: content_type.map(str::to_owned),
        open,
        progress: Arc::new(move |done, total| {
            progress_seen.lock().unwrap().progress.push((done, total))
        }),
        resume,
        on_resume: Arc::new(move |token| token_seen.lock().unwrap().tokens.push(token)),
    };
    (req, seen)
}

/// The whole body of a download of `key` from `offset`: (offset, total size, content type, bytes).
async fn download_all(
    remote: &BrowserHttpRemote,
    key: &str,
    offset: u64,
) -> (u64, Option<u64>, Option<String>, Vec<u8>) {
    let download = remote.download(key, offset).await.unwrap();
    let mut body = download.body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    (
        download.offset,
        download.total_size,
        download.content_type,
        out,
    )
}

#[wasm_bindgen_test]
async fn health_answers() {
    remote().health().await.unwrap();
}

#[wasm_bindgen_test]
async fn upload_then_download_with_progress_and_content_type() {
    let remote = remote();
    let bytes = data(700 * 1024 + 3);
    let key = key_of(&bytes);
    let (req, seen) = upload_request(&key, bytes.clone(), Some("image/png"), None, None);
    remote.upload(req).await.unwrap();
    {
        let seen = seen.lock().unwrap();
        let total = bytes.len() as u64;
        assert_eq!(seen.progress.first(), Some(&(0, total)));
        assert_eq!(seen.progress.last(), Some(&(total, total)));
        assert!(
            seen.progress.windows(2).all(|w| w[0].0 <= w[1].0),
            "{:?}",
            seen.progress
        );
        assert!(seen.tokens.is_empty(), "a single upload hands out no token");
    }
    let (offset, total, content_type, got) = download_all(&remote, &key, 0).await;
    assert_eq!(offset, 0);
    assert_eq!(total, Some(bytes.len() as u64));
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert!(got == bytes, "the downloaded bytes differ");

    // Resuming from an offset: a ranged GET, 206.
    let from = 123_457u64;
    let (offset, total, _, got) = download_all(&remote, &key, from).await;
    assert_eq!(offset, from);
    assert_eq!(total, Some(bytes.len() as u64));
    assert!(got[..] == bytes[from as usize..], "the ranged bytes differ");

    // From the very end: nothing left.
    let (offset, _, _, got) = download_all(&remote, &key, bytes.len() as u64).await;
    assert_eq!(offset, bytes.len() as u64);
    assert!(got.is_empty());
}

#[wasm_bindgen_test]
async fn errors_have_their_kinds() {
    let remote = remote();
    let missing = key_of(&data(64));
    let err = remote.download(&missing, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");

    let stranger = remote_with("not-a-token-the-server-knows-0123456789", None);
    let err = stranger.download(&missing, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert!(err.message.contains("check the token"), "{err}");
    let bytes = data(1000);
    let (req, _) = upload_request(&key_of(&bytes), bytes.clone(), None, None, None);
    let err = stranger.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");

    // Bytes that do not hash to the key are refused, and nothing is stored.
    let other = data(1000);
    let key = key_of(&other);
    let (req, _) = upload_request(&key, bytes, None, None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");

    // No answer (port 9: nothing listens, and Chromium refuses the port anyway): offline.
    let nowhere =
        BrowserHttpRemote::new(BrowserHttpRemoteOptions::new("http://127.0.0.1:9/api")).unwrap();
    let err = nowhere.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
}

#[wasm_bindgen_test]
async fn delete_and_signed_urls() {
    let remote = remote();
    let bytes = data(5000);
    let key = key_of(&bytes);
    let (req, _) = upload_request(&key, bytes.clone(), Some("text/plain"), None, None);
    remote.upload(req).await.unwrap();

    let signed = remote.download_url(&key).await.unwrap();
    assert!(signed.url.starts_with("http://"), "{}", signed.url);
    assert!(signed.expires_at_ms > js_sys::Date::now() as i64);
    let (status, got) = fetch_bytes(&signed.url).await;
    assert_eq!(status, 200);
    assert!(got == bytes, "the signed URL served other bytes");

    remote.delete(&key).await.unwrap();
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");
    // Deleting what is not there is fine.
    remote.delete(&key).await.unwrap();
}

/// GETs `url` with the global fetch: (status, body).
async fn fetch_bytes(url: &str) -> (u16, Vec<u8>) {
    let global: JsValue = js_sys::global().into();
    let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())
        .unwrap()
        .unchecked_into();
    let promise: js_sys::Promise = fetch
        .call1(&global, &JsValue::from_str(url))
        .unwrap()
        .unchecked_into();
    let response: web_sys::Response = JsFuture::from(promise).await.unwrap().unchecked_into();
    let buffer = JsFuture::from(response.array_buffer().unwrap())
        .await
        .unwrap();
    (response.status(), js_sys::Uint8Array::new(&buffer).to_vec())
}

#[wasm_bindgen_test]
async fn multipart_upload_round_trip() {
    let remote = remote_with(server().1, Some(MIB as u64));
    let bytes = data(11 * MIB + 7);
    let key = key_of(&bytes);
    let (req, seen) = upload_request(&key, bytes.clone(), Some("video/mp4"), None, None);
    remote.upload(req).await.unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.tokens.len(), 2, "{:?}", seen.tokens);
        assert!(seen.tokens[0].as_deref().unwrap().contains("uploadId"));
        assert_eq!(seen.tokens[1], None);
        assert!(
            seen.opened.len() >= 2,
            "one open per part: {:?}",
            seen.opened
        );
        assert_eq!(
            seen.progress.last(),
            Some(&(bytes.len() as u64, bytes.len() as u64))
        );
    }
    let (_, total, content_type, got) = download_all(&remote, &key, 0).await;
    assert_eq!(total, Some(bytes.len() as u64));
    assert_eq!(content_type.as_deref(), Some("video/mp4"));
    assert!(got == bytes, "the downloaded bytes differ");
}

#[wasm_bindgen_test]
async fn interrupted_multipart_upload_resumes_with_its_token() {
    let remote = remote_with(server().1, Some(MIB as u64));
    let bytes = data(11 * MIB + 5);
    let key = key_of(&bytes);
    // The local bytes fail 1 MiB into the second part.
    let (req, seen) = upload_request(&key, bytes.clone(), None, None, Some(MIB as u64));
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Local, "{err}");
    let token = {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.tokens.len(), 1, "the token stays: {:?}", seen.tokens);
        seen.tokens[0].clone().unwrap()
    };
    let part_size = serde_json::from_str::<serde_json::Value>(&token).unwrap()["partSize"]
        .as_u64()
        .unwrap();
    assert!(
        part_size < bytes.len() as u64,
        "the server's part size {part_size} is too large for this test"
    );
    assert_eq!(
        remote.download(&key, 0).await.err().unwrap().kind,
        RemoteErrorKind::NotFound
    );

    // Resumed: the first part is kept on the server; only the rest is read and sent.
    let (req, seen) = upload_request(&key, bytes.clone(), None, Some(token), None);
    remote.upload(req).await.unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.tokens, vec![None]);
        assert_eq!(seen.opened.first(), Some(&part_size), "{:?}", seen.opened);
        assert_eq!(
            seen.progress.first(),
            Some(&(part_size, bytes.len() as u64))
        );
        assert_eq!(
            seen.progress.last(),
            Some(&(bytes.len() as u64, bytes.len() as u64))
        );
    }
    let (_, _, _, got) = download_all(&remote, &key, 0).await;
    assert!(got == bytes, "the downloaded bytes differ");
}

#[wasm_bindgen_test]
async fn two_engines_sync_through_the_server() {
    let rt: SharedRuntime = Arc::new(BrowserRuntime);
    let log = SyncedLog::new();
    let store = format!("browser-remote-{}", js_sys::Date::now() as u64);
    let engine = |_name: &str| {
        let mut options = FileSyncOptions::new(store.clone());
        options.executor.base_delay = Duration::from_millis(50);
        FileSyncBuilder::with_options(options)
            .runtime(rt.clone())
            .fs(Arc::new(MemoryFs::new()))
            .catalog(Arc::new(log.client()))
            .remote(Arc::new(remote()))
            .build()
            .unwrap()
    };
    let a = engine("a");
    let b = engine("b");
    a.start().await.unwrap();
    b.start().await.unwrap();

    let bytes = data(300 * 1024);
    let saved = a
        .save(
            Content::Bytes(bytes.clone()),
            SaveOptions {
                mime_type: Some("application/octet-stream".into()),
                ..SaveOptions::default()
            },
        )
        .await
        .unwrap();
    let mut got = None;
    for _ in 0..600 {
        if let Ok(read) = b.read(&saved.file_id).await {
            got = Some(read);
            break;
        }
        rt.sleep(Duration::from_millis(50)).await;
    }
    let got = got.expect("client B never got the file through the server");
    assert!(got == bytes, "client B read other bytes");
    a.stop().await;
    b.stop().await;
}

#[wasm_bindgen_test]
async fn refused_multipart_upload_drops_its_token() {
    let remote = remote_with(server().1, Some(MIB as u64));
    let bytes = data(6 * MIB);
    // The parts arrive, but the whole does not hash to the key: `complete` is refused.
    let key = key_of(&data(64));
    let (req, seen) = upload_request(&key, bytes, None, None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.tokens.len(), 2, "{:?}", seen.tokens);
        assert!(seen.tokens[0].is_some());
        assert_eq!(
            seen.tokens[1], None,
            "a refused upload leaves nothing to resume"
        );
    }
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");
}
