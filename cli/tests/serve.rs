//! `filesync serve` as a real process: zero-config start, tokens file, signals, kill -9 mid-upload.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

mod support;
use support::{start, start_command};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn zero_config_start_round_trip_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &[]).await;
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let token = server.token.clone().expect("no development token printed");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("secret")), 0o600);
    assert_eq!(mode(&data.join("dev-token")), 0o600);
    assert_eq!(
        std::fs::read_to_string(data.join("dev-token"))
            .unwrap()
            .trim(),
        token
    );

    let http = reqwest::Client::new();
    let health = http.get(format!("{}/api/health", server.url)).send().await;
    assert_eq!(health.unwrap().status(), 200);
    let (status, signed) = server.sign(&token, "sign/upload", "any/hello.txt").await;
    assert_eq!(status, 200);
    let put = http.put(signed["url"].as_str().unwrap()).body("hello");
    assert_eq!(put.send().await.unwrap().status(), 200);
    let (_, signed) = server.sign(&token, "sign/download", "any/hello.txt").await;
    let get = http
        .get(signed["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(get.text().await.unwrap(), "hello");
    assert_eq!(server.sign("wrong", "sign/download", "x").await.0, 401);

    assert!(server.interrupt().await.success());

    // A restart keeps the token, the secret and the blobs.
    let again = start(&data, &[]).await;
    assert_eq!(again.token.as_deref(), Some(token.as_str()));
    let (_, signed) = again.sign(&token, "sign/download", "any/hello.txt").await;
    let get = http
        .get(signed["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(get.text().await.unwrap(), "hello");
    assert!(again.interrupt().await.success());
}

#[tokio::test]
async fn tokens_file_grants_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tokens = dir.path().join("tokens.json");
    std::fs::write(
        &tokens,
        r#"{"tokens": [{"token": "alpha-token", "prefixes": ["store-a/"]},
                       {"token": "admin-token", "prefixes": []}]}"#,
    )
    .unwrap();
    let server = start(&data, &["--tokens-file", tokens.to_str().unwrap()]).await;
    assert!(server.token.is_none());
    assert!(!data.join("dev-token").exists());
    assert_eq!(
        server
            .sign("alpha-token", "sign/upload", "store-a/x")
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .sign("alpha-token", "sign/upload", "store-b/x")
            .await
            .0,
        403
    );
    assert_eq!(
        server
            .sign("admin-token", "sign/upload", "store-b/x")
            .await
            .0,
        200
    );
    assert!(server.interrupt().await.success());
}

#[tokio::test]
async fn bad_configuration_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.json");
    std::fs::write(&tokens, "{not json").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--tokens-file")
        .arg(&tokens)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tokens file") && stderr.contains("expected"),
        "{stderr}"
    );
}

#[tokio::test]
async fn killed_mid_upload_leaves_no_blob() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, &[]).await;
    let token = server.token.clone().unwrap();
    let key = "store/partial";
    let (_, signed) = server.sign(&token, "sign/upload", key).await;

    // A body that sends 1 MiB, then waits for more that never comes.
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(16);
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let url = signed["url"].as_str().unwrap().to_owned();
    let upload = tokio::spawn(async move {
        reqwest::Client::new()
            .put(url)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
    });
    for _ in 0..16 {
        tx.send(bytes::Bytes::from(vec![b'x'; 64 * 1024]))
            .await
            .unwrap();
    }
    // Wait until the server has staged bytes in a temporary file.
    let blobs = data.join("blobs/store");
    let staged = async {
        loop {
            let found = std::fs::read_dir(&blobs).ok().is_some_and(|entries| {
                entries.flatten().any(|e| {
                    e.file_name().to_string_lossy().ends_with(".fsync-tmp")
                        && e.metadata().is_ok_and(|m| m.len() > 0)
                })
            });
            if found {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), staged)
        .await
        .expect("no staged upload");
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    drop(tx);
    let _ = upload.await;

    assert!(!blobs.join("partial").exists(), "a partial blob is visible");
    let again = start(&data, &[]).await;
    let (_, signed) = again.sign(&token, "sign/download", key).await;
    let get = reqwest::Client::new().get(signed["url"].as_str().unwrap());
    assert_eq!(get.send().await.unwrap().status(), 404);
    // The upload can simply be retried.
    let (_, signed) = again.sign(&token, "sign/upload", key).await;
    let put = reqwest::Client::new()
        .put(signed["url"].as_str().unwrap())
        .body("whole");
    assert_eq!(put.send().await.unwrap().status(), 200);
    assert_eq!(std::fs::read(blobs.join("partial")).unwrap(), b"whole");
    assert!(again.interrupt().await.success());
}

