//! The client and admin commands end to end: the real `filesync` binary against a `filesync
//! serve` process on 127.0.0.1 (client commands), and on its data dir or an S3 bucket (s3s-fs in
//! this process) for the admin commands.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use sha2::Digest;
use tokio::process::Command;

mod support;
use support::start;

const MIB: usize = 1 << 20;

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `filesync args…` in `dir` with the environment cleared of FILESYNC_* settings.
async fn filesync(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_filesync"));
    command.current_dir(dir).args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("FILESYNC_") {
            command.env_remove(name);
        }
    }
    command.env("FILESYNC_LOG", "warn").output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[tokio::test]
async fn put_stat_get_rm_through_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let server = start(&work.join("filesync-data"), &[]).await;
    let api = format!("{}/api", server.url);
    // Large enough for the resumable path (more than 64 MiB would be slow in debug builds: the
    // client's threshold is lowered instead).
    let body = bytes(3 * MIB + 123, 1);
    std::fs::write(work.join("photo.bin"), &body).unwrap();

    // The development token is found in ./filesync-data; --server names the server.
    let put = filesync(
        work,
        &["put", "photo.bin", "--prefix", "store-a", "--server", &api],
    )
    .await;
    assert_eq!(code(&put), 0, "{}", stderr(&put));
    let key = format!("store-a/{}", sha256_hex(&body));
    assert_eq!(stdout(&put), key);

    let stat = filesync(work, &["--json", "stat", &key, "--server", &api]).await;
    assert_eq!(code(&stat), 0, "{}", stderr(&stat));
    let json: serde_json::Value = serde_json::from_str(&stdout(&stat)).unwrap();
    assert_eq!(json["size"], body.len());

    let get = filesync(work, &["get", &key, "-o", "copy.bin", "--server", &api]).await;
    assert_eq!(code(&get), 0, "{}", stderr(&get));
    assert!(std::fs::read(work.join("copy.bin")).unwrap() == body);
    assert!(!work.join("copy.bin.filesync-part").exists());
    let to_stdout = filesync(work, &["get", &key, "-o", "-", "--server", &api]).await;
    assert!(to_stdout.stdout == body);

    // A download interrupted earlier resumes from its partial file.
    std::fs::write(work.join("resumed.bin.filesync-part"), &body[..MIB]).unwrap();
    let get = filesync(work, &["get", &key, "-o", "resumed.bin", "--server", &api]).await;
    assert_eq!(code(&get), 0, "{}", stderr(&get));
    assert!(std::fs::read(work.join("resumed.bin")).unwrap() == body);

    let rm = filesync(work, &["rm", &key, "--server", &api]).await;
    assert_eq!(code(&rm), 0, "{}", stderr(&rm));
    let stat = filesync(work, &["stat", &key, "--server", &api]).await;
    assert_eq!(code(&stat), 3, "not found: {}", stderr(&stat));
    let get = filesync(work, &["get", &key, "-o", "gone.bin", "--server", &api]).await;
    assert_eq!(code(&get), 3);
    assert!(!work.join("gone.bin").exists());
}

#[tokio::test]
async fn client_failures_have_their_exit_codes_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let server = start(&work.join("filesync-data"), &[]).await;
    let api = format!("{}/api", server.url);
    std::fs::write(work.join("a.txt"), b"hello").unwrap();

    let refused = filesync(work, &["put", "a.txt", "--server", &api, "--token", "nope"]).await;
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--token"), "{}", stderr(&refused));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}/api");
    let token = server.token.clone().unwrap();
    let unreachable = filesync(
        work,
        &["put", "a.txt", "--server", &down, "--token", &token],
    )
    .await;
    assert_eq!(code(&unreachable), 5, "{}", stderr(&unreachable));
    assert!(stderr(&unreachable).contains("--server"));

    let missing = filesync(work, &["put", "no-such-file", "--server", &api]).await;
    assert_eq!(code(&missing), 3, "{}", stderr(&missing));

    let elsewhere = tempfile::tempdir().unwrap();
    let no_token = filesync(elsewhere.path(), &["rm", "k/x", "--server", &api]).await;
    assert_eq!(code(&no_token), 1);
    assert!(
        stderr(&no_token).contains("FILESYNC_TOKEN"),
        "{}",
        stderr(&no_token)
    );

    // A content-addressed blob changed on the server's disk: the download is refused, nothing kept.
    let put = filesync(work, &["put", "a.txt", "--server", &api]).await;
    let key = stdout(&put);
    let blob = work.join("filesync-data/blobs").join(&key);
    std::fs::write(&blob, b"jello").unwrap();
    let get = filesync(
        work,
        &["--json", "get", &key, "-o", "b.txt", "--server", &api],
    )
    .await;
    assert_eq!(code(&get), 6, "{}", stderr(&get));
    let json: serde_json::Value = serde_json::from_str(&stdout(&get)).unwrap();
    assert_eq!(json["exit"], 6);
    assert!(!work.join("b.txt").exists() && !work.join("b.txt.filesync-part").exists());
}

