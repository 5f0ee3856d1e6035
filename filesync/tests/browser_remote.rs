//! `BrowserHttpRemote` in headless Chromium against real `filesync serve` processes (no mocks): the
//! remote behaviour suite (`filesync::remote_suite`), then one engine round trip between two clients
//! through the server.
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
//! Without them every test here fails and says how to start them.
#![cfg(target_arch = "wasm32")]
// MemoryCatalog is neither Send nor Sync on wasm32; `Arc` is still what the engine takes.
#![allow(clippy::arc_with_non_send_sync)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use filesync::remote_suite::{Fetched, Limited, RemoteHarness, SharedRemote, ShortTtl, Skip, Slow};
use filesync::SyncedLog;
use filesync::{BrowserHttpRemote, BrowserHttpRemoteOptions, SignedUrl};
use filesync::{BrowserRuntime, SharedRuntime};
use filesync::{Content, FileSyncBuilder, FileSyncOptions, SaveOptions};
use fs_core::MemoryFs;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The part size of `filesync serve`'s resumable uploads (its default; it has no flag for it).
const SERVE_PART_SIZE: u64 = 8 * 1024 * 1024;
/// The lifetime of `filesync serve`'s signed URLs (its default `--url-ttl-secs`).
const SERVE_URL_TTL: Duration = Duration::from_secs(900);
/// The client timeouts of the remote that never gets an answer.
const SLOW_TIMEOUT: Duration = Duration::from_millis(250);

const HOW_TO_RUN: &str = "tests/browser_remote.rs needs the servers scripts/test starts, given at \
    compile time: run scripts/test --wasm, or start them as its start_test_server does and set \
    FILESYNC_TEST_SERVER, FILESYNC_TEST_TOKEN and FILESYNC_TEST_REMOTE_SUITE as it does, then \
    `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p filesync \
    --test browser_remote`";

/// The signer's base URL and full token this binary was compiled with.
fn server() -> (&'static str, &'static str) {
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

fn remote() -> BrowserHttpRemote {
    let (url, token) = server();
    client(url, token, SERVE_PART_SIZE)
}

/// The main server with the full token, and the others from `FILESYNC_TEST_REMOTE_SUITE`.
struct Browser;

async fn browser() -> Browser {
    server();
    Browser
}

#[async_trait::async_trait(?Send)]
impl RemoteHarness for Browser {
    fn name(&self) -> &str {
        "BrowserHttpRemote"
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

    /// A GET by the page's own `fetch`, with the URL's headers.
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

mod suite {
    use super::browser;

    filesync::remote_suite!(browser);
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
