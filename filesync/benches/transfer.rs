//! Large transfers to the local server over loopback (DESIGN §7: upload/download 1 GiB natively,
//! ≥ 0.8× curl on the same server; client and server peak RSS ≤ 64 MiB), printed as a table; never
//! timed assertions.
//!
//! The server is the real `filesync serve` binary, started as a separate process on 127.0.0.1:0
//! over a temporary data dir (built first with `cargo build [--release] -p filesync-cli`), in disk
//! mode and then in S3 mode (`--s3-bucket`, with the `s3-local` binary, s3s-fs, as the bucket in a
//! process of its own; `BENCH_TRANSFER_STORAGE=disk` or `s3` runs one). One file of pseudo-random
//! bytes is written to disk once, in 1 MiB chunks; every row moves it under its content-addressed
//! key (`bench/{sha256}`), which is deleted (untimed) before each upload so that no upload finds it
//! already stored. Per round (sides alternate: odd rounds run the rows in reverse order), each row
//! moves the whole file:
//!
//! 1. curl upload: the signer API signs a PUT, then `curl -T` sends the file with the signed
//!    headers (the curl process is timed, nothing else);
//! 2. `HttpRemote` uploads of the file streamed from `NativeFs::read_stream`: one PUT (threshold
//!    above the size), and the default resumable path (parts of the server's size above 64 MiB);
//! 3. curl download: `curl -o` of a signed GET, then an fsync of the file (timed: the same
//!    durability as the client's download);
//! 4. `HttpRemote` download streamed into a `NativeFs` write sink, hashed on the way (as the engine
//!    does) and checked; the sink's durable close (fsync + rename) is included and shown apart;
//! 5. the engine end to end: `FileSync` A saves the file from a stream and uploads it (until its
//!    row has a remoteKey); `FileSync` B (same `SyncedLog`) downloads it (until it can read
//!    verified bytes). Both on `TokioRuntime` with `MemoryCatalog`.
//!
//! Before each row, `sync` flushes dirty pages (untimed), so that no row pays for the writeback of
//! the one before. Besides the medians, each row shows its spread over the rounds and a detail: the
//! time after the last byte was sent (the server's answer; for resumable uploads the last part and
//! `multipart/complete`), the download's durable close, and the engine's timeline per round (from
//! its transfer events).
//!
//! The `HttpRemote` and engine sides run in a child process (this binary again, selected by
//! `BENCH_TRANSFER_ROLE`), which reports its time and its own peak RSS (`VmHWM`), so the client's
//! memory is not mixed with this process's. The server's peak RSS is read from its `/proc` entry
//! after the run.
//!
//! `cargo bench -p filesync --bench transfer` (scripts/extended): 1 GiB, 3 rounds, release server.
//! Under `cargo test --all-targets` a smoke run (16 MiB, 1 round, debug server). Sizes:
//! BENCH_TRANSFER_MIB, BENCH_ROUNDS; BENCH_TRANSFER_CHUNK_KIB sets the read chunk of the client's
//! upload streams (default 64, the engine's own). Without curl on PATH the curl rows are skipped.

