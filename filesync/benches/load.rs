//! Load on `filesync serve` over loopback (loopback only, bounded in count and time): many
//! clients at once, each uploading and then downloading files of mixed sizes through the engine's
//! client (`HttpRemote`), every byte verified against its content-addressed key. Printed, never
//! asserted on time: throughput, errors, p50/p99 latency of uploads and downloads, peak RSS of the
//! server, of the S3 server in S3 mode, and of the clients' process.
//!
//! The server is the real `filesync serve` binary as a child process, in disk mode and in S3 mode
//! (`s3-local`, s3s-fs, as the bucket in a process of its own). The files are never held whole:
//! each is a seeded pseudo-random stream that can start at any offset, hashed once before the run.
//! Sizes: 1 KiB (40 %), 64 KiB (30 %), 1 MiB (20 %), 8 MiB (8 %), 64 MiB (2 %, the resumable path).
//!
//! `cargo bench -p filesync --bench load` (scripts/extended): 50 clients x LOAD_OPS (default 4)
//! files each, disk then S3 mode, release server. Under `cargo test --all-targets` a scaled-down run
//! (6 clients x 2 files up to 1 MiB, both modes, debug server) that fails on any error or mismatch.
//! Settings: LOAD_CLIENTS, LOAD_OPS, LOAD_SECONDS (the time after which no new file starts;
//! default 600), LOAD_STORAGE (`disk` or `s3`), LOAD_MAX_MIB (the largest size used).

