//! `HttpRemote` against the real `filesync-server`, started in this process on 127.0.0.1:0 over a
//! temporary data directory (`tests/support`): the remote behaviour suite (`filesync::remote_suite`,
//! one server per case), then what only this client shows (its messages, its resume token format,
//! its cleanup of refused resumable uploads, its base URL checks, a failing store).

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use filesync::remote_suite::{Fetched, Limited, RemoteHarness, SharedRemote, ShortTtl, Skip, Slow};
use filesync::{
    hash_bytes, HttpRemote, HttpRemoteOptions, OpenAt, RemoteErrorKind, RemoteStorage,
    SharedRuntime, SignedUrl, TokioRuntime, UploadRequest,
};
use filesync_server::{DEFAULT_URL_TTL, MIN_PART_BYTES};
use fs_core::ByteStream;
use support::{Server, Settings, Storage, LIMITED_PREFIX, LIMITED_TOKEN, MAX_UPLOAD, TOKEN};

const MIB: u64 = 1024 * 1024;
/// The URL lifetime of the server of `signed_url_stops_working_after_expiry`.
const SHORT_TTL: Duration = Duration::from_secs(2);
/// The client timeouts of the remote that never gets an answer.
const SLOW_TIMEOUT: Duration = Duration::from_millis(300);

/// A real server per case (5 MiB parts, 256 MiB upload limit, a full and a prefix-limited token).
struct Http {
    server: Server,
    storage: Storage,
    runtime: SharedRuntime,
    /// Servers made for one hook (short URL lifetime), kept until the case ends.
    extra: Mutex<Vec<Server>>,
}

async fn http() -> Http {
    http_over(Storage::Disk)
}

/// The server in S3 mode over a real S3 implementation (s3s-fs).
async fn http_s3() -> Http {
    http_over(Storage::S3)
}

fn http_over(storage: Storage) -> Http {
    Http {
        server: Server::start_with(Settings {
            storage,
            ..Settings::default()
        }),
        storage,
        runtime: Arc::new(TokioRuntime::current()),
        extra: Mutex::new(Vec::new()),
    }
}

fn client(base_url: String, token: &str, threshold: u64) -> HttpRemote {
    let mut options = HttpRemoteOptions::new(base_url).with_token(token);
    options.multipart_threshold = threshold;
    HttpRemote::new(options).unwrap()
}

#[async_trait::async_trait]
impl RemoteHarness for Http {
    fn name(&self) -> &str {
        match self.storage {
            Storage::Disk => "HttpRemote",
            Storage::S3 => "HttpRemote, S3 mode",
        }
    }

    fn runtime(&self) -> SharedRuntime {
        self.runtime.clone()
    }

    fn remote(&self) -> SharedRemote {
        Arc::new(client(self.server.base_url(), TOKEN, MIN_PART_BYTES))
    }

    fn single_request_remote(&self) -> SharedRemote {
        Arc::new(client(self.server.base_url(), TOKEN, u64::MAX))
    }

    fn part_size(&self) -> u64 {
        MIN_PART_BYTES
    }

    /// `filesync serve` answers `skipIfStored` with `alreadyStored`.
    fn skips_stored_uploads(&self) -> bool {
        true
    }

    fn url_ttl(&self) -> Duration {
        DEFAULT_URL_TTL
    }

    /// S3 mode signs each part's SHA-256: the client reads a part once to hash it, once to send it.
    fn reads_per_part(&self) -> u64 {
        match self.storage {
            Storage::Disk => 1,
            Storage::S3 => 2,
        }
    }

    fn refused_credentials(&self) -> Result<SharedRemote, Skip> {
        Ok(Arc::new(client(
            self.server.base_url(),
            "not-a-token-the-server-knows",
            MIN_PART_BYTES,
        )))
    }

    fn limited(&self) -> Result<Limited, Skip> {
        Ok(Limited {
            remote: Arc::new(client(
                self.server.base_url(),
                LIMITED_TOKEN,
                MIN_PART_BYTES,
            )),
            allowed_prefix: LIMITED_PREFIX.to_owned(),
        })
    }

