//! What `tests/browser_remote.rs` (headless Chromium) and `tests/browser_remote_node.rs` (Node)
//! share: the servers `scripts/test` starts, the remote suite's harness over `BrowserHttpRemote`, and
//! the tests that run in both places (the app's token getter, extra headers, an engine round trip).
//! No mocks: every call goes to a real `filesync serve`.
//!
//! The servers are given at COMPILE time; `scripts/test` starts them and sets:
//! - `FILESYNC_TEST_SERVER` (the signer's base URL, e.g. `http://127.0.0.1:8787/api`) and
//!   `FILESYNC_TEST_TOKEN` (a token for every key) of `filesync serve --tokens-file …
//!   --max-upload-bytes …`;
//! - `FILESYNC_TEST_REMOTE_SUITE`, JSON with what the suite needs besides: `limitedToken` and
//!   `limitedPrefix` (a second token of the tokens file, limited to that prefix), `maxUploadBytes`
//!   (the server's `--max-upload-bytes`), `shortTtlServer` and `shortTtlSecs` (a second
//!   `filesync serve --url-ttl-secs 2` with the same tokens file), `slowServer` (a listener that
//!   never answers) and `closedPort` (a 127.0.0.1 port nothing listens on).
//!
//! Without them every test fails and says how to start them.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use filesync::remote_suite::{Fetched, Limited, RemoteHarness, SharedRemote, ShortTtl, Skip, Slow};
use filesync::{hash_bytes, Runtime, SyncedLog, UploadRequest};
use filesync::{BrowserHttpRemote, BrowserHttpRemoteOptions, SignedUrl, TokenGetter};
use filesync::{BrowserRuntime, SharedRuntime};
use filesync::{Content, FileSyncBuilder, FileSyncOptions, SaveOptions};
use filesync::{RemoteErrorKind, RemoteStorage};
use fs_core::MemoryFs;
use futures::StreamExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The part size of `filesync serve`'s resumable uploads (its default; it has no flag for it).
const SERVE_PART_SIZE: u64 = 8 * 1024 * 1024;
/// The lifetime of `filesync serve`'s signed URLs (its default `--url-ttl-secs`).
const SERVE_URL_TTL: Duration = Duration::from_secs(900);
/// The client timeouts of the remote that never gets an answer.
const SLOW_TIMEOUT: Duration = Duration::from_millis(250);

const HOW_TO_RUN: &str = "tests/browser_remote.rs and tests/browser_remote_node.rs need the \
    servers scripts/test starts, given at compile time: run scripts/test --wasm, or start them as \
    its start_test_server does and set FILESYNC_TEST_SERVER, FILESYNC_TEST_TOKEN and \
    FILESYNC_TEST_REMOTE_SUITE as it does, then `CHROMEDRIVER=/usr/bin/chromedriver cargo test \
    --target wasm32-unknown-unknown -p filesync --test browser_remote --test browser_remote_node`";

/// The signer's base URL and full token this binary was compiled with.
pub fn server() -> (&'static str, &'static str) {
    match (
        option_env!("FILESYNC_TEST_SERVER"),
        option_env!("FILESYNC_TEST_TOKEN"),
    ) {
        (Some(url), Some(token)) if !url.is_empty() && !token.is_empty() => (url, token),
        _ => panic!("{HOW_TO_RUN}"),
    }
}

/// What the suite needs besides the main server (`FILESYNC_TEST_REMOTE_SUITE`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SuiteServers {
    limited_token: String,
    limited_prefix: String,
    max_upload_bytes: u64,
    short_ttl_server: String,
    short_ttl_secs: u64,
    slow_server: String,
    closed_port: u16,
}

fn suite_servers() -> Result<SuiteServers, Skip> {
    let text = option_env!("FILESYNC_TEST_REMOTE_SUITE")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Skip::new(format!(
                "FILESYNC_TEST_REMOTE_SUITE is not set; {HOW_TO_RUN}"
            ))
        })?;
    serde_json::from_str(text).map_err(|e| {
        Skip::new(format!(
            "FILESYNC_TEST_REMOTE_SUITE is not the JSON expected: {e}"
        ))
    })
}

fn client(base_url: &str, token: &str, threshold: u64) -> BrowserHttpRemote {
    let mut options = BrowserHttpRemoteOptions::new(base_url).with_token(token);
    options.multipart_threshold = threshold;
    BrowserHttpRemote::new(options).unwrap()
}

/// The main server with the full token.
pub fn remote() -> BrowserHttpRemote {
    let (url, token) = server();
    client(url, token, SERVE_PART_SIZE)
}

