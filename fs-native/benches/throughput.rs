//! fs-native vs raw `tokio::fs`, same chunk size, same durability; prints a table of medians.
//!
//! `cargo bench -p fs-native --bench throughput` (the README's extended command runs it); under
//! `cargo test` it runs a small smoke configuration instead (4 MiB, 100 files, one round). Sizes come
//! from the environment so a quick run is possible:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BENCH_LARGE_MIB` | 1024 | size of the sequential file |
//! | `BENCH_SMALL_FILES` | 10000 | number of small files |
//! | `BENCH_SMALL_BYTES` | 4096 | size of each small file |
//! | `BENCH_CHUNK_BYTES` | 65536 | chunk size of sinks, streams and the raw loops |
//! | `BENCH_ROUNDS` | 3 | rounds per measurement (the median is printed) |
//! | `BENCH_DIR` | a temporary directory under the system temp dir | where files go |
//!
//! Durability is the same on both sides: a sink (or `write_file`) writes a temporary file, fsyncs it,
//! renames it over the target and fsyncs the directory, and the raw baseline does exactly those calls
//! with `tokio::fs`. Reads run with a warm page cache on both sides. The two sides alternate within
//! each round so drift in the machine's speed hits both.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fs_core::{FileSystem, OpenOptions, SinkOptions, StreamOptions, VPath};
use fs_native::NativeFs;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Files per batch of the small-file measurements.
const SMALL_BATCH: usize = 250;