    fn max_upload_bytes(&self) -> Result<u64, Skip> {
        Ok(MAX_UPLOAD)
    }

    /// A 127.0.0.1 port that was just free: nothing listens there.
    fn offline(&self) -> Result<SharedRemote, Skip> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Skip::new(format!("no free port: {e}")))?
            .port();
        Ok(Arc::new(client(
            format!("http://127.0.0.1:{port}/api"),
            TOKEN,
            MIN_PART_BYTES,
        )))
    }

    /// A listener on 127.0.0.1 that accepts connections and never answers (it ends with the case's
    /// runtime), and a client that waits 300 ms.
    fn slow(&self) -> Result<Slow, Skip> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Skip::new(format!("cannot listen: {e}")))?;
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut options = HttpRemoteOptions::new(format!("http://{addr}/api")).with_token(TOKEN);
        options.request_timeout = SLOW_TIMEOUT;
        options.transfer_idle_timeout = SLOW_TIMEOUT;
        Ok(Slow {
            remote: Arc::new(HttpRemote::new(options).unwrap()),
            timeout: SLOW_TIMEOUT,
        })
    }

    fn short_ttl(&self) -> Result<ShortTtl, Skip> {
        let server = Server::start_with(Settings {
            url_ttl: SHORT_TTL,
            storage: self.storage,
        });
        let remote = client(server.base_url(), TOKEN, MIN_PART_BYTES);
        self.extra.lock().unwrap().push(server);
        Ok(ShortTtl {
            remote: Arc::new(remote),
            ttl: SHORT_TTL,
        })
    }

    fn can_fetch(&self) -> Result<(), Skip> {
        Ok(())
    }

    /// A GET by a plain reqwest client with the URL's headers.
    async fn fetch(&self, url: &SignedUrl) -> Result<Fetched, String> {
        let client = reqwest::Client::new();
        let mut request = client.get(&url.url);
        for (name, value) in &url.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        Ok(Fetched { status, body })
    }
}

mod suite {
    use super::http;

    filesync::remote_suite!(http);
}

/// The same suite with the server in S3 mode: URLs presigned at a real S3 implementation's bucket,
/// checksummed parts.
mod suite_s3 {
    use super::http_s3;

    filesync::remote_suite!(http_s3);
}

// --- What only HttpRemote shows -----------------------------------------------------------------

/// Deterministic pseudo-random bytes.
fn data(len: u64, seed: u64) -> Bytes {
    support::data(len as usize, seed)
}

fn key_of(store: &str, bytes: &[u8]) -> String {
    format!("{store}/{}", hash_bytes(bytes).to_hex())
}

/// What an upload reported: resume tokens, and the offsets its bytes were opened at.
#[derive(Default)]
struct Seen {
    tokens: Mutex<Vec<Option<String>>>,
    opens: Mutex<Vec<u64>>,
}

/// An upload of `bytes` under `key` in 64 KiB chunks.
fn request(key: &str, bytes: Bytes, resume: Option<String>) -> (UploadRequest, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let (opens, tokens) = (seen.clone(), seen.clone());
    let size = bytes.len() as u64;
    let open: OpenAt = Arc::new(move |offset| {
        opens.opens.lock().unwrap().push(offset);
        let chunks: Vec<_> = (offset as usize..bytes.len())
            .step_by(64 * 1024)
            .map(|at| Ok(bytes.slice(at..(at + 64 * 1024).min(bytes.len()))))
            .collect();
        Box::pin(async move { Ok(Box::pin(futures::stream::iter(chunks)) as ByteStream) })
    });
    let req = UploadRequest {
        key: key.to_owned(),
        size,
        content_type: None,
        open,
        progress: Arc::new(|_, _| {}),
        resume,
        on_resume: Arc::new(move |token| tokens.tokens.lock().unwrap().push(token)),
    };
    (req, seen)
}

