//! A server on 127.0.0.1:0 in this process, a small signer client, raw HTTP and disk snapshots.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use filesync_server::{
    router, serve, CorsOrigins, DiskStore, DiskStoreOptions, ServerConfig, TokenGrant, TokenTable,
    UrlSigner,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SECRET: &[u8] = b"test secret, 16+ bytes long";
/// Token for every key.
pub const ALL: &str = "token-all";
/// Token for keys under `store-a/`.
pub const STORE_A: &str = "token-store-a";
pub const MAX_UPLOAD: u64 = 1024 * 1024;

pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut options = DiskStoreOptions::new(dir.path(), UrlSigner::new(SECRET).unwrap());
    options.max_upload_bytes = MAX_UPLOAD;
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
    let mut config = ServerConfig::new(tokens);
    config.cors_origins = CorsOrigins::Any;
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router(config, store), async move {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        dir,
        http: reqwest::Client::new(),
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` to `{api}/{path}` with `token`; returns the status and the JSON answer (Null
    /// when empty).
    pub async fn call(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/api/{path}")))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, json)
    }

    /// Signs an upload of `key` (expects success) and returns the URL and headers.
    pub async fn sign_upload(&self, key: &str, content_type: Option<&str>) -> serde_json::Value {
        let mut body = serde_json::json!({ "key": key });
        if let Some(ct) = content_type {
            body["contentType"] = ct.into();
        }
        let (status, json) = self.call("v1/sign/upload", Some(ALL), body).await;
        assert_eq!(status, 200, "{json}");
        json
    }

    pub async fn sign_download(&self, key: &str) -> String {
        let (status, json) = self
            .call(
                "v1/sign/download",
                Some(ALL),
                serde_json::json!({ "key": key }),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        json["url"].as_str().unwrap().to_owned()
    }

    /// Signs and PUTs `bytes` to `key`; returns the status and the error body.
    pub async fn upload(
        &self,
        key: &str,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> (u16, String) {
        let signed = self.sign_upload(key, content_type).await;
        let mut request = self.http.put(signed["url"].as_str().unwrap()).body(bytes);
        if let Some(headers) = signed["headers"].as_object() {
            for (name, value) in headers {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Downloads `key`: status and bytes.
    pub async fn download(&self, key: &str) -> (u16, Vec<u8>) {
        let url = self.sign_download(key).await;
        let response = self.http.get(url).send().await.unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    }

    /// Sends `request` as written over a fresh connection; returns the status and the whole answer.
    pub async fn raw(&self, request: &str) -> (u16, String) {
        raw(self.addr, request.as_bytes()).await
    }

    /// Every file under the data directory (hidden temporary files too) with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out
    }

    pub fn blob_path(&self, key: &str) -> PathBuf {
        self.dir.path().join("blobs").join(key)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

pub async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (status, answer)
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.insert(
                path.strip_prefix(root).unwrap().to_owned(),
                b"<dir>".to_vec(),
            );
            walk(root, &path, out);
        } else {
            out.insert(
                path.strip_prefix(root).unwrap().to_owned(),
                std::fs::read(&path).unwrap(),
            );
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A signed blob URL path for `method` on the (already encoded) `encoded_key` with `exp`.
pub fn signed_path(method: &str, key: &str, encoded_key: &str, exp: u64) -> String {
    let signer = UrlSigner::new(SECRET).unwrap();
    let key = filesync_server::BlobKey::parse(key).unwrap();
    let sig = signer.sign(method, &key, exp);
    format!("/livestore-filesync-files/{encoded_key}?exp={exp}&sig={sig}")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