/// Puts `files` (name, bytes) under `store` through the server; answers their keys.
async fn put_all(work: &Path, api: &str, store: &str, files: &[(&str, Vec<u8>)]) -> Vec<String> {
    let mut keys = Vec::new();
    for (name, body) in files {
        std::fs::write(work.join(name), body).unwrap();
        let put = filesync(work, &["put", name, "--prefix", store, "--server", api]).await;
        assert_eq!(code(&put), 0, "{}", stderr(&put));
        keys.push(stdout(&put));
    }
    keys
}

#[tokio::test]
async fn ls_verify_and_gc_on_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let server = start(&work.join("filesync-data"), &[]).await;
    let api = format!("{}/api", server.url);
    let keys = put_all(
        work,
        &api,
        "store-a",
        &[
            ("1", bytes(1000, 1)),
            ("2", bytes(2000, 2)),
            ("3", bytes(3000, 3)),
        ],
    )
    .await;
    put_all(work, &api, "store-b", &[("4", bytes(10, 4))]).await;

    let ls = filesync(work, &["--json", "ls", "--prefix", "store-a/"]).await;
    assert_eq!(code(&ls), 0, "{}", stderr(&ls));
    let listed: Vec<serde_json::Value> = stdout(&ls)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        listed
            .iter()
            .map(|v| v["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        sorted
    );
    assert!(listed.iter().any(|v| v["size"] == 2000));

    let verify = filesync(work, &["verify"]).await;
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("4 match, 0 do not"),
        "{}",
        stdout(&verify)
    );
    // One byte flipped on disk.
    let blob = work.join("filesync-data/blobs").join(&keys[1]);
    let mut changed = std::fs::read(&blob).unwrap();
    changed[7] ^= 1;
    std::fs::write(&blob, changed).unwrap();
    let verify = filesync(work, &["verify", "--prefix", "store-a/"]).await;
    assert_eq!(code(&verify), 6);
    assert!(
        stdout(&verify).contains(&format!("MISMATCH {}", keys[1])),
        "{}",
        stdout(&verify)
    );

    // gc: one live key; the others are candidates once past the grace period.
    std::fs::write(
        work.join("live.json"),
        serde_json::to_string(&[&keys[0]]).unwrap(),
    )
    .unwrap();
    let recent = filesync(
        work,
        &["gc", "--live-keys", "live.json", "--prefix", "store-a/"],
    )
    .await;
    assert_eq!(code(&recent), 0, "{}", stderr(&recent));
    assert!(
        stdout(&recent).contains("0 candidate(s)"),
        "{}",
        stdout(&recent)
    );
    let dry = filesync(
        work,
        &[
            "gc",
            "--live-keys",
            "live.json",
            "--prefix",
            "store-a/",
            "--grace",
            "0s",
        ],
    )
    .await;
    assert!(
        stdout(&dry).contains(&format!("would delete {}", keys[1])),
        "{}",
        stdout(&dry)
    );
    assert!(
        work.join("filesync-data/blobs").join(&keys[1]).exists(),
        "a dry run deletes nothing"
    );
    let refused = filesync(
        work,
        &[
            "gc",
            "--live-keys",
            "live.json",
            "--prefix",
            "store-b/",
            "--grace",
            "0s",
            "--delete",
        ],
    )
    .await;
    assert_eq!(code(&refused), 1, "no live key under store-b/");
    assert!(stderr(&refused).contains("--allow-empty-live-set"));
    let no_prefix = filesync(work, &["gc", "--live-keys", "live.json", "--prefix", ""]).await;
    assert_eq!(code(&no_prefix), 1);
    let gc = filesync(
        work,
        &[
            "gc",
            "--live-keys",
            "live.json",
            "--prefix",
            "store-a/",
            "--grace",
            "0s",
            "--delete",
        ],
    )
    .await;
    assert_eq!(code(&gc), 0, "{}", stderr(&gc));
    let left = filesync(work, &["--json", "ls"]).await;
    let left: Vec<String> = stdout(&left)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(left.len(), 2, "the live key and store-b's: {left:?}");
    assert!(left.contains(&keys[0]));
    // Another data dir than a server's is refused with a hint.
    let nowhere = filesync(work, &["ls", "--data-dir", "not-a-data-dir"]).await;
    assert_eq!(code(&nowhere), 1);
    assert!(stderr(&nowhere).contains("--data-dir"));
}

