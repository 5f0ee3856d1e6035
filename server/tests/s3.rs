//! S3 mode against a real S3 implementation: s3s-fs in this process on 127.0.0.1, or the bucket the
//! `FILESYNC_TEST_S3_*` variables name (Garage in the extended command). The signer API over
//! [`S3Store`], the bytes going straight to the bucket with the presigned URLs it answers. What the
//! bucket holds is checked through it (signed GETs), never on its disk; every case works under a
//! prefix of its own, so cases share a bucket.

use std::sync::Arc;

use base64::Engine as _;
use filesync_server::{
    serve, signer_router, CorsOrigins, S3Store, S3StoreOptions, ServerConfig, TokenGrant,
    TokenTable,
};
use s3_local::TestBucket;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const TOKEN: &str = "token";
const MIB: usize = 1 << 20;

struct Setup {
    /// Kept for its lifetime (an S3Local stops when dropped).
    _s3: TestBucket,
    /// The key prefix of this case (`store-{random}`).
    ns: String,
    api: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Setup {
    start_with(|_| {}).await
}

async fn start_with(adjust: impl FnOnce(&mut S3StoreOptions)) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let s3 = TestBucket::start(dir.path(), "files").await.unwrap();
    let mut options = S3StoreOptions::new(
        s3.endpoint(),
        s3.bucket(),
        s3_local::REGION,
        s3.access_key_id(),
        s3.secret_access_key(),
    );
    adjust(&mut options);
    let store = S3Store::new(options).unwrap();
    let tokens = TokenTable::new([TokenGrant {
        token: TOKEN.into(),
        prefixes: vec![],
    }])
    .unwrap();
    let mut config = ServerConfig::new(tokens);
    config.cors_origins = CorsOrigins::Any;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/api", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        signer_router(config, Arc::new(store)),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).unwrap();
    let ns = format!(
        "store-{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Setup {
        _s3: s3,
        ns,
        api,
        http: reqwest::Client::new(),
        _stop: stop,
        _dir: dir,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

impl Setup {
    /// `name` under this case's prefix.
    fn key(&self, name: &str) -> String {
        format!("{}/{name}", self.ns)
    }

    /// The content-addressed key of `bytes` under this case's prefix.
    fn key_of(&self, bytes: &[u8]) -> String {
        self.key(&sha256_hex(bytes))
    }

    /// What the bucket holds at `key` (a signed GET), `None` when nothing.
    async fn stored(&self, key: &str) -> Option<Vec<u8>> {
        let answer = self.download(key).await;
        match answer.status().as_u16() {
            200 => Some(answer.bytes().await.unwrap().to_vec()),
            404 => None,
            other => panic!(
                "GET {key} answered {other}: {}",
                answer.text().await.unwrap()
            ),
        }
    }

    async fn call(&self, path: &str, body: Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}{path}", self.api))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends `body` to a signed request's URL with its headers.
    async fn send(&self, signed: &Value, body: Vec<u8>) -> reqwest::Response {
        let method = signed["method"].as_str().unwrap_or("GET");
        let mut request = self.http.request(
            method.parse().unwrap(),
            signed["url"].as_str().expect("a signed URL"),
        );
        if let Some(headers) = signed["headers"].as_object() {
            for (name, value) in headers {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        request.body(body).send().await.unwrap()
    }

    async fn upload(&self, key: &str, content_type: &str, body: &[u8]) -> reqwest::Response {
        let (status, signed) = self
            .call(
                "/v1/sign/upload",
                json!({"key": key, "contentType": content_type, "contentLength": body.len()}),
            )
            .await;
        assert_eq!(status, 200, "{signed}");
        self.send(&signed, body.to_vec()).await
    }

    async fn download(&self, key: &str) -> reqwest::Response {
        let (status, signed) = self.call("/v1/sign/download", json!({"key": key})).await;
        assert_eq!(status, 200, "{signed}");
        self.http
            .get(signed["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
    }

    /// Uploads `body` to `key` in parts through the resumable endpoints; the answer of complete.
    async fn upload_in_parts(&self, key: &str, body: &[u8]) -> (u16, Value) {
        let (status, created) = self
            .call(
                "/v1/multipart/create",
                json!({"key": key, "contentLength": body.len()}),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        assert_eq!(created["partChecksum"], "SHA256");
        let id = created["uploadId"].as_str().unwrap().to_owned();
        let part_size = created["partSize"].as_u64().unwrap() as usize;
        let mut parts = Vec::new();
        for (index, part) in body.chunks(part_size).enumerate() {
            let number = index + 1;
            let (status, signed) = self
                .call(
                    "/v1/multipart/sign-part",
                    json!({"key": key, "uploadId": id, "partNumber": number,
                           "checksumSha256": sha256_b64(part)}),
                )
                .await;
            assert_eq!(status, 200, "{signed}");
            let answer = self.send(&signed, part.to_vec()).await;
            assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
            let etag = answer.headers()["etag"].to_str().unwrap().to_owned();
            parts.push(json!({"partNumber": number, "etag": etag}));
        }
        self.call(
            "/v1/multipart/complete",
            json!({"key": key, "uploadId": id, "parts": parts}),
        )
        .await
    }
}

#[tokio::test]
async fn health_reaches_the_bucket_and_says_what_is_wrong() {
    let setup = start().await;
    let answer = setup
        .http
        .get(format!("{}/health", setup.api))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let wrong_secret = start_with(|o| o.secret_access_key = "wrong".into()).await;
    let answer = wrong_secret
        .http
        .get(format!("{}/health", wrong_secret.api))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert!(answer.text().await.unwrap().contains("access key"));

    let no_bucket = start_with(|o| o.bucket = "missing".into()).await;
    let answer = no_bucket
        .http
        .get(format!("{}/health", no_bucket.api))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert!(answer.text().await.unwrap().contains("does not exist"));
}

#[tokio::test]
async fn a_signed_upload_goes_to_the_bucket_and_downloads_back() {
    let setup = start().await;
    let body = bytes(100_000, 1);
    let key = setup.key_of(&body);
    let answer = setup.upload(&key, "image/png", &body).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let answer = setup.download(&key).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "image/png");
    assert_eq!(answer.bytes().await.unwrap(), body);

    // A range, as resumed downloads ask.
    let (_, signed) = setup.call("/v1/sign/download", json!({"key": key})).await;
    let answer = setup
        .http
        .get(signed["url"].as_str().unwrap())
        .header("range", "bytes=99990-")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 206);
    assert_eq!(answer.bytes().await.unwrap(), body[99_990..]);
}

#[tokio::test]
async fn the_bucket_refuses_bytes_that_do_not_hash_to_the_key() {
    let setup = start().await;
    let good = bytes(4096, 2);
    let key = setup.key_of(&good);
    let (status, signed) = setup
        .call(
            "/v1/sign/upload",
            json!({"key": key, "contentLength": good.len()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        signed["headers"]["x-amz-checksum-sha256"],
        sha256_b64(&good)
    );

    let mut wrong = good.clone();
    wrong[100] ^= 1;
    let answer = setup.send(&signed, wrong).await;
    assert_eq!(answer.status(), 400, "{}", answer.text().await.unwrap());
    assert_eq!(setup.stored(&key).await, None);

    // The length is signed too: a longer body is refused.
    let mut longer = good.clone();
    longer.push(0);
    let answer = setup.send(&signed, longer).await;
    assert_eq!(answer.status(), 403);
    assert_eq!(setup.stored(&key).await, None);

    // The signed request itself works.
    assert_eq!(setup.send(&signed, good.clone()).await.status(), 200);
    assert_eq!(setup.stored(&key).await, Some(good));
}

#[tokio::test]
async fn active_content_is_stored_as_an_attachment() {
    let setup = start().await;
    let page = b"<script>alert(1)</script>".to_vec();
    let key = setup.key("page.html");
    assert_eq!(setup.upload(&key, "text/html", &page).await.status(), 200);
    let answer = setup.download(&key).await;
    assert_eq!(answer.headers()["content-disposition"], "attachment");
    assert_eq!(answer.bytes().await.unwrap(), page);
}

#[tokio::test]
async fn delete_removes_the_object_and_a_missing_key_is_no_error() {
    let setup = start().await;
    let body = bytes(10, 3);
    let key = setup.key_of(&body);
    assert_eq!(setup.upload(&key, "text/plain", &body).await.status(), 200);
    assert_eq!(setup.stored(&key).await, Some(body));
    let (status, _) = setup.call("/v1/delete", json!({"key": key})).await;
    assert_eq!(status, 204);
    assert_eq!(setup.stored(&key).await, None);
    let (status, _) = setup.call("/v1/delete", json!({"key": key})).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn oversized_uploads_are_refused_at_signing() {
    let setup = start_with(|o| o.max_upload_bytes = 1000).await;
    let (status, body) = setup
        .call(
            "/v1/sign/upload",
            json!({"key": setup.key("big"), "contentLength": 1001}),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = setup
        .call(
            "/v1/multipart/create",
            json!({"key": setup.key("big"), "contentLength": 1001}),
        )
        .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_resumable_upload_goes_in_checksummed_parts() {
    let setup = start().await;
    let body = bytes(13 * MIB, 4);
    let key = setup.key_of(&body);
    let (status, answer) = setup.upload_in_parts(&key, &body).await;
    assert_eq!(status, 204, "{answer}");
    let stored = setup.stored(&key).await.expect("the assembled object");
    assert!(stored == body, "the assembled object differs");
}

#[tokio::test]
async fn sign_part_needs_a_checksum_in_base64() {
    let setup = start().await;
    let key = setup.key("k");
    let (_, created) = setup
        .call(
            "/v1/multipart/create",
            json!({"key": key, "contentLength": 6 * MIB}),
        )
        .await;
    let id = created["uploadId"].as_str().unwrap();
    let ask = |checksum: Value| {
        let mut ask = json!({"key": key, "uploadId": id, "partNumber": 1});
        if !checksum.is_null() {
            ask["checksumSha256"] = checksum;
        }
        ask
    };
    let (status, body) = setup
        .call("/v1/multipart/sign-part", ask(Value::Null))
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("checksumSha256"));
    for bad in [json!("abc"), json!(sha256_hex(b"x")), json!(12)] {
        let (status, body) = setup.call("/v1/multipart/sign-part", ask(bad)).await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, body) = setup
        .call("/v1/multipart/sign-part", ask(json!(sha256_b64(b"x"))))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["headers"]["x-amz-checksum-sha256"], sha256_b64(b"x"));
    // The bucket refuses a part whose bytes are not the ones signed.
    let answer = setup.send(&body, bytes(5 * MIB, 9)).await;
    assert_eq!(answer.status(), 400);
    let (_, listed) = setup
        .call("/v1/multipart/list", json!({"key": key, "uploadId": id}))
        .await;
    assert_eq!(listed["parts"], json!([]));
    let (status, _) = setup
        .call(
            "/v1/multipart/sign-part",
            json!({"key": key, "uploadId": "nonsense", "partNumber": 1,
                   "checksumSha256": sha256_b64(b"x")}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn complete_refuses_an_object_that_does_not_hash_to_its_key() {
    let setup = start().await;
    let body = bytes(7 * MIB, 5);
    let key = setup.key_of(b"something else");
    let (status, answer) = setup.upload_in_parts(&key, &body).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("hash"));
    assert_eq!(setup.stored(&key).await, None);
}

#[tokio::test]
async fn list_complete_and_abort_check_what_they_are_given() {
    let setup = start().await;
    let key = &setup.key("notes");
    let body = bytes(6 * MIB, 6);
    let (_, created) = setup
        .call(
            "/v1/multipart/create",
            json!({"key": key, "contentLength": body.len() + 1}),
        )
        .await;
    let id = created["uploadId"].as_str().unwrap().to_owned();
    let part = &body[..5 * MIB];
    let (_, signed) = setup
        .call(
            "/v1/multipart/sign-part",
            json!({"key": key, "uploadId": id, "partNumber": 1, "checksumSha256": sha256_b64(part)}),
        )
        .await;
    let answer = setup.send(&signed, part.to_vec()).await;
    let etag = answer.headers()["etag"].to_str().unwrap().to_owned();
    let (status, listed) = setup
        .call("/v1/multipart/list", json!({"key": key, "uploadId": id}))
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["parts"][0]["partNumber"], 1);
    assert_eq!(listed["parts"][0]["size"], 5 * MIB);

    // Not all the bytes declared at create.
    let parts = json!([{"partNumber": 1, "etag": etag}]);
    let (status, answer) = setup
        .call(
            "/v1/multipart/complete",
            json!({"key": key, "uploadId": id, "parts": parts}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("declared"));
    // A part never uploaded, and parts out of order.
    let (status, _) = setup
        .call(
            "/v1/multipart/complete",
            json!({"key": key, "uploadId": id, "parts": [{"partNumber": 2, "etag": "x"}]}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = setup
        .call(
            "/v1/multipart/complete",
            json!({"key": key, "uploadId": id,
                   "parts": [{"partNumber": 1, "etag": etag}, {"partNumber": 1, "etag": etag}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(setup.stored(key).await, None);

    let (status, _) = setup
        .call("/v1/multipart/abort", json!({"key": key, "uploadId": id}))
        .await;
    assert_eq!(status, 204);
}
