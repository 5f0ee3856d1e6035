//! What the benchmarks that run `filesync serve` share: the server as a child process (disk mode,
//! or S3 mode over an `s3-local` process), building the binaries, environment settings, peak RSS.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn env_str(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// This process's peak resident set size in KiB (`VmHWM`), 0 when unknown.
pub(crate) fn peak_rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `filesync serve` as a child process (and, in S3 mode, the `s3-local` process holding its
/// bucket); killed (and waited for) when dropped, also on panic.
pub(crate) struct ServerProcess {
    /// The `filesync serve` process.
    pub(crate) child: Child,
    /// The signer API's base URL.
    pub(crate) base: String,
    /// Its development token.
    pub(crate) token: String,
    log: PathBuf,
    /// The key the rows move.
    pub(crate) key: String,
    /// The S3 server of S3 mode (a process in `--bench` runs).
    pub(crate) s3: Option<Child>,
    /// The S3 server of S3 mode in test runs: s3-local in this process, on a thread of its own.
    in_process: Option<InProcessS3>,
}

/// An `S3Local` served from a thread of this process (smoke runs: no binary to build); stopped
/// when dropped.
pub(crate) struct InProcessS3 {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for InProcessS3 {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts `S3Local` over `root` on a thread of this process; its endpoint, bucket and
/// credentials.
fn start_s3_in_process(root: &Path) -> (InProcessS3, [String; 4]) {
    let (fields_tx, fields_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let root = root.to_owned();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for s3-local");
        let s3 = runtime
            .block_on(s3_local::S3Local::start(&root, "bench"))
            .expect("s3-local starts");
        let _ = fields_tx.send([
            s3.endpoint(),
            s3.bucket().to_owned(),
            s3.access_key_id().to_owned(),
            s3.secret_access_key().to_owned(),
        ]);
        // Until the handle is dropped (the sender goes).
        let _ = stop_rx.recv();
        drop(s3);
        runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    });
    let fields = fields_rx.recv().expect("s3-local's endpoint");
    (
        InProcessS3 {
            stop: Some(stop_tx),
            thread: Some(thread),
        },
        fields,
    )
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.child).chain(self.s3.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where the blobs go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Storage {
    /// The server's data dir.
    Disk,
    /// A bucket of `s3-local` (s3s-fs) in a process of its own.
    S3,
}

/// Builds the `s3-local` binary (the bucket of S3 mode), starts it over `root` and answers it
/// with its endpoint, bucket and credentials.
pub(crate) fn start_s3(release: bool, root: &Path) -> (Child, [String; 4]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", "s3-local", "--bin", "s3-local"])
        .env("CARGO_TARGET_DIR", target_dir());
    if release {
        command.arg("--release");
    }
    assert!(
        command.status().is_ok_and(|s| s.success()),
        "building s3-local failed"
    );
    let bin = target_dir()
        .join(if release { "release" } else { "debug" })
        .join("s3-local");
    let mut child = Command::new(bin)
        .arg("--root")
        .arg(root)
        .args(["--bucket", "bench"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("s3-local starts");
    let stdout = child.stdout.take().expect("s3-local's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .and_then(Result::ok)
        .expect("s3-local prints its endpoint");
    std::thread::spawn(move || for _ in lines {});
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
            .to_owned()
    };
    let fields = [
        field("endpoint"),
        field("bucket"),
        field("access_key_id"),
        field("secret_access_key"),
    ];
    (child, fields)
}

/// Deletes the key the rows move (untimed), so that the next upload stores it afresh.
pub(crate) fn delete_key(server: &ServerProcess) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/v1/delete", server.base))
            .bearer_auth(&server.token)
            .json(&serde_json::json!({"key": server.key}))
            .send()
            .await
            .expect("the signer answers")
            .error_for_status()
            .expect("the signer deletes");
    });
}

/// The target directory this bench binary was built into (`<target>/<profile>/deps/<exe>`).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench's path");
    exe.ancestors()
        .nth(3)
        .expect("the bench runs from <target>/<profile>/deps")
        .to_owned()
}

/// Builds the `filesync` binary (`release`: the optimized one) and returns its path.
pub(crate) fn build_server(release: bool) -> PathBuf {
    let profile = if release { "release" } else { "debug" };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", "filesync-cli"])
        .env("CARGO_TARGET_DIR", target_dir());
    if release {
        command.arg("--release");
    }
    let bin = target_dir().join(profile).join("filesync");
    match command.status() {
        Ok(status) if status.success() => {}
        other => panic!(
            "building the server failed ({other:?}); build it with `cargo build{} -p filesync-cli` \
             so that {} exists",
            if release { " --release" } else { "" },
            bin.display()
        ),
    }
    bin
}

pub(crate) fn start_server(
    bin: &Path,
    data_dir: &Path,
    max_upload: u64,
    key: &str,
    storage: Storage,
    release: bool,
) -> ServerProcess {
    let log = data_dir.with_extension("log");
    let stderr = std::fs::File::create(&log).expect("the server's log file");
    let mut command = Command::new(bin);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--max-upload-bytes")
        .arg(max_upload.to_string());
    let (mut s3, mut in_process) = (None, None);
    if storage == Storage::S3 {
        let root = data_dir.with_extension("s3");
        // A `--bench` run measures s3-local as a process of its own (its RSS apart); a smoke run
        // under `cargo test` serves it from this process (no binary to build).
        let [endpoint, bucket, key_id, secret] = if release {
            let (child, fields) = start_s3(release, &root);
            s3 = Some(child);
            fields
        } else {
            let (server, fields) = start_s3_in_process(&root);
            in_process = Some(server);
            fields
        };
        command
            .args(["--s3-bucket", &bucket, "--s3-endpoint", &endpoint])
            .env("FILESYNC_S3_ACCESS_KEY_ID", key_id)
            .env("FILESYNC_S3_SECRET_ACCESS_KEY", secret);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", bin.display()));
    let stdout = child.stdout.take().expect("the server's stdout");
    let mut server = ServerProcess {
        child,
        base: String::new(),
        token: String::new(),
        log,
        key: key.to_owned(),
        s3,
        in_process,
    };
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("filesync serve: listening on ") {
                    break url.trim().to_owned();
                }
            }
            _ => panic!(
                "the server exited before listening; its log ({}):\n{}",
                server.log.display(),
                std::fs::read_to_string(&server.log).unwrap_or_default()
            ),
        }
    };
    // Drain the rest of its stdout so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    server.base = format!("{url}/api");
    server.token = std::fs::read_to_string(data_dir.join("dev-token"))
        .expect("the server's dev-token")
        .trim()
        .to_owned();
    server
}
