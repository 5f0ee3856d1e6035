//! Resumable uploads over real HTTP on 127.0.0.1: create, sign-part, part PUTs, list, complete,
//! abort, and the expiry sweep.

mod support;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use filesync_server::{
    router, serve, DiskStore, DiskStoreOptions, ServerConfig, TokenGrant, TokenTable, UrlSigner,
};
use serde_json::{json, Value};
use support::{bytes, sha256_hex, ALL, SECRET, STORE_A};

const MIB: usize = 1024 * 1024;

struct Server {
    addr: std::net::SocketAddr,
    dir: tempfile::TempDir,
    store: DiskStore,
    http: reqwest::Client,
}

async fn start() -> Server {
    start_with(|_| {}).await
}

async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut options = DiskStoreOptions::new(dir.path(), UrlSigner::new(SECRET).unwrap());
    options.max_upload_bytes = 64 * MIB as u64;
    let store = DiskStore::open(options).await.unwrap();
    let tokens = TokenTable::new([
        TokenGrant {
            token: ALL.into(),
            prefixes: vec![],
        },
        TokenGrant {
            token: STORE_A.into(),
            prefixes: vec!["store-a/".into()],
        },
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(tokens);
    adjust(&mut config);
    let app = router(config, store.clone());
    tokio::spawn(serve(listener, app, std::future::pending()));
    Server {
        addr,
        dir,
        store,
        http: reqwest::Client::new(),
    }
}

impl Server {
    async fn call(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("http://{}/api/v1/{path}", self.addr))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, json)
    }

    async fn create(&self, key: &str, length: usize) -> String {
        let (status, json) = self
            .call(
                "multipart/create",
                Some(ALL),
                json!({ "key": key, "contentType": "video/mp4", "contentLength": length }),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        json["uploadId"].as_str().unwrap().to_owned()
    }

    async fn sign_part(&self, key: &str, upload_id: &str, part: u32) -> String {
        let (status, json) = self
            .call(
                "multipart/sign-part",
                Some(ALL),
                json!({ "key": key, "uploadId": upload_id, "partNumber": part }),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        assert_eq!(json["method"], "PUT");
        json["url"].as_str().unwrap().to_owned()
    }

    /// Signs and PUTs one part; returns the status and the ETag.
    async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        body: Vec<u8>,
    ) -> (u16, String) {
        let url = self.sign_part(key, upload_id, part).await;
        let response = self.http.put(url).body(body).send().await.unwrap();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (response.status().as_u16(), etag)
    }

    async fn list(&self, key: &str, upload_id: &str) -> (u16, Value) {
        self.call(
            "multipart/list",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id }),
        )
        .await
    }

    async fn download(&self, key: &str) -> (u16, Vec<u8>) {
        let (status, json) = self
            .call("sign/download", Some(ALL), json!({ "key": key }))
            .await;
        assert_eq!(status, 200, "{json}");
        let response = self
            .http
            .get(json["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    }

    fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.dir.path().join("uploads").join(upload_id)
    }
}

/// Whether `etag` is a part's ETag: a quoted tag of 32 hex digits.
fn is_part_etag(etag: &str) -> bool {
    etag.len() == 34
        && etag.starts_with('"')
        && etag.ends_with('"')
        && etag[1..33].bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn an_interrupted_upload_resumes_after_a_client_crash() {
    let server = start().await;
    let body = bytes(20 * MIB, 7);
    let key = format!("store-a/{}", sha256_hex(&body));
    let (status, created) = server
        .call(
            "multipart/create",
            Some(STORE_A),
            json!({ "key": key, "contentType": "video/mp4", "contentLength": body.len() }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let upload_id = created["uploadId"].as_str().unwrap().to_owned();
    assert_eq!(upload_id.len(), 32);
    assert!(upload_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let part_size = created["partSize"].as_u64().unwrap() as usize;
    assert_eq!(part_size, 8 * MIB);
    assert!(created["expiresAt"].as_str().unwrap().ends_with('Z'));
    let chunks: Vec<Vec<u8>> = body.chunks(part_size).map(<[u8]>::to_vec).collect();
    assert_eq!(chunks.len(), 3);

    // The first client uploads parts 1 and 2, then "crashes".
    let mut etags = Vec::new();
    for (i, chunk) in chunks.iter().take(2).enumerate() {
        let (status, etag) = server
            .put_part(&key, &upload_id, i as u32 + 1, chunk.clone())
            .await;
        assert_eq!(status, 200);
        assert!(is_part_etag(&etag), "{etag}");
        etags.push(etag);
    }
    assert_eq!(
        server.download(&key).await.0,
        404,
        "visible before complete"
    );

    // A new client resumes from the list.
    let (status, listed) = server.list(&key, &upload_id).await;
    assert_eq!(status, 200, "{listed}");
    let parts = listed["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part["partNumber"], i as u64 + 1);
        assert_eq!(part["size"], chunks[i].len() as u64);
        assert_eq!(part["etag"], etags[i].as_str());
    }
    let (status, etag3) = server
        .put_part(&key, &upload_id, 3, chunks[2].clone())
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        server.download(&key).await.0,
        404,
        "visible before complete"
    );
    let mut complete: Vec<Value> = parts
        .iter()
        .map(|p| json!({ "partNumber": p["partNumber"], "etag": p["etag"] }))
        .collect();
    complete.push(json!({ "partNumber": 3, "etag": etag3 }));
    let (status, json) = server
        .call(
            "multipart/complete",
            Some(STORE_A),
            json!({ "key": key, "uploadId": upload_id, "parts": complete }),
        )
        .await;
    assert_eq!(status, 204, "{json}");
    let (status, got) = server.download(&key).await;
    assert_eq!(status, 200);
    assert!(got == body, "the downloaded bytes differ");
    assert!(!server.upload_dir(&upload_id).exists(), "parts left behind");
    assert_eq!(server.list(&key, &upload_id).await.0, 404);
}

#[tokio::test]
async fn a_wrong_whole_object_hash_is_422_and_stores_nothing() {
    let server = start().await;
    let body = bytes(1000, 3);
    let key = format!("store-a/{}", sha256_hex(b"something else"));
    let upload_id = server.create(&key, body.len()).await;
    let (status, etag) = server.put_part(&key, &upload_id, 1, body).await;
    assert_eq!(status, 200);
    let (status, json) = server
        .call(
            "multipart/complete",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id,
                    "parts": [{ "partNumber": 1, "etag": etag }] }),
        )
        .await;
    assert_eq!(status, 422, "{json}");
    assert!(json["error"].as_str().unwrap().contains("hash"));
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("start a new upload"),
        "{json}"
    );
    assert_eq!(server.download(&key).await.0, 404);
    assert!(!server.dir.path().join("blobs").join(&key).exists());
    // Those parts can never complete: they are dropped at once, not left to the sweep.
    assert!(
        !server.upload_dir(&upload_id).exists(),
        "the refused upload's parts stay"
    );
    assert_eq!(server.list(&key, &upload_id).await.0, 404);
}

#[tokio::test]
async fn parts_must_have_their_size_and_complete_checks_etags_order_and_length() {
    let server = start().await;
    let key = "store-a/video.mp4";
    // Two parts: 8 MiB (the part size), then 1 MiB.
    let upload_id = server.create(key, 9 * MIB).await;
    // A part of another size than its own is refused and not listed: shorter, longer, past the
    // last part.
    let (status, _) = server.put_part(key, &upload_id, 1, bytes(MIB, 1)).await;
    assert_eq!(status, 400);
    let (status, _) = server.put_part(key, &upload_id, 2, bytes(MIB + 1, 2)).await;
    assert_eq!(status, 413);
    let (status, _) = server.put_part(key, &upload_id, 3, bytes(MIB, 3)).await;
    assert_eq!(status, 400);
    let (_, listed) = server.list(key, &upload_id).await;
    assert_eq!(listed["parts"], json!([]));

    let (_, etag1) = server.put_part(key, &upload_id, 1, bytes(8 * MIB, 1)).await;
    let (_, etag2) = server.put_part(key, &upload_id, 2, bytes(MIB, 2)).await;
    let complete = |parts: Value| {
        server.call(
            "multipart/complete",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id, "parts": parts }),
        )
    };
    let (status, _) = complete(json!([
        { "partNumber": 2, "etag": etag2 }, { "partNumber": 1, "etag": etag1 }
    ]))
    .await;
    assert_eq!(status, 400);
    let (status, _) = complete(json!([
        { "partNumber": 1, "etag": etag2 }, { "partNumber": 2, "etag": etag2 }
    ]))
    .await;
    assert_eq!(status, 400);
    // One part of 8 MiB, but 9 MiB were declared.
    let (status, json) = complete(json!([{ "partNumber": 1, "etag": etag1 }])).await;
    assert_eq!(status, 400);
    assert!(
        json["error"].as_str().unwrap().contains("declared"),
        "{json}"
    );
    let (status, _) = complete(json!([])).await;
    assert_eq!(status, 400);
    assert_eq!(server.download(key).await.0, 404);
    for part in [0, 10_001] {
        let (status, json) = server
            .call(
                "multipart/sign-part",
                Some(ALL),
                json!({ "key": key, "uploadId": upload_id, "partNumber": part }),
            )
            .await;
        assert_eq!(status, 400, "{json}");
    }
    // Too large a whole upload is refused at create.
    let (status, _) = server
        .call(
            "multipart/create",
            Some(ALL),
            json!({ "key": key, "contentLength": 64 * MIB + 1 }),
        )
        .await;
    assert_eq!(status, 413);
    // The refusals changed nothing: the two parts complete.
    let (status, json) = complete(json!([
        { "partNumber": 1, "etag": etag1 }, { "partNumber": 2, "etag": etag2 }
    ]))
    .await;
    assert_eq!(status, 204, "{json}");
    let mut whole = bytes(8 * MIB, 1);
    whole.extend(bytes(MIB, 2));
    assert!(server.download(key).await.1 == whole);
}