/// Whether this JavaScript scope has `XMLHttpRequest` (a browser; Node has none).
pub fn has_xml_http_request() -> bool {
    let global: JsValue = js_sys::global().into();
    js_sys::Reflect::get(&global, &JsValue::from_str("XMLHttpRequest"))
        .is_ok_and(|value| value.is_function())
}

/// The suite's subject: the main server with the full token, and the others from
/// `FILESYNC_TEST_REMOTE_SUITE`.
pub struct Harness {
    name: &'static str,
}

/// The harness, named after where it runs.
pub async fn harness() -> Harness {
    server();
    Harness {
        name: if has_xml_http_request() {
            "BrowserHttpRemote"
        } else {
            "BrowserHttpRemote in Node (uploads by fetch)"
        },
    }
}

#[async_trait::async_trait(?Send)]
impl RemoteHarness for Harness {
    fn name(&self) -> &str {
        self.name
    }

    fn runtime(&self) -> SharedRuntime {
        Arc::new(BrowserRuntime)
    }

    fn remote(&self) -> SharedRemote {
        Arc::new(remote())
    }

    fn single_request_remote(&self) -> SharedRemote {
        let (url, token) = server();
        Arc::new(client(url, token, u64::MAX))
    }

    fn part_size(&self) -> u64 {
        SERVE_PART_SIZE
    }

    /// `filesync serve` answers `skipIfStored` with `alreadyStored`.
    fn skips_stored_uploads(&self) -> bool {
        true
    }

    fn url_ttl(&self) -> Duration {
        SERVE_URL_TTL
    }

    fn refused_credentials(&self) -> Result<SharedRemote, Skip> {
        let (url, _) = server();
        Ok(Arc::new(client(
            url,
            "not-a-token-the-server-knows-0123456789",
            SERVE_PART_SIZE,
        )))
    }

    fn limited(&self) -> Result<Limited, Skip> {
        let servers = suite_servers()?;
        let (url, _) = server();
        Ok(Limited {
            remote: Arc::new(client(url, &servers.limited_token, SERVE_PART_SIZE)),
            allowed_prefix: servers.limited_prefix,
        })
    }

    fn max_upload_bytes(&self) -> Result<u64, Skip> {
        Ok(suite_servers()?.max_upload_bytes)
    }

    fn offline(&self) -> Result<SharedRemote, Skip> {
        let servers = suite_servers()?;
        let (_, token) = server();
        let url = format!("http://127.0.0.1:{}/api", servers.closed_port);
        Ok(Arc::new(client(&url, token, SERVE_PART_SIZE)))
    }

    fn slow(&self) -> Result<Slow, Skip> {
        let servers = suite_servers()?;
        let (_, token) = server();
        let mut options = BrowserHttpRemoteOptions::new(servers.slow_server).with_token(token);
        options.request_timeout = SLOW_TIMEOUT;
        options.transfer_idle_timeout = SLOW_TIMEOUT;
        Ok(Slow {
            remote: Arc::new(BrowserHttpRemote::new(options).unwrap()),
            timeout: SLOW_TIMEOUT,
        })
    }

    fn short_ttl(&self) -> Result<ShortTtl, Skip> {
        let servers = suite_servers()?;
        let (_, token) = server();
        Ok(ShortTtl {
            remote: Arc::new(client(&servers.short_ttl_server, token, SERVE_PART_SIZE)),
            ttl: Duration::from_secs(servers.short_ttl_secs),
        })
    }

    fn can_fetch(&self) -> Result<(), Skip> {
        Ok(())
    }

    /// A GET by the scope's own `fetch`, with the URL's headers.
    async fn fetch(&self, url: &SignedUrl) -> Result<Fetched, String> {
        let text = |e: JsValue| format!("{e:?}");
        let headers = web_sys::Headers::new().map_err(text)?;
        for (name, value) in &url.headers {
            headers.set(name, value).map_err(text)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(&url.url, &init).map_err(text)?;
        let global: JsValue = js_sys::global().into();
        let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())
            .map_err(text)?
            .unchecked_into();
        let promise: js_sys::Promise = fetch
            .call1(&global, &request)
            .map_err(text)?
            .unchecked_into();
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(text)?
            .unchecked_into();
        let buffer = JsFuture::from(response.array_buffer().map_err(text)?)
            .await
            .map_err(text)?;
        Ok(Fetched {
            status: response.status(),
            body: Bytes::from(js_sys::Uint8Array::new(&buffer).to_vec()),
        })
    }
}

