//! `HttpRemote` against the real `filesync-server`, started in this process on 127.0.0.1:0 over a
//! temporary data directory.

#![cfg(not(target_arch = "wasm32"))]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use filesync::hash_bytes;
use filesync::{
    HttpRemote, HttpRemoteOptions, OpenAt, RemoteErrorKind, RemoteStorage, UploadRequest,
};
use filesync_server::{
    router, serve, DiskStore, DiskStoreOptions, ServerConfig, TokenGrant, TokenTable, UrlSigner,
    MIN_PART_BYTES,
};
use fs_core::{ByteStream, ErrorKind, FsError};
use futures::StreamExt;

const MIB: u64 = 1024 * 1024;
const TOKEN: &str = "token-all";
const TOKEN_A: &str = "token-store-a";

struct Server {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

async fn start() -> Server {
    start_with_limit(64 * MIB).await
}

/// A server whose resumable uploads use 5 MiB parts and which accepts uploads up to `max_upload`.
async fn start_with_limit(max_upload: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let signer = UrlSigner::new(*b"http remote tests, a secret").unwrap();
    let mut options = DiskStoreOptions::new(dir.path(), signer);
    options.max_upload_bytes = max_upload;
    options.part_size = MIN_PART_BYTES;
    let store = DiskStore::open(options).await.unwrap();
    let tokens = TokenTable::new([
        TokenGrant {
            token: TOKEN.into(),
            prefixes: vec![],
        },
        TokenGrant {
            token: TOKEN_A.into(),
            prefixes: vec!["store-a/".into()],
        },
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(ServerConfig::new(tokens), store);
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = rx.await;
    }));
    Server {
        addr,
        dir,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl Server {
    fn base(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    fn remote(&self) -> HttpRemote {
        self.remote_with(TOKEN, u64::MAX)
    }

    fn remote_with(&self, token: &str, threshold: u64) -> HttpRemote {
        let mut options = HttpRemoteOptions::new(self.base()).with_token(token);
        options.multipart_threshold = threshold;
        HttpRemote::new(options).unwrap()
    }

    fn blob_path(&self, key: &str) -> PathBuf {
        self.dir.path().join("blobs").join(key)
    }

    /// Staged resumable uploads still on the server.
    fn staged_uploads(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("uploads"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// Deterministic pseudo-random bytes.
fn data(len: u64, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn key_of(store: &str, bytes: &[u8]) -> String {
    format!("{store}/{}", hash_bytes(bytes).to_hex())
}

/// The local side of an upload: serves `data` from any offset in 64 KiB chunks, records the offsets
/// opened and the bytes handed out, and fails once the read position reaches `fail_at`.
struct Source {
    data: Bytes,
    fail_at: Option<u64>,
    opens: Mutex<Vec<u64>>,
    read: AtomicU64,
}

impl Source {
    fn new(data: Bytes, fail_at: Option<u64>) -> Arc<Source> {
        Arc::new(Source {
            data,
            fail_at,
            opens: Mutex::new(Vec::new()),
            read: AtomicU64::new(0),
        })
    }

    fn opens(&self) -> Vec<u64> {
        self.opens.lock().unwrap().clone()
    }

    fn read(&self) -> u64 {
        self.read.load(Ordering::SeqCst)
    }

    fn open_at(self: &Arc<Self>) -> OpenAt {
        let source = self.clone();
        Arc::new(move |offset| {
            let source = source.clone();
            Box::pin(async move {
                source.opens.lock().unwrap().push(offset);
                let len = source.data.len() as u64;
                let stream = futures::stream::unfold(offset, move |pos| {
                    let source = source.clone();
                    async move {
                        if pos >= len {
                            return None;
                        }
                        if source.fail_at.is_some_and(|at| pos >= at) {
                            let err =
                                FsError::new(ErrorKind::Unknown, "readStream", "disk on fire");
                            return Some((Err(err), u64::MAX));
                        }
                        let mut end = (pos + 64 * 1024).min(len);
                        if let Some(at) = source.fail_at {
                            end = end.min(at);
                        }
                        source.read.fetch_add(end - pos, Ordering::SeqCst);
                        Some((Ok(source.data.slice(pos as usize..end as usize)), end))
                    }
                });
                Ok(Box::pin(stream) as ByteStream)
            })
        })
    }
}

/// What an upload reported through its callbacks.
#[derive(Default)]
struct Reports {
    progress: Mutex<Vec<(u64, u64)>>,
    tokens: Mutex<Vec<Option<String>>>,
}

impl Reports {
    fn last_progress(&self) -> Option<(u64, u64)> {
        self.progress.lock().unwrap().last().copied()
    }

    fn tokens(&self) -> Vec<Option<String>> {
        self.tokens.lock().unwrap().clone()
    }
}

fn request(
    key: &str,
    source: &Arc<Source>,
    content_type: Option<&str>,
    resume: Option<String>,
) -> (UploadRequest, Arc<Reports>) {
    let reports = Arc::new(Reports::default());
    let (p, t) = (reports.clone(), reports.clone());
    let req = UploadRequest {
        key: key.to_owned(),
        size: source.data.len() as u64,
        content_type: content_type.map(str::to_owned),
        open: source.open_at(),
        progress: Arc::new(move |done, total| p.progress.lock().unwrap().push((done, total))),
        resume,
        on_resume: Arc::new(move |token| t.tokens.lock().unwrap().push(token)),
    };
    (req, reports)
}

/// Downloads `key` from `offset`: (start offset, total size, content type, bytes).
async fn fetch(
    remote: &HttpRemote,
    key: &str,
    offset: u64,
) -> (u64, Option<u64>, Option<String>, Vec<u8>) {
    let download = remote.download(key, offset).await.unwrap();
    let mut body = download.body;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    (
        download.offset,
        download.total_size,
        download.content_type,
        bytes,
    )
}

#[tokio::test]
async fn health_is_ok_then_offline_once_the_server_stopped() {
    let server = start().await;
    let remote = server.remote();
    remote.health().await.unwrap();
    server.stop().await;
    let err = remote.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
    assert!(err.message.contains("GET http://"), "{err}");
    let bytes = data(10, 1);
    let (req, _) = request(&key_of("s", &bytes), &Source::new(bytes, None), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
}

#[tokio::test]
async fn small_bytes_round_trip_with_their_content_type_and_progress() {
    let server = start().await;
    let remote = server.remote();
    let bytes = data(300 * 1024, 2);
    let key = key_of("store-a", &bytes);
    let source = Source::new(bytes.clone(), None);
    let (req, reports) = request(&key, &source, Some("image/png"), None);
    remote.upload(req).await.unwrap();
    assert_eq!(
        reports.last_progress(),
        Some((bytes.len() as u64, bytes.len() as u64))
    );
    assert_eq!(source.opens(), vec![0]);
    assert!(
        reports.tokens().is_empty(),
        "a single PUT has no resume token"
    );
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);

    let (offset, total, content_type, got) = fetch(&remote, &key, 0).await;
    assert_eq!(offset, 0);
    assert_eq!(total, Some(bytes.len() as u64));
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert_eq!(got, bytes);

    // Empty bodies work too.
    let empty = Bytes::new();
    let key = key_of("store-a", &empty);
    let (req, reports) = request(&key, &Source::new(empty, None), None, None);
    remote.upload(req).await.unwrap();
    assert_eq!(reports.last_progress(), Some((0, 0)));
    assert_eq!(fetch(&remote, &key, 0).await.3, Vec::<u8>::new());
    server.stop().await;
}

#[tokio::test]
async fn large_uploads_go_through_the_resumable_protocol() {
    let server = start().await;
    let remote = server.remote_with(TOKEN, 5 * MIB);
    let bytes = data(12 * MIB, 3);
    let key = key_of("store-a", &bytes);
    let source = Source::new(bytes.clone(), None);
    let (req, reports) = request(&key, &source, Some("video/mp4"), None);
    remote.upload(req).await.unwrap();

    // Three parts of 5, 5 and 2 MiB, each read from its own offset, once.
    assert_eq!(source.opens(), vec![0, 5 * MIB, 10 * MIB]);
    assert_eq!(source.read(), 12 * MIB);
    let tokens = reports.tokens();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let token: serde_json::Value = serde_json::from_str(tokens[0].as_deref().unwrap()).unwrap();
    assert_eq!(token["key"], key.as_str());
    assert!(token["uploadId"].is_string());
    assert_eq!(tokens[1], None, "the token is cleared once complete");
    assert_eq!(reports.last_progress(), Some((12 * MIB, 12 * MIB)));
    assert_eq!(server.staged_uploads(), 0);

    let (_, total, content_type, got) = fetch(&remote, &key, 0).await;
    assert_eq!(total, Some(12 * MIB));
    assert_eq!(content_type.as_deref(), Some("video/mp4"));
    assert_eq!(hash_bytes(&got), hash_bytes(&bytes));
    server.stop().await;
}

#[tokio::test]
async fn an_interrupted_upload_resumes_without_resending_finished_parts() {
    let server = start().await;
    let remote = server.remote_with(TOKEN, 5 * MIB);
    let bytes = data(12 * MIB, 4);
    let key = key_of("store-a", &bytes);

    // The local read fails 7 MiB in: part 1 is on the server, part 2 is not.
    let failing = Source::new(bytes.clone(), Some(7 * MIB));
    let (req, reports) = request(&key, &failing, None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Local, "{err}");
    assert!(err.message.contains("disk on fire"), "{err}");
    let tokens = reports.tokens();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let token = tokens[0].clone().expect("a resume token");
    assert!(!server.blob_path(&key).exists());

    // Resumed with the token: only parts 2 and 3 are read and sent.
    let source = Source::new(bytes.clone(), None);
    let (req, reports) = request(&key, &source, None, Some(token));
    remote.upload(req).await.unwrap();
    assert_eq!(source.opens(), vec![5 * MIB, 10 * MIB]);
    assert_eq!(source.read(), 7 * MIB);
    assert_eq!(reports.tokens(), vec![None]);
    let progress = reports.progress.lock().unwrap().clone();
    assert_eq!(progress.first(), Some(&(5 * MIB, 12 * MIB)));
    assert_eq!(progress.last(), Some(&(12 * MIB, 12 * MIB)));
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);
    assert_eq!(server.staged_uploads(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_token_the_server_no_longer_knows_starts_afresh() {
    let server = start().await;
    let remote = server.remote_with(TOKEN, 5 * MIB);
    let bytes = data(6 * MIB, 5);
    let key = key_of("store-a", &bytes);
    let stale = serde_json::json!({
        "v": 1, "key": key, "uploadId": "0".repeat(32), "partSize": 5 * MIB, "size": 6 * MIB,
    })
    .to_string();
    let source = Source::new(bytes.clone(), None);
    let (req, reports) = request(&key, &source, None, Some(stale));
    remote.upload(req).await.unwrap();
    assert_eq!(source.opens(), vec![0, 5 * MIB]);
    let tokens = reports.tokens();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert_eq!(tokens[0], None, "the stale token is dropped");
    assert!(tokens[1].is_some(), "a new upload's token");
    assert_eq!(tokens[2], None);
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), bytes);

    // A token of another key is ignored too.
    let other = data(6 * MIB, 6);
    let other_key = key_of("store-a", &other);
    let foreign = tokens[1].clone();
    let (req, _) = request(&other_key, &Source::new(other.clone(), None), None, foreign);
    remote.upload(req).await.unwrap();
    assert_eq!(std::fs::read(server.blob_path(&other_key)).unwrap(), other);
    server.stop().await;
}

#[tokio::test]
async fn ranged_downloads_return_the_tail() {
    let server = start().await;
    let remote = server.remote();
    let bytes = data(100_000, 7);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(&key, &Source::new(bytes.clone(), None), None, None);
    remote.upload(req).await.unwrap();

    let (offset, total, _, got) = fetch(&remote, &key, 60_000).await;
    assert_eq!(offset, 60_000);
    assert_eq!(total, Some(100_000));
    assert_eq!(got, &bytes[60_000..]);

    // Resuming a download that already has every byte: nothing left to read.
    let (offset, total, _, got) = fetch(&remote, &key, 100_000).await;
    assert_eq!((offset, total, got.len()), (100_000, Some(100_000), 0));

    // Beyond the end: refused.
    let err = remote.download(&key, 200_000).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    assert!(err.message.contains("416"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_key_is_not_found() {
    let server = start().await;
    let remote = server.remote();
    let key = key_of("store-a", b"never uploaded");
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");
    assert!(
        err.message.contains("GET http://") && err.message.contains("404"),
        "{err}"
    );
    assert!(
        !err.message.contains("sig="),
        "signatures stay out of messages: {err}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_with_a_hint() {
    let server = start().await;
    let remote = server.remote_with("not-a-token", u64::MAX);
    let bytes = data(1000, 8);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(&key, &Source::new(bytes, None), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");
    assert!(err.message.contains("POST http://"), "{err}");
    assert!(err.message.contains("401"), "{err}");
    assert!(
        err.message.contains("missing or unknown token"),
        "server text: {err}"
    );
    assert!(err.message.contains("check the token"), "hint: {err}");
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::Unauthorized, "{err}");

    // A token limited to store-a/ may not touch store-b/.
    let remote = server.remote_with(TOKEN_A, u64::MAX);
    let err = remote.delete(&key_of("store-b", b"x")).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Forbidden, "{err}");
    server.stop().await;
}

#[tokio::test]
async fn bytes_that_do_not_match_the_key_are_rejected_and_not_stored() {
    let server = start().await;
    // A single PUT.
    let remote = server.remote();
    let key = key_of("store-a", b"the bytes the key names");
    let (req, _) = request(&key, &Source::new(data(1000, 9), None), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    assert!(err.message.contains("422"), "{err}");
    assert!(!server.blob_path(&key).exists());

    // A resumable upload: refused at complete, the token cleared, the staged parts gone.
    let remote = server.remote_with(TOKEN, 5 * MIB);
    let (req, reports) = request(&key, &Source::new(data(6 * MIB, 9), None), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    let tokens = reports.tokens();
    assert!(tokens[0].is_some());
    assert_eq!(tokens.last(), Some(&None), "{tokens:?}");
    assert!(!server.blob_path(&key).exists());
    assert_eq!(server.staged_uploads(), 0);
    server.stop().await;
}

#[tokio::test]
async fn uploads_over_the_server_limit_are_too_large() {
    let server = start_with_limit(MIB).await;
    let remote = server.remote();
    let bytes = data(2 * MIB, 10);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(&key, &Source::new(bytes, None), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::TooLarge, "{err}");
    server.stop().await;
}

#[tokio::test]
async fn a_local_read_error_is_local() {
    let server = start().await;
    let remote = server.remote();
    let bytes = data(200_000, 11);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(&key, &Source::new(bytes, Some(100_000)), None, None);
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Local, "{err}");
    assert!(!server.blob_path(&key).exists());

    // A file shorter than announced is a local problem too.
    let bytes = data(1000, 12);
    let key = key_of("store-a", &bytes);
    let (mut req, _) = request(&key, &Source::new(bytes, None), None, None);
    req.size = 2000;
    let err = remote.upload(req).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Local, "{err}");
    assert!(err.message.contains("ended after 1000"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn deleted_objects_are_not_found() {
    let server = start().await;
    let remote = server.remote();
    let bytes = data(5000, 13);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(&key, &Source::new(bytes, None), None, None);
    remote.upload(req).await.unwrap();
    remote.delete(&key).await.unwrap();
    let err = remote.download(&key, 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::NotFound, "{err}");
    // Deleting what is not there is fine.
    remote.delete(&key).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn download_urls_work_with_a_plain_get() {
    let server = start().await;
    let remote = server.remote();
    let bytes = data(4321, 14);
    let key = key_of("store-a", &bytes);
    let (req, _) = request(
        &key,
        &Source::new(bytes.clone(), None),
        Some("text/plain"),
        None,
    );
    remote.upload(req).await.unwrap();

    let signed = remote.download_url(&key).await.unwrap();
    assert!(
        signed.url.starts_with(&format!("http://{}/", server.addr)),
        "{}",
        signed.url
    );
    assert!(signed.headers.is_empty());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ahead = signed.expires_at_ms - now_ms;
    assert!(
        (800_000..=1_000_000).contains(&ahead),
        "expires in {ahead} ms"
    );

    let response = reqwest::get(&signed.url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), bytes);
    server.stop().await;
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
    let server = start().await;
    let remote = server.remote();
    std::fs::remove_dir_all(server.dir.path().join("blobs")).unwrap();
    let err = remote.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Server, "{err}");
    assert!(err.message.contains("503"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_offline() {
    // Accepts connections and reads nothing: the request must not hang.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut options = HttpRemoteOptions::new(format!("http://{addr}/api")).with_token(TOKEN);
    options.request_timeout = std::time::Duration::from_millis(300);
    let remote = HttpRemote::new(options).unwrap();
    let err = remote.health().await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
    assert!(err.message.contains("timed out"), "{err}");
    let err = remote.download("s/k", 0).await.err().unwrap();
    assert_eq!(err.kind, RemoteErrorKind::Offline, "{err}");
    hold.abort();
}