#[tokio::test]
async fn a_reuploaded_part_replaces_the_old_one() {
    let server = start().await;
    // Parts 1 and 2 (8 MiB + 100 bytes) are both hashed, then part 1 is sent again with other
    // bytes: the hash must start again, or the whole would not match the key.
    let mut whole = bytes(8 * MIB, 2);
    whole.extend(bytes(100, 3));
    let key = &format!("store-a/{}", sha256_hex(&whole));
    let upload_id = server.create(key, whole.len()).await;
    let (status, _) = server.put_part(key, &upload_id, 1, bytes(8 * MIB, 1)).await;
    assert_eq!(status, 200);
    let (_, etag2) = server.put_part(key, &upload_id, 2, bytes(100, 3)).await;
    let (_, etag1) = server.put_part(key, &upload_id, 1, bytes(8 * MIB, 2)).await;
    let (_, listed) = server.list(key, &upload_id).await;
    let parts = listed["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["etag"], etag1.as_str());
    assert_eq!(parts[0]["size"], 8 * MIB);
    let (status, json) = server
        .call(
            "multipart/complete",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id,
                    "parts": [{ "partNumber": 1, "etag": etag1 }, { "partNumber": 2, "etag": etag2 }] }),
        )
        .await;
    assert_eq!(status, 204, "{json}");
    assert!(server.download(key).await.1 == whole);
}