/// `len` bytes that differ from run to run (keys are content-addressed and the server outlives a run).
pub fn data(len: usize) -> Bytes {
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

/// New bytes (`len`) and their content-addressed key under `case`.
pub fn object(case: &str, len: usize) -> (String, Bytes) {
    let bytes = data(len);
    let key = format!(
        "wasm-remote/{case}-{}/{}",
        js_sys::Date::now() as u64,
        hash_bytes(&bytes).to_hex()
    );
    (key, bytes)
}

/// An upload of `bytes` under `key`, in one chunk, reporting nothing.
pub fn upload_request(key: &str, bytes: &Bytes) -> UploadRequest {
    let source = bytes.clone();
    UploadRequest {
        key: key.to_owned(),
        size: bytes.len() as u64,
        content_type: Some("application/octet-stream".into()),
        #[cfg(target_arch = "wasm32")]
        blob: None,
        open: Arc::new(move |offset| {
            let rest = source.slice(offset as usize..);
            Box::pin(async move {
                let stream: fs_core::ByteStream =
                    Box::pin(futures::stream::iter([Ok::<_, fs_core::FsError>(rest)]));
                Ok(stream)
            })
        }),
        progress: Arc::new(|_, _| {}),
        resume: None,
        on_resume: Arc::new(|_| {}),
    }
}

/// Downloads `key` whole through `remote` and checks it is `want`.
pub async fn assert_downloads(remote: &dyn RemoteStorage, key: &str, want: &Bytes) {
    let download = remote
        .download(key, 0)
        .await
        .unwrap_or_else(|err| panic!("the download of {key} failed: {err}"));
    let mut body = Vec::new();
    let mut stream = download.body.into_bytes();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    assert!(body == want[..], "the download of {key} gave other bytes");
}

/// A token getter made of a Rust closure (what JS glue hands over is a JS function just the same).
pub fn getter(f: impl FnMut() -> Result<JsValue, JsValue> + 'static) -> TokenGetter {
    let closure = Closure::<dyn FnMut() -> Result<JsValue, JsValue>>::new(f);
    TokenGetter::new(closure.into_js_value().unchecked_into())
}

/// A client of the main server with `getter` and no static token.
fn with_getter(getter: TokenGetter) -> BrowserHttpRemote {
    let (url, _) = server();
    BrowserHttpRemote::new(BrowserHttpRemoteOptions::new(url).with_token_getter(getter)).unwrap()
}

/// The getter is called once before every signer call and nothing is cached: a stale token first
/// (refused: 401 is `Unauthorized`), then the right one, each call asking again.
#[wasm_bindgen_test]
async fn token_getter_is_called_before_each_signer_call() {
    let (_, token) = server();
    let calls = Rc::new(Cell::new(0u32));
    let counted = calls.clone();
    let remote = with_getter(getter(move || {
        counted.set(counted.get() + 1);
        Ok(JsValue::from_str(if counted.get() == 1 {
            "a-stale-token-the-server-does-not-know"
        } else {
            token
        }))
    }));
    let (key, bytes) = object("getter-calls", 70 * 1024);

    let err = remote
        .upload(upload_request(&key, &bytes))
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert_eq!(err.status, Some(401), "{err}");
    assert!(err.message.contains("token_getter"), "the hint: {err}");
    assert_eq!(calls.get(), 1, "one signer call, one getter call");

    remote.upload(upload_request(&key, &bytes)).await.unwrap();
    assert_eq!(calls.get(), 2, "sign/upload asks the getter again");
    assert_downloads(&remote, &key, &bytes).await;
    assert_eq!(calls.get(), 3, "sign/download asks the getter");
    remote.download_url(&key).await.unwrap();
    remote.health().await.unwrap();
    remote.delete(&key).await.unwrap();
    assert_eq!(
        calls.get(),
        6,
        "download_url, health and delete each ask once"
    );
}

/// A getter that answers a Promise is awaited (here it settles after a timer), for uploads,
/// downloads and deletes.
#[wasm_bindgen_test]
async fn async_token_getter_is_awaited() {
    let (_, token) = server();
    let remote = with_getter(getter(move || {
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            BrowserRuntime.sleep(Duration::from_millis(20)).await;
            Ok(JsValue::from_str(token))
        });
        Ok(promise.into())
    }));
    let (key, bytes) = object("async-getter", 100 * 1024);
    remote.upload(upload_request(&key, &bytes)).await.unwrap();
    assert_downloads(&remote, &key, &bytes).await;
    remote.delete(&key).await.unwrap();
    let err = remote.download(&key, 0).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");
}