#[tokio::test]
async fn s3_mode_presigns_at_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_local::S3Local::start(&dir.path().join("s3"), "blobs")
        .await
        .unwrap();
    let endpoint = s3.endpoint();
    let data = dir.path().join("data");
    let mut server = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_filesync"));
        child
            .env("FILESYNC_S3_ACCESS_KEY_ID", s3.access_key_id())
            .env("FILESYNC_S3_SECRET_ACCESS_KEY", s3.secret_access_key());
        start_command(
            child,
            &data,
            &["--s3-bucket", "blobs", "--s3-endpoint", &endpoint],
        )
        .await
    };
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("S3 bucket:   blobs at") && l.contains("(reachable)")),
        "{:?}",
        server.printed
    );
    // No signing secret is made in S3 mode; the development token is.
    assert!(!data.join("secret").exists());
    let token = server.token.clone().unwrap();

    let body = b"hello from S3 mode".to_vec();
    let hex: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let key = format!("demo/{hex}");
    let http = reqwest::Client::new();
    let signed: serde_json::Value = http
        .post(format!("{}/api/v1/sign/upload", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"key": key, "contentLength": body.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = signed["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{endpoint}/blobs/demo/")), "{url}");
    let mut put = http.put(url).body(body.clone());
    for (name, value) in signed["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    assert_eq!(put.send().await.unwrap().status(), 200);
    assert_eq!(std::fs::read(s3.object_path(&key)).unwrap(), body);

    let (status, signed) = server.sign(&token, "sign/download", &key).await;
    assert_eq!(status, 200);
    let got = http
        .get(signed["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap(), body);
    let (status, _) = server.sign(&token, "delete", &key).await;
    assert_eq!(status, 204);
    assert!(!s3.object_path(&key).exists());
    drop(s3);
    let health = http
        .get(format!("{}/api/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 503, "the bucket is gone");
    let _ = server.child.kill().await;
}

#[tokio::test]
async fn s3_mode_without_credentials_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--s3-bucket", "b", "--s3-endpoint", "http://127.0.0.1:9"])
        .env_remove("FILESYNC_S3_ACCESS_KEY_ID")
        .env_remove("FILESYNC_S3_SECRET_ACCESS_KEY")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FILESYNC_S3_ACCESS_KEY_ID")
            && stderr.contains("FILESYNC_S3_SECRET_ACCESS_KEY"),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--s3-bucket", "b", "--s3-endpoint", "not a url"])
        .env("FILESYNC_S3_ACCESS_KEY_ID", "k")
        .env("FILESYNC_S3_SECRET_ACCESS_KEY", "s")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a URL"), "{stderr}");
}

#[tokio::test]
async fn metrics_and_readiness_are_served_and_their_path_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--metrics-path", "/internal/metrics"]).await;
    assert!(server
        .printed
        .iter()
        .any(|l| l.trim().starts_with("metrics:") && l.ends_with("/internal/metrics")));
    let ready = reqwest::get(format!("{}/api/ready", server.url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = reqwest::get(format!("{}/internal/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("filesync_storage_ready 1"), "{metrics}");
    let bad = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--metrics-path", "metrics"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--metrics-path"));
}