#[tokio::test]
async fn abort_removes_the_staged_parts() {
    let server = start().await;
    let key = "store-a/big.bin";
    let upload_id = server.create(key, 10 * MIB).await;
    let (status, _) = server.put_part(key, &upload_id, 1, bytes(8 * MIB, 1)).await;
    assert_eq!(status, 200);
    assert!(server.upload_dir(&upload_id).exists());
    let (status, json) = server
        .call(
            "multipart/abort",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id }),
        )
        .await;
    assert_eq!(status, 204, "{json}");
    assert!(!server.upload_dir(&upload_id).exists());
    assert_eq!(server.list(key, &upload_id).await.0, 404);
    assert_eq!(server.download(key).await.0, 404);
}

#[tokio::test]
async fn tokens_and_prefixes_are_checked() {
    let server = start().await;
    let key = "store-a/x.bin";
    let upload_id = server.create(key, 10).await;
    let other = "store-b/x.bin";
    let calls = [
        (
            "multipart/create",
            json!({ "key": other, "contentLength": 10 }),
        ),
        (
            "multipart/sign-part",
            json!({ "key": other, "uploadId": upload_id, "partNumber": 1 }),
        ),
        (
            "multipart/list",
            json!({ "key": other, "uploadId": upload_id }),
        ),
        (
            "multipart/complete",
            json!({ "key": other, "uploadId": upload_id, "parts": [] }),
        ),
        (
            "multipart/abort",
            json!({ "key": other, "uploadId": upload_id }),
        ),
    ];
    for (path, body) in calls {
        let (status, json) = server.call(path, None, body.clone()).await;
        assert_eq!(status, 401, "{path}: {json}");
        let (status, _) = server.call(path, Some("wrong"), body.clone()).await;
        assert_eq!(status, 401, "{path}");
        let (status, json) = server.call(path, Some(STORE_A), body).await;
        assert_eq!(status, 403, "{path}: {json}");
    }
}