#[tokio::test]
async fn ls_verify_and_gc_on_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let s3 = s3_local::S3Local::start(&work.join("s3"), "blobs")
        .await
        .unwrap();
    let endpoint = s3.endpoint();
    let body = bytes(5000, 9);
    let key = format!("store-a/{}", sha256_hex(&body));
    std::fs::create_dir_all(s3.object_path(&key).parent().unwrap()).unwrap();
    std::fs::write(s3.object_path(&key), &body).unwrap();
    std::fs::write(s3.object_path("store-a/old.txt"), b"x").unwrap();
    let s3_flags = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(
            [
                "--s3-bucket",
                "blobs",
                "--s3-endpoint",
                &endpoint,
                "--s3-access-key-id",
                s3.access_key_id(),
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        all
    };
    let run = |args: Vec<String>| {
        let secret = s3.secret_access_key().to_owned();
        let work = work.to_owned();
        async move {
            let mut command = Command::new(env!("CARGO_BIN_EXE_filesync"));
            command
                .current_dir(&work)
                .args(&args)
                .env("FILESYNC_S3_SECRET_ACCESS_KEY", secret)
                .env("FILESYNC_LOG", "warn");
            command.output().await.unwrap()
        }
    };
    let ls = run(s3_flags(&["--json", "ls"])).await;
    assert_eq!(code(&ls), 0, "{}", stderr(&ls));
    assert_eq!(stdout(&ls).lines().count(), 2, "{}", stdout(&ls));
    let verify = run(s3_flags(&["verify"])).await;
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("1 match, 0 do not, 1 have no hash"),
        "{}",
        stdout(&verify)
    );
    std::fs::write(work.join("live.txt"), format!("{key}\n")).unwrap();
    let gc = run(s3_flags(&[
        "gc",
        "--live-keys",
        "live.txt",
        "--prefix",
        "store-a/",
        "--grace",
        "0s",
        "--delete",
    ]))
    .await;
    assert_eq!(code(&gc), 0, "{}", stderr(&gc));
    assert!(
        stdout(&gc).contains("deleted store-a/old.txt"),
        "{}",
        stdout(&gc)
    );
    assert!(!s3.object_path("store-a/old.txt").exists());
    assert!(s3.object_path(&key).exists());
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let data = work.join("filesync-data");
    let first = filesync(
        work,
        &[
            "--json", "tokens", "create", "--prefix", "store-a/", "--name", "app",
        ],
    )
    .await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let first: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    let token_a = first["token"].as_str().unwrap().to_owned();
    // The file keeps only the SHA-256.
    let file = std::fs::read_to_string(data.join("tokens.json")).unwrap();
    assert!(!file.contains(&token_a) && file.contains(&sha256_hex(token_a.as_bytes())));
    assert_eq!(
        std::fs::metadata(data.join("tokens.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // The server uses the data dir's tokens.json: no development token.
    let server = start(&data, &[]).await;
    assert!(server.token.is_none());
    let sign = |token: String, key: &'static str| {
        let url = server.url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/api/v1/sign/download"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "key": key }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(sign(token_a.clone(), "store-a/x").await, 200);
    assert_eq!(sign(token_a.clone(), "store-b/x").await, 403);

    // A token created now works within seconds, without a restart.
    let second = filesync(work, &["--json", "tokens", "create", "--name", "admin"]).await;
    let token_all = serde_json::from_str::<serde_json::Value>(&stdout(&second)).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let waited = wait_for(|| sign(token_all.clone(), "store-b/x"), 200).await;
    assert!(waited, "the new token was not accepted");

    let list = filesync(work, &["tokens", "list"]).await;
    assert_eq!(stdout(&list).lines().count(), 2, "{}", stdout(&list));
    assert!(!stdout(&list).contains(&token_a), "list never shows tokens");

    let revoke = filesync(work, &["tokens", "revoke", "app"]).await;
    assert_eq!(code(&revoke), 0, "{}", stderr(&revoke));
    assert!(
        wait_for(|| sign(token_a.clone(), "store-a/x"), 401).await,
        "the revoked token still works"
    );
    assert_eq!(sign(token_all.clone(), "store-a/x").await, 200);
    let unknown = filesync(work, &["tokens", "revoke", "nobody"]).await;
    assert_eq!(code(&unknown), 3);
    let short = filesync(work, &["tokens", "revoke", "ab"]).await;
    assert_eq!(code(&short), 1);
}

/// Polls `check` for up to 10 s until it answers `want`.
async fn wait_for<F, Fut>(check: F, want: u16) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if check().await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