#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod support;

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use crate::support::{
        build_server, delete_key, env_number, env_str, peak_rss_kib, start_server, ServerProcess,
        Storage,
    };
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use filesync::Hasher;
    use filesync::TokioRuntime;
    use filesync::{Catalog, SyncedLog};
    use filesync::{Content, FileSyncBuilder, FileSyncEvent, FileSyncOptions, SaveOptions};
    use filesync::{HttpRemote, HttpRemoteOptions, RemoteStorage, UploadRequest};
    use fs_core::{FileSystem, SinkOptions, StreamOptions, VPath};
    use fs_native::NativeFs;
    use futures::StreamExt;

    const MIB: u64 = 1024 * 1024;
    /// The key every row moves: the file's content-addressed key (`bench/{sha256}`).
    fn key() -> String {
        env_str("BENCH_TRANSFER_KEY")
    }
    const STORE: &str = "bench";
    /// What a child process prints before its figures.
    const RESULT: &str = "TRANSFER-RESULT";
    /// What a child process prints before a line of details for the parent to show.
    const NOTE: &str = "TRANSFER-NOTE";
    const ROLE_VAR: &str = "BENCH_TRANSFER_ROLE";

    fn median(mut xs: Vec<f64>) -> f64 {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    }

    /// Writes `mib` MiB of pseudo-random bytes (xorshift64) to `path` in 1 MiB chunks; their hash.
    fn generate(path: &Path, mib: u64) -> String {
        let mut file = std::fs::File::create(path).expect("create the data file");
        let mut hasher = Hasher::new();
        let mut chunk = vec![0u8; MIB as usize];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..mib {
            for word in chunk.chunks_exact_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                word.copy_from_slice(&x.to_le_bytes());
            }
            hasher.update(&chunk);
            file.write_all(&chunk).expect("write the data file");
        }
        file.sync_all().expect("sync the data file");
        hasher.finalize().to_hex()
    }

    // ---------------------------------------------------------------------------------------------
    // curl

    /// Asks the signer for a signed `what` ("upload" or "download") request of `key`: URL + headers.
    fn sign(server: &ServerProcess, what: &str, key: &str, size: u64) -> (String, Vec<String>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let answer: serde_json::Value = rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{}/v1/sign/{what}", server.base))
                .bearer_auth(&server.token)
                .json(&serde_json::json!({"key": key, "contentLength": size}))
                .send()
                .await
                .expect("the signer answers")
                .error_for_status()
                .expect("the signer signs")
                .json()
                .await
                .expect("the signer's JSON")
        });
        let url = answer["url"].as_str().expect("a signed URL");
        let url = if url.starts_with('/') {
            format!("{}{url}", server.base.trim_end_matches("/api"))
        } else {
            url.to_owned()
        };
        let headers = answer["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        (url, headers)
    }

    fn run_curl(args: &[&str], headers: &[String]) -> f64 {
        let mut command = Command::new("curl");
        command.args(["-sS", "--fail"]).args(args);
        for h in headers {
            command.arg("-H").arg(h);
        }
        let t = Instant::now();
        let status = command.stdout(Stdio::null()).status().expect("curl runs");
        let secs = t.elapsed().as_secs_f64();
        assert!(status.success(), "curl {args:?} failed: {status}");
        secs
    }

    fn curl_upload(server: &ServerProcess, file: &Path, size: u64) -> f64 {
        let (url, headers) = sign(server, "upload", &server.key, size);
        let file = file.to_str().expect("a UTF-8 temp path");
        run_curl(&["-T", file, "-X", "PUT", &url], &headers)
    }

    fn curl_download(server: &ServerProcess, out: &Path, size: u64) -> f64 {
        let (url, headers) = sign(server, "download", &server.key, size);
        let out_str = out.to_str().expect("a UTF-8 temp path");
        let secs = run_curl(&["-o", out_str, &url], &headers);
        // The same durability as the client's download: the file fsynced.
        let t = Instant::now();
        std::fs::File::open(out)
            .and_then(|f| f.sync_all())
            .expect("fsync curl's file");
        let secs = secs + t.elapsed().as_secs_f64();
        let got = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
        assert_eq!(got, size, "curl downloaded {got} bytes of {size}");
        let _ = std::fs::remove_file(out);
        secs
    }

    // ---------------------------------------------------------------------------------------------
    // Client roles, each in a child process

    /// What a child process measured.
    struct ChildResult {
        /// The main time (seconds).
        secs: f64,
        /// A second time: the durable close of a download; B's download phase for the engine.
        extra: f64,
        /// A third time: the engine's save (local write + hash) before the upload.
        extra2: f64,
        /// Peak RSS, KiB.
        rss_kib: u64,
        /// Lines of details it printed.
        notes: Vec<String>,
    }

    /// Runs this binary again as `role` with `vars`; parses its result line.
    fn run_child(role: &str, vars: &[(&str, String)]) -> ChildResult {
        let exe = std::env::current_exe().expect("the bench's path");
        let mut command = Command::new(exe);
        command.env(ROLE_VAR, role).stdin(Stdio::null());
        for (k, v) in vars {
            command.env(k, v);
        }
        let output = command.output().expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the {role} child failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT))
            .unwrap_or_else(|| panic!("the {role} child printed no result:\n{stdout}"));
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(|f| f.parse().expect("a number"))
            .collect();
        ChildResult {
            secs: fields[0],
            extra: fields[1],
            extra2: fields[2],
            rss_kib: fields[3] as u64,
            notes: stdout
                .lines()
                .filter_map(|l| l.strip_prefix(NOTE))
                .map(|l| l.trim().to_owned())
                .collect(),
        }
    }

    fn remote(threshold: Option<u64>) -> HttpRemote {
        let mut options = HttpRemoteOptions::new(env_str("BENCH_TRANSFER_BASE"))
            .with_token(env_str("BENCH_TRANSFER_TOKEN"));
        if let Some(threshold) = threshold {
            options.multipart_threshold = threshold;
        }
        HttpRemote::new(options).expect("an HttpRemote")
    }

    /// The data file as (a NativeFs over its directory, its path there).
    fn data_file() -> (Arc<NativeFs>, VPath) {
        let file = PathBuf::from(env_str("BENCH_TRANSFER_FILE"));
        let fs = Arc::new(NativeFs::new(file.parent().expect("a directory")));
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name");
        (fs, VPath::new(&format!("/{name}")).expect("a path"))
    }

    fn chunk_size() -> usize {
        env_number("BENCH_TRANSFER_CHUNK_KIB", 64) as usize * 1024
    }

    async fn role_upload() -> (f64, f64, f64) {
        let size = env_number("BENCH_TRANSFER_SIZE", 0);
        let threshold = env_number("BENCH_TRANSFER_THRESHOLD", 64 * MIB);
        let remote = remote(Some(threshold));
        let (fs, path) = data_file();
        let chunk_size = chunk_size();
        let all_sent = Arc::new(AtomicU64::new(0));
        let sent_at = all_sent.clone();
        let start = Instant::now();
        let req = UploadRequest {
            key: key(),
            size,
            content_type: None,
            open: Arc::new(move |offset| {
                let (fs, path) = (fs.clone(), path.clone());
                Box::pin(async move {
                    let options = StreamOptions {
                        chunk_size,
                        offset,
                        length: None,
                    };
                    fs.read_stream(&path, options).await
                })
            }),
            progress: Arc::new(move |done, total| {
                if done == total {
                    // When the last byte was handed to the connection (in ns since the start).
                    sent_at.store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
                }
            }),
            resume: None,
            on_resume: Arc::new(|_| {}),
        };
        remote.upload(req).await.expect("the upload");
        let secs = start.elapsed().as_secs_f64();
        let sent = all_sent.load(Ordering::Relaxed) as f64 / 1e9;
        // The time after the last byte was sent: the server's answer (one PUT), or the last part's
        // answer and `multipart/complete` (resumable).
        (secs, secs - sent, 0.0)
    }

    async fn role_download() -> (f64, f64, f64) {
        let size = env_number("BENCH_TRANSFER_SIZE", 0);
        let want = env_str("BENCH_TRANSFER_HASH");
        let out_dir = PathBuf::from(env_str("BENCH_TRANSFER_OUT"));
        let fs = NativeFs::new(&out_dir);
        let path = VPath::new("/download.bin").expect("a path");
        let remote = remote(None);
        let t = Instant::now();
        let download = remote
            .download(&key(), 0)
            .await
            .expect("the download starts");
        let mut sink = fs
            .write_sink(&path, SinkOptions::default())
            .await
            .expect("a sink");
        let mut hasher = Hasher::new();
        let mut chunks = 0u64;
        let mut body = download.body.into_bytes();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("the download's bytes");
            chunks += 1;
            hasher.update(&chunk);
            sink.write(chunk).await.expect("the sink takes the bytes");
        }
        let before_close = t.elapsed().as_secs_f64();
        sink.close().await.expect("the sink commits");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(hasher.bytes_hashed(), size, "downloaded size");
        assert_eq!(hasher.finalize().to_hex(), want, "downloaded bytes");
        let _ = std::fs::remove_file(out_dir.join("download.bin"));
        (secs, secs - before_close, chunks as f64)
    }

    async fn role_engine() -> (f64, f64, f64) {
        let want = env_str("BENCH_TRANSFER_HASH");
        let log = SyncedLog::new();
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let engines: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let catalog = log.client();
                let engine = FileSyncBuilder::with_options(FileSyncOptions::new(STORE))
                    .runtime(Arc::new(TokioRuntime::current()))
                    .fs(Arc::new(NativeFs::new(dir.path())))
                    .catalog(Arc::new(catalog.clone()))
                    .remote(Arc::new(remote(None)))
                    .build()
                    .expect("an engine");
                (engine, catalog)
            })
            .collect();
        // When each engine's transfers start and end (listeners run on the engines' tasks).
        let marks: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        for ((engine, _), name) in engines.iter().zip(["A", "B"]) {
            let marks = marks.clone();
            engine.on_event(Arc::new(move |event| {
                let (what, direction) = match event {
                    FileSyncEvent::TransferStart { direction, .. } => ("start", direction),
                    FileSyncEvent::TransferComplete { direction, .. } => ("done", direction),
                    _ => return,
                };
                let label = format!("{name} {direction:?} {what}").to_lowercase();
                marks.lock().unwrap().push((label, Instant::now()));
            }));
            engine.start().await.expect("the engine starts");
        }
        let (a, a_catalog) = &engines[0];
        let (b, _) = &engines[1];
        let (fs, path) = data_file();
        let options = StreamOptions {
            chunk_size: chunk_size(),
            ..StreamOptions::default()
        };
        let t = Instant::now();
        let stream = fs.read_stream(&path, options).await.expect("the data file");
        let saved = a
            .save(Content::Stream(stream), SaveOptions::default())
            .await
            .expect("A saves");
        let save_secs = t.elapsed().as_secs_f64();
        assert_eq!(saved.content_hash, want, "A saved other bytes");
        let id = saved.file_id;
        let uploaded = loop {
            let row = a_catalog.file(&id).await.expect("A's catalog");
            if row.is_some_and(|r| !r.remote_key.is_empty()) {
                break t.elapsed().as_secs_f64();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let stream = loop {
            if let Ok(stream) = b.read_stream(&id).await {
                break stream;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let total = t.elapsed().as_secs_f64();
        // Not timed: B's verified bytes are the file's.
        let mut hasher = Hasher::new();
        let mut stream = stream;
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk.expect("B's bytes"));
        }
        assert_eq!(hasher.finalize().to_hex(), want, "B read other bytes");
        for (engine, _) in &engines {
            engine.stop().await;
        }
        let mut note = format!("A save returned {save_secs:.2} s");
        for (label, at) in marks.lock().unwrap().iter() {
            note += &format!(", {label} {:.2} s", at.duration_since(t).as_secs_f64());
        }
        note += &format!(", A remoteKey {uploaded:.2} s, B verified read {total:.2} s");
        println!("{NOTE} {note}");
        (uploaded, total - uploaded, save_secs)
    }

    /// The child side: runs `role`, prints `TRANSFER-RESULT secs extra extra2 peak-rss-kib`.
    fn child_main(role: &str) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (secs, extra, extra2) = rt.block_on(async {
            match role {
                "upload" => role_upload().await,
                "download" => role_download().await,
                "engine" => role_engine().await,
                other => panic!("unknown {ROLE_VAR} {other:?}"),
            }
        });
        drop(rt);
        println!("{RESULT} {secs} {extra} {extra2} {}", peak_rss_kib("self"));
    }

    // ---------------------------------------------------------------------------------------------
    // The parent: rounds and the table

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Row {
        CurlUp,
        RemoteUp,
        RemoteUpResumable,
        CurlDown,
        RemoteDown,
        Engine,
    }

    #[derive(Default)]
    struct Figures {
        curl_up: Vec<f64>,
        remote_up: Vec<f64>,
        remote_up_resumable: Vec<f64>,
        remote_up_tail: Vec<f64>,
        remote_up_resumable_tail: Vec<f64>,
        curl_down: Vec<f64>,
        remote_down: Vec<f64>,
        remote_down_close: Vec<f64>,
        engine_save: Vec<f64>,
        engine_up: Vec<f64>,
        engine_down: Vec<f64>,
        rss_up: u64,
        rss_up_resumable: u64,
        rss_down: u64,
        rss_engine: u64,
        engine_notes: Vec<String>,
    }

    /// Flushes dirty pages (untimed) so that a row does not pay for the previous row's writeback.
    fn settle() {
        let _ = Command::new("sync").status();
    }

    pub fn main() {
        if let Ok(role) = std::env::var(ROLE_VAR) {
            child_main(&role);
            return;
        }
        let full = std::env::args().any(|a| a == "--bench");
        let mib = env_number("BENCH_TRANSFER_MIB", if full { 1024 } else { 16 }).max(1);
        let rounds = env_number("BENCH_ROUNDS", if full { 3 } else { 1 }).max(1) as usize;
        let size = mib * MIB;
        let have_curl = Command::new("curl")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());

        let bin = build_server(full);
        let work = tempfile::tempdir().expect("a temporary directory");
        let file = work.path().join("data.bin");
        let t = Instant::now();
        let hash = generate(&file, mib);
        println!(
            "transfer bench: {mib} MiB of pseudo-random bytes written in {:.1} s; server {} on 127.0.0.1; \
             median of {rounds} round(s)",
            t.elapsed().as_secs_f64(),
            bin.display()
        );
        let key = format!("{STORE}/{hash}");
        let storages: Vec<Storage> = match std::env::var("BENCH_TRANSFER_STORAGE").as_deref() {
            Ok("disk") => vec![Storage::Disk],
            Ok("s3") => vec![Storage::S3],
            _ if full => vec![Storage::Disk, Storage::S3],
            // The smoke run under `cargo test`: disk mode only.
            _ => vec![Storage::Disk],
        };
        for storage in storages {
            let data_dir = work
                .path()
                .join(format!("server-{storage:?}").to_lowercase());
            let server = start_server(&bin, &data_dir, size * 2 + 64 * MIB, &key, storage, full);
            run_rounds(
                &server, &work, &file, &hash, size, rounds, have_curl, storage,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_rounds(
        server: &ServerProcess,
        work: &tempfile::TempDir,
        file: &Path,
        hash: &str,
        size: u64,
        rounds: usize,
        have_curl: bool,
        storage: Storage,
    ) {
        let out_dir = work.path().join("out");
        std::fs::create_dir_all(&out_dir).expect("the download directory");
        let vars = |threshold: u64| {
            vec![
                ("BENCH_TRANSFER_BASE", server.base.clone()),
                ("BENCH_TRANSFER_TOKEN", server.token.clone()),
                ("BENCH_TRANSFER_FILE", file.display().to_string()),
                ("BENCH_TRANSFER_OUT", out_dir.display().to_string()),
                ("BENCH_TRANSFER_SIZE", size.to_string()),
                ("BENCH_TRANSFER_HASH", hash.to_owned()),
                ("BENCH_TRANSFER_KEY", server.key.clone()),
                ("BENCH_TRANSFER_THRESHOLD", threshold.to_string()),
            ]
        };
        if !have_curl {
            println!("  curl is not on PATH: the curl rows are skipped (no ratios)");
        }

        let mut f = Figures::default();
        let order = [
            Row::CurlUp,
            Row::RemoteUp,
            Row::RemoteUpResumable,
            Row::CurlDown,
            Row::RemoteDown,
            Row::Engine,
        ];
        for round in 0..rounds {
            let mut rows = order.to_vec();
            // Sides alternate: odd rounds run the rows backwards (the downloads then read the
            // object the previous round uploaded, the same bytes).
            if round % 2 == 1 {
                rows.reverse();
            }
            for row in rows {
                if matches!(
                    row,
                    Row::CurlUp | Row::RemoteUp | Row::RemoteUpResumable | Row::Engine
                ) {
                    delete_key(server);
                }
                settle();
                match row {
                    Row::CurlUp if have_curl => f.curl_up.push(curl_upload(server, file, size)),
                    Row::CurlDown if have_curl => {
                        f.curl_down
                            .push(curl_download(server, &out_dir.join("curl.bin"), size))
                    }
                    Row::CurlUp | Row::CurlDown => {}
                    Row::RemoteUp => {
                        let r = run_child("upload", &vars(size + 1));
                        f.remote_up.push(r.secs);
                        f.remote_up_tail.push(r.extra);
                        f.rss_up = f.rss_up.max(r.rss_kib);
                    }
                    Row::RemoteUpResumable => {
                        let r = run_child("upload", &vars(64 * MIB));
                        f.remote_up_resumable.push(r.secs);
                        f.remote_up_resumable_tail.push(r.extra);
                        f.rss_up_resumable = f.rss_up_resumable.max(r.rss_kib);
                    }
                    Row::RemoteDown => {
                        let r = run_child("download", &vars(64 * MIB));
                        f.remote_down.push(r.secs);
                        f.remote_down_close.push(r.extra);
                        f.rss_down = f.rss_down.max(r.rss_kib);
                    }
                    Row::Engine => {
                        let r = run_child("engine", &vars(64 * MIB));
                        f.engine_up.push(r.secs);
                        f.engine_down.push(r.extra);
                        f.engine_save.push(r.extra2);
                        f.rss_engine = f.rss_engine.max(r.rss_kib);
                        for note in r.notes {
                            f.engine_notes.push(format!("round {}: {note}", round + 1));
                        }
                    }
                }
            }
        }
        let server_rss = peak_rss_kib(&server.child.id().to_string());
        let s3_rss = server
            .s3
            .as_ref()
            .map(|child| peak_rss_kib(&child.id().to_string()));
        report(&f, size, rounds, server_rss, s3_rss, storage);
    }

    fn report(
        f: &Figures,
        size: u64,
        rounds: usize,
        server_rss_kib: u64,
        s3_rss_kib: Option<u64>,
        storage: Storage,
    ) {
        let mbs = |secs: f64| size as f64 / 1e6 / secs;
        let curl_up = (!f.curl_up.is_empty()).then(|| median(f.curl_up.clone()));
        let curl_down = (!f.curl_down.is_empty()).then(|| median(f.curl_down.clone()));
        let line = |name: &str, all: &[f64], base: Option<f64>, note: &str| {
            let secs = median(all.to_vec());
            let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = all.iter().copied().fold(0.0, f64::max);
            let ratio = match base {
                Some(b) => format!("{:>5.2}× curl", b / secs),
                None => "    -      ".to_owned(),
            };
            println!(
                "  {name:<44} {:>6.0} MB/s  {secs:>6.2} s [{lo:.2}–{hi:.2}]  {ratio}{note}",
                mbs(secs)
            );
        };
        let mib = size / MIB;
        let mode = match storage {
            Storage::Disk => "disk mode",
            Storage::S3 => "S3 mode: the bytes go to s3-local (s3s-fs), the server signs",
        };
        println!(
            "upload / download of {mib} MiB through `filesync serve`, {mode}, over loopback \
             (median of {rounds}; target ≥ 0.80× curl):"
        );
        if curl_up.is_some() {
            line("curl -T (signed PUT)", &f.curl_up, None, "");
        }
        line(
            "HttpRemote upload, one PUT",
            &f.remote_up,
            curl_up,
            &format!(
                "  (answer {:.2} s after the last byte)",
                median(f.remote_up_tail.clone())
            ),
        );
        line(
            "HttpRemote upload, resumable (default)",
            &f.remote_up_resumable,
            curl_up,
            &format!(
                "  (last part's answer + complete: {:.2} s)",
                median(f.remote_up_resumable_tail.clone())
            ),
        );
        let save = median(f.engine_save.clone());
        line(
            "engine A: save + upload (until remoteKey)",
            &f.engine_up,
            curl_up,
            &format!("  (save alone {save:.2} s)"),
        );
        if curl_down.is_some() {
            line("curl -o (signed GET) + fsync", &f.curl_down, None, "");
        }
        let down = median(f.remote_down.clone());
        let close = median(f.remote_down_close.clone());
        let without_close = match curl_down {
            Some(c) => format!("; {:.2}× curl without it", c / (down - close)),
            None => String::new(),
        };
        line(
            "HttpRemote download → NativeFs sink + hash",
            &f.remote_down,
            curl_down,
            &format!("  (incl. durable close {close:.2} s{without_close})"),
        );
        line(
            "engine B: download until verified read",
            &f.engine_down,
            curl_down,
            "",
        );
        let rss = |name: &str, kib: u64| {
            println!(
                "  {name:<44} {:>8.1} MiB   (target ≤ 64 MiB)",
                kib as f64 / 1024.0
            );
        };
        println!("peak RSS (VmHWM):");
        rss("server (filesync serve, whole run)", server_rss_kib);
        if let Some(kib) = s3_rss_kib {
            rss("S3 server (s3-local, whole run)", kib);
        }
        rss("client: HttpRemote upload, one PUT", f.rss_up);
        rss("client: HttpRemote upload, resumable", f.rss_up_resumable);
        rss("client: HttpRemote download", f.rss_down);
        rss("client: engines A + B in one process", f.rss_engine);
        println!("engine timeline (seconds since A's save began):");
        for note in &f.engine_notes {
            println!("  {note}");
        }
    }
}

/// Native only: the benchmark needs fs-native, tokio, curl and the server binary.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}