#[tokio::test]
async fn an_upload_id_of_another_key_is_404() {
    let server = start().await;
    let key = "store-a/one.bin";
    let upload_id = server.create(key, 10).await;
    let (_, etag) = server.put_part(key, &upload_id, 1, bytes(10, 1)).await;
    let other = "store-a/two.bin";
    let calls = [
        (
            "multipart/sign-part",
            json!({ "key": other, "uploadId": upload_id, "partNumber": 1 }),
        ),
        (
            "multipart/list",
            json!({ "key": other, "uploadId": upload_id }),
        ),
        (
            "multipart/complete",
            json!({ "key": other, "uploadId": upload_id,
                    "parts": [{ "partNumber": 1, "etag": etag }] }),
        ),
        (
            "multipart/abort",
            json!({ "key": other, "uploadId": upload_id }),
        ),
    ];
    for (path, body) in calls {
        let (status, json) = server.call(path, Some(ALL), body).await;
        assert_eq!(status, 404, "{path}: {json}");
    }
    // Unknown and malformed ids too.
    for id in ["0".repeat(32), "../../blobs".to_owned()] {
        let (status, _) = server.list(key, &id).await;
        assert_eq!(status, 404);
    }
    // The upload itself is untouched.
    assert_eq!(
        server.list(key, &upload_id).await.1["parts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn tampered_part_urls_are_403() {
    let server = start().await;
    let key = "store-a/t.bin";
    let upload_id = server.create(key, 10).await;
    let url = server.sign_part(key, &upload_id, 1).await;
    let put = |url: String| async {
        server
            .http
            .put(url)
            .body(bytes(10, 1))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let (base, query) = url.split_once('?').unwrap();
    // Another part number, a later expiry, a flipped signature.
    assert_eq!(
        put(format!("{}2?{query}", &base[..base.len() - 1])).await,
        403
    );
    let exp: u64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("exp="))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        put(url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 1))).await,
        403
    );
    let sig_at = url.find("sig=").unwrap() + 4;
    let mut tampered = url.clone().into_bytes();
    tampered[sig_at] = if tampered[sig_at] == b'A' { b'B' } else { b'A' };
    assert_eq!(put(String::from_utf8(tampered).unwrap()).await, 403);
    assert_eq!(put(base.to_owned()).await, 403);
    // The URL of another upload of another key does not work for this one.
    let other_id = server.create("store-a/u.bin", 10).await;
    assert_eq!(put(url.replace(&upload_id, &other_id)).await, 403);
    let (_, listed) = server.list(key, &upload_id).await;
    assert!(listed["parts"].as_array().unwrap().is_empty());
    assert_eq!(put(url).await, 200);
}

#[tokio::test]
async fn the_sweep_removes_old_uploads_and_keeps_fresh_ones() {
    let server = start().await;
    let old = server.create("store-a/old.bin", 10).await;
    let fresh = server.create("store-a/fresh.bin", 10).await;
    server
        .put_part("store-a/old.bin", &old, 1, bytes(10, 1))
        .await;
    let manifest = server.upload_dir(&old).join("manifest.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    json["createdAt"] = json!(support::now() - 2 * 24 * 3600);
    std::fs::write(&manifest, serde_json::to_vec(&json).unwrap()).unwrap();
    let removed = server
        .store
        .sweep_expired_uploads(SystemTime::now(), Duration::from_secs(24 * 3600))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!server.upload_dir(&old).exists());
    assert!(server.upload_dir(&fresh).exists());
    assert_eq!(server.list("store-a/old.bin", &old).await.0, 404);
    assert_eq!(server.list("store-a/fresh.bin", &fresh).await.0, 200);
    // With a clock two days ahead, the fresh one goes too.
    let later = SystemTime::now() + Duration::from_secs(2 * 24 * 3600);
    let removed = server
        .store
        .sweep_expired_uploads(later, Duration::from_secs(24 * 3600))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!server.upload_dir(&fresh).exists());
}

#[tokio::test]
async fn opening_a_store_sweeps_expired_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("uploads").join("ab".repeat(16));
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(
        stale.join("manifest.json"),
        json!({ "key": "a", "contentType": null, "contentLength": 1, "partSize": 8 * MIB,
                "createdAt": 1 })
        .to_string(),
    )
    .unwrap();
    let options = DiskStoreOptions::new(dir.path(), UrlSigner::new(SECRET).unwrap());
    let _store = DiskStore::open(options).await.unwrap();
    assert!(!stale.exists());
}