/// A getter that throws, or whose Promise rejects, fails the call as `Unauthorized` with its
/// message, before anything is sent.
#[wasm_bindgen_test]
async fn token_getter_that_throws_or_rejects_fails_the_call() {
    let throws = with_getter(getter(|| {
        Err(js_sys::Error::new("the session expired; log in again").into())
    }));
    let (key, bytes) = object("getter-throws", 1024);
    let err = throws
        .upload(upload_request(&key, &bytes))
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert_eq!(err.status, None, "nothing was sent: {err}");
    assert_eq!(err.key.as_deref(), Some(key.as_str()), "{err}");
    for part in [
        "token getter",
        "token_getter",
        "threw",
        "the session expired; log in again",
    ] {
        assert!(err.message.contains(part), "{part:?} in: {err}");
    }

    let rejects = with_getter(getter(|| {
        let refused = js_sys::Error::new("the refresh endpoint answered 500");
        Ok(js_sys::Promise::reject(&refused).into())
    }));
    let err = rejects.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert!(
        err.message.contains("rejected")
            && err.message.contains("the refresh endpoint answered 500"),
        "{err}"
    );
}

/// What the getter answers is checked: none (`null`) sends no `Authorization` (the server answers
/// 401), a non-string or a token no header can carry is `Rejected`, and a getter that never
/// settles is `Offline` after the request timeout.
#[wasm_bindgen_test]
async fn token_getter_answers_are_checked() {
    let (key, bytes) = object("getter-answers", 1024);
    let none = with_getter(getter(|| Ok(JsValue::NULL)));
    let err = none.upload(upload_request(&key, &bytes)).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert_eq!(err.status, Some(401), "{err}");

    let number = with_getter(getter(|| Ok(JsValue::from_f64(42.0))));
    let err = number.download(&key, 0).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    assert!(err.message.contains("returned a number"), "{err}");

    let newline = with_getter(getter(|| Ok(JsValue::from_str("a\nb"))));
    let err = newline.delete(&key).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    assert!(err.message.contains("cannot carry"), "{err}");

    let (url, _) = server();
    let mut options = BrowserHttpRemoteOptions::new(url)
        .with_token_getter(getter(|| Ok(js_sys::Promise::new(&mut |_, _| {}).into())));
    options.request_timeout = SLOW_TIMEOUT;
    let never = BrowserHttpRemote::new(options).unwrap();
    let started = js_sys::Date::now();
    let err = never.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
    assert!(err.message.contains("gave no token within"), "{err}");
    let took = js_sys::Date::now() - started;
    assert!(took < 10_000.0, "the getter's wait ended after {took} ms");
}

/// Extra headers go to the signer: `Authorization` given as a header (no token set) is what the
/// server checks, so a round trip through it proves the headers are sent.
#[wasm_bindgen_test]
async fn extra_headers_reach_the_signer() {
    let (url, token) = server();
    let remote = BrowserHttpRemote::new(
        BrowserHttpRemoteOptions::new(url).with_header("Authorization", format!("Bearer {token}")),
    )
    .unwrap();
    let (key, bytes) = object("extra-headers", 50 * 1024);
    remote.upload(upload_request(&key, &bytes)).await.unwrap();
    assert_downloads(&remote, &key, &bytes).await;
    remote.delete(&key).await.unwrap();

    let wrong = BrowserHttpRemote::new(
        BrowserHttpRemoteOptions::new(url).with_header("Authorization", "Bearer not-known"),
    )
    .unwrap();
    let err = wrong.delete(&key).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
}

/// Headers that cannot be sent, or that a browser would drop, or that conflict with the token,
/// are refused by `BrowserHttpRemote::new`, naming the header.
#[wasm_bindgen_test]
fn bad_extra_headers_are_refused_at_construction() {
    let (url, token) = server();
    let options = || BrowserHttpRemoteOptions::new(url).with_token(token);
    for (name, value, says) in [
        ("X Bad Name", "v", "is not a header name"),
        ("X-Ok", "line\nbreak", "cannot carry"),
        ("Authorization", "Basic eDp5", "conflicts with the token"),
        ("Content-Type", "text/plain", "set by the client"),
        ("Cookie", "session=1", "browsers set themselves"),
    ] {
        let err = BrowserHttpRemote::new(options().with_header(name, value)).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected, "{name}: {err}");
        assert!(err.message.contains(says), "{name}: {err}");
        assert!(
            err.message.contains("BrowserHttpRemoteOptions::headers"),
            "{name}: {err}"
        );
    }
    let twice = options()
        .with_header("X-Tenant", "a")
        .with_header("x-tenant", "b");
    let err = BrowserHttpRemote::new(twice).unwrap_err();
    assert!(err.message.contains("given twice"), "{err}");
}

/// Two engines on their own clients of the server: a file saved by one is read by the other.
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
