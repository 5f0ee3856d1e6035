//! The whole protocol over real HTTP on 127.0.0.1, with a small client.

mod support;

use support::*;

#[tokio::test]
async fn upload_download_delete_round_trip() {
    let server = start().await;
    let health = server
        .http
        .get(server.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let body = bytes(300_000, 1);
    let key = format!("store-a/{}", sha256_hex(&body));
    let signed = server.sign_upload(&key, Some("image/png")).await;
    assert_eq!(signed["method"], "PUT");
    assert_eq!(signed["headers"]["Content-Type"], "image/png");
    let url = signed["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "http://{}/livestore-filesync-files/store-a/",
            server.addr
        )),
        "{url}"
    );
    let expires = signed["expiresAt"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");

    let put = server
        .http
        .put(url)
        .header("content-type", "image/png")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        put.headers()["etag"],
        format!("\"{}\"", sha256_hex(&body)).as_str()
    );
    assert_eq!(std::fs::read(server.blob_path(&key)).unwrap(), body);

    let download = server.sign_download(&key).await;
    let get = server.http.get(&download).send().await.unwrap();
    assert_eq!(get.status(), 200);
    let headers = get.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-length"], body.len().to_string().as_str());
    assert_eq!(
        headers["etag"],
        format!("\"{}\"", sha256_hex(&body)).as_str()
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    assert!(headers.get("content-disposition").is_none());
    assert_eq!(get.bytes().await.unwrap(), body);

    // HEAD accepts the GET signature.
    let head = server.http.head(&download).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        body.len().to_string().as_str()
    );

    let (status, _) = server
        .call("v1/delete", Some(ALL), serde_json::json!({ "key": key }))
        .await;
    assert_eq!(status, 204);
    assert!(!server.blob_path(&key).exists());
    assert_eq!(
        server.http.get(&download).send().await.unwrap().status(),
        404
    );
    // Deleting what is not there is fine.
    let (status, _) = server
        .call("v1/delete", Some(ALL), serde_json::json!({ "key": key }))
        .await;
    assert_eq!(status, 204);
    server.stop().await;
}

#[tokio::test]
async fn uploads_without_content_type_serve_octet_stream_and_replace() {
    let server = start().await;
    assert_eq!(server.upload("s/notes", None, b"one".to_vec()).await.0, 200);
    assert_eq!(
        server.upload("s/notes", None, b"second".to_vec()).await.0,
        200
    );
    let url = server.sign_download("s/notes").await;
    let get = server.http.get(url).send().await.unwrap();
    assert_eq!(get.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        get.headers()["etag"],
        format!("\"{}\"", sha256_hex(b"second")).as_str()
    );
    assert_eq!(get.bytes().await.unwrap(), &b"second"[..]);
    server.stop().await;
}

#[tokio::test]
async fn ranges() {
    let server = start().await;
    let body = bytes(1000, 2);
    assert_eq!(
        server
            .upload("s/r", Some("video/mp4"), body.clone())
            .await
            .0,
        200
    );
    let url = server.sign_download("s/r").await;
    let get = |range: &'static str| {
        let request = server.http.get(&url).header("range", range);
        async move { request.send().await.unwrap() }
    };

    let r = get("bytes=10-19").await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(r.headers()["content-length"], "10");
    assert_eq!(r.bytes().await.unwrap(), &body[10..20]);

    let r = get("bytes=990-").await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), &body[990..]);

    let r = get("bytes=-5").await;
    assert_eq!(r.headers()["content-range"], "bytes 995-999/1000");
    assert_eq!(r.bytes().await.unwrap(), &body[995..]);

    let r = get("bytes=1000-").await;
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */1000");

    // Several ranges are served whole.
    let r = get("bytes=0-1,5-6").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), body);
    server.stop().await;
}

#[tokio::test]
async fn active_content_is_served_as_an_attachment() {
    let server = start().await;
    for (i, ct) in [
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/javascript",
        "application/xml",
    ]
    .iter()
    .enumerate()
    {
        let key = format!("s/page{i}");
        assert_eq!(
            server
                .upload(&key, Some(ct), b"<script>alert(1)</script>".to_vec())
                .await
                .0,
            200
        );
        let get = server
            .http
            .get(server.sign_download(&key).await)
            .send()
            .await
            .unwrap();
        let h = get.headers();
        assert_eq!(h["content-type"], *ct);
        assert_eq!(h["content-disposition"], "attachment", "{ct}");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox"));
        assert_eq!(h["x-content-type-options"], "nosniff");
    }
    server.stop().await;
}