#[tokio::test]
async fn opening_a_store_removes_temporary_files_a_killed_server_left() {
    let dir = tempfile::tempdir().unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let write = |relative: &str, old: bool| {
        let path = dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"half").unwrap();
        if old {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        path
    };
    let stale = [
        write("blobs/store-a/.photo.jpg.0123456789abcdef.fsync-tmp", true),
        write("meta/store-a/.photo.jpg.fedcba9876543210.fsync-tmp", true),
        write(
            &format!(
                "uploads/{}/.00002-{}.0123456789abcdef.fsync-tmp",
                "cd".repeat(16),
                "e".repeat(32)
            ),
            true,
        ),
    ];
    // Other files stay: a blob, a hidden name, the suffix on a name that is not hidden, and a
    // temporary file written a moment ago (a write of a server running beside this one).
    let kept = [
        write("blobs/store-a/photo.jpg", true),
        write("blobs/store-a/.hidden", true),
        write("blobs/store-a/notes.fsync-tmp", true),
        write("blobs/store-a/.live.bin.0123456789abcdef.fsync-tmp", false),
    ];
    let options = DiskStoreOptions::new(dir.path(), UrlSigner::new(SECRET).unwrap());
    let _store = DiskStore::open(options).await.unwrap();
    // The sweep runs in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stale.iter().any(|p| p.exists()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for path in &stale {
        assert!(!path.exists(), "{} stays", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} was removed", path.display());
    }
}

#[tokio::test]
async fn list_never_reports_half_written_parts() {
    let server = start().await;
    let key = "store-a/crash.bin";
    let upload_id = server.create(key, 10).await;
    let dir = server.upload_dir(&upload_id);
    // What a server killed mid-part leaves: a sink's hidden temporary file, or a committed sink
    // not yet renamed to its part name.
    let sha = "c".repeat(64);
    std::fs::write(dir.join(format!(".00001-{sha}.fsync-tmp")), b"half").unwrap();
    std::fs::write(dir.join("incoming-00001-0123"), b"whole?").unwrap();
    let (status, listed) = server.list(key, &upload_id).await;
    assert_eq!(status, 200);
    assert_eq!(listed["parts"], json!([]));
    let (status, json) = server
        .call(
            "multipart/complete",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id, "parts": [{ "partNumber": 1, "etag": sha }] }),
        )
        .await;
    assert_eq!(status, 400, "{json}");
}

#[tokio::test]
async fn a_part_whose_client_stops_sending_is_cut_off_and_not_listed() {
    let server = start_with(|c| c.body_idle_timeout = std::time::Duration::from_millis(300)).await;
    let key = "store-a/stalled.bin";
    let upload_id = server.create(key, 10).await;
    let url = server.sign_part(key, &upload_id, 1).await;
    let (mut sender, stalled) =
        futures::channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    sender
        .try_send(Ok(bytes::Bytes::from_static(b"half")))
        .unwrap();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        server
            .http
            .put(url)
            .body(reqwest::Body::wrap_stream(stalled))
            .send(),
    )
    .await
    .expect("cut off")
    .unwrap();
    assert_eq!(response.status().as_u16(), 408);
    drop(sender);
    let (status, json) = server.list(key, &upload_id).await;
    assert_eq!(status, 200);
    assert_eq!(json["parts"], json!([]), "the cut part is not listed");
    // The part can be sent again, whole.
    assert_eq!(
        server
            .put_part(key, &upload_id, 1, b"0123456789".to_vec())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn completing_an_upload_of_stored_content_rewrites_nothing() {
    let server = start().await;
    let body = bytes(10 * MIB, 9);
    let key = format!("store-a/{}", sha256_hex(&body));
    let chunks: Vec<Vec<u8>> = body.chunks(8 * MIB).map(<[u8]>::to_vec).collect();
    upload_in_parts(&server, &key, &chunks).await;
    let path = server.dir.path().join("blobs").join(&key);
    let before = std::fs::metadata(&path).unwrap();
    let again = upload_in_parts(&server, &key, &chunks).await;
    let after = std::fs::metadata(&path).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(before.ino(), after.ino(), "the blob was rewritten");
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());
    assert!(!server.upload_dir(&again).exists(), "the parts stay");
    assert_eq!(server.download(&key).await.1, body);
}

/// Uploads `chunks` as the parts of one resumable upload of `key` and completes it; answers its id.
async fn upload_in_parts(server: &Server, key: &str, chunks: &[Vec<u8>]) -> String {
    let length = chunks.iter().map(Vec::len).sum();
    let upload_id = server.create(key, length).await;
    let mut parts = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let (status, etag) = server
            .put_part(key, &upload_id, i as u32 + 1, chunk.clone())
            .await;
        assert_eq!(status, 200);
        parts.push(json!({ "partNumber": i + 1, "etag": etag }));
    }
    let (status, json) = server
        .call(
            "multipart/complete",
            Some(ALL),
            json!({ "key": key, "uploadId": upload_id, "parts": parts }),
        )
        .await;
    assert_eq!(status, 204, "{json}");
    upload_id
}