struct Config {
    large_bytes: u64,
    small_files: usize,
    small_bytes: usize,
    chunk: usize,
    rounds: usize,
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
        Err(_) => default,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A 1 MiB buffer of pseudo-random bytes; chunks are cheap slices of it.
fn pattern() -> Bytes {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn chunk_at(pattern: &Bytes, offset: u64, len: usize) -> Bytes {
    let start = (offset as usize) % (pattern.len() - len);
    pattern.slice(start..start + len)
}

async fn fsync_dir(dir: &Path) {
    tokio::fs::File::open(dir)
        .await
        .expect("open dir")
        .sync_all()
        .await
        .expect("fsync dir");
}

async fn native_large_write(fs: &NativeFs, path: &VPath, cfg: &Config, pattern: &Bytes) {
    let mut sink = fs
        .write_sink(path, SinkOptions::default())
        .await
        .expect("sink");
    let mut done = 0u64;
    while done < cfg.large_bytes {
        let len = (cfg.large_bytes - done).min(cfg.chunk as u64) as usize;
        sink.write(chunk_at(pattern, done, len))
            .await
            .expect("sink write");
        done += len as u64;
    }
    sink.close().await.expect("sink close");
}

async fn raw_large_write(dir: &Path, name: &str, cfg: &Config, pattern: &Bytes) {
    let temp = dir.join(format!(".{name}.raw-tmp"));
    let mut file = tokio::fs::File::create(&temp).await.expect("create");
    let mut done = 0u64;
    while done < cfg.large_bytes {
        let len = (cfg.large_bytes - done).min(cfg.chunk as u64) as usize;
        file.write_all(&chunk_at(pattern, done, len))
            .await
            .expect("write");
        done += len as u64;
    }
    file.flush().await.expect("flush");
    file.sync_all().await.expect("fsync");
    drop(file);
    tokio::fs::rename(&temp, dir.join(name))
        .await
        .expect("rename");
    fsync_dir(dir).await;
}

async fn native_large_read(fs: &NativeFs, path: &VPath, cfg: &Config) -> u64 {
    let options = StreamOptions {
        chunk_size: cfg.chunk,
        ..StreamOptions::default()
    };
    let mut stream = fs.read_stream(path, options).await.expect("stream");
    let mut total = 0;
    while let Some(chunk) = stream.next().await {
        total += chunk.expect("chunk").len() as u64;
    }
    total
}

async fn raw_large_read(path: &Path, cfg: &Config) -> u64 {
    let mut file = tokio::fs::File::open(path).await.expect("open");
    let mut total = 0;
    loop {
        // A fresh buffer per chunk, as a stream of owned chunks needs.
        let mut buf = vec![0u8; cfg.chunk];
        let n = file.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        buf.truncate(n);
        total += buf.len() as u64;
    }
    total
}

async fn native_small_write(
    fs: &NativeFs,
    dir: &VPath,
    cfg: &Config,
    pattern: &Bytes,
    files: Range<usize>,
) {
    for i in files.clone() {
        let path = dir.join(&format!("f{i}")).expect("name");
        let data = chunk_at(pattern, i as u64 * 7919, cfg.small_bytes);
        fs.write_file(&path, data, OpenOptions::write())
            .await
            .expect("write_file");
    }
}

async fn raw_small_write(dir: &Path, cfg: &Config, pattern: &Bytes, files: Range<usize>) {
    for i in files.clone() {
        let data = chunk_at(pattern, i as u64 * 7919, cfg.small_bytes);
        let temp = dir.join(format!(".f{i}.raw-tmp"));
        let mut file = tokio::fs::File::create(&temp).await.expect("create");
        file.write_all(&data).await.expect("write");
        file.flush().await.expect("flush");
        file.sync_all().await.expect("fsync");
        drop(file);
        tokio::fs::rename(&temp, dir.join(format!("f{i}")))
            .await
            .expect("rename");
        fsync_dir(dir).await;
    }
}

async fn native_small_read(fs: &NativeFs, dir: &VPath, files: Range<usize>) -> u64 {
    let mut total = 0;
    for i in files.clone() {
        let path = dir.join(&format!("f{i}")).expect("name");
        total += fs.read_file(&path).await.expect("read_file").len() as u64;
    }
    total
}

async fn raw_small_read(dir: &Path, files: Range<usize>) -> u64 {
    let mut total = 0;
    for i in files.clone() {
        total += tokio::fs::read(dir.join(format!("f{i}")))
            .await
            .expect("read")
            .len() as u64;
    }
    total
}

async fn timed<F: std::future::Future<Output = T>, T>(f: F) -> (Duration, T) {
    let started = Instant::now();
    let out = f.await;
    (started.elapsed(), out)
}

struct Row {
    name: String,
    unit: &'static str,
    amount: f64,
    native: Vec<Duration>,
    raw: Vec<Duration>,
}

impl Row {
    fn new(name: String, unit: &'static str, amount: f64) -> Self {
        Row {
            name,
            unit,
            amount,
            native: Vec::new(),
            raw: Vec::new(),
        }
    }
}

async fn run(cfg: Config, base: PathBuf) {
    let pattern = pattern();
    let root = base.join("native");
    let raw_root = base.join("raw");
    std::fs::create_dir_all(&root).expect("bench dir");
    std::fs::create_dir_all(&raw_root).expect("bench dir");
    let fs = Arc::new(NativeFs::new(&root));
    let large_mib = cfg.large_bytes as f64 / (1 << 20) as f64;
    let small_mib = (cfg.small_files * cfg.small_bytes) as f64 / (1 << 20) as f64;
    let mut rows = [
        Row::new(
            format!("sequential write {large_mib:.0} MiB (sink)"),
            "MiB/s",
            large_mib,
        ),
        Row::new(
            format!("sequential read {large_mib:.0} MiB (stream)"),
            "MiB/s",
            large_mib,
        ),
        Row::new(
            format!("write {} files of {} B", cfg.small_files, cfg.small_bytes),
            "files/s",
            cfg.small_files as f64,
        ),
        Row::new(
            format!("read {} files of {} B", cfg.small_files, cfg.small_bytes),
            "files/s",
            cfg.small_files as f64,
        ),
    ];
    let large = VPath::new("/large.bin").expect("path");
    let small = VPath::new("/small").expect("path");
    let raw_small = raw_root.join("small");
    for round in 0..cfg.rounds {
        eprintln!("round {}/{}", round + 1, cfg.rounds);
        let native_first = round % 2 == 0;
        for side in [native_first, !native_first] {
            if side {
                let (t, ()) = timed(native_large_write(&fs, &large, &cfg, &pattern)).await;
                rows[0].native.push(t);
                let (t, n) = timed(native_large_read(&fs, &large, &cfg)).await;
                assert_eq!(n, cfg.large_bytes);
                rows[1].native.push(t);
            } else {
                let (t, ()) = timed(raw_large_write(&raw_root, "large.bin", &cfg, &pattern)).await;
                rows[0].raw.push(t);
                let (t, n) = timed(raw_large_read(&raw_root.join("large.bin"), &cfg)).await;
                assert_eq!(n, cfg.large_bytes);
                rows[1].raw.push(t);
            }
        }
        // Small files go in batches, alternating sides batch by batch, so that the machine's drift
        // (fsync latency varies a lot here) hits both sides alike.
        let _ = std::fs::remove_dir_all(fs.os_path(&small));
        std::fs::create_dir(fs.os_path(&small)).expect("mkdir");
        let _ = std::fs::remove_dir_all(&raw_small);
        std::fs::create_dir(&raw_small).expect("mkdir");
        let mut totals = [Duration::ZERO; 4];
        let (mut native_read, mut raw_read) = (0, 0);
        for (batch, start) in (0..cfg.small_files).step_by(SMALL_BATCH).enumerate() {
            let files = start..(start + SMALL_BATCH).min(cfg.small_files);
            for native in [batch % 2 == 0, batch % 2 == 1] {
                if native {
                    totals[0] += timed(native_small_write(
                        &fs,
                        &small,
                        &cfg,
                        &pattern,
                        files.clone(),
                    ))
                    .await
                    .0;
                    let (t, n) = timed(native_small_read(&fs, &small, files.clone())).await;
                    totals[1] += t;
                    native_read += n;
                } else {
                    totals[2] += timed(raw_small_write(&raw_small, &cfg, &pattern, files.clone()))
                        .await
                        .0;
                    let (t, n) = timed(raw_small_read(&raw_small, files.clone())).await;
                    totals[3] += t;
                    raw_read += n;
                }
            }
        }
        assert_eq!(native_read, (cfg.small_files * cfg.small_bytes) as u64);
        assert_eq!(raw_read, native_read);
        rows[2].native.push(totals[0]);
        rows[3].native.push(totals[1]);
        rows[2].raw.push(totals[2]);
        rows[3].raw.push(totals[3]);
    }
    println!();
    println!(
        "fs-native vs raw tokio::fs — chunk {} KiB, medians of {} rounds",
        cfg.chunk / 1024,
        cfg.rounds
    );
    println!("| operation | fs-native | raw tokio::fs | ratio (target >= 0.90) |");
    println!("|---|---|---|---|");
    for row in rows {
        let native = row.amount / median(row.native).as_secs_f64();
        let raw = row.amount / median(row.raw).as_secs_f64();
        println!(
            "| {} | {native:.1} {unit} | {raw:.1} {unit} | {:.2}x |",
            row.name,
            native / raw,
            unit = row.unit
        );
    }
    println!("(small files: {small_mib:.1} MiB in all; every write is fsynced, renamed and its directory fsynced)");
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then a small smoke
    // configuration checks that the benchmark still works without costing the test run minutes.
    let full = std::env::args().any(|arg| arg == "--bench");
    let (large_mib, files, rounds) = if full { (1024, 10_000, 3) } else { (4, 100, 1) };
    let cfg = Config {
        large_bytes: env_number("BENCH_LARGE_MIB", large_mib) << 20,
        small_files: env_number("BENCH_SMALL_FILES", files) as usize,
        small_bytes: env_number("BENCH_SMALL_BYTES", 4096) as usize,
        chunk: env_number("BENCH_CHUNK_BYTES", 64 * 1024) as usize,
        rounds: env_number("BENCH_ROUNDS", rounds).max(1) as usize,
    };
    assert!(
        cfg.chunk > 0 && cfg.chunk < (1 << 20),
        "BENCH_CHUNK_BYTES must be between 1 and 1048575"
    );
    assert!(
        cfg.small_bytes < (1 << 20),
        "BENCH_SMALL_BYTES must be below 1 MiB"
    );
    let temp = match std::env::var("BENCH_DIR") {
        Ok(dir) => tempfile::tempdir_in(dir),
        Err(_) => tempfile::tempdir(),
    }
    .expect("a benchmark directory");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(cfg, temp.path().to_path_buf()));
}