#[tokio::test]
async fn concurrent_uploads_of_one_key_leave_one_whole_upload() {
    let server = start().await;
    let a = bytes(700_000, 10);
    let b = bytes(700_000, 11);
    for round in 0..4 {
        let key = format!("s/race{round}");
        let (ra, rb) = tokio::join!(
            server.upload(&key, Some("text/plain"), a.clone()),
            server.upload(&key, Some("image/png"), b.clone()),
        );
        assert!(ra.0 == 200 || rb.0 == 200, "{ra:?} {rb:?}");
        let stored = std::fs::read(server.blob_path(&key)).unwrap();
        assert!(stored == a || stored == b, "the blob is a mix");
        let get = server
            .http
            .get(server.sign_download(&key).await)
            .send()
            .await
            .unwrap();
        let expected_type = if stored == a {
            "text/plain"
        } else {
            "image/png"
        };
        assert_eq!(get.headers()["content-type"], expected_type);
        assert_eq!(
            get.headers()["etag"],
            format!("\"{}\"", sha256_hex(&stored)).as_str()
        );
    }
    // No temporary file is left behind.
    assert!(server
        .snapshot()
        .keys()
        .all(|p| !p.to_string_lossy().contains("fsync-tmp")));
    server.stop().await;
}

#[tokio::test]
async fn signed_urls_use_the_public_base_url() {
    let server =
        start_with(|c| c.public_base_url = Some("https://files.example.com/".into())).await;
    let signed = server.sign_upload("s/x", None).await;
    assert!(signed["url"]
        .as_str()
        .unwrap()
        .starts_with("https://files.example.com/livestore-filesync-files/s/x?exp="));
    server.stop().await;
}

#[tokio::test]
async fn keys_are_percent_encoded_in_urls() {
    let server = start().await;
    let key = "s/a b+c%2F?#ü";
    assert_eq!(server.upload(key, None, b"odd".to_vec()).await.0, 200);
    assert_eq!(std::fs::read(server.blob_path(key)).unwrap(), b"odd");
    assert_eq!(server.download(key).await, (200, b"odd".to_vec()));
    server.stop().await;
}

#[tokio::test]
async fn cors_preflight_and_headers() {
    let server = start().await;
    let preflight = server
        .http
        .request(
            reqwest::Method::OPTIONS,
            server.url("/livestore-filesync-files/s/x?exp=1&sig=x"),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("PUT"));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("content-type"));

    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/api/v1/sign/upload"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));

    assert_eq!(server.upload("s/c", None, b"x".to_vec()).await.0, 200);
    let get = server
        .http
        .get(server.sign_download("s/c").await)
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    let expose = get.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["etag", "content-length", "content-type"] {
        assert!(expose.contains(name), "{expose}");
    }
    server.stop().await;
}