#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod support;

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use filesync::{Hasher, HttpRemote, HttpRemoteOptions, RemoteStorage, UploadRequest};
    use fs_core::ByteStream;
    use futures::StreamExt;

    use crate::support::{build_server, env_number, peak_rss_kib, start_server, Storage};

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    /// The bytes of a file are made in blocks of this size, each from its own seed.
    const BLOCK: u64 = 64 * KIB;
    /// Sizes and their weights (in percent).
    const MIX: [(u64, u32); 5] = [
        (KIB, 40),
        (64 * KIB, 30),
        (MIB, 20),
        (8 * MIB, 8),
        (64 * MIB, 2),
    ];

    /// Block `index` of the file `seed`, `len` bytes (xorshift64 seeded by both).
    fn block(seed: u64, index: u64, len: usize) -> Vec<u8> {
        let mut x = (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9))
            | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// The bytes of file `seed` of `size` bytes from `offset`, block by block.
    fn stream_from(seed: u64, size: u64, offset: u64) -> ByteStream {
        let first = offset / BLOCK;
        let blocks = size.div_ceil(BLOCK);
        Box::pin(futures::stream::iter(first..blocks).map(move |index| {
            let start = index * BLOCK;
            let len = BLOCK.min(size - start) as usize;
            let bytes = block(seed, index, len);
            let skip = offset.saturating_sub(start) as usize;
            Ok(Bytes::from(bytes).slice(skip..))
        }))
    }

    fn hash_of(seed: u64, size: u64) -> String {
        let mut hasher = Hasher::new();
        for index in 0..size.div_ceil(BLOCK) {
            let start = index * BLOCK;
            hasher.update(&block(seed, index, BLOCK.min(size - start) as usize));
        }
        hasher.finalize().to_hex()
    }

    /// What one transfer did.
    struct Sample {
        upload: bool,
        size: u64,
        secs: f64,
        error: Option<String>,
    }

    fn pick_size(x: &mut u64, max: u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        let mut roll = (*x % 100) as u32;
        for (size, weight) in MIX {
            if roll < weight {
                return size.min(max);
            }
            roll -= weight;
        }
        KIB
    }

    async fn client(
        id: u64,
        ops: u64,
        max: u64,
        deadline: Instant,
        base: String,
        token: String,
        samples: Arc<Mutex<Vec<Sample>>>,
    ) {
        let remote =
            HttpRemote::new(HttpRemoteOptions::new(base).with_token(token)).expect("an HttpRemote");
        let mut x = 0x2545_f491_4f6c_dd1d ^ (id + 1).wrapping_mul(0x9e37_79b9);
        for op in 0..ops {
            if Instant::now() >= deadline {
                break;
            }
            let size = pick_size(&mut x, max);
            let seed = id * 1_000_003 + op;
            let hash = hash_of(seed, size);
            let key = format!("load/{hash}");
            let t = Instant::now();
            let request = UploadRequest {
                key: key.clone(),
                size,
                content_type: Some("application/octet-stream".into()),
                open: Arc::new(move |offset| {
                    Box::pin(async move { Ok(stream_from(seed, size, offset)) })
                }),
                progress: Arc::new(|_, _| {}),
                resume: None,
                on_resume: Arc::new(|_| {}),
            };
            let uploaded = remote.upload(request).await;
            let error = uploaded.err().map(|e| format!("upload of {key}: {e}"));
            let failed = error.is_some();
            samples.lock().unwrap().push(Sample {
                upload: true,
                size,
                secs: t.elapsed().as_secs_f64(),
                error,
            });
            if failed {
                continue;
            }
            let t = Instant::now();
            let error = match remote.download(&key, 0).await {
                Err(e) => Some(format!("download of {key}: {e}")),
                Ok(download) => {
                    let mut hasher = Hasher::new();
                    let mut body = download.body.into_bytes();
                    let mut broken = None;
                    while let Some(chunk) = body.next().await {
                        match chunk {
                            Ok(chunk) => hasher.update(&chunk),
                            Err(e) => {
                                broken = Some(format!("download of {key}: {e}"));
                                break;
                            }
                        }
                    }
                    let got = hasher.finalize().to_hex();
                    broken.or_else(|| {
                        (got != hash).then(|| format!("download of {key} hashed to {got}"))
                    })
                }
            };
            samples.lock().unwrap().push(Sample {
                upload: false,
                size,
                secs: t.elapsed().as_secs_f64(),
                error,
            });
        }
    }

    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[index]
    }

    pub fn main() {
        let full = std::env::args().any(|a| a == "--bench");
        let clients = env_number("LOAD_CLIENTS", if full { 50 } else { 6 });
        let ops = env_number("LOAD_OPS", if full { 4 } else { 2 });
        let max = env_number("LOAD_MAX_MIB", if full { 64 } else { 1 }) * MIB;
        let seconds = env_number("LOAD_SECONDS", 600);
        let storages = match std::env::var("LOAD_STORAGE").as_deref() {
            Ok("disk") => vec![Storage::Disk],
            Ok("s3") => vec![Storage::S3],
            _ => vec![Storage::Disk, Storage::S3],
        };
        let bin = build_server(full);
        let mut failures = Vec::new();
        for storage in storages {
            let work = tempfile::tempdir().expect("a temporary directory");
            let server = start_server(
                &bin,
                &work.path().join("server-data"),
                u64::MAX / 2,
                "",
                storage,
                full,
            );
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let t = Instant::now();
            runtime.block_on(async {
                let tasks: Vec<_> = (0..clients)
                    .map(|id| {
                        tokio::spawn(client(
                            id,
                            ops,
                            max,
                            deadline,
                            server.base.clone(),
                            server.token.clone(),
                            samples.clone(),
                        ))
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a client task");
                }
            });
            let wall = t.elapsed().as_secs_f64();
            drop(runtime);
            let samples = std::mem::take(&mut *samples.lock().unwrap());
            let server_rss = peak_rss_kib(&server.child.id().to_string());
            let s3_rss = server
                .s3
                .as_ref()
                .map(|c| peak_rss_kib(&c.id().to_string()));
            drop(server);
            let errors: Vec<&String> = samples.iter().filter_map(|s| s.error.as_ref()).collect();
            let moved: u64 = samples
                .iter()
                .filter(|s| s.error.is_none())
                .map(|s| s.size)
                .sum();
            let mode = match storage {
                Storage::Disk => "disk mode",
                Storage::S3 => "S3 mode (s3-local)",
            };
            println!(
                "load, {mode}: {clients} clients x {ops} files (1 KiB to {} MiB), {} transfers in {wall:.1} s",
                max / MIB,
                samples.len()
            );
            println!(
                "  throughput {:.0} MB/s ({:.1} MiB verified up and down), errors {}",
                moved as f64 / 1e6 / wall,
                moved as f64 / MIB as f64,
                errors.len()
            );
            for (name, upload) in [("uploads", true), ("downloads", false)] {
                let mut secs: Vec<f64> = samples
                    .iter()
                    .filter(|s| s.upload == upload && s.error.is_none())
                    .map(|s| s.secs)
                    .collect();
                secs.sort_by(f64::total_cmp);
                println!(
                    "  {name:<10} {:>4}  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
                    secs.len(),
                    percentile(&secs, 0.5) * 1e3,
                    percentile(&secs, 0.99) * 1e3,
                    secs.last().copied().unwrap_or(0.0) * 1e3
                );
            }
            println!(
                "  peak RSS: server {:.1} MiB{}, clients' process {:.1} MiB",
                server_rss as f64 / 1024.0,
                s3_rss.map_or(String::new(), |kib| format!(
                    ", s3-local {:.1} MiB",
                    kib as f64 / 1024.0
                )),
                peak_rss_kib("self") as f64 / 1024.0
            );
            for error in errors.iter().take(5) {
                println!("  error: {error}");
            }
            if !errors.is_empty() {
                failures.push(format!(
                    "{mode}: {} error(s), the first: {}",
                    errors.len(),
                    errors[0]
                ));
            }
        }
        assert!(failures.is_empty(), "the load run failed: {failures:?}");
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}