#[tokio::test]
async fn a_token_the_server_no_longer_knows_starts_afresh() {
    // Our token format with an upload id the server never made: `list` answers 404.
    let server = Server::start();
    let remote = client(server.base_url(), TOKEN, 5 * MIB);
    let bytes = data(6 * MIB, 5);
    let key = key_of("s", &bytes);
    let stale = serde_json::json!({
        "v": 1, "key": key, "uploadId": "0".repeat(32), "partSize": 5 * MIB, "size": 6 * MIB,
    })
    .to_string();
    let (req, seen) = request(&key, bytes.clone(), Some(stale));
    remote.upload(req).await.unwrap();
    // Parts go several at a time, so they may open in either order.
    let mut opens = seen.opens.lock().unwrap().clone();
    opens.sort_unstable();
    assert_eq!(opens, vec![0, 5 * MIB]);
    let tokens = seen.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert_eq!(tokens[0], None, "the stale token is dropped");
    let token: serde_json::Value = serde_json::from_str(tokens[1].as_deref().unwrap()).unwrap();
    assert_eq!(token["key"], key.as_str(), "the new token names its key");
    assert!(token["uploadId"].is_string(), "{token}");
    assert_eq!(tokens[2], None);
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);
    assert_eq!(
        server.staged_uploads(),
        0,
        "the completed upload is unstaged"
    );
}

#[tokio::test]
async fn a_refused_resumable_upload_leaves_nothing_staged() {
    let server = Server::start();
    let remote = client(server.base_url(), TOKEN, 5 * MIB);
    let key = key_of("s", b"the bytes the key names");
    let (req, _) = request(&key, data(6 * MIB, 9), None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    assert!(err.message.contains("422"), "{err}");
    assert!(!server.blob_path(&key).exists());
    assert_eq!(server.staged_uploads(), 0, "the client aborted the upload");
}

#[tokio::test]
async fn error_messages_name_the_request_and_hide_signatures() {
    let server = Server::start();
    let remote = client(server.base_url(), TOKEN, u64::MAX);
    let key = key_of("s", b"never uploaded");
    let err = remote.download(&key, 0).await.err().unwrap();
    assert!(
        err.message.contains("GET http://") && err.message.contains("404"),
        "{err}"
    );
    assert!(
        !err.message.contains("sig="),
        "signatures stay out of messages: {err}"
    );

    let stranger = client(server.base_url(), "not-a-token", u64::MAX);
    let (req, _) = request(&key, data(1000, 8), None);
    let err = stranger.upload(req).await.unwrap_err();
    assert!(err.message.contains("POST http://"), "{err}");
    assert!(err.message.contains("401"), "{err}");
    assert!(
        err.message.contains("missing or unknown token"),
        "server text: {err}"
    );
    assert!(err.message.contains("check the token"), "hint: {err}");

    let (mut req, _) = request(&key, data(1000, 12), None);
    req.size = 2000;
    let err = remote.upload(req).await.unwrap_err();
    assert!(err.message.contains("ended after 1000"), "{err}");

    // A server that never answers: the message says the request timed out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut options = HttpRemoteOptions::new(format!("http://{addr}/api")).with_token(TOKEN);
    options.request_timeout = Duration::from_millis(300);
    let err = HttpRemote::new(options)
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(err.message.contains("timed out"), "{err}");
    hold.abort();
}

#[tokio::test]
async fn bad_base_urls_say_what_to_fix() {
    for (url, hint) in [("/api", "absolute"), ("localhost:8787/api", "http://")] {
        let err = HttpRemote::new(HttpRemoteOptions::new(url)).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains(hint), "{url}: {err}");
    }
}

#[tokio::test]
async fn an_unhealthy_store_is_a_server_error() {
    let server = Server::start();
    let remote = client(server.base_url(), TOKEN, u64::MAX);
    std::fs::remove_dir_all(server.data_dir().join("blobs")).unwrap();
    let err = remote.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Server, "{err}");
    assert!(err.message.contains("503"), "{err}");
}