#[tokio::test]
async fn cors_origins_can_be_restricted() {
    let server = start_with(|c| {
        c.cors_origins = filesync_server::CorsOrigins::List(vec!["https://app.example.com".into()])
    })
    .await;
    let ask = |origin: &'static str| {
        server
            .http
            .request(reqwest::Method::OPTIONS, server.url("/api/v1/sign/upload"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = ask("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = ask("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_stops_the_server() {
    let server = start().await;
    let addr = server.addr;
    server.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn an_upload_that_stops_sending_is_cut_off_and_stores_nothing() {
    let server = start_with(|c| c.body_idle_timeout = std::time::Duration::from_millis(300)).await;
    let key = format!("store-a/{}", sha256_hex(b"never finished"));
    let signed = server.sign_upload(&key, None).await;
    // A client that sends a few bytes, then nothing (the sender stays alive until the answer).
    let (mut sender, stalled) =
        futures::channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    sender
        .try_send(Ok(bytes::Bytes::from_static(b"never")))
        .unwrap();
    let started = std::time::Instant::now();
    let response = server
        .http
        .put(signed["url"].as_str().unwrap())
        .body(reqwest::Body::wrap_stream(stalled))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 408);
    let text = response.text().await.unwrap();
    assert!(text.contains("cut off"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "answered after {:?}",
        started.elapsed()
    );
    drop(sender);
    assert_eq!(server.download(&key).await.0, 404, "nothing was stored");
    let leftovers: Vec<_> = server
        .snapshot()
        .into_keys()
        .filter(|path| path.to_string_lossy().contains("fsync-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The server still takes a whole upload of the key.
    assert_eq!(
        server
            .upload(&key, None, b"never finished".to_vec())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_reupload_of_stored_content_is_not_written_again() {
    let server = start().await;
    let bytes = b"content stored once".to_vec();
    let key = format!("store-a/{}", sha256_hex(&bytes));
    assert_eq!(server.upload(&key, None, bytes.clone()).await.0, 200);
    let path = server.blob_path(&key);
    let before = std::fs::metadata(&path).unwrap();
    // The same key again: answered 200 with its ETag, the blob untouched (same file, same mtime).
    let signed = server.sign_upload(&key, None).await;
    let response = server
        .http
        .put(signed["url"].as_str().unwrap())
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", sha256_hex(&bytes))
    );
    let after = std::fs::metadata(&path).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(before.ino(), after.ino(), "the blob was rewritten");
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());
    assert_eq!(server.download(&key).await.1, bytes);
    // A key that does not name its content is rewritten as before.
    assert_eq!(
        server
            .upload("store-a/notes.txt", None, b"one".to_vec())
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .upload("store-a/notes.txt", None, b"two".to_vec())
            .await
            .0,
        200
    );
    assert_eq!(server.download("store-a/notes.txt").await.1, b"two");
}

#[tokio::test]
async fn a_sidecar_left_from_before_a_crash_is_not_served_with_the_new_blob() {
    let server = start().await;
    let key = "store-a/notes.txt";
    assert_eq!(
        server
            .upload(key, Some("text/plain"), b"one".to_vec())
            .await
            .0,
        200
    );
    let (etag, content_type, _) = served(&server, key).await;
    assert_eq!(etag, Some(format!("\"{}\"", sha256_hex(b"one"))));
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    // A crash between the two commits of a new upload of the same size: the new blob is in place
    // (renamed over the old one, a new inode), its sidecar is not.
    let path = server.blob_path(key);
    let staged = path.with_file_name(".notes.txt.0123456789abcdef.fsync-tmp");
    std::fs::write(&staged, b"two").unwrap();
    // Written later than the first upload (the clock's tick may be coarser than this test).
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    std::fs::File::options()
        .write(true)
        .open(&staged)
        .unwrap()
        .set_modified(later)
        .unwrap();
    std::fs::rename(&staged, &path).unwrap();
    let (etag, content_type, body) = served(&server, key).await;
    assert_eq!(body, b"two");
    assert_ne!(
        etag,
        Some(format!("\"{}\"", sha256_hex(b"one"))),
        "the old blob's hash served with the new bytes"
    );
    assert_eq!(content_type.as_deref(), Some("application/octet-stream"));
    // The next upload writes both again.
    assert_eq!(
        server
            .upload(key, Some("text/plain"), b"six".to_vec())
            .await
            .0,
        200
    );
    let (etag, content_type, _) = served(&server, key).await;
    assert_eq!(etag, Some(format!("\"{}\"", sha256_hex(b"six"))));
    assert_eq!(content_type.as_deref(), Some("text/plain"));
}

#[tokio::test]
async fn a_data_dir_restored_with_its_times_keeps_its_sidecars() {
    let server = start().await;
    let key = "store-a/page.txt";
    let (status, _) = server
        .upload(key, Some("text/plain"), b"restored".to_vec())
        .await;
    assert_eq!(status, 200);
    // As a backup restore does (`cp -a`, `rsync -a`): a new file (a new inode) with the same time.
    let path = server.blob_path(key);
    let time = std::fs::metadata(&path).unwrap().modified().unwrap();
    let copy = path.with_file_name("restored-copy");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(time)
        .unwrap();
    std::fs::rename(&copy, &path).unwrap();
    let (etag, content_type, body) = served(&server, key).await;
    assert_eq!(body, b"restored");
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    assert_eq!(etag, Some(format!("\"{}\"", sha256_hex(b"restored"))));
}

/// A GET of `key`: its ETag, its Content-Type and its bytes.
async fn served(server: &TestServer, key: &str) -> (Option<String>, Option<String>, Vec<u8>) {
    let response = server
        .http
        .get(server.sign_download(key).await)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (etag, content_type) = (header("etag"), header("content-type"));
    (etag, content_type, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn readiness_and_metrics_report_what_the_server_did() {
    let server = start().await;
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let http = http.clone();
        let url = server.url(path);
        async move {
            let answer = http.get(url).send().await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };
    let (status, body) = get("/api/ready").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ready"));

    let body = bytes(10_000, 3);
    let key = format!("store-a/{}", sha256_hex(&body));
    assert_eq!(server.upload(&key, None, body.clone()).await.0, 200);
    assert_eq!(server.download(&key).await.0, 200);
    let (status, _) = server
        .call(
            "v1/sign/download",
            Some(ALL),
            serde_json::json!({ "key": "../bad" }),
        )
        .await;
    assert_eq!(status, 400);

    let (status, text) = get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "filesync_http_requests_total{route=\"/api/v1/sign/upload\",method=\"POST\",status=\"200\"} 1",
        "filesync_http_requests_total{route=\"/api/v1/sign/download\",method=\"POST\",status=\"400\"} 1",
        "filesync_http_requests_total{route=\"/livestore-filesync-files/{*key}\",method=\"PUT\",status=\"200\"} 1",
        "filesync_upload_bytes_total 10000",
        "filesync_download_bytes_total 10000",
        "filesync_uploads_in_flight 0",
        "filesync_storage_ready 1",
        "filesync_http_request_duration_seconds_count{route=\"/api/ready\"} 1",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }

    // A data directory that takes no writes is not ready, and says why.
    let uploads = server.dir.path().join("uploads");
    std::fs::remove_dir_all(&uploads).unwrap();
    std::fs::write(&uploads, b"not a directory").unwrap();
    let (status, body) = get("/api/ready").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not take writes"), "{body}");
    let (_, text) = get("/metrics").await;
    assert!(text.contains("filesync_storage_ready 0"));
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let server = start_with(|config| config.metrics_path = None).await;
    let answer = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(answer.status(), 404);
}

#[tokio::test]
async fn an_upload_of_stored_content_is_skipped_when_the_client_asks() {
    let server = start().await;
    let body = bytes(5000, 8);
    let key = format!("store-a/{}", sha256_hex(&body));
    let ask = |path: &'static str, key: String, length: usize, skip: Option<bool>| {
        let mut json = serde_json::json!({ "key": key, "contentLength": length });
        if let Some(skip) = skip {
            json["skipIfStored"] = skip.into();
        }
        let server = &server;
        async move { server.call(path, Some(ALL), json).await }
    };
    // Nothing stored yet: a URL, and an upload.
    let (status, json) = ask("v1/sign/upload", key.clone(), body.len(), Some(true)).await;
    assert_eq!(status, 200);
    assert!(json["url"].is_string(), "{json}");
    assert_eq!(server.upload(&key, None, body.clone()).await.0, 200);
    for path in ["v1/sign/upload", "v1/multipart/create"] {
        let (status, json) = ask(path, key.clone(), body.len(), Some(true)).await;
        assert_eq!(status, 200);
        assert_eq!(json, serde_json::json!({ "alreadyStored": true }), "{path}");
        // Not asked, another length, or a key that names no hash: the upload goes ahead.
        for (key, length, skip) in [
            (key.clone(), body.len(), None),
            (key.clone(), body.len(), Some(false)),
            (key.clone(), body.len() + 1, Some(true)),
        ] {
            let (status, json) = ask(path, key, length, skip).await;
            assert_eq!(status, 200);
            assert!(json.get("alreadyStored").is_none(), "{path}: {json}");
        }
    }
    assert_eq!(
        server.upload("store-a/notes", None, b"n".to_vec()).await.0,
        200
    );
    let (_, json) = ask("v1/sign/upload", "store-a/notes".into(), 1, Some(true)).await;
    assert!(
        json["url"].is_string(),
        "a key that names no hash is never skipped: {json}"
    );
}
